/* nl_errno_restore(): errno is put back to the value it is given. */
#include <criterion/criterion.h>
#include <errno.h>

#include "common/errno.h"

static const struct { int now, saved; } rows[] = {
	{ EIO, 0 }, { 0, EINTR }, { EBADF, ENOENT }, { EAGAIN, EAGAIN }, { 0, 0 },
};

Test(errno_restore, puts_back_the_saved_value, .timeout = 10)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		errno = rows[i].now;
		nl_errno_restore(rows[i].saved);
		cr_expect_eq(errno, rows[i].saved, "errno %d, saved %d: got %d",
			     rows[i].now, rows[i].saved, errno);
	}
}
