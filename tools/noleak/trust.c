/* The trust checks and the test load of a library named in
 * /etc/ld.so.preload (see trust.h). */
#include "trust.h"
#include "inroot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/target.h"

#define TEST_LOAD_SECONDS 10

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

int noleak_root_only(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int noleak_refuse_component(const char *what, const char *path,
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

/* Each directory above `path`, as written: each prefix, its links followed
 * (inside the tree), so that the directory a link stands in and the one it
 * leads to are both judged.  Messages name host paths. */
static int check_prefixes(const struct nl_root *r, const char *path, char *why,
			  size_t cap)
{
	char prefix[PATH_MAX], host[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof prefix)
		return blame(why, cap, "path too long: %s", path);
	for (size_t i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		memcpy(prefix, path, i ? i : 1);
		prefix[i ? i : 1] = 0;
		struct stat st;
		int err = inroot_path(r, prefix, host, sizeof host);
		if (err || stat(host, &st) < 0)
			return blame(why, cap, "%s: %s", err ? prefix : host,
				     strerror(err ? -err : errno));
		if (!S_ISDIR(st.st_mode))
			return blame(why, cap, "%s is not a directory", host);
		if (!dir_is_safe(&st))
			return noleak_refuse_component("directory", host, &st, why, cap);
	}
	return 0;
}

int noleak_check_parents(const struct nl_root *r, const char *path, char *why,
			 size_t cap)
{
	if (check_prefixes(r, path, why, cap) < 0)
		return -1;
	/* Under a tree, the tree itself and the directories above it on
	 * the host: whoever can change those can change the whole image. */
	char host[PATH_MAX];
	if (r->fd < 0 || inroot_path(r, "/", host, sizeof host) < 0)
		return 0;
	return check_prefixes(&nl_root_host, host, why, cap);
}

int noleak_check_trusted(const struct nl_root *r, const char *path, char *why,
			 size_t cap)
{
	char host[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int err = inroot_path(r, path, host, sizeof host);
	if (err || stat(host, &st) < 0)
		return blame(why, cap, "%s: %s", err ? path : host,
			     strerror(err ? -err : errno));
	if (!S_ISREG(st.st_mode))
		return blame(why, cap, "%s is not a regular file", host);
	if (!noleak_root_only(&st))
		return noleak_refuse_component("library", host, &st, why, cap);
	if (noleak_check_parents(r, path, why, cap) < 0)
		return -1;
	if (!realpath(host, real))
		return blame(why, cap, "%s: %s", host, strerror(errno));
	return check_prefixes(&nl_root_host, real, why, cap);
}

/* ------------------------------------------------ builds for another ABI */

int noleak_elf_abi(const char *path, struct noleak_abi *abi, char *why, size_t cap)
{
	unsigned char h[EI_NIDENT + 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return blame(why, cap, "%s: %s", path, strerror(errno));
	ssize_t n = pread(fd, h, sizeof h, 0);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h, ELFMAG, SELFMAG) ||
	    (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64) ||
	    (h[EI_DATA] != ELFDATA2LSB && h[EI_DATA] != ELFDATA2MSB))
		return blame(why, cap, "%s is not an ELF file", path);
	int msb = h[EI_DATA] == ELFDATA2MSB;
	unsigned type = msb ? (unsigned)h[16] << 8 | h[17] : (unsigned)h[17] << 8 | h[16];
	unsigned machine = msb ? (unsigned)h[18] << 8 | h[19] : (unsigned)h[19] << 8 | h[18];
	*abi = (struct noleak_abi){ h[EI_CLASS] == ELFCLASS64 ? 64 : 32,
				    (int)machine, type == ET_DYN };
	return 0;
}

void noleak_abi_text(const struct noleak_abi *abi, char *out, size_t cap)
{
	static const struct { int machine; const char *name; } names[] = {
		{ EM_386, "i386" }, { EM_X86_64, "x86-64" }, { EM_AARCH64, "aarch64" },
		{ EM_ARM, "arm" }, { EM_RISCV, "riscv" }, { EM_PPC64, "ppc64" },
		{ EM_S390, "s390" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].machine == abi->machine) {
			snprintf(out, cap, "%d-bit %s", abi->bits, names[i].name);
			return;
		}
	snprintf(out, cap, "%d-bit machine %d", abi->bits, abi->machine);
}

int noleak_check_build(const struct nl_root *r, const char *path,
		       const struct noleak_abi *want, char *why, size_t cap)
{
	struct noleak_abi abi;
	struct stat st;
	char host[PATH_MAX];
	int err = inroot_path(r, path, host, sizeof host);
	if (err || stat(host, &st) < 0)
		return blame(why, cap, "%s: %s", err ? path : host,
			     strerror(err ? -err : errno));
	if (noleak_elf_abi(host, &abi, why, cap) < 0)
		return -1;
	if (!abi.shared)
		return blame(why, cap, "%s is not a shared object", host);
	if (want && (abi.bits != want->bits || abi.machine != want->machine)) {
		char have[64], need[64];
		noleak_abi_text(&abi, have, sizeof have);
		noleak_abi_text(want, need, sizeof need);
		return blame(why, cap, "%s is built for %s, its programs are %s",
			     host, have, need);
	}
	if ((st.st_mode & 0444) != 0444)
		return blame(why, cap, "%s is not readable by every user (mode %04o)",
			     host, (unsigned)(st.st_mode & 07777));
	return noleak_check_trusted(r, path, why, cap);
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
#ifdef NL_LIBC_MUSL
	syscall(SYS_close_range, 3U, ~0U, 0U);  /* musl has no closefrom */
#else
	closefrom(3);
#endif
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

int noleak_test_load(const char *lib, char *why, size_t cap)
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
