/* Outputs (out_*.c): each writes one whole line with one write().  Used by
 * event.c only; the unit tests reach the syslog hook. */
#ifndef NL_OUTPUT_H
#define NL_OUTPUT_H

#include <stdatomic.h>
#include <stddef.h>

/* Open lazily; return the bytes written or -1.  Never block, never write to
 * a file that is not the log's own.  A log file path is refused for good
 * (see out_file.c) when its last component is a symlink or not a regular
 * file, or when others could swap the file under it: the write that finds
 * out returns NL_OUT_REFUSED, every later one -1, until the path changes;
 * nl_out_file_refusal() says why. */
#define NL_OUT_REFUSED (-2)
int nl_out_file_write(const char *path, const char *line, size_t len);
const char *nl_out_file_refusal(void);
int nl_out_stderr_write(const char *line, size_t len);
/* The program closed fd 2 (close, close_range, closefrom, fclose(stderr)),
 * or put an fd onto 2 (dup2, dup3): see out_stderr.c. */
void nl_out_stderr_closed(void);
void nl_out_stderr_replaced(void);
int nl_out_syslog_write(const char *line, size_t len);
/* One native journal entry made from the JSON line (out_journal.c).
 * NL_OUT_NO_JOURNAL: there is no journal socket; the caller hands the line
 * to syslog (not from here: the stack of the logging paths is small). */
#define NL_OUT_NO_JOURNAL (-3)
int nl_out_journal_write(const char *line, size_t len);
/* Reset after fork (the syslog socket and file fd are shared and fine; only
 * per-process state resets: flags a vanished thread may have held). */
void nl_out_after_fork(void);

/* --- the outputs' own fds (out_fd.c) ---
 *
 * An fd the shim opened for itself, kept at 100 or above (never 0-2) with
 * FD_CLOEXEC, and remembered with its identity (dev, inode) so that once the
 * program closes that number or dup2()s something over it, the shim stops
 * using it (and never closes it: it is the program's now). */
struct nl_out_fd {
	atomic_int fd;                /* -1: none */
	_Atomic unsigned long long dev, ino;
	atomic_flag busy;             /* held while (re)opening; try-acquire only */
};
#define NL_OUT_FD_INIT { -1, 0, 0, ATOMIC_FLAG_INIT }

/* The fd when it is still the one we opened, else -1 (and it is forgotten,
 * unless o->busy is held: then it is only skipped). */
int nl_out_fd_get(struct nl_out_fd *o);
/* Move a freshly opened fd to 100 or above (or else the highest free slot
 * below the fd limit; never 0-2), closing the original.  Returns the new
 * number, or -1 (the fd closed) when it cannot be placed above 2. */
int nl_out_fd_place(int fd);
/* Place a freshly opened fd with nl_out_fd_place() and make it o's fd,
 * identity recorded.  Returns the new number or -1.  Caller holds o->busy. */
int nl_out_fd_adopt(struct nl_out_fd *o, int fd);
/* Put the freshly opened nfd in place of o's fd, under the same number
 * (dup3, then nfd is closed), identity recorded: a thread writing through
 * the number meanwhile writes to one file or the other.  Returns the number
 * or -1.  Caller holds o->busy and has just checked o's fd is still ours. */
int nl_out_fd_replace(struct nl_out_fd *o, int nfd);
/* Close the fd if it is still ours, and forget it.  Caller holds o->busy. */
void nl_out_fd_close(struct nl_out_fd *o);
/* In a fork child: a busy flag held by a thread that did not survive the
 * fork would stay held forever. */
void nl_out_fd_after_fork(struct nl_out_fd *o);
void nl_out_syslog_after_fork(void);
void nl_out_journal_after_fork(void);

/* Tests: send syslog datagrams to this socket path instead of /dev/log
 * (NULL: /dev/log again). */
void nl_out_syslog_test_path(const char *path);
/* Tests: the journal's socket path (NULL: the real one again). */
void nl_out_journal_test_path(const char *path);

#endif
