/* Which file descriptors a process of the helper holds. A directory fd that
 * reaches a container's process is a way out of its root: /proc/self/fd/N as
 * the working directory or in a path (runc's CVE-2024-21626). So every helper
 * mode first closes what it did not open, and a container's process closes
 * all but the channels it still needs before it looks at any path. */
#ifndef SKIFF_FDS_H
#define SKIFF_FDS_H

#include <stddef.h>

/* Closes every fd from 3 up except those in keep (negative entries are
 * ignored): close_range(2) over the gaps, or a /proc/self/fd walk on kernels
 * before 5.9. */
void fds_close_except(const int *keep, size_t n);

/* fds_close_except, keeping also the `preserved` fds from
 * SKIFF_PRESERVED_FD_BASE up (--preserve-fds). */
void fds_close_except_preserved(const int *keep, size_t n, unsigned preserved);

/* Closes the helper's own copies of the preserved fds once the container's
 * process has them. */
void fds_close_preserved(unsigned preserved);

/* In the container's process, after fds_cloexec_from(3), last before execve:
 * the preserved fds become 3..3+preserved-1, without FD_CLOEXEC. The report
 * fd and *sync_sock are moved above them first (still close-on-exec). */
void fds_place_preserved(unsigned preserved, int *sync_sock);

/* Marks every fd from first_fd up close-on-exec. */
void fds_cloexec_from(int first_fd);

#endif
