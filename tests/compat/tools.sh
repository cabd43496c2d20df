# Programs that start helpers and talk to them over fds: Java's
# ProcessBuilder (jspawnhelper), tar and sort with a compression program,
# flock -c, git clone with a hook, node's child_process with extra pipes,
# dbus-run-session and tmux.

checks_tools() {
	check java-processbuilder java java_processbuilder
	check java-1000-files java java_many_files
	check tar-compress-program tar tar_compress_program
	check sort-compress-program sort sort_compress_program
	check flock-command flock flock_command
	check git-clone-hook git git_clone_hook
	check node-child-process node node_child_process
	check dbus-run-session dbus-run-session,dbus-daemon dbus_run_session
	check tmux-detached tmux tmux_detached
}

# ProcessBuilder with each launch mechanism of JDK 17 on Linux: POSIX_SPAWN
# (the default: posix_spawn of jspawnhelper, which gets its real work and
# fds over a pipe whose numbers are in its argv), FORK and VFORK.  Pipelines
# (ProcessBuilder.startPipeline) hand each process the pipe of the one
# before it.
java_processbuilder() {
	cat >Spawn.java <<-'JAVA'
	import java.io.*;
	import java.nio.file.*;
	import java.util.*;

	public class Spawn {
	    static String run(ProcessBuilder pb) throws Exception {
	        Process p = pb.start();
	        String out = new String(p.getInputStream().readAllBytes()).trim();
	        String err = new String(p.getErrorStream().readAllBytes()).trim();
	        return out + (err.isEmpty() ? "" : " / err: " + err) + " / exit " + p.waitFor();
	    }

	    static String pipeline() throws Exception {
	        List<Process> ps = ProcessBuilder.startPipeline(List.of(
	            new ProcessBuilder("seq", "1", "1000"),
	            new ProcessBuilder("sort", "-rn"),
	            new ProcessBuilder("head", "-n", "2")));
	        String out = new String(ps.get(2).getInputStream().readAllBytes()).trim();
	        for (Process p : ps) p.waitFor();
	        return out.replace('\n', ' ');
	    }

	    public static void main(String[] a) throws Exception {
	        String fdlist = a[0], probe = a[1], proof = a[2];
	        System.out.println(run(new ProcessBuilder(fdlist, "child")));
	        System.out.println(run(new ProcessBuilder("sh", "-c", "echo out; echo err >&2; exit 3")));
	        Process in = new ProcessBuilder("tr", "a-z", "A-Z").start();
	        try (OutputStream o = in.getOutputStream()) { o.write("stdin piped\n".getBytes()); }
	        System.out.println(new String(in.getInputStream().readAllBytes()).trim() + " / exit " + in.waitFor());
	        File f = new File("redirected.txt");
	        ProcessBuilder r = new ProcessBuilder("sh", "-c", "echo to a file; echo err too >&2");
	        r.redirectOutput(f).redirectErrorStream(true);
	        System.out.println("redirect exit " + r.start().waitFor() + ": "
	                           + Files.readString(f.toPath()).trim().replace('\n', '|'));
	        System.out.println("pipeline: " + pipeline());
	        // Many in a row: the JVM's reaper threads close the pipes of
	        // finished processes while the next ones start.
	        int ok = 0;
	        for (int i = 0; i < 200; i++) {
	            try {
	                if (pipeline().equals("1000 999")) ok++;
	            } catch (IOException e) {
	                System.err.println("pipeline " + i + ": " + e);
	            }
	        }
	        System.out.println("200 more pipelines, right output: " + ok);
	        System.out.println("probe:" + run(new ProcessBuilder(probe, proof)));
	        try {
	            new ProcessBuilder("/nonexistent/program").start();
	        } catch (IOException e) {
	            System.out.println("missing program: IOException");
	        }
	    }
	}
	JAVA
	expect "javac" logged javac.log javac Spawn.java
	local mech
	for mech in POSIX_SPAWN FORK VFORK; do
		echo "-- $mech"
		java -Djdk.lang.Process.launchMechanism=$mech -cp . Spawn "$FDLIST" "$PROBE" "$PROOF"
	done
}

# ProcessBuilder while the JVM holds 1,000 open files: jspawnhelper's
# "a:b:c" fds are then numbered above 1,000, and every fd the JVM would have
# handed it without the shim must still reach it.
java_many_files() {
	cat >Many.java <<-'JAVA'
	import java.io.*;
	import java.util.*;

	public class Many {
	    public static void main(String[] a) throws Exception {
	        String probe = a[0], proof = a[1];
	        File f = new File("data.txt");
	        try (FileWriter w = new FileWriter(f)) { w.write("x\n"); }
	        List<FileInputStream> open = new ArrayList<>();
	        for (int i = 0; i < 1000; i++) open.add(new FileInputStream(f));
	        System.out.println("open files: " + open.size());
	        for (int i = 0; i < 5; i++) {
	            Process p = new ProcessBuilder("sh", "-c", "echo run " + i + "; exit " + i).start();
	            String out = new String(p.getInputStream().readAllBytes()).trim();
	            System.out.println(out + " / exit " + p.waitFor());
	        }
	        Process p = new ProcessBuilder(probe, proof).start();
	        System.out.println("probe exit " + p.waitFor());
	        for (FileInputStream s : open) s.close();
	    }
	}
	JAVA
	expect "javac" logged javac.log javac Many.java
	local mech
	for mech in POSIX_SPAWN FORK VFORK; do
		echo "-- $mech"
		java -Djdk.lang.Process.launchMechanism=$mech -cp . Many "$PROBE" "$PROOF" 2>&1 |
			grep -v '^WARNING'
	done
}

# gz.sh: gzip, after leaving a proof line for the program that ran it.
write_gz() {
	cat >gz.sh <<-'SH'
	#!/bin/sh
	"$PROBE" "$PROOF"
	exec gzip -1 "$@"
	SH
	chmod +x gz.sh
}

# tar runs the compressor on a pipe it moved onto the compressor's stdin or
# stdout.
tar_compress_program() {
	write_gz
	mkdir -p src/dir out
	seq 1 20000 >src/dir/numbers.txt
	echo hello >src/hello.txt
	expect "tar create" tar --use-compress-program=./gz.sh -cf archive.tgz -C src .
	expect "tar extract" tar --use-compress-program=gzip -xf archive.tgz -C out
	tar -I gzip -tf archive.tgz | sort
	diff -r src out && echo "extracted tree identical"
	gzip -t archive.tgz && echo "archive is gzip"
}

# sort with a small buffer spills to temporary files through the
# compression program, and reads them back through `PROGRAM -d`.
sort_compress_program() {
	write_gz
	mkdir tmp
	seq 1 300000 | awk '{ print ($1 * 7919) % 300007 }' >input.txt
	sort -n -S 512K --parallel=2 -T tmp --compress-program=./gz.sh input.txt >sorted.txt
	echo "sort: $?"
	sort -n -c sorted.txt && echo "output is sorted"
	wc -l <sorted.txt
	md5sum <sorted.txt | cut -c1-32
	ls tmp | wc -l
}

# flock -c runs the command with the lock held: the locked fd goes to it.
flock_command() {
	flock lockfile -c "\"$FDLIST\" flock-child; flock -n lockfile true; echo \"second flock while held: \$?\""
	echo "flock: $?"
	flock -n lockfile "$PROBE" "$PROOF"
	echo "after: $?"
	flock -E 42 -n lockfile -c "flock -n -E 43 lockfile true"
	echo "nested conflict: $?"
}

git_clone_hook() {
	export GIT_AUTHOR_NAME=compat GIT_AUTHOR_EMAIL=compat@localhost
	export GIT_COMMITTER_NAME=compat GIT_COMMITTER_EMAIL=compat@localhost
	export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
	export GIT_CONFIG_NOSYSTEM=1 HOME=$PWD
	git init -q -b main origin
	seq 1 100 >origin/numbers.txt
	echo "hello" >origin/README
	git -C origin add . && git -C origin commit -q -m "first commit"
	echo "more" >>origin/README
	git -C origin commit -q -am "second commit"
	mkdir -p template/hooks
	cat >template/hooks/post-checkout <<-'SH'
	#!/bin/sh
	"$PROBE" "$PROOF"
	echo "post-checkout: prev=$1 new=$2 branch=$3" >hook-ran.txt
	SH
	chmod +x template/hooks/post-checkout
	expect "git clone" logged clone.log git clone --template="$PWD/template" "file://$PWD/origin" copy
	cat copy/hook-ran.txt
	git -C copy log --format='%H %s'
	git -C copy status --porcelain --untracked-files=no
	expect "git fetch" logged fetch.log git -C copy fetch -q origin
	expect "git fsck" logged fsck.log git -C copy fsck --strict
}

# stdio: four pipes, so the child has an extra pipe on fd 3.
node_child_process() {
	cat >spawn.js <<-'JS'
	const cp = require("child_process");
	const [fdlist, probe, proof] = process.argv.slice(2);
	function collect(stream) {
	    return new Promise(r => { let s = ""; stream.on("data", d => s += d); stream.on("end", () => r(s.trim())); });
	}
	async function main() {
	    const c = cp.spawn("sh", ["-c", "echo out; echo err >&2; echo extra >&3; read x <&0; echo \"got $x\" >&3; exit 5"],
	                       { stdio: ["pipe", "pipe", "pipe", "pipe"] });
	    c.stdin.end("stdin line\n");
	    const [o, e, x] = await Promise.all([collect(c.stdout), collect(c.stderr), collect(c.stdio[3])]);
	    const code = await new Promise(r => c.on("close", r));
	    console.log(`stdout=${o} stderr=${e} fd3=${x.replace(/\n/g, "|")} exit=${code}`);
	    const l = cp.spawn(fdlist, ["child"], { stdio: ["pipe", "pipe", "pipe", "pipe", "ignore", "pipe"] });
	    console.log(await collect(l.stdout));
	    const i = cp.spawn(fdlist, ["inherit"], { stdio: "inherit" });
	    await new Promise(r => i.on("close", r));
	    console.log(cp.execSync("echo execSync; exit 0").toString().trim());
	    console.log(cp.execFileSync(probe, [proof]).toString().trim() || "probe ran");
	    const r = cp.spawnSync("sh", ["-c", "exit 7"]);
	    console.log("spawnSync status " + r.status);
	}
	main();
	JS
	node spawn.js "$FDLIST" "$PROBE" "$PROOF"
}

# dbus-run-session starts a session bus, reads its address from the
# daemon over a pipe, and runs a client against it.  The client looks up
# its sibling dbus-daemon to prove that it carries the shim too.
dbus_run_session() {
	dbus-run-session -- sh -c '
		"$PROBE" "$PROOF"
		for p in $(cat /proc/$PPID/task/*/children); do
			case $(readlink /proc/$p/exe) in
			*/dbus-daemon) grep -q /libnoleak.so /proc/$p/maps && l=1 || l=0
				echo "dbus-daemon $l" >>"$PROOF";;
			esac
		done
		echo "address: ${DBUS_SESSION_BUS_ADDRESS%%:*}"
		dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.GetId >/dev/null && echo "bus answers"
		dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.freedesktop.DBus | grep -o "boolean true"' \
		</dev/null 2>dbus.err
	echo "dbus-run-session: $?"
}

# tmux new-session -d: the server daemonizes; the caller's $(...) gets EOF
# at once even though the session runs on.
tmux_detached() {
	local sock=$PWD/tmux.sock t0=$SECONDS
	local out
	out=$(tmux -S "$sock" -f /dev/null new-session -d \
		"\"$FDLIST\" session >session.txt; \"\$PROBE\" \"\$PROOF\"; echo done >>session.txt; sleep 60"; echo "started: $?")
	echo "$out"
	(( SECONDS - t0 < 5 )) && echo "returned at once"
	wait_for 10 grep -q done session.txt
	cat session.txt
	tmux -S "$sock" list-sessions -F '#{session_windows} window(s)'
	tmux -S "$sock" kill-server
	echo "kill-server: $?"
}
