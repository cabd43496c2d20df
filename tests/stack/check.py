#!/usr/bin/env python3
"""The shim's stack bound, checked at build time.

Every interposed call must run on a small stack: a signal handler on a
MINSIGSTKSZ alternate stack, a thread with a 16 KiB stack.  So:

  - at most 1 KiB (AS_LIMIT) on every path of the calls POSIX lists as
    async-signal-safe (the NL_INTERPOSED_AS rows of shim/base/calls.def),
    and of the shim's own
    signal trampoline;
  - at most 4 KiB (ANY_LIMIT) on every path of every other entry point.

How: the library's objects are built with -fstack-usage
-fcallgraph-info=su, which leaves a .ci file (VCG) beside each object with
every function's frame size and every call it makes after inlining.  This
script joins them into one call graph and takes, from each entry point (the
library's exported functions, the vfork stub, the constructor, the signal
trampoline), the heaviest path.  Frames inside libc (the real calls, memcpy,
clock_gettime) are not counted: they are plain system-call wrappers or leaf
routines; tests/it/stack_small.c measures the whole, libc included, on
guard-page stacks.

Fails on:
  - a path over its limit;
  - a frame of unbounded size (a VLA or alloca) not in DYNAMIC;
  - an indirect call that is neither a call through the real-symbol
    registry (a line calling real...()) nor described in INDIRECT;
  - recursion;
  - a call into the dynamic loader (dlsym, ...) from anywhere but the
    real-symbol registry, or a sigaction interposer that no longer looks
    every real symbol up before it installs a handler (LOADER below);
  - a missing .ci file (objects built without the flags).

usage: check.py BUILD_DIR LIBRARY [-v]
"""
import glob
import os
import re
import subprocess
import sys

AS_LIMIT = 1024
ANY_LIMIT = 4096

# The interposed calls POSIX (2017 and 2024) lists as async-signal-safe,
# with their fortify, large-file and time64 names: the rows of the one
# table of interposed calls written NL_INTERPOSED_AS.  A call named there
# that the library does not export (another target's) is ignored.
CALLS_DEF = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "shim", "base", "calls.def")


def as_safe_calls():
    try:
        text = open(CALLS_DEF).read()
    except OSError as e:
        fail("%s: %s" % (CALLS_DEF, e))
    names = re.findall(r"^NL_INTERPOSED_AS\((\w+),", text, re.M)
    if not names:
        fail("%s: no NL_INTERPOSED_AS row" % CALLS_DEF)
    return frozenset(names)


# The dynamic loader: its entry points take its lock, and a handler may
# have interrupted the loader itself, so no path of a handler may enter it.
# Only the real-symbol registry calls it (base/real.c's lookup, through
# nl_real_resolve and nl_real_resolve_all), and that never once a handler
# can run: the sigaction interposer (HANDLER_INSTALL) looks every slot up
# before it installs the first handler, after which neither looks anything
# up (base/real.h).  So check that: nothing else calls the loader, lookup
# has no other caller, and the installer calls nl_real_resolve_all.
# (libc's frames are not counted, dlsym's included: some 1 KiB that no
# handler reaches, and that only a first call outside a handler pays.)
LOADER = {"dlsym", "dlvsym", "dlopen", "dlmopen", "dlclose", "dladdr",
          "dladdr1", "dlinfo", "dlerror", "dl_iterate_phdr"}
LOOKUP = "shim/base/real.c:lookup"
LOOKUP_CALLERS = {"nl_real_resolve", "nl_real_resolve_all"}
RESOLVE_ALL = "nl_real_resolve_all"
HANDLER_INSTALL = "shim/interpose/signal.c:do_sigaction"

# Entry points that are not exported functions of their own name.
EXTRA_ENTRIES = {
    # The vfork stub (asm in shim/interpose/fork.c) calls only this.
    "vfork": ("nl_vfork_prepare", ANY_LIMIT),
    # The shim's handler wrappers run on the program's signal stack.
    **{"signal trampoline %d" % i:
       ("shim/interpose/signal.c:trampoline%d" % i, AS_LIMIT)
       for i in range(4)},
    # Start-up, on the thread that loads the program.
    "constructor": ("shim/init.c:nl_constructor", ANY_LIMIT),
    "destructor": ("shim/init.c:nl_destructor", ANY_LIMIT),
}

# Start-up runs once per process, in the constructor: it is checked there,
# against ANY_LIMIT.  An interposed call reaches it only when it comes
# before the constructor (from an earlier library's constructor, on the
# thread loading the program, before the program can run a handler), so
# the other entry points are checked without it.
START_UP = {"nl_init"}
START_UP_ENTRY = "constructor"

# The /proc listers call back: a call to one of them is followed into the
# callback named at that call site (read from the source line), through
# the lister's own frames.  (lister -> callback's argument index)
# The callback runs in the lister's body: for_each (the /proc listing) or,
# for nl_for_each_open_fd without /proc, for_each_probed; counted above
# the lister's frame and the larger of the two.
LISTERS = {"nl_for_each_number": 1, "nl_for_each_open_fd": 0}
LISTER_BODIES = ("shim/core/fdlist.c:for_each",
                 "shim/core/fdlist.c:for_each_probed")

# Indirect calls that are not calls through the real-symbol registry:
# caller -> the functions (graph titles) it may call, or EXTERNAL (code
# that is not the shim's, not counted).
EXTERNAL = "EXTERNAL"
INDIRECT = {
    # The callback: counted at the lister's call site (LISTERS).
    LISTER_BODIES[0]: EXTERNAL, LISTER_BODIES[1]: EXTERNAL,
    # The program's own handler, called by the shim's trampolines.
    **{"shim/interpose/signal.c:trampoline%d" % i: EXTERNAL
       for i in range(4)},
    # The policy key table's parsers.
    "nl_policy_set": "policy parsers",
    # FOPEN_LIKE/FREOPEN_LIKE/TMPFILE_LIKE macros: the real functions.
    "fopen": EXTERNAL, "fopen64": EXTERNAL,
    "freopen": EXTERNAL, "freopen64": EXTERNAL,
    "tmpfile": EXTERNAL, "tmpfile64": EXTERNAL,
    # Process trees: what to do with each member a /proc scan finds, and
    # the check a signal's target must pass at the moment of sending.
    "shim/core/pgroup.c:scan_member": "pgroup member actions",
    "shim/core/pgroup.c:send_verified": "pgroup target checks",
    # A [program] section's match asks start-up for the executable
    # (nl_identity.exe_lazy) only when the other names fail.
    "policy/config.c:walk": "start-up's executable",
    # Every log line names the executable: init's getter, which reads it
    # at the first line (nl_event_configure).
    "nl_event_begin": "the log's executable",
    "nl_event_exe": "the log's executable",
    # pthread_cleanup_push: the cancel handler of system()'s wait.
    "shim/interpose/shell.c:wait_shell": "system's cancel handler",
}
PGROUP_INDIRECT = {
    "pgroup member actions": ["log_member", "term_member", "kill_member"],
    "pgroup target checks": ["still_leader", "still_member"],
}
# A call through the real-symbol registry (base/real.h): a function pointer
# named real..., or the NL_CALL_REAL macro.
REAL_CALL = re.compile(r"\breal\w*\s*\(|\bNL_CALL_REAL\s*\(")

# Functions every caller reaches by a tail call (a jmp, checked in the
# library's code): the caller's frame is gone while they run, so a path
# through one counts the callee's worst instead of the caller's frame plus
# it.  The read interposers' slow ways (interpose/read.c, READ_SLOW).
TAIL_CALLED = {"read_slow", "readv_slow", "recv_slow", "recvfrom_slow"}

# Frames whose size depends on the caller's own arrays, as in glibc's own
# implementation of the same call: counted by their fixed part.
DYNAMIC = {
    "execl": "argv from the variadic arguments, 8 bytes each (as glibc)",
    "execle": "argv from the variadic arguments, 8 bytes each (as glibc)",
    "execlp": "argv from the variadic arguments, 8 bytes each (as glibc)",
}

# Known exceptions: frames counted without one instance of a type (its
# size is asked of the compiler), reported once the type is small.  None
# left: the exec sweep's plan and named-fd list live in scratch memory.
ALLOWANCE = {}
ALLOWANCE_HEADERS = ("core/sweep.h", "policy/policy.h")


def type_size(name):
    """sizeof(name) with the shim's headers, 0 when it does not compile."""
    src = "".join('#include "%s"\n' % h for h in ALLOWANCE_HEADERS)
    src += "char size[sizeof(%s)];\n" % name
    r = subprocess.run(["cc", "-std=gnu11", "-D_GNU_SOURCE", "-iquote", ".",
                        "-iquote", "shim", "-x", "c", "-S", "-o", "-", "-"],
                       input=src, capture_output=True, text=True)
    m = re.search(r"\.(?:zero|comm\s+size,)\s*(\d+)", r.stdout)
    return int(m.group(1)) if r.returncode == 0 and m else 0

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"'
                  r'(?: label: "([^"]*)")?')
SIZE = re.compile(r"\\n(\d+) bytes \(([a-z,]+)\)")


def fail(msg):
    print("stack check: " + msg, file=sys.stderr)
    sys.exit(1)


def load_graph(build):
    objs = sorted(glob.glob(os.path.join(build, "obj/shim/**/*.o"), recursive=True) +
                  glob.glob(os.path.join(build, "obj/policy/*.o")))
    if not objs:
        fail("no objects under %s/obj" % build)
    frames, kinds, edges = {}, {}, {}
    for o in objs:
        ci = o[:-2] + ".ci"
        if not os.path.exists(ci):  # make removes it before each compile
            fail("%s: missing; build with STACK_FLAGS (see Makefile)" % ci)
        for line in open(ci):
            m = NODE.search(line)
            if m:
                s = SIZE.search(m.group(2))
                if s:
                    frames[m.group(1)] = int(s.group(1))
                    kinds[m.group(1)] = s.group(2)
                continue
            m = EDGE.search(line)
            if m:
                edges.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
    return frames, kinds, edges


def call_args(line, fn):
    """The arguments of the call to fn on a source line, split at the top
    level commas (None when the line does not hold the whole call)."""
    at = line.find(fn + "(")
    if at < 0:
        return None
    depth, args, cur = 0, [], ""
    for ch in line[at + len(fn):]:
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                return args
        elif ch == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
            continue
        cur += ch
    return None


def policy_parsers(frames):
    return sorted(t for t in frames if t.startswith("policy/policy.c:parse_"))


def source_line(loc):
    path, line = loc.split(":")[:2]
    try:
        with open(path) as f:
            for i, text in enumerate(f, 1):
                if i == int(line):
                    return text
    except OSError:
        pass
    return ""


def entry_points(lib, frames, as_safe):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TWi":
            syms.setdefault(parts[0], []).append(parts[2].split("@")[0])
    # Versioned wrappers (posix_spawn@GLIBC_2.2.5) are local functions at
    # the exported address: find their names in the full symbol table.
    full = subprocess.run(["nm", "--defined-only", lib], check=True,
                          capture_output=True, text=True).stdout
    by_addr = {}
    for line in full.splitlines():
        parts = line.split()
        if len(parts) == 3:
            by_addr.setdefault(parts[0], []).append(parts[2])
    entries = {}
    for addr, names in syms.items():
        for name in names:
            if name.startswith("GLIBC_") or name in EXTRA_ENTRIES:
                continue
            cands = [name] + by_addr.get(addr, [])
            title = next((t for c in cands for t in (c,) + tuple(
                k for k in frames if k.endswith(":" + c)) if t in frames), None)
            if title is None:
                fail("exported %s: no frame in the call graph" % name)
            key = name if name not in entries else "%s@%s" % (name, addr)
            entries[key] = (title, AS_LIMIT if name in as_safe else ANY_LIMIT)
    for name, (title, limit) in EXTRA_ENTRIES.items():
        if title not in frames:
            fail("entry %s: %s not in the call graph" % (name, title))
        entries[name] = (title, limit)
    return entries


class Graph:
    def __init__(self, frames, kinds, edges):
        self.frames, self.kinds, self.edges = frames, kinds, edges
        self.errors, self.unused_allowance = [], set()
        self.type_sizes = {}
        self.indirect = {"policy parsers": policy_parsers(frames),
                         "start-up's executable": ["shim/init.c:exe"],
                         "the log's executable": ["shim/init.c:log_exe"],
                         "system's cancel handler":
                             ["shim/interpose/shell.c:system_cancelled"]}
        for how, names in PGROUP_INDIRECT.items():
            self.indirect[how] = ["shim/core/pgroup.c:" + n for n in names]
        self.memo = {}

    def frame(self, t):
        size = self.frames[t]
        if t in ALLOWANCE:
            if ALLOWANCE[t] not in self.type_sizes:
                self.type_sizes[ALLOWANCE[t]] = type_size(ALLOWANCE[t])
            minus = self.type_sizes[ALLOWANCE[t]]
            if minus < 1024 or minus > size:
                self.unused_allowance.add(t)
            else:
                size -= minus
        if self.kinds[t] == "dynamic" and t not in DYNAMIC:
            self.errors.append("%s: frame of unbounded size (VLA or alloca)" % t)
        return size

    def callees(self, t, cut_start_up):
        for target, loc in self.edges.get(t, []):
            if target == "__indirect_call":
                if loc and REAL_CALL.search(source_line(loc)):
                    continue  # the real libc function
                how = INDIRECT.get(t)
                if how is None:
                    self.errors.append("%s: indirect call at %s is not through "
                                       "the real-symbol registry nor in INDIRECT"
                                       % (t, loc))
                    continue
                if how == EXTERNAL:
                    continue
                yield from self.indirect[how]
                continue
            if target not in self.frames:
                continue  # libc
            if cut_start_up and target in START_UP:
                continue
            if target in LISTERS:
                yield self.lister_call(t, target, loc)
                continue
            yield target

    def lister_call(self, caller, lister, loc):
        """A node for `lister` calling back the function named at loc."""
        args = call_args(source_line(loc), lister) if loc else None
        name = args[LISTERS[lister]] if args and len(args) > LISTERS[lister] else None
        path = loc.split(":")[0] if loc else ""
        title = next((c for c in ("%s:%s" % (path, name), name)
                      if name and c in self.frames), None)
        if title is None:
            self.errors.append("%s: cannot tell the callback of %s at %s"
                               % (caller, lister, loc))
            return lister
        node = "%s(%s)" % (lister, name)
        if node not in self.frames:
            self.frames[node] = self.frames[lister] + max(
                self.frames[b] for b in LISTER_BODIES)
            self.kinds[node] = "static"
            self.edges[node] = [(title, None)]
        return node

    def worst(self, t, cut, stack=()):
        key = (t, cut, any(s in START_UP for s in stack))
        if key in self.memo:
            return self.memo[key]
        if t in stack:
            if any(s in START_UP for s in stack[stack.index(t):]):
                return 0, []  # start-up runs once: inside it, the guard returns
            self.errors.append("recursion: " + " -> ".join(stack + (t,)))
            return 0, [t]
        best, path, tail, tail_path = 0, [], 0, []
        for c in self.callees(t, cut):
            w, p = self.worst(c, cut, stack + (t,))
            if c.split(":")[-1] in TAIL_CALLED:
                if w > tail:
                    tail, tail_path = w, p
            elif w > best:
                best, path = w, p
        result = (self.frame(t) + best, [t] + path)
        if tail > result[0]:
            result = (tail, tail_path)
        self.memo[key] = result
        return result


def check_loader(frames, edges):
    """Errors: a way into the dynamic loader a handler could take (LOADER)."""
    errors = []
    for src, outs in sorted(edges.items()):
        for target, loc in outs:
            if target in LOADER and src != LOOKUP and src not in LOOKUP_CALLERS:
                errors.append("%s calls %s (%s): only the real-symbol registry "
                              "(%s) may enter the loader" % (src, target, loc,
                                                             LOOKUP))
            if target == LOOKUP and src not in LOOKUP_CALLERS:
                errors.append("%s calls %s: only %s may" % (
                    src, LOOKUP, " and ".join(sorted(LOOKUP_CALLERS))))
    if HANDLER_INSTALL not in frames:
        errors.append("%s: not in the call graph (HANDLER_INSTALL)"
                      % HANDLER_INSTALL)
    elif not any(t == RESOLVE_ALL for t, _ in edges.get(HANDLER_INSTALL, [])):
        errors.append("%s does not call %s: a handler's first call of an "
                      "interposed function would look its symbol up (dlsym) "
                      "in the handler" % (HANDLER_INSTALL, RESOLVE_ALL))
    return errors


def check_tail_calls(lib):
    """Every call of a TAIL_CALLED function in lib is a jmp."""
    code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", lib],
                          check=True, capture_output=True, text=True).stdout
    for name in sorted(TAIL_CALLED):
        if not re.search(r"<%s>:" % re.escape(name), code):
            fail("TAIL_CALLED %s: not in the library" % name)
        if re.search(r"\bcall\s+[0-9a-f]+ <%s>" % re.escape(name), code):
            fail("TAIL_CALLED %s: called, not jumped to" % name)


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    verbose = "-v" in sys.argv
    frames, kinds, edges = load_graph(sys.argv[1])
    check_tail_calls(sys.argv[2])
    loader_errors = check_loader(frames, edges)
    g = Graph(frames, kinds, edges)
    entries = entry_points(sys.argv[2], frames, as_safe_calls())
    over = []
    for name in sorted(entries):
        title, limit = entries[name]
        total, path = g.worst(title, name != START_UP_ENTRY)
        bad = total > limit
        if bad or verbose:
            print("%-5s %-22s %5d / %4d  %s" % (
                "OVER" if bad else "ok", name, total, limit,
                " > ".join("%s(%d)" % (p.split(":")[-1], g.frame(p)) for p in path)))
        if bad:
            over.append(name)
    for t in sorted(g.unused_allowance):
        print("stack check: %s no longer holds a big %s: delete its ALLOWANCE"
              " entry" % (t, ALLOWANCE[t]))
    errors = sorted(set(g.errors)) + loader_errors
    for e in errors:
        print("stack check: " + e, file=sys.stderr)
    n_as = sum(1 for t, l in entries.values() if l == AS_LIMIT)
    if over or errors:
        fail("%d entry point(s) over their stack limit, %d other error(s)"
             % (len(over), len(errors)))
    print("stack check: %d entry points within bounds (%d async-signal-safe "
          "within %d bytes, the rest within %d)"
          % (len(entries), n_as, AS_LIMIT, ANY_LIMIT))


if __name__ == "__main__":
    main()
