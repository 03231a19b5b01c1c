/*
 * mapdax -- what a C program does with a Device DAX once it may open it:
 * map it with the real libpmem2 and store through the mapping.
 *
 * usage: mapdax PATH MODE GRANULARITY
 *
 * Opens PATH in MODE (rw, r or path: O_RDWR, O_RDONLY or O_PATH, each
 * with O_CLOEXEC), calls pmem2_source_from_fd, asks pmem2_map_new for a
 * shared mapping of the whole source with the required store GRANULARITY
 * (page, cache_line or byte) and, when it is mapped, writes a pattern
 * through the mapping, persists it and reads it back; then pwrites and
 * preads the same bytes through pmem2_source_pwrite_mcsafe and
 * pmem2_source_pread_mcsafe. One line per call, unbuffered:
 *
 *	open_errno N                     when open(2) fails (then done)
 *	from_fd RC
 *	size RC VALUE
 *	map_new RC                       RC a libpmem2 code (-EBADF is -9)
 *	granularity NAME                 the store granularity of the mapping
 *	readback same|different          the pattern read through the mapping
 *	pwrite_mcsafe RC
 *	pread_mcsafe RC zeros|pattern|other   what the read returned
 *	done
 *
 * Exit status 0 whatever the library says; 2 for a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libpmem2.h>

static const char pattern[] = "mapped by libpmem2";

static const char *
granularity_name(enum pmem2_granularity g)
{
	switch (g) {
	case PMEM2_GRANULARITY_BYTE:
		return "BYTE";
	case PMEM2_GRANULARITY_CACHE_LINE:
		return "CACHE_LINE";
	case PMEM2_GRANULARITY_PAGE:
		return "PAGE";
	}
	return "?";
}

static const char *
classify(const char *buf, size_t n)
{
	if (memcmp(buf, pattern, n) == 0)
		return "pattern";
	for (size_t i = 0; i < n; i++)
		if (buf[i] != 0)
			return "other";
	return "zeros";
}

int
main(int argc, char *argv[])
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s PATH rw|r|path page|cache_line|byte\n", argv[0]);
		return 2;
	}
	int flags;
	if (strcmp(argv[2], "rw") == 0)
		flags = O_RDWR;
	else if (strcmp(argv[2], "r") == 0)
		flags = O_RDONLY;
	else if (strcmp(argv[2], "path") == 0)
		flags = O_PATH;
	else {
		fprintf(stderr, "mapdax: unknown mode %s (rw, r or path)\n", argv[2]);
		return 2;
	}
	enum pmem2_granularity gran;
	if (strcmp(argv[3], "page") == 0)
		gran = PMEM2_GRANULARITY_PAGE;
	else if (strcmp(argv[3], "cache_line") == 0)
		gran = PMEM2_GRANULARITY_CACHE_LINE;
	else if (strcmp(argv[3], "byte") == 0)
		gran = PMEM2_GRANULARITY_BYTE;
	else {
		fprintf(stderr, "mapdax: unknown granularity %s (page, cache_line or byte)\n", argv[3]);
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	int fd = open(argv[1], flags | O_CLOEXEC);
	if (fd < 0) {
		printf("open_errno %d\ndone\n", errno);
		return 0;
	}
	struct pmem2_source *src;
	int rc = pmem2_source_from_fd(&src, fd);
	printf("from_fd %d\n", rc);
	if (rc != 0) {
		printf("done\n");
		return 0;
	}
	size_t size = 0;
	rc = pmem2_source_size(src, &size);
	printf("size %d %zu\n", rc, size);

	struct pmem2_config *cfg;
	if (pmem2_config_new(&cfg) != 0 ||
			pmem2_config_set_required_store_granularity(cfg, gran) != 0) {
		fprintf(stderr, "mapdax: config: %s\n", pmem2_errormsg());
		return 1;
	}
	struct pmem2_map *map = NULL;
	rc = pmem2_map_new(&map, cfg, src);
	printf("map_new %d\n", rc);
	if (rc == 0) {
		printf("granularity %s\n",
			granularity_name(pmem2_map_get_store_granularity(map)));
		char *addr = pmem2_map_get_address(map);
		pmem2_memcpy_fn memcpy_fn = pmem2_get_memcpy_fn(map);
		memcpy_fn(addr, pattern, sizeof(pattern), 0);
		printf("readback %s\n",
			memcmp(addr, pattern, sizeof(pattern)) == 0 ? "same" : "different");
		pmem2_map_delete(&map);

		rc = pmem2_source_pwrite_mcsafe(src, (void *)pattern, sizeof(pattern), 0);
		printf("pwrite_mcsafe %d\n", rc);
		char buf[sizeof(pattern)];
		memset(buf, 0x55, sizeof(buf));
		rc = pmem2_source_pread_mcsafe(src, buf, sizeof(buf), 0);
		printf("pread_mcsafe %d %s\n", rc, classify(buf, sizeof(buf)));
	} else {
		fprintf(stderr, "mapdax: pmem2_map_new: %s\n", pmem2_errormsg());
	}
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
	close(fd);
	printf("done\n");
	return 0;
}
