#include "autoremove.h"
#include "event.h"
#include "protocol.h"
#include "report.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static _Noreturn void remove_in_child(const struct container_spec *spec, int userns, const struct string_list *roots) {
  report_demote();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  if (autoremove_in_userns(spec) && setns(userns, CLONE_NEWUSER) < 0) die_errno("setns into the container's user namespace");
  /* Each level of a deep tree holds its directory's fd. */
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  walk_remove_trees(roots);
  _exit(0);
}

/* Removes `roots` in a child process (autoremove.h); true when all are gone. */
static bool remove_trees(const struct container_spec *spec, int userns, const struct string_list *roots) {
  if (roots->len == 0) return true;
  if (autoremove_in_userns(spec) && userns < 0) return false;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t child = fork();
  if (child < 0) {
    report_debug("remove the container's files: fork: %m");
    return false;
  }
  if (child == 0) remove_in_child(spec, userns, roots);
  int status;
  pid_t done;
  while ((done = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  if (done < 0) {
    report_debug("remove the container's files: waitpid: %m");
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report_debug("the container's files were not all removed (status %d)", status);
    return false;
  }
  report_debug("removed the container's %zu trees in %ld ms", roots->len, elapsed_ms(&start));
  return true;
}

void autoremove_trees(const struct container_spec *spec, int userns) {
  if (spec->remove_trees.len > 0 && remove_trees(spec, userns, &spec->remove_trees)) report_removed(spec->remove_trees.len);
  if (userns >= 0) close(userns);
}

/* The link's target is the container's id: names/<name> -> <id>. */
static void remove_name_link(const char *link, const char *id) {
  char target[256];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return;
  target[n] = '\0';
  if (strcmp(target, id) == 0 && unlink(link) < 0 && errno != ENOENT) report_debug("remove %s: %m", link);
}

/* --cidfile: removed only while it still holds this container's id (a later run may have written its own). */
static void remove_cidfile(const char *path, const char *id) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  char text[128];
  ssize_t n;
  while ((n = read(fd, text, sizeof text - 1)) < 0 && errno == EINTR) {
  }
  close(fd);
  if (n < 0) return;
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\r')) n--;
  text[n] = '\0';
  if (strcmp(text, id) == 0 && unlink(path) < 0 && errno != ENOENT) report_debug("remove %s: %m", path);
}

bool autoremove_container(const struct container_spec *spec, int userns) {
  const char *dir = spec->autoremove_dir;
  const char *slash = strrchr(dir, '/');
  const char *id = slash + 1;
  if (autoremove_in_userns(spec) && userns < 0) return false;
  /* The trees that only the container's mapping may remove first, as a
   * foreground run's helper does: on a failure the container is still
   * whole, for on_exit's `skiff rm` to remove as it always did. */
  if (!remove_trees(spec, userns, &spec->remove_trees)) {
    if (userns >= 0) close(userns);
    return false;
  }
  char *trash = NULL;
  if (asprintf(&trash, "%.*s/.trash-%s-%d", (int)(slash - dir), dir, id, (int)getpid()) < 0) {
    if (userns >= 0) close(userns);
    return false;
  }
  /* From here on it is removed as `skiff rm` removes it (removeContainerFiles):
   * renamed aside, which ps and names stop seeing at once; a monitor killed
   * now leaves .trash-<id>-<pid>, which `container prune` removes. */
  if (rename(dir, trash) < 0) {
    bool gone = errno == ENOENT; /* `rm -f` from another shell removed it */
    if (!gone) report_debug("rename %s: %m", dir);
    free(trash);
    if (userns >= 0) close(userns);
    return gone;
  }
  event_append(spec, spec->event_remove_head, spec->event_remove_tail);
  if (spec->autoremove_name != NULL) remove_name_link(spec->autoremove_name, id);
  /* What is left is skiff's own files, removed in the same mapping: a file
   * the container could reach (its hosts, resolv.conf) may have been given
   * to one of its IDs. */
  char *roots_items[] = {trash, (char *)spec->autoremove_run_dir};
  struct string_list roots = {.items = roots_items, .len = spec->autoremove_run_dir != NULL ? 2 : 1};
  if (!remove_trees(spec, userns, &roots)) report_debug("%s is left for `skiff container prune`", trash);
  free(trash);
  if (userns >= 0) close(userns);
  if (spec->autoremove_cgroups)
    for (size_t i = 0; i < spec->cgroups.len; i++)
      if (rmdir(spec->cgroups.items[i]) < 0 && errno != ENOENT && errno != EBUSY) report_debug("rmdir %s: %m", spec->cgroups.items[i]);
  for (size_t i = 0; i < spec->autoremove_files.len; i++)
    if (unlink(spec->autoremove_files.items[i]) < 0 && errno != ENOENT) report_debug("remove %s: %m", spec->autoremove_files.items[i]);
  if (spec->autoremove_cidfile != NULL) remove_cidfile(spec->autoremove_cidfile, id);
  return true;
}
