# libnoleak: a preloadable shim that stops fd leaks and hangs in programs
# whose source cannot be changed.  `make` builds, `make check` tests.

PREFIX  ?= /usr/local
DESTDIR ?=

# TARGET=aarch64-linux-gnu | i386-linux-gnu | x86_64-linux-musl: the same
# sources for another architecture or libc, with Debian's cross compilers
# (gcc-aarch64-linux-gnu, gcc-i686-linux-gnu, musl-tools), into
# build/TARGET/.  What differs per target is in common/target.h and
# common/sys.h.  `make TARGET=... port-check` runs the portable tests there
# (tests/port/: no Criterion), under qemu-user where the machine cannot run
# the target's programs.
TARGET  ?=
ifeq ($(TARGET),)
CC      ?= gcc
B       := build
else
B       := build/$(TARGET)
ifeq ($(TARGET),x86_64-linux-musl)
CC      := musl-gcc
# musl-gcc sees only musl's headers: the kernel's (linux/, asm/) from the
# host's linux-libc-dev, through a directory of links (no glibc header).
KINC    := $(B)/kinc
TARGET_CFLAGS := -isystem $(KINC)
else ifeq ($(TARGET),i386-linux-gnu)
CC      := i686-linux-gnu-gcc
else
CC      := $(TARGET)-gcc
endif
endif

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
# Includes name their layer: "common/sys.h", "policy/policy.h", and inside
# the shim "base/real.h", "core/sweep.h", "log/event.h", "interpose/newfd.h".
INCLUDES := -iquote . -iquote shim
# The library's multiarch directory (lib/<multiarch>): the host compiler's,
# or the target's own name (musl-gcc answers with the host's); the launcher
# looks there too.
MULTIARCH := $(or $(TARGET),$(shell $(CC) -print-multiarch 2>/dev/null))
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden $(INCLUDES) $(TARGET_CFLAGS) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	$(if $(MULTIARCH),-DNL_MULTIARCH='"$(MULTIARCH)"')
# -z now: every libc function the shim calls is bound at load time, so a
# first call never runs the lazy resolver (which saves the vector registers
# on the stack: kilobytes) on a small stack or in a signal handler.
# -Bsymbolic-functions: the library's calls into functions it exports
# itself (an alias such as __recv calling recv, the shim's own syscall())
# are bound here, not looked up by the loader at every process's start.
# --eh-frame-hdr (gcc passes it, musl-gcc does not): __GNU_EH_FRAME_HDR
# marks the end of the read-only data nl_map_code_in() maps in (init.h).
# -T shim/layout.ld: the code every process runs on as few pages as it fits
# (the script says why; the objects are built with -ffunction-sections).
LIB_LDFLAGS := -shared -Wl,--version-script=$(B)/libnoleak.map -Wl,-z,now -Wl,-Bsymbolic-functions -Wl,--eh-frame-hdr \
	-Wl,-T,shim/layout.ld -ldl

# The shim: init.c on top of one folder per layer (shim/*/); a new folder
# needs no edit here.
LIB_SRC  := $(sort $(wildcard shim/*.c shim/*/*.c policy/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
# Everything but the interposers: linked into the unit tests.
CORE_OBJ := $(filter-out $(B)/obj/shim/interpose/%.o,$(LIB_OBJ))
POLICY_OBJ := $(filter $(B)/obj/policy/%.o,$(LIB_OBJ))
HEADERS  := $(wildcard common/*.h common/*.def shim/*.h shim/*/*.h shim/*/*.def policy/*.h tools/*/*.h tests/lib/*.h tests/it/*.h tests/it/*/*.h)

LAUNCHER_SRC := $(sort $(wildcard tools/noleak/*.c tools/inspect/*.c))
REPORT_SRC   := $(sort $(wildcard tools/report/*.c))
UNIT_SRC     := $(sort $(wildcard tests/unit/*.c))
# Integration tests and fixtures: one folder per area (tests/it/fd/, ...).
IT_SRC       := $(sort $(wildcard tests/it/*.c tests/it/*/*.c))
TESTLIB_SRC  := $(sort $(wildcard tests/lib/*.c))
FIXTURE_SRC  := $(sort $(wildcard tests/fixtures/*.c tests/fixtures/*/*.c))
# Built flat into build/fixtures/, by their file names.
FIXTURES     := $(foreach f,$(FIXTURE_SRC),$(B)/fixtures/$(basename $(notdir $(f))))
EXAMPLE_SRC  := $(sort $(wildcard examples/*.c))
EXAMPLES     := $(EXAMPLE_SRC:examples/%.c=$(B)/examples/%)

# Another target builds the launcher only: noleak-report needs zlib, which
# Debian has for the host alone, and reads the same logs on the host.
TOOLS := $(B)/noleak $(if $(and $(REPORT_SRC),$(if $(TARGET),,1)),$(B)/noleak-report)

.PHONY: all check stack unit it deps install install-check clean demo bench compat fuzz fuzz-seeds check-asan stress deb deb-test port-check ports
all: $(B)/libnoleak.so $(B)/empty.so $(TOOLS)

# Objects depend on this file too: a change of flags (-ffunction-sections,
# which shim/layout.ld needs) rebuilds them rather than link stale ones.
$(B)/obj/%.o: %.c $(HEADERS) Makefile | $(KINC)
	@mkdir -p $(dir $@)
	@rm -f $(@:.o=.ci) $(@:.o=.su)
	$(CC) $(ALL_CFLAGS) $(OBJ_FLAGS) -c -o $@ $<

# The shim's frame sizes and call graph (.su, .ci beside each object), for
# the stack bound check (tests/stack/check.py; gcc only: a compiler without
# these flags builds with STACK_FLAGS= and skips `make stack`).
STACK_FLAGS ?= -fstack-usage -fcallgraph-info=su
# Loops the shim writes to keep libc out of a path (a fork child before its
# exec, start-up: each libc page touched there is a page fault) stay loops:
# gcc would turn them back into strlen(), memset() or memcpy() calls.
NO_LIBC_IDIOMS := $(shell $(CC) -fno-tree-loop-distribute-patterns -E -x c /dev/null >/dev/null 2>&1 && \
	echo -fno-tree-loop-distribute-patterns)
$(LIB_OBJ): OBJ_FLAGS = $(STACK_FLAGS) $(NO_LIBC_IDIOMS) -ffunction-sections

$(B)/libnoleak.so: $(LIB_OBJ) $(B)/libnoleak.map shim/layout.ld
	$(CC) $(ALL_CFLAGS) -o $@ $(LIB_OBJ) $(LIB_LDFLAGS)

ifneq ($(KINC),)
$(KINC):
	@mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/asm-generic $@/asm-generic
	ln -sfn /usr/include/$(shell gcc -print-multiarch)/asm $@/asm
endif

# The version script: the target's symbol versions (common/target.h).
$(B)/libnoleak.map: shim/libnoleak.map.in common/target.h
	@mkdir -p $(B)
	$(CC) -E -P -x c $(INCLUDES) -o $@ $<

# The floor every preload pays: a library with nothing in it (benchmarks).
$(B)/empty.so: tests/bench/empty.c
	@mkdir -p $(B)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $<

$(B)/noleak: $(LAUNCHER_SRC:%.c=$(B)/obj/%.o) $(POLICY_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^

$(B)/noleak-report: $(REPORT_SRC:%.c=$(B)/obj/%.o)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lz

# A fixture is a program, a static binary (static_*: what a preload cannot
# reach, the launcher refuses it) or a library (*.so.c).  The stack
# fixtures (stk_*) bind at load (-z now): the loader's lazy resolver, run
# by a first call on the measured stack, would mask the shim's part.
comma := ,
fixture_flags = $(if $(filter static_%,$(notdir $(1))),-static,$(if $(filter %.so.c,$(1)),-shared,-fno-builtin))$(if $(filter stk_%,$(notdir $(1))), -Wl$(comma)-z$(comma)now)
fixture_libs  = $(if $(filter static_% %.so.c,$(notdir $(1))),,-lpthread -ldl)
define FIXTURE_RULE
$(B)/fixtures/$(basename $(notdir $(1))): $(1) $(wildcard $(dir $(1))*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(call fixture_flags,$(1)) -o $$@ $$< $(call fixture_libs,$(1))
endef
$(foreach f,$(filter-out %/found_calls_main.c,$(FIXTURE_SRC)),$(eval $(call FIXTURE_RULE,$(f))))

# foundation_early_calls: one snippet per row of calls.def, in a library the
# program needs (its constructor runs before the preload's).
$(B)/fixtures/found_calls.so: shim/base/calls.def
$(B)/fixtures/found_calls_main: tests/fixtures/foundation/found_calls_main.c $(B)/fixtures/found_calls.so
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/fixtures -Wl,--no-as-needed -l:found_calls.so -Wl,-rpath,'$$ORIGIN'

$(B)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread

# The tools' pure parts, tested with the shim's core.
TOOL_UNIT_OBJ := $(B)/obj/tools/noleak/ldpreload.o

$(B)/unit-tests: $(UNIT_SRC:%.c=$(B)/obj/%.o) $(CORE_OBJ) $(TOOL_UNIT_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcriterion -ldl -lpthread

$(B)/it-tests: $(IT_SRC:%.c=$(B)/obj/%.o) $(TESTLIB_SRC:%.c=$(B)/obj/%.o)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcriterion -lpthread

# Criterion (the test framework) comes from Debian; install it only when it
# is missing, so `make check` works on a fresh machine.
deps:
	@tests/deps.sh

# Every interposed call within its stack bound: 1 KiB on the paths of the
# async-signal-safe calls, 4 KiB on any other.
stack: all
	python3 tests/stack/check.py $(B) $(B)/libnoleak.so

unit: deps all $(B)/unit-tests
	$(B)/unit-tests --jobs 2

it: deps all $(B)/it-tests $(FIXTURES) $(EXAMPLES)
	NOLEAK_TOP=$(CURDIR) $(B)/it-tests --jobs 2

check: deps
	tests/layers.sh
	tests/schema.sh
	$(MAKE) all
	$(MAKE) stack
	tests/man.sh
	tests/journald.sh
	$(MAKE) install-check
	$(MAKE) unit
	$(MAKE) it

# The main job on the bundled incidents: without the shim, audit, enforce.
demo: all $(EXAMPLES)
	examples/demo.sh

# Real programs nobody here wrote, under enforce, against the same runs
# without the shim (run by CI); then the Debian package in a throwaway root,
# named deb-package for COMPAT_ONLY (COMPAT_ONLY='deb*': the package alone).
compat: all
	tests/compat/run.sh
	@case "$${COMPAT_MODE:-enforce} deb-package" in "enforce "$${COMPAT_ONLY:-*}) $(MAKE) deb-test ;; esac

# The shim built never to initialise (its constructor does nothing, every
# interposed call passes straight through): what loading the library costs,
# the floor of the bench's start-up, spawn and workload figures (benchmarks
# only, never installed).
# Its object lives outside obj/shim, whose objects the stack check reads.
$(B)/obj/load/init.o: shim/init.c $(HEADERS) Makefile | $(KINC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NO_LIBC_IDIOMS) -ffunction-sections -DNL_LOAD_ONLY -c -o $@ $<
$(B)/libnoleak-load.so: $(filter-out $(B)/obj/shim/init.o,$(LIB_OBJ)) $(B)/obj/load/init.o $(B)/libnoleak.map shim/layout.ld
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(LIB_LDFLAGS)

# The cost of the shim, side by side with no shim (a benchmark, not a test).
bench: all $(B)/libnoleak-load.so
	tests/bench/run.sh

# Fuzzing (clang's libFuzzer): each target for FUZZ_SECONDS, from the seed
# corpus in tests/fuzz/corpus/.  A crash leaves its input in build/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined
FUZZ_TARGETS := policy json passfds $(if $(wildcard tests/fuzz/report_parser.c),report_parser)
fuzz_policy_SRC        := tests/fuzz/policy.c $(wildcard policy/*.c)
fuzz_json_SRC          := tests/fuzz/json.c shim/log/json.c
fuzz_passfds_SRC       := tests/fuzz/passfds.c policy/passfds.c
fuzz_report_parser_SRC := tests/fuzz/report_parser.c $(filter-out tools/report/report.c,$(REPORT_SRC))
fuzz_report_parser_LIBS := -lz
# Each target's seed corpus: tests/fuzz/corpus/TARGET unless named here.
fuzz_report_parser_CORPUS := tests/fuzz/corpus/report
fuzz_corpus = $(or $(fuzz_$(1)_CORPUS),tests/fuzz/corpus/$(1))

$(B)/fuzz/%: tests/fuzz/%.c $(wildcard policy/*.c shim/log/json.c tools/report/*.c) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(INCLUDES) -o $@ $(fuzz_$*_SRC) $(fuzz_$*_LIBS)

# The seeds of every target, copied into build/fuzz/corpus-TARGET, where
# the fuzzer adds what it finds; a target without seeds is an error.
fuzz-seeds:
	@set -e; for tc in $(foreach t,$(FUZZ_TARGETS),$(t):$(call fuzz_corpus,$(t))); do \
		t=$${tc%%:*}; c=$${tc#*:}; \
		ls $$c/* >/dev/null || { echo "fuzz $$t: no seed corpus in $$c" >&2; exit 1; }; \
		mkdir -p $(B)/fuzz/corpus-$$t; \
		cp $$c/* $(B)/fuzz/corpus-$$t/; \
	done

fuzz: $(FUZZ_TARGETS:%=$(B)/fuzz/%) fuzz-seeds
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
		(cd $(B)/fuzz && ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			corpus-$$t 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|crash' ); \
	done

# Sanitizers: unit tests built with ASan+UBSan, and integration tests
# against a variant of the library built with UBSan (a preload cannot
# carry ASan: its runtime must come first).  SMOKE=1: a short run for CI.
check-asan: all
	tests/asan.sh

# Threads creating and closing fds while others fork, vfork, spawn, run
# system() and popen(): STRESS_SECONDS (default 60), plain and under
# helgrind.
stress: all
	tests/stress/run.sh

# The portable smoke suite (tests/port/: no Criterion) for this build's
# target; i386 also with -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64.
PORT_SMOKE := $(B)/port-smoke $(if $(filter i386-linux-gnu,$(TARGET)),$(B)/port-smoke-time64)
$(B)/port-smoke: tests/port/smoke.c
	@mkdir -p $(B)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread
$(B)/port-smoke-time64: tests/port/smoke.c
	@mkdir -p $(B)
	$(CC) $(ALL_CFLAGS) -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 -o $@ $< -lpthread

port-check: all $(PORT_SMOKE)
	tests/port/run.sh $(B) $(or $(TARGET),x86_64-linux-gnu)
	$(MAKE) install-check

# make install into a temporary DESTDIR: where each target's library lands,
# and the target's loader finding it through /usr/$LIB/libnoleak.so.
install-check: all $(B)/port-smoke
	tests/port/install.sh $(B) $(MULTIARCH) $(TARGET)

# Every target: the toolchains from Debian (tests/port/deps.sh), each
# target's build and its smoke suite.
PORT_TARGETS := i386-linux-gnu aarch64-linux-gnu x86_64-linux-musl
ports:
	tests/port/deps.sh
	@set -e; for t in $(PORT_TARGETS); do $(MAKE) TARGET=$$t port-check; done

# Man pages: roff in man/, one section per suffix.
MAN_PAGES := $(wildcard man/*.[157])

# make install: the library in its target's multiarch directory, so that
# with PREFIX=/usr the one entry /usr/$LIB/libnoleak.so names the right
# build for every program: lib/x86_64-linux-gnu, lib/aarch64-linux-gnu,
# lib/i386-linux-gnu and lib32 (ld.so of Debian's multilib libc6-i386
# expands $LIB to lib32), lib/x86_64-linux-musl (no $LIB in musl's loader:
# LD_PRELOAD names it).  The tools, man pages and example come with the
# host's build; another target's only with INSTALL_TOOLS=1 (an image of
# that target), since beside the host's they would replace its launcher.
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
LIBDIRS := $(LIBDIR) $(if $(filter i386-linux-gnu,$(TARGET)),$(PREFIX)/lib32)
INSTALL_TOOLS ?= $(if $(TARGET),,1)
DOCDIR ?= $(PREFIX)/share/doc/noleak

install: all
	set -e; for d in $(LIBDIRS); do \
		install -d $(DESTDIR)$$d; \
		install -m 0755 $(B)/libnoleak.so $(DESTDIR)$$d/libnoleak.so; \
	done
ifneq ($(INSTALL_TOOLS),)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DOCDIR)
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 policy/noleak.conf.example $(DESTDIR)$(DOCDIR)/noleak.conf.example
	set -e; for p in $(MAN_PAGES); do \
		d=$(DESTDIR)$(PREFIX)/share/man/man$${p##*.}; \
		install -d $$d; install -m 0644 $$p $$d/; \
	done
endif

# The Debian package (debian/, debhelper), built from a copy of the tree in
# build/deb/src: build/deb/libnoleak_<version>_<arch>.deb, then lintian.
deb: deps
	rm -rf $(B)/deb && mkdir -p $(B)/deb/src
	tar --exclude=./build --exclude=./.git -cf - . | tar -C $(B)/deb/src -xf -
	cd $(B)/deb/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning $(B)/deb/libnoleak_*.deb

# The package installed, enabled, upgraded and removed in a throwaway root
# (part of make compat).
deb-test: deb
	tests/deb.sh $(wildcard $(B)/deb/libnoleak_*.deb)

clean:
	rm -rf $(B)
