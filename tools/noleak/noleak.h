/* The noleak launcher: its parts, and what they share.
 *
 *   noleak.c      options, --help, subcommand dispatch
 *   run.c         checking the settings and the command, then exec; the
 *                 settings are checked against policy/'s own key table
 *   elf.c/h       what kind of program a file is (can a preload reach it?)
 *   path.c/h      the PATH search of execvp (used by run.c and elf.c)
 *   preload.c     noleak enable | disable | status, on /etc/ld.so.preload
 *   trust.c/h     ... the ownership checks and the test load they rely on
 *   unit.c        ... --unit NAME.service: a systemd drop-in instead
 *   ldpreload.c/h ... the file's text: parsed and rewritten, no I/O
 *   inroot.c/h    ... paths under --root DIR, resolved as once DIR is the
 *                 root (for preload.c, unit.c and trust.c)
 *
 * Calls go one way: noleak.c → run.c → elf.c → path.c, and
 * noleak.c → preload.c → unit.c, trust.c, ldpreload.c → inroot.c. */
#ifndef NL_TOOL_H
#define NL_TOOL_H

#include <stddef.h>

#include "common/version.h"

/* The library the launcher preloads and enable installs. */
#define NL_LIB_NAME "libnoleak.so"
/* The multiarch directory name (the Makefile passes gcc -print-multiarch). */
#ifndef NL_MULTIARCH
#define NL_MULTIARCH "x86_64-linux-gnu"
#endif

/* Exit statuses of the launcher itself (the command's own status otherwise,
 * since the launcher becomes the command). */
#define NL_EXIT_USAGE 2      /* bad option or value, unreachable target */
#define NL_EXIT_CANNOT 126   /* found but not executable */
#define NL_EXIT_NOTFOUND 127 /* command not found */

/* --- noleak.c --- */

/* Everything written to stdout reached it, or a message on stderr naming
 * `what` and NL_EXIT_USAGE: a full disk or a closed stdout is no help
 * and no status. */
int noleak_stdout_written(const char *what);

/* --- run.c --- */

/* One policy key given on the command line, in command-line order. */
struct noleak_setting {
	const char *key;     /* policy key: "mode", "keep_fds", ... */
	const char *value;
	const char *origin;  /* how it was given, for messages: "--audit" */
};

struct noleak_run_opts {
	const struct noleak_setting *settings;
	size_t n_settings;
	const char *config;  /* --config FILE, or NULL */
};

/* The text a NOLEAK_* variable carries for a value given on the command
 * line (noleak --set, enable --unit --set).  The shim takes an empty
 * variable for one that is not set (policy/env.c), so an empty list
 * (--set keep_fds=) goes as one blank, which it trims to the empty list. */
static inline const char *noleak_env_text(const char *value)
{
	return *value ? value : " ";
}

/* Check everything, set up the environment and exec argv in place.  Returns
 * only on failure, with the exit status to use (a message was printed). */
int noleak_run(const struct noleak_run_opts *o, char *const argv[]);

/* --- preload.c: /etc/ld.so.preload for the whole host --- */

int noleak_enable_main(int argc, char **argv);
int noleak_disable_main(int argc, char **argv);
int noleak_status_main(int argc, char **argv);

/* --- unit.c: one systemd service, through a drop-in --- */

struct noleak_unit_opts {
	const char *action;  /* "enable", "disable" or "status" */
	const char *unit;    /* NAME.service */
	const char *root;    /* "/" or a tree */
	const char *lib;     /* the LD_PRELOAD path (enable) */
	const char *syslibdir; /* what $LIB in it stands for (enable) */
	int now;             /* reload systemd and restart the service */
	const struct noleak_setting *settings;
	size_t n_settings;
};

int noleak_unit_main(const struct noleak_unit_opts *o);

#endif
