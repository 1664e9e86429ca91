/* The monitor of a detached container (run -d): see monitor.h. */
#include "monitor.h"
#include "autoremove.h"
#include "network.h"
#include "timeout.h"
#include "cgroup.h"
#include "event.h"
#include "fds.h"
#include "health.h"
#include "io.h"
#include "logfile.h"
#include "net_forward.h"
#include "notify.h"
#include "record.h"
#include "report.h"
#include "start.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
enum { STREAM_STDOUT = 1, STREAM_STDERR = 2, STREAM_EXIT = 3 };

/* Everything the monitor's loop owns, in one place. */
struct monitor {
  const struct container_spec *spec;
  struct logfile log;
  int listen_fd;
  int clients[MAX_CLIENTS];
  int out_fd, err_fd; /* container stdout/stderr (or the pty master in out_fd) */
  int in_fd;          /* container stdin, -1 when closed */
  pid_t pid;
  int userns; /* run -d --rm: this start's user namespace, held for the removal (autoremove.h), else -1 */
  struct net_process net; /* the container's network program (network=private) */
  long oom_kills; /* the cgroup's OOM kills when this start began, -1 without a memory cgroup */
  int notify_fd;  /* --sdnotify=container: the proxy socket (notify.h), else -1 */
  int timeout_fd; /* --timeout: fires when this start has run its time (timeout.h), else -1 */
  struct health health; /* the healthcheck's timer and the check running now (health.h) */
  bool report_open; /* skiff still waits on fd 3: for the container's READY=1 */
  bool exec_failed; /* this start's command never ran (start.h) */
  char started_at[48];
  unsigned restarts;
  long forwarder_started_ms; /* CLOCK_MONOTONIC when the port forwarder was last started */
};

/* One line of skiff's own in the container's log (stderr), where `skiff logs` shows it. */
static void log_own_line(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_own_line(struct monitor *m, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  logfile_write(&m->log, "stderr", line, (size_t)n);
}

/* skiff-forward (the published TCP ports, net_forward.h) died while the
 * container runs (a kill -9, the OOM killer): started again once per death,
 * unless it died within a second of its last start; a line in the
 * container's log says which (net_forward_revive). */
static void forwarder_died(struct monitor *m, int status) {
  char line[1024];
  m->net.forwarder = net_forward_revive(m->spec, m->pid, status, &m->forwarder_started_ms, line, sizeof line);
  log_own_line(m, "%s", line);
}

static void send_frame(struct monitor *m, int stream, const void *data, uint32_t len) {
  unsigned char head[5] = {(unsigned char)stream, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len};
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (m->clients[i] < 0) continue;
    /* A client that cannot keep up is dropped, never waited for. */
    if (send(m->clients[i], head, 5, MSG_NOSIGNAL | MSG_DONTWAIT) != 5 ||
        (len && send(m->clients[i], data, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)) {
      close(m->clients[i]);
      m->clients[i] = -1;
    }
  }
}

/* Reads one chunk of container output; false at EOF. */
static bool relay_output(struct monitor *m, int fd, int stream) {
  char buf[16384];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  logfile_write(&m->log, stream == STREAM_STDOUT ? "stdout" : "stderr", buf, (size_t)n);
  send_frame(m, stream, buf, (uint32_t)n);
  return true;
}

static void relay_input(struct monitor *m, int slot) {
  char buf[16384];
  ssize_t n = recv(m->clients[slot], buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    close(m->clients[slot]);
    m->clients[slot] = -1;
    return;
  }
  if (m->in_fd >= 0 && write(m->in_fd, buf, (size_t)n) < 0 && errno == EPIPE) {
    close(m->in_fd);
    m->in_fd = -1;
  }
}

static void accept_client(struct monitor *m) {
  int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (m->clients[i] < 0) {
      m->clients[i] = fd;
      return;
    }
  }
  close(fd);
}

static int listen_on(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  /* A long path (sun_path holds 107 bytes) is reached through its directory's fd. */
  char short_path[sizeof addr.sun_path];
  const char *bind_path = path;
  int dir_fd = -1;
  if (strlen(path) >= sizeof addr.sun_path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) die(EXIT_SKIFF_FAILED, 0, "attach socket path too long: %s", path);
    *slash = '\0';
    dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) die_errno("open %s", dir);
    int n = snprintf(short_path, sizeof short_path, "/proc/self/fd/%d/%s", dir_fd, slash + 1);
    if (n < 0 || (size_t)n >= sizeof short_path) die(EXIT_SKIFF_FAILED, 0, "attach socket name too long: %s", slash + 1);
    bind_path = short_path;
  }
  strcpy(addr.sun_path, bind_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die_errno("socket for %s", path);
  unlink(path);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die_errno("bind %s", path);
  if (listen(fd, 8) < 0) die_errno("listen %s", path);
  /* A directory fd of the host: it must not outlive the bind (CVE-2024-21626's class). */
  if (dir_fd >= 0) close(dir_fd);
  return fd;
}

/* Gives the container fresh stdio on fds 0-2 (pipes, or the pty it makes
 * itself with -t), starts it, and keeps the monitor's ends. */
static void start(struct monitor *m, const sigset_t *child_mask) {
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  if (!m->spec->tty) {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) die_errno("pipe for the container's output");
    if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0) die_errno("dup2 the container's output");
    close(out[1]);
    close(err[1]);
  }
  if (m->spec->stdin_open && !m->spec->tty) {
    if (pipe2(in, O_CLOEXEC) < 0) die_errno("pipe for the container's input");
    if (dup2(in[0], STDIN_FILENO) < 0) die_errno("dup2 the container's input");
    close(in[0]);
  }
  format_now(m->started_at, sizeof m->started_at);
  m->oom_kills = cgroup_oom_kills(m->spec);
  struct start_record record = {.path = m->spec->pid_path, .started_at = m->started_at, .restarts = m->restarts};
  struct started s = container_start(m->spec, child_mask, &record);
  m->pid = s.pid;
  m->exec_failed = s.exec_failed;
  m->net = s.net;
  m->forwarder_started_ms = net_forward_clock_ms();
  net_forward_ports_up(m->spec);
  if (m->userns >= 0) close(m->userns);
  m->userns = s.userns;
  if (m->timeout_fd >= 0) close(m->timeout_fd);
  m->timeout_fd = timeout_arm(m->spec->timeout);
  if (!s.exec_failed) health_start(&m->health, m->spec, child_mask);
  m->out_fd = m->spec->tty ? s.master : out[0];
  m->err_fd = m->spec->tty ? -1 : err[0];
  m->in_fd = m->spec->tty ? (m->spec->stdin_open ? s.master : -1) : in[1];
  /* The monitor's own 0-2 go back to /dev/null: the container holds the rest. */
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) die_errno("open /dev/null");
  for (int fd = 0; fd <= 2; fd++) dup2(null, fd);
  close(null);
}

static bool should_restart(const struct monitor *m, int code) {
  const char *policy = m->spec->restart;
  if (strcmp(policy, "always") == 0) return true;
  if (strcmp(policy, "on-failure") == 0) return code != 0 && (m->spec->restart_max == 0 || m->restarts < m->spec->restart_max);
  return false;
}

/* The "died" event: the exit code first, as lib/events/log.ts writes it. */
static void log_died_event(const struct container_spec *spec, int code) {
  if (spec->event_died_head == NULL) return;
  char *head = NULL;
  if (asprintf(&head, "{\"ContainerExitCode\":%d%s", code, spec->event_died_head) < 0) return;
  event_append(spec, head, spec->event_died_tail);
  free(head);
}

static void run_on_exit(const struct container_spec *spec) {
  if (spec->on_exit.len == 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    execv(spec->on_exit.items[0], spec->on_exit.items);
    _exit(127);
  }
}

/* Where the output still readable after the container's end goes. */
struct drained {
  struct monitor *m;
  int stream;
};

static void drained_chunk(void *ctx, const char *buf, size_t len) {
  struct drained *d = ctx;
  logfile_write(&d->m->log, d->stream == STREAM_STDOUT ? "stdout" : "stderr", buf, len);
  send_frame(d->m, d->stream, buf, (uint32_t)len);
}

/* What the container wrote before it died. */
static void drain(struct monitor *m, int fd, int stream) {
  struct drained d = {.m = m, .stream = stream};
  io_drain(fd, drained_chunk, &d);
}

/* Waits for the container, relaying its output, until it is gone for good. */
/* stop_file's word: `skiff stop` leaves it empty, `skiff kill` writes "kill".
 * Either way the end was asked for and nothing restarts (Podman's
 * StoppedByUser, Docker's ExitOnNext); only a stop is a clean end for a unit. */
enum stop_request { STOP_NONE, STOP_CLEAN, STOP_KILL };

static enum stop_request stop_request_of(const char *path) {
  if (path == NULL) return STOP_NONE;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) warn_user("open %s: %s: the container's restart policy applies", path, strerror(errno));
    return STOP_NONE;
  }
  char first;
  ssize_t n;
  do n = read(fd, &first, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) warn_user("read %s: %s: taken as a stop", path, strerror(errno));
  close(fd);
  return n > 0 ? STOP_KILL : STOP_CLEAN;
}

/* A unit whose main pid is the monitor ends as its container did: with its
 * code, or killed by its signal; after a requested stop (stop_file; the
 * unit's ExecStop) with 0, whether the container's PID 1 exited on the stop
 * signal, ignored it (init's rule) and was killed after the timeout, or
 * exited 143: systemd then sees `systemctl stop` as a clean end. */
static noreturn void exit_as(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
  }
  _exit(exit_code_of(status));
}

/* skiff returns once fd 3 is closed. */
static void close_report(struct monitor *m) {
  if (!m->report_open) return;
  report_set_fd(-1);
  close(SKIFF_SPEC_FD);
  m->report_open = false;
}

static noreturn void loop(struct monitor *m, int sfd, const sigset_t *child_mask) {
  for (;;) {
    struct pollfd fds[7 + MAX_CLIENTS];
    fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
    fds[2] = (struct pollfd){.fd = m->out_fd, .events = POLLIN};
    fds[3] = (struct pollfd){.fd = m->err_fd, .events = POLLIN};
    for (int i = 0; i < MAX_CLIENTS; i++) fds[4 + i] = (struct pollfd){.fd = m->clients[i], .events = POLLIN};
    fds[4 + MAX_CLIENTS] = (struct pollfd){.fd = m->notify_fd, .events = POLLIN};
    fds[5 + MAX_CLIENTS] = (struct pollfd){.fd = m->timeout_fd, .events = POLLIN};
    fds[6 + MAX_CLIENTS] = (struct pollfd){.fd = m->health.timer_fd, .events = POLLIN};
    if (poll(fds, 7 + MAX_CLIENTS, -1) < 0) {
      if (errno == EINTR) continue;
      die_errno("poll");
    }
    if (fds[2].revents && !relay_output(m, m->out_fd, STREAM_STDOUT)) m->out_fd = -1;
    if (fds[3].revents && !relay_output(m, m->err_fd, STREAM_STDERR)) m->err_fd = -1;
    if (fds[1].revents & POLLIN) accept_client(m);
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (fds[4 + i].revents) relay_input(m, i);
    if (fds[5 + MAX_CLIENTS].revents & POLLIN) m->timeout_fd = timeout_expire(m->timeout_fd, m->pid, false);
    if (fds[6 + MAX_CLIENTS].revents & POLLIN) health_fire(&m->health);
    if ((fds[4 + MAX_CLIENTS].revents & POLLIN) && notify_relay(m->notify_fd, m->spec->notify_socket, getpid())) close_report(m);
    if (!(fds[0].revents & POLLIN)) continue;
    struct signalfd_siginfo info;
    if (read(sfd, &info, sizeof info) != sizeof info || info.ssi_signo != SIGCHLD) continue;
    int status = 0;
    pid_t done;
    bool exited = false, forwarder_gone = false;
    int reaped, forwarder_status = 0, net_status = 0;
    pid_t net_gone = 0;
    while ((done = waitpid(-1, &reaped, WNOHANG)) > 0) {
      if (done == m->pid) exited = true, status = reaped;
      health_reaped(&m->health, done, reaped);
      /* Its network program died on its own: nothing left to end. */
      if (done == m->net.pid) m->net.pid = 0, net_gone = done, net_status = reaped;
      if (done == m->net.forwarder) m->net.forwarder = 0, forwarder_gone = true, forwarder_status = reaped;
    }
    if (forwarder_gone && !exited) forwarder_died(m, forwarder_status);
    if (net_gone > 0 && !exited) {
      char line[512];
      net_lost_line(net_gone, net_status, line, sizeof line);
      log_own_line(m, "%s", line);
    }
    if (!exited) continue;
    if (m->timeout_fd >= 0) close(m->timeout_fd), m->timeout_fd = -1;
    health_stop(&m->health);
    drain(m, m->out_fd, STREAM_STDOUT);
    drain(m, m->err_fd, STREAM_STDERR);
    net_stop(&m->net);
    int code = exit_code_of(status);
    bool oom_killed = m->oom_kills >= 0 && cgroup_oom_kills(m->spec) > m->oom_kills;
    record_exit(m->spec->exit_path, code, m->started_at, m->restarts, oom_killed);
    log_died_event(m->spec, code);
    /* `skiff stop` (a unit's ExecStop) or `skiff kill` left its word: the end was asked for. */
    enum stop_request asked = stop_request_of(m->spec->stop_path);
    if (asked == STOP_NONE && should_restart(m, code)) {
      /* Podman's sequence for a policy restart: died, restart, then init and start once it runs again. */
      if (m->spec->event_restart_head != NULL && m->spec->event_restart_tail != NULL)
        event_append(m->spec, m->spec->event_restart_head, m->spec->event_restart_tail);
      struct timespec pause = {.tv_sec = 0, .tv_nsec = 100000000L << (m->restarts < 6 ? m->restarts : 6)};
      while (pause.tv_nsec >= 1000000000L) pause.tv_sec++, pause.tv_nsec -= 1000000000L;
      nanosleep(&pause, NULL);
      m->restarts++;
      if (m->out_fd >= 0) close(m->out_fd);
      if (m->err_fd >= 0) close(m->err_fd);
      if (m->in_fd >= 0 && m->in_fd != m->out_fd) close(m->in_fd);
      start(m, child_mask);
      if (!m->exec_failed) event_append_lines(m->spec, &m->spec->event_restarted_heads, &m->spec->event_restarted_tails);
      continue;
    }
    if (m->report_open) warn_user("the container exited (%d) before it sent READY=1 (--sdnotify=container): the unit fails to start", code);
    close_report(m);
    uint32_t be = htonl((uint32_t)code);
    send_frame(m, STREAM_EXIT, &be, 4);
    unlink(m->spec->attach_path);
    /* run -d --rm: the monitor removes the container; skiff's `rm` only when it could not. */
    int userns = m->userns;
    m->userns = -1;
    if (m->spec->autoremove_dir == NULL || !autoremove_container(m->spec, userns)) run_on_exit(m->spec);
    exit_as(asked == STOP_CLEAN ? 0 : status);
  }
}

noreturn void monitor_main(const struct container_spec *spec) {
  pid_t monitor = fork();
  if (monitor < 0) die_errno("fork the monitor");
  /* skiff's child returns at once; the monitor reports on fd 3 and closes it
   * when the container has exec'd, which is what skiff waits for. */
  if (monitor > 0) _exit(0);

  if (setsid() < 0) die_errno("setsid");
  /* The monitor lives as long as the container: it keeps only its stdio,
   * the report fd and the --preserve-fds ones (for each restart) of all it inherited. */
  int keep[] = {report_fd(), spec->net_member ? SKIFF_NET_MEMBER_FD : -1};
  fds_close_except_preserved(keep, 2, spec->preserve_fds);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  struct monitor m = {.spec = spec, .listen_fd = -1, .out_fd = -1, .err_fd = -1, .in_fd = -1, .timeout_fd = -1, .userns = -1, .report_open = true, .net = NET_PROCESS_NONE, .health = HEALTH_NONE};
  for (int i = 0; i < MAX_CLIENTS; i++) m.clients[i] = -1;
  /* No log= (--log-driver none): the output still reaches attached clients, and no file. */
  if (spec->log_path != NULL) logfile_open(&m.log, spec->log_path, spec->log_max);
  else m.log = (struct logfile){.path = NULL, .fd = -1, .max = spec->log_max, .size = 0};
  m.listen_fd = listen_on(spec->attach_path);
  m.notify_fd = notify_proxy_open(spec);

  sigset_t set, previous;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &previous) < 0) die_errno("sigprocmask");
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) die_errno("signalfd");

  if (spec->attach_wait) {
    /* No output may be lost to the first client: it attaches before the start. */
    struct pollfd p = {.fd = m.listen_fd, .events = POLLIN};
    int ready;
    while ((ready = poll(&p, 1, 10000)) < 0 && errno == EINTR) {
    }
    if (ready <= 0) die(EXIT_SKIFF_FAILED, 0, "no client attached to %s within 10 s", spec->attach_path);
    accept_client(&m);
  }
  start(&m, &previous);
  /* init, start (attach): here, not by skiff after the helper returned, so that they precede this process's died and remove. */
  if (!m.exec_failed) event_log_started(spec);
  report_monitor((int)getpid());
  report_pid((int)m.pid);
  notify_started(spec, getpid());
  /* --sdnotify=container: skiff (the unit's first main process) waits for the
   * container's READY=1, so systemd learns the monitor's pid before it exits. */
  if (m.notify_fd < 0 || spec->notify_socket == NULL) close_report(&m);
  loop(&m, sfd, &previous);
}
