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
	# libc6-i386), else under qemu-i386, whose 7.2 hangs in the child of a
	# dynamically linked program's fork on such hosts: there only the
	# cases without a child or a thread run (pthread_create hangs too).
	binfmt=
	if "$B/noleak" --help >/dev/null 2>&1; then RUN=(); else
		echo "== $T: the kernel cannot run i386 programs: qemu-i386, cases without a child or a thread only"
		export QEMU_LD_PREFIX=/usr/i686-linux-gnu NOLEAK_PORT_NO_CHILDREN=1
		RUN=(qemu-i386-static); binfmt=none; fi ;;
*)	RUN=(); binfmt= ;;
esac
