/* Small file helpers for integration tests (they assert on failure). */
#ifndef NL_TEST_FILES_H
#define NL_TEST_FILES_H

#include <sys/types.h>

/* Write text to path (created or truncated), then chmod it to mode. */
void write_file(const char *path, const char *text, mode_t mode);

#endif
