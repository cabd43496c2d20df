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
#include "policy/policy.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest config file the shim reads; a bigger one is not ours. */
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

/* Apply each setting to a scratch policy, exactly as the shim will, then
 * export it. */
static int apply_settings(const struct noleak_run_opts *o)
{
	static struct nl_policy scratch;
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
		if (setenv(name, value, 1) < 0)
			return fail(NL_EXIT_USAGE, "%s: %s", name, strerror(errno));
	}
	return 0;
}

/* The shim reads the config file in every process and ignores one it may
 * not trust; say so now rather than run with a policy nobody asked for. */
static int check_config(const char *file, const char *path, const char *argv0)
{
	struct stat st;
	char abs[PATH_MAX];
	if (stat(file, &st) < 0 || !realpath(file, abs))
		return fail(NL_EXIT_USAGE, "--config %s: %s", file, strerror(errno));
	const char *why = nl_policy_config_distrust(&st, geteuid());
	if (why)
		return fail(NL_EXIT_USAGE, "--config %s: %s", file, why);
	/* The shim's own load of that file and its drop-ins (FILE.d), as the
	 * command will find it: the same limits, the same errors. */
	char env_config[PATH_MAX + 16];
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

static int set_preload(const char *lib)
{
	if (strpbrk(lib, ": "))
		return fail(NL_EXIT_USAGE,
			    "%s: LD_PRELOAD cannot name a path containing ':' or a space", lib);
	const char *old = getenv("LD_PRELOAD");
	if (old && preload_has(old, lib))
		return 0;
	char *val = NULL;
	int r = old && *old ? asprintf(&val, "%s:%s", old, lib)
			    : asprintf(&val, "%s", lib);
	if (r >= 0) {
		r = setenv("LD_PRELOAD", val, 1);
		free(val);
	}
	return r < 0 ? fail(NL_EXIT_USAGE, "LD_PRELOAD: %s", strerror(errno)) : 0;
}

static int set_launched(void)
{
	char pid[24];
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	return setenv("NOLEAK_LAUNCHED", pid, 1) < 0
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
