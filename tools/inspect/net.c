/* noleak inspect: sockets, found by inode in the target's network
 * namespace (/proc/PID/net/...), as lsof and ss find them.
 *
 * TCP (and UDP) tables give both addresses and the state, and a connection whose
 * two ends are on this host appears twice, swapped: that finds the peer's
 * inode.  Unix sockets list no peer in /proc/net/unix; the kernel tells it
 * through sock_diag (UNIX_DIAG_PEER), which needs no privilege.  A
 * connection the server has not accepted has a peer without an inode (the
 * socket accept() will return does not exist yet): its listener is the
 * one whose pending connections (UNIX_DIAG_ICONS) name this socket. */
#include "inspect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
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

/* The path of unix socket `ino` from /proc/PID/net/unix ("" when
 * unnamed); returns 0 when the socket is listed. */
static int unix_row(pid_t pid, unsigned long ino, char *path, size_t cap,
		    unsigned *type, unsigned *st, unsigned *flags)
{
	char file[64], line[4096 + 128];
	snprintf(file, sizeof file, "/proc/%d/net/unix", (int)pid);
	FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	int found = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long i;
		char name[4096] = "";
		if (sscanf(line, "%*s %*s %*s %x %x %x %lu %4095s", flags, type,
			   st, &i, name) < 4 || i != ino)
			continue;
		snprintf(path, cap, "%s", name);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* Sends a unix_diag request for `ino` (0 and NLM_F_DUMP: every socket
 * in `states`); the netlink socket, or -1. */
static int diag_request(unsigned long ino, unsigned flags, unsigned states,
			unsigned show)
{
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
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

/* The inode of the peer of unix socket `ino`, 0 when none or unknown. */
static unsigned long unix_peer(unsigned long ino)
{
	int s = diag_request(ino, 0, ~0u, UDIAG_SHOW_PEER);
	if (s < 0)
		return 0;
	unsigned long peer = 0;
	long buf[2048];
	ssize_t n = recv(s, buf, sizeof buf, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (n < (ssize_t)sizeof *h || !NLMSG_OK(h, (size_t)n) ||
	    h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_PEER)
			peer = *(uint32_t *)RTA_DATA(a);
out:
	close(s);
	return peer;
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

static int unix_lookup(pid_t pid, unsigned long ino, struct insp_sock *out)
{
	unsigned type, st, flags;
	if (unix_row(pid, ino, out->local, sizeof out->local, &type, &st,
		     &flags) < 0)
		return -1;
	snprintf(out->proto, sizeof out->proto, "unix");
	static const char *const states[] = { "FREE", "UNCONNECTED",
		"CONNECTING", "CONNECTED", "DISCONNECTING" };
	snprintf(out->state, sizeof out->state, "%s",
		 flags & 0x10000 ? "LISTEN" : st < 5 ? states[st] : "?");
	out->peer_ino = unix_peer(ino);
	if (!out->peer_ino && st == 3 /* SS_CONNECTED */ &&
	    (type == SOCK_STREAM || type == SOCK_SEQPACKET)) {
		out->peer_ino = unix_listener(ino);
		out->backlog = out->peer_ino != 0;
	}
	if (out->peer_ino) {
		unsigned t2, s2, f2;
		if (unix_row(pid, out->peer_ino, out->remote,
			     sizeof out->remote, &t2, &s2, &f2) < 0)
			out->remote[0] = 0;
	}
	return 0;
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
