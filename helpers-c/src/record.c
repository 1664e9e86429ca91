#include "record.h"
#include "logfile.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Returns 0, or the errno that kept the file from being replaced. */
static int write_file_atomically(const char *path, const char *content, mode_t mode) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  size_t len = strlen(content);
  ssize_t written = write(fd, content, len);
  int err = written < 0 ? errno : (size_t)written != len ? ENOSPC : fsync(fd) < 0 ? errno : 0;
  close(fd);
  /* On a full disk the old file stays whole: rename only a complete one. */
  if (err == 0 && rename(tmp, path) < 0) err = errno;
  if (err != 0) unlink(tmp);
  return err;
}

/* A path as a JSON string's contents: quotes and backslashes escaped, control characters dropped. */
static void json_escape(char *out, size_t size, const char *in) {
  size_t o = 0;
  for (; *in && o + 2 < size; in++) {
    if ((unsigned char)*in < 0x20) continue;
    if (*in == '"' || *in == '\\') out[o++] = '\\';
    out[o++] = *in;
  }
  out[o] = '\0';
}

int record_start(const char *path, pid_t pid, pid_t monitor, const char *started_at, unsigned restarts, const char *cgroup) {
  char json[8800], escaped[8192] = "";
  if (cgroup != NULL) json_escape(escaped, sizeof escaped, cgroup);
  snprintf(json, sizeof json, "{\"Pid\":%d,\"MonitorPid\":%d,\"StartedAt\":\"%s\",\"RestartCount\":%u%s%s%s}\n", (int)pid,
           (int)monitor, started_at, restarts, cgroup != NULL ? ",\"Cgroup\":\"" : "", escaped, cgroup != NULL ? "\"" : "");
  return write_file_atomically(path, json, 0600);
}

void record_exit(const char *path, int code, const char *started_at, unsigned restarts, bool oom_killed) {
  char finished[48], json[360];
  format_now(finished, sizeof finished);
  snprintf(json, sizeof json, "{\"ExitCode\":%d,\"StartedAt\":\"%s\",\"FinishedAt\":\"%s\",\"RestartCount\":%u%s}\n", code,
           started_at, finished, restarts, oom_killed ? ",\"OOMKilled\":true" : "");
  int err = write_file_atomically(path, json, 0600);
  if (err != 0) warn_user("record the exit in %s: %s", path, strerror(err));
}

int record_pid_text(const char *path, pid_t pid) {
  if (path == NULL) return 0;
  char text[24];
  snprintf(text, sizeof text, "%d\n", (int)pid);
  return write_file_atomically(path, text, 0644);
}

void record_network_fallback(const char *path, bool fell_back) {
  if (path == NULL) return;
  int err = 0;
  if (fell_back) err = write_file_atomically(path, "slirp4netns\n", 0644);
  else if (unlink(path) < 0 && errno != ENOENT) err = errno;
  if (err != 0) warn_user("record the container's network program in %s: %s", path, strerror(err));
}
