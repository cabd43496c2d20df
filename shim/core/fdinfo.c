/* Describing an fd from /proc/self/fd and a few raw system calls. */
#include "core/fdinfo.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "log/arena.h"
#include "log/event.h"
#include "common/sys.h"
#include "log/json.h"

#define NL_FD_LINK_MAX 512

static size_t put(char *dst, size_t cap, size_t at, const char *s)
{
	while (*s && at + 1 < cap)
		dst[at++] = *s++;
	if (cap)
		dst[at < cap ? at : cap - 1] = '\0';
	return at;
}

/* Straight into dst (no copy on the stack): the whole number, or none of
 * it when it does not fit. */
static size_t put_num(char *dst, size_t cap, size_t at, long long v)
{
	if (at + 1 >= cap)
		return at;
	at += nl_fmt_int(dst + at, cap - at - 1, v);
	dst[at] = '\0';
	return at;
}

static size_t put_hex16(char *dst, size_t cap, size_t at, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char h[5];
	int i = 0, started = 0;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned nib = (v >> shift) & 15;
		if (nib || started || shift == 0) {
			h[i++] = hex[nib];
			started = 1;
		}
	}
	h[i] = 0;
	return put(dst, cap, at, h);
}

static size_t format_in6(char *dst, size_t cap, size_t at, const uint8_t a[16])
{
	/* Plain colon form; the longest run of zero groups becomes "::".
	 * Groups are read from a[] as needed (no copy: a small stack). */
#define GROUP(i) ((unsigned)a[2 * (i)] << 8 | a[2 * (i) + 1])
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && GROUP(j) == 0)
			j++;
		if (j - i > best_len && j - i > 1) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			at = put(dst, cap, at, "::");
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			at = put(dst, cap, at, ":");
		at = put_hex16(dst, cap, at, GROUP(i));
	}
#undef GROUP
	return at;
}

size_t nl_format_sockaddr(char *dst, size_t cap, const struct sockaddr *sa,
			  socklen_t len)
{
	size_t at = 0;
	if (cap)
		dst[0] = '\0';
	if (len < sizeof(sa_family_t))
		return put(dst, cap, 0, "?");
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		const uint8_t *b = (const uint8_t *)&in->sin_addr;
		for (int i = 0; i < 4; i++) {
			at = put_num(dst, cap, at, b[i]);
			at = put(dst, cap, at, i < 3 ? "." : ":");
		}
		return put_num(dst, cap, at, ntohs(in->sin_port));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		at = put(dst, cap, at, "[");
		at = format_in6(dst, cap, at, in6->sin6_addr.s6_addr);
		at = put(dst, cap, at, "]:");
		return put_num(dst, cap, at, ntohs(in6->sin6_port));
	}
	if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)sa;
		size_t n = len - offsetof(struct sockaddr_un, sun_path);
		if (len <= offsetof(struct sockaddr_un, sun_path) || n == 0)
			return put(dst, cap, 0, "unix:unnamed");
		if (un->sun_path[0] == '\0') {
			at = put(dst, cap, 0, "@");
			for (size_t i = 1; i < n && at + 1 < cap; i++)
				dst[at++] = un->sun_path[i] ? un->sun_path[i] : '@';
			dst[at] = '\0';
			return at;
		}
		/* sun_path need not end in a NUL. */
		if (n > sizeof un->sun_path)
			n = sizeof un->sun_path;
		for (size_t i = 0; i < n && un->sun_path[i] && at + 1 < cap; i++)
			dst[at++] = un->sun_path[i];
		if (cap)
			dst[at] = '\0';
		return at;
	}
	at = put(dst, cap, 0, "family:");
	return put_num(dst, cap, at, sa->sa_family);
}

/* An address formatted straight after `at` (at most 200 bytes of it). */
static size_t put_sockaddr(char *dst, size_t cap, size_t at,
			   const struct sockaddr_storage *a, socklen_t len)
{
	size_t room = cap - at < 200 ? cap - at : 200;
	return at + nl_format_sockaddr(dst + at, room, (const struct sockaddr *)a,
				       len);
}

/* What nl_fd_describe reads, in arena memory rather than on the stack. */
struct describe_bufs {
	char link[NL_FD_LINK_MAX];
	struct stat st;
	struct sockaddr_storage a;
};

static void describe_socket(int fd, char *object, struct describe_bufs *w)
{
	socklen_t len = sizeof w->a;
	size_t at = put(object, NL_FD_OBJECT_MAX, 0, w->link);
	if (NL_SYS(SYS_getsockname, fd, &w->a, &len) == 0) {
		at = put(object, NL_FD_OBJECT_MAX, at, " ");
		at = put_sockaddr(object, NL_FD_OBJECT_MAX, at, &w->a, len);
	}
	len = sizeof w->a;
	if (NL_SYS(SYS_getpeername, fd, &w->a, &len) == 0) {
		at = put(object, NL_FD_OBJECT_MAX, at, " -> ");
		put_sockaddr(object, NL_FD_OBJECT_MAX, at, &w->a, len);
	}
}

static const char *anon_kind(const char *link)
{
	static const char *const kinds[] = { "eventfd", "eventpoll", "signalfd",
					     "timerfd", "inotify", "pidfd",
					     "fanotify", "io_uring", "bpf" };
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strstr(link, kinds[i]))
			return kinds[i] == kinds[1] ? "epoll" : kinds[i];
	return "anon";
}

static const char *pipe_end(int fd)
{
	int fl = nl_sys_fcntl(fd, F_GETFL, 0);
	if (fl < 0)
		return NULL;
	return (fl & O_ACCMODE) == O_RDONLY ? "read" : "write";
}

void nl_fd_describe(int fd, struct nl_fd_desc *d)
{
	char proc[40] = "/proc/self/fd/";
	char *object = nl_arena_get(NL_FD_OBJECT_MAX);
	struct describe_bufs *w = nl_arena_get(sizeof *w);
	const char *link = w ? w->link : NULL;
	d->object = "";
	d->end = NULL;
	if (!object || !w) {
		d->kind = "unknown";
		return;
	}
	d->object = object;
	put_num(proc, sizeof proc, strlen(proc), fd);
	ssize_t n = nl_sys_readlink(proc, w->link, sizeof w->link - 1);
	w->link[n > 0 ? n : 0] = '\0';
	put(object, NL_FD_OBJECT_MAX, 0, link);

	struct stat *st = &w->st;
	if (nl_sys_fstat(fd, st) < 0) {
		d->kind = "closed";
		return;
	}
	switch (st->st_mode & S_IFMT) {
	case S_IFIFO:
		d->kind = strncmp(link, "pipe:", 5) == 0 ? "pipe" : "fifo";
		d->end = pipe_end(fd);
		return;
	case S_IFSOCK:
		d->kind = "socket";
		describe_socket(fd, object, w);
		return;
	case S_IFDIR:
		d->kind = "dir";
		return;
	case S_IFCHR:
		d->kind = strncmp(link, "/dev/pts/", 9) == 0 ||
				  strncmp(link, "/dev/tty", 8) == 0 ||
				  strcmp(link, "/dev/console") == 0
			  ? "tty" : "chr";
		return;
	case S_IFREG:
		d->kind = strncmp(link, "/memfd:", 7) == 0 ? "memfd" : "file";
		return;
	default:
		d->kind = strncmp(link, "anon_inode:", 11) == 0 ? anon_kind(link)
								 : "other";
	}
}
