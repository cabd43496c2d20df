/* The text of /etc/ld.so.preload: parsed and rewritten, with no I/O.
 *
 * ld.so reads the file as a list of entries separated by blanks (space,
 * tab, \r, \v, \f), colons and newlines, and ignores everything from '#'
 * to the end of a line.  An entry may use the dynamic string tokens $LIB
 * and $PLATFORM (bare or braced); one without a '/' is searched for like a
 * DT_NEEDED library.  Our entry is any whose last component is
 * libnoleak.so, however it is spelled.
 *
 * Invariants of every rewrite:
 *   - a line that loses no entry is copied byte for byte (comments,
 *     blanks, separators, other entries, a '\r' before the newline);
 *   - a line that loses some keeps its other entries in order, joined by
 *     one space, then its comment; a line that loses all and had no
 *     comment disappears;
 *   - every line of the result ends in a newline;
 *   - adding is idempotent: adding to a file that already has exactly our
 *     entry, once, changes nothing; removing from a file without ours
 *     changes nothing.
 * Nothing here touches a file, the environment or the process: the
 * library directory and platform that $LIB and $PLATFORM stand for are
 * passed in.  Memory is the only thing that can run out (-1, errno
 * ENOMEM; nothing is half-built). */
#ifndef NL_TOOL_LDPRELOAD_H
#define NL_TOOL_LDPRELOAD_H

#include <stddef.h>

/* One line of the file: what ld.so reads (before '#') and the comment. */
struct ldpreload_line {
	const char *text;
	size_t len;           /* without the newline */
	size_t content_len;   /* up to the '#' */
};

/* Split `data` into at most `max` lines (len + 1 is always enough).
 * Returns how many. */
size_t ldpreload_split(const char *data, size_t len, struct ldpreload_line *v,
		       size_t max);

/* Each entry of `l` in turn: *pos starts at 0; returns 0 at the end. */
int ldpreload_next_entry(const struct ldpreload_line *l, size_t *pos,
			 const char **tok, size_t *tlen);

/* Is this entry libnoleak?  Any path whose last component is libnoleak.so:
 * the system directory, /usr/$LIB, an older /usr/local/lib install. */
int ldpreload_is_ours(const char *tok, size_t len);

/* Whether `path` can be written as one entry: no blank, ':' or '#'. */
int ldpreload_safe_chars(const char *path);

/* What ld.so substitutes for $LIB: the library directory without its
 * leading /usr/ or /, e.g. lib/x86_64-linux-gnu on Debian and lib64 on
 * Fedora (glibc is configured with the same slibdir for both). */
const char *ldpreload_lib_token(const char *libdir);

/* What $LIB and $PLATFORM stand for: the system library directory (libc's)
 * and AT_PLATFORM (NULL: empty). */
struct ldpreload_env {
	const char *syslibdir;
	const char *platform;
};

/* The entry as ld.so opens it, into `out` (cut to `cap`): $LIB and ${LIB},
 * $PLATFORM and ${PLATFORM} replaced (a bare token must not run on into a
 * longer name: $LIBRARY stays); a name without '/' placed in syslibdir.
 * ($ORIGIN means nothing in this file.) */
void ldpreload_expand(const char *tok, size_t tlen, const struct ldpreload_env *env,
		      char *out, size_t cap);

/* Whether `s` holds nothing but blanks and newlines. */
int ldpreload_is_blank(const char *s, size_t n);

/* A rewritten file. */
struct ldpreload_edit {
	char *text;     /* malloc'd, NUL-terminated; NULL when empty */
	size_t len;
	int dropped;    /* entries removed */
	int kept;       /* add: an entry naming the library was already there */
};

/* Add our entry `entry` (an absolute path, or /usr/$LIB/...): the first of
 * our entries that names it once expanded (for an entry naming $LIB: that
 * is the same text) stays where it is; every other one of ours (other
 * copies, repeats) is dropped; `entry` is appended on a line of its own
 * when none stayed.  `replaced`, when given, hears each dropped entry that
 * named another copy.  The file is unchanged when out->kept && !dropped.
 * Returns 0, or -1 when memory ran out. */
int ldpreload_add(const char *data, size_t len, const char *entry,
		  const struct ldpreload_env *env,
		  void (*replaced)(const char *tok, size_t tlen, void *ctx),
		  void *ctx, struct ldpreload_edit *out);

/* Remove every entry of ours.  Returns 0, or -1 when memory ran out. */
int ldpreload_remove(const char *data, size_t len, struct ldpreload_edit *out);

#endif
