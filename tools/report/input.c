/* Reading logs: files, stdin, or directories of rotated logs.
 *
 * Input is read in blocks of several MiB and cut into lines in place, so a
 * line costs no copy and no allocation.  A line longer than REP_LINE_MAX is
 * skipped up to its newline and counted; the buffer never grows.
 *
 * Journal export (`journalctl -o json`, one entry a line) is recognised
 * by its "__CURSOR" and unwrapped: an entry's NOLEAK_JSON field (the
 * native entries of `log = journal`), or the MESSAGE of an entry whose
 * SYSLOG_IDENTIFIER is noleak (the syslog form), is the event line; other
 * programs' entries are passed over.
 *
 * Rotated logs compressed by logrotate (gzip: a .gz name or gzip's magic
 * bytes) are read through zlib; other compressions are passed over with a
 * note. */
#include "agg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define READ_BUF (8u << 20)

/* Compressed logs other than gzip are passed over: reading them would
 * need another library. */
static int is_compressed_name(const char *name)
{
	static const char *const ext[] = { ".gz", ".bz2", ".xz", ".zst", ".lz4",
					   ".lz", ".Z", ".zip", ".tgz", ".lzma" };
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t k = strlen(ext[i]);
		if (n > k && !strcmp(name + n - k, ext[i]))
			return 1;
	}
	return 0;
}

static int is_gzip_name(const char *name)
{
	size_t n = strlen(name);
	return n > 3 && !strcmp(name + n - 3, ".gz");
}

static int is_gzip_data(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static int is_compressed_data(const unsigned char *p, size_t n)
{
	return (n >= 2 && p[0] == 0x1f && p[1] == 0x9d) ||
	       (n >= 3 && !memcmp(p, "BZh", 3)) ||
	       (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6)) ||
	       (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4)) ||
	       (n >= 4 && !memcmp(p, "\x04\x22\x4d\x18", 4));
}

static char *read_buffer(void)
{
	static char *buf;
	if (!buf && !(buf = malloc(READ_BUF))) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	return buf;
}

/* --- journal export --- */

/* The journal fields an entry is unwrapped by. */
struct journal_entry {
	struct rep_val json, message;
	int ours;                        /* SYSLOG_IDENTIFIER=noleak */
};

static int journal_field(void *ctx, const char *key, size_t klen,
			 const struct rep_val *v)
{
	struct journal_entry *e = ctx;
	char ident[8];
	if (klen == 11 && !memcmp(key, "NOLEAK_JSON", 11))
		e->json = *v;
	else if (klen == 7 && !memcmp(key, "MESSAGE", 7))
		e->message = *v;
	else if (klen == 17 && !memcmp(key, "SYSLOG_IDENTIFIER", 17))
		e->ours = rep_str(v, ident, sizeof ident) == 6 &&
			  !memcmp(ident, "noleak", 6);
	return 0;
}

static int starts_with(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	return n >= k && !memcmp(s, lit, k);
}

/* One line: an event, or a journal entry carrying one. */
static void agg_line(struct rep_agg *a, const char *s, size_t n)
{
	static char *scratch;
	/* Our events open with "ts".  journalctl -o json writes an entry's
	 * fields in no fixed order; "__CURSOR" is always among them, and no
	 * event has such a key (in a string value its quotes are escaped). */
	static const char cursor[] = "\"__CURSOR\":\"";
	if (starts_with(s, n, "{\"ts\"") ||
	    !memmem(s, n, cursor, sizeof cursor - 1)) {
		rep_agg_line(a, s, n);
		return;
	}
	if (!scratch && !(scratch = malloc(REP_LINE_MAX))) {
		fputs("noleak-report: out of memory\n", stderr);
		exit(2);
	}
	/* Validated by the parser, then walked for the fields that matter. */
	struct rep_event ev = { 0 };
	if (rep_parse_line(s, n, &ev) < 0) {
		rep_agg_line(a, s, n);  /* counted as malformed there */
		return;
	}
	struct rep_val whole = { .p = s, .n = (uint32_t)n, .type = RJ_OBJ };
	struct journal_entry e = { 0 };
	rep_walk(&whole, journal_field, &e);
	size_t len = 0;
	if (e.json.type == RJ_STR)
		len = rep_str(&e.json, scratch, REP_LINE_MAX);
	else if (e.ours)
		len = rep_str(&e.message, scratch, REP_LINE_MAX);
	if (len > 0 && scratch[len - 1] == '\n')
		len--;
	if (len > 0)
		rep_agg_line(a, scratch, (size_t)len);
}

/* Hands every complete line in buf[0, len) to the aggregator; returns how
 * many bytes were consumed.  *skipping: inside an over-long line. */
static size_t cut_lines(struct rep_agg *a, const char *buf, size_t len,
			int *skipping)
{
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (buf + pos));
		if (*skipping)
			*skipping = 0;
		else if (n > REP_LINE_MAX)
			rep_agg_overlong(a);
		else
			agg_line(a, buf + pos, n);
		pos += n + 1;
	}
	return pos;
}

/* A source of bytes: read(2) on an fd, or zlib's gzread. */
struct source {
	int fd;
	gzFile gz;
};

/* Bytes read, 0 at the end, -errno (EINTR retried by the caller). */
static ssize_t source_read(struct source *src, char *buf, size_t n)
{
	if (!src->gz) {
		ssize_t r = read(src->fd, buf, n);
		return r < 0 ? -errno : r;
	}
	if (n > INT_MAX)
		n = INT_MAX;
	int r = gzread(src->gz, buf, (unsigned)n);
	if (r > 0)
		return r;
	/* The end, or a damaged or truncated stream (Z_BUF_ERROR). */
	int zerr;
	gzerror(src->gz, &zerr);
	if (r == 0 && (zerr == Z_OK || zerr == Z_STREAM_END))
		return 0;
	return zerr == Z_ERRNO ? -errno : -EBADMSG;
}

static int read_source(struct rep_agg *a, struct source *src)
{
	char *buf = read_buffer();
	size_t len = 0;
	int skipping = 0;
	for (;;) {
		ssize_t r = source_read(src, buf + len, READ_BUF - len);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		len += (size_t)r;
		size_t used = cut_lines(a, buf, len, &skipping);
		memmove(buf, buf + used, len - used);
		len -= used;
		if (len > REP_LINE_MAX) {
			if (!skipping)
				rep_agg_overlong(a);
			skipping = 1;
			len = 0;  /* the rest of it is dropped as it comes */
		}
	}
	if (len && !skipping) {  /* a last line without its newline */
		if (len > REP_LINE_MAX)
			rep_agg_overlong(a);
		else
			agg_line(a, buf, len);
	}
	return 0;
}

int rep_read_fd(struct rep_agg *a, int fd)
{
	struct source src = { fd, NULL };
	return read_source(a, &src);
}

/* A gzip file (logrotate's `compress`), fd consumed. */
static int read_gzip(struct rep_agg *a, int fd)
{
	struct source src = { fd, gzdopen(fd, "rb") };
	if (!src.gz) {
		close(fd);
		return -ENOMEM;
	}
	gzbuffer(src.gz, 1u << 20);
	int rc = read_source(a, &src);
	gzclose(src.gz);
	return rc;
}

static int skip_note(struct rep_agg *a, const char *path)
{
	fprintf(stderr, "noleak-report: %s: compressed, skipped "
		"(decompress it first, e.g. zcat FILE | noleak-report -)\n", path);
	rep_agg_input(a, 1);
	return 0;
}

static int read_file(struct rep_agg *a, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "noleak-report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	unsigned char head[8];
	ssize_t n = pread(fd, head, sizeof head, 0);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	int rc;
	if (is_gzip_name(path) || (n > 0 && is_gzip_data(head, (size_t)n))) {
		rc = read_gzip(a, fd);
	} else if (n > 0 && is_compressed_data(head, (size_t)n)) {
		close(fd);
		return skip_note(a, path);
	} else {
		rc = rep_read_fd(a, fd);
		close(fd);
	}
	if (rc < 0) {
		fprintf(stderr, "noleak-report: %s: %s\n", path,
			rc == -EBADMSG ? "damaged or truncated gzip data"
				       : strerror(-rc));
		return -1;
	}
	rep_agg_input(a, 0);
	return 0;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int read_dir(struct rep_agg *a, const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "noleak-report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **grown = realloc(names, cap * sizeof *names);
			if (!grown)
				break;
			names = grown;
		}
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (!names[n])
			break;
		sprintf(names[n++], "%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = is_compressed_name(names[i]) && !is_gzip_name(names[i])
				     ? skip_note(a, names[i]) : read_file(a, names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int rep_read_journal(struct rep_agg *a)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "noleak-report: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "noleak-report: fork: %s\n", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		execlp("journalctl", "journalctl", "-o", "json", "--no-pager",
		       "SYSLOG_IDENTIFIER=noleak", (char *)NULL);
		fprintf(stderr, "noleak-report: journalctl: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	int rc = rep_read_fd(a, p[0]);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "noleak-report: journalctl failed\n");
		return -1;
	}
	rep_agg_input(a, 0);
	return 0;
}

int rep_read_path(struct rep_agg *a, const char *path)
{
	struct stat st;
	if (!strcmp(path, "-")) {
		int rc = rep_read_fd(a, 0);
		if (rc < 0) {
			fprintf(stderr, "noleak-report: stdin: %s\n", strerror(-rc));
			return -1;
		}
		rep_agg_input(a, 0);
		return 0;
	}
	if (stat(path, &st) < 0) {
		fprintf(stderr, "noleak-report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return read_dir(a, path);
	if (is_compressed_name(path) && !is_gzip_name(path))
		return skip_note(a, path);
	return read_file(a, path);
}
