/* Fuzz target: the JSON escaper.  Any bytes, any room: the output fits,
 * never splits an escape, and is a valid JSON string body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log/json.h"

/* A JSON string body: no raw control characters or quotes, escapes
 * complete, and UTF-8 well formed. */
static int valid_body(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x20 || c == '"')
			return 0;
		if (c == '\\') {
			if (i + 1 >= n)
				return 0;
			unsigned e = s[i + 1];
			if (e == 'u') {
				if (i + 6 > n)
					return 0;
				i += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", (int)e))
				return 0;
			i += 2;
			continue;
		}
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			     : (c >> 3) == 30 ? 4 : 0;
		if (!len || i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cap = data[0] * 4u;
	char *out = malloc(cap + 1);
	int complete;
	size_t n = nl_json_escape(out, cap, (const char *)data + 1, size - 1,
				  &complete);
	if (n > cap || !valid_body((unsigned char *)out, n))
		abort();
	if (complete && cap >= 6 * (size - 1) && n == 0 && size > 1)
		abort();
	free(out);
	char ts[40];
	long long sec = 0;
	memcpy(&sec, data, size < sizeof sec ? size : sizeof sec);
	if (nl_rfc3339(ts, sizeof ts, sec % 253402300800LL, 0) >= sizeof ts)
		abort();
	return 0;
}
