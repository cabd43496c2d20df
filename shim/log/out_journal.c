/* The journal output: each event one native journal entry, sent by the shim
 * itself as one datagram to /run/systemd/journal/socket (the protocol of
 * sd_journal_send(), without libsystemd).
 *
 * The entry is made from the event's JSON line (event.c writes it first):
 *   MESSAGE=noleak: fd_leak in /usr/bin/agent[123]: action=closed fd=4 ...
 *   PRIORITY=4                       (warning; notice or info for the
 *                                    events that only describe)
 *   SYSLOG_IDENTIFIER=noleak
 *   NOLEAK_EVENT=fd_leak, NOLEAK_FD=4, ...  every key of the line, in upper
 *                                    case; strings unescaped, objects and
 *                                    arrays as their JSON text
 *   NOLEAK_JSON=the line itself      (what noleak-report reads back)
 * A value holding a newline uses the protocol's length-prefixed form.
 *
 * Like syslog, the socket is the shim's own, non-blocking: a journal that
 * is behind costs the event, never a wait.  Without a journal socket (no
 * systemd, or a container without it) the line goes to syslog instead.
 *
 * The entry and the state that builds it live in the arena (log/arena.h),
 * inside the event's bracket: no big buffer on the caller's stack, no
 * allocation, no lock, so a signal handler or another thread may send at
 * the same time.  When the arena has no room left the event is dropped
 * (and counted), like any event that finds no memory. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "common/sys.h"
#include "log/arena.h"
#include "log/output.h"

#define NL_JOURNAL_SOCKET "/run/systemd/journal/socket"
/* Room for the entry of a line of `len` bytes: the summary (at most the
 * line and 250 bytes), the fields (a short key and value cost 3 times
 * their bytes in the line, at worst) and the line itself again.  Most
 * lines are a few hundred bytes; the cap keeps two entries and their
 * lines in one arena (log/arena.h), for an event logged by a signal
 * handler while another is being sent; a bigger entry is dropped. */
#define NL_JOURNAL_ROOM(len) ((len) * 6 + 512)
#define NL_JOURNAL_MAX 12288

static struct nl_out_fd *const sock = &nl_out_fds[NL_OUT_JOURNAL];
/* Kept whole, so that a send builds no address on its stack. */
static struct sockaddr_un journal_addr = { AF_UNIX, NL_JOURNAL_SOCKET };

void nl_out_journal_test_path(const char *path)
{
	const char *p = path ? path : NL_JOURNAL_SOCKET;
	size_t i = 0;

	if (atomic_exchange(&sock->busy, 1))
		return;
	for (; p[i] && i + 1 < sizeof journal_addr.sun_path; i++)
		journal_addr.sun_path[i] = p[i];
	journal_addr.sun_path[i] = '\0';
	nl_out_fd_close(sock);
	atomic_store(&sock->busy, 0);
}

/* --- reading our own JSON line --- */

/* The end of the JSON value starting at s (a string, object, array or
 * scalar), within [s, end). */
static const char *value_end(const char *s, const char *end)
{
	int depth = 0, in_str = 0;

	for (const char *p = s; p < end; p++) {
		char c = *p;
		if (in_str) {
			if (c == '\\')
				p++;
			else if (c == '"') {
				in_str = 0;
				if (depth == 0)
					return p + 1;
			}
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (depth == 0)
				return p;      /* the end of the line's object */
			if (--depth == 0)
				return p + 1;
		} else if (c == ',' && depth == 0)
			return p;
	}
	return end;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape the JSON string body [s, end) into dst (never longer than the
 * source).  \uXXXX below 0x80 becomes the byte; others (the shim writes
 * \u00XX for invalid UTF-8) become the byte 0xXX when below 0x100, else
 * '?'. */
static size_t unescape(char *dst, const char *s, const char *end)
{
	size_t n = 0;

	while (s < end) {
		char c = *s++;
		if (c != '\\' || s >= end) {
			dst[n++] = c;
			continue;
		}
		c = *s++;
		switch (c) {
		case 'n': dst[n++] = '\n'; break;
		case 't': dst[n++] = '\t'; break;
		case 'r': dst[n++] = '\r'; break;
		case 'b': dst[n++] = '\b'; break;
		case 'f': dst[n++] = '\f'; break;
		case 'u': {
			int v = 0, ok = end - s >= 4;
			for (int i = 0; ok && i < 4; i++) {
				int h = hexval(s[i]);
				ok = h >= 0;
				v = v * 16 + h;
			}
			if (!ok) {
				dst[n++] = '?';
				break;
			}
			s += 4;
			dst[n++] = v < 0x100 ? (char)v : '?';
			break;
		}
		default: dst[n++] = c; break;   /* \" \\ \/ */
		}
	}
	return n;
}

/* --- building the entry --- */

struct out {
	char *buf;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* The field name NOLEAK_<KEY>: the key in upper case (the schema's keys
 * are [a-z0-9_]). */
static void put_name(struct out *o, const char *key, size_t n)
{
	put(o, "NOLEAK_", 7);
	for (size_t i = 0; i < n && i < 56; i++) {
		char c = key[i];
		c = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		put(o, &c, 1);
	}
}

/* The length of the binary form: 8 bytes, little-endian. */
static void put_length(char *at, size_t n)
{
	for (int i = 0; i < 8; i++)
		at[i] = (char)((unsigned long long)n >> (8 * i));
}

/* NAME=value\n, or the binary form when the value holds a newline. */
__attribute__((noinline))
static void put_field_value(struct out *o, const char *v, size_t n)
{
	if (memchr(v, '\n', n) == NULL) {
		put(o, "=", 1);
		put(o, v, n);
		put(o, "\n", 1);
		return;
	}
	put(o, "\n", 1);
	if (!o->full && o->cap - o->len >= 8) {
		put_length(o->buf + o->len, n);
		o->len += 8;
	} else
		o->full = 1;
	put(o, v, n);
	put(o, "\n", 1);
}

/* A field from a JSON value: strings unescaped (in place in the entry,
 * moved over for the length when the result holds a newline), the rest as
 * written. */
__attribute__((noinline))
static void put_json_field(struct out *o, const char *key, size_t kn,
			   const char *v, size_t vn)
{
	put_name(o, key, kn);
	if (vn < 2 || v[0] != '"') {
		put_field_value(o, v, vn);
		return;
	}
	/* Room for "\n" + 8-byte length + the value + "\n". */
	if (o->full || vn + 10 > o->cap - o->len) {
		o->full = 1;
		return;
	}
	char *at = o->buf + o->len;
	size_t n = unescape(at + 1, v + 1, v + vn - 1);
	if (memchr(at + 1, '\n', n) == NULL) {
		at[0] = '=';
		at[n + 1] = '\n';
		o->len += n + 2;
		return;
	}
	memmove(at + 9, at + 1, n);
	at[0] = '\n';
	put_length(at + 1, n);
	at[9 + n] = '\n';
	o->len += n + 10;
}

static int priority(const char *kind, size_t n)
{
	static const char *const info[] = { "sock_policy", "read_unblocked",
					     "pgroup", NULL };
	static const char *const notice[] = { "suppressed", "stdin_detached",
					      "kill_escalated", NULL };
	for (int i = 0; info[i]; i++)
		if (strlen(info[i]) == n && !memcmp(info[i], kind, n))
			return 6;
	for (int i = 0; notice[i]; i++)
		if (strlen(notice[i]) == n && !memcmp(notice[i], kind, n))
			return 5;
	return 4;
}

/* Walks the top-level "key":value pairs of the line. */
struct pair {
	const char *key, *val;
	size_t kn, vn;
	const char *bare;         /* the value without its quotes */
	size_t bn;
};

/* The entry, its builder's state and the message that sends it, all in
 * arena memory: the functions below keep next to nothing on the stack. */
struct entry {
	struct out o;
	struct pair p;
	const char *pos, *end;
	struct iovec iov;
	struct msghdr msg;
	size_t cap;
	char buf[];
};

/* The next pair after e->pos, into e->p: 0 at the end of the line. */
static int next_pair(struct entry *e)
{
	const char *s = e->pos, *end = e->end;
	struct pair *p = &e->p;

	while (s < end && (*s == '{' || *s == ',' || *s == ' '))
		s++;
	if (s >= end || *s != '"')
		return 0;
	const char *k = ++s;
	while (s < end && *s != '"')
		s++;
	if (s + 1 >= end || s[1] != ':')
		return 0;
	p->key = k;
	p->kn = (size_t)(s - k);
	p->val = s + 2;
	e->pos = value_end(p->val, end);
	p->vn = (size_t)(e->pos - p->val);
	/* Without quotes, escapes left as they are: this is for the summary
	 * and the kind, plain words and paths. */
	p->bare = p->val;
	p->bn = p->vn;
	if (p->bn >= 2 && *p->bare == '"') {
		p->bare++;
		p->bn -= 2;
	}
	return 1;
}

static int pair_is(const struct pair *p, const char *key)
{
	return strlen(key) == p->kn && !memcmp(p->key, key, p->kn);
}

/* MESSAGE=noleak: KIND in EXE[PID]: k=v k=v ... (the event's own scalar
 * keys, up to about 200 bytes). */
__attribute__((noinline))
static void put_message(struct entry *e, const char *line)
{
	static const char *const common[] = { "ts", "event", "pid", "ppid",
					      "exe", "mode", "host", NULL };
	static const char *const head[] = { "event", " in ", "exe", "[", "pid",
					    "]", NULL };
	struct out *o = &e->o;
	struct pair *p = &e->p;

	/* "MESSAGE=noleak: KIND in EXE[PID]" */
	put_str(o, "MESSAGE=noleak: ");
	for (int h = 0; head[h]; h++) {
		if (h % 2) {
			put_str(o, head[h]);
			continue;
		}
		for (e->pos = line; next_pair(e);)
			if (pair_is(p, head[h])) {
				put(o, p->bare, p->bn);
				break;
			}
	}
	size_t start = o->len;
	int first = 1;
	for (e->pos = line; next_pair(e);) {
		int skip = p->vn == 0 || p->val[0] == '{' || p->val[0] == '[' ||
			   memchr(p->bare, '\\', p->bn) != NULL;
		for (int i = 0; !skip && common[i]; i++)
			skip = pair_is(p, common[i]);
		if (skip)
			continue;
		if (o->len - start + p->kn + p->bn + 3 > 200) {
			put_str(o, " ...");
			break;
		}
		put_str(o, first ? ": " : " ");
		first = 0;
		put(o, p->key, p->kn);
		put(o, "=", 1);
		put(o, p->bare, p->bn);
	}
	put(o, "\n", 1);
}

/* The entry's length, or 0 when it does not fit.  Inline: the frames of
 * the callees it shares with its caller stay one level deep. */
static inline __attribute__((always_inline))
size_t build_entry(struct entry *e, const char *line, size_t len)
{
	static const char pri_digits[] = "0123456789";
	struct out *o = &e->o;
	int pri = 4;

	*o = (struct out){ e->buf, 0, e->cap, 0 };
	e->end = line + len;
	put_message(e, line);
	for (e->pos = line; next_pair(e);)
		if (pair_is(&e->p, "event"))
			pri = priority(e->p.bare, e->p.bn);
	put_str(o, "PRIORITY=");
	put(o, &pri_digits[pri], 1);
	put_str(o, "\nSYSLOG_IDENTIFIER=noleak\n");
	for (e->pos = line; next_pair(e);)
		put_json_field(o, e->p.key, e->p.kn, e->p.val, e->p.vn);
	put_name(o, "json", 4);
	put_field_value(o, line, len);
	return o->full ? 0 : o->len;
}

/* --- sending --- */

__attribute__((noinline))
static int send_entry(int fd, struct entry *e, size_t n)
{
	long r;

	e->iov = (struct iovec){ e->buf, n };
	memset(&e->msg, 0, sizeof e->msg);
	e->msg.msg_name = &journal_addr;
	e->msg.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
					 strlen(journal_addr.sun_path) + 1);
	e->msg.msg_iov = &e->iov;
	e->msg.msg_iovlen = 1;
	do
		r = nl_sys_sendmsg(fd, &e->msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r == -EINTR);
	return r < 0 ? (int)r : 0;
}

/* The unconnected datagram socket (each send names the journal), in *fd
 * (-1: none): sock, or a transient slot to give back after the send.
 * Inline: its frame is not one more on the deepest async-signal-safe
 * paths (make stack). */
static inline __attribute__((always_inline))
struct nl_out_fd *journal_socket(int *fd)
{
	*fd = nl_out_fd_get(sock);
	if (*fd >= 0)
		return sock;
	*fd = nl_sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return NULL;
	if (nl_out_fd_foreign() || atomic_exchange(&sock->busy, 1))
		return nl_out_fd_transient(*fd, fd);
	int s = *fd;
	*fd = nl_out_fd_adopt(sock, s);
	atomic_store(&sock->busy, 0);
	/* No number at 100 or above: this entry only (out_fd.c). */
	return *fd == NL_OUT_FD_LOW ? nl_out_fd_transient(s, fd) : sock;
}

/* No journal listens: the socket is not kept (it would hold one of the
 * fds the program may open under its limit, for nothing); the next entry
 * makes one again.  Never in a child sharing our memory: the output's fd
 * is its parent's. */
static void drop_socket(void)
{
	if (nl_out_fd_foreign() || atomic_exchange(&sock->busy, 1))
		return;
	nl_out_fd_close(sock);
	atomic_store(&sock->busy, 0);
}

int nl_out_journal_write(const char *line, size_t len)
{
	int rc = -ENOMEM, fd = -1, held;
	size_t cap = NL_JOURNAL_ROOM(len) < NL_JOURNAL_MAX ? NL_JOURNAL_ROOM(len)
							   : NL_JOURNAL_MAX;
	size_t mark = nl_arena_enter();
	struct entry *e = nl_arena_get(sizeof *e + cap);
	struct nl_out_fd *o = e ? journal_socket(&fd) : NULL;

	if (fd >= 0) {
		e->cap = cap;
		size_t n = build_entry(e, line, len && line[len - 1] == '\n'
						? len - 1 : len);
		/* Held from this last look at the number to the end of the
		 * send (output.h). */
		held = nl_out_fd_hold(o, fd);
		rc = held < 0 ? -EBADF : n ? send_entry(fd, e, n) : -EMSGSIZE;
		nl_out_fd_release(o, held);
		if (o != sock)
			nl_out_fd_transient_done(o);
	}
	nl_arena_leave(mark);
	if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTDIR) {
		if (o == sock)
			drop_socket();
		return NL_OUT_NO_JOURNAL;
	}
	if (fd == NL_OUT_BUSY)
		return fd;
	return rc < 0 ? -1 : (int)len;
}
