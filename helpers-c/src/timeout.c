/* --timeout (timeout.h). */
#include "timeout.h"
#include "report.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

int timeout_arm_ms(unsigned long ms) {
  if (ms == 0) return -1;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (fd < 0) die_errno("timerfd_create for a timeout");
  struct itimerspec when = {.it_value = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L}};
  if (timerfd_settime(fd, 0, &when, NULL) < 0) die_errno("timerfd_settime(%lu ms) for a timeout", ms);
  return fd;
}

int timeout_arm(unsigned long seconds) {
  return timeout_arm_ms(seconds * 1000UL);
}

int timeout_expire(int fd, pid_t pid, bool group) {
  uint64_t expirations;
  while (read(fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  close(fd);
  if (group && kill(-pid, SIGKILL) == 0) return -1;
  if (kill(pid, SIGKILL) < 0 && errno != ESRCH) die_errno("kill the process (%d) at its timeout", (int)pid);
  return -1;
}
