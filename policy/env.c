/* The environment, the highest source: NOLEAK_* variables.
 *
 * The caller passes the environment to read (the one the process started
 * with), so the policy does not depend on what the host program has since
 * done to environ, and getenv() is never needed.
 * Under AT_SECURE the loader never calls in here (a setuid program must not
 * obey its caller's environment). */
#include "policy.h"

#include <string.h>

const char *nl_policy_env_value(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	if (envp == NULL)
		return NULL;
	for (int i = 0; envp[i] != NULL; i++) {
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	}
	return NULL;
}

void nl_policy_apply_env(struct nl_policy *p, char *const envp[])
{
	for (int k = 0; k < NL_KEY_COUNT; k++) {
		const char *env = nl_policy_key_env((enum nl_key)k);
		const char *v = nl_policy_env_value(envp, env);
		/* NOLEAK_X= (empty) means "not set", so a wrapper script can
		 * clear a variable without unsetting it.  Unknown NOLEAK_*
		 * names are not errors: the launcher and the tests use the
		 * prefix for their own variables. */
		if (v != NULL && *v != '\0')
			nl_policy_set(p, nl_policy_key_name((enum nl_key)k), v,
				      env);
	}
}
