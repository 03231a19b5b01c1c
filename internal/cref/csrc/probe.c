/*
 * probe -- the reference side of every comparison with the C libpmem2.
 *
 * usage: probe PATH MODE [STEP]...
 *
 * STEP is size, alignment, numa_node, device_id, usc or badblocks.
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
 *	numa_node RC VALUE            pmem2_source_numa_node (VALUE signed)
 *	device_id RC HEX              pmem2_source_device_id: the id's bytes
 *	                              in hex, "-" when empty or RC is not 0
 *	usc RC VALUE                  pmem2_source_device_usc
 *	badblocks RC [OFF,LEN]...     pmem2_badblock_context_new's code, or
 *	                              the first code of pmem2_badblock_next
 *	                              other than PMEM2_E_NO_BAD_BLOCK_FOUND,
 *	                              and the bad blocks next returned
 *	done
 *
 * device_id asks for the length first (id NULL), as the manual says, then
 * for the id in a zeroed buffer of that length; RC is the first call's
 * code when it is not 0, else the second's.
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
#include <inttypes.h>
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

static const char *const steps[] = {
	"size", "alignment", "numa_node", "device_id", "usc", "badblocks", NULL,
};

static int
known_step(const char *s)
{
	for (int i = 0; steps[i] != NULL; i++)
		if (strcmp(s, steps[i]) == 0)
			return 1;
	return 0;
}

static void
device_id(struct pmem2_source *src)
{
	size_t len = 0;
	int rc = pmem2_source_device_id(src, NULL, &len);
	if (rc != 0) {
		printf("device_id %d -\n", rc);
		return;
	}
	char *id = calloc(1, len + 1);
	if (id == NULL) {
		fprintf(stderr, "probe: calloc %zu: %s\n", len + 1, strerror(errno));
		exit(2);
	}
	rc = pmem2_source_device_id(src, id, &len);
	printf("device_id %d ", rc);
	if (rc != 0 || id[0] == '\0')
		printf("-");
	for (size_t i = 0; rc == 0 && id[i] != '\0'; i++)
		printf("%02x", (unsigned char)id[i]);
	printf("\n");
	free(id);
}

static void
badblocks(struct pmem2_source *src)
{
	struct pmem2_badblock_context *ctx = NULL;
	int rc = pmem2_badblock_context_new(&ctx, src);
	if (rc != 0) {
		printf("badblocks %d\n", rc);
		return;
	}
	/* one line at the end: a list of any length, built in memory */
	char *line = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&line, &size);
	if (out == NULL) {
		fprintf(stderr, "probe: open_memstream: %s\n", strerror(errno));
		exit(2);
	}
	struct pmem2_badblock bb;
	while ((rc = pmem2_badblock_next(ctx, &bb)) == 0)
		fprintf(out, " %zu,%zu", bb.offset, bb.length);
	fclose(out);
	if (rc == PMEM2_E_NO_BAD_BLOCK_FOUND)
		rc = 0;
	printf("badblocks %d%s\n", rc, line);
	free(line);
	pmem2_badblock_context_delete(&ctx);
}

int
main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH MODE [STEP]...\n", argv[0]);
		return 2;
	}
	int flags = mode_flags(argv[2]);
	if (flags < 0) {
		fprintf(stderr, "probe: unknown mode %s (r, w, rw or path)\n", argv[2]);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!known_step(argv[i])) {
			fprintf(stderr, "probe: unknown step %s (size, alignment, numa_node, device_id, usc or badblocks)\n", argv[i]);
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
			} else if (strcmp(argv[i], "alignment") == 0) {
				rc = pmem2_source_alignment(src, &v);
				printf("alignment %d %zu\n", rc, v);
			} else if (strcmp(argv[i], "numa_node") == 0) {
				int node = 0;
				rc = pmem2_source_numa_node(src, &node);
				printf("numa_node %d %d\n", rc, node);
			} else if (strcmp(argv[i], "device_id") == 0) {
				device_id(src);
			} else if (strcmp(argv[i], "usc") == 0) {
				uint64_t usc = 0;
				rc = pmem2_source_device_usc(src, &usc);
				printf("usc %d %" PRIu64 "\n", rc, usc);
			} else {
				badblocks(src);
			}
		}
		pmem2_source_delete(&src);
	}
	close(fd);
	printf("done\n");
	return 0;
}
