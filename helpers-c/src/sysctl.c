/* --sysctl: namespaced kernel settings, written inside the container's
 * namespaces (the process writing is already in them). */
#include "sysctl.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_one(const char *entry) {
  char key[256];
  const char *tab = strchr(entry, '\t');
  if (tab == NULL || tab == entry || (size_t)(tab - entry) >= sizeof key) die(EXIT_SKIFF_FAILED, 0, "spec: bad sysctl \"%s\"", entry);
  memcpy(key, entry, (size_t)(tab - entry));
  key[tab - entry] = '\0';
  const char *value = tab + 1;
  char path[300] = "proc/sys/";
  size_t at = strlen(path);
  for (const char *k = key; *k && at + 1 < sizeof path; k++) {
    if (*k == '/' || (k[0] == '.' && k[1] == '.')) die(EXIT_SKIFF_FAILED, 0, "spec: bad sysctl name \"%s\"", key);
    path[at++] = *k == '.' ? '/' : *k;
  }
  path[at] = '\0';
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) die(EXIT_SKIFF_FAILED, 0, "--sysctl %s: this kernel has no such setting", key);
    die_errno("--sysctl %s: open /%s", key, path);
  }
  size_t len = strlen(value);
  ssize_t n = write(fd, value, len);
  if (n < 0) die_errno("--sysctl %s=%s", key, value);
  if ((size_t)n != len) die(EXIT_SKIFF_FAILED, 0, "--sysctl %s=%s: the kernel took only %zd bytes", key, value, n);
  close(fd);
}

void sysctl_apply(const struct container_spec *spec) {
  for (size_t i = 0; i < spec->sysctls.len; i++) write_one(spec->sysctls.items[i]);
}
