# upcased — build, run, test, bench, install.
#
#   make            bin/upcased and bin/upcase
#   make run        build and run the daemon in the foreground on 127.0.0.1:1060
#   make test       install what the tests need if missing, build, run them
#   make bench      build and run the benchmark suite
#   make coverage   run the suite on a gcov build; line and branch coverage
#                   per file of daemon/ and common/ (installs gcovr if missing)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (installs clang)
#   make soak       everything at once for DURATION (default 3m; SAN=1 too)
#   make scale      CONNS (70000) connections at once, reloaded beside them
#   make matrix     upcase probe through the relays Debian ships: docs/matrix.md
#   make install    PREFIX=/usr/local DESTDIR= (BINDIR=$(PREFIX)/bin for
#                   upcase, SBINDIR=$(PREFIX)/sbin for upcased,
#                   SYSCONFDIR=$(PREFIX)/etc, MANDIR=$(PREFIX)/share/man)
#   make deb        the Debian package, under build/deb/, then lintian,
#                   blhc and hardening-check (installs debhelper,
#                   devscripts, lintian and blhc if missing)
#   make V=1        show the commands

VERSION  := 0.2.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
SYSCONFDIR ?= $(PREFIX)/etc
UNITDIR  ?= $(PREFIX)/lib/systemd/system
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=

# CFLAGS, CPPFLAGS and LDFLAGS are the builder's (dpkg-buildflags sets
# them), from the environment or the command line; what the build itself
# needs is in BUILD_*, which come after them and so win.
CC       ?= cc
CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BUILD_CPPFLAGS := -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
            -DCONFIG_PATH='"$(SYSCONFDIR)/upcased.conf"' -Icommon
BUILD_CFLAGS :=
BUILD_LDFLAGS :=
ALL_CPPFLAGS = $(BUILD_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS) $(BUILD_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(BUILD_LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# SAN=1: a separate ASan+UBSan build of everything under build/san; the
# tests then run against build/san/bin/upcased.
ifeq ($(SAN),1)
BUILD    := build/san
BIN      := build/san/bin
BUILD_CFLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
BUILD_LDFLAGS := -fsanitize=address,undefined
export UPCASED := $(BIN)/upcased
export UPCASE := $(BIN)/upcase
# Criterion's runner leaks a little at exit; the binaries under test may not.
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
else ifeq ($(COV),1)
# COV=1: a gcov build under build/cov for make coverage.
BUILD    := build/cov
BIN      := build/cov/bin
BUILD_CFLAGS := -O0 -g --coverage
BUILD_LDFLAGS := --coverage
export UPCASED := $(BIN)/upcased
export UPCASE := $(BIN)/upcase
else
BUILD    := build
BIN      := bin
endif

COMMON_SRC := common/addr.c common/backlog.c common/parse.c common/proxy.c \
              common/scenario.c \
              common/upper.c
DAEMON_SRC := daemon/access.c daemon/acl.c daemon/admit.c daemon/config.c \
              daemon/config_file.c daemon/config_types.c daemon/conn.c daemon/conns.c \
              daemon/control.c daemon/detach.c \
              daemon/http.c daemon/listen_spec.c daemon/listener_socket.c daemon/listener.c daemon/log.c daemon/loop.c \
              daemon/metrics.c daemon/notify.c daemon/preamble.c \
              daemon/counters.c daemon/inherit.c daemon/master.c daemon/supervise.c \
              daemon/pidfile.c daemon/privs.c daemon/probe.c daemon/probe_log.c \
              daemon/record.c daemon/request.c daemon/cycle.c daemon/sandbox.c \
              daemon/sink.c daemon/worker.c \
              daemon/signals.c daemon/timeout.c daemon/upgrade.c
CLIENT_SRC := client/args.c client/bench.c client/bench_conn.c client/main.c client/net.c \
              client/probe.c client/probe_args.c client/probe_cases.c client/probe_judge.c client/probe_judge_ends.c client/probe_report.c \
              client/probe_runs.c client/probe_search.c client/probe_server.c client/via.c \
              client/progress.c client/report.c \
              client/stream.c client/trial.c client/usage.c

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(BUILD)/%.o)

.PHONY: all run test check bench bench-deps coverage fuzz fuzz-deps soak scale matrix \
        install clean deps deb deb-deps
all: $(BIN)/upcased $(BIN)/upcase

$(BIN)/upcased: $(BUILD)/daemon/main.o $(DAEMON_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BIN)/upcase: $(CLIENT_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/daemon/%.o: BUILD_CPPFLAGS += -Idaemon
$(BUILD)/client/%.o: BUILD_CPPFLAGS += -Iclient
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The commit the binaries are built from, for -V: rewritten only when it
# changes, so that only the two main.o depend on it. Empty outside git.
$(BUILD)/commit.h: FORCE
	@mkdir -p $(@D)
	@c=; if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; \
	then c=$$(git rev-parse --short=12 HEAD); \
	  git diff --quiet HEAD -- || c="$$c-dirty"; fi; \
	printf '#define COMMIT "%s"\n' "$$c" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/daemon/main.o $(BUILD)/client/main.o: $(BUILD)/commit.h
$(BUILD)/daemon/main.o $(BUILD)/client/main.o: BUILD_CPPFLAGS += -I$(BUILD)
FORCE:

run: bin/upcased bin/upcase
	./bin/upcased -f -c conf/upcased.conf

# The configuration is installed only where none exists: never over an
# operator's edits.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/upcase.1 $(DESTDIR)$(MANDIR)/man1/upcase.1
	install -m 644 man/upcased.conf.5 $(DESTDIR)$(MANDIR)/man5/upcased.conf.5
	install -m 644 man/upcased.8 $(DESTDIR)$(MANDIR)/man8/upcased.8
	install -m 755 $(BIN)/upcased $(DESTDIR)$(SBINDIR)/upcased
	install -m 755 $(BIN)/upcase $(DESTDIR)$(BINDIR)/upcase
	[ -e $(DESTDIR)$(SYSCONFDIR)/upcased.conf ] || \
	    install -m 644 conf/upcased.conf $(DESTDIR)$(SYSCONFDIR)/upcased.conf
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    conf/upcased.service > $(DESTDIR)$(UNITDIR)/upcased.service
	chmod 644 $(DESTDIR)$(UNITDIR)/upcased.service
	install -m 644 conf/upcased.socket $(DESTDIR)$(UNITDIR)/upcased.socket

# ---- the Debian package ------------------------------------------------------

# dpkg-buildpackage writes its results beside the source tree, so the tree
# is copied to build/deb/upcased-VERSION first: the .deb, .changes and
# .buildinfo land in build/deb/. The version is debian/changelog's.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
DEB_ARCH    = $(shell dpkg --print-architecture)
DEB_SRC     := build/deb/upcased-$(VERSION)

deb-deps:
	@missing=; \
	command -v dh >/dev/null || missing="$$missing debhelper"; \
	command -v dpkg-buildpackage >/dev/null || missing="$$missing dpkg-dev"; \
	command -v hardening-check >/dev/null || missing="$$missing devscripts"; \
	command -v lintian >/dev/null || missing="$$missing lintian"; \
	command -v blhc >/dev/null || missing="$$missing blhc"; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "Missing:$$missing; run: sudo apt-get install$$missing"; \
	  exit 1; \
	fi; \
	echo "  APT    $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -q $$missing >/dev/null 2>&1 || \
	{ apt-get update -q >/dev/null && \
	  apt-get install -y -q $$missing >/dev/null; }

deb: deb-deps
	@rm -rf $(DEB_SRC) && mkdir -p $(DEB_SRC)
	@tar -c --exclude=./build --exclude=./bin --exclude=./.git . | \
	    tar -x -C $(DEB_SRC)
	@echo "  DEB     build/deb/upcased_$(DEB_VERSION)_$(DEB_ARCH).deb"
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
	    { tail -40 ../build.log; exit 1; }
	lintian --fail-on error,warning --info \
	    build/deb/upcased_$(DEB_VERSION)_$(DEB_ARCH).changes
	@# The build log holds every compiler command (V=1): each must carry
	@# dpkg-buildflags' hardening flags.
	blhc build/deb/build.log
	@# Control flow integrity is left out: bookworm's glibc start files
	@# (Scrt1.o, crti.o) carry no IBT/SHSTK note, so no binary linked
	@# here has one, /bin/ls included.
	@rm -rf build/deb/root && \
	    dpkg-deb -x build/deb/upcased_$(DEB_VERSION)_$(DEB_ARCH).deb \
	    build/deb/root
	hardening-check --nocfprotection build/deb/root/usr/sbin/upcased \
	    build/deb/root/usr/bin/upcase

clean:
	rm -rf build bin

# (Not the package's build tree under build/deb, with its logrotate.d.)
-include $(shell find $(BUILD) -path build/deb -prune -o -name '*.d' -type f \
    -print 2>/dev/null)

# ---- benchmarks ------------------------------------------------------------

BENCH_PROGS := $(BUILD)/bench/bench $(BUILD)/bench/blocking_echo \
               $(BUILD)/bench/epoll_echo $(BUILD)/bench/uring_echo
# Keep the objects, which the pattern rule below makes intermediate.
.SECONDARY: $(BENCH_PROGS:$(BUILD)/bench/%=$(BUILD)/tests/bench/%.o)

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(BUILD)/common/upper.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_$(*F))

$(BUILD)/bench/bench: $(BUILD)/tests/proc.o $(BUILD)/tests/bench/rows.o \
    $(BUILD)/tests/bench/stall.o
# The io_uring baseline alone links liburing; the binaries link libc only.
LDLIBS_uring_echo := -luring

# liburing's headers for the io_uring baseline, installed when missing.
bench-deps:
	@echo '#include <liburing.h>' | $(CC) -E -x c - >/dev/null 2>&1 || { \
	  echo "  APT     liburing-dev"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q liburing-dev >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && \
	    apt-get install -y -q liburing-dev >/dev/null; }; }

# Measurements, not tests: nothing in make test depends on speed.
bench: bench-deps all
	@$(MAKE) --no-print-directory $(BENCH_PROGS)
	./$(BUILD)/bench/bench

# ---- tests -----------------------------------------------------------------

TEST_SRC := $(wildcard tests/test_*.c) tests/harness.c tests/peers.c tests/relay.c \
            tests/proc.c tests/process.c tests/scrape.c tests/sock.c
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
TEST_JOBS ?= 2

$(BUILD)/tests/%.o: BUILD_CPPFLAGS += -Idaemon -Itests

# What the tests need beyond the compiler, installed when missing (as
# root), or named: Criterion; the real proxies some tests start (HAProxy,
# nginx with its stream module, socat, microsocks for SOCKS5, tinyproxy
# for HTTP CONNECT); the official Prometheus parser;
# JUnit's reader (python3-junitparser), for upcase probe --junit;
# mandoc, which checks the manual pages; systemd's launcher and analyzer;
# the peers the daemon's own outputs meet: Prometheus (and its promtool),
# rsyslog, logrotate.
deps:
	@missing=; \
	echo '#include <criterion/criterion.h>' | $(CC) -E -x c - \
	    >/dev/null 2>&1 || missing="$$missing libcriterion-dev"; \
	[ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || \
	    missing="$$missing libnginx-mod-stream"; \
	/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || \
	    missing="$$missing python3-prometheus-client"; \
	/usr/bin/python3 -c 'import junitparser' 2>/dev/null || \
	    missing="$$missing python3-junitparser"; \
	command -v mandoc >/dev/null || missing="$$missing mandoc"; \
	[ -x /usr/bin/socat ] || missing="$$missing socat"; \
	[ -x /usr/bin/microsocks ] || missing="$$missing microsocks"; \
	command -v tinyproxy >/dev/null || missing="$$missing tinyproxy"; \
	{ [ -x /usr/bin/systemd-socket-activate ] && \
	  [ -x /usr/bin/systemd-analyze ]; } || missing="$$missing systemd"; \
	[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || \
	    missing="$$missing prometheus"; \
	[ -x /usr/sbin/rsyslogd ] || missing="$$missing rsyslog"; \
	[ -x /usr/sbin/logrotate ] || missing="$$missing logrotate"; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "Missing:$$missing; run: sudo apt-get install$$missing"; \
	  exit 1; \
	fi; \
	echo "  APT    $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -q $$missing >/dev/null 2>&1 || \
	{ apt-get update -q >/dev/null && \
	  apt-get install -y -q $$missing >/dev/null; }

$(BUILD)/tests/run: $(TEST_OBJ) $(DAEMON_OBJ) $(COMMON_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcriterion

# The randomized socket tester: run by tests/test_random.c and make soak.
$(BUILD)/tests/randtest: $(BUILD)/tests/randtest.o
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Preloaded into a daemon under test to make accept4 fail on demand; built
# without sanitizers or coverage, whatever the daemon is built with.
$(BUILD)/tests/libfault.so: tests/fault.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARNINGS) -O2 -fPIC -shared -o $@ $< -ldl

# Every test twice: against the ASan+UBSan build (memory errors, undefined
# behaviour, and leaks at the daemon's exit all fail a test), then against
# the real binaries, whose summary line ends the output.
test: deps
	@$(MAKE) --no-print-directory SAN=1 check
	@$(MAKE) --no-print-directory check

check: all $(BUILD)/tests/run $(BUILD)/tests/libfault.so $(BUILD)/tests/randtest
	RANDTEST=$(CURDIR)/$(BUILD)/tests/randtest \
	FAULT_LIB=$(CURDIR)/$(BUILD)/tests/libfault.so \
	    ./$(BUILD)/tests/run --jobs=$(TEST_JOBS)

# ---- soak --------------------------------------------------------------------

# make soak DURATION=10m [SAN=1]: every kind of client at once against one
# daemon, with reloads and log reopens; one summary at the end.
DURATION ?= 3m
soak: all $(BUILD)/tests/randtest
	@sh tests/soak.sh $(BIN) $(BUILD)/tests/randtest $(DURATION)

# CONNS connections open at once, a reload beside them, each then checked
# with a half-close round trip; the workers, clients and sources it takes
# are chosen by tests/scale.sh, which refuses what the machine cannot hold.
CONNS ?= 70000
scale: all
	@BIN=$(BIN) CONNS=$(CONNS) bash tests/scale.sh

# upcase probe through the relays Debian ships, set up on loopback (and
# installed when missing): docs/matrix.md, docs/matrix.json and the
# README's table (tests/matrix.sh).
matrix: all
	@BIN=$(BIN) bash tests/matrix.sh

# ---- coverage --------------------------------------------------------------

# Counts from earlier runs are dropped first, so the table is this run's.
coverage: deps
	@command -v gcovr >/dev/null 2>&1 || { \
	  echo "  APT     gcovr"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q gcovr >/dev/null || \
	  { apt-get update -q >/dev/null && \
	    apt-get install -y -q gcovr >/dev/null; }; }
	@find build/cov -name '*.gcda' -delete 2>/dev/null || true
	@$(MAKE) --no-print-directory COV=1 all build/cov/tests/run
	@# A daemon that drops root to nobody must still write its counts.
	@chmod -R a+rwX build/cov
	@umask 0 && $(MAKE) --no-print-directory COV=1 check
	@echo "lines:"
	@gcovr --root . --object-directory build/cov --filter 'daemon/' \
	    --filter 'common/' | sed -n '/^File/,$$p'
	@echo "branches:"
	@gcovr --root . --object-directory build/cov --filter 'daemon/' \
	    --filter 'common/' --branches | sed -n '/^File/,$$p'

# ---- fuzzing ---------------------------------------------------------------

# make fuzz FUZZ_SECONDS=N: each libFuzzer target under ASan+UBSan for N
# seconds, from the seeds in tests/fuzz/corpus/ (what it finds to keep
# goes to build/fuzz/corpus/). A crash stops it and leaves the input in
# build/fuzz/. Installs clang and libFuzzer when missing.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := proxy scenario config addr parse request
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -D_GNU_SOURCE \
                -DVERSION='"$(VERSION)"' -Icommon -Idaemon -Itests/fuzz

build/fuzz/fuzz_proxy: common/proxy.c common/addr.c
build/fuzz/fuzz_scenario: common/scenario.c common/parse.c
build/fuzz/fuzz_addr: common/addr.c
build/fuzz/fuzz_parse: common/parse.c
build/fuzz/fuzz_request: daemon/request.c
build/fuzz/fuzz_config: $(DAEMON_SRC) $(COMMON_SRC)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/nonet.c tests/fuzz/fuzz.h
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

fuzz-deps:
	@echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
	    > /tmp/upcased-fuzz-probe.c; \
	if ! clang -fsanitize=fuzzer -o /tmp/upcased-fuzz-probe \
	    /tmp/upcased-fuzz-probe.c >/dev/null 2>&1; then \
	  echo "  APT     clang libfuzzer-14-dev"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q clang libfuzzer-14-dev >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && \
	    apt-get install -y -q clang libfuzzer-14-dev >/dev/null; }; \
	fi; rm -f /tmp/upcased-fuzz-probe /tmp/upcased-fuzz-probe.c

fuzz: fuzz-deps $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  ./build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	      -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- \
	      build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	      > build/fuzz/$$t.log 2>&1 || \
	      { tail -40 build/fuzz/$$t.log; exit 1; }; \
	  printf '%-8s %12s executions in %4s s, corpus %s inputs\n' $$t \
	      "$$(sed -n 's/^stat::number_of_executed_units: *//p' \
	          build/fuzz/$$t.log)" \
	      "$$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
	          build/fuzz/$$t.log)" \
	      "$$(ls build/fuzz/corpus/$$t | wc -l)"; \
	done
