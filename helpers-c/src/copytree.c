/* The one recursive copy behind `cp` and `export` (copy.h). Both ends are
 * directory fds; every call names a single component relative to one of them
 * and never follows a symlink there (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW), so a
 * container that swaps a directory for a symlink while it is copied gets the
 * symlink copied (or the directory, whichever is there when it is opened),
 * never a read or write somewhere else; a node that vanished is skipped. */
#include "copy.h"
#include "layerdir.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

void copy_report(const struct copy_tally *t) {
  if (t->skipped_devices)
    warn_user("%lu device node%s not copied (creating one needs real root), e.g. %s", t->skipped_devices,
              t->skipped_devices == 1 ? "" : "s", t->first_device);
  if (t->skipped_sockets)
    warn_user("%lu socket%s not copied, e.g. %s", t->skipped_sockets, t->skipped_sockets == 1 ? "" : "s", t->first_socket);
  if (t->unmapped_owners)
    warn_user("%lu file%s kept owner 0:0: the source's owner is not mapped in the container", t->unmapped_owners,
              t->unmapped_owners == 1 ? "" : "s");
  report_copied(t->bytes);
}

/* lstat through statx, which also tells whether the node is a mount point. */
static int stat_node(int dir, const char *name, struct stat *st, bool *mount_root) {
  struct statx sx;
  if (statx(dir, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0) return -1;
  memset(st, 0, sizeof *st);
  st->st_mode = sx.stx_mode;
  st->st_uid = sx.stx_uid;
  st->st_gid = sx.stx_gid;
  st->st_size = (off_t)sx.stx_size;
  st->st_ino = sx.stx_ino;
  st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  st->st_atim.tv_sec = sx.stx_atime.tv_sec;
  st->st_atim.tv_nsec = sx.stx_atime.tv_nsec;
  st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
  st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
  *mount_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  return 0;
}

static mode_t permissions(const struct copy_options *opts, const struct stat *st) {
  mode_t perm = st->st_mode & 07777;
  return opts->keep_setid ? perm : perm & ~(mode_t)06000;
}

/* Into a container: 0:0 (its root), or the source's ids with -a. */
static void owner_for(const struct copy_options *opts, const struct stat *st, uid_t *uid, gid_t *gid) {
  *uid = opts->keep_owner ? st->st_uid : 0;
  *gid = opts->keep_owner ? st->st_gid : 0;
}

static unsigned long shift_id(const struct id_range *ranges, size_t len, unsigned long id, const char *what, const char *rel) {
  for (size_t i = 0; i < len; i++)
    if (id >= ranges[i].inside && id - ranges[i].inside < ranges[i].count) return ranges[i].outside + (id - ranges[i].inside);
  die(EXIT_SKIFF_FAILED, 0, "%s: its %s %lu has no place in the new ID mapping", rel, what, id);
}

/* chown through fd, or (fd < 0) the node dir/name itself, never a symlink's target. */
static void set_owner(const struct copy_options *opts, const struct stat *st, int fd, int dir, const char *name,
                      const char *rel) {
  if (opts->shift) {
    uid_t uid = (uid_t)shift_id(opts->shift->uids, opts->shift->uids_len, st->st_uid, "owner", rel);
    gid_t gid = (gid_t)shift_id(opts->shift->gids, opts->shift->gids_len, st->st_gid, "group", rel);
    int r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0) die_errno("chown %s to %u:%u", rel, (unsigned)uid, (unsigned)gid);
    return;
  }
  if (!opts->to_container) return; /* out of a container: the caller's user and group, as Docker */
  uid_t uid;
  gid_t gid;
  owner_for(opts, st, &uid, &gid);
  int r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW);
  if (r == 0) return;
  if (opts->keep_owner && (errno == EINVAL || errno == EPERM)) {
    opts->tally->unmapped_owners++;
    r = fd >= 0 ? fchown(fd, 0, 0) : fchownat(dir, name, 0, 0, AT_SYMLINK_NOFOLLOW);
    if (r == 0) return;
  }
  die_errno("chown %s", rel);
}

/* Extended attributes (an overlay's opaque marker, file capabilities), set
 * after the chown, which clears security.capability. */
static bool overlay_xattr(const char *name) {
  return strncmp(name, "user.overlay.", 13) == 0 || strncmp(name, "trusted.overlay.", 16) == 0;
}

static void copy_xattrs(int src, int dst, const char *rel, bool skip_overlay) {
  static char names[65536], value[65536];
  ssize_t n = flistxattr(src, names, sizeof names);
  if (n < 0) {
    if (errno == ENOTSUP) return;
    die_errno("list the extended attributes of %s", rel);
  }
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    if (skip_overlay && overlay_xattr(name)) continue;
    ssize_t v = fgetxattr(src, name, value, sizeof value);
    if (v < 0) {
      if (errno == ENODATA) continue;
      die_errno("read the extended attribute %s of %s", name, rel);
    }
    if (fsetxattr(dst, name, value, (size_t)v, 0) < 0) die_errno("set the extended attribute %s of %s", name, rel);
  }
}

/* dir/name and, for a directory, everything below it (skiff's own copy of
 * an image, which no container reaches while it is made). */
static void remove_tree(int dir, const char *name, const char *rel) {
  if (unlinkat(dir, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR) die_errno("remove %s", rel);
  int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0) die_errno("open directory %s", rel);
  DIR *d = fdopendir(sub);
  if (d == NULL) die_errno("opendir %s", rel);
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0) die_errno("readdir %s", rel);
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    remove_tree(dirfd(d), e->d_name, rel);
  }
  closedir(d);
  if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT) die_errno("remove directory %s", rel);
}

/* Makes room for a non-directory at dir/name: an existing non-directory is
 * replaced; a directory only when a layer is applied (the upper layer's node
 * hides it). */
static void remove_existing(const struct copy_options *opts, int dir, const char *name, const char *rel) {
  if (unlinkat(dir, name, 0) == 0 || errno == ENOENT) return;
  if (errno == EISDIR && opts->apply_layer) {
    remove_tree(dir, name, rel);
    return;
  }
  if (errno == EISDIR) die(EXIT_SKIFF_FAILED, 0, "cannot overwrite directory %s with non-directory", rel);
  die_errno("remove %s to replace it", rel);
}

static char *join_rel(const char *prefix, const char *name) {
  size_t a = strlen(prefix), b = strlen(name);
  char *out = malloc(a + b + 2);
  if (out == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "allocating a path");
  if (a == 0) {
    memcpy(out, name, b + 1);
  } else {
    memcpy(out, prefix, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
  }
  return out;
}

static void copy_at(const struct copy_options *opts, int src_dir, const char *src_name, int dst_dir, const char *dst_name,
                    const char *rel, int depth);

/* Every entry of the open directory src into dst (or the archive under prefix). */
static void copy_entries(const struct copy_options *opts, int src, int dst, const char *prefix, int depth) {
  int listing = dup(src);
  if (listing < 0) die_errno("dup");
  DIR *d = fdopendir(listing);
  if (d == NULL) die_errno("opendir %s", prefix[0] ? prefix : ".");
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0) die_errno("readdir %s", prefix[0] ? prefix : ".");
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *rel = join_rel(prefix, e->d_name);
    copy_at(opts, src, e->d_name, dst, e->d_name, rel, depth + 1);
    free(rel);
  }
  closedir(d);
}

/* The destination directory dir/name, made (0700 until its contents are in) or reused. */
static int make_dir(int dir, const char *name, const char *rel) {
  if (mkdirat(dir, name, 0700) < 0) {
    if (errno != EEXIST) die_errno("mkdir %s", rel);
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != ENOTDIR && errno != ELOOP) die_errno("open directory %s", rel);
    if (unlinkat(dir, name, 0) < 0) die_errno("remove %s to replace it with a directory", rel);
    if (mkdirat(dir, name, 0700) < 0) die_errno("mkdir %s", rel);
  }
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die_errno("open directory %s", rel);
  return fd;
}

/* The source changed between its lstat and its open: a running container's
 * files may be removed or swapped for another kind of node (a symlink) at any
 * instant. The caller looks again. */
static bool source_changed(const char *rel) {
  if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return true;
  die_errno("open %s", rel);
}

static bool copy_dir(const struct copy_options *opts, const struct stat *st, bool mount_root, int src_dir,
                     const char *src_name, int dst_dir, const char *dst_name, const char *rel, int depth) {
  int src = openat(src_dir, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) return source_changed(rel);
  /* Below the source, /proc, /sys, /dev and other mounts of a running
   * container are copied as empty directories, as Docker's export has them. */
  bool descend = !(opts->source_in_container && mount_root && depth > 0);
  struct stat meta = *st;
  meta.st_mode = (st->st_mode & ~(mode_t)07777) | permissions(opts, st);
  if (opts->tar) {
    tar_write_entry(opts->tar, rel, &meta, NULL, -1);
    if (descend) copy_entries(opts, src, -1, rel, depth);
    close(src);
    return false;
  }
  /* An opaque directory of a layer replaces what the layers below put there. */
  if (opts->apply_layer && layer_dir_opaque(src)) remove_tree(dst_dir, dst_name, rel);
  int dst = make_dir(dst_dir, dst_name, rel);
  if (descend) copy_entries(opts, src, dst, rel, depth);
  set_owner(opts, st, dst, -1, NULL, rel);
  if (fchmod(dst, permissions(opts, st)) < 0) die_errno("chmod %s", rel);
  if (opts->xattrs) copy_xattrs(src, dst, rel, opts->apply_layer);
  close(src);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (futimens(dst, times) < 0) die_errno("set the times of %s", rel);
  close(dst);
  return false;
}

static void copy_data(int src, int dst, const char *rel) {
  bool ranges = true;
  static char buf[1 << 16];
  for (;;) {
    if (ranges) {
      ssize_t n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) return;
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EPERM)
        die_errno("copy %s", rel);
      ranges = false; /* not between these filesystems: plain reads and writes */
    }
    ssize_t n = read(src, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno("read %s", rel);
    }
    if (n == 0) return;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(dst, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        die_errno("write %s", rel);
      }
      off += w;
    }
  }
}

static bool copy_file(const struct copy_options *opts, const struct stat *st, int src_dir, const char *src_name,
                      int dst_dir, const char *dst_name, const char *rel) {
  /* O_NONBLOCK: had the file become a FIFO since it was looked at, open must not hang. */
  int src = openat(src_dir, src_name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (src < 0) return source_changed(rel);
  struct stat now;
  if (fstat(src, &now) < 0) die_errno("stat %s", rel);
  if (!S_ISREG(now.st_mode)) {
    close(src);
    return true;
  }
  if (fcntl(src, F_SETFL, 0) < 0) die_errno("fcntl %s", rel);
  now.st_mode = (now.st_mode & ~(mode_t)07777) | permissions(opts, &now);
  opts->tally->bytes += (unsigned long long)now.st_size;
  if (opts->tar) {
    tar_write_entry(opts->tar, rel, &now, NULL, src);
    close(src);
    return false;
  }
  int dst = openat(dst_dir, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0 && errno == EEXIST) {
    remove_existing(opts, dst_dir, dst_name, rel);
    dst = openat(dst_dir, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  if (dst < 0) die_errno("create %s", rel);
  copy_data(src, dst, rel);
  set_owner(opts, &now, dst, -1, NULL, rel);
  /* After chown, which clears the set-ID bits. */
  if (fchmod(dst, now.st_mode & 07777) < 0) die_errno("chmod %s", rel);
  if (opts->xattrs) copy_xattrs(src, dst, rel, opts->apply_layer);
  close(src);
  struct timespec times[2] = {now.st_atim, now.st_mtim};
  if (futimens(dst, times) < 0) die_errno("set the times of %s", rel);
  close(dst);
  return false;
}

static bool copy_symlink(const struct copy_options *opts, const struct stat *st, int src_dir, const char *src_name,
                         int dst_dir, const char *dst_name, const char *rel) {
  char target[PATH_MAX];
  ssize_t n = readlinkat(src_dir, src_name, target, sizeof target);
  if (n < 0 && (errno == ENOENT || errno == EINVAL)) return true; /* gone, or no longer a link */
  if (n < 0) die_errno("readlink %s", rel);
  if ((size_t)n >= sizeof target) die(EXIT_SKIFF_FAILED, 0, "readlink %s: the target is too long", rel);
  target[n] = '\0';
  if (opts->tar) {
    tar_write_entry(opts->tar, rel, st, target, -1);
    return false;
  }
  remove_existing(opts, dst_dir, dst_name, rel);
  if (symlinkat(target, dst_dir, dst_name) < 0) die_errno("symlink %s", rel);
  set_owner(opts, st, -1, dst_dir, dst_name, rel);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dst_dir, dst_name, times, AT_SYMLINK_NOFOLLOW) < 0) die_errno("set the times of %s", rel);
  return false;
}

static void copy_special(const struct copy_options *opts, const struct stat *st, int dst_dir, const char *dst_name,
                         const char *rel) {
  struct stat meta = *st;
  meta.st_mode = (st->st_mode & ~(mode_t)07777) | permissions(opts, st);
  if (opts->tar) {
    tar_write_entry(opts->tar, rel, &meta, NULL, -1);
    return;
  }
  remove_existing(opts, dst_dir, dst_name, rel);
  if (mknodat(dst_dir, dst_name, meta.st_mode, st->st_rdev) < 0) {
    if (errno != EPERM) die_errno("mknod %s", rel);
    if (opts->tally->skipped_devices++ == 0) snprintf(opts->tally->first_device, sizeof opts->tally->first_device, "%s", rel);
    return;
  }
  set_owner(opts, st, -1, dst_dir, dst_name, rel);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dst_dir, dst_name, times, AT_SYMLINK_NOFOLLOW) < 0) die_errno("set the times of %s", rel);
}

/* Looks at a node again when it changed kind between its lstat and its open. */
#define CHANGE_RETRIES 8

static void copy_at(const struct copy_options *opts, int src_dir, const char *src_name, int dst_dir, const char *dst_name,
                    const char *rel, int depth) {
  for (int attempt = 0; attempt < CHANGE_RETRIES; attempt++) {
    struct stat st;
    bool mount_root = false;
    if (stat_node(src_dir, src_name, &st, &mount_root) < 0) {
      /* Gone since its directory was listed (a running container's files come and go). */
      if (errno == ENOENT && depth > 0) return;
      die_errno("stat %s", rel);
    }
    bool changed = false;
    if (opts->apply_layer && layer_whiteout_node(&st)) {
      remove_tree(dst_dir, dst_name, rel); /* a whiteout: deleted in this layer */
      return;
    }
    if (opts->apply_layer && depth > 0 && layer_marker_name(src_name)) {
      /* The tar's way (a vfs store's layer): ".wh.NAME" deletes NAME; the opaque marker was read with its directory. */
      if (strcmp(src_name, LAYER_OPAQUE_MARKER) != 0) remove_tree(dst_dir, dst_name + strlen(".wh."), rel);
      return;
    }
    if (S_ISDIR(st.st_mode))
      changed = copy_dir(opts, &st, mount_root, src_dir, src_name, dst_dir, dst_name, rel, depth);
    else if (S_ISREG(st.st_mode))
      changed = copy_file(opts, &st, src_dir, src_name, dst_dir, dst_name, rel);
    else if (S_ISLNK(st.st_mode))
      changed = copy_symlink(opts, &st, src_dir, src_name, dst_dir, dst_name, rel);
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
      copy_special(opts, &st, dst_dir, dst_name, rel);
    else if (opts->tally->skipped_sockets++ == 0)
      snprintf(opts->tally->first_socket, sizeof opts->tally->first_socket, "%s", rel);
    if (!changed) return;
  }
  die(EXIT_SKIFF_FAILED, 0, "%s keeps changing while it is copied", rel);
}

void copy_node(const struct copy_options *opts, int src_dir, const char *src_name, int dst_dir, const char *dst_name,
               const char *tar_name) {
  copy_at(opts, src_dir, src_name, dst_dir, dst_name, tar_name, 0);
}

void copy_contents(const struct copy_options *opts, int src_dir, const char *src_name, int dst_dir, const char *tar_prefix) {
  int src = openat(src_dir, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) die_errno("open directory %s", tar_prefix[0] ? tar_prefix : src_name);
  copy_entries(opts, src, dst_dir, tar_prefix, 0);
  close(src);
}
