#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void event_append(const char *log, const char *head, const char *tail) {
  if (log == NULL || head == NULL || tail == NULL) return;
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) < 0) return;
  char *line = NULL;
  int len = asprintf(&line, "%s,\"time\":%lld,\"timeNano\":%lld%09ld%s\n", head, (long long)now.tv_sec, (long long)now.tv_sec, now.tv_nsec, tail);
  if (len < 0) return;
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ssize_t n;
    while ((n = write(fd, line, (size_t)len)) < 0 && errno == EINTR) {
    }
    close(fd);
  }
  free(line);
}

void event_append_lines(const char *log, const struct string_list *heads, const struct string_list *tails) {
  for (size_t i = 0; i < heads->len && i < tails->len; i++) event_append(log, heads->items[i], tails->items[i]);
}

void event_log_started(const struct container_spec *spec) {
  event_append_lines(spec->event_log, &spec->event_started_heads, &spec->event_started_tails);
}
