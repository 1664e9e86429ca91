/* Paths inside the container's root (inroot.h). */
#include "inroot.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINKS 40

/* Retries of an EAGAIN: each is a fresh walk, and a race needs a concurrent
 * rename at that very moment; past this many, the answer stands. */
#define OPENAT2_TRIES 128

int openat2_retry(int dirfd, const char *path, struct open_how *how) {
  for (int i = 0;; i++) {
    int fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof *how);
    if (fd >= 0 || errno != EAGAIN || i + 1 >= OPENAT2_TRIES) return fd;
  }
}

static int open_beneath(int root, const char *rel, int flags) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return openat2_retry(root, rel[0] ? rel : ".", &how);
}

/* The directory part of a relative path: "" for a name in the root. */
static void dir_of(const char *rel, char *out, size_t size) {
  snprintf(out, size, "%s", rel);
  char *slash = strrchr(out, '/');
  if (slash) *slash = '\0';
  else out[0] = '\0';
}

static void set_path(char *path, size_t size, const char *value, const char *what, const char *shown) {
  if ((size_t)snprintf(path, size, "%s", value) >= size) die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "%s %s", what, shown);
}

/* rel (a symlink, below root) replaced by what it points to, with `rest` after it. */
static void substitute_link(int root, const char *rel, const char *rest, char *path, size_t size, const char *what,
                            const char *shown) {
  int link = open_beneath(root, rel, O_PATH | O_NOFOLLOW);
  if (link < 0) die_errno("%s %s: open /%s", what, shown, rel);
  char target[PATH_MAX];
  ssize_t n = readlinkat(link, "", target, sizeof target - 1);
  if (n < 0) die_errno("%s %s: readlink /%s", what, shown, rel);
  target[n] = '\0';
  close(link);
  char next[PATH_MAX], parent[PATH_MAX];
  dir_of(rel, parent, sizeof parent);
  int len = target[0] == '/' ? snprintf(next, sizeof next, "%s%s%s", target + strspn(target, "/"), rest[0] ? "/" : "", rest)
                             : snprintf(next, sizeof next, "%s%s%s%s%s", parent, parent[0] ? "/" : "", target, rest[0] ? "/" : "", rest);
  if (len < 0 || (size_t)len >= sizeof next) die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "%s %s", what, shown);
  set_path(path, size, next, what, shown);
}

/* Creates what is missing of `path`, one component at a time, each parent
 * opened inside the root. A component that is a dangling symlink is replaced
 * in `path` by its target (followed inside the root); returns true then, so
 * that the caller starts again. */
static bool create_missing(int root, char *path, size_t size, enum inroot_create create, const char *what, const char *shown) {
  char prefix[PATH_MAX];
  for (size_t end = 0;;) {
    while (path[end] == '/') end++;
    size_t next = end + strcspn(path + end, "/");
    bool last = path[next + strspn(path + next, "/")] == '\0';
    memcpy(prefix, path, next);
    prefix[next] = '\0';
    int fd = open_beneath(root, prefix, O_PATH);
    if (fd >= 0) {
      close(fd);
    } else if (errno != ENOENT) {
      die_errno("%s %s: open /%s", what, shown, prefix);
    } else {
      int nofollow = open_beneath(root, prefix, O_PATH | O_NOFOLLOW);
      if (nofollow >= 0) {
        /* It exists: a link to something missing. */
        close(nofollow);
        substitute_link(root, prefix, path + next + strspn(path + next, "/"), path, size, what, shown);
        return true;
      }
      char parent_path[PATH_MAX];
      dir_of(prefix, parent_path, sizeof parent_path);
      int parent = open_beneath(root, parent_path, O_PATH | O_DIRECTORY);
      if (parent < 0) die_errno("%s %s: open /%s", what, shown, parent_path);
      const char *name = prefix + strlen(parent_path) + (parent_path[0] ? 1 : 0);
      int made = last && create == INROOT_FILE ? mknodat(parent, name, S_IFREG | 0644, 0) : mkdirat(parent, name, 0755);
      if (made < 0 && errno != EEXIST) die_errno("%s %s: create /%s", what, shown, prefix);
      close(parent);
    }
    if (last) return false;
    end = next;
  }
}

int inroot_open(int root, const char *abs_path, enum inroot_create create, const char *what) {
  char path[PATH_MAX];
  set_path(path, sizeof path, abs_path + strspn(abs_path, "/"), what, abs_path);
  for (int links = 0, created = 0;;) {
    int fd = open_beneath(root, path, O_PATH | O_NOFOLLOW);
    if (fd < 0) {
      if (errno != ENOENT) die_errno("%s %s", what, abs_path);
      if (created++ > MAX_LINKS) die(EXIT_SKIFF_FAILED, ELOOP, "%s %s", what, abs_path);
      if (create_missing(root, path, sizeof path, create, what, abs_path) && ++links > MAX_LINKS)
        die(EXIT_SKIFF_FAILED, ELOOP, "%s %s", what, abs_path);
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) die_errno("%s %s: fstat", what, abs_path);
    if (!S_ISLNK(st.st_mode)) {
      struct stat root_st;
      if (fstat(root, &root_st) < 0) die_errno("fstat the container's root");
      if (st.st_dev == root_st.st_dev && st.st_ino == root_st.st_ino)
        die(EXIT_SKIFF_FAILED, 0, "%s %s resolves to the container's root directory itself", what, abs_path);
      return fd;
    }
    /* The last component is a link: follow it, inside the root. */
    if (++links > MAX_LINKS) die(EXIT_SKIFF_FAILED, ELOOP, "%s %s", what, abs_path);
    close(fd);
    char rel[PATH_MAX];
    set_path(rel, sizeof rel, path, what, abs_path);
    substitute_link(root, rel, "", path, sizeof path, what, abs_path);
  }
}
