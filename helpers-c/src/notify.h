/* sd_notify for containers run by systemd units (run --sdnotify), as
 * Podman's conmon and crun do it.
 *
 *   conmon:    once the container has started, the helper sends READY=1 to
 *              the unit's NOTIFY_SOCKET, with MAINPID=<the monitor> for a
 *              detached container (a foreground run's main pid is skiff).
 *   container: the helper binds a datagram socket (notify_proxy) whose
 *              directory the container sees at /run/notify; what the
 *              container sends there is passed on to NOTIFY_SOCKET, its
 *              MAINPID dropped (a pid of its own namespace, meaningless to
 *              systemd) and the monitor's given with READY=1. A detached
 *              run reports its end to skiff only after READY=1, so the
 *              unit's main process never exits before systemd knows the
 *              service's main pid. */
#ifndef SKIFF_NOTIFY_H
#define SKIFF_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>
#include "protocol.h"

/* container mode: the proxy socket, bound and open to the container's users; -1 otherwise. */
int notify_proxy_open(const struct container_spec *spec);

/* Sends one message to the unit's socket; a failure is a warning (the unit's
 * start then times out, which systemd reports). */
void notify_send(const char *socket_path, const char *message);

/* Reads one datagram from the proxy and passes it on, MAINPID=main_pid with
 * READY=1 (0: none, a foreground run's main pid is skiff itself); true when
 * it held READY=1. */
bool notify_relay(int proxy_fd, const char *socket_path, pid_t main_pid);

/* conmon mode: READY=1, with MAINPID=main_pid unless 0. */
void notify_started(const struct container_spec *spec, pid_t main_pid);

#endif
