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
 *   - the directory is owned by root or the trusted user and nobody else
 *     may write in it, or it is sticky (only an entry's owner may rename
 *     it) and the file belongs to the effective uid with no other link,
 *   - and an existing file is a log already: empty (new, or emptied by
 *     logrotate's copytruncate), or beginning as every line the shim
 *     writes begins, NL_LOGFILE_HEAD (after at most one newline: a cut
 *     line's; all of it when the file is shorter), on a file system that
 *     is no kernel interface (/proc/sys, /sys, cgroups: their files are
 *     regular files, with a size of 0 or 4096 whatever they hold).  Root
 *     in a process whose environment someone else set must append to no
 *     /etc/ld.so.preload (ld.so splits it on blanks and ':', so a path
 *     in an event becomes a library loaded into set-user-ID programs),
 *     /etc/shadow or /proc/sys/kernel/core_pattern.  A file the process
 *     may write but not read (a shared log of mode 0622) is taken
 *     unlooked-at, except by root: root reads every file of an ordinary
 *     file system, and one it cannot is no log.
 * A symlink on the way to the directory is followed only where no one but
 * root or the trusted user could have put it: in a directory that could
 * hold the log itself, or in a sticky one when the link is root's or the
 * user's.  A user who can write in /tmp must not aim a root process's log,
 * through /tmp/spool -> /root/x, at a directory of his choice.
 *
 * The trusted user is the effective one, but in a secure process
 * (AT_SECURE) that its invoker runs as himself (set-group-ID, file
 * capabilities: the uid is his, the group or capabilities are not) it is
 * root alone (nl_policy_trusted_uid): a link he planted in /tmp, or a
 * directory of his, must not lead the process's extra rights to a file.
 * The file in a sticky directory may still be his (the effective uid's):
 * writing to it gains him nothing.
 *
 * The checks of what is opened (file system, first bytes) run once per
 * open of the log (start, rotation), never per line.
 *
 * The shim's constraints hold here: raw system calls (common/sys.h), no
 * errno, no allocation, no stdio; async-signal-safe.  The buffers are the
 * caller's (the shim's in its arena, off the stack of whatever emitted the
 * event).  Every reason starts with NL_LOGFILE_REFUSED, as the shim's log
 * gives it; the launcher prints what follows. */
#ifndef NL_LOGFILE_H
#define NL_LOGFILE_H

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/sys.h"

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

/* The user besides root whose directories and symlinks may lead to the
 * log: nl_policy_trusted_uid() of this process (policy.h), inline here:
 * the effective user, or root alone (0) in a secure process whose
 * effective user is its real one. */
static inline uid_t nl_logfile_trusted_uid(void)
{
	uid_t euid = nl_sys_geteuid();

	return getauxval(AT_SECURE) != 0 && euid == nl_sys_getuid() ? 0 : euid;
}

/* The decisions are inline: the shim's look before its open
 * (shim/log/out_file.c, open_in) runs on the stack of whatever emitted the
 * event, and a call would cost that stack a frame. */

/* Why a directory with this status may not hold the log, or NULL; *shared
 * says others may write in it (sticky).  `trusted`: the trusted user
 * (nl_logfile_trusted_uid). */
static inline const char *nl_logfile_dir_distrust(const struct stat *d,
						  uid_t trusted, int *shared)
{
	*shared = (d->st_mode & (S_IWGRP | S_IWOTH)) != 0;
	if (d->st_uid != 0 && d->st_uid != trusted)
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

/* What every line of the log begins with (log/event.c, nl_event_begin). */
#define NL_LOGFILE_HEAD "{\"ts\":\""
#define NL_LOGFILE_HEAD_LEN (sizeof NL_LOGFILE_HEAD - 1)

/* Kernel interfaces: file systems whose regular files are the kernel's
 * settings and controls, never a log.  Their magic numbers, as in
 * <linux/magic.h> (configfs and fusectl are not there). */
static inline int nl_logfile_kernel_fs(unsigned long type)
{
	switch (type) {
	case 0x9fa0:       /* proc */
	case 0x62656572:   /* sysfs */
	case 0x27e0eb:     /* cgroup */
	case 0x63677270:   /* cgroup2 */
	case 0x64626720:   /* debugfs */
	case 0x74726163:   /* tracefs */
	case 0x73636673:   /* securityfs */
	case 0xf97cff8cUL: /* selinuxfs */
	case 0x43415d53:   /* smackfs */
	case 0xcafe4a11UL: /* bpf */
	case 0x6165676c:   /* pstore */
	case 0xde5e81e4UL: /* efivarfs */
	case 0x62656570:   /* configfs */
	case 0x42494e4d:   /* binfmt_misc */
	case 0x65735543:   /* fusectl */
		return 1;
	}
	return 0;
}

/* nl_logfile_content_distrust()'s buffers. */
struct nl_logfile_look {
	nl_statfs_t sfs;
	unsigned char head[NL_LOGFILE_HEAD_LEN + 1];
};

/* Why the existing file open at fd, with status *st, may not take the
 * log, or NULL: its file system, its first bytes (rules above), read
 * through rfd (fd itself, or -1: it could not be opened for reading). */
static inline const char *nl_logfile_content_distrust(int fd, int rfd,
						      const struct stat *st,
						      uid_t euid,
						      struct nl_logfile_look *b)
{
	nl_statfs_t *sfs = &b->sfs;
	unsigned char *head = b->head;
	ssize_t n;
	size_t i = 0;

	if (nl_sys_fstatfs(fd, sfs) < 0)
		return NL_LOGFILE_WHY("its file system cannot be told");
	if (nl_logfile_kernel_fs((unsigned long)sfs->f_type))
		return NL_LOGFILE_WHY("it is on a kernel interface file "
				      "system (/proc, /sys)");
	if (st->st_size == 0)
		return NULL;
	n = rfd >= 0 ? nl_sys_pread(rfd, head, sizeof b->head, 0) : -EBADF;
	if (n < 0)
		return euid == 0 ? NL_LOGFILE_WHY("it is not empty and its first "
						  "bytes cannot be read")
				 : NULL;
	if (n > 0 && head[0] == '\n')
		i = 1;
	for (size_t k = 0; i < (size_t)n && k < NL_LOGFILE_HEAD_LEN; i++, k++)
		if (head[i] != (unsigned char)NL_LOGFILE_HEAD[k])
			return NL_LOGFILE_WHY("it is not empty and not a noleak "
					      "log (it does not begin with "
					      "{\"ts\":)");
	return NULL;
}

#endif
