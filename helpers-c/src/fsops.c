#include "fsops.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_FIELDS 6

/* Opens the parent directory of `path` below `root_fd` without following any
 * symlink, and returns it with the last component in *name. */
static int open_parent(int root_fd, char *path, const char **name) {
  char *slash = strrchr(path, '/');
  const char *parent = ".";
  if (slash) {
    *slash = '\0';
    parent = path[0] ? path : ".";
    *name = slash + 1;
  } else {
    *name = path;
  }
  if ((*name)[0] == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0)
    die(EXIT_SKIFF_FAILED, 0, "fsops: bad path component \"%s\"", *name);
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, root_fd, parent, &how, sizeof how);
  if (fd < 0) die_errno("fsops: open the directory of %s/%s", parent, *name);
  return fd;
}

/* setxattr on a file named relative to a directory, without following a symlink. */
static void set_xattr_at(int dir_fd, const char *name, const char *key, const void *value, size_t len) {
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof how);
  if (fd < 0) die_errno("fsops: open %s", name);
  /* An O_PATH fd takes xattrs through its /proc/self/fd path (as runc/crun do);
   * setxattr follows that magic link to the very file opened above. */
  char proc_path[64];
  snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  if (setxattr(proc_path, key, value, len, 0) < 0) die_errno("fsops: setxattr %s on %s", key, name);
  close(fd);
}

static unsigned char hex_digit(char c) {
  if (c >= '0' && c <= '9') return (unsigned char)(c - '0');
  if (c >= 'a' && c <= 'f') return (unsigned char)(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return (unsigned char)(c - 'A' + 10);
  die(EXIT_SKIFF_FAILED, 0, "fsops: bad hex digit '%c'", c);
}

static size_t decode_hex(const char *hex, unsigned char *out, size_t cap) {
  size_t len = strlen(hex);
  if (len % 2 != 0 || len / 2 > cap) die(EXIT_SKIFF_FAILED, 0, "fsops: bad hex value");
  for (size_t i = 0; i < len / 2; i++) out[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
  return len / 2;
}

static unsigned long parse_number(const char *s, int base) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, base);
  if (*s == '\0' || *end != '\0' || errno != 0) die(EXIT_SKIFF_FAILED, 0, "fsops: bad number \"%s\"", s);
  return v;
}

static size_t fields_for(const char *op) {
  if (strcmp(op, "whiteout") == 0 || strcmp(op, "opaque") == 0) return 2;
  if (strcmp(op, "whiteout-file") == 0 || strcmp(op, "opaque-file") == 0) return 2;
  if (strcmp(op, "xattr") == 0) return 4;
  if (strcmp(op, "mknod") == 0) return 6;
  die(EXIT_SKIFF_FAILED, 0, "fsops: unknown operation \"%s\"", op);
}

/* An empty file, mode 0000, named `marker` in the directory `dir_fd` (the
 * tar's own way of recording a deletion, which every filesystem takes). */
static void make_marker(int dir_fd, const char *marker, const char *what) {
  int fd = openat(dir_fd, marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
  if (fd < 0) die_errno("fsops: create %s for %s", marker, what);
  if (close(fd) < 0) die_errno("fsops: close %s", marker);
}

static void apply(int root_fd, char **f) {
  const char *name;
  int dir_fd = open_parent(root_fd, f[1], &name);
  if (strcmp(f[0], "whiteout-file") == 0) {
    char marker[NAME_MAX + 1];
    if ((size_t)snprintf(marker, sizeof marker, ".wh.%s", name) >= sizeof marker)
      die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "fsops: whiteout-file %s: the name .wh.%s is too long for a file", name, name);
    make_marker(dir_fd, marker, name);
  } else if (strcmp(f[0], "opaque-file") == 0) {
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    int sub = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof how);
    if (sub < 0) die_errno("fsops: open the directory %s", name);
    make_marker(sub, ".wh..wh..opq", name);
    close(sub);
  } else if (strcmp(f[0], "whiteout") == 0) {
    if (mknodat(dir_fd, name, S_IFCHR | 0000, makedev(0, 0)) < 0) die_errno("fsops: whiteout %s", name);
  } else if (strcmp(f[0], "opaque") == 0) {
    set_xattr_at(dir_fd, name, "user.overlay.opaque", "y", 1);
  } else if (strcmp(f[0], "xattr") == 0) {
    static unsigned char value[65536];
    size_t len = decode_hex(f[3], value, sizeof value);
    set_xattr_at(dir_fd, name, f[2], value, len);
  } else {
    mode_t type = f[2][0] == 'c' ? S_IFCHR : f[2][0] == 'b' ? S_IFBLK : f[2][0] == 'p' ? S_IFIFO : 0;
    if (type == 0 || f[2][1] != '\0') die(EXIT_SKIFF_FAILED, 0, "fsops: bad node type \"%s\"", f[2]);
    mode_t mode = (mode_t)parse_number(f[3], 8) & 07777;
    dev_t dev = makedev(parse_number(f[4], 10), parse_number(f[5], 10));
    if (mknodat(dir_fd, name, type | mode, dev) < 0) die_errno("fsops: mknod %s", name);
  }
  close(dir_fd);
}

noreturn void fsops_main(const char *dir) {
  umask(0); /* modes come from the layer, exactly */
  int root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) die_errno("fsops: open %s", dir);
  /* Records are small; read them all, then apply in order. */
  size_t cap = 1 << 16, used = 0;
  char *buf = malloc(cap);
  if (buf == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "fsops: allocating");
  for (;;) {
    if (used == cap) {
      char *grown = realloc(buf, cap *= 2);
      if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "fsops: allocating");
      buf = grown;
    }
    ssize_t n = read(STDIN_FILENO, buf + used, cap - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno("fsops: read stdin");
    }
    if (n == 0) break;
    used += (size_t)n;
  }
  if (used > 0 && buf[used - 1] != '\0') die(EXIT_SKIFF_FAILED, 0, "fsops: the last record is not NUL-terminated");
  char *fields[MAX_FIELDS];
  size_t count = 0, want = 0;
  for (size_t off = 0; off < used;) {
    char *field = buf + off;
    off += strlen(field) + 1;
    if (count == 0) want = fields_for(field);
    fields[count++] = field;
    if (count == want) {
      apply(root_fd, fields);
      count = 0;
    }
  }
  if (count != 0) die(EXIT_SKIFF_FAILED, 0, "fsops: a truncated \"%s\" record", fields[0]);
  _exit(0);
}
