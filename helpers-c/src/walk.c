/* See walk.h. */
#include "walk.h"
#include "copy.h"
#include "fds.h"
#include "io.h"
#include "layerdir.h"
#include "protocol.h"
#include "report.h"
#include "tarwrite.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* --- output: NUL-terminated records on fd 1 ------------------------------ */

static struct {
  char buf[1 << 16];
  size_t used;
} out;

static void out_flush(void) {
  if (out.used > 0 && !io_write_all(STDOUT_FILENO, out.buf, out.used)) die_errno("walk: write the records");
  out.used = 0;
}

static void out_record(const char *a, const char *b) {
  size_t la = strlen(a), lb = b ? strlen(b) : 0;
  if (out.used + la + lb + 1 > sizeof out.buf) out_flush();
  if (la + lb + 1 > sizeof out.buf) die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "walk: a record");
  memcpy(out.buf + out.used, a, la);
  if (lb) memcpy(out.buf + out.used + la, b, lb);
  out.buf[out.used + la + lb] = '\0';
  out.used += la + lb + 1;
}

/* --- the path of the entry at hand, for records and messages ------------- */

struct path {
  char *text; /* "" at the root, else "/a/b" */
  size_t len, cap;
};

static size_t path_push(struct path *p, const char *name) {
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

static void path_pop(struct path *p, size_t before) {
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

static struct listing *listing_open(int fd) {
  struct listing *l = malloc(sizeof *l);
  if (l == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a directory listing");
  l->fd = fd;
  l->filled = l->pos = 0;
  return l;
}

/* The next name other than "." and "..", or NULL at the end. */
static const char *listing_next(struct listing *l, const char *where) {
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
static bool stat_entry(int dir, const char *name, struct stat *st, const char *where) {
  if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  die_errno("walk: lstat %s", where);
}

/* The directory dir/name, opened only if it still is one on the same file
 * system (a mount point is not entered); -1 when it vanished or was swapped
 * for something else meanwhile. */
static int open_subdir(int dir, const char *name, dev_t dev, const char *where) {
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
static bool is_whiteout(const struct stat *st) { return layer_whiteout_node(st); }

static bool is_opaque(int fd) { return overlay_opaque_xattr(fd); }

/* --- diff: the upper dir against the layers below it --------------------- */

/* The layers' directories at the path at hand, uppermost first; -1 where a
 * layer has none or an upper one hides it (a file, a whiteout, an opaque
 * directory). */
struct layers {
  int *fds;
  size_t n;
};

/* Whether the merged image has `name` here: the first layer that holds the
 * name decides, and a whiteout there means deleted. */
static bool in_image(const struct layers *below, const char *name) {
  for (size_t i = 0; i < below->n; i++) {
    if (below->fds[i] < 0) continue;
    struct stat st;
    enum layer_entry e = layer_lookup(below->fds[i], name, &st);
    if (e != LAYER_ABSENT) return e == LAYER_PRESENT;
  }
  return false;
}

/* The layers' directories at name, below the directory `dir` (opaque or not). */
static struct layers layers_below(const struct layers *here, const char *name, bool opaque) {
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

static void layers_close(struct layers *l) {
  for (size_t i = 0; i < l->n; i++)
    if (l->fds[i] >= 0) close(l->fds[i]);
  free(l->fds);
}

static void diff_dir(int dir, dev_t dev, const struct layers *below, struct path *p) {
  struct listing *l = listing_open(dir);
  for (const char *name; (name = listing_next(l, p->text));) {
    size_t mark = path_push(p, name);
    struct stat st;
    if (stat_entry(dir, name, &st, p->text)) {
      out_record(is_whiteout(&st) ? "D" : in_image(below, name) ? "C" : "A", p->text);
      int sub = S_ISDIR(st.st_mode) && st.st_dev == dev ? open_subdir(dir, name, dev, p->text) : -1;
      if (sub >= 0) {
        struct layers next = layers_below(below, name, is_opaque(sub));
        diff_dir(sub, dev, &next, p);
        layers_close(&next);
        close(sub);
      }
    }
    path_pop(p, mark);
  }
  free(l);
}

/* --- a full root (the vfs driver's copy) against the image's layers ------- */

static char **sorted_names(int dir, const char *where, size_t *count);

/* The image's node at `name` below `below`: the uppermost layer holding the
 * name decides; false when none does or that one is a whiteout. */
static bool image_node(const struct layers *below, const char *name, struct stat *st, int *layer_dir) {
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
static bool node_differs(int dir, const char *name, const struct stat *st, int img_dir, const struct stat *img) {
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
static struct layers full_layers_below(const struct layers *below, const char *name, bool image_dir) {
  if (image_dir) return layers_below(below, name, false);
  struct layers none = {.fds = malloc(sizeof(int) * (below->n ? below->n : 1)), .n = below->n};
  if (none.fds == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: layer fds");
  for (size_t i = 0; i < none.n; i++) none.fds[i] = -1;
  return none;
}

/* Calls deleted(name) for each name the image has in this directory that the
 * copy `dir` lacks, sorted. */
static void full_deletions(int dir, const struct layers *below, const char *where, void (*deleted)(const char *name, void *ctx),
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

/* What a full walk found: kind 'A', 'C' or 'D' at p->text (st is the copy's node; NULL for D). */
typedef void (*full_visit)(char kind, const struct path *p, const struct stat *st, void *ctx);

struct full_deleted_ctx {
  struct path *p;
  full_visit visit;
  void *ctx;
};

static void full_deleted(const char *name, void *arg) {
  struct full_deleted_ctx *d = arg;
  size_t mark = path_push(d->p, name);
  d->visit('D', d->p, NULL, d->ctx);
  path_pop(d->p, mark);
}

static void full_diff_dir(int dir, dev_t dev, const struct layers *below, struct path *p, full_visit visit, void *ctx) {
  struct listing *l = listing_open(dir);
  for (const char *name; (name = listing_next(l, p->text));) {
    size_t mark = path_push(p, name);
    struct stat st, img;
    int img_dir = -1;
    if (stat_entry(dir, name, &st, p->text)) {
      bool in = image_node(below, name, &img, &img_dir);
      if (!in) visit('A', p, &st, ctx);
      else if (node_differs(dir, name, &st, img_dir, &img)) visit('C', p, &st, ctx);
      int sub = S_ISDIR(st.st_mode) && st.st_dev == dev ? open_subdir(dir, name, dev, p->text) : -1;
      if (sub >= 0) {
        struct layers next = full_layers_below(below, name, in && S_ISDIR(img.st_mode));
        full_diff_dir(sub, dev, &next, p, visit, ctx);
        layers_close(&next);
        close(sub);
      }
    }
    path_pop(p, mark);
  }
  free(l);
  struct full_deleted_ctx d = {.p = p, .visit = visit, .ctx = ctx};
  full_deletions(dir, below, p->text, full_deleted, &d);
}

static void full_record(char kind, const struct path *p, const struct stat *st, void *ctx) {
  (void)st;
  (void)ctx;
  char k[2] = {kind, '\0'};
  out_record(k, p->text);
}

/* --- size: bytes of the non-directories, each inode once ----------------- */

/* The inodes with more than one link already counted (open addressing). */
struct inode_set {
  struct {
    dev_t dev;
    ino_t ino;
  } *slots;
  size_t cap, used;
};

/* Adds (dev, ino); false when it was there already. */
static bool inode_set_add(struct inode_set *s, dev_t dev, ino_t ino) {
  if (2 * (s->used + 1) > s->cap) {
    struct inode_set grown = {.cap = s->cap ? s->cap * 2 : 1024};
    grown.slots = calloc(grown.cap, sizeof *grown.slots);
    if (grown.slots == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: the inode set");
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i].ino != 0) inode_set_add(&grown, s->slots[i].dev, s->slots[i].ino);
    free(s->slots);
    *s = grown;
  }
  size_t i = (size_t)((ino * 0x9E3779B97F4A7C15ull) ^ dev) & (s->cap - 1);
  for (; s->slots[i].ino != 0; i = (i + 1) & (s->cap - 1))
    if (s->slots[i].ino == ino && s->slots[i].dev == dev) return false;
  s->slots[i].dev = dev;
  s->slots[i].ino = ino == 0 ? 1 : ino;
  s->used++;
  return true;
}

struct full_size {
  struct inode_set seen;
  unsigned long long total;
};

static void full_size_add(char kind, const struct path *p, const struct stat *st, void *ctx) {
  (void)p;
  struct full_size *s = ctx;
  if (kind == 'D' || S_ISDIR(st->st_mode)) return;
  if (st->st_nlink <= 1 || inode_set_add(&s->seen, st->st_dev, st->st_ino)) s->total += (unsigned long long)st->st_size;
}

static unsigned long long size_dir(int dir, dev_t dev, struct inode_set *seen, struct path *p) {
  unsigned long long total = 0;
  struct listing *l = listing_open(dir);
  for (const char *name; (name = listing_next(l, p->text));) {
    size_t mark = path_push(p, name);
    struct stat st;
    if (stat_entry(dir, name, &st, p->text)) {
      if (!S_ISDIR(st.st_mode)) {
        if (st.st_nlink <= 1 || inode_set_add(seen, st.st_dev, st.st_ino)) total += (unsigned long long)st.st_size;
      } else if (st.st_dev == dev) {
        int sub = open_subdir(dir, name, dev, p->text);
        if (sub >= 0) {
          total += size_dir(sub, dev, seen, p);
          close(sub);
        }
      }
    }
    path_pop(p, mark);
  }
  free(l);
  return total;
}

/* --- remove: everything below, deepest first ------------------------------ */

#define REMOVE_PASSES 8

static void remove_contents(int dir, dev_t dev, struct path *p);

/* Removes dir/name whatever it is now; a directory with what it holds. */
static void remove_entry(int dir, dev_t dev, const char *name, struct path *p) {
  for (int attempt = 0; attempt < REMOVE_PASSES; attempt++) {
    if (unlinkat(dir, name, 0) == 0 || errno == ENOENT) return;
    if (errno != EISDIR) die_errno("remove %s", p->text);
    int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (sub < 0) {
      if (errno == ENOENT) return;
      if (errno == ENOTDIR || errno == ELOOP) continue; /* swapped for a non-directory: unlink that */
      die_errno("remove %s: open", p->text);
    }
    struct stat st;
    if (fstat(sub, &st) < 0) die_errno("remove %s: fstat", p->text);
    if (st.st_dev != dev) die(EXIT_SKIFF_FAILED, 0, "remove %s: a file system is mounted there", p->text);
    remove_contents(sub, dev, p);
    close(sub);
    if (unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;
    if (errno != ENOTEMPTY && errno != EEXIST) die_errno("remove %s", p->text);
  }
  die(EXIT_SKIFF_FAILED, 0, "remove %s: it keeps changing while it is removed", p->text);
}

static void remove_contents(int dir, dev_t dev, struct path *p) {
  /* Entries removed while the directory is listed may shift the listing:
   * list again until a pass finds nothing. */
  for (int pass = 0;; pass++) {
    if (pass == REMOVE_PASSES) die(EXIT_SKIFF_FAILED, 0, "remove %s: it keeps filling while it is removed", p->text);
    if (lseek(dir, 0, SEEK_SET) < 0) die_errno("remove %s: rewind", p->text);
    bool found = false;
    struct listing *l = listing_open(dir);
    for (const char *name; (name = listing_next(l, p->text));) {
      found = true;
      size_t mark = path_push(p, name);
      remove_entry(dir, dev, name, p);
      path_pop(p, mark);
    }
    free(l);
    if (!found) return;
  }
}

/* --- layer: the upper dir as a layer tar (image-spec's changesets) ------- */

static int open_root(const char *root, struct stat *st);

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

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of a directory, sorted (the same tree gives the same tar). */
static char **sorted_names(int dir, const char *where, size_t *count) {
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

/* The image's layers at the root, uppermost first (as walk_diff opens them). */
static struct layers open_image_layers(const struct container_spec *spec, int root) {
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

static void walk_layer(const struct container_spec *spec, struct path *p) {
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

/* --- the mode ------------------------------------------------------------- */

/* Opens a root the TypeScript side named (a path of skiff's own store, which
 * no container can change); -1 when it does not exist. */
static int open_root(const char *root, struct stat *st) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    die_errno("walk: open %s", root);
  }
  if (fstat(fd, st) < 0) die_errno("walk: fstat %s", root);
  return fd;
}

static void walk_diff(const struct container_spec *spec, struct path *p) {
  if (spec->walk_roots.len != 1) die(EXIT_SKIFF_FAILED, 0, "spec: walk_op=diff takes one walk_root");
  struct stat st;
  int root = open_root(spec->walk_roots.items[0], &st);
  if (root < 0) die(EXIT_SKIFF_FAILED, ENOENT, "walk: %s", spec->walk_roots.items[0]);
  struct layers image = open_image_layers(spec, root);
  if (spec->walk_full)
    full_diff_dir(root, st.st_dev, &image, p, full_record, NULL);
  else
    diff_dir(root, st.st_dev, &image, p);
  layers_close(&image);
  close(root);
}

static void walk_size(const struct container_spec *spec, struct path *p) {
  if (spec->walk_full) {
    /* A full copy: what differs from the image (added and changed non-directories), as an upper dir would hold. */
    if (spec->walk_roots.len != 1) die(EXIT_SKIFF_FAILED, 0, "spec: walk_op=size with walk_full takes one walk_root");
    struct stat st;
    int root = open_root(spec->walk_roots.items[0], &st);
    struct full_size size = {0};
    if (root >= 0) {
      struct layers image = open_image_layers(spec, root);
      full_diff_dir(root, st.st_dev, &image, p, full_size_add, &size);
      layers_close(&image);
      close(root);
    }
    free(size.seen.slots);
    char number[32];
    snprintf(number, sizeof number, "%llu", size.total);
    out_record(number, NULL);
    return;
  }
  for (size_t i = 0; i < spec->walk_roots.len; i++) {
    struct stat st;
    int root = open_root(spec->walk_roots.items[i], &st);
    unsigned long long total = 0;
    if (root >= 0) {
      struct inode_set seen = {0};
      total = size_dir(root, st.st_dev, &seen, p);
      free(seen.slots);
      close(root);
    }
    char number[32];
    snprintf(number, sizeof number, "%llu", total);
    out_record(number, NULL);
  }
}

static void remove_roots(const struct string_list *roots, struct path *p) {
  for (size_t i = 0; i < roots->len; i++) {
    const char *path = roots->items[i];
    struct stat st;
    int root = open_root(path, &st);
    if (root < 0) continue;
    remove_contents(root, st.st_dev, p);
    close(root);
    if (rmdir(path) < 0 && errno != ENOENT) die_errno("remove %s", path);
  }
}

static struct path new_path(void) {
  struct path p = {.text = calloc(1, 256), .len = 0, .cap = 256};
  if (p.text == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a path");
  return p;
}

void walk_remove_trees(const struct string_list *roots) {
  struct path p = new_path();
  remove_roots(roots, &p);
  free(p.text);
}

/* A layer for another ID mapping (--userns keep-id): walk_root copied to
 * walk_dest/diff by fd, every owner moved through shift_uid/shift_gid, modes,
 * set-ID bits, times and xattrs kept, whiteouts (0/0 devices) made again. */
static void walk_shift(const struct container_spec *spec) {
  if (spec->walk_roots.len != 1 || spec->walk_dest == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: walk_op shift takes one walk_root and walk_dest");
  if (spec->shift_uid_len == 0 || spec->shift_gid_len == 0) die(EXIT_SKIFF_FAILED, 0, "spec: walk_op shift needs shift_uid and shift_gid");
  int dest = open(spec->walk_dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dest < 0) die_errno("open %s", spec->walk_dest);
  struct copy_tally tally = {0};
  struct id_shift shift = {.uids = spec->shift_uid, .uids_len = spec->shift_uid_len, .gids = spec->shift_gid, .gids_len = spec->shift_gid_len};
  struct copy_options opts = {.tally = &tally, .keep_owner = true, .keep_setid = true, .shift = &shift, .xattrs = true};
  copy_node(&opts, AT_FDCWD, spec->walk_roots.items[0], dest, "diff", "diff");
  close(dest);
  copy_report(&tally);
}

/* The vfs driver's root filesystem: the image's layers (lowerdir, uppermost
 * first) applied one over another, lowest first, into walk_dest (an empty
 * directory with the image's root mode, given the layers' root owner here): whiteouts remove,
 * opaque directories empty, owners, modes, set-ID bits, times and xattrs kept,
 * overlay's own xattrs left out. A layer whose root is opaque hides all below. */
static void walk_flatten(const struct container_spec *spec) {
  if (spec->walk_dest == NULL || spec->walk_roots.len != 0 || spec->lowerdirs.len == 0)
    die(EXIT_SKIFF_FAILED, 0, "spec: walk_op flatten takes walk_dest, lowerdir and no walk_root");
  if (spec->walk_dest[0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: walk_dest must be absolute: %s", spec->walk_dest);
  int dest = open(spec->walk_dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dest < 0) die_errno("open %s", spec->walk_dest);
  /* Its owner is the uppermost layer's root's: the container's root (with
   * --userns keep-id the layers are copies for that mapping). */
  struct stat top;
  if (stat(spec->lowerdirs.items[0], &top) < 0) die_errno("walk: stat the layer %s", spec->lowerdirs.items[0]);
  if (fchown(dest, top.st_uid, top.st_gid) < 0) die_errno("chown %s to %u:%u", spec->walk_dest, (unsigned)top.st_uid, (unsigned)top.st_gid);
  size_t bottom = spec->lowerdirs.len;
  for (size_t i = 0; i < spec->lowerdirs.len && bottom == spec->lowerdirs.len; i++) {
    int fd = open(spec->lowerdirs.items[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) die_errno("walk: open the layer %s", spec->lowerdirs.items[i]);
    if (layer_dir_opaque(fd)) bottom = i + 1;
    close(fd);
  }
  struct copy_tally tally = {0};
  struct copy_options opts = {.tally = &tally, .to_container = true, .keep_owner = true, .keep_setid = true, .xattrs = true, .apply_layer = true};
  for (size_t i = bottom; i-- > 0;) copy_contents(&opts, AT_FDCWD, spec->lowerdirs.items[i], dest, "");
  close(dest);
  copy_report(&tally);
}

noreturn void walk_main(void) {
  report_set_fd(SKIFF_SPEC_FD);
  int report = SKIFF_SPEC_FD;
  fds_close_except(&report, 1);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  const char *op = spec.walk_op ? spec.walk_op : "";
  bool diff = strcmp(op, "diff") == 0, size = strcmp(op, "size") == 0, remove = strcmp(op, "remove") == 0;
  bool layer = strcmp(op, "layer") == 0, shift = strcmp(op, "shift") == 0, flatten = strcmp(op, "flatten") == 0;
  if (!diff && !size && !remove && !layer && !shift && !flatten)
    die(EXIT_SKIFF_FAILED, 0, "spec: walk_op must be diff, size, remove, layer, shift or flatten, not \"%s\"", op);
  if (spec.walk_full && !diff && !size && !layer) die(EXIT_SKIFF_FAILED, 0, "spec: walk_full goes with diff, size or layer");
  for (size_t i = 0; i < spec.walk_roots.len; i++)
    if (spec.walk_roots.items[i][0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: walk_root must be absolute: %s", spec.walk_roots.items[i]);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  signal(SIGPIPE, SIG_IGN); /* a reader gone is an error to report, not a silent death */
  /* Each level of a deep tree holds its directory's fd (and the layers'). */
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  /* Only the vfs driver's walks read layers that may keep the tar's whiteouts. */
  layer_read_markers(spec.walk_full || flatten);
  if (spec.userns) userns_fork(&spec);

  struct path p = new_path();
  if (diff) walk_diff(&spec, &p);
  if (size) walk_size(&spec, &p);
  if (remove) remove_roots(&spec.walk_roots, &p);
  if (layer) walk_layer(&spec, &p);
  if (shift) walk_shift(&spec);
  if (flatten) walk_flatten(&spec);
  out_flush();
  _exit(0);
}
