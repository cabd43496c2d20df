/* fds received with SCM_RIGHTS get close-on-exec (MSG_CMSG_CLOEXEC), and
 * the program still sees the msg_flags it would see without the shim:
 * CPython's test_socket checks them. */
#include <criterion/criterion.h>

#include <string.h>

#include "../../lib/run.h"

static struct run_result r;

static void receive(int shim)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_recvmsg"), NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, 10, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
}

Test(fd_recvmsg, received_fd_is_cloexec_and_msg_flags_unchanged)
{
	receive(0);
	cr_assert_str_eq(r.out, "msg_flags=0 cloexec=0\n");
	receive(1);
	cr_assert_str_eq(r.out, "msg_flags=0 cloexec=1\n");
}
