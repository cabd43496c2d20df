/* noleak-report: summarises libnoleak event logs (JSON Lines).
 *
 * The pieces: json.c parses one line into field slices without
 * allocating, agg.c folds events into bounded tables, input.c
 * reads files in large blocks and cuts them into lines, print.c writes
 * the text or JSON summary.  report.c holds only main() and the options. */
#ifndef NL_REPORT_H
#define NL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/version.h"

/* Lines longer than this are skipped whole (and counted). */
#define REP_LINE_MAX (1u << 20)
/* Distinct rows per table; the rest are counted in an "(other)" row. */
#define REP_ROWS_MAX 10000
/* Nesting accepted inside one event (culprits inside fds inside ...). */
#define REP_DEPTH_MAX 32
/* Stored strings are cut to this many bytes (paths, messages). */
#define REP_STR_MAX 512

/* --- one parsed value: a slice of the line ---------------------------- */

enum rep_type { RJ_NONE = 0, RJ_STR, RJ_NUM, RJ_TRUE, RJ_FALSE, RJ_NULL,
		RJ_ARR, RJ_OBJ };

struct rep_val {
	const char *p;     /* strings: the bytes between the quotes */
	uint32_t n;
	uint8_t type;      /* enum rep_type */
	uint8_t esc;       /* strings: contains a backslash escape */
};

/* The fields the report reads; every other key is skipped. */
/* The keys of the event schema (common/events.def). */
enum rep_field {
#define NL_EVENT_KEY(name, ID, type) F_##ID,
#include "common/events.def"
	F_NFIELDS
};

/* The fields of one line.  It is reused from line to line: a parse clears
 * only the fields the previous one set (`set`), so that a line costs the
 * same whatever the number of keys the schema has (a log of short lines
 * would otherwise spend its time clearing the whole struct). */
struct rep_event {
	struct rep_val f[F_NFIELDS];
	uint8_t set[F_NFIELDS];   /* the fields set, in the order seen */
	uint8_t n_set;
};
_Static_assert(F_NFIELDS <= 255, "rep_event.set holds field numbers in bytes");

/* Parses one line (no newline) as a JSON object: 0 and the known top-level
 * fields in *ev, or -1 when the line is not valid JSON (including invalid
 * UTF-8, raw control bytes, truncation, NUL bytes).  *ev must be zeroed
 * before its first parse ({ 0 }), and may then be reused. */
int rep_parse_line(const char *s, size_t n, struct rep_event *ev);

/* Walks the members of an object value (or the elements of an array value,
 * with key NULL).  Stops early when fn returns non-zero.  The value must
 * come from rep_parse_line (already validated). */
typedef int (*rep_member_fn)(void *ctx, const char *key, size_t klen,
			     const struct rep_val *v);
void rep_walk(const struct rep_val *container, rep_member_fn fn, void *ctx);

/* A string value decoded into buf (escapes resolved, NUL bytes replaced);
 * returns its length, cut to cap - 1, NUL-terminated.  Non-strings give 0.
 * The bytes are the ones the shim logged: \u0080 to \u00ff are the bytes
 * 0x80 to 0xff (what was not UTF-8), not characters. */
size_t rep_str(const struct rep_val *v, char *buf, size_t cap);
/* An integer value, or `dflt` when absent, not a number or fractional. */
long long rep_int(const struct rep_val *v, long long dflt);
/* A number value (integer or not), or `dflt`. */
double rep_num(const struct rep_val *v, double dflt);
/* RFC 3339 time to microseconds since the epoch; -1 when not one. */
int64_t rep_parse_time(const char *s, size_t n);

/* --- aggregation ------------------------------------------------------ */

struct rep_agg;

struct rep_filter {
	int64_t since, until;          /* microseconds; INT64_MIN/MAX = open */
	const char *program;           /* glob on exe or its basename, or NULL */
	const char *events[32];        /* kinds to keep; none = all */
	int n_events;
};

struct rep_agg *rep_agg_new(const struct rep_filter *flt, int top);
void rep_agg_free(struct rep_agg *a);
/* One raw line (without its newline). */
void rep_agg_line(struct rep_agg *a, const char *s, size_t n);
/* A line that was longer than REP_LINE_MAX and was skipped. */
void rep_agg_overlong(struct rep_agg *a);
/* A log that was read (files) or passed over (compressed ones). */
void rep_agg_input(struct rep_agg *a, int skipped);
/* 1 when the kept events show leaks or blocks. */
int rep_agg_leaks_or_hangs(const struct rep_agg *a);
/* 1 when they show leaks or blocks, or a check skipped for lack of memory
 * (nomem), which may hide leaks (the exit status). */
int rep_agg_problems(const struct rep_agg *a);

/* --- reading ---------------------------------------------------------- */

/* Feeds every line of fd to the aggregator; the carry-over state lives in
 * the reader.  0, or -errno on a read error. */
int rep_read_fd(struct rep_agg *a, int fd);
/* A path: "-" (stdin), a file, or a directory of rotated logs (every
 * regular file in it, sorted by name; compressed ones are skipped with a
 * note on stderr).  0, or -1 after printing why it could not be read. */
int rep_read_path(struct rep_agg *a, const char *path);
/* The journal's noleak entries (`journalctl -o json SYSLOG_IDENTIFIER=noleak`). */
int rep_read_journal(struct rep_agg *a);

/* --- output ----------------------------------------------------------- */

struct rep_style {
	int color;
	int top;
	int width;   /* columns of the text output */
};

void rep_print_text(const struct rep_agg *a, FILE *out, const struct rep_style *st);
void rep_print_json(const struct rep_agg *a, FILE *out, const struct rep_style *st);

#endif
