/* Writing the summary: aligned text for a screen, or one JSON document.
 *
 * Both outputs show the same rows in the same order: by count, largest
 * first, then by name, so that two runs over the same logs print the same
 * thing byte for byte whatever order the lines came in. */
#include "agg.h"
#include "common/termtext.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CELL 256

/* --- small helpers ---------------------------------------------------- */

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

/* "06-29 12:00:01" (text), or "2026-06-29T12:00:01.123456Z" (full). */
static void fmt_time(char *buf, size_t cap, int64_t us, int full)
{
	if (us < 0) {
		snprintf(buf, cap, "-");
		return;
	}
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	if (full == 2)
		snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, (int)(us % 1000000));
	else if (full)
		snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, cap, "%02d-%02d %02d:%02d:%02d", tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Columns a string takes: one per character, UTF-8 aware. */
static int cols_of(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Copies s for a terminal: each control character, C0, C1 or bidi
 * (common/termtext.h), and each byte that is not UTF-8 becomes '?'; cut on
 * a character when cap is short. */
static void clean(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	while (*s && o + 1 < cap) {
		int k = nl_text_control(s);
		if (k || ((unsigned char)*s >= 0x80 && !nl_text_utf8(s))) {
			out[o++] = '?';
			s += k ? k : 1;
			continue;
		}
		k = nl_text_char(s);
		if (o + (size_t)k + 1 > cap)
			break;
		memcpy(out + o, s, (size_t)k);
		o += (size_t)k;
		s += k;
	}
	out[o] = '\0';
}

/* s cut to w columns: paths keep their tail ("...ld/pipe_eof_hang"),
 * other text its head ("bad value \"ab..."). */
static void fit(char *out, size_t cap, const char *s, int w, int keep_tail)
{
	int n = cols_of(s);
	if (n <= w || w < 4) {
		snprintf(out, cap, "%s", s);
		if (n > w && w >= 0) {  /* too narrow for dots: plain cut */
			int c = 0;
			size_t i = 0;
			for (; out[i]; i++) {
				if (((unsigned char)out[i] & 0xc0) != 0x80 && c++ == w)
					break;
			}
			out[i] = '\0';
		}
		return;
	}
	const char *p = s;
	if (keep_tail) {
		int skip = n - (w - 3);
		while (skip > 0 || ((unsigned char)*p & 0xc0) == 0x80)
			skip -= ((unsigned char)*p++ & 0xc0) != 0x80;
		snprintf(out, cap, "...%s", p);
		return;
	}
	int c = 0;
	size_t i = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && c++ == w - 3)
			break;
	snprintf(out, cap, "%.*s...", (int)i, s);
}

/* Pads to w columns (left or right aligned). */
static void put_cell(FILE *out, const char *s, int w, int right)
{
	int pad = w - cols_of(s);
	if (right)
		fprintf(out, "%*s%s", pad > 0 ? pad : 0, "", s);
	else
		fprintf(out, "%s%*s", s, pad > 0 ? pad : 0, "");
}

static void bold(FILE *out, const struct rep_style *st, const char *s)
{
	fprintf(out, st->color ? "\033[1m%s\033[0m\n" : "%s\n", s);
}

static void colored(FILE *out, const struct rep_style *st, const char *code,
		    const char *s)
{
	if (st->color)
		fprintf(out, "\033[%sm%s\033[0m\n", code, s);
	else
		fprintf(out, "%s\n", s);
}

/* --- grids: the aligned tables ---------------------------------------- */

struct col {
	const char *head;
	int max;        /* widest it may get */
	int right;      /* numbers */
	int flex;       /* takes what the others leave */
	int tail;       /* cut from the left (paths) */
};

struct grid {
	const struct col *cols;
	int ncols, nrows, cap;
	char *cells;            /* nrows x ncols x CELL */
	char (*group)[4][CELL]; /* per row: a group line before it, or "" */
	char **note;            /* per row: a line under it (malloc'd), or NULL */
	int note_whole;         /* notes are printed whole, not cut to fit */
	int w[8];
};

static char *cell(const struct grid *g, int r, int c)
{
	return g->cells + ((size_t)r * g->ncols + c) * CELL;
}

static void grid_init(struct grid *g, const struct col *cols, int ncols, int cap)
{
	memset(g, 0, sizeof *g);
	g->cols = cols;
	g->ncols = ncols;
	g->cap = cap > 0 ? cap : 1;
	g->cells = calloc((size_t)g->cap * ncols, CELL);
	g->group = calloc((size_t)g->cap, sizeof *g->group);
	g->note = calloc((size_t)g->cap, sizeof *g->note);
	g->note_whole = 0;
	if (!g->cells || !g->group || !g->note) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
}

static void grid_free(struct grid *g)
{
	free(g->cells);
	free(g->group);
	for (int r = 0; r < g->cap; r++)
		free(g->note[r]);
	free(g->note);
}

/* Adds a row; the cells are the given strings (cleaned). */
static int grid_row(struct grid *g, const char *const *vals)
{
	if (g->nrows >= g->cap)
		return -1;
	for (int c = 0; c < g->ncols; c++)
		clean(cell(g, g->nrows, c), CELL, vals[c] ? vals[c] : "");
	return g->nrows++;
}

static int empty_column(const struct grid *g, int c)
{
	if (!g->nrows || g->cols[c].right)
		return 0;
	for (int r = 0; r < g->nrows; r++)
		if (*cell(g, r, c))
			return 0;
	return 1;
}

static void grid_widths(struct grid *g, int avail)
{
	int used = 0, flex = -1, shown = 0;
	for (int c = 0; c < g->ncols; c++) {
		int w = cols_of(g->cols[c].head);
		for (int r = 0; r < g->nrows; r++) {
			int n = cols_of(cell(g, r, c));
			if (n > w)
				w = n;
		}
		if (w > g->cols[c].max)
			w = g->cols[c].max;
		g->w[c] = w;
		if (empty_column(g, c)) {
			g->w[c] = -1;  /* nothing to show: no column at all */
			continue;
		}
		if (g->cols[c].flex)
			flex = c;
		else
			used += w;
		shown++;
	}
	used += 2 * (shown - 1);
	if (flex >= 0) {
		int left = avail - used;
		if (left < 8)
			left = 8;
		if (g->w[flex] > left)
			g->w[flex] = left;
	}
}

static void grid_line(FILE *out, struct grid *g, int indent, const char *const *v)
{
	char buf[CELL * 2];
	fprintf(out, "%*s", indent, "");
	int last = g->ncols - 1;
	while (last > 0 && ((!*v[last] && !g->cols[last].right) || g->w[last] < 0))
		last--;
	for (int c = 0, sep = 0; c <= last; c++) {
		if (g->w[c] < 0)
			continue;
		fit(buf, sizeof buf, v[c], g->w[c], g->cols[c].tail);
		if (sep)
			fputs("  ", out);
		put_cell(out, buf, c == last && !g->cols[c].right ? 0 : g->w[c],
			 g->cols[c].right);
		sep = 1;
	}
	fputc('\n', out);
}

/* A group line: a name, then count, first and last under the title's
 * right-hand columns. */
static void group_line(FILE *out, const struct rep_style *st, char g[4][CELL])
{
	char buf[CELL * 2];
	int name_w = st->width - 2 - 2 - 8 - 2 - 14 - 2 - 14;
	fit(buf, sizeof buf, g[0], name_w, 1);
	fputs("  ", out);
	if (st->color)
		fputs("\033[1m", out);
	put_cell(out, buf, name_w, 0);
	if (st->color)
		fputs("\033[0m", out);
	fputs("  ", out);
	put_cell(out, g[1], 8, 1);
	fputs("  ", out);
	put_cell(out, g[2], 14, 0);
	fputs("  ", out);
	fprintf(out, "%s\n", g[3]);
}

/* The title with right-hand heads (count, first, last) for grouped tables. */
static void group_title(FILE *out, const struct rep_style *st,
			const char *title, const char *count_head)
{
	char line[512];
	int name_w = st->width - 2 - 8 - 2 - 14 - 2 - 14;
	snprintf(line, sizeof line, "%-*s  %8s  %-14s  %s", name_w, title,
		 count_head, "first seen", "last seen");
	bold(out, st, line);
}

static void grid_print(FILE *out, const struct rep_style *st, struct grid *g,
		       int indent)
{
	const char *v[8];
	grid_widths(g, st->width - indent);
	for (int c = 0; c < g->ncols; c++)
		v[c] = g->cols[c].head;
	grid_line(out, g, indent, v);
	for (int r = 0; r < g->nrows; r++) {
		if (g->group[r][0][0])
			group_line(out, st, g->group[r]);
		for (int c = 0; c < g->ncols; c++)
			v[c] = cell(g, r, c);
		grid_line(out, g, indent, v);
		if (g->note[r] && g->note_whole) {
			fprintf(out, "%*s%s\n", indent + 4, "", g->note[r]);
		} else if (g->note[r]) {
			char buf[CELL * 4];
			fit(buf, sizeof buf, g->note[r], st->width - indent - 4, 0);
			fprintf(out, "%*s%s\n", indent + 4, "", buf);
		}
	}
}

/* --- ordering --------------------------------------------------------- */

/* A row and the count of its group (its program), which it is sorted by. */
struct item {
	const struct row *r;
	uint64_t g;
};

static const struct pool *cmp_pool;
static int cmp_group_key;   /* -1: no groups */

static int cmp_keys(const struct row *a, const struct row *b)
{
	for (int k = 0; k < KEYN; k++) {
		int c = strcmp(pool_str(cmp_pool, a->k[k]), pool_str(cmp_pool, b->k[k]));
		if (c)
			return c;
	}
	return 0;
}

static int cmp_items(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	if (a->g != b->g)
		return a->g > b->g ? -1 : 1;
	if (cmp_group_key >= 0) {
		int c = strcmp(pool_str(cmp_pool, a->r->k[cmp_group_key]),
			       pool_str(cmp_pool, b->r->k[cmp_group_key]));
		if (c)
			return c;
	}
	if (a->r->count != b->r->count)
		return a->r->count > b->r->count ? -1 : 1;
	return cmp_keys(a->r, b->r);
}

static int cmp_group_ids(const void *x, const void *y)
{
	uint32_t a = ((const struct item *)x)->r->k[cmp_group_key];
	uint32_t b = ((const struct item *)y)->r->k[cmp_group_key];
	return a < b ? -1 : a > b;
}

/* The rows of t (and its "(other)" row, last among equals), ordered; with
 * group_key >= 0 grouped by that key, the largest groups first.  Returns
 * the number of items; free() the array. */
static int sort_table(const struct rep_agg *a, const struct table *t,
		      int group_key, struct item **out)
{
	int n = (int)t->n + (t->other.count ? 1 : 0);
	struct item *it = calloc((size_t)n + 1, sizeof *it);
	if (!it) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	for (uint32_t i = 0; i < t->n; i++)
		it[i].r = &t->rows[i];
	if (t->other.count)
		it[n - 1].r = &t->other;
	cmp_pool = &a->pool;
	cmp_group_key = group_key;
	if (group_key >= 0) {
		qsort(it, (size_t)n, sizeof *it, cmp_group_ids);
		for (int i = 0; i < n;) {
			int j = i;
			uint64_t sum = 0;
			while (j < n && it[j].r->k[group_key] == it[i].r->k[group_key])
				sum = sat_add(sum, it[j++].r->count);
			for (; i < j; i++)
				it[i].g = sum;
		}
	}
	qsort(it, (size_t)n, sizeof *it, cmp_items);
	*out = it;
	return n;
}

/* --- text sections ---------------------------------------------------- */

static const char *S(const struct rep_agg *a, uint32_t id)
{
	return pool_str(&a->pool, id);
}

/* "pipe_eof_hang+0x1113 (main)": where an fd was created. */
static void site_of(const struct rep_agg *a, char *buf, size_t cap,
		    uint32_t module, uint32_t offset, uint32_t symbol)
{
	const char *m = S(a, module), *o = S(a, offset), *sym = S(a, symbol);
	if (module == STR_OTHER) {
		snprintf(buf, cap, "(other)");
		return;
	}
	snprintf(buf, cap, "%s%s%s%s%s%s", *m ? basename_of(m) : "?",
		 *o ? "+" : "", o, *sym ? " (" : "", sym, *sym ? ")" : "");
}

static void u64(char *buf, size_t cap, uint64_t v)
{
	snprintf(buf, cap, "%llu", (unsigned long long)v);
}

/* Group lines for items [i, end of its group): name, total, first, last. */
static void set_group(const struct rep_agg *a, struct grid *g, int r,
		      const struct item *it, int n, int i, int key)
{
	int64_t first = -1, last = -1;
	for (int j = i; j < n && it[j].r->k[key] == it[i].r->k[key]; j++) {
		if (it[j].r->first >= 0 && (first < 0 || it[j].r->first < first))
			first = it[j].r->first;
		if (it[j].r->last > last)
			last = it[j].r->last;
	}
	const char *name = S(a, it[i].r->k[key]);
	clean(g->group[r][0], CELL, *name ? name : "(unknown program)");
	u64(g->group[r][1], CELL, it[i].g);
	fmt_time(g->group[r][2], CELL, first, 0);
	fmt_time(g->group[r][3], CELL, last, 0);
}

static void omitted(FILE *out, int n, int shown, uint64_t rest, const char *unit)
{
	if (n > shown)
		fprintf(out, "    ... %d more %s (%llu %s); --top shows more\n",
			n - shown, plural((uint64_t)(n - shown), "row", "rows"),
			(unsigned long long)rest, unit);
}

static uint64_t rest_count(const struct item *it, int n, int from)
{
	uint64_t s = 0;
	for (int i = from; i < n; i++)
		s = sat_add(s, it[i].r->count);
	return s;
}

/* A section of the summary built from one table: which columns it shows,
 * its title, what its counts count, and how a row becomes cells. */
struct section {
	const char *title;
	const char *noun;       /* "fds", "events"; also the group lines' head */
	int group_key;          /* rows grouped under this key (program), or -1 */
	const struct col *cols;
	int ncols;
	/* Adds the grid row showing r; returns its index. */
	int (*add_row)(const struct rep_agg *a, struct grid *g, const struct row *r);
	const char *hint;       /* a line under the title, or NULL */
	/* Writes the line under a group's last shown row, from all the
	 * group's items (it[from] up to the next group), or NULL. */
	char *(*group_end)(const struct rep_agg *a, const struct item *it, int n,
			   int from);
	int note_whole;         /* group_end's line is printed whole */
};

#define NCOLS(cols) ((int)(sizeof cols / sizeof cols[0]))

/* Prints the --top largest rows of t under the section's title, and how
 * many it left out; an empty table prints nothing at all. */
static void text_section(const struct rep_agg *a, FILE *out,
			 const struct rep_style *st, const struct table *t,
			 const struct section *s)
{
	int key = s->group_key;
	struct item *it;
	int n = sort_table(a, t, key, &it);
	if (!n) {
		free(it);
		return;
	}
	struct grid g;
	int shown = n < st->top ? n : st->top;
	grid_init(&g, s->cols, s->ncols, shown);
	g.note_whole = s->note_whole;
	for (int i = 0, from = 0; i < shown; i++) {
		int row = s->add_row(a, &g, it[i].r);
		if (key >= 0 && (i == 0 || it[i].r->k[key] != it[i - 1].r->k[key])) {
			set_group(a, &g, row, it, n, i, key);
			from = i;
		}
		if (key >= 0 && s->group_end && row >= 0 &&
		    (i + 1 == shown || it[i + 1].r->k[key] != it[i].r->k[key]))
			g.note[row] = s->group_end(a, it, n, from);
	}
	fputc('\n', out);
	if (key >= 0)
		group_title(out, st, s->title, s->noun);
	else
		bold(out, st, s->title);
	if (s->hint)
		fprintf(out, "  %s\n", s->hint);
	grid_print(out, st, &g, key >= 0 ? 4 : 2);
	omitted(out, n, shown, rest_count(it, n, shown), s->noun);
	grid_free(&g);
	free(it);
}

/* What still leaks (audit's would_close); enforce's closed fds have their
 * own section. */
static int leak_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], site[CELL];
	u64(count, sizeof count, r->count);
	site_of(a, site, sizeof site, r->k[5], r->k[6], r->k[7]);
	const char *v[] = { count, *S(a, r->k[1]) ? S(a, r->k[1]) : "?",
			    S(a, r->k[2]), S(a, r->k[3]), S(a, r->k[4]), site };
	return grid_row(g, v);
}

static const struct col leak_cols[] = {
	{ "fds", 8, 1, 0, 0 }, { "target", 30, 0, 0, 1 },
	{ "via", 12, 0, 0, 0 }, { "kind", 10, 0, 0, 0 },
	{ "created by", 12, 0, 0, 0 }, { "site", 60, 0, 1, 1 },
};

static const struct section leak_section = {
	"Leaked fds, by program (fd_leak)", "fds", 0,
	leak_cols, NCOLS(leak_cols), leak_row, NULL, NULL, 0,
};

static int closed_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], site[CELL];
	u64(count, sizeof count, r->count);
	site_of(a, site, sizeof site, r->k[6], r->k[7], r->k[8]);
	const char *v[] = { count, S(a, r->k[1]),
			    *S(a, r->k[2]) ? S(a, r->k[2]) : "?", S(a, r->k[3]),
			    S(a, r->k[4]), S(a, r->k[5]), site };
	return grid_row(g, v);
}

static int cmp_ints(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return a < b ? -1 : a > b;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

/* "3-5,9": the fd numbers of a program's rows, as keep_fds takes them,
 * every one of them (malloc'd; "" when none is above 2). */
static char *fd_ranges(const struct rep_agg *a, const struct item *it, int n,
		       int from)
{
	int *fds = xmalloc(((size_t)(n - from) + 1) * sizeof *fds), m = 0;
	for (int j = from; j < n && it[j].r->k[0] == it[from].r->k[0]; j++) {
		int fd = atoi(S(a, it[j].r->k[1]));
		if (fd > 2)
			fds[m++] = fd;
	}
	qsort(fds, (size_t)m, sizeof *fds, cmp_ints);
	/* at most ",N-N" per fd, numbers of at most 11 characters */
	size_t cap = (size_t)m * 24 + 1, o = 0;
	char *buf = xmalloc(cap);
	buf[0] = '\0';
	for (int i = 0; i < m;) {
		int j = i;
		while (j + 1 < m && fds[j + 1] <= fds[j] + 1)
			j++;
		o += (size_t)snprintf(buf + o, cap - o, fds[i] == fds[j] ? "%s%d" : "%s%d-%d",
				      o ? "," : "", fds[i], fds[j]);
		i = j + 1;
	}
	free(fds);
	return buf;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* A config line's limit (policy/config.c): a longer one is refused. */
#define CONFIG_LINE_MAX 1024

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The header of a [program ...] section that matches the path s byte for
 * byte (malloc'd), or NULL when no config line can hold one.  Sections
 * take globs (policy/glob.c), where [ ] * ? and \ are special and a
 * backslash makes the next character literal; the header is one line,
 * trimmed of blanks at both ends.  So a special character gets a
 * backslash, a blank at either end of the path a bracket of its own ([ ]),
 * and a newline, which no line holds, a '?' (any one byte).  For a
 * terminal (`term`), each byte of a control character and each byte that
 * is not UTF-8 is a '?' as well. */
static char *program_section(const char *s, int term)
{
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(3 * n + sizeof "[program ]");
	o = (size_t)sprintf(out, "[program ");
	for (size_t i = 0; i < n;) {
		const char *c = s + i;
		int k = term ? nl_text_control(c) : 0;
		if (!k && (*c == '\n' || (term && (unsigned char)*c >= 0x80 &&
					   !nl_text_utf8(c))))
			k = 1;
		if (k) {
			for (int j = 0; j < k; j++)
				out[o++] = '?';
			i += (size_t)k;
			continue;
		}
		k = term ? nl_text_char(c) : 1;
		if ((i == 0 || i + 1 == n) && blank(*c)) {
			out[o++] = '[';
			out[o++] = *c;
			out[o++] = ']';
		} else {
			if (strchr("[]*?\\", *c))
				out[o++] = '\\';
			memcpy(out + o, c, (size_t)k);
			o += (size_t)k;
		}
		i += (size_t)k;
	}
	out[o++] = ']';
	out[o] = '\0';
	if (o > CONFIG_LINE_MAX) {
		free(out);
		return NULL;
	}
	return out;
}

/* Why a program gets no restore line, or NULL when it gets one. */
static const char *no_section(const struct rep_agg *a, uint32_t exe)
{
	if (pool_cut(&a->pool, exe))
		return "the program's path is longer than the report keeps "
		       "(" STR(REP_STR_MAX) " bytes)";
	char *sec = program_section(S(a, exe), 0);
	int fits = sec != NULL;
	free(sec);
	return fits ? NULL : "a [program] header for this path is longer than "
			    "a config line (" STR(CONFIG_LINE_MAX) " bytes)";
}

/* The per-program configuration that would let these fds through, whole
 * (it is meant to be copied into the config file), or why there is none. */
static char *restore_line(const struct rep_agg *a, const struct item *it,
			  int n, int from)
{
	uint32_t id = it[from].r->k[0];
	const char *exe = S(a, id);
	if (!*exe || id == STR_OTHER)
		return NULL;
	char *fds = fd_ranges(a, it, n, from);
	if (!*fds) {
		free(fds);
		return NULL;
	}
	const char *why = no_section(a, id);
	char *sec = why ? NULL : program_section(exe, 1);
	static const char fmt[] = "restore with: %s keep_fds = %s";
	static const char fmt_none[] = "no restore line: %s";
	size_t cap = sizeof fmt + (sec ? strlen(sec) : strlen(why)) + strlen(fds);
	char *note = xmalloc(cap);
	if (sec)
		snprintf(note, cap, fmt, sec, fds);
	else
		snprintf(note, cap, fmt_none, why);
	free(sec);
	free(fds);
	return note;
}

static const struct col closed_cols[] = {
	{ "fds", 8, 1, 0, 0 }, { "fd", 6, 1, 0, 0 }, { "target", 24, 0, 0, 1 },
	{ "via", 12, 0, 0, 0 }, { "kind", 10, 0, 0, 0 },
	{ "created by", 12, 0, 0, 0 }, { "site", 60, 0, 1, 1 },
};

static const struct section closed_section = {
	"Closed by enforce, by program (fd_leak \"closed\")", "fds", 0,
	closed_cols, NCOLS(closed_cols), closed_row,
	"enforce closed these \u2014 if a program broke after enabling, look here first",
	restore_line, 1,
};

static int fork_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], threads[24], site[CELL];
	u64(count, sizeof count, r->count);
	snprintf(threads, sizeof threads, "%.0f", r->max);
	site_of(a, site, sizeof site, r->k[3], r->k[4], r->k[5]);
	const char *v[] = { count, S(a, r->k[1]), S(a, r->k[2]), threads, site };
	return grid_row(g, v);
}

static const struct col fork_cols[] = {
	{ "fds", 8, 1, 0, 0 }, { "kind", 10, 0, 0, 0 },
	{ "created by", 12, 0, 0, 0 }, { "threads", 7, 1, 0, 0 },
	{ "site", 60, 0, 1, 1 },
};

static const struct section fork_section = {
	"Fds held by fork children (fork_inherit)", "fds", 0,
	fork_cols, NCOLS(fork_cols), fork_row, NULL, NULL, 0,
};

static int sock_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], wait[32], last[32];
	u64(count, sizeof count, r->count);
	snprintf(wait, sizeof wait, "%.1fs", r->max);
	fmt_time(last, sizeof last, r->last, 0);
	const char *v[] = { count, S(a, r->k[0]), S(a, r->k[1]),
			    S(a, r->k[2]), wait, last };
	return grid_row(g, v);
}

static const struct col sock_cols[] = {
	{ "count", 8, 1, 0, 0 }, { "program", 30, 0, 0, 1 },
	{ "peer", 40, 0, 1, 0 }, { "direction", 9, 0, 0, 0 },
	{ "longest", 9, 1, 0, 0 }, { "last seen", 14, 0, 0, 0 },
};

static const struct section sock_section = {
	"Socket timeouts fired (sock_timeout)", "timeouts", -1,
	sock_cols, NCOLS(sock_cols), sock_row, NULL, NULL, 0,
};

static int tree_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], last[32], detail[CELL];
	u64(count, sizeof count, r->count);
	fmt_time(last, sizeof last, r->last, 0);
	snprintf(detail, sizeof detail, "%s%s%s", S(a, r->k[3]),
		 r->sample ? " holding fds " : "", S(a, r->sample));
	const char *v[] = { count, S(a, r->k[0]), S(a, r->k[2]),
			    S(a, r->k[1]), detail, last };
	return grid_row(g, v);
}

static const struct col tree_cols[] = {
	{ "count", 8, 1, 0, 0 }, { "event", 14, 0, 0, 0 },
	{ "action", 18, 0, 0, 0 }, { "program", 26, 0, 0, 1 },
	{ "detail", 40, 0, 1, 1 }, { "last seen", 14, 0, 0, 0 },
};

static const struct section tree_section = {
	"Process trees: escalated kills, orphans, regrouped children", "events", -1,
	tree_cols, NCOLS(tree_cols), tree_row, NULL, NULL, 0,
};

static int config_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], last[32];
	u64(count, sizeof count, r->count);
	fmt_time(last, sizeof last, r->last, 0);
	const char *v[] = { count, S(a, r->k[0]), S(a, r->k[1]), last };
	return grid_row(g, v);
}

static const struct col config_cols[] = {
	{ "count", 8, 1, 0, 0 }, { "error", 90, 0, 1, 0 },
	{ "config", 20, 0, 0, 1 }, { "last seen", 14, 0, 0, 0 },
};

static const struct section config_section = {
	"Configuration errors (config_error)", "events", -1,
	config_cols, NCOLS(config_cols), config_row, NULL, NULL, 0,
};

static int nomem_row(const struct rep_agg *a, struct grid *g, const struct row *r)
{
	char count[24], last[32];
	u64(count, sizeof count, r->count);
	fmt_time(last, sizeof last, r->last, 0);
	const char *v[] = { count, S(a, r->k[0]), S(a, r->k[1]), S(a, r->k[2]),
			    S(a, r->k[4]), last };
	return grid_row(g, v);
}

static const struct col nomem_cols[] = {
	{ "count", 8, 1, 0, 0 }, { "program", 26, 0, 0, 1 },
	{ "feature", 12, 0, 0, 0 }, { "fallback", 14, 0, 0, 0 },
	{ "target", 30, 0, 1, 1 }, { "last seen", 14, 0, 0, 0 },
};

static const struct section nomem_section = {
	"Checks skipped for lack of memory (nomem)", "events", -1,
	nomem_cols, NCOLS(nomem_cols), nomem_row,
	"the shim fell back: an exec sweep that kept every fd checked none of them",
	NULL, 0,
};

static int cmp_blocked(const void *x, const void *y)
{
	const struct blocked *a = x, *b = y;
	if (a->waited != b->waited)
		return a->waited > b->waited ? -1 : 1;
	int c = strcmp(a->exe, b->exe);
	if (c)
		return c;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

/* The kept blocked reads, longest first (a sorted copy). */
static struct blocked *sorted_blocked(const struct rep_agg *a)
{
	struct blocked *b = calloc((size_t)a->n_blocked + 1, sizeof *b);
	if (!b) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	memcpy(b, a->blocked, (size_t)a->n_blocked * sizeof *b);
	qsort(b, (size_t)a->n_blocked, sizeof *b, cmp_blocked);
	return b;
}

/* "read_timeout: timed out 2 reads; ": what read_timeout did to the reads
 * of a row (audit: what it would have done), or "". */
static void timeouts_text(char *buf, size_t cap, const struct blocked *b)
{
	size_t n = 0;
	if (b->timed_out)
		n = (size_t)snprintf(buf, cap, "read_timeout: timed out %llu read%s; ",
				     (unsigned long long)b->timed_out,
				     plural(b->timed_out, "", "s"));
	if (b->would_time_out && n < cap)
		snprintf(buf + n, cap - n, "read_timeout (audit): would have timed out "
			 "%llu read%s; ", (unsigned long long)b->would_time_out,
			 plural(b->would_time_out, "", "s"));
}

static void text_blocked(const struct rep_agg *a, FILE *out, const struct rep_style *st)
{
	static const struct col cols[] = {
		{ "waited", 10, 1, 0, 0 }, { "program", 30, 0, 0, 1 },
		{ "pid", 8, 1, 0, 0 }, { "call", 12, 0, 0, 0 }, { "fd", 4, 1, 0, 0 },
		{ "object", 40, 0, 1, 0 }, { "events", 6, 1, 0, 0 },
	};
	if (!a->n_blocked)
		return;
	struct blocked *b = sorted_blocked(a);
	struct grid g;
	grid_init(&g, cols, NCOLS(cols), a->n_blocked);
	for (int i = 0; i < a->n_blocked; i++) {
		char waited[32], pid[24], fd[24], obj[CELL], count[24];
		snprintf(waited, sizeof waited, "%.1fs%s", b[i].waited,
			 blocked_ended(&b[i]) ? "" : "+");
		snprintf(pid, sizeof pid, "%lld", b[i].pid);
		snprintf(fd, sizeof fd, "%lld", b[i].fd);
		snprintf(obj, sizeof obj, "%s%s%s", b[i].kind, b[i].kind[0] ? " " : "",
			 b[i].object);
		u64(count, sizeof count, b[i].count);
		const char *v[] = { waited, b[i].exe, pid, b[i].call, fd, obj, count };
		int row = grid_row(&g, v);
		char note[sizeof b[i].what + 128], timeouts[112] = "";
		timeouts_text(timeouts, sizeof timeouts, &b[i]);
		snprintf(note, sizeof note, "%sheld by: %s", timeouts,
			 b[i].what[0] ? b[i].what : "(none logged)");
		g.note[row] = xmalloc(sizeof note);
		clean(g.note[row], sizeof note, note);
	}
	fputc('\n', out);
	char title[200], timeouts[64] = "";
	if (a->timeout_total)
		snprintf(timeouts, sizeof timeouts, ", %llu read_timeout",
			 (unsigned long long)a->timeout_total);
	snprintf(title, sizeof title,
		 "Blocked reads, longest first (%llu blocked, %llu unblocked%s events; + = still blocked)",
		 (unsigned long long)a->blocked_total,
		 (unsigned long long)a->unblocked_total, timeouts);
	bold(out, st, title);
	grid_print(out, st, &g, 2);
	grid_free(&g);
	free(b);
}

static void execs_text(char *buf, size_t cap, const struct rep_agg *a,
		       const struct mode_total *m)
{
	snprintf(buf, cap, "%llu fd%s in %s%llu exec%s of %s%llu program%s",
		 (unsigned long long)m->fds, m->fds == 1 ? "" : "s",
		 a->execs_full ? "at least " : "", (unsigned long long)m->execs,
		 m->execs == 1 ? "" : "s", a->pool.full ? "at least " : "",
		 (unsigned long long)m->programs, m->programs == 1 ? "" : "s");
}

static void text_header(const struct rep_agg *a, FILE *out, const struct rep_style *st)
{
	char line[512], first[40], last[40];
	fmt_time(first, sizeof first, a->first, 1);
	fmt_time(last, sizeof last, a->last, 1);
	snprintf(line, sizeof line, "noleak-report: %d log%s, %llu line%s, %llu event%s kept",
		 a->files, a->files == 1 ? "" : "s", (unsigned long long)a->lines,
		 a->lines == 1 ? "" : "s", (unsigned long long)a->kept,
		 a->kept == 1 ? "" : "s");
	bold(out, st, line);
	if (a->first >= 0)
		fprintf(out, "time range: %s to %s\n", first, last);
	fprintf(out, "skipped %llu malformed line%s, %llu unknown event%s",
		(unsigned long long)(a->malformed + a->overlong),
		plural(a->malformed + a->overlong, "", "s"),
		(unsigned long long)a->unknown, plural(a->unknown, "", "s"));
	if (a->overlong)
		fprintf(out, " (%llu over 1 MiB)", (unsigned long long)a->overlong);
	if (a->filtered)
		fprintf(out, "; %llu filtered out", (unsigned long long)a->filtered);
	fputc('\n', out);
	if (a->truncated)
		fprintf(out, "%llu event%s cut short by the shim (\"truncated\")\n",
			(unsigned long long)a->truncated, plural(a->truncated, " was", "s were"));
	if (a->dropped_by_shim)
		fprintf(out, "the shim's rate limit dropped %llu event%s (suppressed)\n",
			(unsigned long long)a->dropped_by_shim, plural(a->dropped_by_shim, "", "s"));
	if (a->files_skipped)
		fprintf(out, "%d compressed log%s skipped\n", a->files_skipped,
			a->files_skipped == 1 ? "" : "s");
}

static void text_totals(const struct rep_agg *a, FILE *out, const struct rep_style *st)
{
	char buf[256], line[320];
	if (a->audit.fds) {
		execs_text(buf, sizeof buf, a, &a->audit);
		snprintf(line, sizeof line, "audit: enforce would have closed %s", buf);
		fputc('\n', out);
		colored(out, st, "33", line);
	}
	if (a->enforce.fds) {
		execs_text(buf, sizeof buf, a, &a->enforce);
		snprintf(line, sizeof line, "enforce: closed %s", buf);
		if (!a->audit.fds)
			fputc('\n', out);
		colored(out, st, "32", line);
	}
}

static void text_other(const struct rep_agg *a, FILE *out)
{
	static const enum rep_kind quiet[] = { K_SOCK_POLICY, K_STDIN_DETACHED,
		K_SUPPRESSED };
	int any = 0;
	for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
		uint64_t n = a->kind_events[quiet[i]];
		if (!n)
			continue;
		fprintf(out, "%s%s %llu", any ? ", " : "\nother events: ",
			rep_kind_names[quiet[i]], (unsigned long long)n);
		any = 1;
	}
	if (any)
		fputc('\n', out);
}

void rep_print_text(const struct rep_agg *a, FILE *out, const struct rep_style *st)
{
	text_header(a, out, st);
	text_totals(a, out, st);
	text_section(a, out, st, &a->closed, &closed_section);
	text_section(a, out, st, &a->leaks, &leak_section);
	text_section(a, out, st, &a->forks, &fork_section);
	text_blocked(a, out, st);
	text_section(a, out, st, &a->socks, &sock_section);
	text_section(a, out, st, &a->tree, &tree_section);
	text_section(a, out, st, &a->config, &config_section);
	text_section(a, out, st, &a->nomem, &nomem_section);
	text_other(a, out);
	fputc('\n', out);
	if (rep_agg_leaks_or_hangs(a))
		colored(out, st, "1;31", "result: leaks or hangs found");
	else if (rep_agg_problems(a))
		colored(out, st, "1;31", "result: fds may have leaked unseen: no leaks or hangs "
			"logged, but a check was skipped (nomem)");
	else
		colored(out, st, "32", "result: no leaks or hangs found");
}

/* --- JSON ------------------------------------------------------------- */

/* A JSON string from any bytes, written as the shim writes its log
 * (common/termtext.h, nl_text_json: UTF-8 as it is, each byte that is not
 * UTF-8 as \u0080 to \u00ff; a C1 control as the escapes of its two
 * bytes, the other controls (bidi, U+2028, U+2029) as their code points). */
static void jstr(FILE *out, const char *s)
{
	char e[16];
	fputc('"', out);
	for (int n; (n = nl_text_json(s, e)); s += n)
		fputs(e, out);
	fputc('"', out);
}

static void jkey(FILE *out, int *first, const char *key)
{
	fprintf(out, "%s\"%s\":", *first ? "" : ",", key);
	*first = 0;
}

static void jkv_str(FILE *out, int *first, const char *key, const char *v)
{
	jkey(out, first, key);
	jstr(out, v);
}

static void jkv_u64(FILE *out, int *first, const char *key, uint64_t v)
{
	jkey(out, first, key);
	fprintf(out, "%llu", (unsigned long long)v);
}

static void jkv_time(FILE *out, int *first, const char *key, int64_t us)
{
	char buf[40];
	jkey(out, first, key);
	if (us < 0) {
		fputs("null", out);
		return;
	}
	fmt_time(buf, sizeof buf, us, 2);
	jstr(out, buf);
}

static void jkv_num(FILE *out, int *first, const char *key, double v)
{
	jkey(out, first, key);
	if (v != v || v > 1e300 || v < -1e300)
		fputs("null", out);
	else
		fprintf(out, "%.3f", v);
}

/* One table: {"rows":[...], "omitted_rows":N, "omitted_count":N}. */
static void json_table(const struct rep_agg *a, FILE *out, const struct table *t,
		       int group_key, int top, const char *const *names,
		       const char *max_name)
{
	struct item *it;
	int n = sort_table(a, t, group_key, &it);
	int shown = n < top ? n : top;
	fputs("{\"rows\":[", out);
	for (int i = 0; i < shown; i++) {
		const struct row *r = it[i].r;
		int first = 1;
		fputs(i ? ",{" : "{", out);
		for (int k = 0; k < KEYN && names[k]; k++)
			if (*names[k])
				jkv_str(out, &first, names[k], S(a, r->k[k]));
		if (r->sample)
			jkv_str(out, &first, t == &a->config ? "program" :
				t == &a->closed ? "object" : "holds_fds",
				S(a, r->sample));
		if (max_name)
			jkv_num(out, &first, max_name, r->max);
		jkv_u64(out, &first, "count", r->count);
		jkv_time(out, &first, "first_seen", r->first);
		jkv_time(out, &first, "last_seen", r->last);
		fputc('}', out);
	}
	int first = 0;
	fputc(']', out);
	jkv_u64(out, &first, "total", t->total);
	jkv_u64(out, &first, "omitted_rows", (uint64_t)(n - shown));
	jkv_u64(out, &first, "omitted_count", rest_count(it, n, shown));
	fputc('}', out);
	free(it);
}

static void json_mode(FILE *out, int *first, const char *key,
		      const struct rep_agg *a, const struct mode_total *m)
{
	int f = 1;
	jkey(out, first, key);
	fputc('{', out);
	jkv_u64(out, &f, "fds", m->fds);
	jkv_u64(out, &f, "execs", m->execs);
	jkv_u64(out, &f, "programs", m->programs);
	jkey(out, &f, "execs_exact");
	fputs(a->execs_full ? "false" : "true", out);
	jkey(out, &f, "programs_exact");
	fputs(a->pool.full ? "false" : "true", out);
	fputc('}', out);
}

static void json_blocked(const struct rep_agg *a, FILE *out)
{
	struct blocked *b = sorted_blocked(a);
	int first = 1;
	fputc('{', out);
	jkv_u64(out, &first, "events", a->blocked_total);
	jkv_u64(out, &first, "unblocked_events", a->unblocked_total);
	jkv_u64(out, &first, "read_timeout_events", a->timeout_total);
	jkey(out, &first, "rows");
	fputc('[', out);
	for (int i = 0; i < a->n_blocked; i++) {
		int f = 1;
		fputs(i ? ",{" : "{", out);
		jkv_str(out, &f, "host", b[i].host);
		jkv_str(out, &f, "program", b[i].exe);
		jkey(out, &f, "pid");
		fprintf(out, "%lld", b[i].pid);
		jkv_str(out, &f, "call", b[i].call);
		jkey(out, &f, "fd");
		fprintf(out, "%lld", b[i].fd);
		jkv_str(out, &f, "kind", b[i].kind);
		jkv_str(out, &f, "object", b[i].object);
		jkv_num(out, &f, "waited", b[i].waited);
		jkey(out, &f, "unblocked");
		fputs(blocked_ended(&b[i]) ? "true" : "false", out);
		jkv_u64(out, &f, "timed_out", b[i].timed_out);
		jkv_u64(out, &f, "would_time_out", b[i].would_time_out);
		jkv_str(out, &f, "culprits", b[i].what);
		jkv_u64(out, &f, "count", b[i].count);
		jkv_time(out, &f, "first_seen", b[i].first);
		jkv_time(out, &f, "last_seen", b[i].last);
		fputc('}', out);
	}
	fputs("]}", out);
	free(b);
}

/* Per program, the keep_fds that would let through every fd enforce
 * closed: [{"program":..., "keep_fds":"3-5,9"}]. */
static void json_restore(const struct rep_agg *a, FILE *out)
{
	struct item *it;
	int n = sort_table(a, &a->closed, 0, &it), any = 0;
	fputc('[', out);
	for (int i = 0; i < n; i++) {
		if (i && it[i].r->k[0] == it[i - 1].r->k[0])
			continue;
		char *fds = fd_ranges(a, it, n, i);
		if (*fds && it[i].r->k[0] != STR_OTHER) {
			int f = 1;
			fputs(any++ ? ",{" : "{", out);
			const char *why = no_section(a, it[i].r->k[0]);
			char *section = why ? NULL : program_section(S(a, it[i].r->k[0]), 0);
			jkv_str(out, &f, "program", S(a, it[i].r->k[0]));
			if (section) {
				jkv_str(out, &f, "section", section);
			} else {
				jkey(out, &f, "section");
				fputs("null", out);
				jkv_str(out, &f, "no_section", why);
			}
			jkv_str(out, &f, "keep_fds", fds);
			free(section);
			fputc('}', out);
		}
		free(fds);
	}
	fputc(']', out);
	free(it);
}

void rep_print_json(const struct rep_agg *a, FILE *out, const struct rep_style *st)
{
	static const char *const leak_names[] = { "program", "target", "via", "kind",
		"created_by", "module", "offset", "symbol", "action" };
	static const char *const closed_names[] = { "program", "fd", "target",
		"via", "kind", "created_by", "module", "offset", "symbol" };
	static const char *const fork_names[] = { "program", "kind", "created_by",
		"module", "offset", "symbol", NULL };
	static const char *const sock_names[] = { "program", "peer", "direction",
		NULL };
	static const char *const tree_names[] = { "event", "program", "action",
		"detail", NULL };
	static const char *const config_names[] = { "error", "config", NULL };
	static const char *const nomem_names[] = { "program", "feature", "fallback",
		"via", "target", NULL };
	int first = 1, f = 1;
	fputc('{', out);
	jkv_str(out, &first, "version", NL_VERSION);
	jkey(out, &first, "inputs");
	fputc('{', out);
	jkv_u64(out, &f, "logs", (uint64_t)a->files);
	jkv_u64(out, &f, "skipped_logs", (uint64_t)a->files_skipped);
	jkv_u64(out, &f, "lines", a->lines);
	jkv_u64(out, &f, "events", a->kept);
	jkv_u64(out, &f, "malformed", a->malformed + a->overlong);
	jkv_u64(out, &f, "overlong", a->overlong);
	jkv_u64(out, &f, "unknown", a->unknown);
	jkv_u64(out, &f, "filtered", a->filtered);
	jkv_u64(out, &f, "truncated", a->truncated);
	jkv_u64(out, &f, "no_time", a->no_time);
	jkv_u64(out, &f, "dropped_by_shim", a->dropped_by_shim);
	fputc('}', out);
	jkv_time(out, &first, "first_seen", a->first);
	jkv_time(out, &first, "last_seen", a->last);
	jkey(out, &first, "events");
	fputc('{', out);
	f = 1;
	for (int k = 0; k < K_NKINDS; k++)
		jkv_u64(out, &f, rep_kind_names[k], a->kind_events[k]);
	fputc('}', out);
	jkey(out, &first, "totals");
	fputc('{', out);
	f = 1;
	json_mode(out, &f, "audit", a, &a->audit);
	json_mode(out, &f, "enforce", a, &a->enforce);
	fputc('}', out);
	jkey(out, &first, "closed");
	json_table(a, out, &a->closed, 0, st->top, closed_names, NULL);
	jkey(out, &first, "restore");
	json_restore(a, out);
	jkey(out, &first, "leaks");
	json_table(a, out, &a->leaks, 0, st->top, leak_names, NULL);
	jkey(out, &first, "fork_inherit");
	json_table(a, out, &a->forks, 0, st->top, fork_names, "threads");
	jkey(out, &first, "blocked");
	json_blocked(a, out);
	jkey(out, &first, "sock_timeouts");
	json_table(a, out, &a->socks, -1, st->top, sock_names, "longest_wait");
	jkey(out, &first, "process_tree");
	json_table(a, out, &a->tree, -1, st->top, tree_names, NULL);
	jkey(out, &first, "config_errors");
	json_table(a, out, &a->config, -1, st->top, config_names, NULL);
	jkey(out, &first, "nomem");
	json_table(a, out, &a->nomem, -1, st->top, nomem_names, NULL);
	jkey(out, &first, "problems");
	fputs(rep_agg_problems(a) ? "true" : "false", out);
	fputs("}\n", out);
}
