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

/* Whether the first n bytes of a and b are the same.  Reads up to the
 * first difference only: a string shorter than n compared with n bytes
 * that hold no NUL differs at its NUL, so this is also strncmp() == 0
 * against such bytes. */
static inline int nl_mem_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static inline int nl_str_eq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static inline void nl_copy(char *to, const char *from, size_t n)
{
	while (n-- > 0)
		*to++ = *from++;
}

#endif
