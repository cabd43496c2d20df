/* What start-up costs every process, in counts rather than time (a count
 * does not flake on a loaded machine): the page faults of /bin/true under
 * the shim beside the empty preload, those of a fork+exec, and the memory
 * start-up maps.
 *
 * Page faults: the fewest of 20 runs of each (address-space layout
 * randomisation moves a fault or two from run to run).  The shim's own
 * start-up touches its state on pages the loader has already written; what
 * is left is its code and read-only data being mapped in, and the page of
 * the policy.  The bound leaves room for one or two more, not for state
 * spread over pages of its own again. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/run.h"

#define RUNS 20
#define MAX_ADDED_FAULTS 7
/* A fork+exec of /bin/true, parent and child: about 5 more page faults
 * than under the empty preload (the fork interposer's page, the child's
 * pid and after-fork state, the shim's start-up in /bin/true); 15 when
 * every after-fork store, libc string call and code page took one. */
#define FORK_RUNS 3
#define FORK_COUNT 50
#define MAX_ADDED_FORK_FAULTS 8
/* posix_spawn: about one more, the shim's start-up in /bin/true (2.2 when
 * every spawn mapped a fresh stack). */
#define MAX_ADDED_SPAWN_FAULTS 1.6

TestSuite(foundation_startup_cost, .timeout = 120);

/* The fewest minor faults of /bin/true with `preload` over RUNS runs, its
 * fds 0-2 only. */
static long fewest_faults(const char *preload)
{
	char pre[4096];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
	char *envp[] = { pre, "NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	char *argv[] = { "/bin/true", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	/* every fd above 2: a runner's fd above 63 would give the
	 * program a large fd table (fdtable.c reads /proc then) */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	long fewest = -1;
	for (int i = 0; i < RUNS; i++) {
		pid_t pid;
		int st;
		struct rusage ru;
		cr_assert_eq(posix_spawn(&pid, "/bin/true", &fa, NULL, argv, envp), 0);
		cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (fewest < 0 || ru.ru_minflt < fewest)
			fewest = ru.ru_minflt;
	}
	posix_spawn_file_actions_destroy(&fa);
	return fewest;
}

Test(foundation_startup_cost, page_faults_near_the_empty_preload)
{
	long empty = fewest_faults(top("build/empty.so"));
	long shim = fewest_faults(shim_path());
	cr_expect_leq(shim - empty, MAX_ADDED_FAULTS,
		      "start-up of /bin/true: %ld page faults under the shim, "
		      "%ld under the empty preload", shim, empty);
}

/* Without a config file, start-up maps no buffer to read one into: the
 * only mmap calls of /bin/true are the loader's and libc's. */
Test(foundation_startup_cost, no_config_no_mapping)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_CONFIG=%s/none.conf exec /bin/true",
		 shim_path(), tmpdir());
	const char *t = trace_calls("mmap", cmd);
	cr_assert(strstr(t, "mmap") != NULL, "nothing traced");
	cr_expect_eq(count_lines_with(t, "65536"), 0,
		     "a 64 KiB mapping at start-up without a config file:\n%s", t);
}

/* Start-up looks at nothing under /proc: a process's first look into
 * /proc/self costs it tens of microseconds, more than the rest of the
 * shim's start-up.  /bin/true with fds 0-2 and no config file: its name
 * is AT_EXECFN's and its fd table is small.  A shell script's interpreter
 * is still told by its executable (fd_deliberate, shell tests). */
/* Start-up looks into no /proc, in every mode: under audit too, where the
 * log names the executable on every line, the path is read at the first
 * line, and /bin/true writes none. */
Test(foundation_startup_cost, no_proc_at_start_up)
{
	static const struct {
		const char *env;   /* besides LD_PRELOAD and NOLEAK_CONFIG */
	} rows[] = {
		{ "NOLEAK_MODE=enforce" },
		{ "NOLEAK_MODE=enforce NOLEAK_LOG=%s/enforce.log" },
		{ "NOLEAK_MODE=audit NOLEAK_LOG=%s/audit.log" },
		{ "NOLEAK_MODE=audit NOLEAK_LOG=stderr" },
		{ "NOLEAK_MODE=off" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char env[4096], cmd[8192];
		snprintf(env, sizeof env, rows[i].env, tmpdir());
		snprintf(cmd, sizeof cmd,
			 "LD_PRELOAD=%s %s NOLEAK_CONFIG=%s/none.conf "
			 "exec /bin/true", shim_path(), env, tmpdir());
		const char *t = trace_calls("openat,readlinkat,newfstatat,statx",
					    cmd);
		cr_assert(strstr(t, "none.conf") != NULL,
			  "%s: the shim was not traced:\n%s", env, t);
		cr_expect_eq(count_lines_with(t, "/proc/"), 0,
			     "%s: start-up of /bin/true looked into /proc:\n%s",
			     env, t);
	}
}

/* The fewest page-fault exceptions per fork+exec (method NULL) or
 * posix_spawn of /bin/true over FORK_RUNS runs of found_fork_faults with
 * `preload`; -1 when the kernel's page-fault event cannot be opened here. */
static double spawn_faults(const char *preload, const char *method)
{
	char pre[4096], count[16];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
	snprintf(count, sizeof count, "%d", FORK_COUNT);
	char *env[] = { pre, "NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	char *argv[] = { (char *)top("build/fixtures/found_fork_faults"), count,
			 (char *)method, NULL };
	double fewest = -1;
	for (int i = 0; i < FORK_RUNS; i++) {
		static struct run_result r;
		run(&r, argv, env, 0, 60, NULL);
		if (exit_code(&r) == 77)
			return -1;
		cr_assert_eq(exit_code(&r), 0, "found_fork_faults: %s", r.err);
		double v = atof(r.out);
		if (fewest < 0 || v < fewest)
			fewest = v;
	}
	return fewest;
}

/* A fork child shares its parent's pages until one of them writes: the
 * shim's after-fork work must not copy pages it only needs to look at, nor
 * touch pages of the parent's that were never mapped, nor call into libc
 * pages the child would not otherwise use; and its code is mapped in with
 * one call rather than a fault per part. */
Test(foundation_startup_cost, fork_exec_page_faults_near_the_empty_preload)
{
	double empty = spawn_faults(top("build/empty.so"), NULL);
	if (empty < 0)
		cr_skip_test("no perf page-fault event here");
	double shim = spawn_faults(shim_path(), NULL);
	cr_expect_leq(shim - empty, MAX_ADDED_FORK_FAULTS,
		      "fork+exec of /bin/true: %.2f page faults under the shim, "
		      "%.2f under the empty preload", shim, empty);
}

/* posix_spawn: the shim makes the child itself, on a stack it maps.  The
 * mapping of the last spawn is kept for the next one, so that its stack
 * pages are there already: glibc's posix_spawn maps a fresh stack every
 * time, and the child's first frames fault on it; the shim's spawns take
 * no more page faults than the empty preload's. */
Test(foundation_startup_cost, posix_spawn_page_faults_at_the_empty_preload)
{
	double empty = spawn_faults(top("build/empty.so"), "posix_spawn");
	if (empty < 0)
		cr_skip_test("no perf page-fault event here");
	double shim = spawn_faults(shim_path(), "posix_spawn");
	cr_expect_leq(shim - empty, MAX_ADDED_SPAWN_FAULTS,
		      "posix_spawn of /bin/true: %.2f page faults under the "
		      "shim, %.2f under the empty preload", shim, empty);
}

/* --- the code pages a process runs --- */

/* Where the library loaded as `name` (as LD_PRELOAD or DT_NEEDED names it)
 * lies in the program whose loader wrote `ld_file` (LD_DEBUG=files): the
 * last link map, the program's (valgrind's launcher, which runs it, is
 * preloaded too).  0 when not found. */
static int library_range(const char *ld_file, const char *name,
			 unsigned long *base, unsigned long *size)
{
	char key[2048];
	snprintf(key, sizeof key, "file=%s [0];  generating", name);
	const char *t = slurp(ld_file), *at = NULL;
	for (const char *m = t; (m = strstr(m, key)); m++)
		at = m;
	at = at ? strstr(at, "base: 0x") : NULL;
	return at && sscanf(at, "base: 0x%lx size: 0x%lx", base, size) == 2;
}

/* The distinct pages of a library's code that the superblocks in
 * `sb_file` (valgrind lackey --trace-superblocks) start on, the library
 * loaded at base..base+size from `path`; with `names`, each page's first
 * function is appended to it (addr2line). */
#define PAGES_MAX 256
static int code_pages(const char *sb_file, unsigned long base,
		      unsigned long size, const char *path, char *names,
		      size_t cap)
{
	unsigned long page[PAGES_MAX], first[PAGES_MAX];
	int n = 0;
	FILE *f = fopen(sb_file, "r");
	cr_assert_not_null(f, "%s", sb_file);
	char line[256];
	while (fgets(line, sizeof line, f)) {
		unsigned long a;
		if (sscanf(line, "SB %lx", &a) != 1 || a < base ||
		    a >= base + size)
			continue;
		int k = 0;
		while (k < n && page[k] != (a - base) / 4096)
			k++;
		if (k == n && n < PAGES_MAX) {
			page[n] = (a - base) / 4096;
			first[n++] = a - base;
		}
	}
	fclose(f);
	if (!names || n == 0)
		return n;
	char cmd[8192];
	int len = snprintf(cmd, sizeof cmd, "addr2line -f -s -e %s </dev/null",
			   path);
	for (int k = 0; k < n && len < (int)sizeof cmd - 32; k++)
		len += snprintf(cmd + len, sizeof cmd - len, " 0x%lx", first[k]);
	names[0] = '\0';
	FILE *p = popen(cmd, "r");
	for (int k = 0; p && k < n && fgets(line, sizeof line, p); k++) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(names + strlen(names), cap - strlen(names),
			 " %lx:%s", page[k], line);
		if (!fgets(line, sizeof line, p))   /* the file:line */
			break;
	}
	if (p)
		pclose(p);
	return n;
}

struct pages_run {
	int shim, libc;            /* code pages run: the preload's, libc's */
	char names[4096];          /* the preload's pages, with a function each */
};

/* Runs `prog arg` under valgrind with `preload` (enforce, no log, no
 * config file) and counts the code pages of the preload and of libc that
 * the program (child 0) or its child (child 1) ran. */
static void pages_run(const char *what, const char *preload, const char *prog,
		      const char *arg, int child, struct pages_run *out)
{
	static int serial;
	char dir[2048], log[2304], ld[2304], pre[2304], ldout[2304];
	snprintf(dir, sizeof dir, "%s/pages%d", tmpdir(), serial++);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(log, sizeof log, "--log-file=%s/sb.%%p", dir);
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
	snprintf(ldout, sizeof ldout, "LD_DEBUG_OUTPUT=%s/ld", dir);
	char *argv[] = { "valgrind", "--tool=lackey", "--trace-superblocks=yes",
			 "--trace-children=yes", log, "/usr/bin/env", pre,
			 "NOLEAK_MODE=enforce", "NOLEAK_LOG=none",
			 "NOLEAK_CONFIG=/nonexistent/noleak.conf",
			 "LD_DEBUG=files", ldout, (char *)prog, (char *)arg,
			 NULL };
	static struct run_result r;
	run(&r, argv, NULL, 0, 120, NULL);
	cr_assert_eq(exit_code(&r), 0, "%s: %s", what, r.err);
	/* The program's pid names its loader's output; a child has another
	 * pid and the same mappings. */
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	char main_pid[64] = "", child_pid[64] = "";
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, "ld.", 3) == 0)
			snprintf(main_pid, sizeof main_pid, "%s", e->d_name + 3);
	rewinddir(d);
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, "sb.", 3) == 0 && main_pid[0] &&
		    strcmp(e->d_name + 3, main_pid) != 0)
			snprintf(child_pid, sizeof child_pid, "%s", e->d_name + 3);
	closedir(d);
	cr_assert(main_pid[0] && (!child || child_pid[0]), "%s: no log of the %s",
		  what, main_pid[0] ? "child" : "program");
	char sb[2304];
	unsigned long base, size;
	snprintf(ld, sizeof ld, "%s/ld.%s", dir, main_pid);
	snprintf(sb, sizeof sb, "%s/sb.%s", dir, child ? child_pid : main_pid);
	cr_assert(library_range(ld, preload, &base, &size),
		  "%s: %s was not loaded: %s", what, preload, slurp(ld));
	out->shim = code_pages(sb, base, size, preload, out->names,
			       sizeof out->names);
	cr_assert(library_range(ld, "libc.so.6", &base, &size),
		  "%s: no libc: %s", what, slurp(ld));
	out->libc = code_pages(sb, base, size, NULL, NULL, 0);
}

/* The code every process runs (start-up) and every child runs on its way
 * to an exec lies on a few pages of its own (shim/layout.ld), and calls
 * into no page of libc that the program would not run anyway (common/
 * str.h): the first touch of a page costs a process even when the page is
 * mapped in ahead.  Counted by valgrind (lackey, the superblocks run),
 * under enforce with fds 0-2, no config file and the policy's variables
 * set, beside the empty preload: /bin/true's start-up, and the child of a
 * fork or a vfork that execs a path that does not exist (the way to the
 * exec and back; valgrind runs a vfork child as a fork child).  Before:
 * 16 pages of the shim and 5 more of libc for the start-up, 23 and 2 for
 * the fork child. */
Test(foundation_startup_cost, code_pages_run_by_every_process)
{
	static const struct {
		const char *what;
		const char *prog;     /* below the top, or absolute */
		const char *arg;
		int child;            /* count the child's pages, not the program's */
		int max_pages;        /* of the shim */
		int max_libc_added;   /* of libc, beyond the empty preload's */
	} rows[] = {
		/* the .init page (with the start of the section) and 3 pages
		 * of the section, _fini among them (a page of its own after
		 * .text before: 5); getauxval() */
		{ "start-up of /bin/true", "/bin/true", NULL, 0, 4, 1 },
		/* __errno_location() */
		{ "a fork child to its exec", "build/fixtures/found_exec_fail",
		  "fork", 1, 8, 1 },
		{ "a vfork child to its exec", "build/fixtures/found_exec_fail",
		  "vfork", 1, 8, 1 },
	};
	char *version[] = { "valgrind", "--version", NULL };
	static struct run_result v;
	run(&v, version, NULL, 0, 30, NULL);
	if (exit_code(&v) != 0)
		cr_skip_test("valgrind does not run here");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *prog = rows[i].prog[0] == '/' ? rows[i].prog
							  : top(rows[i].prog);
		static struct pages_run shim, empty;
		pages_run(rows[i].what, shim_path(), prog, rows[i].arg,
			  rows[i].child, &shim);
		pages_run(rows[i].what, top("build/empty.so"), prog,
			  rows[i].arg, rows[i].child, &empty);
		cr_assert_gt(shim.shim, 0, "%s: no code of the shim ran",
			     rows[i].what);
		cr_expect_leq(shim.shim, rows[i].max_pages,
			      "%s: %d code pages of the shim, at most %d "
			      "(page:first function):%s",
			      rows[i].what, shim.shim, rows[i].max_pages,
			      shim.names);
		cr_expect_leq(shim.libc - empty.libc, rows[i].max_libc_added,
			      "%s: %d code pages of libc under the shim, %d "
			      "under the empty preload: at most %d more",
			      rows[i].what, shim.libc, empty.libc,
			      rows[i].max_libc_added);
	}
}

/* The pages of the library's writable segment (RELRO, data, .bss) in the
 * process once the loader and start-up have run, each a page fault: the
 * loader writes RELRO's and the one where the file's data ends, and
 * start-up writes its state on that one (shim/layout.ld).  Counted by the
 * program itself from /proc/self/pagemap with raw system calls, under the
 * shim and under the empty preload (its two).  Before: 3 (4 with a config
 * file), the loader's relocations and the real-symbol slots on a page of
 * their own past the state start-up writes. */
static int data_pages(const char *what, const char *preload, const char *name,
		      const char *mode, const char *config, const char *log)
{
	char pre[2304], mode_env[64], conf_env[2304], log_env[2304];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode);
	snprintf(conf_env, sizeof conf_env, "NOLEAK_CONFIG=%s",
		 config ? config : "/nonexistent/noleak.conf");
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log ? log : "none");
	char *env[] = { pre, mode_env, conf_env, log_env, NULL };
	char *argv[] = { (char *)top("build/fixtures/found_data_pages"),
			 (char *)name, NULL };
	static struct run_result r;
	run(&r, argv, env, 0, 30, NULL);
	cr_assert_eq(exit_code(&r), 0, "%s: %s%s", what, r.out, r.err);
	if (strncmp(r.out, "unsupported", 11) == 0)
		cr_skip_test("found_data_pages counts on x86_64, from a "
			     "readable /proc/self/pagemap, only");
	int pages = -1;
	cr_assert_eq(sscanf(r.out, "pages %d", &pages), 1, "%s: %s", what,
		     r.out);
	return pages;
}

Test(foundation_startup_cost, pages_written_at_start_up)
{
	char config[2048], log[2048];
	snprintf(config, sizeof config, "%s/noleak.conf", tmpdir());
	snprintf(log, sizeof log, "%s/noleak.log", tmpdir());
	FILE *f = fopen(config, "w");
	cr_assert_not_null(f);
	fputs("sock_timeout = 600\nread_warn = 60\n", f);
	fclose(f);
	static const struct {
		const char *what;
		const char *mode;
		int config;
		int log;
	} rows[] = {
		{ "enforce", "enforce", 0, 0 },
		{ "audit", "audit", 0, 0 },
		{ "enforce with a config file", "enforce", 1, 0 },
		{ "audit with a log file", "audit", 0, 1 },
	};
	int empty = data_pages("the empty preload", top("build/empty.so"),
			       "empty.so", "enforce", NULL, NULL);
	cr_assert_geq(empty, 1, "the empty preload: no page counted");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int shim = data_pages(rows[i].what, shim_path(), "libnoleak",
				      rows[i].mode,
				      rows[i].config ? config : NULL,
				      rows[i].log ? log : NULL);
		cr_expect_leq(shim, empty,
			      "%s: %d pages of the shim's writable segment "
			      "in the process after start-up, %d of the empty "
			      "preload's",
			      rows[i].what, shim, empty);
	}
}

/* A program's first sigaction() with a handler looks up the calls a handler
 * may make, and its first fork every real symbol: asking once whether this
 * is a child made behind the shim's back (a getpid()), not once per symbol.
 * dash installs handlers at start-up: every system() and popen() paid about
 * 40 getpid() calls in its `sh`. */
Test(foundation_startup_cost, symbol_lookups_ask_pid_once)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=enforce "
		 "NOLEAK_CONFIG=/nonexistent/noleak.conf exec /bin/sh -c "
		 "\"/bin/true; /bin/true\"", shim_path());
	const char *t = trace_calls("getpid,execve", cmd);
	cr_assert(strstr(t, "execve(\"/bin/true\"") != NULL, "%s", t);
	int n = count_lines_with(t, "getpid(");
	cr_expect_leq(n, 20, "%d getpid() calls for sh and two children:\n%s",
		      n, t);
}

/* The child of posix_spawn (and of system() and popen(), which the shim
 * carries out with it) reads each signal's disposition and sets SIG_DFL
 * only on those with a handler, where glibc sets it again on every signal
 * that has it already: one system call per signal, about 60 per spawn,
 * while the parent waits.  Counted per spawn of /bin/true: the calls that
 * set SIG_DFL, by any process of the loop (through sh -c for system and
 * popen: the shell and system()'s SIGINT/SIGQUIT defaults make a few of
 * their own, 6 and 2 with dash); glibc's child makes 60. */
Test(foundation_startup_cost, a_spawn_child_sets_only_the_signals_it_changes)
{
	static const struct {
		const char *method;
		double max;  /* rt_sigaction calls setting SIG_DFL per spawn */
	} rows[] = {
		{ "posix_spawn", 2 },
		{ "system", 16 },
		{ "popen", 16 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		const char *t = trace_spawn_loop("rt_sigaction,execve",
						 rows[i].method, 20);
		int dfl = 0;
		/* rt_sigaction(SIGHUP, {sa_handler=SIG_DFL, ...}, NULL, 8):
		 * the new action is the second argument (NULL when read). */
		for (const char *p = t; (p = strstr(p, "rt_sigaction(SIG")); p++) {
			const char *arg = strstr(p, ", ");
			if (arg && !strncmp(arg + 2, "{sa_handler=SIG_DFL", 19))
				dfl++;
		}
		double per = dfl / 20.0;
		cr_expect_leq(per, rows[i].max,
			      "%s: %.2f calls setting SIG_DFL per spawn (at most %.0f)",
			      rows[i].method, per, rows[i].max);
	}
}

/* Drop-ins: the directory is listed once per start-up, however many files
 * it holds (it was listed again for every name: 200 drop-ins made
 * thousands of getdents64 calls, 3000 took seconds), and the files are
 * still read in the byte order of their names, whatever the directory's
 * order.  Each is read twice, for the global and the program walk. */
#define DROPINS 200
Test(foundation_startup_cost, dropins_listed_once_per_start_up)
{
	char dir[4096], path[8192], cmd[16384];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	snprintf(path, sizeof path, "%s/n.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("mode = enforce\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0644), 0);
	snprintf(path, sizeof path, "%s/n.conf.d", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(chmod(path, 0755), 0);
	/* made out of order; and names that are no drop-ins */
	for (int k = 0; k < DROPINS + 2; k++) {
		int i = k * 7 % DROPINS;
		if (k == DROPINS)
			snprintf(path, sizeof path, "%s/n.conf.d/.h.conf", dir);
		else if (k == DROPINS + 1)
			snprintf(path, sizeof path, "%s/n.conf.d/z.conf~", dir);
		else
			snprintf(path, sizeof path, "%s/n.conf.d/%s%03d.conf",
				 dir, i % 2 ? "B" : "a", i);
		f = fopen(path, "w");
		cr_assert_not_null(f, "%s", path);
		fprintf(f, "[program x%d]\nsock_timeout = %d\n", i, i);
		fclose(f);
		cr_assert_eq(chmod(path, 0644), 0);
	}
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_CONFIG=%s/n.conf exec /bin/true",
		 shim_path(), dir);
	const char *t = trace_calls("getdents64,openat", cmd);
	cr_assert(strstr(t, "n.conf.d") != NULL, "the shim was not traced:\n%.4000s", t);
	int n = count_lines_with(t, "getdents64(");
	cr_expect_leq(n, 8, "%d getdents64 calls for %d drop-ins", n, DROPINS);
	/* The files opened, in order: B001..B199 (B < a), then a000..a198,
	 * twice over; never the hidden one nor the backup. */
	cr_expect_eq(count_lines_with(t, ".h.conf"), 0);
	cr_expect_eq(count_lines_with(t, "z.conf~"), 0);
	const char *p = t;
	for (int walk = 0; walk < 2; walk++)
		for (int k = 0; k < DROPINS; k++) {
			int i = k < DROPINS / 2 ? 2 * k + 1 : 2 * (k - DROPINS / 2);
			char name[32];
			snprintf(name, sizeof name, "/%s%03d.conf\"", i % 2 ? "B" : "a", i);
			const char *q = strstr(p, name);
			cr_assert(q, "walk %d: %s not opened after the one before", walk, name);
			p = q + 1;
		}
}
