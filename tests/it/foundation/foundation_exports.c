/* What libnoleak.so shows to the processes it is loaded into.
 *
 * Every program of a host resolves its symbols through the preload first,
 * so any name the library exports beyond the libc functions it interposes
 * (an internal function, a table, a section marker) could capture a symbol
 * of the program or of another library.  And every dependency is a library loaded
 * into every process: only libc (and libdl) may be needed. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0
#define MAX_SYMS 8192
#define NAME_MAX_LEN 128

struct syms {
	int n;
	char name[MAX_SYMS][NAME_MAX_LEN];
	char type[MAX_SYMS];
};

static struct run_result r;

/* `nm -D --defined-only FILE`, parsed into names and types.  A versioned
 * name ("posix_spawn@GLIBC_2.2.5", "open@@GLIBC_2.2.5") keeps only the
 * part before the '@'.  The listing goes through a file: libc's is larger
 * than what run() captures. */
static void defined_dynamic(const char *file, struct syms *s)
{
	char listing[4096], cmd[8192];
	snprintf(listing, sizeof listing, "%s/nm.out", tmpdir());
	snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' > '%s'", file,
		 listing);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "nm %s failed: %s", file, r.err);
	static char text[1 << 20];
	snprintf(text, sizeof text, "%s", slurp(listing));
	cr_assert_lt(strlen(text), sizeof text - 1, "nm output too large");
	s->n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char addr[64], type[8], name[512];
		/* Absolute symbols may come without an address column. */
		int k = sscanf(line, "%63s %7s %511s", addr, type, name);
		if (k == 2) {
			strcpy(name, type);
			strcpy(type, addr);
		} else if (k != 3) {
			continue;
		}
		char *at = strchr(name, '@');
		if (at)
			*at = '\0';
		cr_assert_lt(s->n, MAX_SYMS);
		cr_assert_lt(strlen(name), NAME_MAX_LEN, "%s", name);
		strcpy(s->name[s->n], name);
		s->type[s->n] = type[0];
		s->n++;
	}
}

static int has(const struct syms *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return 1;
	return 0;
}

/* The libc the library binds to, as the loader finds it. */
static const char *libc_path(void)
{
	static char path[4096];
	char *argv[] = { "ldd", (char *)shim_path(), NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	const char *p = strstr(r.out, "libc.so.6 => ");
	cr_assert_not_null(p, "ldd names no libc: %s%s", r.out, r.err);
	p += strlen("libc.so.6 => ");
	size_t n = strcspn(p, " \n");
	cr_assert_lt(n, sizeof path);
	memcpy(path, p, n);
	path[n] = '\0';
	return path;
}

static struct syms shim, libc;

static void init(void)
{
	defined_dynamic(shim_path(), &shim);
}

TestSuite(foundation_exports, .init = init, .timeout = 60);

/* The one table of interposed calls (shim/base/calls.def). */
static const char *const table[] = {
#define NL_INTERPOSED(symbol, file) #symbol,
#include "base/calls.def"
	NULL
};

static int in_table(const char *name)
{
	for (int i = 0; table[i]; i++)
		if (!strcmp(table[i], name))
			return 1;
	return 0;
}

Test(foundation_exports, exports_exactly_the_table_of_calls)
{
	for (int i = 0; table[i]; i++)
		cr_expect(has(&shim, table[i]),
			  "%s is in calls.def but not exported", table[i]);
	for (int i = 0; i < shim.n; i++)
		cr_expect(shim.type[i] == 'A' || in_table(shim.name[i]),
			  "%s is exported but not in calls.def", shim.name[i]);
}

Test(foundation_exports, exports_only_libc_function_names)
{
	defined_dynamic(libc_path(), &libc);
	cr_assert_gt(libc.n, 500, "nm found too few libc symbols");
	for (int i = 0; i < shim.n; i++) {
		const char *name = shim.name[i];
		if (shim.type[i] == 'A')
			continue;  /* version definitions, checked below */
		cr_expect(strncmp(name, "nl_", 3) && strncmp(name, "noleak", 6) &&
			  strncmp(name, "__start_", 8) &&
			  strncmp(name, "__stop_", 7),
			  "internal symbol exported: %s", name);
		cr_expect(shim.type[i] == 'T' || shim.type[i] == 'W' ||
			  shim.type[i] == 'i',
			  "%s is exported as '%c', not as a function", name,
			  shim.type[i]);
		cr_expect(has(&libc, name), "%s is not a libc function", name);
	}
}

Test(foundation_exports, absolute_symbols_are_only_glibc_versions)
{
	int versions = 0;
	for (int i = 0; i < shim.n; i++) {
		if (shim.type[i] != 'A')
			continue;
		versions++;
		cr_expect(!strcmp(shim.name[i], "GLIBC_2.2.5") ||
			  !strcmp(shim.name[i], "GLIBC_2.15"),
			  "unexpected absolute symbol %s", shim.name[i]);
	}
	cr_expect_leq(versions, 2);
}

Test(foundation_exports, needs_only_libc_and_libdl)
{
	char *argv[] = { "readelf", "-d", (char *)shim_path(), NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "readelf failed: %s", r.err);
	int needed = 0;
	for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, "(NEEDED)"))
			continue;
		needed++;
		cr_expect(strstr(line, "[libc.so.6]") || strstr(line, "[libdl.so.2]"),
			  "unexpected dependency: %s", line);
	}
	cr_expect_geq(needed, 1, "no NEEDED entry at all: %s", r.out);
}

/* Each relocation that names a symbol is a lookup the loader makes at
 * every process's start, through every library of the scope.  A call of
 * the library into a function it exports itself (an alias such as
 * __recv, or the shim's own syscall()) is bound when the library is
 * linked (-Bsymbolic-functions), so no relocation names one. */
Test(foundation_exports, binds_its_own_functions_when_linked)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "readelf -rW '%s'", shim_path());
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "readelf failed: %s", r.err);
	int named = 0;
	for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
		char off[64], info[64], type[64], value[64], name[512];
		if (sscanf(line, "%63s %63s %63s %63s %511s", off, info, type,
			   value, name) != 5 ||
		    (!strstr(type, "JUMP_SLOT") && !strstr(type, "GLOB_DAT")))
			continue;
		named++;
		char *at = strchr(name, '@');
		if (at)
			*at = '\0';
		cr_expect(!in_table(name),
			  "the library looks its own %s up at every start: %s",
			  name, line);
	}
	cr_expect_gt(named, 0, "readelf listed no symbol relocation: %s", r.out);
}
