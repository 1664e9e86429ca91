/* Parent <-> container-child synchronisation over a SOCK_SEQPACKET pair. */
#ifndef SKIFF_SYNC_H
#define SKIFF_SYNC_H

#include <stdbool.h>

/* Messages of the handshake; see run.c for the order. */
#define SYNC_MAPS_WRITTEN 'G'
#define SYNC_TTY_MASTER 'T'
#define SYNC_TTY_SIZED 'W'
/* network=private: the network program is ready (net.h); sent after
 * SYNC_MAPS_WRITTEN, awaited by the child just before it becomes the process. */
#define SYNC_NET_READY 'N'
/* network=private: the child's own network namespace, then (in a user
 * namespace of its own) its user namespace, as fds, sent first of all: the helper
 * starts the network program with them (net.h). */
#define SYNC_NET_NS 'n'
#define SYNC_USER_NS 'u'
/* network=private with net_pasta_ifname: after SYNC_MAPS_WRITTEN the child
 * makes pasta's interface and sends a netlink socket of its namespace,
 * subscribed before it made it (net_watch.h). */
#define SYNC_NET_WATCH 'w'
/* The child failed (report.h, report_set_failure_sock): sent by its die()
 * just before it exits, at any point of the handshake; read as its EOF. */
#define SYNC_FAILED 'F'

void sync_send(int sock, char message);
/* Returns false on EOF or SYNC_FAILED (the peer exited); dies on any other message. */
bool sync_expect(int sock, char message);
void sync_send_fd(int sock, char message, int fd);
/* Returns the fd, or -1 on EOF or SYNC_FAILED. */
int sync_recv_fd(int sock, char message);

#endif
