#ifndef SKIFF_JOIN_H
#define SKIFF_JOIN_H

/* Joining a running container process's namespaces (exec, cp). */
#include <sys/types.h>

/* Opens /proc/PID/ns/NAME; "the container is not running" when PID is gone.
 * Open every namespace before joining the mount one: /proc is the
 * container's after that. */
int join_open_ns(pid_t pid, const char *name);
/* setns(fd, type) and close fd; dies naming the namespace. */
void join_ns(int fd, int type, const char *name);

#endif
