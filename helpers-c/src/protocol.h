/* The contract between lib/namespaces/helper.ts and this helper.
 * Documented in docs/helper-protocol.md; both sides carry the same version.
 *
 * Spec (TypeScript -> helper), on fd 3 until EOF: NUL-terminated "key=value"
 * strings. Keys that may repeat: arg, env, uidmap, gidmap, masked, readonly,
 * lowerdir, mount, on_exit, health_cmd, walk_root, remove_tree, autoremove_file, walk_exclude, cgroup, cgroup_enable, cgroup_write, rlimit,
 * net_pasta, net_slirp, net_fwd, net_attach, net_detach.
 *
 * Reports (helper -> TypeScript), on the same fd 3 (a socket): one line each,
 * fields separated by TAB, tabs and newlines in text replaced by spaces:
 *   error<TAB><exit code><TAB><message>
 *   warning<TAB><message>
 *   pid<TAB><host pid of the container's first process>
 *   monitor<TAB><pid of the monitor of a detached container>
 *   cgroup<TAB><the cgroup directory the helper made (cgroup_split)>
 *   oom<TAB><1 when the kernel's OOM killer killed in the container's cgroup during a foreground run>
 *   removed<TAB><the number of remove_tree entries, all of them gone>
 *
 * `skiff-helper cp` takes the cp_* keys (and no arg): see copy.h.
 * `skiff-helper walk` takes walk_op and walk_root (and no arg): see walk.h.
 *
 * A detached container's attach socket carries frames from the monitor:
 * one byte of stream (1 stdout, 2 stderr, 3 exit: a 4-byte big-endian code),
 * a 4-byte big-endian length, the data; what a client writes is the
 * container's stdin.
 */
#ifndef SKIFF_PROTOCOL_H
#define SKIFF_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include "seccomp.h"

#define SKIFF_PROTOCOL_VERSION 1
#define SKIFF_SPEC_FD 3
/* Or, for the modes that start a container, the same bytes hex-encoded in
 * this environment variable (no wait for skiff to write fd 3). */
#define SKIFF_SPEC_ENV "SKIFF_HELPER_SPEC"
#define SKIFF_SPEC_MAX (4u << 20)
/* --preserve-fds N: the caller's fds 3..3+N-1 reach the helper at
 * SKIFF_PRESERVED_FD_BASE.. (after the spec's fd 3 and the network member's
 * fd 4), and the container's process at their own numbers (fds.h). */
#define SKIFF_PRESERVED_FD_BASE 5
#define SKIFF_PRESERVED_FDS_MAX 1024

/* none: a new network namespace with lo only; host: the helper's own;
 * private: a new one with a network program (net.h); join: an existing one
 * (net_join: another container's, or ns:PATH). */
enum network_mode { NETWORK_NONE, NETWORK_HOST, NETWORK_PRIVATE, NETWORK_JOIN };

struct id_range {
  unsigned long inside, outside, count;
};

#define MAX_ID_RANGES 16

struct string_list {
  char **items;
  size_t len;
};

struct container_spec {
  char *buffer; /* owns every string below */
  const char *rootfs;
  struct string_list argv; /* NULL-terminated */
  struct string_list env;  /* NULL-terminated */
  const char *cwd;
  const char *user; /* "uid[:gid]" or "name[:group]", resolved in the container */
  const char *hostname;
  enum network_mode network;
  /* network=private (net.h): the argv of pasta and/or slirp4netns (pasta is
   * tried first), the file their output goes to, slirp4netns's API socket
   * and the port forwards made through it ("PROTO<TAB>ADDR<TAB>HOST_PORT<TAB>GUEST_PORT"). */
  struct string_list net_pasta;
  struct string_list net_slirp;
  const char *net_log;
  const char *net_api;
  struct string_list net_forwards;
  /* Published TCP ports on the host's loopback, forwarded by the helper's
   * own process (net_forward.h), not by the network program:
   * "HOST_ADDR<TAB>HOST_PORT<TAB>GUEST_PORT". */
  struct string_list net_splice;
  const char *net_join; /* network=join: the namespace file to join */
  const char *net_owner; /* the container's id, in the program's environment (SKIFF_CONTAINER) */
  /* pasta's interface in the container (net_watch.h): made beforehand as a
   * persistent tap, and the container released once pasta has put its
   * default route (and, net_pasta_ipv6, its IPv6 one) on it. NULL: the
   * container waits until pasta is ready. */
  const char *net_pasta_ifname;
  bool net_pasta_ipv6;
  /* slirp4netns's tap in the container, made beforehand as a persistent
   * tap (net_watch.h), which slirp4netns attaches to: when slirp4netns is
   * the only program, by the namespace's maker; as pasta's fallback, by the
   * helper once pasta's interface is deleted. NULL: slirp4netns makes its own. */
  const char *net_slirp_ifname;
  /* pasta's AVX2 build (the binary net_pasta's argv[0] resolves to + ".avx2"), executed instead of
   * argv[0] when the CPU has AVX2, as pasta would exec it itself. NULL: none. */
  const char *net_pasta_avx2;
  /* With net_pasta and net_slirp: the file that says slirp4netns serves the
   * container (pasta failed at this start), written then and removed when
   * pasta serves it, so that inspect and ps show the mode it really got. */
  const char *net_fallback_file;
  bool userns; /* true when uidmap entries were given */
  struct id_range uid_map[MAX_ID_RANGES];
  size_t uid_map_len;
  struct id_range gid_map[MAX_ID_RANGES];
  size_t gid_map_len;
  const char *newuidmap; /* path, used when the mapping has more than the caller's own id */
  const char *newgidmap;
  bool tty;
  bool stdin_open;
  bool init;
  bool no_new_privs;
  uint64_t caps; /* the capability set the process keeps */
  struct seccomp_program seccomp; /* installed last before execve; no filter when absent */
  bool sys_rw;                    /* /sys writable (--privileged), else read-only */
  bool dev_mknod;                 /* /dev without nodev: nodes made there open (--privileged as root) */
  struct string_list sysctls;     /* "KEY<TAB>VALUE", written under /proc/sys in the container's namespaces */
  struct string_list group_add;   /* --group-add: group names or numbers, added to the user's groups */
  bool keep_groups;               /* --group-add keep-groups: no setgroups, the caller's groups stay */
  /* --ipc, --pid, --uts (shared_ns.h): the host's namespace, or a process
   * whose namespace is joined (0: the container makes its own). */
  bool ipc_host, pid_host, uts_host;
  bool no_shm; /* --ipc none: no /dev/shm */
  bool cgroupns_host; /* --cgroupns host: the helper's cgroup namespace, not one of its own */
  unsigned long personality_domain; /* --personality: personality(2)'s domain (PER_LINUX32…); PER_LINUX by default */
  bool personality_set;
  unsigned preserve_fds; /* --preserve-fds: how many fds from SKIFF_PRESERVED_FD_BASE the process gets as 3.. */
  unsigned long timeout; /* --timeout: seconds each start may run before SIGKILL (0: no limit) */
  unsigned long timeout_ms; /* exec (a healthcheck): milliseconds the command may run before its process group gets SIGKILL (0: no limit) */
  /* Healthchecks (health.h): the argv forked on the timer (`skiff healthcheck run ID`), and the timer's
   * intervals in milliseconds (health_interval_ms 0: no timer). */
  struct string_list health_cmd;
  unsigned long health_interval_ms, health_start_period_ms, health_start_interval_ms;
  int ipc_join, pid_join;
  int user_join; /* rootless: that process's user namespace instead of a new one */
  /* User-defined networks (network.h). */
  int net_holder;                /* the holder process: its network namespace has the bridges */
  struct string_list net_attach; /* "BRIDGE<TAB>GATEWAY/PREFIX<TAB>IFNAME<TAB>IP/PREFIX<TAB>MAC" */
  struct string_list net_detach; /* netdetach: interface names */
  bool net_member;               /* fd 4 is the member's connection to the holder: kept for the container's life */
  const char *holder_socket;     /* netholder: where it listens */
  const char *holder_pid_file;
  const char *holder_lock;
  struct string_list masked;
  struct string_list readonly;
  /* Device nodes made in /dev by mknod (as root, with a device cgroup): "PATH<TAB>c|b<TAB>MAJOR<TAB>MINOR<TAB>MODE(octal)<TAB>UID<TAB>GID" */
  struct string_list devices;
  /* An overlay root filesystem: mounted onto rootfs when lowerdirs is non-empty. */
  struct string_list lowerdirs; /* uppermost first */

  const char *upperdir;
  const char *workdir;
  /* Storage (issue 11; volumes.h): the container's own mounts, and --read-only. */
  struct string_list mounts; /* "TYPE<TAB>SOURCE<TAB>DESTINATION<TAB>FLAGS<TAB>DATA" */
  bool rootfs_readonly;
  /* run --rm (autoremove.h): the container's own trees (its overlay upper
   * and work dirs, or the vfs copy), removed by the helper (detached: its
   * monitor) in the container's user namespace once the container has ended. */
  struct string_list remove_trees;
  /* run -d --rm: the monitor removes the rest of the container too. NULL:
   * it runs on_exit (`skiff rm`) instead. */
  const char *autoremove_dir;  /* the container's directory: renamed to .trash-<id>-<monitor pid> beside it, then removed */
  const char *autoremove_name; /* its name's link (names/<name>), removed while it still names this container */
  const char *autoremove_run_dir;      /* its runtime directory, removed */
  struct string_list autoremove_files; /* --pidfile, --conmon-pidfile: removed */
  const char *autoremove_cidfile;      /* --cidfile: removed while it holds the container's id */
  bool autoremove_cgroups;             /* every cgroup directory of the spec removed (rmdir) */
  /* Detached (run -d): the helper becomes the container's monitor. */
  bool detach;
  const char *log_path;     /* the container's log, k8s-file format; NULL: none (--log-driver none) */
  unsigned long log_max;    /* bytes before the log is rotated to log_path.1 */
  const char *exit_path;    /* written atomically when the container exits */
  const char *stop_path;    /* present when `stop` asked for this end: no restart, and the monitor exits 0 */
  const char *pid_path;     /* written atomically each time the container (re)starts */
  const char *attach_path;  /* unix socket that `attach` connects to */
  bool attach_wait;         /* start the container only once a first client is attached (start -a, run without -d) */
  const char *restart;      /* "no", "always", "on-failure" */
  unsigned long restart_max; /* on-failure:N; 0 = unlimited */
  struct string_list on_exit; /* argv run (detached, no wait) after the container is gone for good */
  const char *event_log;        /* the event log: the monitor appends a "died" line at each end (lib/events) */
  unsigned long event_log_max;  /* with event_log: its limit in bytes (both halves); past half, an append rotates it (event.h) */
  const char *event_died_head;  /* the line's text between the exit code and the time */
  const char *event_died_tail;  /* the line's text after the time */
  const char *event_remove_head; /* run -d --rm: the "remove" line's text before the time */
  const char *event_remove_tail;
  /* The "init", "start" (and, with attach_wait, "attach") lines, text before
   * and after the time, in that order: appended once the container's first
   * start has exec'd, before anything of its end can be (lib/containers/events.ts). */
  struct string_list event_started_heads;
  struct string_list event_started_tails;
  /* A restart by the policy (Podman's): the "restart" line, appended before
   * the new start, then the "init" and "start" lines (heads and tails, in
   * that order), appended once the new start has exec'd. */
  const char *event_restart_head;
  const char *event_restart_tail;
  struct string_list event_restarted_heads;
  struct string_list event_restarted_tails;
  /* systemd units (notify.h): run --sdnotify, --pidfile, --conmon-pidfile. */
  const char *notify_socket;      /* the unit's NOTIFY_SOCKET ("@name": abstract) */
  const char *notify_mode;        /* "conmon" or "container" */
  const char *notify_proxy;       /* container mode: the socket bound for the container's messages */
  const char *container_pid_file; /* the container's first process's pid, as text, at each start */
  const char *monitor_pid_file;   /* the monitor's pid (a foreground run: the helper's) */
  /* Resources (cgroup.c, resources.c). */
  struct string_list cgroups; /* cgroup directories the container's processes join (v2, or one per v1 hierarchy) */
  const char *cgroup_split;   /* make the container's cgroup under the helper's own v2 cgroup, by this name */
  const char *cgroup_root;    /* where the v2 hierarchy is mounted (for cgroup_split) */
  struct string_list cgroup_enable; /* controllers to enable for it (cgroup_split); "?name": only if the parent can */
  struct string_list cgroup_writes; /* "FILE<TAB>VALUE": limits written into it (cgroup_split) */
  unsigned char *device_filter;     /* cgroup v2's device rules: struct bpf_insn[] (device_filter.h), or NULL */
  size_t device_filter_len;         /* in bytes, a multiple of 8 */
  struct string_list rlimits;       /* "RLIMIT_NAME SOFT HARD", -1 for unlimited */
  bool oom_score_adj_set;
  int oom_score_adj;
  /* exec: the container process whose namespaces to join. */
  int target_pid;
  bool background; /* exec -d: report the pid, close fd 3, outlive skiff */
  /* cp (copy.c): files between the host and a container's root filesystem
   * (target_pid when running, else rootfs with its overlay keys). */
  const char *cp_op;   /* "out" (container -> host), "in" (host -> container), "tar" (container -> tar on fd 1) */
  const char *cp_src;  /* as the user wrote it: "/." at the end means "its contents" */
  const char *cp_dst;  /* for out and in */
  const char *cp_name; /* the container as the user named it, for messages */
  bool cp_archive;     /* -a: files copied in keep the source's uid/gid (else 0:0) */
  bool cp_follow;      /* -L: a symlink at cp_src is followed */
  bool cp_setid;       /* keep set-user-ID and set-group-ID bits */
  bool cp_mkdir;       /* in: make cp_dst's missing directories first (a build's COPY) */
  bool cp_mkdir_owned; /* in, with cp_mkdir: the directories made are given cp_mkdir_uid:cp_mkdir_gid (a build's WORKDIR under USER) */
  uid_t cp_mkdir_uid;
  gid_t cp_mkdir_gid;
  /* walk (walk.h): the host side's walks over container files, by fd. */
  const char *walk_op;           /* "diff", "size", "remove", "layer", "shift" or "flatten" */
  bool walk_full;                /* diff, size, layer: walk_root is a full copy of the image (vfs), judged against lowerdir */
  struct string_list walk_roots; /* the trees walked: absolute paths in skiff's store */
  struct string_list walk_excludes; /* layer: container paths ("/etc/hosts") left out, with all below */
  const char *walk_mtime_max;       /* layer: no member newer than this (seconds since the epoch) */
  /* shift: walk_root copied to walk_dest/diff with every owner moved through shift_uid/shift_gid
   * ("from to count": an ID the namespace sees as from+i is given to+i), for --userns keep-id. */
  const char *walk_dest;
  struct id_range shift_uid[MAX_ID_RANGES];
  size_t shift_uid_len;
  struct id_range shift_gid[MAX_ID_RANGES];
  size_t shift_gid_len;
};

/* Reads the spec from fd and checks what every mode needs (argv, cwd, maps);
 * reports and exits 125 on bad input. Modes check their own keys. */
void spec_read(int fd, struct container_spec *spec);

#endif
