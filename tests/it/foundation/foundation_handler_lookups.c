/* A signal handler's calls never look a symbol up (dlsym takes the
 * loader's lock, and a handler may have interrupted the loader): the
 * calls signal-safety(7) allows are looked up when the first handler is
 * installed.  found_handler's SIGCHLD handler makes interposed calls in a
 * process that started its child with posix_spawn (no fork, so nothing
 * had looked them all up); LD_DEBUG=symbols shows every lookup. */
#include <criterion/criterion.h>

#include <string.h>

#include "../../lib/run.h"

static struct run_result r;

Test(foundation_handler_lookups, no_lookup_inside_a_handler, .timeout = 60)
{
	char *argv[] = { (char *)top("build/fixtures/found_handler"), NULL };
	/* Bound at start: the program's own calls are no lookups then. */
	char *env[] = { "LD_DEBUG=symbols", "LD_BIND_NOW=1", NULL };
	cr_assert_eq(run(&r, argv, env, 1, 30.0, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d\n%s", r.status, r.err);
	cr_assert(strstr(r.out, "reaped=1"), "%s", r.out);
	const char *in = strstr(r.err, "<handler>\n");
	cr_assert(in, "the handler never ran:\n%.2000s", r.err);
	for (; in; in = strstr(in + 1, "<handler>\n")) {
		const char *out = strstr(in, "</handler>\n");
		cr_assert(out, "an unfinished handler:\n%s", in);
		const char *sym = strstr(in, "symbol=");
		cr_expect(!sym || sym > out, "a lookup inside the handler:\n%.*s",
			  (int)(out - in) + 11, in);
	}
}
