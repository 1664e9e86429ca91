/* A small rtnetlink client: what a user-defined network needs (a bridge,
 * veth pairs, addresses, links up or gone) and skiff-forward's return path
 * (a fwmark rule, a local route), in whatever network namespace the
 * calling process is in. Each call returns 0 or -errno. */
#ifndef SKIFF_NETLINK_H
#define SKIFF_NETLINK_H

#include <stdint.h>

/* Makes bridge `name` (EEXIST counts as done). */
int nl_bridge_add(const char *name);
/* Makes veth `name` here with its peer `peer` (MAC `peer_mac`, 6 bytes, or
 * NULL) moved into the network namespace `peer_netns_fd`. */
int nl_veth_add(const char *name, const char *peer, const uint8_t *peer_mac, int peer_netns_fd);
/* Sets link `name` up, and its master when master_index > 0. */
int nl_link_up(const char *name, int master_index);
/* Adds IPv4 address `addr` (network byte order) with `prefix` to link `name` (EEXIST counts as done). */
int nl_addr_add(const char *name, uint32_t addr, int prefix);
/* Deletes link `name`. */
int nl_link_del(const char *name);
/* Adds the rule "priority PRIORITY: from all fwmark MARK lookup TABLE" for
 * `family` (AF_INET, AF_INET6; EEXIST counts as done). */
int nl_rule_fwmark_add(int family, uint32_t mark, uint32_t table, uint32_t priority);
/* Sets the route "local default dev `name`" in `table` for `family`. */
int nl_route_local_default(int family, uint32_t table, const char *name);

#endif
