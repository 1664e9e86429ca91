#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

#include <stddef.h>

/* A classic BPF program as TypeScript compiled it (lib/oci/seccomp): an array
 * of struct sock_filter, 8 bytes each. The helper knows nothing of profiles
 * or system call names (design.md decision 13); it only installs the program. */
struct seccomp_program {
  unsigned char *filter; /* NULL: no filter (seccomp=unconfined, --privileged) */
  size_t len;            /* in bytes, a multiple of 8 */
};

/* Decodes the spec's hex value into `program`; reports and exits 125 on bad input. */
void seccomp_parse(const char *hex, struct seccomp_program *program);

/* Installs the filter for this thread and everything it execs. The kernel
 * requires no_new_privs or CAP_SYS_ADMIN in the current user namespace. */
void seccomp_install(const struct seccomp_program *program);

#endif
