/* Installing the seccomp filter skiff compiled: no libseccomp (design.md
 * decision 2), only the seccomp(2) system call. */
#include "seccomp.h"
#include "report.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
#define MAX_INSTRUCTIONS 4096

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void seccomp_parse(const char *hex, struct seccomp_program *program) {
  size_t hex_len = strlen(hex);
  size_t len = hex_len / 2;
  if (hex_len % 2 != 0 || len == 0 || len % sizeof(struct sock_filter) != 0 ||
      len / sizeof(struct sock_filter) > MAX_INSTRUCTIONS)
    die(EXIT_SKIFF_FAILED, 0, "spec: seccomp must be hex of 1 to %d BPF instructions (%zu hex digits given)", MAX_INSTRUCTIONS, hex_len);
  unsigned char *filter = malloc(len);
  if (filter == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: allocating the seccomp filter");
  for (size_t i = 0; i < len; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) die(EXIT_SKIFF_FAILED, 0, "spec: seccomp is not lower-case hex");
    filter[i] = (unsigned char)(hi << 4 | lo);
  }
  free(program->filter);
  program->filter = filter;
  program->len = len;
}

void seccomp_install(const struct seccomp_program *program) {
  if (program->filter == NULL) return;
  struct sock_fprog prog = {
      .len = (unsigned short)(program->len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)program->filter,
  };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
    if (errno == EINVAL || errno == ENOSYS)
      die_errno("seccomp(SECCOMP_SET_MODE_FILTER) (a kernel without seccomp filters needs --security-opt seccomp=unconfined)");
    die_errno("seccomp(SECCOMP_SET_MODE_FILTER)");
  }
}
