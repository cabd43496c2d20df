/* Who could unblock a read: the event fields that name the culprit.
 *
 *   pipe or FIFO: every process holding its write end ("culprits": pid,
 *     exe, cmdline, fds, relation to this process), found by scanning
 *     /proc/ASTERISK/fd and fdinfo for the same device and inode (a FIFO
 *     under any name), and for a process whose main thread has exited,
 *     its threads' tables; "unknown (permission)" where /proc denies a
 *     look, "unknown (hidden by hidepid)" where it hides processes,
 *     "unknown (/proc unavailable)" without a /proc whose "self" is this
 *     process.  No fixed-size list: holders are written into the line as
 *     they are found, and those it has no room for are counted in a last
 *     {"more":N} (a holder's fds in its "more_fds");
 *   TCP socket: local and peer address, state, unacked segments,
 *     retransmits, ms since the peer last sent (TCP_INFO);
 *   UNIX socket: every process holding the socket at the other end
 *     ("culprits", as for a pipe), that socket's inode from the kernel's
 *     sock_diag (NETLINK_SOCK_DIAG), or, for a connection not accepted
 *     yet, the listening socket in whose backlog it waits; where the
 *     kernel does not say, the peer's credentials ("peer": pid, exe,
 *     relation "credentials at connect"), the process that made the pair
 *     or connected, then;
 *   tty: its path, whether deleted or hung up, and whether this process is
 *     in its foreground group.
 *
 * Raw system calls and arena memory (log/arena.h) only: it runs in
 * the blocked thread, possibly on a small stack, in a signal handler or in
 * a fork child of a multithreaded program. */
#ifndef NL_CULPRIT_H
#define NL_CULPRIT_H

#include "log/event.h"

/* Add the culprit fields for fd to ev. */
void nl_event_culprits(struct nl_event *ev, int fd);

/* The same as one JSON object {"fd":N,"kind":..,"object":..,culprit
 * fields} written into buf (which may be the free part of an event line),
 * for the list of fds a poll waits on.  Returns its length. */
size_t nl_culprit_json(char *buf, size_t cap, int fd);

#endif
