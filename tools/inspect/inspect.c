/* noleak inspect: explain a process that is already hung, from /proc
 * alone, as gdb, strace and lsof would by hand.
 *
 *   noleak inspect [--json] PID
 *   noleak inspect [--json] --all --blocked N
 *
 * The first form reports, for each thread of PID, the call it is blocked
 * in and the fds it waits on, who holds the other end of each, the
 * process's inheritable fds and which descendants hold copies, and its
 * process group with its orphans.  The second samples every thread of the
 * host twice, N seconds apart, and explains those that stayed in the same
 * read, write, accept, connect or wait call.
 *
 * A PID that is a thread id (not a thread group's leader) stands for its
 * process: the report is the process's, with that thread first.  A report
 * that could not be written whole is an error of its own (exit 3), said
 * on stderr. */
#include "inspect.h"
#include "common/toolout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char inspect_usage[] =
	"usage: noleak inspect [--json] PID\n"
	"       noleak inspect [--json] --all --blocked SECONDS\n";

static int usage_error(const char *why, const char *what)
{
	fprintf(stderr, "noleak inspect: %s%s\n", why, what ? what : "");
	fputs(inspect_usage, stderr);
	return NL_INSPECT_EXIT_USAGE;
}

/* Everything written to stdout reached it, or a message and exit 3: a
 * full disk or a reader gone (SIGPIPE ignored) is no report, and no
 * "no such process" either. */
static int finish(const char *what)
{
	return nl_stdout_failed("noleak inspect", what) ? NL_INSPECT_EXIT_WRITE : 0;
}

static int parse_pid(const char *s, pid_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	*out = (pid_t)v;
	return 0;
}

/* ---- one process ---- */

static int is_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

static void load_threads(struct insp_report *r)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)r->p->pid);
	DIR *d = opendir(path);
	if (!d) {
		r->tasks_err = errno;
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_number(e->d_name))
			continue;
		void *v = realloc(r->threads, (r->nthreads + 1) * sizeof *r->threads);
		if (!v)
			break;
		r->threads = v;
		insp_thread_load(r->host, r->p->pid, atoi(e->d_name),
				 &r->threads[r->nthreads++]);
	}
	closedir(d);
	/* The thread asked for comes first; the others keep their order. */
	for (size_t i = 1; r->asked_tid && i < r->nthreads; i++)
		if (r->threads[i].tid == r->asked_tid) {
			struct insp_thread t = r->threads[i];
			memmove(&r->threads[1], &r->threads[0],
				i * sizeof *r->threads);
			r->threads[0] = t;
			break;
		}
}

/* fds above 2 without close-on-exec: what every child the process starts
 * receives.  Each is searched for in the process's descendants. */
static void load_inheritable(struct insp_report *r)
{
	if (insp_proc_fds(r->p) < 0) {
		r->fds_err = r->p->fds_err;
		return;
	}
	for (size_t i = 0; i < r->p->nfds; i++) {
		int fd = r->p->fds[i].fd;
		if (fd <= 2)
			continue;
		long flags = insp_fd_flags(r->p->pid, fd);
		if (flags >= 0 && (flags & O_CLOEXEC))
			continue;
		void *v = realloc(r->inherit, (r->ninherit + 1) * sizeof *r->inherit);
		if (!v)
			break;
		r->inherit = v;
		insp_describe_fd(r->host, r->p->pid, fd, INSP_SEARCH_DESCENDANTS,
				 &r->inherit[r->ninherit++]);
	}
}

static int in_group(const struct insp_host *h, pid_t pid, pid_t pgid)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->procs[i].pid == pid)
			return h->procs[i].pgid == pgid;
	return 0;
}

/* An orphan is a member that was not put in the group by the process
 * that started the group: its parent is outside the group and is not the
 * leader's parent (a shell puts every command of a pipeline in the
 * first one's group), or it was reparented to init. */
static void load_group(struct insp_report *r)
{
	struct insp_host *h = r->host;
	pid_t pgid = r->p->pgid;
	/* Group 0 is where the kernel starts its own: every kernel thread,
	 * and init or any process it started that never called setsid or
	 * setpgid.  No process leads it, nothing was put in it, so neither
	 * "its leader is gone" nor an orphan means anything there. */
	if (r->p->kthread) {
		r->no_group = "a kernel thread, in no process group";
		return;
	}
	/* In a PID namespace other than the initial one, /proc says group
	 * 0 of a process whose group's leader is outside the namespace (the
	 * namespace's init, started by unshare or a container runtime, and
	 * whatever it started that made no group of its own): a group there
	 * is, but its leader and members outside cannot be seen from here. */
	if (pgid <= 0 && insp_pidns_nested()) {
		r->no_group = "its group's leader is outside this PID "
			      "namespace: the group cannot be seen from here";
		return;
	}
	if (pgid <= 0) {
		r->no_group = "group 0, where the kernel starts its own "
			      "processes; none leads it";
		return;
	}
	struct insp_proc *leader = insp_host_find(h, pgid);
	r->leader_alive = leader && leader->pgid == pgid;
	for (size_t i = 0; i < h->n; i++) {
		struct insp_proc *m = &h->procs[i];
		if (m->pgid != pgid)
			continue;
		int orphan = 0;
		if (m->pid != pgid)
			orphan = m->ppid == 1 ||
				 (!in_group(h, m->ppid, pgid) &&
				  (!r->leader_alive || m->ppid != leader->ppid));
		void *v = realloc(r->group, (r->ngroup + 1) * sizeof *r->group);
		if (!v)
			break;
		r->group = v;
		r->group[r->ngroup++] = (struct insp_member){ m->pid, orphan };
	}
}

/* The process a thread id belongs to ("Tgid:" of /proc/TID/status: the
 * directory of a thread is there, though /proc does not list it), or -1. */
static pid_t thread_group_of(pid_t tid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	if (insp_read_file(path, buf, sizeof buf) < 0)
		return -1;
	const char *t = strstr(buf, "\nTgid:");
	return t ? (pid_t)strtol(t + 6, NULL, 10) : -1;
}

static void free_report(struct insp_report *r)
{
	for (size_t i = 0; i < r->nthreads; i++)
		insp_thread_free(&r->threads[i]);
	for (size_t i = 0; i < r->ninherit; i++)
		insp_fd_free(&r->inherit[i]);
	free(r->threads);
	free(r->inherit);
	free(r->group);
}

static int inspect_one(pid_t pid, int json)
{
	struct insp_host host;
	if (insp_host_load(&host) < 0) {
		fprintf(stderr, "noleak inspect: cannot read /proc: %s\n",
			strerror(errno));
		return NL_INSPECT_EXIT_NOPROC;
	}
	struct insp_report r = { .host = &host };
	r.p = insp_host_find(&host, pid);
	pid_t tgid;
	if (!r.p && (tgid = thread_group_of(pid)) > 0 && tgid != pid &&
	    (r.p = insp_host_find(&host, tgid)))
		r.asked_tid = pid;
	if (!r.p) {
		fprintf(stderr, "noleak inspect: no process %d\n", (int)pid);
		return NL_INSPECT_EXIT_NOPROC;
	}
	load_threads(&r);
	load_inheritable(&r);
	load_group(&r);
	if (json)
		insp_print_json(&r);
	else
		insp_print_text(&r);
	free_report(&r);
	return finish("the report");
}

/* ---- --all --blocked N ---- */

struct sample {
	pid_t pid, tid;
	struct insp_call call;
};

struct samples {
	struct sample *v;
	size_t n;
	size_t seen, unreadable;
};

/* The calls that mean waiting on someone else. */
static int worth_watching(const struct insp_call *c)
{
	if (!c->in_syscall)
		return 0;
	switch (insp_syscall_class(c->nr)) {
	case INSP_CALL_READ:
	case INSP_CALL_WRITE:
	case INSP_CALL_ACCEPT:
	case INSP_CALL_CONNECT:
	case INSP_CALL_WAIT:
		return 1;
	default:
		return 0;
	}
}

/* Kernel threads report a system call of 0 with zero arguments: they are
 * not blocked in read(), so they are left out (PF_KTHREAD in stat). */
static int is_kernel_thread(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (insp_read_file(path, buf, sizeof buf) < 0)
		return 0;
	const char *p = strrchr(buf, ')');
	unsigned long flags = 0;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return 0;
	return (flags & 0x00200000) != 0;
}

static void sample_process(pid_t pid, struct samples *s)
{
	char path[64];
	if (is_kernel_thread(pid))
		return;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_number(e->d_name))
			continue;
		struct sample x = { pid, atoi(e->d_name), { 0 } };
		insp_read_call(pid, x.tid, &x.call);
		s->seen++;
		if (x.call.err) {
			if (x.call.err != ENOENT && x.call.err != ESRCH)
				s->unreadable++;
			continue;
		}
		if (!worth_watching(&x.call))
			continue;
		void *v = realloc(s->v, (s->n + 1) * sizeof *s->v);
		if (!v)
			break;
		s->v = v;
		s->v[s->n++] = x;
	}
	closedir(d);
}

static void sample_host(struct samples *s)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	pid_t self = getpid();
	struct dirent *e;
	while ((e = readdir(d)))
		if (is_number(e->d_name) && atoi(e->d_name) != self)
			sample_process(atoi(e->d_name), s);
	closedir(d);
}

static void sleep_seconds(double secs)
{
	struct timespec ts = { (time_t)secs,
			       (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int inspect_blocked(double secs, int json)
{
	struct samples first = { 0 };
	sample_host(&first);
	sleep_seconds(secs);
	struct insp_host host;
	insp_host_load(&host);
	struct insp_blocked b = { .host = &host, .interval = secs,
				  .nthreads_seen = first.seen,
				  .unreadable = first.unreadable };
	for (size_t i = 0; i < first.n; i++) {
		struct sample *x = &first.v[i];
		struct insp_call again;
		insp_read_call(x->pid, x->tid, &again);
		struct insp_proc *p = insp_host_find(&host, x->pid);
		if (!p || !insp_same_call(&x->call, &again))
			continue;
		void *v = realloc(b.v, (b.n + 1) * sizeof *b.v);
		if (!v)
			break;
		b.v = v;
		b.v[b.n].p = p;
		insp_thread_load(&host, x->pid, x->tid, &b.v[b.n].t);
		b.n++;
	}
	if (json)
		insp_print_blocked_json(&b);
	else
		insp_print_blocked_text(&b);
	for (size_t i = 0; i < b.n; i++)
		insp_thread_free(&b.v[i].t);
	free(b.v);
	free(first.v);
	return finish("the report");
}

/* ---- options ---- */

enum { OPT_JSON = 256, OPT_ALL, OPT_BLOCKED };

static const struct option inspect_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "blocked", required_argument, NULL, OPT_BLOCKED },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 3600)
		return -1;
	*out = v;
	return 0;
}

int noleak_inspect_main(int argc, char **argv)
{
	int json = 0, all = 0;
	double secs = 0;
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", inspect_options, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_ALL:
			all = 1;
			break;
		case OPT_BLOCKED:
			if (parse_seconds(optarg, &secs) < 0)
				return usage_error("--blocked needs seconds "
						   "(0 < N <= 3600), got: ", optarg);
			break;
		case 'h':
			fputs(inspect_usage, stdout);
			return finish("the usage");
		case ':':
			return usage_error("option needs a value: ", argv[optind - 1]);
		default:
			return usage_error("unknown option: ", argv[optind - 1]);
		}
	}
	if (all) {
		if (optind < argc)
			return usage_error("--all takes no PID: ", argv[optind]);
		if (!secs)
			return usage_error("--all needs --blocked SECONDS", NULL);
		return inspect_blocked(secs, json);
	}
	if (secs)
		return usage_error("--blocked goes with --all", NULL);
	if (optind >= argc)
		return usage_error("no PID given", NULL);
	if (optind + 1 < argc)
		return usage_error("one PID only, got also: ", argv[optind + 1]);
	pid_t pid;
	if (parse_pid(argv[optind], &pid) < 0)
		return usage_error("not a process id: ", argv[optind]);
	return inspect_one(pid, json);
}
