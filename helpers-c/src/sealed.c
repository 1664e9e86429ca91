/* See sealed.h. */
#include "sealed.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* crun's and runc's defence against CVE-2019-5736: run from an immutable
 * in-memory copy of ourselves, never from the file on disk. */
void sealed_reexec(char **argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) die_errno("open /proc/self/exe");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS) {
    close(self);
    return; /* already the sealed copy */
  }
  int copy = memfd_create("skiff-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0) die_errno("memfd_create");
  struct stat st;
  if (fstat(self, &st) < 0) die_errno("fstat /proc/self/exe");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(copy, self, NULL, (size_t)(st.st_size - done));
    if (n <= 0) die_errno("copy the helper into a memfd");
    done += n;
  }
  close(self);
  if (fcntl(copy, F_ADD_SEALS, REQUIRED_SEALS) < 0) die_errno("seal the helper's memfd");
  fexecve(copy, argv, environ);
  die_errno("fexecve the sealed helper");
}

