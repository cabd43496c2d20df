/* noleak inspect: what an fd is, and who else holds it.
 *
 * A read on a pipe returns end of file only when every write end is
 * closed, so the answer to "why does this read hang" is the list of
 * processes holding a write end.  /proc/P/fd names the pipe's inode and
 * /proc/P/fdinfo/N says which end each holder has (O_WRONLY). */
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *insp_acc_name(int acc)
{
	switch (acc) {
	case O_RDONLY:
		return "read";
	case O_WRONLY:
		return "write";
	case O_RDWR:
		return "read-write";
	default:
		return "?";
	}
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static unsigned long bracket_inode(const char *target)
{
	const char *b = strchr(target, '[');
	return b ? strtoul(b + 1, NULL, 10) : 0;
}

static int is_tty_path(const char *t)
{
	return starts(t, "/dev/pts/") || starts(t, "/dev/tty") ||
	       starts(t, "/dev/console");
}

/* A terminal is gone when its device node no longer exists, or now
 * names another device (the pts number was reused).  The node is looked
 * up where the process sees it, through /proc/PID/root: in another mount
 * namespace (a container's devpts instance) or a chroot, the same path
 * here is another terminal or none. */
static int tty_is_gone(pid_t pid, int fd, const char *target, int deleted)
{
	if (deleted)
		return 1;
	char link[64], node[sizeof link + 4096];
	struct stat held, now;
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
	if (stat(link, &held) < 0)
		return 0;
	snprintf(node, sizeof node, "/proc/%d/root%s", (int)pid, target);
	if (stat(node, &now) < 0)
		return errno == ENOENT;
	return now.st_rdev != held.st_rdev || now.st_dev != held.st_dev;
}

static const char *classify(pid_t pid, struct insp_fd *f)
{
	const char *t = f->target;
	if (starts(t, "pipe:"))
		return "pipe";
	if (starts(t, "socket:"))
		return "socket";
	if (starts(t, "anon_inode:"))
		return "anon";
	if (is_tty_path(t)) {
		f->tty_gone = tty_is_gone(pid, f->fd, t, f->deleted);
		return "tty";
	}
	if (t[0] != '/')
		return "other";
	char link[64];
	struct stat st;
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, f->fd);
	if (stat(link, &st) == 0) {
		f->ino = st.st_ino;
		f->dev = st.st_dev;
		if (S_ISFIFO(st.st_mode))
			return "fifo";
		if (S_ISCHR(st.st_mode))
			return "device";
		if (S_ISDIR(st.st_mode))
			return "directory";
	}
	return "file";
}

static void holders_add(struct insp_holders *hs, pid_t pid, int fd, int acc)
{
	void *v = realloc(hs->v, (hs->n + 1) * sizeof *hs->v);
	if (!v)
		return;
	hs->v = v;
	hs->v[hs->n++] = (struct insp_holder){ pid, fd, acc };
}

static int is_descendant(struct insp_host *h, pid_t of, pid_t pid)
{
	const char *rel = insp_relation(h, of, pid);
	return !strcmp(rel, "child") || !strcmp(rel, "grandchild") ||
	       !strcmp(rel, "descendant");
}

/* "ino:" of /proc/PID/fdinfo/FD (Linux 5.14 and later), or -1. */
static long long fdinfo_ino(pid_t pid, int fd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (insp_read_file(path, buf, sizeof buf) < 0)
		return -1;
	const char *i = strstr(buf, "\nino:");
	return i ? strtoll(i + 5, NULL, 10) : -1;
}

/* Whether link (an fd of process `at`) is on `fifo`: the same inode of
 * the same device, so the FIFO under any name (a hard link, a bind mount,
 * another mount namespace).  Only a path is looked at, and stat'ed only
 * when fdinfo does not give another inode: the file system of another
 * file (a hung network mount) is asked nothing. */
static int on_fifo(pid_t at, const struct insp_fdlink *link,
		   const struct insp_fd *fifo)
{
	if (link->target[0] != '/')
		return 0;
	long long ino = fdinfo_ino(at, link->fd);
	if (ino >= 0 && (unsigned long long)ino != fifo->ino)
		return 0;
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)at, link->fd);
	return stat(path, &st) == 0 && st.st_ino == fifo->ino &&
	       (unsigned long long)st.st_dev == fifo->dev;
}

/* Every fd, in the processes `search` allows, that points to `target`
 * (for a FIFO, to the same file), except fd `fd` of `pid` itself. */
static void find_holders(struct insp_host *h, pid_t pid, int fd,
			 const char *target, const struct insp_fd *fifo,
			 int search, struct insp_holders *hs)
{
	/* A descendant is in our PID namespace or one inside it: seen. */
	hs->hidden = search == INSP_SEARCH_DESCENDANTS ?
		     h->hidden & ~INSP_HIDDEN_PIDNS : h->hidden;
	for (size_t i = 0; i < h->n; i++) {
		struct insp_proc *p = &h->procs[i];
		if (search == INSP_SEARCH_DESCENDANTS &&
		    !is_descendant(h, pid, p->pid))
			continue;
		int r = insp_proc_fds(p);
		if (r < 0) {
			/* A process that exited meanwhile holds nothing. */
			if (r == -EACCES || r == -EPERM)
				hs->unsearched++;
			continue;
		}
		for (size_t k = 0; k < p->nfds; k++) {
			const struct insp_fdlink *l = &p->fds[k];
			if (fifo ? !on_fifo(l->at, l, fifo)
				 : strcmp(l->target, target) != 0)
				continue;
			if (p->pid == pid && l->fd == fd)
				continue;
			long fl = insp_fd_flags(l->at, l->fd);
			holders_add(hs, p->pid, l->fd,
				    fl < 0 ? -1 : (int)(fl & O_ACCMODE));
		}
	}
}

/* The ends that decide the fd's fate come first: for a read end, the
 * writers (a read sees end of file only when they are all closed). */
static void order_holders(struct insp_holders *hs, int own_acc)
{
	int want = own_acc == O_RDONLY ? O_WRONLY :
		   own_acc == O_WRONLY ? O_RDONLY : -2;
	if (want == -2)
		return;
	size_t k = 0;
	for (size_t i = 0; i < hs->n; i++)
		if (hs->v[i].acc == want || hs->v[i].acc == O_RDWR) {
			struct insp_holder t = hs->v[i];
			memmove(&hs->v[k + 1], &hs->v[k], (i - k) * sizeof t);
			hs->v[k++] = t;
		}
}

/* Holders of the socket at the other end of a local connection. */
static void find_peers(struct insp_host *h, pid_t pid, struct insp_fd *f)
{
	char peer[64];
	snprintf(peer, sizeof peer, "socket:[%lu]", f->sock.peer_ino);
	find_holders(h, pid, -1, peer, NULL, INSP_SEARCH_HOST, &f->peers);
}

void insp_describe_fd(struct insp_host *h, pid_t pid, int fd, int search,
		      struct insp_fd *f)
{
	memset(f, 0, sizeof *f);
	f->fd = fd;
	f->kind = "unknown";
	char link[64];
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t n = insp_readlink(link, f->target, sizeof f->target);
	f->flags = insp_fd_flags(pid, fd);
	if (n < 0) {
		f->target_err = (int)-n;
		return;
	}
	f->deleted = ends(f->target, " (deleted)");
	if (f->deleted)
		f->target[strlen(f->target) - 10] = 0;
	f->kind = classify(pid, f);
	if (!strcmp(f->kind, "pipe") || !strcmp(f->kind, "socket") ||
	    !strcmp(f->kind, "anon"))
		f->ino = bracket_inode(f->target);
	if (!strcmp(f->kind, "socket"))
		insp_sock_lookup(pid, f->ino, &f->sock);
	if (search == INSP_SEARCH_NONE)
		return;
	/* The link text as the holders' tables have it. */
	char key[sizeof f->target + 16];
	snprintf(key, sizeof key, "%s%s", f->target,
		 f->deleted ? " (deleted)" : "");
	find_holders(h, pid, fd, key,
		     !strcmp(f->kind, "fifo") && f->ino ? f : NULL, search,
		     &f->holders);
	if (f->flags >= 0)
		order_holders(&f->holders, (int)(f->flags & O_ACCMODE));
	if (f->sock.peer_ino && search == INSP_SEARCH_HOST) {
		find_peers(h, pid, f);
		f->peers_searched = 1;
	}
}

void insp_fd_free(struct insp_fd *f)
{
	free(f->holders.v);
	free(f->peers.v);
	f->holders.v = f->peers.v = NULL;
}
