/* The tools' last step: everything written to stdout reached it.  A full
 * disk, or a reader gone while SIGPIPE is ignored, is no report, no help
 * and no status: said on stderr, and the caller exits with a status of
 * its own, so that a script never reads a lost output as a verdict. */
#ifndef NL_TOOLOUT_H
#define NL_TOOLOUT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* 0, or 1 after "PROG: cannot write WHAT: REASON" on stderr. */
static inline int nl_stdout_failed(const char *prog, const char *what)
{
	errno = 0;
	int bad = fflush(stdout) != 0;
	int e = errno;
	if (!bad && !ferror(stdout))
		return 0;
	fprintf(stderr, "%s: cannot write %s: %s\n", prog, what,
		e ? strerror(e) : "write error");
	return 1;
}

#endif
