#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The rotation below is lib/events/log.ts's rotate(), step for step: the
 * protocol every writer of the log follows is written down once, in
 * docs/commands/events.md ("Rotation"). Change both or neither. */

/* A lock that names no writer this process can check is broken after this long (log.ts's STALE_LOCK_MS). */
#define EVENT_STALE_LOCK_NS (10000LL * 1000000LL)

/* How long ago `st` was last modified, by the wall clock (as Date.now() - mtimeMs). */
static long long age_ns(const struct stat *st) {
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) < 0) return 0;
  return ((long long)now.tv_sec - (long long)st->st_mtim.tv_sec) * 1000000000LL + (now.tv_nsec - st->st_mtim.tv_nsec);
}

/* When process `pid` (0: this one) started, as /proc/PID/stat's 22nd field
 * (clock ticks after boot) into `out`; false when there is no such process. */
static bool process_start(pid_t pid, char *out, size_t size) {
  char path[64], buf[1024];
  if (pid == 0) snprintf(path, sizeof path, "/proc/self/stat");
  else snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (p == NULL) return false;
  p += 2; /* the state, the 3rd field */
  for (int field = 3; field < 22 && p != NULL; field++) {
    p = strchr(p, ' ');
    if (p != NULL) p++;
  }
  if (p == NULL) return false;
  size_t len = strcspn(p, " ");
  if (len == 0 || len >= size) return false;
  memcpy(out, p, len);
  out[len] = '\0';
  return true;
}

/* This process's PID namespace, by its inode ("0" when unknown). */
static void pid_namespace(char *out, size_t size) {
  char link[64];
  ssize_t n = readlink("/proc/self/ns/pid", link, sizeof link - 1);
  unsigned long long ino = 0;
  if (n > 0) {
    link[n] = '\0';
    if (sscanf(link, "pid:[%llu]", &ino) != 1) ino = 0;
  }
  snprintf(out, size, "%llu", ino);
}

/* Whose lock it is: "PID START PIDNS\n", written into the lock this writer
 * made (log.ts's lockOwner); a failed write leaves it empty (the age rule). */
static void write_lock_owner(int fd) {
  char start[32] = "0", ns[32], line[128];
  if (!process_start(0, start, sizeof start)) strcpy(start, "0");
  pid_namespace(ns, sizeof ns);
  int n = snprintf(line, sizeof line, "%d %s %s\n", (int)getpid(), start, ns);
  if (n > 0 && (size_t)n < sizeof line) (void)!write(fd, line, (size_t)n);
}

/* Another writer rotates now (or is stopped while it does: it keeps its
 * lock): this one does not. A lock left behind by a gone writer is removed,
 * for the next writer past half the limit to take (log.ts's
 * breakStaleLock): one that names a process in this PID namespace when
 * that process has ended or is another one since (its start differs),
 * however old; one that names none this process can check (empty, another
 * namespace's) when older than EVENT_STALE_LOCK_NS. Only the lock read: the
 * descriptor holds its inode while the path is checked against it. */
static int break_stale_lock(const char *lock) {
  int fd = open(lock, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -1; /* ENOENT: gone meanwhile */
  struct stat st, now_at_path;
  char text[128];
  ssize_t n = fstat(fd, &st) < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (n < 0) {
    close(fd);
    return -1;
  }
  text[n] = '\0';
  bool stale = age_ns(&st) > EVENT_STALE_LOCK_NS;
  int pid;
  char start[32], ns[32], mine[32], end;
  pid_namespace(mine, sizeof mine);
  if (sscanf(text, "%d %31[0-9] %31[0-9]%c", &pid, start, ns, &end) == 4 && end == '\n' && pid > 0 && strcmp(ns, mine) == 0 && strcmp(start, "0") != 0) {
    char started[32];
    stale = !process_start((pid_t)pid, started, sizeof started) || strcmp(started, start) != 0;
  }
  int r = 0;
  if (stale && stat(lock, &now_at_path) == 0 && now_at_path.st_ino == st.st_ino && now_at_path.st_dev == st.st_dev && unlink(lock) < 0 && errno != ENOENT) r = -1;
  close(fd);
  return r;
}

/* Under the lock: renames the log to its older half only if it is still the
 * file this writer appended to (`ino`) and still past half the limit:
 * another writer may have rotated between this one's fstat and its lock. */
static int rotate_locked(const char *log, ino_t ino, unsigned long max) {
  struct stat st;
  if (stat(log, &st) < 0) return errno == ENOENT ? 0 : -1; /* ENOENT: rotated, and no event since */
  if (st.st_ino != ino || st.st_size <= (off_t)(max / 2)) return 0;
  char *rotated = NULL;
  if (asprintf(&rotated, "%s.1", log) < 0) return -1;
  int r = rename(log, rotated);
  free(rotated);
  return r;
}

/* Past half the limit: LOG.lock, made with O_EXCL, is the lock; the writer
 * that makes it rotates, one that finds it there goes on. The lock is
 * removed whatever the rotation did (a failed one leaves the log whole, for
 * the next writer past half the limit to try again). */
static int rotate(const char *log, ino_t ino, unsigned long max) {
  char *lock = NULL;
  if (asprintf(&lock, "%s.lock", log) < 0) return -1;
  int r;
  int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    r = errno == EEXIST ? break_stale_lock(lock) : -1;
  } else {
    write_lock_owner(fd);
    r = rotate_locked(log, ino, max);
    if (close(fd) < 0) r = -1;
    if (unlink(lock) < 0) r = -1; /* left for the stale-lock rule to break */
  }
  free(lock);
  return r;
}

/* The log's directory and its missing parents, mode 0700 (log.ts's
 * mkdirSync(..., { recursive: true, mode: 0o700 })). 0, or -1 with errno. */
static int make_log_dir(const char *log) {
  char *dir = strdup(log);
  if (dir == NULL) return -1;
  int r = 0;
  /* Each ancestor of the log, outermost first: the path up to each '/' after the first. */
  for (char *p = strchr(dir + 1, '/'); p != NULL && r == 0; p = strchr(p + 1, '/')) {
    *p = '\0';
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) r = -1;
    *p = '/';
  }
  free(dir);
  return r;
}

/* The log, opened to append; its directory made when missing (the runtime
 * directory is emptied at boot: the first event after, a stored container's
 * start, is the monitor's). */
static int open_log(const char *log) {
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0 || errno != ENOENT || make_log_dir(log) < 0) return fd;
  return open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

/* One write(2) of the whole line on an O_APPEND fd; then, past half the
 * limit, the rotation, while the fd still holds the file it appended to.
 * 0, or -1 with errno. */
static int append_line(const char *log, const char *line, size_t len, unsigned long max) {
  int fd = open_log(log);
  if (fd < 0) return -1;
  ssize_t n;
  while ((n = write(fd, line, len)) < 0 && errno == EINTR) {
  }
  int r = -1;
  struct stat st;
  /* A short write (a full disk) rotates nothing, as log.ts's throws before its fstat. */
  if (n == (ssize_t)len && fstat(fd, &st) == 0) r = st.st_size > (off_t)(max / 2) ? rotate(log, st.st_ino, max) : 0;
  if (close(fd) < 0) r = -1;
  return r;
}

void event_append(const struct container_spec *spec, const char *head, const char *tail) {
  if (spec->event_log == NULL || head == NULL || tail == NULL) return;
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) < 0) return;
  char *line = NULL;
  int len = asprintf(&line, "%s,\"time\":%lld,\"timeNano\":%lld%09ld%s\n", head, (long long)now.tv_sec, (long long)now.tv_sec, now.tv_nsec, tail);
  if (len < 0) return;
  /* Nowhere to say it fails (event.h): the monitor's stderr is /dev/null. */
  (void)append_line(spec->event_log, line, (size_t)len, spec->event_log_max);
  free(line);
}

void event_append_lines(const struct container_spec *spec, const struct string_list *heads, const struct string_list *tails) {
  for (size_t i = 0; i < heads->len && i < tails->len; i++) event_append(spec, heads->items[i], tails->items[i]);
}

void event_log_started(const struct container_spec *spec) {
  event_append_lines(spec, &spec->event_started_heads, &spec->event_started_tails);
}
