/* pasta's interface made beforehand and watched: see net_watch.h. */
#include "net_watch.h"
#include "report.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

bool net_make_persistent_tap(const char *ifname, char *why, size_t why_size) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, why_size, "open /dev/net/tun: %s", strerror(errno));
    return false;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  bool ok = true;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    snprintf(why, why_size, "TUNSETIFF %s: %s", ifname, strerror(errno));
    ok = false;
  } else if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
    /* Not persistent: closing the fd takes the tap away again. */
    snprintf(why, why_size, "TUNSETPERSIST %s: %s", ifname, strerror(errno));
    ok = false;
  }
  close(fd);
  return ok;
}

void net_watch_send(const struct container_spec *spec, int sync_sock) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) die_errno("socket(AF_NETLINK) to watch the container's network");
  /* Subscribed first: the interface's own RTM_NEWLINK names its index. */
  struct sockaddr_nl local = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) die_errno("bind the container's network watch");
  char why[160];
  if (!net_make_persistent_tap(spec->net_pasta_ifname, why, sizeof why)) report_debug("pasta makes %s itself (%s)", spec->net_pasta_ifname, why);
  sync_send_fd(sync_sock, SYNC_NET_WATCH, fd);
  close(fd);
}

/* IFLA_IFNAME of an RTM_NEWLINK is `name`. */
static bool link_named(struct nlmsghdr *h, const char *name) {
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  int len = (int)IFLA_PAYLOAD(h);
  for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type != IFLA_IFNAME) continue;
    char got[IFNAMSIZ] = "";
    size_t n = RTA_PAYLOAD(a) < sizeof got - 1 ? RTA_PAYLOAD(a) : sizeof got - 1;
    memcpy(got, RTA_DATA(a), n);
    got[n] = '\0';
    return strcmp(got, name) == 0;
  }
  return false;
}

/* A default unicast route of the main table through interface `ifindex`. */
static bool default_route_on(struct nlmsghdr *h, int ifindex) {
  struct rtmsg *rt = NLMSG_DATA(h);
  if (rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST) return false;
  unsigned table = rt->rtm_table;
  int oif = 0;
  int len = (int)RTM_PAYLOAD(h);
  for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= sizeof(unsigned)) memcpy(&table, RTA_DATA(a), sizeof table);
    else if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int)) memcpy(&oif, RTA_DATA(a), sizeof oif);
  }
  return table == RT_TABLE_MAIN && oif == ifindex;
}

/* Makes the tap in the caller's network namespace; one it cannot make is left to slirp4netns. */
static void make_slirp_tap_here(const struct container_spec *spec) {
  char why[160];
  if (!net_make_persistent_tap(spec->net_slirp_ifname, why, sizeof why)) report_debug("slirp4netns makes %s itself (%s)", spec->net_slirp_ifname, why);
}

void net_make_slirp_tap(const struct container_spec *spec) {
  /* pasta's fallback: net_make_slirp_tap_in, only when it comes. */
  if (spec->net_slirp_ifname == NULL || spec->net_pasta.len > 0) return;
  make_slirp_tap_here(spec);
}

bool net_enter_container_netns(int netns, int userns) {
  struct stat mine, theirs;
  bool joined = userns >= 0 && fstat(userns, &theirs) == 0 && stat("/proc/self/ns/user", &mine) == 0 && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev;
  if (userns >= 0 && !joined && setns(userns, CLONE_NEWUSER) < 0) return false;
  return setns(netns, CLONE_NEWNET) == 0;
}

void net_make_slirp_tap_in(const struct container_spec *spec, int netns, int userns) {
  if (spec->net_slirp_ifname == NULL) return;
  pid_t pid = fork();
  if (pid < 0) die_errno("fork to make slirp4netns's tap");
  if (pid == 0) {
    /* Best effort, as for slirp4netns alone: the child's debug line (the helper's report fd) says why not. */
    if (net_enter_container_netns(netns, userns)) make_slirp_tap_here(spec);
    else report_debug("slirp4netns makes %s itself (enter the container's network namespace: %m)", spec->net_slirp_ifname);
    _exit(0);
  }
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

int net_watch_update(struct net_watch *w) {
  char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (;;) {
    ssize_t n = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return -1;
    int left = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == RTM_NEWLINK && link_named(h, w->ifname)) w->ifindex = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
      else if (h->nlmsg_type == RTM_NEWROUTE && w->ifindex > 0 && default_route_on(h, w->ifindex)) {
        int family = ((struct rtmsg *)NLMSG_DATA(h))->rtm_family;
        if (family == AF_INET) w->ipv4 = true;
        else if (family == AF_INET6) w->ipv6 = true;
      }
    }
  }
  return w->ipv4 && (w->ipv6 || !w->want_ipv6) ? 1 : 0;
}

void net_watch_remove_interface(const struct net_watch *w) {
  if (w->fd < 0) return;
  struct {
    struct nlmsghdr hdr;
    struct ifinfomsg ifi;
    char attrs[RTA_SPACE(IFNAMSIZ)];
  } req;
  memset(&req, 0, sizeof req);
  req.hdr.nlmsg_type = RTM_DELLINK;
  req.hdr.nlmsg_flags = NLM_F_REQUEST;
  req.hdr.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  struct rtattr *name = (struct rtattr *)req.attrs;
  name->rta_type = IFLA_IFNAME;
  name->rta_len = (unsigned short)RTA_LENGTH(strlen(w->ifname) + 1);
  memcpy(RTA_DATA(name), w->ifname, strlen(w->ifname) + 1);
  req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi) + RTA_ALIGN(name->rta_len);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  /* Best effort: left behind, it is a down interface beside slirp4netns's tap0, gone with the namespace. */
  if (sendto(w->fd, &req, req.hdr.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    report_debug("could not delete %s before the fallback: %s", w->ifname, strerror(errno));
}
