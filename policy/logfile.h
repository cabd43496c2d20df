/* Where the log file may be: the trust rules the shim opens it under
 * (shim/log/out_file.c) and the launcher checks `--log FILE` against
 * (tools/noleak/run.c), one copy for both, so that the launcher refuses
 * exactly the files the shim would refuse.
 *
 * The path may come from whoever starts the program (NOLEAK_LOG), and a
 * set-user-ID program logs as root: the log must never become a way to
 * append to another file.  So the file is looked up relative to its
 * directory, never through a symlink, and may be written only when
 *   - the last component is a regular file (or absent: the shim then
 *     creates it), and
 *   - the directory is owned by root or the effective uid and nobody else
 *     may write in it, or it is sticky (only an entry's owner may rename
 *     it) and the file belongs to the effective uid with no other link.
 * A symlink on the way to the directory is followed only where no one but
 * root or the effective user could have put it: in a directory that could
 * hold the log itself, or in a sticky one when the link is root's or the
 * user's.  A user who can write in /tmp must not aim a root process's log,
 * through /tmp/spool -> /root/x, at a directory of his choice.
 *
 * The shim's constraints hold here: raw system calls (common/sys.h), no
 * errno, no allocation, no stdio; async-signal-safe.  The buffers are the
 * caller's (the shim's in its arena, off the stack of whatever emitted the
 * event).  Every reason starts with NL_LOGFILE_REFUSED, as the shim's log
 * gives it; the launcher prints what follows. */
#ifndef NL_LOGFILE_H
#define NL_LOGFILE_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A reason: NL_LOGFILE_WHY("it is ...") */
#define NL_LOGFILE_REFUSED "log file refused: "
#define NL_LOGFILE_WHY(why) NL_LOGFILE_REFUSED why

/* nl_logfile_open_parent()'s buffers. */
struct nl_logfile_walk {
	char name[NAME_MAX + 1];   /* a path component */
	char walk[PATH_MAX];       /* past a symlink: the path left to walk */
	struct stat st;            /* scratch */
	const char *base;          /* the last component, once walked */
	const char *why;           /* refused: why; else NULL */
};

/* The directory of an absolute path, opened (O_PATH) component by
 * component, following only the symlinks the rules above allow (their
 * targets walked the same way, 40 links at most, as the kernel), and the
 * last component in w->base (in `path` or in w->walk).  Returns the fd or
 * -errno; w->why is set when refused (-EPERM), else a failure worth
 * retrying. */
int nl_logfile_open_parent(const char *path, struct nl_logfile_walk *w);

/* The decisions are inline: the shim's look before its open
 * (shim/log/out_file.c, open_in) runs on the stack of whatever emitted the
 * event, and a call would cost that stack a frame. */

/* Why a directory with this status may not hold the log, or NULL; *shared
 * says others may write in it (sticky). */
static inline const char *nl_logfile_dir_distrust(const struct stat *d,
						  uid_t euid, int *shared)
{
	*shared = (d->st_mode & (S_IWGRP | S_IWOTH)) != 0;
	if (d->st_uid != 0 && d->st_uid != euid)
		return NL_LOGFILE_WHY("its directory is not owned by root or "
				      "the effective user");
	if (*shared && !(d->st_mode & S_ISVTX))
		return NL_LOGFILE_WHY("its directory is writable by group or "
				      "others");
	return NULL;
}

/* Why the last component `base` can name no log file ("", "." or ".."),
 * or NULL. */
static inline const char *nl_logfile_name_distrust(const char *base)
{
	if (base[0] == '\0' || (base[0] == '.' && (base[1] == '\0' ||
	    (base[1] == '.' && base[2] == '\0'))))
		return NL_LOGFILE_WHY("it is not a regular file");
	return NULL;
}

/* Why the file with this status (looked at without following a symlink)
 * may not be the log, in a directory `shared` as nl_logfile_dir_distrust()
 * said, or NULL. */
static inline const char *nl_logfile_distrust(const struct stat *st,
					      uid_t euid, int shared)
{
	if (S_ISLNK(st->st_mode))
		return NL_LOGFILE_WHY("it is a symbolic link");
	if (!S_ISREG(st->st_mode))
		return NL_LOGFILE_WHY("it is not a regular file");
	if (shared && st->st_uid != euid)
		return NL_LOGFILE_WHY("it is in a shared directory and not the "
				      "effective user's");
	if (shared && st->st_nlink != 1)
		return NL_LOGFILE_WHY("it is in a shared directory and has "
				      "other hard links");
	return NULL;
}

#endif
