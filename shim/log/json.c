/* JSON text without stdio: string escaping, RFC 3339 timestamps, numbers.
 *
 * Pure functions over caller-provided buffers, so they are safe anywhere the
 * shim runs (signal handlers, vfork children, after fork in threads). */
#include "log/json.h"

static const char hex_digits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence starting at s[0] (2..4), or 0 when the
 * bytes there are not one (overlong forms, surrogates, code points above
 * U+10FFFF, stray continuation bytes and cut-off sequences included).
 * Bounds follow RFC 3629, section 4. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* below: overlong */
		else if (c == 0xed)
			hi = 0x9f;      /* above: UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;      /* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f;      /* above: beyond U+10FFFF */
	} else {
		return 0;
	}
	if (avail < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return need;
}

/* \u00XX for one byte. */
static size_t byte_escape(unsigned char c, char esc[6])
{
	esc[0] = '\\';
	esc[1] = 'u';
	esc[2] = '0';
	esc[3] = '0';
	esc[4] = hex_digits[c >> 4];
	esc[5] = hex_digits[c & 0xf];
	return 6;
}

/* The escape for an ASCII byte, written to esc; 0 when it needs none. */
static size_t ascii_escape(unsigned char c, char esc[6])
{
	char short_form = 0;

	switch (c) {
	case '"':  short_form = '"'; break;
	case '\\': short_form = '\\'; break;
	case '\n': short_form = 'n'; break;
	case '\t': short_form = 't'; break;
	case '\r': short_form = 'r'; break;
	case '\b': short_form = 'b'; break;
	case '\f': short_form = 'f'; break;
	default:
		if (c >= 0x20 && c != 0x7f)
			return 0;
	}
	if (!short_form)
		return byte_escape(c, esc);
	esc[0] = '\\';
	esc[1] = short_form;
	return 2;
}

size_t nl_json_escape(char *dst, size_t cap, const char *src, size_t n,
		      int *complete)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, i = 0;

	while (i < n) {
		char esc[6];
		const char *piece;
		size_t in_len, out_len;

		if (s[i] < 0x80) {
			in_len = 1;
			out_len = ascii_escape(s[i], esc);
			piece = out_len ? esc : (const char *)&s[i];
			if (!out_len)
				out_len = 1;
		} else if ((in_len = utf8_seq_len(&s[i], n - i)) != 0) {
			piece = (const char *)&s[i];
			out_len = in_len;
		} else {
			in_len = 1;
			out_len = byte_escape(s[i], esc);
			piece = esc;
		}
		if (cap - out < out_len)
			break;          /* never half an escape or character */
		for (size_t k = 0; k < out_len; k++)
			dst[out + k] = piece[k];
		out += out_len;
		i += in_len;
	}
	if (complete)
		*complete = (i == n);
	return out;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * civil_from_days): gmtime is neither async-signal-safe nor free of locks. */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *dst, unsigned long v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		dst[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

#define RFC3339_LEN 27

size_t nl_rfc3339(char *dst, size_t cap, long long sec, long nsec)
{
	long long days, y;
	long long rem;
	unsigned m, d;

	if (cap < RFC3339_LEN + 1)
		return 0;
	if (nsec < 0 || nsec >= 1000000000L)
		nsec = 0;
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* Four-digit years keep every line the same shape; a clock outside
	 * 0000..9999 is clamped rather than widening the field. */
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	put_digits(dst, (unsigned long)y, 4);
	dst[4] = '-';
	put_digits(dst + 5, m, 2);
	dst[7] = '-';
	put_digits(dst + 8, d, 2);
	dst[10] = 'T';
	put_digits(dst + 11, (unsigned long)(rem / 3600), 2);
	dst[13] = ':';
	put_digits(dst + 14, (unsigned long)(rem / 60 % 60), 2);
	dst[16] = ':';
	put_digits(dst + 17, (unsigned long)(rem % 60), 2);
	dst[19] = '.';
	put_digits(dst + 20, (unsigned long)(nsec / 1000), 6);
	dst[26] = 'Z';
	dst[27] = '\0';
	return RFC3339_LEN;
}

/* Digits of v in `base`, least significant first, into tmp; returns count. */
static size_t digits_reversed(char tmp[24], unsigned long long v,
			      unsigned base)
{
	size_t k = 0;

	do {
		tmp[k++] = hex_digits[v % base];
		v /= base;
	} while (v);
	return k;
}

/* Writes sign and digits when they fit in cap (plus a NUL when room is
 * left); returns the length, or 0 when they do not fit. */
static size_t put_number(char *dst, size_t cap, int negative,
			 unsigned long long mag, unsigned base)
{
	char tmp[24];
	size_t k = digits_reversed(tmp, mag, base);
	size_t len = k + (negative ? 1 : 0), o = 0;

	if (len > cap)
		return 0;
	if (negative)
		dst[o++] = '-';
	while (k)
		dst[o++] = tmp[--k];
	if (o < cap)
		dst[o] = '\0';
	return len;
}

size_t nl_fmt_int(char *dst, size_t cap, long long v)
{
	/* Negate in unsigned arithmetic so LLONG_MIN does not overflow. */
	unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v
				       : (unsigned long long)v;
	return put_number(dst, cap, v < 0, mag, 10);
}

size_t nl_fmt_hex(char *dst, size_t cap, unsigned long long v)
{
	return put_number(dst, cap, 0, v, 16);
}
