/* The fields that describe an fd in an event: number, kind, object, pipe
 * end, the call that created it and where (module + offset). */
#ifndef NL_FDEVENT_H
#define NL_FDEVENT_H

#include "log/event.h"
#include "core/fdinfo.h"

/* Adds the fields for fd; fills *d (may be used by the caller after). */
void nl_event_fd(struct nl_event *ev, int fd, struct nl_fd_desc *d);

#endif
