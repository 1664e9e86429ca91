/* The helper's run mode, outside the container.
 *
 * Handshake with the container's first process (sync.h):
 *   clone() -> parent writes ID maps -> 'G' -> child sets up mounts...
 *   with -t: child sends 'T' + pty master -> parent sizes it -> 'W'
 *   child execs (its end of the socket is close-on-exec). */
#include "monitor.h"
#include "start.h"
#include "protocol.h"
#include "report.h"
#include "run.h"
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

static bool write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, -1);
        continue;
      }
      return false;
    }
    buf += n;
    len -= (size_t)n;
  }
  return true;
}

/* Copies what is readable on `from` to `to`; false at EOF or error. */
static bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  return write_all(to, buf, (size_t)n);
}

static void drain(int master) {
  int flags = fcntl(master, F_GETFL);
  if (flags >= 0) fcntl(master, F_SETFL, flags | O_NONBLOCK);
  char buf[16384];
  ssize_t n;
  while ((n = read(master, buf, sizeof buf)) > 0)
    if (!write_all(STDOUT_FILENO, buf, (size_t)n)) break;
}

/* Waits for the container's first process, relaying signals and the pty. */
int supervise(pid_t child, int master, bool relay_stdin) {
  sigset_t set;
  forwarded_set(&set);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) die_errno("signalfd");
  bool stdin_open = master >= 0 && relay_stdin;
  bool master_open = master >= 0;
  for (;;) {
    struct pollfd fds[3] = {{.fd = sfd, .events = POLLIN},
                            {.fd = master_open ? master : -1, .events = POLLIN},
                            {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die_errno("poll");
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) master_open = pump(master, STDOUT_FILENO);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(STDIN_FILENO, master);
    if (!(fds[0].revents & POLLIN)) continue;
    struct signalfd_siginfo info;
    if (read(sfd, &info, sizeof info) != sizeof info) continue;
    int sig = (int)info.ssi_signo;
    if (sig == SIGCHLD) {
      int status;
      pid_t done = waitpid(child, &status, WNOHANG);
      if (done == child) {
        if (master >= 0) drain(master);
        return exit_code_of(status);
      }
    } else if (sig == SIGWINCH && master >= 0) {
      copy_window_size(master);
    } else if (info.ssi_code != SI_KERNEL) {
      /* A terminal's own SIGINT/SIGQUIT (SI_KERNEL) reaches skiff's Node
       * process too, which forwards it: pass on only that copy. */
      if (kill(child, sig) < 0 && errno != ESRCH) die_errno("forward signal %d", sig);
    }
  }
}

noreturn void run_main(void) {
  report_set_fd(SKIFF_SPEC_FD);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  if (spec.rootfs == NULL || spec.rootfs[0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: rootfs must be an absolute path");
  if (spec.detach) monitor_main(&spec);

  /* If skiff itself dies, so does the container. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  sigset_t set, previous;
  forwarded_set(&set);
  if (sigprocmask(SIG_BLOCK, &set, &previous) < 0) die_errno("sigprocmask");
  signal(SIGPIPE, SIG_IGN);

  struct started started = container_start(&spec, &previous);
  report_pid(started.pid);
  _exit(supervise(started.pid, started.master, spec.stdin_open));
}
