/* Fds a new program is told about in its argv or environment.
 *
 * Before every exec libnoleak marks the fds above 2 close-on-exec, but some
 * programs mean their child to inherit an fd and say so only by writing its
 * number where the child will look.  apt runs `dpkg --status-fd 16` over a
 * pipe made with pipe2(..., 0), the JVM runs `jspawnhelper <version>
 * 11:12:14`, gpg takes --passphrase-fd=3, openssl -passin fd:3, bash process
 * substitution gives /dev/fd/63, systemd socket activation sets LISTEN_FDS,
 * GNU make passes its jobserver in MAKEFLAGS, php-fpm's master names its
 * listeners in FPM_SOCKETS="127.0.0.1:9000=8" when it re-execs itself and
 * HAProxy's master names its socketpair only inside
 * HAPROXY_PROCESSES="|type=w;fd=3;pid=42"; uWSGI's master names none when
 * it re-execs itself on a reload (UWSGI_RELOADS=N): its listening sockets
 * are meant to cross, found again by address.  Closing
 * those fds would break the child, so the exec interposer asks this file
 * which numbers were named.
 *
 * The list is biased towards keeping: an fd wrongly kept open only leaks,
 * an fd wrongly closed breaks the program.  A number is only a name: the
 * sweep keeps a named fd only when the program made it inheritable
 * (core/fdintent.h), so a stray number never keeps a leaked fd.
 *
 * This runs inside the exec interposer, possibly in a vfork child: no
 * malloc, no libc calls, plain loops over strings; the system calls are
 * fcntl(F_GETFD) to see whether an fd is open and the scratch mappings the
 * list lives in (any number of fds can be named).  argv and envp come from the
 * host and may be anything, so every scan is linear, stops at the NUL, and a
 * number too large to be an fd is dropped rather than wrapped; a repeated
 * fd is found in constant time (a bitmap once the list is long). */
#include "policy.h"

#include "common/scratch.h"
#include "common/sys.h"

/* The kernel's default ceiling on fd numbers (fs.nr_open); anything at or
 * above it is treated as not an fd at all. */
#define FD_LIMIT (1 << 20)

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_one_of(char c, const char *set)
{
	for (; *set != '\0'; set++) {
		if (c == *set)
			return 1;
	}
	return 0;
}

/* Length of prefix when s starts with it, else 0. */
static size_t starts_with(const char *s, const char *prefix)
{
	size_t i = 0;

	while (prefix[i] != '\0') {
		if (s[i] != prefix[i])
			return 0;
		i++;
	}
	return i;
}

/* Whether the len bytes at s end with suffix. */
static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = 0;

	while (suffix[n] != '\0')
		n++;
	if (n > len)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[len - n + i] != suffix[i])
			return 0;
	}
	return 1;
}

/* Read the decimal number at s (which starts with a digit) into *value, or
 * -1 when it is FD_LIMIT or more.  All its digits are consumed either way,
 * so a huge number never turns into a small one by wrapping.  Returns the
 * position after the digits. */
static const char *read_number(const char *s, long *value)
{
	long v = 0;

	while (is_digit(*s)) {
		if (v < FD_LIMIT)
			v = v * 10 + (*s - '0');
		s++;
	}
	*value = v < FD_LIMIT ? v : -1;
	return s;
}

/* The whole of s as one decimal number (see read_number), or -1 when s is
 * empty or holds anything but digits. */
static long whole_number(const char *s)
{
	long v;

	if (!is_digit(*s))
		return -1;
	if (*read_number(s, &v) != '\0')
		return -1;
	return v;
}

/* s as one number the way strtol(s, &end, 0) reads it with nothing after
 * it (dpkg reads --status-fd so): blanks before it, a '+', "0x" for hex,
 * a leading 0 for octal.  A leading 0 names the decimal reading too (what
 * atoi() and strtol(s, &end, 10) make of it): "010" names 8 and 10.
 * Returns whether s was such a number (then it is added). */
static int add_c_number(struct nl_fdlist *l, const char *s)
{
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+')
		s++;
	if (!is_digit(*s))
		return 0;
	long v = 0, dec;
	const char *p = s;
	if (s[0] == '0' && (s[1] | 0x20) == 'x') {
		for (p = s + 2; is_digit(*p) || ((*p | 0x20) >= 'a' &&
						   (*p | 0x20) <= 'f'); p++) {
			if (v < FD_LIMIT)
				v = v * 16 + (is_digit(*p) ? *p - '0'
						   : (*p | 0x20) - 'a' + 10);
		}
		if (p == s + 2 || *p != '\0')
			return 0;
		nl_fdlist_add(l, v < FD_LIMIT ? (int)v : -1);
		return 1;
	}
	if (*read_number(s, &dec) != '\0')
		return 0;
	nl_fdlist_add(l, (int)dec);
	if (s[0] == '0') {
		for (p = s; *p >= '0' && *p <= '7'; p++) {
			if (v < FD_LIMIT)
				v = v * 8 + (*p - '0');
		}
		if (*p == '\0' && v != dec)
			nl_fdlist_add(l, v < FD_LIMIT ? (int)v : -1);
	}
	return 1;
}

/* When s is nothing but numbers and bytes from seps, with at least one
 * number, add every number to l.  Anything else in s means it is not a list
 * of fds (a file name, a word) and nothing is added. */
static void add_number_list(struct nl_fdlist *l, const char *s,
			    const char *seps)
{
	int digits = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (is_digit(*p))
			digits = 1;
		else if (!is_one_of(*p, seps))
			return;
	}
	if (!digits)
		return;
	while (*s != '\0') {
		if (is_digit(*s)) {
			long v;
			s = read_number(s, &v);
			nl_fdlist_add(l, (int)v);
		} else {
			s++;
		}
	}
}

/* Up to this many fds, a repeat is found by a look through the list; from
 * then on by a bitmap of every fd number (FD_LIMIT bits), in scratch memory:
 * any number of fds in any order costs linear time, and only the pages of
 * the bitmap that fds fall on are ever touched. */
#define FDLIST_SCAN_MAX 64
#define SEEN_BITS (8 * sizeof(unsigned long))
#define SEEN_BYTES ((size_t)FD_LIMIT / 8)
/* l->seen when there was no memory for the bitmap: search the list. */
#define SEEN_NONE ((unsigned long *)-1)

static int scan_for(const struct nl_fdlist *l, int fd)
{
	if (l->n == 0 || fd > l->max)
		return 0;
	for (int i = 0; i < l->n; i++) {
		if (l->fd[i] == fd)
			return 1;
	}
	return 0;
}

/* Whether fd was in the bitmap; it is afterwards. */
static int seen_test_and_set(unsigned long *seen, int fd)
{
	unsigned long bit = 1UL << ((size_t)fd % SEEN_BITS);
	int was = (seen[(size_t)fd / SEEN_BITS] & bit) != 0;
	seen[(size_t)fd / SEEN_BITS] |= bit;
	return was;
}

/* Whether fd is listed already.  The bitmap is made from the list the
 * first time it is needed; without memory for it, the list is searched. */
static int listed(struct nl_fdlist *l, int fd)
{
	if (l->n < FDLIST_SCAN_MAX || l->seen == SEEN_NONE || fd >= FD_LIMIT)
		return scan_for(l, fd);
	if (l->seen == NULL) {
		void *block = NULL;
		size_t len = 0;
		if (nl_scratch_grow(&block, &len, SEEN_BYTES) < 0) {
			l->seen = SEEN_NONE;
			return scan_for(l, fd);
		}
		l->seen = block;
		for (int i = 0; i < l->n; i++)
			seen_test_and_set(l->seen, l->fd[i]);
	}
	return seen_test_and_set(l->seen, fd);
}

void nl_fdlist_add(struct nl_fdlist *l, int fd)
{
	if (fd <= 2 || listed(l, fd))
		return;
	size_t need = ((size_t)l->n + 1) * sizeof *l->fd;
	void *block = l->fd;
	if (nl_scratch_grow(&block, &l->bytes, need) < 0) {
		l->overflow = 1;
		return;
	}
	l->fd = block;
	l->fd[l->n++] = fd;
	if (l->n == 1 || fd > l->max)
		l->max = fd;
}

void nl_fdlist_release(struct nl_fdlist *l)
{
	void *block = l->fd;
	nl_scratch_free(&block, &l->bytes);
	l->fd = NULL;
	l->n = 0;
	if (l->seen != SEEN_NONE) {
		block = l->seen;
		size_t len = SEEN_BYTES;
		nl_scratch_free(&block, &len);
	}
	l->seen = NULL;
}

/* --- /dev/fd/N and /proc/self/fd/N anywhere in a string --- */

/* Length of an fd-directory prefix at s ("/dev/fd/", "/proc/self/fd/",
 * "/proc/<self>/fd/"), or 0.  /proc/thread-self/fd is the same table. */
static size_t fd_dir_prefix(const char *s, pid_t self)
{
	size_t n;

	if ((n = starts_with(s, "/dev/fd/")) != 0)
		return n;
	if ((n = starts_with(s, "/proc/self/fd/")) != 0)
		return n;
	if ((n = starts_with(s, "/proc/thread-self/fd/")) != 0)
		return n;
	n = starts_with(s, "/proc/");
	if (n == 0 || !is_digit(s[n]) || self <= 0)
		return 0;
	long pid;
	const char *after = read_number(s + n, &pid);
	size_t tail = starts_with(after, "/fd/");
	if (pid != (long)self || tail == 0)
		return 0;
	return (size_t)(after - s) + tail;
}

static void add_fd_paths(struct nl_fdlist *l, const char *s, pid_t self)
{
	while (*s != '\0') {
		size_t n = *s == '/' ? fd_dir_prefix(s, self) : 0;
		if (n != 0 && is_digit(s[n])) {
			long v;
			s = read_number(s + n, &v);
			nl_fdlist_add(l, (int)v);
		} else {
			s++;
		}
	}
}

/* --- argv --- */

/* "fd=N", "fd:N" and "fd://N", in any case, as a token of a longer string:
 * HAProxy's HAPROXY_PROCESSES="|type=w;fd=3;pid=42", openssl's -passin
 * fd:3 and -passout=fd:9, socat's FD:3 and FD:3!!FD:4, gunicorn's --bind
 * fd://3.  A token starts the string or follows one of TOKEN_EDGES or '=',
 * and ends the string or is followed by one of TOKEN_EDGES: "pass:fd:3" is
 * a password, "cfd=3", "xfd:4", "fd:5x" and "fd:6:7" are not fds. */
#define TOKEN_EDGES "|;,&! \t\n"

static int is_token_end(char c)
{
	return c == '\0' || is_one_of(c, TOKEN_EDGES);
}

static void add_fd_tokens(struct nl_fdlist *l, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if ((p[0] | 0x20) != 'f' || (p[1] | 0x20) != 'd')
			continue;
		if (p != s && p[-1] != '=' && !is_token_end(p[-1]))
			continue;
		const char *q = p + 2;
		if (*q == '=')
			q++;
		else if (*q == ':')
			q += q[1] == '/' && q[2] == '/' ? 3 : 1;
		else
			continue;
		if (!is_digit(*q))
			continue;
		long v;
		const char *end = read_number(q, &v);
		if (is_token_end(*end))
			nl_fdlist_add(l, (int)v);
		p = end - 1;
	}
}

/* Shell redirections that name an fd: `>&N` and `<&N`, with or without an
 * fd before them and with "-" after (`3<&5-` moves 5 onto 3), as in
 * system("echo done >&4") or popen("cat <&5", "w").  Anywhere in an
 * argument: a shell word needs no blank around its redirection (`sh -c
 * 'cat<&5'`).  `>&-` closes and names nothing; `>&file` names a file. */
#define REDIRECTION_ENDS " \t\n;|&()<>"

static void add_redirected_fds(struct nl_fdlist *l, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if ((p[0] != '>' && p[0] != '<') || p[1] != '&' ||
		    !is_digit(p[2]))
			continue;
		long v;
		const char *end = read_number(p + 2, &v);
		if (*end == '-')
			end++;
		if (*end == '\0' || is_one_of(*end, REDIRECTION_ENDS))
			nl_fdlist_add(l, (int)v);
		p = end - 1;
	}
}

/* Options that take one fd although their names do not say so, spelled
 * exactly: dbus-launch runs `dbus-daemon --print-pid 5 --print-address 7`,
 * weston and mutter run `Xwayland -wm 8 -listen 9` (-listenfd and -displayfd
 * end in "fd" anyway). */
static const char *const fd_option_names[] = {
	"--print-address", "--print-pid", "-wm", "-listen", NULL,
};

/* The value of one of fd_option_names: after '=' or as the next argument,
 * a single number. */
static int add_named_fd_option(struct nl_fdlist *l, const char *arg,
			       const char *next)
{
	for (int i = 0; fd_option_names[i] != NULL; i++) {
		size_t n = starts_with(arg, fd_option_names[i]);
		if (n == 0 || (arg[n] != '\0' && arg[n] != '='))
			continue;
		const char *value = arg[n] == '=' ? arg + n + 1 : next;
		if (value != NULL)
			add_c_number(l, value);
		return 1;
	}
	return 0;
}

/* An option whose name ends in "fd" or "fds" (--status-fd, -fd,
 * --passphrase-fd, --fds, -displayfd) takes fds as its value, after '=' or
 * as the next argument.  The value counts only when it is numbers and
 * separators. */
static void add_fd_option(struct nl_fdlist *l, const char *arg,
			  const char *next)
{
	if (arg[0] != '-' || add_named_fd_option(l, arg, next))
		return;
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	if (!is_alnum(name[0]))
		return;
	size_t len = 0;
	while (name[len] != '\0' && name[len] != '=') {
		char c = name[len];
		if (!is_alnum(c) && c != '-' && c != '_')
			return;
		len++;
	}
	if (!ends_with(name, len, "fd") && !ends_with(name, len, "fds"))
		return;
	const char *value = name[len] == '=' ? name + len + 1 : next;
	if (value != NULL && !add_c_number(l, value))
		add_number_list(l, value, ",:;");
}

/* A trampoline such as jspawnhelper gets its fds as one "a:b:c" argument:
 * three or more numbers, each an fd > 2 that is open right now.  Those are
 * added and 1 returned; otherwise nothing is added.  "10:30:00" is a time,
 * and the open-fd test rules out most other colon-separated numbers. */
static int add_trampoline_list(struct nl_fdlist *l, const char *arg)
{
	int count = 0;
	const char *p = arg;

	/* Shape first: cheap, and rules out most arguments before any
	 * system call is made. */
	for (;;) {
		if (!is_digit(*p))
			return 0;
		while (is_digit(*p))
			p++;
		count++;
		if (*p == '\0')
			break;
		if (*p != ':')
			return 0;
		p++;
	}
	if (count < 3)
		return 0;
	for (p = arg; *p != '\0'; p++) {
		long v;
		p = read_number(p, &v);
		if (v <= 2 || nl_sys_fcntl((int)v, F_GETFD, 0) < 0)
			return 0;
		if (*p == '\0')
			break;
	}
	for (p = arg; *p != '\0'; p++) {
		long v;
		p = read_number(p, &v);
		nl_fdlist_add(l, (int)v);
		if (*p == '\0')
			break;
	}
	return 1;
}

/* The variables that name fds (--- envp --- below), also when assigned in
 * argv: `env WAYLAND_SOCKET=3 prog`, `sh -c "LISTEN_FDS=1 exec prog"`,
 * system("MAKEFLAGS=... make").  LISTEN_FDS and LISTEN_PID need each
 * other: the values that count are kept here until the scan is over. */
struct listen_vars {
	const char *fds, *pid;
};
static void add_assignment(struct nl_fdlist *l, const char *entry,
			   struct listen_vars *lv, int in_argv);

static int has_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n')
			return 1;
	return 0;
}

/* What ends a word of a shell command: blanks, and the operators that
 * end a command (`X_FD=3; export X_FD`, `LISTEN_FDS=2&&exec prog`). */
static int is_blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' ||
	       c == '|' || c == '(' || c == ')';
}

/* A shell command line passed as one argument (`sh -c "dpkg --status-fd
 * 8"`, and every system() and popen()): its words get the option rules
 * too (the token rules already see the whole string).  The line is copied
 * once into scratch memory and cut into words there, so a word of any
 * length is seen (`--fds=3,4,...` for a thousand fds); without memory for
 * the copy, the list says some were lost.  Quotes are not parsed. */
static void add_listen_fds(struct nl_fdlist *l, const struct listen_vars *lv,
			   pid_t self);

static void scan_command_words(struct nl_fdlist *l, const char *arg,
			       pid_t self)
{
	struct listen_vars lv = { NULL, NULL };   /* the command's own */
	size_t len = 0, cap = 0;
	void *block = NULL;

	while (arg[len] != '\0')
		len++;
	if (nl_scratch_grow(&block, &cap, len + 1) < 0) {
		l->overflow = 1;
		return;
	}
	char *line = block, *prev = NULL, *end = line + len;
	for (size_t i = 0; i <= len; i++)
		line[i] = is_blank_char(arg[i]) ? '\0' : arg[i];
	for (char *w = line; w < end; w++) {
		if (*w == '\0')
			continue;
		if (prev)
			add_fd_option(l, prev, w);
		add_assignment(l, w, &lv, 1);
		prev = w;
		while (*w != '\0')
			w++;
	}
	if (prev)
		add_fd_option(l, prev, NULL);
	add_listen_fds(l, &lv, self);   /* before its words are gone */
	nl_scratch_free(&block, &cap);
}

static int scan_argv(struct nl_fdlist *l, char *const argv[], pid_t self,
		     struct listen_vars *lv)
{
	int trampoline = 0;

	for (size_t i = 0; argv[i] != NULL; i++) {
		const char *arg = argv[i];
		add_fd_paths(l, arg, self);
		/* argv[0] is the program's name ("-bash" for a login shell),
		 * not an option or a value. */
		if (i == 0)
			continue;
		add_fd_tokens(l, arg);
		add_redirected_fds(l, arg);
		add_fd_option(l, arg, argv[i + 1]);
		add_assignment(l, arg, lv, 1);
		if (has_blank(arg))
			scan_command_words(l, arg, self);
		if (add_trampoline_list(l, arg))
			trampoline = 1;
	}
	return trampoline;
}

/* --- envp --- */

/* GNU make hands its jobserver pipe to sub-makes as --jobserver-auth=R,W
 * (4.2+) or --jobserver-fds=R,W (older) among the flags in MAKEFLAGS.
 * Words are separated by unescaped blanks; a word "--" ends the flags and
 * starts variable definitions, whose values are not options.  The
 * "fifo:PATH" form names no fd. */
static void add_jobserver(struct nl_fdlist *l, const char *v)
{
	while (*v != '\0') {
		if (*v == ' ' || *v == '\t') {
			v++;
			continue;
		}
		const char *word = v;
		while (*v != '\0' && *v != ' ' && *v != '\t') {
			if (*v == '\\' && v[1] != '\0')
				v++;
			v++;
		}
		size_t len = (size_t)(v - word);
		if (len == 2 && word[0] == '-' && word[1] == '-')
			return;
		size_t n = starts_with(word, "--jobserver-auth=");
		if (n == 0)
			n = starts_with(word, "--jobserver-fds=");
		if (n == 0 || !is_digit(word[n]))
			continue;
		long r, w;
		const char *p = read_number(word + n, &r);
		if (*p != ',' || !is_digit(p[1]))
			continue;
		p = read_number(p + 1, &w);
		if (p != v)
			continue;
		nl_fdlist_add(l, (int)r);
		nl_fdlist_add(l, (int)w);
	}
}

/* Whether the len bytes at name spell exactly word. */
static int name_is(const char *name, size_t len, const char *word)
{
	size_t n = starts_with(name, word);
	return n == len && n != 0;
}

/* php-fpm's master re-execs itself on a reload (SIGUSR2) and names its
 * listeners in FPM_SOCKETS="ADDRESS=FD,ADDRESS=FD" (and, past 20 of them,
 * FPM_SOCKETS_1, FPM_SOCKETS_2, ...), where ADDRESS is the pool's listen
 * address: host:port, [v6]:port or a socket's path, which may hold '=' or
 * ':' itself.  Each item's fd is the number after its last '='. */
static int is_fpm_sockets(const char *name, size_t len)
{
	size_t n = starts_with(name, "FPM_SOCKETS");
	if (n == len)
		return n != 0;
	if (n == 0 || name[n] != '_' || n + 1 == len)
		return 0;
	for (size_t i = n + 1; i < len; i++) {
		if (!is_digit(name[i]))
			return 0;
	}
	return 1;
}

static void add_fpm_sockets(struct nl_fdlist *l, const char *s)
{
	while (*s != '\0') {
		const char *eq = NULL;
		const char *end = s;
		while (*end != '\0' && *end != ',') {
			if (*end == '=')
				eq = end;
			end++;
		}
		if (eq != NULL && is_digit(eq[1])) {
			long v;
			if (read_number(eq + 1, &v) == end)
				nl_fdlist_add(l, (int)v);
		}
		s = *end == ',' ? end + 1 : end;
	}
}

/* One NAME=value entry, apart from LISTEN_FDS/LISTEN_PID which need each
 * other and are handled by the caller. */
static void add_env_entry(struct nl_fdlist *l, const char *name, size_t len,
			  const char *value)
{
	if (name_is(name, len, "WAYLAND_SOCKET") ||
	    name_is(name, len, "WESTON_LAUNCHER_SOCK") ||
	    name_is(name, len, "_assuan_connection_fd"))
		add_number_list(l, value, "");
	else if (name_is(name, len, "NGINX"))
		add_number_list(l, value, ";:");
	else if (name_is(name, len, "MAKEFLAGS") || name_is(name, len, "MFLAGS"))
		add_jobserver(l, value);
	else if (is_fpm_sockets(name, len))
		add_fpm_sockets(l, value);
	else if (name_is(name, len, "UWSGI_RELOADS"))
		l->listeners = 1;
	else if (ends_with(name, len, "_FD") || ends_with(name, len, "_FDS"))
		add_number_list(l, value, ",:; ");
}

/* systemd socket activation: LISTEN_FDS=N means fds 3 .. 3+N-1, meant for
 * the process whose pid is LISTEN_PID (any, when LISTEN_PID is absent).
 * A run, not N entries: whoever reads it looks at the fds that are open
 * among them, so that a huge N costs nothing. */
static void add_listen_fds(struct nl_fdlist *l, const struct listen_vars *lv,
			   pid_t self)
{
	if (lv->fds == NULL)
		return;
	if (lv->pid != NULL && (self <= 0 || whole_number(lv->pid) != (long)self))
		return;
	long n = whole_number(lv->fds);
	/* Any count sd_listen_fds() accepts, as long as the last fd is a
	 * number an fd can have; the longer run of argv's and envp's. */
	if (n < 1 || n > FD_LIMIT - 3 || n <= l->run_n)
		return;
	l->run_lo = 3;
	l->run_n = (int)n;
}

/* A NAME=value string: an environment entry, or (in_argv) an argument or
 * a shell command's word, there only when NAME is a variable's name
 * ("--opt=3" is no assignment).  In argv a LISTEN_PID that is not a
 * number (the shell's `$$` unexpanded) counts as absent: the pid is the
 * one the exec keeps, unknown to a command line. */
static void add_assignment(struct nl_fdlist *l, const char *entry,
			   struct listen_vars *lv, int in_argv)
{
	size_t len = 0;
	if (in_argv && !(is_alnum(entry[0]) && !is_digit(entry[0])) &&
	    entry[0] != '_')
		return;
	while (entry[len] != '\0' && entry[len] != '=') {
		if (in_argv && !is_alnum(entry[len]) && entry[len] != '_')
			return;
		len++;
	}
	if (entry[len] != '=')
		return;
	const char *value = entry + len + 1;
	/* In the environment the first of two entries wins, as getenv()
	 * answers; assigned in argv (env, a shell) the last. */
	if (name_is(entry, len, "LISTEN_FDS")) {
		if (lv->fds == NULL || in_argv)
			lv->fds = value;
	} else if (name_is(entry, len, "LISTEN_PID")) {
		if (in_argv)
			lv->pid = whole_number(value) >= 0 ? value : NULL;
		else if (lv->pid == NULL)
			lv->pid = value;
	} else {
		add_env_entry(l, entry, len, value);
	}
}

static void scan_envp(struct nl_fdlist *l, char *const envp[], pid_t self)
{
	/* The first of duplicate entries wins, as with getenv(). */
	struct listen_vars lv = { NULL, NULL };

	for (size_t i = 0; envp[i] != NULL; i++) {
		const char *entry = envp[i];
		const char *eq = entry;
		while (*eq != '\0' && *eq != '=')
			eq++;
		if (*eq != '=')
			continue;
		add_fd_paths(l, eq + 1, self);
		add_fd_tokens(l, eq + 1);
		add_assignment(l, entry, &lv, 0);
	}
	add_listen_fds(l, &lv, self);
}

int nl_named_fds(char *const argv[], char *const envp[], pid_t self,
		 struct nl_fdlist *out)
{
	int trampoline = 0;

	out->n = 0;
	out->overflow = 0;
	out->max = 0;
	out->fd = NULL;
	out->bytes = 0;
	out->seen = NULL;
	out->run_lo = 0;
	out->run_n = 0;
	out->listeners = 0;
	if (argv != NULL) {
		struct listen_vars lv = { NULL, NULL };
		trampoline = scan_argv(out, argv, self, &lv);
		add_listen_fds(out, &lv, self);
	}
	if (envp != NULL)
		scan_envp(out, envp, self);
	return trampoline;
}
