/*
 * enumbench -- times the C libpmem2 (and the tools built on libndctl and
 * libdaxctl) from inside one process, so that a FUSE/tmpfs ratio measures
 * the file system and not the start of a process.
 *
 * usage: enumbench pair N          pmem2_source_size + pmem2_source_alignment
 *        enumbench classify N      pmem2_source_from_fd + pmem2_source_delete
 *        enumbench cold            the first pmem2_source_size of the process
 *        enumbench exec N CMD ARG...   CMD run N times (fork, exec, wait)
 *
 * The Device DAX is /dev/dax0.0, opened O_PATH. pair and classify make one
 * untimed call first, so the loop is warm; cold times that first call.
 * Output, one line: "ns PER_CALL size SIZE align ALIGN" (size and align
 * are what the library returned, 0 for exec), or "error ..." and status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpmem2.h>

static long long
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct pmem2_source *
source(void)
{
	int fd = open("/dev/dax0.0", O_PATH | O_CLOEXEC);
	if (fd < 0) {
		printf("error open /dev/dax0.0: %s\n", strerror(errno));
		exit(1);
	}
	struct pmem2_source *src;
	int rc = pmem2_source_from_fd(&src, fd);
	if (rc != 0) {
		printf("error pmem2_source_from_fd %d\n", rc);
		exit(1);
	}
	return src;
}

static void
pair(struct pmem2_source *src, size_t *size, size_t *align)
{
	int rc = pmem2_source_size(src, size);
	if (rc == 0)
		rc = pmem2_source_alignment(src, align);
	if (rc != 0) {
		printf("error size/alignment %d\n", rc);
		exit(1);
	}
}

static int
run(char **argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc < 2) {
		fprintf(stderr, "usage: enumbench pair|classify|cold|exec [N] [CMD ARG...]\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 1;
	size_t size = 0, align = 0;
	long long start, ns;

	if (strcmp(mode, "exec") == 0) {
		if (argc < 4 || n < 1)
			return 2;
		start = now();
		for (long i = 0; i < n; i++) {
			if (run(&argv[3]) != 0) {
				printf("error %s failed\n", argv[3]);
				return 1;
			}
		}
		ns = (now() - start) / n;
	} else if (strcmp(mode, "cold") == 0) {
		struct pmem2_source *src = source();
		start = now();
		if (pmem2_source_size(src, &size) != 0) {
			printf("error pmem2_source_size\n");
			return 1;
		}
		ns = now() - start;
	} else if (strcmp(mode, "pair") == 0 && n > 0) {
		struct pmem2_source *src = source();
		pair(src, &size, &align);
		start = now();
		for (long i = 0; i < n; i++)
			pair(src, &size, &align);
		ns = (now() - start) / n;
	} else if (strcmp(mode, "classify") == 0 && n > 0) {
		struct pmem2_source *warm = source();
		pmem2_source_delete(&warm);
		int fd = open("/dev/dax0.0", O_PATH | O_CLOEXEC);
		start = now();
		for (long i = 0; i < n; i++) {
			struct pmem2_source *s;
			if (pmem2_source_from_fd(&s, fd) != 0) {
				printf("error pmem2_source_from_fd\n");
				return 1;
			}
			pmem2_source_delete(&s);
		}
		ns = (now() - start) / n;
	} else {
		fprintf(stderr, "enumbench: unknown mode %s\n", mode);
		return 2;
	}
	printf("ns %lld size %zu align %zu\n", ns, size, align);
	return 0;
}
