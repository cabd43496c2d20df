/* Describing an fd inside an event (fd_leak, fork_inherit, ...). */
#include "core/fdevent.h"

#include "core/fdtable.h"
#include "core/site.h"
#include "log/json.h"

void nl_event_fd(struct nl_event *ev, int fd, struct nl_fd_desc *d)
{
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
	char module[512];
	uintptr_t off;
	if (site && nl_site_resolve(site, module, sizeof module, &off) == 0) {
		char hex[24] = "0x";
		nl_fmt_hex(hex + 2, sizeof hex - 2, off);
		nl_event_str(ev, "module", module);
		nl_event_str(ev, "offset", hex);
	}
}
