#!/bin/sh
# report_gen.sh SIZE_MB > FILE: a synthetic libnoleak event log of about
# SIZE_MB megabytes for timing noleak-report.  The mix is what a busy host
# writes: mostly fd_leak lines from many processes and execs, some
# fork_inherit, blocked reads with culprits, socket timeouts, orphans,
# config errors, folded repeats, and a few malformed lines.
set -eu
mb=${1:?usage: report_gen.sh SIZE_MB}
exec awk -v limit=$((mb * 1024 * 1024)) '
BEGIN {
	progs[0] = "/usr/sbin/legacy-agent"; progs[1] = "/usr/bin/python3.11"
	progs[2] = "/opt/app/bin/worker"; progs[3] = "/usr/lib/jvm/bin/java"
	targets[0] = "/bin/sh"; targets[1] = "/usr/bin/ssh"; targets[2] = "/usr/bin/git"
	kinds[0] = "pipe"; kinds[1] = "socket"; kinds[2] = "file"; kinds[3] = "eventfd"
	vias[0] = "execve"; vias[1] = "posix_spawn"; vias[2] = "system"; vias[3] = "popen"
	size = 0; pid = 1000; sec = 0
	while (size < limit) {
		n++
		if (n % 7 == 0) { pid++; if (pid > 4000000) pid = 1000 }
		if (n % 50 == 0) sec++
		ts = sprintf("2026-11-%02d%s%02d:%02d:%02d.%06dZ", 1 + int(sec / 86400) % 28, "T",
			int(sec / 3600) % 24, int(sec / 60) % 60, sec % 60, n % 1000000)
		p = progs[pid % 4]
		head = sprintf("{\"ts\":\"%s\",\"event\":\"%%s\",\"pid\":%d,\"ppid\":%d,\"exe\":\"%s\",\"mode\":\"audit\",\"host\":\"node%d\"", ts, pid, pid - 1, p, pid % 5)
		r = n % 100
		if (r < 80) {
			line = sprintf(head, "fd_leak") sprintf(",\"action\":\"would_close\",\"fd\":%d,\"kind\":\"%s\",\"object\":\"pipe:[%d]\",\"end\":\"read\",\"created_by\":\"pipe\",\"module\":\"%s\",\"offset\":\"0x%x\",\"via\":\"%s\",\"target\":\"%s\",\"argv0\":\"sh\"}", 3 + n % 9, kinds[n % 4], 100000 + n, p, 4096 + (n % 13) * 16, vias[pid % 4], targets[n % 3])
		} else if (r < 90) {
			line = sprintf(head, "fork_inherit") sprintf(",\"fd\":%d,\"kind\":\"pipe\",\"object\":\"pipe:[%d]\",\"created_by\":\"pipe2\",\"module\":\"%s\",\"offset\":\"0x1462\",\"threads\":%d}", 3 + n % 5, n, p, 2 + n % 8)
		} else if (r < 94) {
			line = sprintf(head, "read_blocked") sprintf(",\"fd\":%d,\"call\":\"read\",\"kind\":\"pipe\",\"object\":\"pipe:[%d]\",\"waited\":%d.5,\"culprits\":[{\"pid\":%d,\"exe\":\"/usr/bin/sleep\",\"cmdline\":\"sleep 600\",\"fds\":[1,4],\"relation\":\"grandchild\"}]}", n % 7, n, n % 5000, pid + 2)
		} else if (r < 96) {
			line = sprintf(head, "sock_timeout") sprintf(",\"fd\":7,\"local\":\"10.0.0.1:%d\",\"peer\":\"10.0.%d.9:443\",\"direction\":\"read\",\"wait\":300.004,\"timeout\":300}", 30000 + n % 1000, n % 20)
		} else if (r < 97) {
			line = sprintf(head, "orphans") sprintf(",\"action\":\"logged\",\"child\":%d,\"orphan\":%d,\"orphan_exe\":\"/usr/bin/sleep\",\"holds_fds\":\"1,2\"}", pid + 1, pid + 2)
		} else if (r < 98) {
			line = sprintf(head, "config_error") ",\"error\":\"NOLEAK_SOCK_TIMEOUT: bad value \\\"abc\\\"\"}"
		} else if (r < 99) {
			line = sprintf(head, "fd_leak") sprintf(",\"action\":\"would_close\",\"fd\":5,\"kind\":\"file\",\"created_by\":\"open\",\"module\":\"%s\",\"offset\":\"0x99\",\"via\":\"execve\",\"target\":\"/bin/true\",\"count\":%d}", p, 1 + n % 40)
		} else {
			line = "{\"ts\":\"2026-11-01T00:00:00Z\",\"event\":\"fd_leak\",\"pid\":12,\"exe\":\"/trunc"
		}
		print line
		size += length(line) + 1
	}
}'
