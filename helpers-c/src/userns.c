#include "userns.h"
#include "fds.h"
#include "idmap.h"
#include "protocol.h"
#include "report.h"
#include "sync.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals passed on to the program, so that Ctrl-C and SIGTERM stop it. */
static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

noreturn void userns_main(void) {
  report_set_fd(SKIFF_SPEC_FD);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  if (!spec.userns) die(EXIT_SKIFF_FAILED, 0, "spec: userns mode needs uidmap and gidmap");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");

  int sync_pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) < 0) die_errno("socketpair");
  sigset_t set, previous;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &previous) < 0) die_errno("sigprocmask");

  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) die_errno("clone a user namespace (see 'skiff doctor')");
  if (child == 0) {
    close(sync_pair[0]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
    if (sigprocmask(SIG_SETMASK, &previous, NULL) < 0) die_errno("sigprocmask");
    if (!sync_expect(sync_pair[1], SYNC_MAPS_WRITTEN)) _exit(EXIT_SKIFF_FAILED);
    if (setresgid(0, 0, 0) < 0) die_errno("setresgid(0) in the user namespace");
    if (setresuid(0, 0, 0) < 0) die_errno("setresuid(0) in the user namespace");
    if (spec.cwd && chdir(spec.cwd) < 0) die_errno("chdir %s", spec.cwd);
    fds_cloexec_from(3);
    execve(spec.argv.items[0], spec.argv.items, spec.env.items);
    die_errno("exec %s", spec.argv.items[0]);
  }
  close(sync_pair[1]);
  idmap_write(child, &spec);
  sync_send(sync_pair[0], SYNC_MAPS_WRITTEN);
  close(sync_pair[0]);

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      die_errno("sigwaitinfo");
    }
    if (sig != SIGCHLD) {
      if (info.si_code != SI_KERNEL && kill(child, sig) < 0 && errno != ESRCH) die_errno("forward signal %d", sig);
      continue;
    }
    int status;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

void userns_fork(const struct container_spec *spec) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) die_errno("socketpair");
  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) die_errno("clone a user namespace (see 'skiff doctor')");
  if (child == 0) {
    close(pair[0]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
    if (!sync_expect(pair[1], SYNC_MAPS_WRITTEN)) _exit(EXIT_SKIFF_FAILED);
    close(pair[1]);
    if (setresgid(0, 0, 0) < 0) die_errno("setresgid(0) in the user namespace");
    if (setresuid(0, 0, 0) < 0) die_errno("setresuid(0) in the user namespace");
    return;
  }
  close(pair[1]);
  idmap_write(child, spec);
  sync_send(pair[0], SYNC_MAPS_WRITTEN);
  close(pair[0]);
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) die_errno("wait for the child in the user namespace");
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
