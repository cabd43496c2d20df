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
 * NL_F_GETLK64, NL_F_SETLK64, NL_F_SETLKW64: the record lock commands with
 *   64-bit offsets (struct flock64) of a 32-bit target whose F_GETLK,
 *   F_SETLK, F_SETLKW take struct flock with 32-bit offsets (i386: 12, 13,
 *   14; a program built with -D_FILE_OFFSET_BITS=64 sends them as its
 *   F_SETLK, through fcntl64 or __fcntl_time64).  There the OFD commands
 *   take struct flock64 through fcntl64 and __fcntl_time64, and struct
 *   flock through fcntl (glibc converts it).  Undefined where F_SETLK
 *   already takes 64-bit offsets (x86_64, aarch64, musl).
 * NL_LIBC_MUSL: musl (no dlvsym, no symbol versions, no *64 names of its
 *   own, posix_spawn's file actions in musl's layout: see spawn.c).
 * NL_MOUNT_API: libc exports the new mount API's calls that make fds
 *   (open_tree, fsopen, fsmount, fspick: glibc 2.36 on, GLIBC_2.36 on
 *   every architecture; musl has none).  The shim interposes them only
 *   then: elsewhere no program can reach them through libc, and an export
 *   of the shim's own would answer a program's dlsym() that libc leaves
 *   unanswered. */
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

/* NL_O_LARGEFILE64: what the *64 open calls (open64, openat64, creat64,
 * mkstemp64, ...) add to the flags on a 32-bit target: the file may pass
 * 2 GiB.  0 where the kernel assumes it (64-bit processes). */
#if defined(__i386__)
#define NL_O_LARGEFILE64 0100000
#else
#define NL_O_LARGEFILE64 0
#endif

#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 36)
#define NL_MOUNT_API 1
#endif
#endif

#if defined(__GLIBC__) && defined(__i386__)
#define NL_TIME64_ALIASES 1
#define NL_F_GETLK64 12
#define NL_F_SETLK64 13
#define NL_F_SETLKW64 14
#endif

#define NL_STR_(x) #x
#define NL_STR(x) NL_STR_(x)

#endif
