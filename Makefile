# ORION inference: two static C99 daemons that make a few Ollama nodes one endpoint.
#
#   make                 bin/orion-inference-{router,worker}, bin/ollama-sim, bin/orionctl (static, musl)
#   make cross           the same for aarch64 (bin/aarch64/) and armv7 (bin/armv7/)
#   make check           install what is missing, build, run every test; ends "N passed, N failed"
#   make sanitize        the same tests built with ASan + UBSan
#   make valgrind        the same tests (dynamic glibc build) with every program under memcheck
#   make fuzz CC=clang   run every libFuzzer target for FUZZ_SECONDS each
#   make bench           benchmarks -> table + build/bench.json
#   make routesim        the routing simulator, a quick run (5 seeds) -> build/routesim/
#   make demo            a local cluster on loopback
#   make install         PREFIX=/usr/local DESTDIR=
#   make deb             dist/*.deb: worker, router, orionctl for amd64, arm64, armhf (DEB_VERSION=)
#
# Knobs: CC, CROSS_COMPILE (sets CC, AR, STRIP), TRIPLE, SANITIZE=address,undefined, VALGRIND=1,
# WERROR=0.

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

ifdef CROSS_COMPILE
CC := $(CROSS_COMPILE)gcc
AR := $(CROSS_COMPILE)ar
STRIP := $(CROSS_COMPILE)strip
TRIPLE ?= $(shell $(CC) -dumpmachine)
endif
ifeq ($(origin CC),default)
CC := musl-gcc
endif
ifeq ($(origin AR),default)
AR := ar
endif
STRIP ?= strip

ifdef SANITIZE
ifeq ($(CC),musl-gcc)
CC := gcc
endif
TRIPLE ?= $(shell $(CC) -dumpmachine)
BUILD ?= build/$(TRIPLE)-san
BINDIR ?= $(BUILD)/bin
else ifdef VALGRIND
# valgrind's leak checker replaces malloc in libc.so: a static musl binary hides it.
ifeq ($(CC),musl-gcc)
CC := gcc
endif
TRIPLE ?= $(shell $(CC) -dumpmachine)
BUILD ?= build/$(TRIPLE)-vg
BINDIR ?= $(BUILD)/bin
else
TRIPLE ?= x86_64-linux-musl
BUILD ?= build/$(TRIPLE)
BINDIR ?= bin
endif

WERROR ?= 1
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
WARN := -std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wwrite-strings -Wshadow -Wpointer-arith -Wformat=2 -Wvla \
	-Wdeclaration-after-statement -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
DEFS := -D_POSIX_C_SOURCE=200809L -DORION_VERSION='"$(VERSION)"' -DORION_COMMIT='"$(COMMIT)"' \
	-DORION_TRIPLE='"$(TRIPLE)"'
INC := -Iinclude -Ivendor/cjson

ifdef SANITIZE
OPT := -O1 -g -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDOPT := -fsanitize=$(SANITIZE)
else ifdef VALGRIND
OPT := -O1 -g -fno-omit-frame-pointer
LDOPT :=
else
# No unwind tables in the release binaries: C99 with no exceptions and no backtraces uses none.
OPT := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
LDOPT := -static -Wl,--gc-sections -s
endif
CFLAGS_ALL = $(WARN) $(DEFS) $(INC) $(OPT) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = $(LDOPT) $(LDFLAGS)

# The library holds the lower layers only (docs/ARCHITECTURE.md): base, proto, route, orion.
# Each daemon is its folder's objects on top of it; the router links the HTTP front (src/front/).
LAYERS := base proto route orion
ifneq ($(wildcard src/*.c src/*.h),)
$(error $(wildcard src/*.c src/*.h): a source goes in its layer's folder, see docs/ARCHITECTURE.md)
endif
LIBSRC := $(wildcard $(LAYERS:%=src/%/*.c))
LIBOBJ := $(LIBSRC:%.c=$(BUILD)/%.o) $(BUILD)/vendor/cJSON.o $(BUILD)/gen/presets_default.o
LIB := $(BUILD)/liborion.a
WORKER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/worker/*.c))
# The router runs URL backends with the worker's node runner: src/worker/ without its main.
ROUTER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/router/*.c src/front/*.c)) \
	$(filter-out %/main_worker.o,$(WORKER_OBJ))

SIM_SRC := $(wildcard tools/ollama-sim/*.c)
CTL_SRC := $(wildcard tools/orionctl/*.c)
PROGS := $(BINDIR)/orion-inference-worker $(BINDIR)/orion-inference-router
ifneq ($(SIM_SRC),)
PROGS += $(BINDIR)/ollama-sim
endif
ifneq ($(CTL_SRC),)
PROGS += $(BINDIR)/orionctl
endif

# tools/routesim: the discrete-event simulator of the routing core (links liborion.a). Its
# own files are built at -O2: a full run simulates millions of requests.
RSIM_SRC := $(wildcard tools/routesim/*.c)
RSIM_OBJ := $(RSIM_SRC:%.c=$(BUILD)/%.o)
RSIM_LIBOBJ := $(filter-out $(BUILD)/tools/routesim/main.o,$(RSIM_OBJ))
ROUTESIM := $(BUILD)/tools/routesim/routesim
ifeq ($(filter -O1 -g%,$(OPT)),)
$(RSIM_OBJ): OPT := -O2
endif

TEST_SRC := $(wildcard test/unit/test_*.c)
TESTS := $(TEST_SRC:test/unit/%.c=$(BUILD)/test/%)
TOOL_SRC := $(wildcard test/tools/*.c)
TEST_TOOLS := $(TOOL_SRC:test/tools/%.c=$(BUILD)/test/tools/%)
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
REPLAYS := $(FUZZ_SRC:test/fuzz/fuzz_%.c=$(BUILD)/test/replay_%)

.PHONY: all build cross cross-aarch64 cross-armv7 check sanitize valgrind tests deps fuzz bench bench-live demo install \
	routesim install-systemd install-runit clean release deb
.DEFAULT_GOAL := all
.SECONDARY:

all: vendor/cjson/cJSON.c $(BUILD)/.version $(PROGS)

# The seeds' quick start says `make build`: the same as `make`.
build: all

vendor/cjson/cJSON.c vendor/cjson/cJSON.h:
	tools/fetch-cjson.sh

# The built-in presets (src/orion/svcconf.c): contrib/presets/presets.json compiled in.
$(BUILD)/gen/presets_default.c: contrib/presets/presets.json tools/embed.sh
	@mkdir -p $(@D)
	tools/embed.sh svc_presets_default_lines <$< >$@

$(BUILD)/gen/presets_default.o: $(BUILD)/gen/presets_default.c
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/vendor/cJSON.o: vendor/cjson/cJSON.c
	@mkdir -p $(@D)
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(OPT) -w -c -o $@ $<

# The version is compiled in (-DORION_VERSION): rebuild when it changes.
$(BUILD)/.version: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION) $(COMMIT) $(TRIPLE)' | cmp -s - $@ || echo '$(VERSION) $(COMMIT) $(TRIPLE)' >$@
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c $(BUILD)/.version | vendor/cjson/cJSON.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<
	@$(if $(Q),echo "  CC    $<")

$(LIB): $(LIBOBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BINDIR)/orion-inference-worker: $(WORKER_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BINDIR)/orion-inference-router: $(ROUTER_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BINDIR)/ollama-sim: $(SIM_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BINDIR)/orionctl: $(CTL_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

# ollama-sim's pure cores (tokens, prompt cache, schema output, Go formats, requests), tested
# by test/unit/test_sim_*.c; make picks this rule over the next one (the shorter stem)
SIM_CORE := $(patsubst %,$(BUILD)/tools/ollama-sim/%.o,tok cache schema render native prompt models)
$(BUILD)/test/unit/test_sim_%.o: CFLAGS += -Itools/ollama-sim
$(BUILD)/test/test_sim_%: $(BUILD)/test/unit/test_sim_%.o $(SIM_CORE) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BUILD)/test/test_%: $(BUILD)/test/unit/test_%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BUILD)/test/unit/test_routesim.o: CFLAGS += -Itools/routesim
$(BUILD)/test/test_routesim: $(BUILD)/test/unit/test_routesim.o $(RSIM_LIBOBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(ROUTESIM): $(RSIM_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

# Unit tests of the daemons' own code link their objects without main: test_router_*.c the
# router and its front, test_worker_*.c the worker, test_start.c both.
ROUTER_TESTOBJ := $(filter-out %/main_router.o,$(ROUTER_OBJ))
WORKER_TESTOBJ := $(filter-out %/main_worker.o,$(WORKER_OBJ))
$(BUILD)/test/test_router_%: $(BUILD)/test/unit/test_router_%.o $(ROUTER_TESTOBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BUILD)/test/test_worker_%: $(BUILD)/test/unit/test_worker_%.o $(WORKER_TESTOBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BUILD)/test/test_start: $(BUILD)/test/unit/test_start.o $(ROUTER_TESTOBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

# replay: every fuzz target built as a plain program over its committed corpus
$(BUILD)/test/replay_%: $(BUILD)/test/fuzz/fuzz_%.o $(BUILD)/test/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BUILD)/test/tools/%: $(BUILD)/test/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

tests: all $(TESTS) $(REPLAYS) $(TEST_TOOLS) $(ROUTESIM)

deps:
	@tools/install-deps.sh check

# The README's test command. Installs what is missing, builds everything (native and cross),
# runs unit, replay, integration and emulation tests, ends with "N passed, N failed".
check: deps
	$(MAKE) tests
	$(MAKE) cross
	@BUILD=$(BUILD) BINDIR=$(BINDIR) test/run.sh

sanitize: deps
	$(MAKE) SANITIZE=address,undefined tests
	@BUILD=$$($(MAKE) -s SANITIZE=address,undefined print-build) \
	 BINDIR=$$($(MAKE) -s SANITIZE=address,undefined print-bindir) ORION_SANITIZE=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 test/run.sh

# Every unit test, replay and integration daemon under valgrind memcheck; the logs' errors and
# leaks are counted by test/valgrind-summary.sh as TAP tests of their own (see test/run.sh).
valgrind: deps
	@tools/install-deps.sh valgrind
	$(MAKE) VALGRIND=1 tests
	@BUILD=$$($(MAKE) -s VALGRIND=1 print-build) BINDIR=$$($(MAKE) -s VALGRIND=1 print-bindir) \
	 test/valgrind.sh

print-build:
	@echo $(BUILD)
print-bindir:
	@echo $(BINDIR)

# Cross builds: Debian's gcc cross compilers with the musl specs files, or any musl cross
# toolchain through CROSS_COMPILE (e.g. make cross-aarch64 AARCH64_CC=aarch64-linux-musl-gcc).
AARCH64_CC ?= aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs
ARMV7_CC ?= arm-linux-gnueabihf-gcc -specs /usr/lib/arm-linux-musleabihf/musl-gcc.specs
AARCH64_STRIP ?= aarch64-linux-gnu-strip
ARMV7_STRIP ?= arm-linux-gnueabihf-strip

cross: cross-aarch64 cross-armv7

# aarch64: segments aligned to 16 KiB, not the linker's 64 KiB default: still right for the
# Pi 5's 16 KiB-page kernel and the 4 KiB-page ones, and 30 KiB less padding per binary.
cross-aarch64: vendor/cjson/cJSON.c
	$(MAKE) CC="$(AARCH64_CC)" AR=aarch64-linux-gnu-ar STRIP=$(AARCH64_STRIP) \
		TRIPLE=aarch64-linux-musl BUILD=build/aarch64-linux-musl BINDIR=bin/aarch64 \
		LDFLAGS="-Wl,-z,max-page-size=16384 $(LDFLAGS)" all

cross-armv7: vendor/cjson/cJSON.c
	$(MAKE) CC="$(ARMV7_CC)" AR=arm-linux-gnueabihf-ar STRIP=$(ARMV7_STRIP) \
		TRIPLE=armv7-linux-musleabihf BUILD=build/armv7-linux-musleabihf BINDIR=bin/armv7 all

FUZZ_SECONDS ?= 60
fuzz:
	@CC=$(CC) FUZZ_SECONDS=$(FUZZ_SECONDS) test/fuzz/run.sh

bench: deps
	@tools/install-deps.sh bench
	$(MAKE) all $(TEST_TOOLS) $(ROUTESIM)
	@tools/bench/run.sh

# The live cluster over 3 seeds x 300 requests, pooled (tools/cluster-sim/live.sh; CI does not
# run it: about 17-23 minutes a scenario at 1:20 on a 2-core machine).
bench-live: deps
	@tools/install-deps.sh bench
	$(MAKE) all $(TEST_TOOLS)
	@sh tools/cluster-sim/live.sh

# A quick look (5 seeds); the full run is part of make bench (tools/bench/bench_routesim.sh).
ROUTESIM_ARGS ?= --seeds 5
routesim: vendor/cjson/cJSON.c $(ROUTESIM)
	@mkdir -p build/routesim
	$(ROUTESIM) $(ROUTESIM_ARGS) --out build/routesim/results.md

# Like check, demo installs what is missing first (a fresh machine has no musl-gcc or
# redis-server); it also needs freeport, a test tool.
demo: deps
	$(MAKE) all $(TEST_TOOLS)
	@tools/demo.sh

PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DOCDIR ?= $(PREFIX)/share/doc/orion-inference
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DOCDIR)/contrib
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	cp -R contrib/. $(DESTDIR)$(DOCDIR)/contrib/

# Units and example settings in the usual places (the settings files are never overwritten).
install-systemd:
	install -d $(DESTDIR)$(SYSCONFDIR)/systemd/system/orion-inference-worker.service.d \
		$(DESTDIR)$(SYSCONFDIR)/default
	sed 's|/usr/local/bin|$(PREFIX)/bin|' contrib/systemd/orion-inference-worker.service \
		>$(DESTDIR)$(SYSCONFDIR)/systemd/system/orion-inference-worker.service
	sed 's|/usr/local/bin|$(PREFIX)/bin|' contrib/systemd/orion-inference-router.service \
		>$(DESTDIR)$(SYSCONFDIR)/systemd/system/orion-inference-router.service
	install -m 644 contrib/systemd/orion-inference-worker.service.d/order.conf \
		$(DESTDIR)$(SYSCONFDIR)/systemd/system/orion-inference-worker.service.d/
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/orion-inference-worker ] || install -m 600 \
		contrib/env/worker.env $(DESTDIR)$(SYSCONFDIR)/default/orion-inference-worker
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/orion-inference-router ] || install -m 600 \
		contrib/env/router.env $(DESTDIR)$(SYSCONFDIR)/default/orion-inference-router

install-runit:
	install -d $(DESTDIR)$(SYSCONFDIR)/sv $(DESTDIR)$(SYSCONFDIR)/orion
	cp -R contrib/runit/orion-inference-worker contrib/runit/orion-inference-router \
		$(DESTDIR)$(SYSCONFDIR)/sv/
	[ -e $(DESTDIR)$(SYSCONFDIR)/orion/worker.env ] || install -m 600 contrib/env/worker.env \
		$(DESTDIR)$(SYSCONFDIR)/orion/worker.env
	[ -e $(DESTDIR)$(SYSCONFDIR)/orion/router.env ] || install -m 600 contrib/env/router.env \
		$(DESTDIR)$(SYSCONFDIR)/orion/router.env

# One tarball per target with the stripped static binaries, contrib/, README and docs, and
# SHA256SUMS over the tarballs.
release: all cross
	@tools/release.sh $(VERSION)

# Debian packages of the static binaries, built with dpkg-deb (tools/deb.sh says what is in
# them). The version comes from git describe; DEB_VERSION=1.2.3-1 sets it.
deb: all cross
	@tools/deb.sh $(if $(DEB_VERSION),--version $(DEB_VERSION))

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name "*.d" 2>/dev/null)
