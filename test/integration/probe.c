/* A tiny static probe the security tests run inside containers (as crun's
 * tests/init.c): each subcommand tries one thing for real and prints
 * "NAME: ok" or "NAME: ERRNONAME", and exits 0 either way.
 *
 *   probe keyctl | add_key | bpf | userfaultfd | unshare-user | mount-proc |
 *         open_by_handle_at | perf_event_open | io_uring_setup | clone-newuser |
 *         tiocsti | int80-getpid | int80-keyctl | int80-unshare-user |
 *         x32-keyctl | nr N | ptrace PID | ptrace-keyctl PID | socket-vsock
 *   probe getppid-loop N    prints the nanoseconds per getppid over N calls
 *
 * and two tools of the escape tests (070-escapes), which run until killed:
 *
 *   probe swap A B          exchanges A and B with renameat2(RENAME_EXCHANGE)
 *                           in a tight loop: inside a container, a directory
 *                           and a symlink to a host directory
 *   probe watch PATH...     on the host: prints "ready", then one line per
 *                           inotify event on the PATHs (a sentinel directory
 *                           and what it holds)
 *
 * and the two ends of sd_notify (080-systemd-units):
 *
 *   probe notify MESSAGE    sends MESSAGE ("\n" as newlines) to $NOTIFY_SOCKET
 *   probe notify-listen PATH SECONDS
 *                           on the host, as systemd: binds a datagram socket
 *                           at PATH (mode 0777), prints "ready", then each
 *                           message with its sender's pid ("pid=N MESSAGE",
 *                           newlines as spaces); exits after one holding
 *                           READY=1, or after SECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int report(const char *name, long rc) {
  if (rc < 0) printf("%s: %s\n", name, strerrorname_np(errno));
  else printf("%s: ok\n", name);
  return 0;
}

/* A 32-bit system call from this 64-bit process: the i386 ABI, i386 numbers. */
static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

static int swap_forever(const char *a, const char *b) {
  for (unsigned long n = 0;; n++) {
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0) {
      fprintf(stderr, "probe: renameat2 %s %s: %s (after %lu swaps)\n", a, b, strerror(errno), n);
      return 1;
    }
  }
}

static int watch_forever(int count, char **paths) {
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0) {
    perror("probe: inotify_init1");
    return 1;
  }
  for (int i = 0; i < count; i++) {
    if (inotify_add_watch(fd, paths[i], IN_ALL_EVENTS | IN_DONT_FOLLOW) < 0) {
      fprintf(stderr, "probe: watch %s: %s\n", paths[i], strerror(errno));
      return 1;
    }
  }
  dprintf(STDOUT_FILENO, "ready\n");
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("probe: read inotify events");
      return 1;
    }
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      dprintf(STDOUT_FILENO, "event wd=%d mask=0x%x name=%s\n", e->wd, e->mask, e->len ? e->name : "");
      p += sizeof *e + e->len;
    }
  }
}

static int notify_send(const char *text) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (path == NULL) {
    fprintf(stderr, "notify: NOTIFY_SOCKET is not set\n");
    return 1;
  }
  char message[4096];
  size_t o = 0;
  for (const char *p = text; *p && o + 1 < sizeof message; p++) {
    if (p[0] == '\\' && p[1] == 'n') message[o++] = '\n', p++;
    else message[o++] = *p;
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || sendto(fd, message, o, 0, (struct sockaddr *)&addr, sizeof addr) < 0) return report("notify", -1);
  return report("notify", 0);
}

static int notify_listen(const char *path, int seconds) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0), on = 1;
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0777) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) {
    perror("notify-listen");
    return 1;
  }
  dprintf(STDOUT_FILENO, "ready\n");
  alarm((unsigned)seconds);
  for (;;) {
    char buf[4096], control[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0) return 1;
    buf[n] = '\0';
    int pid = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) pid = ((struct ucred *)CMSG_DATA(c))->pid;
    bool ready = strstr(buf, "READY=1") != NULL;
    for (char *p = buf; *p; p++)
      if (*p == '\n') *p = ' ';
    dprintf(STDOUT_FILENO, "pid=%d %s\n", pid, buf);
    if (ready) return 0;
  }
}

/* Answers each UDP datagram on PORT with "pong " and the datagram, forever (network tests). */
static int udp_echo(const char *port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("probe: udp-echo");
    return 1;
  }
  dprintf(STDOUT_FILENO, "listening\n");
  for (;;) {
    char buf[1500] = "pong ";
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
    if (n < 0) continue;
    sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: probe WHAT [ARG]\n");
    return 2;
  }
  const char *what = argv[1];
  if (strcmp(what, "swap") == 0 && argc == 4) return swap_forever(argv[2], argv[3]);
  if (strcmp(what, "watch") == 0 && argc >= 3) return watch_forever(argc - 2, argv + 2);
  if (strcmp(what, "notify") == 0 && argc == 3) return notify_send(argv[2]);
  if (strcmp(what, "notify-listen") == 0 && argc == 4) return notify_listen(argv[2], atoi(argv[3]));
  if (strcmp(what, "udp-echo") == 0 && argc == 3) return udp_echo(argv[2]);
  const char *arg = argc > 2 ? argv[2] : "0";
  if (strcmp(what, "keyctl") == 0) return report(what, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
  if (strcmp(what, "add_key") == 0) return report(what, syscall(SYS_add_key, "user", "skiff-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING));
  if (strcmp(what, "bpf") == 0) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return report(what, syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
  }
  if (strcmp(what, "userfaultfd") == 0) return report(what, syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
  if (strcmp(what, "unshare-user") == 0) return report(what, unshare(CLONE_NEWUSER));
  if (strcmp(what, "clone-newuser") == 0) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return report(what, pid);
  }
  if (strcmp(what, "mount-proc") == 0) {
    mkdir("/tmp/probe-proc", 0755);
    return report(what, mount("proc", "/tmp/probe-proc", "proc", 0, NULL));
  }
  if (strcmp(what, "open_by_handle_at") == 0) {
    struct file_handle *handle = malloc(sizeof *handle + MAX_HANDLE_SZ);
    handle->handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    if (name_to_handle_at(AT_FDCWD, "/", handle, &mount_id, 0) < 0) return report("name_to_handle_at", -1);
    int root = open("/", O_RDONLY | O_DIRECTORY);
    return report(what, open_by_handle_at(root, handle, O_RDONLY));
  }
  if (strcmp(what, "perf_event_open") == 0) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.exclude_kernel = 1;
    return report(what, syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  }
  if (strcmp(what, "io_uring_setup") == 0) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    return report(what, syscall(SYS_io_uring_setup, 1, &params));
  }
  if (strcmp(what, "tiocsti") == 0) {
    char c = '\n';
    return report(what, ioctl(0, TIOCSTI, &c));
  }
  if (strcmp(what, "socket-vsock") == 0) return report(what, socket(AF_VSOCK, SOCK_STREAM, 0));
  if (strcmp(what, "int80-getpid") == 0) {
    long pid = int80(20, 0, 0, 0);
    if (pid >= 0 && pid != getpid()) {
      printf("%s: wrong pid %ld\n", what, pid);
      return 0;
    }
    return report(what, pid);
  }
  if (strcmp(what, "int80-keyctl") == 0) return report(what, int80(288, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
  if (strcmp(what, "int80-unshare-user") == 0) return report(what, int80(310, CLONE_NEWUSER, 0, 0));
  if (strcmp(what, "x32-keyctl") == 0) return report(what, syscall(0x40000000 | SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
  if (strcmp(what, "nr") == 0) return report(what, syscall(atol(arg), -1, 0, 0, 0));
  if (strcmp(what, "ptrace") == 0) {
    pid_t pid = (pid_t)atoi(arg);
    long rc = ptrace(PTRACE_ATTACH, pid, 0, 0);
    if (rc == 0) {
      waitpid(pid, NULL, __WALL);
      ptrace(PTRACE_DETACH, pid, 0, 0);
    }
    return report(what, rc);
  }
  if (strcmp(what, "ptrace-keyctl") == 0) {
    /* The attack on a process that shares the container: attach, and make it
     * run keyctl from where it sits (right after a `syscall` instruction, as
     * it waits for signals), as an exploit would. */
    pid_t pid = (pid_t)atoi(arg);
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0) return report("attach", -1);
    if (waitpid(pid, NULL, __WALL) < 0) return report("waitpid", -1);
    struct user_regs_struct saved, regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &saved) < 0) return report("getregs", -1);
    long text = ptrace(PTRACE_PEEKTEXT, pid, saved.rip - 2, 0);
    if ((text & 0xffff) != 0x050f) {
      printf("%s: no syscall instruction at rip-2\n", what);
      return 0;
    }
    regs = saved;
    regs.rip = saved.rip - 2;
    regs.rax = SYS_keyctl;
    regs.orig_rax = (unsigned long long)-1;
    regs.rdi = KEYCTL_GET_KEYRING_ID;
    regs.rsi = (unsigned long long)(long)KEY_SPEC_SESSION_KEYRING;
    regs.rdx = 1;
    if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0) return report("setregs", -1);
    if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0) return report("singlestep", -1);
    if (waitpid(pid, NULL, __WALL) < 0) return report("waitpid", -1);
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) return report("getregs", -1);
    ptrace(PTRACE_SETREGS, pid, 0, &saved);
    ptrace(PTRACE_DETACH, pid, 0, 0);
    long rc = (long)regs.rax;
    if (rc < 0 && rc > -4096) errno = (int)-rc;
    return report(what, rc < 0 && rc > -4096 ? -1 : 0);
  }
  if (strcmp(what, "getppid-loop") == 0) {
    long n = atol(arg);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)(n > 0 ? n : 1);
    printf("getppid: %.1f ns\n", ns);
    return 0;
  }
  fprintf(stderr, "probe: unknown test %s\n", what);
  return 2;
}
