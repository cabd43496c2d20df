/* Reading the output of the flt_sweep fixture (fault tests). */
#ifndef NL_TEST_SWEEP_UTIL_H
#define NL_TEST_SWEEP_UTIL_H

#include <stddef.h>

/* "junk=3,4,7,8 pass=20 named=5" -> "0,1,2,5,20": the fds a child may get,
 * as the child prints them. */
void sweep_expected_fds(const char *out, char *want, size_t cap);
/* The "via=VIA fds=..." list of the child started by VIA, or NULL. */
const char *sweep_child_fds(const char *out, const char *via, char *buf,
			    size_t cap);

#endif
