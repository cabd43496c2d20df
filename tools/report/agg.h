/* noleak-report: the aggregate tables, shared by agg.c (filling) and
 * print.c (printing).  Every table is bounded: distinct strings,
 * rows and execs have caps, and what exceeds them is counted, not stored. */
#ifndef NL_REPORT_AGG_H
#define NL_REPORT_AGG_H

#include "report.h"
#include "topset.h"

/* String ids: 0 is "" (absent), 1 is "(other)" (a table or the pool full). */
#define STR_NONE 0u
#define STR_OTHER 1u

struct pool {
	char *arena;
	size_t used, cap;
	uint32_t *off;          /* id -> offset in arena */
	uint32_t *len;          /* id -> length */
	uint8_t *cut;           /* id -> 1: the head of a longer string */
	uint32_t n, max;        /* ids in use, id cap */
	uint32_t *slots;        /* hash -> id + 1 */
	uint32_t nslots;
	int full;               /* a string was refused: counts are lower bounds */
};

#define KEYN 9

struct row {
	uint32_t k[KEYN];
	uint32_t sample;        /* one value seen (e.g. an orphan's fds) */
	uint64_t count;
	int64_t first, last;    /* microseconds, -1 = unknown */
	double max;             /* largest wait, most threads, ... */
};

struct table {
	const char *name;
	struct row *rows;
	uint32_t n, alloc;
	uint32_t *slots;        /* row index + 1 */
	struct row other;       /* rows past REP_ROWS_MAX */
	uint64_t total;
};

/* Whether a read or wait (one id) still waits: the latest event's to say,
 * an end (read_unblocked, wait_unblocked, a read_timeout that timed the
 * read out) no earlier than the latest block (read_blocked, wait_blocked, a
 * read_timeout that would have), or, when a line had no time, as many ends
 * as blocks. */
struct block_state {
	uint64_t id;                    /* 0: a free slot (a set's) */
	int64_t last_block, last_end;   /* microseconds, -1 = none */
	uint64_t n_block, n_end;        /* read_blocked/wait_blocked, ends */
	int untimed;                    /* a block or end had no time */
	int end_only;                   /* made by an end: no block yet */
};

/* One blocked read, identified by host, pid, call and fd, or wait (of the
 * poll family), by host, pid and call; the longest REP top ones are kept,
 * with their culprits as text.  One entry covers every read of that fd (a
 * worker reading requests in a loop blocks many times). */
struct blocked {
	uint64_t id;
	char host[64], exe[256], call[24], kind[24], object[160], what[400];
	long long pid, fd;
	double waited;
	uint64_t count;                 /* blocks and read_timeouts */
	int64_t first, last;
	struct block_state st;
	uint64_t timed_out, would_time_out;   /* read_timeout by action */
};

/* 1 when the last wait of b has ended. */
int blocked_ended(const struct blocked *b);

/* Totals for one mode: fds closed (enforce) or that would be (audit). */
struct mode_total {
	uint64_t fds, execs, programs;
	uint8_t *seen_exe;      /* bitmap over pool ids */
};

/* The kinds of the event schema (common/events.def). */
enum rep_kind {
#define NL_EVENT_KIND(name, ID) K_##ID,
#include "common/events.def"
	K_NKINDS
};

extern const char *const rep_kind_names[K_NKINDS];

struct rep_agg {
	struct rep_filter flt;
	int top;
	struct pool pool;

	/* leaks: exe target via kind created_by module offset symbol action
	 * (what still leaks: audit's would_close) */
	struct table leaks;
	/* closed by enforce: exe fd target via kind created_by module offset
	 * symbol; sample: the object last seen */
	struct table closed;
	/* fork_inherit: exe kind created_by module offset symbol */
	struct table forks;
	/* sock_timeout: exe peer direction */
	struct table socks;
	/* kill_escalated, orphans, pgroup: event exe action detail */
	struct table tree;
	/* config_error: error config */
	struct table config;
	/* nomem: exe feature fallback via target */
	struct table nomem;

	struct blocked *blocked;
	int n_blocked;
	struct rep_top top_blocked;       /* which of them to keep, by id */
	struct block_state *states;       /* every block's, by id (a set) */
	uint32_t n_states, states_slots;
	uint32_t n_ends_only;             /* states of an end alone */
	int states_full;                  /* a block was not followed */
	uint64_t blocked_total, unblocked_total, timeout_total;

	struct mode_total audit, enforce;
	uint64_t *execs;        /* hashes of (host, pid, via, target, mode) */
	uint32_t n_execs, execs_slots;
	int execs_full;

	uint64_t kind_events[K_NKINDS];   /* weighted by "count" */
	uint64_t lines, malformed, overlong, unknown, truncated, filtered;
	uint64_t no_time, kept, dropped_by_shim;
	int64_t first, last;
	int files, files_skipped;

	uint32_t cache[F_NFIELDS];        /* last id per field: logs repeat */
	struct rep_event ev;              /* the line being read (reused) */
};

const char *pool_str(const struct pool *p, uint32_t id);
/* 1 when the string was cut to REP_STR_MAX bytes. */
int pool_cut(const struct pool *p, uint32_t id);

/* Counts add up to at most UINT64_MAX: a log may say "count" of anything,
 * and a sum that wrapped would show a leak as 0. */
static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#endif
