/* walk_op=layer (walk.h): the one walk_root, an upper dir or with walk_full
 * the vfs driver's full copy, written to fd 1 as a layer tar (image-spec's
 * changesets) by the steps of walk_steps.h: whiteouts as ".wh.NAME", opaque
 * directories marked ".wh..wh..opq", owners (through shift_uid/shift_gid
 * when given), modes, times (clamped to walk_mtime_max), xattrs and hard
 * links kept, names sorted, walk_exclude paths left out, an image directory
 * held only for left-out paths not written. */
#ifndef SKIFF_WALK_LAYER_H
#define SKIFF_WALK_LAYER_H

struct container_spec;
struct path;

void walk_layer(const struct container_spec *spec, struct path *p);

#endif
