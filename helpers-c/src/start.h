#ifndef SKIFF_START_H
#define SKIFF_START_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include "net.h"
#include "protocol.h"

struct started {
  pid_t pid;  /* the container's first process, as the host sees it */
  int master; /* the pty master with -t, else -1 */
  struct net_process net; /* network=private: its program, to end with the container (net_stop) */
  int userns; /* remove_tree or autoremove_dir with a user namespace of its own: that namespace (autoremove.h), else -1 */
  bool exec_failed; /* the child reported an error before its exec (SYNC_FAILED): it never ran the command */
};

/* Where and how the start is recorded (record.h): written once the child
 * exists and before it may run anything, so whatever the container does
 * (print, exit) happens after its pid.json is in place. */
struct start_record {
  const char *path; /* pid.json; NULL: not recorded */
  const char *started_at;
  unsigned restarts;
};

/* Clones the container's first process into its namespaces and completes the
 * handshake (sync.h): ID maps, the start record, then the pty for -t. The
 * child inherits fds 0-2 as they are and restores `child_mask` as its signal
 * mask. Returns once the child has exec'd or failed (its end of the sync
 * socket closed), so an error report from it is already on the report fd. */
struct started container_start(const struct container_spec *spec, const sigset_t *child_mask, const struct start_record *record);

/* Sizes the pty like the caller's terminal, when fd 0 or 1 is one. */
void copy_window_size(int master);

/* The container's status as Docker reports it: the code, or 128+signal. */
int exit_code_of(int status);

#endif
