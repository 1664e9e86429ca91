/* The container's cgroups (cgroup.h). */
#include "cgroup.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *made_dir;

static void write_text(const char *dir, const char *file, const char *value, const char *what) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("%s: open %s", what, path);
  ssize_t n = write(fd, value, strlen(value));
  if (n < 0) die_errno("%s: write \"%s\" to %s", what, value, path);
  close(fd);
}

static void enter(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("open %s", path);
  if (write(fd, "0", 1) < 0) die_errno("move into the cgroup %s", dir);
  close(fd);
}

void cgroup_enter_all(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->cgroups.len; i++) enter(spec->cgroups.items[i]);
}

/* The helper's own cgroup in the v2 hierarchy mounted at root ("0::" line). */
static char *own_cgroup(const char *root) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (f == NULL) die_errno("open /proc/self/cgroup");
  char line[4096];
  char *dir = NULL;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "0::", 3) != 0) continue;
    line[strcspn(line, "\n")] = '\0';
    if (strstr(line + 3, "/..") != NULL) break;
    if (asprintf(&dir, "%s%s", root, strcmp(line + 3, "/") == 0 ? "" : line + 3) < 0) die(EXIT_SKIFF_FAILED, ENOMEM, "cgroup path");
    break;
  }
  fclose(f);
  if (dir == NULL) die(EXIT_SKIFF_FAILED, 0, "this process is in no cgroup of the v2 hierarchy at %s", root);
  return dir;
}

/* Moves every process of dir into dir/supervisor, so that dir may give
 * controllers to its children (cgroup v2's "no internal processes" rule).
 * Processes may fork meanwhile: repeat until none is left. */
static void move_processes_to_supervisor(const char *dir) {
  char supervisor[4096], procs[4096];
  snprintf(supervisor, sizeof supervisor, "%s/supervisor", dir);
  snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
  if (mkdir(supervisor, 0755) < 0 && errno != EEXIST) die_errno("create the cgroup %s", supervisor);
  for (int round = 0; round < 100; round++) {
    FILE *f = fopen(procs, "re");
    if (f == NULL) die_errno("open %s", procs);
    char pid[32];
    bool any = false;
    while (fgets(pid, sizeof pid, f) != NULL) {
      any = true;
      pid[strcspn(pid, "\n")] = '\0';
      char target[4200];
      snprintf(target, sizeof target, "%s/cgroup.procs", supervisor);
      int fd = open(target, O_WRONLY | O_CLOEXEC);
      if (fd < 0) die_errno("open %s", target);
      /* A process that exited meanwhile is gone (ESRCH): fine. */
      if (write(fd, pid, strlen(pid)) < 0 && errno != ESRCH) die_errno("move process %s into %s", pid, supervisor);
      close(fd);
    }
    fclose(f);
    if (!any) return;
  }
  die(EXIT_SKIFF_FAILED, 0, "the processes of %s kept forking: could not move them all into %s", dir, supervisor);
}

void cgroup_prepare_split(struct container_spec *spec) {
  if (spec->cgroup_split == NULL) return;
  char *parent = own_cgroup(spec->cgroup_root);
  /* A second skiff in the same unit runs in the supervisor cgroup the first made. */
  size_t len = strlen(parent);
  static const char suffix[] = "/supervisor";
  if (len > sizeof suffix - 1 && strcmp(parent + len - (sizeof suffix - 1), suffix) == 0)
    parent[len - (sizeof suffix - 1)] = '\0';
  else
    move_processes_to_supervisor(parent);
  for (size_t i = 0; i < spec->cgroup_enable.len; i++) {
    /* "?name": wanted for stats only; a parent that cannot give it is no error. */
    const char *name = spec->cgroup_enable.items[i];
    bool optional = name[0] == '?';
    char value[64];
    snprintf(value, sizeof value, "+%s", optional ? name + 1 : name);
    if (optional) {
      char path[4200];
      snprintf(path, sizeof path, "%s/cgroup.subtree_control", parent);
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        if (write(fd, value, strlen(value)) < 0) { /* not delegated here: no counters of it */
        }
        close(fd);
      }
      continue;
    }
    write_text(parent, "cgroup.subtree_control", value, "enable a controller for the container's cgroup");
  }
  char *dir;
  if (asprintf(&dir, "%s/%s", parent, spec->cgroup_split) < 0) die(EXIT_SKIFF_FAILED, ENOMEM, "cgroup path");
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) die_errno("create the container's cgroup %s", dir);
  for (size_t i = 0; i < spec->cgroup_writes.len; i++) {
    char entry[4096];
    snprintf(entry, sizeof entry, "%s", spec->cgroup_writes.items[i]);
    char *tab = strchr(entry, '\t');
    if (tab == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: bad cgroup_write \"%s\"", entry);
    *tab = '\0';
    write_text(dir, entry, tab + 1, "set a limit");
  }
  /* The list owns its strings through spec->buffer; this one lives as long as the process. */
  char **grown = realloc(spec->cgroups.items, (spec->cgroups.len + 2) * sizeof *grown);
  if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "cgroup list");
  spec->cgroups.items = grown;
  spec->cgroups.items[spec->cgroups.len++] = dir;
  spec->cgroups.items[spec->cgroups.len] = NULL;
  made_dir = dir;
  free(parent);
  report_cgroup(dir);
}

const char *cgroup_made(void) { return made_dir; }

/* "oom_kill N" in a flat keyed file; -1 when the file or the key is missing. */
static long read_oom_kill(const char *path) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  char line[256];
  long n = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "oom_kill ", 9) == 0) n = strtol(line + 9, NULL, 10);
  fclose(f);
  return n;
}

long cgroup_oom_kills(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->cgroups.len; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/memory.events", spec->cgroups.items[i]);
    long n = read_oom_kill(path);
    if (n >= 0) return n;
    snprintf(path, sizeof path, "%s/memory.oom_control", spec->cgroups.items[i]);
    n = read_oom_kill(path);
    if (n >= 0) return n;
  }
  return -1;
}
