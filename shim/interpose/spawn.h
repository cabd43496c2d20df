/* posix_spawn with the exec sweep, shared by the posix_spawn interposers and
 * by system() and popen(), which glibc builds on an internal posix_spawn no
 * preload sees. */
#ifndef NL_SPAWN_H
#define NL_SPAWN_H

#include <spawn.h>

typedef int (*nl_spawn_fn)(pid_t *, const char *,
			   const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[],
			   char *const[]);

/* Sweep (in the parent: the child of posix_spawn runs no interposer), then
 * spawn with `real`, adding dup2(fd, fd) actions for kept fds whose
 * close-on-exec flag only the shim set. */
int nl_spawn(nl_spawn_fn real, const char *via, pid_t *pid, const char *path,
	     const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[]);

/* The current-version posix_spawn (what glibc's system and popen use). */
nl_spawn_fn nl_spawn_real_current(void);

#endif
