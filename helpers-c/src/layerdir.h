#ifndef SKIFF_LAYERDIR_H
#define SKIFF_LAYERDIR_H

/* How an unpacked layer directory records what it deletes from the layers
 * below. Two ways, as the store's driver made them (lib/store/materialise.ts):
 *  - overlay's: a whiteout is a 0/0 character device, an opaque directory
 *    carries user.overlay.opaque=y (or trusted.overlay.opaque=y): what the
 *    kernel reads when it mounts the layers;
 *  - the tar's (the vfs driver's stores): a whiteout is an empty file
 *    ".wh.NAME" beside the name, an opaque directory holds an empty file
 *    ".wh..wh..opq". Any filesystem takes these; an overlayfs refuses 0/0
 *    devices, so a store on one (skiff in a container) needs them.
 * A layer never holds a real entry whose name starts with ".wh." (the
 * unpacker reads every such tar member as a whiteout), so the names cannot be
 * mistaken. Looking for the tar's markers costs a lookup per name a layer
 * lacks: only the walks of vfs stores switch it on (layer_read_markers). */

#include <stdbool.h>
#include <sys/stat.h>

#define LAYER_OPAQUE_MARKER ".wh..wh..opq"

enum layer_entry { LAYER_ABSENT, LAYER_WHITEOUT, LAYER_PRESENT };

/* Whether the tar's markers are looked for too (the vfs driver's walks). */
void layer_read_markers(bool on);

/* A 0/0 character device: overlay's whiteout (in a layer or an upper dir). */
bool layer_whiteout_node(const struct stat *st);

/* What the layer directory `dir` holds at `name`: the node (in *st), a
 * whiteout of either kind, or nothing (a name that cannot be looked up counts
 * as absent, as it always has for the walks). */
enum layer_entry layer_lookup(int dir, const char *name, struct stat *st);

/* overlay's opaque xattr on an open directory (a layer's, or an upper dir's). */
bool overlay_opaque_xattr(int fd);

/* Whether the open layer directory hides what the layers below hold at its path. */
bool layer_dir_opaque(int fd);

/* A name of the tar's markers (".wh." and more): bookkeeping, not an entry. */
bool layer_marker_name(const char *name);

#endif
