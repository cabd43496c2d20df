# Language runtimes starting processes with fds of their choosing: Ruby's
# spawn (a pipe on fd 3, one made inheritable with close_others false and
# true, one redirected onto its own number), Open3.popen3 and IO.popen;
# PHP's proc_open with descriptor specs above 2 and a stream of its own on
# fd 5; node's cluster module (round-robin, and SCHED_NONE where each
# worker gets the listening socket itself) and a net.Server handed to a
# child_process.fork child over its IPC channel.  Each child says which
# fds it got ($FDLIST), the program's own fds named, not numbered: the
# numbers a runtime picks are its own business.

checks_runtimes() {
	check ruby-spawn ruby3.1 ruby_spawn
	check php-proc-open php8.2 php_proc_open
	check node-cluster-rr node node_cluster rr
	check node-cluster-sched-none node node_cluster none
}

# Ruby 3.1 opens every fd close-on-exec and by default spawns with
# close_others false: a child gets what the redirects name and what the
# program made inheritable itself.
ruby_spawn() {
	cat >spawn.rb <<-'RB'
	require "open3"
	fdlist, probe, proof = ARGV
	$stdout.sync = true

	# fdlist's line with the fds in NAMES (fd => name) named.
	def named(line, names)
	  line.strip.sub(/fds=(\S*)/) { "fds=" + $1.split(",").map { |f| names[f.to_i] || f }.join(",") }
	end

	# see LABEL, NAMES, OPTIONS: fdlist spawned with OPTIONS, its stdout a pipe.
	def see(fdlist, label, names, **opts)
	  out_r, out_w = IO.pipe
	  names = names.merge(out_r.fileno => "out_r", out_w.fileno => "out_w")
	  pid = spawn(fdlist, label, out: out_w, **opts)
	  out_w.close
	  line = named(out_r.read, names)
	  out_r.close
	  Process.wait(pid)
	  "#{line} / exit #{$?.exitstatus}"
	end

	r, w = IO.pipe
	puts see(fdlist, "spawn 3=>w", {r.fileno => "r", w.fileno => "w"}, 3 => w)
	pid = spawn("sh", "-c", "echo through fd 3 >&3", 3 => w)
	w.close
	puts "spawn 3=>w, the parent read: #{r.read.inspect}"
	Process.wait(pid)
	r.close

	[false, true].each do |co|
	  r, w = IO.pipe
	  w.close_on_exec = false
	  puts see(fdlist, "close_on_exec=false, close_others #{co}", {r.fileno => "r", w.fileno => "w"}, close_others: co)
	  pid = spawn("sh", "-c", "echo through w >&#{w.fileno}", close_others: co, err: File::NULL)
	  w.close
	  puts "  the parent read: #{r.read.inspect}"
	  Process.wait(pid)
	  r.close
	end

	r, w = IO.pipe
	puts see(fdlist, "spawn w=>w", {r.fileno => "r", w.fileno => "w"}, w => w)
	[r, w].each(&:close)

	Open3.popen3(fdlist, "Open3.popen3") do |i, o, e, t|
	  i.close
	  puts "#{o.read.strip} / err #{e.read.inspect} / exit #{t.value.exitstatus}"
	end
	Open3.popen3("sh", "-c", "cat; echo err >&2; exit 3") do |i, o, e, t|
	  i.write "hello\n"
	  i.close
	  puts "Open3.popen3 sh: out #{o.read.inspect} err #{e.read.inspect} exit #{t.value.exitstatus}"
	end
	out, st = Open3.capture2("sh", "-c", "read x; echo \"got $x\"", stdin_data: "data\n")
	puts "Open3.capture2: #{out.inspect} exit #{st.exitstatus}"

	f = File.open("/dev/null")
	f.close_on_exec = false
	[false, true].each do |co|
	  line = IO.popen([fdlist, "IO.popen, close_on_exec=false, close_others #{co}"], close_others: co, &:read)
	  puts "#{named(line, {f.fileno => "f"})} / exit #{$?.exitstatus}"
	end
	f.close
	puts "#{IO.popen(["sh", "-c", "echo IO.popen sh; exit 4"], &:read).strip} / exit #{$?.exitstatus}"
	IO.popen(["tr", "a-z", "A-Z"], "r+") do |io|
	  io.write "IO.popen r+\n"
	  io.close_write
	  puts io.read.strip
	end
	system(probe, proof)
	puts "system probe: exit #{$?.exitstatus}"
	RB
	ruby spawn.rb "$FDLIST" "$PROBE" "$PROOF"
	echo "ruby exit $?"
}

# proc_open with descriptor specs: pipes on 0, 1, 3 (written by the child)
# and 4 (read by it), a file on 2, and streams of the program's own: one
# moved onto fd 5 (it has another number in the program, and the
# program's own fd 5 is another file), one kept on its own number (PHP
# makes no dup2 for it).  PHP opens its files without close-on-exec, so
# without the shim a child also gets every file the program has open: the
# fdlist lines go to fds.txt, and the output says which of the fds its
# spec names the child has.
php_proc_open() {
	cat >proc.php <<-'PHP'
	<?php
	[$fdlist, $probe, $proof] = array_slice($argv, 1);
	file_put_contents("moved.txt", "from the stream moved onto fd 5\n");
	file_put_contents("own.txt", "from the stream on its own number\n");
	$held = [fopen("/dev/null", "r"), fopen("/dev/null", "r"), fopen("/dev/null", "r")];
	$moved = fopen("moved.txt", "r");
	$own = fopen("own.txt", "r");

	# The fd number of the program's file PATH.
	function fd_of($path) {
	    foreach (scandir("/proc/self/fd") as $f)
	        if (ctype_digit($f) && @readlink("/proc/self/fd/$f") === realpath($path))
	            return (int)$f;
	    exit("no fd for $path\n");
	}

	# fdlist started with SPEC (its stdout a pipe): which of the fds SPEC
	# names the child has (those in NAMES by their name).
	function child_fds($fdlist, $label, $spec, $names = []) {
	    $spec[1] = ["pipe", "w"];
	    $p = proc_open([$fdlist, $label], $spec, $pipes);
	    foreach ($pipes as $i => $pipe)
	        if ($i != 1)
	            fclose($pipe);
	    $line = trim(stream_get_contents($pipes[1]));
	    fclose($pipes[1]);
	    $rc = proc_close($p);
	    file_put_contents("fds.txt", "$line\n", FILE_APPEND);
	    $have = explode(",", substr($line, strpos($line, "fds=") + 4));
	    $named = array_keys($spec);
	    sort($named);
	    $got = array_values(array_intersect($named, $have));
	    $name = fn($fd) => $names[$fd] ?? $fd;
	    $named = array_map($name, $named);
	    $got = array_map($name, $got);
	    return "$label: spec " . implode(",", $named) . ", the child has " . implode(",", $got) . " / exit $rc";
	}

	echo "moved: fd 5 in the program is another file: ", fd_of("moved.txt") != 5 ? "yes" : "no", "\n";
	$spec = [0 => ["pipe", "r"], 1 => ["pipe", "w"], 2 => ["file", "err.txt", "w"],
	         3 => ["pipe", "w"], 4 => ["pipe", "r"], 5 => $moved];
	echo child_fds($fdlist, "pipes, a file, a stream onto 5", $spec), "\n";
	rewind($moved);
	$p = proc_open("cat; echo three >&3; read x <&4; echo \"fd 4: \$x\"; cat <&5; echo err >&2; exit 7",
	               $spec, $pipes);
	fwrite($pipes[0], "to stdin\n");
	fclose($pipes[0]);
	fwrite($pipes[4], "to fd 4\n");
	fclose($pipes[4]);
	echo "stdout: ", json_encode(stream_get_contents($pipes[1])), "\n";
	echo "fd 3: ", json_encode(stream_get_contents($pipes[3])), "\n";
	fclose($pipes[1]);
	fclose($pipes[3]);
	echo "exit ", proc_close($p), "\n";
	echo "stderr, in the file: ", json_encode(file_get_contents("err.txt")), "\n";

	$n = fd_of("own.txt");
	echo child_fds($fdlist, "a stream on its own number", [0 => ["pipe", "r"], $n => $own], [$n => "own"]), "\n";
	$p = proc_open(["sh", "-c", "cat <&$n"], [1 => ["pipe", "w"], $n => $own], $pipes);
	echo "read on its own number: ", json_encode(stream_get_contents($pipes[1])), " exit ", proc_close($p), "\n";

	$p = proc_open(["sh", "-c", "echo out; echo err >&2; exit 3"],
	               [0 => ["null"], 1 => ["pipe", "w"], 2 => ["redirect", 1]], $pipes);
	echo "null and redirect: ", json_encode(stream_get_contents($pipes[1])), " exit ", proc_close($p), "\n";
	$p = proc_open([$probe, $proof], [], $pipes);
	echo "probe: exit ", proc_close($p), "\n";
	PHP
	php proc.php "$FDLIST" "$PROBE" "$PROOF"
	echo "php exit $?"
}

# node_cluster rr|none: a primary with two workers serving HTTP, scheduled
# round-robin by the primary (it accepts and hands each connection over)
# or not at all (SCHED_NONE: the primary hands each worker the listening
# socket, and the kernel picks who accepts).  Each worker answers one
# request and closes its server, so the second request goes to the other.
# Then a net.Server is handed to a child_process.fork child, which must
# answer on it once the primary has closed its own.
node_cluster() {
	cat >cluster.js <<-'JS'
	const cluster = require("cluster"), http = require("http"), net = require("net"),
	      cp = require("child_process");
	const [mode, fdlist, probe, proof] = process.argv.slice(2);
	const say = s => console.log(s);

	function get(port) {
	    return new Promise((resolve, reject) => {
	        http.get({ host: "127.0.0.1", port, path: "/", agent: false }, r => {
	            let b = ""; r.on("data", d => b += d); r.on("end", () => resolve(b));
	        }).on("error", reject);
	    });
	}

	if (process.env.COMPAT_ROLE === "child") {
	    // A child_process.fork child: gets a net.Server over its IPC channel.
	    process.on("message", (m, server) => {
	        if (m !== "server") return;
	        const fds = cp.execFileSync(fdlist, ["grandchild of the fork child"]).toString().trim();
	        cp.execFileSync(probe, [proof]);
	        server.on("connection", s => s.end("the fork child answered\n"));
	        process.send({ fds, channel: process.channel !== undefined });
	    });
	} else if (cluster.isPrimary) {
	    cluster.schedulingPolicy = mode === "none" ? cluster.SCHED_NONE : cluster.SCHED_RR;
	    const workers = [cluster.fork(), cluster.fork()];
	    const exits = [];
	    let listening = 0, port;
	    cluster.on("exit", (w, code, signal) => exits.push(`worker ${w.id} exit ${code} ${signal}`));
	    cluster.on("listening", async (w, addr) => {
	        port = addr.port;
	        if (++listening < 2) return;
	        // Each worker answers one request and closes its server, so the
	        // next request can only go to the other.
	        const answers = [];
	        for (let i = 0; i < 2; i++) answers.push(await get(port));
	        say("answers: " + answers.map(a => a.split(" ")[0]).sort().join(", "));
	        for (const a of [...new Set(answers.map(a => a.slice(a.indexOf(" ") + 1)))]) say("  " + a.trim());
	        // A net.Server handed to a child_process.fork child.
	        const srv = net.createServer(s => s.end("the parent answered\n"));
	        srv.listen(0, "127.0.0.1", () => {
	            const sport = srv.address().port;
	            const child = cp.fork(__filename, process.argv.slice(2), { env: { ...process.env, COMPAT_ROLE: "child" } });
	            child.on("message", m => {
	                say("fork child: " + m.fds + ", has its IPC channel: " + m.channel);
	                srv.close();
	                net.connect(sport, "127.0.0.1").on("data", d => {
	                    say("server handed over: " + d.toString().trim());
	                    child.kill();
	                    child.on("exit", (code, sig) => {
	                        say(`fork child exit ${code} ${sig}`);
	                        for (const w of workers) w.kill();
	                        setTimeout(function wait() {
	                            if (exits.length < 2) return setTimeout(wait, 50);
	                            say(exits.sort().join(", "));
	                        }, 50);
	                    });
	                });
	            });
	            child.send("server", srv);
	        });
	    });
	} else {
	    const server = http.createServer((q, r) => {
	        // Run while the worker listens (SCHED_NONE: on the socket itself).
	        const fds = cp.execFileSync(fdlist, ["child of a worker"]).toString().trim();
	        cp.execFileSync(probe, [proof]);
	        r.end(`worker${cluster.worker.id} ${fds}\n`);
	        server.close();
	    });
	    server.listen(0, "127.0.0.1");
	}
	JS
	node cluster.js "$1" "$FDLIST" "$PROBE" "$PROOF"
	echo "node exit $?"
}
