/* The environment, the highest source: NOLEAK_* variables.
 *
 * The caller passes the environment to read (the one the process started
 * with), so the policy does not depend on what the host program has since
 * done to environ, and getenv() is never needed.
 * Under AT_SECURE the loader never calls in here (a setuid program must not
 * obey its caller's environment), and start-up scrubs every NOLEAK_*
 * variable out of environ so that no child inherits them. */
#include "policy.h"

#include <stdint.h>
#include <string.h>

/* The rest of `s` after `prefix`, or NULL.  A loop, not strlen() and
 * strncmp(): this runs at the start of every process, where each libc page
 * touched for the first time is a page fault (HACKING: Page faults). */
static const char *after(const char *s, const char *prefix)
{
	while (*prefix != '\0')
		if (*s++ != *prefix++)
			return NULL;
	return s;
}

const char *nl_policy_env_value(char *const envp[], const char *name)
{
	if (envp == NULL)
		return NULL;
	for (int i = 0; envp[i] != NULL; i++) {
		const char *rest = after(envp[i], name);
		if (rest && *rest == '=')
			return rest + 1;
	}
	return NULL;
}

int nl_policy_env_remove(char **envp, const char *prefix)
{
	int i, kept = 0;

	if (envp == NULL)
		return 0;
	for (i = 0; envp[i] != NULL; i++) {
		if (after(envp[i], prefix))
			continue;
		if (kept != i)
			envp[kept] = envp[i];
		kept++;
	}
	if (kept != i)
		envp[kept] = NULL;
	return i - kept;
}

int nl_policy_env_scrub(char **envp)
{
	return nl_policy_env_remove(envp, "NOLEAK_");
}

/* One pass over the environment: this runs at the start of every process,
 * and most variables are not ours (a cheap first-byte test skips them).
 * The first definition of a name counts, as with getenv(). */
void nl_policy_apply_env(struct nl_policy *p, char *const envp[])
{
	static const char prefix[] = "NOLEAK_";
	uint32_t seen = 0;

	for (int i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char *e = envp[i];
		if (e[0] != 'N' || !after(e, prefix))
			continue;
		for (int k = 0; k < NL_KEY_COUNT; k++) {
			const char *env = nl_policy_key_env((enum nl_key)k);
			const char *rest = after(e, env);
			if (!rest || *rest != '=')
				continue;
			const char *v = rest + 1;
			/* NOLEAK_MODE= (empty, any key) means "not set", so a wrapper
			 * script can clear a variable without unsetting it.
			 * Unknown NOLEAK_* names are not errors: the launcher
			 * and the tests use the prefix for their own
			 * variables. */
			if (!(seen & (1u << k)) && *v != '\0')
				nl_policy_set(p, nl_policy_key_name((enum nl_key)k),
					      v, env);
			seen |= 1u << k;
			break;
		}
	}
}
