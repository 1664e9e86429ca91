/* The container's filesystem: everything between unshare and pivot_root. */
#include "mounts.h"
#include "overlay.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Paths below are relative to the new root, which is the cwd during setup. */

static void do_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                     const char *data) {
  if (mount(source, target, fstype, flags, data) < 0)
    die_errno("mount %s on /%s (type %s)", source ? source : "none", target, fstype ? fstype : "bind");
}

static void make_dir(const char *path, mode_t mode) {
  if (mkdir(path, mode) < 0 && errno != EEXIST) die_errno("mkdir /%s", path);
}

/* An empty file to bind a device node or /dev/null onto. */
static void make_file(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return;
    die_errno("create /%s", path);
  }
  close(fd);
}

static void make_symlink(const char *target, const char *path) {
  if (symlink(target, path) < 0 && errno != EEXIST) die_errno("symlink /%s -> %s", path, target);
}

/* A bind remount must repeat the flags the kernel locked on the source mount
 * (nosuid, nodev, noexec) or it fails with EPERM inside a user namespace. */
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  if (statvfs(path, &st) < 0) die_errno("statvfs /%s", path);
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  return flags;
}

static void remount_readonly(const char *path) {
  unsigned long flags = locked_flags(path);
  if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) < 0)
    die_errno("remount /%s read-only", path);
}

static void mount_proc(void) {
  make_dir("proc", 0555);
  do_mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static void mount_sys(const struct container_spec *spec) {
  make_dir("sys", 0555);
  /* sysfs may only be mounted by the owner of the network namespace; with the
   * host's network a rootless container binds the host's /sys instead. */
  unsigned long readonly = spec->sys_rw ? 0 : MS_RDONLY;
  if (mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | readonly, NULL) == 0) return;
  if (errno != EPERM || spec->network != NETWORK_HOST) die_errno("mount sysfs on /sys");
  do_mount("/sys", "sys", NULL, MS_BIND | MS_REC, NULL);
  if (!spec->sys_rw) remount_readonly("sys");
}

static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static void mount_dev(const struct container_spec *spec, bool tty_gid_mapped) {
  make_dir("dev", 0755);
  do_mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  /* Device nodes cannot be created in a user namespace: bind the host's. */
  for (size_t i = 0; i < sizeof device_nodes / sizeof device_nodes[0]; i++) {
    char target[64], source[64];
    snprintf(target, sizeof target, "dev/%s", device_nodes[i]);
    snprintf(source, sizeof source, "/dev/%s", device_nodes[i]);
    make_file(target);
    do_mount(source, target, NULL, MS_BIND, NULL);
  }
  make_dir("dev/pts", 0755);
  const char *pts_options = tty_gid_mapped ? "newinstance,ptmxmode=0666,mode=0620,gid=5" : "newinstance,ptmxmode=0666,mode=0620";
  do_mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, pts_options);
  make_symlink("pts/ptmx", "dev/ptmx");
  make_dir("dev/shm", 01777);
  do_mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  make_dir("dev/mqueue", 0755);
  do_mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  make_symlink("/proc/self/fd", "dev/fd");
  make_symlink("/proc/self/fd/0", "dev/stdin");
  make_symlink("/proc/self/fd/1", "dev/stdout");
  make_symlink("/proc/self/fd/2", "dev/stderr");
  make_symlink("/proc/kcore", "dev/core");
  (void)spec;
}

/* Hide a path: an empty read-only tmpfs over a directory, /dev/null over a file. */
static void mask_path(const char *abs_path) {
  const char *path = abs_path + 1;
  struct stat st;
  if (lstat(path, &st) < 0) {
    if (errno == ENOENT) return;
    die_errno("stat masked path %s", abs_path);
  }
  if (S_ISDIR(st.st_mode)) {
    do_mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k");
  } else {
    do_mount("/dev/null", path, NULL, MS_BIND, NULL);
  }
}

static void readonly_path(const char *abs_path) {
  const char *path = abs_path + 1;
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    die_errno("bind %s for read-only", abs_path);
  }
  remount_readonly(path);
}

/* Opens (O_PATH) a path inside the rootfs (the cwd) as if the rootfs were "/":
 * symlinks in the image resolve within it, never onto the host. */
static int open_in_rootfs(const char *path, int flags) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
}

/* Creates `path` (relative to the root) as an empty file or directory, and
 * any missing directory above it, each component opened inside the root. */
static void create_in_rootfs(const char *path, bool dir) {
  char prefix[4096];
  snprintf(prefix, sizeof prefix, "%s", path);
  int parent = open_in_rootfs(".", O_PATH | O_DIRECTORY);
  if (parent < 0) die_errno("open the container's root");
  char *name = prefix;
  for (;;) {
    while (*name == '/') name++;
    char *slash = strchr(name, '/');
    bool last = slash == NULL || slash[strspn(slash, "/")] == '\0';
    if (slash) *slash = '\0';
    if (name[0] != '\0') {
      int made = last && !dir ? mknodat(parent, name, S_IFREG | 0644, 0) : mkdirat(parent, name, 0755);
      if (made < 0 && errno != EEXIST) die_errno("create bind destination /%s", path);
    }
    if (last) break;
    /* The next component's parent, resolved from the root again (it may be a link). */
    int next = open_in_rootfs(prefix, O_PATH | O_DIRECTORY);
    if (next < 0) die_errno("open /%s, the directory of bind destination /%s", prefix, path);
    close(parent);
    parent = next;
    *slash = '/';
    name = slash + 1;
  }
  close(parent);
}

/* The directory part of a relative path ("" for a name in the root). */
static void dir_of(const char *path, char *out, size_t size) {
  snprintf(out, size, "%s", path);
  char *slash = strrchr(out, '/');
  if (slash) *slash = '\0';
  else out[0] = '\0';
}

/* Opens (O_PATH) a bind destination as the container will see it: a symlink
 * in the image (several distributions ship /etc/resolv.conf as one) is
 * followed, but only ever inside the root, the way the kernel resolves it
 * for RESOLVE_IN_ROOT; a missing destination, or a link's missing target, is
 * created in the container's own root (its upper layer). */
static int open_bind_destination(const char *dest, bool dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dest + 1);
  for (int links = 0, created = 0;;) {
    int fd = open_in_rootfs(path, O_PATH | O_NOFOLLOW);
    if (fd < 0) {
      if (errno != ENOENT || created++ > 0) die_errno("open bind destination %s", dest);
      create_in_rootfs(path, dir);
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) die_errno("stat bind destination %s", dest);
    if (!S_ISLNK(st.st_mode)) return fd;
    if (++links > 40) die(EXIT_SKIFF_FAILED, ELOOP, "bind destination %s", dest);
    char target[4096];
    ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
    if (n < 0) die_errno("readlink bind destination %s", dest);
    target[n] = '\0';
    close(fd);
    char next[sizeof path];
    if (target[0] == '/') {
      snprintf(next, sizeof next, "%s", target + strspn(target, "/"));
    } else {
      char parent[sizeof path];
      dir_of(path, parent, sizeof parent);
      if ((size_t)snprintf(next, sizeof next, "%s%s%s", parent, parent[0] ? "/" : "", target) >= sizeof next)
        die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "bind destination %s", dest);
    }
    snprintf(path, sizeof path, "%s", next[0] ? next : ".");
  }
}

/* "SOURCE<TAB>DESTINATION<TAB>rw|ro": the host's SOURCE bound onto DESTINATION
 * in the container, created empty (file or directory, like the source) when
 * missing. */
static void bind_into_rootfs(const char *entry) {
  char copy[8192];
  snprintf(copy, sizeof copy, "%s", entry);
  char *dest = strchr(copy, '\t');
  char *mode = dest ? strchr(dest + 1, '\t') : NULL;
  if (dest == NULL || mode == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: bad bind \"%s\"", entry);
  *dest++ = '\0';
  *mode++ = '\0';
  if (dest[0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: bind destination \"%s\" must be absolute", dest);
  struct stat st;
  if (stat(copy, &st) < 0) die_errno("bind source %s", copy);
  int target = open_bind_destination(dest, S_ISDIR(st.st_mode));
  char fd_path[64];
  snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", target);
  if (mount(copy, fd_path, NULL, MS_BIND, NULL) < 0) die_errno("bind %s onto %s", copy, dest);
  if (strcmp(mode, "ro") == 0 && mount(NULL, fd_path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(fd_path), NULL) < 0)
    die_errno("remount %s read-only", dest);
  close(target);
}

static void pivot_into_cwd(void) {
  /* pivot_root(".", ".") stacks the old root on top of the new one; unmounting
   * it leaves the new root alone, without needing a directory for the old. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root into the container's root");
  if (umount2(".", MNT_DETACH) < 0) die_errno("detach the host's root");
  if (chdir("/") < 0) die_errno("chdir /");
}

void mounts_setup_rootfs(const struct container_spec *spec, bool tty_gid_mapped) {
  /* Nothing mounted here may propagate back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_errno("make / private");
  struct stat st;
  if (stat(spec->rootfs, &st) < 0) die_errno("root filesystem %s", spec->rootfs);
  if (!S_ISDIR(st.st_mode)) die(EXIT_SKIFF_FAILED, 0, "root filesystem %s is not a directory", spec->rootfs);
  /* pivot_root needs the new root to be a mount point: the overlay is one, a
   * plain directory is bound onto itself. */
  if (spec->lowerdirs.len > 0)
    overlay_mount_rootfs(spec);
  else if (mount(spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    die_errno("bind the root filesystem %s", spec->rootfs);
  if (chdir(spec->rootfs) < 0) die_errno("chdir %s", spec->rootfs);

  mount_proc();
  mount_sys(spec);
  mount_dev(spec, tty_gid_mapped);
  for (size_t i = 0; i < spec->binds.len; i++) bind_into_rootfs(spec->binds.items[i]);
  for (size_t i = 0; i < spec->masked.len; i++) mask_path(spec->masked.items[i]);
  for (size_t i = 0; i < spec->readonly.len; i++) readonly_path(spec->readonly.items[i]);
  pivot_into_cwd();
}
