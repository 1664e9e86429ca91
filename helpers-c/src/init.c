#include "init.h"
#include "command.h"
#include "report.h"
#include "start.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

noreturn void init_run(char *const argv[], char *const env[], int sync_sock) {
  sigset_t all, previous;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, &previous) < 0) die_errno("sigprocmask");
  int exec_done[2];
  if (pipe2(exec_done, O_CLOEXEC) < 0) die_errno("pipe2");
  pid_t child = fork();
  if (child < 0) die_errno("fork the command under init");
  if (child == 0) {
    if (sigprocmask(SIG_SETMASK, &previous, NULL) < 0) die_errno("sigprocmask");
    command_exec(argv, env);
  }
  /* Once the command has exec'd (or reported why it could not), init lets go
   * of the sync socket and the report fd: skiff waits for both to close. */
  close(exec_done[1]);
  char byte;
  while (read(exec_done[0], &byte, 1) < 0 && errno == EINTR) {
  }
  close(exec_done[0]);
  close(sync_sock);
  report_set_failure_sock(-1);
  if (report_fd() >= 0) close(report_fd());
  report_set_fd(-1);
  /* This process runs the helper inside the container: skiff started it from
   * a sealed memfd copy (run --sealed), so /proc/1/exe cannot be written. */
  if (prctl(PR_SET_NAME, "skiff-init", 0, 0, 0) < 0) die_errno("prctl(PR_SET_NAME)");
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      die_errno("sigwaitinfo");
    }
    if (sig != SIGCHLD) {
      if (kill(child, sig) < 0 && errno != ESRCH) die_errno("forward signal %d", sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t reaped = waitpid(-1, &status, WNOHANG);
      if (reaped <= 0) break;
      if (reaped == child) _exit(exit_code_of(status));
    }
  }
}
