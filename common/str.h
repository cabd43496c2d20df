/* String helpers for the paths where the shim must not call libc.
 *
 * At every process start and in a fork child before its exec, each libc
 * page the shim touches that the program would not have is a page fault
 * (tens of microseconds on a virtual machine: HACKING, Page faults).  The
 * library is built with -fno-tree-loop-distribute-patterns, so gcc keeps
 * these loops as loops. */
#ifndef NL_STR_H
#define NL_STR_H

#include <stddef.h>

static inline size_t nl_strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}

static inline void nl_copy(char *to, const char *from, size_t n)
{
	while (n-- > 0)
		*to++ = *from++;
}

#endif
