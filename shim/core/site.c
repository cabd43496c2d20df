/* Resolving creation sites from /proc/self/maps at log time. */
#include "core/site.h"

#include <string.h>

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
		      char *module, size_t cap, uintptr_t *offset)
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
	if (n >= cap)
		n = cap - 1;
	memcpy(module, p, n);
	module[n] = '\0';
	*offset = addr - lo + off;
	return 1;
}

int nl_site_resolve(uintptr_t addr, char *module, size_t cap,
		    uintptr_t *offset)
{
	if (!addr || cap == 0)
		return -1;
	int fd = nl_sys_openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	char buf[8192];
	size_t have = 0;
	int found = 0;
	for (;;) {
		ssize_t n = nl_sys_read(fd, buf + have, sizeof buf - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		char *line = buf, *nl;
		while (!found && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			found = line_holds(line, nl, addr, module, cap, offset);
			line = nl + 1;
		}
		if (found)
			break;
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof buf)  /* absurd line: skip it */
			have = 0;
	}
	nl_sys_close(fd);
	return found ? 0 : -1;
}
