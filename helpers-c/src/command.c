/* The container's command: execve with a PATH search in the container's own
 * PATH, and Docker's exit codes when it cannot be run. */
#include "command.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

noreturn void command_exec(char *const argv[], char *const env[]) {
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
