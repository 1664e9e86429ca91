/* Published TCP ports bound to the host's loopback (`-p 127.0.0.1:H:C`),
 * forwarded by a process of skiff's own instead of pasta (spec entries
 * net_splice, "HOST_ADDR<TAB>HOST_PORT<TAB>GUEST_PORT").
 *
 * Why: Debian 12's pasta keeps polling the host's socket while the
 * container's side is full (level-triggered EPOLLIN on a socket it cannot
 * read into a full pipe), a CPU spinning for as long as a receiver is
 * slower than the sender. The forwarder moves the same bytes the same way
 * (splice through a pipe, both sockets on loopback) but stops reading a
 * side while its pipe is full. A client on the host's loopback is
 * 127.0.0.1 to the container through pasta's splice too, so nothing is
 * lost: the forwarder connects from the container's own loopback.
 *
 * The helper binds the ports in the host's network namespace (a port
 * taken is its one-line error), then forks the forwarder, which joins the
 * container's user namespace (rootless) and network namespace, where it
 * opens its connections to 127.0.0.1:GUEST_PORT (::1 for ::1). It dies
 * with the helper (PR_SET_PDEATHSIG) and is ended with the network program
 * (net_kill, net_stop). */
#ifndef SKIFF_NET_FORWARD_H
#define SKIFF_NET_FORWARD_H

#include <sys/types.h>
#include "protocol.h"

/* Starts the forwarder for spec->net_splice against the namespaces `netns`
 * and (rootless, else -1) `userns`; returns its pid, 0 when there is
 * nothing to forward. Dies with one line when a port cannot be bound. */
pid_t net_forward_start(const struct container_spec *spec, int netns, int userns);

#endif
