#include "sync.h"
#include "report.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void sync_send(int sock, char message) {
  while (send(sock, &message, 1, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) die_errno("sync: send '%c'", message);
}

bool sync_expect(int sock, char message) {
  char got;
  ssize_t n;
  while ((n = recv(sock, &got, 1, 0)) < 0)
    if (errno != EINTR) die_errno("sync: waiting for '%c'", message);
  if (n == 0 || got == SYNC_FAILED) return false;
  if (got != message) die(EXIT_SKIFF_FAILED, 0, "sync: expected '%c', got '%c'", message, got);
  return true;
}

void sync_send_fd(int sock, char message, int fd) {
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = &message, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) die_errno("sync: send fd");
}

int sync_recv_fd(int sock, char message) {
  char got = 0;
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = &got, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
    if (errno != EINTR) die_errno("sync: receive fd");
  if (n == 0 || got == SYNC_FAILED) return -1;
  if (got != message) die(EXIT_SKIFF_FAILED, 0, "sync: expected '%c', got '%c'", message, got);
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) die(EXIT_SKIFF_FAILED, 0, "sync: message '%c' carried no fd", message);
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}
