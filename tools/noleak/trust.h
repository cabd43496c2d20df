/* Whether a library may be named in /etc/ld.so.preload: who can change it,
 * and whether ld.so really loads it.
 *
 * ld.so loads every entry into every dynamically linked program, set-user-ID
 * ones included, so:
 *   - the library and every directory above it, both as named and resolved,
 *     must be owned by root and writable by no one else (a root-owned sticky
 *     directory such as /tmp is accepted: there only an entry's owner can
 *     rename or remove it): whoever can replace it runs code as root in the
 *     next set-user-ID program;
 *   - it must load: a test program (cat) is run with it in LD_PRELOAD and
 *     must exit 0 within 10 seconds and show the library in its own
 *     /proc/self/maps, since ld.so only warns about a preload it cannot
 *     load and runs the program without it.
 *   - a build for another ABI (a 32-bit one beside the 64-bit host's,
 *     named through /usr/$LIB/libnoleak.so) cannot be loaded here: it must
 *     be an ELF shared object of its programs' class and machine, readable
 *     by every user, and trusted as above.
 * Each check returns 0, or -1 with the reason written into `why` (a
 * sentence fragment without "noleak:"); none prints anything. */
#ifndef NL_TOOL_TRUST_H
#define NL_TOOL_TRUST_H

#include <stddef.h>
#include <sys/stat.h>

#include "inroot.h"

/* A file nobody but root can change: owned by root, not writable by its
 * group or others. */
int noleak_root_only(const struct stat *st);

/* The reason a file or directory (`what`: "file", "library", "directory")
 * fails noleak_root_only, into `why`; returns -1. */
int noleak_refuse_component(const char *what, const char *path,
			    const struct stat *st, char *why, size_t cap);

/* `path` and the library paths below are as ld.so sees them once the
 * tree `r` is the root (inroot.h); the host's own: nl_root_host. */

/* Every directory above `path`, as written (following links, so that a
 * link's target is judged) and each literal component (whose directory
 * decides who may replace a link); under a tree, also the directories
 * above the tree. */
int noleak_check_parents(const struct nl_root *r, const char *path, char *why,
			 size_t cap);

/* The library and the directories above it, both as named and resolved. */
int noleak_check_trusted(const struct nl_root *r, const char *path, char *why,
			 size_t cap);

/* What an ELF file is built for: its class (32 or 64), machine (e_machine)
 * and whether it is a shared object (ET_DYN). */
struct noleak_abi {
	int bits;
	int machine;
	int shared;
};

/* The ABI of `path`: 0, or -1 when it cannot be read or is no ELF file. */
int noleak_elf_abi(const char *path, struct noleak_abi *abi, char *why, size_t cap);

/* "32-bit i386", "64-bit x86-64", ... into `out`. */
void noleak_abi_text(const struct noleak_abi *abi, char *out, size_t cap);

/* A build for programs of ABI `want` (`want` NULL: any): a shared object
 * of that class and machine, readable by every user, trusted. */
int noleak_check_build(const struct nl_root *r, const char *path,
		       const struct noleak_abi *want, char *why, size_t cap);

/* Run a program with `lib` (a host path) preloaded: it must exit 0 and have the library
 * in its own /proc/self/maps. */
int noleak_test_load(const char *lib, char *why, size_t cap);

#endif
