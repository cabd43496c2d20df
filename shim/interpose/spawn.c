/* Interposers of posix_spawn and posix_spawnp.
 *
 * glibc has two versions of each: GLIBC_2.15 and the older GLIBC_2.2.5,
 * which retries a script without #! through /bin/sh.  Each version gets its
 * own interposer bound with .symver and forwards to the same version, so an
 * old binary keeps the behaviour it was linked against.
 *
 * The child of posix_spawn runs glibc-internal code only, so the sweep runs
 * in the parent: fds the new program must not get are marked close-on-exec
 * there (what enforce mode does to every new fd anyway), and fds it must get
 * but whose flag the shim set are passed with dup2(fd, fd) file actions,
 * which clear the flag in the child (glibc >= 2.29). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"
#include "log/event.h"
#include "core/pgroup.h"
#include "base/real.h"
#include "interpose/spawn.h"
#include "core/sweep.h"
#include "common/scratch.h"
#include "common/sys.h"
#include "log/json.h"

/* glibc's private layout of one file action (posix/spawn_int.h), checked at
 * run time against real add calls before it is relied on. */
struct mirror_action {
	int tag;  /* 0 close, 1 dup2, 2 open, 3 chdir, 4 fchdir, 5 closefrom */
	union {
		struct { int fd; } close_action;
		struct { int fd; int newfd; } dup2_action;
		struct { int fd; char *path; int oflag; mode_t mode; } open_action;
		struct { char *path; } chdir_action;
		struct { int fd; } fchdir_action;
		struct { int from; } closefrom_action;
	} action;
};

static int layout_known(void)
{
	static atomic_int state;  /* 0 unknown, 1 matches, -1 does not */
	int s = atomic_load_explicit(&state, memory_order_relaxed);
	if (s)
		return s > 0;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	int ok = posix_spawn_file_actions_addclose(&fa, 7) == 0 &&
		 posix_spawn_file_actions_adddup2(&fa, 8, 9) == 0 &&
		 fa.__used == 2;
	if (ok) {
		const struct mirror_action *a = (const void *)fa.__actions;
		ok = a[0].tag == 0 && a[0].action.close_action.fd == 7 &&
		     a[1].tag == 1 && a[1].action.dup2_action.fd == 8 &&
		     a[1].action.dup2_action.newfd == 9;
	}
	posix_spawn_file_actions_destroy(&fa);
	atomic_store(&state, ok ? 1 : -1);
	return ok;
}

/* Whether the caller's own actions use fd, so a dup2(fd, fd) of ours would
 * undo or break them (a close, a dup2 or open onto it, closefrom below it). */
static int actions_use(const posix_spawn_file_actions_t *fa, int fd)
{
	const struct mirror_action *a = (const void *)fa->__actions;
	for (int i = 0; i < fa->__used; i++) {
		switch (a[i].tag) {
		case 0: if (a[i].action.close_action.fd == fd) return 1; break;
		case 1: if (a[i].action.dup2_action.newfd == fd) return 1; break;
		case 2: if (a[i].action.open_action.fd == fd) return 1; break;
		case 5: if (a[i].action.closefrom_action.from <= fd) return 1; break;
		}
	}
	return 0;
}

/* A copy of the caller's actions with room for `extra` more, in `room`
 * (scratch memory: no malloc on the way to a spawn).  The copy shares the
 * caller's path strings, so it is never given to
 * posix_spawn_file_actions_destroy(). */
static void copy_actions(posix_spawn_file_actions_t *dst,
			 const posix_spawn_file_actions_t *src,
			 struct mirror_action *room, int extra)
{
	memcpy(room, src->__actions, (size_t)src->__used * sizeof *room);
	*dst = *src;
	dst->__actions = (void *)room;
	dst->__allocated = src->__used + extra;
}

/* Spawn with dup2(fd, fd) for each fd to pass that is still open.  Returns
 * -1 (nothing spawned) when the caller's actions cannot be extended
 * safely. */
static int spawn_passing_once(nl_spawn_fn real, const struct nl_plan *pl,
			      int n_pass, pid_t *pid, const char *path,
			      const posix_spawn_file_actions_t *fa,
			      const posix_spawnattr_t *attr, char *const argv[],
			      char *const envp[], int *result)
{
	posix_spawn_file_actions_t mine;
	void *room = NULL;
	size_t room_bytes = 0;
	if (fa) {
		size_t need = ((size_t)fa->__used + (size_t)n_pass) *
			      sizeof(struct mirror_action);
		if (!layout_known() || nl_scratch_grow(&room, &room_bytes, need) < 0)
			return -1;
		copy_actions(&mine, fa, room, n_pass);
	} else if (posix_spawn_file_actions_init(&mine) != 0) {
		return -1;
	}
	for (int fd = nl_plan_next_pass(pl, 3); fd >= 0;
	     fd = nl_plan_next_pass(pl, fd + 1))
		if (!(fa && actions_use(fa, fd)))
			posix_spawn_file_actions_adddup2(&mine, fd, fd);
	*result = real(pid, path, &mine, attr, argv, envp);
	if (fa)
		nl_scratch_free(&room, &room_bytes);
	else
		posix_spawn_file_actions_destroy(&mine);
	return 0;
}

/* Another thread may close a passed fd between the plan and the child's
 * dup2 (the JVM's reaper closes the pipes of finished processes): that
 * spawn fails with EBADF where without the shim the fd would simply not
 * have been passed.  So EBADF is retried, each try passing only the fds
 * still open; a last EBADF is the caller's own. */
static int spawn_passing(nl_spawn_fn real, const struct nl_plan *pl,
			 int n_pass, pid_t *pid, const char *path,
			 const posix_spawn_file_actions_t *fa,
			 const posix_spawnattr_t *attr, char *const argv[],
			 char *const envp[], int *result)
{
	for (int tries = 0; tries < 4; tries++) {
		if (spawn_passing_once(real, pl, n_pass, pid, path, fa, attr,
				       argv, envp, result) < 0)
			return -1;
		if (*result != EBADF)
			return 0;
	}
	*result = real(pid, path, fa, attr, argv, envp);
	return 0;
}

/* The fd part: sweep in the parent, then spawn passing kept fds. */
static int spawn_swept(nl_spawn_fn real, const char *via, pid_t *pid,
		       const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[],
		       char *const envp[])
{
	struct nl_plan pl;
	nl_plan_exec(&pl, via, path, argv, envp, NULL, 0);
	if (!pl.active)
		return real(pid, path, fa, attr, argv, envp);
	nl_plan_log_leaks(&pl);
	nl_plan_mark_cloexec(&pl);
	int n_pass = 0;
	for (int fd = nl_plan_next_pass(&pl, 3); fd >= 0;
	     fd = nl_plan_next_pass(&pl, fd + 1))
		n_pass++;
	int r;
	if (!pl.enforce || n_pass == 0)
		r = real(pid, path, fa, attr, argv, envp);
	else if (spawn_passing(real, &pl, n_pass, pid, path, fa, attr, argv,
			       envp, &r) != 0) {
		/* Fallback: take the flag off in the parent around the spawn. */
		nl_plan_pass_kept(&pl);
		r = real(pid, path, fa, attr, argv, envp);
		nl_plan_undo_pass(&pl);
	}
	nl_plan_release(&pl);
	return r;
}

/* The process-group part: POSIX_SPAWN_SETPGROUP on a copy of the caller's
 * attributes (not in audit mode, `move` 0), and the marker of where the
 * child came from. */
static int spawn_regrouped(nl_spawn_fn real, const char *via, pid_t *pid,
			   const char *path,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[], int move)
{
	posix_spawnattr_t mine;
	short flags = 0;
	if (attr) {
		mine = *attr;
		posix_spawnattr_getflags(&mine, &flags);
	} else {
		posix_spawnattr_init(&mine);
	}
	if (move) {
		posix_spawnattr_setflags(&mine, flags | POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&mine, 0);
	}

	size_t n = 0, klen = sizeof NL_PGROUP_FROM_ENV - 1;
	while (envp && envp[n])
		n++;
	char *env[n + 2], marker[NL_PGROUP_MARKER_MAX];
	size_t k = 0;
	pid_t token = nl_pgroup_new_token();
	nl_pgroup_format_marker(marker, nl_sys_getpid(), nl_sys_getpgid(0), token,
				nl_pgroup_origin(via, path, argv));
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], NL_PGROUP_FROM_ENV, klen) || envp[i][klen] != '=')
			env[k++] = envp[i];
	env[k++] = marker;
	env[k] = NULL;

	pid_t child;
	int r = spawn_swept(real, via, &child, path, fa, &mine, argv, env);
	if (r == 0) {
		nl_pgroup_spawned(child, token);
		if (pid)
			*pid = child;
	}
	if (!attr)
		posix_spawnattr_destroy(&mine);
	return r;
}

int nl_spawn(nl_spawn_fn real, const char *via, pid_t *pid, const char *path,
	     const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[])
{
	if (!real)
		return ENOSYS;
	if (nl_mode() == NL_MODE_OFF)
		return real(pid, path, fa, attr, argv, envp);
	nl_pgroup_tick();
	int regroup = nl_pgroup_for_spawn(attr, path);
	if (regroup)
		return spawn_regrouped(real, via, pid, path, fa, attr, argv, envp,
				       regroup == 1);
	return spawn_swept(real, via, pid, path, fa, attr, argv, envp);
}

NL_REAL_DECL_AS(spawn_2_15, "posix_spawn", "GLIBC_2.15");
NL_REAL_DECL_AS(spawn_2_2_5, "posix_spawn", "GLIBC_2.2.5");
NL_REAL_DECL_AS(spawnp_2_15, "posix_spawnp", "GLIBC_2.15");
NL_REAL_DECL_AS(spawnp_2_2_5, "posix_spawnp", "GLIBC_2.2.5");

nl_spawn_fn nl_spawn_real_current(void)
{
	return NL_REAL_AS(spawn_2_15, nl_spawn_fn);
}

#define SPAWN_INTERPOSER(fn, slot, via)                                      \
	NL_EXPORT int fn(pid_t *pid, const char *path,                       \
			 const posix_spawn_file_actions_t *fa,               \
			 const posix_spawnattr_t *attr, char *const argv[],  \
			 char *const envp[])                                 \
	{                                                                    \
		nl_enter();                                                  \
		return nl_spawn(NL_REAL_AS(slot, nl_spawn_fn), via, pid,     \
				path, fa, attr, argv, envp);                 \
	}

SPAWN_INTERPOSER(nl_vsym_posix_spawn, spawn_2_15, "posix_spawn")
SPAWN_INTERPOSER(nl_vsym_posix_spawn_old, spawn_2_2_5, "posix_spawn")
SPAWN_INTERPOSER(nl_vsym_posix_spawnp, spawnp_2_15, "posix_spawnp")
SPAWN_INTERPOSER(nl_vsym_posix_spawnp_old, spawnp_2_2_5, "posix_spawnp")

__asm__(".symver nl_vsym_posix_spawn, posix_spawn@@GLIBC_2.15");
__asm__(".symver nl_vsym_posix_spawn_old, posix_spawn@GLIBC_2.2.5");
__asm__(".symver nl_vsym_posix_spawnp, posix_spawnp@@GLIBC_2.15");
__asm__(".symver nl_vsym_posix_spawnp_old, posix_spawnp@GLIBC_2.2.5");
