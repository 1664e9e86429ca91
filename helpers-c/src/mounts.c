/* The container's filesystem: everything between unshare and pivot_root. */
#include "mounts.h"
#include "overlay.h"
#include "volumes.h"
#include "report.h"
#include "sysctl.h"
#include "shared_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <stdlib.h>

/* Paths below are relative to the new root, which is the cwd during setup. */

static void do_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                     const char *data) {
  if (mount(source, target, fstype, flags, data) < 0)
    die_errno("mount %s on /%s (type %s)", source ? source : "none", target, fstype ? fstype : "bind");
  report_debug("mounted %s on /%s (type %s)", source ? source : "none", target, fstype ? fstype : "bind");
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

static void mount_proc(const struct container_spec *spec) {
  make_dir("proc", 0555);
  if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
    report_debug("mounted proc on /proc (type proc)");
    return;
  }
  /* Rootless with the host's PID namespace: only its owner (the host's
   * root) may mount a proc of it; the host's /proc is bound instead. */
  if (errno != EPERM || !spec->pid_host) die_errno("mount proc on /proc");
  do_mount("/proc", "proc", NULL, MS_BIND | MS_REC, NULL);
}

static void mount_sys(const struct container_spec *spec) {
  make_dir("sys", 0555);
  /* sysfs may only be mounted by the owner of the network namespace; with the
   * host's network (or one it joins) a rootless container binds the host's /sys instead. */
  unsigned long readonly = spec->sys_rw ? 0 : MS_RDONLY;
  if (mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | readonly, NULL) == 0) {
    report_debug("mounted sysfs on /sys (type sysfs%s)", readonly ? ", read-only" : "");
    return;
  }
  if (errno != EPERM || (spec->network != NETWORK_HOST && spec->network != NETWORK_JOIN)) die_errno("mount sysfs on /sys");
  do_mount("/sys", "sys", NULL, MS_BIND | MS_REC, NULL);
  if (!spec->sys_rw) remount_readonly("sys");
}

static const char *const device_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static unsigned long parse_device_number(const char *text, const char *entry, int base) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(text, &end, base);
  if (*text == '\0' || *end != '\0' || errno != 0) die(EXIT_SKIFF_FAILED, 0, "spec: bad device entry \"%s\"", entry);
  return n;
}

/* One device node made in the container's /dev by mknod, as runc does as
 * root: "PATH<TAB>c|b<TAB>MAJOR<TAB>MINOR<TAB>MODE<TAB>UID<TAB>GID". The
 * device cgroup (v1 rules or the v2 filter, set up before) decides what it
 * opens. The path is walked below /dev by fd, never following a link (/dev
 * holds skiff's own fd, stdin… links), its missing directories made. */
static void make_device(const char *entry) {
  char copy[4096];
  if (snprintf(copy, sizeof copy, "%s", entry) >= (int)sizeof copy) die(EXIT_SKIFF_FAILED, 0, "spec: device entry too long");
  char *fields[7];
  char *rest = copy;
  for (int i = 0; i < 7; i++) {
    fields[i] = rest;
    char *tab = rest ? strchr(rest, '\t') : NULL;
    if (i < 6 && tab == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: bad device entry \"%s\"", entry);
    if (tab) *tab = '\0';
    rest = tab ? tab + 1 : NULL;
  }
  const char *path = fields[0];
  if (strncmp(path, "/dev/", 5) != 0 || (fields[1][0] != 'c' && fields[1][0] != 'b') || fields[1][1] != '\0')
    die(EXIT_SKIFF_FAILED, 0, "spec: bad device entry \"%s\"", entry);
  unsigned long maj = parse_device_number(fields[2], entry, 10), min = parse_device_number(fields[3], entry, 10);
  mode_t mode = (mode_t)parse_device_number(fields[4], entry, 8) & 07777;
  uid_t uid = (uid_t)parse_device_number(fields[5], entry, 10);
  gid_t gid = (gid_t)parse_device_number(fields[6], entry, 10);
  int dir = open("dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) die_errno("open /dev");
  char *name = (char *)path + 5;
  for (char *slash; (slash = strchr(name, '/')) != NULL; name = slash + 1) {
    *slash = '\0';
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) die(EXIT_SKIFF_FAILED, 0, "spec: bad device path \"%s\"", path);
    if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) die_errno("mkdir for device %s", path);
    int next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) die_errno("open a directory of device %s", path);
    close(dir);
    dir = next;
    *slash = '/';
  }
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) die(EXIT_SKIFF_FAILED, 0, "spec: bad device path \"%s\"", path);
  mode_t type = fields[1][0] == 'c' ? S_IFCHR : S_IFBLK;
  if (mknodat(dir, name, type | mode, makedev(maj, min)) < 0) die_errno("mknod %s (%c %lu:%lu)", path, fields[1][0], maj, min);
  /* mknod's mode went through the umask; the owner and the mode as the host's node has them. */
  if (fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("chown device %s", path);
  if (fchmodat(dir, name, mode, 0) < 0) die_errno("chmod device %s", path);
  close(dir);
  report_debug("made device %s (%c %lu:%lu)", path, fields[1][0], maj, min);
}

static void mount_dev(const struct container_spec *spec, bool tty_gid_mapped) {
  make_dir("dev", 0755);
  /* nodev, as the root filesystem, unless --privileged as root or devices are made in it
   * by mknod (as root, with a device cgroup that decides what opens). */
  bool dev_ok = spec->dev_mknod || spec->devices.len > 0;
  do_mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME | (dev_ok ? 0 : MS_NODEV), "mode=755,size=65536k");
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
  /* With a shared IPC namespace, /dev/shm is the sharer's (POSIX shared memory lives there). */
  if (!spec->no_shm) {
    make_dir("dev/shm", 01777);
    if (spec->ipc_host) do_mount("/dev/shm", "dev/shm", NULL, MS_BIND, NULL);
    else if (spec->ipc_join > 0) shared_ns_mount_shm(spec, "dev/shm");
    else do_mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  }
  make_dir("dev/mqueue", 0755);
  /* mqueue shows the IPC namespace of who mounts it; the host's may only be mounted by its owner. */
  if (mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
    if (errno != EPERM || !spec->ipc_host) die_errno("mount mqueue on /dev/mqueue");
    /* The host's, when it has one mounted; else the directory stays empty. */
    struct stat mq;
    if (stat("/dev/mqueue", &mq) == 0 && S_ISDIR(mq.st_mode)) do_mount("/dev/mqueue", "dev/mqueue", NULL, MS_BIND, NULL);
  }
  make_symlink("/proc/self/fd", "dev/fd");
  make_symlink("/proc/self/fd/0", "dev/stdin");
  make_symlink("/proc/self/fd/1", "dev/stdout");
  make_symlink("/proc/self/fd/2", "dev/stderr");
  make_symlink("/proc/kcore", "dev/core");
  for (size_t i = 0; i < spec->devices.len; i++) make_device(spec->devices.items[i]);
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

static void pivot_into_cwd(void) {
  /* pivot_root(".", ".") stacks the old root on top of the new one; unmounting
   * it leaves the new root alone, without needing a directory for the old. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root into the container's root");
  if (umount2(".", MNT_DETACH) < 0) die_errno("detach the host's root");
  if (chdir("/") < 0) die_errno("chdir /");
}

void mounts_setup_rootfs(const struct container_spec *spec, bool tty_gid_mapped) {
  /* Nothing mounted here may propagate back to the host; a mount that asks
   * for slave or shared propagation needs the host's mounts to reach it. */
  volumes_check(spec);
  bool slave = volumes_need_slave_root(spec);
  if (mount(NULL, "/", NULL, MS_REC | (slave ? MS_SLAVE : MS_PRIVATE), NULL) < 0) die_errno("make / %s", slave ? "rslave" : "private");
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
  /* Device nodes on the root filesystem do not open: as root a container
   * holds CAP_MKNOD, and without a device cgroup a node it made for the
   * host's disk would read it. Devices it needs are bound in one by one. */
  if (mount(NULL, ".", NULL, MS_BIND | MS_REMOUNT | MS_NODEV | locked_flags("."), NULL) < 0)
    die_errno("remount the root filesystem nodev");

  mount_proc(spec);
  sysctl_apply(spec);
  mount_sys(spec);
  mount_dev(spec, tty_gid_mapped);
  int root = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die_errno("open the root filesystem %s", spec->rootfs);
  volumes_mount_all(spec, root);
  close(root);
  for (size_t i = 0; i < spec->masked.len; i++) mask_path(spec->masked.items[i]);
  for (size_t i = 0; i < spec->readonly.len; i++) readonly_path(spec->readonly.items[i]);
  /* --read-only: last, once every mount target exists; the mounts stay as they are. */
  if (spec->rootfs_readonly) remount_readonly(".");
  pivot_into_cwd();
}
