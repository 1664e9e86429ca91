/* See walk.h. */
#include "walk.h"
#include "copy.h"
#include "fds.h"
#include "io.h"
#include "layerdir.h"
#include "protocol.h"
#include "report.h"
#include "userns.h"
#include "walk_layer.h"
#include "walk_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* --- diff: the upper dir against the layers below it --------------------- */

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

/* --- the mode ------------------------------------------------------------- */

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
