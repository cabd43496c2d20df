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

/* The same with a 512-byte buffer on the caller's stack instead of arena
 * memory: for start-up, where a first touch of the arena's pages costs
 * every process page faults.  fn must keep to a small frame. */
int nl_for_each_open_fd_light(void (*fn)(int fd, void *ctx), void *ctx);

/* The same as an iteration, for scans that nest (culprit.c): no frame per
 * level.  The caller gives the memory (arena memory: it is big). */
struct nl_numdir {
	int fd, skip;
	long n, off;
	char buf[4096] __attribute__((aligned(8)));
};
/* 0, or -1 when the directory cannot be read. */
int nl_numdir_open(struct nl_numdir *d, const char *path, int skip_own);
/* The next numbered entry, or -1 at the end. */
int nl_numdir_next(struct nl_numdir *d);
void nl_numdir_close(struct nl_numdir *d);

#endif
