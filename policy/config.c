/* The config file: /etc/noleak.conf (or NOLEAK_CONFIG), trusted only when
 * nobody but root or the running user could have written it; in a secure
 * process run by its effective user (set-group-ID, file capabilities) by
 * nobody but root (nl_policy_trusted_uid).  The file is judged by a stat()
 * before it is opened, so that a device or FIFO named by whoever set
 * NOLEAK_CONFIG is never opened (a driver's open has effects of its own),
 * and the opened file must be the one judged (device and inode): a swap in
 * between is refused, though a device swapped in has been opened by then.
 *
 *   # global section: lines before any header, or under [global]
 *   mode = enforce
 *   [program /usr/sbin/legacy-agent]     path: matched against exe,
 *   stdin = detach                       AT_EXECFN and argv[0]
 *   [program python*]                    no slash: a glob on their basenames
 *   sock_timeout = 0
 *
 * The global section is applied first, then every section that matches the
 * program, in file order, so a program's section wins over the global one
 * wherever it appears.  Mistakes in the file's shape (over-long lines, lines
 * without '=', bad headers) are reported wherever they are; a bad key or
 * value only when its section applies to the program.
 *
 * Drop-ins: the files named *.conf in the directory CONFIG.d
 * (/etc/noleak.conf.d), read after the main file in lexical (byte) order,
 * so that a package can ship a [program ...] section without editing the
 * main file.  Each file is trusted or ignored on its own under the rule
 * above, and the directory itself must pass it too (a directory others may
 * write to is ignored whole).  Across all the files, every global section
 * is applied first, then every matching program section, in reading order:
 * a drop-in's global line never overrides the main file's program section.
 * The directory is listed once per load, into scratch memory, and the
 * names sorted there: no bound on their number.  Without the memory the
 * directory is ignored whole, with one error. */
#include "policy.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/scratch.h"
#include "common/str.h"
#include "common/sys.h"

#define NL_CONFIG_DEFAULT "/etc/noleak.conf"
/* Both limits keep the whole file on the stack of whatever thread loads
 * the policy: no allocation, and a bound on the work done at start-up. */
#define NL_CONFIG_MAX (64 * 1024)
#define NL_CONFIG_LINE_MAX 1024

enum section {
	SEC_GLOBAL,
	SEC_MATCH,   /* a [program] section naming this program */
	SEC_OTHER,   /* a [program] section for another program */
	SEC_BAD,     /* a malformed header: its lines are skipped */
};

struct line {
	const char *s;
	size_t n;
	unsigned no;
};

/* Decimal without stdio. */
static void fmt_uint(char *dst, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*dst++ = tmp[--n];
	*dst = '\0';
}

/* "path:12", the origin of errors about line 12. */
static void fmt_origin(char *dst, size_t cap, const char *path, unsigned no)
{
	size_t n = strlen(path);
	if (n > cap - 24)
		n = cap - 24;
	memcpy(dst, path, n);
	dst[n] = ':';
	fmt_uint(dst + n + 1, no);
}

static void line_error(struct nl_policy *p, const char *path, unsigned no,
		       const char *what)
{
	char origin[300];
	fmt_origin(origin, sizeof(origin), path, no);
	nl_policy_error(p, origin, ": ", what, NULL);
}

static int next_line(const char *text, size_t len, size_t *pos,
		     struct line *l)
{
	if (*pos >= len)
		return 0;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl != NULL ? (size_t)(nl - s) : len - *pos;
	*l = (struct line){ s, n, l->no + 1 };
	*pos += n + (nl != NULL);
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trim in place a NUL-terminated copy; returns its start. */
static char *trim(char *s)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Whether a [program PATTERN] section applies to `who`.  A pattern with a
 * slash names a path; without, a basename.  Scripts run under their
 * interpreter, so the script's own name is only in AT_EXECFN or argv[0]. */
static int program_matches(const char *pattern, const struct nl_identity *who)
{
	if (who == NULL)
		return 0;
	const char *names[3] = { who->execfn, who->argv0, who->exe };
	int by_path = strchr(pattern, '/') != NULL;

	for (int i = 0; i < 3; i++) {
		if (i == 2 && names[i] == NULL && who->exe_lazy)
			names[i] = who->exe_lazy();
		if (names[i] == NULL || names[i][0] == '\0')
			continue;
		const char *subject = by_path ? names[i] : nl_basename(names[i]);
		if (subject[0] != '\0' && nl_glob_match(pattern, subject))
			return 1;
	}
	return 0;
}

/* `head` is a trimmed line starting with '['.  Returns the section it opens,
 * or SEC_BAD. */
static enum section parse_header(char *head, const struct nl_identity *who)
{
	size_t n = strlen(head);
	if (n < 2 || head[n - 1] != ']')
		return SEC_BAD;
	head[n - 1] = '\0';
	char *body = trim(head + 1);
	if (strcmp(body, "global") == 0)
		return SEC_GLOBAL;
	if (strncmp(body, "program", 7) != 0 || !is_blank(body[7]))
		return SEC_BAD;
	char *pattern = trim(body + 7);
	if (pattern[0] == '\0')
		return SEC_BAD;
	return program_matches(pattern, who) ? SEC_MATCH : SEC_OTHER;
}

/* Whether a line the walk skips (too long, a NUL byte) was meant as a
 * section header: the section it may have opened is then no section, so
 * that the keys under it apply to no program rather than to the section
 * before it. */
static int skipped_header(const char *s, size_t n)
{
	while (n > 0 && is_blank(*s))
		s++, n--;
	return n > 0 && *s == '[';
}

/* One walk over the file.  The first walk (global) applies the global
 * section and reports the file's shape; the second applies the program's
 * sections. */
static void walk(struct nl_policy *p, const char *text, size_t len,
		 const char *path, const struct nl_identity *who, int global)
{
	enum section sec = SEC_GLOBAL;
	enum section wanted = global ? SEC_GLOBAL : SEC_MATCH;
	struct line l = { NULL, 0, 0 };
	size_t pos = 0;
	char buf[NL_CONFIG_LINE_MAX + 1];

	while (next_line(text, len, &pos, &l)) {
		const char *skip = l.n > NL_CONFIG_LINE_MAX
					   ? "line longer than 1024 bytes"
				   : memchr(l.s, '\0', l.n) != NULL
					   ? "NUL byte in line"
					   : NULL;
		if (skip != NULL) {
			if (global)
				line_error(p, path, l.no, skip);
			if (skipped_header(l.s, l.n))
				sec = SEC_BAD;
			continue;
		}
		memcpy(buf, l.s, l.n);
		buf[l.n] = '\0';
		char *s = trim(buf);
		if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
			continue;
		if (s[0] == '[') {
			sec = parse_header(s, who);
			if (sec == SEC_BAD && global)
				line_error(p, path, l.no,
					   "bad section header (expected "
					   "[global] or [program NAME])");
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq != NULL)
			*eq = '\0';
		char *key = eq != NULL ? trim(s) : s;
		if (eq == NULL || key[0] == '\0') {
			if (global)
				line_error(p, path, l.no,
					   "expected key = value");
			continue;
		}
		if (sec != wanted)
			continue;
		char origin[300];
		fmt_origin(origin, sizeof(origin), path, l.no);
		nl_policy_set(p, key, trim(eq + 1), origin);
	}
}

void nl_policy_apply_config(struct nl_policy *p, const char *text, size_t len,
			    const char *path, const struct nl_identity *who)
{
	if (path == NULL)
		path = "";
	walk(p, text, len, path, who, 1);
	walk(p, text, len, path, who, 0);
}

const char *nl_policy_config_distrust(const struct stat *st, uid_t euid)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != 0 && st->st_uid != euid)
		return "not owned by root or the effective user";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

int nl_policy_config_trusted(const struct stat *st, uid_t euid)
{
	return nl_policy_config_distrust(st, euid) == NULL;
}

uid_t nl_policy_trusted_uid(int secure)
{
	uid_t euid = nl_sys_geteuid();

	return secure && euid == nl_sys_getuid() ? 0 : euid;
}

static const char *errno_text(int e, char num[24])
{
	switch (e) {
	case EACCES:
		return "permission denied";
	case EISDIR:
		return "is a directory";
	case ENOTDIR:
		return "not a directory";
	case ELOOP:
		return "too many symbolic links";
	case EMFILE:
	case ENFILE:
		return "too many open files";
	case EIO:
		return "input/output error";
	case ENOMEM:
		return "out of memory";
	}
	memcpy(num, "errno ", 6);
	fmt_uint(num + 6, (unsigned long)e);
	return num;
}

static void file_error(struct nl_policy *p, const char *path,
		       const char *what, int err)
{
	char num[24];
	nl_policy_error(p, path, ": ", what, err != 0 ? ": " : "",
			err != 0 ? errno_text(err, num) : "", NULL);
}

/* Read the whole of fd into buf (at most cap bytes).  Returns the length,
 * or -errno; sets *more when the file goes on past cap. */
static long read_all(int fd, char *buf, size_t cap, int *more)
{
	size_t len = 0;
	long n;

	*more = 0;
	while (len < cap) {
		n = nl_sys_read(fd, buf + len, cap - len);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			return (long)len;
		len += (size_t)n;
	}
	char extra;
	do
		n = nl_sys_read(fd, &extra, 1);
	while (n == -EINTR);
	*more = n > 0;
	return (long)len;
}

enum walks { WALK_GLOBAL = 1, WALK_PROGRAM = 2 };

/* Read one config file and walk it as `walks` says.  Problems with the file
 * itself are reported only by the walk that applies the global section, so
 * that a file read twice is reported once. */
static void read_config(struct nl_policy *p, const char *path,
			const struct nl_identity *who, unsigned walks, int main,
			int secure)
{
	struct stat st;
	int fd, more;
	long len;
	int report = (walks & WALK_GLOBAL) != 0;

	if (main && nl_strlen(path) >= sizeof(p->config_path)) {
		if (report)
			file_error(p, "NOLEAK_CONFIG",
				   "path longer than 255 bytes", 0);
		return;
	}
	/* Judged before it is opened: opening a device runs its driver (a
	 * watchdog starts counting down, a tape rewinds) and opening a FIFO
	 * wakes a writer waiting for a reader, whoever named the path. */
	int r = nl_sys_stat(path, &st);
	if (r == -ENOENT)
		return;  /* no config file: the defaults are the policy */
	if (r < 0) {
		if (report)
			file_error(p, path, "cannot open", -r);
		return;
	}
	uid_t owner = nl_policy_trusted_uid(secure);
	const char *why = nl_policy_config_distrust(&st, owner);
	if (why != NULL) {
		if (report)
			nl_policy_error(p, path, ": ignored: ", why, NULL);
		return;
	}
	dev_t dev = st.st_dev;
	ino_t ino = st.st_ino;
	/* O_NONBLOCK: a FIFO swapped in since the look must not hang the
	 * program in open(); the look below then refuses it. */
	do
		fd = nl_sys_openat(AT_FDCWD, path,
				   O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
				   0);
	while (fd == -EINTR);
	if (fd == -ENOENT)
		return;  /* gone since the look */
	if (fd < 0) {
		if (report)
			file_error(p, path, "cannot open", -fd);
		return;
	}
	/* What was opened is what was judged, and still fine. */
	r = nl_sys_fstat(fd, &st);
	if (r < 0) {
		nl_sys_close(fd);
		if (report)
			file_error(p, path, "cannot stat", -r);
		return;
	}
	why = st.st_dev != dev || st.st_ino != ino
		? "replaced while being opened"
		: nl_policy_config_distrust(&st, owner);
	if (why != NULL) {
		nl_sys_close(fd);
		if (report)
			nl_policy_error(p, path, ": ignored: ", why, NULL);
		return;
	}
	/* The file goes to an anonymous mapping, unmapped right after, not
	 * onto the stack: start-up may run on whatever thread made the first
	 * call.  Mapped only once there is a file: most hosts have none. */
	long map = nl_sys_mmap_anon(NL_CONFIG_MAX);
	if (map < 0 && map > -4096) {
		nl_sys_close(fd);
		if (report)
			file_error(p, path, "cannot read", (int)-map);
		return;
	}
	char *buf = (char *)map;
	len = read_all(fd, buf, NL_CONFIG_MAX, &more);
	nl_sys_close(fd);
	if (len < 0) {
		nl_sys_munmap((void *)map, NL_CONFIG_MAX);
		if (report)
			file_error(p, path, "cannot read", (int)-len);
		return;
	}
	if (more) {
		/* Apply whole lines only: half a line could be a different
		 * value ("sock_timeout = 3" of "= 300"). */
		const char *last = memrchr(buf, '\n', (size_t)len);
		len = last != NULL ? last - buf + 1 : 0;
		if (report)
			file_error(p, path,
				   "larger than 65536 bytes, the rest is ignored",
				   0);
	}
	if (main)
		nl_copy(p->config_path, path, nl_strlen(path) + 1);
	if (walks & WALK_GLOBAL)
		walk(p, buf, (size_t)len, path, who, 1);
	if (walks & WALK_PROGRAM)
		walk(p, buf, (size_t)len, path, who, 0);
	nl_sys_munmap((void *)map, NL_CONFIG_MAX);
}

/* "NAME.conf", not hidden: a drop-in (editors' backups and dpkg's
 * .dpkg-old/.dpkg-dist copies are not). */
static int is_dropin(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The open drop-in directory, or -1 (reported) when there is none or it
 * may not be trusted. */
static int open_dropins(struct nl_policy *p, const char *dir, int secure)
{
	struct stat st;
	int fd;

	do
		fd = nl_sys_openat(AT_FDCWD, dir,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	while (fd == -EINTR);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return -1;
	if (fd < 0) {
		file_error(p, dir, "cannot open", -fd);
		return -1;
	}
	int r = nl_sys_fstat(fd, &st);
	const char *why = NULL;
	if (r < 0)
		why = "cannot stat";
	else if (st.st_uid != 0 && st.st_uid != nl_policy_trusted_uid(secure))
		why = "not owned by root or the effective user";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by group or others";
	if (why != NULL) {
		nl_sys_close(fd);
		nl_policy_error(p, dir, ": ignored: ", why, NULL);
		return -1;
	}
	return fd;
}

/* The drop-in names of a directory, listed once and sorted, in scratch
 * memory (common/scratch.h): their number has no bound, and start-up may
 * run on any thread's stack. */
struct dropins {
	char *names;         /* packed, NUL-terminated */
	size_t names_len;    /* the block's size */
	unsigned *at;        /* offsets into names, sorted by name */
	size_t at_len;       /* the block's size */
	size_t n;
};

/* Byte order, as strcmp: unsigned bytes. */
static int name_cmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

static void sift_down(const char *names, unsigned *at, size_t i, size_t n)
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < n && name_cmp(names + at[l], names + at[big]) > 0)
			big = l;
		if (r < n && name_cmp(names + at[r], names + at[big]) > 0)
			big = r;
		if (big == i)
			return;
		unsigned t = at[i];
		at[i] = at[big];
		at[big] = t;
		i = big;
	}
}

/* Heapsort: n log n comparisons, no recursion, no memory. */
static void sort_names(const char *names, unsigned *at, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(names, at, i, n);
	for (size_t end = n; end-- > 1;) {
		unsigned t = at[0];
		at[0] = at[end];
		at[end] = t;
		sift_down(names, at, 0, end);
	}
}

static void free_dropins(struct dropins *l)
{
	nl_scratch_free((void **)&l->names, &l->names_len);
	nl_scratch_free((void **)&l->at, &l->at_len);
	l->n = 0;
}

#define DENTS_CHUNK 4096UL

/* One listing of the directory: the kernel writes each batch of entries
 * into the free end of the names block, and the drop-in names among them
 * are packed down over it (a name takes less room than its entry).
 * Returns 0, or -errno with nothing listed. */
static int list_dropins(int dirfd, struct dropins *l)
{
	size_t used = 0;
	long n;

	*l = (struct dropins){ 0 };
	for (;;) {
		size_t start = (used + 7) & ~7UL;   /* entries are 8-aligned */
		if (nl_scratch_grow((void **)&l->names, &l->names_len,
				    start + DENTS_CHUNK) < 0) {
			free_dropins(l);
			return -ENOMEM;
		}
		char *batch = l->names + start;
		do
			n = nl_sys_getdents64(dirfd, batch, l->names_len - start);
		while (n == -EINTR);
		if (n == 0)
			break;
		if (n < 0) {
			free_dropins(l);
			return (int)n;
		}
		for (long off = 0; off < n;) {
			const struct {
				unsigned long long ino;
				long long off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (const void *)(batch + off);
			off += d->reclen;
			if (!is_dropin(d->name))
				continue;
			size_t len = strlen(d->name) + 1;
			memmove(l->names + used, d->name, len);
			used += len;
			l->n++;
		}
	}
	if (l->n == 0)
		return 0;
	if (used > 0xffffffffUL ||
	    nl_scratch_grow((void **)&l->at, &l->at_len,
			    l->n * sizeof(*l->at)) < 0) {
		free_dropins(l);
		return -ENOMEM;
	}
	for (size_t i = 0, off = 0; i < l->n; i++) {
		l->at[i] = (unsigned)off;
		off += strlen(l->names + off) + 1;
	}
	sort_names(l->names, l->at, l->n);
	return 0;
}

/* Every drop-in of the list, in lexical order, walked as `walks` says. */
static void load_dropins(struct nl_policy *p, const struct dropins *l,
			 const char *dir, const struct nl_identity *who,
			 unsigned walks, int secure)
{
	char path[520];
	size_t dlen = strlen(dir);

	if (dlen + 2 > sizeof(path))
		return;
	memcpy(path, dir, dlen);
	path[dlen] = '/';
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->names + l->at[i];
		size_t nlen = strlen(name);
		if (dlen + 1 + nlen >= sizeof(path))
			continue;
		memcpy(path + dlen + 1, name, nlen + 1);
		read_config(p, path, who, walks, 0, secure);
	}
}

void nl_policy_load(struct nl_policy *p, const struct nl_identity *who,
		    char *const envp[], int secure)
{
	memset(p, 0, sizeof(*p));
	nl_policy_load_zeroed(p, who, envp, secure);
}

void nl_policy_load_zeroed(struct nl_policy *p, const struct nl_identity *who,
			   char *const envp[], int secure)
{
	const char *path = NL_CONFIG_DEFAULT;

	nl_policy_defaults_zeroed(p);
	if (secure)
		p->hide_values = 1;
	/* Under AT_SECURE the caller's environment is hostile input: it may
	 * neither name the config file nor set any key. */
	if (!secure) {
		const char *v = nl_policy_env_value(envp, "NOLEAK_CONFIG");
		if (v != NULL && v[0] != '\0')
			path = v;
	}
	/* The drop-in directory: the config path with ".d" appended. */
	char dir[260];
	size_t plen = nl_strlen(path);
	int dirfd = -1;
	if (plen + 3 <= sizeof(dir)) {
		nl_copy(dir, path, plen);
		nl_copy(dir + plen, ".d", 3);
		dirfd = open_dropins(p, dir, secure);
	}
	struct dropins l = { 0 };
	if (dirfd >= 0) {
		int r = list_dropins(dirfd, &l);
		nl_sys_close(dirfd);
		if (r < 0) {
			char num[24];
			nl_policy_error(p, dir, ": ignored: cannot list: ",
					errno_text(-r, num), NULL);
			dirfd = -1;
		}
	}
	if (dirfd < 0) {
		read_config(p, path, who, WALK_GLOBAL | WALK_PROGRAM, 1, secure);
	} else {
		read_config(p, path, who, WALK_GLOBAL, 1, secure);
		load_dropins(p, &l, dir, who, WALK_GLOBAL, secure);
		read_config(p, path, who, WALK_PROGRAM, 1, secure);
		load_dropins(p, &l, dir, who, WALK_PROGRAM, secure);
		free_dropins(&l);
	}
	if (!secure)
		nl_policy_apply_env(p, envp);
	nl_policy_finish(p);
}
