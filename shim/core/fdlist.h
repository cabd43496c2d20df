/* Listing numbered entries of /proc directories (fds, tasks, pids) without
 * allocating. */
#ifndef NL_FDLIST_H
#define NL_FDLIST_H

/* Call fn(n, ctx) for every entry of `dir` whose name is a number, read
 * with raw getdents64.  Returns 0, or -1 when dir cannot be read. */
int nl_for_each_number(const char *dir, void (*fn)(int n, void *ctx),
		       void *ctx);

/* The same for /proc/self/fd: every open fd (not the one used to list). */
int nl_for_each_open_fd(void (*fn)(int fd, void *ctx), void *ctx);

#endif
