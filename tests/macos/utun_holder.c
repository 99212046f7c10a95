/*
 * A utun for the destructive real-Mac tests (tests/macos/destructive_test.ts), made the way every
 * VPN on macOS makes one: a PF_SYSTEM socket connected to the kernel control
 * "com.apple.net.utun_control" (xnu bsd/net/if_utun.c; sc_unit 0 lets the kernel pick the unit).
 * It prints the interface's name (UTUN_OPT_IFNAME) on a line and holds the socket until stdin
 * reaches end of file: the interface lives exactly as long as this process, as a tunnel's does.
 *
 * Built by the test with `cc`; no dependency beyond the SDK's headers. Exit 1 with a message on
 * stderr when a step fails (not root, no such control).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/kern_control.h>
#include <sys/socket.h>
#include <sys/sys_domain.h>
#include <net/if.h>

#ifndef UTUN_CONTROL_NAME
#define UTUN_CONTROL_NAME "com.apple.net.utun_control"
#endif
#ifndef UTUN_OPT_IFNAME
#define UTUN_OPT_IFNAME 2
#endif

static int fail(const char *step) {
	perror(step);
	return 1;
}

int main(void) {
	int fd = socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
	if (fd < 0) return fail("socket(PF_SYSTEM)");

	struct ctl_info info;
	memset(&info, 0, sizeof info);
	strlcpy(info.ctl_name, UTUN_CONTROL_NAME, sizeof info.ctl_name);
	if (ioctl(fd, CTLIOCGINFO, &info) < 0) return fail("ioctl(CTLIOCGINFO)");

	struct sockaddr_ctl address;
	memset(&address, 0, sizeof address);
	address.sc_len = sizeof address;
	address.sc_family = AF_SYSTEM;
	address.ss_sysaddr = AF_SYS_CONTROL;
	address.sc_id = info.ctl_id;
	address.sc_unit = 0;
	if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) return fail("connect(utun)");

	char name[IFNAMSIZ];
	socklen_t length = sizeof name;
	if (getsockopt(fd, SYSPROTO_CONTROL, UTUN_OPT_IFNAME, name, &length) < 0) {
		return fail("getsockopt(UTUN_OPT_IFNAME)");
	}
	printf("%s\n", name);
	fflush(stdout);

	char buffer[256];
	while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
		/* input is ignored: only its end matters */
	}
	close(fd);
	return 0;
}
