/* Loading and attaching the cgroup v2 device filter (device_filter.h). */
#include "device_filter.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

/* The kernel's limit on an unprivileged-sized program is far above what any rule list needs. */
#define MAX_INSTRUCTIONS 4096

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void device_filter_parse(const char *hex, struct container_spec *spec) {
  size_t hex_len = strlen(hex);
  size_t len = hex_len / 2;
  if (hex_len % 2 != 0 || len == 0 || len % sizeof(struct bpf_insn) != 0 || len / sizeof(struct bpf_insn) > MAX_INSTRUCTIONS)
    die(EXIT_SKIFF_FAILED, 0, "spec: device_filter must be hex of 1 to %d eBPF instructions (%zu hex digits given)", MAX_INSTRUCTIONS, hex_len);
  unsigned char *program = malloc(len);
  if (program == NULL) die(EXIT_SKIFF_FAILED, ENOMEM, "spec: allocating the device filter");
  for (size_t i = 0; i < len; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) die(EXIT_SKIFF_FAILED, 0, "spec: device_filter is not lower-case hex");
    program[i] = (unsigned char)(hi << 4 | lo);
  }
  free(spec->device_filter);
  spec->device_filter = program;
  spec->device_filter_len = len;
}

static int bpf(int cmd, union bpf_attr *attr) { return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr); }

static int load_once(const struct container_spec *spec, char *log, size_t log_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)spec->device_filter;
  attr.insn_cnt = (uint32_t)(spec->device_filter_len / sizeof(struct bpf_insn));
  attr.license = (uint64_t)(uintptr_t) "GPL";
  if (log != NULL) {
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = (uint32_t)log_size;
    attr.log_level = 1;
  }
  return bpf(BPF_PROG_LOAD, &attr);
}

static int load(const struct container_spec *spec) {
  int fd = load_once(spec, NULL, 0);
  if (fd >= 0) return fd;
  if (errno == EPERM)
    die_errno("bpf(BPF_PROG_LOAD) of the device filter: loading a cgroup device program needs CAP_SYS_ADMIN (or CAP_BPF) on the host");
  /* Again with the verifier's log, for the message (its last line says why). */
  int saved = errno;
  static char log[1 << 16];
  log[0] = '\0';
  if (load_once(spec, log, sizeof log) >= 0) die(EXIT_SKIFF_FAILED, saved, "bpf(BPF_PROG_LOAD) of the device filter failed, then passed with a log");
  log[sizeof log - 1] = '\0';
  size_t len = strlen(log);
  while (len > 0 && log[len - 1] == '\n') log[--len] = '\0';
  const char *last = strrchr(log, '\n');
  errno = saved;
  die_errno("bpf(BPF_PROG_LOAD) of the device filter (verifier: %s)", last != NULL ? last + 1 : log[0] != '\0' ? log : "no log");
}

void device_filter_attach(const struct container_spec *spec) {
  if (spec->device_filter == NULL) return;
  int prog = -1;
  size_t attached = 0;
  for (size_t i = 0; i < spec->cgroups.len; i++) {
    const char *dir = spec->cgroups.items[i];
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) die_errno("open the cgroup %s", dir);
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0) die_errno("fstatfs %s", dir);
    if (fs.f_type != CGROUP2_SUPER_MAGIC) {
      close(fd);
      continue;
    }
    if (prog < 0) prog = load(spec);
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)fd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    /* No flags: one program per cgroup, which a later attach replaces (a
     * restarted container's), and none below it may loosen it. */
    attr.attach_flags = 0;
    if (bpf(BPF_PROG_ATTACH, &attr) < 0) die_errno("bpf(BPF_PROG_ATTACH) of the device filter to %s", dir);
    close(fd);
    attached++;
  }
  if (prog >= 0) close(prog);
  if (attached == 0) die(EXIT_SKIFF_FAILED, 0, "the container has a device filter but no cgroup v2 directory to attach it to");
}
