/* A PATH walk's rules, as the libc the shim is built for has them: the
 * shim's own walks (exec.c's for execvp and execvpe, spawn.c's for a
 * posix_spawnp child) follow libc's step for step, and both take these from
 * here.  glibc: PATH unset is /bin:/usr/bin; an entry too long is skipped
 * to its ':', which then reads as an empty entry (the working directory);
 * EACCES, ENOENT, ESTALE, ENOTDIR, ENODEV and ETIMEDOUT go on to the next
 * entry.  musl: /usr/local/bin:/bin:/usr/bin; a long entry is skipped past
 * its ':'; only EACCES, ENOENT and ENOTDIR go on.  Inline: a spawn child
 * and a vfork child call them. */
#ifndef NL_WALK_H
#define NL_WALK_H

#include <errno.h>
#include <stddef.h>

#ifdef NL_LIBC_MUSL
#define NL_WALK_DEFAULT_PATH "/usr/local/bin:/bin:/usr/bin"
#else
#define NL_WALK_DEFAULT_PATH "/bin:/usr/bin"
#endif

/* Whether an attempt that failed with err lets the walk go on. */
static inline int nl_walk_goes_on(int err)
{
#ifdef NL_LIBC_MUSL
	return err == EACCES || err == ENOENT || err == ENOTDIR;
#else
	return err == EACCES || err == ENOENT || err == ESTALE ||
	       err == ENOTDIR || err == ENODEV || err == ETIMEDOUT;
#endif
}

/* Where the walk goes on after an entry too long, which ends at `end` (its
 * ':' or the final NUL): the next entry's start, or NULL at the end. */
static inline const char *nl_walk_past_long(const char *end)
{
	if (*end == '\0')
		return NULL;
#ifdef NL_LIBC_MUSL
	return end + 1;
#else
	return end;
#endif
}

#endif
