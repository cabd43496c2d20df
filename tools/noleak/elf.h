/* What kind of program a file is, seen the way the kernel sees it: can a
 * preload reach it?
 *
 * A preload is applied by the dynamic loader, so it reaches a program only
 * when the kernel starts the loader for it: an ELF file with a PT_INTERP
 * program header (or the loader itself, run as a command).  For a script
 * the question moves to its #! interpreter, followed as the kernel follows
 * it, and through `#!/usr/bin/env NAME` to NAME on PATH (path.h).  Only
 * reads files; never runs anything. */
#ifndef NL_TOOL_ELF_H
#define NL_TOOL_ELF_H

#include <stddef.h>

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

#endif
