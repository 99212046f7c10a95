/*
 * The floor of "restore latency under run": the least any wrapper can do on this machine.
 *
 *   floor_wrapper GATEWAY4 IFNAME -- CMD [ARGS...]
 *
 * Everything is prepared before CMD starts (the interface index, the netlink socket, the whole
 * RTM_NEWROUTE request); after fork/exec the parent sleeps in waitpid(2), and the moment CMD
 * exits it sends the prebuilt request, reads the ack and exits with CMD's status. No decisions,
 * no reads, no logging: the kernel's process teardown, one wake-up and one syscall.
 * tests/bench/restore_bench.ts runs it interleaved with `defroute run` and the shell workaround,
 * so the figures show how much of each is the machine and how much is the program.
 * A benchmark tool, not product code: it restores blindly and decides nothing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct request {
  struct nlmsghdr header;
  struct rtmsg route;
  struct rtattr gateway_attr;
  struct in_addr gateway;
  struct rtattr oif_attr;
  int oif;
};

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: floor_wrapper GATEWAY4 IFNAME -- CMD [ARGS...]\n");
    return 2;
  }
  struct request req;
  memset(&req, 0, sizeof req);
  if (inet_pton(AF_INET, argv[1], &req.gateway) != 1) {
    fprintf(stderr, "floor_wrapper: not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  req.oif = (int)if_nametoindex(argv[2]);
  if (req.oif == 0) {
    perror("floor_wrapper: if_nametoindex");
    return 2;
  }
  req.header.nlmsg_len = sizeof req;
  req.header.nlmsg_type = RTM_NEWROUTE;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.header.nlmsg_seq = 1;
  req.route.rtm_family = AF_INET;
  req.route.rtm_table = RT_TABLE_MAIN;
  req.route.rtm_protocol = RTPROT_BOOT;
  req.route.rtm_scope = RT_SCOPE_UNIVERSE;
  req.route.rtm_type = RTN_UNICAST;
  req.gateway_attr.rta_len = RTA_LENGTH(sizeof req.gateway);
  req.gateway_attr.rta_type = RTA_GATEWAY;
  req.oif_attr.rta_len = RTA_LENGTH(sizeof req.oif);
  req.oif_attr.rta_type = RTA_OIF;

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    perror("floor_wrapper: socket");
    return 1;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

  pid_t pid = fork();
  if (pid < 0) {
    perror("floor_wrapper: fork");
    return 1;
  }
  if (pid == 0) {
    execvp(argv[4], argv + 4);
    perror("floor_wrapper: exec");
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("floor_wrapper: waitpid");
      return 1;
    }
  }
  if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    perror("floor_wrapper: sendto");
    return 1;
  }
  char answer[4096];
  ssize_t n = recv(fd, answer, sizeof answer, 0);
  if (n >= (ssize_t)(sizeof(struct nlmsghdr) + sizeof(int))) {
    struct nlmsghdr *h = (struct nlmsghdr *)answer;
    int error = *(int *)NLMSG_DATA(h);
    if (h->nlmsg_type == NLMSG_ERROR && error != 0) {
      fprintf(stderr, "floor_wrapper: route add: %s\n", strerror(-error));
      return 1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
