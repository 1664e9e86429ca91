/* The steps every walk of walk.h takes (walk.c, walk_layer.c): one path
 * component at a time, relative to an open directory fd, never through a
 * symlink or into another file system, and the image's layers followed down
 * beside it. */
#ifndef SKIFF_WALK_STEPS_H
#define SKIFF_WALK_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct container_spec;

/* The path of the entry at hand, for records and messages: "" at the root, else "/a/b". */
struct path {
  char *text;
  size_t len, cap;
};

struct path new_path(void);
/* Appends "/name"; returns the length to give path_pop to take it off again. */
size_t path_push(struct path *p, const char *name);
void path_pop(struct path *p, size_t before);

/* A directory's entries, by getdents64 on its own fd (freed with free()). */
struct listing;
struct listing *listing_open(int fd);
/* The next name other than "." and "..", or NULL at the end. */
const char *listing_next(struct listing *l, const char *where);
/* The names of a directory, sorted (the same tree gives the same tar); each and the array malloc'd. */
char **sorted_names(int dir, const char *where, size_t *count);

/* lstat of dir/name; false when it vanished. */
bool stat_entry(int dir, const char *name, struct stat *st, const char *where);
/* The directory dir/name, opened only if it still is one on file system
 * `dev`; -1 when it vanished or was swapped for something else meanwhile. */
int open_subdir(int dir, const char *name, dev_t dev, const char *where);
/* Opens a root the TypeScript side named (a path of skiff's own store, which
 * no container can change); -1 when it does not exist. */
int open_root(const char *root, struct stat *st);

/* An entry of an upper dir (overlay's kernel made it): a whiteout is a 0/0
 * device, an opaque directory has the xattr. */
bool is_whiteout(const struct stat *st);
bool is_opaque(int fd);

/* The layers' directories at the path at hand, uppermost first; -1 where a
 * layer has none or an upper one hides it (a file, a whiteout, an opaque
 * directory). */
struct layers {
  int *fds;
  size_t n;
};

/* The image's layers (spec->lowerdirs) at the root, uppermost first. */
struct layers open_image_layers(const struct container_spec *spec, int root);
/* The layers' directories at name, below the directory at hand (opaque or not). */
struct layers layers_below(const struct layers *here, const char *name, bool opaque);
void layers_close(struct layers *l);
/* Whether the merged image has `name` here: the first layer that holds the
 * name decides, and a whiteout there means deleted. */
bool in_image(const struct layers *below, const char *name);

/* A full root (the vfs driver's copy) against the image's layers. */
/* The image's node at `name`: the uppermost layer holding the name decides;
 * false when none does or that one is a whiteout. */
bool image_node(const struct layers *below, const char *name, struct stat *st, int *layer_dir);
/* Whether the copy's node differs from the image's, as containers/storage's naive diff judges it. */
bool node_differs(int dir, const char *name, const struct stat *st, int img_dir, const struct stat *img);
/* The layers below `name` for a node of the copy: none when the image has no directory there. */
struct layers full_layers_below(const struct layers *below, const char *name, bool image_dir);
/* Calls deleted(name) for each name the image has in this directory that the copy `dir` lacks, sorted. */
void full_deletions(int dir, const struct layers *below, const char *where, void (*deleted)(const char *name, void *ctx), void *ctx);

#endif
