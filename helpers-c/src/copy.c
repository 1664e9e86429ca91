/* `skiff-helper cp` (copy.h): where the host's and the container's paths are
 * found, and Docker's rules for what a copy makes of them.
 *
 * Order: the host's path is opened first (once in the container's mount
 * namespace, the host's tree is out of sight); then the container's root is
 * reached (setns into a running container's user and mount namespaces, or a
 * private mount namespace with its overlay mounted, in a user namespace with
 * its ID mapping when rootless); then every container path is resolved with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) below that root, so no
 * symlink of the container ("/escape -> /", "../../..", /proc/self/root) can
 * lead outside it. */
#include "copy.h"
#include "inroot.h"
#include "fds.h"
#include "idmap.h"
#include "join.h"
#include "overlay.h"
#include "protocol.h"
#include "report.h"
#include "sealed.h"
#include "sync.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define IN_CONTAINER (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define MAX_HOPS 40

/* A path, found: the node is `name` in the directory `dir`. */
struct place {
  const char *path;          /* as the user wrote it */
  int dir;                   /* O_PATH fd of its directory; -1 when that does not exist */
  char name[NAME_MAX + 1];   /* "." when the path names a directory itself ("/", "dir/.") */
  char base[NAME_MAX + 1];   /* the last name the user wrote: what a copy into a directory is called */
  bool contents;             /* "dir/." or "/": the directory's contents, not the directory */
  bool trailing_slash;       /* "dir/" or "dir/.": the user says it is a directory */
  bool exists;
  struct stat st;
};

static int open_dir(int root, unsigned long long resolve, const char *path) {
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = resolve};
  return openat2_retry(root, path[0] ? path : ".", &how);
}

static void copy_text(char *out, size_t size, const char *text, const char *what) {
  if (strlen(text) >= size) die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "%s", what);
  strcpy(out, text);
}

/* Drops trailing slashes (not the first character). */
static void strip_slashes(char *p) {
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
}

/* Finds `path` below root (host: AT_FDCWD and no RESOLVE flags; container: its
 * root fd and IN_CONTAINER). Every directory on the way is resolved by
 * openat2; a symlink as the last component is followed only with `follow`, by
 * re-resolving its target from the same root, never by the kernel crossing it
 * unchecked. */
static void locate(int root, unsigned long long resolve, const char *path, bool follow, struct place *p) {
  memset(p, 0, sizeof *p);
  p->path = path;
  p->dir = -1;
  char cur[PATH_MAX];
  copy_text(cur, sizeof cur, path[0] ? path : ".", path);
  size_t len = strlen(cur);
  p->trailing_slash = cur[len - 1] == '/' || strcmp(cur, ".") == 0 || (len >= 2 && strcmp(cur + len - 2, "/.") == 0);
  /* "link/" names what the link points to, as path resolution reads it
   * (and Docker's and Podman's cp): a symlink at the end is followed. */
  if (len > 1 && cur[len - 1] == '/') follow = true;
  strip_slashes(cur);
  const char *last = strrchr(cur, '/');
  last = last ? last + 1 : cur;
  if (strcmp(last, "..") == 0) die(EXIT_SKIFF_FAILED, 0, "%s: a path ending in \"..\" is not supported", path);
  p->contents = strcmp(last, ".") == 0 || strcmp(cur, "/") == 0;
  copy_text(p->base, sizeof p->base, last[0] && strcmp(last, "/") != 0 ? last : ".", path);

  for (int hops = 0;; hops++) {
    strip_slashes(cur);
    char *slash = strrchr(cur, '/');
    const char *name = slash ? slash + 1 : cur;
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
      /* The path names a directory itself. */
      p->dir = open_dir(root, resolve, cur);
      strcpy(p->name, ".");
    } else {
      copy_text(p->name, sizeof p->name, name, path);
      if (slash == cur) {
        p->dir = open_dir(root, resolve, "/");
      } else if (slash) {
        *slash = '\0';
        p->dir = open_dir(root, resolve, cur);
        *slash = '/';
      } else {
        p->dir = open_dir(root, resolve, ".");
      }
    }
    if (p->dir < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return;
      die_errno("open the directory of %s", path);
    }
    if (fstatat(p->dir, p->name, &p->st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) return;
      die_errno("lstat %s", path);
    }
    p->exists = true;
    if (!follow || !S_ISLNK(p->st.st_mode)) return;
    if (hops == MAX_HOPS) die(EXIT_SKIFF_FAILED, ELOOP, "%s", path);
    char target[PATH_MAX];
    ssize_t n = readlinkat(p->dir, p->name, target, sizeof target - 1);
    if (n < 0) die_errno("readlink %s", path);
    target[n] = '\0';
    /* The target, relative to the link's directory unless absolute. */
    char next[PATH_MAX];
    if (target[0] == '/' || slash == NULL) {
      copy_text(next, sizeof next, target, path);
    } else {
      *slash = '\0';
      if ((size_t)snprintf(next, sizeof next, "%s/%s", cur[0] ? cur : "", target) >= sizeof next)
        die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "%s", path);
    }
    strcpy(cur, next);
    close(p->dir);
    p->dir = -1;
    p->exists = false;
  }
}

/* A path for messages: the user's, without the "/." skiff may add to it. */
static const char *shown(const char *path) {
  static char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  size_t n = strlen(buf);
  if (n > 2 && strcmp(buf + n - 2, "/.") == 0) buf[n - 2] = '\0';
  return buf;
}

/* Returns an O_PATH fd of the container's root directory, from inside its namespaces. */
static int enter_container(const struct container_spec *spec) {
  if (spec->target_pid > 0) {
    int user = spec->userns ? join_open_ns(spec->target_pid, "user") : -1;
    int mnt = join_open_ns(spec->target_pid, "mnt");
    if (user >= 0) {
      join_ns(user, CLONE_NEWUSER, "user");
      if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die_errno("become root in the container's user namespace");
    }
    /* setns(CLONE_NEWNS) makes the namespace's root ours: the container's. */
    join_ns(mnt, CLONE_NEWNS, "mount");
  } else {
    if (spec->rootfs == NULL) die(EXIT_SKIFF_FAILED, 0, "spec: cp needs target_pid or rootfs");
    if (spec->userns)
      userns_fork(spec);
    else if (unshare(CLONE_NEWNS) < 0)
      die_errno("unshare a mount namespace");
    /* The overlay mounted here must never show on the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_errno("make / private");
    if (spec->lowerdirs.len > 0) overlay_mount_rootfs(spec);
  }
  int root = open(spec->target_pid > 0 ? "/" : spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die_errno("open the container's root filesystem");
  return root;
}

static void require_source(const struct place *src, bool in_container, const char *container) {
  if (!src->exists) {
    if (in_container) die(EXIT_SKIFF_FAILED, 0, "could not find the file %s in container %s", src->path, container);
    die(EXIT_SKIFF_FAILED, ENOENT, "lstat %s", src->path);
  }
  if ((src->trailing_slash || src->contents) && !S_ISDIR(src->st.st_mode))
    die(EXIT_SKIFF_FAILED, ENOTDIR, "%s", src->path);
}

static const char *node_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/* A destination that is a device, a FIFO or a socket is never removed to
 * make room (as root that would delete, say, /dev/null), nor written to. */
noreturn static void refuse_special_destination(const char *path, mode_t mode) {
  die(EXIT_SKIFF_FAILED, 0, "cannot copy to %s: it is %s, not a file or a directory (to write a tar stream to stdout, use -)",
      shown(path), node_kind(mode));
}

/* Docker's rules: SRC into an existing directory DST under its own name (or
 * its contents, for "SRC/."); over an existing file; or as DST when missing. */
static void copy_to(const struct copy_options *opts, struct place *src, struct place *dst) {
  bool src_dir = S_ISDIR(src->st.st_mode);
  if (dst->dir < 0) {
    if (dst->contents || dst->trailing_slash) die(EXIT_SKIFF_FAILED, 0, "destination directory %s does not exist", shown(dst->path));
    die(EXIT_SKIFF_FAILED, 0, "the directory of destination %s does not exist", dst->path);
  }
  if (dst->exists && S_ISDIR(dst->st.st_mode)) {
    int into = openat(dst->dir, dst->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (into < 0) die_errno("open %s", dst->path);
    if (src->contents)
      copy_contents(opts, src->dir, src->name, into, "");
    else
      copy_node(opts, src->dir, src->name, into, src->base, src->base);
    close(into);
    return;
  }
  if (dst->exists && !S_ISREG(dst->st.st_mode)) refuse_special_destination(dst->path, dst->st.st_mode);
  if (dst->exists) {
    if (src_dir) die(EXIT_SKIFF_FAILED, 0, "cannot copy a directory to a file: %s is a file", shown(dst->path));
    if (dst->trailing_slash) die(EXIT_SKIFF_FAILED, ENOTDIR, "%s", shown(dst->path));
  } else if (dst->trailing_slash && (!src_dir || dst->contents)) {
    die(EXIT_SKIFF_FAILED, 0, "destination directory %s does not exist", shown(dst->path));
  }
  copy_node(opts, src->dir, src->name, dst->dir, dst->name, dst->name);
}

/* A build's COPY and WORKDIR: the directories of `path` beneath the
 * container's root that do not exist yet are made (0755, owned by the
 * container's root as Docker makes them, or by `owner` when given: WORKDIR
 * under a USER, as BuildKit); the last component too when the path ends in
 * "/" or "/.". Each prefix is resolved from the root with IN_CONTAINER, so a
 * symlink on the way is followed inside the root and never out of it; each
 * directory is made with mkdirat in the directory fd just resolved, by one
 * name, and given its owner by that name, never following a link. */
static void make_directories(int root, const char *path, const struct container_spec *owner) {
  char buf[PATH_MAX];
  copy_text(buf, sizeof buf, path, path);
  size_t len = strlen(buf);
  bool whole = len > 0 && (buf[len - 1] == '/' || (len >= 2 && strcmp(buf + len - 2, "/.") == 0));
  while (len > 1 && (buf[len - 1] == '/' || (buf[len - 1] == '.' && buf[len - 2] == '/'))) buf[--len] = '\0';
  if (!whole) {
    char *slash = strrchr(buf, '/');
    if (slash == NULL) return;
    *slash = '\0';
  }
  int parent = dup(root);
  if (parent < 0) die_errno("dup");
  for (char *p = buf; *p != '\0';) {
    while (*p == '/') p++;
    if (*p == '\0') break;
    char *end = strchr(p, '/');
    char saved = end ? *end : '\0';
    if (end) *end = '\0';
    int fd = open_dir(root, IN_CONTAINER, buf);
    if (fd < 0 && errno == ENOENT) {
      if (mkdirat(parent, p, 0755) == 0) {
        if (owner && fchownat(parent, p, owner->cp_mkdir_uid, owner->cp_mkdir_gid, AT_SYMLINK_NOFOLLOW) < 0)
          die_errno("chown %s to %u:%u", buf, (unsigned)owner->cp_mkdir_uid, (unsigned)owner->cp_mkdir_gid);
      } else if (errno != EEXIST) {
        die_errno("mkdir %s", buf);
      }
      fd = open_dir(root, IN_CONTAINER, buf);
    }
    if (fd < 0) die_errno("open directory %s in the container", buf);
    close(parent);
    parent = fd;
    if (!end) break;
    *end = saved;
    p = end + 1;
  }
  close(parent);
}

noreturn void copy_main(char **argv) {
  /* This process enters the container's namespaces: no container process
   * may ever reach the helper's binary through it (CVE-2019-5736). */
  sealed_reexec(argv);
  report_set_fd(SKIFF_SPEC_FD);
  int report = SKIFF_SPEC_FD;
  fds_close_except(&report, 1);
  struct container_spec spec;
  spec_read(SKIFF_SPEC_FD, &spec);
  const char *op = spec.cp_op ? spec.cp_op : "";
  bool out = strcmp(op, "out") == 0, in = strcmp(op, "in") == 0, tar = strcmp(op, "tar") == 0;
  if (!out && !in && !tar) die(EXIT_SKIFF_FAILED, 0, "spec: cp_op must be out, in or tar, not \"%s\"", op);
  if (spec.cp_src == NULL || (!tar && spec.cp_dst == NULL)) die(EXIT_SKIFF_FAILED, 0, "spec: cp needs cp_src and cp_dst");
  const char *container = spec.cp_name ? spec.cp_name : "?";
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_errno("prctl(PR_SET_DUMPABLE)");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  signal(SIGPIPE, SIG_IGN); /* a closed stdout is an error to report, not a silent death */
  umask(0);                 /* modes are copied exactly */

  struct place host;
  if (out) {
    /* The kernel's own view first: /dev/stdout leads through /proc/self/fd to
     * a pipe or a terminal, which locate's walk cannot follow. */
    struct stat st;
    if (stat(spec.cp_dst, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
      refuse_special_destination(spec.cp_dst, st.st_mode);
    locate(AT_FDCWD, 0, spec.cp_dst, true, &host);
  }
  if (in) locate(AT_FDCWD, 0, spec.cp_src, spec.cp_follow, &host);
  if (in) require_source(&host, false, container);

  int root = enter_container(&spec);
  struct place ctr;
  struct copy_tally tally = {0};
  struct copy_options opts = {.tally = &tally, .keep_setid = spec.cp_setid};
  if (in) {
    if (spec.cp_mkdir) make_directories(root, spec.cp_dst, spec.cp_mkdir_owned ? &spec : NULL);
    locate(root, IN_CONTAINER, spec.cp_dst, true, &ctr);
    opts.to_container = true;
    opts.keep_owner = spec.cp_archive;
    copy_to(&opts, &host, &ctr);
  } else {
    locate(root, IN_CONTAINER, spec.cp_src, spec.cp_follow, &ctr);
    require_source(&ctr, true, container);
    opts.source_in_container = true;
    if (out) {
      copy_to(&opts, &ctr, &host);
    } else {
      struct tar_writer writer = {.fd = STDOUT_FILENO};
      opts.tar = &writer;
      if (ctr.contents)
        copy_contents(&opts, ctr.dir, ctr.name, -1, "");
      else
        copy_node(&opts, ctr.dir, ctr.name, -1, NULL, ctr.base);
      tar_finish(&writer);
    }
  }
  copy_report(&tally);
  _exit(0);
}
