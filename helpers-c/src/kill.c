#include "kill.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long parse_positive(const char *what, const char *text) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno != 0 || v <= 0) die(EXIT_SKIFF_FAILED, 0, "kill: bad %s \"%s\"", what, text);
  return v;
}

noreturn void kill_main(const char *pid_text, const char *signal_text) {
  pid_t pid = (pid_t)parse_positive("pid", pid_text);
  int sig = (int)parse_positive("signal", signal_text);
  if (kill(pid, sig) == 0) _exit(0);
  if (errno == ESRCH) _exit(1);
  if (errno != EPERM) die_errno("kill %d", (int)pid);
  /* Not ours from outside: join the process's user namespace, where we are root. */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    if (errno == ENOENT) _exit(1);
    die_errno("open %s", path);
  }
  if (setns(ns, CLONE_NEWUSER) < 0) die_errno("setns into the user namespace of %d", (int)pid);
  if (kill(pid, sig) < 0) {
    if (errno == ESRCH) _exit(1);
    die_errno("kill %d", (int)pid);
  }
  _exit(0);
}
