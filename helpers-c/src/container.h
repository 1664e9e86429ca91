#ifndef SKIFF_CONTAINER_H
#define SKIFF_CONTAINER_H

#include <stdnoreturn.h>
#include "protocol.h"

/* The container's first process, right after clone(): waits for its ID maps,
 * builds its world in a fixed order and execs the command. Never returns. */
noreturn void container_main(const struct container_spec *spec, int sync_sock);

/* Does the container's gid map contain `gid` (always true without a user namespace)? */
bool container_gid_mapped(const struct container_spec *spec, unsigned long gid);

#endif
