/* Per-process resources of the container's processes: rlimits (--ulimit)
 * and the OOM killer's score adjustment (--oom-score-adj). No cgroup needed. */
#ifndef SKIFF_RESOURCES_H
#define SKIFF_RESOURCES_H

#include "protocol.h"

/* setrlimit for each "RLIMIT_NAME SOFT HARD" of the spec. */
void resources_set_rlimits(const struct container_spec *spec);

/* Writes /proc/self/oom_score_adj when the spec sets it. */
void resources_set_oom_score_adj(const struct container_spec *spec);

#endif
