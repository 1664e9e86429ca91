/* Inside the new namespaces. The order is fixed, as in bubblewrap: identity in
 * the user namespace, mounts and pivot_root, hostname and network, terminal,
 * then the container's user, capabilities, no_new_privs, and exec. */
#include "container.h"
#include "caps.h"
#include "cgroup.h"
#include "command.h"
#include "fds.h"
#include "init.h"
#include "mounts.h"
#include "net.h"
#include "net_watch.h"
#include "seccomp.h"
#include "shared_ns.h"
#include "report.h"
#include "resources.h"
#include "sync.h"
#include "user.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

bool container_gid_mapped(const struct container_spec *spec, unsigned long gid) {
  if (!spec->userns) return true;
  for (size_t i = 0; i < spec->gid_map_len; i++)
    if (gid >= spec->gid_map[i].inside && gid - spec->gid_map[i].inside < spec->gid_map[i].count) return true;
  return false;
}

static bool uid_mapped(const struct container_spec *spec, unsigned long uid) {
  if (!spec->userns) return true;
  for (size_t i = 0; i < spec->uid_map_len; i++)
    if (uid >= spec->uid_map[i].inside && uid - spec->uid_map[i].inside < spec->uid_map[i].count) return true;
  return false;
}

static void become_root_in_userns(void) {
  if (setresgid(0, 0, 0) < 0) die_errno("setresgid(0) in the user namespace");
  if (setresuid(0, 0, 0) < 0) die_errno("setresuid(0) in the user namespace");
}

/* A pty from the container's own devpts; the master goes to the helper outside,
 * which relays it to the caller's terminal. */
static void setup_tty(int sync_sock) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die_errno("open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die_errno("unlock the pty");
  int index;
  if (ioctl(master, TIOCGPTN, &index) < 0) die_errno("TIOCGPTN");
  char slave_path[32];
  snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", index);
  int slave = open(slave_path, O_RDWR | O_NOCTTY);
  if (slave < 0) die_errno("open %s", slave_path);
  sync_send_fd(sync_sock, SYNC_TTY_MASTER, master);
  close(master);
  if (!sync_expect(sync_sock, SYNC_TTY_SIZED)) _exit(EXIT_SKIFF_FAILED);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) die_errno("make %s the controlling terminal", slave_path);
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0) die_errno("dup2 the pty to fd %d", fd);
  if (slave > 2) close(slave);
}

static bool env_has(char *const env[], const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; env[i]; i++)
    if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') return true;
  return false;
}

/* The spec's environment plus HOME from the container's passwd, as Docker does. */
static char **environment_with_home(const struct container_spec *spec, const struct resolved_user *user) {
  if (env_has(spec->env.items, "HOME")) return spec->env.items;
  char **env = calloc(spec->env.len + 2, sizeof *env);
  if (env == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "environment");
  memcpy(env, spec->env.items, spec->env.len * sizeof *env);
  if (asprintf(&env[spec->env.len], "HOME=%s", user->home) < 0) die(EXIT_SKIFF_FAILED, ENOMEM, "environment");
  return env;
}

/* Like Docker, a missing working directory is created (as root, before the switch of user). */
static void make_workdir(const char *cwd) {
  char path[4096];
  snprintf(path, sizeof path, "%s", cwd);
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(path, 0755) < 0 && errno != EEXIST) die_errno("create the working directory %s", path);
    *p = saved;
    if (saved == '\0') break;
  }
}

/* A working directory reached through an fd or a magic link of another
 * mount namespace lies outside the container's root, which getcwd(2) shows as
 * a path not starting with '/' ("(unreachable)/..."). runc checks the same
 * since CVE-2024-21626. */
static void require_cwd_inside_root(const char *cwd) {
  char buf[PATH_MAX];
  long n = syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) die_errno("getcwd in the working directory %s", cwd);
  if (buf[0] != '/')
    die(EXIT_SKIFF_FAILED, 0, "the working directory %s is outside the container's root filesystem", cwd);
}

static void switch_user(const struct container_spec *spec, const struct resolved_user *user) {
  if (!uid_mapped(spec, user->uid) || !container_gid_mapped(spec, user->gid))
    die(EXIT_SKIFF_FAILED, 0,
        "user %u:%u is not mapped in this rootless container: give your user a range in /etc/subuid and "
        "/etc/subgid (see 'skiff doctor')",
        (unsigned)user->uid, (unsigned)user->gid);
  /* --group-add keep-groups: the caller's own groups stay (Podman's rootless option). */
  if (!spec->keep_groups && setgroups(user->groups_len, user->groups) < 0) {
    /* setgroups is denied with a single-ID mapping, where the user's own
     * group is the only one that exists anyway. */
    bool only_primary = user->groups_len == 1 && user->groups[0] == user->gid;
    if (!(errno == EPERM && spec->userns && only_primary)) die_errno("setgroups");
  }
  if (setresgid(user->gid, user->gid, user->gid) < 0) die_errno("setresgid(%u)", (unsigned)user->gid);
  if (setresuid(user->uid, user->uid, user->uid) < 0) die_errno("setresuid(%u)", (unsigned)user->uid);
}

/* Everything after the filesystem: terminal, user, capabilities, exec. Shared
 * by the container's first process and by `exec` after it joined. */
noreturn void container_become_process(const struct container_spec *spec, int sync_sock, bool create_workdir) {
  if (spec->tty) setup_tty(sync_sock);

  struct resolved_user user;
  user_resolve(spec->user, &user);
  user_add_groups(&spec->group_add, &user);
  char **env = environment_with_home(spec, &user);
  if (create_workdir) make_workdir(spec->cwd);

  /* As root still (in the user namespace): a rootless container may lower its limits, not raise them. */
  resources_set_rlimits(spec);
  /* Without no_new_privs the kernel takes a filter only from a process with
   * CAP_SYS_ADMIN (in its user namespace): install it while we are still
   * root, as runc does; the filter must then allow what follows (Docker's
   * default does). */
  if (!spec->no_new_privs) seccomp_install(&spec->seccomp);
  caps_limit_bounding(spec->caps);
  switch_user(spec, &user);
  caps_apply(spec->caps);
  if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("prctl(PR_SET_NO_NEW_PRIVS)");
  /* The change of user clears the parent-death signal set at the start: set it again. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  if (chdir(spec->cwd) < 0) die(EXIT_CANNOT_INVOKE, errno, "chdir to the working directory %s", spec->cwd);
  require_cwd_inside_root(spec->cwd);

  fds_cloexec_from(3);
  /* After everything that closes fds: the caller's own, at their numbers. */
  bool failure_on_sync = report_failure_sock() == sync_sock;
  fds_place_preserved(spec->preserve_fds, &sync_sock);
  if (failure_on_sync) report_set_failure_sock(sync_sock);
  /* --personality: before the filter, which (Docker's) allows only the usual domains. */
  if (spec->personality_set && personality(spec->personality_domain) < 0) die_errno("personality(0x%lx)", spec->personality_domain);
  /* Last before execve (decision 13). With --init, init is filtered too: an
   * unfiltered process in the container could be ptraced into calling
   * anything. */
  if (spec->no_new_privs) seccomp_install(&spec->seccomp);
  if (spec->init) init_run(spec->argv.items, env, sync_sock);
  command_exec(spec->argv.items, env);
}

/* The network program's way into the container: its namespaces, opened by
 * the child itself, which may always open its own. The helper may not once
 * the child's credentials have changed (--userns keep-id: its root is a
 * sub-ID; the kernel then no longer lets the helper, unprivileged in the
 * parent namespace, inspect it: EACCES on /proc/PID/ns/net). */
static void send_own_namespaces(const struct container_spec *spec, int sync_sock) {
  int net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (net < 0) die_errno("open /proc/self/ns/net");
  sync_send_fd(sync_sock, SYNC_NET_NS, net);
  close(net);
  /* A joined one (user_join) is the helper's own too: the program inherits it. */
  if (!spec->userns) return;
  int user = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (user < 0) die_errno("open /proc/self/ns/user");
  sync_send_fd(sync_sock, SYNC_USER_NS, user);
  close(user);
}

noreturn void container_main(const struct container_spec *spec, int sync_sock) {
  /* Before anything here looks at a path: no fd of the host but the two
   * channels to the helper (sockets, which no path can go through). */
  net_enter_premade();
  int keep[] = {report_fd(), sync_sock};
  fds_close_except_preserved(keep, 2, spec->preserve_fds);
  /* Until its exec, a failure here is also told on the sync socket (start.h: exec_failed). */
  report_set_failure_sock(sync_sock);
  /* The container dies with its helper, even during setup. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  if (spec->network == NETWORK_PRIVATE && !net_made_before_clone(spec)) {
    net_make_slirp_tap(spec);
    send_own_namespaces(spec, sync_sock);
    /* The helper starts pasta once it has this, before it writes the maps:
     * first thing. The namespace's creator has every capability in it,
     * maps or not. */
    if (spec->net_pasta_ifname != NULL) net_watch_send(spec, sync_sock);
  }
  if (!sync_expect(sync_sock, SYNC_MAPS_WRITTEN)) _exit(EXIT_SKIFF_FAILED);
  if (spec->userns || spec->user_join > 0) become_root_in_userns();
  if (setsid() < 0) die_errno("setsid");
  shared_ns_join_in_child(spec);
  cgroup_enter_all(spec);
  resources_set_oom_score_adj(spec);
  /* Its cgroup is the root of the container's cgroup namespace (--cgroupns host: the host's paths show). */
  if (!spec->cgroupns_host && unshare(CLONE_NEWCGROUP) < 0) die_errno("unshare the cgroup namespace");

  mounts_setup_rootfs(spec, container_gid_mapped(spec, 5));
  if (spec->hostname && !spec->uts_host && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
    die_errno("sethostname %s", spec->hostname);
  if (spec->network == NETWORK_NONE || spec->network == NETWORK_PRIVATE) net_loopback_up();
  /* Its network program configures the interface from outside meanwhile. */
  if (spec->network == NETWORK_PRIVATE) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!sync_expect(sync_sock, SYNC_NET_READY)) _exit(EXIT_SKIFF_FAILED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    report_debug("set up; waited %ld ms for the network program", (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
  }
  container_become_process(spec, sync_sock, true);
}
