/* See layerdir.h. */
#include "layerdir.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."

static bool read_markers;

void layer_read_markers(bool on) { read_markers = on; }

bool layer_whiteout_node(const struct stat *st) { return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0); }

bool layer_marker_name(const char *name) { return strncmp(name, WHITEOUT_PREFIX, sizeof WHITEOUT_PREFIX - 1) == 0; }

/* Whether `dir` holds `marker` as a regular file (nothing is followed). A
 * layer that cannot be looked into holds nothing, as for any other name. */
static bool has_marker(int dir, const char *marker) {
  struct stat st;
  return fstatat(dir, marker, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

enum layer_entry layer_lookup(int dir, const char *name, struct stat *st) {
  if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) == 0) return layer_whiteout_node(st) ? LAYER_WHITEOUT : LAYER_PRESENT;
  if (!read_markers) return LAYER_ABSENT;
  char marker[NAME_MAX + 1];
  if ((size_t)snprintf(marker, sizeof marker, WHITEOUT_PREFIX "%s", name) >= sizeof marker) return LAYER_ABSENT;
  return has_marker(dir, marker) ? LAYER_WHITEOUT : LAYER_ABSENT;
}

bool overlay_opaque_xattr(int fd) {
  char value[2];
  ssize_t n = fgetxattr(fd, "user.overlay.opaque", value, sizeof value);
  if (n < 0) n = fgetxattr(fd, "trusted.overlay.opaque", value, sizeof value);
  return n == 1 && value[0] == 'y';
}

bool layer_dir_opaque(int fd) { return overlay_opaque_xattr(fd) || (read_markers && has_marker(fd, LAYER_OPAQUE_MARKER)); }
