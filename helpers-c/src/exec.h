#ifndef SKIFF_EXEC_H
#define SKIFF_EXEC_H

#include <stdnoreturn.h>

/* execve with a PATH search in the container's own PATH (from env, not the
 * helper's). Reports 127 when not found and 126 when it cannot be run. */
noreturn void exec_command(char *const argv[], char *const env[]);

/* Marks every fd above 2 close-on-exec, so nothing of the host leaks in. */
void exec_cloexec_from(int first_fd);

#endif
