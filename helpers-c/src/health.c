/* Healthchecks on a timer (health.h). */
#include "health.h"
#include "fds.h"
#include "protocol.h"
#include "report.h"
#include "timeout.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ms = (long long)(now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000L;
  return ms < 0 ? 0 : (unsigned long)ms;
}

/* Docker's rule: within the start period, until a check passes, the start interval. */
static unsigned long next_delay(const struct health *h) {
  const struct container_spec *spec = h->spec;
  bool in_start = !h->passed && spec->health_start_period_ms > 0 && elapsed_ms(&h->started) < spec->health_start_period_ms;
  if (in_start && spec->health_start_interval_ms > 0) return spec->health_start_interval_ms;
  return spec->health_interval_ms;
}

static void arm(struct health *h) {
  if (h->timer_fd >= 0) close(h->timer_fd);
  h->timer_fd = timeout_arm_ms(next_delay(h));
}

void health_start(struct health *h, const struct container_spec *spec, const sigset_t *child_mask) {
  health_stop(h);
  *h = HEALTH_NONE;
  if (spec->health_interval_ms == 0 || spec->health_cmd.len == 0) return;
  h->spec = spec;
  h->child_mask = *child_mask;
  clock_gettime(CLOCK_MONOTONIC, &h->started);
  arm(h);
}

void health_fire(struct health *h) {
  uint64_t expirations;
  while (read(h->timer_fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  close(h->timer_fd);
  h->timer_fd = -1;
  if (h->pid > 0) return; /* not armed while one runs; a stale expiry is dropped */
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    warn_user("fork a healthcheck: %s: the next one is tried after the interval", strerror(errno));
    arm(h);
    return;
  }
  if (pid == 0) {
    /* Dies with the monitor (or a foreground run's helper), kill -9 included. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) _exit(EXIT_SKIFF_FAILED);
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) _exit(EXIT_SKIFF_FAILED);
    for (int fd = 0; fd <= 2; fd++) dup2(null, fd);
    fds_close_except(NULL, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    sigprocmask(SIG_SETMASK, &h->child_mask, NULL);
    execv(h->spec->health_cmd.items[0], h->spec->health_cmd.items);
    _exit(127);
  }
  h->pid = pid;
}

bool health_reaped(struct health *h, pid_t pid, int status) {
  if (h->pid <= 0 || pid != h->pid) return false;
  h->pid = 0;
  h->passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  arm(h);
  return true;
}

void health_stop(struct health *h) {
  if (h->timer_fd >= 0) close(h->timer_fd);
  h->timer_fd = -1;
  if (h->pid > 0) {
    kill(h->pid, SIGKILL);
    while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  h->pid = 0;
}
