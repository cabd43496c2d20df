/* noleak inspect --json: the same facts as the text report, as one JSON
 * object.  What could not be read is a null value with an "*_error"
 * field beside it, never a missing key. */
#include "inspect.h"

#include "common/termtext.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* Commas: one flag per open object or array. */
static int need_comma[64];
static int depth;

static void sep(void)
{
	if (need_comma[depth])
		putchar(',');
	need_comma[depth] = 1;
}

/* Any byte string becomes valid JSON, written as noleak-report writes it
 * (common/termtext.h, nl_text_json): bytes that are not UTF-8 become
 * \u00XX, as in the event log, and no control character is raw (C0, C1,
 * the bidi controls, U+2028, U+2029). */
static void str(const char *v)
{
	if (!v) {
		fputs("null", stdout);
		return;
	}
	char e[16];
	putchar('"');
	for (int n; (n = nl_text_json(v, e)); v += n)
		fputs(e, stdout);
	putchar('"');
}

static void key(const char *k)
{
	sep();
	if (k) {
		str(k);
		putchar(':');
	}
}

static void open_(const char *k, char c)
{
	key(k);
	putchar(c);
	need_comma[++depth] = 0;
}

static void close_(char c)
{
	depth--;
	putchar(c);
}

static void jstr(const char *k, const char *v)
{
	key(k);
	str(v);
}

static void jint(const char *k, long long v)
{
	key(k);
	printf("%lld", v);
}

static void jbool(const char *k, int v)
{
	key(k);
	fputs(v ? "true" : "false", stdout);
}

/* "x": null with "x_error": why, when err is set. */
static int jerr(const char *k, int err)
{
	if (!err)
		return 0;
	char ek[64];
	snprintf(ek, sizeof ek, "%s_error", k);
	key(k);
	fputs("null", stdout);
	jstr(ek, insp_errtext(err));
	return 1;
}

static void holder(struct insp_host *h, pid_t subject,
		   const struct insp_holder *x)
{
	struct insp_proc *p = insp_host_find(h, x->pid);
	open_(NULL, '{');
	jint("pid", x->pid);
	jint("fd", x->fd);
	jstr("end", x->acc >= 0 ? insp_acc_name(x->acc) : NULL);
	jstr("relation", insp_relation(h, subject, x->pid));
	jstr("exe", p ? p->exe : NULL);
	jstr("cmdline", p ? p->cmdline : NULL);
	close_('}');
}

static void holders(struct insp_host *h, pid_t subject, const char *k,
		    const struct insp_holders *hs)
{
	open_(k, '[');
	for (size_t i = 0; i < hs->n; i++)
		holder(h, subject, &hs->v[i]);
	close_(']');
	char uk[64];
	snprintf(uk, sizeof uk, "%s_unsearched", k);
	jint(uk, hs->unsearched);
	snprintf(uk, sizeof uk, "%s_hidden", k);
	jbool(uk, hs->hidden);
}

static void sock(struct insp_host *h, pid_t subject, const struct insp_fd *f)
{
	const struct insp_sock *s = &f->sock;
	if (!s->proto[0]) {
		key("socket");
		fputs("null", stdout);
		return;
	}
	open_("socket", '{');
	jstr("proto", s->proto);
	jstr("local", s->local_doubt == INSP_DOUBT_TWICE ? NULL : s->local);
	jstr("local_doubt", s->local_doubt == INSP_DOUBT_CUT ? "cut" :
			    s->local_doubt == INSP_DOUBT_TWICE ? "listed_twice" :
			    NULL);
	jstr("remote", s->remote);
	jstr("state", s->state);
	jbool("backlog", s->backlog);
	if (s->peer_ino)
		jint("peer_inode", (long long)s->peer_ino);
	else
		jstr("peer_inode", NULL);
	if (!strcmp(s->proto, "unix"))
		jstr("peer_unknown", s->peer_ino ? NULL :
			 s->peer_unknown == INSP_PEER_OTHER_NETNS ? "other_netns" :
			 s->peer_unknown == INSP_PEER_NO_DIAG ? "no_sock_diag" :
			 NULL);
	if (f->peers_searched)
		holders(h, subject, "peer_holders", &f->peers);
	close_('}');
}

static void fd_obj(struct insp_host *h, pid_t subject, const struct insp_fd *f)
{
	open_(NULL, '{');
	jint("fd", f->fd);
	if (!jerr("target", f->target_err)) {
		jstr("target", f->target);
		jstr("kind", f->kind);
		jint("inode", (long long)f->ino);
		jbool("deleted", f->deleted);
	}
	if (!jerr("flags", f->flags < 0 ? (int)-f->flags : 0)) {
		char oct[24];
		snprintf(oct, sizeof oct, "0%lo", f->flags);
		jstr("flags", oct);
		jstr("end", insp_acc_name((int)(f->flags & O_ACCMODE)));
		jbool("cloexec", !!(f->flags & O_CLOEXEC));
	}
	if (f->kind && !strcmp(f->kind, "tty"))
		jbool("tty_gone", f->tty_gone);
	if (f->kind && !strcmp(f->kind, "socket"))
		sock(h, subject, f);
	holders(h, subject, "holders", &f->holders);
	close_('}');
}

static void call_obj(const struct insp_thread *t)
{
	const struct insp_call *c = &t->call;
	if (jerr("syscall", c->err))
		return;
	jbool("running", c->running);
	if (!c->in_syscall) {
		key("syscall");
		fputs("null", stdout);
		return;
	}
	open_("syscall", '{');
	jint("nr", c->nr);
	jstr("name", insp_syscall_name(c->nr));
	open_("args", '[');
	for (int i = 0; i < 6; i++) {
		char a[24];
		snprintf(a, sizeof a, "0x%llx", c->args[i]);
		jstr(NULL, a);
	}
	close_(']');
	close_('}');
}

static void thread_obj(const char *k, struct insp_host *h, pid_t pid,
		       const struct insp_thread *t)
{
	open_(k, '{');
	jint("tid", t->tid);
	jstr("comm", t->comm);
	char st[2] = { t->state, 0 };
	jstr("state", st);
	call_obj(t);
	if (!jerr("wchan", t->wchan_err))
		jstr("wchan", t->wchan[0] ? t->wchan : NULL);
	if (!jerr("stack", t->stack_err)) {
		open_("stack", '[');
		for (size_t i = 0; i < t->nstack; i++)
			jstr(NULL, t->stack[i]);
		close_(']');
	}
	open_("fd_numbers", '[');
	for (size_t i = 0; i < t->nfdnums; i++)
		jint(NULL, t->fdnums[i]);
	close_(']');
	jint("fd_numbers_omitted", (long long)t->fdnums_omitted);
	jstr("fd_numbers_omitted_error", t->fdnums_omitted ?
		 insp_errtext(t->fdnums_omitted_err) : NULL);
	jstr("fds_unknown", t->fds_err ? insp_errtext(t->fds_err) : NULL);
	open_("fds", '[');
	for (size_t i = 0; i < t->nfds; i++)
		fd_obj(h, pid, &t->fds[i]);
	close_(']');
	jint("fds_omitted", (long long)(t->nfdnums - t->nfds));
	jstr("note", t->note[0] ? t->note : NULL);
	close_('}');
}

static void process_fields(const struct insp_proc *p)
{
	jint("pid", p->pid);
	if (!jerr("exe", p->exe ? 0 : p->exe_err))
		jstr("exe", p->exe);
	jstr("comm", p->comm);
	jstr("cmdline", p->cmdline);
	jint("ppid", p->ppid);
	jint("pgid", p->pgid);
	jint("sid", p->sid);
	char st[2] = { p->state, 0 };
	jstr("state", st);
}

static void group_obj(const struct insp_report *r)
{
	if (r->no_group) {
		key("process_group");
		fputs("null", stdout);
		jstr("process_group_none", r->no_group);
		return;
	}
	open_("process_group", '{');
	jint("pgid", r->p->pgid);
	jbool("leader_alive", r->leader_alive);
	open_("members", '[');
	for (size_t i = 0; i < r->ngroup; i++) {
		struct insp_proc *m = insp_host_find(r->host, r->group[i].pid);
		if (!m)
			continue;
		open_(NULL, '{');
		jint("pid", m->pid);
		jint("ppid", m->ppid);
		jstr("relation", insp_relation(r->host, r->p->pid, m->pid));
		jstr("exe", m->exe);
		jstr("cmdline", m->cmdline);
		jbool("orphan", r->group[i].orphan);
		close_('}');
	}
	close_(']');
	open_("orphans", '[');
	for (size_t i = 0; i < r->ngroup; i++)
		if (r->group[i].orphan)
			jint(NULL, r->group[i].pid);
	close_(']');
	close_('}');
}

void insp_print_json(const struct insp_report *r)
{
	depth = 0;
	need_comma[0] = 0;
	open_(NULL, '{');
	process_fields(r->p);
	if (r->asked_tid)
		jint("thread_asked", r->asked_tid);
	else
		jstr("thread_asked", NULL);
	if (!jerr("threads", r->tasks_err)) {
		open_("threads", '[');
		for (size_t i = 0; i < r->nthreads; i++)
			thread_obj(NULL, r->host, r->p->pid, &r->threads[i]);
		close_(']');
	}
	if (!jerr("inheritable_fds", r->fds_err)) {
		open_("inheritable_fds", '[');
		for (size_t i = 0; i < r->ninherit; i++)
			fd_obj(r->host, r->p->pid, &r->inherit[i]);
		close_(']');
	}
	group_obj(r);
	close_('}');
	putchar('\n');
}

void insp_print_blocked_json(const struct insp_blocked *b)
{
	depth = 0;
	need_comma[0] = 0;
	open_(NULL, '{');
	key("interval");
	printf("%g", b->interval);
	jint("threads_sampled", (long long)b->nthreads_seen);
	jint("threads_unreadable", (long long)b->unreadable);
	open_("blocked", '[');
	for (size_t i = 0; i < b->n; i++) {
		open_(NULL, '{');
		process_fields(b->v[i].p);
		thread_obj("thread", b->host, b->v[i].p->pid, &b->v[i].t);
		close_('}');
	}
	close_(']');
	close_('}');
	putchar('\n');
}
