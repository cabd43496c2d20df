/* noleak inspect: sockets, found by inode in the target's network
 * namespace (/proc/PID/net/...), as lsof and ss find them.
 *
 * TCP (and UDP) tables give both addresses and the state, and a connection whose
 * two ends are on this host appears twice, swapped: that finds the peer's
 * inode.  A unix socket is asked of the kernel through sock_diag (the
 * unix_diag netlink interface ss -x uses, which needs no privilege): its
 * name (UNIX_DIAG_NAME), state, type and peer (UNIX_DIAG_PEER) come from
 * the socket itself.  /proc/net/unix lists no peer, and prints each name
 * byte for byte, newlines included, so that anyone who may bind a socket
 * can add lines that read as rows of their own (another socket's inode,
 * a forged name, a LISTEN flag): it is read only for a socket sock_diag
 * does not know, exactly and with its doubts said (unix_table).
 * sock_diag answers for the network namespace its netlink socket was made
 * in: for a process in another, inspect (as root: setns() takes
 * CAP_SYS_ADMIN) makes that socket in the process's namespace and goes
 * back to its own (inspect is single-threaded; setns() changes the calling
 * thread alone).  A
 * connection the server has not accepted has a peer without an inode (the
 * socket accept() will return does not exist yet): its listener is the
 * one whose pending connections (UNIX_DIAG_ICONS) name this socket.
 *
 * Names are kept as the kernel has them; text.c escapes them. */
#include "inspect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const tcp_states[] = {
#define NL_TCP_STATE(number, name) [number] = name,
#include "common/events.def"
};

/* "0100007F:1F90" -> "127.0.0.1:8080"; the kernel prints each 32-bit
 * word of the address in host byte order. */
static void format_addr(const char *hex, int v6, char *out, size_t cap)
{
	unsigned char a[16];
	int words = v6 ? 4 : 1;
	for (int i = 0; i < words; i++) {
		char w[9];
		memcpy(w, hex + 8 * i, 8);
		w[8] = 0;
		uint32_t x = (uint32_t)strtoul(w, NULL, 16);
		memcpy(a + 4 * i, &x, 4);
	}
	const char *colon = strchr(hex, ':');
	unsigned port = colon ? (unsigned)strtoul(colon + 1, NULL, 16) : 0;
	char ip[INET6_ADDRSTRLEN];
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, a, ip, sizeof ip))
		snprintf(ip, sizeof ip, "?");
	snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", ip, port);
}

struct tcp_row {
	char local[40], remote[40];
	unsigned st;
	unsigned long ino;
};

static int parse_tcp_row(const char *line, struct tcp_row *r)
{
	return sscanf(line, " %*s %39s %39s %x %*s %*s %*s %*s %*s %lu",
		      r->local, r->remote, &r->st, &r->ino) == 4 ? 0 : -1;
}

/* Look for `ino` in one TCP table; on a hit, look again for the row with
 * the addresses swapped, which is the local peer. */
static int tcp_lookup(pid_t pid, const char *table, int v6, unsigned long ino,
		      struct insp_sock *out)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, table);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[512];
	struct tcp_row me = { 0 }, r;
	int found = 0;
	while (fgets(line, sizeof line, f))
		if (parse_tcp_row(line, &r) == 0 && r.ino == ino) {
			me = r;
			found = 1;
			break;
		}
	if (found) {
		snprintf(out->proto, sizeof out->proto, "%s", table);
		format_addr(me.local, v6, out->local, sizeof out->local);
		format_addr(me.remote, v6, out->remote, sizeof out->remote);
		snprintf(out->state, sizeof out->state, "%s",
			 me.st < sizeof tcp_states / sizeof *tcp_states ?
			 tcp_states[me.st] : "?");
		rewind(f);
		while (me.st != 0x0A && fgets(line, sizeof line, f))
			if (parse_tcp_row(line, &r) == 0 && r.ino &&
			    !strcmp(r.local, me.remote) &&
			    !strcmp(r.remote, me.local)) {
				out->peer_ino = r.ino;
				break;
			}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* The network namespace sock_diag is asked in: an fd of it, or -1 for
 * inspect's own (unix_lookup sets it for one socket). */
static int diag_netns = -1;

/* A sock_diag socket of diag_netns; -1 when none could be made. */
static int diag_socket(void)
{
	if (diag_netns < 0)
		return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			      NETLINK_SOCK_DIAG);
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	int s = -1;
	if (setns(diag_netns, CLONE_NEWNET) == 0) {
		s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			   NETLINK_SOCK_DIAG);
		if (setns(self, CLONE_NEWNET) != 0) {
			/* Every later look would be the other namespace's. */
			fprintf(stderr, "noleak inspect: cannot return to its own "
				"network namespace: %s\n", strerror(errno));
			exit(NL_INSPECT_EXIT_NOPROC);
		}
	}
	close(self);
	return s;
}

/* Sends a unix_diag request for `ino` (0 and NLM_F_DUMP: every socket
 * in `states`); the netlink socket, or -1. */
static int diag_request(unsigned long ino, unsigned flags, unsigned states,
			unsigned show)
{
	int s = diag_socket();
	if (s < 0)
		return -1;
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req = {
		.nlh = { .nlmsg_len = sizeof req,
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags) },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = states,
		       .udiag_ino = (unsigned)ino,
		       .udiag_show = show,
		       .udiag_cookie = { ~0u, ~0u } },
	};
	if (send(s, &req, sizeof req, 0) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* A unix socket as sock_diag tells it. */
struct unix_info {
	unsigned type, state;    /* SOCK_STREAM ...; TCP_LISTEN ... */
	unsigned long peer;      /* UNIX_DIAG_PEER, 0 when none */
	char name[128];          /* as /proc/net/unix prints it; "" unnamed */
};

/* A socket's address (sun_path, as long as bound) as /proc/net/unix and ss
 * print it: a path up to its NUL; an abstract name as '@' and its bytes,
 * each NUL of them an '@'.  Every other byte is kept, newlines included:
 * the tools escape them when they print (text.c). */
static void unix_name(const unsigned char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0, i = 0;
	int abstract = n && !p[0];
	if (abstract) {
		out[o++] = '@';
		i = 1;
	}
	for (; i < n && (abstract || p[i]) && o + 1 < cap; i++)
		out[o++] = p[i] ? (char)p[i] : '@';
	out[o] = 0;
}

/* What sock_diag says of unix socket `ino` (`show`: UDIAG_SHOW_*): 1 and
 * *u when it knows it, 0 when the socket is not in this process's network
 * namespace (sock_diag answers for that one only), -1 when sock_diag
 * cannot be asked (no netlink, no unix_diag). */
static int unix_diag(unsigned long ino, unsigned show, struct unix_info *u)
{
	memset(u, 0, sizeof *u);
	int s = diag_request(ino, 0, ~0u, show);
	if (s < 0)
		return -1;
	int ret = -1;
	long buf[512];
	ssize_t n = recv(s, buf, sizeof buf, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (n < (ssize_t)sizeof *h || !NLMSG_OK(h, (size_t)n))
		goto out;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error == -ENOENT)
			ret = 0;
		goto out;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		goto out;
	struct unix_diag_msg *m = NLMSG_DATA(h);
	if (m->udiag_ino != (unsigned)ino)
		goto out;
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4)
			u->peer = *(uint32_t *)RTA_DATA(a);
		else if (a->rta_type == UNIX_DIAG_NAME)
			unix_name(RTA_DATA(a), RTA_PAYLOAD(a), u->name,
				  sizeof u->name);
	}
	ret = 1;
out:
	close(s);
	return ret;
}

/* Exactly `n` upper-case hex digits at *p, then a blank; *p goes past
 * them. */
static int hex_field(const char **p, int n, unsigned *v)
{
	unsigned x = 0;
	for (int i = 0; i < n; i++) {
		int c = (unsigned char)(*p)[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		x = x << 4 | (unsigned)d;
	}
	if ((*p)[n] != ' ')
		return -1;
	*p += n + 1;
	*v = x;
	return 0;
}

/* A row of /proc/net/unix read exactly as the kernel prints it
 * ("%pK: %08X %08X %08X %04X %02X %5lu", then " NAME" when bound, then a
 * newline): the offset of the name ("" when none), or -1 when `l` is no
 * row's start.  A name holds its bytes as they are, newlines too, so a
 * line that reads as a row may still be the tail of a name (see
 * unix_table). */
static int unix_head(const char *l, unsigned *flags, unsigned *type,
		     unsigned *st, unsigned long *ino)
{
	const char *p = l;
	unsigned ref, proto;
	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		p++;
	if (p == l || p[0] != ':' || p[1] != ' ')
		return -1;
	p += 2;
	if (hex_field(&p, 8, &ref) || hex_field(&p, 8, &proto) ||
	    hex_field(&p, 8, flags) || hex_field(&p, 4, type) ||
	    hex_field(&p, 2, st))
		return -1;
	const char *d = p;
	while (*d == ' ')
		d++;
	if (*d < '0' || *d > '9')
		return -1;
	unsigned long v = 0;
	for (; *d >= '0' && *d <= '9'; d++)
		v = v * 10 + (unsigned long)(*d - '0');
	if (d - p < 5 || (*d != ' ' && *d != '\n' && *d))
		return -1;
	*ino = v;
	return (int)(d - l) + (*d == ' ');
}

/* Unix socket `ino` from /proc/PID/net/unix, for when sock_diag cannot
 * tell it (not in this process's network namespace, or no sock_diag):
 * 0 when listed.  The table prints a name byte for byte, so a newline in
 * one starts a line that can read as a row of its own, forged by whoever
 * chose the name.  The socket's own row is there, at a line's start (when
 * the socket belongs to PID's network namespace: one made in another and
 * passed in is listed only there): a second row claiming its inode makes
 * its name and state unknown (INSP_DOUBT_TWICE, state "?"); a line after
 * its row that is no row is the rest of its name, which the table cannot
 * delimit (INSP_DOUBT_CUT).  The peer is sock_diag's to tell: none here. */
static int unix_table(pid_t pid, unsigned long ino, struct insp_sock *out)
{
	char file[64], line[512];
	snprintf(file, sizeof file, "/proc/%d/net/unix", (int)pid);
	FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	int rows = 0, after = 0, at_start = 1, first = 1;
	unsigned flags = 0, st = 0;
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		int whole = len && line[len - 1] == '\n';
		unsigned fl, ty, s;
		unsigned long i;
		int name = at_start && !first ? unix_head(line, &fl, &ty, &s, &i)
					      : -1;
		if (after && name < 0 && rows == 1)
			out->local_doubt = INSP_DOUBT_CUT;
		after = 0;
		if (name >= 0 && i == ino && ++rows == 1) {
			flags = fl;
			st = s;
			snprintf(out->local, sizeof out->local, "%.*s",
				 (int)(len - (size_t)name - (size_t)whole),
				 line + name);
			after = 1;
			if (!whole)   /* longer than any name: cut */
				out->local_doubt = INSP_DOUBT_CUT;
		}
		first = first && !whole;
		at_start = whole;
	}
	fclose(f);
	if (!rows)
		return -1;
	snprintf(out->proto, sizeof out->proto, "unix");
	if (rows > 1) {
		out->local[0] = 0;
		out->local_doubt = INSP_DOUBT_TWICE;
		snprintf(out->state, sizeof out->state, "?");
		return 0;
	}
	static const char *const states[] = { "FREE", "UNCONNECTED",
		"CONNECTING", "CONNECTED", "DISCONNECTING" };
	snprintf(out->state, sizeof out->state, "%s",
		 flags & 0x10000 ? "LISTEN" : st < 5 ? states[st] : "?");
	return 0;
}

/* The listening socket whose backlog holds the connection of unix socket
 * `ino`, 0 when none. */
static unsigned long unix_listener(unsigned long ino)
{
	int s = diag_request(0, NLM_F_DUMP, 1u << TCP_LISTEN, UDIAG_SHOW_ICONS);
	if (s < 0)
		return 0;
	unsigned long listener = 0;
	static long buf[32768 / sizeof(long)];
	for (int done = 0; !done && !listener;) {
		ssize_t n = recv(s, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     NLMSG_OK(h, n) && !listener; h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))) {
				done = 1;   /* NLMSG_DONE, NLMSG_ERROR */
				break;
			}
			struct unix_diag_msg *m = NLMSG_DATA(h);
			int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
			for (struct rtattr *a = (struct rtattr *)(m + 1);
			     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
				if (a->rta_type != UNIX_DIAG_ICONS)
					continue;
				const uint32_t *v = RTA_DATA(a);
				for (size_t i = 0; i < RTA_PAYLOAD(a) / sizeof *v; i++)
					if (v[i] == ino)
						listener = m->udiag_ino;
			}
		}
	}
	close(s);
	return listener;
}

/* Unix socket `ino`: its name, state and peer from sock_diag, which the
 * kernel answers from the socket itself; /proc/PID/net/unix only when
 * sock_diag cannot tell (unix_table). */
static int unix_lookup_in(pid_t pid, unsigned long ino,
			  struct insp_sock *out, int other_netns)
{
	struct unix_info u;
	int known = unix_diag(ino, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER, &u);
	if (known <= 0) {
		out->peer_unknown = known < 0 && !other_netns ?
				    INSP_PEER_NO_DIAG : INSP_PEER_OTHER_NETNS;
		return unix_table(pid, ino, out);
	}
	snprintf(out->proto, sizeof out->proto, "unix");
	snprintf(out->local, sizeof out->local, "%s", u.name);
	/* /proc/net/unix's words: a socket that has a file is CONNECTED when
	 * established, else UNCONNECTED, and flagged when it listens */
	snprintf(out->state, sizeof out->state, "%s",
		 u.state == TCP_LISTEN ? "LISTEN" :
		 u.state == TCP_ESTABLISHED ? "CONNECTED" : "UNCONNECTED");
	out->peer_ino = u.peer;
	if (!out->peer_ino && u.state == TCP_ESTABLISHED &&
	    (u.type == SOCK_STREAM || u.type == SOCK_SEQPACKET)) {
		out->peer_ino = unix_listener(ino);
		out->backlog = out->peer_ino != 0;
	}
	struct unix_info p;
	if (out->peer_ino && unix_diag(out->peer_ino, UDIAG_SHOW_NAME, &p) > 0)
		snprintf(out->remote, sizeof out->remote, "%s", p.name);
	return 0;
}

/* pid's network namespace when it is not inspect's: an fd of it, or -1
 * (*other says whether it is another, even when it cannot be opened). */
static int netns_of(pid_t pid, int *other)
{
	char path[64];
	struct stat mine, its;
	*other = 0;
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	if (stat("/proc/self/ns/net", &mine) < 0 || stat(path, &its) < 0)
		return -1;
	if (mine.st_dev == its.st_dev && mine.st_ino == its.st_ino)
		return -1;
	*other = 1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Unix socket `ino` of pid, asked of sock_diag in pid's network
 * namespace: a unix peer is on this host, whichever namespace. */
static int unix_lookup(pid_t pid, unsigned long ino, struct insp_sock *out)
{
	int other;
	diag_netns = netns_of(pid, &other);
	/* A socket is of the namespace it was made in, which need not be
	 * its holder's (one end of a socketpair handed to a process that
	 * then moved to a network namespace of its own; systemd's sockets
	 * passed to a PrivateNetwork= service): one the holder's namespace
	 * does not know is asked of inspect's. */
	struct unix_info u;
	if (diag_netns >= 0 && unix_diag(ino, 0, &u) == 0) {
		close(diag_netns);
		diag_netns = -1;
		other = 0;
	}
	int r = unix_lookup_in(pid, ino, out, other);
	if (diag_netns >= 0)
		close(diag_netns);
	diag_netns = -1;
	return r;
}

int insp_sock_lookup(pid_t pid, unsigned long ino, struct insp_sock *out)
{
	memset(out, 0, sizeof *out);
	if (!ino)
		return -1;
	/* UDP tables have the same layout (and TCP's state numbers). */
	if (tcp_lookup(pid, "tcp", 0, ino, out) == 0 ||
	    tcp_lookup(pid, "tcp6", 1, ino, out) == 0 ||
	    unix_lookup(pid, ino, out) == 0 ||
	    tcp_lookup(pid, "udp", 0, ino, out) == 0 ||
	    tcp_lookup(pid, "udp6", 1, ino, out) == 0)
		return 0;
	return -1;
}
