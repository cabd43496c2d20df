/* posix_spawn with the caller's own file actions: the shim extends a copy
 * of them to pass an fd the program named (its close-on-exec flag is the
 * shim's), and the caller's actions still run. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

static int has_line(const char *text, int fd)
{
	char want[16];
	snprintf(want, sizeof want, "\n%d\n", fd);
	return strstr(text, want) != NULL;
}

Test(fd_spawn_actions, named_fd_passes_beside_the_callers_actions)
{
	struct run_result r;
	char *argv[] = { (char *)top("build/fixtures/fdh_spawn_fa"), NULL };
	cr_assert_eq(run(&r, argv, NULL, 1, 10, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	int rd = -1, wr = -1, spawn = -1;
	cr_assert_eq(sscanf(r.out, "spawn=%d read_end=%d write_end=%d", &spawn,
			    &rd, &wr), 3, "%s", r.out);
	cr_assert_eq(spawn, 0, "%s", r.out);
	/* The caller's open onto stdout ran: the listing went to the pipe
	 * named on the command line, which the child therefore had. */
	cr_expect(has_line(r.out, wr), "write end %d not passed:\n%s", wr, r.out);
	cr_expect(!has_line(r.out, rd), "read end %d leaked:\n%s", rd, r.out);

	/* Without the shim both ends reach the child. */
	cr_assert_eq(run(&r, argv, NULL, 0, 10, ""), 0);
	cr_expect(has_line(r.out, rd) && has_line(r.out, wr), "%s", r.out);
}
