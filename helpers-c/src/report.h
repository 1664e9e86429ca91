/* Errors and warnings as report frames to the TypeScript side (protocol.h).
 * When no report fd is set (e.g. the helper run by hand) they go to stderr. */
#ifndef SKIFF_REPORT_H
#define SKIFF_REPORT_H

#include <stdbool.h>
#include <stdnoreturn.h>

/* Exit codes shared with Docker: see lib/errors.ts. */
#define EXIT_SKIFF_FAILED 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

void report_set_fd(int fd);
int report_fd(void);

/* The container's first process, until it execs: die() also sends
 * SYNC_FAILED (sync.h) on this socket, so the helper knows the exec did not
 * happen (the socket's EOF alone means "exec'd or died"). -1: none. */
void report_set_failure_sock(int sock);
int report_failure_sock(void);

/* "error<TAB>code<TAB>message[: strerror(errnum)]" then _exit(code). errnum 0: no suffix. */
noreturn void die(int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same as die() with errno and exit 125: for a failing system call. */
#define die_errno(...) die(EXIT_SKIFF_FAILED, errno, __VA_ARGS__)

void warn_user(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A debug line (what the helper did: its mode, each mount it made), sent only
 * when skiff runs with --log-level debug (SKIFF_LOG_LEVEL=debug). */
void report_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_pid(int pid);
void report_monitor(int pid);
/* The cgroup directory the helper made for the container (cgroup_split). */
void report_cgroup(const char *dir);
/* A foreground run's end: whether the OOM killer killed in its cgroup. */
void report_oom(bool killed);
/* run --rm: every remove_tree is gone (autoremove.h). */
void report_removed(unsigned long trees);
/* A foreground run's end, before the network program is reaped: the
 * container's exit status, final (the helper exits with it once the
 * program is gone). */
void report_exited(int code);
/* From here on die() and warn_user() report debug lines only: a process
 * whose failure the caller recovers from (autoremove.c) says why in the
 * debug log, never as the run's error. */
void report_demote(void);
/* cp: the bytes of file data copied. */
void report_copied(unsigned long long bytes);

#endif
