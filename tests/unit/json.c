/* JSON helpers: escaping of hostile bytes, RFC 3339 time, numbers.
 *
 * Also home of json_valid(), a small strict JSON checker the event tests use
 * to prove that every line the shim writes parses. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/json.h"

/* --- a strict JSON checker (RFC 8259), UTF-8 included --- */

struct jp {
	const unsigned char *s;
	size_t n, i;
	int depth;
};

static int jp_value(struct jp *p);

static void jp_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
			       p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int jp_lit(struct jp *p, const char *lit)
{
	size_t k = strlen(lit);

	if (p->n - p->i < k || memcmp(p->s + p->i, lit, k) != 0)
		return 0;
	p->i += k;
	return 1;
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* One UTF-8 character at p->i (RFC 3629 table), advancing past it. */
static int jp_utf8(struct jp *p)
{
	const unsigned char *s = p->s + p->i;
	size_t avail = p->n - p->i, need;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80) {
		p->i++;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (s[0] == 0xe0) lo = 0xa0;
	if (s[0] == 0xed) hi = 0x9f;
	if (s[0] == 0xf0) lo = 0x90;
	if (s[0] == 0xf4) hi = 0x8f;
	if (avail < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < need; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	p->i += need;
	return 1;
}

static int jp_string(struct jp *p)
{
	if (!jp_lit(p, "\""))
		return 0;
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];
		if (c == '"') {
			p->i++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			p->i++;
			if (p->i >= p->n)
				return 0;
			c = p->s[p->i++];
			if (c == 'u') {
				for (int k = 0; k < 4; k++)
					if (p->i >= p->n || !is_hex(p->s[p->i++]))
						return 0;
			} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
				return 0;
			}
			continue;
		}
		if (!jp_utf8(p))
			return 0;
	}
	return 0;
}

static int jp_digits(struct jp *p)
{
	size_t start = p->i;

	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i > start;
}

static int jp_number(struct jp *p)
{
	jp_lit(p, "-");
	if (jp_lit(p, "0")) {
		/* no leading zeros */
	} else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9') {
		jp_digits(p);
	} else {
		return 0;
	}
	if (jp_lit(p, ".") && !jp_digits(p))
		return 0;
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (!jp_lit(p, "+"))
			jp_lit(p, "-");
		if (!jp_digits(p))
			return 0;
	}
	return 1;
}

static int jp_members(struct jp *p, char close, int keyed)
{
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return 1;
	}
	for (;;) {
		jp_ws(p);
		if (keyed) {
			if (!jp_string(p))
				return 0;
			jp_ws(p);
			if (!jp_lit(p, ":"))
				return 0;
		}
		if (!jp_value(p))
			return 0;
		jp_ws(p);
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return 1;
		}
		if (!jp_lit(p, ","))
			return 0;
	}
}

static int jp_value(struct jp *p)
{
	int ok;

	jp_ws(p);
	if (p->i >= p->n || ++p->depth > 64)
		return 0;
	switch (p->s[p->i]) {
	case '{': p->i++; ok = jp_members(p, '}', 1); break;
	case '[': p->i++; ok = jp_members(p, ']', 0); break;
	case '"': ok = jp_string(p); break;
	case 't': ok = jp_lit(p, "true"); break;
	case 'f': ok = jp_lit(p, "false"); break;
	case 'n': ok = jp_lit(p, "null"); break;
	default: ok = jp_number(p); break;
	}
	p->depth--;
	return ok;
}

/* Whether s[0..n) is exactly one JSON value. */
int json_valid(const char *s, size_t n)
{
	struct jp p = { (const unsigned char *)s, n, 0, 0 };

	if (!jp_value(&p))
		return 0;
	jp_ws(&p);
	return p.i == n;
}

Test(json_checker, knows_good_from_bad)
{
	cr_assert(json_valid("{\"a\":[1,-2.5e3,true,null,\"\\u00e9\\n\"]}", 37));
	cr_assert(!json_valid("{\"a\":1,}", 8));
	cr_assert(!json_valid("\"\x01\"", 3));
	cr_assert(!json_valid("\"\xc0\xaf\"", 4));
	cr_assert(!json_valid("\"\\x\"", 4));
	cr_assert(!json_valid("{\"a\":1", 6));
	cr_assert(!json_valid("01", 2));
}

/* --- escaping --- */

static const char *esc(const char *src, size_t n)
{
	static char out[4096];
	int complete = 0;
	size_t len = nl_json_escape(out, sizeof out - 1, src, n, &complete);

	cr_assert(complete, "escape of %zu bytes incomplete", n);
	out[len] = '\0';
	return out;
}

/* Quoted, the escape must be a valid JSON string. */
static void assert_valid_string(const char *src, size_t n)
{
	static char q[16384];
	int complete;
	size_t len = nl_json_escape(q + 1, sizeof q - 2, src, n, &complete);

	cr_assert(complete);
	q[0] = '"';
	q[len + 1] = '"';
	cr_assert(json_valid(q, len + 2), "invalid JSON: %.*s", (int)len + 2, q);
}

Test(json_escape, plain_text_passes_through)
{
	cr_assert_str_eq(esc("pipe:[1234] /usr/bin/x", 22), "pipe:[1234] /usr/bin/x");
}

Test(json_escape, quotes_and_backslashes)
{
	cr_assert_str_eq(esc("a\"b\\c", 5), "a\\\"b\\\\c");
	assert_valid_string("a\"b\\c\\", 6);
}

Test(json_escape, every_control_character)
{
	for (int c = 0; c < 0x20; c++) {
		char in[1] = { (char)c };
		char want[8];
		switch (c) {
		case '\n': strcpy(want, "\\n"); break;
		case '\t': strcpy(want, "\\t"); break;
		case '\r': strcpy(want, "\\r"); break;
		case '\b': strcpy(want, "\\b"); break;
		case '\f': strcpy(want, "\\f"); break;
		default: sprintf(want, "\\u%04x", c); break;
		}
		cr_assert_str_eq(esc(in, 1), want, "byte 0x%02x", c);
		assert_valid_string(in, 1);
	}
	cr_assert_str_eq(esc("\x7f", 1), "\\u007f");
}

Test(json_escape, nul_inside_strn)
{
	cr_assert_str_eq(esc("a\0b", 3), "a\\u0000b");
	assert_valid_string("a\0b\0", 4);
}

Test(json_escape, valid_utf8_is_kept)
{
	/* 2-, 3- and 4-byte characters, and the extremes of each range */
	const char *s = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x80 "
			"\xef\xbf\xbf \xf4\x8f\xbf\xbf \xed\x9f\xbf";
	cr_assert_str_eq(esc(s, strlen(s)), s);
	assert_valid_string(s, strlen(s));
}

Test(json_escape, invalid_utf8_becomes_escapes)
{
	struct { const char *in; const char *want; } cases[] = {
		{ "\x80", "\\u0080" },                          /* lone continuation */
		{ "\xc0\xaf", "\\u00c0\\u00af" },               /* overlong '/' */
		{ "\xc1\xbf", "\\u00c1\\u00bf" },               /* overlong */
		{ "\xe0\x80\xaf", "\\u00e0\\u0080\\u00af" },    /* overlong, 3 bytes */
		{ "\xf0\x80\x80\xaf", "\\u00f0\\u0080\\u0080\\u00af" },
		{ "\xed\xa0\x80", "\\u00ed\\u00a0\\u0080" },    /* surrogate D800 */
		{ "\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf" },    /* surrogate DFFF */
		{ "\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080" }, /* > 10FFFF */
		{ "\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080" },
		{ "\xff\xfe", "\\u00ff\\u00fe" },
		{ "\xe2\x82", "\\u00e2\\u0082" },               /* cut short */
		{ "\xe2\x82x", "\\u00e2\\u0082x" },             /* cut by ASCII */
		{ "a\xc3\xa9\xc3", "a\xc3\xa9\\u00c3" },        /* good then bad */
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		size_t n = strlen(cases[k].in);
		cr_assert_str_eq(esc(cases[k].in, n), cases[k].want, "case %zu", k);
		assert_valid_string(cases[k].in, n);
	}
}

Test(json_escape, random_bytes_always_valid)
{
	unsigned seed = 12345;
	char buf[64];

	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof buf);
		for (size_t k = 0; k < n; k++)
			buf[k] = (char)rand_r(&seed);
		assert_valid_string(buf, n);
	}
}

Test(json_escape, never_splits_an_escape_or_character)
{
	char out[16];
	int complete = 1;

	memset(out, '#', sizeof out);
	cr_assert_eq(nl_json_escape(out, 7, "ab\x01", 3, &complete), 2);
	cr_assert_not(complete);
	cr_assert_eq(out[2], '#');

	cr_assert_eq(nl_json_escape(out, 1, "\n", 1, &complete), 0);
	cr_assert_not(complete);

	cr_assert_eq(nl_json_escape(out, 3, "\xf0\x9f\x98\x80", 4, &complete), 0);
	cr_assert_not(complete);

	cr_assert_eq(nl_json_escape(out, 8, "ab\x01", 3, &complete), 8);
	cr_assert(complete);
	cr_assert(memcmp(out, "ab\\u0001", 8) == 0);
}

/* --- time --- */

static const char *ts(long long sec, long nsec)
{
	static char out[64];

	cr_assert_eq(nl_rfc3339(out, sizeof out, sec, nsec), 27);
	cr_assert_eq(strlen(out), 27);
	return out;
}

Test(rfc3339, known_times)
{
	cr_assert_str_eq(ts(0, 0), "1970-01-01T00:00:00.000000Z");
	cr_assert_str_eq(ts(1709210096, 789012345), "2024-02-29T12:34:56.789012Z");
	cr_assert_str_eq(ts(1795931641, 123000), "2026-11-29T05:54:01.000123Z");
	cr_assert_str_eq(ts(1795931641, 123999), "2026-11-29T05:54:01.000123Z");
	cr_assert_str_eq(ts(951782400, 0), "2000-02-29T00:00:00.000000Z");
	cr_assert_str_eq(ts(4107542399, 999999999), "2100-02-28T23:59:59.999999Z");
	cr_assert_str_eq(ts(4107542400, 0), "2100-03-01T00:00:00.000000Z");
	cr_assert_str_eq(ts(253402300799, 0), "9999-12-31T23:59:59.000000Z");
	cr_assert_str_eq(ts(-1, 0), "1969-12-31T23:59:59.000000Z");
}

Test(rfc3339, refuses_small_buffer)
{
	char out[27];

	cr_assert_eq(nl_rfc3339(out, sizeof out, 0, 0), 0);
}

/* --- numbers --- */

Test(fmt, integers)
{
	char out[32];

	cr_assert_eq(nl_fmt_int(out, sizeof out, 0), 1);
	cr_assert_str_eq(out, "0");
	nl_fmt_int(out, sizeof out, -42);
	cr_assert_str_eq(out, "-42");
	nl_fmt_int(out, sizeof out, LLONG_MAX);
	cr_assert_str_eq(out, "9223372036854775807");
	cr_assert_eq(nl_fmt_int(out, sizeof out, LLONG_MIN), 20);
	cr_assert_str_eq(out, "-9223372036854775808");
	cr_assert_eq(nl_fmt_int(out, 2, 123), 0, "does not fit: nothing");
	cr_assert_eq(nl_fmt_hex(out, sizeof out, 0xdeadbeefULL), 8);
	cr_assert_str_eq(out, "deadbeef");
	nl_fmt_hex(out, sizeof out, 0);
	cr_assert_str_eq(out, "0");
}
