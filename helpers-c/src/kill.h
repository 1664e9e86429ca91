#ifndef SKIFF_KILL_H
#define SKIFF_KILL_H

#include <stdnoreturn.h>

/* `skiff-helper kill PID SIGNAL`: signals a container process from inside the
 * container's user namespace, where the container's root has CAP_KILL: a
 * rootless user cannot signal a process running as one of its sub-IDs from
 * outside. Exit 0, or 1 when the process is already gone. */
noreturn void kill_main(const char *pid_text, const char *signal_text);

#endif
