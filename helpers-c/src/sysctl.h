#ifndef SKIFF_SYSCTL_H
#define SKIFF_SYSCTL_H

#include "protocol.h"

/* Writes the spec's sysctls ("KEY<TAB>VALUE", already checked by TypeScript
 * to be ones the container's own namespaces hold) under proc/sys of the
 * container's new /proc, relative to the cwd (the root filesystem), before
 * /proc/sys is made read-only. */
void sysctl_apply(const struct container_spec *spec);

#endif
