/* Running real processes from integration tests. */
#include "run.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *top(const char *rel)
{
	static __thread char buf[8][PATH_MAX];
	static __thread int next;
	char *out = buf[next++ % 8];
	const char *t = getenv("NOLEAK_TOP");
	char cwd[PATH_MAX];
	if (!t || !*t)
		t = getcwd(cwd, sizeof cwd) ? cwd : ".";
	if (snprintf(out, PATH_MAX, "%s/%s", t, rel) >= PATH_MAX)
		abort();
	return out;
}

const char *shim_path(void) { return top("build/libnoleak.so"); }

const char *tmpdir(void)
{
	static __thread char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "/tmp/noleak-test.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	return dir;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char **build_env(char *const extra[], int shim)
{
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	char **env = calloc(n + m + 2, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(environ[i], "NOLEAK_", 7) && strncmp(environ[i], "NOLEAK_TOP=", 11))
			continue;  /* tests state the policy they want */
		if (!strncmp(environ[i], "LD_PRELOAD=", 11))
			continue;
		/* Under `make check`, the outer make's variables would reach
		 * every make a test runs (jobserver fds, "Entering
		 * directory" lines): programs under test start clean. */
		if (!strncmp(environ[i], "MAKEFLAGS=", 10) ||
		    !strncmp(environ[i], "MFLAGS=", 7) ||
		    !strncmp(environ[i], "MAKELEVEL=", 10) ||
		    !strncmp(environ[i], "MAKE_TERMOUT=", 13) ||
		    !strncmp(environ[i], "MAKE_TERMERR=", 13))
			continue;
		env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++) {
		const char *eq = strchr(extra[j], '=');
		size_t klen = eq ? (size_t)(eq - extra[j]) : strlen(extra[j]);
		for (size_t i = 0; i < k; i++)
			if (!strncmp(env[i], extra[j], klen) && env[i][klen] == '=') {
				memmove(&env[i], &env[i + 1], (k - i) * sizeof *env);
				k--;
				break;
			}
		if (eq && eq[1])
			env[k++] = extra[j];
	}
	if (shim) {
		static __thread char pre[PATH_MAX + 16];
		snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
		env[k++] = pre;
	}
	env[k] = NULL;
	return env;
}

static void drain(int fd, char *buf, size_t cap, size_t *len, int *open_)
{
	if (*len + 1 >= cap) {
		char sink[4096];
		if (read(fd, sink, sizeof sink) <= 0)
			*open_ = 0;
		return;
	}
	ssize_t r = read(fd, buf + *len, cap - 1 - *len);
	if (r <= 0)
		*open_ = 0;
	else
		*len += (size_t)r;
	buf[*len] = 0;
}

int run(struct run_result *r, char *const argv[], char *const env[],
	int shim, double timeout_s, const char *stdin_text)
{
	memset(r, 0, sizeof *r);
	r->status = -1;
	int out[2], err[2], in[2];
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
		return -1;
	char **envp = build_env(env, shim);
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (!stdin_text) {
			int null = open("/dev/null", O_RDONLY);
			dup2(null, 0);
			if (null > 0)
				close(null);
		}
		/* Only stdio: the test runner's own fds must not reach the
		 * program under test (the shim would pass them on as fds
		 * handed over at start-up). */
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(argv[0], argv, envp);
		execvpe(argv[0], argv, envp);
		_exit(127);
	}
	free(envp);
	close(out[1]);
	close(err[1]);
	close(in[0]);
	if (stdin_text)
		(void)!write(in[1], stdin_text, strlen(stdin_text));
	close(in[1]);
	size_t ol = 0, el = 0;
	int oo = 1, eo = 1, done = 0;
	while (!done) {
		struct pollfd p[2] = { { oo ? out[0] : -1, POLLIN, 0 },
				       { eo ? err[0] : -1, POLLIN, 0 } };
		double left = timeout_s - (now() - t0);
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			r->timed_out = 1;
			break;
		}
		int ms = oo || eo ? (int)(left * 1000) + 1 : 20;
		if (ms > 50 && !(oo || eo))
			ms = 50;
		if (oo || eo) {
			if (poll(p, 2, ms > 100 ? 100 : ms) > 0) {
				if (p[0].revents)
					drain(out[0], r->out, sizeof r->out, &ol, &oo);
				if (p[1].revents)
					drain(err[0], r->err, sizeof r->err, &el, &eo);
			}
		} else {
			usleep(2000);
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			r->status = st;
			/* read what is left without waiting for holders of the
			 * pipes that outlive the child */
			for (int i = 0; i < 20 && (oo || eo); i++) {
				struct pollfd q[2] = { { oo ? out[0] : -1, POLLIN, 0 },
						       { eo ? err[0] : -1, POLLIN, 0 } };
				if (poll(q, 2, 5) <= 0)
					break;
				if (q[0].revents)
					drain(out[0], r->out, sizeof r->out, &ol, &oo);
				if (q[1].revents)
					drain(err[0], r->err, sizeof r->err, &el, &eo);
			}
			done = 1;
		}
	}
	if (r->timed_out) {
		int st;
		waitpid(pid, &st, 0);
		r->status = st;
	}
	close(out[0]);
	close(err[0]);
	r->seconds = now() - t0;
	return 0;
}

int run_sh(struct run_result *r, const char *cmd, char *const env[], int shim,
	   double timeout_s)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	return run(r, argv, env, shim, timeout_s, NULL);
}

const char *slurp(const char *path)
{
	static __thread char buf[1 << 20];
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(fd);
	return buf;
}

long sum_after(const char *text, const char *key)
{
	long sum = 0;
	for (const char *p = text; p && (p = strstr(p, key)); p++)
		sum += strtol(p + strlen(key), NULL, 10);
	return sum;
}

int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	const char *line = text;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *hit = memmem(line, len, needle, strlen(needle));
		if (hit)
			n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

int exit_code(const struct run_result *r)
{
	return r->status >= 0 && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

int fd_list_has(const char *s, int fd)
{
	while (*s >= '0' && *s <= '9') {
		if ((int)strtol(s, (char **)&s, 10) == fd)
			return 1;
		if (*s == ',')
			s++;
	}
	return 0;
}

const char *trace_spawn_loop(const char *calls, const char *method,
			     int count)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=enforce "
		 "NOLEAK_CONFIG=/nonexistent/noleak.conf exec %s %s %d",
		 shim_path(), top("build/fixtures/pg_spawn_loop"), method,
		 count);
	const char *t = trace_calls(calls, cmd);
	cr_assert(count_lines_with(t, "execve(\"/bin/true\"") >= count,
		  "%s: the loop did not run:\n%s", method, t);
	return t;
}

const char *trace_calls(const char *calls, const char *cmd)
{
	static struct run_result r;
	char trace[PATH_MAX + 8], line[PATH_MAX + 16384];
	if (access("/usr/bin/strace", X_OK) != 0)
		cr_skip_test("strace is not installed");
	snprintf(trace, sizeof trace, "%s/trace", tmpdir());
	snprintf(line, sizeof line, "exec strace -f -qq -e trace=%s -o %s sh -c '%s'",
		 calls, trace, cmd);
	cr_assert_eq(run_sh(&r, line, NULL, 0, 30.0), 0);
	cr_assert_eq(exit_code(&r), 0, "%s\n%s%s", line, r.out, r.err);
	return slurp(trace);
}
