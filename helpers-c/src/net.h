/* A container's private network (issue 10): the network program (pasta or
 * slirp4netns, decided by skiff) started against the container's network
 * namespace, and ended with the container. */
#ifndef SKIFF_NET_H
#define SKIFF_NET_H

#include <stdbool.h>
#include <sys/types.h>
#include "protocol.h"

/* The program's fds, fixed so that skiff can name them in its argv:
 * the container's network namespace, its user namespace (rootless), the
 * write end of the pipe on which the program says it is ready (pasta
 * writes its pid, slirp4netns "1"), and the read end of a pipe whose other
 * end only the helper holds (slirp4netns --exit-fd: EOF when the helper is
 * gone). */
#define NET_FD_NETNS 3
#define NET_FD_USERNS 4
#define NET_FD_READY 5
#define NET_FD_EXIT 6

struct net_process {
  pid_t pid;   /* 0: none running */
  pid_t forwarder; /* the loopback port forwarder (net_forward.h); 0: none */
  int exit_fd; /* the helper's end of the exit pipe, -1 when none */
  /* Released early (net_watch.h): until net_start_finish, the ready pipe's
   * read end, and what a fallback to slirp4netns needs; -1 otherwise. */
  int ready_fd;
  int netns, userns, watch;
  long started_ms; /* CLOCK_MONOTONIC when the program was started */
  bool fell_back; /* pasta failed: slirp4netns serves the container */
};
#define NET_PROCESS_NONE {.pid = 0, .forwarder = 0, .exit_fd = -1, .ready_fd = -1, .netns = -1, .userns = -1, .watch = -1, .started_ms = 0}

/* network=private: starts the program against the container's namespaces,
 * `netns` and (in a user namespace, else -1) `userns`, fds the container's
 * process sent, and waits until it is ready, falling back from
 * net_pasta to net_slirp with a warning when pasta fails. Port forwards
 * for slirp4netns go through its API socket. The program dies with the
 * helper (PR_SET_PDEATHSIG, and slirp4netns's exit fd). Dies with one line
 * naming the program and its own message when it cannot start. Takes the
 * fds. With `watch` (net_watch.h; else -1) it returns as soon as pasta has
 * configured the container's interface: the container may run, and
 * net_start_finish waits for the rest. net_start = net_prepare, then
 * net_start_wait. */
struct net_process net_start(const struct container_spec *spec, int netns, int userns, int watch);
/* The first half: takes the fds, and starts pasta at once when it is
 * watched (net_watch.h), or slirp4netns when it is the only program and
 * its tap was made beforehand (net_slirp_ifname), which the helper does
 * before it writes the container's ID maps: the program joins the user
 * namespace as its owner's process, which needs no maps, and its own
 * start then overlaps the helper's newuidmap/newgidmap and the
 * container's mounts. Any other program starts in net_start_wait. */
struct net_process net_prepare(const struct container_spec *spec, int netns, int userns, int watch);
/* The second half: starts the program if net_prepare did not, and waits
 * as net_start does (with the same fallback to slirp4netns). */
void net_start_wait(const struct container_spec *spec, struct net_process *net);
/* After a release at configuration: waits until the program is ready (its
 * sockets in place), or until the container's process `container` has
 * ended (then net_stop ends the program). If pasta fails now, the fallback
 * to slirp4netns happens as at start (the container then gets
 * slirp4netns's tap0 a little late), else the helper dies with pasta's
 * message. A no-op when net_start waited already. */
void net_start_finish(const struct container_spec *spec, struct net_process *net, pid_t container);
/* Milliseconds since the program was started. */
long net_elapsed_ms(const struct net_process *net);
/* The network program died on its own while the container runs (a kill -9,
 * the OOM killer): nothing starts it again (the container's connections
 * were its state), so the line the monitor logs, or a foreground run's
 * helper prints, saying so. */
void net_lost_line(pid_t pid, int status, char *line, size_t len);

/* --pid container: with a private network: the helper's children are born
 * in the joined PID namespace once it has joined it, where the network
 * program must not be (it would show in the container's `ps` and could not
 * be told its parent died). So the helper makes the container's network
 * namespace for itself before that join (unshare), starts the program
 * against it, and the child inherits it instead of making one. */
bool net_made_before_clone(const struct container_spec *spec);
struct net_process net_start_before_clone(const struct container_spec *spec);
/* The child, first of all: into that namespace. The helper, after clone: its copy closed. */
void net_enter_premade(void);
void net_forget_premade(void);
/* That namespace while the helper holds it (until net_forget_premade), else -1:
 * the container's network namespace even before the child has entered it. */
int net_premade_fd(void);

/* Ends the program (SIGKILL: it has nothing to save) and reaps it; no-op
 * when none runs. A monitor that already reaped it passes pid 0. */
void net_stop(struct net_process *net);
/* net_stop's first half: the SIGKILL alone, so that the caller's own work
 * overlaps the program's exit (freeing its memory, closing its tap and
 * sockets); net_stop then reaps it. */
void net_kill(struct net_process *net);

/* Rootless, another container's network (container:NAME) or a namespace
 * file (ns:PATH): joined before clone, after the user namespace. */
void net_join_before_clone(const struct container_spec *spec);

/* Brings up the loopback interface of the caller's network namespace;
 * dies naming the failing call. */
void net_loopback_up(void);

#endif
