#ifndef SKIFF_LOGFILE_H
#define SKIFF_LOGFILE_H

#include <stddef.h>

/* A container log in the k8s-file format Podman uses:
 *   2026-11-30T17:00:00.123456789Z stdout F a whole line
 *   2026-11-30T17:00:00.123456789Z stderr P a partial line (continued by the next record)
 * rotated to PATH.1 when it grows past max bytes. */
struct logfile {
  const char *path;
  unsigned long max;
  int fd;
  unsigned long size;
};

void logfile_open(struct logfile *log, const char *path, unsigned long max);
void logfile_write(struct logfile *log, const char *stream, const char *data, size_t len);

/* RFC 3339 with nanoseconds, UTC, into buf (at least 40 bytes). */
void format_now(char *buf, size_t size);

#endif
