# How to run one target's programs here (sourced by run.sh and install.sh,
# with B and T set): RUN, the command prefix (qemu-user, or nothing where
# the machine runs them), QEMU_LD_PREFIX (the target's libc from Debian's
# cross packages), binfmt (the binfmt_misc entry the launcher's run of a
# foreign program needs; "none": never).
case $T in
aarch64-linux-gnu)
	export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
	RUN=(qemu-aarch64-static)
	binfmt=/proc/sys/fs/binfmt_misc/qemu-aarch64 ;;
i386-linux-gnu)
	# Natively when the kernel runs 32-bit programs (IA32 emulation, with
	# libc6-i386), else under qemu-i386 with that same libc (/lib32, the
	# interpreter's default).  The cross package's older ld.so (glibc 2.36-8)
	# hangs under qemu-i386 7.2 in the child of a dynamically linked
	# program's fork and in pthread_create; with it only the cases without
	# a child or a thread run.  An i386 program's exec of another one needs
	# a binfmt_misc entry for qemu-i386, which the launcher's run would.
	binfmt=
	if "$B/noleak" --help >/dev/null 2>&1; then RUN=(); else
		RUN=(qemu-i386-static); binfmt=/proc/sys/fs/binfmt_misc/qemu-i386
		if [ -e /lib32/ld-linux.so.2 ]; then
			echo "== $T: the kernel cannot run i386 programs: qemu-i386 with libc6-i386"
		else
			echo "== $T: the kernel cannot run i386 programs: qemu-i386 with the cross libc, cases without a child or a thread only"
			export QEMU_LD_PREFIX=/usr/i686-linux-gnu NOLEAK_PORT_NO_CHILDREN=1
			binfmt=none
		fi
	fi ;;
*)	RUN=(); binfmt= ;;
esac
