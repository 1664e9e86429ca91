#include "exec.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *env_lookup(char *const env[], const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; env[i]; i++)
    if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') return env[i] + len + 1;
  return NULL;
}

static noreturn void exec_failed(const char *command, int err) {
  if (err == ENOENT || err == ENOTDIR)
    die(EXIT_NOT_FOUND, 0, "exec: \"%s\": %s", command,
        strchr(command, '/') ? "no such file or directory" : "executable file not found in $PATH");
  die(EXIT_CANNOT_INVOKE, err, "exec: \"%s\"", command);
}

noreturn void exec_command(char *const argv[], char *const env[]) {
  const char *command = argv[0];
  if (command[0] == '\0') exec_failed(command, ENOENT);
  if (strchr(command, '/')) {
    execve(command, argv, env);
    exec_failed(command, errno);
  }
  const char *path = env_lookup(env, "PATH");
  if (path == NULL) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int first_error = ENOENT;
  for (const char *dir = path;; dir = strchr(dir, ':') + 1) {
    size_t dir_len = strcspn(dir, ":");
    char candidate[PATH_MAX];
    int n = snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dir_len, dir_len ? dir : ".", command);
    if (n > 0 && (size_t)n < sizeof candidate) {
      execve(candidate, argv, env);
      /* Like execvp: remember that something existed but could not be run. */
      if (errno != ENOENT && errno != ENOTDIR && first_error == ENOENT) first_error = errno;
    }
    if (dir[dir_len] == '\0') break;
  }
  exec_failed(command, first_error);
}

void exec_cloexec_from(int first_fd) {
  if (syscall(SYS_close_range, (unsigned)first_fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  /* Kernels before 5.11: walk /proc/self/fd. */
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) die_errno("opendir /proc/self/fd");
  int self = dirfd(dir);
  for (struct dirent *e; (e = readdir(dir));) {
    int fd = atoi(e->d_name);
    if (fd < first_fd || fd == self || e->d_name[0] == '.') continue;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) die_errno("fcntl(%d, F_SETFD)", fd);
  }
  closedir(dir);
}
