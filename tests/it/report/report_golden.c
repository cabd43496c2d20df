/* noleak-report on logs written by real runs of the shim: the fixtures run
 * under libnoleak in audit and enforce mode, the report summarises the log
 * they leave, and its text and JSON output must match the golden files in
 * tests/golden/report/ once volatile fields (times, pids, inodes, offsets,
 * the temporary directory) are normalised.
 *
 * NOLEAK_UPDATE_GOLDEN=1 rewrites the golden files from this run. */
#include <criterion/criterion.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

/* Programs run from a copy in the test's own directory, so that the paths
 * in the log have the same length on every machine (alignment stays). */
static const char *copy_in(const char *dir, const char *rel)
{
	static __thread char path[4][512];
	static __thread int next;
	char *out = path[next++ % 4];
	struct run_result r;
	char cmd[2048];
	const char *base = strrchr(rel, '/') + 1;
	snprintf(out, 512, "%s/%s", dir, base);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", top(rel), out);
	run_sh(&r, cmd, NULL, 0, 10);
	cr_assert_eq(exit_code(&r), 0, "cannot copy %s: %s", rel, r.err);
	return out;
}

/* Replaces every match of re in *text by repl (a new malloc'd string). */
static void subst(char **text, const char *re, const char *repl)
{
	regex_t rx;
	cr_assert_eq(regcomp(&rx, re, REG_EXTENDED), 0, "bad regex %s", re);
	size_t cap = strlen(*text) * 2 + 64, n = 0;
	char *out = malloc(cap);
	const char *p = *text;
	regmatch_t m;
	while (*p && regexec(&rx, p, 1, &m, p == *text ? 0 : REG_NOTBOL) == 0 &&
	       m.rm_eo > 0) {
		size_t need = n + (size_t)m.rm_so + strlen(repl) + 1;
		if (need > cap) {
			cap = need * 2;
			out = realloc(out, cap);
		}
		memcpy(out + n, p, (size_t)m.rm_so);
		n += (size_t)m.rm_so;
		memcpy(out + n, repl, strlen(repl));
		n += strlen(repl);
		p += m.rm_eo;
	}
	size_t rest = strlen(p);
	if (n + rest + 1 > cap)
		out = realloc(out, n + rest + 1);
	memcpy(out + n, p, rest + 1);
	regfree(&rx);
	free(*text);
	*text = out;
}

/* The output with what differs from run to run replaced by placeholders
 * of the same width. */
static char *normalise(const char *raw, const char *dir)
{
	char *t = strdup(raw);
	char quoted[600];
	/* the temporary directory: a literal, escaped for the regex */
	size_t q = 0;
	for (const char *s = dir; *s && q < sizeof quoted - 3; s++) {
		if (strchr(".[]()*+?^$|\\", *s))
			quoted[q++] = '\\';
		quoted[q++] = *s;
	}
	quoted[q] = '\0';
	subst(&t, quoted, "/tmp/noleak-test.XXXXXX");
	subst(&t, "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z",
	      "YYYY-MM-DDThh:mm:ss.uuuuuuZ");
	subst(&t, "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z",
	      "YYYY-MM-DD hh:mm:ssZ");
	subst(&t, "[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", "MM-DD hh:mm:ss");
	subst(&t, "0x[0-9a-f]+", "0xOFF");
	subst(&t, "pipe:\\[[0-9]+\\]", "pipe:[INODE]");
	subst(&t, "socket:\\[[0-9]+\\]", "socket:[INODE]");
	subst(&t, "anon_inode:\\[[0-9]+\\]", "anon_inode:[INODE]");
	subst(&t, "\"pid\":[0-9]+", "\"pid\":PID");
	subst(&t, "pid [0-9]+", "pid PID");
	subst(&t, "\"host\":\"[^\"]*\"", "\"host\":\"HOST\"");
	subst(&t, "\"version\":\"[^\"]*\"", "\"version\":\"VERSION\"");
	return t;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* Compares with tests/golden/report/NAME, or writes it when asked to. */
static void check_golden(const char *name, const char *got)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/golden/report/%s", name);
	const char *path = top(rel);
	const char *upd = getenv("NOLEAK_UPDATE_GOLDEN");
	if (upd && !strcmp(upd, "1")) {
		write_text(path, got);
		return;
	}
	const char *want = slurp(path);
	cr_assert(*want, "missing golden file %s (make it with NOLEAK_UPDATE_GOLDEN=1)",
		  rel);
	cr_assert_str_eq(got, want, "%s differs from the report:\n%s", rel, got);
}

/* Runs noleak-report on `log` in text and JSON, checks the exit status,
 * that the JSON parses, and both against NAME.txt and NAME.json. */
static void report_matches(const char *dir, const char *log, const char *name,
			   int want_exit)
{
	struct run_result r;
	char golden[128], jsonpath[600], cmd[1400];
	char *text_argv[] = { (char *)top("build/noleak-report"), (char *)log, NULL };
	run(&r, text_argv, NULL, 0, 30, NULL);
	cr_assert_eq(exit_code(&r), want_exit, "exit %d, stderr: %s", exit_code(&r), r.err);
	char *text = normalise(r.out, dir);
	snprintf(golden, sizeof golden, "%s.txt", name);
	check_golden(golden, text);
	free(text);

	char *json_argv[] = { (char *)top("build/noleak-report"), "--json", (char *)log, NULL };
	run(&r, json_argv, NULL, 0, 30, NULL);
	cr_assert_eq(exit_code(&r), want_exit);
	snprintf(jsonpath, sizeof jsonpath, "%s/report.json", dir);
	write_text(jsonpath, r.out);
	struct run_result v;
	snprintf(cmd, sizeof cmd, "python3 -m json.tool '%s' >/dev/null", jsonpath);
	run_sh(&v, cmd, NULL, 0, 30);
	cr_assert_eq(exit_code(&v), 0, "not valid JSON: %s\n%s", v.err, r.out);
	char *json = normalise(r.out, dir);
	snprintf(golden, sizeof golden, "%s.json", name);
	check_golden(golden, json);
	free(json);
}

static void run_logged(char *const argv[], const char *mode, const char *log,
		       const char *extra)
{
	char m[64], l[600];
	snprintf(m, sizeof m, "NOLEAK_MODE=%s", mode);
	snprintf(l, sizeof l, "NOLEAK_LOG=%s", log);
	char *env[] = { m, l, (char *)extra, NULL };
	struct run_result r;
	run(&r, argv, env, 1, 30, NULL);
	cr_assert_eq(exit_code(&r), 0, "%s failed: %s", argv[0], r.err);
	cr_assert(*slurp(log), "the shim logged nothing to %s", log);
}

Test(report_golden, audit_leak_into_exec)
{
	const char *dir = tmpdir();
	char log[600];
	snprintf(log, sizeof log, "%s/audit.log", dir);
	char *argv[] = { (char *)copy_in(dir, "build/fixtures/rep_leak"), "exec",
			 "/bin/true", NULL };
	run_logged(argv, "audit", log, NULL);
	report_matches(dir, log, "audit_exec", 1);
	/* what a user reads first: the audit total */
	cr_assert(strstr(slurp(log), "\"would_close\""));
}

Test(report_golden, enforce_closes_unseen_fds)
{
	const char *dir = tmpdir();
	char log[600];
	snprintf(log, sizeof log, "%s/enforce.log", dir);
	char *argv[] = { (char *)copy_in(dir, "build/fixtures/rep_leak"), "exec",
			 "/bin/true", NULL };
	run_logged(argv, "enforce", log, NULL);
	report_matches(dir, log, "enforce_exec", 1);
}

Test(report_golden, pipe_eof_hang_under_audit)
{
	const char *dir = tmpdir();
	char log[600];
	snprintf(log, sizeof log, "%s/hang.log", dir);
	char *argv[] = { (char *)copy_in(dir, "build/examples/pipe_eof_hang"),
			 "echo done; sleep 1 >/dev/null 2>&1 &", NULL };
	run_logged(argv, "audit", log, "NOLEAK_SOCK_TIMEOUT=abc");
	report_matches(dir, log, "pipe_eof_hang", 1);
}

Test(report_golden, fork_in_threaded_program)
{
	const char *dir = tmpdir();
	char log[600];
	snprintf(log, sizeof log, "%s/fork.log", dir);
	char *argv[] = { (char *)copy_in(dir, "build/fixtures/rep_leak"), "fork", NULL };
	run_logged(argv, "audit", log, NULL);
	report_matches(dir, log, "fork_inherit", 1);
}

/* A directory of logs from both modes: each total on its own line. */
Test(report_golden, directory_of_audit_and_enforce_logs)
{
	const char *dir = tmpdir();
	char logs[600], audit[700], enforce[700], cmd[800];
	snprintf(logs, sizeof logs, "%s/logs", dir);
	snprintf(cmd, sizeof cmd, "mkdir '%s'", logs);
	struct run_result r;
	run_sh(&r, cmd, NULL, 0, 10);
	snprintf(audit, sizeof audit, "%s/events.log", logs);
	snprintf(enforce, sizeof enforce, "%s/events.log.1", logs);
	char *argv[] = { (char *)copy_in(dir, "build/fixtures/rep_leak"), "exec",
			 "/bin/true", NULL };
	run_logged(argv, "audit", audit, NULL);
	run_logged(argv, "enforce", enforce, NULL);
	report_matches(dir, logs, "audit_and_enforce", 1);
}
