/* Listing the fds a process has open, without allocating. */
#ifndef NOLEAK_FDLIST_H
#define NOLEAK_FDLIST_H

/* Call fn(fd, ctx) for every open fd, read from /proc/self/fd with raw
 * getdents64.  Returns 0, or -1 when /proc cannot be read (fn not called). */
int nl_for_each_open_fd(void (*fn)(int fd, void *ctx), void *ctx);

#endif
