/* Folding events into bounded tables.
 *
 * Memory stays bounded whatever the size of the log: strings are interned
 * once into a capped pool, each table keeps at most REP_ROWS_MAX rows and
 * counts the rest in an "(other)" row, the longest blocked reads are kept in
 * a list of --top entries, and distinct execs are counted in a capped set. */
#include "agg.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define POOL_BYTES_MAX (24u << 20)
#define POOL_IDS_MAX (1u << 19)
#define EXECS_SLOTS_MAX (1u << 21)
#define TABLE_SLOTS 16384u      /* a power of two above REP_ROWS_MAX / 0.75 */

const char *const rep_kind_names[K_NKINDS] = {
#define NL_EVENT_KIND(name, ID) #name,
#include "common/events.def"
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

/* A word-at-a-time hash: strings are hashed for every field of every line. */
static uint64_t hash_bytes(const void *data, size_t n, uint64_t h)
{
	const unsigned char *p = data;
	h ^= n * 0x9e3779b97f4a7c15ULL;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

/* --- string pool ------------------------------------------------------ */

static uint32_t pool_put(struct pool *p, const char *s, size_t n, int cut);

static void pool_init(struct pool *p)
{
	memset(p, 0, sizeof *p);
	p->max = POOL_IDS_MAX;
	p->nslots = 1024;
	p->slots = xcalloc(p->nslots, sizeof *p->slots);
	pool_put(p, "", 0, 0);
	pool_put(p, "(other)", 7, 0);
}

const char *pool_str(const struct pool *p, uint32_t id)
{
	return id < p->n ? p->arena + p->off[id] : "";
}

int pool_cut(const struct pool *p, uint32_t id)
{
	return id < p->n && p->cut[id];
}

static void pool_grow_slots(struct pool *p)
{
	uint32_t ns = p->nslots * 2;
	uint32_t *slots = xcalloc(ns, sizeof *slots);
	for (uint32_t id = 0; id < p->n; id++) {
		uint32_t h = (uint32_t)hash_bytes(p->arena + p->off[id], p->len[id], 0);
		uint32_t i = h & (ns - 1);
		while (slots[i])
			i = (i + 1) & (ns - 1);
		slots[i] = id + 1;
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = ns;
}

/* `cut`: s is the head of a longer string, kept apart from the same
 * bytes whole (a path cut short names no program). */
static uint32_t pool_put(struct pool *p, const char *s, size_t n, int cut)
{
	if (n > REP_STR_MAX) {
		n = REP_STR_MAX;
		cut = 1;
	}
	uint32_t h = (uint32_t)hash_bytes(s, n, 0);
	uint32_t i = h & (p->nslots - 1);
	for (uint32_t id; (id = p->slots[i]); i = (i + 1) & (p->nslots - 1))
		if (p->len[id - 1] == n && p->cut[id - 1] == cut &&
		    !memcmp(p->arena + p->off[id - 1], s, n))
			return id - 1;
	if (p->n >= p->max || p->used + n + 1 > POOL_BYTES_MAX) {
		p->full = 1;
		return STR_OTHER;
	}
	if (p->used + n + 1 > p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1 << 16;
		p->arena = xrealloc(p->arena, p->cap);
	}
	if (!(p->n & (p->n - 1)) || p->n < 2) {  /* at powers of two */
		size_t want = p->n < 2 ? 2 : (size_t)p->n * 2;
		p->off = xrealloc(p->off, want * sizeof *p->off);
		p->len = xrealloc(p->len, want * sizeof *p->len);
		p->cut = xrealloc(p->cut, want * sizeof *p->cut);
	}
	uint32_t id = p->n++;
	memcpy(p->arena + p->used, s, n);
	p->arena[p->used + n] = '\0';
	p->off[id] = (uint32_t)p->used;
	p->len[id] = (uint32_t)n;
	p->cut[id] = (uint8_t)cut;
	p->used += n + 1;
	p->slots[i] = id + 1;
	if (p->n * 4 > p->nslots * 3)
		pool_grow_slots(p);
	return id;
}

static void pool_free(struct pool *p)
{
	free(p->arena);
	free(p->off);
	free(p->len);
	free(p->cut);
	free(p->slots);
}

/* A field's string id; strings are decoded only when they hold escapes,
 * and a field that repeats the previous line's value is not hashed. */
static uint32_t intern(struct rep_agg *a, const struct rep_event *ev,
		       enum rep_field f)
{
	const struct rep_val *v = &ev->f[f];
	if (v->type != RJ_STR || !v->n)
		return STR_NONE;
	char buf[REP_STR_MAX + 2];
	const char *s = v->p;
	size_t n = v->n;
	int cut = 0;
	if (v->esc) {
		n = rep_str(v, buf, sizeof buf);
		s = buf;
	}
	if (n > REP_STR_MAX) {
		n = rep_str(v, buf, REP_STR_MAX + 1);  /* cut on a character */
		s = buf;
		cut = 1;
	}
	uint32_t last = a->cache[f];
	if (last && a->pool.len[last] == n && a->pool.cut[last] == cut &&
	    !memcmp(pool_str(&a->pool, last), s, n))
		return last;
	uint32_t id = pool_put(&a->pool, s, n, cut);
	a->cache[f] = id;
	return id;
}

static uint32_t intern_text(struct rep_agg *a, const char *s)
{
	return pool_put(&a->pool, s, strlen(s), 0);
}

/* --- tables ----------------------------------------------------------- */

static void touch(struct row *r, uint64_t w, int64_t ts)
{
	r->count = sat_add(r->count, w);
	if (ts >= 0) {
		if (r->first < 0 || ts < r->first)
			r->first = ts;
		if (r->last < 0 || ts > r->last)
			r->last = ts;
	}
}

static struct row *table_row(struct table *t, const uint32_t k[KEYN])
{
	if (!t->slots) {
		t->slots = xcalloc(TABLE_SLOTS, sizeof *t->slots);
		for (int j = 0; j < KEYN; j++)
			t->other.k[j] = STR_OTHER;
		t->other.first = t->other.last = -1;
	}
	uint32_t i = (uint32_t)hash_bytes(k, KEYN * sizeof *k, 1) & (TABLE_SLOTS - 1);
	for (uint32_t r; (r = t->slots[i]); i = (i + 1) & (TABLE_SLOTS - 1))
		if (!memcmp(t->rows[r - 1].k, k, KEYN * sizeof *k))
			return &t->rows[r - 1];
	if (t->n >= REP_ROWS_MAX)
		return &t->other;
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 64;
		t->rows = xrealloc(t->rows, t->alloc * sizeof *t->rows);
	}
	struct row *r = &t->rows[t->n];
	memset(r, 0, sizeof *r);
	memcpy(r->k, k, KEYN * sizeof *k);
	r->first = r->last = -1;
	t->slots[i] = ++t->n;
	return r;
}

static struct row *table_add(struct table *t, const uint32_t k[KEYN],
			     uint64_t w, int64_t ts)
{
	struct row *r = table_row(t, k);
	touch(r, w, ts);
	t->total = sat_add(t->total, w);
	return r;
}

static void table_free(struct table *t)
{
	free(t->rows);
	free(t->slots);
}

/* --- distinct execs --------------------------------------------------- */

/* 1 when the exec was not seen before.  Past the cap the set stops
 * growing, new execs are no longer counted, and the count becomes a lower
 * bound (execs_full). */
static int exec_first_seen(struct rep_agg *a, uint64_t h)
{
	if (!h)
		h = 1;
	if (!a->execs) {
		a->execs_slots = 4096;
		a->execs = xcalloc(a->execs_slots, sizeof *a->execs);
	}
	uint32_t mask = a->execs_slots - 1, i = (uint32_t)(h >> 20) & mask;
	for (; a->execs[i]; i = (i + 1) & mask)
		if (a->execs[i] == h)
			return 0;
	if ((uint64_t)(a->n_execs + 1) * 4 > (uint64_t)a->execs_slots * 3) {
		if (a->execs_slots >= EXECS_SLOTS_MAX) {
			a->execs_full = 1;
			return 0;  /* unknown: the count stays a lower bound */
		}
		uint32_t ns = a->execs_slots * 2;
		uint64_t *set = xcalloc(ns, sizeof *set);
		for (uint32_t j = 0; j < a->execs_slots; j++) {
			if (!a->execs[j])
				continue;
			uint32_t k = (uint32_t)(a->execs[j] >> 20) & (ns - 1);
			while (set[k])
				k = (k + 1) & (ns - 1);
			set[k] = a->execs[j];
		}
		free(a->execs);
		a->execs = set;
		a->execs_slots = ns;
		mask = ns - 1;
		for (i = (uint32_t)(h >> 20) & mask; set[i]; i = (i + 1) & mask)
			;
	}
	a->execs[i] = h;
	a->n_execs++;
	return 1;
}

static uint64_t val_hash(const struct rep_val *v, uint64_t h)
{
	return hash_bytes(v->p ? v->p : "", v->n, h);
}

/* --- per event kind --------------------------------------------------- */

/* An fd enforce kept from a new program: by program and fd number, so
 * that the report can say which keep_fds would restore it. */
static void add_closed(struct rep_agg *a, const struct rep_event *ev,
		       uint64_t w, int64_t ts)
{
	char fd[24];
	snprintf(fd, sizeof fd, "%lld", rep_int(&ev->f[F_FD], -1));
	uint32_t k[KEYN] = {
		intern(a, ev, F_EXE), intern_text(a, fd), intern(a, ev, F_TARGET),
		intern(a, ev, F_VIA), intern(a, ev, F_KIND),
		intern(a, ev, F_CREATED_BY), intern(a, ev, F_MODULE),
		intern(a, ev, F_OFFSET), intern(a, ev, F_SYMBOL),
	};
	struct row *r = table_add(&a->closed, k, w, ts);
	r->sample = intern(a, ev, F_OBJECT);
}

static void add_leak(struct rep_agg *a, const struct rep_event *ev,
		     uint64_t w, int64_t ts)
{
	/* An exec is (host, pid, via, target); the mode is the action's. */
	const struct rep_val *act = &ev->f[F_ACTION];
	int enforce = act->type == RJ_STR ? act->n == 6 && !memcmp(act->p, "closed", 6)
		    : ev->f[F_MODE].n == 7 && !memcmp(ev->f[F_MODE].p, "enforce", 7);
	uint32_t k[KEYN] = {
		intern(a, ev, F_EXE), intern(a, ev, F_TARGET), intern(a, ev, F_VIA),
		intern(a, ev, F_KIND), intern(a, ev, F_CREATED_BY),
		intern(a, ev, F_MODULE), intern(a, ev, F_OFFSET),
		intern(a, ev, F_SYMBOL), intern(a, ev, F_ACTION),
	};
	if (enforce)
		add_closed(a, ev, w, ts);
	else
		table_add(&a->leaks, k, w, ts);
	struct mode_total *m = enforce ? &a->enforce : &a->audit;
	m->fds = sat_add(m->fds, w);
	uint64_t h = val_hash(&ev->f[F_HOST], 7);
	h = val_hash(&ev->f[F_PID], h);
	h = val_hash(&ev->f[F_VIA], h);
	h = val_hash(&ev->f[F_TARGET], h);
	if (exec_first_seen(a, h ^ (uint64_t)enforce))
		m->execs++;
	if (!m->seen_exe)
		m->seen_exe = xcalloc(POOL_IDS_MAX / 8, 1);
	if (!(m->seen_exe[k[0] / 8] & (1u << (k[0] % 8)))) {
		m->seen_exe[k[0] / 8] |= (uint8_t)(1u << (k[0] % 8));
		m->programs++;
	}
}

static void add_fork(struct rep_agg *a, const struct rep_event *ev,
		     uint64_t w, int64_t ts)
{
	uint32_t k[KEYN] = {
		intern(a, ev, F_EXE), intern(a, ev, F_KIND),
		intern(a, ev, F_CREATED_BY), intern(a, ev, F_MODULE),
		intern(a, ev, F_OFFSET), intern(a, ev, F_SYMBOL),
	};
	struct row *r = table_add(&a->forks, k, w, ts);
	double threads = (double)rep_int(&ev->f[F_THREADS], 0);
	if (threads > r->max)
		r->max = threads;
}

static void add_sock_timeout(struct rep_agg *a, const struct rep_event *ev,
			     uint64_t w, int64_t ts)
{
	uint32_t k[KEYN] = {
		intern(a, ev, F_EXE), intern(a, ev, F_PEER),
		intern(a, ev, F_DIRECTION),
	};
	struct row *r = table_add(&a->socks, k, w, ts);
	double wait = rep_num(&ev->f[F_WAIT], 0);
	if (wait > r->max)
		r->max = wait;
}

static void add_tree(struct rep_agg *a, const struct rep_event *ev,
		     enum rep_kind kind, uint64_t w, int64_t ts)
{
	char detail[64];
	uint32_t k[KEYN] = { intern_text(a, rep_kind_names[kind]),
			     intern(a, ev, F_EXE), intern(a, ev, F_ACTION) };
	if (kind == K_ORPHANS) {
		k[3] = intern(a, ev, F_ORPHAN_EXE);
	} else if (kind == K_PGROUP) {
		k[3] = intern(a, ev, F_TARGET);
	} else {
		/* Escalated kills by the rule that matched (kill_escalate). */
		long long sig = rep_int(&ev->f[F_SIGNAL], -1);
		const struct rep_val *why = &ev->f[F_REASON];
		int n = 0;
		detail[0] = '\0';
		if (kind == K_KILL_ESCALATED && why->type == RJ_STR)
			n = snprintf(detail, sizeof detail, "reason %.*s%s",
				     (int)(why->n < 24 ? why->n : 24), why->p,
				     sig >= 0 ? ", " : "");
		if (sig >= 0)
			snprintf(detail + n, sizeof detail - (size_t)n, "signal %lld",
				 sig);
		if (detail[0])
			k[3] = intern_text(a, detail);
	}
	struct row *r = table_add(&a->tree, k, w, ts);
	if (kind == K_ORPHANS && ev->f[F_HOLDS_FDS].type == RJ_STR)
		r->sample = intern(a, ev, F_HOLDS_FDS);
}

static void add_config(struct rep_agg *a, const struct rep_event *ev,
		       uint64_t w, int64_t ts)
{
	uint32_t k[KEYN] = { intern(a, ev, F_ERROR), intern(a, ev, F_CONFIG) };
	struct row *r = table_add(&a->config, k, w, ts);
	r->sample = intern(a, ev, F_EXE);
}

/* A feature the shim skipped for lack of memory, and its fallback (the
 * exec sweep: every fd kept, none checked). */
static void add_nomem(struct rep_agg *a, const struct rep_event *ev,
		      uint64_t w, int64_t ts)
{
	uint32_t k[KEYN] = { intern(a, ev, F_EXE), intern(a, ev, F_FEATURE),
			     intern(a, ev, F_FALLBACK), intern(a, ev, F_VIA),
			     intern(a, ev, F_TARGET) };
	table_add(&a->nomem, k, w, ts);
}

/* --- blocked reads ---------------------------------------------------- */

/* Appends to a bounded text buffer; never overflows. */
static void cat(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	if (n + 1 >= cap)
		return;
	size_t k = strlen(s);
	if (k > cap - 1 - n)
		k = cap - 1 - n;
	memcpy(buf + n, s, k);
	buf[n + k] = '\0';
}

/* The culprits of one blocked fd as text, "; " between them. */
struct culprit_ctx {
	char *out;
	size_t cap;
	int n;
};

static void culprit_add(struct culprit_ctx *cc, const char *text)
{
	if (cc->n++)
		cat(cc->out, cc->cap, "; ");
	cat(cc->out, cc->cap, text);
}

struct culprit {
	long long pid, more, more_fds, processes;
	char exe[128], cmd[128], rel[32], fds[64];
};

static int culprit_field(void *ctx, const char *key, size_t klen,
			 const struct rep_val *v)
{
	struct culprit *c = ctx;
	if (klen == 3 && !memcmp(key, "pid", 3))
		c->pid = rep_int(v, -1);
	else if (klen == 4 && !memcmp(key, "more", 4))
		c->more = rep_int(v, 0);
	else if (klen == 8 && !memcmp(key, "more_fds", 8))
		c->more_fds = rep_int(v, 0);
	else if (klen == 9 && !memcmp(key, "processes", 9))
		c->processes = rep_int(v, 0);
	else if (klen == 3 && !memcmp(key, "exe", 3))
		rep_str(v, c->exe, sizeof c->exe);
	else if (klen == 7 && !memcmp(key, "cmdline", 7))
		rep_str(v, c->cmd, sizeof c->cmd);
	else if (klen == 8 && !memcmp(key, "relation", 8))
		rep_str(v, c->rel, sizeof c->rel);
	else if (klen == 3 && !memcmp(key, "fds", 3) && v->type == RJ_ARR) {
		size_t n = v->n - 2 < sizeof c->fds - 1 ? v->n - 2 : sizeof c->fds - 1;
		memcpy(c->fds, v->p + 1, n);   /* the numbers as written */
		c->fds[n] = '\0';
	} else if (klen == 3 && !memcmp(key, "fds", 3) && v->type == RJ_STR)
		rep_str(v, c->fds, sizeof c->fds);
	return 0;
}

/* "sleep (pid 42, child, fds 4)": a process object (a holder of a pipe, or
 * the peer of a UNIX socket, whose relation is `rel`). */
static void add_process(struct culprit_ctx *cc, const struct rep_val *v,
			const char *rel)
{
	struct culprit c = { .pid = -1 };
	char line[400];
	rep_walk(v, culprit_field, &c);
	if (c.more > 0) {   /* holders the line had no room for */
		snprintf(line, sizeof line, "%lld more", c.more);
		culprit_add(cc, line);
		return;
	}
	if (c.more_fds > 0) {
		size_t n = strlen(c.fds);
		snprintf(c.fds + n, sizeof c.fds - n, " and %lld more", c.more_fds);
	}
	if (!c.rel[0])
		snprintf(c.rel, sizeof c.rel, "%s", rel);
	if (c.pid < 0 && !strncmp(c.rel, "unknown", 7)) {
		/* {"relation":"unknown (permission)","processes":7} */
		if (c.processes > 0)
			snprintf(line, sizeof line, "%s: %lld process%s", c.rel,
				 c.processes, c.processes == 1 ? "" : "es");
		else
			snprintf(line, sizeof line, "%s", c.rel);
		culprit_add(cc, line);
		return;
	}
	const char *who = c.cmd[0] ? c.cmd : c.exe[0] ? c.exe : "?";
	snprintf(line, sizeof line, "%s (pid %lld%s%s%s%s)", who, c.pid,
		 c.rel[0] ? ", " : "", c.rel, c.fds[0] ? ", fds " : "", c.fds);
	culprit_add(cc, line);
}

/* Each process object of a culprits array. */
static int one_culprit(void *ctx, const char *key, size_t klen,
		       const struct rep_val *v)
{
	(void)key;
	(void)klen;
	if (v->type == RJ_OBJ)
		add_process(ctx, v, "");
	return 0;
}

struct tcp_info_ctx {
	char state[24], peer[64];
	long long unacked;
};

static int tcp_field(void *ctx, const char *key, size_t klen,
		     const struct rep_val *v)
{
	struct tcp_info_ctx *t = ctx;
	if (klen == 5 && !memcmp(key, "state", 5))
		rep_str(v, t->state, sizeof t->state);
	else if (klen == 4 && !memcmp(key, "peer", 4))
		rep_str(v, t->peer, sizeof t->peer);
	else if (klen == 7 && !memcmp(key, "unacked", 7))
		t->unacked = rep_int(v, -1);
	return 0;
}

/* "tcp ESTABLISHED peer 10.0.0.1:80 unacked 2" */
static void add_tcp(struct culprit_ctx *cc, const struct rep_val *v)
{
	struct tcp_info_ctx t = { .unacked = -1 };
	char buf[200];
	rep_walk(v, tcp_field, &t);
	int n = snprintf(buf, sizeof buf, "tcp %s peer %s", t.state[0] ? t.state : "?",
			 t.peer[0] ? t.peer : "?");
	if (t.unacked > 0 && n > 0 && (size_t)n < sizeof buf)
		snprintf(buf + n, sizeof buf - (size_t)n, " unacked %lld", t.unacked);
	culprit_add(cc, buf);
}

struct tty_ctx {
	char path[160];
	int deleted, hung_up, foreground;   /* -1: not logged (or null) */
};

static int bool_of(const struct rep_val *v)
{
	return v->type == RJ_TRUE ? 1 : v->type == RJ_FALSE ? 0 : -1;
}

static int tty_field(void *ctx, const char *key, size_t klen,
		     const struct rep_val *v)
{
	struct tty_ctx *t = ctx;
	if (klen == 4 && !memcmp(key, "path", 4))
		rep_str(v, t->path, sizeof t->path);
	else if (klen == 7 && !memcmp(key, "deleted", 7))
		t->deleted = bool_of(v);
	else if (klen == 7 && !memcmp(key, "hung_up", 7))
		t->hung_up = bool_of(v);
	else if (klen == 10 && !memcmp(key, "foreground", 10))
		t->foreground = bool_of(v);
	return 0;
}

/* "terminal /dev/pts/3 (deleted), hung up, background": a read from a
 * terminal ends when it is hung up or the process is in the foreground. */
static void add_tty(struct culprit_ctx *cc, const struct rep_val *v)
{
	static const char gone[] = " (deleted)";
	struct tty_ctx t = { .deleted = -1, .hung_up = -1, .foreground = -1 };
	char buf[256];
	rep_walk(v, tty_field, &t);
	size_t n = strlen(t.path);
	int said = n >= sizeof gone - 1 && !strcmp(t.path + n - (sizeof gone - 1), gone);
	snprintf(buf, sizeof buf, "terminal %s%s%s%s", t.path[0] ? t.path : "?",
		 t.deleted == 1 && !said ? gone : "",
		 t.hung_up == 1 ? ", hung up" : "",
		 t.foreground == 1 ? ", foreground" : t.foreground == 0 ? ", background" : "");
	culprit_add(cc, buf);
}

/* The culprit fields of a blocked fd, as the shim writes them (culprit.c):
 * culprits (pipes, FIFOs), tcp, peer (UNIX sockets: an object, where
 * sock_timeout's peer is an address) or tty. */
struct culprit_fields {
	struct rep_val culprits, tcp, peer, tty;
};

static void add_culprits(struct culprit_ctx *cc, const struct culprit_fields *f)
{
	rep_walk(&f->culprits, one_culprit, cc);
	if (f->peer.type == RJ_OBJ)
		add_process(cc, &f->peer, "unix peer");
	if (f->tcp.type == RJ_OBJ)
		add_tcp(cc, &f->tcp);
	if (f->tty.type == RJ_OBJ)
		add_tty(cc, &f->tty);
}

struct waitfd_ctx {
	struct blocked *b;
	struct culprit_ctx cul;
	int n;
};

struct waitfd {
	long long fd, more;
	char kind[24];
	struct culprit_fields cf;
};

static int waitfd_field(void *ctx, const char *key, size_t klen,
			const struct rep_val *v)
{
	struct waitfd *w = ctx;
	if (klen == 2 && !memcmp(key, "fd", 2))
		w->fd = rep_int(v, -1);
	else if (klen == 4 && !memcmp(key, "more", 4))
		w->more = rep_int(v, 0);
	else if (klen == 4 && !memcmp(key, "kind", 4))
		rep_str(v, w->kind, sizeof w->kind);
	else if (klen == 8 && !memcmp(key, "culprits", 8))
		w->cf.culprits = *v;
	else if (klen == 3 && !memcmp(key, "tcp", 3))
		w->cf.tcp = *v;
	else if (klen == 4 && !memcmp(key, "peer", 4))
		w->cf.peer = *v;
	else if (klen == 3 && !memcmp(key, "tty", 3))
		w->cf.tty = *v;
	return 0;
}

/* wait_blocked: "fd 3 pipe, fd 5 socket" and the culprits of them all. */
static int one_waitfd(void *ctx, const char *key, size_t klen,
		      const struct rep_val *v)
{
	struct waitfd_ctx *wc = ctx;
	struct waitfd w = { .fd = -1 };
	char item[64];
	(void)key;
	(void)klen;
	if (v->type != RJ_OBJ)
		return 0;
	rep_walk(v, waitfd_field, &w);
	if (w.fd < 0 && w.more > 0) {
		/* {"more":N}: the fds the line had no room for */
		snprintf(item, sizeof item, "%s%lld more fds", wc->n ? ", " : "",
			 w.more);
		cat(wc->b->object, sizeof wc->b->object, item);
		return 0;
	}
	snprintf(item, sizeof item, "%sfd %lld %s", wc->n ? ", " : "", w.fd,
		 w.kind[0] ? w.kind : "?");
	cat(wc->b->object, sizeof wc->b->object, item);
	if (!wc->n)
		wc->b->fd = w.fd;
	wc->n++;
	add_culprits(&wc->cul, &w.cf);
	return 0;
}

static void describe_blocked(struct blocked *b, const struct rep_event *ev,
			     int wait)
{
	b->what[0] = b->object[0] = '\0';
	if (wait) {
		struct waitfd_ctx wc = { .b = b, .cul = { b->what, sizeof b->what, 0 } };
		rep_walk(&ev->f[F_FDS], one_waitfd, &wc);
		return;
	}
	rep_str(&ev->f[F_KIND], b->kind, sizeof b->kind);
	rep_str(&ev->f[F_OBJECT], b->object, sizeof b->object);
	struct culprit_ctx cc = { b->what, sizeof b->what, 0 };
	struct culprit_fields f = { ev->f[F_CULPRITS], ev->f[F_TCP], ev->f[F_PEER],
				    ev->f[F_TTY] };
	add_culprits(&cc, &f);
}

/* A read is its process's fd and call; a wait (of the poll family), its
 * process's call: wait_unblocked names no fds. */
static uint64_t blocked_id(const struct rep_event *ev, enum rep_kind kind)
{
	uint64_t h = val_hash(&ev->f[F_HOST], 3);
	h = val_hash(&ev->f[F_PID], h);
	h = val_hash(&ev->f[F_CALL], h);
	h = val_hash(&ev->f[F_EXE], h);
	if (kind == K_WAIT_BLOCKED || kind == K_WAIT_UNBLOCKED)
		return h ^ 0x5741495455ULL;
	return val_hash(&ev->f[F_FD], h);
}

/* The entry for this read, or (with `may_add`) a fresh one, or the
 * shortest one if this read waited longer (the first of the shortest in
 * a->blocked: topset.h); NULL when it does not rank or has no entry to
 * update.  O(log --top) a line: a hash on the id, a heap on the waits. */
static struct blocked *blocked_slot(struct rep_agg *a, uint64_t id,
				    double waited, int may_add, int *fresh)
{
	*fresh = 0;
	int slot = rep_top_find(&a->top_blocked, id);
	if (slot >= 0)
		return &a->blocked[slot];
	if (!may_add)
		return NULL;
	slot = rep_top_take(&a->top_blocked, id, waited);
	if (slot < 0)
		return NULL;
	*fresh = 1;
	a->n_blocked = a->top_blocked.n;
	return &a->blocked[slot];
}

/* What an event says of its read or wait: it still waits (read_blocked,
 * wait_blocked; audit's read_timeout, after which the read goes on), or it
 * ended (read_unblocked, wait_unblocked; enforce's read_timeout, which
 * failed it with EAGAIN). */
enum blocked_step { STEP_BLOCK, STEP_END, STEP_TIMED_OUT, STEP_WOULD_TIME_OUT };

static enum blocked_step blocked_step_of(const struct rep_event *ev,
					 enum rep_kind kind)
{
	char action[24];
	if (kind == K_READ_UNBLOCKED || kind == K_WAIT_UNBLOCKED)
		return STEP_END;
	if (kind != K_READ_TIMEOUT)
		return STEP_BLOCK;
	rep_str(&ev->f[F_ACTION], action, sizeof action);
	return strcmp(action, "would_time_out") ? STEP_TIMED_OUT : STEP_WOULD_TIME_OUT;
}

/* Whether the latest read or wait of s has ended: an end no earlier than
 * its latest block, or, when a line had no time, as many ends as blocks. */
static int ended(const struct block_state *s)
{
	if (!s->n_end)
		return 0;
	if (s->untimed)
		return s->n_end >= s->n_block;
	return s->last_end >= s->last_block;
}

int blocked_ended(const struct blocked *b)
{
	return ended(&b->st);
}

/* Every block seen, by id: whether it still waits at the end of the logs
 * is what makes it a hang (rep_agg_leaks_or_hangs), and the list of the
 * longest (a->blocked) keeps only --top of them.  Bounded: past
 * STATES_MAX ids a block is not followed and counts as a hang. */
#define STATES_MAX (1u << 17)

/* may_add: 0 find only, 1 add (a table full says so: every read is then
 * taken for one still waiting), 2 add an end alone while they take less
 * than a quarter of the room the blocks have (past it, forgotten as if its
 * log had not been read); they never take the blocks' room. */
static struct block_state *state_of(struct rep_agg *a, uint64_t id, int may_add)
{
	if (!a->states) {
		a->states_slots = 1024;
		a->states = xcalloc(a->states_slots, sizeof *a->states);
	}
	if (!id)
		id = 1;
	uint32_t mask = a->states_slots - 1, i = (uint32_t)(id >> 17) & mask;
	for (; a->states[i].id; i = (i + 1) & mask)
		if (a->states[i].id == id)
			return &a->states[i];
	if (!may_add)
		return NULL;
	if (may_add == 2 && a->n_ends_only >= STATES_MAX / 4)
		return NULL;
	if (may_add == 1 && a->n_states - a->n_ends_only >= STATES_MAX) {
		a->states_full = 1;
		return NULL;
	}
	if ((a->n_states + 1) * 4 > a->states_slots * 3) {
		uint32_t ns = a->states_slots * 2;
		struct block_state *t = xcalloc(ns, sizeof *t);
		for (uint32_t j = 0; j < a->states_slots; j++) {
			if (!a->states[j].id)
				continue;
			uint32_t k = (uint32_t)(a->states[j].id >> 17) & (ns - 1);
			while (t[k].id)
				k = (k + 1) & (ns - 1);
			t[k] = a->states[j];
		}
		free(a->states);
		a->states = t;
		a->states_slots = ns;
		mask = ns - 1;
		for (i = (uint32_t)(id >> 17) & mask; t[i].id; i = (i + 1) & mask)
			;
	}
	a->n_states++;
	a->n_ends_only += may_add == 2;
	a->states[i] = (struct block_state){ .id = id, .last_block = -1,
					      .last_end = -1,
					      .end_only = may_add == 2 };
	return &a->states[i];
}

/* One block or end on a state. */
static void step_state(struct block_state *s, enum blocked_step st, uint64_t w,
		 int64_t ts)
{
	if (ts < 0)
		s->untimed = 1;
	/* By count, a read_timeout is no block of its own: the read it
	 * names logged read_blocked before it when read_warn is on (and then
	 * read_unblocked after a timeout), and nothing else when it is off. */
	if (st == STEP_BLOCK || st == STEP_WOULD_TIME_OUT) {
		if (st == STEP_BLOCK)
			s->n_block = sat_add(s->n_block, w);
		if (ts > s->last_block)
			s->last_block = ts;
	} else {
		s->n_end = sat_add(s->n_end, w);
		if (ts > s->last_end)
			s->last_end = ts;
	}
}

static void add_blocked(struct rep_agg *a, const struct rep_event *ev,
			enum rep_kind kind, uint64_t w, int64_t ts)
{
	double waited = rep_num(&ev->f[F_WAITED], 0);
	enum blocked_step step = blocked_step_of(ev, kind);
	int fresh;
	if (kind == K_READ_UNBLOCKED || kind == K_WAIT_UNBLOCKED)
		a->unblocked_total = sat_add(a->unblocked_total, w);
	else if (kind == K_READ_TIMEOUT)
		a->timeout_total = sat_add(a->timeout_total, w);
	else
		a->blocked_total = sat_add(a->blocked_total, w);
	/* An unblock makes no row: alone (its block filtered out or in a log
	 * not read) it says nothing about culprits.  It is kept in the state,
	 * for a block read after it (rotated logs are read newest first),
	 * whose row starts from the state as it was before this line. */
	uint64_t id = blocked_id(ev, kind);
	struct block_state *s = state_of(a, id, step == STEP_END ? 2 : 1);
	struct block_state before = { .last_block = -1, .last_end = -1 };
	if (s) {
		if (s->end_only && step != STEP_END) {
			s->end_only = 0;
			a->n_ends_only--;
		}
		before = *s;
		step_state(s, step, w, ts);
	}
	struct blocked *b = blocked_slot(a, id, waited, step != STEP_END, &fresh);
	if (!b)
		return;
	if (fresh) {
		memset(b, 0, sizeof *b);
		b->id = id;
		b->st = before;
		b->first = b->last = -1;
		b->fd = rep_int(&ev->f[F_FD], -1);
		b->pid = rep_int(&ev->f[F_PID], -1);
		rep_str(&ev->f[F_HOST], b->host, sizeof b->host);
		rep_str(&ev->f[F_EXE], b->exe, sizeof b->exe);
		rep_str(&ev->f[F_CALL], b->call, sizeof b->call);
	}
	if (step != STEP_END) {
		b->count = sat_add(b->count, w);
		if (fresh || waited >= b->waited)
			describe_blocked(b, ev, kind == K_WAIT_BLOCKED);
	}
	step_state(&b->st, step, w, ts);
	if (step == STEP_TIMED_OUT)
		b->timed_out = sat_add(b->timed_out, w);
	else if (step == STEP_WOULD_TIME_OUT)
		b->would_time_out = sat_add(b->would_time_out, w);
	if (waited > b->waited)
		b->waited = waited;
	rep_top_set(&a->top_blocked, (int)(b - a->blocked), b->waited);
	if (ts >= 0) {
		if (b->first < 0 || ts < b->first)
			b->first = ts;
		if (b->last < 0 || ts > b->last)
			b->last = ts;
	}
}

/* --- lines ------------------------------------------------------------ */

static int kind_of(const struct rep_val *v)
{
	static const uint8_t len[K_NKINDS] = {
#define NL_EVENT_KIND(name, ID) sizeof #name - 1,
#include "common/events.def"
	};
	for (int k = 0; k < K_NKINDS; k++)
		if (len[k] == v->n && !memcmp(rep_kind_names[k], v->p, v->n))
			return k;
	return -1;
}

static int wanted_kind(const struct rep_agg *a, const struct rep_val *v)
{
	if (!a->flt.n_events)
		return 1;
	for (int i = 0; i < a->flt.n_events; i++)
		if (strlen(a->flt.events[i]) == v->n &&
		    !memcmp(a->flt.events[i], v->p, v->n))
			return 1;
	return 0;
}

static int wanted_program(const struct rep_agg *a, const struct rep_val *v)
{
	char exe[REP_STR_MAX + 1];
	if (!a->flt.program)
		return 1;
	rep_str(v, exe, sizeof exe);
	const char *base = strrchr(exe, '/');
	return !fnmatch(a->flt.program, exe, 0) ||
	       (base && !fnmatch(a->flt.program, base + 1, 0));
}

static void dispatch(struct rep_agg *a, const struct rep_event *ev, int kind,
		     uint64_t w, int64_t ts)
{
	switch (kind) {
	case K_FD_LEAK:
		add_leak(a, ev, w, ts);
		break;
	case K_FORK_INHERIT:
		add_fork(a, ev, w, ts);
		break;
	case K_CONFIG_ERROR:
		add_config(a, ev, w, ts);
		break;
	case K_NOMEM:
		add_nomem(a, ev, w, ts);
		break;
	case K_SUPPRESSED: {
		long long d = rep_int(&ev->f[F_DROPPED], 0);
		if (d > 0)
			a->dropped_by_shim = sat_add(a->dropped_by_shim, (uint64_t)d);
		break;
	}
	case K_PGROUP:
	case K_KILL_ESCALATED:
	case K_ORPHANS:
		add_tree(a, ev, kind, w, ts);
		break;
	case K_SOCK_TIMEOUT:
		add_sock_timeout(a, ev, w, ts);
		break;
	case K_READ_BLOCKED:
	case K_WAIT_BLOCKED:
	case K_READ_UNBLOCKED:
	case K_WAIT_UNBLOCKED:
	case K_READ_TIMEOUT:
		add_blocked(a, ev, kind, w, ts);
		break;
	default:
		break;  /* counted only */
	}
}

/* A line cut short by a writer that died mid-write, with the next
 * writer's line glued to it: `{"ts":...cut{"ts":...}`.  Our events open
 * with {"ts", which no valid line holds elsewhere outside a string (in a
 * string its quotes are escaped), so the event is the tail from the last
 * {"ts" that parses.  A try costs at most the bytes of its tail, and tails
 * grow as the tries go back, so they share a budget of the line's length:
 * a line cannot cost more than a few passes over it, whatever its {"ts"
 * openings (nested ones each reach the end of the line).  A glued event
 * is a tail of at most a line the shim writes (4 KiB), found by the first
 * try or among the next few.  1 and *s, *n and *ev set to that event, or
 * 0. */
static int glued_event(const char **s, size_t *n, struct rep_event *ev)
{
	static const char open[] = "{\"ts\"";
	const char *p = *s, *end = *s + *n;
	size_t budget = *n;
	if (*n <= sizeof open - 1)
		return 0;
	for (const char *q = end - (sizeof open - 1); q > p; q--) {
		if (*q != '{' || memcmp(q, open, sizeof open - 1))
			continue;
		if ((size_t)(end - q) > budget)
			return 0;
		budget -= (size_t)(end - q);
		if (!rep_parse_line(q, (size_t)(end - q), ev) &&
		    ev->f[F_EVENT].type == RJ_STR) {
			*s = q;
			*n = (size_t)(end - q);
			return 1;
		}
	}
	return 0;
}

void rep_agg_line(struct rep_agg *a, const char *s, size_t n)
{
	struct rep_event *ev = &a->ev;
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n)
		return;  /* blank lines are no events */
	a->lines++;
	if (rep_parse_line(s, n, ev) || ev->f[F_EVENT].type != RJ_STR) {
		a->malformed++;
		if (!glued_event(&s, &n, ev))
			return;
	}
	int kind = kind_of(&ev->f[F_EVENT]);
	if (kind < 0) {
		a->unknown++;
		return;
	}
	int64_t ts = -1;
	if (ev->f[F_TS].type == RJ_STR)
		ts = rep_parse_time(ev->f[F_TS].p, ev->f[F_TS].n);
	if (ts < 0)
		a->no_time++;
	if ((ts < 0 && (a->flt.since != INT64_MIN || a->flt.until != INT64_MAX)) ||
	    (ts >= 0 && (ts < a->flt.since || ts > a->flt.until)) ||
	    !wanted_kind(a, &ev->f[F_EVENT]) || !wanted_program(a, &ev->f[F_EXE])) {
		a->filtered++;
		return;
	}
	long long count = rep_int(&ev->f[F_COUNT], 1);
	uint64_t w = count >= 1 ? (uint64_t)count : 1;
	a->kept++;
	a->kind_events[kind] = sat_add(a->kind_events[kind], w);
	if (ev->f[F_TRUNCATED].type == RJ_TRUE)
		a->truncated++;
	if (ts >= 0) {
		if (a->first < 0 || ts < a->first)
			a->first = ts;
		if (a->last < 0 || ts > a->last)
			a->last = ts;
	}
	dispatch(a, ev, kind, w, ts);
}

void rep_agg_overlong(struct rep_agg *a)
{
	a->lines++;
	a->overlong++;
}

void rep_agg_input(struct rep_agg *a, int skipped)
{
	if (skipped)
		a->files_skipped++;
	else
		a->files++;
}

/* A block is a hang while its read or wait has not ended: one whose end
 * (read_unblocked, wait_unblocked) came after it was slow, not stuck. */
static int still_blocked(const struct rep_agg *a)
{
	if (a->states_full)
		return 1;
	for (uint32_t i = 0; i < a->states_slots; i++)
		if (a->states[i].id && a->states[i].n_block && !ended(&a->states[i]))
			return 1;
	return 0;
}

int rep_agg_leaks_or_hangs(const struct rep_agg *a)
{
	static const enum rep_kind bad[] = { K_FD_LEAK, K_FORK_INHERIT,
		K_READ_TIMEOUT, K_SOCK_TIMEOUT, K_ORPHANS };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (a->kind_events[bad[i]])
			return 1;
	return still_blocked(a);
}

/* nomem counts too: an exec whose sweep kept every fd was not checked, so
 * a log without leaks does not show there were none. */
int rep_agg_problems(const struct rep_agg *a)
{
	return rep_agg_leaks_or_hangs(a) || a->kind_events[K_NOMEM] > 0;
}

struct rep_agg *rep_agg_new(const struct rep_filter *flt, int top)
{
	struct rep_agg *a = xcalloc(1, sizeof *a);
	a->flt = *flt;
	a->top = top < 1 ? 1 : top;
	a->first = a->last = -1;
	pool_init(&a->pool);
	a->leaks.name = "fd_leak";
	a->closed.name = "fd_leak_closed";
	a->forks.name = "fork_inherit";
	a->socks.name = "sock_timeout";
	a->tree.name = "process_tree";
	a->config.name = "config_error";
	a->nomem.name = "nomem";
	a->blocked = xcalloc((size_t)a->top, sizeof *a->blocked);
	if (rep_top_init(&a->top_blocked, a->top) < 0) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	return a;
}

void rep_agg_free(struct rep_agg *a)
{
	if (!a)
		return;
	pool_free(&a->pool);
	table_free(&a->leaks);
	table_free(&a->closed);
	table_free(&a->forks);
	table_free(&a->socks);
	table_free(&a->tree);
	table_free(&a->config);
	table_free(&a->nomem);
	free(a->blocked);
	rep_top_free(&a->top_blocked);
	free(a->states);
	free(a->execs);
	free(a->audit.seen_exe);
	free(a->enforce.seen_exe);
	free(a);
}
