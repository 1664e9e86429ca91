#ifndef SKIFF_RUN_H
#define SKIFF_RUN_H

#include <stdnoreturn.h>

/* `skiff-helper run`: reads the spec from fd 3, starts the container in new
 * namespaces, relays signals (and the pty for -t), and exits with the
 * container's status. */
noreturn void run_main(void);

#endif
