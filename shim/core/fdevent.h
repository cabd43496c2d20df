/* The fields that describe an fd in an event: number, kind, object, pipe
 * end, the call that created it and where (module + offset); and the one
 * event every exec logs per fd it withholds. */
#ifndef NL_FDEVENT_H
#define NL_FDEVENT_H

#include "log/event.h"
#include "core/fdinfo.h"
#include "core/site.h"

/* Adds the fields for fd; fills *d (its kind and end may be used by the
 * caller after; its object is gone).  map: the creating call's module
 * found last (site.h), kept by a caller describing many fds at once, or
 * NULL. */
void nl_event_fd(struct nl_event *ev, int fd, struct nl_fd_desc *d,
		 struct nl_site_map *map);
/* Adds "local" and "peer", the addresses of socket fd (those it has). */
void nl_event_addresses(struct nl_event *ev, int fd);

/* What an exec keeps from its new program, for the fd_leak event. */
struct nl_withheld {
	int enforce;            /* "closed"; else audit's "would_close" */
	const char *via;        /* the spawn path: execve, posix_spawn, popen... */
	const char *target;     /* the new program */
	const char *argv0;
	struct nl_site_map *sites;   /* for nl_event_fd, or NULL */
};

/* One fd_leak event for fd when it would have crossed the exec without the
 * shim (fdintent.h): an inheritable fd the sweep marks, or one that is
 * close-on-exec only because the shim made it so at creation.  Nothing for
 * an fd the program made close-on-exec itself.  The caller has decided the
 * exec does not keep fd. */
void nl_event_fd_withheld(int fd, const struct nl_withheld *w);

#endif
