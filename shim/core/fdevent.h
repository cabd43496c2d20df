/* The fields that describe an fd in an event: number, kind, object, pipe
 * end, the call that created it and where (module + offset). */
#ifndef NL_FDEVENT_H
#define NL_FDEVENT_H

#include "log/event.h"
#include "core/fdinfo.h"

/* Adds the fields for fd; fills *d (its kind and end may be used by the
 * caller after; its object is gone). */
void nl_event_fd(struct nl_event *ev, int fd, struct nl_fd_desc *d);
/* Adds "local" and "peer", the addresses of socket fd (those it has). */
void nl_event_addresses(struct nl_event *ev, int fd);

#endif
