#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request: the netlink header, the family header and attributes. */
struct request {
  char buf[1024];
  struct nlmsghdr *hdr;
};

static void request_init(struct request *r, uint16_t type, uint16_t flags, const void *family, size_t family_len) {
  memset(r->buf, 0, sizeof r->buf);
  r->hdr = (struct nlmsghdr *)r->buf;
  r->hdr->nlmsg_len = NLMSG_LENGTH(family_len);
  r->hdr->nlmsg_type = type;
  r->hdr->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  memcpy(NLMSG_DATA(r->hdr), family, family_len);
}

static struct rtattr *attr_put(struct request *r, uint16_t type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)(r->buf + NLMSG_ALIGN(r->hdr->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len > 0) memcpy(RTA_DATA(a), data, len);
  r->hdr->nlmsg_len = NLMSG_ALIGN(r->hdr->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

/* A nested attribute: open it, add to it, close it. */
static struct rtattr *nest_open(struct request *r, uint16_t type) { return attr_put(r, type, NULL, 0); }
static void nest_close(struct request *r, struct rtattr *nest) { nest->rta_len = (unsigned short)(r->buf + r->hdr->nlmsg_len - (char *)nest); }

/* Sends the request and reads the kernel's acknowledgement: 0 or -errno. */
static int request_send(struct request *r) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int result = 0;
  if (sendto(fd, r->buf, r->hdr->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    result = -errno;
    goto out;
  }
  char reply[4096];
  for (;;) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = -errno;
      goto out;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        result = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        goto out;
      }
    }
  }
out:
  close(fd);
  return result;
}

int nl_bridge_add(const char *name) {
  struct request r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  request_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  attr_put(&r, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr *info = nest_open(&r, IFLA_LINKINFO);
  attr_put(&r, IFLA_INFO_KIND, "bridge", strlen("bridge"));
  nest_close(&r, info);
  int err = request_send(&r);
  return err == -EEXIST ? 0 : err;
}

int nl_veth_add(const char *name, const char *peer, const uint8_t *peer_mac, int peer_netns_fd) {
  struct request r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  request_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  attr_put(&r, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr *info = nest_open(&r, IFLA_LINKINFO);
  attr_put(&r, IFLA_INFO_KIND, "veth", strlen("veth"));
  struct rtattr *data = nest_open(&r, IFLA_INFO_DATA);
  struct rtattr *peer_info = nest_open(&r, VETH_INFO_PEER);
  /* The peer's own ifinfomsg comes first inside VETH_INFO_PEER. */
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  memcpy(r.buf + r.hdr->nlmsg_len, &peer_ifi, sizeof peer_ifi);
  r.hdr->nlmsg_len += NLMSG_ALIGN(sizeof peer_ifi);
  attr_put(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
  if (peer_mac != NULL) attr_put(&r, IFLA_ADDRESS, peer_mac, 6);
  attr_put(&r, IFLA_NET_NS_FD, &peer_netns_fd, sizeof peer_netns_fd);
  nest_close(&r, peer_info);
  nest_close(&r, data);
  nest_close(&r, info);
  return request_send(&r);
}

int nl_link_up(const char *name, int master_index) {
  int index = (int)if_nametoindex(name);
  if (index == 0) return -errno;
  struct request r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  request_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (master_index > 0) attr_put(&r, IFLA_MASTER, &master_index, sizeof master_index);
  return request_send(&r);
}

int nl_addr_add(const char *name, uint32_t addr, int prefix) {
  int index = (int)if_nametoindex(name);
  if (index == 0) return -errno;
  struct request r;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_index = (unsigned)index};
  request_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  attr_put(&r, IFA_LOCAL, &addr, sizeof addr);
  attr_put(&r, IFA_ADDRESS, &addr, sizeof addr);
  uint32_t host_mask = prefix >= 32 ? 0 : htonl(0xffffffffu >> prefix);
  uint32_t broadcast = addr | host_mask;
  attr_put(&r, IFA_BROADCAST, &broadcast, sizeof broadcast);
  int err = request_send(&r);
  return err == -EEXIST ? 0 : err;
}

int nl_link_del(const char *name) {
  int index = (int)if_nametoindex(name);
  if (index == 0) return -errno;
  struct request r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  request_init(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
  return request_send(&r);
}

int nl_rule_fwmark_add(int family, uint32_t mark, uint32_t table, uint32_t priority) {
  struct request r;
  struct fib_rule_hdr rule = {.family = (unsigned char)family, .action = FR_ACT_TO_TBL, .table = RT_TABLE_UNSPEC};
  request_init(&r, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &rule, sizeof rule);
  uint32_t mask = 0xffffffffu;
  attr_put(&r, FRA_FWMARK, &mark, sizeof mark);
  attr_put(&r, FRA_FWMASK, &mask, sizeof mask);
  attr_put(&r, FRA_TABLE, &table, sizeof table);
  attr_put(&r, FRA_PRIORITY, &priority, sizeof priority);
  int err = request_send(&r);
  return err == -EEXIST ? 0 : err;
}

int nl_route_local_default(int family, uint32_t table, const char *name) {
  int index = (int)if_nametoindex(name);
  if (index == 0) return -errno;
  struct request r;
  struct rtmsg rt = {.rtm_family = (unsigned char)family, .rtm_table = RT_TABLE_UNSPEC, .rtm_protocol = RTPROT_STATIC, .rtm_scope = RT_SCOPE_HOST, .rtm_type = RTN_LOCAL};
  request_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
  attr_put(&r, RTA_TABLE, &table, sizeof table);
  attr_put(&r, RTA_OIF, &index, sizeof index);
  return request_send(&r);
}
