/* --timeout (timeout.h). */
#include "timeout.h"
#include "report.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

int timeout_arm(unsigned long seconds) {
  if (seconds == 0) return -1;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (fd < 0) die_errno("timerfd_create for --timeout");
  struct itimerspec when = {.it_value = {.tv_sec = (time_t)seconds}};
  if (timerfd_settime(fd, 0, &when, NULL) < 0) die_errno("timerfd_settime(%lu s) for --timeout", seconds);
  return fd;
}

int timeout_expire(int fd, pid_t pid) {
  uint64_t expirations;
  while (read(fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  close(fd);
  if (kill(pid, SIGKILL) < 0 && errno != ESRCH) die_errno("kill the container (%d) at its --timeout", (int)pid);
  return -1;
}
