#ifndef SKIFF_OVERLAY_H
#define SKIFF_OVERLAY_H

#include "protocol.h"

/* Mounts the container's root filesystem as an overlay of the spec's lower
 * dirs (uppermost first) with its own upper and work dirs onto spec->rootfs,
 * always with userxattr (design.md, decision 4). Uses the new mount API with
 * "lowerdir+" (no page-size limit on the number of layers) and falls back to
 * mount(2) with an option string on kernels before 6.8. */
void overlay_mount_rootfs(const struct container_spec *spec);

#endif
