#include "logfile.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void format_now(char *buf, size_t size) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm tm;
  gmtime_r(&now.tv_sec, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%09ldZ", date, now.tv_nsec);
}

void logfile_open(struct logfile *log, const char *path, unsigned long max) {
  log->path = path;
  log->max = max;
  log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log->fd < 0) die_errno("open the container log %s", path);
  struct stat st;
  log->size = fstat(log->fd, &st) == 0 ? (unsigned long)st.st_size : 0;
}

static void rotate(struct logfile *log) {
  char rotated[4096];
  snprintf(rotated, sizeof rotated, "%s.1", log->path);
  close(log->fd);
  /* A failed rename keeps the old log growing rather than losing output. */
  if (rename(log->path, rotated) < 0) warn_user("rotate %s: %s", log->path, strerror(errno));
  logfile_open(log, log->path, log->max);
}

static void write_record(struct logfile *log, const char *stream, char kind, const char *data, size_t len) {
  char stamp[48];
  format_now(stamp, sizeof stamp);
  char head[80];
  int head_len = snprintf(head, sizeof head, "%s %s %c ", stamp, stream, kind);
  struct part {
    const void *base;
    size_t len;
  } parts[3] = {{head, (size_t)head_len}, {data, len}, {"\n", 1}};
  for (int i = 0; i < 3; i++) {
    const char *p = parts[i].base;
    size_t left = parts[i].len;
    while (left > 0) {
      ssize_t n = write(log->fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return; /* a full disk loses log lines, never the container */
      }
      p += n;
      left -= (size_t)n;
      log->size += (unsigned long)n;
    }
  }
}

void logfile_write(struct logfile *log, const char *stream, const char *data, size_t len) {
  if (log->fd < 0) return; /* --log-driver none */
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    if (nl == NULL) {
      write_record(log, stream, 'P', data, len);
      break;
    }
    write_record(log, stream, 'F', data, (size_t)(nl - data));
    len -= (size_t)(nl - data) + 1;
    data = nl + 1;
  }
  if (log->size > log->max) rotate(log);
}
