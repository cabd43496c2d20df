/* The log file's trust rules (logfile.h). */
#include "logfile.h"

#include <errno.h>
#include <string.h>

#include "common/sys.h"

#define NL_LINKS_MAX 40   /* as the kernel's */

/* Whether a symlink owned by link_uid in directory dfd was put there by
 * root or the trusted user, and no one else can replace it: the
 * directory could hold the log, and in a sticky one (like /tmp) the link
 * is theirs.  *st is scratch. */
static int symlink_trusted(int dfd, uid_t link_uid, struct stat *st)
{
	uid_t trusted = nl_logfile_trusted_uid();
	int shared;

	if (nl_sys_fstat(dfd, st) < 0 ||
	    nl_logfile_dir_distrust(st, trusted, &shared))
		return 0;
	return !shared || link_uid == 0 || link_uid == trusted;
}

int nl_logfile_open_parent(const char *path, struct nl_logfile_walk *w)
{
	const char *p = path;
	int links = 0;
	int dfd = nl_sys_openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);

	w->why = NULL;
	for (;;) {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		if (dfd < 0 || *end == '\0') {
			w->base = p;
			return dfd;
		}
		if ((size_t)(end - p) > NAME_MAX) {
			nl_sys_close(dfd);
			return -ENAMETOOLONG;
		}
		memcpy(w->name, p, (size_t)(end - p));
		w->name[end - p] = '\0';
		int next = nl_sys_openat(dfd, w->name, O_PATH | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC, 0);
		if (next >= 0 || (next != -ENOTDIR && next != -ELOOP) ||
		    nl_sys_fstatat(dfd, w->name, &w->st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISLNK(w->st.st_mode)) {
			nl_sys_close(dfd);
			dfd = next;
			p = end;
			continue;
		}
		/* A symlink: the rest of the path goes to the end of the
		 * buffer, the link's target before it. */
		if (!symlink_trusted(dfd, w->st.st_uid, &w->st)) {
			w->why = NL_LOGFILE_WHY("a symbolic link on its path is in a "
					 "directory others can write in");
			nl_sys_close(dfd);
			return -EPERM;
		}
		size_t rest = strlen(end), room = sizeof w->walk - rest - 1;
		memmove(w->walk + room, end, rest + 1);
		ssize_t n = nl_sys6(SYS_readlinkat, dfd, (long)w->name,
				    (long)w->walk, (long)room, 0, 0);
		if (n <= 0 || (size_t)n >= room || ++links > NL_LINKS_MAX) {
			nl_sys_close(dfd);
			return n < 0 ? (int)n : -ELOOP;
		}
		memmove(w->walk + n, w->walk + room, rest + 1);
		p = w->walk;
		if (*p == '/') {   /* else: from the link's directory */
			nl_sys_close(dfd);
			dfd = nl_sys_openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY |
					    O_CLOEXEC, 0);
		}
	}
}
