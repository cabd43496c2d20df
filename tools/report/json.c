/* A small JSON reader for one log line at a time.
 *
 * A line is validated completely (strict JSON, valid UTF-8) in one pass, and
 * the top-level fields the report needs are kept as slices of the line:
 * nothing is copied or allocated, so summarising a gigabyte of log costs no
 * more memory than one line.  Strings are decoded only when a caller asks. */
#include "report.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct cur {
	const unsigned char *p, *end;
};

static const struct { const char *name; size_t len; enum rep_field id; } fields[] = {
#define NL_EVENT_KEY(name, ID, type) { #name, sizeof #name - 1, F_##ID },
#include "common/events.def"
};

/* Keys are matched by length first: a line has a dozen keys, and most
 * lengths have one or two candidates. */
static enum rep_field field_id(const unsigned char *k, size_t n)
{
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const char *name = fields[i].name;
		if ((unsigned char)name[0] == k[0] && fields[i].len == n &&
		    !memcmp(name, k, n))
			return fields[i].id;
	}
	return F_NFIELDS;
}

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	int n;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; min = 0x10000;
	} else {
		return 0;
	}
	if (end - p < n)
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int scan_string(struct cur *c, struct rep_val *v)
{
	const unsigned char *p = c->p + 1, *e = c->end;
	int esc = 0;
	while (p < e) {
		unsigned ch = *p;
		if (ch == '"') {
			v->type = RJ_STR;
			v->p = (const char *)c->p + 1;
			v->n = (uint32_t)(p - c->p - 1);
			v->esc = (uint8_t)esc;
			c->p = p + 1;
			return 0;
		}
		if (ch >= 0x20 && ch < 0x80 && ch != '\\') {
			p++;
		} else if (ch == '\\') {
			esc = 1;
			if (e - p < 2)
				return -1;
			if (p[1] == 'u') {
				if (e - p < 6)
					return -1;
				for (int i = 2; i < 6; i++)
					if (hexval(p[i]) < 0)
						return -1;
				p += 6;
			} else if (strchr("\"\\/bfnrt", p[1]) && p[1]) {
				p += 2;
			} else {
				return -1;
			}
		} else if (ch >= 0x80) {
			int k = utf8_len(p, e);
			if (!k)
				return -1;
			p += k;
		} else {
			return -1;  /* raw control byte, NUL included */
		}
	}
	return -1;
}

static int digits(struct cur *c)
{
	const unsigned char *s = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s ? 0 : -1;
}

static int scan_number(struct cur *c, struct rep_val *v)
{
	const unsigned char *s = c->p;
	if (*c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (digits(c))
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (digits(c))
			return -1;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (digits(c))
			return -1;
	}
	v->type = RJ_NUM;
	v->p = (const char *)s;
	v->n = (uint32_t)(c->p - s);
	return 0;
}

static int scan_word(struct cur *c, const char *w, int type, struct rep_val *v)
{
	size_t n = strlen(w);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return -1;
	v->type = (uint8_t)type;
	v->p = (const char *)c->p;
	v->n = (uint32_t)n;
	c->p += n;
	return 0;
}

static int scan_value(struct cur *c, struct rep_val *v, int depth);

/* An array or object; `fn` (may be NULL) sees each member. */
static int scan_container(struct cur *c, struct rep_val *v, int depth,
			  rep_member_fn fn, void *ctx, struct rep_event *top)
{
	const unsigned char *start = c->p;
	int obj = *c->p == '{';
	unsigned char close = obj ? '}' : ']';
	int stop = 0;
	if (depth > REP_DEPTH_MAX)
		return -1;
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		goto done;
	}
	for (;;) {
		struct rep_val key = { 0 }, val = { 0 };
		skip_ws(c);
		if (obj) {
			if (c->p >= c->end || *c->p != '"' || scan_string(c, &key))
				return -1;
			skip_ws(c);
			if (c->p >= c->end || *c->p != ':')
				return -1;
			c->p++;
			skip_ws(c);
		}
		if (scan_value(c, &val, depth + 1))
			return -1;
		if (top && !key.esc) {
			enum rep_field id = field_id((const unsigned char *)key.p, key.n);
			if (id < F_NFIELDS) {
				if (top->f[id].type == RJ_NONE)
					top->set[top->n_set++] = (uint8_t)id;
				top->f[id] = val;
			}
		}
		if (fn && !stop)
			stop = fn(ctx, obj ? key.p : NULL, obj ? key.n : 0, &val);
		skip_ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == close) {
			c->p++;
			break;
		}
		if (*c->p != ',')
			return -1;
		c->p++;
	}
done:
	v->type = obj ? RJ_OBJ : RJ_ARR;
	v->p = (const char *)start;
	v->n = (uint32_t)(c->p - start);
	return 0;
}

static int scan_value(struct cur *c, struct rep_val *v, int depth)
{
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '"':
		return scan_string(c, v);
	case '{':
	case '[':
		return scan_container(c, v, depth, NULL, NULL, NULL);
	case 't':
		return scan_word(c, "true", RJ_TRUE, v);
	case 'f':
		return scan_word(c, "false", RJ_FALSE, v);
	case 'n':
		return scan_word(c, "null", RJ_NULL, v);
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return scan_number(c, v);
		return -1;
	}
}

int rep_parse_line(const char *s, size_t n, struct rep_event *ev)
{
	struct cur c = { (const unsigned char *)s, (const unsigned char *)s + n };
	struct rep_val v;
	for (unsigned i = 0; i < ev->n_set; i++)
		ev->f[ev->set[i]] = (struct rep_val){ 0 };
	ev->n_set = 0;
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return -1;
	if (scan_container(&c, &v, 0, NULL, NULL, ev))
		return -1;
	skip_ws(&c);
	return c.p == c.end ? 0 : -1;
}

void rep_walk(const struct rep_val *container, rep_member_fn fn, void *ctx)
{
	if (container->type != RJ_OBJ && container->type != RJ_ARR)
		return;
	struct cur c = { (const unsigned char *)container->p,
			 (const unsigned char *)container->p + container->n };
	struct rep_val v;
	scan_container(&c, &v, 0, fn, ctx, NULL);
}

/* --- values ----------------------------------------------------------- */

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)hexval((unsigned char)p[i]);
	return v;
}

/* One escape at p (after the backslash); its code point, *used = bytes.
 * \u0080 to \u00ff give RAW_BYTE + the byte: the shim writes valid UTF-8
 * as it is and escapes each byte that is not UTF-8 (shim/log/json.c), so
 * these escapes stand for bytes, never for characters. */
#define RAW_BYTE 0x110000u
static unsigned unescape(const char *p, const char *end, size_t *used)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (*p != 'u') {
		*used = 1;
		return (unsigned char)to[strchr(from, *p) - from];
	}
	unsigned cp = hex4(p + 1);
	*used = 5;
	if (cp >= 0x80 && cp <= 0xff)
		return RAW_BYTE + cp;
	if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 11 && p[5] == '\\' &&
	    p[6] == 'u') {
		unsigned lo = hex4(p + 7);
		if (lo >= 0xdc00 && lo < 0xe000) {
			*used = 11;
			return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
		return 0xfffd;  /* NUL would end the C string; lone surrogates */
	return cp;
}

size_t rep_str(const struct rep_val *v, char *buf, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return 0;
	if (v->type != RJ_STR) {
		buf[0] = '\0';
		return 0;
	}
	if (!v->esc) {
		o = v->n < cap - 1 ? v->n : cap - 1;
		memcpy(buf, v->p, o);
	} else {
		const char *p = v->p, *end = v->p + v->n;
		while (p < end) {
			char tmp[4];
			size_t k;
			if (*p == '\\') {
				size_t used;
				unsigned cp = unescape(p + 1, end, &used);
				p += 1 + used;
				if (cp >= RAW_BYTE) {
					tmp[0] = (char)(cp - RAW_BYTE);
					k = 1;
				} else {
					k = put_utf8(tmp, cp);
				}
			} else {
				tmp[0] = *p++;
				k = 1;
			}
			if (o + k > cap - 1)
				break;
			memcpy(buf + o, tmp, k);
			o += k;
		}
	}
	/* a cut never leaves half a character behind */
	if (o == cap - 1 && o < v->n) {
		size_t b = o;
		while (b > 0 && ((unsigned char)buf[b - 1] & 0xc0) == 0x80)
			b--;
		if (b > 0 && (unsigned char)buf[b - 1] >= 0xc0) {
			int want = (unsigned char)buf[b - 1] >= 0xf0 ? 4
				 : (unsigned char)buf[b - 1] >= 0xe0 ? 3 : 2;
			if ((int)(o - b + 1) < want)
				o = b - 1;
		}
	}
	buf[o] = '\0';
	return o;
}

long long rep_int(const struct rep_val *v, long long dflt)
{
	if (v->type != RJ_NUM)
		return dflt;
	const char *p = v->p, *end = v->p + v->n;
	int neg = *p == '-';
	p += neg;
	long long x = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return dflt;
		int d = *p - '0';
		if (x > (LLONG_MAX - d) / 10)
			return dflt;
		x = x * 10 + d;
	}
	return neg ? -x : x;
}

double rep_num(const struct rep_val *v, double dflt)
{
	char tmp[64];
	if (v->type != RJ_NUM || v->n >= sizeof tmp)
		return dflt;
	memcpy(tmp, v->p, v->n);
	tmp[v->n] = '\0';
	return strtod(tmp, NULL);
}

/* --- time ------------------------------------------------------------- */

static int num2(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Days in month m (1-12) of year y (proleptic Gregorian). */
static int month_days(int y, int m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30,
						31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[m - 1] + (m == 2 && leap);
}

int64_t rep_parse_time(const char *s, size_t n)
{
	if (n < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	int y1 = num2(s), y2 = num2(s + 2), mo = num2(s + 5), d = num2(s + 8);
	int h = num2(s + 11), mi = num2(s + 14), se = num2(s + 17);
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	/* No 31st of February: a day the month does not have is no date
	 * (it was taken for a day of the next month). */
	if (d > month_days(y1 * 100 + y2, mo))
		return -1;
	size_t i = 19;
	int64_t us = 0;
	if (s[i] == '.') {
		int64_t scale = 100000;
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			us += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	int64_t off = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh = num2(s + i + 1), om = num2(s + i + 4);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60 * (s[i] == '+' ? 1 : -1);
		i += 6;
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	int64_t days = days_from_civil(y1 * 100 + y2, mo, d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - off;
	return secs * 1000000 + us;
}
