#include "report.h"
#include "io.h"
#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The fd reports go to; -1 until report_set_fd(). Set once at start-up. */
static int report_out = -1;

void report_set_fd(int fd) { report_out = fd; }
int report_fd(void) { return report_out; }

static int failure_sock = -1;

void report_set_failure_sock(int sock) { failure_sock = sock; }
int report_failure_sock(void) { return failure_sock; }

static void sanitize(char *s) {
  for (; *s; s++)
    if (*s == '\t' || *s == '\n') *s = ' ';
}

/* A failed write is dropped: there is nowhere left to report it to. */
static void write_line(int fd, const char *line, int n, size_t size) {
  (void)io_write_all(fd, line, (size_t)n < size ? (size_t)n : size - 1);
}

/* report_demote(): errors and warnings become debug lines. */
static bool demoted;

void report_demote(void) { demoted = true; }

static void emit(const char *kind, int code, const char *message) {
  if (demoted && (strcmp(kind, "error") == 0 || strcmp(kind, "warning") == 0)) {
    kind = "debug";
    code = -1;
  }
  char line[4096];
  char text[3800];
  snprintf(text, sizeof text, "%s", message);
  sanitize(text);
  int n;
  if (report_out < 0) {
    const char *prefix = strcmp(kind, "warning") == 0 ? "warning: " : strcmp(kind, "debug") == 0 ? "debug: " : "";
    n = snprintf(line, sizeof line, "skiff-helper: %s%s\n", prefix, text);
    write_line(STDERR_FILENO, line, n, sizeof line);
    return;
  }
  if (code >= 0)
    n = snprintf(line, sizeof line, "%s\t%d\t%s\n", kind, code, text);
  else
    n = snprintf(line, sizeof line, "%s\t%s\n", kind, text);
  write_line(report_out, line, n, sizeof line);
}

noreturn void die(int code, int errnum, const char *fmt, ...) {
  char message[3000];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (errnum != 0 && n >= 0 && (size_t)n < sizeof message)
    snprintf(message + n, sizeof message - (size_t)n, ": %s", strerror(errnum));
  emit("error", code, message);
  if (failure_sock >= 0) {
    char failed = SYNC_FAILED;
    (void)send(failure_sock, &failed, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  _exit(code);
}

void warn_user(const char *fmt, ...) {
  char message[3000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  emit("warning", -1, message);
}

/* Read once: the environment is the helper's own, never the container's. */
static int debug_on = -1;

void report_debug(const char *fmt, ...) {
  if (debug_on < 0) {
    const char *level = getenv("SKIFF_LOG_LEVEL");
    debug_on = level != NULL && strcmp(level, "debug") == 0;
  }
  if (!debug_on) return;
  char message[3000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  emit("debug", -1, message);
}

void report_pid(int pid) {
  char message[32];
  snprintf(message, sizeof message, "%d", pid);
  emit("pid", -1, message);
}

void report_monitor(int pid) {
  char message[32];
  snprintf(message, sizeof message, "%d", pid);
  emit("monitor", -1, message);
}

void report_copied(unsigned long long bytes) {
  char message[32];
  snprintf(message, sizeof message, "%llu", bytes);
  emit("copied", -1, message);
}

void report_cgroup(const char *dir) { emit("cgroup", -1, dir); }

void report_removed(unsigned long trees) {
  char message[32];
  snprintf(message, sizeof message, "%lu", trees);
  emit("removed", -1, message);
}

void report_exited(int code) {
  char message[32];
  snprintf(message, sizeof message, "%d", code);
  emit("exited", -1, message);
}

void report_oom(bool killed) { emit("oom", -1, killed ? "1" : "0"); }
