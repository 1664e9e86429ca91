#include "idmap.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <stdnoreturn.h>
#include <unistd.h>

static void write_file(pid_t pid, const char *name, const char *content) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("open %s", path);
  size_t len = strlen(content);
  ssize_t n = write(fd, content, len);
  if (n < 0) die_errno("write %s", path);
  if ((size_t)n != len) die(EXIT_SKIFF_FAILED, 0, "write %s: short write", path);
  close(fd);
}

static void format_map(const struct id_range *ranges, size_t len, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < len && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%lu %lu %lu\n", ranges[i].inside, ranges[i].outside, ranges[i].count);
}

/* Starts newuidmap or newgidmap for pid; -1 when no tool is needed. */
static pid_t spawn_map_tool(const char *tool, pid_t pid, const struct id_range *ranges, size_t len) {
  char numbers[1 + MAX_ID_RANGES * 3][24];
  char *argv[2 + 1 + MAX_ID_RANGES * 3];
  size_t argc = 0;
  argv[argc++] = (char *)tool;
  snprintf(numbers[0], sizeof numbers[0], "%d", (int)pid);
  argv[argc++] = numbers[0];
  for (size_t i = 0; i < len; i++) {
    unsigned long values[3] = {ranges[i].inside, ranges[i].outside, ranges[i].count};
    for (size_t j = 0; j < 3; j++) {
      char *slot = numbers[1 + i * 3 + j];
      snprintf(slot, sizeof numbers[0], "%lu", values[j]);
      argv[argc++] = slot;
    }
  }
  argv[argc] = NULL;
  char *empty_env[] = {NULL};
  pid_t tool_pid;
  int err = posix_spawn(&tool_pid, tool, NULL, NULL, argv, empty_env);
  if (err != 0) die(EXIT_SKIFF_FAILED, err, "run %s (install the uidmap package; see 'skiff doctor')", tool);
  return tool_pid;
}

/* Whether the tool started by spawn_map_tool exited 0. */
static bool map_tool_ok(const char *tool, pid_t tool_pid) {
  int status;
  while (waitpid(tool_pid, &status, 0) < 0)
    if (errno != EINTR) die_errno("wait for %s", tool);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static noreturn void map_tool_failed(const char *tool, pid_t pid) {
  die(EXIT_SKIFF_FAILED, 0, "%s failed for pid %d: check your ranges in /etc/subuid and /etc/subgid (see 'skiff doctor')", tool, (int)pid);
}

static bool only_self(const struct id_range *ranges, size_t len, unsigned long self) {
  return len == 1 && ranges[0].outside == self && ranges[0].count == 1;
}

void idmap_write(pid_t child, const struct container_spec *spec) {
  char map[MAX_ID_RANGES * 64];
  bool root = geteuid() == 0;
  /* The two setuid tools run side by side: each writes its own file of the
   * child, and neither reads what the other writes. */
  pid_t gid_tool = -1, uid_tool = -1;
  bool gid_direct = root || only_self(spec->gid_map, spec->gid_map_len, getegid());
  bool uid_direct = root || only_self(spec->uid_map, spec->uid_map_len, geteuid());
  if (!gid_direct) {
    if (spec->newgidmap == NULL) die(EXIT_SKIFF_FAILED, 0, "newgidmap is needed for this mapping (install uidmap)");
    gid_tool = spawn_map_tool(spec->newgidmap, child, spec->gid_map, spec->gid_map_len);
  }
  if (!uid_direct) {
    if (spec->newuidmap == NULL) die(EXIT_SKIFF_FAILED, 0, "newuidmap is needed for this mapping (install uidmap)");
    uid_tool = spawn_map_tool(spec->newuidmap, child, spec->uid_map, spec->uid_map_len);
  }
  if (gid_direct) {
    /* An unprivileged writer must give up setgroups before writing gid_map. */
    if (!root) write_file(child, "setgroups", "deny");
    format_map(spec->gid_map, spec->gid_map_len, map, sizeof map);
    write_file(child, "gid_map", map);
  }
  if (uid_direct) {
    format_map(spec->uid_map, spec->uid_map_len, map, sizeof map);
    write_file(child, "uid_map", map);
  }
  bool gid_ok = gid_tool < 0 || map_tool_ok(spec->newgidmap, gid_tool);
  bool uid_ok = uid_tool < 0 || map_tool_ok(spec->newuidmap, uid_tool);
  if (!gid_ok) map_tool_failed(spec->newgidmap, child);
  if (!uid_ok) map_tool_failed(spec->newuidmap, child);
}
