/* noleak enable | disable | status: libnoleak for the whole host, through
 * /etc/ld.so.preload.
 *
 *   noleak enable  [--root DIR] [--lib PATH] [--libdir DIR]
 *   noleak disable [--root DIR] [--libdir DIR] [--purge]
 *   noleak status  [--root DIR] [--lib PATH] [--libdir DIR]
 *
 * With --unit NAME.service the three act on one systemd service instead
 * (unit.c); --now, --audit and --set KEY=VALUE belong to that form.
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
 * chroot, a test): files are read and written below DIR, each path
 * resolved as once DIR is the root, so that no link of the image leads out
 * of it (inroot.h), while the entry names the path ld.so sees then.
 *
 * Other ABIs: a host may run programs of another ABI beside its own (a
 * 64-bit Debian with libc6-i386 or libc6:i386), each with its libc in the
 * directory its ld.so calls $LIB (lib/<multiarch>, lib32, lib64, libx32,
 * lib).  When a build of libnoleak for another ABI is installed in
 * /usr/<its $LIB>/ (make install), enable writes the one entry
 * /usr/$LIB/libnoleak.so, which each program's ld.so expands to its own
 * build; with this ABI's build alone it writes the plain path.  status
 * checks the build of each ABI whose libc is installed when the entry
 * names $LIB: one that is missing or wrong makes every program of that
 * ABI print a loader error.
 *
 * This file holds the three actions and the file operations they share;
 * the file's text is parsed and rewritten by ldpreload.c (pure, unit
 * tested), the library is judged and test-loaded by trust.c. */
#include "noleak.h"
#include "inroot.h"
#include "ldpreload.h"
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <link.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PRELOAD_FILE "/etc/ld.so.preload"
#define PRELOAD_NAME "ld.so.preload"   /* the same, in its directory */
/* ld.so reads the whole file; anything larger than this is not a list of
 * libraries someone maintains by hand. */
#define PRELOAD_MAX (1 << 20)

/* Status exit codes (enable and disable use 0 and NL_EXIT_USAGE). */
enum { ST_ENABLED = 0, ST_DISABLED = 1, ST_PROBLEM = 2 };

struct preload_opts {
	const char *root;    /* "/" or a tree */
	const char *lib;     /* enable: the library to install; NULL: bundled */
	const char *libdir;  /* where it is installed; NULL: libc's directory */
	int purge;           /* disable: remove the installed library too */
	/* --unit NAME.service and what belongs to it (unit.c) */
	const char *unit;
	int now;
	struct noleak_setting *settings;
	size_t n_settings;
};

static void owner_text(const struct stat *st, char *out, size_t cap);

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

/* ---------------------------------------------------------------- paths */

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

/* The library shipped with this noleak: next to it (the build tree) or in
 * ../lib or ../lib/<multiarch> (make install's $PREFIX/bin and
 * $PREFIX/lib/<multiarch>). */
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
	static const char *const rel[] = { "/" NL_LIB_NAME, "/../lib/" NL_LIB_NAME,
					   "/../lib/" NL_MULTIARCH "/" NL_LIB_NAME };
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char cand[PATH_MAX + 32];
		struct stat st;
		snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && realpath(cand, out))
			return 0;
	}
	return -1;
}

/* ------------------------------------------------------ file operations */

/* Files under the root are reached through a descriptor of their
 * directory, opened inside the root (inroot.h); host files (the library
 * to install, one resolved by inroot_path) with AT_FDCWD. */

/* Whole file into a fresh NUL-terminated buffer.  0 with *len, -errno. */
static int read_file_at(int dir, const char *name, int flags, char **data,
			size_t *len, size_t max)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | flags);
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

static int read_file(const char *path, char **data, size_t *len, size_t max)
{
	return read_file_at(AT_FDCWD, path, 0, data, len, max);
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

/* A new file ".NAME.XXXXXX" in `dir` (mkostemp's pattern, made with
 * openat): its name is left in `tmp`. */
static int create_temp(int dir, const char *name, char *tmp, size_t cap)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return -1;
		int n = snprintf(tmp, cap, ".%s.", name);
		if (n < 0 || (size_t)n + sizeof rnd >= cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		for (size_t i = 0; i < sizeof rnd; i++)
			tmp[n + i] = alnum[rnd[i] % (sizeof alnum - 1)];
		tmp[n + sizeof rnd] = 0;
		int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					  O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* A temporary file beside `name` in `dir` (same directory, so that rename
 * is atomic), holding `data`, root-owned with `mode`, on disk.  Its name
 * is left in `tmp`. */
static int write_temp(int dir, const char *name, const char *data, size_t len,
		      mode_t mode, char *tmp, size_t cap)
{
	int fd = create_temp(dir, name, tmp, cap);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    fchown(fd, 0, 0) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dir, tmp, 0);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int commit_temp(int dir, const char *tmp, const char *name)
{
	if (renameat(dir, tmp, dir, name) < 0) {
		int e = errno;
		unlinkat(dir, tmp, 0);
		errno = e;
		return -1;
	}
	return fsync(dir);
}

/* Replace `name` in `dir` with `data` in one step: a reader sees the old
 * file or the new one, never a mix, even after a crash. */
static int write_atomic(int dir, const char *name, const char *data, size_t len,
			mode_t mode)
{
	char tmp[NAME_MAX + 1];
	if (write_temp(dir, name, data, len, mode, tmp, sizeof tmp) < 0)
		return -1;
	return commit_temp(dir, tmp, name);
}

/* -------------------------------------------------------- the context */

struct preload_ctx {
	struct preload_opts o;
	struct nl_root root;        /* --root, paths resolved inside it */
	struct noleak_abi abi;      /* this process's: the host's own */
	char libdir[PATH_MAX];      /* where the library goes, as ld.so sees it */
	char syslibdir[PATH_MAX];   /* libc's directory: what $LIB stands for */
	struct ldpreload_env env;   /* $LIB and $PLATFORM for this process */
	char entry[PATH_MAX];       /* <libdir>/libnoleak.so */
	char own[PATH_MAX];         /* the same, even once entry names $LIB */
	char installed[PATH_MAX];   /* own, its host path (for messages) */
	int etc;                    /* the directory of /etc/ld.so.preload, or -1 */
	char file[PATH_MAX];        /* /etc/ld.so.preload, its host path */
	char *data;                 /* its contents ("" when absent) */
	size_t len;
	int exists;
};

static int load_ctx(struct preload_ctx *c)
{
	c->etc = -1;
	if (system_libdir(c->syslibdir) < 0) {
		say(stderr, "cannot tell the system library directory: libc.so.6 not found among the loaded objects");
		return -1;
	}
	c->env.syslibdir = c->syslibdir;
	char why[1024];
	if (noleak_elf_abi("/proc/self/exe", &c->abi, why, sizeof why) < 0) {
		say(stderr, "cannot tell this host's ABI: %s", why);
		return -1;
	}
	c->env.platform = (const char *)getauxval(AT_PLATFORM);
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
			     NL_LIB_NAME) >= sizeof c->entry) {
		say(stderr, "path too long: %s", c->libdir);
		return -1;
	}
	memcpy(c->own, c->entry, sizeof c->own);
	snprintf(c->installed, sizeof c->installed, "%s%s",
		 strcmp(c->o.root, "/") ? c->o.root : "", c->own);
	if (inroot_init(&c->root, c->o.root) < 0) {
		say(stderr, "cannot open %s: %s%s", c->o.root, strerror(errno),
		    errno == ENOSYS ? " (--root needs openat2, Linux 5.6)" : "");
		return -1;
	}
	const char *name;
	c->etc = inroot_parent(&c->root, PRELOAD_FILE, 0, &name, c->file, sizeof c->file);
	if (c->etc < 0) {
		/* No /etc: no file, and enable says it cannot write one. */
		snprintf(c->file, sizeof c->file, "%s%s",
			 strcmp(c->o.root, "/") ? c->o.root : "", PRELOAD_FILE);
		if (errno != ENOENT) {
			say(stderr, "cannot open the directory of %s: %s", c->file,
			    strerror(errno));
			return -1;
		}
	}
	struct stat st;
	if (c->etc >= 0 && fstatat(c->etc, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		say(stderr, "%s is a symbolic link; not touching it", c->file);
		return -1;
	}
	int r = c->etc < 0 ? -ENOENT
			   : read_file_at(c->etc, name, O_NOFOLLOW, &c->data, &c->len,
					  PRELOAD_MAX);
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
	if (!c->exists || fstatat(c->etc, PRELOAD_NAME, &st, 0) < 0)
		return 0;
	if (!noleak_root_only(&st))
		return noleak_refuse_component("file", PRELOAD_FILE, &st, why, cap);
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

/* ---------------------------------------------------------- other ABIs */

#define LIB_ENTRY "/usr/$LIB/" NL_LIB_NAME
#define MAX_ABIS 32   /* library directories looked at, at most */

/* One library directory of another ABI, by what $LIB stands for there. */
struct abi_dir {
	char lib[80];           /* "lib32", "lib/i386-linux-gnu" */
	char libc[96];          /* its libc.so.6, as seen from the root */
	struct noleak_abi abi;  /* the libc's */
};

static int add_lib(char (*libs)[80], size_t *n, const char *lib)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(libs[i], lib))
			return 0;
	if (*n >= MAX_ABIS || strlen(lib) >= sizeof libs[0])
		return 0;
	snprintf(libs[(*n)++], sizeof libs[0], "%s", lib);
	return 0;
}

/* What $LIB may stand for under the root, other than this ABI's:
 * lib/<multiarch> for each such directory in /usr/lib or /lib, and the
 * multilib names. */
static size_t other_libs(const struct preload_ctx *c, char (*libs)[80])
{
	static const char *const multilib[] = { "lib32", "lib64", "libx32", "lib" };
	static const char *const bases[] = { "/usr/lib", "/lib" };
	size_t n = 0;
	for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
		int fd = inroot_open(&c->root, bases[b], O_RDONLY | O_DIRECTORY, 0);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (fd >= 0 && !d)
			close(fd);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char lib[sizeof "lib/" + sizeof e->d_name];
			if (e->d_name[0] == '.' || !strstr(e->d_name, "-linux-"))
				continue;
			snprintf(lib, sizeof lib, "lib/%s", e->d_name);
			add_lib(libs, &n, lib);
		}
		if (d)
			closedir(d);
	}
	for (size_t i = 0; i < sizeof multilib / sizeof multilib[0]; i++)
		add_lib(libs, &n, multilib[i]);
	const char *own = ldpreload_lib_token(c->syslibdir);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(libs[i], own))
			memmove(libs[i], libs[i + 1], (--n - i) * sizeof libs[0]);
	return n;
}

static int same_abi(const struct noleak_abi *a, const struct noleak_abi *b)
{
	return a->bits == b->bits && a->machine == b->machine;
}

/* The libcs of other ABIs under the root (/usr/<lib>/libc.so.6, or
 * /<lib>/libc.so.6 without a merged /usr): their programs read the same
 * /etc/ld.so.preload. */
static size_t foreign_libcs(const struct preload_ctx *c, struct abi_dir *out)
{
	char libs[MAX_ABIS][80], why[1024];
	size_t n = other_libs(c, libs), found = 0;
	for (size_t i = 0; i < n; i++) {
		static const char *const where[] = { "/usr/", "/" };
		for (size_t w = 0; w < 2; w++) {
			struct abi_dir *a = &out[found];
			char here[PATH_MAX];
			int len = snprintf(a->libc, sizeof a->libc, "%s%s/libc.so.6",
					   where[w], libs[i]);
			if (len < 0 || (size_t)len >= sizeof a->libc ||
			    inroot_path(&c->root, a->libc, here, sizeof here) < 0 ||
			    access(here, F_OK) < 0 ||
			    noleak_elf_abi(here, &a->abi, why, sizeof why) < 0 ||
			    same_abi(&a->abi, &c->abi))
				continue;
			memcpy(a->lib, libs[i], sizeof a->lib);
			found++;
			break;
		}
	}
	return found;
}

/* The build /usr/<lib>/libnoleak.so of one ABI, as ld.so opens it and
 * from here. */
static int build_path(const struct preload_ctx *c, const char *lib,
		      char *entry, char *here)
{
	if ((size_t)snprintf(entry, PATH_MAX, "/usr/%s/%s", lib, NL_LIB_NAME) >= PATH_MAX)
		return -1;
	return inroot_path(&c->root, entry, here, PATH_MAX);
}

/* enable: the builds for other ABIs installed under the root.  Each must
 * pass noleak_check_build (for the ABI of the libc beside it, if any);
 * a copy built for this ABI is not another build.  Returns how many, or
 * -1 after saying why one is refused. */
static int other_builds(const struct preload_ctx *c)
{
	char libs[MAX_ABIS][80], entry[PATH_MAX], here[PATH_MAX], why[1024];
	struct abi_dir libcs[MAX_ABIS];
	size_t n = other_libs(c, libs), nl = foreign_libcs(c, libcs);
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		struct noleak_abi abi;
		if (build_path(c, libs[i], entry, here) < 0 || access(here, F_OK) < 0)
			continue;
		if (noleak_elf_abi(here, &abi, why, sizeof why) == 0 && same_abi(&abi, &c->abi))
			continue;
		const struct noleak_abi *want = NULL;
		for (size_t k = 0; k < nl; k++)
			if (!strcmp(libcs[k].lib, libs[i]))
				want = &libcs[k].abi;
		if (noleak_check_build(&c->root, entry, want, why, sizeof why) < 0) {
			say(stderr, "refusing the entry %s: the build for %s: %s", LIB_ENTRY,
			    libs[i], why);
			return -1;
		}
		char text[64];
		noleak_abi_text(&abi, text, sizeof text);
		say(stdout, "another build: %s (%s)", entry, text);
		count++;
	}
	return count;
}

/* status: the build of each other ABI whose libc is installed, when the
 * entry `tok` names $LIB (expands differently per ABI). */
static int check_other_builds(const struct preload_ctx *c, const char *tok,
			      size_t tlen, const char *own)
{
	struct abi_dir libcs[MAX_ABIS];
	size_t n = foreign_libcs(c, libcs);
	int worst = ST_ENABLED;
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX], exp[PATH_MAX], here[PATH_MAX], why[1024], text[64];
		int len = snprintf(dir, sizeof dir, "/usr/%s", libcs[i].lib);
		if (len < 0 || (size_t)len >= sizeof dir)
			continue;
		struct ldpreload_env env = { dir, c->env.platform };
		ldpreload_expand(tok, tlen, &env, exp, sizeof exp);
		if (!strcmp(exp, own))
			continue;   /* no $LIB: the same file for every ABI */
		noleak_abi_text(&libcs[i].abi, text, sizeof text);
		if (noleak_check_build(&c->root, exp, &libcs[i].abi, why, sizeof why) < 0 ||
		    inroot_path(&c->root, exp, here, sizeof here) < 0) {
			say(stdout, "problem: the build for %s programs (%s): %s (every one of them prints a loader error about %s)",
			    text, libcs[i].libc, why, PRELOAD_FILE);
			worst = ST_PROBLEM;
			continue;
		}
		struct stat st;
		char owner[160];
		stat(here, &st);
		owner_text(&st, owner, sizeof owner);
		say(stdout, "library: %s, for %s programs (%s), owner %s, mode %04o, %lld bytes",
		    exp, text, libcs[i].libc, owner, (unsigned)(st.st_mode & 07777),
		    (long long)st.st_size);
	}
	return worst;
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
	char why[1024], tmp[NAME_MAX + 1], dir[PATH_MAX], have[PATH_MAX];
	const char *name;
	snprintf(dir, sizeof dir, "%s", c->installed);
	*strrchr(dir, '/') = 0;
	int fd = inroot_parent(&c->root, c->own, 1, &name, c->installed,
			       sizeof c->installed);
	if (fd < 0) {
		say(stderr, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof dir, "%s", c->installed);
	*strrchr(dir, '/') = 0;
	int r = -1;
	if (noleak_check_parents(&c->root, c->own, why, sizeof why) < 0) {
		say(stderr, "refusing to install into %s: %s", dir, why);
		goto out;
	}
	/* What is there now, its links followed inside the root. */
	int present = inroot_path(&c->root, c->own, have, sizeof have) == 0;
	char real_src[PATH_MAX], real_dst[PATH_MAX];
	struct stat st;
	if (present && ((realpath(src, real_src) && realpath(have, real_dst) &&
			 !strcmp(real_src, real_dst)) ||
			(stat(have, &st) == 0 && noleak_root_only(&st) &&
			 same_contents(src, have)))) {
		r = 0;
		goto out;
	}
	char *data;
	size_t len;
	int err = read_file(src, &data, &len, 256u << 20);
	if (err < 0) {
		say(stderr, "cannot read %s: %s", src, strerror(-err));
		goto out;
	}
	err = write_temp(fd, name, data, len, 0644, tmp, sizeof tmp);
	free(data);
	if (err < 0) {
		say(stderr, "cannot write into %s: %s", dir, strerror(errno));
		goto out;
	}
	char tmp_path[PATH_MAX + NAME_MAX + 2];
	snprintf(tmp_path, sizeof tmp_path, "%s/%s", dir, tmp);
	if (noleak_test_load(tmp_path, why, sizeof why) < 0) {
		unlinkat(fd, tmp, 0);
		say(stderr, "refusing %s: %s", src, why);
		goto out;
	}
	if (commit_temp(fd, tmp, name) < 0) {
		say(stderr, "cannot install %s: %s", c->installed, strerror(errno));
		goto out;
	}
	say(stdout, "installed %s as %s", src, c->installed);
	r = 0;
out:
	close(fd);
	return r;
}

static void say_replacing(const char *tok, size_t tlen, void *ctx)
{
	(void)ctx;
	say(stdout, "replacing the entry %.*s", (int)tlen, tok);
}

static int find_source(const struct preload_ctx *c, char *src)
{
	if (c->o.lib) {
		snprintf(src, PATH_MAX, "%s", c->o.lib);
	} else if (bundled_library(src) < 0) {
		say(stderr, "no %s next to noleak or in ../lib; name one with --lib PATH", NL_LIB_NAME);
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
	if (!ldpreload_safe_chars(c->entry)) {
		say(stderr, "refusing %s: ld.so.preload entries cannot contain blanks, ':' or '#'", c->entry);
		return NL_EXIT_USAGE;
	}
	if (find_source(c, src) < 0 || install_library(c, src) < 0)
		return NL_EXIT_USAGE;
	if (noleak_check_trusted(&c->root, c->own, why, sizeof why) < 0) {
		say(stderr, "refusing %s: %s", c->installed, why);
		return NL_EXIT_USAGE;
	}
	char here[PATH_MAX];
	int err = inroot_path(&c->root, c->own, here, sizeof here);
	if (err || noleak_test_load(here, why, sizeof why) < 0) {
		say(stderr, "refusing %s: %s", c->installed, err ? strerror(-err) : why);
		return NL_EXIT_USAGE;
	}
	/* Builds for other ABIs beside this one's in /usr/<$LIB>/: one entry
	 * for all, when this one is /usr/$LIB's too. */
	const char *own = ldpreload_lib_token(c->syslibdir);
	if (!strncmp(c->libdir, "/usr/", 5) && !strcmp(c->libdir + 5, own)) {
		int others = other_builds(c);
		if (others < 0)
			return NL_EXIT_USAGE;
		if (others > 0)
			snprintf(c->entry, sizeof c->entry, "%s", LIB_ENTRY);
	}
	struct ldpreload_edit out;
	if (ldpreload_add(c->data, c->len, c->entry, &c->env, say_replacing, NULL,
			  &out) < 0) {
		say(stderr, "out of memory");
		return NL_EXIT_USAGE;
	}
	/* An unsafe file is rewritten root-owned, 0644, even when its
	 * contents stay. */
	if (out.kept && !out.dropped && preload_file_safe(c, why, sizeof why) == 0) {
		say(stdout, "already enabled: %s in %s", c->entry, PRELOAD_FILE);
		free(out.text);
		return 0;
	}
	if (c->etc < 0 || write_atomic(c->etc, PRELOAD_NAME, out.text, out.len, 0644) < 0) {
		say(stderr, "cannot write %s: %s", c->file, strerror(c->etc < 0 ? ENOENT : errno));
		free(out.text);
		return NL_EXIT_USAGE;
	}
	free(out.text);
	say(stdout, "enabled: %s loads %s into every program started from now on",
	    PRELOAD_FILE, c->entry);
	return 0;
}

/* ------------------------------------------------------------ disable */

static int purge_library(struct preload_ctx *c)
{
	const char *name;
	int fd = inroot_parent(&c->root, c->own, 0, &name, c->installed,
			       sizeof c->installed);
	int r = fd < 0 ? -1 : unlinkat(fd, name, 0);
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (r < 0 && e != ENOENT) {
		say(stderr, "cannot remove %s: %s", c->installed, strerror(e));
		return NL_EXIT_USAGE;
	}
	say(stdout, "removed %s", c->installed);
	return 0;
}

static int do_disable(struct preload_ctx *c)
{
	struct ldpreload_edit out;
	if (ldpreload_remove(c->data, c->len, &out) < 0) {
		say(stderr, "out of memory");
		return NL_EXIT_USAGE;
	}
	int dropped = out.dropped, r = 0;
	if (!dropped) {
		say(stdout, "already disabled: no %s entry in %s", NL_LIB_NAME, PRELOAD_FILE);
	} else if (ldpreload_is_blank(out.text, out.len)) {
		/* Nothing else was in it (blank lines alone are not worth a
		 * file): leave no empty file behind. */
		if (unlinkat(c->etc, PRELOAD_NAME, 0) < 0 || fsync(c->etc) < 0) {
			say(stderr, "cannot remove %s: %s", c->file, strerror(errno));
			r = NL_EXIT_USAGE;
		}
	} else if (write_atomic(c->etc, PRELOAD_NAME, out.text, out.len, 0644) < 0) {
		say(stderr, "cannot write %s: %s", c->file, strerror(errno));
		r = NL_EXIT_USAGE;
	}
	free(out.text);
	if (r)
		return r;
	if (dropped)
		say(stdout, "disabled: %s no longer loads %s (running programs keep it until they exit)",
		    PRELOAD_FILE, NL_LIB_NAME);
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

/* One of our entries, for this ABI: does it name a library that loads and
 * is safe?  The path it names is left in `exp`. */
static int check_own(const struct preload_ctx *c, const char *tok, size_t tlen,
		     size_t lineno, char *exp)
{
	char here[PATH_MAX], why[1024];
	ldpreload_expand(tok, tlen, &c->env, exp, PATH_MAX);
	int expanded = strlen(exp) != tlen || memcmp(exp, tok, tlen);
	say(stdout, "enabled: %s line %zu: %.*s%s%s", PRELOAD_FILE, lineno,
	    (int)tlen, tok, expanded ? ", for this architecture " : "",
	    expanded ? exp : "");
	struct stat st;
	int err = inroot_path(&c->root, exp, here, sizeof here);
	if (err || stat(here, &st) < 0) {
		say(stdout, "problem: %s: %s (every program on the host prints an error about it)",
		    exp, strerror(err ? -err : errno));
		return ST_PROBLEM;
	}
	char version[PATH_MAX + 64], owner[160];
	library_version(c, here, version, sizeof version);
	owner_text(&st, owner, sizeof owner);
	say(stdout, "library: %s, version %s, owner %s, mode %04o, %lld bytes", exp,
	    version, owner, (unsigned)(st.st_mode & 07777), (long long)st.st_size);
	if (noleak_check_trusted(&c->root, exp, why, sizeof why) < 0) {
		say(stdout, "problem: %s", why);
		return ST_PROBLEM;
	}
	if (noleak_test_load(here, why, sizeof why) < 0) {
		say(stdout, "problem: %s: %s", exp, why);
		return ST_PROBLEM;
	}
	return ST_ENABLED;
}

/* One of our entries: this ABI's library, and each other ABI's build when
 * the entry names $LIB. */
static int check_entry(const struct preload_ctx *c, const char *tok, size_t tlen,
		       size_t lineno)
{
	char exp[PATH_MAX];
	int own = check_own(c, tok, tlen, lineno, exp);
	int others = check_other_builds(c, tok, tlen, exp);
	return own != ST_ENABLED ? own : others;
}

/* Someone else's entry that names nothing: not ours to fix, but every
 * program on the host complains about it. */
static void warn_stale(const struct preload_ctx *c, const char *tok, size_t tlen)
{
	char exp[PATH_MAX], here[PATH_MAX];
	ldpreload_expand(tok, tlen, &c->env, exp, sizeof exp);
	int err = inroot_path(&c->root, exp, here, sizeof here);
	if (err == -ENOENT || (!err && access(here, F_OK) < 0 && errno == ENOENT))
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
	struct ldpreload_line *lines = calloc(c->len + 1, sizeof *lines);
	if (!lines)
		return ST_PROBLEM;
	size_t n = ldpreload_split(c->data, c->len, lines, c->len + 1);
	int found = 0, worst = ST_ENABLED;
	for (size_t i = 0; i < n; i++) {
		size_t pos = 0, tlen;
		const char *tok;
		while (ldpreload_next_entry(&lines[i], &pos, &tok, &tlen)) {
			if (!ldpreload_is_ours(tok, tlen)) {
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
		say(stdout, "not enabled: no %s entry in %s", NL_LIB_NAME, c->file);
		return file_ok ? ST_DISABLED : ST_PROBLEM;
	}
	if (!file_ok)
		return ST_PROBLEM;
	if (worst == ST_ENABLED)
		say(stdout, "healthy: every new program loads %s", NL_LIB_NAME);
	return worst;
}

/* -------------------------------------------------------- entry points */

enum { OPT_ROOT = 256, OPT_LIB, OPT_LIBDIR, OPT_PURGE, OPT_UNIT, OPT_NOW,
       OPT_AUDIT, OPT_SET };

static const struct option preload_options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "lib", required_argument, NULL, OPT_LIB },
	{ "libdir", required_argument, NULL, OPT_LIBDIR },
	{ "purge", no_argument, NULL, OPT_PURGE },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "now", no_argument, NULL, OPT_NOW },
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "set", required_argument, NULL, OPT_SET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char preload_usage[] =
	"usage: noleak enable  [--root DIR] [--lib PATH] [--libdir DIR]\n"
	"       noleak disable [--root DIR] [--libdir DIR] [--purge]\n"
	"       noleak status  [--root DIR] [--lib PATH] [--libdir DIR]\n"
	"       noleak enable  --unit NAME.service [--root DIR] [--lib PATH]\n"
	"                      [--audit] [--set KEY=VALUE]... [--now]\n"
	"       noleak disable --unit NAME.service [--root DIR] [--now]\n"
	"       noleak status  --unit NAME.service [--root DIR]\n";

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
		case OPT_UNIT:
			o->unit = optarg;
			break;
		case OPT_NOW:
			o->now = 1;
			break;
		case OPT_AUDIT:
		case OPT_SET: {
			if (strcmp(cmd, "enable"))
				return usage(cmd, "--audit and --set belong to enable --unit", NULL);
			struct noleak_setting *s = &o->settings[o->n_settings++];
			if (opt == OPT_AUDIT) {
				*s = (struct noleak_setting){ "mode", "audit", "--audit" };
				break;
			}
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return usage(cmd, "--set needs KEY=VALUE, got: ", optarg);
			*eq = '\0';
			*s = (struct noleak_setting){ optarg, eq + 1, "--set" };
			break;
		}
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
	if (!o->unit && (o->now || o->n_settings))
		return usage(cmd, "--now, --audit and --set need --unit NAME.service", NULL);
	if (o->unit && (o->purge || o->libdir))
		return usage(cmd, "--purge and --libdir do not go with --unit", NULL);
	return 0;
}

/* enable | disable | status --unit NAME.service (unit.c). */
static int unit_action(const struct preload_opts *o, const char *cmd)
{
	char lib[PATH_MAX], syslibdir[PATH_MAX];
	struct noleak_unit_opts u = { cmd, o->unit, o->root, o->lib, syslibdir,
				      o->now, o->settings, o->n_settings };
	if (!strcmp(cmd, "enable") && !u.lib) {
		if (bundled_library(lib) < 0) {
			say(stderr, "no %s next to noleak or in ../lib; name one with --lib PATH", NL_LIB_NAME);
			return NL_EXIT_USAGE;
		}
		u.lib = lib;
	}
	if (!strcmp(cmd, "enable") && system_libdir(syslibdir) < 0) {
		say(stderr, "cannot tell the system library directory: libc.so.6 not found among the loaded objects");
		return NL_EXIT_USAGE;
	}
	if (strcmp(cmd, "status") && !strcmp(o->root, "/") && require_root(cmd) < 0)
		return NL_EXIT_USAGE;
	return noleak_unit_main(&u);
}

static int preload_main(int argc, char **argv, int (*action)(struct preload_ctx *))
{
	struct noleak_setting settings[argc > 0 ? argc : 1];
	struct preload_ctx c = { .o = { .root = "/", .settings = settings },
				 .root = nl_root_host, .etc = -1 };
	int r = parse(argc, argv, &c.o);
	if (r)
		return r < 0 ? noleak_stdout_written("the help") : r;
	if (c.o.unit)
		return unit_action(&c.o, argv[0]);
	if (action != do_status && require_root(argv[0]) < 0)
		return NL_EXIT_USAGE;
	if (load_ctx(&c) < 0)
		r = action == do_status ? ST_PROBLEM : NL_EXIT_USAGE;
	else
		r = action(&c);
	free(c.data);
	if (c.etc >= 0)
		close(c.etc);
	inroot_fini(&c.root);
	/* A status not written is a problem (ST_PROBLEM is NL_EXIT_USAGE). */
	int w = noleak_stdout_written(action == do_status ? "the status"
							  : "the output");
	return w && (action == do_status || !r) ? w : r;
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
