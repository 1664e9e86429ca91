/* Capabilities: Docker's default set, nothing inheritable (CVE-2022-24769). */
#include "caps.h"
#include "report.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void) {
  int last = CAP_LAST_CAP;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(f);
  }
  return last;
}

void caps_limit_bounding(uint64_t keep) {
  int last = last_cap();
  for (int cap = 0; cap <= last && cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die_errno("prctl(PR_CAPBSET_DROP, %d)", cap);
  }
}

void caps_apply(uint64_t keep) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {{0}};
  if (syscall(SYS_capget, &header, data) < 0) die_errno("capget");
  uint64_t permitted = ((uint64_t)data[1].permitted << 32 | data[0].permitted) & keep;
  data[0].permitted = data[0].effective = (uint32_t)permitted;
  data[1].permitted = data[1].effective = (uint32_t)(permitted >> 32);
  data[0].inheritable = data[1].inheritable = 0;
  if (syscall(SYS_capset, &header, data) < 0) die_errno("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    die_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
}
