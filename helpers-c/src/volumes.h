/* The container's own mounts: the spec's `mount` entries (-v, --mount,
 * --tmpfs, volumes, its /etc files), made between the standard mounts and
 * pivot_root. Every target is resolved inside the root (inroot.h); every
 * bind source is opened once, by open_tree(2), and attached by its fd with
 * move_mount(2), so nothing swapped in between check and mount is used.
 *
 * An entry: TYPE<TAB>SOURCE<TAB>DESTINATION<TAB>FLAGS<TAB>DATA
 *   TYPE   bind (a host path or a volume's directory), tmpfs, overlay (:O,
 *          SOURCE the lower directory), or another file system type
 *          (SOURCE its device; a volume made with --opt type=…, root only)
 *   FLAGS  comma-separated: bind|rbind, ro|rw, nosuid|suid, nodev|dev,
 *          noexec|exec, noatime, relatime, strictatime, nodiratime,
 *          [r]private|[r]slave|[r]shared|[r]unbindable, copyup (fill an
 *          empty volume from the image), tmpcopyup, chown (:U), idmap,
 *          idmap=uids=…;gids=…, subpath=REL (a directory of the source,
 *          resolved inside it)
 *   DATA   the file system's own options (tmpfs: size=, mode=, …), passed on */
#ifndef SKIFF_VOLUMES_H
#define SKIFF_VOLUMES_H

#include "protocol.h"

/* Checks every entry (unknown flags are refused); dies on a bad one. */
void volumes_check(const struct container_spec *spec);

/* True when an entry asks for slave or shared propagation: the root is then
 * made rslave rather than rprivate, so that the host's mounts can reach it. */
bool volumes_need_slave_root(const struct container_spec *spec);

/* Makes every mount, in the spec's order, below the root filesystem (the
 * cwd). `root` is an O_PATH fd of it. */
void volumes_mount_all(const struct container_spec *spec, int root);

#endif
