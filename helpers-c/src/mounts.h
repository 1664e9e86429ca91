#ifndef SKIFF_MOUNTS_H
#define SKIFF_MOUNTS_H

#include "protocol.h"

/* In the container's new mount namespace: make the root filesystem with /proc,
 * /sys, /dev and the masked and read-only paths, then pivot_root into it.
 * Returns with "/" as the container's root and cwd "/". */
void mounts_setup_rootfs(const struct container_spec *spec, bool tty_gid_mapped);

#endif
