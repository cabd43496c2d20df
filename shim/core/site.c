/* Resolving creation sites from /proc/self/maps at log time. */
#include "core/site.h"

#include <string.h>

#include "log/arena.h"
#include "common/sys.h"

static const char *parse_hex(const char *p, uintptr_t *v)
{
	*v = 0;
	for (;; p++) {
		unsigned c = (unsigned char)*p;
		if (c >= '0' && c <= '9')
			*v = *v << 4 | (c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v << 4 | (c - 'a' + 10);
		else
			return p;
	}
}

/* One maps line: "start-end perms offset dev inode   path". */
static int line_holds(const char *line, const char *end, uintptr_t addr,
		      struct nl_site_map *map)
{
	uintptr_t lo, hi, off;
	const char *p = parse_hex(line, &lo);
	if (*p != '-')
		return 0;
	p = parse_hex(p + 1, &hi);
	if (addr < lo || addr >= hi)
		return 0;
	while (p < end && *p == ' ')
		p++;
	while (p < end && *p != ' ')  /* perms */
		p++;
	p = parse_hex(p + 1, &off);
	for (int field = 0; field < 2; field++) {  /* dev, inode */
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ')
			p++;
	}
	while (p < end && *p == ' ')
		p++;
	size_t n = (size_t)(end - p);
	if (n >= sizeof map->module)
		n = sizeof map->module - 1;
	memcpy(map->module, p, n);
	map->module[n] = '\0';
	map->lo = lo;
	map->hi = hi;
	map->off = off;
	return 1;
}

/* Read in chunks of arena memory (a small stack cannot hold them); a line
 * longer than a chunk (a path near PATH_MAX) is judged by its first chunk,
 * its path cut there. */
#define NL_MAPS_CHUNK 4096

static int resolve_from(int fd, char *buf, uintptr_t addr,
			struct nl_site_map *map)
{
	size_t have = 0;
	int skipping = 0;   /* the rest of an overlong line */
	for (;;) {
		ssize_t n = nl_sys_read(fd, buf + have, NL_MAPS_CHUNK - have);
		if (n <= 0)
			return 0;
		have += (size_t)n;
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			if (!skipping &&
			    line_holds(line, nl, addr, map))
				return 1;
			skipping = 0;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == NL_MAPS_CHUNK) {
			if (!skipping &&
			    line_holds(buf, buf + have, addr, map))
				return 1;
			skipping = 1;
			have = 0;
		}
	}
}

int nl_site_resolve(uintptr_t addr, struct nl_site_map *map,
		    uintptr_t *offset)
{
	if (!addr)
		return -1;
	int found = addr >= map->lo && addr < map->hi;
	if (!found) {
		size_t mark = nl_arena_enter();
		char *buf = nl_arena_get(NL_MAPS_CHUNK);
		int fd = buf ? nl_sys_openat(AT_FDCWD, "/proc/self/maps",
					     O_RDONLY | O_CLOEXEC, 0) : -1;
		map->hi = 0;
		if (fd >= 0) {
			found = resolve_from(fd, buf, addr, map);
			nl_sys_close(fd);
		}
		nl_arena_leave(mark);
	}
	if (found)
		*offset = addr - map->lo + map->off;
	return found ? 0 : -1;
}
