/* Reading the output of the flt_sweep fixture: see sweep_util.h. */
#include "sweep_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

void sweep_expected_fds(const char *out, char *want, size_t cap)
{
	int pass = -1, named = -1;
	const char *p = strstr(out, " pass=");
	const char *n = strstr(out, " named=");
	cr_assert(p && n && sscanf(p, " pass=%d", &pass) == 1 &&
		  sscanf(n, " named=%d", &named) == 1, "%s", out);
	cr_assert(named < pass, "%s", out);
	snprintf(want, cap, "0,1,2,%d,%d", named, pass);
}

const char *sweep_child_fds(const char *out, const char *via, char *buf,
			    size_t cap)
{
	char key[32];
	snprintf(key, sizeof key, "via=%s fds=", via);
	const char *s = strstr(out, key);
	if (!s)
		return NULL;
	s += strlen(key);
	snprintf(buf, cap, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}
