/* libFuzzer target for noleak-report's line parser and aggregator: the
 * input is a log (lines split on '\n'); every line is parsed, its fields
 * decoded, folded into the tables, and both outputs are written.  Built
 * with clang -fsanitize=fuzzer,address,undefined and the report's .c files
 * but report.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tools/report/agg.h"

static FILE *sink(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	return f;
}

/* Decodes every field the way the report would, to reach rep_str,
 * rep_int, rep_num, rep_parse_time and rep_walk on arbitrary values. */
static int touch_member(void *ctx, const char *key, size_t klen,
			const struct rep_val *v)
{
	char buf[64];
	(void)ctx;
	(void)key;
	(void)klen;
	rep_str(v, buf, sizeof buf);
	rep_int(v, 0);
	rep_num(v, 0);
	rep_walk(v, touch_member, NULL);
	return 0;
}

static void touch_fields(const char *line, size_t n)
{
	struct rep_event ev = { 0 };
	char buf[REP_STR_MAX + 1];
	if (rep_parse_line(line, n, &ev))
		return;
	for (int f = 0; f < F_NFIELDS; f++) {
		rep_str(&ev.f[f], buf, sizeof buf);
		rep_str(&ev.f[f], buf, 3);
		rep_int(&ev.f[f], -1);
		rep_num(&ev.f[f], -1);
		if (ev.f[f].type == RJ_STR)
			rep_parse_time(ev.f[f].p, ev.f[f].n);
		rep_walk(&ev.f[f], touch_member, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rep_filter flt = { .since = INT64_MIN, .until = INT64_MAX };
	struct rep_style st = { .color = size & 1, .top = 3, .width = 100 };
	if (size && (data[0] & 2)) {
		flt.program = "*agent*";
		flt.events[flt.n_events++] = "fd_leak";
		flt.events[flt.n_events++] = "read_blocked";
	}
	struct rep_agg *a = rep_agg_new(&flt, st.top);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		touch_fields(p, n);
		rep_agg_line(a, p, n);
		p += n + 1;
	}
	FILE *out = sink();
	if (out) {
		rep_print_text(a, out, &st);
		rep_print_json(a, out, &st);
	}
	rep_agg_problems(a);
	rep_agg_free(a);
	return 0;
}
