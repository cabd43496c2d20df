/* noleak enable | disable | status --unit NAME.service: libnoleak for one
 * systemd service, through a drop-in.
 *
 *   noleak enable  --unit NAME.service [--root DIR] [--lib PATH]
 *                  [--audit] [--set KEY=VALUE]... [--now]
 *   noleak disable --unit NAME.service [--root DIR] [--now]
 *   noleak status  --unit NAME.service [--root DIR]
 *
 * enable writes /etc/systemd/system/NAME.service.d/noleak.conf:
 *
 *   [Service]
 *   Environment="LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libnoleak.so"
 *   Environment="NOLEAK_MODE=audit"
 *
 * through a temporary file and rename (no reader sees half a file), after
 * checking that the unit exists and every setting is valid (the policy's
 * own key table).  disable removes the drop-in (and its directory when
 * empty); status shows it.  Each tells the administrator to reload systemd
 * and restart the service, or does both with --now (only on the running
 * system, not under --root).  Under --root every path is resolved inside
 * the tree (inroot.h). */
#include "noleak.h"
#include "inroot.h"
#include "ldpreload.h"
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DROPIN_NAME "noleak.conf"
#define FILE_MAX (PATH_MAX + 32)

static const char *const unit_dirs[] = {
	"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system", "/lib/systemd/system", NULL,
};

static int say_err(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "noleak: ");
	fprintf(stderr, fmt, a, b ? b : "");
	fputc('\n', stderr);
	return NL_EXIT_USAGE;
}

/* NAME.service, in systemd's unit-name alphabet. */
static int valid_unit(const char *u)
{
	size_t n = strlen(u);
	if (n <= 8 || n > 255 || strcmp(u + n - 8, ".service") || u[0] == '.')
		return 0;
	for (const char *p = u; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789:-_.@\\", *p))
			return 0;
	return 1;
}

static int exists_in(const struct nl_root *r, const char *path)
{
	int fd = inroot_open(r, path, O_PATH, 0);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Whether the unit (or, for NAME@INST.service, its template) exists under
 * root. */
static int unit_exists(const struct nl_root *r, const char *unit)
{
	char tmpl[PATH_MAX] = "";
	const char *at = strchr(unit, '@');
	if (at)
		snprintf(tmpl, sizeof tmpl, "%.*s@.service", (int)(at - unit), unit);
	for (int i = 0; unit_dirs[i]; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", unit_dirs[i], unit);
		if (exists_in(r, p))
			return 1;
		snprintf(p, sizeof p, "%s/%s", unit_dirs[i], tmpl);
		if (tmpl[0] && exists_in(r, p))
			return 1;
	}
	return 0;
}

/* One Environment= line: quoted, with '"' and '\' escaped and '%' doubled
 * (systemd's specifiers).  '$' stays: Environment= gives it no meaning
 * (no variable expansion, and "\$" is no escape systemd knows), and ld.so
 * reads $LIB in LD_PRELOAD.  A line break would end the directive and
 * start another: values reach here without control characters. */
static void put_env(FILE *f, const char *name, const char *value)
{
	fputs("Environment=\"", f);
	for (const char *s = name; *s; s++)
		fputc(*s, f);
	fputc('=', f);
	for (const char *s = value; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '%')
			fputc('%', f);
		fputc(*s, f);
	}
	fputs("\"\n", f);
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* --lib as host-wide enable judges its library: one LD_PRELOAD entry (no
 * blank, ':' or '#', which ld.so splits on or cuts at), and a regular
 * file the service will find: inside the tree, $LIB and $PLATFORM as
 * ld.so expands them for this host's programs. */
static int check_lib(const struct noleak_unit_opts *o, const struct nl_root *r)
{
	char exp[PATH_MAX];
	struct stat st;
	if (o->lib[0] != '/')
		return say_err("--lib must be an absolute path: %s%s", o->lib, "");
	if (!ldpreload_safe_chars(o->lib) || has_control(o->lib))
		return say_err("refusing %s: an LD_PRELOAD entry cannot contain blanks, ':', '#' or control characters%s",
			       o->lib, "");
	struct ldpreload_env env = { o->syslibdir, (const char *)getauxval(AT_PLATFORM) };
	ldpreload_expand(o->lib, strlen(o->lib), &env, exp, sizeof exp);
	int fd = inroot_open(r, exp, O_PATH, 0);
	int bad = fd < 0 ? errno : fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? -1 : 0;
	if (fd >= 0)
		close(fd);
	if (bad > 0)
		return say_err("refusing %s: %s (the service would start without it, after a loader error)",
			       o->lib, strerror(bad));
	if (bad)
		return say_err("refusing %s: not a regular file%s", o->lib, "");
	return 0;
}

static const char *key_env(const char *key)
{
	for (int k = 0; k < NL_KEY_COUNT; k++)
		if (!strcmp(nl_policy_key_name((enum nl_key)k), key))
			return nl_policy_key_env((enum nl_key)k);
	return NULL;
}

static int systemctl(const char *a, const char *b)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("systemctl", "systemctl", a, b, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		fprintf(stderr, "noleak: systemctl %s%s%s failed\n", a, b ? " " : "",
			b ? b : "");
		return NL_EXIT_USAGE;
	}
	return 0;
}

/* What to do next, or do it (--now). */
static int apply(const struct noleak_unit_opts *o, const char *restart)
{
	if (!o->now) {
		printf("noleak: run 'systemctl daemon-reload' and 'systemctl %s %s' "
		       "(or use --now)\n", restart, o->unit);
		return 0;
	}
	int r = systemctl("daemon-reload", NULL);
	return r ? r : systemctl(restart, o->unit);
}

/* The drop-in as the tree sees it: /etc/systemd/system/NAME.service.d/
 * noleak.conf, and its directory. */
static void dropin_paths(const struct noleak_unit_opts *o, char *dir, char *file)
{
	snprintf(dir, PATH_MAX, "/etc/systemd/system/%s.d", o->unit);
	snprintf(file, FILE_MAX, "%s/" DROPIN_NAME, dir);
}

static int unit_enable(const struct noleak_unit_opts *o, const struct nl_root *r)
{
	char dir[PATH_MAX], file[FILE_MAX], host[FILE_MAX], tmp[NAME_MAX + 1];
	if (!unit_exists(r, o->unit))
		return say_err("no unit %s%s (looked in /etc, /run and /lib/systemd/system)",
			       o->unit, "");
	if (check_lib(o, r))
		return NL_EXIT_USAGE;
	struct nl_policy scratch;
	nl_policy_defaults(&scratch);
	for (size_t i = 0; i < o->n_settings; i++) {
		const struct noleak_setting *s = &o->settings[i];
		if (has_control(s->value))
			return say_err("%s %s: a value cannot contain a line break or another control character",
				       s->origin, s->key);
		if (!key_env(s->key) || nl_policy_set(&scratch, s->key, s->value, s->origin) < 0)
			return say_err("%s%s", scratch.n_errors ? scratch.errors[0] : s->origin,
				       key_env(s->key) ? "" : ": unknown key");
	}
	dropin_paths(o, dir, file);
	umask(022);
	const char *name;
	int dfd = inroot_parent(r, file, 1, &name, host, sizeof host);
	if (dfd < 0)
		return say_err("cannot create %s: %s", dir, strerror(errno));
	snprintf(tmp, sizeof tmp, ".%s.tmp%d", name, (int)getpid());
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		close(dfd);
		return say_err("cannot write %s: %s", host, strerror(errno));
	}
	fprintf(f, "# Written by noleak enable --unit %s; removed by noleak disable --unit.\n"
		"[Service]\n", o->unit);
	put_env(f, "LD_PRELOAD", o->lib);
	for (size_t i = 0; i < o->n_settings; i++)
		put_env(f, key_env(o->settings[i].key),
			noleak_env_text(o->settings[i].value));
	int bad = fflush(f) || fsync(fileno(f));
	bad |= fclose(f) != 0;
	if (bad || renameat(dfd, tmp, dfd, name) < 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return say_err("cannot write %s: %s", host, strerror(e));
	}
	close(dfd);
	printf("noleak: enabled for %s: %s\n", o->unit, host);
	return apply(o, "restart");
}

static int unit_disable(const struct noleak_unit_opts *o, const struct nl_root *r)
{
	char dir[PATH_MAX], file[FILE_MAX], host[FILE_MAX], dir_host[PATH_MAX];
	const char *name, *dir_name;
	dropin_paths(o, dir, file);
	int dfd = inroot_parent(r, file, 0, &name, host, sizeof host);
	if (dfd < 0 || unlinkat(dfd, name, 0) < 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		if (e != ENOENT)
			return say_err("cannot remove %s: %s", dfd >= 0 ? host : dir,
				       strerror(e));
		printf("noleak: already disabled for %s\n", o->unit);
		return 0;
	}
	close(dfd);
	/* The directory too, only when nothing else is in it. */
	int pfd = inroot_parent(r, dir, 0, &dir_name, dir_host, sizeof dir_host);
	if (pfd >= 0) {
		unlinkat(pfd, dir_name, AT_REMOVEDIR);
		close(pfd);
	}
	printf("noleak: disabled for %s: removed %s\n", o->unit, host);
	return apply(o, "restart");
}

static int unit_status(const struct noleak_unit_opts *o, const struct nl_root *r)
{
	char dir[PATH_MAX], file[FILE_MAX], host[FILE_MAX], line[4096];
	const char *name;
	dropin_paths(o, dir, file);
	int dfd = inroot_parent(r, file, 0, &name, host, sizeof host);
	int fd = dfd >= 0 ? openat(dfd, name, O_RDONLY | O_CLOEXEC) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (dfd >= 0)
		close(dfd);
	if (!f) {
		if (fd >= 0)
			close(fd);
		printf("noleak: not enabled for %s (no %s%s)\n", o->unit,
		       strcmp(r->dir, "/") ? r->dir : "", file);
		return 1;
	}
	printf("noleak: enabled for %s: %s\n", o->unit, host);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "Environment=", 12))
			printf("    %s", line);
	fclose(f);
	return 0;
}

int noleak_unit_main(const struct noleak_unit_opts *o)
{
	if (!valid_unit(o->unit))
		return say_err("--unit needs a service name like NAME.service, not '%s'%s",
			       o->unit, "");
	if (o->now && strcmp(o->root, "/"))
		return say_err("--now works on the running system only, not under --root %s%s",
			       o->root, "");
	struct nl_root r;
	if (inroot_init(&r, o->root) < 0)
		return say_err("cannot open %s: %s", o->root, strerror(errno));
	int st = !strcmp(o->action, "enable")    ? unit_enable(o, &r)
		 : !strcmp(o->action, "disable") ? unit_disable(o, &r)
						 : unit_status(o, &r);
	inroot_fini(&r);
	return st;
}
