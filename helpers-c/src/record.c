#include "record.h"
#include "logfile.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_file_atomically(const char *path, const char *content) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    warn_user("write %s: %s", tmp, strerror(errno));
    return;
  }
  size_t len = strlen(content);
  bool ok = write(fd, content, len) == (ssize_t)len && fsync(fd) == 0;
  close(fd);
  /* On a full disk the old file stays whole: rename only a complete one. */
  if (!ok || rename(tmp, path) < 0) {
    warn_user("write %s: %s", path, strerror(ok ? errno : ENOSPC));
    unlink(tmp);
  }
}

void record_start(const char *path, pid_t pid, pid_t monitor, const char *started_at, unsigned restarts) {
  char json[256];
  snprintf(json, sizeof json, "{\"Pid\":%d,\"MonitorPid\":%d,\"StartedAt\":\"%s\",\"RestartCount\":%u}\n", (int)pid,
           (int)monitor, started_at, restarts);
  write_file_atomically(path, json);
}

void record_exit(const char *path, int code, const char *started_at, unsigned restarts) {
  char finished[48], json[320];
  format_now(finished, sizeof finished);
  snprintf(json, sizeof json, "{\"ExitCode\":%d,\"StartedAt\":\"%s\",\"FinishedAt\":\"%s\",\"RestartCount\":%u}\n", code,
           started_at, finished, restarts);
  write_file_atomically(path, json);
}
