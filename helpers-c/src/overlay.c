#include "overlay.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Overlay option strings use ',' and ':' as separators; store paths never hold
 * them, and a path that does is refused rather than misparsed. */
static void check_path(const char *what, const char *path) {
  if (path[0] != '/' || strpbrk(path, ",:\\") != NULL)
    die(EXIT_SKIFF_FAILED, 0, "overlay %s \"%s\" must be an absolute path without ',', ':' or '\\'", what, path);
}

static void fsconfig_string(int fs, const char *key, const char *value) {
  if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0) die_errno("overlay: fsconfig %s=%s", key, value);
}

/* Returns false when this kernel lacks the new API or "lowerdir+" (before 6.8).
 * From 6.5 overlay parses each fsconfig() and refuses the unknown key at
 * once; before 6.5 its context is the generic one, which takes any key and
 * only the final create refuses it (EINVAL): both mean mount(2) instead. */
static bool mount_with_fsopen(const struct container_spec *spec) {
  int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) {
    if (errno == ENOSYS) return false;
    die_errno("overlay: fsopen (is the overlay module available?)");
  }
  if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", spec->lowerdirs.items[0], 0) < 0) {
    if (errno != EINVAL) die_errno("overlay: fsconfig lowerdir+=%s", spec->lowerdirs.items[0]);
    close(fs);
    return false;
  }
  for (size_t i = 1; i < spec->lowerdirs.len; i++) fsconfig_string(fs, "lowerdir+", spec->lowerdirs.items[i]);
  fsconfig_string(fs, "upperdir", spec->upperdir);
  fsconfig_string(fs, "workdir", spec->workdir);
  if (fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) die_errno("overlay: fsconfig userxattr");
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    if (errno != EINVAL) die_errno("overlay: create the root filesystem (%zu layers)", spec->lowerdirs.len);
    close(fs);
    return false;
  }
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) die_errno("overlay: fsmount");
  if (move_mount(mnt, "", AT_FDCWD, spec->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_errno("overlay: move_mount onto %s", spec->rootfs);
  close(mnt);
  close(fs);
  return true;
}

static void mount_with_options(const struct container_spec *spec) {
  char options[4096];
  size_t used = (size_t)snprintf(options, sizeof options, "userxattr,upperdir=%s,workdir=%s,lowerdir=", spec->upperdir, spec->workdir);
  for (size_t i = 0; i < spec->lowerdirs.len && used < sizeof options; i++)
    used += (size_t)snprintf(options + used, sizeof options - used, "%s%s", i ? ":" : "", spec->lowerdirs.items[i]);
  if (used >= sizeof options)
    die(EXIT_SKIFF_FAILED, 0, "overlay: %zu layers do not fit in one mount option page on this kernel (before 6.8): flatten the image",
        spec->lowerdirs.len);
  if (mount("overlay", spec->rootfs, "overlay", 0, options) < 0)
    die_errno("overlay: mount the root filesystem (kernel 5.11+ is needed in a user namespace)");
}

/* The container's "/" shows the upper dir's owner. skiff made it as the
 * caller, who is the container's root in the default mapping (and as root),
 * but not with --userns keep-id: give it to this namespace's root. */
static void upper_to_root(const char *upperdir) {
  int fd = open(upperdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die_errno("overlay: open %s", upperdir);
  struct stat st;
  if (fstat(fd, &st) < 0) die_errno("overlay: stat %s", upperdir);
  if ((st.st_uid != 0 || st.st_gid != 0) && fchown(fd, 0, 0) < 0) die_errno("overlay: chown %s to the container's root", upperdir);
  close(fd);
}

void overlay_mount_rootfs(const struct container_spec *spec) {
  check_path("rootfs", spec->rootfs);
  check_path("upperdir", spec->upperdir);
  check_path("workdir", spec->workdir);
  for (size_t i = 0; i < spec->lowerdirs.len; i++) check_path("lowerdir", spec->lowerdirs.items[i]);
  if (spec->userns) upper_to_root(spec->upperdir);
  if (mount_with_fsopen(spec)) {
    report_debug("mounted overlay on %s (fsopen, userxattr, %zu layers, upperdir %s)", spec->rootfs, spec->lowerdirs.len, spec->upperdir);
  } else {
    mount_with_options(spec);
    report_debug("mounted overlay on %s (mount(2), userxattr, %zu layers, upperdir %s)", spec->rootfs, spec->lowerdirs.len, spec->upperdir);
  }
}
