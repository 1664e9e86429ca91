#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <stdnoreturn.h>

/* --init: stay PID 1, run the command as a child, forward signals to it, reap
 * every zombie, and exit with the command's status. sync_sock and the report
 * fd are closed once the command has exec'd. */
noreturn void init_run(char *const argv[], char *const env[], int sync_sock);

#endif
