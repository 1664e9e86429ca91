/* `skiff-helper exec` (exec.h): a command in a running container. */
#include "exec.h"
#include "cgroup.h"
#include "container.h"
#include "fds.h"
#include "join.h"
#include "protocol.h"
#include "report.h"
#include "run.h"
#include "sealed.h"
#include "start.h"
#include "sync.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

noreturn void exec_main(char **argv) {
  sealed_reexec(argv);
  report_set_fd(SKIFF_SPEC_FD);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  /* After the spec, which says how many of the caller's fds the process keeps. */
  int report = SKIFF_SPEC_FD;
  fds_close_except_preserved(&report, 1, spec.preserve_fds);
  if (spec.target_pid <= 0) die(EXIT_SKIFF_FAILED, 0, "spec: exec needs target_pid");
  /* Not even our own sealed copy is reachable through /proc from inside. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_errno("prctl(PR_SET_DUMPABLE)");
  if (spec.background) {
    if (spec.tty || spec.stdin_open) die(EXIT_SKIFF_FAILED, 0, "exec -d cannot be combined with -i or -t");
    if (getsid(0) != getpid() && setsid() < 0) die_errno("setsid");
  } else {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
    leave_terminal_group(&spec);
  }

  /* The exec'd process belongs to the container's cgroup, like the rest of it. */
  cgroup_enter_all(&spec);
  /* Open all first: once in the mount namespace, the host's /proc is gone. */
  static const struct {
    const char *name;
    int type;
  } kinds[] = {{"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS},
               {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP}};
  int user_fd = spec.userns ? join_open_ns(spec.target_pid, "user") : -1;
  int fds[6];
  /* --cgroupns host: the container is in the helper's own cgroup namespace already (and rootless may not join the host's). */
  for (size_t i = 0; i < 6; i++) fds[i] = kinds[i].type == CLONE_NEWCGROUP && spec.cgroupns_host ? -1 : join_open_ns(spec.target_pid, kinds[i].name);
  if (user_fd >= 0) join_ns(user_fd, CLONE_NEWUSER, "user");
  for (size_t i = 0; i < 6; i++)
    if (fds[i] >= 0) join_ns(fds[i], kinds[i].type, kinds[i].name);

  int sync_pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) < 0) die_errno("socketpair");
  sigset_t set, previous;
  sigemptyset(&set);
  int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH, SIGCHLD};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  if (sigprocmask(SIG_BLOCK, &set, &previous) < 0) die_errno("sigprocmask");
  signal(SIGPIPE, SIG_IGN);

  /* The PID namespace applies to children: the command runs in a fork. */
  pid_t child = fork();
  if (child < 0) die_errno("fork into the container");
  if (child == 0) {
    /* In the container's namespaces now: nothing but the two channels to
     * the helper may be open when it first looks at a path. */
    int keep[] = {report_fd(), sync_pair[1]};
    fds_close_except_preserved(keep, 2, spec.preserve_fds);
    signal(SIGPIPE, SIG_DFL);
    if (sigprocmask(SIG_SETMASK, &previous, NULL) < 0) die_errno("sigprocmask");
    if (spec.userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) die_errno("become root in the container's user namespace");
    if (setsid() < 0) die_errno("setsid"); /* as in run: the terminal signals skiff, not the process */
    container_become_process(&spec, sync_pair[1], false);
  }
  close(sync_pair[1]);
  fds_close_preserved(spec.preserve_fds);
  int master = -1;
  if (spec.tty) {
    master = sync_recv_fd(sync_pair[0], SYNC_TTY_MASTER);
    if (master >= 0) {
      copy_window_size(master);
      sync_send(sync_pair[0], SYNC_TTY_SIZED);
    }
  }
  close(sync_pair[0]);
  report_pid(child);
  if (spec.background) {
    /* skiff returns now; the command lives on, reaped by this helper. */
    report_set_fd(-1);
    close(SKIFF_SPEC_FD);
  }
  _exit(supervise(child, master, spec.stdin_open, NULL, spec.timeout_ms, true, NULL, NULL));
}
