# GNU make: a recursive `make -j2` whose sub-makes share the jobserver.

checks_make() {
	check make-recursive-jobserver make make_recursive_jobserver
}

# Three levels of make.  The two targets of the innermost one wait for each
# other: they finish only when that make really runs two jobs at once, which
# it can only do with the jobserver pipe its parents named in MAKEFLAGS.
# Without the pipe make warns "jobserver unavailable" and runs one job at a
# time.
make_recursive_jobserver() {
	cat >meet.sh <<-'SH'
	#!/bin/sh
	# meet.sh ME OTHER: start ME, then wait up to 10 s for OTHER to start.
	touch "$1.started"
	for i in $(seq 100); do
		[ -e "$2.started" ] && exit 0
		sleep 0.1
	done
	echo "$1 ran alone" >&2
	exit 1
	SH
	chmod +x meet.sh
	mkdir -p mid/leaf
	cat >Makefile <<-'MK'
	.RECIPEPREFIX = >
	all:
	> +$(MAKE) -C mid
	MK
	cat >mid/Makefile <<-'MK'
	.RECIPEPREFIX = >
	all:
	> +$(MAKE) -C leaf
	MK
	cat >mid/leaf/Makefile <<-MK
	.RECIPEPREFIX = >
	all: left right
	left:
	> ../../meet.sh left right
	> $PROBE $PROOF
	right:
	> ../../meet.sh right left
	.PHONY: all left right
	MK
	expect "make -j2" logged make.log make -j2
	grep -o 'jobserver unavailable.*' make.log || echo "no jobserver warning"
	ls mid/leaf
}
