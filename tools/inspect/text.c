/* noleak inspect: the report for people.  It leads with the call each
 * thread is blocked in and who holds the other end of its fd, and says
 * plainly what could not be read. */
#include "inspect.h"
#include "common/termtext.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* Command lines are cut here in the text (the JSON has them whole). */
#define CMD_MAX 200

/* A command line on one line: control characters (common/termtext.h: a
 * newline in an argument, an 8-bit CSI, a bidi override) become spaces,
 * and it is cut at CMD_MAX. */
static void put_cmd(const char *s)
{
	size_t n = 0;
	while (s && *s && n < CMD_MAX) {
		int k = nl_text_control(s);
		if (k)
			putchar(' ');
		else
			fwrite(s, 1, (size_t)(k = nl_text_char(s)), stdout);
		s += k;
		n += (size_t)k;
	}
	if (s && *s)
		fputs("...", stdout);
}

/* A name a process chose (a path, an executable, a thread's name, a
 * socket's address), whole: control characters (common/termtext.h: C0,
 * C1, bidi, line separators) as \xNN (each byte), so that none can end a
 * line of this report, speak to the terminal or reorder the line. */
static void put_name(const char *s)
{
	while (s && *s) {
		int k = nl_text_control(s);
		if (k) {
			for (int i = 0; i < k; i++)
				printf("\\x%02x", (unsigned char)s[i]);
		} else {
			fwrite(s, 1, (size_t)(k = nl_text_char(s)), stdout);
		}
		s += k;
	}
}

static int is_pipe_like(const struct insp_fd *f)
{
	return !strcmp(f->kind, "pipe") || !strcmp(f->kind, "fifo");
}

/* `ends`: the object is a pipe, whose holders differ by their end. */
static void print_holder(struct insp_host *h, pid_t subject,
			 const struct insp_holder *x, int ind, int ends)
{
	struct insp_proc *p = insp_host_find(h, x->pid);
	printf("%*spid %d (%s) fd %d", ind, "", (int)x->pid,
	       insp_relation(h, subject, x->pid), x->fd);
	if (ends && x->acc >= 0)
		printf(" (%s end)", insp_acc_name(x->acc));
	if (p) {
		fputs(": ", stdout);
		put_name(p->exe ? p->exe : p->comm);
		fputs("  [", stdout);
		put_cmd(p->cmdline);
		putchar(']');
	}
	putchar('\n');
}

/* Holders of a pipe grouped by end, the one that decides first. */
static void print_holders(struct insp_host *h, pid_t subject,
			  const struct insp_fd *f, int ind)
{
	const struct insp_holders *hs = &f->holders;
	int pipe_like = is_pipe_like(f);
	int own = f->flags >= 0 ? (int)(f->flags & O_ACCMODE) : -1;
	if (!hs->n && (hs->unsearched || hs->hidden))
		printf("%*sno other process found holding it\n", ind, "");
	else if (!hs->n)
		printf("%*sno other process holds it\n", ind, "");
	else if (pipe_like && own == O_RDONLY)
		printf("%*sheld also by (a read sees end of file only when "
		       "every write end is closed):\n", ind, "");
	else if (pipe_like && own == O_WRONLY)
		printf("%*sheld also by (a write blocks while the pipe is full "
		       "and a read end is open):\n", ind, "");
	else
		printf("%*sheld also by:\n", ind, "");
	for (size_t i = 0; i < hs->n; i++)
		print_holder(h, subject, &hs->v[i], ind + 2, pipe_like);
	if (hs->unsearched)
		printf("%*s(%d processes could not be searched: permission)\n",
		       ind, "", hs->unsearched);
	if (hs->hidden & INSP_HIDDEN_HIDEPID)
		printf("%*s(/proc hides the processes this user may not look "
		       "at (hidepid): they could not be searched)\n", ind, "");
	if (hs->hidden & INSP_HIDDEN_PIDNS)
		printf("%*s(some processes could not be seen: those outside "
		       "this PID namespace are not in its /proc, and were not "
		       "searched)\n", ind, "");
}

static void print_socket(struct insp_host *h, pid_t subject,
			 const struct insp_fd *f, int ind)
{
	const struct insp_sock *s = &f->sock;
	if (!s->proto[0]) {
		printf("%*ssocket not found in /proc/net/{tcp,tcp6,udp,udp6,unix} "
		       "(another protocol, or another network namespace)\n",
		       ind, "");
		return;
	}
	printf("%*s%s ", ind, "", s->proto);
	put_name(s->local[0] ? s->local : s->local_doubt == INSP_DOUBT_TWICE ?
		 "?" : "(unnamed)");
	fputs(" -> ", stdout);
	put_name(s->remote[0] ? s->remote : s->peer_ino ? "(unnamed)" : "-");
	printf(", %s\n", s->state);
	if (s->local_doubt == INSP_DOUBT_CUT)
		printf("%*sits name goes on past a newline, where "
		       "/proc/net/unix cannot tell where it ends\n", ind, "");
	else if (s->local_doubt == INSP_DOUBT_TWICE)
		printf("%*s/proc/net/unix lists its inode twice (a socket name "
		       "holding a newline and a forged row): its name and state "
		       "are unknown\n", ind, "");
	if (!strcmp(s->state, "LISTEN"))
		return;
	if (!s->peer_ino && !strcmp(s->proto, "unix")) {
		/* a unix peer is on this host, always */
		printf("%*s%s\n", ind, "",
		       s->peer_unknown == INSP_PEER_OTHER_NETNS ?
		       "peer in another network namespace than inspect's: "
		       "could not be looked up (sock_diag is asked there as "
		       "root only)" :
		       s->peer_unknown == INSP_PEER_NO_DIAG ?
		       "peer could not be looked up: no sock_diag (unix_diag) "
		       "in this kernel" :
		       "no peer socket (not connected, or its other end is "
		       "closed)");
		return;
	}
	if (!s->peer_ino) {
		printf("%*speer not on this host (or not visible here)\n", ind, "");
		return;
	}
	if (!f->peers_searched)
		return;
	if (s->backlog)
		printf("%*snot accepted yet: the connection waits in the backlog "
		       "of listening socket:[%lu], held by:\n", ind, "",
		       s->peer_ino);
	else
		printf("%*speer socket:[%lu] held by:\n", ind, "", s->peer_ino);
	for (size_t i = 0; i < f->peers.n; i++)
		print_holder(h, subject, &f->peers.v[i], ind + 2, 0);
	if (!f->peers.n)
		printf("%*sno process found%s\n", ind + 2, "",
		       f->peers.unsearched ? " (some could not be searched: "
					     "permission)" :
		       f->peers.hidden & INSP_HIDDEN_HIDEPID ?
		       " (/proc hides some: hidepid)" :
		       f->peers.hidden & INSP_HIDDEN_PIDNS ?
		       " (some could not be seen: outside this PID namespace)" :
		       "");
}

/* One line naming the fd, then what it is. */
static void print_fd(struct insp_host *h, pid_t subject,
		     const struct insp_fd *f, int ind, int holders)
{
	if (f->target_err) {
		printf("%*sfd %d: not readable (%s)\n", ind, "", f->fd,
		       insp_errtext(f->target_err));
		return;
	}
	printf("%*sfd %d: ", ind, "", f->fd);
	put_name(f->target);
	printf("%s, %s", f->deleted ? " (deleted)" : "", f->kind);
	if (f->flags >= 0) {
		if (is_pipe_like(f))
			printf(", %s end", insp_acc_name((int)(f->flags & O_ACCMODE)));
		printf(", %s", f->flags & O_CLOEXEC ? "close-on-exec"
						    : "inheritable");
	} else {
		printf(", flags not readable (%s)", insp_errtext((int)f->flags));
	}
	putchar('\n');
	if (!strcmp(f->kind, "tty") && f->tty_gone)
		printf("%*sthe terminal is gone (closed or hung up): reads "
		       "fail or stop the process\n", ind + 2, "");
	if (!strcmp(f->kind, "socket"))
		print_socket(h, subject, f, ind + 2);
	if (holders)
		print_holders(h, subject, f, ind + 2);
}

static void print_call(const struct insp_thread *t)
{
	const struct insp_call *c = &t->call;
	if (c->err) {
		printf("  syscall: not readable (%s)\n", insp_errtext(c->err));
		return;
	}
	if (c->running) {
		printf("  running (not blocked)\n");
		return;
	}
	if (!c->in_syscall) {
		printf("  not in a system call\n");
		return;
	}
	const char *name = insp_syscall_name(c->nr);
	printf("  blocked in %s", name ? name : "syscall");
	if (!name)
		printf(" %ld", c->nr);
	printf("(0x%llx, 0x%llx, 0x%llx, ...)", c->args[0], c->args[1],
	       c->args[2]);
	if (t->nfdnums) {
		printf(" on fd");
		for (size_t i = 0; i < t->nfdnums; i++)
			printf("%s%d", i ? ", " : " ", t->fdnums[i]);
	}
	if (t->fdnums_omitted)
		printf(" ... and %llu more (not listed: %s)", t->fdnums_omitted,
		       insp_errtext(t->fdnums_omitted_err));
	putchar('\n');
	if (t->fds_err)
		printf("  its fds: unknown, memory not readable (%s)\n",
		       insp_errtext(t->fds_err));
}

static void print_thread(struct insp_host *h, pid_t pid,
			 const struct insp_thread *t)
{
	printf("\nthread %d (", (int)t->tid);
	put_name(t->comm);
	printf("), state %c\n", t->state);
	print_call(t);
	if (t->wchan_err)
		printf("  wchan: not readable (%s)\n", insp_errtext(t->wchan_err));
	else if (t->wchan[0])
		printf("  kernel wait: %s\n", t->wchan);
	if (t->note[0]) {
		fputs("  ", stdout);
		put_name(t->note);   /* it names children: their names are theirs */
		putchar('\n');
	}
	for (size_t i = 0; i < t->nfds; i++)
		print_fd(h, pid, &t->fds[i], 2, 1);
	if (t->nfdnums > t->nfds)
		printf("  ... and %zu more fds, not described (only the first "
		       "%zu are)\n", t->nfdnums - t->nfds, t->nfds);
	if (t->stack_err) {
		printf("  stack: not readable (%s)\n", insp_errtext(t->stack_err));
	} else if (t->nstack) {
		printf("  stack:\n");
		for (size_t i = 0; i < t->nstack; i++)
			printf("    %s\n", t->stack[i]);
	}
}

static void print_process_head(const struct insp_proc *p)
{
	printf("process %d: ", (int)p->pid);
	put_name(p->exe ? p->exe : p->comm);
	putchar('\n');
	if (!p->exe && p->kthread)
		printf("  exe: none (a kernel thread)\n");
	else if (!p->exe)
		printf("  exe: not readable (%s)\n", insp_errtext(p->exe_err));
	printf("  command: ");
	put_cmd(p->cmdline);
	putchar('\n');
	printf("  parent %d, process group %d, session %d, state %c\n",
	       (int)p->ppid, (int)p->pgid, (int)p->sid, p->state);
	if (p->state == 'Z')
		printf("  a zombie: it has exited, and its parent %d has not "
		       "reaped it\n", (int)p->ppid);
}

static void print_inherit(const struct insp_report *r)
{
	printf("\ninheritable fds above 2 (no close-on-exec), and the "
	       "descendants holding them:\n");
	if (r->fds_err) {
		printf("  fds: not readable (%s)\n", insp_errtext(r->fds_err));
		return;
	}
	if (!r->ninherit)
		printf("  none\n");
	for (size_t i = 0; i < r->ninherit; i++) {
		const struct insp_fd *f = &r->inherit[i];
		print_fd(r->host, r->p->pid, f, 2, 0);
		if (f->holders.n)
			printf("    copies in descendants:\n");
		for (size_t k = 0; k < f->holders.n; k++)
			print_holder(r->host, r->p->pid, &f->holders.v[k], 6,
				     is_pipe_like(f));
	}
}

static void print_group(const struct insp_report *r)
{
	struct insp_host *h = r->host;
	if (r->no_group) {
		printf("\nprocess group: none to analyse (%s)\n", r->no_group);
		return;
	}
	printf("\nprocess group %d%s:\n", (int)r->p->pgid,
	       r->leader_alive ? "" : " (its leader is gone)");
	size_t orphans = 0;
	for (size_t i = 0; i < r->ngroup; i++) {
		struct insp_proc *m = insp_host_find(h, r->group[i].pid);
		if (!m)
			continue;
		printf("  %d (%s), parent %d%s: ", (int)m->pid,
		       insp_relation(h, r->p->pid, m->pid), (int)m->ppid,
		       r->group[i].orphan ? ", ORPHAN" : "");
		put_cmd(m->cmdline ? m->cmdline : m->comm);
		putchar('\n');
		orphans += (size_t)r->group[i].orphan;
	}
	if (!orphans)
		printf("  no orphans\n");
	else
		printf("  %zu orphan(s): members whose parent is outside the "
		       "group (reparented to init or a subreaper)\n", orphans);
}

void insp_print_text(const struct insp_report *r)
{
	print_process_head(r->p);
	if (r->asked_tid)
		printf("  %d is one of its threads, not a process: %s\n",
		       (int)r->asked_tid,
		       r->nthreads && r->threads[0].tid == r->asked_tid
		       ? "listed first" : "it has ended since");
	if (r->tasks_err)
		printf("threads: not readable (%s)\n", insp_errtext(r->tasks_err));
	for (size_t i = 0; i < r->nthreads; i++)
		print_thread(r->host, r->p->pid, &r->threads[i]);
	print_inherit(r);
	print_group(r);
}

void insp_print_blocked_text(const struct insp_blocked *b)
{
	printf("%zu thread(s) stayed in the same read, write, accept, connect "
	       "or wait call for %g s (of %zu sampled",
	       b->n, b->interval, b->nthreads_seen);
	if (b->unreadable)
		printf("; %zu not readable", b->unreadable);
	printf(")\n");
	for (size_t i = 0; i < b->n; i++) {
		printf("\n");
		print_process_head(b->v[i].p);
		print_thread(b->host, b->v[i].p->pid, &b->v[i].t);
	}
}
