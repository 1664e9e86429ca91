/* A small static program the escape tests build (070-escapes.test.ts), as
 * crun's tests/init.c: one binary, a subcommand each.
 *
 *   escape-probe swap A B     exchanges A and B with renameat2(RENAME_EXCHANGE)
 *                             in a tight loop, forever: inside a container,
 *                             a directory and a symlink to a host directory.
 *   escape-probe watch P...   on the host: prints "ready", then one line per
 *                             inotify event on the paths P (the sentinel and
 *                             what it holds), until killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static int swap(const char *a, const char *b) {
  for (unsigned long n = 0;; n++) {
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0) {
      fprintf(stderr, "escape-probe: renameat2 %s %s: %s (after %lu swaps)\n", a, b, strerror(errno), n);
      return 1;
    }
  }
}

static int watch(int count, char **paths) {
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0) {
    perror("escape-probe: inotify_init1");
    return 1;
  }
  for (int i = 0; i < count; i++) {
    if (inotify_add_watch(fd, paths[i], IN_ALL_EVENTS | IN_DONT_FOLLOW) < 0) {
      fprintf(stderr, "escape-probe: watch %s: %s\n", paths[i], strerror(errno));
      return 1;
    }
  }
  dprintf(STDOUT_FILENO, "ready\n");
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("escape-probe: read inotify");
      return 1;
    }
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      dprintf(STDOUT_FILENO, "event wd=%d mask=0x%x name=%s\n", e->wd, e->mask, e->len ? e->name : "");
      p += sizeof *e + e->len;
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "swap") == 0) return swap(argv[2], argv[3]);
  if (argc >= 3 && strcmp(argv[1], "watch") == 0) return watch(argc - 2, argv + 2);
  fprintf(stderr, "usage: escape-probe swap A B | escape-probe watch PATH...\n");
  return 2;
}
