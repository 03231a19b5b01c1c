/*
 * probe -- the reference side of every comparison with the C libpmem2.
 *
 * usage: probe PATH MODE [size|alignment]...
 *
 * Opens PATH in MODE -- r, w, rw (O_NONBLOCK|O_CLOEXEC, as the Go side
 * opens, so a FIFO never blocks) or path (O_PATH|O_CLOEXEC) -- and calls
 * the real libpmem2 on the descriptor: pmem2_source_from_fd, then, only
 * when it returned 0, each requested step in order. One line per call,
 * written unbuffered, so that a crash inside a later call (libndctl
 * dereferencing a namespace it never found) still leaves the earlier
 * results:
 *
 *	open_errno N                  when open(2) fails (then done)
 *	from_fd RC
 *	size RC VALUE                 for each "size" step
 *	alignment RC VALUE            for each "alignment" step
 *	done
 *
 * With PMEM2_PROBE_UID=N in the environment, a probe started as root
 * first becomes user and group N with no supplementary groups (and so no
 * capabilities): an unprivileged caller in the mount namespace its runner
 * set up.
 *
 * Exit status 0 whatever the library says; 2 for a usage error or a failed
 * PMEM2_PROBE_UID. Core dumps are switched off: an expected SIGSEGV must
 * not litter the working directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libpmem2.h>

static int
mode_flags(const char *mode)
{
	if (strcmp(mode, "r") == 0)
		return O_RDONLY | O_NONBLOCK | O_CLOEXEC;
	if (strcmp(mode, "w") == 0)
		return O_WRONLY | O_NONBLOCK | O_CLOEXEC;
	if (strcmp(mode, "rw") == 0)
		return O_RDWR | O_NONBLOCK | O_CLOEXEC;
	if (strcmp(mode, "path") == 0)
		return O_PATH | O_CLOEXEC;
	return -1;
}

int
main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH MODE [size|alignment]...\n", argv[0]);
		return 2;
	}
	int flags = mode_flags(argv[2]);
	if (flags < 0) {
		fprintf(stderr, "probe: unknown mode %s (r, w, rw or path)\n", argv[2]);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "size") != 0 && strcmp(argv[i], "alignment") != 0) {
			fprintf(stderr, "probe: unknown step %s (size or alignment)\n", argv[i]);
			return 2;
		}
	}
	const char *uid = getenv("PMEM2_PROBE_UID");
	if (uid != NULL) {
		int id = atoi(uid);
		if (setgroups(0, NULL) != 0 || setgid(id) != 0 || setuid(id) != 0) {
			fprintf(stderr, "probe: becoming uid %d: %s\n", id, strerror(errno));
			return 2;
		}
	}
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	setvbuf(stdout, NULL, _IONBF, 0);

	int fd = open(argv[1], flags);
	if (fd < 0) {
		printf("open_errno %d\n", errno);
		printf("done\n");
		return 0;
	}

	struct pmem2_source *src = NULL;
	int rc = pmem2_source_from_fd(&src, fd);
	printf("from_fd %d\n", rc);
	if (rc == 0) {
		for (int i = 3; i < argc; i++) {
			size_t v = 0;
			if (strcmp(argv[i], "size") == 0) {
				rc = pmem2_source_size(src, &v);
				printf("size %d %zu\n", rc, v);
			} else {
				rc = pmem2_source_alignment(src, &v);
				printf("alignment %d %zu\n", rc, v);
			}
		}
		pmem2_source_delete(&src);
	}
	close(fd);
	printf("done\n");
	return 0;
}
