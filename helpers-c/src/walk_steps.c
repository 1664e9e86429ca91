/* See walk_steps.h. */
#include "walk_steps.h"
#include "layerdir.h"
#include "protocol.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* --- the path of the entry at hand, for records and messages ------------- */

size_t path_push(struct path *p, const char *name) {
  size_t before = p->len, n = strlen(name);
  if (p->len + n + 2 > p->cap) {
    p->cap = (p->len + n + 2) * 2;
    char *grown = realloc(p->text, p->cap);
    if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a path");
    p->text = grown;
  }
  p->text[p->len++] = '/';
  memcpy(p->text + p->len, name, n + 1);
  p->len += n;
  return before;
}

void path_pop(struct path *p, size_t before) {
  p->len = before;
  p->text[before] = '\0';
}

/* --- directory entries, by getdents64 on the directory's own fd ---------- */

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

struct listing {
  int fd;
  long filled, pos;
  char buf[16384];
};

struct listing *listing_open(int fd) {
  struct listing *l = malloc(sizeof *l);
  if (l == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a directory listing");
  l->fd = fd;
  l->filled = l->pos = 0;
  return l;
}

/* The next name other than "." and "..", or NULL at the end. */
const char *listing_next(struct listing *l, const char *where) {
  for (;;) {
    if (l->pos >= l->filled) {
      l->filled = syscall(SYS_getdents64, l->fd, l->buf, sizeof l->buf);
      l->pos = 0;
      if (l->filled < 0) {
        /* A directory removed while it is listed reads ENOENT. */
        if (errno == ENOENT) return NULL;
        die_errno("walk: list %s", where[0] ? where : "/");
      }
      if (l->filled == 0) return NULL;
    }
    struct linux_dirent64 *e = (struct linux_dirent64 *)(l->buf + l->pos);
    l->pos += e->d_reclen;
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) return e->d_name;
  }
}

/* --- single steps, never through a symlink ------------------------------- */

/* lstat of dir/name; false when it vanished. */
bool stat_entry(int dir, const char *name, struct stat *st, const char *where) {
  if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  die_errno("walk: lstat %s", where);
}

/* The directory dir/name, opened only if it still is one on the same file
 * system (a mount point is not entered); -1 when it vanished or was swapped
 * for something else meanwhile. */
int open_subdir(int dir, const char *name, dev_t dev, const char *where) {
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return -1;
    die_errno("walk: open %s", where);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) die_errno("walk: fstat %s", where);
  if (st.st_dev != dev) {
    close(fd);
    return -1;
  }
  return fd;
}

/* An entry of an upper dir (overlay's kernel made it): a whiteout is a 0/0
 * device, an opaque directory has the xattr. The layers' own records are
 * read through layerdir.h. */
bool is_whiteout(const struct stat *st) { return layer_whiteout_node(st); }

bool is_opaque(int fd) { return overlay_opaque_xattr(fd); }

/* --- the image's layers below the path at hand -------------------------- */

/* Whether the merged image has `name` here: the first layer that holds the
 * name decides, and a whiteout there means deleted. */
bool in_image(const struct layers *below, const char *name) {
  for (size_t i = 0; i < below->n; i++) {
    if (below->fds[i] < 0) continue;
    struct stat st;
    enum layer_entry e = layer_lookup(below->fds[i], name, &st);
    if (e != LAYER_ABSENT) return e == LAYER_PRESENT;
  }
  return false;
}

/* The layers' directories at name, below the directory `dir` (opaque or not). */
struct layers layers_below(const struct layers *here, const char *name, bool opaque) {
  struct layers next = {.fds = malloc(sizeof(int) * (here->n ? here->n : 1)), .n = here->n};
  if (next.fds == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: layer fds");
  bool hidden = opaque;
  for (size_t i = 0; i < here->n; i++) {
    next.fds[i] = -1;
    if (hidden || here->fds[i] < 0) continue;
    struct stat st;
    enum layer_entry e = layer_lookup(here->fds[i], name, &st);
    if (e == LAYER_ABSENT) continue;
    hidden = true; /* whatever this layer holds here hides the layers below */
    if (e == LAYER_WHITEOUT || !S_ISDIR(st.st_mode)) continue;
    int fd = openat(here->fds[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    next.fds[i] = fd;
    hidden = layer_dir_opaque(fd);
  }
  return next;
}

void layers_close(struct layers *l) {
  for (size_t i = 0; i < l->n; i++)
    if (l->fds[i] >= 0) close(l->fds[i]);
  free(l->fds);
}

/* The image's node at `name` below `below`: the uppermost layer holding the
 * name decides; false when none does or that one is a whiteout. */
bool image_node(const struct layers *below, const char *name, struct stat *st, int *layer_dir) {
  for (size_t i = 0; i < below->n; i++) {
    if (below->fds[i] < 0) continue;
    enum layer_entry e = layer_lookup(below->fds[i], name, st);
    if (e == LAYER_ABSENT) continue;
    if (e == LAYER_WHITEOUT) return false;
    *layer_dir = below->fds[i];
    return true;
  }
  return false;
}

/* Whether the copy's node differs from the image's, as containers/storage's
 * naive diff judges it: kind, mode, owner, and for non-directories size,
 * modification time, device number and link target (a directory's size and
 * times change with its entries and say nothing). */
bool node_differs(int dir, const char *name, const struct stat *st, int img_dir, const struct stat *img) {
  if (st->st_mode != img->st_mode || st->st_uid != img->st_uid || st->st_gid != img->st_gid) return true;
  if (S_ISDIR(st->st_mode)) return false;
  if (st->st_size != img->st_size || st->st_rdev != img->st_rdev || st->st_mtim.tv_sec != img->st_mtim.tv_sec ||
      st->st_mtim.tv_nsec != img->st_mtim.tv_nsec)
    return true;
  if (!S_ISLNK(st->st_mode)) return false;
  char a[PATH_MAX], b[PATH_MAX];
  ssize_t na = readlinkat(dir, name, a, sizeof a), nb = readlinkat(img_dir, name, b, sizeof b);
  return na < 0 || nb < 0 || na != nb || memcmp(a, b, (size_t)na) != 0;
}

/* The layers below `name` for a node of the copy: the image's directories
 * there, or none when the image has no directory at that path. */
struct layers full_layers_below(const struct layers *below, const char *name, bool image_dir) {
  if (image_dir) return layers_below(below, name, false);
  struct layers none = {.fds = malloc(sizeof(int) * (below->n ? below->n : 1)), .n = below->n};
  if (none.fds == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: layer fds");
  for (size_t i = 0; i < none.n; i++) none.fds[i] = -1;
  return none;
}

/* Calls deleted(name) for each name the image has in this directory that the
 * copy `dir` lacks, sorted. */
void full_deletions(int dir, const struct layers *below, const char *where, void (*deleted)(const char *name, void *ctx),
                           void *ctx) {
  for (size_t i = 0; i < below->n; i++) {
    if (below->fds[i] < 0) continue;
    /* Its own open file description: the layer's fd is shared with fstatat callers, and getdents moves an offset. */
    int own = openat(below->fds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) die_errno("walk: open a layer's %s", where[0] ? where : "/");
    size_t n;
    char **names = sorted_names(own, where, &n);
    close(own);
    for (size_t k = 0; k < n; k++) {
      struct stat st;
      bool decided = layer_marker_name(names[k]); /* the tar's whiteout markers are no entries */
      /* An upper layer has the name, or its whiteout: it decided. */
      for (size_t j = 0; j < i && !decided; j++) decided = below->fds[j] >= 0 && layer_lookup(below->fds[j], names[k], &st) != LAYER_ABSENT;
      if (!decided && layer_lookup(below->fds[i], names[k], &st) == LAYER_PRESENT &&
          fstatat(dir, names[k], &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) die_errno("walk: lstat %s/%s", where, names[k]);
        deleted(names[k], ctx);
      }
      free(names[k]);
    }
    free(names);
  }
}

/* --- names, sorted ----------------------------------------------------- */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of a directory, sorted (the same tree gives the same tar). */
char **sorted_names(int dir, const char *where, size_t *count) {
  struct listing *l = listing_open(dir);
  size_t n = 0, cap = 16;
  char **names = malloc(cap * sizeof *names);
  if (names == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a listing");
  for (const char *name; (name = listing_next(l, where));) {
    if (n == cap) {
      cap *= 2;
      char **grown = realloc(names, cap * sizeof *names);
      if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a listing");
      names = grown;
    }
    names[n] = strdup(name);
    if (names[n++] == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a listing");
  }
  free(l);
  qsort(names, n, sizeof *names, by_name);
  *count = n;
  return names;
}

/* The image's layers at the root, uppermost first (as walk_diff opens them). */
struct layers open_image_layers(const struct container_spec *spec, int root) {
  struct layers image = {.fds = malloc(sizeof(int) * (spec->lowerdirs.len + 1)), .n = spec->lowerdirs.len};
  if (image.fds == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: layer fds");
  bool hidden = is_opaque(root);
  for (size_t i = 0; i < image.n; i++) {
    image.fds[i] = hidden ? -1 : open(spec->lowerdirs.items[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!hidden && image.fds[i] < 0) die_errno("walk: open the layer %s", spec->lowerdirs.items[i]);
    if (!hidden) hidden = layer_dir_opaque(image.fds[i]);
  }
  return image;
}

/* --- roots ------------------------------------------------------------- */

/* Opens a root the TypeScript side named (a path of skiff's own store, which
 * no container can change); -1 when it does not exist. */
int open_root(const char *root, struct stat *st) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    die_errno("walk: open %s", root);
  }
  if (fstat(fd, st) < 0) die_errno("walk: fstat %s", root);
  return fd;
}

struct path new_path(void) {
  struct path p = {.text = calloc(1, 256), .len = 0, .cap = 256};
  if (p.text == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a path");
  return p;
}
