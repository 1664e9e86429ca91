#ifndef SKIFF_USERNS_H
#define SKIFF_USERNS_H

#include <stdnoreturn.h>
#include "protocol.h"

/* `skiff-helper userns`: runs the spec's argv (with its env) as root of a new
 * user namespace with the spec's ID maps, in a new mount namespace, and exits
 * with its status. This is how rootless skiff creates, changes and removes
 * files owned by mapped IDs (the store's layers, containers' upper dirs). */
noreturn void userns_main(void);

/* Forks into a new user namespace with the spec's ID maps (and a new mount
 * namespace): returns in the child, as root there; the parent writes the
 * maps, waits, and exits with the child's status. For modes that work on
 * files of the user's sub-IDs (cp of a stopped container, walk). */
void userns_fork(const struct container_spec *spec);

#endif
