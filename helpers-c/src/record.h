#ifndef SKIFF_RECORD_H
#define SKIFF_RECORD_H

#include <stdbool.h>
#include <sys/types.h>

/* The container's state files, which skiff reads to tell its state (see
 * lib/containers/state.ts). Each is written to a temp file, fsynced and
 * renamed over the old one: a full disk or a kill leaves the old file whole. */

/* pid.json, at each (re)start: the container's first process, the helper
 * watching it, and the cgroup the helper made for it (NULL: none, or one
 * skiff made itself). Returns 0 or the errno: a start that cannot be
 * recorded must not go on (skiff could not tell the container exists). */
int record_start(const char *path, pid_t pid, pid_t monitor, const char *started_at, unsigned restarts, const char *cgroup);

/* --pidfile, --conmon-pidfile: the pid as text (systemd's PIDFile=), 0644;
 * NULL path: nothing. Returns 0 or the errno. */
int record_pid_text(const char *path, pid_t pid);

/* exit.json, at each end; a failure is a warning (skiff then reports the
 * container as killed, see state.ts). */
void record_exit(const char *path, int code, const char *started_at, unsigned restarts, bool oom_killed);

/* net_fallback_file (NULL: nothing), at each start once the network program
 * is settled: "slirp4netns" when pasta failed and slirp4netns serves the
 * container, else no file. A failure is a warning: the container runs. */
void record_network_fallback(const char *path, bool fell_back);

#endif
