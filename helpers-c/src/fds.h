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

/* Marks every fd from first_fd up close-on-exec. */
void fds_cloexec_from(int first_fd);

#endif
