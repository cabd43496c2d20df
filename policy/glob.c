/* Shell-style glob matching for [program ...] sections: *, ?, [abc],
 * [a-z], [!x] (or [^x]) and \x for a literal x.
 *
 * fnmatch() would do, but it may allocate (multibyte collation) and the
 * policy is loaded in places where allocating is not allowed, so this is a
 * small byte-wise matcher.  No character is special to it, '/' included: a
 * pattern with a slash is matched against a whole path and '*' may cross
 * directories there, so one section can cover every program below a
 * directory. */
#include "policy.h"

/* Match one bracket expression starting at pat (just after '[') against c.
 * Returns the pointer just after the closing ']' and sets *hit, or NULL when
 * the bracket is not closed (the '[' is then an ordinary character). */
static const char *match_class(const char *pat, unsigned char c, int *hit)
{
	int negate = 0;
	int found = 0;

	if (*pat == '!' || *pat == '^') {
		negate = 1;
		pat++;
	}
	/* A ']' right after the opening (or the negation) is a member. */
	const char *p = pat;
	do {
		unsigned char lo = (unsigned char)*p;
		if (lo == '\0')
			return NULL;
		if (lo == '\\' && p[1] != '\0')
			lo = (unsigned char)*++p;
		p++;
		unsigned char hi = lo;
		if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
			hi = (unsigned char)p[1];
			if (hi == '\\' && p[2] != '\0') {
				hi = (unsigned char)p[2];
				p++;
			}
			p += 2;
		}
		if (lo <= c && c <= hi)
			found = 1;
	} while (*p != ']');
	*hit = found != negate;
	return p + 1;
}

/* Match one pattern element (not '*') against the byte c.  Returns the
 * pattern position after the element, or NULL when it does not match. */
static const char *match_one(const char *pat, unsigned char c)
{
	if (*pat == '?')
		return pat + 1;
	if (*pat == '[') {
		int hit = 0;
		const char *next = match_class(pat + 1, c, &hit);
		if (next != NULL)
			return hit ? next : NULL;
		/* Unclosed bracket: a literal '['. */
	}
	if (*pat == '\\' && pat[1] != '\0')
		pat++;
	return (unsigned char)*pat == c ? pat + 1 : NULL;
}

int nl_glob_match(const char *pattern, const char *name)
{
	const char *p = pattern;
	const char *n = name;
	/* The last '*' seen and where its match currently ends: on a mismatch
	 * that star swallows one more byte.  One backtrack point is enough,
	 * since a later star can always absorb what an earlier one would. */
	const char *star_p = NULL;
	const char *star_n = NULL;

	if (pattern == NULL || name == NULL)
		return 0;
	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_n = n;
			continue;
		}
		if (*n == '\0') {
			if (*p == '\0')
				return 1;
		} else if (*p != '\0') {
			const char *next = match_one(p, (unsigned char)*n);
			if (next != NULL) {
				p = next;
				n++;
				continue;
			}
		}
		if (star_p == NULL || *star_n == '\0')
			return 0;
		p = star_p;
		n = ++star_n;
	}
}
