/* The container's cgroups: joining them, making one under the helper's own
 * cgroup (cgroup_split), and reading its OOM kill count. TypeScript decides
 * where and what (lib/cgroups); the helper only does what only it can do:
 * the directories of a systemd scope or of the caller's unit exist only once
 * the helper runs in them. */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

#include "protocol.h"

/* Moves the calling process into every cgroup directory of the spec. */
void cgroup_enter_all(const struct container_spec *spec);

/* cgroup_split: makes the helper's own v2 cgroup a parent (its processes
 * move to "supervisor", unless it is one already), enables the controllers,
 * creates the container's cgroup with its limits, adds it to spec->cgroups
 * and reports it. Nothing without cgroup_split. */
void cgroup_prepare_split(struct container_spec *spec);

/* The cgroup made by cgroup_prepare_split, or NULL. */
const char *cgroup_made(void);

/* The kernel's count of OOM kills in the container's memory cgroup (v2
 * memory.events or v1 memory.oom_control), or -1 when there is none. */
long cgroup_oom_kills(const struct container_spec *spec);

#endif
