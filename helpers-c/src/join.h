#ifndef SKIFF_JOIN_H
#define SKIFF_JOIN_H

#include <stdnoreturn.h>
#include <sys/types.h>

/* `skiff-helper exec`: runs the spec's command in every namespace of the
 * running container process target_pid (user first when rootless, then
 * mount, PID, UTS, IPC, network, cgroup), as the spec's user with the
 * container's capabilities, and exits with its status. The helper first
 * re-executes itself from a sealed memfd copy, so nothing inside the container
 * can ever open the helper's binary for writing (CVE-2019-5736). */
noreturn void join_main(char **argv);

/* Opens /proc/PID/ns/NAME; "the container is not running" when PID is gone.
 * Open every namespace before joining the mount one: /proc is the
 * container's after that. */
int join_open_ns(pid_t pid, const char *name);
/* setns(fd, type) and close fd; dies naming the namespace. */
void join_ns(int fd, int type, const char *name);

#endif
