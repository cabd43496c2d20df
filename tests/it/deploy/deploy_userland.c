/* A host with libnoleak in /etc/ld.so.preload: the whole userland runs
 * with it and behaves as before.
 *
 * The test prepares DIR (root-owned, 0755):
 *
 *   DIR/lib/libnoleak.so   the entry: a root-owned copy of build/libnoleak.so
 *   DIR/etc/               a copy of /etc, with ld.so.preload naming that
 *                          copy and noleak.conf saying mode = audit and
 *                          log = DIR/log/host.log
 *   DIR/bin/probe          a program that leaks an fd into a child
 *   DIR/bin/probe-suid     the same, set-user-ID root
 *   DIR/src/               a Makefile with a sub-make, a C program built by
 *                          make, a Java program that uses ProcessBuilder
 *   DIR/run.sh             the session below
 *
 * run.sh runs a login shell (runuser -l nobody), python3 with subprocess,
 * make with a sub-make, set-user-ID programs run by nobody with NOLEAK_*
 * set by the caller, apt-get, java and javac, and a make build.  It runs
 * twice: once as the host runs today, and once in a private mount
 * namespace where DIR/etc is bind-mounted over /etc, so every program in
 * the session gets the library from ld.so.preload and nothing from the
 * environment.  Each step's output and exit status must be the same both
 * times.  Each program proves, in a file of its own, whether libnoleak.so
 * is in its memory map (apt-get through the loader's debug output), and
 * the log must hold the events the leaking programs cause.
 *
 * The machine's /etc is never touched: the mount lives and dies with the
 * namespace.  Needs root (mount namespace, set-user-ID file, runuser);
 * a namespace that cannot be made is a failure, not a skip. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/ns.h"
#include "../../lib/files.h"
#include "../../lib/run.h"

#define TIMEOUT 60.0

static struct run_result r;
static char dir[256];  /* tmpdir() paths are short */

static void fmt(char *out, size_t cap, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(out, cap, f, ap);
	va_end(ap);
}

static const char *in_dir(const char *name)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *out = buf[next++ % 8];
	fmt(out, PATH_MAX, "%s/%s", dir, name);
	return out;
}

static void sh(const char *cmd)
{
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: %s", cmd, r.err);
}


static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- the session ---- */

static const char sub_make[] =
	"all:\n"
	"\t@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) sub\n"
	"sub:\n"
	"\t@echo sub-make ran\n"
	"\t@if grep -q /libnoleak.so /proc/$$PPID/maps; then echo make-mapped=yes;"
	" else echo make-mapped=no; fi > $(PROOF)\n";

static const char build_make[] =
	"hello: hello.c\n"
	"\tcc -O1 -o $@ hello.c\n";

static const char hello_c[] =
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"\tchar line[4096];\n"
	"\tint mapped = 0;\n"
	"\tFILE *m = fopen(\"/proc/self/maps\", \"r\");\n"
	"\twhile (m && fgets(line, sizeof line, m))\n"
	"\t\tmapped |= strstr(line, \"/libnoleak.so\") != NULL;\n"
	"\tFILE *p = fopen(argv[1], \"w\");\n"
	"\tfprintf(p, \"hello-mapped=%d\\n\", mapped);\n"
	"\tfclose(p);\n"
	"\tputs(\"hello from a make build\");\n"
	"\treturn 0;\n"
	"}\n";

static const char spawn_java[] =
	"import java.nio.file.*;\n"
	"public class Spawn {\n"
	"    public static void main(String[] a) throws Exception {\n"
	"        Process p = new ProcessBuilder(\"/bin/sh\", \"-c\", \"echo child output; exit 3\")\n"
	"            .redirectErrorStream(true).start();\n"
	"        String out = new String(p.getInputStream().readAllBytes()).trim();\n"
	"        System.out.println(\"child said: \" + out + \", exit \" + p.waitFor());\n"
	"        boolean mapped = Files.readAllLines(Paths.get(\"/proc/self/maps\")).stream()\n"
	"            .anyMatch(l -> l.contains(\"/libnoleak.so\"));\n"
	"        Files.writeString(Paths.get(a[0]), \"java-mapped=\" + mapped + \"\\n\");\n"
	"    }\n"
	"}\n";

/* run.sh MODE: each step's output in MODE/out/STEP.out, its status in
 * MODE/out/STEP.rc, and what each program said about its own memory map
 * in MODE/proof/STEP. */
static const char run_sh_text[] =
	"M=$D/$1; O=$M/out; P=$M/proof\n"
	"cd \"$M\" || exit 90\n"
	"step() { name=$1; shift; \"$@\" > $O/$name.out 2>&1; echo $? > $O/$name.rc; }\n"
	"as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- \\\n"
	"    env NOLEAK_MODE=enforce NOLEAK_LOG=$D/x/attacker.log \\\n"
	"        NOLEAK_CONFIG=$D/x/attacker.conf \"$@\"; }\n"
	"\n"
	"step login runuser -l nobody -s /bin/bash -c \"echo shell=\\$0; id -un;\n"
	"    $D/bin/probe /bin/echo child of a leaking program;\n"
	"    if grep -q /libnoleak.so /proc/\\$\\$/maps; then echo login-mapped=yes;\n"
	"    else echo login-mapped=no; fi > $P/login\"\n"
	"step python /usr/bin/python3 -c '\n"
	"import ctypes, subprocess, sys\n"
	"leaked = ctypes.CDLL(None).open(b\"/dev/null\", 0)  # no O_CLOEXEC\n"
	"r = subprocess.run([\"/bin/echo\", \"python child\"], close_fds=False,\n"
	"                   capture_output=True, text=True)\n"
	"print(r.returncode, r.stdout.strip())\n"
	"mapped = any(\"/libnoleak.so\" in l for l in open(\"/proc/self/maps\"))\n"
	"open(sys.argv[1], \"w\").write(\"python-mapped=%s\\n\" % mapped)\n"
	"' $P/python\n"
	"step make make --no-print-directory -f $D/src/sub.mk PROOF=$P/make\n"
	"step setuid as_nobody $D/bin/probe-suid --maps $P/setuid /bin/echo setuid child\n"
	"step su as_nobody su --help\n"
	"step passwd as_nobody passwd --help\n"
	"step apt apt-get --version\n"
	"LD_DEBUG=files LD_DEBUG_OUTPUT=$P/apt-debug apt-get --version > /dev/null 2>&1\n"
	"if grep -qs /libnoleak.so $P/apt-debug.*; then echo apt-mapped=yes;\n"
	"else echo apt-mapped=no; fi > $P/apt\n"
	"step java_version java -version\n"
	"step javac javac -d $M/classes $D/src/Spawn.java\n"
	"step java java -cp $M/classes Spawn $P/java\n"
	"step build sh -c \"cd $M/build && make -s && ./hello $P/hello\"\n";

static const char *const steps[] = {
	"login", "python", "make", "setuid", "su", "passwd", "apt",
	"java_version", "javac", "java", "build",
};

/* What each program says about itself under the preload; without it,
 * each must say the opposite (so that the proof can fail). */
static const struct { const char *file, *with, *without; } proofs[] = {
	{ "login", "login-mapped=yes", "login-mapped=no" },
	{ "python", "python-mapped=True", "python-mapped=False" },
	{ "make", "make-mapped=yes", "make-mapped=no" },
	{ "apt", "apt-mapped=yes", "apt-mapped=no" },
	{ "java", "java-mapped=true", "java-mapped=false" },
	{ "hello", "hello-mapped=1", "hello-mapped=0" },
};

static void prepare_mode(const char *mode)
{
	char cmd[PATH_MAX * 4];
	fmt(cmd, sizeof cmd,
	    "M='%s' && mkdir -p \"$M/out\" \"$M/proof\" \"$M/build\" \"$M/classes\" && "
	    "chmod 0777 \"$M/proof\" && cp '%s' '%s' \"$M/build/\"",
	    in_dir(mode), in_dir("src/hello.c"), in_dir("src/Makefile"));
	sh(cmd);
}

static void prepare(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: a mount namespace, a set-user-ID program, runuser");
	fmt(dir, sizeof dir, "%s", tmpdir());
	cr_assert_eq(chmod(dir, 0755), 0, "nobody must reach the library");
	char cmd[PATH_MAX * 6];
	const char *probe = top("build/fixtures/dep_probe");
	fmt(cmd, sizeof cmd,
	    "set -e; cd '%s'; mkdir lib bin src log x; chmod 0777 x; "
	    "cp '%s' lib/libnoleak.so; chmod 0644 lib/libnoleak.so; "
	    "cp '%s' bin/probe; cp '%s' bin/probe-suid; "
	    "chmod 0755 bin/probe; chmod 4755 bin/probe-suid; "
	    ": > log/host.log; chmod 0666 log/host.log",
	    dir, shim_path(), probe, probe);
	sh(cmd);
	ns_copy_etc(in_dir("etc"));
	char text[PATH_MAX * 2];
	fmt(text, sizeof text, "%s\n", in_dir("lib/libnoleak.so"));
	write_file(in_dir("etc/ld.so.preload"), text, 0644);
	fmt(text, sizeof text, "# the test host's policy\nmode = audit\nlog = %s\n",
	    in_dir("log/host.log"));
	write_file(in_dir("etc/noleak.conf"), text, 0644);
	/* What a set-user-ID program would obey if it took NOLEAK_CONFIG. */
	fmt(text, sizeof text, "mode = enforce\nlog = %s\n", in_dir("x/attacker.log"));
	write_file(in_dir("x/attacker.conf"), text, 0644);
	write_file(in_dir("src/sub.mk"), sub_make, 0644);
	write_file(in_dir("src/Makefile"), build_make, 0644);
	write_file(in_dir("src/hello.c"), hello_c, 0644);
	write_file(in_dir("src/Spawn.java"), spawn_java, 0644);
	char script[sizeof run_sh_text + PATH_MAX];
	fmt(script, sizeof script, "D='%s'\n%s", dir, run_sh_text);
	write_file(in_dir("run.sh"), script, 0755);
	prepare_mode("plain");
	prepare_mode("preload");
}

static void cleanup(void)
{
	ns_remove_test_dir(dir);
}

/* The session as the host runs it today. */
static void run_plain(void)
{
	char *argv[] = { "/bin/sh", (char *)in_dir("run.sh"), "plain", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "the session hung without the preload");
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
}

/* The same session with the copy of /etc mounted over /etc. */
static void run_preloaded(void)
{
	char script[PATH_MAX * 2];
	fmt(script, sizeof script, "exec /bin/sh '%s' preload", in_dir("run.sh"));
	ns_run_with_etc(&r, in_dir("etc"), script, TIMEOUT);
	cr_assert(!r.timed_out, "the session hung under the preload");
	cr_assert_eq(exit_code(&r), 0, "unshare: %s", r.err);
}

static const char *mode_file(const char *mode, const char *sub, const char *name,
			     const char *ext)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *out = buf[next++ % 4];
	fmt(out, PATH_MAX, "%s/%s/%s/%s%s", dir, mode, sub, name, ext);
	return out;
}

static void expect_same_behaviour(void)
{
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char plain_out[8192], plain_rc[16];
		fmt(plain_out, sizeof plain_out, "%s",
		    slurp(mode_file("plain", "out", steps[i], ".out")));
		fmt(plain_rc, sizeof plain_rc, "%s",
		    slurp(mode_file("plain", "out", steps[i], ".rc")));
		cr_assert(plain_rc[0], "%s did not run", steps[i]);
		cr_expect_str_eq(slurp(mode_file("preload", "out", steps[i], ".rc")),
				 plain_rc, "%s: exit status differs", steps[i]);
		const char *pre = slurp(mode_file("preload", "out", steps[i], ".out"));
		cr_expect_str_eq(pre, plain_out,
				 "%s: output differs:\n--- without the preload:\n%s"
				 "--- with it:\n%s", steps[i], plain_out, pre);
	}
	/* The steps did what they should, not merely the same thing. */
	static const struct { const char *step, *rc, *text; } want[] = {
		{ "login", "0\n", "child of a leaking program" },
		{ "python", "0\n", "0 python child" },
		{ "make", "0\n", "sub-make ran" },
		{ "setuid", "0\n", "setuid child" },
		{ "su", "0\n", "su [options]" },
		{ "passwd", "0\n", "passwd [options]" },
		{ "apt", "0\n", "apt " },
		{ "java_version", "0\n", "version" },
		{ "javac", "0\n", "" },
		{ "java", "0\n", "child said: child output, exit 3" },
		{ "build", "0\n", "hello from a make build" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		cr_expect_str_eq(slurp(mode_file("plain", "out", want[i].step, ".rc")),
				 want[i].rc, "%s: %s", want[i].step,
				 slurp(mode_file("plain", "out", want[i].step, ".out")));
		cr_expect(strstr(slurp(mode_file("plain", "out", want[i].step, ".out")),
				 want[i].text), "%s: want \"%s\" in: %s", want[i].step,
			  want[i].text,
			  slurp(mode_file("plain", "out", want[i].step, ".out")));
	}
}

static void expect_proofs(void)
{
	for (size_t i = 0; i < sizeof proofs / sizeof proofs[0]; i++) {
		const char *p = proofs[i].file;
		cr_expect(strstr(slurp(mode_file("preload", "proof", p, "")), proofs[i].with),
			  "%s under the preload: %s", p,
			  slurp(mode_file("preload", "proof", p, "")));
		cr_expect(strstr(slurp(mode_file("plain", "proof", p, "")), proofs[i].without),
			  "%s without the preload: %s", p,
			  slurp(mode_file("plain", "proof", p, "")));
	}
	/* The set-user-ID program: secure mode, root, and the library from
	 * ld.so.preload, where LD_PRELOAD could not have put it. */
	char want[PATH_MAX];
	fmt(want, sizeof want, "secure=1 euid=0 shim=%s\n", in_dir("lib/libnoleak.so"));
	cr_expect_str_eq(slurp(mode_file("preload", "proof", "setuid", "")), want);
	cr_expect_str_eq(slurp(mode_file("plain", "proof", "setuid", "")),
			 "secure=1 euid=0 shim=none\n");
}

/* An fd_leak event from the program `exe_part` names, logged the way audit
 * mode logs: would_close. */
static int leak_logged_by(const char *log, const char *exe_part)
{
	int n = 0;
	const char *line = log;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[8192];
		fmt(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
		if (strstr(buf, "\"event\":\"fd_leak\"") && strstr(buf, exe_part) &&
		    strstr(buf, "\"action\":\"would_close\""))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

static void expect_log(void)
{
	char log[1 << 16];
	fmt(log, sizeof log, "%s", slurp(in_dir("log/host.log")));
	char exe[PATH_MAX];
	fmt(exe, sizeof exe, "\"exe\":\"%s\"", in_dir("bin/probe"));
	cr_expect_geq(leak_logged_by(log, exe), 1,
		      "the login shell's leaking program: %s", log);
	cr_expect_geq(leak_logged_by(log, "\"exe\":\"/usr/bin/python3"), 1,
		      "python's subprocess: %s", log);
	fmt(exe, sizeof exe, "\"exe\":\"%s\"", in_dir("bin/probe-suid"));
	cr_expect_geq(leak_logged_by(log, exe), 1,
		      "the set-user-ID program, in audit mode from the config file "
		      "although its caller set NOLEAK_MODE=enforce: %s", log);
	cr_expect_eq(count_lines_with(log, "\"action\":\"closed\""), 0,
		     "audit mode closed something: %s", log);
	cr_expect_eq(count_lines_with(log, "\"mode\":\"enforce\""), 0, "%s", log);
	cr_expect(!exists(in_dir("x/attacker.log")),
		  "a set-user-ID program obeyed NOLEAK_LOG or NOLEAK_CONFIG");
}

TestSuite(deploy_userland, .fini = cleanup, .timeout = 120);

Test(deploy_userland, whole_session_runs_with_ld_so_preload)
{
	prepare();
	struct stat before;
	int had_preload = stat("/etc/ld.so.preload", &before) == 0;
	char real_preload[4096];
	fmt(real_preload, sizeof real_preload, "%s", slurp("/etc/ld.so.preload"));
	run_plain();
	cr_expect_str_empty(slurp(in_dir("log/host.log")),
			    "the run without the preload logged something");
	run_preloaded();
	expect_same_behaviour();
	expect_proofs();
	expect_log();
	cr_expect_eq(exists("/etc/ld.so.preload"), had_preload,
		     "the machine's /etc/ld.so.preload appeared or vanished");
	cr_expect_str_eq(slurp("/etc/ld.so.preload"), real_preload,
			 "the machine's /etc/ld.so.preload changed");
}
