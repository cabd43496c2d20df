/* Process trees: spawned children get a process group of their own, so
 * that killing the child kills its whole tree.
 *
 * Who regroups (pgroup=auto): a process that made itself a session leader
 * (a daemon after its own setsid() or daemon(), in the same program image),
 * the main process of a systemd service, or the process the noleak launcher
 * started.  A session leader its parent made (setsid(1) run by a live
 * parent, Python's start_new_session, dumb-init) does not: that parent
 * stops it by signalling its group, which must hold its whole tree.  Never
 * while its session has a controlling terminal (any job of it may be
 * brought to the foreground, and its children then need ^C and the
 * terminal), nor once it called setpgid() or tcsetpgrp() itself
 * (job-control shells, timeout, supervisors manage their children's
 * groups; a fork child reads its parent's flag at its exec from a page
 * they share, so a setpgid() on it after the fork counts).  Every other process leaves its children
 * in its own group, so a regrouped child's whole subtree stays in the
 * child's group.  pgroup=always drops the terminal condition; never turns
 * regrouping off.
 *
 * The child moves itself, just before its exec: before that it has no
 * descendants, so there is no race, and a child that never execs (a worker
 * of the same program) stays in its parent's group.  A failed exec moves it
 * back, so that every exec of a PATH walk starts from the same state.
 *
 * Invariants of what the shim signals on its own:
 *  - A group is "shim-made" only when its leader is a live child of this
 *    process, leads its group, is still in this process's session, and
 *    the environment it exec'd with (/proc/PID/environ) carries this
 *    process's marker (NOLEAK_PGROUP_FROM with this pid as spawner).  Only the exec interposer and the
 *    posix_spawn attribute put that marker there, together with the move;
 *    a fork worker that calls setpgid()/setsid() itself carries its
 *    parent's environment, whose marker (if any) names another spawner.
 *    Nothing is remembered per fork child the shim moved: there is no
 *    table to fill, to overflow or to go stale.  What is remembered (in
 *    record pages without a fixed limit) is the children the program put
 *    in a group itself (setpgid(child, ...)), whose groups are never taken
 *    for the shim's, even once the child is a zombie; a child that never
 *    exec'd is never taken for one either (the shim moves a child only at
 *    its exec, and the kernel shows PF_FORKNOEXEC even for a zombie).
 *  - kill_escalate decides which shim-made groups a kill(child) reaches
 *    (never, shell: a shell, an exec wrapper, or a system()/popen()/sh -c
 *    child; always).
 *  - Every signal is sent to a target verified at the moment of sending:
 *    a pidfd of the leader opened before the check and
 *    pidfd_send_signal(PIDFD_SIGNAL_PROCESS_GROUP) (Linux 6.9) after it;
 *    on older kernels the pidfd proves the leader still lives just before
 *    kill(-leader); without pidfds /proc/PID/stat is read again right
 *    before the kill.  Orphans (their leader is gone) are signalled one by
 *    one, each through its own verified pidfd, and only those that started
 *    before the SIGTERM.
 *
 * The marker is the shim's bookkeeping, never the program's (audit changes
 * nothing a program can see): the shim of the new program takes it out of
 * environ at start-up, before main() (mode off leaves it), and keeps it;
 * /proc/PID/environ, where spawners read it, still shows the environment
 * the process exec'd with.  Each exec the shim interposes puts the kept
 * marker back into the environment it passes on (nl_pgroup_marker_to_pass),
 * so that descendants carry the token as if the program had passed on its
 * whole environment; a regrouped child's exec passes a new marker instead.
 * A vfork child's exec only reads the kept marker. */
#ifndef NL_PGROUP_H
#define NL_PGROUP_H

#include <spawn.h>
#include <stddef.h>
#include <sys/types.h>

/* Environment marker a regrouped program starts with (and the shim takes
 * out of its environ), "SPAWNER:PGID:TOKEN:ORIGIN": the group it came
 * from, so that its own setsid() can go back there and succeed, a token by
 * which its spawner finds the descendants it leaves behind (they carry the
 * marker on), and how it was started (NL_ORIGIN_*). */
#define NL_PGROUP_FROM_ENV "NOLEAK_PGROUP_FROM"
#define NL_ORIGIN_SYSTEM 's'   /* system() or popen() */
#define NL_ORIGIN_SHELL_C 'c'  /* a `sh -c` command line */
#define NL_ORIGIN_PROGRAM 'p'  /* anything else */
/* Room for the whole "NOLEAK_PGROUP_FROM=..." entry. */
#define NL_PGROUP_MARKER_MAX 80

/* Whether `spawner` (this process, or the parent of a fork/vfork child)
 * regroups the children it spawns. */
int nl_pgroup_regroups(pid_t spawner, int spawner_manages);

/* NL_ORIGIN_* of a child started by `via` ("system", "popen", an exec or
 * spawn function) running path with argv. */
char nl_pgroup_origin(const char *via, const char *path, char *const argv[]);
/* Write the marker entry into buf (NL_PGROUP_MARKER_MAX bytes). */
void nl_pgroup_format_marker(char *buf, pid_t spawner, pid_t from,
			     pid_t token, char origin);
/* Whether an exec with environment envp may carry a marker: envp is not
 * empty (a cleared environment stays empty) and, when the shim came
 * through this process's LD_PRELOAD (an entry named libnoleak*), keeps an
 * LD_PRELOAD that names it (a program the shim does not load, LD_PRELOAD=
 * among them, would find the marker).  A
 * child whose exec may not is not regrouped either: unmarked, its group
 * would be nobody's.  Async-signal-safe. */
int nl_pgroup_env_takes_marker(char *const envp[]);

/* The marker an exec with environment envp passes on when the exec does
 * not regroup its child: the one this process started with, if envp has
 * none and takes one.  NULL otherwise.  Async-signal-safe. */
const char *nl_pgroup_marker_to_pass(char *const envp[]);
/* envp with `marker` in place of any marker entry, into out (room for as
 * many entries as envp has, plus 2).  Returns out. */
char *const *nl_pgroup_env_with_marker(char **out, char *const envp[],
				       const char *marker);

/* In the exec interposer of process `self` (its pid): when this process is
 * a spawned child whose spawner regroups, move to a group of its own
 * (audit: log only).  Returns the pgid it came from (for the environment
 * marker, whose token is the child's pid), or 0 when the child is not one
 * to mark.  The next attempt of a PATH walk reuses the decision without a
 * system call unless the process changed its group or session since. */
pid_t nl_pgroup_before_exec(const char *path, pid_t self);
/* The exec failed: undo what nl_pgroup_before_exec() did (`from` is what
 * it returned), so that the next exec of a PATH walk moves and marks the
 * child again.  Keeps errno. */
void nl_pgroup_after_failed_exec(pid_t from);

/* The exec cannot carry the marker (no memory for the environment with
 * it): undo the move as after a failed exec, so that the child is not in
 * a group nobody would know, and log it ("untracked", path).  Keeps
 * errno.  Async-signal-safe. */
void nl_pgroup_exec_unmarked(const char *path, pid_t from);

/* Before making a child: forget this thread's last decision, and, in a
 * process that may regroup its children, put where its fork children can
 * read it whether it manages groups (a child forked just before the
 * program's setpgid() on it reads it at its exec). */
void nl_pgroup_forget_decision(void);

/* For posix_spawn in this process: 1 to add POSIX_SPAWN_SETPGROUP and the
 * marker, 2 (audit) for the marker only, 0 for neither (also when the
 * caller chose a group or a session itself). */
int nl_pgroup_for_spawn(const posix_spawnattr_t *attr, const char *path);
/* A marker token for a posix_spawn child, whose pid is not known yet. */
pid_t nl_pgroup_new_token(void);
/* The spawn succeeded: remember the child's token (for its orphans in
 * audit mode, where no group tells them apart). */
void nl_pgroup_spawned(pid_t child, pid_t token);

/* How to make a wait for `pid`.  A wait for the group getpgrp() names in a
 * process the shim moved is one for its own group (*pid becomes 0, as
 * kill() of that group reaches it).  A wait for the caller's own group (0,
 * or minus its pgid) in a process whose children the shim may have moved
 * to groups of their own, when every child is one the group would hold
 * without the shim and at least one is in (or may still go to) a group
 * the shim made: NL_WAIT_PEEK, wait for any child without reaping it
 * (WNOWAIT), then reap it by its pid if nl_pgroup_wait_takes() it, else
 * make the wait as asked.  Otherwise NL_WAIT_AS_ASKED, with *pid. */
enum { NL_WAIT_AS_ASKED, NL_WAIT_PEEK };
int nl_pgroup_wait_plan(pid_t *pid);
/* Whether a wait for the caller's own group would see child, which has an
 * event: it is in that group, or in one the shim made. */
int nl_pgroup_wait_takes(pid_t child);

/* A wait returned child `pid` with `status`: deal with the members of its
 * group that outlived it (orphans policy). */
void nl_pgroup_reaped(pid_t pid, int status);

/* kill(pid, sig) as the program asked, extended to whole groups where the
 * policy says so.  Returns what kill returns (errno set). */
int nl_pgroup_kill(pid_t pid, int sig, int (*real_kill)(pid_t, int));

/* Second stage of orphans=kill: SIGKILL what SIGTERM left, 2 s later. */
void nl_pgroup_tick(void);

/* setsid() failed with EPERM: if the shim made this process a group leader,
 * go back to the group it came from and retry.  Returns the retried
 * result, or -1 with errno EPERM when that does not apply. */
pid_t nl_pgroup_retry_setsid(pid_t (*real_setsid)(void));
/* The group getpgrp() and getpgid(0 or self) report, given the kernel's
 * answer pgid for pid: a process the shim made a group leader reports the
 * group it came from, as without the shim, until it moves itself or starts
 * a session (util-linux setsid(1) forks when it leads its group, and the
 * command's status is then lost to its caller). */
pid_t nl_pgroup_shown(pid_t pid, pid_t pgid);
/* The group a setpgid() naming group pgid moves a process to: the group
 * such a process reports (nl_pgroup_shown) is its own, as without the
 * shim, where setpgid(0, getpgrp()) changes nothing. */
pid_t nl_pgroup_shown_to_real(pid_t pgid);
/* The process made itself a group leader (setpgid(0, 0), setpgrp): the
 * group is its own choice, and its spawner must see that. */
void nl_pgroup_moved_self(void);
/* The program put its child in a group with setpgid(child, ...): that
 * group is the program's doing, never one the shim made, even once the
 * child has exited (its environment, with any marker, is gone then). */
void nl_pgroup_placed(pid_t child);

/* At start-up (init): read NOLEAK_PGROUP_FROM and NOLEAK_LAUNCHED from envp
 * (NULL in a secure process, whose environment is not to be obeyed and has
 * been scrubbed).  With take_marker (mode not off), every marker entry is
 * taken out of envp, in place, and the first kept for the execs. */
void nl_pgroup_init(char **envp, int take_marker);
/* In a fork child: `parent` spawned us; its group and its manages_groups at
 * the fork decide whether this child moves at its exec. */
void nl_pgroup_after_fork(pid_t parent);

/* The program made itself a session leader (setsid(), daemon()): a daemon,
 * whose children are regrouped from now on (a vfork child never marks its
 * parent). */
void nl_pgroup_started_session(void);

/* The program called setpgid/setpgrp/tcsetpgrp itself: from now on it
 * manages its children's groups (a vfork child never marks its parent). */
void nl_pgroup_note_manages(void);
int nl_pgroup_manages(void);
/* The pid the marker of a child exec'ing now names as its spawner. */
pid_t nl_pgroup_spawner(void);

#endif
