/* See walk.h. */
#include "walk.h"
#include "fds.h"
#include "io.h"
#include "protocol.h"
#include "report.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
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

static bool is_whiteout(const struct stat *st) { return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0); }

/* An overlay directory that hides what the layers below hold at its path. */
static bool is_opaque(int fd) {
  char value[2];
  ssize_t n = fgetxattr(fd, "user.overlay.opaque", value, sizeof value);
  if (n < 0) n = fgetxattr(fd, "trusted.overlay.opaque", value, sizeof value);
  return n == 1 && value[0] == 'y';
}

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
    if (fstatat(below->fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    return !is_whiteout(&st);
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
    if (fstatat(here->fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    hidden = true; /* whatever this layer holds here hides the layers below */
    if (!S_ISDIR(st.st_mode)) continue;
    int fd = openat(here->fds[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    next.fds[i] = fd;
    hidden = is_opaque(fd);
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
  struct layers image = {.fds = malloc(sizeof(int) * (spec->lowerdirs.len + 1)), .n = spec->lowerdirs.len};
  if (image.fds == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: layer fds");
  bool hidden = is_opaque(root);
  for (size_t i = 0; i < image.n; i++) {
    image.fds[i] = hidden ? -1 : open(spec->lowerdirs.items[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!hidden && image.fds[i] < 0) die_errno("walk: open the layer %s", spec->lowerdirs.items[i]);
    if (!hidden) hidden = is_opaque(image.fds[i]);
  }
  diff_dir(root, st.st_dev, &image, p);
  layers_close(&image);
  close(root);
}

static void walk_size(const struct container_spec *spec, struct path *p) {
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

static void walk_remove(const struct container_spec *spec, struct path *p) {
  for (size_t i = 0; i < spec->walk_roots.len; i++) {
    const char *path = spec->walk_roots.items[i];
    struct stat st;
    int root = open_root(path, &st);
    if (root < 0) continue;
    remove_contents(root, st.st_dev, p);
    close(root);
    if (rmdir(path) < 0 && errno != ENOENT) die_errno("remove %s", path);
  }
}

noreturn void walk_main(void) {
  report_set_fd(SKIFF_SPEC_FD);
  int report = SKIFF_SPEC_FD;
  fds_close_except(&report, 1);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  const char *op = spec.walk_op ? spec.walk_op : "";
  bool diff = strcmp(op, "diff") == 0, size = strcmp(op, "size") == 0, remove = strcmp(op, "remove") == 0;
  if (!diff && !size && !remove) die(EXIT_SKIFF_FAILED, 0, "spec: walk_op must be diff, size or remove, not \"%s\"", op);
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
  if (spec.userns) userns_fork(&spec);

  struct path p = {.text = calloc(1, 256), .len = 0, .cap = 256};
  if (p.text == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "walk: a path");
  if (diff) walk_diff(&spec, &p);
  if (size) walk_size(&spec, &p);
  if (remove) walk_remove(&spec, &p);
  out_flush();
  _exit(0);
}
