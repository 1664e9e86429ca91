#ifndef SKIFF_USERNS_H
#define SKIFF_USERNS_H

#include <stdnoreturn.h>

/* `skiff-helper userns`: runs the spec's argv (with its env) as root of a new
 * user namespace with the spec's ID maps, in a new mount namespace, and exits
 * with its status. This is how rootless skiff creates, changes and removes
 * files owned by mapped IDs (the store's layers, containers' upper dirs). */
noreturn void userns_main(void);

#endif
