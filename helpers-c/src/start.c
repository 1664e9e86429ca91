#include "start.h"
#include "autoremove.h"
#include "cgroup.h"
#include "container.h"
#include "idmap.h"
#include "net.h"
#include "network.h"
#include "record.h"
#include "shared_ns.h"
#include "report.h"
#include "sync.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long clone_flags(const struct container_spec *spec) {
  /* The cgroup namespace comes later, by unshare, once the child is in its own cgroup. */
  unsigned long flags = CLONE_NEWNS | shared_ns_clone_flags(spec);
  if (spec->userns) flags |= CLONE_NEWUSER;
  if (spec->network == NETWORK_NONE || (spec->network == NETWORK_PRIVATE && !net_made_before_clone(spec))) flags |= CLONE_NEWNET;
  return flags;
}

void copy_window_size(int master) {
  struct winsize size;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &size) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) < 0) return;
  if (ioctl(master, TIOCSWINSZ, &size) < 0) die_errno("TIOCSWINSZ");
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return EXIT_SKIFF_FAILED;
}

/* The namespaces the child sent first of all, and with pasta's interface
 * the watch; pasta starts at once (net_prepare). False: the child died (EOF). */
static bool receive_network(const struct container_spec *spec, int sync_sock, struct net_process *net) {
  int netns = sync_recv_fd(sync_sock, SYNC_NET_NS);
  int userns = netns >= 0 && spec->userns ? sync_recv_fd(sync_sock, SYNC_USER_NS) : -1;
  int watch = netns >= 0 && (userns >= 0 || !spec->userns) && spec->net_pasta_ifname != NULL ? sync_recv_fd(sync_sock, SYNC_NET_WATCH) : -1;
  if (netns < 0 || (spec->userns && userns < 0) || (spec->net_pasta_ifname != NULL && watch < 0)) {
    if (netns >= 0) close(netns);
    if (userns >= 0) close(userns);
    if (watch >= 0) close(watch);
    return false;
  }
  *net = net_prepare(spec, netns, userns, watch);
  return true;
}

struct started container_start(const struct container_spec *spec, const sigset_t *child_mask, const struct start_record *record) {
  int sync_pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) < 0) die_errno("socketpair");
  shared_ns_join_user(spec);
  /* Ready before the container is born; pasta's start is not overlapped with its mounts then. */
  struct net_process early = NET_PROCESS_NONE;
  if (net_made_before_clone(spec)) early = net_start_before_clone(spec);
  shared_ns_join_pid(spec);
  net_join_before_clone(spec);
  pid_t child = (pid_t)syscall(SYS_clone, clone_flags(spec) | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) {
    if (errno == EPERM || errno == ENOSPC)
      die_errno("clone the container's namespaces (are user namespaces enabled? see 'skiff doctor')");
    die_errno("clone the container's namespaces");
  }
  if (child == 0) {
    close(sync_pair[0]);
    signal(SIGPIPE, SIG_DFL);
    if (sigprocmask(SIG_SETMASK, child_mask, NULL) < 0) die_errno("sigprocmask");
    container_main(spec, sync_pair[1]);
  }
  close(sync_pair[1]);
  int sync_sock = sync_pair[0];
  struct started started = {.pid = child, .master = -1, .net = early, .userns = -1};
  /* network=private: the child sends its namespaces (and, for pasta, the
   * watch of the interface it made) first of all, before its maps; pasta
   * starts now and overlaps what follows (net.h, net_prepare). */
  bool private_after_clone = spec->network == NETWORK_PRIVATE && !net_made_before_clone(spec);
  if (private_after_clone && !receive_network(spec, sync_sock, &started.net)) {
    /* The child died before its maps; its status says why. */
    started.exec_failed = true;
    close(sync_sock);
    return started;
  }
  /* Held past the container's end: its files are removed in its own mapping. */
  if ((spec->remove_trees.len > 0 || spec->autoremove_dir != NULL) && autoremove_in_userns(spec)) started.userns = container_userns_open(child);
  if (spec->userns) idmap_write(child, spec);
  network_attach_all(spec, child);
  net_forget_premade();
  int err = record->path != NULL ? record_start(record->path, child, getpid(), record->started_at, record->restarts, cgroup_made()) : 0;
  const char *failed = record->path;
  if (err == 0 && (err = record_pid_text(spec->container_pid_file, child)) != 0) failed = spec->container_pid_file;
  if (err == 0 && (err = record_pid_text(spec->monitor_pid_file, getpid())) != 0) failed = spec->monitor_pid_file;
  if (err != 0) {
    /* Never released: the child dies before it runs anything. */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    die(EXIT_SKIFF_FAILED, err, "record the container's start in %s", failed);
  }
  sync_send(sync_sock, SYNC_MAPS_WRITTEN);

  /* While the child sets up its mounts; it waits for the network before it becomes the process. */
  if (net_made_before_clone(spec)) sync_send(sync_sock, SYNC_NET_READY);
  else if (private_after_clone) {
    net_start_wait(spec, &started.net);
    report_debug("network program %d %s in %ld ms", (int)started.net.pid, started.net.ready_fd >= 0 ? "configured the container's interface" : "ready",
                 net_elapsed_ms(&started.net));
    sync_send(sync_sock, SYNC_NET_READY);
  }
  if (spec->tty) {
    started.master = sync_recv_fd(sync_sock, SYNC_TTY_MASTER);
    if (started.master >= 0) {
      copy_window_size(started.master);
      sync_send(sync_sock, SYNC_TTY_SIZED);
    }
  }
  /* EOF: the child exec'd (the socket is close-on-exec) or died; SYNC_FAILED
   * first: it died of an error it reported (report.h). */
  char byte;
  ssize_t got;
  while ((got = recv(sync_sock, &byte, 1, 0)) < 0 && errno == EINTR) {
  }
  /* (With -t, a child that died before it sent its pty had its EOF read above.) */
  started.exec_failed = (got == 1 && byte == SYNC_FAILED) || (spec->tty && started.master < 0);
  close(sync_sock);
  /* Released at configuration: its ports are bound before run -d returns, and a late failure still falls back. */
  net_start_finish(spec, &started.net, child);
  /* The program is settled now (a late failure of pasta fell back above): inspect shows the one serving. */
  if (spec->network == NETWORK_PRIVATE) record_network_fallback(spec->net_fallback_file, started.net.fell_back);
  return started;
}
