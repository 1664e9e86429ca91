/* sd_notify for systemd units: see notify.h. */
#include "notify.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* An address for path; a path longer than sun_path is reached through its
 * directory's fd (*dir_fd, to close after the call). "@name" is abstract. */
static socklen_t notify_address(const char *path, struct sockaddr_un *addr, int *dir_fd) {
  *dir_fd = -1;
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (path[0] == '@') {
    if (len > sizeof addr->sun_path) return 0;
    memcpy(addr->sun_path + 1, path + 1, len - 1); /* sun_path[0] stays NUL */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  }
  if (len < sizeof addr->sun_path) {
    memcpy(addr->sun_path, path, len + 1);
    return sizeof *addr;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path || (size_t)(slash - path) >= 4096) return 0;
  char dir[4096];
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  *dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dir_fd < 0) return 0;
  int n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dir_fd, slash + 1);
  if (n < 0 || (size_t)n >= sizeof addr->sun_path) {
    close(*dir_fd);
    *dir_fd = -1;
    return 0;
  }
  return sizeof *addr;
}

int notify_proxy_open(const struct container_spec *spec) {
  if (spec->notify_proxy == NULL) return -1;
  struct sockaddr_un addr;
  int dir_fd;
  socklen_t len = notify_address(spec->notify_proxy, &addr, &dir_fd);
  if (len == 0) die(EXIT_SKIFF_FAILED, errno, "notify socket path unusable: %s", spec->notify_proxy);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die_errno("socket for %s", spec->notify_proxy);
  unlink(spec->notify_proxy);
  if (bind(fd, (struct sockaddr *)&addr, len) < 0) die_errno("bind %s", spec->notify_proxy);
  if (dir_fd >= 0) close(dir_fd);
  /* Any user of the container may notify, as systemd's own socket allows. */
  if (chmod(spec->notify_proxy, 0777) < 0) die_errno("chmod %s", spec->notify_proxy);
  return fd;
}

void notify_send(const char *socket_path, const char *message) {
  struct sockaddr_un addr;
  int dir_fd;
  socklen_t len = notify_address(socket_path, &addr, &dir_fd);
  if (len == 0) {
    warn_user("NOTIFY_SOCKET %s: the path is unusable", socket_path);
    return;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    warn_user("socket for NOTIFY_SOCKET: %s", strerror(errno));
  } else {
    if (sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0)
      warn_user("send to NOTIFY_SOCKET %s: %s", socket_path, strerror(errno));
    close(fd);
  }
  if (dir_fd >= 0) close(dir_fd);
}

/* Keeps the lines systemd can take from us: a container's MAINPID is of its
 * own pid namespace, and BARRIER=1 came with an fd the kernel has already
 * closed for us (which is what releases the sender's barrier). */
static bool line_passed_on(const char *line, size_t len) {
  if (len == 0) return false;
  if (len >= 8 && memcmp(line, "MAINPID=", 8) == 0) return false;
  if (len == 9 && memcmp(line, "BARRIER=1", 9) == 0) return false;
  return true;
}

bool notify_relay(int proxy_fd, const char *socket_path, pid_t main_pid) {
  char in[4096];
  ssize_t n = recv(proxy_fd, in, sizeof in - 1, MSG_DONTWAIT);
  if (n <= 0) return false;
  in[n] = '\0';
  char out[4200];
  size_t o = 0;
  bool ready = false;
  for (char *line = in; line < in + n;) {
    char *end = memchr(line, '\n', (size_t)(in + n - line));
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
    if (len == 7 && memcmp(line, "READY=1", 7) == 0) ready = true;
    if (line_passed_on(line, len) && o + len + 1 < sizeof out - 32) {
      memcpy(out + o, line, len);
      o += len;
      out[o++] = '\n';
    }
    line += len + 1;
  }
  if (o == 0) return false;
  out[o] = '\0';
  char message[4300];
  if (ready && main_pid > 0) snprintf(message, sizeof message, "MAINPID=%d\n%s", (int)main_pid, out);
  else snprintf(message, sizeof message, "%s", out);
  if (socket_path != NULL) notify_send(socket_path, message);
  return ready;
}

void notify_started(const struct container_spec *spec, pid_t main_pid) {
  if (spec->notify_socket == NULL || spec->notify_mode == NULL || strcmp(spec->notify_mode, "conmon") != 0) return;
  char message[64] = "READY=1\n";
  if (main_pid > 0) snprintf(message, sizeof message, "MAINPID=%d\nREADY=1\n", (int)main_pid);
  notify_send(spec->notify_socket, message);
}
