/* Joining the namespaces of a running container's process (exec, cp). */
#include "join.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int join_open_ns(pid_t pid, const char *name) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) die(EXIT_SKIFF_FAILED, 0, "the container is not running (no process %d)", (int)pid);
    die_errno("open %s", path);
  }
  return fd;
}

void join_ns(int fd, int type, const char *name) {
  if (setns(fd, type) < 0) die_errno("setns into the container's %s namespace", name);
  close(fd);
}
