/* pasta's interface in the container, made beforehand and watched (spec
 * key net_pasta_ifname).
 *
 * Made beforehand: the container's first process makes the interface as a
 * persistent tap before pasta starts, and pasta attaches to it. A tap that
 * pasta made itself is unregistered when pasta's fd closes, in pasta's exit,
 * which waits out RCU grace periods (25-60 ms measured here) while the
 * helper waits to reap it; a persistent one stays until the container's
 * network namespace goes, whose teardown the kernel does asynchronously.
 *
 * Watched: pasta configures the interface (link up, addresses, default
 * routes) early in its start and then spends most of it on its own tables
 * and socket pools before it says it is ready. Packets the container sends
 * meanwhile wait in the tap's queue, and connections to published ports in
 * their listening sockets' backlog (pasta binds those first of all), so the
 * container may run once the default routes are in place: a netlink
 * socket of the container's namespace, subscribed before the interface was
 * made, tells the helper when. */
#ifndef SKIFF_NET_WATCH_H
#define SKIFF_NET_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "protocol.h"

/* A persistent tap named `ifname` in the caller's network namespace, with
 * the flags pasta and slirp4netns ask for (IFF_TAP | IFF_NO_PI), so that
 * the program attaches to it instead of making one. False: `why` says why. */
bool net_make_persistent_tap(const char *ifname, char *why, size_t why_size);

/* slirp4netns's tap (net_slirp_ifname) when slirp4netns is the only
 * program, made the same way by the process that made the container's
 * network namespace, before the namespace is sent: slirp4netns starts only
 * once the helper has it. A persistent tap is not unregistered when
 * slirp4netns's fd closes in its exit (which took 15-20 ms of RCU grace
 * periods here while the helper waited to reap it); it goes with the
 * namespace. One it cannot make is left to slirp4netns (a debug line says
 * why). */
void net_make_slirp_tap(const struct container_spec *spec);

/* The same tap for slirp4netns as pasta's fallback, made by the helper
 * after pasta failed and its interface was deleted (a tap made beforehand
 * in every container for a fallback that seldom comes would stay there):
 * a short-lived child of the helper's enters `netns` (through `userns`,
 * rootless; else -1) and makes it there. */
void net_make_slirp_tap_in(const struct container_spec *spec, int netns, int userns);

/* Enters the container's network namespace `netns`, through its user
 * namespace `userns` first when that is not the caller's own already
 * (rootless; else -1), as the network programs do. The caller must be
 * single-threaded (a child of the helper's). False: errno says why. */
bool net_enter_container_netns(int netns, int userns);

/* The child, in its network namespace, before its ID maps are written: opens
 * the watch, makes the interface, sends the watch (SYNC_NET_WATCH). A tap it
 * cannot make is left to pasta (a debug line says why). */
void net_watch_send(const struct container_spec *spec, int sync_sock);

struct net_watch {
  int fd;            /* the netlink socket, -1 when there is none to read */
  const char *ifname;
  bool want_ipv6;
  int ifindex;       /* 0 until the interface's RTM_NEWLINK was read */
  bool ipv4, ipv6;   /* default routes seen on it */
};

/* Reads what the socket has queued. Returns 1 once the default routes are
 * on the interface, 0 while they are not, -1 when the socket cannot tell
 * (its queue overflowed): then only the program's readiness counts. */
int net_watch_update(struct net_watch *w);

/* Deletes the interface through the watch's socket (which the container's
 * first process opened, so the kernel lets the helper act in its
 * namespace); before a fallback to slirp4netns, which makes its own. */
void net_watch_remove_interface(const struct net_watch *w);

#endif
