/* run/create --timeout (Podman's, as conmon's --timeout): a start of the
 * container may run that many seconds; then its first process gets SIGKILL. */
#ifndef SKIFF_TIMEOUT_H
#define SKIFF_TIMEOUT_H

#include <sys/types.h>

/* A timerfd that fires `seconds` from now, or -1 when seconds is 0 (no limit). */
int timeout_arm(unsigned long seconds);

/* The timer fired (poll saw fd readable): SIGKILL to pid, the fd closed; returns -1 for the caller's copy. */
int timeout_expire(int fd, pid_t pid);

#endif
