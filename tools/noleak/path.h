/* Finding a command on PATH, as execvp does.
 *
 * Both the launcher (run.c: the command it is asked to run) and the ELF
 * probe (elf.c: the NAME of `#!/usr/bin/env NAME`) look programs up; this
 * file is below both, so neither calls into the other. */
#ifndef NL_TOOL_PATH_H
#define NL_TOOL_PATH_H

#include <stddef.h>

/* Find `name` as execvp would: as given when it contains '/', else in each
 * PATH directory.  Returns 0 and the path in `out`, or the error execvp
 * would end with: -ENOENT, -EACCES (found, but nowhere executable),
 * -EISDIR, or what looking the path up gave (-ENOTDIR, -ELOOP,
 * -ENAMETOOLONG, ...; in a PATH walk, those glibc does not pass over). */
int noleak_find_command(const char *name, char *out, size_t cap);

#endif
