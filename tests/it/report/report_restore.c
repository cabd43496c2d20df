/* The "restore with:" line of the report, and --json's "restore", put into
 * a config file, give a program back the fds enforce closed.  One row per
 * directory name the program runs from, with the characters a [program]
 * section's glob gives a meaning to.  For each: rep_leak hands fds 3 to 9
 * to fdh_fds across an exec without the shim (the reference), under
 * enforce (closed: the report's input), and under enforce with the
 * report's suggestion as the config (the reference again). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/run.h"

static const char *const dirs[] = {
	"plain", "app[1]", "a*b", "why?", "back\\slash", "[x]-]",
	/* bytes that are not UTF-8, control characters (C0, C1), a newline,
	 * blanks, UTF-8 */
	"caf\xe9", "leak\x01er", "c1\xc2\x9bx", "new\nline", "in side",
	"caf\xc3\xa9",
};

/* The program's own name in the last directory: blanks at the end of its
 * path, which a config line is trimmed of. */
static const char *const names[] = { "rep_leak", "rep_leak ", "rep_leak\t" };

/* The fds 3 to 9 fdh_fds was started with, as "3,4,...". */
static void leaked_fds(char *out, size_t cap, const struct run_result *r)
{
	const char *s = strstr(r->out, "fds=");
	size_t o = 0;
	out[0] = '\0';
	if (!s)
		return;
	for (int fd = 3; fd <= 9; fd++)
		if (fd_list_has(s + 4, fd))
			o += (size_t)snprintf(out + o, cap - o, "%s%d", o ? "," : "", fd);
}

static void run_program(char *out, size_t cap, const char *prog, int shim,
			const char *log, const char *config)
{
	char l[700], c[700];
	snprintf(l, sizeof l, "NOLEAK_LOG=%s", log);
	snprintf(c, sizeof c, "NOLEAK_CONFIG=%s", config);
	char *env[] = { "NOLEAK_MODE=enforce", l, c, NULL };
	char *argv[] = { (char *)prog, "exec", (char *)top("build/fixtures/fdh_fds"),
			 NULL };
	struct run_result r;
	run(&r, argv, env, shim, 30, NULL);
	cr_assert_eq(exit_code(&r), 0, "%s: %s%s", prog, r.out, r.err);
	leaked_fds(out, cap, &r);
}

static void write_config(const char *path, const char *section, const char *fds)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	fprintf(f, "%s\nkeep_fds = %s\n", section, fds);
	fclose(f);
	chmod(path, 0600);
}

/* The bytes of a JSON string value `key` in s, undoing \" and \\, and
 * \u00XX, which the report writes for one byte (a control character, or
 * one that is not UTF-8); 0 when absent. */
static int json_field(char *out, size_t cap, const char *s, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":\"", key);
	const char *p = strstr(s, k);
	size_t o = 0;
	if (!p)
		return 0;
	for (p += strlen(k); *p && *p != '"' && o + 1 < cap; p++) {
		if (p[0] == '\\' && p[1] == 'u') {
			unsigned byte;
			cr_assert(sscanf(p + 2, "00%2x", &byte) == 1, "%.12s", p);
			out[o++] = (char)byte;
			p += 5;
			continue;
		}
		if (*p == '\\')
			p++;
		out[o++] = *p;
	}
	out[o] = '\0';
	return 1;
}

static void check_dir(const char *tmp, int i, const char *name, const char *file)
{
	char d[600], prog[700], log[700], conf[700], none[700];
	snprintf(d, sizeof d, "%s/%d", tmp, i);
	cr_assert_eq(mkdir(d, 0700), 0);
	snprintf(d, sizeof d, "%s/%d/%s", tmp, i, name);
	cr_assert_eq(mkdir(d, 0700), 0, "mkdir %s", d);
	snprintf(prog, sizeof prog, "%s/%s", d, file);
	struct run_result r;
	char *cp[] = { "/bin/cp", (char *)top("build/fixtures/rep_leak"), prog, NULL };
	run(&r, cp, NULL, 0, 10, NULL);
	cr_assert_eq(exit_code(&r), 0, "cp: %s", r.err);
	snprintf(log, sizeof log, "%s/%d/enforce.log", tmp, i);
	snprintf(conf, sizeof conf, "%s/%d/noleak.conf", tmp, i);
	snprintf(none, sizeof none, "%s/%d/none.conf", tmp, i);

	char plain[64], enforced[64], restored[64];
	run_program(plain, sizeof plain, prog, 0, "/dev/null", none);
	cr_assert_str_eq(plain, "3,4,5,6,7,8,9", "%s: without the shim", name);
	run_program(enforced, sizeof enforced, prog, 1, log, none);
	cr_assert_str_eq(enforced, "", "%s: enforce closed nothing", name);

	/* the text line: "restore with: [program P] keep_fds = F" */
	char *rep[] = { (char *)top("build/noleak-report"), log, NULL };
	run(&r, rep, NULL, 0, 30, NULL);
	const char *line = strstr(r.out, "restore with: ");
	cr_assert(line, "%s: no restore line in:\n%s", name, r.out);
	line += strlen("restore with: ");
	const char *keep = strstr(line, "] keep_fds = ");
	const char *eol = strchr(line, '\n');
	cr_assert(keep && eol && keep < eol, "%s: %s", name, line);
	char section[1200], fds[64];
	snprintf(section, sizeof section, "%.*s", (int)(keep + 1 - line), line);
	snprintf(fds, sizeof fds, "%.*s", (int)(eol - keep - 13), keep + 13);
	write_config(conf, section, fds);
	run_program(restored, sizeof restored, prog, 1, "/dev/null", conf);
	cr_expect_str_eq(restored, plain, "%s: the config\n%s\nkeep_fds = %s\n"
			 "restored fds %s, not %s", name, section, fds, restored, plain);

	/* --json: "section" and "keep_fds" */
	char *jrep[] = { (char *)top("build/noleak-report"), "--json", log, NULL };
	run(&r, jrep, NULL, 0, 30, NULL);
	const char *restore = strstr(r.out, "\"restore\":[");
	cr_assert(restore, "%s: no restore in %s", name, r.out);
	/* without "section", what a reader of "program" would write */
	if (!json_field(section, sizeof section, restore, "section")) {
		char path[1000];
		cr_assert(json_field(path, sizeof path, restore, "program"));
		snprintf(section, sizeof section, "[program %s]", path);
	}
	cr_assert(json_field(fds, sizeof fds, restore, "keep_fds"));
	write_config(conf, section, fds);
	run_program(restored, sizeof restored, prog, 1, "/dev/null", conf);
	cr_expect_str_eq(restored, plain, "%s: --json's config\n%s\nkeep_fds = %s\n"
			 "restored fds %s, not %s", name, section, fds, restored, plain);
}

Test(report_restore, suggested_config_restores_the_fds)
{
	const char *tmp = tmpdir();
	int n = (int)(sizeof dirs / sizeof dirs[0]);
	for (int i = 0; i < n; i++)
		check_dir(tmp, i, dirs[i], "rep_leak");
	for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
		check_dir(tmp, n + i, "plain", names[i]);
}

/* A program whose path the report keeps only the head of (over 512 bytes)
 * gets no restore line: a cut path names another program.  The report says
 * why instead, and --json has no "section". */
Test(report_restore, no_restore_line_for_a_path_cut_short)
{
	char d[1200], prog[1300], log[700], none[700];
	const char *tmp = tmpdir();
	snprintf(d, sizeof d, "%s", tmp);
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(d);
		snprintf(d + n, sizeof d - n, "/%0200d", i);
		cr_assert_eq(mkdir(d, 0700), 0, "mkdir %s", d);
	}
	snprintf(prog, sizeof prog, "%s/rep_leak", d);
	snprintf(log, sizeof log, "%s/enforce.log", tmp);
	snprintf(none, sizeof none, "%s/none.conf", tmp);
	struct run_result r;
	char *cp[] = { "/bin/cp", (char *)top("build/fixtures/rep_leak"), prog, NULL };
	run(&r, cp, NULL, 0, 10, NULL);
	cr_assert_eq(exit_code(&r), 0, "cp: %s", r.err);
	char enforced[64];
	run_program(enforced, sizeof enforced, prog, 1, log, none);
	cr_assert_str_eq(enforced, "", "enforce closed nothing");

	char *rep[] = { (char *)top("build/noleak-report"), log, NULL };
	run(&r, rep, NULL, 0, 30, NULL);
	cr_expect(!strstr(r.out, "restore with:"), "%s", r.out);
	cr_expect(strstr(r.out, "no restore line: the program's path is longer"),
		  "%s", r.out);
	char *jrep[] = { (char *)top("build/noleak-report"), "--json", log, NULL };
	run(&r, jrep, NULL, 0, 30, NULL);
	cr_expect(strstr(r.out, "\"section\":null,\"no_section\":\"the program's path"),
		  "%s", r.out);
}
