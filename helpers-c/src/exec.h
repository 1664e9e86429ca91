#ifndef SKIFF_EXEC_H
#define SKIFF_EXEC_H

#include <stdnoreturn.h>

/* `skiff-helper exec`: runs the spec's command in every namespace of the
 * running container process target_pid (user first when rootless, then
 * mount, PID, UTS, IPC, network, cgroup), as the spec's user with the
 * container's capabilities, and exits with its status. The helper first
 * re-executes itself from a sealed memfd copy, so nothing inside the container
 * can ever open the helper's binary for writing (CVE-2019-5736). */
noreturn void exec_main(char **argv);

#endif
