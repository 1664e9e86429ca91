/* A small tar writer for `cp … -` and `export`: ustar headers, with PAX
 * extended headers where ustar cannot hold a value (names or link targets over
 * 100 bytes, sizes of 8 GiB and more, large ids, times before 1970 or after
 * 2242). Streams to one fd; nothing is buffered beyond one block. */
#ifndef SKIFF_TARWRITE_H
#define SKIFF_TARWRITE_H

#include <stdbool.h>
#include <sys/stat.h>

struct tar_writer {
  int fd;
};

/* One member. `name` is relative, without a trailing '/' (added for
 * directories). For a symlink `linkname` is its target. For a regular file the
 * data is read from data_fd: exactly st->st_size bytes are written, padded
 * with zeros if the file shrank meanwhile. Other types (sockets) are refused
 * by the caller. Dies on a write error. */
void tar_write_entry(struct tar_writer *w, const char *name, const struct stat *st, const char *linkname, int data_fd);

/* The end-of-archive marker: two zero blocks. */
void tar_finish(struct tar_writer *w);

#endif
