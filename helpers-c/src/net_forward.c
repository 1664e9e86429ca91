/* The TCP port forwarder (loopback and wildcard ports): see net_forward.h. */
#include "net_forward.h"
#include "net_watch.h"
#include "netlink.h"
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FWD_MAX_PORTS 512
/* A pipe grows to this once its flow has filled it, or moved 4 times its
 * size: bulk transfers move in large splices, while short exchanges (an
 * HTTP request) keep the default 64 KiB, and the user's pipe-user-pages
 * budget with it (64 MiB for all of a user's pipes; pasta holds 32 of it). */
#define FWD_BIG_PIPE (1 << 20)
/* Rounds of one connection before the others get their turn (it is
 * taken up again without waiting for an event). */
#define FWD_ROUNDS 16

/* Wildcard ports: a client that is not on the host's loopback connects
 * into the container from its own address (IP_TRANSPARENT), with this
 * mark; the container's replies to it (the accepted socket inherits the
 * mark: tcp_fwmark_accept) are routed to the local table FWD_TABLE by the
 * rule of priority FWD_RULE_PRIORITY, back to the forwarder's socket. */
#define FWD_MARK 0x5f1f
#define FWD_TABLE 1700
#define FWD_RULE_PRIORITY 1700

struct fwd_port {
  int fd;
  struct sockaddr_storage target; /* a loopback client's: the container's loopback */
  socklen_t target_len;
  bool dual;                      /* "*": one IPv6 socket for both families */
  bool wildcard;                  /* other clients come from their own address to guest4 / the container's IPv6 address */
  struct in_addr guest4;
};

/* The container's IPv6 address (pasta copies the host's), found at the first IPv6 client that needs it. */
static struct in6_addr guest6;
static bool have_guest6;

struct fwd_conn;
/* What an epoll event names: a listening port, or one end of a connection. */
struct fwd_end {
  struct fwd_port *port; /* a listener; NULL for a connection's end */
  struct fwd_conn *conn;
  int side;
};

/* One direction: read from fd[d] into the pipe, written from it to fd[1 - d]. */
struct fwd_flow {
  int pipe[2];
  size_t queued, capacity;
  unsigned long long moved; /* bytes read so far */
  bool in_blocked; /* the last read found nothing to read or no room: wait for an event or a drain */
  bool eof;        /* fd[d] said end of file */
  bool shut;       /* fd[1 - d] shut down for writing */
};

struct fwd_conn {
  int fd[2]; /* 0: the client on the host, 1: the connection into the container */
  bool connecting, closed, again;
  struct fwd_flow flow[2];
  struct fwd_end end[2];
  struct fwd_conn *next; /* on the again list, then the dead list */
};

static struct fwd_port ports[FWD_MAX_PORTS];
static struct fwd_end port_ends[FWD_MAX_PORTS];
static struct fwd_conn *again_list, *dead_list;

/* "ADDR<TAB>HOST_PORT<TAB>GUEST_PORT" -> the address to bind and the one to connect to in the container (its loopback). */
static void parse_entry(const char *entry, struct sockaddr_storage *bind_to, socklen_t *bind_len, struct fwd_port *port) {
  char addr[64], guest[64] = "";
  unsigned host_port, guest_port;
  int fields = sscanf(entry, "%63[^\t]\t%u\t%u\t%63s", addr, &host_port, &guest_port, guest);
  if (fields < 3 || host_port == 0 || host_port > 65535 || guest_port == 0 || guest_port > 65535)
    die(EXIT_SKIFF_FAILED, 0, "spec: bad net_splice \"%s\"", entry);
  memset(bind_to, 0, sizeof *bind_to);
  memset(&port->target, 0, sizeof port->target);
  port->wildcard = fields == 4;
  if (port->wildcard && inet_pton(AF_INET, guest, &port->guest4) != 1) die(EXIT_SKIFF_FAILED, 0, "spec: bad net_splice guest address \"%s\"", guest);
  /* "*": both families on one socket (IPv4 clients as ::ffff:a.b.c.d), as pasta binds a port without an address. */
  port->dual = strcmp(addr, "*") == 0;
  if (port->dual) strcpy(addr, "::");
  struct sockaddr_in *v4 = (struct sockaddr_in *)bind_to;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)bind_to;
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)host_port);
    *bind_len = sizeof *v4;
    struct sockaddr_in *t = (struct sockaddr_in *)&port->target;
    t->sin_family = AF_INET;
    t->sin_port = htons((uint16_t)guest_port);
    t->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    port->target_len = sizeof *t;
  } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)host_port);
    *bind_len = sizeof *v6;
    struct sockaddr_in6 *t = (struct sockaddr_in6 *)&port->target;
    t->sin6_family = AF_INET6;
    t->sin6_port = htons((uint16_t)guest_port);
    t->sin6_addr = in6addr_loopback;
    port->target_len = sizeof *t;
  } else {
    die(EXIT_SKIFF_FAILED, 0, "spec: bad net_splice address \"%s\"", addr);
  }
}

static void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The connection ends: with `reset`, each peer gets a reset (as it would
 * from the other end), else both sides have shut down already. */
static void close_conn(struct fwd_conn *c, bool reset) {
  if (c->closed) return;
  for (int i = 0; i < 2; i++) {
    if (c->fd[i] >= 0) {
      if (reset) {
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &now, sizeof now);
      }
      close(c->fd[i]);
    }
    for (int j = 0; j < 2; j++)
      if (c->flow[i].pipe[j] >= 0) close(c->flow[i].pipe[j]);
  }
  c->closed = true;
  c->next = dead_list;
  dead_list = c;
}

/* A bigger pipe for a flow that filled its first one; false when it has grown already (or cannot). */
static bool grow(struct fwd_flow *f) {
  if (f->capacity >= FWD_BIG_PIPE) return false;
  int size = fcntl(f->pipe[0], F_SETPIPE_SZ, FWD_BIG_PIPE);
  if (size <= (int)f->capacity) {
    /* Over the user's pipe budget: stays as it is. */
    f->capacity = FWD_BIG_PIPE;
    return false;
  }
  f->capacity = (size_t)size;
  return true;
}

/* Moves what it can both ways. Edge-triggered events: it goes on until
 * nothing moves (0), or leaves the rest for another turn (1); -1 when the
 * connection ended. A flow whose pipe is full does not read its socket
 * again until the pipe drains: no polling a socket it cannot take from. */
static int pump(struct fwd_conn *c) {
  if (c->closed) return -1;
  if (c->connecting) return 0;
  for (int round = 0; round < FWD_ROUNDS; round++) {
    bool moved = false;
    for (int d = 0; d < 2; d++) {
      struct fwd_flow *f = &c->flow[d];
      int from = c->fd[d], to = c->fd[1 - d];
      if (!f->eof && !f->in_blocked) {
        ssize_t n = splice(from, NULL, f->pipe[1], NULL, f->capacity, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          f->queued += (size_t)n;
          f->moved += (unsigned long long)n;
          if (f->moved >= 4 * (unsigned long long)f->capacity) grow(f);
          moved = true;
        } else if (n == 0) {
          f->eof = true;
          moved = true;
        } else if (errno == EAGAIN) {
          /* Nothing to read, or a full pipe (by bytes, or by its slots): room first, if it can have more. */
          if (f->queued * 2 >= f->capacity && grow(f)) moved = true;
          else f->in_blocked = true;
        } else if (errno != EINTR) {
          close_conn(c, true);
          return -1;
        }
      }
      if (f->queued > 0) {
        ssize_t n = splice(f->pipe[0], NULL, to, NULL, f->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          f->queued -= (size_t)n;
          f->in_blocked = false;
          moved = true;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          close_conn(c, true);
          return -1;
        }
      }
      if (f->eof && f->queued == 0 && !f->shut) {
        shutdown(to, SHUT_WR);
        f->shut = true;
      }
    }
    if (c->flow[0].shut && c->flow[1].shut) {
      close_conn(c, false);
      return -1;
    }
    if (!moved) return 0;
  }
  return 1;
}

static void schedule(struct fwd_conn *c, int state) {
  if (state != 1 || c->again) return;
  c->again = true;
  c->next = again_list;
  again_list = c;
}

/* The container's first global IPv6 address (not on lo, not link-local). */
static bool find_guest6(void) {
  if (have_guest6) return true;
  struct ifaddrs *list;
  if (getifaddrs(&list) < 0) return false;
  for (struct ifaddrs *a = list; a != NULL; a = a->ifa_next) {
    if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET6 || (a->ifa_flags & IFF_LOOPBACK)) continue;
    const struct in6_addr *in = &((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
    if (IN6_IS_ADDR_LINKLOCAL(in) || IN6_IS_ADDR_LOOPBACK(in)) continue;
    guest6 = *in;
    have_guest6 = true;
    break;
  }
  freeifaddrs(list);
  return have_guest6;
}

/* Where a connection from `peer` goes in the container, and from where:
 * a client on the host's loopback (or an IPv6 link-local one) to the
 * container's loopback, from the container's; any other client
 * of a wildcard port from its own address and port (`source`, bound with
 * IP_TRANSPARENT) to the container's address. False: nowhere (an IPv6
 * client, and the container has no IPv6 address). */
static bool route_for(const struct fwd_port *port, const struct sockaddr_storage *peer, struct sockaddr_storage *target, socklen_t *target_len,
                      struct sockaddr_storage *source, socklen_t *source_len) {
  *source_len = 0;
  *target = port->target;
  *target_len = port->target_len;
  uint16_t guest_port = port->target.ss_family == AF_INET ? ((const struct sockaddr_in *)&port->target)->sin_port : ((const struct sockaddr_in6 *)&port->target)->sin6_port;
  struct sockaddr_in v4 = {.sin_family = AF_INET};
  bool is_v4 = false;
  if (peer->ss_family == AF_INET) {
    v4 = *(const struct sockaddr_in *)peer;
    is_v4 = true;
  } else if (peer->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)peer)->sin6_addr)) {
    const struct sockaddr_in6 *p6 = (const struct sockaddr_in6 *)peer;
    memcpy(&v4.sin_addr, &p6->sin6_addr.s6_addr[12], 4);
    v4.sin_port = p6->sin6_port;
    is_v4 = true;
  }
  if (is_v4) {
    struct sockaddr_in *t = (struct sockaddr_in *)target;
    memset(target, 0, sizeof *target);
    t->sin_family = AF_INET;
    t->sin_port = guest_port;
    *target_len = sizeof *t;
    if ((ntohl(v4.sin_addr.s_addr) >> 24) == 127 || !port->wildcard) {
      t->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return true;
    }
    t->sin_addr = port->guest4;
    memset(source, 0, sizeof *source);
    memcpy(source, &v4, sizeof v4);
    *source_len = sizeof v4;
    return true;
  }
  const struct sockaddr_in6 *p6 = (const struct sockaddr_in6 *)peer;
  struct sockaddr_in6 *t = (struct sockaddr_in6 *)target;
  memset(target, 0, sizeof *target);
  t->sin6_family = AF_INET6;
  t->sin6_port = guest_port;
  *target_len = sizeof *t;
  /* A link-local client (fe80::/10) too: its address, scoped to a link of the host's, cannot be bound in the container. */
  if (IN6_IS_ADDR_LOOPBACK(&p6->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&p6->sin6_addr) || !port->wildcard) {
    t->sin6_addr = in6addr_loopback;
    return true;
  }
  if (!find_guest6()) return false;
  t->sin6_addr = guest6;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)source;
  memset(source, 0, sizeof *source);
  s6->sin6_family = AF_INET6;
  s6->sin6_addr = p6->sin6_addr;
  s6->sin6_port = p6->sin6_port;
  *source_len = sizeof *s6;
  return true;
}

/* A socket that connects from the client's own address and port (its port
 * when free in the container, else any). */
static bool bind_transparent(int s, const struct sockaddr_storage *source, socklen_t len) {
  int one = 1, mark = FWD_MARK;
  bool v4 = source->ss_family == AF_INET;
  if (setsockopt(s, v4 ? SOL_IP : SOL_IPV6, v4 ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one, sizeof one) < 0 ||
      setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
    return false;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (const struct sockaddr *)source, len) == 0) return true;
  struct sockaddr_storage any = *source;
  if (v4) ((struct sockaddr_in *)&any)->sin_port = 0;
  else ((struct sockaddr_in6 *)&any)->sin6_port = 0;
  return bind(s, (const struct sockaddr *)&any, len) == 0;
}

static void open_conn(int ep, struct fwd_port *port, int client, const struct sockaddr_storage *peer) {
  struct sockaddr_storage target, source;
  socklen_t target_len, source_len;
  if (!route_for(port, peer, &target, &target_len, &source, &source_len)) {
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    close(client);
    return;
  }
  struct fwd_conn *c = calloc(1, sizeof *c);
  int s = c == NULL ? -1 : socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s >= 0 && source_len > 0 && !bind_transparent(s, &source, source_len)) {
    close(s);
    s = -1;
  }
  if (s < 0) {
    free(c);
    close(client);
    return;
  }
  c->fd[0] = client;
  c->fd[1] = s;
  for (int d = 0; d < 2; d++) {
    c->flow[d].pipe[0] = c->flow[d].pipe[1] = -1;
    c->end[d] = (struct fwd_end){.port = NULL, .conn = c, .side = d};
  }
  for (int d = 0; d < 2; d++) {
    if (pipe2(c->flow[d].pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
      close_conn(c, true);
      return;
    }
    int size = fcntl(c->flow[d].pipe[0], F_GETPIPE_SZ);
    c->flow[d].capacity = size > 0 ? (size_t)size : 65536;
  }
  set_nodelay(client);
  set_nodelay(s);
  if (connect(s, (struct sockaddr *)&target, target_len) < 0) {
    if (errno != EINPROGRESS) {
      /* Nothing listens in the container: the client is reset, as pasta does. */
      close_conn(c, true);
      return;
    }
    c->connecting = true;
  }
  for (int d = 0; d < 2; d++) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->end[d]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd[d], &ev) < 0) {
      close_conn(c, true);
      return;
    }
  }
  schedule(c, pump(c));
}

static void accept_all(int ep, struct fwd_port *port, int *reserve) {
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    int client = accept4(port->fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      open_conn(ep, port, client, &peer);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if ((errno == EMFILE || errno == ENFILE) && *reserve >= 0) {
      /* Out of fds: the waiting client is refused rather than left to spin the listener. */
      close(*reserve);
      client = accept4(port->fd, NULL, NULL, SOCK_CLOEXEC);
      if (client >= 0) close(client);
      *reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
      continue;
    }
    return;
  }
}

static void on_event(struct fwd_conn *c, int side, uint32_t events) {
  if (c->closed) return;
  if (c->connecting) {
    if (side != 1) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err != 0) {
      close_conn(c, true);
      return;
    }
    if (!(events & EPOLLOUT)) return;
    c->connecting = false;
  } else if (events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[side], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
      close_conn(c, true);
      return;
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->flow[side].in_blocked = false;
  schedule(c, pump(c));
}

/* Closes every fd but `keep` (sorted, all above 2). */
static void close_others(int *keep, size_t n) {
  unsigned from = 3;
  for (size_t i = 0; i < n; i++) {
    if ((unsigned)keep[i] > from) syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
    from = (unsigned)keep[i] + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

static int compare_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

/* What wildcard ports need in the container's network namespace, before a
 * client comes: lo up (pasta would bring it up later), accepted sockets
 * that take the mark of the SYN that opened them (net.ipv4.tcp_fwmark_accept,
 * both families), and for each family the rule "fwmark FWD_MARK lookup
 * FWD_TABLE" with the route "local default dev lo" in that table: the
 * container's replies to a client the forwarder connected from the
 * client's own address stay on this host, to the forwarder's socket,
 * instead of leaving by the container's interface. False for IPv4's part
 * failing (IPv6's may be missing from the kernel). */
static bool route_back_locally(void) {
  if (nl_link_up("lo", 0) < 0) return false;
  int fd = open("/proc/sys/net/ipv4/tcp_fwmark_accept", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool written = write(fd, "1", 1) == 1;
  close(fd);
  if (!written) return false;
  const int families[] = {AF_INET, AF_INET6};
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    int err = nl_rule_fwmark_add(families[i], FWD_MARK, FWD_TABLE, FWD_RULE_PRIORITY);
    if (err == 0) err = nl_route_local_default(families[i], FWD_TABLE, "lo");
    if (err != 0 && families[i] == AF_INET) return false;
  }
  return true;
}

static noreturn void forward(size_t n, int netns, int userns, int ready, pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) _exit(EXIT_SKIFF_FAILED);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  /* A peer gone mid-write is EPIPE, handled per connection. */
  signal(SIGPIPE, SIG_IGN);
  /* Out of the caller's terminal group: a Ctrl-C is the container's. */
  setsid();
  prctl(PR_SET_NAME, "skiff-forward", 0, 0, 0);
  int keep[FWD_MAX_PORTS + 3];
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) keep[kept++] = ports[i].fd;
  keep[kept++] = netns;
  keep[kept++] = ready;
  if (userns >= 0) keep[kept++] = userns;
  qsort(keep, kept, sizeof keep[0], compare_int);
  close_others(keep, kept);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0) _exit(EXIT_SKIFF_FAILED);
  close(null);
  /* The listening sockets stay in the host's namespace; what it opens from here on is in the container's. */
  /* Rootless: the container's user namespace owns its network namespace (unless the helper is in it already: joined before clone). */
  if (!net_enter_container_netns(netns, userns)) _exit(EXIT_SKIFF_FAILED);
  close(netns);
  if (userns >= 0) close(userns);
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  bool wildcard = false;
  for (size_t i = 0; i < n; i++) wildcard = wildcard || ports[i].wildcard;
  if (wildcard && !route_back_locally()) _exit(EXIT_SKIFF_FAILED);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) _exit(EXIT_SKIFF_FAILED);
  for (size_t i = 0; i < n; i++) {
    port_ends[i] = (struct fwd_end){.port = &ports[i], .conn = NULL, .side = -1};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &port_ends[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ports[i].fd, &ev) < 0) _exit(EXIT_SKIFF_FAILED);
  }
  int reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (write(ready, "1", 1) != 1) _exit(EXIT_SKIFF_FAILED);
  close(ready);
  struct epoll_event events[64];
  for (;;) {
    int got = epoll_wait(ep, events, 64, again_list != NULL ? 0 : -1);
    if (got < 0 && errno != EINTR) _exit(EXIT_SKIFF_FAILED);
    for (int i = 0; i < got; i++) {
      struct fwd_end *e = events[i].data.ptr;
      if (e->port != NULL) accept_all(ep, e->port, &reserve);
      else on_event(e->conn, e->side, events[i].events);
    }
    struct fwd_conn *turn = again_list;
    again_list = NULL;
    while (turn != NULL) {
      struct fwd_conn *c = turn;
      turn = c->next;
      c->again = false;
      schedule(c, pump(c));
    }
    while (dead_list != NULL) {
      struct fwd_conn *c = dead_list;
      dead_list = c->next;
      free(c);
    }
  }
}

/* Binds and listens on entry `entry` (parsed into `port`): its fd, or -1
 * with why not in `why` (the line net_forward_start dies with). */
static int bind_port(const char *entry, struct fwd_port *port, char *why, size_t len) {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  parse_entry(entry, &addr, &addr_len, port);
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(why, len, "socket for published port %s: %s", entry, strerror(errno));
    return -1;
  }
  /* As pasta does: connections of an earlier container in TIME_WAIT do not hold the port. */
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.ss_family == AF_INET6) {
    /* "*" takes both families (as pasta does); "::" IPv6 alone. */
    int v6only = port->dual ? 0 : 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (bind(fd, (struct sockaddr *)&addr, addr_len) == 0 && listen(fd, SOMAXCONN) == 0) return fd;
  int err = errno;
  close(fd);
  char host[64];
  unsigned host_port = 0;
  sscanf(entry, "%63[^\t]\t%u", host, &host_port);
  bool v6 = strchr(host, ':') != NULL;
  const char *taken = "it is already in use on the host (free it, or publish another host port)";
  if (port->dual && err == EADDRINUSE) snprintf(why, len, "cannot publish port %u/tcp: %s", host_port, taken);
  else if (port->dual) snprintf(why, len, "cannot publish port %u/tcp: %s", host_port, strerror(err));
  else if (err == EADDRINUSE) snprintf(why, len, "cannot publish port %s%s%s:%u/tcp: %s", v6 ? "[" : "", host, v6 ? "]" : "", host_port, taken);
  else snprintf(why, len, "cannot publish port %s%s%s:%u/tcp: %s", v6 ? "[" : "", host, v6 ? "]" : "", host_port, strerror(err));
  return -1;
}

/* Binds every port and forks the forwarder against `netns` and `userns`,
 * taking neither: its pid once it is ready, or -1 with why not in `why`. */
static pid_t launch(const struct container_spec *spec, int netns, int userns, char *why, size_t len) {
  size_t n = spec->net_splice.len;
  for (size_t i = 0; i < n; i++) {
    ports[i].fd = bind_port(spec->net_splice.items[i], &ports[i], why, len);
    if (ports[i].fd < 0) {
      for (size_t j = 0; j < i; j++) close(ports[j].fd);
      return -1;
    }
  }
  int ready[2];
  pid_t parent = getpid(), pid = -1;
  if (pipe2(ready, O_CLOEXEC) < 0) snprintf(why, len, "pipe for the port forwarder: %s", strerror(errno));
  else if ((pid = fork()) < 0) {
    snprintf(why, len, "fork the port forwarder: %s", strerror(errno));
    close(ready[0]);
    close(ready[1]);
  }
  if (pid == 0) {
    close(ready[0]);
    forward(n, netns, userns, ready[1], parent);
  }
  for (size_t i = 0; i < n; i++) close(ports[i].fd);
  if (pid < 0) return -1;
  close(ready[1]);
  char byte;
  ssize_t got;
  while ((got = read(ready[0], &byte, 1)) < 0 && errno == EINTR) {
  }
  close(ready[0]);
  if (got != 1) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    snprintf(why, len, "the port forwarder could not enter the container's network namespace, or set up the routing of a wildcard port's replies there");
    return -1;
  }
  return pid;
}

pid_t net_forward_start(const struct container_spec *spec, int netns, int userns) {
  size_t n = spec->net_splice.len;
  if (n == 0) return 0;
  if (n > FWD_MAX_PORTS) die(EXIT_SKIFF_FAILED, 0, "spec: more than %d net_splice entries", FWD_MAX_PORTS);
  char why[512];
  pid_t pid = launch(spec, netns, userns, why, sizeof why);
  if (pid < 0) die(EXIT_SKIFF_FAILED, 0, "%s", why);
  return pid;
}

pid_t net_forward_restart(const struct container_spec *spec, pid_t container, char *why, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)container);
  int netns = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)container);
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (netns < 0 || userns < 0) {
    snprintf(why, len, "open the container's namespaces (/proc/%d/ns): %s", (int)container, strerror(errno));
    if (netns >= 0) close(netns);
    if (userns >= 0) close(userns);
    return -1;
  }
  /* The container's user namespace: joined unless it is this process's own (net_enter_container_netns). */
  pid_t pid = launch(spec, netns, userns, why, len);
  close(netns);
  close(userns);
  return pid;
}

/* "ports-down" beside pid.json (lib/containers/store.ts's PORTS_DOWN); false without a recorded start. */
static bool ports_down_path(const struct container_spec *spec, char *out, size_t len) {
  if (spec->pid_path == NULL) return false;
  const char *slash = strrchr(spec->pid_path, '/');
  if (slash == NULL) return false;
  int n = snprintf(out, len, "%.*s/ports-down", (int)(slash - spec->pid_path), spec->pid_path);
  return n > 0 && (size_t)n < len;
}

/* The forwarder's ports no longer answer: "HOST_ADDR<TAB>HOST_PORT" each,
 * for port, ps and inspect to leave out until the next start. */
static void mark_ports_down(const struct container_spec *spec) {
  char path[4096];
  if (!ports_down_path(spec, path, sizeof path)) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  for (size_t i = 0; i < spec->net_splice.len; i++) {
    char host[64];
    unsigned host_port;
    if (sscanf(spec->net_splice.items[i], "%63[^\t]\t%u", host, &host_port) != 2) continue;
    char line[96];
    int n = snprintf(line, sizeof line, "%s\t%u\n", host, host_port);
    if (n > 0 && (size_t)n < sizeof line) (void)!write(fd, line, (size_t)n);
  }
  close(fd);
}

void net_forward_ports_up(const struct container_spec *spec) {
  char path[4096];
  if (ports_down_path(spec, path, sizeof path)) unlink(path);
}

long net_forward_clock_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

pid_t net_forward_revive(const struct container_spec *spec, pid_t container, int status, long *started_ms, char *line, size_t len) {
  char how[64];
  if (WIFSIGNALED(status)) snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(status));
  else snprintf(how, sizeof how, "exited (%d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  long now = net_forward_clock_ms();
  if (now - *started_ms < 1000) {
    snprintf(line, len, "skiff: the published ports' forwarder (skiff-forward) %s within a second of its start: not started again; the container's published TCP ports no longer answer (restart the container)", how);
    mark_ports_down(spec);
    return 0;
  }
  char why[512];
  pid_t pid = net_forward_restart(spec, container, why, sizeof why);
  if (pid < 0) {
    snprintf(line, len, "skiff: the published ports' forwarder (skiff-forward) %s and could not be started again (%s); the container's published TCP ports no longer answer (restart the container)", how, why);
    mark_ports_down(spec);
    return 0;
  }
  *started_ms = now;
  snprintf(line, len, "skiff: the published ports' forwarder (skiff-forward) %s; started it again (pid %d): connections open through it were lost", how, (int)pid);
  return pid;
}
