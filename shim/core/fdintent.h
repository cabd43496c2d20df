/* What the program meant for an fd across exec, as far as the fd table
 * knows: the shim's own close-on-exec flag set apart.
 *
 * Enforce adds FD_CLOEXEC to every fd the program creates (recorded as
 * NL_FD_SHIM_CLOEXEC), so the kernel's flag alone no longer tells whether
 * the program wanted the fd to reach the next program.  These questions put
 * the shim's flag back out of the picture.
 *
 * Raw system calls and atomic loads only: safe in a vfork child and after
 * fork in a threaded process. */
#ifndef NL_FDINTENT_H
#define NL_FDINTENT_H

/* Whether fd is open and the program made it inheritable: created without
 * close-on-exec by an interposed call (made close-on-exec only by the
 * shim, or in audit mode still inheritable), cleared with F_SETFD,
 * FIONCLEX or as a dup2/dup3 target, or handed over inheritable at
 * start-up.  An fd the shim never saw created (a raw system call) or that
 * the program made close-on-exec itself is not: a number that merely names
 * it must not keep it. */
int nl_fd_meant_inheritable(int fd);

/* Whether fd, open now, would cross an exec without the shim: it is not
 * close-on-exec, or it is only because the shim made it so. */
int nl_fd_would_cross(int fd);

#endif
