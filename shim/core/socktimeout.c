/* Socket timeouts and dead-peer detection: see socktimeout.h.
 *
 * Everything here talks to the kernel through raw system calls: inside the
 * library, setsockopt() would bind to the shim's own interposer and count as
 * the program's choice. */
#include "common/errno.h"
#include "core/socktimeout.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "log/event.h"
#include "core/fdevent.h"
#include "core/fdinfo.h"
#include "core/fdtable.h"
#include "base/state.h"
#include "common/forkdata.h"
#include "common/sys.h"
#include "log/json.h"

/* The 64-bit-time variants a program built with _TIME_BITS=64 on a 32-bit
 * target passes; on x86_64 SO_RCVTIMEO is the old number, 20. */
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#endif
#ifndef SO_SNDTIMEO_NEW
#define SO_SNDTIMEO_NEW 67
#endif
#ifndef SO_RCVTIMEO_OLD
#define SO_RCVTIMEO_OLD SO_RCVTIMEO
#endif
#ifndef SO_SNDTIMEO_OLD
#define SO_SNDTIMEO_OLD SO_SNDTIMEO
#endif

/* Read by every read and write interposer: with the after-fork data, on a
 * page the loader has written (in .bss, a process's first read() faulted
 * its page in to learn that there is no table). */
struct nl_sock_slot *_Atomic nl_sock_table NL_FORK_DATA;

/* The socket-sharing generation: odd once a fresh socket was stamped with
 * it, made even (moved on) by nl_sock_sharing() around a child.  A stamp is
 * always odd, so none matches an even generation, and the generation only
 * grows: a stamp from before a child never matches again.  Both sides
 * write only on a change (socket() after a child, a child after socket()):
 * a forking server whose listener is long made never writes it. */
static _Atomic uint32_t sock_generation NL_FORK_DATA;

/* --- raw socket calls --- */

static int sys_getsockopt(int fd, int level, int name, void *val,
			  socklen_t *len)
{
	return (int)nl_sys6(SYS_getsockopt, fd, level, name, (long)val,
			    (long)len, 0);
}

static int sys_setsockopt(int fd, int level, int name, const void *val,
			  socklen_t len)
{
	return (int)nl_sys6(SYS_setsockopt, fd, level, name, (long)val, len, 0);
}

static int get_int_opt(int fd, int level, int name, int *out)
{
	socklen_t len = sizeof *out;
	*out = 0;
	return sys_getsockopt(fd, level, name, out, &len);
}

static int set_int_opt(int fd, int level, int name, int v)
{
	return sys_setsockopt(fd, level, name, &v, sizeof v);
}

static int timeo_name(enum nl_sock_dir dir)
{
	return dir == NL_SOCK_READ ? SO_RCVTIMEO : SO_SNDTIMEO;
}

/* The kernel's timeout of fd in that direction, microseconds (0: none). */
static long long kernel_timeout_usec(int fd, enum nl_sock_dir dir)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof tv;
	if (sys_getsockopt(fd, SOL_SOCKET, timeo_name(dir), &tv, &len) < 0)
		return -1;
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int near_usec(long long have, long long want)
{
	/* The kernel keeps timeouts in jiffies: allow for the rounding. */
	return have >= want - 20000 && have <= want + 20000;
}

int nl_sock_set_wait(int fd, enum nl_sock_dir dir, long long usec)
{
	struct timeval tv = { (time_t)(usec / 1000000),
			      (suseconds_t)(usec % 1000000) };
	return sys_setsockopt(fd, SOL_SOCKET, timeo_name(dir), &tv, sizeof tv);
}

/* The socket's inode: what tells one socket from a later one under the
 * same fd number.  0 when fd is not a socket. */
static uint64_t socket_ino(int fd)
{
	struct stat st;
	if (nl_sys_fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return (uint64_t)st.st_ino;
}

/* --- the table --- */

/* Mapped on first use.  Two threads racing here both map; the loser unmaps
 * its copy.  mmap is a plain system call: safe after fork. */
static struct nl_sock_slot *table_get(int create)
{
	struct nl_sock_slot *t =
		atomic_load_explicit(&nl_sock_table, memory_order_acquire);
	if (t || !create)
		return t;
	size_t size = sizeof(struct nl_sock_slot) * NL_SOCK_TABLE_SIZE;
	int saved = errno;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		nl_errno_restore(saved);
		return NULL;
	}
	struct nl_sock_slot *expected = NULL;
	if (!atomic_compare_exchange_strong(&nl_sock_table, &expected, m)) {
		munmap(m, size);
		nl_errno_restore(saved);
		return expected;
	}
	return m;
}

/* No table: enforce sets nothing on sockets, and the log says so once per
 * process. */
static atomic_int table_nomem_said NL_FORK_DATA;

static struct nl_sock_slot *slot_for(int fd, int create)
{
	if (fd < 0 || fd >= NL_SOCK_TABLE_SIZE)
		return NULL;
	struct nl_sock_slot *t = table_get(create);
	return t ? &t[fd] : NULL;
}

/* The bits of fd's slot when it was written for the socket `ino`, else 0;
 * NL_SOCK_FRESH only while no child may share the socket. */
static uint32_t bits_for(int fd, uint64_t ino)
{
	struct nl_sock_slot *s = slot_for(fd, 0);
	if (!s || !ino || atomic_load(&s->ino) != ino)
		return 0;
	uint32_t bits = atomic_load(&s->bits);
	if ((bits & NL_SOCK_FRESH) &&
	    atomic_load(&s->secs) != atomic_load(&sock_generation))
		bits &= ~(uint32_t)NL_SOCK_FRESH;
	return bits;
}

static void slot_write(int fd, uint64_t ino, uint32_t bits, unsigned secs)
{
	struct nl_sock_slot *s = slot_for(fd, bits != 0);
	if (!s)
		return;
	/* Bits last: a reader that sees them sees the rest. */
	atomic_store(&s->bits, 0);
	atomic_store(&s->ino, ino);
	atomic_store(&s->secs, secs);
	atomic_store(&s->bits, bits);
}

unsigned nl_sock_recorded_timeout(int fd, enum nl_sock_dir dir)
{
	struct nl_sock_slot *s = slot_for(fd, 0);
	if (!s || !(atomic_load(&s->bits) & nl_sock_shim_bit(dir)))
		return 0;
	return atomic_load(&s->secs);
}

unsigned nl_sock_shim_timeout(int fd, enum nl_sock_dir dir)
{
	struct nl_sock_slot *s = slot_for(fd, 0);
	if (!s || !(atomic_load(&s->bits) & nl_sock_shim_bit(dir)))
		return 0;
	unsigned secs = atomic_load(&s->secs);
	if (atomic_load(&s->ino) != socket_ino(fd))
		return 0;
	if (!near_usec(kernel_timeout_usec(fd, dir), (long long)secs * 1000000))
		return 0;
	return secs;
}

int nl_sock_program_timeout_since(int fd, enum nl_sock_dir dir)
{
	struct nl_sock_slot *s = slot_for(fd, 0);
	uint32_t own = dir == NL_SOCK_READ ? NL_SOCK_OWN_RCV : NL_SOCK_OWN_SND;
	if (!s || (atomic_load(&s->bits) & (own | nl_sock_shim_bit(dir))) != own)
		return 0;
	return atomic_load(&s->ino) == socket_ino(fd);
}

/* --- what a socket is --- */

enum sock_class { CLASS_NONE, CLASS_TCP, CLASS_UNIX, CLASS_DGRAM };

static enum sock_class classify(int fd)
{
	int family, type, proto;
	if (get_int_opt(fd, SOL_SOCKET, SO_DOMAIN, &family) < 0 ||
	    get_int_opt(fd, SOL_SOCKET, SO_TYPE, &type) < 0)
		return CLASS_NONE;
	if (family == AF_UNIX)
		return CLASS_UNIX;
	if (family != AF_INET && family != AF_INET6)
		return CLASS_NONE;
	if (type == SOCK_DGRAM)
		return CLASS_DGRAM;
	if (type != SOCK_STREAM ||
	    get_int_opt(fd, SOL_SOCKET, SO_PROTOCOL, &proto) < 0 ||
	    proto != IPPROTO_TCP)
		return CLASS_NONE;
	return CLASS_TCP;
}

static const char *class_name(enum sock_class c)
{
	switch (c) {
	case CLASS_TCP: return "tcp";
	case CLASS_UNIX: return "unix";
	case CLASS_DGRAM: return "dgram";
	default: return "other";
	}
}

static unsigned class_timeout(const struct nl_policy *p, enum sock_class c)
{
	switch (c) {
	case CLASS_TCP: return p->sock_timeout;
	case CLASS_UNIX: return p->sock_timeout_unix;
	case CLASS_DGRAM: return p->sock_timeout_dgram;
	default: return 0;
	}
}

/* Whether the policy may do anything to sockets of this kind: TCP gets
 * keepalive (or its audit line), the others only their own timeout. */
static int class_matters(enum sock_class c)
{
	return c == CLASS_TCP ||
	       (c != CLASS_NONE && class_timeout(nl_policy(), c) != 0);
}

/* --- the decision --- */

/* What enforce sets on one connected socket, and why not when it does not. */
struct sock_plan {
	enum sock_class cls;
	unsigned secs;            /* the policy's timeout for this kind */
	int rcv, snd;             /* set SO_RCVTIMEO / SO_SNDTIMEO to secs */
	const char *timeout_note; /* why neither is set */
	int keepalive;            /* keepalive on, with the policy's values */
	int inherited;            /* ... already: copied from the listener */
	const char *keepalive_note;
};

/* Whether the program chose the timeout of that direction: it set it on
 * this socket (or on the listener it came from) through the interposer, or
 * the socket already has one that is not the shim's (inherited from a
 * listener, or set behind the shim's back).  `prior`: the slot's bits for
 * this socket; with NL_SOCK_FRESH they are all there is to know. */
static int program_timeout(int fd, enum nl_sock_dir dir, uint32_t prior)
{
	if (prior & (dir == NL_SOCK_READ ? NL_SOCK_OWN_RCV : NL_SOCK_OWN_SND))
		return 1;
	if (prior & (nl_sock_shim_bit(dir) | NL_SOCK_FRESH))
		return 0;
	return kernel_timeout_usec(fd, dir) != 0;
}

/* The same for keepalive.  SHIM_ALIVE in `prior`: the shim's own, on this
 * socket (a connect again).  Only SO_KEEPALIVE is asked: timings another
 * fd or process set with it off could be told from the sysctls' only by
 * reading those, an open() of /proc on this path (a seccomp filter that
 * kills it, a socket of another network namespace): README, Limits. */
static int program_keepalive(int fd, uint32_t prior)
{
	int on;
	if (prior & NL_SOCK_OWN_ALIVE)
		return 1;
	if (prior & (NL_SOCK_FRESH | NL_SOCK_SHIM_ALIVE))
		return 0;
	return get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, &on) < 0 || on;
}

static void plan_socket(int fd, enum sock_class cls, int nonblocking,
			uint32_t prior, const struct nl_policy *p,
			struct sock_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	plan->cls = cls;
	plan->secs = class_timeout(p, cls);
	if (!plan->secs) {
		plan->timeout_note = "off";
	} else if (nonblocking) {
		/* A non-blocking socket never waits in the kernel: the
		 * program has its own loop and its own idea of time. */
		plan->timeout_note = "nonblocking";
	} else {
		plan->rcv = !program_timeout(fd, NL_SOCK_READ, prior);
		plan->snd = !program_timeout(fd, NL_SOCK_WRITE, prior);
		if (!plan->rcv && !plan->snd)
			plan->timeout_note = "program";
	}
	/* Keepalive costs nothing while the peer answers, and it ends the
	 * wait of a non-blocking program's poll loop too. */
	if (cls != CLASS_TCP)
		plan->keepalive_note = "not_tcp";
	else if (p->keepalive.off)
		plan->keepalive_note = "off";
	else if (program_keepalive(fd, prior))
		plan->keepalive_note = "program";
	else
		plan->keepalive = 1;
	/* Already there: on this socket (a connect again), or copied by the
	 * kernel from a fresh listener the shim gave it.  A listener not
	 * fresh may have had it taken off by another process: there the
	 * socket was asked (program_keepalive), and has it not. */
	plan->inherited = plan->keepalive &&
			  ((prior & NL_SOCK_SHIM_ALIVE) ||
			   (prior & (NL_SOCK_LISTEN_ALIVE | NL_SOCK_FRESH)) ==
				   (NL_SOCK_LISTEN_ALIVE | NL_SOCK_FRESH));
}

/* 0 when every option is set.  SO_KEEPALIVE last: a connection a
 * listener's kernel copies the options to while they are being set has
 * keepalive on only when it has the timings too (listener_keepalive). */
static int apply_keepalive(int fd, const struct nl_keepalive *k)
{
	int r = set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)k->idle) |
		set_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)k->intvl) |
		set_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)k->cnt);
	/* Off by default: it would also abort a healthy connection whose
	 * reader pauses with a zero window for that long. */
	if (k->user_timeout)
		r |= set_int_opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
				 (int)(k->user_timeout * 1000u));
	if (r < 0)
		return -1;
	return set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1) < 0 ? -1 : 0;
}

/* The kernel's keepalive timings: a socket follows the sysctls until a
 * setsockopt gives it its own, and none can go back to following them, so
 * taking the shim's back writes their values.  Read once per process,
 * when first needed (a program that sets keepalive after its connect),
 * with raw calls; the kernel's built-in values when /proc cannot say. */
static const char *const keepalive_sysctl[3] = {
	"/proc/sys/net/ipv4/tcp_keepalive_time",
	"/proc/sys/net/ipv4/tcp_keepalive_intvl",
	"/proc/sys/net/ipv4/tcp_keepalive_probes",
};
static const int keepalive_builtin[3] = { 7200, 75, 9 };
static const int keepalive_opt[3] = { TCP_KEEPIDLE, TCP_KEEPINTVL,
				      TCP_KEEPCNT };
static _Atomic int keepalive_kernel[3];

static int keepalive_default(int i)
{
	int v = atomic_load_explicit(&keepalive_kernel[i], memory_order_relaxed);
	if (v > 0)
		return v;
	char buf[24];
	ssize_t n = -1;
	int fd = nl_sys_openat(AT_FDCWD, keepalive_sysctl[i],
			       O_RDONLY | O_CLOEXEC, 0);
	if (fd >= 0) {
		n = nl_sys_read(fd, buf, sizeof buf);
		nl_sys_close(fd);
	}
	v = 0;
	for (ssize_t j = 0; j < n && buf[j] >= '0' && buf[j] <= '9' &&
			    v < 100000000; j++)
		v = v * 10 + (buf[j] - '0');
	if (v <= 0)
		v = keepalive_builtin[i];
	atomic_store_explicit(&keepalive_kernel[i], v, memory_order_relaxed);
	return v;
}

/* The program set option (level, name), one of the keepalive ones, on fd,
 * which has the shim's keepalive: the others go back to what the socket
 * has without the shim.  SO_KEEPALIVE off unless that was the program's
 * (setting TCP_KEEP* or TCP_USER_TIMEOUT alone does not turn it on), the
 * timings the kernel's, no user timeout.  level -1: the program set none
 * (a disconnect).  Only what the shim changed is written. */
static void take_back_keepalive(int fd, int level, int name)
{
	const struct nl_keepalive *k = &nl_policy()->keepalive;
	const unsigned shim[3] = { k->idle, k->intvl, k->cnt };
	if (!(level == SOL_SOCKET && name == SO_KEEPALIVE))
		set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
	for (int i = 0; i < 3; i++) {
		if (level == IPPROTO_TCP && name == keepalive_opt[i])
			continue;
		int v = keepalive_default(i);
		if ((int)shim[i] != v)
			set_int_opt(fd, IPPROTO_TCP, keepalive_opt[i], v);
	}
	if (!(level == IPPROTO_TCP && name == TCP_USER_TIMEOUT) &&
	    k->user_timeout)
		set_int_opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 0);
}

/* Whether fd shows the shim's keepalive: SO_KEEPALIVE on and the policy's
 * timings (and user timeout, when the policy sets one), all but the
 * option (level, name) the program has just set (level -1: none).  Asked
 * where the shim did not set it in this process, or another fd or process
 * may have changed it since; the first value that differs ends it. */
static int carries_shim_keepalive(int fd, int level, int name)
{
	const struct nl_keepalive *k = &nl_policy()->keepalive;
	const unsigned shim[3] = { k->idle, k->intvl, k->cnt };
	int v;
	if (!(level == SOL_SOCKET && name == SO_KEEPALIVE) &&
	    (get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, &v) < 0 || !v))
		return 0;
	for (int i = 0; i < 3; i++) {
		if (level == IPPROTO_TCP && name == keepalive_opt[i])
			continue;
		if (get_int_opt(fd, IPPROTO_TCP, keepalive_opt[i], &v) < 0 ||
		    v != (int)shim[i])
			return 0;
	}
	if (k->user_timeout && !(level == IPPROTO_TCP &&
				 name == TCP_USER_TIMEOUT) &&
	    (get_int_opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v) < 0 ||
	     v != (int)(k->user_timeout * 1000u)))
		return 0;
	return 1;
}

/* Set what the plan says; returns the SHIM bits that now hold. */
/* The bits apply_plan() gives when every option goes on. */
static uint32_t plan_bits(const struct sock_plan *plan)
{
	return (plan->rcv ? NL_SOCK_SHIM_RCV | NL_SOCK_GAVE_RCV : 0) |
	       (plan->snd ? NL_SOCK_SHIM_SND | NL_SOCK_GAVE_SND : 0) |
	       (plan->keepalive ? NL_SOCK_SHIM_ALIVE : 0);
}

static uint32_t apply_plan(int fd, const struct sock_plan *plan,
			   const struct nl_policy *p)
{
	uint32_t bits = 0;
	long long usec = (long long)plan->secs * 1000000;
	if (plan->rcv && nl_sock_set_wait(fd, NL_SOCK_READ, usec) == 0)
		bits |= NL_SOCK_SHIM_RCV | NL_SOCK_GAVE_RCV;
	if (plan->snd && nl_sock_set_wait(fd, NL_SOCK_WRITE, usec) == 0)
		bits |= NL_SOCK_SHIM_SND | NL_SOCK_GAVE_SND;
	if (plan->keepalive &&
	    (plan->inherited || apply_keepalive(fd, &p->keepalive) == 0))
		bits |= NL_SOCK_SHIM_ALIVE;
	return bits;
}

/* --- events --- */

/* Audit: what enforce would have set on this socket. */
static void log_policy(int fd, const char *via, const struct sock_plan *plan,
		       const struct nl_policy *p)
{
	if (!nl_event_enabled())
		return;
	/* UNIX and datagram sockets are many and quiet (syslog, nscd, DNS):
	 * only worth a line when their own key is set. */
	if (plan->cls != CLASS_TCP && !plan->secs)
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "sock_policy");
	nl_event_int(&ev, "fd", fd);
	nl_event_str(&ev, "via", via);
	nl_event_str(&ev, "socket", class_name(plan->cls));
	nl_event_addresses(&ev, fd);
	nl_event_int(&ev, "rcvtimeo", plan->rcv ? (long long)plan->secs : 0);
	nl_event_int(&ev, "sndtimeo", plan->snd ? (long long)plan->secs : 0);
	if (plan->timeout_note)
		nl_event_str(&ev, "timeout_kept", plan->timeout_note);
	nl_event_bool(&ev, "keepalive", plan->keepalive);
	if (plan->keepalive) {
		nl_event_int(&ev, "keepidle", p->keepalive.idle);
		nl_event_int(&ev, "keepintvl", p->keepalive.intvl);
		nl_event_int(&ev, "keepcnt", p->keepalive.cnt);
		nl_event_int(&ev, "user_timeout", p->keepalive.user_timeout);
	} else {
		nl_event_str(&ev, "keepalive_kept", plan->keepalive_note);
	}
	nl_event_emit(&ev);
}

/* What TCP_INFO says of the peer of a call that waited `usec` in vain. */
struct peer_view {
	unsigned unacked;
	unsigned last_ack_ms;     /* since the peer last acknowledged anything */
	unsigned char probes, retransmits;  /* the kernel's are 8-bit too */
	unsigned char tcp;        /* TCP_INFO answered */
	unsigned char silent;
};

/* The peer is silent when nothing it sent acknowledged anything during
 * the whole wait while there was something to acknowledge: data in flight
 * (unacked segments) or probes (keepalive, zero-window).  A peer that is
 * quiet but alive answers probes and acknowledges data, which resets both
 * counters and last_ack_recv.  50 ms of slack for the clocks' ticks. */
static __attribute__((noinline)) void look_at_peer(int fd, long long usec,
						   struct peer_view *v)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(v, 0, sizeof *v);
	memset(&ti, 0, sizeof ti);
	if (sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof ti.tcpi_last_ack_recv)
		return;
	v->tcp = 1;
	v->unacked = ti.tcpi_unacked;
	v->probes = ti.tcpi_probes;
	v->retransmits = ti.tcpi_retransmits;
	v->last_ack_ms = ti.tcpi_last_ack_recv;
	v->silent = (v->unacked > 0 || v->probes > 0) &&
		    (long long)v->last_ack_ms * 1000 + 50000 >= usec;
}

static inline __attribute__((always_inline)) void
log_timeout(int fd, enum nl_sock_dir dir, long long usec,
			unsigned secs, const struct peer_view *v, int err)
{
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "sock_timeout");
	nl_event_int(&ev, "fd", fd);
	nl_event_addresses(&ev, fd);
	nl_event_str(&ev, "direction", dir == NL_SOCK_READ ? "read" : "write");
	/* Seconds with milliseconds, written in place: this runs under a
	 * read interposer's 1 KiB of stack. */
	struct nl_jbuf j;
	nl_event_json_open(&ev, "wait", &j);
	nl_jb_int(&j, usec / 1000000);
	nl_jb_int(&j, 1000 + (usec % 1000000) / 1000);  /* "1mmm" */
	if (!j.full)
		j.b[j.len - 4] = '.';                   /* ".mmm" */
	nl_event_json_close(&ev, &j, 1);
	nl_event_int(&ev, "timeout", secs);
	nl_event_int(&ev, "errno", err);
	if (v && v->tcp) {
		nl_event_bool(&ev, "peer_silent", v->silent);
		nl_event_int(&ev, "unacked", v->unacked);
		nl_event_int(&ev, "probes", v->probes);
		nl_event_int(&ev, "retransmits", v->retransmits);
		nl_event_int(&ev, "last_ack_recv_ms", v->last_ack_ms);
	}
	nl_event_emit(&ev);
}

int nl_sock_timed_out(int fd, enum nl_sock_dir dir, long long usec,
		      unsigned secs)
{
	int saved = errno;
	struct peer_view v;
	look_at_peer(fd, usec, &v);
	int err = v.silent ? ETIMEDOUT : EAGAIN;
	log_timeout(fd, dir, usec, secs, &v, err);
	nl_errno_restore(saved);
	return err;
}

static void set_silent(int fd, int on)
{
	struct nl_sock_slot *sl = slot_for(fd, 0);
	if (!sl)
		return;
	if (on)
		atomic_fetch_or(&sl->bits, NL_SOCK_SILENT);
	else
		atomic_fetch_and(&sl->bits, ~(uint32_t)NL_SOCK_SILENT);
}

void nl_sock_after_partial(int fd, enum nl_sock_dir dir, long long usec,
			   unsigned secs)
{
	if (nl_sock_shim_timeout(fd, dir) != secs)
		return;
	int saved = errno;
	struct peer_view v;
	look_at_peer(fd, usec, &v);
	if (v.silent)
		set_silent(fd, 1);
	nl_errno_restore(saved);
}

int nl_sock_still_silent(int fd, enum nl_sock_dir dir)
{
	int saved = errno;
	unsigned secs = nl_sock_shim_timeout(fd, dir);
	long long usec = (long long)secs * 1000000;
	struct peer_view v;
	set_silent(fd, 0);
	if (!secs) {
		nl_errno_restore(saved);
		return 0;
	}
	look_at_peer(fd, usec, &v);
	if (!v.silent) {
		nl_errno_restore(saved);
		return 0;
	}
	log_timeout(fd, dir, 0, secs, &v, ETIMEDOUT);
	nl_errno_restore(saved);
	return ETIMEDOUT;
}

/* --- the hooks --- */

/* Enforce: the plan's options set on fd, recorded with the bits `other`
 * (what the slot keeps besides).  Recorded before they are set: a handler
 * that leaves the connect with siglongjmp() part way through leaves no
 * option of the shim's unknown to it (the restart rule would miss it); one
 * recorded and not set is harmless, the kernel restarts or ends the calls
 * on such a socket itself.  Written again only when an option failed
 * (or, nothing to record, cleared as it was).
 * Not inlined: the nomem event's deep path runs beside it, not under it. */
__attribute__((noinline))
static void set_recorded(int fd, uint64_t ino, const struct sock_plan *plan,
			 const struct nl_policy *p, uint32_t other)
{
	uint32_t planned = plan_bits(plan) | other;
	if (planned)
		slot_write(fd, ino, planned, plan->secs);
	uint32_t got = apply_plan(fd, plan, p) | other;
	if (got == planned && planned)
		return;
	if (got)
		slot_write(fd, ino, got, plan->secs);
	else
		slot_write(fd, 0, 0, 0);
}

/* Decide for a socket that just became connected, then set (enforce) or
 * log (audit).  `prior`: what the slot knew of this socket (the program's
 * choices, a timeout the shim set earlier; for an accepted socket, its
 * listener's).  Returns 1 when the shim set keepalive on fd itself. */
static int handle_connected(int fd, uint64_t ino, enum sock_class cls,
			    int nonblocking, uint32_t prior, const char *via)
{
	const struct nl_policy *p = nl_policy();
	uint32_t own = prior & NL_SOCK_OWN_BITS;
	if (p->mode != NL_MODE_ENFORCE && !nl_event_enabled()) {
		/* Audit with nowhere to log: nothing to decide. */
		slot_write(fd, own ? ino : 0, own, 0);
		return 0;
	}
	struct sock_plan plan;
	plan_socket(fd, cls, nonblocking, prior, p, &plan);
	if (p->mode == NL_MODE_ENFORCE &&
	    (plan.rcv || plan.snd || plan.keepalive) && !table_get(1)) {
		/* Nowhere to record what it sets (the program's later
		 * choices, the restart rule): nothing set, as without it. */
		nl_event_nomem_once(&table_nomem_said, "sock_table",
				    "sockets_untouched");
		return 0;
	}
	/* What the shim gave before (a second connect) stays known: a
	 * timeout it set that the program has not replaced is still on the
	 * socket (this connect may set nothing: non-blocking), and the
	 * program may give it back. */
	uint32_t kept = prior & (NL_SOCK_GAVE_RCV | NL_SOCK_GAVE_SND |
				 NL_SOCK_OTHER_RCV | NL_SOCK_OTHER_SND);
	if (p->mode == NL_MODE_ENFORCE) {
		kept |= prior & (NL_SOCK_SHIM_RCV | NL_SOCK_SHIM_SND);
		set_recorded(fd, ino, &plan, p, kept | own);
		return plan.keepalive && !plan.inherited;
	}
	log_policy(fd, via, &plan, p);
	if (kept || own)
		slot_write(fd, ino, kept | own, plan.secs);
	else
		slot_write(fd, 0, 0, 0);
	return 0;
}

/* How many connections wait in a listener's queue (TCP_INFO's unacked
 * field, for a listener), or -1 when it cannot say. */
static int accept_queue(int listener)
{
	struct tcp_info_head {   /* struct tcp_info up to tcpi_unacked */
		uint8_t state, ca_state, retransmits, probes, backoff, options,
			wscale, flags;
		uint32_t rto, ato, snd_mss, rcv_mss, unacked;
	} t;
	socklen_t len = sizeof t;
	if (nl_sys6(SYS_getsockopt, listener, IPPROTO_TCP, TCP_INFO, (long)&t,
		    (long)&len, 0) < 0 || len < sizeof t)
		return -1;
	return (int)t.unacked;
}

/* The shim's keepalive went on a socket accepted from the fresh listener
 * whose inode is lino.  At the second such socket the listener gets the
 * options too: the kernel copies them to every socket accepted afterwards,
 * which then needs no setsockopt for them.  A listener that accepts once
 * (a hand-over, a test) is left as the program made it. */
static void listener_keepalive(int listener, uint64_t lino, uint32_t lbits)
{
	struct nl_sock_slot *ls = slot_for(listener, 0);
	if (!ls || atomic_load(&ls->ino) != lino)
		return;
	if (!(lbits & NL_SOCK_ACCEPTED)) {
		atomic_fetch_or(&ls->bits, NL_SOCK_ACCEPTED);
		return;
	}
	/* The options first, then the queue: a connection made after this
	 * look has them; one made before, or while they were being set,
	 * waits in the queue, and is asked at its accept (SO_KEEPALIVE goes
	 * on last: a connection that has it has the rest). */
	if (apply_keepalive(listener, &nl_policy()->keepalive) < 0)
		return;
	int queued = accept_queue(listener) != 0;
	atomic_fetch_or(&ls->bits, NL_SOCK_LISTEN_ALIVE |
				   (queued ? NL_SOCK_LISTEN_QUEUED : 0));
}

uint32_t nl_sock_fresh_stamp(int domain, int type, int protocol)
{
	if (!nl_fd_policy_active() ||
	    (domain != AF_INET && domain != AF_INET6) ||
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return 0;
	uint32_t g = atomic_load_explicit(&sock_generation,
					  memory_order_relaxed);
	while (!(g & 1))
		if (atomic_compare_exchange_weak(&sock_generation, &g, g + 1))
			return g + 1;
	return g;
}

/* Not in a vfork child (nor in accept, connect or recvmsg there): the slot
 * under that number describes its parent's fd, which the child's close
 * and new socket leave as they were.  The child's own sockets get
 * nothing, as without the shim. */
void nl_sock_created(int fd, uint32_t stamp, uint64_t ino)
{
	if (!stamp || nl_fd_shared_child())
		return;
	int saved = errno;
	if (!ino)
		ino = socket_ino(fd);
	if (ino)
		slot_write(fd, ino, NL_SOCK_FRESH, stamp);
	nl_errno_restore(saved);
}

void nl_sock_sharing(void)
{
	uint32_t g = atomic_load_explicit(&sock_generation,
					  memory_order_relaxed);
	/* Failing, it lost to another thread's move: moved on all the same
	 * (a socket() never makes an odd generation even). */
	if (g & 1)
		atomic_compare_exchange_strong(&sock_generation, &g, g + 1);
}

/* From a vfork child too: the socket left for another process, and a
 * socket taken for fresh no more only costs a question at its connect (a
 * keepalive to ask, one at the program's keepalive option). */
void nl_sock_fds_sent(const struct msghdr *msg)
{
	struct msghdr *m = (struct msghdr *)msg;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		const unsigned char *data = CMSG_DATA(c);
		for (int i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof fd, sizeof fd);
			struct nl_sock_slot *s = slot_for(fd, 0);
			uint32_t b = s ? atomic_load(&s->bits) : 0;
			if (b & NL_SOCK_FRESH)
				atomic_fetch_and(&s->bits,
						 ~(uint32_t)NL_SOCK_FRESH);
			/* The other process may take the keepalive back. */
			if (b & (NL_SOCK_SHIM_ALIVE | NL_SOCK_LISTEN_ALIVE))
				atomic_fetch_or(&s->bits, NL_SOCK_ASK);
		}
	}
}

void nl_sock_accepted(int listener, int fd, int flags, uint64_t ino)
{
	if (fd < 0 || !nl_fd_policy_active() || nl_fd_shared_child())
		return;
	int saved = errno;
	/* An accepted socket inherits the listener's options, so the
	 * program's choices on the listener are its choices here too; a
	 * fresh listener also tells the kind. */
	uint32_t from_listener = 0;
	uint64_t lino = 0;
	struct nl_sock_slot *ls = slot_for(listener, 0);
	if (ls && (atomic_load(&ls->bits) & (NL_SOCK_OWN_BITS | NL_SOCK_FRESH))) {
		lino = socket_ino(listener);
		from_listener = bits_for(listener, lino) &
				(NL_SOCK_OWN_BITS | NL_SOCK_FRESH |
				 NL_SOCK_ACCEPTED | NL_SOCK_LISTEN_ALIVE |
				 NL_SOCK_LISTEN_QUEUED | NL_SOCK_LISTEN_TAKEN);
	}
	/* It waited in the queue while the program took the shim's keepalive
	 * back on the listener, and was made with it: without the shim it
	 * would have had the kernel's, as the listener then.  The queue is
	 * first in, first out: once one has it not, nor do the later ones. */
	if (from_listener & NL_SOCK_LISTEN_TAKEN) {
		if (carries_shim_keepalive(fd, -1, -1))
			take_back_keepalive(fd, -1, -1);
		else
			atomic_fetch_and(&ls->bits,
					 ~(uint32_t)NL_SOCK_LISTEN_TAKEN);
		from_listener &= ~(uint32_t)NL_SOCK_LISTEN_TAKEN;
	}
	uint32_t lbits = from_listener;
	/* Made before the listener had the keepalive?  The queue is
	 * first in, first out: once one has it, all later ones do. */
	if (from_listener & NL_SOCK_LISTEN_QUEUED) {
		int on = 0;
		if (get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, &on) == 0 && on)
			atomic_fetch_and(&ls->bits, ~(uint32_t)NL_SOCK_LISTEN_QUEUED);
		else
			from_listener &= ~(uint32_t)NL_SOCK_LISTEN_ALIVE;
	}
	enum sock_class cls = from_listener & NL_SOCK_FRESH ? CLASS_TCP
							    : classify(fd);
	if (!class_matters(cls))
		ino = 0;
	else if (!ino)
		ino = socket_ino(fd);
	if (!ino) {
		slot_write(fd, 0, 0, 0);
		nl_errno_restore(saved);
		return;
	}
	if (handle_connected(fd, ino, cls, (flags & SOCK_NONBLOCK) != 0,
			     from_listener, "accept") &&
	    (lbits & NL_SOCK_FRESH) && !(lbits & NL_SOCK_LISTEN_ALIVE))
		listener_keepalive(listener, lino, lbits);
	nl_errno_restore(saved);
}

void nl_sock_connected(int fd, int result, int err)
{
	if (!nl_fd_policy_active() || nl_fd_shared_child())
		return;
	/* EINPROGRESS: a non-blocking connect under way; EINTR: a blocking
	 * one interrupted, which the kernel completes in the background.
	 * Both get keepalive only. */
	if (result != 0 && err != EINPROGRESS && err != EINTR)
		return;
	int saved = errno;
	/* A fresh socket (made by socket() here) is TCP: no need to ask. */
	uint64_t ino = 0;
	struct nl_sock_slot *s = slot_for(fd, 0);
	if (s && (atomic_load(&s->bits) & NL_SOCK_FRESH))
		ino = socket_ino(fd);
	uint32_t known = bits_for(fd, ino);
	uint32_t fresh = known & NL_SOCK_FRESH;
	enum sock_class cls = fresh ? CLASS_TCP : classify(fd);
	if (!class_matters(cls) || (result != 0 && cls != CLASS_TCP)) {
		slot_write(fd, 0, 0, 0);
		nl_errno_restore(saved);
		return;
	}
	/* A non-blocking TCP socket's first connect cannot return 0: the
	 * handshake is still under way when the call returns (EINPROGRESS),
	 * but for TCP_FASTOPEN_CONNECT, which defers it. */
	int nonblocking = result != 0;
	if (!nonblocking && !(fresh && !(known & NL_SOCK_DEFER))) {
		int fl = nl_sys_fcntl(fd, F_GETFL, 0);
		nonblocking = fl < 0 || (fl & O_NONBLOCK);
	}
	if (!ino)
		ino = socket_ino(fd);
	/* A socket connected again (a datagram socket; a TCP connect that
	 * returned EINPROGRESS or EINTR, asked again until it returns 0)
	 * still has the shim's timeout and keepalive: no choice of the
	 * program's.  Unless another fd may have changed the keepalive
	 * since: then the socket says (program_keepalive). */
	uint32_t was = bits_for(fd, ino);
	uint32_t prior = was &
			 (NL_SOCK_OWN_BITS | NL_SOCK_SHIM_RCV | NL_SOCK_SHIM_SND |
			  NL_SOCK_GAVE_RCV | NL_SOCK_GAVE_SND |
			  NL_SOCK_OTHER_RCV | NL_SOCK_OTHER_SND | NL_SOCK_FRESH);
	if ((was & (NL_SOCK_SHIM_ALIVE | NL_SOCK_ASK)) == NL_SOCK_SHIM_ALIVE)
		prior |= NL_SOCK_SHIM_ALIVE;
	handle_connected(fd, ino, cls, nonblocking, prior, "connect");
	nl_errno_restore(saved);
}

void nl_sock_disconnected(int fd)
{
	struct nl_sock_slot *s = slot_for(fd, 0);
	const uint32_t shim = NL_SOCK_SHIM_RCV | NL_SOCK_SHIM_SND |
			      NL_SOCK_SHIM_ALIVE;
	if (!s || !(atomic_load(&s->bits) & shim) || !nl_fd_policy_active())
		return;
	int saved = errno;
	uint64_t ino = socket_ino(fd);
	uint32_t bits = bits_for(fd, ino);
	/* A timeout still the shim's (not one set behind its back). */
	struct timeval zero = { 0, 0 };
	for (int d = NL_SOCK_READ; d <= NL_SOCK_WRITE; d++)
		if ((bits & nl_sock_shim_bit(d)) && nl_sock_shim_timeout(fd, d))
			sys_setsockopt(fd, SOL_SOCKET, timeo_name(d), &zero,
				       sizeof zero);
	if (bits & NL_SOCK_SHIM_ALIVE)
		take_back_keepalive(fd, -1, -1);
	bits &= NL_SOCK_OWN_BITS | NL_SOCK_DEFER;
	slot_write(fd, bits ? ino : 0, bits, 0);
	nl_errno_restore(saved);
}

static uint32_t own_bit(int level, int name)
{
	if (level == SOL_SOCKET) {
		if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)
			return NL_SOCK_OWN_RCV;
		if (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)
			return NL_SOCK_OWN_SND;
		if (name == SO_KEEPALIVE)
			return NL_SOCK_OWN_ALIVE;
		return 0;
	}
	if (level == IPPROTO_TCP &&
	    (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
	     name == TCP_KEEPCNT || name == TCP_USER_TIMEOUT))
		return NL_SOCK_OWN_ALIVE;
	return 0;
}

void nl_sock_duplicated(int oldfd, int newfd)
{
	struct nl_sock_slot *t =
		atomic_load_explicit(&nl_sock_table, memory_order_acquire);
	/* Not from a vfork child, whose memory is its parent's. */
	if (!t || (unsigned)oldfd >= NL_SOCK_TABLE_SIZE ||
	    (unsigned)newfd >= NL_SOCK_TABLE_SIZE || oldfd == newfd ||
	    nl_fd_shared_child())
		return;
	struct nl_sock_slot *o = &t[oldfd];
	uint32_t bits = atomic_load(&o->bits);
	/* Two fds, one socket: an option set through one is recorded in its
	 * slot only.  The shim's keepalive is asked before it is taken back
	 * through either. */
	uint32_t drop = NL_SOCK_FRESH;
	uint32_t add = bits & (NL_SOCK_SHIM_ALIVE | NL_SOCK_LISTEN_ALIVE)
			       ? NL_SOCK_ASK : 0;
	if (bits & drop)
		atomic_fetch_and(&o->bits, ~drop);
	if (add)
		atomic_fetch_or(&o->bits, add);
	bits = (bits & ~drop) | add;
	if (bits)
		slot_write(newfd, atomic_load(&o->ino), bits,
			   atomic_load(&o->secs));
	else if (atomic_load(&t[newfd].bits))
		slot_write(newfd, 0, 0, 0);   /* of the fd it replaced */
}

/* Whether fd, whose slot says `bits`, has the shim's keepalive, when the
 * program has just set the keepalive option (level, name) on it. */
static int shim_keepalive_on(int fd, uint32_t bits, int level, int name)
{
	const struct nl_policy *p = nl_policy();
	if (bits & NL_SOCK_OWN_ALIVE)
		return 0;   /* the program's since its first such option */
	if ((bits & (NL_SOCK_SHIM_ALIVE | NL_SOCK_LISTEN_ALIVE)) &&
	    !(bits & NL_SOCK_ASK))
		return 1;   /* the shim set it here, nobody else could change it */
	if ((bits & NL_SOCK_FRESH) || p->mode != NL_MODE_ENFORCE ||
	    p->keepalive.off)
		return 0;
	/* Set elsewhere: before a child (a second connect, a listener shared
	 * with another process), through a dup, by the process that sent
	 * the socket or exec'd this program. */
	return carries_shim_keepalive(fd, level, name);
}

/* The timeout a program passes to setsockopt, in microseconds, or -1: a
 * struct timeval of two 64-bit fields (64-bit targets, SO_RCVTIMEO_NEW,
 * a -D_TIME_BITS=64 program's) or of two 32-bit ones (i386's old one). */
static long long timeo_passed_usec(const void *val, socklen_t len)
{
	long long sec, usec;
	if (!val)
		return -1;
	if (len >= 2 * sizeof(int64_t)) {
		int64_t t[2];
		memcpy(t, val, sizeof t);
		sec = t[0], usec = t[1];
	} else if (len >= 2 * sizeof(int32_t)) {
		int32_t t[2];
		memcpy(t, val, sizeof t);
		sec = t[0], usec = t[1];
	} else {
		return -1;
	}
	if (sec < 0 || sec > 1000000000000LL || usec < 0)
		return -1;
	return sec * 1000000 + usec;
}

void nl_sock_option_set(int fd, int level, int name, const void *val,
			socklen_t len)
{
	uint32_t bit = own_bit(level, name);
	if (level == IPPROTO_TCP && name == TCP_FASTOPEN_CONNECT)
		bit = NL_SOCK_DEFER;
	if (!bit || !nl_fd_policy_active())
		return;
	uint64_t ino = socket_ino(fd);
	if (!ino)
		return;
	struct nl_sock_slot *s = slot_for(fd, 1);
	if (!s)
		return;
	uint32_t bits = bits_for(fd, ino);
	unsigned secs = atomic_load(&s->secs);
	/* The program's timeout replaces the shim's: no more restarts.  But
	 * the shim's own value given back after another of the program's (a
	 * save of what getsockopt showed, restored after a shorter wait for
	 * a probe) leaves the socket as the shim made it, the restart rule
	 * with it.  The shim's value set by the program first, or again, is
	 * its own. */
	if (bit == NL_SOCK_OWN_RCV || bit == NL_SOCK_OWN_SND) {
		int rd = bit == NL_SOCK_OWN_RCV;
		enum nl_sock_dir d = rd ? NL_SOCK_READ : NL_SOCK_WRITE;
		uint32_t gave = rd ? NL_SOCK_GAVE_RCV : NL_SOCK_GAVE_SND;
		uint32_t other = rd ? NL_SOCK_OTHER_RCV : NL_SOCK_OTHER_SND;
		long long v = timeo_passed_usec(val, len);
		int shims = v >= 0 && near_usec(v, (long long)secs * 1000000);
		bits &= ~nl_sock_shim_bit(d);
		if ((bits & (gave | bit | other)) == (gave | bit | other) &&
		    shims) {
			bits = (bits & ~(bit | other)) | nl_sock_shim_bit(d);
			bit = 0;
		} else if (bits & gave) {
			bits = shims ? bits & ~other : bits | other;
		}
	}
	/* A socket (or listener) with the shim's keepalive: the program's
	 * option is its choice from now on, and the rest what it is without
	 * the shim, whichever the program set first: its connect or its
	 * option.  Connections waiting in a listener's queue were made with
	 * the shim's: they get theirs back at their accept, which asks them
	 * (unless the listener still shows the shim's values, as when the
	 * program turned on SO_KEEPALIVE and the policy's timings are the
	 * kernel's: a connection made later could not be told apart). */
	if (bit == NL_SOCK_OWN_ALIVE && shim_keepalive_on(fd, bits, level, name)) {
		take_back_keepalive(fd, level, name);
		if ((bits & NL_SOCK_LISTEN_ALIVE) && accept_queue(fd) > 0 &&
		    !carries_shim_keepalive(fd, -1, -1))
			bits |= NL_SOCK_LISTEN_TAKEN;
		bits &= ~(NL_SOCK_LISTEN_ALIVE | NL_SOCK_ACCEPTED |
			  NL_SOCK_SHIM_ALIVE | NL_SOCK_LISTEN_QUEUED |
			  NL_SOCK_ASK);
	}
	/* A vfork child's own socket under a number whose slot describes
	 * its parent's fd: not the child's to write. */
	if (atomic_load(&s->ino) != ino && nl_fd_shared_child())
		return;
	slot_write(fd, ino, bits | bit, secs);
}

static int policy_timeout_usec(const struct nl_policy *p, long long usec)
{
	const unsigned t[3] = { p->sock_timeout, p->sock_timeout_unix,
				p->sock_timeout_dgram };
	for (int i = 0; i < 3; i++)
		if (t[i] && near_usec(usec, (long long)t[i] * 1000000))
			return 1;
	return 0;
}

void nl_sock_received(int fd)
{
	struct nl_sock_slot *s = slot_for(fd, 0);
	const struct nl_policy *p = nl_policy();
	if (nl_fd_shared_child())
		return;
	/* Whatever the slot says is of an fd closed since. */
	int stale = s && atomic_load(&s->bits);
	if (p->mode != NL_MODE_ENFORCE ||
	    !(p->sock_timeout | p->sock_timeout_unix | p->sock_timeout_dgram)) {
		if (stale)
			slot_write(fd, 0, 0, 0);
		return;
	}
	int saved = errno;
	uint32_t bits = 0;
	unsigned secs = 0;
	uint64_t ino = 0;
	long long rcv = kernel_timeout_usec(fd, NL_SOCK_READ);
	long long snd = rcv < 0 ? -1 : kernel_timeout_usec(fd, NL_SOCK_WRITE);
	/* The sender's shim set them (or its program chose the same). */
	if (policy_timeout_usec(p, rcv) || policy_timeout_usec(p, snd)) {
		secs = class_timeout(p, classify(fd));
		long long want = (long long)secs * 1000000;
		if (secs && near_usec(rcv, want))
			bits |= NL_SOCK_SHIM_RCV | NL_SOCK_GAVE_RCV;
		if (secs && near_usec(snd, want))
			bits |= NL_SOCK_SHIM_SND | NL_SOCK_GAVE_SND;
		if (bits)
			ino = socket_ino(fd);
	}
	if (ino)
		slot_write(fd, ino, bits, secs);
	else if (stale)
		slot_write(fd, 0, 0, 0);
	nl_errno_restore(saved);
}
