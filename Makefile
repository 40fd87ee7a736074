# jobsd - a self-hosted job orchestrator that speaks the Databricks Jobs API.
#
#   make            build build/jobsd and build/jobctl
#   make run        install what is missing, build, start jobsd on 127.0.0.1:8080
#   make test       install what is missing, build, run every test (unit + integration)
#   make bench      benchmarks (bench/README.md); never part of `make test`
#   make fuzz       libFuzzer targets, longer runs than the smoke run in `make test`
#   make asan       sanitizer build (ASan + UBSan) in build/asan
#   make format     clang-format the C sources
#
# Every build variant lives in its own directory (BUILD=...), so the release and
# sanitizer builds never mix objects.

BUILD    ?= build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
CC       ?= cc
OPT      ?= -O2
SANITIZE ?=
PYTHON   ?= /usr/bin/python3

WARN   = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla \
         -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) -Isrc -MMD -MP \
             $(shell pkg-config --cflags libmicrohttpd jansson sqlite3 libcrypto 2>/dev/null) \
             $(CFLAGS)
LDLIBS_SRV = $(shell pkg-config --libs libmicrohttpd jansson sqlite3 libcrypto 2>/dev/null) -lpthread
LDLIBS_CLI = $(shell pkg-config --libs libcurl jansson libcrypto 2>/dev/null)
LDLIBS_TEST = -lcmocka

ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif

# Everything in src/ except the two programs' mains is the server library that
# tests link against. The supervisor is its own small binary (libc only), so it
# execs about as fast as /bin/true: one runs per task attempt.
LIB_SRC  := $(sort $(filter-out src/main.c src/exec/supervisor.c,$(shell find src -name '*.c')))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC  := $(sort $(wildcard cli/*.c))
# jobctl shares the server's small utilities rather than copying them.
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/src/util/base64.o
UNIT_SRC := $(sort $(shell find tests/unit -name '*_test.c' 2>/dev/null))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test unit unit-bins deps test-deps asan bench fuzz fuzz-smoke format clean

all: $(BUILD)/jobsd $(BUILD)/jobctl $(BUILD)/jobsd-supervisor

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libjobsd.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/jobsd: $(BUILD)/obj/src/main.o $(BUILD)/libjobsd.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_SRV)

# Static (outside sanitizer builds): no dynamic loader work on each of its
# execs, which sit between run-now and the task's start.
SUPERVISOR_LDFLAGS = $(if $(SANITIZE),,-static)

$(BUILD)/jobsd-supervisor: $(BUILD)/obj/src/exec/supervisor.o
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $(SUPERVISOR_LDFLAGS) -o $@ $^

$(BUILD)/jobctl: $(CLI_OBJ)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_CLI)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libjobsd.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libjobsd.a \
	    $(LDLIBS_TEST) $(LDLIBS_SRV)

# --- Quartz differential test: the jobsd side (tests/quartz/run.sh runs it) ---
$(BUILD)/tests/cron_diff: tests/quartz/cron_diff.c $(BUILD)/libjobsd.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(BUILD)/libjobsd.a $(LDLIBS_SRV)
# --- end Quartz differential test ---

# --- the two commands -------------------------------------------------------

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/jobsd serve --data-dir ./jobsd-data --listen 127.0.0.1:8080

# `make test` installs, builds the release and the sanitizer variants, then runs
# the unit tests and the integration tests against the sanitizer build of jobsd,
# so memory errors anywhere on a request path fail CI.
test: test-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 OPT=-O1 all unit-bins
	@scripts/run-tests.sh

test-deps:
	@scripts/install-deps.sh --test

unit-bins: $(UNIT_BIN) $(BUILD)/tests/cron_diff

unit: unit-bins
	@scripts/run-tests.sh --unit-only BUILD=$(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 OPT=-O1 all unit-bins

# --- benchmarks and fuzzing --------------------------------------------------

bench:
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all
	@bench/run.sh

fuzz:
	@scripts/install-deps.sh --test
	@fuzz/run.sh --seconds 300

fuzz-smoke:
	@fuzz/run.sh --seconds 10

format:
	clang-format -i $$(find src cli tests/unit fuzz -name '*.[ch]')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
