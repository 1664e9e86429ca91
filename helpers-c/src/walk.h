/* `skiff-helper walk`: the host side's walks over a container's files (its
 * overlay upper dir) and over the trees skiff removes, by file descriptor.
 *
 * A container owns every name in its upper dir and can swap a directory for
 * a symlink to anywhere on the host at any instant. A walk that looks at a
 * name and then opens the path follows such a link (issue 17: `diff` listed
 * the user's files, `ps --size` summed them). Here every step is relative to
 * an open directory fd and names one component: fstatat(AT_SYMLINK_NOFOLLOW),
 * openat(O_DIRECTORY | O_NOFOLLOW), getdents64 on the fd, unlinkat. A name
 * swapped for a link is seen as a link and never entered; a name that
 * vanished is skipped; the walk never leaves the file system it started on.
 *
 * walk_steps.h holds those steps, walk_layer.h the layer operation, walk.c
 * the others and the mode.
 *
 * Spec keys: walk_op (diff, size, remove, layer, shift, flatten), walk_root
 * (repeats), lowerdir (diff, layer, flatten: the image's layers, uppermost
 * first), walk_full (diff, size, layer: the root is a whole copy of the image,
 * the vfs driver's, compared with the layers), walk_exclude and
 * walk_mtime_max (layer), uidmap/gidmap with
 * newuidmap/newgidmap (rootless: the walk runs as root of a user namespace
 * with the containers' mapping, where the sub-IDs' files are readable).
 *
 * Output on fd 1, NUL-terminated records:
 *   diff    "A/path", "C/path" or "D/path" for each entry of the one root
 *           (added, present in a layer, a whiteout), parents before children
 *   size    one decimal byte count per root, in order: the sizes of its
 *           non-directories, each inode once ("0" for a missing root)
 *   remove  nothing: each root and everything below it is gone
 *   layer   a layer tar of the one root (image-spec changesets): whiteouts as
 *           ".wh.NAME", opaque directories marked ".wh..wh..opq", owners,
 *           modes, times (clamped to walk_mtime_max), xattrs and hard links
 *           kept, names sorted; walk_exclude paths left out; an image
 *           directory held only for left-out paths not written; with
 *           shift_uid/shift_gid, owners written through them (a --userns
 *           keep-id container's changes, as it saw them)
 *   shift   nothing on fd 1: the one root copied to walk_dest/diff (an empty
 *           directory) with each owner moved through shift_uid/shift_gid
 *           ("from to count"; an ID outside them is an error), modes, set-ID
 *           bits, times and xattrs kept, hard links copied apart: an image
 *           layer as a container with another mapping (--userns keep-id)
 *           must see it, written in the store's user namespace
 *   flatten nothing on fd 1: the layers applied lowest first into walk_dest
 *           (the vfs driver's root filesystem): whiteouts remove, opaque
 *           directories empty, owners, modes, times and xattrs kept */
#ifndef SKIFF_WALK_H
#define SKIFF_WALK_H

#include <stdnoreturn.h>

struct string_list;

noreturn void walk_main(void);

/* walk_op=remove's work in the caller's process: each root (absolute) and
 * everything below it, by fd, never through a link or into another file
 * system; a missing root is skipped. Errors die() (report.h). */
void walk_remove_trees(const struct string_list *roots);

#endif
