#include "network.h"
#include "fds.h"
#include "idmap.h"
#include "netlink.h"
#include "net.h"
#include "report.h"
#include "sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define SYNC_HOLDER_READY 'R'

/* "BRIDGE<TAB>GATEWAY/PREFIX<TAB>IFNAME<TAB>IP/PREFIX<TAB>MAC" */
struct attachment {
  char bridge[IFNAMSIZ];
  uint32_t gateway;
  char ifname[IFNAMSIZ];
  uint32_t ip;
  int prefix;
  uint8_t mac[6];
};

static void copy_ifname(char *dst, const char *src, size_t len, const char *text) {
  if (len == 0 || len >= IFNAMSIZ) die(EXIT_SKIFF_FAILED, 0, "spec: bad interface name in net_attach \"%s\"", text);
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static uint32_t parse_cidr(const char *field, size_t len, int *prefix, const char *text) {
  char buf[32];
  if (len >= sizeof buf) die(EXIT_SKIFF_FAILED, 0, "spec: bad address in net_attach \"%s\"", text);
  memcpy(buf, field, len);
  buf[len] = '\0';
  char *slash = strchr(buf, '/');
  if (slash == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: bad address in net_attach \"%s\"", text);
  *slash = '\0';
  struct in_addr a;
  char *end;
  long p = strtol(slash + 1, &end, 10);
  if (inet_pton(AF_INET, buf, &a) != 1 || *end != '\0' || p < 1 || p > 32) die(EXIT_SKIFF_FAILED, 0, "spec: bad address in net_attach \"%s\"", text);
  *prefix = (int)p;
  return a.s_addr;
}

static void parse_attachment(const char *text, struct attachment *a) {
  const char *f[5];
  size_t len[5];
  const char *p = text;
  for (int i = 0; i < 5; i++) {
    const char *tab = strchr(p, '\t');
    f[i] = p;
    len[i] = tab != NULL ? (size_t)(tab - p) : strlen(p);
    if ((tab == NULL) != (i == 4)) die(EXIT_SKIFF_FAILED, 0, "spec: net_attach needs 5 fields: \"%s\"", text);
    p = tab != NULL ? tab + 1 : p;
  }
  copy_ifname(a->bridge, f[0], len[0], text);
  int prefix;
  a->gateway = parse_cidr(f[1], len[1], &prefix, text);
  copy_ifname(a->ifname, f[2], len[2], text);
  a->ip = parse_cidr(f[3], len[3], &a->prefix, text);
  unsigned m[6];
  if (len[4] != 17 || sscanf(f[4], "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
    die(EXIT_SKIFF_FAILED, 0, "spec: bad MAC address in net_attach \"%s\"", text);
  for (int i = 0; i < 6; i++) a->mac[i] = (uint8_t)m[i];
}

static int open_netns(pid_t pid, const char *what) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) die(EXIT_SKIFF_FAILED, 0, "the %s is gone (no process %d): run the container again", what, (int)pid);
    die_errno("open %s", path);
  }
  return fd;
}

static void check(int err, const char *what, const char *name) {
  if (err < 0) die(EXIT_SKIFF_FAILED, -err, "%s %s", what, name);
}

/* One attachment: the bridge (made on first use, with the gateway address),
 * the veth pair, the container's end addressed and up. */
static void attach_one(const struct attachment *a, int holder_ns, int target_ns) {
  if (setns(holder_ns, CLONE_NEWNET) < 0) die_errno("setns into the network holder's namespace");
  check(nl_bridge_add(a->bridge), "create the bridge", a->bridge);
  check(nl_addr_add(a->bridge, a->gateway, a->prefix), "address the bridge", a->bridge);
  check(nl_link_up(a->bridge, 0), "bring up the bridge", a->bridge);
  uint32_t random;
  if (getrandom(&random, sizeof random, 0) != sizeof random) die_errno("getrandom");
  char host_end[IFNAMSIZ];
  snprintf(host_end, sizeof host_end, "skv%08x", random);
  check(nl_veth_add(host_end, a->ifname, a->mac, target_ns), "create the veth pair", host_end);
  unsigned bridge_index = if_nametoindex(a->bridge);
  if (bridge_index == 0) die_errno("find the bridge %s", a->bridge);
  check(nl_link_up(host_end, (int)bridge_index), "attach to the bridge", host_end);
  if (setns(target_ns, CLONE_NEWNET) < 0) die_errno("setns into the container's network namespace");
  check(nl_addr_add(a->ifname, a->ip, a->prefix), "address the container's interface", a->ifname);
  check(nl_link_up(a->ifname, 0), "bring up the container's interface", a->ifname);
}

/* Runs `fn` in a forked child (setns of the network namespace stays there);
 * a failure was reported by the child: exit with its status. */
static void in_child(const struct container_spec *spec, pid_t target, void (*fn)(const struct container_spec *, pid_t)) {
  pid_t p = fork();
  if (p < 0) die_errno("fork");
  if (p == 0) {
    fn(spec, target);
    _exit(0);
  }
  int status;
  while (waitpid(p, &status, 0) < 0)
    if (errno != EINTR) die_errno("wait for the network setup");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    kill(target, SIGKILL);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SKIFF_FAILED);
  }
}

static void attach_all(const struct container_spec *spec, pid_t target) {
  int holder_ns = open_netns(spec->net_holder, "network holder");
  /* Made before clone (--pid container:): the child may not have entered it yet. */
  int target_ns = net_premade_fd() >= 0 ? net_premade_fd() : open_netns(target, "container");
  for (size_t i = 0; i < spec->net_attach.len; i++) {
    struct attachment a;
    parse_attachment(spec->net_attach.items[i], &a);
    attach_one(&a, holder_ns, target_ns);
  }
}

void network_keep_member_fd(const struct container_spec *spec) {
  if (!spec->net_member) {
    close(SKIFF_NET_MEMBER_FD);
    return;
  }
  if (fcntl(SKIFF_NET_MEMBER_FD, F_SETFD, FD_CLOEXEC) < 0) die_errno("spec: net_member without fd %d", SKIFF_NET_MEMBER_FD);
}

void network_attach_all(const struct container_spec *spec, pid_t target) {
  if (spec->net_attach.len == 0) return;
  if (spec->net_holder <= 0) die(EXIT_SKIFF_FAILED, 0, "spec: net_attach needs net_holder");
  in_child(spec, target, attach_all);
}

static void detach_all(const struct container_spec *spec, pid_t target) {
  int target_ns = open_netns(target, "container");
  if (setns(target_ns, CLONE_NEWNET) < 0) die_errno("setns into the container's network namespace");
  for (size_t i = 0; i < spec->net_detach.len; i++) {
    int err = nl_link_del(spec->net_detach.items[i]);
    if (err < 0 && err != -ENODEV) check(err, "remove the container's interface", spec->net_detach.items[i]);
  }
}

noreturn void netattach_main(bool attach) {
  report_set_fd(SKIFF_SPEC_FD);
  int report = SKIFF_SPEC_FD;
  fds_close_except(&report, 1);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  if (spec.target_pid <= 0) die(EXIT_SKIFF_FAILED, 0, "spec: netattach and netdetach need target_pid");
  if (spec.user_join > 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", spec.user_join);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die_errno("open %s (the network holder)", path);
    if (setns(fd, CLONE_NEWUSER) < 0) die_errno("setns into the network holder's user namespace");
    close(fd);
  }
  pid_t target = spec.target_pid;
  if (attach) {
    if (spec.net_holder <= 0) die(EXIT_SKIFF_FAILED, 0, "spec: netattach needs net_holder");
    /* Not in_child: a failure must not kill the running container. */
    attach_all(&spec, target);
  } else {
    detach_all(&spec, target);
  }
  _exit(0);
}

/* --- The holder --- */

static int listen_unix(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die(EXIT_SKIFF_FAILED, 0, "the holder's socket path is too long: %s", path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die_errno("socket");
  unlink(path); /* a killed holder's: the caller found nobody listening */
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die_errno("bind %s", path);
  if (listen(fd, 64) < 0) die_errno("listen %s", path);
  return fd;
}

struct members {
  struct pollfd *fds; /* [0] is the listening socket */
  size_t len, cap;
};

static void accept_all(struct members *m) {
  for (;;) {
    int fd = accept4(m->fds[0].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return; /* EAGAIN: none left */
    }
    if (m->len == m->cap) {
      m->cap *= 2;
      m->fds = realloc(m->fds, m->cap * sizeof *m->fds);
      if (m->fds == NULL) _exit(1);
    }
    m->fds[m->len++] = (struct pollfd){.fd = fd, .events = POLLIN};
  }
}

/* Members never write: readable means closed (EOF) or reset. */
static void drop_closed(struct members *m) {
  for (size_t i = 1; i < m->len;) {
    char byte;
    ssize_t n = m->fds[i].revents != 0 ? recv(m->fds[i].fd, &byte, 1, MSG_DONTWAIT) : 1;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close(m->fds[i].fd);
      m->fds[i] = m->fds[--m->len];
      continue;
    }
    m->fds[i].revents = 0;
    i++;
  }
}

/* The holder's life: until no member is connected, checked under the lock
 * that joiners hold while they connect. A holder nobody joined within 30 s
 * (its starter died) leaves the same way. */
static noreturn void holder_loop(int listen_fd, int lock_fd, const char *socket_path, const char *pid_path) {
  struct members m = {.fds = calloc(16, sizeof(struct pollfd)), .len = 1, .cap = 16};
  if (m.fds == NULL) _exit(1);
  m.fds[0] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
  for (;;) {
    int n = poll(m.fds, m.len, m.len > 1 ? -1 : 30000);
    if (n < 0 && errno != EINTR) _exit(1);
    if (m.fds[0].revents & POLLIN) accept_all(&m);
    m.fds[0].revents = 0;
    drop_closed(&m);
    if (m.len > 1) continue;
    if (flock(lock_fd, LOCK_EX) < 0) _exit(1);
    accept_all(&m); /* joined while we waited for the lock */
    if (m.len > 1) {
      flock(lock_fd, LOCK_UN);
      continue;
    }
    unlink(socket_path);
    unlink(pid_path);
    _exit(0); /* the kernel drops the lock, the namespaces and their bridges */
  }
}

static void write_pid_file(const char *path) {
  char tmp[4200], text[32];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int len = snprintf(text, sizeof text, "%d\n", (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die_errno("open %s", tmp);
  if (write(fd, text, (size_t)len) != len) die_errno("write %s", tmp);
  close(fd);
  if (rename(tmp, path) < 0) die_errno("rename %s", tmp);
}

noreturn void netholder_main(void) {
  report_set_fd(SKIFF_SPEC_FD);
  int report = SKIFF_SPEC_FD;
  fds_close_except(&report, 1);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  if (spec.holder_socket == NULL || spec.holder_pid_file == NULL || spec.holder_lock == NULL)
    die(EXIT_SKIFF_FAILED, 0, "spec: netholder needs holder_socket, holder_pid_file and holder_lock");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) die_errno("socketpair");
  unsigned long flags = CLONE_NEWNET | (spec.userns ? CLONE_NEWUSER : 0);
  pid_t child = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) die_errno("clone the network holder's namespaces (see 'skiff doctor')");
  if (child == 0) {
    close(pair[0]);
    if (!sync_expect(pair[1], SYNC_MAPS_WRITTEN)) _exit(EXIT_SKIFF_FAILED);
    if (spec.userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) die_errno("become root in the holder's user namespace");
    if (setsid() < 0) die_errno("setsid");
    if (chdir("/") < 0) die_errno("chdir /");
    net_loopback_up();
    int lock_fd = open(spec.holder_lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) die_errno("open %s", spec.holder_lock);
    int listen_fd = listen_unix(spec.holder_socket);
    write_pid_file(spec.holder_pid_file);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) die_errno("open /dev/null");
    sync_send(pair[1], SYNC_HOLDER_READY);
    close(pair[1]);
    report_set_fd(-1);
    close(SKIFF_SPEC_FD);
    for (int fd = 0; fd <= 2; fd++) dup2(null, fd);
    close(null);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    holder_loop(listen_fd, lock_fd, spec.holder_socket, spec.holder_pid_file);
  }
  close(pair[1]);
  if (spec.userns) idmap_write(child, &spec);
  sync_send(pair[0], SYNC_MAPS_WRITTEN);
  if (!sync_expect(pair[0], SYNC_HOLDER_READY)) {
    int status;
    waitpid(child, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SKIFF_FAILED);
  }
  report_pid(child);
  _exit(0);
}
