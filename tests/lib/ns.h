/* Private mount namespaces for integration tests.  Some behaviour only
 * shows when every program sees a different /etc (ld.so.preload,
 * noleak.conf) or no /proc at all; the tests change those inside
 * `unshare -m` with private propagation, so the machine's own files are
 * never touched and the mounts vanish with the namespace.  Needs root. */
#ifndef NOLEAK_TEST_NS_H
#define NOLEAK_TEST_NS_H

#include "run.h"

/* Make the directory `etc_copy` a copy of the machine's /etc, plus a
 * marker file by which ns_run_with_etc() knows the copy is mounted. */
void ns_copy_etc(const char *etc_copy);

/* Run `script` with /bin/sh in a private mount namespace where `etc_copy`
 * (made by ns_copy_etc) is bind-mounted over /etc.  Asserts that the
 * namespace was made and that /etc is the copy before `script` starts;
 * how `script` ended is for the caller to check.  Exit statuses 97 and 98
 * are taken. */
void ns_run_with_etc(struct run_result *r, const char *etc_copy,
		     const char *script, double timeout_s);

/* Two ways to take /proc away: cover it, or detach it. */
#define NS_PROC_TMPFS "mount -t tmpfs none /proc"
#define NS_PROC_UMOUNT "umount -l /proc"

/* Run `script` with /bin/sh in a private mount namespace once the shell
 * command `hide` (NS_PROC_TMPFS or NS_PROC_UMOUNT) has taken /proc away.
 * Asserts that /proc really is gone before `script` starts; how `script`
 * ended is for the caller to check.  Exit statuses 98 and 99 are taken. */
void ns_run_without_proc(struct run_result *r, const char *hide,
			 const char *script, double timeout_s);

/* Delete `dir`, a directory tmpdir() made, with everything in it: a copy
 * of /etc is a few megabytes, not to be left behind by every run.  Any
 * other path (or "", when the test was skipped first) is left alone. */
void ns_remove_test_dir(const char *dir);

#endif
