/* A small tar writer for `cp … -` and `export`: ustar headers, with PAX
 * extended headers where ustar cannot hold a value (names or link targets over
 * 100 bytes, sizes of 8 GiB and more, large ids, times before 1970 or after
 * 2242). Streams to one fd: headers are gathered in a 64 KiB buffer, flushed
 * before file data and at the end. */
#ifndef SKIFF_TARWRITE_H
#define SKIFF_TARWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "protocol.h"

struct tar_writer {
  int fd;
  /* Headers gather here (a layer of small files is mostly headers); file data goes straight out. */
  size_t used;
  char buf[1 << 16];
  /* Set: owners written through these ranges ("inside outside count"), as a
   * container with another mapping than the walk's saw them (--userns keep-id). */
  const struct id_range *uid_shift, *gid_shift;
  size_t uid_shift_len, gid_shift_len;
};

/* An extended attribute, written as a PAX SCHILY.xattr.NAME record (binary values kept). */
struct tar_xattr {
  const char *name;
  const char *value;
  size_t size;
};

/* What a layer's members carry beyond a stat: a hard link to an earlier
 * member (linkname names it; no data), and extended attributes. */
struct tar_extra {
  bool hardlink;
  const struct tar_xattr *xattrs;
  size_t nxattrs;
};

/* One member. `name` is relative, without a trailing '/' (added for
 * directories). For a symlink `linkname` is its target. For a regular file the
 * data is read from data_fd: exactly st->st_size bytes are written, padded
 * with zeros if the file shrank meanwhile. Other types (sockets) are refused
 * by the caller. Dies on a write error. */
void tar_write_entry(struct tar_writer *w, const char *name, const struct stat *st, const char *linkname, int data_fd);

/* The same, with a tar_extra (NULL: none). */
void tar_write_member(struct tar_writer *w, const char *name, const struct stat *st, const char *linkname, int data_fd,
                      const struct tar_extra *extra);

/* The end-of-archive marker: two zero blocks; then everything is written. */
void tar_finish(struct tar_writer *w);

#endif
