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
struct container_spec;

/* A terminal's Ctrl-C signals its whole foreground process group; skiff's
 * Node process forwards what it gets, so the helper moves to a group of its
 * own and every signal reaches the container exactly once (two SIGINTs
 * pending at once would merge into one, and a filter on who sent it could
 * then drop both). Not with -i -t, where the terminal is raw. */
void leave_terminal_group(const struct container_spec *spec);

/* A foreground run's output on its way to the caller and the log. */
struct output_tee {
  struct logfile *log; /* NULL: output is not logged */
  int out, err;        /* the container's stdout/stderr pipes, -1 when it writes directly (or to a pty) */
  int notify_fd;       /* --sdnotify=container: the proxy socket (notify.h), else -1 */
  const char *notify_socket;
  struct health *health; /* the healthcheck's timer (health.h), NULL without one */
};

struct container_spec;
struct net_process;

/* Waits for a foreground container process, relaying signals (and the pty
 * when master >= 0, and tee's pipes when tee is not NULL); returns its exit
 * status as Docker reports it. After timeout_ms (0: none) the process gets
 * SIGKILL (with kill_group: its process group). With `net` (a run's; NULL
 * for exec) a port forwarder that dies meanwhile is started again, as the
 * monitor does, and a line on stderr (and in the log) says so. */
int supervise(pid_t child, int master, bool relay_stdin, const struct output_tee *tee, unsigned long timeout_ms, bool kill_group, const struct container_spec *spec,
              struct net_process *net);

#endif
