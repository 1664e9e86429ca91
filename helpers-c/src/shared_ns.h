#ifndef SKIFF_SHARED_NS_H
#define SKIFF_SHARED_NS_H

/* --ipc, --pid and --uts: namespaces a container shares instead of making
 * its own, the host's or another container's. */
#include "protocol.h"

/* In the helper, before clone: join the user namespace (rootless, another
 * container's namespaces are only reachable from inside its user namespace),
 * then the PID namespace the child is to be born in (every later child of
 * the helper is born there too). */
void shared_ns_join_user(const struct container_spec *spec);
void shared_ns_join_pid(const struct container_spec *spec);

/* In the child, before its mounts: join another container's IPC namespace
 * (its /dev/mqueue then follows). */
void shared_ns_join_in_child(const struct container_spec *spec);

/* --ipc container:NAME: mounts that container's /dev/shm onto `target`
 * (relative to the cwd, the root filesystem being set up). A bind across
 * mount namespaces is refused, so the mount is cloned from inside theirs
 * (open_tree) and moved here; the cwd is restored to `rootfs`. */
void shared_ns_mount_shm(const struct container_spec *spec, const char *target);

/* The clone flags of the namespaces the container makes itself. */
unsigned long shared_ns_clone_flags(const struct container_spec *spec);

#endif
