#include "shared_ns.h"
#include "join.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* setns refuses the namespace a process is already in (a restart under the
 * monitor joins again): compare first. */
static bool already_in(pid_t pid, const char *name) {
  char self[64], other[64];
  snprintf(self, sizeof self, "/proc/self/ns/%s", name);
  snprintf(other, sizeof other, "/proc/%d/ns/%s", (int)pid, name);
  struct stat a, b;
  return stat(self, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void shared_ns_join_user(const struct container_spec *spec) {
  if (spec->user_join > 0 && !already_in(spec->user_join, "user")) join_ns(join_open_ns(spec->user_join, "user"), CLONE_NEWUSER, "user");
}

void shared_ns_join_pid(const struct container_spec *spec) {
  if (spec->pid_join > 0 && !already_in(spec->pid_join, "pid_for_children"))
    join_ns(join_open_ns(spec->pid_join, "pid"), CLONE_NEWPID, "PID");
}

void shared_ns_join_in_child(const struct container_spec *spec) {
  if (spec->ipc_join > 0) join_ns(join_open_ns(spec->ipc_join, "ipc"), CLONE_NEWIPC, "IPC");
}

unsigned long shared_ns_clone_flags(const struct container_spec *spec) {
  unsigned long flags = 0;
  if (!spec->pid_host && spec->pid_join == 0) flags |= CLONE_NEWPID;
  if (!spec->uts_host) flags |= CLONE_NEWUTS;
  if (!spec->ipc_host && spec->ipc_join == 0) flags |= CLONE_NEWIPC;
  return flags;
}

void shared_ns_mount_shm(const struct container_spec *spec, const char *target) {
  int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (self < 0) die_errno("open /proc/self/ns/mnt");
  join_ns(join_open_ns(spec->ipc_join, "mnt"), CLONE_NEWNS, "mount");
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/dev/shm", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die_errno("open_tree /dev/shm of the container whose IPC namespace is joined");
  join_ns(self, CLONE_NEWNS, "own mount");
  if (chdir(spec->rootfs) < 0) die_errno("chdir %s", spec->rootfs);
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_errno("mount the shared /dev/shm");
  close(tree);
}
