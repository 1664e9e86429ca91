/* Paths inside the container's root, from the outside, before pivot_root:
 * every component resolved with openat2(RESOLVE_IN_ROOT), so a symlink in
 * the image (or in a volume another container writes) resolves the way the
 * container will see it, against the container's "/", never the host's
 * (design.md decision 11; CVE-2021-30465 and CVE-2018-15664 are the classes
 * this closes). */
#ifndef SKIFF_INROOT_H
#define SKIFF_INROOT_H

struct open_how;

enum inroot_create { INROOT_DIR, INROOT_FILE };

/* openat2(2), tried again while it fails with EAGAIN: with RESOLVE_IN_ROOT or
 * RESOLVE_BENEATH the kernel answers EAGAIN when a rename or mount anywhere on
 * the system raced a ".." of the path (a busy host, not an attack), and asks
 * the caller to retry. -1 with errno otherwise, as openat2. */
int openat2_retry(int dirfd, const char *path, struct open_how *how);

/* Opens (O_PATH) the absolute container path `path` below the directory fd
 * `root`. Symlinks, the last one too, are followed inside the root; what is
 * missing is created in the root (directories, and the last component as a
 * directory or an empty file). Dies with a message naming `what` and the
 * path on any error. */
int inroot_open(int root, const char *path, enum inroot_create create, const char *what);

#endif
