#ifndef SKIFF_START_H
#define SKIFF_START_H

#include <signal.h>
#include <sys/types.h>
#include "protocol.h"

struct started {
  pid_t pid;  /* the container's first process, as the host sees it */
  int master; /* the pty master with -t, else -1 */
};

/* Clones the container's first process into its namespaces and completes the
 * handshake (sync.h): ID maps, then the pty for -t. The child inherits fds
 * 0-2 as they are and restores `child_mask` as its signal mask. Returns once
 * the child has exec'd or failed (its end of the sync socket closed), so an
 * error report from it is already on the report fd. */
struct started container_start(const struct container_spec *spec, const sigset_t *child_mask);

/* Sizes the pty like the caller's terminal, when fd 0 or 1 is one. */
void copy_window_size(int master);

/* The container's status as Docker reports it: the code, or 128+signal. */
int exit_code_of(int status);

#endif
