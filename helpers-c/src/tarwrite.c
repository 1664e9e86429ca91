/* See tarwrite.h. Format: POSIX.1-2001 (ustar + PAX), as Go's archive/tar
 * and GNU tar read it. */
#include "tarwrite.h"
#include "report.h"
#include "io.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define BLOCK 512

/* The largest value an octal field of `len` bytes holds (len - 1 digits and a NUL). */
static uint64_t octal_max(size_t len) { return (UINT64_C(1) << (3 * (len - 1))) - 1; }

static void flush(struct tar_writer *w) {
  if (w->used > 0 && !io_write_all(w->fd, w->buf, w->used)) die_errno("write the tar stream");
  w->used = 0;
}

static void write_all(struct tar_writer *w, const void *buf, size_t len) {
  if (w->used + len > sizeof w->buf) flush(w);
  if (len > sizeof w->buf) {
    if (!io_write_all(w->fd, buf, len)) die_errno("write the tar stream");
    return;
  }
  memcpy(w->buf + w->used, buf, len);
  w->used += len;
}

static void put_octal(char *field, size_t len, uint64_t value) {
  if (value > octal_max(len)) value = 0; /* carried by a PAX record instead */
  snprintf(field, len, "%0*llo", (int)(len - 1), (unsigned long long)value);
}

/* Appends one "LEN key=value\n" record; LEN counts the whole record, itself
 * included. The value is bytes (an xattr's may hold NULs). */
static void pax_add_bytes(char **buf, size_t *used, size_t *cap, const char *key, const char *value, size_t value_len) {
  size_t body = strlen(key) + value_len + 3; /* ' ', '=', '\n' */
  size_t total = body + 1;
  for (;;) {
    char digits[32];
    size_t n = (size_t)snprintf(digits, sizeof digits, "%zu", total);
    if (body + n == total) break;
    total = body + n;
  }
  if (*used + total + 1 > *cap) {
    *cap = (*used + total + 1) * 2;
    char *grown = realloc(*buf, *cap);
    if (grown == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "tar: allocating a PAX header");
    *buf = grown;
  }
  char *at = *buf + *used;
  int head = snprintf(at, *cap - *used, "%zu %s=", total, key);
  memcpy(at + head, value, value_len);
  at[head + value_len] = '\n';
  *used += total;
}

static void pax_add(char **buf, size_t *used, size_t *cap, const char *key, const char *value) {
  pax_add_bytes(buf, used, cap, key, value, strlen(value));
}

static void put_text(char *field, size_t len, const char *text) {
  size_t n = strlen(text);
  memcpy(field, text, n < len ? n : len);
}

static void finish_header(char *h) {
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < BLOCK; i++) sum += (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

static void fill_header(char *h, const char *name, char type, uint64_t mode, uint64_t uid, uint64_t gid, uint64_t size,
                        int64_t mtime, const char *linkname, unsigned major, unsigned minor) {
  memset(h, 0, BLOCK);
  /* ustar fields are NUL-padded, not NUL-terminated: a 100-byte name fills its field. */
  put_text(h, 100, name);
  put_octal(h + 100, 8, mode);
  put_octal(h + 108, 8, uid);
  put_octal(h + 116, 8, gid);
  put_octal(h + 124, 12, size);
  put_octal(h + 136, 12, mtime < 0 ? 0 : (uint64_t)mtime);
  h[156] = type;
  if (linkname) put_text(h + 157, 100, linkname);
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  if (type == '3' || type == '4') {
    put_octal(h + 329, 8, major);
    put_octal(h + 337, 8, minor);
  }
  finish_header(h);
}

static char type_of(mode_t mode) {
  if (S_ISREG(mode)) return '0';
  if (S_ISLNK(mode)) return '2';
  if (S_ISCHR(mode)) return '3';
  if (S_ISBLK(mode)) return '4';
  if (S_ISDIR(mode)) return '5';
  if (S_ISFIFO(mode)) return '6';
  return 0;
}

static void write_data(struct tar_writer *w, int fd, uint64_t size, const char *name) {
  static char buf[1 << 16];
  flush(w);
  uint64_t done = 0;
  while (done < size) {
    size_t want = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
    ssize_t n = read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno("read %s", name);
    }
    if (n == 0) {
      /* The file shrank while it was read: the header promised `size` bytes. */
      memset(buf, 0, want);
      n = (ssize_t)want;
    }
    if (!io_write_all(w->fd, buf, (size_t)n)) die_errno("write the tar stream");
    done += (uint64_t)n;
  }
  size_t pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);
  if (pad) {
    memset(buf, 0, pad);
    write_all(w, buf, pad);
  }
}

void tar_write_entry(struct tar_writer *w, const char *name, const struct stat *st, const char *linkname, int data_fd) {
  tar_write_member(w, name, st, linkname, data_fd, NULL);
}

static unsigned long shifted_id(const struct id_range *ranges, size_t len, unsigned long id, const char *what, const char *name) {
  for (size_t i = 0; i < len; i++)
    if (id >= ranges[i].inside && id - ranges[i].inside < ranges[i].count) return ranges[i].outside + (id - ranges[i].inside);
  die(EXIT_SKIFF_FAILED, 0, "tar: %s: its %s %lu is not mapped in the container", name, what, id);
}

void tar_write_member(struct tar_writer *w, const char *name, const struct stat *st, const char *linkname, int data_fd,
                      const struct tar_extra *extra) {
  struct stat owned;
  if (w->uid_shift_len > 0) {
    owned = *st;
    owned.st_uid = (uid_t)shifted_id(w->uid_shift, w->uid_shift_len, st->st_uid, "owner", name);
    owned.st_gid = (gid_t)shifted_id(w->gid_shift, w->gid_shift_len, st->st_gid, "group", name);
    st = &owned;
  }
  bool hardlink = extra != NULL && extra->hardlink;
  char type = hardlink ? '1' : type_of(st->st_mode);
  if (type == 0) die(EXIT_SKIFF_FAILED, 0, "tar: %s: sockets cannot be archived", name);
  size_t name_len = strlen(name);
  char *full = malloc(name_len + 2);
  if (full == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "tar: allocating");
  memcpy(full, name, name_len + 1);
  if (type == '5') strcpy(full + name_len, "/");
  uint64_t size = type == '0' ? (uint64_t)st->st_size : 0;
  int64_t mtime = (int64_t)st->st_mtim.tv_sec;

  char *pax = NULL;
  size_t used = 0, cap = 0;
  char number[32];
  if (strlen(full) > 100) pax_add(&pax, &used, &cap, "path", full);
  if (linkname && strlen(linkname) > 100) pax_add(&pax, &used, &cap, "linkpath", linkname);
  if (size > octal_max(12)) {
    snprintf(number, sizeof number, "%llu", (unsigned long long)size);
    pax_add(&pax, &used, &cap, "size", number);
  }
  if ((uint64_t)st->st_uid > octal_max(8)) {
    snprintf(number, sizeof number, "%u", (unsigned)st->st_uid);
    pax_add(&pax, &used, &cap, "uid", number);
  }
  if ((uint64_t)st->st_gid > octal_max(8)) {
    snprintf(number, sizeof number, "%u", (unsigned)st->st_gid);
    pax_add(&pax, &used, &cap, "gid", number);
  }
  if (mtime < 0 || (uint64_t)mtime > octal_max(12)) {
    snprintf(number, sizeof number, "%lld", (long long)mtime);
    pax_add(&pax, &used, &cap, "mtime", number);
  }
  for (size_t i = 0; extra != NULL && i < extra->nxattrs; i++) {
    char key[300];
    if ((size_t)snprintf(key, sizeof key, "SCHILY.xattr.%s", extra->xattrs[i].name) >= sizeof key)
      die(EXIT_SKIFF_FAILED, ENAMETOOLONG, "tar: the xattr name %s", extra->xattrs[i].name);
    pax_add_bytes(&pax, &used, &cap, key, extra->xattrs[i].value, extra->xattrs[i].size);
  }

  char header[BLOCK];
  if (pax != NULL) {
    fill_header(header, "././@PaxHeader", 'x', 0644, 0, 0, used, mtime, NULL, 0, 0);
    write_all(w, header, BLOCK);
    write_all(w, pax, used);
    size_t pad = (BLOCK - used % BLOCK) % BLOCK;
    if (pad) {
      char zeros[BLOCK] = {0};
      write_all(w, zeros, pad);
    }
    free(pax);
  }
  fill_header(header, full, type, st->st_mode & 07777, st->st_uid, st->st_gid, size, mtime, linkname, major(st->st_rdev),
              minor(st->st_rdev));
  write_all(w, header, BLOCK);
  free(full);
  if (type == '0') write_data(w, data_fd, size, name);
}

void tar_finish(struct tar_writer *w) {
  char zeros[2 * BLOCK] = {0};
  write_all(w, zeros, sizeof zeros);
  flush(w);
}
