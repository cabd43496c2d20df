/* Fuzz target: the policy parser (config file text and every env value).
 * Whatever the bytes, loading must not crash, overrun or leave a value out
 * of its range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* A list: its default (a constant) or its row of names[], ended in it. */
static int list_ok(const struct nl_policy *p, const char *list)
{
	for (int i = 0; i < 3; i++)
		if (list == p->names[i])
			return memchr(list, 0, NL_NAMES_MAX) != NULL;
	return list != NULL && strlen(list) < NL_NAMES_MAX;
}

static void check_ranges(const struct nl_policy *p)
{
	if (p->mode > NL_MODE_OFF || p->log_kind > NL_LOG_JOURNAL ||
	    p->pgroup > NL_PGROUP_NEVER || p->orphans > NL_ORPHANS_KILL ||
	    p->stdin_mode > NL_STDIN_DETACH ||
	    p->kill_escalate > NL_ESCALATE_ALWAYS ||
	    p->n_keep_fds < 0 ||
	    (p->n_keep_fds > NL_KEEP_INLINE) != (p->keep_more != NULL) ||
	    p->n_errors < 0 || p->n_errors > NL_CONFIG_ERRORS_MAX)
		abort();
	const struct nl_fd_range *r = nl_policy_keep_fds(p);
	for (int i = 0; i < p->n_keep_fds; i++)
		if (r[i].lo < 0 || r[i].lo > r[i].hi)
			abort();
	if (!memchr(p->log_path, 0, sizeof p->log_path) ||
	    !list_ok(p, p->fd_transparent) ||
	    !list_ok(p, p->fd_trampolines) ||
	    !list_ok(p, p->kill_wrappers) ||
	    !memchr(p->config_path, 0, sizeof p->config_path))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_policy p;
	struct nl_identity who = { "/usr/sbin/agent", "/opt/run.sh", "agent" };

	/* As a config file. */
	nl_policy_defaults(&p);
	nl_policy_apply_config(&p, (const char *)data, size, "/fuzz.conf", &who);
	nl_policy_finish(&p);
	check_ranges(&p);
	nl_policy_release(&p);

	/* As the value of every key, and as NOLEAK_* variables. */
	char *value = malloc(size + 1);
	memcpy(value, data, size);
	value[size] = '\0';
	static const char *const keys[] = {
		"mode", "log", "keep_fds", "sock_timeout", "keepalive",
		"read_warn", "read_timeout", "pgroup", "orphans", "stdin",
		"fd_transparent", "fd_trampolines", "sock_timeout_unix",
		"sock_timeout_dgram", "kill_escalate", "kill_wrappers", "bogus",
	};
	nl_policy_defaults(&p);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		nl_policy_set(&p, keys[i], value, "fuzz");
	check_ranges(&p);
	nl_policy_release(&p);

	char *env = malloc(size + 16);
	memcpy(env, "NOLEAK_MODE=", 12);
	memcpy(env + 12, data, size);
	env[12 + size] = '\0';
	char *envp[] = { env, value, NULL };
	nl_policy_defaults(&p);
	nl_policy_apply_env(&p, envp);
	nl_policy_finish(&p);
	check_ranges(&p);
	nl_policy_release(&p);
	free(env);
	free(value);
	return 0;
}
