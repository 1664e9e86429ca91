#include "fds.h"
#include "protocol.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static bool kept(int fd, const int *keep, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (keep[i] == fd) return true;
  return false;
}

/* For kernels without close_range: every open fd from first_fd up that is not
 * kept gets `action` (close, or FD_CLOEXEC). */
static void walk_proc_fds(int first_fd, const int *keep, size_t n, bool close_them) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) die_errno("opendir /proc/self/fd");
  int self = dirfd(dir);
  for (struct dirent *e; (e = readdir(dir));) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd < first_fd || fd == self || kept(fd, keep, n)) continue;
    if (close_them) {
      close(fd);
      continue;
    }
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) die_errno("fcntl(%d, F_SETFD)", fd);
  }
  closedir(dir);
}

void fds_close_except(const int *keep, size_t n) {
  /* The gaps between the kept fds, lowest first. */
  unsigned from = 3;
  for (;;) {
    int next = -1;
    for (size_t i = 0; i < n; i++)
      if (keep[i] >= (int)from && (next < 0 || keep[i] < next)) next = keep[i];
    unsigned to = next < 0 ? ~0U : (unsigned)next - 1;
    if (from <= to && syscall(SYS_close_range, from, to, 0) < 0) {
      if (errno != ENOSYS) die_errno("close_range(%u, %u)", from, to);
      walk_proc_fds(3, keep, n, true);
      return;
    }
    if (next < 0) return;
    from = (unsigned)next + 1;
  }
}

void fds_close_except_preserved(const int *keep, size_t n, unsigned preserved) {
  if (preserved == 0) {
    fds_close_except(keep, n);
    return;
  }
  int *all = calloc(n + preserved, sizeof *all);
  if (all == NULL) die_errno("calloc");
  for (size_t i = 0; i < n; i++) all[i] = keep[i];
  for (unsigned i = 0; i < preserved; i++) all[n + i] = SKIFF_PRESERVED_FD_BASE + (int)i;
  fds_close_except(all, n + preserved);
  free(all);
  /* Only the container's process gets them (fds_place_preserved): not a
   * network program or on_exit command this helper starts. */
  for (unsigned i = 0; i < preserved; i++) {
    int fd = SKIFF_PRESERVED_FD_BASE + (int)i;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) die_errno("preserve_fds: fcntl(%d, F_SETFD)", fd);
  }
}

void fds_close_preserved(unsigned preserved) {
  for (unsigned i = 0; i < preserved; i++) close(SKIFF_PRESERVED_FD_BASE + (int)i);
}

/* fd moved to the lowest free number from `above` up, close-on-exec. */
static int move_above(int fd, int above) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, above);
  if (moved < 0) die_errno("fcntl(%d, F_DUPFD_CLOEXEC, %d)", fd, above);
  if (close(fd) < 0) die_errno("close(%d)", fd);
  return moved;
}

void fds_place_preserved(unsigned preserved, int *sync_sock) {
  if (preserved == 0) return;
  /* Above every target (3..) and every source (BASE..). */
  int above = SKIFF_PRESERVED_FD_BASE + (int)preserved;
  if (report_fd() >= 0 && report_fd() < above) report_set_fd(move_above(report_fd(), above));
  if (*sync_sock >= 0 && *sync_sock < above) *sync_sock = move_above(*sync_sock, above);
  /* Lowest first: target 3+i is below source BASE+i, so a source a target
   * overwrites has already been placed. */
  for (unsigned i = 0; i < preserved; i++) {
    int from = SKIFF_PRESERVED_FD_BASE + (int)i, to = 3 + (int)i;
    if (dup2(from, to) < 0) die_errno("dup2(%d, %d)", from, to);
  }
  /* The sources above the targets go at execve (fds_cloexec_from marked them). */
}

void fds_cloexec_from(int first_fd) {
  if (syscall(SYS_close_range, (unsigned)first_fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) die_errno("close_range(%d, CLOEXEC)", first_fd);
  /* Kernels before 5.11. */
  walk_proc_fds(first_fd, NULL, 0, false);
}
