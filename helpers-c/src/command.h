#ifndef SKIFF_COMMAND_H
#define SKIFF_COMMAND_H

#include <stdnoreturn.h>

/* execve with a PATH search in the container's own PATH (from env, not the
 * helper's). Reports 127 when not found and 126 when it cannot be run. */
noreturn void command_exec(char *const argv[], char *const env[]);

#endif
