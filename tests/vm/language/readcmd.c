/* Reads /proc/cmdline with raw system calls, as a test reaches a kernel
 * path that busybox cannot: prints what it read, exits 0 if it says the
 * kernel is live patched, else 3. */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	char buf[4096];
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/cmdline", O_RDONLY);
	long n;

	if (fd < 0)
		return 2;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n < 0)
		return 2;
	buf[n] = '\0';
	syscall(SYS_write, 1, buf, n);
	return strstr(buf, "live patched") ? 0 : 3;
}
