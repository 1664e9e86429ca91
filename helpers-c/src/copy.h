/* `skiff-helper cp`: files between the host and a container's root
 * filesystem, with Docker's `cp` rules, never through a symlink of the
 * container onto the host.
 *
 * Spec keys: cp_op (out, in, tar), cp_src, cp_dst, cp_name, cp_archive,
 * cp_follow, cp_setid, cp_mkdir, cp_mkdir_owner; the container is target_pid (running: its user and
 * mount namespaces are joined) or rootfs with lowerdir/upperdir/workdir
 * (stopped: the overlay is mounted in a private mount namespace), with
 * uidmap/gidmap when rootless. `tar` writes the archive to fd 1. */
#ifndef SKIFF_COPY_H
#define SKIFF_COPY_H

#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "protocol.h"
#include "tarwrite.h"

noreturn void copy_main(char **argv);

/* --- copytree.c: one recursive copy for every direction ------------------ */

/* What a copy did, reported once at the end (copy_report). */
struct copy_tally {
  unsigned long long bytes; /* of regular files */
  unsigned long skipped_devices, skipped_sockets, unmapped_owners;
  char first_device[256], first_socket[256];
};

/* Owners moved from one ID mapping to another: an ID inside+i becomes outside+i. */
struct id_shift {
  const struct id_range *uids, *gids;
  size_t uids_len, gids_len;
};

struct copy_options {
  struct copy_tally *tally;
  bool to_container; /* files written get 0:0, or the source's ids with keep_owner */
  bool keep_owner;
  bool keep_setid;
  bool source_in_container; /* do not descend into mount points below the source (/proc, /dev of a running container) */
  struct tar_writer *tar;   /* non-NULL: write an archive instead of files */
  const struct id_shift *shift; /* non-NULL: every owner through it (a layer for --userns keep-id) */
  bool xattrs;                  /* copy the extended attributes of directories and files */
  /* The source is an image layer (overlay's forms) applied onto the
   * destination: a whiteout (0/0 character device) removes what is there, an
   * opaque directory first empties it, a directory there is replaced by a
   * non-directory, and overlay's own xattrs are not copied (the vfs driver's
   * plain copy of an image). */
  bool apply_layer;
};

/* Copies the node src_name of src_dir (not following a symlink there) to
 * dst_name in dst_dir, or into the archive as tar_name. Directories
 * recursively; an existing directory at the destination is merged into, any
 * other existing node is replaced. Every call is relative to a directory fd,
 * with O_NOFOLLOW on the single component it names. */
void copy_node(const struct copy_options *opts, int src_dir, const char *src_name, int dst_dir, const char *dst_name,
               const char *tar_name);

/* Copies each entry of the directory src_name of src_dir into dst_dir (or the
 * archive, under tar_prefix: "" for the top). */
void copy_contents(const struct copy_options *opts, int src_dir, const char *src_name, int dst_dir, const char *tar_prefix);

/* Nodes skipped (sockets; devices that need real root) as warnings, and the
 * bytes copied as a "copied<TAB>N" report line. */
void copy_report(const struct copy_tally *tally);

#endif
