/* User-defined networks (docs/how-it-works.md, "Networks"): one network
 * namespace per user and store, the holder, keeps a bridge per network;
 * each member container gets a veth pair from its own network namespace
 * into that bridge. Rootless, the holder's namespaces belong to a user
 * namespace of its own, which member containers join instead of making
 * one: CAP_NET_ADMIN over both ends of a veth needs one owner. */
#ifndef SKIFF_NETWORK_H
#define SKIFF_NETWORK_H

#include <stdnoreturn.h>
#include <sys/types.h>
#include "protocol.h"

/* The fd a member's helper (and its monitor) keeps open for the container's
 * life: its connection to the holder, which lives while it has one. */
#define SKIFF_NET_MEMBER_FD 4

/* run: fd 4 stays open (close-on-exec) when the spec says net_member, else it is closed. */
void network_keep_member_fd(const struct container_spec *spec);

/* After clone, before the child runs: the spec's net_attach entries, each a
 * veth pair from the holder's bridge into `target`'s network namespace.
 * Done in a forked process (the caller keeps its own network namespace);
 * dies, reporting, when one fails. */
void network_attach_all(const struct container_spec *spec, pid_t target);

/* `skiff-helper netholder`: starts the holder (a new network namespace, and
 * user namespace when the spec has ID maps) and reports its pid once it
 * listens on holder_socket. The holder exits when its last member's
 * connection closes (a member killed by SIGKILL included), under
 * holder_lock so that no member can join a holder on its way out. */
noreturn void netholder_main(void);

/* `skiff-helper netattach`: net_attach for the running container target_pid
 * (network connect). `skiff-helper netdetach`: removes its net_detach
 * interfaces (network disconnect). Both join the holder's user namespace
 * first when rootless (ns_user). */
noreturn void netattach_main(bool attach);

#endif
