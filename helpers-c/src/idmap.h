#ifndef SKIFF_IDMAP_H
#define SKIFF_IDMAP_H

#include <sys/types.h>
#include "protocol.h"

/* Writes the child's uid_map and gid_map: directly when the caller may (root,
 * or an unprivileged user mapping only itself), otherwise through the setuid
 * newuidmap/newgidmap, which check /etc/subuid and /etc/subgid. */
void idmap_write(pid_t child, const struct container_spec *spec);

#endif
