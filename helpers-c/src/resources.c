/* rlimits and oom_score_adj (resources.h). */
#include "resources.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},     {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static rlim_t parse_limit(const char *text, const char *entry) {
  char *end;
  errno = 0;
  long long n = strtoll(text, &end, 10);
  if ((*end != '\0' && *end != ' ') || errno != 0 || n < -1) die(EXIT_SKIFF_FAILED, 0, "spec: bad rlimit \"%s\"", entry);
  return n == -1 ? RLIM_INFINITY : (rlim_t)n;
}

static void show(char *buf, size_t size, rlim_t v) {
  if (v == RLIM_INFINITY)
    snprintf(buf, size, "unlimited");
  else
    snprintf(buf, size, "%llu", (unsigned long long)v);
}

void resources_set_rlimits(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->rlimits.len; i++) {
    const char *entry = spec->rlimits.items[i];
    const char *space = strchr(entry, ' ');
    if (space == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: bad rlimit \"%s\"", entry);
    size_t name_len = (size_t)(space - entry);
    int resource = -1;
    for (size_t k = 0; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
      if (strlen(rlimit_names[k].name) == name_len && strncmp(rlimit_names[k].name, entry, name_len) == 0) resource = rlimit_names[k].resource;
    if (resource < 0) die(EXIT_SKIFF_FAILED, 0, "spec: unknown rlimit \"%.*s\"", (int)name_len, entry);
    const char *hard_text = strchr(space + 1, ' ');
    if (hard_text == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: bad rlimit \"%s\"", entry);
    struct rlimit limit = {.rlim_cur = parse_limit(space + 1, entry), .rlim_max = parse_limit(hard_text + 1, entry)};
    if (setrlimit(resource, &limit) < 0) {
      int err = errno;
      struct rlimit now;
      char have[32] = "?", want[32];
      if (getrlimit(resource, &now) == 0) show(have, sizeof have, now.rlim_max);
      show(want, sizeof want, limit.rlim_max);
      /* Named as --ulimit names it: "nofile" for RLIMIT_NOFILE. */
      char flag[32];
      size_t n = 0;
      for (size_t k = 7; k < name_len && n + 1 < sizeof flag; k++) flag[n++] = (char)(entry[k] | 0x20);
      flag[n] = '\0';
      if (err == EPERM)
        die(EXIT_SKIFF_FAILED, 0, "--ulimit %s: the hard limit %s is above yours (%s), and raising it needs CAP_SYS_RESOURCE on the host",
            flag, want, have);
      die(EXIT_SKIFF_FAILED, err, "setrlimit %.*s", (int)name_len, entry);
    }
  }
}

void resources_set_oom_score_adj(const struct container_spec *spec) {
  if (!spec->oom_score_adj_set) return;
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("open /proc/self/oom_score_adj");
  char value[16];
  int n = snprintf(value, sizeof value, "%d", spec->oom_score_adj);
  if (write(fd, value, (size_t)n) < 0) {
    int err = errno;
    char now[16] = "?";
    int cur = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    if (cur >= 0) {
      ssize_t got = read(cur, now, sizeof now - 1);
      now[got > 0 ? got : 0] = '\0';
      now[strcspn(now, "\n")] = '\0';
      close(cur);
    }
    if (err == EACCES || err == EPERM)
      die(EXIT_SKIFF_FAILED, 0, "--oom-score-adj %d: setting it below the current value (%s) needs CAP_SYS_RESOURCE on the host (root)", spec->oom_score_adj, now);
    die(EXIT_SKIFF_FAILED, err, "write %d to /proc/self/oom_score_adj", spec->oom_score_adj);
  }
  close(fd);
}
