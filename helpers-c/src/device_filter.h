/* The device rules of a container's cgroup on cgroup v2: an eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE that TypeScript compiled
 * (lib/cgroups/device-filter.ts); the helper only loads it and attaches it
 * to the container's cgroup v2 directory, as it knows nothing of rules. */
#ifndef SKIFF_DEVICE_FILTER_H
#define SKIFF_DEVICE_FILTER_H

#include "protocol.h"

/* Decodes the spec's hex value (struct bpf_insn[]); reports and exits 125 on bad input. */
void device_filter_parse(const char *hex, struct container_spec *spec);

/* Loads the program and attaches it to each cgroup v2 directory among the
 * spec's cgroups (replacing the one a previous start attached); nothing
 * without device_filter. A spec with a filter and no cgroup v2 directory,
 * or a kernel that refuses it, is an error: the rules must hold. */
void device_filter_attach(const struct container_spec *spec);

#endif
