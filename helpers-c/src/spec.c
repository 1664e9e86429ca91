/* Reading the container spec that TypeScript decided (protocol.h). */
#include "protocol.h"
#include "report.h"
#include "device_filter.h"

#include <errno.h>
#include <net/if.h>
#include <sys/personality.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void list_push(struct string_list *list, char *item) {
  /* Keep a NULL terminator so argv and env can go straight to execve. */
  char **grown = realloc(list->items, (list->len + 2) * sizeof *grown);
  if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: growing a list");
  list->items = grown;
  list->items[list->len++] = item;
  list->items[list->len] = NULL;
}

static void parse_range(const char *key, const char *value, struct id_range *ranges, size_t *len) {
  if (*len >= MAX_ID_RANGES) die(EXIT_SKIFF_FAILED, 0, "spec: more than %d %s ranges", MAX_ID_RANGES, key);
  struct id_range *r = &ranges[*len];
  char *end;
  errno = 0;
  r->inside = strtoul(value, &end, 10);
  if (*end != ' ') goto bad;
  r->outside = strtoul(end + 1, &end, 10);
  if (*end != ' ') goto bad;
  r->count = strtoul(end + 1, &end, 10);
  if (*end != '\0' || errno != 0 || r->count == 0) goto bad;
  (*len)++;
  return;
bad:
  die(EXIT_SKIFF_FAILED, 0, "spec: bad %s \"%s\": expected \"inside outside count\"", key, value);
}

static bool parse_bool(const char *key, const char *value) {
  if (strcmp(value, "1") == 0) return true;
  if (strcmp(value, "0") == 0) return false;
  die(EXIT_SKIFF_FAILED, 0, "spec: %s must be 0 or 1, not \"%s\"", key, value);
}

/* "UID:GID", numbers as the container sees them. */
static void parse_owner(const char *key, const char *value, struct container_spec *spec) {
  char *end;
  errno = 0;
  unsigned long uid = strtoul(value, &end, 10);
  if (end == value || *end != ':') goto bad;
  const char *g = end + 1;
  unsigned long gid = strtoul(g, &end, 10);
  if (end == g || *end != '\0' || errno != 0 || uid > 0xfffffffeUL || gid > 0xfffffffeUL) goto bad;
  spec->cp_mkdir_owned = true;
  spec->cp_mkdir_uid = (uid_t)uid;
  spec->cp_mkdir_gid = (gid_t)gid;
  return;
bad:
  die(EXIT_SKIFF_FAILED, 0, "spec: bad %s \"%s\": expected \"uid:gid\"", key, value);
}

static int parse_pid(const char *key, const char *value) {
  char *end;
  errno = 0;
  long pid = strtol(value, &end, 10);
  if (*end != '\0' || errno != 0 || pid <= 0 || pid > 0x3fffffff) die(EXIT_SKIFF_FAILED, 0, "spec: %s must be host or a pid, not \"%s\"", key, value);
  return (int)pid;
}

/* An interface name the kernel takes: 1 to IFNAMSIZ-1 bytes. NULL (none given) is fine. */
static unsigned long parse_ms(const char *key, const char *value) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(value, &end, 10);
  if (*end != '\0' || errno != 0 || value[0] == '\0' || value[0] == '-') die(EXIT_SKIFF_FAILED, 0, "spec: bad %s \"%s\"", key, value);
  return n;
}

static bool ifname_ok(const char *name) {
  return name == NULL || (name[0] != '\0' && strlen(name) < IFNAMSIZ);
}

static void apply(struct container_spec *spec, char *entry) {
  char *eq = strchr(entry, '=');
  if (eq == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: entry without '=': \"%.40s\"", entry);
  *eq = '\0';
  const char *key = entry;
  char *value = eq + 1;

  if (strcmp(key, "version") == 0) {
    if (atoi(value) != SKIFF_PROTOCOL_VERSION)
      die(EXIT_SKIFF_FAILED, 0, "helper protocol version %s does not match the helper's %d: rebuild skiff", value,
          SKIFF_PROTOCOL_VERSION);
  } else if (strcmp(key, "rootfs") == 0) spec->rootfs = value;
  else if (strcmp(key, "arg") == 0) list_push(&spec->argv, value);
  else if (strcmp(key, "env") == 0) list_push(&spec->env, value);
  else if (strcmp(key, "cwd") == 0) spec->cwd = value;
  else if (strcmp(key, "user") == 0) spec->user = value;
  else if (strcmp(key, "hostname") == 0) spec->hostname = value;
  else if (strcmp(key, "network") == 0) {
    if (strcmp(value, "none") == 0) spec->network = NETWORK_NONE;
    else if (strcmp(value, "host") == 0) spec->network = NETWORK_HOST;
    else if (strcmp(value, "private") == 0) spec->network = NETWORK_PRIVATE;
    else if (strcmp(value, "join") == 0) spec->network = NETWORK_JOIN;
    else die(EXIT_SKIFF_FAILED, 0, "spec: unknown network mode \"%s\"", value);
  } else if (strcmp(key, "net_pasta") == 0) list_push(&spec->net_pasta, value);
  else if (strcmp(key, "net_slirp") == 0) list_push(&spec->net_slirp, value);
  else if (strcmp(key, "net_log") == 0) spec->net_log = value;
  else if (strcmp(key, "net_api") == 0) spec->net_api = value;
  else if (strcmp(key, "net_fallback_file") == 0) spec->net_fallback_file = value;
  else if (strcmp(key, "net_fwd") == 0) list_push(&spec->net_forwards, value);
  else if (strcmp(key, "net_splice") == 0) list_push(&spec->net_splice, value);
  else if (strcmp(key, "ns_net") == 0) spec->net_join = value;
  else if (strcmp(key, "net_owner") == 0) spec->net_owner = value;
  else if (strcmp(key, "net_pasta_ifname") == 0) spec->net_pasta_ifname = value;
  else if (strcmp(key, "net_pasta_ipv6") == 0) spec->net_pasta_ipv6 = parse_bool(key, value);
  else if (strcmp(key, "net_slirp_ifname") == 0) spec->net_slirp_ifname = value;
  else if (strcmp(key, "net_pasta_avx2") == 0) spec->net_pasta_avx2 = value;
  else if (strcmp(key, "uidmap") == 0) parse_range(key, value, spec->uid_map, &spec->uid_map_len);
  else if (strcmp(key, "gidmap") == 0) parse_range(key, value, spec->gid_map, &spec->gid_map_len);
  else if (strcmp(key, "newuidmap") == 0) spec->newuidmap = value;
  else if (strcmp(key, "newgidmap") == 0) spec->newgidmap = value;
  else if (strcmp(key, "tty") == 0) spec->tty = parse_bool(key, value);
  else if (strcmp(key, "stdin") == 0) spec->stdin_open = parse_bool(key, value);
  else if (strcmp(key, "init") == 0) spec->init = parse_bool(key, value);
  else if (strcmp(key, "no_new_privs") == 0) spec->no_new_privs = parse_bool(key, value);
  else if (strcmp(key, "caps") == 0) {
    char *end;
    errno = 0;
    spec->caps = strtoull(value, &end, 16);
    if (*end != '\0' || errno != 0) die(EXIT_SKIFF_FAILED, 0, "spec: bad caps \"%s\"", value);
  } else if (strcmp(key, "seccomp") == 0) seccomp_parse(value, &spec->seccomp);
  else if (strcmp(key, "device_filter") == 0) device_filter_parse(value, spec);
  else if (strcmp(key, "sys_rw") == 0) spec->sys_rw = parse_bool(key, value);
  else if (strcmp(key, "dev_mknod") == 0) spec->dev_mknod = parse_bool(key, value);
  else if (strcmp(key, "device") == 0) list_push(&spec->devices, value);
  else if (strcmp(key, "sysctl") == 0) list_push(&spec->sysctls, value);
  else if (strcmp(key, "group_add") == 0) list_push(&spec->group_add, value);
  else if (strcmp(key, "keep_groups") == 0) spec->keep_groups = parse_bool(key, value);
  else if (strcmp(key, "ns_ipc") == 0) {
    if (strcmp(value, "host") == 0) spec->ipc_host = true;
    else if (strcmp(value, "none") == 0) spec->no_shm = true;
    else spec->ipc_join = parse_pid(key, value);
  } else if (strcmp(key, "ns_pid") == 0) {
    if (strcmp(value, "host") == 0) spec->pid_host = true;
    else spec->pid_join = parse_pid(key, value);
  } else if (strcmp(key, "ns_uts") == 0) {
    if (strcmp(value, "host") != 0) die(EXIT_SKIFF_FAILED, 0, "spec: ns_uts must be host, not \"%s\"", value);
    spec->uts_host = true;
  } else if (strcmp(key, "ns_user") == 0) spec->user_join = parse_pid(key, value);
  else if (strcmp(key, "net_holder") == 0) spec->net_holder = parse_pid(key, value);
  else if (strcmp(key, "net_attach") == 0) list_push(&spec->net_attach, value);
  else if (strcmp(key, "net_detach") == 0) list_push(&spec->net_detach, value);
  else if (strcmp(key, "net_member") == 0) spec->net_member = parse_bool(key, value);
  else if (strcmp(key, "holder_socket") == 0) spec->holder_socket = value;
  else if (strcmp(key, "holder_pid_file") == 0) spec->holder_pid_file = value;
  else if (strcmp(key, "holder_lock") == 0) spec->holder_lock = value;
  else if (strcmp(key, "ns_cgroup") == 0) {
    if (strcmp(value, "host") != 0) die(EXIT_SKIFF_FAILED, 0, "spec: ns_cgroup must be host, not \"%s\"", value);
    spec->cgroupns_host = true;
  } else if (strcmp(key, "personality") == 0) {
    if (strcmp(value, "LINUX") == 0) spec->personality_domain = PER_LINUX;
    else if (strcmp(value, "LINUX32") == 0) spec->personality_domain = PER_LINUX32;
    else die(EXIT_SKIFF_FAILED, 0, "spec: personality must be LINUX or LINUX32, not \"%s\"", value);
    spec->personality_set = true;
  } else if (strcmp(key, "timeout") == 0) {
    char *end;
    errno = 0;
    spec->timeout = strtoul(value, &end, 10);
    if (*end != '\0' || errno != 0 || value[0] == '\0') die(EXIT_SKIFF_FAILED, 0, "spec: bad timeout \"%s\"", value);
  }
  else if (strcmp(key, "preserve_fds") == 0) {
    char *end;
    errno = 0;
    unsigned long n = strtoul(value, &end, 10);
    if (*end != '\0' || errno != 0 || value[0] == '\0' || n > SKIFF_PRESERVED_FDS_MAX)
      die(EXIT_SKIFF_FAILED, 0, "spec: preserve_fds must be 0..%u, not \"%s\"", SKIFF_PRESERVED_FDS_MAX, value);
    spec->preserve_fds = (unsigned)n;
  }
  else if (strcmp(key, "masked") == 0) list_push(&spec->masked, value);
  else if (strcmp(key, "readonly") == 0) list_push(&spec->readonly, value);
  else if (strcmp(key, "lowerdir") == 0) list_push(&spec->lowerdirs, value);
  else if (strcmp(key, "upperdir") == 0) spec->upperdir = value;
  else if (strcmp(key, "workdir") == 0) spec->workdir = value;
  else if (strcmp(key, "detach") == 0) spec->detach = parse_bool(key, value);
  else if (strcmp(key, "log") == 0) spec->log_path = value;
  else if (strcmp(key, "log_max") == 0) spec->log_max = strtoul(value, NULL, 10);
  else if (strcmp(key, "exit_file") == 0) spec->exit_path = value;
  else if (strcmp(key, "stop_file") == 0) spec->stop_path = value;
  else if (strcmp(key, "pid_file") == 0) spec->pid_path = value;
  else if (strcmp(key, "attach_socket") == 0) spec->attach_path = value;
  else if (strcmp(key, "attach_wait") == 0) spec->attach_wait = parse_bool(key, value);
  else if (strcmp(key, "restart") == 0) spec->restart = value;
  else if (strcmp(key, "restart_max") == 0) spec->restart_max = strtoul(value, NULL, 10);
  else if (strcmp(key, "on_exit") == 0) list_push(&spec->on_exit, value);
  else if (strcmp(key, "health_cmd") == 0) list_push(&spec->health_cmd, value);
  else if (strcmp(key, "timeout_ms") == 0) spec->timeout_ms = parse_ms(key, value);
  else if (strcmp(key, "health_interval_ms") == 0) spec->health_interval_ms = parse_ms(key, value);
  else if (strcmp(key, "health_start_period_ms") == 0) spec->health_start_period_ms = parse_ms(key, value);
  else if (strcmp(key, "health_start_interval_ms") == 0) spec->health_start_interval_ms = parse_ms(key, value);
  else if (strcmp(key, "event_log") == 0) spec->event_log = value;
  else if (strcmp(key, "event_log_max") == 0) {
    char *end;
    errno = 0;
    spec->event_log_max = strtoul(value, &end, 10);
    if (*end != '\0' || errno != 0 || value[0] == '\0' || spec->event_log_max == 0) die(EXIT_SKIFF_FAILED, 0, "spec: bad event_log_max \"%s\"", value);
  } else if (strcmp(key, "event_died_head") == 0) spec->event_died_head = value;
  else if (strcmp(key, "event_died_tail") == 0) spec->event_died_tail = value;
  else if (strcmp(key, "event_remove_head") == 0) spec->event_remove_head = value;
  else if (strcmp(key, "event_remove_tail") == 0) spec->event_remove_tail = value;
  else if (strcmp(key, "event_started_head") == 0) list_push(&spec->event_started_heads, value);
  else if (strcmp(key, "event_started_tail") == 0) list_push(&spec->event_started_tails, value);
  else if (strcmp(key, "event_restart_head") == 0) spec->event_restart_head = value;
  else if (strcmp(key, "event_restart_tail") == 0) spec->event_restart_tail = value;
  else if (strcmp(key, "event_restarted_head") == 0) list_push(&spec->event_restarted_heads, value);
  else if (strcmp(key, "event_restarted_tail") == 0) list_push(&spec->event_restarted_tails, value);
  else if (strcmp(key, "autoremove_dir") == 0) spec->autoremove_dir = value;
  else if (strcmp(key, "autoremove_name") == 0) spec->autoremove_name = value;
  else if (strcmp(key, "autoremove_run_dir") == 0) spec->autoremove_run_dir = value;
  else if (strcmp(key, "autoremove_file") == 0) list_push(&spec->autoremove_files, value);
  else if (strcmp(key, "autoremove_cidfile") == 0) spec->autoremove_cidfile = value;
  else if (strcmp(key, "autoremove_cgroups") == 0) spec->autoremove_cgroups = parse_bool(key, value);
  else if (strcmp(key, "notify_socket") == 0) spec->notify_socket = value;
  else if (strcmp(key, "notify_mode") == 0) spec->notify_mode = value;
  else if (strcmp(key, "notify_proxy") == 0) spec->notify_proxy = value;
  else if (strcmp(key, "container_pid_file") == 0) spec->container_pid_file = value;
  else if (strcmp(key, "monitor_pid_file") == 0) spec->monitor_pid_file = value;
  else if (strcmp(key, "cgroup") == 0) list_push(&spec->cgroups, value);
  else if (strcmp(key, "cgroup_split") == 0) spec->cgroup_split = value;
  else if (strcmp(key, "cgroup_root") == 0) spec->cgroup_root = value;
  else if (strcmp(key, "cgroup_enable") == 0) list_push(&spec->cgroup_enable, value);
  else if (strcmp(key, "cgroup_write") == 0) list_push(&spec->cgroup_writes, value);
  else if (strcmp(key, "rlimit") == 0) list_push(&spec->rlimits, value);
  else if (strcmp(key, "oom_score_adj") == 0) {
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (*end != '\0' || errno != 0 || n < -1000 || n > 1000) die(EXIT_SKIFF_FAILED, 0, "spec: bad oom_score_adj \"%s\"", value);
    spec->oom_score_adj = (int)n;
    spec->oom_score_adj_set = true;
  }
  else if (strcmp(key, "target_pid") == 0) spec->target_pid = atoi(value);
  else if (strcmp(key, "background") == 0) spec->background = parse_bool(key, value);
  else if (strcmp(key, "cp_op") == 0) spec->cp_op = value;
  else if (strcmp(key, "cp_src") == 0) spec->cp_src = value;
  else if (strcmp(key, "cp_dst") == 0) spec->cp_dst = value;
  else if (strcmp(key, "cp_name") == 0) spec->cp_name = value;
  else if (strcmp(key, "cp_archive") == 0) spec->cp_archive = parse_bool(key, value);
  else if (strcmp(key, "cp_follow") == 0) spec->cp_follow = parse_bool(key, value);
  else if (strcmp(key, "cp_setid") == 0) spec->cp_setid = parse_bool(key, value);
  else if (strcmp(key, "cp_mkdir") == 0) spec->cp_mkdir = parse_bool(key, value);
  else if (strcmp(key, "cp_mkdir_owner") == 0) parse_owner(key, value, spec);
  /* Storage (issue 11): volumes.h. */
  else if (strcmp(key, "mount") == 0) list_push(&spec->mounts, value);
  else if (strcmp(key, "rootfs_readonly") == 0) spec->rootfs_readonly = parse_bool(key, value);
  else if (strcmp(key, "remove_tree") == 0) list_push(&spec->remove_trees, value);
  else if (strcmp(key, "walk_op") == 0) spec->walk_op = value;
  else if (strcmp(key, "walk_root") == 0) list_push(&spec->walk_roots, value);
  else if (strcmp(key, "walk_exclude") == 0) list_push(&spec->walk_excludes, value);
  else if (strcmp(key, "walk_mtime_max") == 0) spec->walk_mtime_max = value;
  else if (strcmp(key, "walk_dest") == 0) spec->walk_dest = value;
  else if (strcmp(key, "walk_full") == 0) spec->walk_full = parse_bool(key, value);
  else if (strcmp(key, "shift_uid") == 0) parse_range(key, value, spec->shift_uid, &spec->shift_uid_len);
  else if (strcmp(key, "shift_gid") == 0) parse_range(key, value, spec->shift_gid, &spec->shift_gid_len);
  else die(EXIT_SKIFF_FAILED, 0, "spec: unknown key \"%s\"", key);
}

static char *read_all(int fd, size_t *len) {
  size_t cap = 8192, used = 0;
  char *buf = malloc(cap + 1);
  if (buf == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: allocating");
  for (;;) {
    if (used == cap) {
      if (cap >= SKIFF_SPEC_MAX) die(EXIT_SKIFF_FAILED, 0, "spec: larger than %u bytes", SKIFF_SPEC_MAX);
      cap *= 2;
      char *grown = realloc(buf, cap + 1);
      if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: allocating");
      buf = grown;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno("spec: read fd %d", fd);
    }
    if (n == 0) break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *len = used;
  return buf;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* The spec from the environment (SKIFF_SPEC_ENV, hex), when skiff put it
 * there: it is here at exec, with no wait for skiff to write it. The value
 * is wiped in place (/proc/PID/environ shows this memory) and removed, so no
 * process the helper starts inherits it. NULL when it is not set. */
static char *take_env_spec(size_t *len) {
  char *hex = getenv(SKIFF_SPEC_ENV);
  if (hex == NULL) return NULL;
  size_t hex_len = strlen(hex);
  if (hex_len % 2 != 0 || hex_len / 2 > SKIFF_SPEC_MAX) die(EXIT_SKIFF_FAILED, 0, "spec: %s is malformed", SKIFF_SPEC_ENV);
  char *buf = malloc(hex_len / 2 + 1);
  if (buf == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: allocating");
  for (size_t i = 0; i < hex_len / 2; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) die(EXIT_SKIFF_FAILED, 0, "spec: %s is malformed", SKIFF_SPEC_ENV);
    buf[i] = (char)(hi << 4 | lo);
  }
  buf[hex_len / 2] = '\0';
  memset(hex, '0', hex_len);
  if (unsetenv(SKIFF_SPEC_ENV) < 0) die_errno("unsetenv %s", SKIFF_SPEC_ENV);
  *len = hex_len / 2;
  return buf;
}

void spec_read(int fd, struct container_spec *spec) {
  memset(spec, 0, sizeof *spec);
  spec->network = NETWORK_NONE;
  size_t len;
  spec->buffer = take_env_spec(&len);
  if (spec->buffer == NULL) spec->buffer = read_all(fd, &len);
  if (len == 0 || spec->buffer[len - 1] != '\0') die(EXIT_SKIFF_FAILED, 0, "spec: empty or not NUL-terminated");
  for (size_t off = 0; off < len;) {
    char *entry = spec->buffer + off;
    off += strlen(entry) + 1;
    apply(spec, entry);
  }
  bool network_mode = spec->holder_socket != NULL || (spec->target_pid > 0 && (spec->net_attach.len > 0 || spec->net_detach.len > 0));
  if (spec->argv.len == 0 && spec->cp_op == NULL && spec->walk_op == NULL && !network_mode) die(EXIT_SKIFF_FAILED, 0, "spec: no command to run");
  if (spec->cwd == NULL) spec->cwd = "/";
  if (spec->cwd[0] != '/') die(EXIT_SKIFF_FAILED, 0, "the working directory \"%s\" is not an absolute path", spec->cwd);
  if (spec->env.items == NULL) {
    /* An empty environment is still a NULL-terminated array for execve. */
    spec->env.items = calloc(1, sizeof *spec->env.items);
    if (spec->env.items == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: allocating");
  }
  if (spec->lowerdirs.len > 0 && spec->walk_op == NULL && (spec->upperdir == NULL || spec->workdir == NULL))
    die(EXIT_SKIFF_FAILED, 0, "spec: an overlay needs upperdir and workdir");
  if (spec->detach && (spec->exit_path == NULL || spec->pid_path == NULL || spec->attach_path == NULL))
    die(EXIT_SKIFF_FAILED, 0, "spec: a detached container needs exit_file, pid_file and attach_socket");
  for (size_t i = 0; i < spec->remove_trees.len; i++)
    if (spec->remove_trees.items[i][0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: remove_tree must be absolute: %s", spec->remove_trees.items[i]);
  if (spec->remove_trees.len > 0 && spec->detach && spec->autoremove_dir == NULL)
    die(EXIT_SKIFF_FAILED, 0, "spec: remove_tree with detach needs autoremove_dir");
  if (spec->autoremove_dir != NULL) {
    if (!spec->detach) die(EXIT_SKIFF_FAILED, 0, "spec: autoremove_dir goes with detach");
    const char *paths[] = {spec->autoremove_dir, spec->autoremove_name, spec->autoremove_run_dir, spec->autoremove_cidfile};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
      if (paths[i] != NULL && paths[i][0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: autoremove paths must be absolute: %s", paths[i]);
    for (size_t i = 0; i < spec->autoremove_files.len; i++)
      if (spec->autoremove_files.items[i][0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: autoremove paths must be absolute: %s", spec->autoremove_files.items[i]);
  }
  if (spec->health_interval_ms > 0 && (spec->health_cmd.len == 0 || spec->health_cmd.items[0][0] != '/'))
    die(EXIT_SKIFF_FAILED, 0, "spec: health_interval_ms needs health_cmd, an absolute path first");
  if (spec->restart == NULL) spec->restart = "no";
  if (strcmp(spec->restart, "no") != 0 && strcmp(spec->restart, "always") != 0 && strcmp(spec->restart, "on-failure") != 0)
    die(EXIT_SKIFF_FAILED, 0, "spec: unknown restart policy \"%s\"", spec->restart);
  if (spec->log_max == 0) spec->log_max = 10u << 20;
  if ((spec->event_log != NULL) != (spec->event_log_max > 0)) die(EXIT_SKIFF_FAILED, 0, "spec: event_log and event_log_max go together");
  if (spec->notify_mode != NULL && strcmp(spec->notify_mode, "conmon") != 0 && strcmp(spec->notify_mode, "container") != 0)
    die(EXIT_SKIFF_FAILED, 0, "spec: unknown notify_mode \"%s\"", spec->notify_mode);
  if ((spec->notify_proxy != NULL) != (spec->notify_mode != NULL && strcmp(spec->notify_mode, "container") == 0))
    die(EXIT_SKIFF_FAILED, 0, "spec: notify_proxy goes with notify_mode=container");
  if (spec->cgroup_split != NULL && (spec->cgroup_root == NULL || strchr(spec->cgroup_split, '/') != NULL))
    die(EXIT_SKIFF_FAILED, 0, "spec: cgroup_split needs cgroup_root and a plain name");
  if (spec->network == NETWORK_JOIN && (spec->net_join == NULL || spec->net_join[0] != '/'))
    die(EXIT_SKIFF_FAILED, 0, "spec: network=join needs ns_net, an absolute path");
  if (spec->network == NETWORK_PRIVATE && spec->net_pasta.len == 0 && spec->net_slirp.len == 0)
    die(EXIT_SKIFF_FAILED, 0, "spec: network=private needs net_pasta or net_slirp");
  for (const struct string_list *l = &spec->net_pasta; l != NULL; l = l == &spec->net_pasta ? &spec->net_slirp : NULL)
    if (l->len > 0 && l->items[0][0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: the network program must be an absolute path");
  if (!ifname_ok(spec->net_pasta_ifname) || (spec->net_pasta_ifname != NULL && spec->net_pasta.len == 0))
    die(EXIT_SKIFF_FAILED, 0, "spec: net_pasta_ifname needs net_pasta and a name of 1 to 15 bytes");
  if (!ifname_ok(spec->net_slirp_ifname) || (spec->net_slirp_ifname != NULL && spec->net_slirp.len == 0))
    die(EXIT_SKIFF_FAILED, 0, "spec: net_slirp_ifname needs net_slirp and a name of 1 to 15 bytes");
  spec->userns = spec->uid_map_len > 0;
  if (spec->userns && spec->user_join > 0) die(EXIT_SKIFF_FAILED, 0, "spec: uidmap and ns_user exclude each other");
  if (spec->userns != (spec->gid_map_len > 0)) die(EXIT_SKIFF_FAILED, 0, "spec: uidmap and gidmap go together");
}
