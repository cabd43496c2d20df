/* Fuzz target: fds named in argv and the environment.  Arguments are the
 * input split at NUL bytes, the environment the same input split at
 * newlines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static char **split(const uint8_t *data, size_t size, char sep, char **buf)
{
	*buf = malloc(size + 1);
	memcpy(*buf, data, size);
	(*buf)[size] = '\0';
	size_t n = 1;
	for (size_t i = 0; i < size; i++)
		n += (*buf)[i] == sep;
	char **v = calloc(n + 1, sizeof *v);
	size_t k = 0;
	v[k++] = *buf;
	for (size_t i = 0; i < size; i++)
		if ((*buf)[i] == sep) {
			(*buf)[i] = '\0';
			v[k++] = *buf + i + 1;
		}
	v[k] = NULL;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *abuf, *ebuf;
	char **argv = split(data, size, '\0', &abuf);
	char **envp = split(data, size, '\n', &ebuf);
	struct nl_fdlist l;
	nl_named_fds(argv, envp, 1234, &l);
	if (l.n < 0 || (l.n && !l.fd) || l.overflow)
		abort();
	for (int i = 0; i < l.n; i++)
		if (l.fd[i] <= 2 || l.fd[i] >= (1 << 20))
			abort();
	nl_fdlist_release(&l);
	free(argv);
	free(envp);
	free(abuf);
	free(ebuf);
	return 0;
}
