/* See walk_layer.h. */
#include "walk_layer.h"
#include "layerdir.h"
#include "protocol.h"
#include "report.h"
#include "tarwrite.h"
#include "walk_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Regular files with more than one link, by inode: the first path written,
 * so later names become hard links to it. */
struct link_map {
  struct {
    dev_t dev;
    ino_t ino;
    char *path;
  } *slots;
  size_t cap, used;
};

/* The path of the first member with (dev, ino), or NULL after recording `path` as that member. */
static const char *link_map_first(struct link_map *m, dev_t dev, ino_t ino, const char *path) {
  if (2 * (m->used + 1) > m->cap) {
    struct link_map grown = {.cap = m->cap ? m->cap * 2 : 256};
    grown.slots = calloc(grown.cap, sizeof *grown.slots);
    if (grown.slots == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: the link map");
    for (size_t i = 0; i < m->cap; i++) {
      if (m->slots[i].path == NULL) continue;
      size_t j = (size_t)((m->slots[i].ino * 0x9E3779B97F4A7C15ull) ^ m->slots[i].dev) & (grown.cap - 1);
      while (grown.slots[j].path != NULL) j = (j + 1) & (grown.cap - 1);
      grown.slots[j] = m->slots[i];
    }
    free(m->slots);
    *m = (struct link_map){.slots = grown.slots, .cap = grown.cap, .used = m->used};
  }
  size_t i = (size_t)((ino * 0x9E3779B97F4A7C15ull) ^ dev) & (m->cap - 1);
  for (; m->slots[i].path != NULL; i = (i + 1) & (m->cap - 1))
    if (m->slots[i].ino == ino && m->slots[i].dev == dev) return m->slots[i].path;
  m->slots[i].dev = dev;
  m->slots[i].ino = ino;
  m->slots[i].path = strdup(path);
  if (m->slots[i].path == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: the link map");
  m->used++;
  return NULL;
}

/* A directory of the image that the upper dir holds only as the parent of
 * other entries: written just before the first entry below it, or not at
 * all when nothing below it is (an /etc that only holds mount points). */
struct pending_dir {
  char *member;
  struct stat st;
  int fd;
  bool written;
};

/* The tar member that deletes MEMBER (whose last component is NAME): ".wh.NAME" beside where it was. */
static void write_whiteout(struct tar_writer *tar, const char *member, const char *name, const struct stat *m) {
  size_t len = strlen(member) + 5;
  char *wh = malloc(len);
  if (wh == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a name");
  const char *slash = strrchr(member, '/');
  size_t dlen = slash ? (size_t)(slash - member) + 1 : 0;
  snprintf(wh, len, "%.*s.wh.%s", (int)dlen, member, name);
  tar_write_entry(tar, wh, m, NULL, -1);
  free(wh);
}

struct layer_walk {
  struct tar_writer *tar;
  dev_t dev;
  bool clamp;       /* walk_mtime_max given: no member is newer than mtime_max */
  int64_t mtime_max;
  const struct string_list *exclude; /* container paths left out with all below them */
  struct link_map links;
  struct pending_dir *pending;       /* the directories entered, outermost first */
  size_t depth, cap;
  bool full; /* the root is a full copy of the image (vfs): unchanged nodes are left out, deletions found */
};

static bool excluded(const struct layer_walk *w, const char *path) {
  for (size_t i = 0; i < w->exclude->len; i++)
    if (strcmp(w->exclude->items[i], path) == 0) return true;
  return false;
}

/* The xattrs of an open file or directory, but overlay's own, sorted by name. */
struct xattr_set {
  char *names; /* the listxattr buffer */
  struct tar_xattr *items;
  size_t n;
};

static int by_xattr_name(const void *a, const void *b) {
  return strcmp(((const struct tar_xattr *)a)->name, ((const struct tar_xattr *)b)->name);
}

static struct xattr_set read_xattrs(int fd, const char *where) {
  struct xattr_set set = {0};
  ssize_t len = flistxattr(fd, NULL, 0);
  if (len < 0) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return set;
    die_errno("walk: listxattr %s", where);
  }
  if (len == 0) return set;
  set.names = malloc((size_t)len);
  set.items = calloc((size_t)len, sizeof *set.items);
  if (set.names == NULL || set.items == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: xattrs");
  len = flistxattr(fd, set.names, (size_t)len);
  if (len < 0) die_errno("walk: listxattr %s", where); /* grew meanwhile: a container racing its own commit */
  for (char *name = set.names; name < set.names + len; name += strlen(name) + 1) {
    if (strncmp(name, "user.overlay.", 13) == 0 || strncmp(name, "trusted.overlay.", 16) == 0) continue;
    ssize_t size = fgetxattr(fd, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) continue;
      die_errno("walk: getxattr %s %s", where, name);
    }
    char *value = malloc((size_t)size + 1);
    if (value == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: xattrs");
    size = fgetxattr(fd, name, value, (size_t)size);
    if (size < 0) die_errno("walk: getxattr %s %s", where, name);
    set.items[set.n++] = (struct tar_xattr){.name = name, .value = value, .size = (size_t)size};
  }
  qsort(set.items, set.n, sizeof *set.items, by_xattr_name);
  return set;
}

static void free_xattrs(struct xattr_set *set) {
  for (size_t i = 0; i < set->n; i++) free((char *)set->items[i].value);
  free(set->items);
  free(set->names);
}

static void clamp_time(const struct layer_walk *w, struct stat *st) {
  if (w->clamp && st->st_mtim.tv_sec > w->mtime_max) {
    st->st_mtim.tv_sec = w->mtime_max;
    st->st_mtim.tv_nsec = 0;
  }
}

/* The directory's own member (with its xattrs), and for an opaque one its marker. */
static void write_dir(struct layer_walk *w, const char *member, const struct stat *st, int fd, const char *where) {
  struct xattr_set x = read_xattrs(fd, where);
  struct tar_extra extra = {.xattrs = x.items, .nxattrs = x.n};
  tar_write_member(w->tar, member, st, NULL, -1, &extra);
  free_xattrs(&x);
  if (is_opaque(fd)) {
    /* It hides all the layers below hold there (containers/storage gives the marker the directory's mode and owner). */
    size_t len = strlen(member) + 14;
    char *marker = malloc(len);
    if (marker == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a name");
    snprintf(marker, len, "%s/.wh..wh..opq", member);
    struct stat m = *st;
    m.st_mode = S_IFREG | (st->st_mode & 0777);
    m.st_size = 0;
    tar_write_entry(w->tar, marker, &m, NULL, -1);
    free(marker);
  }
}

/* Before any member: the image directories above it not yet written. */
static void flush_pending(struct layer_walk *w) {
  for (size_t i = 0; i < w->depth; i++) {
    struct pending_dir *d = &w->pending[i];
    if (d->written) continue;
    write_dir(w, d->member, &d->st, d->fd, d->member);
    d->written = true;
  }
}

static void layer_dir(struct layer_walk *w, int dir, const struct layers *below, struct path *p);

/* Whether the image has a directory at `name` below `below` with this directory's mode and owner. */
static bool same_in_image(const struct layers *next, const struct stat *st) {
  for (size_t i = 0; i < next->n; i++) {
    if (next->fds[i] < 0) continue;
    struct stat img;
    if (fstat(next->fds[i], &img) < 0) return false;
    return img.st_mode == st->st_mode && img.st_uid == st->st_uid && img.st_gid == st->st_gid;
  }
  return false;
}

static void layer_subdir(struct layer_walk *w, int dir, const char *name, struct stat *st, const struct layers *below, struct path *p) {
  const char *member = p->text + 1;
  int sub = st->st_dev == w->dev ? open_subdir(dir, name, w->dev, p->text) : -1;
  if (sub < 0) {
    flush_pending(w);
    tar_write_entry(w->tar, member, st, NULL, -1); /* a mount point, or swapped meanwhile: the directory alone */
    return;
  }
  bool opaque = is_opaque(sub);
  struct layers next;
  if (w->full) {
    struct stat img;
    int img_dir = -1;
    next = full_layers_below(below, name, image_node(below, name, &img, &img_dir) && S_ISDIR(img.st_mode));
  } else {
    next = layers_below(below, name, opaque);
  }
  if (w->depth == w->cap) {
    w->cap = w->cap ? w->cap * 2 : 16;
    struct pending_dir *grown = realloc(w->pending, w->cap * sizeof *grown);
    if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: directories");
    w->pending = grown;
  }
  struct pending_dir *d = &w->pending[w->depth++];
  *d = (struct pending_dir){.member = strdup(member), .st = *st, .fd = sub};
  if (d->member == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a name");
  /* New, opaque or changed itself: written now; else only if something below it is. */
  if (opaque || !same_in_image(&next, st)) flush_pending(w);
  layer_dir(w, sub, &next, p);
  d = &w->pending[--w->depth];
  free(d->member);
  layers_close(&next);
  close(sub);
}

/* One entry of the upper dir: p->text is its path ("/a/b"); the member is named without the "/". */
static void layer_entry(struct layer_walk *w, int dir, const char *name, const struct layers *below, struct path *p) {
  const char *member = p->text + 1;
  if (excluded(w, p->text)) return;
  struct stat st;
  if (!stat_entry(dir, name, &st, p->text)) return; /* gone since it was listed */
  if (S_ISSOCK(st.st_mode)) return; /* not archivable; Docker leaves them out too */
  if (w->full && !S_ISDIR(st.st_mode)) {
    struct stat img;
    int img_dir = -1;
    if (image_node(below, name, &img, &img_dir) && !node_differs(dir, name, &st, img_dir, &img)) return; /* the image's own */
  }
  clamp_time(w, &st);
  if (S_ISDIR(st.st_mode)) {
    layer_subdir(w, dir, name, &st, below, p);
    return;
  }
  flush_pending(w);
  if (is_whiteout(&st)) {
    /* A deletion (containers/storage writes these 0600, owned as the whiteout). */
    struct stat m = st;
    m.st_mode = S_IFREG | 0600;
    m.st_size = 0;
    m.st_rdev = 0;
    write_whiteout(w->tar, member, name, &m);
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(dir, name, target, sizeof target - 1);
    if (n < 0) {
      if (errno == ENOENT || errno == EINVAL) return; /* gone, or no longer a link */
      die_errno("walk: readlink %s", p->text);
    }
    target[n] = '\0';
    tar_write_entry(w->tar, member, &st, target, -1);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    tar_write_entry(w->tar, member, &st, NULL, -1); /* devices and FIFOs: the header says all */
    return;
  }
  if (st.st_nlink > 1) {
    const char *first = link_map_first(&w->links, st.st_dev, st.st_ino, member);
    if (first != NULL) {
      struct tar_extra extra = {.hardlink = true};
      tar_write_member(w->tar, member, &st, first, -1, &extra);
      return;
    }
  }
  /* O_NONBLOCK: had it become a FIFO since it was looked at, open must not hang. */
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ELOOP) return;
    die_errno("walk: open %s", p->text);
  }
  struct stat now;
  if (fstat(fd, &now) < 0) die_errno("walk: fstat %s", p->text);
  if (!S_ISREG(now.st_mode)) die(EXIT_SKIFF_FAILED, 0, "walk: %s changed while the layer was written", p->text);
  now.st_mtim = st.st_mtim;
  struct xattr_set x = read_xattrs(fd, p->text);
  struct tar_extra extra = {.xattrs = x.items, .nxattrs = x.n};
  tar_write_member(w->tar, member, &now, NULL, fd, &extra);
  free_xattrs(&x);
  close(fd);
}

struct layer_deleted_ctx {
  struct layer_walk *w;
  struct path *p;
};

/* A name of the image that the full copy lacks: ".wh.NAME" (0600, root's). */
static void layer_deleted(const char *name, void *arg) {
  struct layer_deleted_ctx *d = arg;
  size_t mark = path_push(d->p, name);
  if (!excluded(d->w, d->p->text)) {
    flush_pending(d->w);
    struct stat m = {.st_mode = S_IFREG | 0600};
    write_whiteout(d->w->tar, d->p->text + 1, name, &m);
  }
  path_pop(d->p, mark);
}

static void layer_dir(struct layer_walk *w, int dir, const struct layers *below, struct path *p) {
  size_t n;
  char **names = sorted_names(dir, p->text, &n);
  for (size_t i = 0; i < n; i++) {
    size_t mark = path_push(p, names[i]);
    layer_entry(w, dir, names[i], below, p);
    path_pop(p, mark);
    free(names[i]);
  }
  free(names);
  if (w->full) {
    struct layer_deleted_ctx d = {.w = w, .p = p};
    full_deletions(dir, below, p->text, layer_deleted, &d);
  }
}

void walk_layer(const struct container_spec *spec, struct path *p) {
  if (spec->walk_roots.len != 1) die(EXIT_SKIFF_FAILED, 0, "spec: walk_op=layer takes one walk_root");
  struct stat st;
  int root = open_root(spec->walk_roots.items[0], &st);
  if (root < 0) die(EXIT_SKIFF_FAILED, ENOENT, "walk: %s", spec->walk_roots.items[0]);
  static struct tar_writer tar = {.fd = STDOUT_FILENO};
  if (spec->shift_uid_len > 0 || spec->shift_gid_len > 0) {
    if (spec->shift_uid_len == 0 || spec->shift_gid_len == 0) die(EXIT_SKIFF_FAILED, 0, "spec: shift_uid and shift_gid go together");
    tar.uid_shift = spec->shift_uid;
    tar.uid_shift_len = spec->shift_uid_len;
    tar.gid_shift = spec->shift_gid;
    tar.gid_shift_len = spec->shift_gid_len;
  }
  struct layer_walk w = {.tar = &tar, .dev = st.st_dev, .exclude = &spec->walk_excludes, .full = spec->walk_full};
  if (spec->walk_mtime_max != NULL) {
    char *end;
    errno = 0;
    long long max = strtoll(spec->walk_mtime_max, &end, 10);
    if (errno != 0 || *end != '\0' || end == spec->walk_mtime_max) die(EXIT_SKIFF_FAILED, 0, "spec: walk_mtime_max is not a number");
    w.clamp = true;
    w.mtime_max = max;
  }
  struct layers image = open_image_layers(spec, root);
  layer_dir(&w, root, &image, p);
  tar_finish(&tar);
  layers_close(&image);
  close(root);
}
