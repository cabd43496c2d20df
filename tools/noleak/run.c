/* Running a command under libnoleak.
 *
 * Everything that can be wrong is found before the exec, while there is
 * still a launcher to say so: a bad setting, a missing library, a command
 * that is not there, or one the preload cannot reach.  Then the launcher
 * becomes the command (exec in place), so the command keeps the launcher's
 * pid, parent, process group and terminal, and its exit status is the one
 * the caller sees. */
#include "noleak.h"
#include "elf.h"
#include "path.h"
#include "policy/logfile.h"
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

extern char **environ;

/* Print one "noleak: ..." line on stderr and return `status`. */
__attribute__((format(printf, 2, 3)))
static int fail(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("noleak: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return status;
}

/* --- finding things --- */

static int is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* libnoleak.so next to the launcher (the build tree), in ../lib (an older
 * install), or in ../lib/<multiarch> (make install's and the package's:
 * $PREFIX/bin/noleak, $PREFIX/lib/<multiarch>/libnoleak.so). */
static int find_library(char *out, size_t cap, char *where, size_t wcap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		snprintf(where, wcap, "(/proc/self/exe unreadable)");
		return -1;
	}
	self[n] = 0;
	const char *dir = dirname(self);
	char cand[PATH_MAX + 32];
	snprintf(where, wcap, "%s/ or %s/../lib/", dir, dir);
	snprintf(cand, sizeof cand, "%s/%s", dir, NL_LIB_NAME);
	if (is_regular(cand) && strlen(cand) < cap) {
		strcpy(out, cand);
		return 0;
	}
	snprintf(cand, sizeof cand, "%s/../lib/%s", dir, NL_LIB_NAME);
	if (is_regular(cand) && realpath(cand, out) && strlen(out) < cap)
		return 0;
	/* The Debian package's layout: /usr/bin, /usr/lib/<multiarch>. */
	snprintf(cand, sizeof cand, "%s/../lib/" NL_MULTIARCH "/%s", dir, NL_LIB_NAME);
	if (is_regular(cand) && realpath(cand, out) && strlen(out) < cap)
		return 0;
	return -1;
}

static int command_problem(const char *name, int err)
{
	if (err == -ENOENT && !strchr(name, '/'))
		return fail(NL_EXIT_NOTFOUND, "%s: command not found", name);
	return fail(err == -ENOENT ? NL_EXIT_NOTFOUND : NL_EXIT_CANNOT,
		    "%s: %s", name, strerror(-err));
}

/* --- settings --- */

/* The environment variable that carries `key` to the shim (NOLEAK_<KEY>),
 * from the policy's own key table; NULL for a key the shim does not know. */
static const char *key_env(const char *key)
{
	for (int k = 0; k < NL_KEY_COUNT; k++)
		if (!strcmp(nl_policy_key_name((enum nl_key)k), key))
			return nl_policy_key_env((enum nl_key)k);
	return NULL;
}

static int report_policy_error(const struct nl_policy *p, const char *origin)
{
	if (p->n_errors > 0)
		return fail(NL_EXIT_USAGE, "%s", p->errors[p->n_errors - 1]);
	return fail(NL_EXIT_USAGE, "%s: invalid value", origin);
}

/* The shim takes only an absolute log path (each process of the tree may be
 * in a different directory); a relative one given here means the directory
 * noleak was started from.  Returns the value to use, or NULL when the
 * value is bad either way. */
static const char *log_value(struct nl_policy *p, const struct noleak_setting *s,
			     char *buf, size_t cap)
{
	if (nl_policy_set(p, s->key, s->value, s->origin) == 0)
		return s->value;
	char cwd[PATH_MAX];
	struct nl_policy retry = *p;
	if (s->value[0] == '/' || !s->value[0] || !getcwd(cwd, sizeof cwd))
		return NULL;
	int n = snprintf(buf, cap, "%s/%s", cwd, s->value);
	if (n <= 0 || (size_t)n >= cap ||
	    nl_policy_set(&retry, s->key, buf, s->origin) < 0 ||
	    retry.log_kind != NL_LOG_FILE)
		return NULL;
	*p = retry;
	return buf;
}

/* --- the log file: where the shim will refuse it ---
 *
 * The shim applies the trust rules of policy/logfile.h in every process
 * (and then logs nothing, saying why only to syslog): the same code walks
 * the path here and judges its directory and file, as the shim does before
 * its open (shim/log/out_file.c, open_in). */

/* A log file the shim would refuse is a bad value: say why now. */
static int check_log_file(const struct nl_policy *p, const char *origin)
{
	static struct nl_logfile_walk w;
	if (p->log_kind != NL_LOG_FILE)
		return 0;
	uid_t euid = geteuid();
	int dfd = nl_logfile_open_parent(p->log_path, &w), shared = 0;
	const char *why = w.why;
	if (dfd >= 0 && !why && fstat(dfd, &w.st) == 0)
		why = nl_logfile_dir_distrust(&w.st, nl_logfile_trusted_uid(),
					      &shared);
	if (dfd >= 0 && !why)
		why = nl_logfile_name_distrust(w.base);
	if (dfd >= 0 && !why && fstatat(dfd, w.base, &w.st, AT_SYMLINK_NOFOLLOW) == 0)
		why = nl_logfile_distrust(&w.st, euid, shared);
	if (dfd >= 0 && !why && S_ISREG(w.st.st_mode)) {
		/* An existing file: its file system and first bytes, read
		 * when the file may be read, else looked at through an fd
		 * that opens nothing (O_PATH). */
		static struct nl_logfile_look look;
		struct stat now;
		int rfd = openat(dfd, w.base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
				 O_NOCTTY | O_CLOEXEC);
		int fd = rfd >= 0 ? rfd
				  : openat(dfd, w.base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &now) == 0 &&
		    now.st_dev == w.st.st_dev && now.st_ino == w.st.st_ino)
			why = nl_logfile_content_distrust(fd, rfd, &now, euid, &look);
		if (fd >= 0)
			close(fd);
	}
	if (dfd >= 0)
		close(dfd);
	/* A directory that is not there yet is the shim's to retry. */
	if (why)
		return fail(NL_EXIT_USAGE, "%s %s: the log would be refused: %s",
			    origin, p->log_path, why + strlen(NL_LOGFILE_REFUSED));
	return 0;
}

/* Apply each setting to a scratch policy, exactly as the shim will, then
 * export it. */
static int apply_settings(const struct noleak_run_opts *o)
{
	static struct nl_policy scratch;
	const char *log_origin = NULL;
	nl_policy_defaults(&scratch);
	for (size_t i = 0; i < o->n_settings; i++) {
		const struct noleak_setting *s = &o->settings[i];
		const char *name = key_env(s->key);
		if (!name)
			return fail(NL_EXIT_USAGE,
				    "%s: unknown key \"%s\" (see noleak --help, ENVIRONMENT)",
				    s->origin, s->key);
		scratch.n_errors = 0;
		char logbuf[PATH_MAX * 2];
		const char *value = s->value;
		if (!strcmp(s->key, "log"))
			value = log_value(&scratch, s, logbuf, sizeof logbuf);
		else if (nl_policy_set(&scratch, s->key, s->value, s->origin) < 0)
			value = NULL;
		if (!value)
			return report_policy_error(&scratch, s->origin);
		if (!strcmp(s->key, "log"))
			log_origin = s->origin;
		if (setenv(name, noleak_env_text(value), 1) < 0)
			return fail(NL_EXIT_USAGE, "%s: %s", name, strerror(errno));
	}
	/* The log in force once every option is applied. */
	return log_origin ? check_log_file(&scratch, log_origin) : 0;
}

/* The shim reads the config file in every process and ignores one it may
 * not trust; say so now rather than run with a policy nobody asked for. */
static int check_config(const char *file, const char *path, const char *argv0)
{
	struct stat st;
	char abs[PATH_MAX * 2], cwd[PATH_MAX];
	if (stat(file, &st) < 0)
		return fail(NL_EXIT_USAGE, "--config %s: %s", file, strerror(errno));
	/* Absolute, for every directory the command's processes may be in,
	 * but not resolved: the drop-ins are those of the path as given
	 * (FILE.d), even when FILE is a symlink. */
	if (file[0] != '/' && !getcwd(cwd, sizeof cwd))
		return fail(NL_EXIT_USAGE, "--config %s: %s", file, strerror(errno));
	snprintf(abs, sizeof abs, "%s%s%s", file[0] == '/' ? "" : cwd,
		 file[0] == '/' ? "" : "/", file);
	const char *why = nl_policy_config_distrust(&st, geteuid());
	if (why)
		return fail(NL_EXIT_USAGE, "--config %s: %s", file, why);
	/* The shim's own load of that file and its drop-ins (FILE.d), as the
	 * command will find it: the same limits, the same errors. */
	char env_config[PATH_MAX * 2 + 16];
	snprintf(env_config, sizeof env_config, "NOLEAK_CONFIG=%s", abs);
	char *const env[] = { env_config, NULL };
	static struct nl_policy scratch;
	/* Per-program sections match the program the shim will find itself
	 * in: for a script, its interpreter. */
	char loaded[PATH_MAX], exe[PATH_MAX];
	noleak_loaded_program(path, loaded, sizeof loaded, NULL);
	struct nl_identity who = { realpath(loaded, exe) ? exe : "", path, argv0,
				   NULL };
	nl_policy_load(&scratch, &who, env, 0);
	for (int i = 0; i < scratch.n_errors; i++)
		fprintf(stderr, "noleak: %s\n", scratch.errors[i]);
	if (scratch.n_errors)
		return NL_EXIT_USAGE;
	if (setenv("NOLEAK_CONFIG", abs, 1) < 0)
		return fail(NL_EXIT_USAGE, "NOLEAK_CONFIG: %s", strerror(errno));
	return 0;
}

/* --- the environment of the command --- */

/* Whether LD_PRELOAD (entries separated by ':' or ' ') already names lib. */
static int preload_has(const char *list, const char *lib)
{
	struct stat want, st;
	int have_want = stat(lib, &want) == 0;
	size_t lib_len = strlen(lib);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ": ");
		char entry[PATH_MAX];
		if (n == lib_len && !strncmp(p, lib, n))
			return 1;
		if (n && n < sizeof entry) {
			memcpy(entry, p, n);
			entry[n] = 0;
			if (have_want && stat(entry, &st) == 0 &&
			    st.st_dev == want.st_dev && st.st_ino == want.st_ino)
				return 1;
		}
		p += n;
		p += *p != 0;
	}
	return 0;
}

/* The LD_PRELOAD ld.so obeys: the last one when the environment has it
 * more than once (some wrappers leave it so), while getenv() and setenv()
 * see only the first. */
static const char *preload_in_force(void)
{
	const char *v = NULL;
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "LD_PRELOAD=", 11))
			v = *e + 11;
	return v;
}

/* A copy of libnoleak other than `lib` that ld.so loaded into noleak
 * itself, from LD_PRELOAD or /etc/ld.so.preload as it will for the command
 * (so expanded and found as ld.so does), known by the tag every build
 * carries ("@(#)libnoleak VERSION", shim/init.c) whatever its file name. */
struct copy {
	const char *lib;          /* ours: not another copy */
	char path[PATH_MAX];
	char version[64];
	int found;
};

static int find_copy(struct dl_phdr_info *info, size_t size, void *ctx)
{
	static const char tag[] = "@(#)libnoleak ";
	struct copy *c = ctx;
	struct stat a, b;
	(void)size;
	/* The program itself (noleak names the tag too) and the vDSO. */
	if (!info->dlpi_name || info->dlpi_name[0] != '/')
		return 0;
	if (stat(info->dlpi_name, &a) == 0 && stat(c->lib, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	/* musl names the program by its path: known by holding this code. */
	uintptr_t self = (uintptr_t)find_copy;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && self >= lo && self - lo < ph->p_memsz)
			return 0;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R))
			continue;
		const char *seg = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *hit = memmem(seg, ph->p_filesz, tag, sizeof tag - 1);
		if (!hit)
			continue;
		hit += sizeof tag - 1;
		size_t n = strspn(hit, "0123456789.-+~abcdefghijklmnopqrstuvwxyz");
		snprintf(c->version, sizeof c->version, "%.*s",
			 (int)(n < sizeof c->version ? n : sizeof c->version - 1), hit);
		snprintf(c->path, sizeof c->path, "%s", info->dlpi_name);
		c->found = 1;
		return 1;
	}
	return 0;
}

static int set_preload(const char *lib)
{
	if (strpbrk(lib, ": "))
		return fail(NL_EXIT_USAGE,
			    "%s: LD_PRELOAD cannot name a path containing ':' or a space", lib);
	const char *in_force = preload_in_force();
	char *old = in_force ? strdup(in_force) : NULL;
	if (in_force && !old)
		return fail(NL_EXIT_USAGE, "LD_PRELOAD: %s", strerror(errno));
	/* Another copy of the library (another install's, or the one
	 * /etc/ld.so.preload names) that ld.so loaded into noleak will be
	 * loaded into the command too: a second one would write every event
	 * twice.  The command gets that copy alone. */
	struct copy other = { .lib = lib };
	dl_iterate_phdr(find_copy, &other);
	if (other.found && strcmp(other.version, NL_VERSION))
		fprintf(stderr, "noleak: warning: %s (libnoleak %s), already "
			"preloaded, is used instead of %s (%s)\n",
			other.path, other.version, lib, NL_VERSION);
	char *val = NULL;
	int r = 0;
	if (other.found || (old && preload_has(old, lib)))
		val = old, old = NULL;
	else
		r = old && *old ? asprintf(&val, "%s:%s", old, lib)
				: asprintf(&val, "%s", lib);
	/* One LD_PRELOAD: unsetenv() removes every copy. */
	if (r >= 0 && val)
		r = unsetenv("LD_PRELOAD") < 0 ? -1 : setenv("LD_PRELOAD", val, 1);
	free(val);
	free(old);
	return r < 0 ? fail(NL_EXIT_USAGE, "LD_PRELOAD: %s", strerror(errno)) : 0;
}

/* NOLEAK_LAUNCHED=PID:START:PIDNS tells the shim which process noleak
 * started: this one, which the command stays (exec in place).  The pid
 * alone would name another process too: one that gets the same number in
 * a new pid namespace (noleak unshare -p ...) or once this one is gone,
 * and inherits the variable.  So the start time (field 22 of
 * /proc/self/stat, which exec keeps) and the pid namespace's inode go
 * with it; the shim compares them only in a process with that pid
 * (shim/core/pgroup.c).  What cannot be read is 0, as the shim reads it. */
static int set_launched(void)
{
	unsigned long long start = 0;
	char stat_line[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	if (f && fgets(stat_line, sizeof stat_line, f)) {
		const char *p = strrchr(stat_line, ')');
		/* the space before field 3 (state) follows the ")" */
		for (int field = 3; p && field <= 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			start = strtoull(p + 1, NULL, 10);
	}
	if (f)
		fclose(f);
	struct stat ns;
	char val[80];
	snprintf(val, sizeof val, "%ld:%llu:%llu", (long)getpid(), start,
		 stat("/proc/self/ns/pid", &ns) == 0 ? (unsigned long long)ns.st_ino : 0ULL);
	return setenv("NOLEAK_LAUNCHED", val, 1) < 0
		? fail(NL_EXIT_USAGE, "NOLEAK_LAUNCHED: %s", strerror(errno))
		: 0;
}

/* --- the target --- */

/* Refuse what a preload cannot reach; warn about what the loader will
 * refuse to preload into. */
static int check_target(const char *name, const char *path)
{
	char loaded[PATH_MAX];
	int bits = 0;
	enum noleak_exe_kind kind =
		noleak_loaded_program(path, loaded, sizeof loaded, &bits);
	int direct = !strcmp(loaded, path);
	if (kind == NL_EXE_STATIC && direct)
		return fail(NL_EXIT_USAGE, "%s is statically linked (no dynamic "
			    "loader): LD_PRELOAD cannot reach it", name);
	if (kind == NL_EXE_STATIC)
		return fail(NL_EXIT_USAGE, "%s: its interpreter %s is statically "
			    "linked (no dynamic loader): LD_PRELOAD cannot reach it",
			    name, loaded);
	if (kind != NL_EXE_DYNAMIC)
		return 0;  /* unknown: let the exec decide */
	const char *shown = direct ? name : loaded;
	if (bits && bits != (int)(8 * sizeof(void *)))
		fprintf(stderr, "noleak: warning: %s is a %d-bit program; %s is "
			"%d-bit and will not load into it\n",
			shown, bits, NL_LIB_NAME, (int)(8 * sizeof(void *)));
	struct stat st;
	if (stat(loaded, &st) < 0)
		return 0;
	/* Mode bits only: whether the loader really runs in secure mode
	 * depends on who runs it, which may be someone else later. */
	const char *id = st.st_mode & S_ISUID ? "user"
		       : (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) ? "group"
		       : NULL;
	if (id)
		fprintf(stderr, "noleak: warning: %s is set-%s-ID; the loader ignores "
			"LD_PRELOAD paths for it (see README: /etc/ld.so.preload)\n",
			shown, id);
	return 0;
}

int noleak_run(const struct noleak_run_opts *o, char *const argv[])
{
	char lib[PATH_MAX], where[PATH_MAX * 2 + 32], path[PATH_MAX];
	if (find_library(lib, sizeof lib, where, sizeof where) < 0)
		return fail(NL_EXIT_USAGE, "%s not found in %s", NL_LIB_NAME, where);
	int r = apply_settings(o);
	if (r)
		return r;
	r = noleak_find_command(argv[0], path, sizeof path);
	if (r < 0)
		return command_problem(argv[0], r);
	if (o->config && (r = check_config(o->config, path, argv[0])))
		return r;
	if ((r = check_target(argv[0], path)) || (r = set_preload(lib)) ||
	    (r = set_launched()))
		return r;
	execvp(path, argv);
	int err = errno;
	/* It was found, so ENOENT here means its interpreter or loader is
	 * missing: the command exists but cannot run. */
	char interp[PATH_MAX], arg[PATH_MAX];
	if (err == ENOENT &&
	    noleak_shebang(path, interp, sizeof interp, arg, sizeof arg) == 0)
		return fail(NL_EXIT_CANNOT, "%s: bad interpreter %s: %s",
			    argv[0], interp, strerror(err));
	if (err == ENOENT)
		return fail(NL_EXIT_CANNOT, "%s: cannot execute: its dynamic "
			    "loader is missing", argv[0]);
	return fail(NL_EXIT_CANNOT, "%s: %s", argv[0], strerror(err));
}
