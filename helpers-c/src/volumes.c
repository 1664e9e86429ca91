/* The container's own mounts (volumes.h). */
#include "volumes.h"
#include "copy.h"
#include "inroot.h"
#include "report.h"
#include "user.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct mount_entry {
  char *type, *source, *destination, *data;
  const char *subpath; /* NULL: the whole source */
  const char *idmap;   /* NULL: none; "": the container's own mapping; else "uids=…;gids=…" */
  bool recursive, copyup, tmpcopyup, chown;
  struct mount_attr attr;  /* what the mount gets before it is attached */
  unsigned long long propagation;
  bool propagation_recursive;
};

struct flag_word {
  const char *word;
  unsigned long long set, clear, propagation;
  bool recursive;
};

static const struct flag_word flag_words[] = {
    {"rw", 0, 0, 0, false},
    {"ro", MOUNT_ATTR_RDONLY, 0, 0, false},
    {"suid", 0, 0, 0, false},
    {"nosuid", MOUNT_ATTR_NOSUID, 0, 0, false},
    {"dev", 0, 0, 0, false},
    {"nodev", MOUNT_ATTR_NODEV, 0, 0, false},
    {"exec", 0, 0, 0, false},
    {"noexec", MOUNT_ATTR_NOEXEC, 0, 0, false},
    {"noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, 0, false},
    {"relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, 0, false},
    {"strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, 0, false},
    {"nodiratime", MOUNT_ATTR_NODIRATIME, 0, 0, false},
    {"private", 0, 0, MS_PRIVATE, false},
    {"rprivate", 0, 0, MS_PRIVATE, true},
    {"slave", 0, 0, MS_SLAVE, false},
    {"rslave", 0, 0, MS_SLAVE, true},
    {"shared", 0, 0, MS_SHARED, false},
    {"rshared", 0, 0, MS_SHARED, true},
    {"unbindable", 0, 0, MS_UNBINDABLE, false},
    {"runbindable", 0, 0, MS_UNBINDABLE, true},
};

static bool parse_flag(struct mount_entry *m, char *word) {
  if (strcmp(word, "bind") == 0) m->recursive = false;
  else if (strcmp(word, "rbind") == 0) m->recursive = true;
  else if (strcmp(word, "copyup") == 0) m->copyup = true;
  else if (strcmp(word, "tmpcopyup") == 0) m->tmpcopyup = true;
  else if (strcmp(word, "chown") == 0) m->chown = true;
  else if (strcmp(word, "idmap") == 0) m->idmap = "";
  else if (strncmp(word, "idmap=", 6) == 0) m->idmap = word + 6;
  else if (strncmp(word, "subpath=", 8) == 0) m->subpath = word + 8;
  else {
    for (size_t i = 0; i < sizeof flag_words / sizeof flag_words[0]; i++) {
      const struct flag_word *f = &flag_words[i];
      if (strcmp(word, f->word) != 0) continue;
      m->attr.attr_set |= f->set;
      m->attr.attr_clr |= f->clear;
      if (f->propagation) {
        m->propagation = f->propagation;
        m->propagation_recursive = f->recursive;
      }
      return true;
    }
    return false;
  }
  return true;
}

/* Splits one entry (a copy: the spec stays as it is for a restart). */
static void parse_entry(const char *entry, struct mount_entry *m) {
  memset(m, 0, sizeof *m);
  char *copy = strdup(entry);
  if (copy == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: mount");
  char *fields[5];
  size_t n = 0;
  for (char *p = copy; n < 5; n++) {
    fields[n] = p;
    char *tab = strchr(p, '\t');
    if (tab == NULL) {
      n++;
      break;
    }
    *tab = '\0';
    p = tab + 1;
  }
  if (n != 5 || strchr(fields[4], '\t')) die(EXIT_SKIFF_FAILED, 0, "spec: bad mount \"%s\": expected 5 fields", entry);
  m->type = fields[0];
  m->source = fields[1];
  m->destination = fields[2];
  m->data = fields[4];
  if (m->type[0] == '\0' || m->destination[0] != '/') die(EXIT_SKIFF_FAILED, 0, "spec: bad mount \"%s\"", entry);
  for (char *save = NULL, *w = strtok_r(fields[3], ",", &save); w; w = strtok_r(NULL, ",", &save))
    if (!parse_flag(m, w)) die(EXIT_SKIFF_FAILED, 0, "spec: unknown mount option \"%s\" for %s", w, m->destination);
  bool is_bind = strcmp(m->type, "bind") == 0;
  if ((m->copyup || m->chown || m->idmap || m->subpath) && !is_bind)
    die(EXIT_SKIFF_FAILED, 0, "spec: copyup, chown, idmap and subpath apply to bind mounts (%s)", m->destination);
  if (m->tmpcopyup && strcmp(m->type, "tmpfs") != 0) die(EXIT_SKIFF_FAILED, 0, "spec: tmpcopyup applies to tmpfs (%s)", m->destination);
  if (m->source[0] != '/' && (is_bind || strcmp(m->type, "overlay") == 0))
    die(EXIT_SKIFF_FAILED, 0, "spec: the source of %s must be an absolute path", m->destination);
}

void volumes_check(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->mounts.len; i++) {
    struct mount_entry m;
    parse_entry(spec->mounts.items[i], &m);
    free(m.type);
  }
}

bool volumes_need_slave_root(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->mounts.len; i++) {
    struct mount_entry m;
    parse_entry(spec->mounts.items[i], &m);
    bool slave = m.propagation == MS_SLAVE || m.propagation == MS_SHARED;
    free(m.type);
    if (slave) return true;
  }
  return false;
}

/* The messages the kernel left on a file system context (fsconfig(2)). */
static void fs_context_message(int fs, char *out, size_t size) {
  out[0] = '\0';
  char line[512];
  ssize_t n;
  size_t used = 0;
  while ((n = read(fs, line, sizeof line - 1)) > 0 && used < size) {
    line[n] = '\0';
    if (line[n - 1] == '\n') line[n - 1] = '\0';
    /* "e overlay: …": the severity letter, then the text. */
    used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "; " : "", n > 2 && line[1] == ' ' ? line + 2 : line);
  }
}

static noreturn void die_fs(int fs, const char *fmt, const char *type, const char *dest) {
  int saved = errno;
  char why[512];
  fs_context_message(fs, why, sizeof why);
  if (why[0]) die(EXIT_SKIFF_FAILED, 0, "%s %s on %s: %s", fmt, type, dest, why);
  die(EXIT_SKIFF_FAILED, saved, "%s %s on %s", fmt, type, dest);
}

/* A new (detached) file system mount of `type` with its data options. */
static int new_filesystem(const char *type, const char *source, const char *data, const char *dest) {
  int fs = fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0) die_errno("mount %s on %s: fsopen (is the file system type known to this kernel?)", type, dest);
  if (source && source[0] && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    die_fs(fs, "mount: the source of", type, dest);
  char *options = strdup(data);
  if (options == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "mount options");
  for (char *save = NULL, *opt = strtok_r(options, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(opt, '=');
    int r;
    if (eq) {
      *eq = '\0';
      r = fsconfig(fs, FSCONFIG_SET_STRING, opt, eq + 1, 0);
    } else {
      r = fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
    }
    if (r < 0) die_fs(fs, "mount: an option of", type, dest);
  }
  free(options);
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) die_fs(fs, "mount", type, dest);
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) die_errno("mount %s on %s: fsmount", type, dest);
  close(fs);
  return mnt;
}

/* An open directory of what a mount fd (or an O_PATH fd) names. */
static int open_dir(int fd, const char *what, const char *dest) {
  int dir = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die_errno("open %s of %s", what, dest);
  return dir;
}

static bool dir_is_empty(int dir, const char *dest) {
  int listing = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) die_errno("open the volume of %s", dest);
  DIR *d = fdopendir(listing);
  if (d == NULL) die_errno("opendir the volume of %s", dest);
  bool empty = true;
  for (struct dirent *e; empty && (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
  closedir(d);
  return empty;
}

/* What the image has at the target, copied into dst with its owners, modes
 * and times, never through a symlink (copytree.c); the counts of what could
 * not be copied become warnings. */
static void copy_image_content(int image_dir, int dst, const char *dest) {
  struct copy_tally tally;
  memset(&tally, 0, sizeof tally);
  struct copy_options opts = {.tally = &tally, .to_container = true, .keep_owner = true, .keep_setid = true, .source_in_container = true};
  copy_contents(&opts, image_dir, ".", dst, "");
  if (tally.skipped_devices || tally.skipped_sockets)
    warn_user("%s: %lu device node(s) and %lu socket(s) of the image were not copied into the volume", dest,
              tally.skipped_devices, tally.skipped_sockets);
}

/* A volume that is still empty is filled with what the image has at the
 * target, and takes the owner and mode of the image's directory, as Docker
 * does. The flock makes containers that start at once on a new volume fill
 * it once. */
static void copy_up(int tree, int target, const char *dest) {
  int volume = open_dir(tree, "the volume", dest);
  if (flock(volume, LOCK_EX) < 0) die_errno("lock the volume of %s", dest);
  if (dir_is_empty(volume, dest)) {
    int image_dir = open_dir(target, "the image's directory", dest);
    copy_image_content(image_dir, volume, dest);
    struct stat st;
    if (fstat(image_dir, &st) < 0) die_errno("stat the image's %s", dest);
    if (fchown(volume, st.st_uid, st.st_gid) < 0) die_errno("chown the volume of %s", dest);
    if (fchmod(volume, st.st_mode & 07777) < 0) die_errno("chmod the volume of %s", dest);
    close(image_dir);
  }
  close(volume); /* and the lock */
}

/* :U: every node below dir (itself too) to uid:gid, by fd, never following a
 * symlink (a link is chowned itself) and never into another mount. */
static void chown_entries(int dir, uid_t uid, gid_t gid, const char *dest) {
  int listing = dup(dir);
  if (listing < 0) die_errno("dup");
  DIR *d = fdopendir(listing);
  if (d == NULL) die_errno("opendir below %s", dest);
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0) die_errno("readdir below %s", dest);
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct statx sx;
    if (statx(dir, e->d_name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx) < 0) {
      if (errno == ENOENT) continue; /* gone meanwhile */
      die_errno("stat %s below %s", e->d_name, dest);
    }
    if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) continue;
    if (fchownat(dir, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
      die_errno("chown %s below %s (:U)", e->d_name, dest);
    if (!S_ISDIR(sx.stx_mode)) continue;
    int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue; /* swapped for something else: not followed */
      die_errno("open %s below %s", e->d_name, dest);
    }
    chown_entries(sub, uid, gid, dest);
    close(sub);
  }
  closedir(d);
}

static void chown_tree(int tree, const struct resolved_user *user, const char *dest) {
  int dir = open_dir(tree, "the source", dest);
  if (fchown(dir, user->uid, user->gid) < 0) die_errno("chown the source of %s to %u:%u (:U)", dest, (unsigned)user->uid, (unsigned)user->gid);
  chown_entries(dir, user->uid, user->gid, dest);
  close(dir);
}

/* --- idmap: a user namespace whose mapping the mount takes ---------------- */

/* "uids=0-1-10#10-11-10;gids=…" -> the uid_map and gid_map texts ("0 1 10\n10 11 10\n"). */
static void idmap_texts(const char *spec, char *uids, char *gids, size_t size, const char *dest) {
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", spec);
  uids[0] = gids[0] = '\0';
  for (char *save = NULL, *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
    char *out = strncmp(part, "uids=", 5) == 0 ? uids : strncmp(part, "gids=", 5) == 0 ? gids : NULL;
    if (out == NULL) die(EXIT_SKIFF_FAILED, 0, "bad idmap for %s: \"%s\"", dest, spec);
    size_t used = 0;
    for (char *s2 = NULL, *r = strtok_r(part + 5, "#", &s2); r; r = strtok_r(NULL, "#", &s2)) {
      unsigned long a, b, c;
      if (sscanf(r, "%lu-%lu-%lu", &a, &b, &c) != 3 || c == 0) die(EXIT_SKIFF_FAILED, 0, "bad idmap range \"%s\" for %s", r, dest);
      used += (size_t)snprintf(out + used, size - used, "%lu %lu %lu\n", a, b, c);
    }
  }
  if (!uids[0] || !gids[0]) die(EXIT_SKIFF_FAILED, 0, "bad idmap for %s: give uids= and gids=", dest);
}

static void write_proc(pid_t pid, const char *name, const char *text, const char *dest) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die_errno("idmap of %s: write %s", dest, path);
  close(fd);
}

/* A new user namespace with this mapping, held by an fd. Its process (a
 * child of this one, in the container's PID namespace) tells its pid as the
 * host's /proc knows it, and is gone once the fd is open. */
static int idmap_userns(const char *spec, const char *dest) {
  if (spec[0] == '\0') {
    int own = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    if (own < 0) die_errno("idmap of %s: open the container's user namespace", dest);
    return own;
  }
  char uids[512], gids[512];
  idmap_texts(spec, uids, gids, sizeof uids, dest);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) die_errno("pipe");
  pid_t child = fork();
  if (child < 0) die_errno("fork for the idmap of %s", dest);
  if (child == 0) {
    close(pipefd[0]);
    char self[32] = "";
    if (unshare(CLONE_NEWUSER) == 0) {
      ssize_t n = readlink("/proc/self", self, sizeof self - 1);
      self[n > 0 ? n : 0] = '\0';
    }
    (void)!write(pipefd[1], self, strlen(self) + 1);
    pause();
    _exit(0);
  }
  close(pipefd[1]);
  char host_pid[32] = "";
  ssize_t n = read(pipefd[0], host_pid, sizeof host_pid - 1);
  close(pipefd[0]);
  if (n <= 1) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    die(EXIT_SKIFF_FAILED, 0, "idmap of %s: could not make a user namespace for the mapping", dest);
  }
  pid_t pid = (pid_t)atoi(host_pid);
  write_proc(pid, "uid_map", uids, dest);
  write_proc(pid, "setgroups", "deny", dest);
  write_proc(pid, "gid_map", gids, dest);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die_errno("idmap of %s: open %s", dest, path);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return fd;
}

static void apply_idmap(int tree, const struct mount_entry *m) {
  int userns = idmap_userns(m->idmap, m->destination);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns};
  if (mount_setattr(tree, "", AT_EMPTY_PATH | (m->recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    if (errno == EINVAL)
      die(EXIT_SKIFF_FAILED, 0, "idmap of %s: the file system of %s does not support idmapped mounts on this kernel", m->destination, m->source);
    if (errno == EPERM)
      die(EXIT_SKIFF_FAILED, 0,
          "idmap of %s: the kernel refused an idmapped mount of %s (Operation not permitted): only the owner of its file system's "
          "user namespace may map it, which for a host directory means root",
          m->destination, m->source);
    die_errno("idmap of %s: mount_setattr", m->destination);
  }
  close(userns);
}

/* --- the kinds of mount --------------------------------------------------- */

static void set_attributes(int mnt, const struct mount_entry *m, bool recursive) {
  if (m->attr.attr_set == 0 && m->attr.attr_clr == 0) return;
  struct mount_attr attr = {.attr_set = m->attr.attr_set, .attr_clr = m->attr.attr_clr};
  if (mount_setattr(mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    die_errno("set the options of the mount on %s", m->destination);
}

static void attach(int mnt, int target, const struct mount_entry *m) {
  if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno("mount %s on %s: move_mount", m->source, m->destination);
  report_debug("mounted %s on %s (bind)", m->source, m->destination);
  /* Binds are private unless asked otherwise (Docker's default, rprivate). */
  unsigned long long propagation = m->propagation ? m->propagation : MS_PRIVATE;
  bool recursive = m->propagation ? m->propagation_recursive : true;
  struct mount_attr attr = {.propagation = propagation};
  if (mount_setattr(mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    die_errno("set the propagation of the mount on %s", m->destination);
}

static void check_types(const struct stat *src, int target, const struct mount_entry *m) {
  struct stat tst;
  if (fstat(target, &tst) < 0) die_errno("stat the mount target %s", m->destination);
  if (S_ISDIR(src->st_mode) && !S_ISDIR(tst.st_mode))
    die(EXIT_SKIFF_FAILED, 0, "cannot mount directory %s on %s: the target is not a directory in the container", m->source, m->destination);
  if (!S_ISDIR(src->st_mode) && S_ISDIR(tst.st_mode))
    die(EXIT_SKIFF_FAILED, 0, "cannot mount file %s on %s: the target is a directory in the container", m->source, m->destination);
}

static void mount_bind(const struct mount_entry *m, int root, const struct resolved_user *owner) {
  /* The one open of the source: what is mounted is what this opened. */
  int src = open(m->source, O_PATH | O_CLOEXEC);
  if (src < 0) die_errno("mount source %s", m->source);
  if (m->subpath) {
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    int sub = (int)syscall(SYS_openat2, src, m->subpath, &how, sizeof how);
    if (sub < 0) die_errno("volume-subpath %s of %s", m->subpath, m->source);
    close(src);
    src = sub;
  }
  int tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (m->recursive ? AT_RECURSIVE : 0));
  if (tree < 0) {
    if (errno == EINVAL && !m->recursive)
      die(EXIT_SKIFF_FAILED, 0, "cannot bind %s non-recursively: it has mounts below it that this user namespace may not hide (use rbind)", m->source);
    die_errno("mount source %s: open_tree", m->source);
  }
  close(src);
  struct stat st;
  if (fstat(tree, &st) < 0) die_errno("stat the mount source %s", m->source);
  int target = inroot_open(root, m->destination, S_ISDIR(st.st_mode) ? INROOT_DIR : INROOT_FILE, "mount target");
  check_types(&st, target, m);
  if (m->copyup) copy_up(tree, target, m->destination);
  if (m->chown) chown_tree(tree, owner, m->destination);
  if (m->idmap) apply_idmap(tree, m);
  set_attributes(tree, m, m->recursive);
  attach(tree, target, m);
  close(target);
  close(tree);
}

static void mount_tmpfs(const struct mount_entry *m, int root) {
  int target = inroot_open(root, m->destination, INROOT_DIR, "mount target");
  struct stat tst;
  if (fstat(target, &tst) < 0) die_errno("stat the mount target %s", m->destination);
  if (!S_ISDIR(tst.st_mode)) die(EXIT_SKIFF_FAILED, 0, "cannot mount a tmpfs on %s: it is not a directory in the container", m->destination);
  int mnt = new_filesystem("tmpfs", "tmpfs", m->data, m->destination);
  if (m->tmpcopyup) {
    int image_dir = open_dir(target, "the image's directory", m->destination);
    int dst = open_dir(mnt, "the tmpfs", m->destination);
    copy_image_content(image_dir, dst, m->destination);
    close(dst);
    close(image_dir);
  }
  set_attributes(mnt, m, false);
  if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno("mount tmpfs on %s: move_mount", m->destination);
  report_debug("mounted tmpfs on %s", m->destination);
  close(mnt);
  close(target);
}

/* :O: the source as the lower layer of an overlay whose upper layer is a
 * tmpfs of this mount namespace only: what the container writes is gone
 * when it ends. */
static void mount_overlay(const struct mount_entry *m, int root, bool userns) {
  int src = open(m->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (src < 0) die_errno("overlay source %s", m->source);
  struct stat st;
  if (fstat(src, &st) < 0) die_errno("stat the overlay source %s", m->source);
  int target = inroot_open(root, m->destination, INROOT_DIR, "mount target");
  check_types(&st, target, m);
  int scratch = new_filesystem("tmpfs", NULL, "mode=0700", m->destination);
  if (mkdirat(scratch, "upper", st.st_mode & 07777) < 0 || mkdirat(scratch, "work", 0700) < 0)
    die_errno("overlay of %s: make its upper directory", m->destination);
  if (fchownat(scratch, "upper", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("overlay of %s: chown its upper directory", m->destination);
  if (fchmodat(scratch, "upper", st.st_mode & 07777, 0) < 0) die_errno("overlay of %s: chmod its upper directory", m->destination);
  char lower[64], upper[64], work[64];
  snprintf(lower, sizeof lower, "/proc/self/fd/%d", src);
  snprintf(upper, sizeof upper, "/proc/self/fd/%d/upper", scratch);
  snprintf(work, sizeof work, "/proc/self/fd/%d/work", scratch);
  int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) die_errno("overlay of %s: fsopen", m->destination);
  if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 || (userns && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    die_fs(fs, "mount", "an overlay", m->destination);
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) die_errno("overlay of %s: fsmount", m->destination);
  close(fs);
  set_attributes(mnt, m, false);
  if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno("mount an overlay of %s on %s: move_mount", m->source, m->destination);
  report_debug("mounted an overlay of %s on %s", m->source, m->destination);
  close(mnt);
  close(scratch);
  close(target);
  close(src);
}

/* A volume made with --opt type=…,device=… (root): its file system, mounted here. */
static void mount_filesystem(const struct mount_entry *m, int root) {
  int target = inroot_open(root, m->destination, INROOT_DIR, "mount target");
  int mnt = new_filesystem(m->type, m->source, m->data, m->destination);
  set_attributes(mnt, m, false);
  if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno("mount %s on %s: move_mount", m->type, m->destination);
  report_debug("mounted %s on %s", m->type, m->destination);
  close(mnt);
  close(target);
}

void volumes_mount_all(const struct container_spec *spec, int root) {
  struct resolved_user owner;
  bool owner_resolved = false;
  for (size_t i = 0; i < spec->mounts.len; i++) {
    struct mount_entry m;
    parse_entry(spec->mounts.items[i], &m);
    if (m.chown && !owner_resolved) {
      /* :U takes the container's user from the image's own /etc/passwd, as Podman does. */
      user_resolve_in(root, spec->user, &owner);
      owner_resolved = true;
    }
    if (strcmp(m.type, "bind") == 0) mount_bind(&m, root, &owner);
    else if (strcmp(m.type, "tmpfs") == 0) mount_tmpfs(&m, root);
    else if (strcmp(m.type, "overlay") == 0) mount_overlay(&m, root, spec->userns);
    else mount_filesystem(&m, root);
    free(m.type);
  }
}
