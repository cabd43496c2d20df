/* Describing an fd inside an event (fd_leak, fork_inherit, ...). */
#include "core/fdevent.h"

#include "log/arena.h"
#include "core/fdintent.h"
#include "core/fdtable.h"
#include "core/site.h"
#include "common/sys.h"
#include "log/json.h"

void nl_event_fd(struct nl_event *ev, int fd, struct nl_fd_desc *d,
		 struct nl_site_map *map)
{
	size_t mark = nl_arena_enter();
	nl_fd_describe(fd, d);
	nl_event_int(ev, "fd", fd);
	nl_event_str(ev, "kind", d->kind);
	nl_event_str(ev, "object", d->object);
	if (d->end)
		nl_event_str(ev, "end", d->end);
	const struct nl_fd_slot *s = nl_fd_slot(fd);
	uintptr_t site = s ? __atomic_load_n(&s->site, __ATOMIC_RELAXED) : 0;
	uint16_t call = s ? __atomic_load_n(&s->call, __ATOMIC_RELAXED) : 0;
	nl_event_str(ev, "created_by", site ? nl_call_name(call) : "unseen");
	if (site && !map && (map = nl_arena_get(sizeof *map)))
		map->hi = 0;
	uintptr_t off;
	if (site && map && nl_site_resolve(site, map, &off) == 0) {
		char hex[24] = "0x";
		nl_fmt_hex(hex + 2, sizeof hex - 2, off);
		nl_event_str(ev, "module", map->module);
		nl_event_str(ev, "offset", hex);
	}
	d->object = "";   /* its memory goes with the bracket */
	nl_arena_leave(mark);
}

void nl_event_addresses(struct nl_event *ev, int fd)
{
	struct addresses {
		struct sockaddr_storage a;
		char s[200];
	} *w;
	size_t mark = nl_arena_enter();
	socklen_t len = sizeof w->a;
	w = nl_arena_get(sizeof *w);
	if (w && NL_SYS(SYS_getsockname, fd, &w->a, &len) == 0) {
		nl_format_sockaddr(w->s, sizeof w->s, (struct sockaddr *)&w->a, len);
		nl_event_str(ev, "local", w->s);
	}
	len = sizeof w->a;
	if (w && NL_SYS(SYS_getpeername, fd, &w->a, &len) == 0) {
		nl_format_sockaddr(w->s, sizeof w->s, (struct sockaddr *)&w->a, len);
		nl_event_str(ev, "peer", w->s);
	}
	nl_arena_leave(mark);
}

void nl_event_fd_withheld(int fd, const struct nl_withheld *w)
{
	if (!nl_fd_would_cross(fd) || nl_event_dropped_early())
		return;
	struct nl_event ev;
	struct nl_fd_desc d;
	nl_event_begin(&ev, "fd_leak");
	nl_event_str(&ev, "action", w->enforce ? "closed" : "would_close");
	nl_event_fd(&ev, fd, &d, w->sites);
	nl_event_str(&ev, "via", w->via);
	nl_event_str(&ev, "target", w->target);
	nl_event_str(&ev, "argv0", w->argv0);
	nl_event_emit(&ev);
}
