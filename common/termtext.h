/* Text for a terminal: which bytes of a string a process or a log chose
 * could speak to the terminal, or change how the line around them shows,
 * rather than be shown.  The tools print names (paths, executables,
 * command lines) through these, escaping or replacing every control
 * character:
 *
 *   C0 and DEL      0x00-0x1f, 0x7f
 *   C1 in UTF-8     U+0080-U+009F, the bytes C2 80 to C2 9F (U+009B is
 *                   CSI, which starts an escape sequence as ESC [ does)
 *   C1 as one byte  0x80-0x9f where they do not continue a character (an
 *                   8-bit terminal reads them as C1)
 *   bidirectional   U+061C (D8 9C), U+200E U+200F (E2 80 8E/8F), U+202A-
 *                   U+202E (E2 80 AA-AE), U+2066-U+2069 (E2 81 A6-A9): a
 *                   terminal that orders text by the Unicode bidi rules
 *                   shows the rest of the line reversed or moved after
 *                   one, so that a name can make a row read as another
 *   line breaks     U+2028 U+2029 (E2 80 A8/A9), which some terminals and
 *                   viewers take for the newline they stand for
 *
 * A control character is 1 to 3 bytes.  Walk a string with
 * nl_text_control() and nl_text_char(), in that order, at each position. */
#ifndef NL_TERMTEXT_H
#define NL_TERMTEXT_H

/* Bytes of the valid UTF-8 sequence of 2 to 4 bytes at s, or 0. */
static inline int nl_text_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;
	unsigned min, cp;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2; min = 0x80; cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3; min = 0x800; cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4; min = 0x10000; cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)   /* the NUL at the end included */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Bytes of the control character at s (1 to 3), or 0 when s starts with
 * none (or with the terminating NUL). */
static inline int nl_text_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	if (!c)
		return 0;
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
		return 1;
	if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if (c == 0xd8 && p[1] == 0x9c)                        /* U+061C */
		return 2;
	if (c == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0x8e || p[2] == 0x8f ||                  /* U+200E-F */
	     (p[2] >= 0xa8 && p[2] <= 0xae)))                 /* U+2028-202E */
		return 3;
	if (c == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;                                     /* U+2066-2069 */
	return 0;
}

/* Bytes of the character at s that is no control: a whole UTF-8 sequence,
 * or one byte of anything else. */
static inline int nl_text_char(const char *s)
{
	int n = nl_text_utf8(s);
	return n ? n : 1;
}

/* One step of a JSON string written from any bytes, as the shim writes
 * its log: UTF-8 as it is, each byte that is not UTF-8 as \u0080 to
 * \u00ff (which stand for bytes only), C0 and DEL as \u00XX, '"' and '\\'
 * escaped.  The controls above are never raw either: a C1 control as the
 * escapes of its two bytes, the others (bidi, U+2028, U+2029) as their code
 * points.  Writes the text for the character at s, NUL-terminated, to out
 * and returns the bytes of s it stands for (0 at the terminating NUL).
 * noleak-report and noleak inspect write their JSON strings with it. */
static inline int nl_text_json(const char *s, char out[16])
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	unsigned c = p[0], units[2];
	int used, nunits = 1, n = 0;
	if (!c) {
		out[0] = 0;
		return 0;
	}
	if (c == '"' || c == '\\') {
		out[n++] = '\\';
		out[n++] = (char)c;
		out[n] = 0;
		return 1;
	}
	if (c < 0x80 && c >= 0x20 && c != 0x7f) {
		out[n++] = (char)c;
		out[n] = 0;
		return 1;
	}
	used = nl_text_control(s);
	if (c == 0xc2 && used == 2) {
		/* C1: the escapes of its two bytes, \u00c2\u0080 to \u009f */
		units[0] = c;
		units[1] = p[1];
		nunits = 2;
	} else if ((c == 0xd8 || c == 0xe2) && used) {
		units[0] = c == 0xd8 ? 0x61c :
			   (c & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	} else if (c < 0x80) {
		units[0] = c;    /* C0, DEL */
		used = 1;
	} else if ((used = nl_text_utf8(s))) {
		for (int i = 0; i < used; i++)
			out[i] = s[i];
		out[used] = 0;
		return used;
	} else {
		units[0] = c;    /* a byte that is not UTF-8 */
		used = 1;
	}
	for (int u = 0; u < nunits; u++) {
		out[n++] = '\\';
		out[n++] = 'u';
		out[n++] = hex[units[u] >> 12 & 15];
		out[n++] = hex[units[u] >> 8 & 15];
		out[n++] = hex[units[u] >> 4 & 15];
		out[n++] = hex[units[u] & 15];
	}
	out[n] = 0;
	return used;
}

#endif
