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
 * they share, so a setpgid() on it after the fork counts).  Every other
 * process leaves its children in its own group, so a regrouped child's
 * whole subtree stays in the child's group.  pgroup=always drops the
 * terminal condition; never turns regrouping off.
 *
 * The spawner decides at the child's exec (a fork or vfork child's exec
 * interposer, or the posix_spawn child) and marks the new program: the
 * move is due.  The child makes it lazily, in the new program, just before
 * it first creates a child of its own (nl_pgroup_before_child, from every
 * interposer that makes a process), because only then does the group
 * matter: a kill of a process without descendants reaches its whole tree
 * anyway.  It moves only if, at that moment, its spawner is still its
 * parent, it is still in the group it came from, has neither moved itself
 * nor started a session, and the terminal condition holds; its own
 * setpgid(0, 0) or setsid() cancels the move.  So a leaf that never makes
 * a child (the daemon of a double fork calling setsid(), setsid(1)) stays
 * in its parent's group, as without the shim, whenever its spawner exits;
 * the move happens in the process itself (never a vfork child), before
 * the real call, so the child inherits the group; every thread that gets
 * there while it is due makes it (setpgid(0, 0) is the process's, and a
 * second one changes nothing), none waits for another.  A worker that never execs stays
 * in its parent's group.  An exec in place passes the marker, and with it
 * the due move, on (the token is still its pid); a descendant carries a
 * token that is not its pid, so nothing is due in it.  A program that
 * creates children without the shim seeing it (raw clone or vfork system
 * calls, a static binary) is not moved.
 *
 * Invariants of what the shim signals on its own:
 *  - A group is "shim-made" only when its leader is a live child of this
 *    process, leads its group, is still in this process's session, and
 *    the environment it exec'd with (/proc/PID/environ) carries this
 *    process's marker (NOLEAK_PGROUP_FROM with this pid as spawner).
 *    Only the exec interposer and the posix_spawn child put that marker
 *    there, and only the marked program moves itself; a fork worker that
 *    calls setpgid()/setsid() itself carries its parent's environment,
 *    whose marker (if any) names another spawner.  A marked child that
 *    has not moved yet leads no group: a kill of it reaches it alone,
 *    which is its whole tree (a kill that finds it in the spawner's group
 *    looks again after sending, in case it moved and made a child
 *    meanwhile); a wait for the spawner's own group counts it as one that
 *    may still move.
 *    Nothing is remembered per fork child the shim moved: there is no
 *    table to fill, to overflow or to go stale.  What is remembered (in
 *    record pages without a fixed limit) is the children the program put
 *    in a group itself (setpgid(child, ...)), whose groups are never taken
 *    for the shim's, even once the child is a zombie; a child that never
 *    exec'd is never taken for one either (the shim moves a child only
 *    after its exec, and the kernel shows PF_FORKNOEXEC even for a
 *    zombie).
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
 * Once the process moved itself or started a session, the kept marker and
 * the one in its environment block are respelt (NL_PGROUP_GONE_ENV): an
 * exec in place then starts a program that owes no move, reports its real
 * group, and whose group no spawner takes for one the shim made.
 * A vfork child's exec only reads the kept marker.  A spawner in audit
 * mode marks its children with NL_MOVE_AUDIT: they log would_regroup
 * where they would move, and move nothing, whatever their own mode. */
#ifndef NL_PGROUP_H
#define NL_PGROUP_H

#include <spawn.h>
#include <stddef.h>
#include <sys/types.h>

/* Environment marker a regrouped program starts with (and the shim takes
 * out of its environ), "SPAWNER:PGID:TOKEN:ORIGIN:MOVE": the group it came
 * from, so that its own setsid() can go back there and succeed, a token by
 * which its spawner finds it and the descendants it leaves behind (they
 * carry the marker on): the child's pid, how it was started (NL_ORIGIN_*),
 * and whether the process whose pid the token is owes the move
 * (NL_MOVE_*). */
#define NL_PGROUP_FROM_ENV "NOLEAK_PGROUP_FROM"
/* The same marker once the process moved itself or started a session
 * (nl_pgroup_moved_self, nl_pgroup_started_session): respelt, in its
 * environment block and in what its execs pass on, so that no spawner
 * takes the group for one the shim made, and the program an exec in place
 * runs owes no move and reports its real group.  The shim takes it out of
 * environ at start-up as it does the marker, and passes it on. */
#define NL_PGROUP_GONE_ENV "nOLEAK_PGROUP_FROM"
#define NL_ORIGIN_SYSTEM 's'   /* system() or popen() */
#define NL_ORIGIN_SHELL_C 'c'  /* a `sh -c` command line */
#define NL_ORIGIN_PROGRAM 'p'  /* anything else */
#define NL_MOVE_DUE 'm'        /* move at the first child */
#define NL_MOVE_AUDIT 'a'      /* the spawner audits: log would_regroup */
/* Room for the whole "NOLEAK_PGROUP_FROM=..." entry. */
#define NL_PGROUP_MARKER_MAX 80

/* Whether `spawner` (this process, or the parent of a fork/vfork child)
 * regroups the children it spawns. */
int nl_pgroup_regroups(pid_t spawner, int spawner_manages);

/* NL_ORIGIN_* of a child started by `via` ("system", "popen", an exec or
 * spawn function) running path with argv. */
char nl_pgroup_origin(const char *via, const char *path, char *const argv[]);
/* Write the marker entry into buf (NL_PGROUP_MARKER_MAX bytes).
 * Async-signal-safe (a spawn child writes its own). */
void nl_pgroup_format_marker(char *buf, pid_t spawner, pid_t from,
			     pid_t token, char origin, char move);
/* NL_MOVE_* for a marker this process writes: by its mode. */
char nl_pgroup_move_how(void);
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
/* Whether the marker must stay out of an exec of path (dirfd and flags as
 * execveat's: AT_FDCWD, 0 for a plain path; fd, "", AT_EMPTY_PATH for
 * fexecve): the shim came through this process's LD_PRELOAD, which ld.so
 * ignores in a secure exec (AT_SECURE), and the program will run secure
 * (set-user-ID or set-group-ID, or this process's effective ids are not
 * its real ones): no shim there takes the marker out of its environ.  A
 * shim from /etc/ld.so.preload runs in a secure program too, and takes
 * it out itself.  Asked only of an exec that would add a marker: three
 * system calls (the ids, one stat).  Async-signal-safe, raw system calls
 * only (a spawn child, a vfork child). */
int nl_pgroup_secure_exec(int dirfd, const char *path, int flags);
/* Whether nl_pgroup_secure_exec can say yes at all: the shim came through
 * LD_PRELOAD.  One load. */
int nl_pgroup_secure_matters(void);
/* envp with `marker` in place of any marker entry, into out (room for as
 * many entries as envp has, plus 2).  Returns out. */
char *const *nl_pgroup_env_with_marker(char **out, char *const envp[],
				       const char *marker);

/* In the exec interposer of process `self` (its pid): when this process is
 * a spawned child whose spawner regroups, the pgid it came from (for the
 * environment marker, whose token is the child's pid: the move is due in
 * the new program), else 0.  Moves nothing.  The next attempt of a PATH
 * walk reuses the decision without a system call unless the process
 * changed its group or session since. */
pid_t nl_pgroup_before_exec(pid_t self);

/* The exec cannot carry the marker (no memory for the environment with
 * it): log it ("untracked", path); the child, unmarked, will not move.
 * Keeps errno.  Async-signal-safe. */
void nl_pgroup_exec_unmarked(const char *path, pid_t from);

/* Before making a child: forget this thread's last decision, and, in a
 * process that may regroup its children, put where its fork children can
 * read it whether it manages groups (a child forked just before the
 * program's setpgid() on it reads it at its exec). */
void nl_pgroup_forget_decision(void);

/* For posix_spawn in this process: the NL_MOVE_* of the marker the child
 * gets (the child writes it, its pid the token), or 0 for none (also when
 * the caller chose a group or a session itself). */
char nl_pgroup_for_spawn(const posix_spawnattr_t *attr);

/* Before this process creates a child (fork, vfork, _Fork, clone of a
 * process, posix_spawn, system, popen, daemon, forkpty), in the process
 * itself: make the move its marker makes due (audit: log would_regroup,
 * once), if it still stands.  Threads creating a child meanwhile make it
 * too; none waits for another.  Keeps errno; one load when nothing is
 * due. */
void nl_pgroup_before_child(void);

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
 * the fork decide whether this child's exec marks the new program. */
void nl_pgroup_after_fork(pid_t parent);

/* The program made itself a session leader (setsid(), daemon()): a daemon,
 * whose children are regrouped from now on (a vfork child never marks its
 * parent).  Its marker is respelt as after nl_pgroup_moved_self. */
void nl_pgroup_started_session(void);

/* The program called setpgid/setpgrp/tcsetpgrp itself: from now on it
 * manages its children's groups (a vfork child never marks its parent). */
void nl_pgroup_note_manages(void);
int nl_pgroup_manages(void);
/* The pid the marker of a child exec'ing now names as its spawner. */
pid_t nl_pgroup_spawner(void);

#endif
