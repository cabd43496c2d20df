/* The program's choice against the shim's, where the two meet late: a
 * keepalive option set after the shim's keepalive went on, a disconnect
 * (connect to AF_UNSPEC), options another process set on a socket before
 * its connect, a connection made while the shim sets a listener's
 * keepalive.  Differential where the shim must leave no trace: the same
 * sock_opts run with and without it, line for line. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

TestSuite(sock_choice, .timeout = 60);

/* The line of socket `name` in out (static buffer). */
static const char *line_of(const char *out, const char *name)
{
	static char buf[4][256];
	static int next;
	char *b = buf[next++ % 4];
	size_t n = strlen(name);
	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == ' ') {
			snprintf(b, 256, "%.*s", (int)len, p);
			return b;
		}
		p = nl ? nl + 1 : NULL;
	}
	return "(none)";
}

static void opts(struct run_result *r, const char *prog, const char *mode,
		 char *const env[], int shim)
{
	char *argv[] = { (char *)top(prog), (char *)mode, NULL };
	cr_assert_eq(run(r, argv, env, shim, 20.0, NULL), 0);
	cr_assert(!r->timed_out && exit_code(r) == 0, "%s %s: %s%s", prog,
		  mode ? mode : "", r->out, r->err);
}

/* The shim's keepalive, with a user timeout, and no timeouts: what the
 * program ends with must be exactly what it has without the shim. */
static char *const keepalive_env[] = { "NOLEAK_SOCK_TIMEOUT=0",
				       "NOLEAK_KEEPALIVE=60,10,6,20", NULL };

struct diff_row {
	const char *mode;        /* sock_opts MODE */
	char *env[3];
	const char *names[3];    /* the lines compared */
};

static const struct diff_row diff_rows[] = {
		/* One keepalive option set by the program after connect()
		 * and accept() (SO_KEEPALIVE alone: OpenSSH, Redis; a user
		 * timeout alone: PostgreSQL), then before. */
		{ "after_keepalive", { NULL }, { "client", "accepted" } },
		{ "after_off", { NULL }, { "client", "accepted" } },
		{ "after_idle", { NULL }, { "client", "accepted" } },
		{ "after_intvl", { NULL }, { "client", "accepted" } },
		{ "after_cnt", { NULL }, { "client", "accepted" } },
		{ "after_user", { NULL }, { "client", "accepted" } },
		{ "before_keepalive", { NULL }, { "client", "accepted" } },
		{ "before_off", { NULL }, { "client", "accepted" } },
		{ "before_idle", { NULL }, { "client", "accepted" } },
		{ "before_user", { NULL }, { "client", "accepted" } },
		/* The listener that carries the shim's keepalive, once the
		 * program sets TCP_KEEPIDLE on it: the listener and what
		 * it hands on are the program's alone. */
		{ "serve3_idle", { NULL }, { "accepted3", "listener" } },
		/* Disconnected: no timeout nor keepalive of the shim's. */
		{ "unspec_udp", { "NOLEAK_SOCK_TIMEOUT_DGRAM=3", NULL },
		  { "client" } },
		/* ... also after a connect again while non-blocking, which
		 * set nothing: the timeouts of the first are still the
		 * shim's. */
		{ "unspec_udp_again", { "NOLEAK_SOCK_TIMEOUT_DGRAM=3", NULL },
		  { "client" } },
		{ "unspec_tcp", { "NOLEAK_SOCK_TIMEOUT=2", NULL },
		  { "client" } },
		/* ... but for the program's own timeout, even of the shim's
		 * value. */
		{ "unspec_own", { "NOLEAK_SOCK_TIMEOUT=2", NULL },
		  { "client" } },
		/* The program's keepalive option where the shim's keepalive
		 * came to the socket some other way: it is taken back all
		 * the same.  A connect() asked again once a non-blocking
		 * one is done; connections that waited in a listener's
		 * queue while the program set its option on the listener;
		 * accepted after a spawn, or by a fork child; set through a
		 * dup; in a process the socket was sent to, or exec'd with
		 * it. */
		{ "again_idle", { NULL }, { "client" } },
		{ "queued_idle", { NULL }, { "accepted3", "accepted4", "listener" } },
		{ "queued_off", { NULL }, { "accepted3", "accepted4", "listener" } },
		{ "spawn_idle", { NULL }, { "accepted3" } },
		{ "forkacc_idle", { NULL }, { "accepted3" } },
		{ "dup_idle", { NULL }, { "client" } },
		{ "dup2_idle", { NULL }, { "client" } },
		{ "dupfd_idle", { NULL }, { "client" } },
		{ "scm_idle", { NULL }, { "accepted" } },
		{ "exec_idle", { NULL }, { "accepted" } },
		/* No memory for the socket table (RLIMIT_AS): nothing set,
		 * where nothing could record what the program chose after
		 * (a keepalive option, a disconnect). */
		{ "nomem_after_keepalive", { NULL }, { "client", "accepted" } },
		{ "nomem_after_idle", { NULL }, { "client", "accepted" } },
		{ "nomem_unspec_tcp", { "NOLEAK_SOCK_TIMEOUT=2", NULL },
		  { "client" } },
};

/* Criterion copies the parameters: an index into the table each. */
static int *indices(size_t n)
{
	static int idx[32];
	for (size_t i = 0; i < n; i++)
		idx[i] = (int)i;
	return idx;
}

ParameterizedTestParameters(sock_choice, same_as_without_the_shim)
{
	size_t n = sizeof diff_rows / sizeof diff_rows[0];
	return cr_make_param_array(int, indices(n), n);
}

/* Enforce, then audit (with a log, so that it decides what it logs). */
ParameterizedTest(int *i, sock_choice, same_as_without_the_shim)
{
	const struct diff_row *row = &diff_rows[*i];
	static struct run_result plain, shim;
	char *const *env = row->env[0] ? (char *const *)row->env : keepalive_env;
	char *audit[5] = { "NOLEAK_MODE=audit", "NOLEAK_LOG=stderr" };
	for (int k = 0; env[k]; k++)
		audit[2 + k] = env[k];
	char *const *envs[2] = { env, audit };
	opts(&plain, "build/fixtures/sock_opts", row->mode, NULL, 0);
	for (int m = 0; m < 2; m++) {
		opts(&shim, "build/fixtures/sock_opts", row->mode, envs[m], 1);
		for (int k = 0; k < 3 && row->names[k]; k++) {
			const char *a = line_of(shim.out, row->names[k]);
			const char *b = line_of(plain.out, row->names[k]);
			cr_expect_str_eq(a, b, "%s %s: shim \"%s\", without \"%s\"",
					 row->mode, m ? "audit" : "enforce", a, b);
		}
	}
}

/* The log says once that the sockets were left alone. */
Test(sock_choice, without_a_socket_table_says_so)
{
	static struct run_result r, plain;
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", "NOLEAK_LOG=stderr", NULL };
	opts(&plain, "build/fixtures/sock_opts", "nomem_connect", NULL, 0);
	opts(&r, "build/fixtures/sock_opts", "nomem_connect", env, 1);
	const char *e = strstr(r.err, "\"feature\":\"sock_table\"");
	cr_expect_not_null(e, "no nomem event: %s", r.err);
	cr_expect(e && !strstr(e + 1, "\"feature\":\"sock_table\""),
		  "said twice: %s", r.err);
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "accepted" : "client";
		cr_expect_str_eq(line_of(r.out, name), line_of(plain.out, name),
				 "%s: %s", name, r.out);
	}
}

/* A socket made by socket() that another process configured before it
 * connected: the program's 7 s receive timeout stays, the shim sets only
 * what nobody chose (the send timeout, keepalive). */
static const char *const shared_modes[] = {
	"fork_child_sets",   /* the child sets, the parent connects */
	"fork_parent_sets",  /* the parent sets, the child connects */
	"scm_sets",          /* sent with SCM_RIGHTS to a helper */
};

ParameterizedTestParameters(sock_choice, options_another_process_set)
{
	size_t n = sizeof shared_modes / sizeof shared_modes[0];
	return cr_make_param_array(int, indices(n), n);
}

ParameterizedTest(int *i, sock_choice, options_another_process_set)
{
	static struct run_result r;
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts(&r, "build/fixtures/sock_opts", shared_modes[*i], env, 1);
	const char *want = "client rcv=7.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0";
	const char *l = line_of(r.out, "client");
	cr_expect_str_eq(l, want, "%s: \"%s\"", shared_modes[*i], l);
}

/* A connection that completes while the shim sets the keepalive options
 * on a listener (a seccomp trap on its SO_KEEPALIVE makes it then) gets
 * none from the listener: it must get them at its accept. */
Test(sock_choice, connection_made_while_the_listener_gets_keepalive)
{
	static struct run_result r;
	char *env[] = { "NOLEAK_KEEPALIVE=30,5,3,20", NULL };
	opts(&r, "build/fixtures/sock_ka_race", NULL, env, 1);
	if (!strcmp(r.out, "skip\n"))
		cr_skip_test("needs x86_64");
	cr_assert(strstr(r.out, "trapped=1\n"), "%s", r.out);
	const char *want = "rcv=300.000 snd=300.000 ka=1 idle=30 intvl=5 cnt=3 ut=20000";
	for (int i = 1; i <= 4; i++) {
		char name[16];
		snprintf(name, sizeof name, "accepted%d", i);
		const char *l = line_of(r.out, name);
		cr_expect_str_eq(strchr(l, ' ') ? strchr(l, ' ') + 1 : l, want,
				 "\"%s\"", l);
	}
}
