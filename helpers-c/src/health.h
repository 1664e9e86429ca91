/* Healthchecks on a timer (docs/how-it-works.md "Healthchecks"): the monitor
 * of a detached container, and a foreground run's helper, fork the spec's
 * health_cmd (`skiff healthcheck run ID`) on the interval, as Podman's
 * systemd timer runs `podman healthcheck run`. skiff does the check and
 * keeps its state; the helper only keeps time. One check at a time: the
 * next interval starts when a check has ended (Docker's rule). The check
 * dies with its parent (PR_SET_PDEATHSIG), so no check outlives the helper
 * or monitor, and health_stop ends it with the container. */
#ifndef SKIFF_HEALTH_H
#define SKIFF_HEALTH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct container_spec;

struct health {
  const struct container_spec *spec;
  int timer_fd;             /* poll it; -1 without a timer */
  pid_t pid;                /* the check running now, 0 when none */
  struct timespec started;  /* CLOCK_MONOTONIC at this start of the container */
  bool passed;              /* the last check passed: the start interval is over */
  sigset_t child_mask;      /* the signal mask a check starts with */
};

/* No timer: health_* do nothing. */
#define HEALTH_NONE ((struct health){.spec = NULL, .timer_fd = -1, .pid = 0})

/* At each start of the container: the first check is due after the
 * interval (the start interval within the start period). */
void health_start(struct health *h, const struct container_spec *spec, const sigset_t *child_mask);

/* timer_fd is readable: starts the check. */
void health_fire(struct health *h);

/* A child was reaped: true when it was the check (the next one is then
 * timed; status 0 is a passing check). */
bool health_reaped(struct health *h, pid_t pid, int status);

/* The container ended: the running check is killed and reaped, the timer closed. */
void health_stop(struct health *h);

#endif
