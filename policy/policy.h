/* The policy: every setting libnoleak obeys, where it came from, and the
 * questions the interposers ask of it.
 *
 * Sources, lowest first: built-in defaults < config file (/etc/noleak.conf,
 * or NOLEAK_CONFIG) < environment (NOLEAK_*).  Under AT_SECURE the
 * environment is ignored entirely.  The config file has a global section and
 * per-program sections; a section that matches the running program overrides
 * the global one.
 *
 * Everything here is allocation-free: the policy is a fixed-size struct,
 * filled once at start-up (or on the first interposed call when that comes
 * before the constructor) and read-only afterwards. */
#ifndef NL_POLICY_H
#define NL_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum nl_mode { NL_MODE_ENFORCE, NL_MODE_AUDIT, NL_MODE_OFF };
enum nl_log_kind { NL_LOG_NONE, NL_LOG_FILE, NL_LOG_STDERR, NL_LOG_SYSLOG,
		   NL_LOG_JOURNAL };
enum nl_pgroup { NL_PGROUP_AUTO, NL_PGROUP_ALWAYS, NL_PGROUP_NEVER };
enum nl_orphans { NL_ORPHANS_KEEP, NL_ORPHANS_LOG, NL_ORPHANS_KILL };
enum nl_stdin { NL_STDIN_KEEP, NL_STDIN_DETACH };
/* Which kills of a child reach its whole group (core/pgroup.h). */
enum nl_kill_escalate { NL_ESCALATE_NEVER, NL_ESCALATE_SHELL, NL_ESCALATE_ALWAYS };

/* Keys, in the order of the README's table.  The bit (1u << key) in
 * nl_policy.set records that a source gave the key a value, so mode-dependent
 * defaults (log, read_warn) apply only to keys nobody set. */
enum nl_key {
	NL_KEY_MODE,
	NL_KEY_LOG,
	NL_KEY_KEEP_FDS,
	NL_KEY_SOCK_TIMEOUT,
	NL_KEY_KEEPALIVE,
	NL_KEY_READ_WARN,
	NL_KEY_READ_TIMEOUT,
	NL_KEY_PGROUP,
	NL_KEY_ORPHANS,
	NL_KEY_STDIN,
	NL_KEY_FD_TRANSPARENT,
	NL_KEY_FD_TRAMPOLINES,
	NL_KEY_SOCK_TIMEOUT_UNIX,
	NL_KEY_SOCK_TIMEOUT_DGRAM,
	NL_KEY_KILL_ESCALATE,
	NL_KEY_KILL_WRAPPERS,
	NL_KEY_COUNT
};

/* keep_fds: this many ranges live in the policy itself; a longer list
 * (noleak-report's "restore with" line for a program with scattered fds
 * can be one) is kept in a private anonymous mapping made when the value
 * is parsed.  There is no limit but memory; when the mapping cannot be
 * made, every fd is kept (fail open) and a config_error says so. */
#define NL_KEEP_INLINE 16
#define NL_NAMES_MAX 512      /* bytes of a comma-separated name list */
#define NL_LOG_PATH_MAX 1024
#define NL_CONFIG_ERRORS_MAX 4
#define NL_CONFIG_ERROR_LEN 200

struct nl_fd_range { int lo, hi; };  /* inclusive */

struct nl_keepalive {
	int off;                          /* keepalive=off */
	unsigned idle, intvl, cnt;        /* seconds, seconds, probes */
	unsigned user_timeout;            /* seconds, 0 = not set */
};

/* The fields start-up writes in every process come first and the long
 * buffers that stay empty without a config file or a log file last: the
 * shim's policy lives in zeroed static storage, and a page of it is a page
 * fault the first time it is written. */
struct nl_policy {
	enum nl_mode mode;
	enum nl_log_kind log_kind;
	/* Read through nl_policy_keep_fds(): keep_more when set, else
	 * keep_inline.  A copy of a policy shares keep_more; only the policy
	 * that parsed it may set keep_fds again or be released. */
	struct nl_fd_range *keep_more;
	int n_keep_fds;
	unsigned sock_timeout;
	struct nl_keepalive keepalive;
	unsigned read_warn;
	unsigned read_timeout;
	enum nl_pgroup pgroup;
	enum nl_orphans orphans;
	enum nl_stdin stdin_mode;
	unsigned sock_timeout_unix;
	unsigned sock_timeout_dgram;
	enum nl_kill_escalate kill_escalate;
	uint32_t set;                     /* bit per enum nl_key given by a source */
	/* Errors name the key but never quote the rejected value (AT_SECURE:
	 * the log of a privileged process gets no text it did not need). */
	int hide_values;
	/* Problems met while loading, logged as config_error events once the
	 * log is up.  Never printed anywhere else. */
	int n_errors;
	int errors_dropped;
	/* Comma-separated basenames: the default, a constant, or the copy in
	 * names[] of what a source gave (NULL in the pass-through policy).
	 * Start-up writes these three pointers, not the defaults' text: a
	 * process's own copy of each page of nl_proc it writes costs a page
	 * fault at every exec, and the text took 1 KiB (shim/layout.ld).  A
	 * copy of a policy shares the text with the original, as keep_more. */
	const char *fd_transparent;
	const char *fd_trampolines;
	const char *kill_wrappers;
	/* Written only when given, the path of the config file and the log's
	 * first (only their start is written). */
	char config_path[256];            /* the config file read, "" none */
	char log_path[NL_LOG_PATH_MAX];   /* for NL_LOG_FILE, else "" */
	char names[3][NL_NAMES_MAX];      /* the lists above, when given */
	struct nl_fd_range keep_inline[NL_KEEP_INLINE];
	char errors[NL_CONFIG_ERRORS_MAX][NL_CONFIG_ERROR_LEN];
};

/* Who is running: used to pick per-program sections and fd_transparent. */
struct nl_identity {
	const char *exe;     /* /proc/self/exe target, may be "" */
	const char *execfn;  /* AT_EXECFN: the path given to execve, may be NULL */
	const char *argv0;   /* may be NULL */
	/* With exe NULL: asked for it, only when a [program] section's
	 * pattern matched neither execfn nor argv0 (reading /proc/self/exe
	 * is the dearest step of a process's start-up). */
	const char *(*exe_lazy)(void);
};

/* --- building a policy (policy.c, config.c, env.c) --- */

void nl_policy_defaults(struct nl_policy *p);
/* The same in a policy whose every byte is zero already (static storage
 * never written): only the fields whose default is not zero are written. */
void nl_policy_defaults_zeroed(struct nl_policy *p);
/* Unmap a long keep_fds list (tests and tools that build many policies;
 * a process's own policy lives as long as the process). */
void nl_policy_release(struct nl_policy *p);
/* Set one key from its text form ("mode", "enforce").  On a bad key or value
 * the key keeps its previous value, one error is recorded, and -1 is
 * returned.  `origin` names the source in the error text ("NOLEAK_MODE",
 * "/etc/noleak.conf:12"). */
int nl_policy_set(struct nl_policy *p, const char *key, const char *value,
		  const char *origin);
/* Apply a config file's text: the global section, then every per-program
 * section that matches `who`, in file order. */
void nl_policy_apply_config(struct nl_policy *p, const char *text, size_t len,
			    const char *path, const struct nl_identity *who);
/* Whether a config file with this status may be trusted by a process whose
 * trusted user (nl_policy_trusted_uid) is `euid`: owned by root or euid,
 * not group/other-writable, a regular file. */
int nl_policy_config_trusted(const struct stat *st, uid_t euid);
/* The user besides root whose files, directories and symlinks the trust
 * rules accept (the config file here, the log's place in logfile.h): the
 * effective user, unless the process is secure (AT_SECURE: set-user-ID,
 * set-group-ID, file capabilities) and the effective user is the real one,
 * the invoker: then 0, root alone.  A set-group-ID program its user runs
 * holds the group's rights with the user's uid, and must not trust what
 * that user could have planted.  Raw system calls only; the log's open
 * has the same rule inline (logfile.h, nl_logfile_trusted_uid). */
uid_t nl_policy_trusted_uid(int secure);
/* Apply NOLEAK_* variables from envp. */
void nl_policy_apply_env(struct nl_policy *p, char *const envp[]);
/* Fill in mode-dependent defaults of keys nobody set (log: none, audit
 * syslog; read_warn: 0, audit 30). */
void nl_policy_finish(struct nl_policy *p);
/* The whole load: defaults, config file (NOLEAK_CONFIG unless secure), env
 * (unless secure), finish.  Secure: errors hide values (hide_values).  Uses only raw system calls; never allocates. */
void nl_policy_load(struct nl_policy *p, const struct nl_identity *who,
		    char *const envp[], int secure);
/* The same into a policy whose every byte is zero (the shim's, at
 * start-up). */
void nl_policy_load_zeroed(struct nl_policy *p, const struct nl_identity *who,
			   char *const envp[], int secure);

/* --- shared by the loaders (policy.c, config.c, env.c) --- */

/* Largest accepted number of seconds: ten years.  Anything above is a typo,
 * and the cap keeps every product with 1000 (ms) inside 64 bits. */
#define NL_SECONDS_MAX (10u * 365u * 24u * 3600u)

/* Record one error made of the NUL-terminated pieces given, up to a NULL:
 * nl_policy_error(p, origin, ": unknown key \"", key, "\"", NULL).  Text
 * that does not fit is cut; errors beyond NL_CONFIG_ERRORS_MAX are counted
 * in errors_dropped. */
void nl_policy_error(struct nl_policy *p, const char *first, ...)
	__attribute__((sentinel));
/* Why a config file with this status must not be trusted, or NULL when it
 * may be (the reasoned form of nl_policy_config_trusted). */
const char *nl_policy_config_distrust(const struct stat *st, uid_t euid);
/* A key's name in the config file ("sock_timeout") and its environment
 * variable ("NOLEAK_SOCK_TIMEOUT"); "" for a key out of range. */
const char *nl_policy_key_name(enum nl_key k);
const char *nl_policy_key_env(enum nl_key k);
/* The value of `name` in envp (the first "name=" entry), or NULL. */
const char *nl_policy_env_value(char *const envp[], const char *name);
/* Remove every NOLEAK_* entry from envp in place, keeping the order of the
 * rest: what ld.so does with LD_PRELOAD in a set-user-ID process, so that
 * a child it starts after setuid(0) (no longer secure) cannot obey the
 * caller's variables.  Allocation-free.  Returns the number removed. */
int nl_policy_env_scrub(char **envp);
/* Remove every entry of envp that starts with prefix, in place and in the
 * same way.  Returns the number removed. */
int nl_policy_env_remove(char **envp, const char *prefix);

/* --- questions (policy.c) --- */

int nl_policy_keeps_fd(const struct nl_policy *p, int fd);
/* The n_keep_fds ranges of keep_fds, as given (not sorted or merged). */
static inline const struct nl_fd_range *
nl_policy_keep_fds(const struct nl_policy *p)
{
	return p->keep_more ? p->keep_more : p->keep_inline;
}
/* Whether `name` (a basename, or a path whose basename is taken) is listed
 * in the comma-separated list. */
int nl_names_contain(const char *list, const char *name);
/* Whether a basename matches a shell glob (*, ?, [...]); allocation-free. */
int nl_glob_match(const char *pattern, const char *name);
const char *nl_basename(const char *path);
const char *nl_mode_name(enum nl_mode m);

/* --- fds named by a new program's argv or environment (passfds.c) --- */

/* A list of fds with no fixed bound, in scratch memory (common/scratch.h):
 * safe in a vfork child.  Zero-initialised it is empty; whoever fills one
 * gives its memory back with nl_fdlist_release(). */
struct nl_fdlist {
	int n;
	int overflow;                  /* no memory for more: some were lost */
	int max;                       /* the highest fd in the list */
	/* The environment asks that the calling process's listening sockets
	 * cross (UWSGI_RELOADS=: uWSGI's master re-execs itself on a reload
	 * and finds its listeners again by address, naming no number).  Here,
	 * in what was padding: the exec paths' frames hold this struct. */
	int listeners;
	int *fd;
	size_t bytes;                  /* size of the block at fd */
	unsigned long *seen;           /* bitmap of the fds listed, once long */
	/* A run of numbers named at once, run_lo .. run_lo+run_n-1, kept as
	 * a range (LISTEN_FDS=N: 3 .. 3+N-1, N up to a million, most of them
	 * not open); run_n 0: none. */
	int run_lo, run_n;
};
/* Collect the fds > 2 that argv and envp name as passed on purpose (the
 * run of LISTEN_FDS in run_lo/run_n, the others listed):
 * /dev/fd/N, /proc/self/fd/N, fd=N, fd:N and fd://N tokens (also inside
 * longer values), options ending in fd/fds, --print-address, --print-pid,
 * -wm and -listen, *_FD(S) variables, WAYLAND_SOCKET, WESTON_LAUNCHER_SOCK,
 * _assuan_connection_fd, NGINX, LISTEN_FDS (when LISTEN_PID is absent or
 * equals `self`), make's --jobserver-auth/--jobserver-fds in MAKEFLAGS and
 * MFLAGS; UWSGI_RELOADS sets `listeners` instead.  Returns 1 when argv carries an "a:b:c" list of open fds > 2 (the
 * shape of a trampoline such as jspawnhelper), else 0.  Allocation-free and
 * safe in a vfork child.  `out` is filled from empty; release it after. */
int nl_named_fds(char *const argv[], char *const envp[], pid_t self,
		 struct nl_fdlist *out);
/* Add fd > 2 unless listed; on no memory set overflow instead. */
void nl_fdlist_add(struct nl_fdlist *l, int fd);
void nl_fdlist_release(struct nl_fdlist *l);

#endif
