/* noleak: run a command under libnoleak.
 *
 * The first argument may name a subcommand; anything else is a command to
 * run, with the options below.  A program whose name is also a subcommand's
 * is run with `noleak -- NAME`. */
#include "noleak.h"
#include "tools/inspect/inspect.h"
#include "common/toolout.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_line[] =
	"usage: noleak [OPTION]... [--] command [args...]  (see noleak --help)\n";

static const char help_text[] =
"NAME\n"
"    noleak - run a program under libnoleak, which stops fd leaks and hangs\n"
"\n"
"SYNOPSIS\n"
"    noleak [--audit] [--log DEST] [--config FILE] [--keep-fds LIST]\n"
"           [--sock-timeout S] [--read-warn S] [--pgroup MODE]\n"
"           [--set KEY=VALUE]... [--] command [args...]\n"
"    noleak inspect [--json] PID\n"
"    noleak inspect [--json] --all --blocked SECONDS\n"
"    noleak enable [--root DIR] [--lib PATH] [--libdir DIR]\n"
"    noleak disable [--root DIR] [--libdir DIR] [--purge]\n"
"    noleak status [--root DIR] [--lib PATH] [--libdir DIR]\n"
"    noleak enable --unit NAME.service [--root DIR] [--lib PATH] [--audit]\n"
"                  [--set KEY=VALUE]... [--now]\n"
"    noleak disable --unit NAME.service [--root DIR] [--now]\n"
"    noleak status --unit NAME.service [--root DIR]\n"
"    noleak --help | --version\n"
"\n"
"DESCRIPTION\n"
"    noleak runs command with libnoleak.so preloaded, so that the command and\n"
"    every program it starts get file descriptors that do not leak into\n"
"    children, process groups that can be killed as a whole, sockets that\n"
"    cannot hang forever and a watchdog that names the culprit of a blocked\n"
"    read.  The command needs no change and no rebuild.\n"
"\n"
"    noleak appends libnoleak.so to LD_PRELOAD (once), turns each option into\n"
"    the NOLEAK_* variable below, and then executes the command in its own\n"
"    place, searching PATH: the command keeps noleak's process id, and its\n"
"    exit status is noleak's.  Options end at the first argument that is not\n"
"    one; use -- before a command whose name starts with '-'.\n"
"\n"
"    Every value is checked before the command starts.  noleak refuses a\n"
"    command that a preload cannot reach: a static binary, or a script whose\n"
"    #! interpreter is one (followed through #!/usr/bin/env NAME).  It warns\n"
"    about a set-user-ID or set-group-ID program: when run by another user\n"
"    the loader ignores LD_PRELOAD paths for it (see /etc/ld.so.preload in\n"
"    the README).\n"
"\n"
"    libnoleak.so is looked for next to noleak, then in ../lib and\n"
"    ../lib/<multiarch> relative to it (the layout of make install and of the\n"
"    package: $PREFIX/bin, $PREFIX/lib/<multiarch>).\n"
"\n"
"INSPECT\n"
"    noleak inspect PID explains a process that is already hung, from /proc\n"
"    alone (the process needs no preload): for each thread, the system call\n"
"    it is blocked in and the fds it waits on; for each fd, what it is and\n"
"    who holds it (the write ends of a pipe, the peer of a socket with its\n"
"    TCP state, a terminal that is gone); the process's inheritable fds\n"
"    above 2 and which descendants hold copies; its process group and the\n"
"    orphans in it.  Holders are named by pid, relation (child, grandchild,\n"
"    other ...), fd, executable and command line.  A thread id stands for\n"
"    its process, with that thread first.  Every fd a call waits on is\n"
"    listed; the first 64 are described and the rest counted (\"... and N\n"
"    more fds, not described\").  A kernel thread, or a process of group 0\n"
"    (where the kernel starts its own), has no process group to analyse.\n"
"    What cannot be read is said (\"stack: not readable (permission)\");\n"
"    root can read everything, a user their own processes.\n"
"\n"
"    --all --blocked SECONDS samples every thread of the host twice,\n"
"    SECONDS apart, and explains each one that stayed in the same read,\n"
"    write, accept, connect or wait call.  --json prints the same facts as\n"
"    one JSON object.  Exit status: 0, 1 when the process does not exist or\n"
"    /proc cannot be read, 2 on a usage error, 3 when the report could not\n"
"    be written (a full disk, a closed pipe), said on stderr.\n"
"\n"
"HARDENED HOSTS\n"
"    noleak enable loads libnoleak.so into every program of the host,\n"
"    set-user-ID ones included, through /etc/ld.so.preload.  It copies the\n"
"    library (the one next to noleak, or --lib PATH) into the system library\n"
"    directory, where the running libc.so.6 lives (or --libdir DIR), owned by\n"
"    root with mode 0644; loads it into a test program, which must show it in\n"
"    its /proc/self/maps; checks that it and every directory above it are\n"
"    owned by root and writable by no one else; then adds the entry.  The file\n"
"    is replaced in one step (temporary file, fsync, rename), keeping every\n"
"    other entry, comment and blank line.  Running it again changes nothing.\n"
"\n"
"    noleak disable removes every libnoleak.so entry and leaves the library\n"
"    installed; --purge removes it too.  Programs already running keep the\n"
"    library until they exit.  Both must run as root.\n"
"\n"
"    noleak status prints each libnoleak.so entry, with $LIB expanded, and\n"
"    the library's path, version, owner and mode; it checks that the file\n"
"    exists, is safe and loads.  Exit status 0 when enabled and healthy, 1\n"
"    when not enabled, 2 on a problem.\n"
"\n"
"    A host that also runs 32-bit programs uses the entry\n"
"    /usr/$LIB/libnoleak.so, which ld.so expands per program to the build for\n"
"    its ABI (make TARGET=i386-linux-gnu install PREFIX=/usr puts the 32-bit\n"
"    one in /usr/lib/i386-linux-gnu and /usr/lib32).  enable writes that entry\n"
"    when it finds a build for another ABI in /usr/<$LIB>/ (which must be a\n"
"    shared object, readable by all and root's as above), and the plain path\n"
"    when only this one is installed.  For an entry naming $LIB, status also\n"
"    checks and reports the build of each ABI whose libc.so.6 is installed\n"
"    (/lib32, /lib/i386-linux-gnu, ...): one that is missing, of another\n"
"    class or machine, unreadable or not root's is a problem, since every\n"
"    program of that ABI would print a loader error.\n"
"\n"
"    --root DIR works on the tree under DIR instead of /: files are read and\n"
"    written below DIR, the entry names the path seen once DIR is the root.\n"
"\n"
"    With --unit NAME.service the three act on one systemd service instead:\n"
"    enable writes the drop-in /etc/systemd/system/NAME.service.d/noleak.conf\n"
"    with Environment=LD_PRELOAD=<the library> and one NOLEAK_* line per\n"
"    --audit or --set KEY=VALUE (checked first); disable removes it; status\n"
"    shows it (exit status 1 when there is none).  Each says to run\n"
"    systemctl daemon-reload and restart the service, or does both with\n"
"    --now (not under --root).\n"
"\n"
"OPTIONS\n"
"    --audit            Change nothing, only log what enforce mode would do\n"
"                       (NOLEAK_MODE=audit).\n"
"    --log DEST         Where events go: none, stderr, syslog, journal or a\n"
"                       file (NOLEAK_LOG).  A relative file name is taken\n"
"                       from the current directory and passed on as an\n"
"                       absolute path.  A file the shim would refuse (in a\n"
"                       directory others may write in, a symlink: see the\n"
"                       README) is a bad value.\n"
"    --config FILE      Read the policy from FILE instead of /etc/noleak.conf\n"
"                       (NOLEAK_CONFIG), and its drop-ins from FILE.d.  It\n"
"                       must be owned by root or by you and writable by no\n"
"                       one else; its errors are reported before the command\n"
"                       starts.  A relative name is taken from the current\n"
"                       directory; a symlink is passed on as it is.\n"
"    --keep-fds LIST    File descriptors that always survive exec, as a comma-\n"
"                       separated list of numbers and ranges such as 3,7-9\n"
"                       (NOLEAK_KEEP_FDS).\n"
"    --sock-timeout S   Receive and send timeout of connected TCP sockets, in\n"
"                       seconds; 0 turns it off (NOLEAK_SOCK_TIMEOUT).\n"
"    --read-warn S      Log a blocked read, wait or receive after S seconds,\n"
"                       naming who holds the other end; 0 turns it off\n"
"                       (NOLEAK_READ_WARN).\n"
"    --pgroup MODE      auto, always or never: when spawned children get a\n"
"                       process group of their own (NOLEAK_PGROUP).\n"
"    --set KEY=VALUE    Set any policy key (NOLEAK_<KEY in upper case>); may\n"
"                       be repeated.  Keys are listed under ENVIRONMENT.\n"
"    -h, --help         Print this text and exit.\n"
"    --version          Print the version and exit.\n"
"\n"
"    Options are applied in order: a later one wins over an earlier one that\n"
"    sets the same key.\n"
"\n"
"ENVIRONMENT\n"
"    These variables are read by libnoleak.so in every process; noleak sets\n"
"    them from its options and passes on those already set.  They override\n"
"    the config file.  An empty one counts as not set; a list set to a\n"
"    blank (NOLEAK_KEEP_FDS=' ') is the empty list, which is what noleak\n"
"    exports for --set KEY= .  A program started in secure mode (set-user-ID\n"
"    or set-group-ID, run by another user) ignores them all.\n"
"\n"
"    NOLEAK_MODE                enforce (default), audit (log only) or off.\n"
"    NOLEAK_LOG                 none, stderr, syslog, journal or an absolute\n"
"                               path.  Default none; syslog in audit mode.\n"
"    NOLEAK_CONFIG              The config file (default /etc/noleak.conf).\n"
"    NOLEAK_KEEP_FDS            fds that always survive exec: 3,7-9.\n"
"    NOLEAK_SOCK_TIMEOUT        Seconds, for connected TCP sockets (default\n"
"                               300); 0 = off.\n"
"    NOLEAK_KEEPALIVE           Dead-peer detection on TCP sockets:\n"
"                               IDLE,INTERVAL,COUNT[,USER_TIMEOUT] in seconds,\n"
"                               seconds, probes, seconds (default 60,10,6), or\n"
"                               off.\n"
"    NOLEAK_READ_WARN           Seconds before a blocked read is logged with\n"
"                               its culprit; 0 = off (default 0; 30 in audit\n"
"                               mode).\n"
"    NOLEAK_READ_TIMEOUT        Limit, in seconds, on a blocked read; 0 = none\n"
"                               (default).  See the README.\n"
"    NOLEAK_PGROUP              auto (default), always or never.\n"
"    NOLEAK_ORPHANS             What happens to children left behind: keep,\n"
"                               log (default) or kill.\n"
"    NOLEAK_STDIN               keep (default), or detach a stdin whose\n"
"                               terminal is gone.\n"
"    NOLEAK_FD_TRANSPARENT      Comma-separated program names whose fds are\n"
"                               left untouched (default: the common shells,\n"
"                               which pass fds on to the commands they run).\n"
"    NOLEAK_FD_TRAMPOLINES      Comma-separated program names that pass fds\n"
"                               to the program they start by listing them in\n"
"                               their arguments (default: jspawnhelper).\n"
"    NOLEAK_SOCK_TIMEOUT_UNIX   Seconds, for UNIX sockets; 0 = off (default).\n"
"    NOLEAK_SOCK_TIMEOUT_DGRAM  Seconds, for datagram sockets; 0 = off\n"
"                               (default).\n"
"    NOLEAK_KILL_ESCALATE       never, shell (default) or always: which kills\n"
"                               of a regrouped child reach its whole group.\n"
"    NOLEAK_KILL_WRAPPERS       Comma-separated exec wrappers whose kill\n"
"                               reaches their group under shell (default:\n"
"                               timeout,nohup,env,nice,setsid,stdbuf,xargs,\n"
"                               sudo,su,runuser,script).\n"
"    NOLEAK_LAUNCHED            Set by noleak to its own process id, start\n"
"                               time and pid namespace (PID:START:PIDNS),\n"
"                               which the command keeps: tells the shim which\n"
"                               process noleak started.  Not meant to be set\n"
"                               by hand.\n"
"    LD_PRELOAD                 libnoleak.so is appended to it, unless a copy\n"
"                               of the library is loaded already (through\n"
"                               LD_PRELOAD or /etc/ld.so.preload): then the\n"
"                               command keeps that one, with a warning when\n"
"                               its version differs.\n"
"\n"
"EXIT STATUS\n"
"    The command's own exit status once it runs.  Before that:\n"
"    2      bad option or value, libnoleak.so not found, or a command a\n"
"           preload cannot reach (static binary or static interpreter).\n"
"    126    The command cannot be executed: found but not executable, or\n"
"           its path cannot be followed (not a directory, a symlink loop).\n"
"    127    The command was not found.\n"
"\n"
"EXAMPLES\n"
"    noleak --audit --log /tmp/noleak.log make -j4\n"
"        Build as usual and log every fd that would have leaked.\n"
"    noleak --read-warn 10 --log stderr ./server\n"
"        Say which process holds the other end of a read blocked for 10 s.\n"
"    noleak --set keepalive=30,5,4 --set orphans=kill -- ./agent\n"
"        Set keys that have no option of their own.\n"
"\n"
"SEE ALSO\n"
"    noleak-report(1), ld.so(8), the README (configuration reference,\n"
"    /etc/ld.so.preload, known limits).\n";

/* Subcommands, chosen by the first argument.  Each takes the argument
 * vector from its own name on. */
struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
	{ "inspect", noleak_inspect_main },
	{ "enable", noleak_enable_main },
	{ "disable", noleak_disable_main },
	{ "status", noleak_status_main },
	{ NULL, NULL },
};

int noleak_stdout_written(const char *what)
{
	return nl_stdout_failed("noleak", what) ? NL_EXIT_USAGE : 0;
}

static int usage_error(const char *why, const char *what)
{
	if (why)
		fprintf(stderr, "noleak: %s%s\n", why, what ? what : "");
	fputs(usage_line, stderr);
	return NL_EXIT_USAGE;
}

enum { OPT_AUDIT = 256, OPT_LOG, OPT_CONFIG, OPT_KEEP_FDS, OPT_SOCK_TIMEOUT,
       OPT_READ_WARN, OPT_PGROUP, OPT_SET, OPT_VERSION };

static const struct option long_options[] = {
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "keep-fds", required_argument, NULL, OPT_KEEP_FDS },
	{ "sock-timeout", required_argument, NULL, OPT_SOCK_TIMEOUT },
	{ "read-warn", required_argument, NULL, OPT_READ_WARN },
	{ "pgroup", required_argument, NULL, OPT_PGROUP },
	{ "set", required_argument, NULL, OPT_SET },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The policy key each option sets, and how messages name it. */
static const struct {
	int opt;
	const char *key;
	const char *origin;
} option_keys[] = {
	{ OPT_AUDIT, "mode", "--audit" },
	{ OPT_LOG, "log", "--log" },
	{ OPT_KEEP_FDS, "keep_fds", "--keep-fds" },
	{ OPT_SOCK_TIMEOUT, "sock_timeout", "--sock-timeout" },
	{ OPT_READ_WARN, "read_warn", "--read-warn" },
	{ OPT_PGROUP, "pgroup", "--pgroup" },
};

static int option_setting(int opt, const char *arg, struct noleak_setting *s)
{
	for (size_t i = 0; i < sizeof option_keys / sizeof option_keys[0]; i++)
		if (option_keys[i].opt == opt) {
			s->key = option_keys[i].key;
			s->value = opt == OPT_AUDIT ? "audit" : arg;
			s->origin = option_keys[i].origin;
			return 0;
		}
	return -1;
}

/* getopt names an unknown short option in optopt; a long one only by
 * the argument it just passed.  A known long option given a value it does
 * not take (--audit=1) comes here too, with its own code in optopt. */
static int bad_option(char **argv)
{
	const char *arg = argv[optind - 1];
	if (optopt && !strncmp(arg, "--", 2))
		return usage_error("option takes no value: ", arg);
	char shortopt[3] = { '-', (char)optopt, 0 };
	return usage_error("unknown option: ", optopt ? shortopt : arg);
}

/* --set KEY=VALUE: the key is cut out of the argument in place, and the
 * setting's origin names it ("--set keep_fds"). */
static int parse_set(char *arg, struct noleak_setting *s)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return -1;
	*eq = 0;
	s->key = arg;
	s->value = eq + 1;
	char *origin;
	if (asprintf(&origin, "--set %s", arg) < 0)
		return -1;
	s->origin = origin;
	return 0;
}

static int run_main(int argc, char **argv)
{
	/* Never more settings than arguments. */
	struct noleak_setting *settings = calloc((size_t)argc, sizeof *settings);
	struct noleak_run_opts o = { settings, 0, NULL };
	if (!settings) {
		perror("noleak");
		return NL_EXIT_USAGE;
	}
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
		struct noleak_setting *s = &settings[o.n_settings];
		switch (opt) {
		case 'h':
			fputs(help_text, stdout);
			return noleak_stdout_written("the help");
		case OPT_VERSION:
			printf("noleak %s\n", NL_VERSION);
			return noleak_stdout_written("the version");
		case OPT_CONFIG:
			o.config = optarg;
			break;
		case OPT_SET:
			if (parse_set(optarg, s) < 0)
				return usage_error("--set needs KEY=VALUE, got: ", optarg);
			o.n_settings++;
			break;
		case ':':
			return usage_error("option needs a value: ", argv[optind - 1]);
		case '?':
			return bad_option(argv);
		default:
			if (option_setting(opt, optarg, s) < 0)
				return bad_option(argv);
			o.n_settings++;
			break;
		}
	}
	if (optind >= argc)
		return usage_error("no command given", NULL);
	return noleak_run(&o, argv + optind);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		for (const struct subcommand *c = subcommands; c->name; c++)
			if (!strcmp(argv[1], c->name))
				return c->main(argc - 1, argv + 1);
	return run_main(argc, argv);
}
