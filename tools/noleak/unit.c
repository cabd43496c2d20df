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
 * system, not under --root). */
#include "noleak.h"
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Whether the unit (or, for NAME@INST.service, its template) exists under
 * root. */
static int unit_exists(const char *root, const char *unit)
{
	char tmpl[PATH_MAX] = "";
	const char *at = strchr(unit, '@');
	if (at)
		snprintf(tmpl, sizeof tmpl, "%.*s@.service", (int)(at - unit), unit);
	for (int i = 0; unit_dirs[i]; i++) {
		char p[PATH_MAX];
		struct stat st;
		snprintf(p, sizeof p, "%s%s/%s", root, unit_dirs[i], unit);
		if (stat(p, &st) == 0)
			return 1;
		snprintf(p, sizeof p, "%s%s/%s", root, unit_dirs[i], tmpl);
		if (tmpl[0] && stat(p, &st) == 0)
			return 1;
	}
	return 0;
}

/* One Environment= line: quoted, with '"' and '\' escaped and '%' doubled
 * (systemd's specifiers). */
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

static void dropin_paths(const struct noleak_unit_opts *o, char *dir, char *file)
{
	snprintf(dir, PATH_MAX, "%s/etc/systemd/system/%s.d",
		 strcmp(o->root, "/") ? o->root : "", o->unit);
	snprintf(file, FILE_MAX, "%s/" DROPIN_NAME, dir);
}

static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int unit_enable(const struct noleak_unit_opts *o)
{
	char dir[PATH_MAX], file[FILE_MAX], tmp[FILE_MAX + 16];
	const char *root = strcmp(o->root, "/") ? o->root : "";
	if (!unit_exists(root, o->unit))
		return say_err("no unit %s%s (looked in /etc, /run and /lib/systemd/system)",
			       o->unit, "");
	if (o->lib[0] != '/')
		return say_err("--lib must be an absolute path: %s%s", o->lib, "");
	struct nl_policy scratch;
	nl_policy_defaults(&scratch);
	for (size_t i = 0; i < o->n_settings; i++) {
		const struct noleak_setting *s = &o->settings[i];
		if (!key_env(s->key) || nl_policy_set(&scratch, s->key, s->value, s->origin) < 0)
			return say_err("%s%s", scratch.n_errors ? scratch.errors[0] : s->origin,
				       key_env(s->key) ? "" : ": unknown key");
	}
	dropin_paths(o, dir, file);
	umask(022);
	if (make_dirs(dir) < 0)
		return say_err("cannot create %s: %s", dir, strerror(errno));
	snprintf(tmp, sizeof tmp, "%s.tmp%d", file, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		return say_err("cannot write %s: %s", tmp, strerror(errno));
	fprintf(f, "# Written by noleak enable --unit %s; removed by noleak disable --unit.\n"
		"[Service]\n", o->unit);
	put_env(f, "LD_PRELOAD", o->lib);
	for (size_t i = 0; i < o->n_settings; i++)
		put_env(f, key_env(o->settings[i].key), o->settings[i].value);
	int bad = fflush(f) || fsync(fileno(f));
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, file) < 0) {
		unlink(tmp);
		return say_err("cannot write %s: %s", file, strerror(errno));
	}
	printf("noleak: enabled for %s: %s\n", o->unit, file);
	return apply(o, "restart");
}

static int unit_disable(const struct noleak_unit_opts *o)
{
	char dir[PATH_MAX], file[FILE_MAX];
	dropin_paths(o, dir, file);
	if (unlink(file) < 0) {
		if (errno != ENOENT)
			return say_err("cannot remove %s: %s", file, strerror(errno));
		printf("noleak: already disabled for %s\n", o->unit);
		return 0;
	}
	rmdir(dir);   /* only when nothing else is in it */
	printf("noleak: disabled for %s: removed %s\n", o->unit, file);
	return apply(o, "restart");
}

static int unit_status(const struct noleak_unit_opts *o)
{
	char dir[PATH_MAX], file[FILE_MAX], line[4096];
	dropin_paths(o, dir, file);
	FILE *f = fopen(file, "r");
	if (!f) {
		printf("noleak: not enabled for %s (no %s)\n", o->unit, file);
		return 1;
	}
	printf("noleak: enabled for %s: %s\n", o->unit, file);
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
	if (!strcmp(o->action, "enable"))
		return unit_enable(o);
	if (!strcmp(o->action, "disable"))
		return unit_disable(o);
	return unit_status(o);
}
