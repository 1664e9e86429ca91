#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

bool io_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd out = {.fd = fd, .events = POLLOUT};
        if (poll(&out, 1, -1) < 0 && errno != EINTR) return false;
        continue;
      }
      return false;
    }
    p += n;
    len -= (size_t)n;
  }
  return true;
}

void io_drain(int fd, io_sink sink, void *ctx) {
  if (fd < 0) return;
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    sink(ctx, buf, (size_t)n);
  }
}
