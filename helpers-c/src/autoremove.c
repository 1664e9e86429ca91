#include "autoremove.h"
#include "protocol.h"
#include "report.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool autoremove_in_userns(const struct container_spec *spec) { return spec->userns && geteuid() != 0; }

int container_userns_open(pid_t child) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  /* Not a reason to fail the run: skiff then removes the files itself. */
  if (fd < 0) report_debug("open %s: %m: the container's files are left to skiff", path);
  return fd;
}

static long elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* The child: enters the namespace, removes, exits 0; any failure dies with
 * a debug line (report_demote) and a non-zero status. */
static _Noreturn void remove_in_child(const struct container_spec *spec, int userns) {
  report_demote();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  if (autoremove_in_userns(spec) && setns(userns, CLONE_NEWUSER) < 0) die_errno("setns into the container's user namespace");
  /* Each level of a deep tree holds its directory's fd. */
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  walk_remove_trees(&spec->remove_trees);
  _exit(0);
}

void autoremove_trees(const struct container_spec *spec, int userns) {
  if (spec->remove_trees.len == 0 || (autoremove_in_userns(spec) && userns < 0)) return;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t child = fork();
  if (child < 0) {
    report_debug("remove the container's files: fork: %m");
  } else if (child == 0) {
    remove_in_child(spec, userns);
  } else {
    int status;
    pid_t done;
    while ((done = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
    }
    if (done < 0) report_debug("remove the container's files: waitpid: %m");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      report_debug("removed the container's %zu trees in %ld ms", spec->remove_trees.len, elapsed_ms(&start));
      report_removed(spec->remove_trees.len);
    } else {
      report_debug("the container's files were not all removed (status %d)", status);
    }
  }
  if (userns >= 0) close(userns);
}
