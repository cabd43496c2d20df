/* A watched read on a terminal: read_blocked describes the terminal, and
 * the read ends as it would without the shim.  A read waiting on a
 * terminal that hangs up fails with EIO; the watchdog, which waits in
 * poll() first, must not turn that into end of file. */
#include <criterion/criterion.h>

#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run with, audit, without;
static struct watch_log log_, audit_log;
static char line[4096];

Test(watch_tty, read_blocked_then_hang_up_as_without_the_shim)
{
	watch_log_init(&log_);
	watch_log_init(&audit_log);
	const char *argv[] = { top("build/fixtures/wd_pty"), "hangup", "1.5", NULL };
	const char *env[] = { "NOLEAK_READ_WARN=1", log_.env, NULL };
	/* audit: read_warn is on by default (30 s) */
	const char *audit_env[] = { "NOLEAK_MODE=audit", audit_log.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&with, argv, env, 1, 10.0);
	watch_start(&audit, argv, audit_env, 1, 10.0);
	watch_start(&without, argv, NULL, 0, 10.0);
	watch_join(&with);
	watch_join(&audit);
	watch_join(&without);
	for (struct watch_run *w = &with; w; w = w == &with ? &audit
					      : w == &audit ? &without : NULL)
		cr_assert(!w->r.timed_out && exit_code(&w->r) == 0 &&
			  strstr(w->r.out, "reading pid="), "wd_pty: %s%s",
			  w->r.out, w->r.err);

	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "read_blocked", NULL, line, sizeof line), "%s", text);
	cr_expect(strstr(line, "\"fd\":0,") && strstr(line, "\"kind\":\"tty\""),
		  "%s", line);
	cr_expect(strstr(line, "\"tty\":{\"path\":\"/dev/pts/"), "%s", line);
	cr_expect(strstr(line, "\"deleted\":false,\"hung_up\":false,"
			       "\"foreground\":true}"), "%s", line);

	cr_expect(strstr(without.r.out, "read=-1 errno=EIO "), "without the shim: %s",
		  without.r.out);
	cr_expect(strstr(with.r.out, "read=-1 errno=EIO "),
		  "read_warn=1 changed the result: %s (without the shim: %s)",
		  with.r.out, without.r.out);
	cr_expect(strstr(audit.r.out, "read=-1 errno=EIO "),
		  "audit changed the result: %s (without the shim: %s)",
		  audit.r.out, without.r.out);
}
