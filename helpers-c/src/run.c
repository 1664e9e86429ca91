/* The helper's run mode, outside the container.
 *
 * Handshake with the container's first process (sync.h):
 *   clone() -> parent writes ID maps -> 'G' -> child sets up mounts...
 *   with -t: child sends 'T' + pty master -> parent sizes it -> 'W'
 *   child execs (its end of the socket is close-on-exec). */
#include "autoremove.h"
#include "cgroup.h"
#include "device_filter.h"
#include "event.h"
#include "fds.h"
#include "health.h"
#include "io.h"
#include "logfile.h"
#include "monitor.h"
#include "notify.h"
#include "network.h"
#include "net_forward.h"
#include "net.h"
#include "start.h"
#include "protocol.h"
#include "report.h"
#include "run.h"
#include "timeout.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals the helper passes on to the container (Docker's sig-proxy). */
static const int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH};

static void forwarded_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++) sigaddset(set, forwarded_signals[i]);
  sigaddset(set, SIGCHLD);
}

/* Copies what is readable on `from` to `to` (and to the log when there is
 * one); false at EOF. A caller that stopped reading (EPIPE) loses the rest,
 * the log keeps it. */
static bool pump(int from, int to, struct logfile *log, const char *stream) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  if (log != NULL) logfile_write(log, stream, buf, (size_t)n);
  if (!io_write_all(to, buf, (size_t)n) && log == NULL) return false;
  return true;
}

/* Where the output still readable after the container's end goes. */
struct drained {
  int to;
  struct logfile *log;
  const char *stream;
};

static void drained_chunk(void *ctx, const char *buf, size_t len) {
  struct drained *d = ctx;
  if (d->log != NULL) logfile_write(d->log, d->stream, buf, len);
  (void)io_write_all(d->to, buf, len); /* a caller that stopped reading loses it; the log keeps it */
}

/* What the container wrote before it died. */
static void drain(int from, int to, struct logfile *log, const char *stream) {
  struct drained d = {.to = to, .log = log, .stream = stream};
  io_drain(from, drained_chunk, &d);
}

/* Waits for the container's first process, relaying signals, the pty, and
 * the output pipes a logged run has (see tee_start). */
/* skiff-forward died during a foreground run: started again (net_forward_revive), and a line says which, on the caller's stderr and in the log. */
/* One line of skiff's own, on the caller's stderr and in the log; `line` has room for its newline. */
static void own_line(char *line, struct logfile *log) {
  size_t len = strlen(line);
  line[len++] = '\n';
  (void)!write(STDERR_FILENO, line, len);
  if (log != NULL) logfile_write(log, "stderr", line, len);
}

static void forwarder_died(const struct container_spec *spec, struct net_process *net, pid_t child, int status, long *started_ms, struct logfile *log) {
  char line[1024];
  net->forwarder = net_forward_revive(spec, child, status, started_ms, line, sizeof line - 1);
  own_line(line, log);
}

int supervise(pid_t child, int master, bool relay_stdin, const struct output_tee *tee, unsigned long timeout_ms, bool kill_group, const struct container_spec *spec,
              struct net_process *net) {
  sigset_t set;
  forwarded_set(&set);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) die_errno("signalfd");
  struct logfile *log = tee != NULL ? tee->log : NULL;
  bool stdin_open = master >= 0 && relay_stdin;
  bool master_open = master >= 0;
  int out = tee != NULL ? tee->out : -1, err = tee != NULL ? tee->err : -1;
  int notify = tee != NULL ? tee->notify_fd : -1;
  int timer = timeout_arm_ms(timeout_ms);
  long forwarder_started = net_forward_clock_ms();
  struct health *health = tee != NULL ? tee->health : NULL;
  for (;;) {
    struct pollfd fds[8] = {{.fd = sfd, .events = POLLIN},
                            {.fd = master_open ? master : -1, .events = POLLIN},
                            {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
                            {.fd = out, .events = POLLIN},
                            {.fd = err, .events = POLLIN},
                            {.fd = notify, .events = POLLIN},
                            {.fd = timer, .events = POLLIN},
                            {.fd = health != NULL ? health->timer_fd : -1, .events = POLLIN}};
    if (poll(fds, 8, -1) < 0) {
      if (errno == EINTR) continue;
      die_errno("poll");
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) master_open = pump(master, STDOUT_FILENO, log, "stdout");
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(STDIN_FILENO, master, NULL, NULL);
    if (fds[3].revents && !pump(out, STDOUT_FILENO, log, "stdout")) out = -1;
    if (fds[4].revents && !pump(err, STDERR_FILENO, log, "stderr")) err = -1;
    /* The main pid of a foreground run stays skiff's own: no MAINPID. */
    if (fds[5].revents & POLLIN) notify_relay(notify, tee->notify_socket, 0);
    if (fds[6].revents & POLLIN) timer = timeout_expire(timer, child, kill_group);
    if (fds[7].revents & POLLIN) health_fire(health);
    if (!(fds[0].revents & POLLIN)) continue;
    struct signalfd_siginfo info;
    if (read(sfd, &info, sizeof info) != sizeof info) continue;
    int sig = (int)info.ssi_signo;
    if (sig == SIGCHLD) {
      int status;
      /* The check and the container; the network programs only when they died on their own (below), else net_stop reaps them. */
      if (health != NULL && health->pid > 0 && waitpid(health->pid, &status, WNOHANG) == health->pid) health_reaped(health, health->pid, status);
      pid_t done = waitpid(child, &status, WNOHANG);
      if (done == child) {
        if (health != NULL) health_stop(health);
        drain(master, STDOUT_FILENO, log, "stdout");
        drain(out, STDOUT_FILENO, log, "stdout");
        drain(err, STDERR_FILENO, log, "stderr");
        return exit_code_of(status);
      }
      int forwarder_status;
      if (net != NULL && net->forwarder > 0 && waitpid(net->forwarder, &forwarder_status, WNOHANG) == net->forwarder)
        forwarder_died(spec, net, child, forwarder_status, &forwarder_started, log);
      /* The network program died on its own (as the monitor tells it): nothing left for net_stop to end. */
      int net_status;
      if (net != NULL && net->pid > 0 && waitpid(net->pid, &net_status, WNOHANG) == net->pid) {
        char line[512];
        net_lost_line(net->pid, net_status, line, sizeof line - 1);
        net->pid = 0;
        own_line(line, log);
      }
    } else if (sig == SIGWINCH && master >= 0) {
      copy_window_size(master);
    } else if (info.ssi_code != SI_KERNEL) {
      /* With -i -t the helper shares skiff's process group (see
       * leave_terminal_group): a signal from the kernel, such as SIGHUP,
       * reaches skiff's Node process too, which forwards it: pass on only
       * that copy. */
      if (kill(child, sig) < 0 && errno != ESRCH) die_errno("forward signal %d", sig);
    }
  }
}

/* A logged foreground run (`log=` without detach): the container writes to
 * pipes that the helper copies both to the caller and to the log, as
 * Podman's conmon does. With -t the pty master is copied instead. The
 * caller's stdout/stderr are put back on 1 and 2 once the child holds the
 * pipes. */
static void tee_prepare(struct output_tee *tee, int saved[2]) {
  if (tee->log == NULL || saved == NULL) return;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) die_errno("pipe for the container's output");
  saved[0] = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  saved[1] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved[0] < 0 || saved[1] < 0) die_errno("fcntl(F_DUPFD_CLOEXEC) of stdout/stderr");
  if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0) die_errno("dup2 the container's output");
  close(out[1]);
  close(err[1]);
  tee->out = out[0];
  tee->err = err[0];
}

static void tee_restore(const int saved[2]) {
  if (dup2(saved[0], STDOUT_FILENO) < 0 || dup2(saved[1], STDERR_FILENO) < 0) die_errno("dup2 the caller's stdout/stderr");
  close(saved[0]);
  close(saved[1]);
}

void leave_terminal_group(const struct container_spec *spec) {
  /* With -i -t the caller's terminal is raw (no signals) and the helper reads
   * it: it must stay in the foreground group or reading stops it (SIGTTIN). */
  if (spec->tty && spec->stdin_open) return;
  if (setpgid(0, 0) < 0) die_errno("setpgid");
  /* Writing the container's output to a terminal from a background group is
   * allowed when SIGTTOU is ignored, even with `stty tostop`. */
  signal(SIGTTOU, SIG_IGN);
}

noreturn void run_main(void) {
  report_set_fd(SKIFF_SPEC_FD);
  /* Whatever skiff's caller left open is none of the container's business. */
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  /* After the spec, which says how many of the caller's fds the container keeps. */
  int keep[] = {SKIFF_SPEC_FD, SKIFF_NET_MEMBER_FD};
  fds_close_except_preserved(keep, 2, spec.preserve_fds);
  network_keep_member_fd(&spec);
  if (spec.rootfs == NULL || spec.rootfs[0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: rootfs must be an absolute path");
  /* Before the monitor forks: it must sit in the supervisor cgroup too. */
  cgroup_prepare_split(&spec);
  /* Before any process of the container is in its cgroup. */
  device_filter_attach(&spec);
  if (spec.detach) monitor_main(&spec);

  /* If skiff itself dies, so does the container. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  leave_terminal_group(&spec);
  sigset_t set, previous;
  forwarded_set(&set);
  if (sigprocmask(SIG_BLOCK, &set, &previous) < 0) die_errno("sigprocmask");
  signal(SIGPIPE, SIG_IGN);

  struct logfile log;
  struct health health = HEALTH_NONE;
  struct output_tee tee = {.log = NULL, .out = -1, .err = -1, .notify_fd = notify_proxy_open(&spec), .notify_socket = spec.notify_socket, .health = &health};
  int saved[2] = {-1, -1};
  if (spec.log_path != NULL) {
    logfile_open(&log, spec.log_path, spec.log_max);
    tee.log = &log;
    if (!spec.tty) tee_prepare(&tee, saved);
  }
  /* The helper records the start: a skiff killed from then on leaves a
   * container that ps shows as it is (state.ts), not one never started. */
  char started_at[48];
  format_now(started_at, sizeof started_at);
  struct start_record record = {.path = spec.pid_path, .started_at = started_at, .restarts = 0};
  long oom_before = cgroup_oom_kills(&spec);
  struct started started = container_start(&spec, &previous, &record);
  /* As the monitor does: a command that could not run never started. */
  if (!started.exec_failed) event_log_started(&spec);
  if (!started.exec_failed) health_start(&health, &spec, &previous);
  fds_close_preserved(spec.preserve_fds);
  if (saved[0] >= 0) tee_restore(saved);
  report_pid(started.pid);
  notify_started(&spec, 0);
  int code = supervise(started.pid, started.master, spec.stdin_open, &tee, spec.timeout * 1000UL, false, &spec, &started.net);
  /* The network program exits while the helper reads the OOM count and
   * removes the trees; it is reaped before the helper exits, so that skiff
   * returns with it gone and its published ports free. */
  net_kill(&started.net);
  if (oom_before >= 0) report_oom(cgroup_oom_kills(&spec) > oom_before);
  /* run --rm: the container's trees go now, in its own user namespace. */
  autoremove_trees(&spec, started.userns);
  /* Everything is said: skiff records the end while the program exits
   * (its memory goes, ~1-2 ms for pasta), and waits for this helper's
   * exit before it returns. */
  if (started.net.pid > 0) report_exited(code);
  net_stop(&started.net);
  _exit(code);
}
