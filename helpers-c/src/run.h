#ifndef SKIFF_RUN_H
#define SKIFF_RUN_H

#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* `skiff-helper run`: reads the spec from fd 3, starts the container in new
 * namespaces, relays signals (and the pty for -t), and exits with the
 * container's status. */
noreturn void run_main(void);

struct logfile;

/* A foreground run's output on its way to the caller and the log. */
struct output_tee {
  struct logfile *log; /* NULL: output is not logged */
  int out, err;        /* the container's stdout/stderr pipes, -1 when it writes directly (or to a pty) */
};

/* Waits for a foreground container process, relaying signals (and the pty
 * when master >= 0, and tee's pipes when tee is not NULL); returns its exit
 * status as Docker reports it. */
int supervise(pid_t child, int master, bool relay_stdin, const struct output_tee *tee);

#endif
