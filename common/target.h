/* What differs per target (architecture × libc), in one place: macros only,
 * so that the linker's version script (shim/libnoleak.map.in) is made from
 * it by the preprocessor as well as the C code.  The raw system calls that
 * differ per target and their structures are in common/sys.h; the vfork
 * entry per architecture in shim/interpose/fork.c.
 *
 * Targets:       x86_64-linux-gnu, i386-linux-gnu (also programs built with
 *                -D_TIME_BITS=64), aarch64-linux-gnu, x86_64-linux-musl.
 *
 * NL_VER_SPAWN_OLD, NL_VER_SPAWN_NEW: glibc's two versions of posix_spawn
 *   and posix_spawnp (the old one retries ENOEXEC through /bin/sh) where a
 *   target has two; the shim defines one interposer per version, and the
 *   version script names these nodes.  Undefined (aarch64, whose oldest
 *   version GLIBC_2.17 already fails with ENOEXEC, and musl, which has no
 *   symbol versions): one unversioned interposer of each, looked up with
 *   dlsym, which binds every program's reference.
 * NL_TIME64_ALIASES: glibc's 32-bit targets give programs built with
 *   -D_TIME_BITS=64 other names for calls that take a time, an ioctl or a
 *   control message (__fcntl_time64 for fcntl, ...); the shim interposes
 *   those too, each beside the call it stands for (NL_TIME64(alias, base)).
 * NL_LIBC_MUSL: musl (no dlvsym, no symbol versions, no *64 names of its
 *   own, posix_spawn's file actions in musl's layout: see spawn.c). */
#ifndef NL_TARGET_H
#define NL_TARGET_H

#include <features.h>

#if !defined(__GLIBC__)
#define NL_LIBC_MUSL 1
#endif

#if defined(__GLIBC__) && defined(__x86_64__) && !defined(__ILP32__)
#define NL_VER_SPAWN_OLD GLIBC_2.2.5
#define NL_VER_SPAWN_NEW GLIBC_2.15
#elif defined(__GLIBC__) && defined(__i386__)
#define NL_VER_SPAWN_OLD GLIBC_2.2
#define NL_VER_SPAWN_NEW GLIBC_2.15
#endif

#if defined(__GLIBC__) && defined(__i386__)
#define NL_TIME64_ALIASES 1
#endif

#define NL_STR_(x) #x
#define NL_STR(x) NL_STR_(x)

#endif
