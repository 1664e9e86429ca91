/* The network program of a container's private network: see net.h. */
#include "net.h"
#include "net_watch.h"
#include "net_forward.h"
#include "join.h"
#include "report.h"
#include "sync.h"

#include <sys/ioctl.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a network program may take to say it is ready. */
#define NET_READY_TIMEOUT_MS 10000

static const char *program_name(const struct string_list *argv) {
  const char *slash = strrchr(argv->items[0], '/');
  return slash != NULL ? slash + 1 : argv->items[0];
}

/* The child side: its fds in place, signals as a fresh process has them,
 * dead with the helper, then the program. */
static noreturn void exec_program(const struct container_spec *spec, const struct string_list *argv, pid_t parent, int netns, int userns, int ready, int exit_read, int log) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) _exit(EXIT_SKIFF_FAILED);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  /* Out of the caller's terminal group: a Ctrl-C is the container's, not its network's. */
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  /* Moved out of the way first: a source may sit on a target number. */
  int src[] = {netns, userns >= 0 ? userns : null, ready, exit_read, log >= 0 ? log : null, null};
  int high[6];
  for (int i = 0; i < 6; i++) {
    high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64);
    if (high[i] < 0) _exit(EXIT_SKIFF_FAILED);
  }
  if (dup2(high[5], STDIN_FILENO) < 0 || dup2(high[4], STDOUT_FILENO) < 0 || dup2(high[4], STDERR_FILENO) < 0 ||
      dup2(high[0], NET_FD_NETNS) < 0 || dup2(high[1], NET_FD_USERNS) < 0 || dup2(high[2], NET_FD_READY) < 0 ||
      dup2(high[3], NET_FD_EXIT) < 0)
    _exit(EXIT_SKIFF_FAILED);
  syscall(SYS_close_range, NET_FD_EXIT + 1, ~0U, 0);
  /* A clean environment, with the container it serves: what finds it again (`ps e`, tests). */
  char owner[160];
  snprintf(owner, sizeof owner, "SKIFF_CONTAINER=%s", spec->net_owner != NULL ? spec->net_owner : "");
  char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", owner, NULL};
  /* pasta's own first step, skipped: exec its AVX2 build when the CPU has AVX2. */
  if (argv == &spec->net_pasta && spec->net_pasta_avx2 != NULL && __builtin_cpu_supports("avx2")) execve(spec->net_pasta_avx2, argv->items, envp);
  execve(argv->items[0], argv->items, envp);
  dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv->items[0], strerror(errno));
  _exit(EXIT_NOT_FOUND);
}

/* The last line of the program's log worth showing (pasta also complains
 * there that it has no syslog), up to a usage text (a bad option of the
 * user's: the line before it names it). */
static void log_tail(const char *path, char *out, size_t size) {
  out[0] = '\0';
  if (path == NULL) return;
  FILE *f = fopen(path, "re");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "Usage:", 6) == 0 && out[0] != '\0') break;
    if (line[0] == '\0' || strncmp(line, "Failed to send", 14) == 0 || strncmp(line, "sent tapfd", 10) == 0 ||
        strncmp(line, "received tapfd", 14) == 0 || strncmp(line, "Don't run as root", 17) == 0)
      continue;
    size_t n = strlen(line) < size - 1 ? strlen(line) : size - 1;
    memcpy(out, line, n);
    out[n] = '\0';
  }
  fclose(f);
}

static long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

enum net_outcome { NET_FAILED, NET_CONFIGURED, NET_READY, NET_ORPHANED };

/* Until the program writes to its ready pipe, dies, or (with a watch) has
 * configured the container's interface; NET_READY when both arrive at once.
 * NET_ORPHANED: `container` (a pidfd, else -1) ended first. */
static enum net_outcome wait_program(int ready_fd, struct net_watch *watch, int container, long deadline_ms, char *why, size_t why_size) {
  for (;;) {
    long left = deadline_ms - now_ms();
    if (left <= 0) {
      snprintf(why, why_size, "not ready after %d s", NET_READY_TIMEOUT_MS / 1000);
      return NET_FAILED;
    }
    struct pollfd p[3] = {{.fd = ready_fd, .events = POLLIN}, {.fd = watch != NULL ? watch->fd : -1, .events = POLLIN}, {.fd = container, .events = POLLIN}};
    int n = poll(p, 3, (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno("poll the network program");
    if (p[0].revents != 0) {
      char buf[64];
      ssize_t got = read(ready_fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      return got > 0 ? NET_READY : NET_FAILED;
    }
    if (p[1].revents != 0) {
      int configured = net_watch_update(watch);
      if (configured > 0) return NET_CONFIGURED;
      /* It cannot tell any more: the ready pipe alone decides. */
      if (configured < 0) watch->fd = -1;
    }
    if (p[2].revents != 0) return NET_ORPHANED;
  }
}

/* Forks and execs one program against `net`'s namespaces: net->pid, its
 * exit pipe and the read end of its ready pipe (net->ready_fd) are set. */
static void launch_program(const struct container_spec *spec, const struct string_list *argv, struct net_process *net) {
  int ready[2], exit_pipe[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(exit_pipe, O_CLOEXEC) < 0) die_errno("pipe for the network program");
  int log = -1;
  if (spec->net_log != NULL) {
    log = open(spec->net_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (log < 0) die_errno("open %s", spec->net_log);
  }
  pid_t parent = getpid();
  net->started_ms = now_ms();
  pid_t pid = fork();
  if (pid < 0) die_errno("fork the network program");
  if (pid == 0) exec_program(spec, argv, parent, net->netns, net->userns, ready[1], exit_pipe[0], log);
  if (log >= 0) close(log);
  close(ready[1]);
  close(exit_pipe[0]);
  net->pid = pid;
  net->exit_fd = exit_pipe[1];
  net->ready_fd = ready[0];
}

/* Ends a network program that failed to get ready: killed, reaped, its
 * pipes closed; the namespaces stay, for the fallback to slirp4netns.
 * Returns its wait status. */
static int discard_program(struct net_process *net) {
  if (net->ready_fd >= 0) close(net->ready_fd);
  net->ready_fd = -1;
  kill(net->pid, SIGKILL);
  int status = 0;
  while (waitpid(net->pid, &status, 0) < 0 && errno == EINTR) {
  }
  net->pid = 0;
  close(net->exit_fd);
  net->exit_fd = -1;
  return status;
}

/* Waits for the program launch_program started; with a watch, returns once
 * it has configured the interface (net->ready_fd still open), else once it
 * is ready. On failure it is reaped and `why` says what went wrong. */
static bool await_program(const struct container_spec *spec, struct net_process *net, struct net_watch *watch, char *why, size_t why_size) {
  why[0] = '\0';
  enum net_outcome outcome = wait_program(net->ready_fd, watch, -1, net->started_ms + NET_READY_TIMEOUT_MS, why, why_size);
  if (outcome != NET_FAILED) {
    /* Kept open until it is ready: pasta dies if its pid finds no reader. */
    if (outcome != NET_CONFIGURED) {
      close(net->ready_fd);
      net->ready_fd = -1;
    }
    return true;
  }
  int status = discard_program(net);
  if (why[0] == '\0') {
    char tail[400];
    log_tail(spec->net_log, tail, sizeof tail);
    if (tail[0] != '\0') snprintf(why, why_size, "%s", tail);
    else if (WIFSIGNALED(status)) snprintf(why, why_size, "killed by signal %d", WTERMSIG(status));
    else snprintf(why, why_size, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return false;
}

static bool try_program(const struct container_spec *spec, const struct string_list *argv, struct net_process *net, struct net_watch *watch, char *why,
                        size_t why_size) {
  launch_program(spec, argv, net);
  return await_program(spec, net, watch, why, why_size);
}

/* One request to slirp4netns's API socket; dies with its error. */
static void slirp_request(const char *socket_path, const char *request, const char *what) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) die(EXIT_SKIFF_FAILED, 0, "slirp4netns API socket path too long: %s", socket_path);
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("socket for slirp4netns's API");
  /* The socket appears shortly after the program says it is ready. */
  int tries = 0;
  while (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if ((errno != ENOENT && errno != ECONNREFUSED) || ++tries > 500) die_errno("connect to slirp4netns's API socket %s", socket_path);
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 2000000};
    nanosleep(&pause, NULL);
  }
  size_t len = strlen(request);
  if (write(fd, request, len) != (ssize_t)len) die_errno("write to slirp4netns's API socket");
  shutdown(fd, SHUT_WR);
  char reply[1024];
  size_t used = 0;
  ssize_t n;
  while (used < sizeof reply - 1 && ((n = read(fd, reply + used, sizeof reply - 1 - used)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0) used += (size_t)n;
  reply[used] = '\0';
  close(fd);
  if (strstr(reply, "\"error\"") != NULL || used == 0) {
    char *desc = strstr(reply, "\"desc\"");
    die(EXIT_SKIFF_FAILED, 0, "%s: slirp4netns refused it: %s", what, desc != NULL ? desc : (used == 0 ? "no reply" : reply));
  }
}

/* net_fwd entries: "PROTO<TAB>HOST_ADDR<TAB>HOST_PORT<TAB>GUEST_PORT". */
static void slirp_forward_ports(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->net_forwards.len; i++) {
    char proto[8], host_addr[64];
    unsigned host_port, guest_port;
    if (sscanf(spec->net_forwards.items[i], "%7[a-z]\t%63[^\t]\t%u\t%u", proto, host_addr, &host_port, &guest_port) != 4)
      die(EXIT_SKIFF_FAILED, 0, "spec: bad net_fwd \"%s\"", spec->net_forwards.items[i]);
    char request[256], what[128];
    snprintf(request, sizeof request,
             "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"%s\", \"host_addr\": \"%s\", \"host_port\": %u, \"guest_port\": %u}}",
             proto, host_addr, host_port, guest_port);
    snprintf(what, sizeof what, "publish %s:%u/%s", host_addr, host_port, proto);
    slirp_request(spec->net_api, request, what);
  }
}

static void close_kept(struct net_process *net) {
  int *fds[] = {&net->ready_fd, &net->netns, &net->userns, &net->watch};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
    if (*fds[i] >= 0) close(*fds[i]);
    *fds[i] = -1;
  }
}

static struct net_watch watch_of(const struct container_spec *spec, const struct net_process *net) {
  return (struct net_watch){.fd = net->watch, .ifname = spec->net_pasta_ifname, .want_ipv6 = spec->net_pasta_ipv6};
}

static void launch_slirp(const struct container_spec *spec, struct net_process *net) {
  /* A restart finds the socket of the program before it. */
  if (spec->net_api != NULL && unlink(spec->net_api) < 0 && errno != ENOENT) die_errno("unlink %s", spec->net_api);
  launch_program(spec, &spec->net_slirp, net);
}

/* slirp4netns after pasta failed (`why`), or alone (started already when
 * net_prepare did): ready before it returns. */
static void start_slirp(const struct container_spec *spec, struct net_process *net, const char *pasta_failed) {
  if (spec->net_slirp.len == 0) {
    if (pasta_failed != NULL) die(EXIT_SKIFF_FAILED, 0, "pasta could not set up the container's network: %s", pasta_failed);
    die(EXIT_SKIFF_FAILED, 0, "spec: network=private needs net_pasta or net_slirp");
  }
  if (pasta_failed != NULL) {
    net->fell_back = true;
    warn_user("pasta could not set up the container's network (%s): using slirp4netns", pasta_failed);
    /* The interface made for pasta would stay beside slirp4netns's tap0, down. */
    struct net_watch w = watch_of(spec, net);
    if (spec->net_pasta_ifname != NULL) net_watch_remove_interface(&w);
    /* After that deletion (synchronous: rtnetlink acts within the send), which may have been pasta's tap0. */
    net_make_slirp_tap_in(spec, net->netns, net->userns);
  }
  if (net->pid == 0) launch_slirp(spec, net);
  char why[512];
  if (!await_program(spec, net, NULL, why, sizeof why))
    die(EXIT_SKIFF_FAILED, 0, "%s could not set up the container's network: %s", program_name(&spec->net_slirp), why);
  if (spec->net_api != NULL) slirp_forward_ports(spec);
}

/* slirp4netns alone, with its tap made beforehand (net_watch.h): started in
 * net_prepare, as pasta is. */
static bool slirp_early(const struct container_spec *spec) {
  return spec->net_pasta.len == 0 && spec->net_slirp_ifname != NULL;
}

/* pasta, released once it has configured the interface it attaches to. */
static bool pasta_watched(const struct container_spec *spec, const struct net_process *net) {
  return spec->net_pasta.len > 0 && spec->net_pasta_ifname != NULL && net->watch >= 0;
}

struct net_process net_prepare(const struct container_spec *spec, int netns, int userns, int watch) {
  struct net_process net = NET_PROCESS_NONE;
  net.netns = netns;
  net.userns = userns;
  net.watch = watch;
  if (spec->network != NETWORK_PRIVATE) {
    close_kept(&net);
    return net;
  }
  /* Its ports are bound before the container runs, as pasta's are. */
  net.forwarder = net_forward_start(spec, netns, userns);
  if (pasta_watched(spec, &net)) launch_program(spec, &spec->net_pasta, &net);
  else if (slirp_early(spec)) launch_slirp(spec, &net);
  return net;
}

void net_start_wait(const struct container_spec *spec, struct net_process *net) {
  if (spec->network != NETWORK_PRIVATE) return;
  char why[512];
  const char *pasta_failed = NULL;
  if (spec->net_pasta.len > 0) {
    struct net_watch w = watch_of(spec, net);
    bool watched = pasta_watched(spec, net);
    bool ok = net->pid > 0 ? await_program(spec, net, watched ? &w : NULL, why, sizeof why) : try_program(spec, &spec->net_pasta, net, watched ? &w : NULL, why, sizeof why);
    if (ok) {
      if (net->ready_fd < 0) close_kept(net);
      return;
    }
    pasta_failed = why;
  }
  start_slirp(spec, net, pasta_failed);
  close_kept(net);
}

struct net_process net_start(const struct container_spec *spec, int netns, int userns, int watch) {
  struct net_process net = net_prepare(spec, netns, userns, watch);
  net_start_wait(spec, &net);
  return net;
}

long net_elapsed_ms(const struct net_process *net) {
  return now_ms() - net->started_ms;
}

void net_start_finish(const struct container_spec *spec, struct net_process *net, pid_t container) {
  if (net->ready_fd < 0) return;
  /* A container that is done already (`run --rm IMAGE true`) needs no more of its network: net_stop ends it. */
  int pidfd = (int)syscall(SYS_pidfd_open, container, 0);
  if (pidfd < 0) die_errno("pidfd_open of the container's process");
  char why[512];
  why[0] = '\0';
  enum net_outcome outcome = wait_program(net->ready_fd, NULL, pidfd, net->started_ms + NET_READY_TIMEOUT_MS, why, sizeof why);
  close(pidfd);
  if (outcome == NET_ORPHANED) {
    report_debug("the container ended before its network program %d was ready", (int)net->pid);
    return;
  }
  if (outcome == NET_READY) {
    report_debug("network program %d ready in %ld ms", (int)net->pid, now_ms() - net->started_ms);
    close_kept(net);
    return;
  }
  discard_program(net);
  if (why[0] == '\0') {
    char tail[400];
    log_tail(spec->net_log, tail, sizeof tail);
    snprintf(why, sizeof why, "%s", tail[0] != '\0' ? tail : "it ended before it was ready");
  }
  start_slirp(spec, net, why);
  close_kept(net);
}

bool net_made_before_clone(const struct container_spec *spec) {
  return spec->network == NETWORK_PRIVATE && spec->pid_join > 0;
}

/* The namespace made before clone, for the child to enter; -1 when none. */
static int premade_netns = -1;

/* A new network namespace, made by a short-lived child (the helper stays in
 * its own, where the network program must run, and could not come back). */
static int make_netns(const struct container_spec *spec) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) die_errno("socketpair");
  pid_t maker = fork();
  if (maker < 0) die_errno("fork");
  if (maker == 0) {
    close(pair[0]);
    if (unshare(CLONE_NEWNET) < 0) die_errno("unshare the container's network namespace");
    net_make_slirp_tap(spec);
    int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) die_errno("open /proc/self/ns/net");
    sync_send_fd(pair[1], SYNC_NET_NS, fd);
    _exit(0);
  }
  close(pair[1]);
  int fd = sync_recv_fd(pair[0], SYNC_NET_NS);
  close(pair[0]);
  int status;
  while (waitpid(maker, &status, 0) < 0)
    if (errno != EINTR) die_errno("wait for the network namespace's maker");
  /* It reported its own failure. */
  if (fd < 0) exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SKIFF_FAILED);
  return fd;
}

struct net_process net_start_before_clone(const struct container_spec *spec) {
  /* A restart under the monitor gets a fresh one. */
  if (premade_netns >= 0) close(premade_netns);
  premade_netns = make_netns(spec);
  /* Rootless, the helper is in the joined user namespace already, and the
   * program with it. No watch: nothing runs yet that could overlap pasta's
   * start. The helper keeps its own fd of the namespace for the child. */
  int netns = fcntl(premade_netns, F_DUPFD_CLOEXEC, 3);
  if (netns < 0) die_errno("fcntl(F_DUPFD_CLOEXEC) of the network namespace");
  return net_start(spec, netns, -1, -1);
}

void net_enter_premade(void) {
  if (premade_netns < 0) return;
  if (setns(premade_netns, CLONE_NEWNET) < 0) die_errno("join the container's network namespace");
  close(premade_netns);
  premade_netns = -1;
}

int net_premade_fd(void) {
  return premade_netns;
}

void net_forget_premade(void) {
  if (premade_netns >= 0) close(premade_netns);
  premade_netns = -1;
}

void net_kill(struct net_process *net) {
  close_kept(net);
  /* Nothing of its own to save: its sockets close with it, so a published port is free once it is reaped. */
  if (net->pid > 0) kill(net->pid, SIGKILL);
  if (net->forwarder > 0) kill(net->forwarder, SIGKILL);
}

void net_stop(struct net_process *net) {
  net_kill(net);
  if (net->pid > 0) {
    while (waitpid(net->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    net->pid = 0;
  }
  if (net->forwarder > 0) {
    while (waitpid(net->forwarder, NULL, 0) < 0 && errno == EINTR) {
    }
    net->forwarder = 0;
  }
  if (net->exit_fd >= 0) {
    close(net->exit_fd);
    net->exit_fd = -1;
  }
}

void net_join_before_clone(const struct container_spec *spec) {
  if (spec->network != NETWORK_JOIN) return;
  int fd = open(spec->net_join, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_errno("open the network namespace %s", spec->net_join);
  struct stat a, b;
  /* A restart under the monitor is in it already; setns would refuse. */
  if (fstat(fd, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
    close(fd);
    return;
  }
  if (setns(fd, CLONE_NEWNET) < 0) die_errno("join the network namespace %s", spec->net_join);
  close(fd);
}

void net_loopback_up(void) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) die_errno("socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) die_errno("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) die_errno("bring lo up");
  close(sock);
}

void net_lost_line(pid_t pid, int status, char *line, size_t len) {
  char how[64];
  if (WIFSIGNALED(status)) snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(status));
  else snprintf(how, sizeof how, "exited (%d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  snprintf(line, len, "skiff: the container's network program (pasta or slirp4netns, pid %d) %s: the container has no network beyond its own until it is restarted", (int)pid, how);
}
