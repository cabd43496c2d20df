/* The noleak launcher: shared declarations of its parts.
 *
 *   noleak.c        options, --help, subcommand dispatch
 *   noleak_run.c    checking the settings and the command, then exec
 *   noleak_elf.c    what kind of program a file is (can a preload reach it?)
 */
#ifndef NL_TOOL_H
#define NL_TOOL_H

#include <stddef.h>

#include "common/version.h"

/* Exit statuses of the launcher itself (the command's own status otherwise,
 * since the launcher becomes the command). */
#define NL_EXIT_USAGE 2      /* bad option or value, unreachable target */
#define NL_EXIT_CANNOT 126   /* found but not executable */
#define NL_EXIT_NOTFOUND 127 /* command not found */

/* --- noleak_run.c --- */

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

/* The policy keys, in the order of the README's table; NULL-terminated.
 * Key k travels to the shim as NOLEAK_<K uppercased>. */
extern const char *const noleak_keys[];

/* Check everything, set up the environment and exec argv in place.  Returns
 * only on failure, with the exit status to use (a message was printed). */
int noleak_run(const struct noleak_run_opts *o, char *const argv[]);

/* Find `name` as execvp would: as given when it contains '/', else in each
 * PATH directory.  Returns 0 and the path in `out`, or -ENOENT, -EACCES
 * (found, but nowhere executable), -EISDIR, -ENAMETOOLONG. */
int noleak_find_command(const char *name, char *out, size_t cap);

/* --- noleak_elf.c --- */

enum noleak_exe_kind {
	NL_EXE_DYNAMIC,    /* ELF with PT_INTERP: the loader runs */
	NL_EXE_STATIC,     /* ELF without PT_INTERP: no loader, no preload */
	NL_EXE_SCRIPT,     /* starts with #! */
	NL_EXE_OTHER,      /* anything else (shell text, binfmt_misc, ELF
				* objects that are not programs) */
	NL_EXE_UNREADABLE, /* could not be read: nothing can be said */
};

/* What kind of program `path` is; for ELF files, *elf_bits gets 32 or 64
 * (left alone otherwise). */
enum noleak_exe_kind noleak_exe_kind(const char *path, int *elf_bits);

/* The #! line of a script as the kernel splits it: the interpreter, and the
 * rest of the line (trimmed) as one optional argument ("" when none).
 * Returns 0, or -1 when the file has no usable #! line. */
int noleak_shebang(const char *path, char *interp, size_t icap, char *arg,
		   size_t acap);

/* The program the kernel ends up loading when `path` is executed: `path`
 * itself, or the interpreter of its #! line, followed through scripts that
 * name scripts and through `#!/usr/bin/env NAME` (NAME looked up on PATH).
 * Fills `out` and returns its kind.  Returns NL_EXE_UNREADABLE when the
 * chain cannot be followed (then `out` names where it stopped). */
enum noleak_exe_kind noleak_loaded_program(const char *path, char *out,
					   size_t cap, int *elf_bits);

/* noleak_preload.c: /etc/ld.so.preload for the whole host. */
int noleak_enable_main(int argc, char **argv);
int noleak_disable_main(int argc, char **argv);
int noleak_status_main(int argc, char **argv);

#endif
