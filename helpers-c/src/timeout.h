/* run/create --timeout (Podman's, as conmon's --timeout): a start of the
 * container may run that many seconds; then its first process gets SIGKILL.
 * exec's timeout_ms (a healthcheck's --health-timeout): the command's
 * process group gets SIGKILL. */
#ifndef SKIFF_TIMEOUT_H
#define SKIFF_TIMEOUT_H

#include <stdbool.h>
#include <sys/types.h>

/* A timerfd that fires `ms` milliseconds from now, or -1 when ms is 0 (no limit). */
int timeout_arm_ms(unsigned long ms);

/* The same for whole seconds (--timeout). */
int timeout_arm(unsigned long seconds);

/* The timer fired (poll saw fd readable): SIGKILL to pid (with group: to its
 * process group, which it leads, so that what a shell forked dies too), the
 * fd closed; returns -1 for the caller's copy. */
int timeout_expire(int fd, pid_t pid, bool group);

#endif
