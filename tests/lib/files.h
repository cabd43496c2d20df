/* Small file helpers for integration tests (they assert on failure). */
#ifndef NL_TEST_FILES_H
#define NL_TEST_FILES_H

#include <sys/types.h>

/* Write text to path (created or truncated), then chmod it to mode. */
void write_file(const char *path, const char *text, mode_t mode);

/* A copy of the program at `path` that any user can run: in a fresh
 * temporary directory of mode 0755, the file 0755.  For tests that run a
 * program as another user: the source tree may sit below a directory that
 * user cannot enter (/root, a 0700 mktemp -d).  Returns a static buffer
 * (one per thread, overwritten by the next call). */
const char *copy_for_anyone(const char *path);

#endif
