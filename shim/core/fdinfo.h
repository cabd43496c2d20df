/* Describing an fd for the log: what kind of object it is and which one. */
#ifndef NL_FDINFO_H
#define NL_FDINFO_H

#include <stddef.h>
#include <sys/socket.h>

#define NL_FD_OBJECT_MAX 600

struct nl_fd_desc {
	const char *kind;     /* pipe, fifo, socket, file, dir, tty, chr, eventfd, ... */
	const char *end;      /* "read"/"write" for pipes and fifos, else NULL */
	const char *object;   /* pipe:[ino], socket local->peer, file path;
			       * at most NL_FD_OBJECT_MAX bytes, in the arena */
};

/* Fill d for fd.  Raw system calls only; safe in a vfork child.  Call it
 * inside an arena bracket (log/arena.h): d->object lives there until
 * the bracket closes ("" when no arena memory was left). */
void nl_fd_describe(int fd, struct nl_fd_desc *d);
/* "127.0.0.1:80", "[::1]:80", "/run/x.sock", "@abstract"; returns length. */
size_t nl_format_sockaddr(char *dst, size_t cap, const struct sockaddr *sa,
			  socklen_t len);

#endif
