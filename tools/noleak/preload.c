/* noleak enable | disable | status: libnoleak for the whole host, through
 * /etc/ld.so.preload.
 *
 *   noleak enable  [--root DIR] [--lib PATH] [--libdir DIR]
 *   noleak disable [--root DIR] [--libdir DIR] [--purge]
 *   noleak status  [--root DIR] [--lib PATH] [--libdir DIR]
 *
 * ld.so loads every entry of /etc/ld.so.preload into every dynamically
 * linked program, set-user-ID ones included, from whatever path the entry
 * names.  A mistake there is a mistake in every process of the host, so
 * each change is checked first and written so that no process can ever
 * read a half-written file:
 *
 *   - the library is copied into the system library directory (where the
 *     running libc.so.6 lives), root-owned, mode 0644;
 *   - it is loaded into a child first, which must exit 0 and show the
 *     library in its own /proc/self/maps (ld.so only warns about a
 *     preload it cannot load, and the program runs without it);
 *   - the library and every directory above it must be owned by root and
 *     writable by no one else: whoever can replace it runs code as root in
 *     the next set-user-ID program;
 *   - the file is rewritten through a temporary file in /etc, fsync and
 *     rename, keeping every other entry, comment and blank line.
 *
 * --root DIR applies all of this to the tree under DIR (an image, a
 * chroot, a test): files are read and written below DIR, while the entry
 * names the path ld.so sees once DIR is the root. */
#include "noleak.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIB_NAME "libnoleak.so"
#define PRELOAD_FILE "/etc/ld.so.preload"
/* ld.so reads the whole file; anything larger than this is not a list of
 * libraries someone maintains by hand. */
#define PRELOAD_MAX (1 << 20)
#define TEST_LOAD_SECONDS 10

/* Status exit codes (enable and disable use 0 and NL_EXIT_USAGE). */
enum { ST_ENABLED = 0, ST_DISABLED = 1, ST_PROBLEM = 2 };

struct preload_opts {
	const char *root;    /* "/" or a tree */
	const char *lib;     /* enable: the library to install; NULL: bundled */
	const char *libdir;  /* where it is installed; NULL: libc's directory */
	int purge;           /* disable: remove the installed library too */
};

/* One line, always "noleak: ...". */
static void say(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("noleak: ", f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	va_end(ap);
}

/* Say why something is refused, into the caller's buffer; returns -1. */
static int blame(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int blame(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------- paths */

/* `path` as seen from the current root: DIR + path under --root DIR. */
static int under_root(const struct preload_opts *o, const char *path,
		      char *out, size_t cap)
{
	size_t rl = strlen(o->root);
	while (rl > 0 && o->root[rl - 1] == '/')
		rl--;
	int n = snprintf(out, cap, "%.*s%s", (int)rl, o->root, path);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int find_libc(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	const char *slash = strrchr(info->dlpi_name, '/');
	if (!slash || strncmp(slash + 1, "libc.so.", 8))
		return 0;
	snprintf(data, PATH_MAX, "%.*s", (int)(slash - info->dlpi_name),
		 info->dlpi_name);
	return 1;
}

/* The system library directory: where this process's libc.so.6 was found,
 * resolved (Debian's /lib is a link to usr/lib).  It is the directory of
 * the host's own architecture (/usr/lib/x86_64-linux-gnu, /usr/lib64 ...),
 * whatever the distribution calls it. */
static int system_libdir(char *out)
{
	char dir[PATH_MAX] = "";
	if (!dl_iterate_phdr(find_libc, dir) || !realpath(dir, out))
		return -1;
	return 0;
}

/* What ld.so substitutes for $LIB: the library directory without its
 * leading /usr/ or /, e.g. lib/x86_64-linux-gnu on Debian and lib64 on
 * Fedora (glibc is configured with the same slibdir for both). */
static const char *lib_token(const char *libdir)
{
	if (!strncmp(libdir, "/usr/", 5))
		return libdir + 5;
	return libdir[0] == '/' ? libdir + 1 : libdir;
}

/* The library shipped with this noleak: next to it (the build tree) or in
 * ../lib (make install's $PREFIX/bin and $PREFIX/lib). */
static int bundled_library(char *out)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	static const char *const rel[] = { "/" LIB_NAME, "/../lib/" LIB_NAME };
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char cand[PATH_MAX + 32];
		struct stat st;
		snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && realpath(cand, out))
			return 0;
	}
	return -1;
}

/* ld.so splits the file on blanks and colons and cuts comments at '#':
 * a path with one of those cannot be an entry. */
static int entry_safe_chars(const char *path)
{
	return !strpbrk(path, " \t\n\r\v\f:#");
}

/* ------------------------------------------------------- ownership checks */

/* A directory an entry may live under: root's, and nobody else can change
 * what is in it.  A root-owned sticky directory (/tmp) is accepted: there
 * only an entry's owner can rename or remove it, so root's subdirectory
 * cannot be swapped. */
static int dir_is_safe(const struct stat *st)
{
	if (st->st_uid != 0)
		return 0;
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 1;
	return (st->st_mode & S_ISVTX) != 0;
}

static int refuse_component(const char *what, const char *path,
			    const struct stat *st, char *why, size_t cap)
{
	if (st->st_uid != 0)
		snprintf(why, cap, "%s %s is owned by uid %u, not root", what,
			 path, (unsigned)st->st_uid);
	else
		snprintf(why, cap, "%s %s is writable by %s (mode %04o)", what,
			 path, st->st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned)(st->st_mode & 07777));
	return -1;
}

/* Every directory above `path`, as written (following links, so that a
 * link's target is judged) and each literal component (whose directory
 * decides who may replace a link). */
static int check_parents(const char *path, char *why, size_t cap)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof prefix)
		return blame(why, cap, "path too long: %s", path);
	for (size_t i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		memcpy(prefix, path, i ? i : 1);
		prefix[i ? i : 1] = 0;
		struct stat st;
		if (stat(prefix, &st) < 0)
			return blame(why, cap, "%s: %s", prefix, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return blame(why, cap, "%s is not a directory", prefix);
		if (!dir_is_safe(&st))
			return refuse_component("directory", prefix, &st, why, cap);
	}
	return 0;
}

/* The library and the directories above it, both as named and resolved. */
static int check_trusted(const char *path, char *why, size_t cap)
{
	char real[PATH_MAX];
	struct stat st;
	if (stat(path, &st) < 0)
		return blame(why, cap, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return blame(why, cap, "%s is not a regular file", path);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return refuse_component("library", path, &st, why, cap);
	if (check_parents(path, why, cap) < 0)
		return -1;
	if (!realpath(path, real))
		return blame(why, cap, "%s: %s", path, strerror(errno));
	return check_parents(real, why, cap);
}

/* ------------------------------------------------------------- test load */

static int maps_line_is(const char *line, const char *real, const struct stat *st)
{
	const char *path = strchr(line, '/');
	if (path && !strcmp(path, real))
		return 1;
	/* Fallback for mounts whose paths read differently from inside:
	 * the same device and inode. */
	unsigned maj, min;
	unsigned long ino;
	return sscanf(line, "%*s %*s %*s %x:%x %lu", &maj, &min, &ino) == 3 &&
	       ino == (unsigned long)st->st_ino && maj == major(st->st_dev) &&
	       min == minor(st->st_dev);
}

static int output_maps(const char *out, const char *real, const struct stat *st)
{
	const char *line = out;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[PATH_MAX + 256];
		if (len < sizeof buf) {
			memcpy(buf, line, len);
			buf[len] = 0;
			if (maps_line_is(buf, real, st))
				return 1;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

/* The first line ld.so printed about the preload, added to the message. */
static void loader_complaint(const char *out, char *why, size_t cap)
{
	const char *e = strstr(out, "ld.so:");
	if (!e)
		e = strstr(out, "ERROR");
	size_t used = strlen(why);
	if (!e || used + 3 >= cap)
		return;
	size_t len = strcspn(e, "\n");
	snprintf(why + used, cap - used, " (%.*s)", (int)(len > 300 ? 300 : len), e);
}

static void child_cat_maps(const char *lib, int out)
{
	char pre[PATH_MAX + 16];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", lib);
	char *env[] = { pre, "PATH=/usr/bin:/bin", NULL };
	char *argv[] = { "cat", "/proc/self/maps", NULL };
	dup2(out, 1);
	dup2(out, 2);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, 0);
	closefrom(3);
	execve("/bin/cat", argv, env);
	execve("/usr/bin/cat", argv, env);
	_exit(127);
}

/* Read the child's output until it closes or time runs out. */
static size_t collect(int fd, char *buf, size_t cap, int *timed_out)
{
	size_t n = 0;
	time_t end = time(NULL) + TEST_LOAD_SECONDS;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - time(NULL));
		if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
			*timed_out = 1;
			break;
		}
		char sink[4096];
		char *dst = n + 1 < cap ? buf + n : sink;
		size_t room = n + 1 < cap ? cap - 1 - n : sizeof sink;
		ssize_t r = read(fd, dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != sink)
			n += (size_t)r;
	}
	buf[n] = 0;
	return n;
}

/* Run a program with `lib` preloaded: it must exit 0 and have the library
 * in its own /proc/self/maps. */
static int test_load(const char *lib, char *why, size_t cap)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(lib, real) || stat(real, &st) < 0)
		return blame(why, cap, "%s: %s", lib, strerror(errno));
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return blame(why, cap, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return blame(why, cap, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		child_cat_maps(lib, p[1]);
	close(p[1]);
	static char out[1 << 18];
	int timed_out = 0;
	collect(p[0], out, sizeof out, &timed_out);
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return blame(why, cap, "a test program with it preloaded did not finish in %d s",
			     TEST_LOAD_SECONDS);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		blame(why, cap, "a test program with it preloaded failed (status 0x%x)",
		      (unsigned)status);
		loader_complaint(out, why, cap);
		return -1;
	}
	if (!output_maps(out, real, &st)) {
		blame(why, cap, "the loader did not load it into a test program");
		loader_complaint(out, why, cap);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------ file operations */

/* Whole file into a fresh NUL-terminated buffer.  0 with *len, -errno. */
static int read_file(const char *path, char **data, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char *buf = malloc(max + 1);
	size_t n = 0;
	int err = buf ? 0 : -ENOMEM;
	while (!err) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		else if (r == 0)
			break;
		else if ((n += (size_t)r) > max)
			err = -EFBIG;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*(slash == dir ? slash + 1 : slash) = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

/* A temporary file beside `path` (same directory, so that rename is
 * atomic), holding `data`, root-owned with `mode`, on disk.  Its name is
 * left in `tmp`. */
static int write_temp(const char *path, const char *data, size_t len,
		      mode_t mode, char *tmp, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n = snprintf(tmp, cap, "%.*s/.%s.XXXXXX", (int)(slash - path), path,
			 slash + 1);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    fchown(fd, 0, 0) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int commit_temp(const char *tmp, const char *path)
{
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return fsync_dir_of(path);
}

/* Replace `path` with `data` in one step: a reader sees the old file or
 * the new one, never a mix, even after a crash. */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	if (write_temp(path, data, len, mode, tmp, sizeof tmp) < 0)
		return -1;
	return commit_temp(tmp, path);
}

/* mkdir -p for a --root tree that lacks the library directory. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* ------------------------------------------------------ ld.so.preload */

/* A line of the file: what ld.so reads (before '#') and the comment. */
struct line {
	const char *text;
	size_t len;           /* without the newline */
	size_t content_len;   /* up to the '#' */
};

static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == ':' || c == '\r' || c == '\v' || c == '\f';
}

/* Is this entry libnoleak?  Any path whose last component is libnoleak.so:
 * the system directory, /usr/$LIB, an older /usr/local/lib install. */
static int entry_is_ours(const char *tok, size_t len)
{
	size_t nl = strlen(LIB_NAME);
	return len >= nl && !memcmp(tok + len - nl, LIB_NAME, nl) &&
	       (len == nl || tok[len - nl - 1] == '/');
}

/* Each entry of `l` in turn: *pos starts at 0; returns 0 at the end. */
static int next_entry(const struct line *l, size_t *pos, const char **tok,
		      size_t *tlen)
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

static size_t split_lines(const char *data, size_t len, struct line *v, size_t max)
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

/* A growing output buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			say(stderr, "out of memory");
			exit(NL_EXIT_USAGE);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* `l` without the entries `drop` selects, or nothing at all when only
 * those were on it.  Other entries are kept in order; the comment stays.
 * `drop` is asked once per entry, in file order. */
static int keep_line(struct buf *out, const struct line *l,
		     int (*drop)(const char *, size_t, void *), void *ctx)
{
	size_t pos = 0, tlen, n = 0, written = 0;
	const char *tok;
	/* one decision per entry: an entry takes at least two bytes */
	unsigned char *gone = calloc(l->content_len / 2 + 1, 1);
	int dropped = 0;
	if (!gone) {
		say(stderr, "out of memory");
		exit(NL_EXIT_USAGE);
	}
	while (next_entry(l, &pos, &tok, &tlen))
		dropped += gone[n++] = (unsigned char)(drop(tok, tlen, ctx) != 0);
	if (!dropped) {
		put(out, l->text, l->len);
		put(out, "\n", 1);
	} else if ((size_t)dropped < n || l->content_len < l->len) {
		for (pos = 0, n = 0; next_entry(l, &pos, &tok, &tlen); n++) {
			if (gone[n])
				continue;
			if (written++)
				put(out, " ", 1);
			put(out, tok, tlen);
		}
		if (l->content_len < l->len) {
			if (written)
				put(out, " ", 1);
			put(out, l->text + l->content_len, l->len - l->content_len);
		}
		put(out, "\n", 1);
	}
	free(gone);
	return dropped;
}

/* Rebuild the file without the entries `drop` selects.  Returns how many
 * were dropped. */
static int rebuild(const char *data, size_t len, struct buf *out,
		   int (*drop)(const char *, size_t, void *), void *ctx)
{
	size_t max = len + 1;   /* a line holds at least its newline */
	struct line *lines = calloc(max, sizeof *lines);
	if (!lines) {
		say(stderr, "out of memory");
		exit(NL_EXIT_USAGE);
	}
	size_t n = split_lines(data, len, lines, max);
	int dropped = 0;
	for (size_t i = 0; i < n; i++)
		dropped += keep_line(out, &lines[i], drop, ctx);
	free(lines);
	return dropped;
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

/* The entry as ld.so opens it: $LIB and ${LIB}, $PLATFORM and ${PLATFORM}
 * replaced as for this process.  ($ORIGIN means nothing in this file.)
 * `syslibdir` is the directory of this process's libc, from which $LIB
 * follows. */
static void expand_entry(const char *tok, size_t tlen, const char *syslibdir,
			 char *out, size_t cap)
{
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	static const struct { const char *name; int is_lib; } dst[] = {
		{ "$LIB", 1 }, { "${LIB}", 1 },
		{ "$PLATFORM", 0 }, { "${PLATFORM}", 0 },
	};
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
		const char *val = dst[k].is_lib ? lib_token(syslibdir)
						: (platform ? platform : "");
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

/* -------------------------------------------------------- the context */

struct preload_ctx {
	struct preload_opts o;
	char libdir[PATH_MAX];      /* where the library goes, as ld.so sees it */
	char syslibdir[PATH_MAX];   /* libc's directory: what $LIB stands for */
	char entry[PATH_MAX];       /* <libdir>/libnoleak.so */
	char installed[PATH_MAX];   /* the entry, from here (under --root) */
	char file[PATH_MAX];        /* /etc/ld.so.preload, from here */
	char *data;                 /* its contents ("" when absent) */
	size_t len;
	int exists;
};

static int load_ctx(struct preload_ctx *c)
{
	if (system_libdir(c->syslibdir) < 0) {
		say(stderr, "cannot tell the system library directory: libc.so.6 not found among the loaded objects");
		return -1;
	}
	if (c->o.libdir) {
		if (c->o.libdir[0] != '/') {
			say(stderr, "--libdir must be an absolute path: %s", c->o.libdir);
			return -1;
		}
		snprintf(c->libdir, sizeof c->libdir, "%s", c->o.libdir);
		size_t l = strlen(c->libdir);
		while (l > 1 && c->libdir[l - 1] == '/')
			c->libdir[--l] = 0;
	} else {
		snprintf(c->libdir, sizeof c->libdir, "%s", c->syslibdir);
	}
	if ((size_t)snprintf(c->entry, sizeof c->entry, "%s/%s", c->libdir,
			     LIB_NAME) >= sizeof c->entry ||
	    under_root(&c->o, c->entry, c->installed, sizeof c->installed) < 0 ||
	    under_root(&c->o, PRELOAD_FILE, c->file, sizeof c->file) < 0) {
		say(stderr, "path too long under %s", c->o.root);
		return -1;
	}
	struct stat st;
	if (lstat(c->file, &st) == 0 && S_ISLNK(st.st_mode)) {
		say(stderr, "%s is a symbolic link; not touching it", c->file);
		return -1;
	}
	int r = read_file(c->file, &c->data, &c->len, PRELOAD_MAX);
	c->exists = r == 0;
	if (r == -ENOENT) {
		c->data = strdup("");
		c->len = 0;
		return c->data ? 0 : -1;
	}
	if (r < 0) {
		say(stderr, "cannot read %s: %s", c->file, strerror(-r));
		return -1;
	}
	return 0;
}

/* /etc/ld.so.preload itself: whoever can write it chooses what every
 * program, set-user-ID ones included, loads. */
static int preload_file_safe(const struct preload_ctx *c, char *why, size_t cap)
{
	struct stat st;
	if (!c->exists || stat(c->file, &st) < 0)
		return 0;
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return refuse_component("file", PRELOAD_FILE, &st, why, cap);
	return 0;
}

static int require_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	say(stderr, "%s must run as root: it changes %s, which every program on the host reads",
	    cmd, PRELOAD_FILE);
	return -1;
}

/* ------------------------------------------------------------- enable */

/* Same bytes? (A re-enable with an unchanged library keeps its inode.) */
static int same_contents(const char *a, const char *b)
{
	char *x, *y;
	size_t xl, yl;
	if (read_file(a, &x, &xl, 256u << 20) < 0)
		return 0;
	if (read_file(b, &y, &yl, 256u << 20) < 0) {
		free(x);
		return 0;
	}
	int same = xl == yl && !memcmp(x, y, xl);
	free(x);
	free(y);
	return same;
}

/* Copy `src` to the installed path: a temporary copy is test-loaded, then
 * renamed into place, so a library that cannot load never replaces one
 * that can. */
static int install_library(struct preload_ctx *c, const char *src)
{
	char why[1024], tmp[PATH_MAX], dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", c->installed);
	*strrchr(dir, '/') = 0;
	if (make_dirs(dir) < 0) {
		say(stderr, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (check_parents(c->installed, why, sizeof why) < 0) {
		say(stderr, "refusing to install into %s: %s", dir, why);
		return -1;
	}
	char real_src[PATH_MAX], real_dst[PATH_MAX];
	if (realpath(src, real_src) && realpath(c->installed, real_dst) &&
	    !strcmp(real_src, real_dst))
		return 0;
	struct stat st;
	if (stat(c->installed, &st) == 0 && st.st_uid == 0 &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)) && same_contents(src, c->installed))
		return 0;
	char *data;
	size_t len;
	int r = read_file(src, &data, &len, 256u << 20);
	if (r < 0) {
		say(stderr, "cannot read %s: %s", src, strerror(-r));
		return -1;
	}
	r = write_temp(c->installed, data, len, 0644, tmp, sizeof tmp);
	free(data);
	if (r < 0) {
		say(stderr, "cannot write into %s: %s", dir, strerror(errno));
		return -1;
	}
	if (test_load(tmp, why, sizeof why) < 0) {
		unlink(tmp);
		say(stderr, "refusing %s: %s", src, why);
		return -1;
	}
	if (commit_temp(tmp, c->installed) < 0) {
		say(stderr, "cannot install %s: %s", c->installed, strerror(errno));
		return -1;
	}
	say(stdout, "installed %s as %s", src, c->installed);
	return 0;
}

struct drop_ctx {
	const struct preload_ctx *c;
	int keep_current;   /* keep entries that already name the installed library */
	int found_current;
};

/* Our entries: in enable, those that name another copy (replaced); in
 * disable, all of them. */
static int drop_ours(const char *tok, size_t tlen, void *ctx)
{
	struct drop_ctx *d = ctx;
	if (!entry_is_ours(tok, tlen))
		return 0;
	char exp[PATH_MAX];
	expand_entry(tok, tlen, d->c->syslibdir, exp, sizeof exp);
	if (d->keep_current && !strcmp(exp, d->c->entry)) {
		if (d->found_current++)
			return 1;   /* a second copy of the same entry */
		return 0;
	}
	if (d->keep_current)
		say(stdout, "replacing the entry %.*s", (int)tlen, tok);
	return 1;
}

static int find_source(const struct preload_ctx *c, char *src)
{
	if (c->o.lib) {
		snprintf(src, PATH_MAX, "%s", c->o.lib);
	} else if (bundled_library(src) < 0) {
		say(stderr, "no %s next to noleak or in ../lib; name one with --lib PATH", LIB_NAME);
		return -1;
	}
	struct stat st;
	if (stat(src, &st) < 0) {
		say(stderr, "refusing %s: %s (an entry for a missing library makes every program on the host print an error)",
		    src, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		say(stderr, "refusing %s: not a regular file", src);
		return -1;
	}
	return 0;
}

static int do_enable(struct preload_ctx *c)
{
	char src[PATH_MAX], why[1024];
	/* Directories made under --root must be readable by every user. */
	umask(022);
	if (!entry_safe_chars(c->entry)) {
		say(stderr, "refusing %s: ld.so.preload entries cannot contain blanks, ':' or '#'", c->entry);
		return NL_EXIT_USAGE;
	}
	if (find_source(c, src) < 0 || install_library(c, src) < 0)
		return NL_EXIT_USAGE;
	if (check_trusted(c->installed, why, sizeof why) < 0) {
		say(stderr, "refusing %s: %s", c->installed, why);
		return NL_EXIT_USAGE;
	}
	if (test_load(c->installed, why, sizeof why) < 0) {
		say(stderr, "refusing %s: %s", c->installed, why);
		return NL_EXIT_USAGE;
	}
	struct buf out = { 0 };
	struct drop_ctx d = { c, 1, 0 };
	int dropped = rebuild(c->data, c->len, &out, drop_ours, &d);
	/* An unsafe file is rewritten root-owned, 0644, even when its
	 * contents stay. */
	if (d.found_current && !dropped && preload_file_safe(c, why, sizeof why) == 0) {
		say(stdout, "already enabled: %s in %s", c->entry, PRELOAD_FILE);
		free(out.p);
		return 0;
	}
	if (!d.found_current) {
		put(&out, c->entry, strlen(c->entry));
		put(&out, "\n", 1);
	}
	if (write_atomic(c->file, out.p, out.len, 0644) < 0) {
		say(stderr, "cannot write %s: %s", c->file, strerror(errno));
		free(out.p);
		return NL_EXIT_USAGE;
	}
	free(out.p);
	say(stdout, "enabled: %s loads %s into every program started from now on",
	    PRELOAD_FILE, c->entry);
	return 0;
}

/* ------------------------------------------------------------ disable */

static int purge_library(const struct preload_ctx *c)
{
	if (unlink(c->installed) < 0 && errno != ENOENT) {
		say(stderr, "cannot remove %s: %s", c->installed, strerror(errno));
		return NL_EXIT_USAGE;
	}
	say(stdout, "removed %s", c->installed);
	return 0;
}

/* Blank lines alone are not worth a file. */
static int only_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static int do_disable(struct preload_ctx *c)
{
	struct buf out = { 0 };
	struct drop_ctx d = { c, 0, 0 };
	int dropped = rebuild(c->data, c->len, &out, drop_ours, &d);
	int r = 0;
	if (!dropped) {
		say(stdout, "already disabled: no %s entry in %s", LIB_NAME, PRELOAD_FILE);
	} else if (only_blank(out.p ? out.p : "", out.len)) {
		/* Nothing else was in it: leave no empty file behind. */
		if (unlink(c->file) < 0 || fsync_dir_of(c->file) < 0) {
			say(stderr, "cannot remove %s: %s", c->file, strerror(errno));
			r = NL_EXIT_USAGE;
		}
	} else if (write_atomic(c->file, out.p, out.len, 0644) < 0) {
		say(stderr, "cannot write %s: %s", c->file, strerror(errno));
		r = NL_EXIT_USAGE;
	}
	free(out.p);
	if (r)
		return r;
	if (dropped)
		say(stdout, "disabled: %s no longer loads %s (running programs keep it until they exit)",
		    PRELOAD_FILE, LIB_NAME);
	return c->o.purge ? purge_library(c) : 0;
}

/* ------------------------------------------------------------- status */

/* The version a library declares with an "@(#)libnoleak VERSION" string,
 * or, failing that, this noleak's version when the bytes are those of
 * the library it ships with (or of --lib PATH). */
static void library_version(const struct preload_ctx *c, const char *path,
			    char *out, size_t cap)
{
	static const char tag[] = "@(#)libnoleak ";
	char *data;
	size_t len;
	snprintf(out, cap, "unknown");
	if (read_file(path, &data, &len, 256u << 20) < 0)
		return;
	const char *hit = memmem(data, len, tag, sizeof tag - 1);
	if (hit) {
		hit += sizeof tag - 1;
		size_t n = strspn(hit, "0123456789.-+~abcdefghijklmnopqrstuvwxyz");
		snprintf(out, cap, "%.*s", (int)(n > 64 ? 64 : n), hit);
	} else {
		char ref[PATH_MAX];
		if (c->o.lib)
			snprintf(ref, sizeof ref, "%s", c->o.lib);
		if ((c->o.lib || bundled_library(ref) == 0) && same_contents(path, ref))
			snprintf(out, cap, "%s (same as %s)", NL_VERSION, ref);
		else
			snprintf(out, cap, "unknown (differs from %s)",
				 c->o.lib ? c->o.lib : "the library of this noleak");
	}
	free(data);
}

static void owner_text(const struct stat *st, char *out, size_t cap)
{
	struct passwd *pw = getpwuid(st->st_uid);
	char user[64];
	snprintf(user, sizeof user, "%s", pw ? pw->pw_name : "?");
	struct group *gr = getgrgid(st->st_gid);
	snprintf(out, cap, "%s:%s (%u:%u)", user, gr ? gr->gr_name : "?",
		 (unsigned)st->st_uid, (unsigned)st->st_gid);
}

/* One of our entries: does it name a library that loads and is safe? */
static int check_entry(const struct preload_ctx *c, const char *tok, size_t tlen,
		       size_t lineno)
{
	char exp[PATH_MAX], here[PATH_MAX], why[1024];
	expand_entry(tok, tlen, c->syslibdir, exp, sizeof exp);
	int expanded = strlen(exp) != tlen || memcmp(exp, tok, tlen);
	say(stdout, "enabled: %s line %zu: %.*s%s%s", PRELOAD_FILE, lineno,
	    (int)tlen, tok, expanded ? ", for this architecture " : "",
	    expanded ? exp : "");
	if (under_root(&c->o, exp, here, sizeof here) < 0) {
		say(stdout, "problem: path too long: %s", exp);
		return ST_PROBLEM;
	}
	struct stat st;
	if (stat(here, &st) < 0) {
		say(stdout, "problem: %s: %s (every program on the host prints an error about it)",
		    exp, strerror(errno));
		return ST_PROBLEM;
	}
	char version[PATH_MAX + 64], owner[160];
	library_version(c, here, version, sizeof version);
	owner_text(&st, owner, sizeof owner);
	say(stdout, "library: %s, version %s, owner %s, mode %04o, %lld bytes", exp,
	    version, owner, (unsigned)(st.st_mode & 07777), (long long)st.st_size);
	if (check_trusted(here, why, sizeof why) < 0) {
		say(stdout, "problem: %s", why);
		return ST_PROBLEM;
	}
	if (test_load(here, why, sizeof why) < 0) {
		say(stdout, "problem: %s: %s", exp, why);
		return ST_PROBLEM;
	}
	return ST_ENABLED;
}

/* Someone else's entry that names nothing: not ours to fix, but every
 * program on the host complains about it. */
static void warn_stale(const struct preload_ctx *c, const char *tok, size_t tlen)
{
	char exp[PATH_MAX], here[PATH_MAX];
	expand_entry(tok, tlen, c->syslibdir, exp, sizeof exp);
	if (under_root(&c->o, exp, here, sizeof here) == 0 &&
	    access(here, F_OK) < 0 && errno == ENOENT)
		say(stdout, "warning: %s names %s, which does not exist", PRELOAD_FILE, exp);
}

static int do_status(struct preload_ctx *c)
{
	char why[1024];
	if (!c->exists) {
		say(stdout, "not enabled: %s does not exist", c->file);
		return ST_DISABLED;
	}
	int file_ok = preload_file_safe(c, why, sizeof why) == 0;
	if (!file_ok)
		say(stdout, "problem: %s", why);
	struct line *lines = calloc(c->len + 1, sizeof *lines);
	if (!lines)
		return ST_PROBLEM;
	size_t n = split_lines(c->data, c->len, lines, c->len + 1);
	int found = 0, worst = ST_ENABLED;
	for (size_t i = 0; i < n; i++) {
		size_t pos = 0, tlen;
		const char *tok;
		while (next_entry(&lines[i], &pos, &tok, &tlen)) {
			if (!entry_is_ours(tok, tlen)) {
				warn_stale(c, tok, tlen);
				continue;
			}
			found++;
			if (check_entry(c, tok, tlen, i + 1) != ST_ENABLED)
				worst = ST_PROBLEM;
		}
	}
	free(lines);
	if (!found) {
		say(stdout, "not enabled: no %s entry in %s", LIB_NAME, c->file);
		return file_ok ? ST_DISABLED : ST_PROBLEM;
	}
	if (!file_ok)
		return ST_PROBLEM;
	if (worst == ST_ENABLED)
		say(stdout, "healthy: every new program loads %s", LIB_NAME);
	return worst;
}

/* -------------------------------------------------------- entry points */

enum { OPT_ROOT = 256, OPT_LIB, OPT_LIBDIR, OPT_PURGE };

static const struct option preload_options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "lib", required_argument, NULL, OPT_LIB },
	{ "libdir", required_argument, NULL, OPT_LIBDIR },
	{ "purge", no_argument, NULL, OPT_PURGE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char preload_usage[] =
	"usage: noleak enable  [--root DIR] [--lib PATH] [--libdir DIR]\n"
	"       noleak disable [--root DIR] [--libdir DIR] [--purge]\n"
	"       noleak status  [--root DIR] [--lib PATH] [--libdir DIR]\n";

static int usage(const char *cmd, const char *why, const char *what)
{
	say(stderr, "%s: %s%s (see noleak %s --help)", cmd, why, what ? what : "", cmd);
	return NL_EXIT_USAGE;
}

/* Parse the options shared by the three subcommands.  Returns -1 after
 * printing help, or an exit status > 0 on a usage error. */
static int parse(int argc, char **argv, struct preload_opts *o)
{
	const char *cmd = argv[0];
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", preload_options, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_LIB:
			if (!strcmp(cmd, "disable"))
				return usage(cmd, "--lib belongs to enable and status", NULL);
			o->lib = optarg;
			break;
		case OPT_LIBDIR:
			o->libdir = optarg;
			break;
		case OPT_PURGE:
			if (strcmp(cmd, "disable"))
				return usage(cmd, "--purge belongs to disable", NULL);
			o->purge = 1;
			break;
		case 'h':
			fputs(preload_usage, stdout);
			fputs("See noleak --help, section HARDENED HOSTS.\n", stdout);
			return -1;
		case ':':
			return usage(cmd, "option needs a value: ", argv[optind - 1]);
		default:
			return usage(cmd, "unknown option: ", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage(cmd, "unexpected argument: ", argv[optind]);
	if (o->root[0] != '/')
		return usage(cmd, "--root must be an absolute path: ", o->root);
	return 0;
}

static int preload_main(int argc, char **argv, int (*action)(struct preload_ctx *))
{
	struct preload_ctx c = { .o = { .root = "/" } };
	int r = parse(argc, argv, &c.o);
	if (r)
		return r < 0 ? 0 : r;
	if (action != do_status && require_root(argv[0]) < 0)
		return NL_EXIT_USAGE;
	if (load_ctx(&c) < 0)
		return action == do_status ? ST_PROBLEM : NL_EXIT_USAGE;
	r = action(&c);
	free(c.data);
	if (fflush(stdout) && !r)
		r = NL_EXIT_USAGE;
	return r;
}

int noleak_enable_main(int argc, char **argv)
{
	return preload_main(argc, argv, do_enable);
}

int noleak_disable_main(int argc, char **argv)
{
	return preload_main(argc, argv, do_disable);
}

int noleak_status_main(int argc, char **argv)
{
	return preload_main(argc, argv, do_status);
}
