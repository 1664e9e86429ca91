#ifndef SKIFF_MONITOR_H
#define SKIFF_MONITOR_H

#include <stdnoreturn.h>
#include "protocol.h"

/* run -d: the helper forks a monitor in its own session that starts the
 * container, owns its stdio, writes its log (k8s-file lines, rotated at
 * log_max), serves attach clients on a unix socket, records each start in
 * pid_file and the end in exit_file (atomically), restarts it per policy, and
 * when it is gone for good removes it (run -d --rm with autoremove_dir:
 * autoremove.h) or runs on_exit. The process skiff spawned returns as soon
 * as the container has exec'd. */
noreturn void monitor_main(const struct container_spec *spec);

#endif
