/* What kind of program a file is, seen the way the kernel sees it.
 *
 * A preload is applied by the dynamic loader, so it reaches a program only
 * when the kernel starts the loader for it: an ELF file with a PT_INTERP
 * program header.  A static binary (or a static-pie one, which has no
 * PT_INTERP either) never runs the loader, and LD_PRELOAD is silently
 * ignored.  For a script the kernel loads the #! interpreter instead, so the
 * question moves to the interpreter. */
#include "elf.h"
#include "path.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel reads this much of a file to find its #! line (BINPRM_BUF_SIZE
 * since Linux 5.1). */
#define SHEBANG_BUF 256
/* Interpreters the kernel follows before giving up with ELOOP. */
#define SHEBANG_DEPTH 4

/* --- ELF headers, either class and either byte order --- */

static uint64_t get_uint(const unsigned char *p, size_t n, int msb)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[msb ? n - 1 - i : i] << (8 * i);
	return v;
}

/* Where the program headers are, whatever the class. */
struct phdr_table {
	uint64_t off;
	uint64_t entsize;
	uint64_t num;
	uint16_t type;  /* e_type */
};

static int read_phdr_table(const unsigned char *eh, size_t len, int bits,
			   int msb, struct phdr_table *t)
{
	if (bits == 64) {
		if (len < sizeof(Elf64_Ehdr))
			return -1;
		t->type = (uint16_t)get_uint(eh + offsetof(Elf64_Ehdr, e_type), 2, msb);
		t->off = get_uint(eh + offsetof(Elf64_Ehdr, e_phoff), 8, msb);
		t->entsize = get_uint(eh + offsetof(Elf64_Ehdr, e_phentsize), 2, msb);
		t->num = get_uint(eh + offsetof(Elf64_Ehdr, e_phnum), 2, msb);
		return t->entsize < sizeof(Elf64_Phdr) ? -1 : 0;
	}
	if (len < sizeof(Elf32_Ehdr))
		return -1;
	t->type = (uint16_t)get_uint(eh + offsetof(Elf32_Ehdr, e_type), 2, msb);
	t->off = get_uint(eh + offsetof(Elf32_Ehdr, e_phoff), 4, msb);
	t->entsize = get_uint(eh + offsetof(Elf32_Ehdr, e_phentsize), 2, msb);
	t->num = get_uint(eh + offsetof(Elf32_Ehdr, e_phnum), 2, msb);
	return t->entsize < sizeof(Elf32_Phdr) ? -1 : 0;
}

/* Find PT_INTERP; copy the loader path it names into `interp` when there is
 * room (else leave it ""). */
static int find_interp(int fd, const struct phdr_table *t, int bits, int msb,
		       char *interp, size_t cap)
{
	unsigned char ph[sizeof(Elf64_Phdr)];
	size_t len = bits == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	interp[0] = 0;
	for (uint64_t i = 0; i < t->num; i++) {
		off_t at = (off_t)(t->off + i * t->entsize);
		if (pread(fd, ph, len, at) != (ssize_t)len)
			return 0;
		if (get_uint(ph, 4, msb) != PT_INTERP)
			continue;
		uint64_t off = bits == 64
			? get_uint(ph + offsetof(Elf64_Phdr, p_offset), 8, msb)
			: get_uint(ph + offsetof(Elf32_Phdr, p_offset), 4, msb);
		uint64_t size = bits == 64
			? get_uint(ph + offsetof(Elf64_Phdr, p_filesz), 8, msb)
			: get_uint(ph + offsetof(Elf32_Phdr, p_filesz), 4, msb);
		if (size && size <= cap &&
		    pread(fd, interp, size, (off_t)off) == (ssize_t)size)
			interp[size - 1] = 0;
		return 1;
	}
	return 0;
}

/* Whether `fd` is the dynamic loader this launcher runs under.  The loader
 * has no PT_INTERP of its own, yet run as a command (ld.so PROGRAM) it
 * honours LD_PRELOAD for the program it loads. */
static int is_own_loader(int fd)
{
	static char own[PATH_MAX];
	struct stat a, b;
	if (!own[0]) {
		int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		unsigned char head[sizeof(Elf64_Ehdr)] = { 0 };
		struct phdr_table t;
		int bits = 8 * (int)sizeof(void *);
		int ok = self >= 0 &&
			 pread(self, head, sizeof head, 0) == (ssize_t)sizeof head;
		int msb = head[EI_DATA] == ELFDATA2MSB;
		ok = ok && read_phdr_table(head, sizeof head, bits, msb, &t) == 0 &&
		     find_interp(self, &t, bits, msb, own, sizeof own);
		if (self >= 0)
			close(self);
		if (!ok || !own[0])
			return 0;
	}
	return fstat(fd, &a) == 0 && stat(own, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static enum noleak_exe_kind elf_kind(int fd, const unsigned char *head,
				     size_t len, int *elf_bits)
{
	int bits = head[EI_CLASS] == ELFCLASS64 ? 64
		 : head[EI_CLASS] == ELFCLASS32 ? 32 : 0;
	int msb = head[EI_DATA] == ELFDATA2MSB;
	struct phdr_table t;
	char interp[PATH_MAX];
	if (!bits || read_phdr_table(head, len, bits, msb, &t) < 0)
		return NL_EXE_OTHER;
	/* Relocatable objects and core files are ELF but not programs. */
	if (t.type != ET_EXEC && t.type != ET_DYN)
		return NL_EXE_OTHER;
	if (elf_bits)
		*elf_bits = bits;
	if (find_interp(fd, &t, bits, msb, interp, sizeof interp) ||
	    is_own_loader(fd))
		return NL_EXE_DYNAMIC;
	return NL_EXE_STATIC;
}

enum noleak_exe_kind noleak_exe_kind(const char *path, int *elf_bits)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NL_EXE_UNREADABLE;
	unsigned char head[sizeof(Elf64_Ehdr)];
	ssize_t n = pread(fd, head, sizeof head, 0);
	enum noleak_exe_kind kind = NL_EXE_OTHER;
	if (n < 0)
		kind = NL_EXE_UNREADABLE;
	else if (n >= 2 && head[0] == '#' && head[1] == '!')
		kind = NL_EXE_SCRIPT;
	else if (n >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG))
		kind = elf_kind(fd, head, (size_t)n, elf_bits);
	close(fd);
	return kind;
}

/* --- #! lines --- */

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static int copy_span(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

int noleak_shebang(const char *path, char *interp, size_t icap, char *arg,
		   size_t acap)
{
	char buf[SHEBANG_BUF + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, buf, SHEBANG_BUF, 0);
	close(fd);
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return -1;
	buf[n] = 0;
	char *end = strchr(buf, '\n');
	if (!end)
		end = buf + n;  /* a line longer than the kernel reads */
	*end = 0;
	char *p = buf + 2;
	while (is_blank(*p))
		p++;
	char *name = p;
	while (*p && !is_blank(*p))
		p++;
	if (p == name || copy_span(interp, icap, name, (size_t)(p - name)) < 0)
		return -1;
	while (is_blank(*p))
		p++;
	/* Linux passes the rest of the line as one argument, blanks and all,
	 * trimmed at both ends. */
	char *last = end;
	while (last > p && (is_blank(last[-1]) || last[-1] == '\r'))
		last--;
	return copy_span(arg, acap, p, (size_t)(last - p));
}

/* --- following the chain of interpreters --- */

static int is_env(const char *interp)
{
	const char *slash = strrchr(interp, '/');
	return !strcmp(slash ? slash + 1 : interp, "env");
}

/* The program `#!/usr/bin/env ARG` runs: the first word of ARG that is not
 * an option of env(1) or a NAME=VALUE assignment.  ARG is split on blanks,
 * which is what `env -S` does with it; without -S a blank in ARG would make
 * env look for a program named with the blank, and fail anyway. */
static int env_program(const char *arg, char *out, size_t cap)
{
	char words[SHEBANG_BUF];
	if (copy_span(words, sizeof words, arg, strlen(arg)) < 0)
		return -1;
	int skip_next = 0, options_done = 0;
	for (char *save = NULL, *w = strtok_r(words, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (skip_next) {
			skip_next = 0;
			continue;
		}
		if (!options_done && w[0] == '-') {
			if (!strcmp(w, "--"))
				options_done = 1;
			/* options that take the next word as their value */
			skip_next = !strcmp(w, "-u") || !strcmp(w, "-C") ||
				    !strcmp(w, "--unset") || !strcmp(w, "--chdir");
			continue;
		}
		if (strchr(w, '='))
			continue;
		return noleak_find_command(w, out, cap) == 0 ? 0 : -1;
	}
	return -1;
}

/* The program the kernel loads in place of script `path`, in `next`. */
static int interpreter_of(const char *path, char *next, size_t cap)
{
	char interp[SHEBANG_BUF], arg[SHEBANG_BUF];
	if (noleak_shebang(path, interp, sizeof interp, arg, sizeof arg) < 0)
		return -1;
	/* env itself passes the environment through, whatever kind of
	 * program it is: the program it runs is what must load the preload. */
	if (is_env(interp) && env_program(arg, next, cap) == 0)
		return 0;
	return copy_span(next, cap, interp, strlen(interp));
}

enum noleak_exe_kind noleak_loaded_program(const char *path, char *out,
					   size_t cap, int *elf_bits)
{
	if (copy_span(out, cap, path, strlen(path)) < 0)
		return NL_EXE_UNREADABLE;
	for (int depth = 0; depth <= SHEBANG_DEPTH; depth++) {
		enum noleak_exe_kind kind = noleak_exe_kind(out, elf_bits);
		if (kind != NL_EXE_SCRIPT)
			return kind;
		char next[4096];
		if (interpreter_of(out, next, sizeof next) < 0)
			return NL_EXE_UNREADABLE;
		if (copy_span(out, cap, next, strlen(next)) < 0)
			return NL_EXE_UNREADABLE;
	}
	/* Deeper than the kernel follows: exec will fail on its own. */
	return NL_EXE_UNREADABLE;
}
