/* Where an fd was created: a return address turned into module + offset. */
#ifndef NL_SITE_H
#define NL_SITE_H

#include <stddef.h>
#include <stdint.h>

/* Find the mapping holding addr in /proc/self/maps.  Writes the module path
 * and returns 0 with *offset set to the file offset `addr2line -e module`
 * understands; -1 when not found.  dladdr() is not used: it takes the loader
 * lock, which another thread may hold forever in a fork child. */
int nl_site_resolve(uintptr_t addr, char *module, size_t cap,
		    uintptr_t *offset);

#endif
