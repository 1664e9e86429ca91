#ifndef SKIFF_CONTAINER_H
#define SKIFF_CONTAINER_H

#include <stdnoreturn.h>
#include "protocol.h"

/* The container's first process, right after clone(): waits for its ID maps,
 * builds its world in a fixed order and execs the command. Never returns. */
noreturn void container_main(const struct container_spec *spec, int sync_sock);

/* The last steps of every container process: the pty for -t (sent over
 * sync_sock), the user from the container's passwd, capabilities,
 * no_new_privs, the working directory, exec. Never returns. */
noreturn void container_become_process(const struct container_spec *spec, int sync_sock, bool create_workdir);


/* Does the container's gid map contain `gid` (always true without a user namespace)? */
bool container_gid_mapped(const struct container_spec *spec, unsigned long gid);

#endif
