/* Published TCP ports on the host's loopback (`-p 127.0.0.1:H:C`) and on
 * every address (`-p H:C`), forwarded by a process of skiff's own instead
 * of pasta (spec entries net_splice, "HOST_ADDR<TAB>HOST_PORT<TAB>GUEST_PORT"
 * and, for a wildcard port, "<TAB>GUEST_ADDR": the container's IPv4
 * address; HOST_ADDR "*" is both families on one socket).
 *
 * Why: Debian 12's pasta keeps polling the host's socket while the
 * container's side is full (level-triggered EPOLLIN on a socket it cannot
 * read into a full pipe), a CPU spinning for as long as a receiver is
 * slower than the sender. The forwarder moves the same bytes the same way
 * (splice through a pipe) but stops reading a side while its pipe is full.
 *
 * What the container sees is what pasta shows it. A client on the host's
 * loopback is 127.0.0.1 (::1): the forwarder connects from the container's
 * own loopback to 127.0.0.1:GUEST_PORT (::1), as pasta's splice does. Any
 * other client of a wildcard port keeps its own address, as on pasta's tap
 * path: the forwarder connects from the client's address and port
 * (IP_TRANSPARENT / IPV6_TRANSPARENT, and the mark FWD_MARK) to
 * GUEST_ADDR:GUEST_PORT (IPv6: the container's first global address). The
 * container's replies to such an address would leave by its interface, so
 * before it accepts anything the forwarder sets, in the container's
 * namespace: lo up, net.ipv4.tcp_fwmark_accept=1 (an accepted socket takes
 * the mark of the SYN that opened it), and for IPv4 and IPv6 the rule
 * "1700: from all fwmark 0x5f1f lookup 1700" with "local default dev lo"
 * in table 1700: those replies go back over lo to the forwarder's socket.
 * Nothing else in the container carries that mark.
 *
 * The helper binds the ports in the host's network namespace (a port
 * taken is its one-line error), then forks the forwarder, which joins the
 * container's user namespace (rootless: root there, whose network
 * namespace it is, with CAP_NET_ADMIN for the above) and network
 * namespace. It dies with the helper (PR_SET_PDEATHSIG), is started again by the
 * monitor when it dies on its own (net_forward_restart), and is ended with
 * the network program (net_kill, net_stop). */
#ifndef SKIFF_NET_FORWARD_H
#define SKIFF_NET_FORWARD_H

#include <sys/types.h>
#include "protocol.h"

/* Starts the forwarder for spec->net_splice against the namespaces `netns`
 * and (rootless, else -1) `userns`; returns its pid, 0 when there is
 * nothing to forward. Dies with one line when a port cannot be bound. */
pid_t net_forward_start(const struct container_spec *spec, int netns, int userns);
/* The monitor's: starts the forwarder again after it died while the
 * container `container` runs, against that process's namespaces; its pid,
 * or -1 with why not in `why` (a port taken meanwhile, the container gone). */
pid_t net_forward_restart(const struct container_spec *spec, pid_t container, char *why, size_t len);
/* The forwarder died (`status`, as waitpid gives it) while the container's
 * process `container` runs (the monitor's child, or a foreground run's
 * helper's): starts it again, unless it died within a second of its last
 * start (`*started_ms`, net_forward_clock_ms() then; set anew at a
 * restart), and writes the line that says which into `line` ("skiff: …",
 * no newline): ports started again, or ports that no longer answer. Its
 * new pid, or 0. */
pid_t net_forward_revive(const struct container_spec *spec, pid_t container, int status, long *started_ms, char *line, size_t len);
/* When it was not started again, the forwarder's ports are listed in
 * "ports-down" beside the spec's pid_path (lib/containers/store.ts's
 * PORTS_DOWN), for port, ps and inspect to leave out; a monitor's start
 * (a policy restart) removes the file with this. */
void net_forward_ports_up(const struct container_spec *spec);
/* CLOCK_MONOTONIC, in milliseconds. */
long net_forward_clock_ms(void);

#endif
