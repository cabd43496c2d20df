/* /etc/ld.so.preload's text: split, entries, $LIB, and the rewrites that
 * add or remove our entry (see ldpreload.h). */
#include "ldpreload.h"
#include "noleak.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ld.so's separators within a line, exactly (rtld.c: ": \t\n"). */
static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ':';
}

/* Ours, or ours followed by bytes ld.so takes as part of the name (a
 * carriage return from an editor): an entry no program can load, every
 * program complains about, and enable and disable replace. */
int ldpreload_is_ours(const char *tok, size_t len)
{
	size_t nl = strlen(NL_LIB_NAME);
	while (len > 0 && (tok[len - 1] == '\r' || tok[len - 1] == '\v' ||
			   tok[len - 1] == '\f'))
		len--;
	return len >= nl && !memcmp(tok + len - nl, NL_LIB_NAME, nl) &&
	       (len == nl || tok[len - nl - 1] == '/');
}

/* ld.so splits the file on blanks and colons and cuts comments at '#':
 * a path with one of those cannot be an entry. */
int ldpreload_safe_chars(const char *path)
{
	return !strpbrk(path, " \t\n\r\v\f:#");
}

int ldpreload_next_entry(const struct ldpreload_line *l, size_t *pos,
			 const char **tok, size_t *tlen)
{
	size_t i = *pos;
	while (i < l->content_len && is_sep(l->text[i]))
		i++;
	if (i >= l->content_len)
		return 0;
	size_t j = i;
	while (j < l->content_len && !is_sep(l->text[j]))
		j++;
	*tok = l->text + i;
	*tlen = j - i;
	*pos = j;
	return 1;
}

size_t ldpreload_split(const char *data, size_t len, struct ldpreload_line *v,
		       size_t max)
{
	size_t n = 0;
	const char *p = data, *end = data + len;
	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *hash = memchr(p, '#', l);
		v[n].text = p;
		v[n].len = l;
		v[n].content_len = hash ? (size_t)(hash - p) : l;
		n++;
		p += l + (nl ? 1 : 0);
	}
	return n;
}

int ldpreload_is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/* ------------------------------------------------------------ $LIB */

const char *ldpreload_lib_token(const char *libdir)
{
	if (!strncmp(libdir, "/usr/", 5))
		return libdir + 5;
	return libdir[0] == '/' ? libdir + 1 : libdir;
}

/* Does the dynamic string token `name` start at tok[i]?  As in ld.so,
 * the bare form must not run on into a longer name ($LIBRARY). */
static size_t token_at(const char *tok, size_t tlen, size_t i, const char *name)
{
	size_t nl = strlen(name);
	if (i + nl > tlen || memcmp(tok + i, name, nl))
		return 0;
	if (name[1] == '{' || i + nl == tlen)
		return nl;
	unsigned char next = (unsigned char)tok[i + nl];
	return isalnum(next) || next == '_' ? 0 : nl;
}

void ldpreload_expand(const char *tok, size_t tlen, const struct ldpreload_env *env,
		      char *out, size_t cap)
{
	static const struct { const char *name; int is_lib; } dst[] = {
		{ "$LIB", 1 }, { "${LIB}", 1 },
		{ "$PLATFORM", 0 }, { "${PLATFORM}", 0 },
	};
	const char *syslibdir = env->syslibdir;
	size_t o = 0;
	for (size_t i = 0; i < tlen && o + 1 < cap;) {
		size_t k, nl = 0;
		for (k = 0; k < sizeof dst / sizeof dst[0]; k++)
			if ((nl = token_at(tok, tlen, i, dst[k].name)))
				break;
		if (k == sizeof dst / sizeof dst[0]) {
			out[o++] = tok[i++];
			continue;
		}
		const char *val = dst[k].is_lib ? ldpreload_lib_token(syslibdir)
						: (env->platform ? env->platform : "");
		o += (size_t)snprintf(out + o, cap - o, "%s", val);
		if (o >= cap)
			o = cap - 1;
		i += nl;
	}
	out[o] = 0;
	/* A name without a slash is searched for like a DT_NEEDED library:
	 * on a host whose cache is current, in the system directory. */
	if (!strchr(out, '/') && strlen(syslibdir) + o + 2 <= cap) {
		memmove(out + strlen(syslibdir) + 1, out, o + 1);
		memcpy(out, syslibdir, strlen(syslibdir));
		out[strlen(syslibdir)] = '/';
	}
}

/* ---------------------------------------------------------- rewriting */

/* A growing output buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

/* `l` without the entries `drop` selects, or nothing at all when only
 * those were on it.  Other entries are kept in order; the comment stays.
 * Returns how many were dropped, or -1 when memory ran out. */
static int keep_line(struct buf *out, const struct ldpreload_line *l,
		     int (*drop)(const char *, size_t, void *), void *ctx)
{
	size_t pos = 0, tlen, n = 0, written = 0;
	const char *tok;
	/* one decision per entry: an entry takes at least two bytes */
	unsigned char *gone = calloc(l->content_len / 2 + 1, 1);
	int dropped = 0, err = 0;
	if (!gone)
		return -1;
	while (ldpreload_next_entry(l, &pos, &tok, &tlen))
		dropped += gone[n++] = (unsigned char)(drop(tok, tlen, ctx) != 0);
	if (!dropped) {
		err |= put(out, l->text, l->len);
		err |= put(out, "\n", 1);
	} else if ((size_t)dropped < n || l->content_len < l->len) {
		for (pos = 0, n = 0; ldpreload_next_entry(l, &pos, &tok, &tlen); n++) {
			if (gone[n])
				continue;
			if (written++)
				err |= put(out, " ", 1);
			err |= put(out, tok, tlen);
		}
		if (l->content_len < l->len) {
			if (written)
				err |= put(out, " ", 1);
			err |= put(out, l->text + l->content_len, l->len - l->content_len);
		}
		err |= put(out, "\n", 1);
	}
	free(gone);
	return err ? -1 : dropped;
}

/* The file without the entries `drop` selects (asked once per entry, in
 * file order), appended to `b`; *dropped counts them.  -1 when memory ran
 * out. */
static int rebuild(const char *data, size_t len,
		   int (*drop)(const char *, size_t, void *), void *ctx,
		   struct buf *b, int *dropped)
{
	size_t max = len + 1;   /* a line holds at least its newline */
	struct ldpreload_line *lines = calloc(max, sizeof *lines);
	if (!lines)
		return -1;
	size_t n = ldpreload_split(data, len, lines, max);
	*dropped = 0;
	for (size_t i = 0; i < n; i++) {
		int d = keep_line(b, &lines[i], drop, ctx);
		if (d < 0) {
			free(lines);
			return -1;
		}
		*dropped += d;
	}
	free(lines);
	return 0;
}

static int finish(struct buf *b, int dropped, int kept, int ok,
		  struct ldpreload_edit *out)
{
	if (!ok) {
		free(b->p);
		*out = (struct ldpreload_edit){ 0 };
		errno = ENOMEM;
		return -1;
	}
	*out = (struct ldpreload_edit){ b->p, b->len, dropped, kept };
	return 0;
}

struct add_ctx {
	const char *entry;
	const struct ldpreload_env *env;
	void (*replaced)(const char *, size_t, void *);
	void *ctx;
	int kept;
};

/* Ours, other than the first that names the entry. */
static int drop_for_add(const char *tok, size_t tlen, void *ctx)
{
	struct add_ctx *a = ctx;
	if (!ldpreload_is_ours(tok, tlen))
		return 0;
	char exp[PATH_MAX];
	ldpreload_expand(tok, tlen, a->env, exp, sizeof exp);
	/* An entry naming $LIB stands for every ABI's build: only the same
	 * text is the same entry. */
	int same = strchr(a->entry, '$')
		? tlen == strlen(a->entry) && !memcmp(tok, a->entry, tlen)
		: !strcmp(exp, a->entry);
	if (same)
		return a->kept++ ? 1 : 0;   /* a second copy of the same entry */
	if (a->replaced)
		a->replaced(tok, tlen, a->ctx);
	return 1;
}

int ldpreload_add(const char *data, size_t len, const char *entry,
		  const struct ldpreload_env *env,
		  void (*replaced)(const char *tok, size_t tlen, void *ctx),
		  void *ctx, struct ldpreload_edit *out)
{
	struct add_ctx a = { entry, env, replaced, ctx, 0 };
	struct buf b = { 0 };
	int dropped = 0;
	int ok = rebuild(data, len, drop_for_add, &a, &b, &dropped) == 0;
	if (ok && !a.kept)
		ok = put(&b, entry, strlen(entry)) == 0 && put(&b, "\n", 1) == 0;
	return finish(&b, dropped, a.kept != 0, ok, out);
}

static int drop_ours(const char *tok, size_t tlen, void *ctx)
{
	(void)ctx;
	return ldpreload_is_ours(tok, tlen);
}

int ldpreload_remove(const char *data, size_t len, struct ldpreload_edit *out)
{
	struct buf b = { 0 };
	int dropped = 0;
	int ok = rebuild(data, len, drop_ours, NULL, &b, &dropped) == 0;
	return finish(&b, dropped, 0, ok, out);
}
