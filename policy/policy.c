/* The policy's keys: defaults, parsing one "key = value", mode-dependent
 * defaults, error recording, and the questions interposers ask.
 *
 * A bad value never stops the program: the key keeps what it had, one error
 * is recorded for the log, and the program runs as it would have. */
#include "policy.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "common/str.h"
#include "common/sys.h"

/* --- small text helpers --- */

struct span {
	const char *s;
	size_t n;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static struct span trim(const char *s, size_t n)
{
	while (n > 0 && is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	return (struct span){ s, n };
}

static int span_is(struct span v, const char *word)
{
	size_t n = nl_strlen(word);
	return v.n == n && nl_mem_eq(v.s, word, n);
}

/* Split off the text before the next `sep` (or all of it).  Returns 0 when
 * nothing is left. */
static int next_item(struct span *rest, char sep, struct span *item)
{
	if (rest->s == NULL)
		return 0;
	/* Loops rather than libc's string calls here and in
	 * nl_names_contain(): they run at every start-up and in fork children
	 * before their exec, where each libc page touched is a page fault. */
	const char *end = rest->s;
	while (end < rest->s + rest->n && *end != sep)
		end++;
	if (end == rest->s + rest->n) {
		*item = trim(rest->s, rest->n);
		rest->s = NULL;
		return 1;
	}
	*item = trim(rest->s, (size_t)(end - rest->s));
	rest->n -= (size_t)(end - rest->s) + 1;
	rest->s = end + 1;
	return 1;
}

/* A control character (C0 or DEL) inside a value: a line break in a
 * name or a path has no use, and would split the value wherever it is
 * written one to a line (a systemd drop-in, a log file's name in an
 * event).  `tab` lets a tab through, where the value is split into items
 * that trim() trims. */
static int has_control(struct span v, int tab)
{
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.s[i];
		if ((c < 0x20 && !(tab && c == '\t')) || c == 0x7f)
			return 1;
	}
	return 0;
}

/* A non-negative decimal integer up to max; no sign, no junk. */
static int parse_uint(struct span v, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (v.n == 0)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.s[i] < '0' || v.s[i] > '9')
			return -1;
		n = n * 10 + (unsigned long)(v.s[i] - '0');
		if (n > max)
			return -1;
	}
	*out = n;
	return 0;
}

/* --- errors --- */

void nl_policy_error(struct nl_policy *p, const char *first, ...)
{
	if (p->n_errors >= NL_CONFIG_ERRORS_MAX) {
		p->errors_dropped++;
		return;
	}
	char *dst = p->errors[p->n_errors++];
	size_t len = 0;
	va_list ap;

	va_start(ap, first);
	for (const char *piece = first; piece != NULL;
	     piece = va_arg(ap, const char *)) {
		while (*piece != '\0' && len + 1 < NL_CONFIG_ERROR_LEN)
			dst[len++] = *piece++;
	}
	va_end(ap);
	dst[len] = '\0';
}

/* The value as it appears in an error: quoted by the caller, cut short so
 * the "expected ..." part of the message still fits, a control character
 * shown as '?' so that the message stays one line wherever it is printed. */
#define NL_QUOTED_MAX 60

static void quote_value(char *dst, struct span v)
{
	size_t n = v.n > NL_QUOTED_MAX ? NL_QUOTED_MAX - 3 : v.n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v.s[i];
		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (n < v.n)
		memcpy(dst + n, "...", 3);
	dst[n < v.n ? n + 3 : n] = '\0';
}

/* --- one parser per kind of value; each returns 0 or -1 and changes the
 * policy only on success --- */

struct key_def;
typedef int (*parse_fn)(struct nl_policy *p, const struct key_def *k,
			struct span v);

struct key_def {
	const char *name;
	const char *env;
	parse_fn parse;
	const char *expected;
	const char *const *words;  /* enum keys: accepted words, enum order */
	size_t field;              /* offset of the field the parser fills,
				    * for parsers shared by several keys */
};

static int parse_words(struct nl_policy *p, const struct key_def *k,
		       struct span v)
{
	for (int i = 0; k->words[i] != NULL; i++) {
		if (span_is(v, k->words[i])) {
			/* Every enum field of the policy is an int-sized
			 * enum; the table gives its offset. */
			*(int *)(void *)((char *)p + k->field) = i;
			return 0;
		}
	}
	return -1;
}

static int parse_seconds(struct nl_policy *p, const struct key_def *k,
			 struct span v)
{
	unsigned long n;
	if (parse_uint(v, NL_SECONDS_MAX, &n) != 0)
		return -1;
	*(unsigned *)(void *)((char *)p + k->field) = (unsigned)n;
	return 0;
}

static int parse_log(struct nl_policy *p, const struct key_def *k,
		     struct span v)
{
	(void)k;
	if (span_is(v, "none")) {
		p->log_kind = NL_LOG_NONE;
	} else if (span_is(v, "stderr")) {
		p->log_kind = NL_LOG_STDERR;
	} else if (span_is(v, "syslog")) {
		p->log_kind = NL_LOG_SYSLOG;
	} else if (span_is(v, "journal")) {
		p->log_kind = NL_LOG_JOURNAL;
	} else {
		/* A relative path would depend on each program's working
		 * directory and scatter logs everywhere. */
		if (v.n == 0 || v.s[0] != '/' || v.n >= NL_LOG_PATH_MAX ||
		    has_control(v, 0))
			return -1;
		p->log_kind = NL_LOG_FILE;
		memcpy(p->log_path, v.s, v.n);
		p->log_path[v.n] = '\0';
		return 0;
	}
	p->log_path[0] = '\0';
	return 0;
}

static int parse_fd(struct span v, int *fd)
{
	unsigned long n;
	if (parse_uint(v, 0x7fffffffUL, &n) != 0)
		return -1;
	*fd = (int)n;
	return 0;
}

/* One item of keep_fds, "N" or "LO-HI", into *r; -1 when bad. */
static int parse_range(struct span item, struct nl_fd_range *r)
{
	struct span lo = item, hi;
	/* A leading '-' is a negative number, not a range. */
	const char *dash = item.n > 0 ? memchr(item.s + 1, '-', item.n - 1)
				      : NULL;

	if (dash != NULL) {
		lo = trim(item.s, (size_t)(dash - item.s));
		hi = trim(dash + 1, item.n - (size_t)(dash - item.s) - 1);
	} else {
		hi = item;
	}
	if (parse_fd(lo, &r->lo) != 0 || parse_fd(hi, &r->hi) != 0 ||
	    r->lo > r->hi)
		return -1;
	return 0;
}

static size_t keep_map_len(int n)
{
	return (size_t)n * sizeof(struct nl_fd_range);
}

void nl_policy_release(struct nl_policy *p)
{
	if (p->keep_more != NULL)
		nl_sys_munmap(p->keep_more, keep_map_len(p->n_keep_fds));
	p->keep_more = NULL;
	p->n_keep_fds = 0;
}

/* Two passes: the whole value is checked before anything changes (a bad
 * value leaves the key as it was), then stored inline or, when longer,
 * in a mapping of its own. */
static int parse_keep_fds(struct nl_policy *p, const struct key_def *k,
			  struct span v)
{
	struct nl_fd_range r, *dst;
	struct span rest = v, item;
	int n = 0;

	(void)k;
	while (v.n > 0 && next_item(&rest, ',', &item)) {
		if (parse_range(item, &r) != 0 || n == INT_MAX / 16)
			return -1;
		n++;
	}
	nl_policy_release(p);
	if (n == 0)
		return 0;
	dst = p->keep_inline;
	if (n > NL_KEEP_INLINE) {
		long m = nl_sys_mmap_anon(keep_map_len(n));
		if (m < 0 && m > -4096) {
			p->keep_inline[0] = (struct nl_fd_range){ 0, INT_MAX };
			p->n_keep_fds = 1;
			nl_policy_error(p, "keep_fds: no memory for the list, "
					"every fd is kept", NULL);
			return 0;
		}
		dst = p->keep_more = (struct nl_fd_range *)m;
	}
	rest = v;
	for (int i = 0; next_item(&rest, ',', &item); i++)
		parse_range(item, &dst[i]);
	p->n_keep_fds = n;
	return 0;
}

/* The kernel rejects keepalive times and counts of 0 and above these
 * (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT), and a
 * TCP_USER_TIMEOUT in milliseconds above INT_MAX: refuse them here, where
 * the mistake can be reported, rather than on every socket. */
#define NL_KEEPIDLE_MAX 32767
#define NL_KEEPINTVL_MAX 32767
#define NL_KEEPCNT_MAX 127
#define NL_USER_TIMEOUT_MAX (0x7fffffffUL / 1000)

static int parse_keepalive(struct nl_policy *p, const struct key_def *k,
			   struct span v)
{
	static const unsigned long max[4] = { NL_KEEPIDLE_MAX, NL_KEEPINTVL_MAX,
					      NL_KEEPCNT_MAX,
					      NL_USER_TIMEOUT_MAX };
	unsigned long f[4] = { 0, 0, 0, 0 };
	int n = 0;
	struct span rest = v, item;

	(void)k;
	if (span_is(v, "off")) {
		p->keepalive.off = 1;
		return 0;
	}
	while (next_item(&rest, ',', &item)) {
		if (n == 4 || parse_uint(item, max[n], &f[n]) != 0)
			return -1;
		/* idle, intvl and cnt must be at least 1; user_timeout 0
		 * means "leave the system's". */
		if (n < 3 && f[n] == 0)
			return -1;
		n++;
	}
	if (n < 3)
		return -1;
	p->keepalive = (struct nl_keepalive){
		.off = 0,
		.idle = (unsigned)f[0],
		.intvl = (unsigned)f[1],
		.cnt = (unsigned)f[2],
		.user_timeout = (unsigned)f[3],
	};
	return 0;
}

/* A list's text goes to its own row of names[], in the order of the
 * three pointers in struct nl_policy. */
static int parse_names(struct nl_policy *p, const struct key_def *k,
		       struct span v)
{
	const char **field = (const char **)(void *)((char *)p + k->field);
	char *dst = p->names[field - &p->fd_transparent];
	if (v.n >= NL_NAMES_MAX || has_control(v, 1))
		return -1;
	memcpy(dst, v.s, v.n);
	dst[v.n] = '\0';
	*field = dst;
	return 0;
}
_Static_assert(offsetof(struct nl_policy, kill_wrappers) -
		       offsetof(struct nl_policy, fd_transparent) ==
		       2 * sizeof(const char *),
	       "the three lists' pointers, in a row");

/* --- the key table, in enum nl_key order --- */

static const char *const mode_words[] = { "enforce", "audit", "off", NULL };
static const char *const pgroup_words[] = { "auto", "always", "never", NULL };
static const char *const orphans_words[] = { "keep", "log", "kill", NULL };
static const char *const stdin_words[] = { "keep", "detach", NULL };
static const char *const escalate_words[] = { "never", "shell", "always", NULL };

#define SECONDS_EXPECTED "(expected seconds, 0 = off, at most 315360000)"

static const struct key_def keys[NL_KEY_COUNT] = {
	[NL_KEY_MODE] = { "mode", "NOLEAK_MODE", parse_words,
			  "(expected enforce, audit, off)", mode_words,
			  offsetof(struct nl_policy, mode) },
	[NL_KEY_LOG] = { "log", "NOLEAK_LOG", parse_log,
			 "(expected stderr, syslog, journal, none or an absolute path)",
			 NULL, 0 },
	[NL_KEY_KEEP_FDS] = { "keep_fds", "NOLEAK_KEEP_FDS", parse_keep_fds,
			      "(expected fds and ranges like 3,5-7)",
			      NULL, 0 },
	[NL_KEY_SOCK_TIMEOUT] = { "sock_timeout", "NOLEAK_SOCK_TIMEOUT",
				  parse_seconds, SECONDS_EXPECTED, NULL,
				  offsetof(struct nl_policy, sock_timeout) },
	[NL_KEY_KEEPALIVE] = { "keepalive", "NOLEAK_KEEPALIVE", parse_keepalive,
			       "(expected off or idle,intvl,cnt[,user_timeout])",
			       NULL, 0 },
	[NL_KEY_READ_WARN] = { "read_warn", "NOLEAK_READ_WARN", parse_seconds,
			       SECONDS_EXPECTED, NULL,
			       offsetof(struct nl_policy, read_warn) },
	[NL_KEY_READ_TIMEOUT] = { "read_timeout", "NOLEAK_READ_TIMEOUT",
				  parse_seconds, SECONDS_EXPECTED, NULL,
				  offsetof(struct nl_policy, read_timeout) },
	[NL_KEY_PGROUP] = { "pgroup", "NOLEAK_PGROUP", parse_words,
			    "(expected auto, always, never)", pgroup_words,
			    offsetof(struct nl_policy, pgroup) },
	[NL_KEY_ORPHANS] = { "orphans", "NOLEAK_ORPHANS", parse_words,
			     "(expected keep, log, kill)", orphans_words,
			     offsetof(struct nl_policy, orphans) },
	[NL_KEY_STDIN] = { "stdin", "NOLEAK_STDIN", parse_words,
			   "(expected keep, detach)", stdin_words,
			   offsetof(struct nl_policy, stdin_mode) },
	[NL_KEY_FD_TRANSPARENT] = { "fd_transparent", "NOLEAK_FD_TRANSPARENT",
				    parse_names,
				    "(expected comma-separated program names)",
				    NULL,
				    offsetof(struct nl_policy, fd_transparent) },
	[NL_KEY_FD_TRAMPOLINES] = { "fd_trampolines", "NOLEAK_FD_TRAMPOLINES",
				    parse_names,
				    "(expected comma-separated program names)",
				    NULL,
				    offsetof(struct nl_policy, fd_trampolines) },
	[NL_KEY_SOCK_TIMEOUT_UNIX] = { "sock_timeout_unix",
				       "NOLEAK_SOCK_TIMEOUT_UNIX", parse_seconds,
				       SECONDS_EXPECTED, NULL,
				       offsetof(struct nl_policy,
						sock_timeout_unix) },
	[NL_KEY_SOCK_TIMEOUT_DGRAM] = { "sock_timeout_dgram",
					"NOLEAK_SOCK_TIMEOUT_DGRAM",
					parse_seconds, SECONDS_EXPECTED, NULL,
					offsetof(struct nl_policy,
						 sock_timeout_dgram) },
	[NL_KEY_KILL_ESCALATE] = { "kill_escalate", "NOLEAK_KILL_ESCALATE",
				   parse_words,
				   "(expected never, shell, always)",
				   escalate_words,
				   offsetof(struct nl_policy, kill_escalate) },
	[NL_KEY_KILL_WRAPPERS] = { "kill_wrappers", "NOLEAK_KILL_WRAPPERS",
				   parse_names,
				   "(expected comma-separated program names)",
				   NULL,
				   offsetof(struct nl_policy, kill_wrappers) },
};

/* The enum parsers store through an int pointer. */
_Static_assert(sizeof(enum nl_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum nl_pgroup) == sizeof(int), "enum size");
_Static_assert(sizeof(enum nl_orphans) == sizeof(int), "enum size");
_Static_assert(sizeof(enum nl_stdin) == sizeof(int), "enum size");
_Static_assert(sizeof(enum nl_kill_escalate) == sizeof(int), "enum size");
_Static_assert(NL_KEY_COUNT <= 32, "nl_policy.set has 32 bits");

/* --- building --- */

void nl_policy_defaults(struct nl_policy *p)
{
	memset(p, 0, sizeof(*p));
	nl_policy_defaults_zeroed(p);
}

/* Zero bytes are the defaults of every field not written below. */
_Static_assert(NL_LOG_NONE == 0, "no log by default");

void nl_policy_defaults_zeroed(struct nl_policy *p)
{
	p->mode = NL_MODE_ENFORCE;
	p->sock_timeout = 300;
	p->keepalive = (struct nl_keepalive){ .off = 0, .idle = 60,
					      .intvl = 10, .cnt = 6,
					      .user_timeout = 0 };
	p->pgroup = NL_PGROUP_AUTO;
	p->orphans = NL_ORPHANS_LOG;
	p->stdin_mode = NL_STDIN_KEEP;
	/* Shells only pass fds along to the commands they run; sweeping in
	 * them would break "cmd 3<file" and friends. */
	p->fd_transparent = "bash,sh,dash,zsh,ksh,mksh,busybox,fish,tcsh,csh";
	/* jspawnhelper receives the fds of the JVM's child on purpose and
	 * hands them on. */
	p->fd_trampolines = "jspawnhelper";
	/* A kill reaches the child's tree only where a shell or a program
	 * whose job is to run a command line stands in between. */
	p->kill_escalate = NL_ESCALATE_SHELL;
	p->kill_wrappers = "timeout,nohup,env,nice,setsid,stdbuf,xargs,"
			   "sudo,su,runuser,script";
}

int nl_policy_set(struct nl_policy *p, const char *key, const char *value,
		  const char *origin)
{
	const struct key_def *k = NULL;
	int idx;

	if (origin == NULL)
		origin = "";
	if (key == NULL)
		key = "";
	if (value == NULL)
		value = "";
	for (idx = 0; idx < NL_KEY_COUNT; idx++) {
		if (nl_str_eq(keys[idx].name, key)) {
			k = &keys[idx];
			break;
		}
	}
	if (k == NULL) {
		nl_policy_error(p, origin, ": unknown key \"", key, "\"", NULL);
		return -1;
	}
	struct span v = trim(value, nl_strlen(value));
	if (k->parse(p, k, v) != 0) {
		char quoted[NL_QUOTED_MAX + 1];
		quote_value(quoted, v);
		/* An environment variable names its key already. */
		int named = nl_str_eq(origin, k->env);
		int shown = !p->hide_values;
		nl_policy_error(p, origin, ": ", named ? "" : k->name,
				named ? "" : ": ", "bad value ",
				shown ? "\"" : "", shown ? quoted : "",
				shown ? "\" " : "", k->expected, NULL);
		return -1;
	}
	p->set |= 1u << idx;
	return 0;
}

const char *nl_policy_key_name(enum nl_key k)
{
	return (unsigned)k < NL_KEY_COUNT ? keys[k].name : "";
}

const char *nl_policy_key_env(enum nl_key k)
{
	return (unsigned)k < NL_KEY_COUNT ? keys[k].env : "";
}

void nl_policy_finish(struct nl_policy *p)
{
	int audit = p->mode == NL_MODE_AUDIT;

	/* Audit mode exists to be read, so it logs somewhere by default and
	 * reports slow reads. */
	if (!(p->set & (1u << NL_KEY_LOG))) {
		/* Only a log file has a path (and its page is left alone). */
		if (p->log_kind == NL_LOG_FILE)
			p->log_path[0] = '\0';
		p->log_kind = audit ? NL_LOG_SYSLOG : NL_LOG_NONE;
	}
	if (!(p->set & (1u << NL_KEY_READ_WARN)))
		p->read_warn = audit ? 30 : 0;
}

/* --- questions --- */

int nl_policy_keeps_fd(const struct nl_policy *p, int fd)
{
	const struct nl_fd_range *r = nl_policy_keep_fds(p);

	for (int i = 0; i < p->n_keep_fds; i++) {
		if (r[i].lo <= fd && fd <= r[i].hi)
			return 1;
	}
	return 0;
}

const char *nl_basename(const char *path)
{
	if (path == NULL)
		return "";
	const char *base = path;   /* not strrchr(): see next_item() */
	for (const char *p = path; *p != '\0'; p++)
		if (*p == '/')
			base = p + 1;
	return base;
}

static int same_bytes(const char *a, const char *b, size_t n)
{
	while (n > 0 && *a == *b)
		a++, b++, n--;
	return n == 0;
}

int nl_names_contain(const char *list, const char *name)
{
	if (list == NULL || name == NULL)
		return 0;
	const char *base = nl_basename(name);
	struct span b = { base, nl_strlen(base) };
	struct span rest = { list, nl_strlen(list) }, item;

	if (b.n == 0)
		return 0;
	while (next_item(&rest, ',', &item)) {
		if (item.n == b.n && same_bytes(item.s, b.s, b.n))
			return 1;
	}
	return 0;
}

const char *nl_mode_name(enum nl_mode m)
{
	switch (m) {
	case NL_MODE_ENFORCE:
		return "enforce";
	case NL_MODE_AUDIT:
		return "audit";
	case NL_MODE_OFF:
		return "off";
	}
	return "enforce";
}
