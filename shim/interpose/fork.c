/* fork(), and the forks inside daemon() and forkpty(): keep the child away
 * from the dynamic loader, and in audit mode say which pipes and sockets a
 * child of a multithreaded process holds.
 *
 * A child of a multithreaded process must not call dlsym (another thread
 * may have held the loader lock at the fork), so every real symbol is
 * looked up in the parent before the first fork (base/real.h).
 *
 * A bare fork child that never execs keeps every fd of its parent, among
 * them pipes another thread just made: the parent's reader then never sees
 * EOF.  The exec sweep cannot help there, so audit mode logs what such a
 * child holds, at the fork. */
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "log/arena.h"
#include "log/event.h"
#include "log/output.h"
#include "core/fdevent.h"
#include "core/fdlist.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "core/socktimeout.h"
#include "base/real.h"
#include "interpose/newfd.h"
#include "interpose/shell.h"
#include "common/sys.h"

static void count_one(int tid, void *ctx)
{
	(void)tid;
	++*(int *)ctx;
}

/* Threads of this process, from /proc/self/task (1 when unknown). */
static int count_threads(void)
{
	int threads = 0;
	nl_for_each_number("/proc/self/task", count_one, &threads);
	return threads ? threads : 1;
}

struct inherit_ctx {
	pid_t parent;                /* the forking process */
	int threads;
	struct nl_site_map *sites;   /* nl_event_fd's, for the whole walk */
};

static void log_if_held(int fd, void *arg)
{
	struct inherit_ctx *ctx = arg;
	struct stat st;
	/* What the parent was handed at start-up is not this program's leak,
	 * nor is the log's own socket. */
	if (fd <= 2 || (nl_fd_keep_bits(fd) & NL_FD_INHERITED) ||
	    nl_out_fd_is_ours(fd) ||
	    nl_sys_fstat(fd, &st) < 0 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	struct nl_event ev;
	struct nl_fd_desc d;
	nl_event_begin(&ev, "fork_inherit");
	nl_event_fd(&ev, fd, &d, ctx->sites);
	nl_event_int(&ev, "threads", ctx->threads);
	nl_event_emit(&ev);
}

/* Pipes and sockets this fork child holds, each its own fork_inherit
 * event (audit, when the parent had other threads). */
static void log_held(struct inherit_ctx *ctx)
{
	size_t mark = nl_arena_enter();
	ctx->sites = nl_arena_get(sizeof *ctx->sites);
	if (ctx->sites)
		ctx->sites->hi = 0;
	nl_for_each_open_fd(log_if_held, ctx);
	nl_arena_leave(mark);
	/* Such a child ends with _exit() (no destructor): what the lines
	 * folded or dropped is written now. */
	nl_event_flush();
}

static int audit_logging(void)
{
	return nl_mode() == NL_MODE_AUDIT && !nl_proc.transparent &&
	       nl_event_enabled();
}

/* Before a fork (fork(), daemon(), forkpty()): the move to a group of its
 * own that this program owes made (core/pgroup.h: the child is made in
 * that group), every real symbol looked up, under audit the threads
 * counted, for what the child holds, and no socket fresh any more (the
 * child shares them all). */
static __attribute__((always_inline)) inline struct inherit_ctx
before_fork(void)
{
	nl_pgroup_before_child();
	nl_real_resolve_all();
	struct inherit_ctx ctx = { nl_sys_getpid(),
				   audit_logging() ? count_threads() : 1, NULL };
	nl_exec_attempts_forget();
	nl_sock_sharing();
	return ctx;
}

/* The child, first thing: the shim's state made its own. */
static __attribute__((always_inline)) inline void
child_begins(struct inherit_ctx *ctx)
{
	nl_map_code_in();
	nl_after_fork_child(ctx->parent);
	nl_shell_after_fork();
	if (ctx->threads > 1)
		log_held(ctx);
}

NL_REAL_DECL(fork);
NL_EXPORT pid_t fork(void)
{
	nl_enter();
	struct inherit_ctx ctx = before_fork();
	/* Closes by other threads keep the marks meanwhile (fdtable.h). */
	int counted = nl_fd_fork_begin();
	pid_t pid = NL_CALL_REAL(fork, (), (SYS_clone, SIGCHLD, 0, 0, 0, 0));
	if (pid != 0 && counted)
		nl_fd_fork_end();
	if (pid == 0) {
		child_begins(&ctx);
	} else if (pid > 0) {
		nl_sock_sharing();   /* one another thread made meanwhile */
		nl_pgroup_tick();
	}
	return pid;
}

/* daemon(3) forks inside glibc, where no interposer sees it: its child
 * would be taken for one sharing this process's memory, and not count or
 * rotate its own log.  Its child has run only glibc's own calls since the
 * fork (setsid, chdir, the dup2s onto 0-2), so it is made the shim's fork
 * child here, as fork() does, when daemon() returns in it: a session leader
 * of its own making, as after the program's own setsid().  The parent
 * never returns (it _exit()s, without the destructor that writes its
 * pending counts): they are written before. */
NL_REAL_DECL(daemon);
NL_EXPORT int daemon(int nochdir, int noclose)
{
	nl_enter();
	struct inherit_ctx ctx = before_fork();
	__typeof__(&daemon) real = NL_REAL(daemon);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	nl_event_flush();
	int counted = nl_fd_fork_begin();
	int r = real(nochdir, noclose);
	int e = errno;
	int in_child = nl_sys_getpid() != ctx.parent;
	if (counted && !in_child)
		nl_fd_fork_end();   /* the fork failed */
	if (in_child) {
		child_begins(&ctx);
		nl_pgroup_started_session();   /* glibc's setsid(), in the child */
	}
	errno = e;
	return r;
}

/* forkpty(3) opens a pseudo-terminal and forks inside libc, where no
 * interposer sees either.  Its child, which has run only libc's own calls
 * since the fork (the master closed, login_tty onto 0-2), is made the
 * shim's fork child as daemon()'s is; the parent's master gets FD_CLOEXEC
 * right after, as openpty()'s fds do. */
NL_REAL_DECL(forkpty);
NL_EXPORT pid_t forkpty(int *amaster, char *name, const struct termios *termp,
			const struct winsize *winp)
{
	nl_enter();
	struct inherit_ctx ctx = before_fork();
	__typeof__(&forkpty) real = NL_REAL(forkpty);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int counted = nl_fd_fork_begin();
	pid_t pid = real(amaster, name, termp, winp);
	if (pid != 0 && counted)
		nl_fd_fork_end();
	if (pid == 0) {
		int e = errno;
		child_begins(&ctx);
		errno = e;
	} else if (pid > 0) {
		nl_new_fd_flagged_after(*amaster, NL_CALL_FORKPTY, NL_CALLER());
		nl_pgroup_tick();
	}
	return pid;
}

/* vfork() cannot be wrapped by a C function: the child would return from
 * the wrapper into a stack frame the parent still needs.  A stub per
 * architecture (below: x86_64, i386, aarch64) calls nl_vfork_prepare()
 * (every real symbol looked up, so that a vfork child — CPython's, the
 * JVM's in vfork mode — never needs the dynamic loader), restores the
 * caller's stack and return address exactly, and jumps to the address it
 * returned: the real vfork, which returns straight to the caller in both
 * processes, or, when the real vfork cannot be found, the fork()
 * interposer, which POSIX allows a vfork to be.  Another architecture
 * builds without the stub: vfork is then not interposed (its children
 * still exec through the interposed exec family). */
NL_REAL_DECL(vfork);

NL_HIDDEN void *nl_vfork_prepare(void)
{
	nl_enter();
	nl_pgroup_before_child();   /* here, in the parent: never the child */
	nl_real_resolve_all();
	nl_exec_attempts_forget();
	nl_fd_before_shared_child(1);
	nl_out_stderr_child(0, 0);
	nl_sock_sharing();   /* before only: the parent resumes in the caller */
	void *real = nl_real_get(&nl_real_vfork);
	return real ? real : (void *)fork;
}

#if defined(__x86_64__)
__asm__(".pushsection .text.vfork, \"ax\", %progbits\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	sub $8, %rsp\n"          /* align the stack for the call */
	"	call nl_vfork_prepare\n"
	"	add $8, %rsp\n"
	"	jmp *%rax\n"
	".size vfork, .-vfork\n"
	".popsection\n");
#elif defined(__i386__)
__asm__(".pushsection .text.vfork, \"ax\", %progbits\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	sub $12, %esp\n"         /* align the stack for the call */
	"	call nl_vfork_prepare\n"
	"	add $12, %esp\n"
	"	jmp *%eax\n"
	".size vfork, .-vfork\n"
	".popsection\n");
#elif defined(__aarch64__)
__asm__(".pushsection .text.vfork, \"ax\", %progbits\n"
	".globl vfork\n"
	".type vfork, %function\n"
	"vfork:\n"
	"	stp x29, x30, [sp, #-16]!\n"
	"	mov x29, sp\n"
	"	bl nl_vfork_prepare\n"
	"	ldp x29, x30, [sp], #16\n"
	"	br x0\n"
	".size vfork, .-vfork\n"
	".popsection\n");
#endif
