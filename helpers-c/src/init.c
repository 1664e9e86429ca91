#include "init.h"
#include "exec.h"
#include "report.h"
#include "start.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

noreturn void init_run(char *const argv[], char *const env[]) {
  sigset_t all, previous;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, &previous) < 0) die_errno("sigprocmask");
  pid_t child = fork();
  if (child < 0) die_errno("fork the command under init");
  if (child == 0) {
    if (sigprocmask(SIG_SETMASK, &previous, NULL) < 0) die_errno("sigprocmask");
    exec_command(argv, env);
  }
  /* This process runs the helper's binary inside the container: make it
   * non-dumpable so no container process can open /proc/1/exe (CVE-2019-5736). */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_errno("prctl(PR_SET_DUMPABLE)");
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
