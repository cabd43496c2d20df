/* The read contract: every read-family call on every kind of object, in
 * every mode, returns what it returns without the shim — the same result,
 * errno, bytes (or readiness) and elapsed-time class.
 *
 * The table is the contract: each row names calls, objects and scenarios
 * (see tests/fixtures/reads/rd_contract.c) and stands for every combination of
 * them.  A new case is one row.  Each mode runs all rows at once in the
 * fixture, after the same rows without the shim, and compares the lines. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

#define READS "read readv recv recvfrom recvmsg"
#define WAITS "poll ppoll select pselect epoll_wait epoll_pwait"
#define ALL READS " " WAITS

static const struct row {
	const char *calls, *kinds, *scenarios;
} table[] = {
	/* Data there, data late, none (a signal ends the wait). */
	{ ALL, "pipe fifo tcp unix_stream unix_dgram udp eventfd devnull "
	       "listener", "ready late none" },
	/* Terminals: canonical, raw, and read from the background. */
	{ ALL, "pty_canon pty_raw pty_bg", "ready late none" },
	/* A terminal with VMIN=0 VTIME=5: 0 after 0.5 s. */
	{ ALL, "pty_vtime", "ready none" },
	/* What the blocking call waits for: MSG_WAITALL, SO_RCVLOWAT. */
	{ ALL, "tcp_waitall unix_waitall tcp_lowat", "split" },
	/* The program's own receive timeout. */
	{ ALL, "tcp_rcvtimeo", "ready none" },
	/* Stopped and continued, no handler: the kernel goes on waiting,
	 * but a read on a socket with a timeout fails with EINTR. */
	{ READS, "pipe tcp tcp_rcvtimeo", "stopcont" },
	/* Reads that never block: 0 bytes, a bad count, the error queue. */
	{ "read0 readv0 readv_bad", "pipe tcp udp", "ready none" },
	{ "read0", "pty_canon pty_raw", "ready none" },
	{ "recvmsg_errq", "tcp udp", "none" },
	/* A wait whose own mask blocks a signal sent all along. */
	{ "ppoll pselect epoll_pwait", "pipe", "masked pending" },
	/* Waits of months. */
	{ WAITS, "pipe tcp", "long" },
	/* Servers waiting for work. */
	{ WAITS, "listener udp eventfd pipe", "idle" },
};

#define MAX_ROWS 1024

/* Every combination the table stands for, as the fixture's arguments. */
static int expand(char **argv, int max)
{
	int n = 0;
	for (size_t t = 0; t < sizeof table / sizeof *table; t++) {
		char calls[256], kinds[256], scens[256];
		char *sc, *sk, *ss;
		snprintf(calls, sizeof calls, "%s", table[t].calls);
		for (char *c = strtok_r(calls, " ", &sc); c; c = strtok_r(NULL, " ", &sc)) {
			snprintf(kinds, sizeof kinds, "%s", table[t].kinds);
			for (char *k = strtok_r(kinds, " ", &sk); k; k = strtok_r(NULL, " ", &sk)) {
				snprintf(scens, sizeof scens, "%s", table[t].scenarios);
				for (char *s = strtok_r(scens, " ", &ss); s;
				     s = strtok_r(NULL, " ", &ss)) {
					cr_assert_lt(n, max - 1);
					char row[96];
					snprintf(row, sizeof row, "%s:%s:%s", c, k, s);
					argv[n++] = strdup(row);
				}
			}
		}
	}
	argv[n] = NULL;
	return n;
}

struct job {
	struct run_result r;
	char **argv;
	char *env[8];
	int shim;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	run(&j->r, j->argv, j->env, j->shim, 90.0, NULL);
	return NULL;
}

/* The rows whose lines differ between `want` and `got` (the row is the
 * text before ": "), into rows[]; returns how many. */
static int differing_rows(const char *want, const char *got, char **rows,
			  int max)
{
	int n = 0;
	while ((*want || *got) && n < max) {
		size_t lw = strcspn(want, "\n"), lg = strcspn(got, "\n");
		if (lw != lg || memcmp(want, got, lw)) {
			size_t name = strcspn(want, ":");
			name += strcspn(want + name + 1, ":") + 1;
			name += strcspn(want + name + 1, ":") + 1;
			rows[n++] = strndup(want, name);
		}
		want += lw + (want[lw] == '\n');
		got += lg + (got[lg] == '\n');
	}
	rows[n] = NULL;
	return n;
}

/* The lines of `got` that differ from `want`, for the failure message. */
static void diff_lines(const char *want, const char *got, char *out, size_t cap)
{
	size_t used = 0;
	int shown = 0, differ = 0;
	out[0] = '\0';
	while (*want || *got) {
		size_t lw = strcspn(want, "\n"), lg = strcspn(got, "\n");
		if (lw != lg || memcmp(want, got, lw)) {
			differ++;
			if (shown < 40 && used + lw + lg + 32 < cap) {
				used += (size_t)snprintf(out + used, cap - used,
					"  without: %.*s\n  with:    %.*s\n",
					(int)lw, want, (int)lg, got);
				shown++;
			}
		}
		want += lw + (want[lw] == '\n');
		got += lg + (got[lg] == '\n');
	}
	if (differ > shown)
		snprintf(out + used, cap - used, "  ... %d lines differ\n", differ);
}

struct mode {
	const char *name;
	const char *env[5];
};

static struct mode modes[] = {
	{ "off", { "NOLEAK_MODE=off", NULL } },
	{ "audit", { "NOLEAK_MODE=audit", "LOG", NULL } },
	{ "enforce", { "NOLEAK_MODE=enforce", NULL } },
	/* Fewer rows at once: each blocked pipe read scans /proc. */
	{ "enforce+read_warn", { "NOLEAK_MODE=enforce", "NOLEAK_READ_WARN=1",
				 "LOG", "RD_BATCH=64", NULL } },
};

/* Parameters cross into the test's process as bytes: an index, not
 * pointers. */
ParameterizedTestParameters(rd_contract, every_call_every_object)
{
	static int idx[] = { 0, 1, 2, 3 };
	return cr_make_param_array(int, idx, sizeof idx / sizeof *idx);
}

ParameterizedTest(int *mi, rd_contract, every_call_every_object,
		  .timeout = 240)
{
	const struct mode *m = &modes[*mi];
	static char *argv[MAX_ROWS + 2];
	argv[0] = (char *)top("build/fixtures/rd_contract");
	int n = expand(argv + 1, MAX_ROWS);
	static struct job plain, shim;
	static char log_env[300];
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s/events.log", tmpdir());
	plain.argv = shim.argv = argv;
	plain.shim = 0;
	shim.shim = 1;
	int k = 0;
	for (int i = 0; m->env[i]; i++)
		shim.env[k++] = !strcmp(m->env[i], "LOG") ? log_env
							  : (char *)m->env[i];
	shim.env[k] = NULL;
	/* The fixture's own settings (RD_BATCH) hold for both runs. */
	int kp = 0;
	for (int i = 0; m->env[i]; i++)
		if (!strncmp(m->env[i], "RD_", 3))
			plain.env[kp++] = (char *)m->env[i];
	plain.env[kp] = NULL;
	/* One after the other: thousands of processes at once would make a
	 * loaded machine's scheduling, not the shim, decide the classes. */
	job_run(&plain);
	job_run(&shim);
	cr_assert(exit_code(&plain.r) == 0 && !plain.r.timed_out, "%s",
		  plain.r.err);
	cr_assert(exit_code(&shim.r) == 0 && !shim.r.timed_out, "%s",
		  shim.r.err);
	cr_assert_eq(count_lines_with(plain.r.out, ":"), n, "%s", plain.r.out);
	cr_expect_eq(count_lines_with(plain.r.out, "setup"), 0, "%s", plain.r.out);
	/* A loaded machine can push a row into the next time class: rows
	 * that differ run again, alone, both ways; a real difference stays. */
	static char *again[MAX_ROWS + 2];
	again[0] = argv[0];
	int redo = differing_rows(plain.r.out, shim.r.out, again + 1, MAX_ROWS);
	if (redo > 0 && redo <= 40) {
		plain.argv = shim.argv = again;
		job_run(&plain);
		job_run(&shim);
	}
	static char diff[16384];
	diff_lines(plain.r.out, shim.r.out, diff, sizeof diff);
	cr_expect(diff[0] == '\0', "mode %s: %d rows, these differ:\n%s",
		  m->name, n, diff);
}
