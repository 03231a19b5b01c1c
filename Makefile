# pmem2emu — see README.md. The two commands a newcomer needs: `make check` and `make test`.
SHELL    := /bin/bash
# A pipeline fails when any command in it fails (go test | tee), and so does the recipe.
.SHELLFLAGS := -eu -o pipefail -c
GO       ?= go
BIN      := bin/pmem2emu
PKGS     := ./pmem2/... ./fusefs/... ./emulate/... ./cmd/... ./internal/...
FUZZTIME ?= 10s
# Debian packages the tests need (scripts/deps.sh installs the missing ones).
APT_PKGS := gcc libpmem2-dev daxctl ndctl fuse3

# Go comes from PATH (or GO=/path/to/go); every target but deps and clean needs it.
ifneq ($(filter-out deps clean,$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell command -v $(GO)),)
$(error $(GO) not found on PATH: install Go 1.26 (https://go.dev/dl) and put its bin directory on PATH, e.g. export PATH=$$PATH:/usr/local/go/bin, or run make GO=/path/to/go)
endif
endif

.PHONY: all build check test deps unit integration conformance reliability stress stress-short unprivileged bench fuzz lint clean

# Who runs make decides what `make test` runs: root runs every suite; any other user runs every
# suite that does not need root, and the tests inside them that do skip, each listed in
# root-only.log (testutil.RootOnly), so that nothing is skipped silently.
ROOT_ONLY_LOG := $(CURDIR)/root-only.log
ifeq ($(shell id -u),0)
TEST_SUITES := deps lint unit integration conformance reliability stress-short unprivileged
else
TEST_SUITES := deps lint unit integration conformance
export PMEM2EMU_ROOT_ONLY_LOG := $(ROOT_ONLY_LOG)
endif
# The suites a user other than root does not run, and why; printed by `make test` as its last line.
ROOT_ONLY_SUITES := reliability (crash/ and security/ run in mount namespaces of their own, mount tmpfs, \
	mount without nodev and switch users), stress-short (its Device DAX is mounted without nodev, which only \
	root may do), unprivileged (it plays a normal user from root, which you are)

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pmem2emu

# The main job on the built-in default fixture.
check: build
	./$(BIN) check

# Everything: dependencies, static checks, unit, end-to-end, conformance against the C libpmem2,
# crash and security tests, short stress, and the runs as a normal user (as root; see TEST_SUITES).
test: $(TEST_SUITES)
ifneq ($(shell id -u),0)
	@n=$$(cat $(ROOT_ONLY_LOG) 2>/dev/null | wc -l); \
	echo "make test ran as uid $$(id -u), not root: root-only suites not run: $(strip $(ROOT_ONLY_SUITES)); $$n root-only tests skipped, listed in root-only.log"
endif

deps:
	@rm -f $(ROOT_ONLY_LOG)
	@./scripts/deps.sh $(APT_PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

integration: build
	$(GO) test -race -count=1 ./integration/

# The differential suite against the C library; as root it runs twice, as root and as uid 65534,
# and ends with both summary lines.
conformance: deps
	$(GO) test -count=1 -v -run 'TestConformance' ./integration/conformance/ 2>&1 | tee conformance.log | grep -v '^=== RUN'

# Kills, interrupts, panics and a full disk (crash/), device mode, mount options, mount points,
# hostile sysfs and descriptors (security/). Root only.
reliability: build
	$(GO) test -race -count=1 ./integration/crash/ ./integration/security/

# 64 goroutines against one fixture while faults and sysfs contents flip; prints calls/s and the
# error budget (0 unexpected results).
stress:
	$(GO) test -race -count=1 -v -run 'TestStress' -timeout 30m ./integration/stress/ -stress.duration=60s 2>&1 | grep -v '^=== RUN'

stress-short:
	$(GO) test -race -count=1 -v -run 'TestStress|TestUnmountGivesBackEveryDescriptor' ./integration/stress/ -stress.duration=5s 2>&1 | grep -v '^=== RUN'

# check, a Go fixture test and exec mapping a Device DAX as uid 65534, with /dev/fuse 0666 and 0600.
# Root only: it switches users.
unprivileged: build
	$(GO) test -race -count=1 ./integration/unprivileged/

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count=5 ./pmem2/ ./fusefs/ ./emulate/... ./integration/bench/ | tee bench.txt

fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

lint:
	@out=$$("$$($(GO) env GOROOT)/bin/gofmt" -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	-@[ -x $(BIN) ] && ./$(BIN) umount --stale || true
	rm -rf bin bench.txt conformance.log root-only.log
