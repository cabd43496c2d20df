/* Where an fd was created: a return address turned into module + offset. */
#ifndef NL_SITE_H
#define NL_SITE_H

#include <stddef.h>
#include <stdint.h>

/* Module paths longer than this are cut. */
#define NL_SITE_MODULE_MAX 512

/* A mapping of /proc/self/maps: addresses lo..hi-1 are file offset off
 * onwards of module.  Empty when hi is 0. */
struct nl_site_map {
	uintptr_t lo, hi, off;
	char module[NL_SITE_MODULE_MAX];
};

/* The mapping holding addr: *map itself when it holds addr already, else
 * the one found in /proc/self/maps, put in *map.  Returns 0 with *offset
 * set to the file offset `addr2line -e module` understands; -1 when not
 * found (*map empty).  A caller that describes many fds at once keeps one
 * map for all of them: one read of /proc/self/maps for the sites of one
 * module rather than one each.  Only for the moment of that walk: a module
 * unloaded later may leave its range to another.  dladdr() is not used:
 * it takes the loader lock, which another thread may hold forever in a
 * fork child. */
int nl_site_resolve(uintptr_t addr, struct nl_site_map *map,
		    uintptr_t *offset);

#endif
