#ifndef SKIFF_RUN_H
#define SKIFF_RUN_H

#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* `skiff-helper run`: reads the spec from fd 3, starts the container in new
 * namespaces, relays signals (and the pty for -t), and exits with the
 * container's status. */
noreturn void run_main(void);

/* Waits for a foreground container process, relaying signals (and the pty
 * when master >= 0); returns its exit status as Docker reports it. */
int supervise(pid_t child, int master, bool relay_stdin);

#endif
