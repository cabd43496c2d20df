/* A JSON value built piece by piece in a caller's buffer, for event fields
 * that are arrays or objects (nl_event_raw).  Allocation-free; once a piece
 * does not fit, the buffer is marked full and the caller drops the field. */
#ifndef NL_JBUF_H
#define NL_JBUF_H

#include <stddef.h>
#include <string.h>

#include "log/json.h"

struct nl_jbuf {
	char *b;
	size_t cap, len;
	int full;
};

static inline void nl_jb_init(struct nl_jbuf *j, char *buf, size_t cap)
{
	j->b = buf;
	j->cap = cap;
	j->len = 0;
	j->full = cap == 0;
	if (cap)
		buf[0] = '\0';
}

static inline void nl_jb_raw(struct nl_jbuf *j, const char *s)
{
	size_t n = strlen(s);
	if (j->full || j->len + n + 1 > j->cap) {
		j->full = 1;
		return;
	}
	memcpy(j->b + j->len, s, n + 1);
	j->len += n;
}

static inline void nl_jb_str(struct nl_jbuf *j, const char *s)
{
	int complete;
	if (j->full || j->len + 3 > j->cap) {
		j->full = 1;
		return;
	}
	j->b[j->len++] = '"';
	j->len += nl_json_escape(j->b + j->len, j->cap - j->len - 2, s,
				 strlen(s), &complete);
	if (!complete)
		j->full = 1;
	j->b[j->len++] = '"';
	j->b[j->len] = '\0';
}

/* Straight into the buffer: no digits on the stack (this is inlined deep
 * in the culprit scans). */
static inline void nl_jb_int(struct nl_jbuf *j, long long v)
{
	size_t n = j->full || j->len + 1 >= j->cap
			   ? 0 : nl_fmt_int(j->b + j->len, j->cap - j->len - 1, v);
	if (!n) {
		j->full = 1;
		return;
	}
	j->len += n;
	j->b[j->len] = '\0';
}

/* "key": with the comma before it unless it opens the object. */
static inline void nl_jb_key(struct nl_jbuf *j, const char *key, int first)
{
	if (!first)
		nl_jb_raw(j, ",");
	nl_jb_str(j, key);
	nl_jb_raw(j, ":");
}

#endif
