/* posix_spawn with the exec sweep decided in the child, shared by the
 * posix_spawn interposers and by system() and popen(), which glibc builds on
 * an internal posix_spawn no preload sees. */
#ifndef NL_SPAWN_H
#define NL_SPAWN_H

#include <spawn.h>

typedef int (*nl_spawn_fn)(pid_t *, const char *,
			   const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[],
			   char *const[]);

/* How the exec is done (glibc's SPAWN_XFLAGS_*). */
enum {
	NL_SPAWN_USE_PATH = 1,      /* posix_spawnp: search PATH */
	NL_SPAWN_TRY_SHELL = 2,     /* GLIBC_2.2.5: ENOEXEC retried by /bin/sh */
};

/* posix_spawn done by the shim: the child applies the attributes and file
 * actions as glibc does, then regroups and sweeps, then execs (spawn.c).
 * `real` is glibc's, used with the shim off.  Returns 0 or an errno. */
int nl_spawn(nl_spawn_fn real, int xflags, const char *via, pid_t *pid,
	     const char *path, const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[]);

/* The current-version posix_spawn (what glibc's system and popen use). */
nl_spawn_fn nl_spawn_real_current(void);

#endif
