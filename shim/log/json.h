/* JSON building blocks (json.c): pure functions, no stdio, no allocation,
 * usable anywhere the shim runs (after fork, in a vfork child, in a signal
 * handler). */
#ifndef NL_JSON_H
#define NL_JSON_H

#include <stddef.h>

/* Append `src[0..n)` to dst as a JSON string body (no quotes), escaping
 * quotes, backslashes, control characters and every byte that is not part of
 * valid UTF-8 (as \u00XX).  Writes at most `cap` bytes, never splits an
 * escape; returns the bytes written, and sets *complete to whether all of src
 * fit. */
size_t nl_json_escape(char *dst, size_t cap, const char *src, size_t n,
		      int *complete);
/* Format a CLOCK_REALTIME time as RFC 3339 UTC with microseconds:
 * 2026-11-29T05:54:01.123456Z (27 bytes + NUL).  Returns length. */
size_t nl_rfc3339(char *dst, size_t cap, long long sec, long nsec);
/* Decimal formatting without stdio; returns length. */
size_t nl_fmt_int(char *dst, size_t cap, long long v);
size_t nl_fmt_hex(char *dst, size_t cap, unsigned long long v);

#endif
