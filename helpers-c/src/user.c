/* "-u user[:group]" against the container's /etc/passwd and /etc/group.
 * Not getpwnam(): NSS would load host modules into the container. */
#include "user.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Larger than any real passwd or group file; a bigger one is not read. */
#define ACCOUNT_FILE_MAX (16L << 20)

static int open_beneath_root(int root, const char *path, int flags) {
  /* openat2 refuses O_PATH with any flag but O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC. */
  if (!(flags & O_PATH)) flags |= O_NOCTTY;
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

static const char *file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

/* Opens the container's /etc/passwd or /etc/group for reading (NULL when it
 * has none). The image decides what the path is: links are followed only
 * inside the root, and anything but a regular file of sane size (a FIFO
 * would block the start forever, a link to /dev/zero never end) is refused
 * before it is opened for reading. */
/* The container's root: "/" after pivot_root, else (user_resolve_in) a
 * directory fd that is the root to be. */
static int account_root = -1;

static FILE *open_account_file(const char *abs_path) {
  int root = account_root >= 0 ? fcntl(account_root, F_DUPFD_CLOEXEC, 3) : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die_errno("open the container's root");
  int probe = open_beneath_root(root, abs_path + 1, O_PATH);
  if (probe < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      close(root);
      return NULL;
    }
    die_errno("open %s in the container", abs_path);
  }
  struct stat want, got;
  if (fstat(probe, &want) < 0) die_errno("stat %s in the container", abs_path);
  close(probe);
  if (!S_ISREG(want.st_mode))
    die(EXIT_SKIFF_FAILED, 0, "%s in the container is %s: skiff reads users and groups only from a regular file", abs_path,
        file_kind(want.st_mode));
  if (want.st_size > ACCOUNT_FILE_MAX)
    die(EXIT_SKIFF_FAILED, 0, "%s in the container is larger than %ld MiB: skiff does not read it", abs_path, ACCOUNT_FILE_MAX >> 20);
  /* O_NONBLOCK: if the file was swapped for a FIFO since, the open cannot block. */
  int fd = open_beneath_root(root, abs_path + 1, O_RDONLY | O_NONBLOCK);
  if (fd < 0) die_errno("open %s in the container", abs_path);
  close(root);
  if (fstat(fd, &got) < 0) die_errno("stat %s in the container", abs_path);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino || !S_ISREG(got.st_mode))
    die(EXIT_SKIFF_FAILED, 0, "%s in the container changed while skiff opened it", abs_path);
  FILE *f = fdopen(fd, "re");
  if (f == NULL) die_errno("fdopen %s", abs_path);
  return f;
}

static bool parse_id(const char *s, unsigned long *out) {
  if (*s == '\0') return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0' || errno != 0 || v > 0xfffffffeUL) return false;
  *out = v;
  return true;
}

/* Splits a colon-separated line in place into at most max fields. */
static size_t split_fields(char *line, char **fields, size_t max) {
  size_t n = 0;
  line[strcspn(line, "\n")] = '\0';
  fields[n++] = line;
  for (char *p = line; *p && n < max; p++) {
    if (*p == ':') {
      *p = '\0';
      fields[n++] = p + 1;
    }
  }
  return n;
}

struct passwd_entry {
  bool found;
  unsigned long uid, gid;
  char name[64];
  char home[256];
};

/* Finds the passwd entry whose name is `name` or, if name is NULL, whose uid is `uid`. */
static void find_passwd(const char *name, unsigned long uid, struct passwd_entry *out) {
  memset(out, 0, sizeof *out);
  FILE *f = open_account_file("/etc/passwd");
  if (f == NULL) return;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    char *fields[7];
    if (split_fields(line, fields, 7) < 7) continue;
    unsigned long entry_uid, entry_gid;
    if (!parse_id(fields[2], &entry_uid) || !parse_id(fields[3], &entry_gid)) continue;
    if (name ? strcmp(fields[0], name) != 0 : entry_uid != uid) continue;
    out->found = true;
    out->uid = entry_uid;
    out->gid = entry_gid;
    snprintf(out->name, sizeof out->name, "%s", fields[0]);
    snprintf(out->home, sizeof out->home, "%s", fields[5]);
    break;
  }
  fclose(f);
}

static bool member_of(char *members, const char *user) {
  for (char *save = NULL, *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
    if (strcmp(m, user) == 0) return true;
  return false;
}

/* Resolves a group name (or number) and collects the user's supplementary groups. */
static void scan_groups(const char *group_name, unsigned long *group_gid, bool *group_found, const char *user_name,
                        struct resolved_user *out) {
  FILE *f = open_account_file("/etc/group");
  if (f == NULL) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char *fields[4];
    if (split_fields(line, fields, 4) < 4) continue;
    unsigned long gid;
    if (!parse_id(fields[2], &gid)) continue;
    if (group_name && !*group_found && strcmp(fields[0], group_name) == 0) {
      *group_gid = gid;
      *group_found = true;
    }
    if (user_name && user_name[0] && out->groups_len < MAX_SUPPLEMENTARY_GROUPS && member_of(fields[3], user_name))
      out->groups[out->groups_len++] = (gid_t)gid;
  }
  fclose(f);
}

/* Like initgroups(3), the primary group is one of the process's groups too. */
static void add_primary_group(struct resolved_user *out) {
  for (size_t i = 0; i < out->groups_len; i++)
    if (out->groups[i] == out->gid) return;
  if (out->groups_len == MAX_SUPPLEMENTARY_GROUPS) return;
  memmove(out->groups + 1, out->groups, out->groups_len * sizeof out->groups[0]);
  out->groups[0] = out->gid;
  out->groups_len++;
}

void user_resolve(const char *spec, struct resolved_user *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->home, sizeof out->home, "/");
  if (spec == NULL || spec[0] == '\0') spec = "0";

  char user_part[256], group_part[256] = "";
  snprintf(user_part, sizeof user_part, "%s", spec);
  char *colon = strchr(user_part, ':');
  if (colon) {
    snprintf(group_part, sizeof group_part, "%s", colon + 1);
    *colon = '\0';
  }

  struct passwd_entry pw;
  unsigned long uid;
  if (parse_id(user_part, &uid)) {
    find_passwd(NULL, uid, &pw);
    out->uid = (uid_t)uid;
    out->gid = pw.found ? (gid_t)pw.gid : 0;
  } else {
    find_passwd(user_part, 0, &pw);
    if (!pw.found) die(EXIT_SKIFF_FAILED, 0, "unable to find user %s: no matching entries in passwd file", user_part);
    out->uid = (uid_t)pw.uid;
    out->gid = (gid_t)pw.gid;
  }
  if (pw.found && pw.home[0]) snprintf(out->home, sizeof out->home, "%s", pw.home);

  unsigned long gid = 0;
  bool by_number = group_part[0] && parse_id(group_part, &gid);
  bool group_found = false;
  /* An explicit group replaces the user's memberships in /etc/group, as runc and Podman
   * give it: "-u app:staff" runs with staff alone (plus any --group-add). */
  const char *member = pw.found && !group_part[0] ? pw.name : NULL;
  scan_groups(group_part[0] && !by_number ? group_part : NULL, &gid, &group_found, member, out);
  if (group_part[0]) {
    if (!by_number && !group_found)
      die(EXIT_SKIFF_FAILED, 0, "unable to find group %s: no matching entries in group file", group_part);
    out->gid = (gid_t)gid;
  }
  add_primary_group(out);
}

void user_resolve_in(int root, const char *spec, struct resolved_user *out) {
  account_root = root;
  user_resolve(spec, out);
  account_root = -1;
}

void user_add_groups(const struct string_list *groups, struct resolved_user *out) {
  for (size_t i = 0; i < groups->len; i++) {
    const char *name = groups->items[i];
    unsigned long gid;
    if (!parse_id(name, &gid)) {
      bool found = false;
      scan_groups(name, &gid, &found, NULL, out);
      if (!found) die(EXIT_SKIFF_FAILED, 0, "--group-add %s: no such group in the container's /etc/group", name);
    }
    bool present = false;
    for (size_t j = 0; j < out->groups_len; j++) present = present || out->groups[j] == (gid_t)gid;
    if (present) continue;
    if (out->groups_len == MAX_SUPPLEMENTARY_GROUPS) die(EXIT_SKIFF_FAILED, 0, "--group-add: more than %d groups", MAX_SUPPLEMENTARY_GROUPS);
    out->groups[out->groups_len++] = (gid_t)gid;
  }
}
