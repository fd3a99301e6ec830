# Thin wrapper over CMake: `make demo` and `make test` work on a fresh
# Debian 12 machine (they install missing packages first).
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory
# Data sets: a user's FACTO_DATA_HOME wins; in this repo ../shared/data when it exists.
ifeq ($(origin FACTO_DATA_HOME),undefined)
  ifneq ($(wildcard ../shared/data),)
    export FACTO_DATA_HOME := $(abspath ../shared/data)
  endif
endif

PREFIX ?= /usr/local

.PHONY: all deps build demo test asan-test tsan-test fuzz install bench clean

all: build

deps:
	@scripts/setup-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)/facto

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The tests under AddressSanitizer + UBSan (CI runs this too): unit, data
# and CLI (the CLI scripts run build-asan/facto, the command built with the
# sanitizers), but lint and the slow accuracy runs (label slow: minutes
# under ASan; the release build runs them, and the quick and data tests
# cover the same code on smaller inputs).
# Built with clang (gcc builds the main tree), so CI compiles with both.
# exitcode=86: a sanitizer report never passes for an exit a CLI test
# expects (1, 2). intercept_tls_get_addr=0: LLVM 14's __tls_get_addr
# interceptor takes some malloc'd dynamic-TLS blocks of glibc >= 2.25 for a
# glibc 2.19 header and records a bogus range, which LeakSanitizer's tracer
# then scans and dies on ("Tracer caught signal 11", google/sanitizers#1322;
# every `facto train` of mf with OpenBLAS's thread pool up, here): leaks are
# still checked everywhere, dynamic TLS is just not a root.
ASAN_CC ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
ASAN_TESTS ?= -LE 'lint|slow'
asan-test: deps
	@CC=$(ASAN_CC) cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACTO_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:exitcode=86:intercept_tls_get_addr=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:exitcode=86 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) $(ASAN_TESTS)

# The serving contract under ThreadSanitizer: tests/unit/test_shared_model.c
# scores one loaded model from 4 threads at once (each with its own context,
# 1 and then 2 library threads each). Built with clang -fsanitize=thread.
# OpenMP: libomp is not instrumented, so LLVM's Archer tool
# (libarcher.so, beside libomp) tells TSan about its barriers and tasks, and
# ignore_noninstrumented_modules keeps the reports to instrumented code
# (facto's, not libomp's or OpenBLAS's). Without Archer the library threads
# of each call are left at 1 (FACTO_TEST_MAX_THREADS=1).
TSAN_CC ?= clang
TSAN_ARCHER ?= $(wildcard $(shell $(TSAN_CC) -print-resource-dir 2>/dev/null)/../../libarcher.so)
tsan-test: deps
	@CC=$(TSAN_CC) cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACTO_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target test_shared_model
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 $(TSAN_OPTIONS)" \
	  $(if $(TSAN_ARCHER),OMP_TOOL_LIBRARIES=$(TSAN_ARCHER),FACTO_TEST_MAX_THREADS=1) \
	  build-tsan/tests/test_shared_model

# libFuzzer targets (tests/fuzz/fuzz_*.c: ratings, libsvm, recordIO, JSON
# request, feature-table readers and the model loader) built with clang
# -fsanitize=fuzzer,address,undefined, each run for FUZZ_SECONDS from the
# seeds committed in tests/fuzz/corpus/NAME (new inputs go to
# build-fuzz/corpus/NAME, findings to build-fuzz/findings/). CI runs this.
# A finding stops the run with libFuzzer's report and the input's file;
# reproduce with build-fuzz/fuzz/fuzz_NAME FILE.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_TARGETS ?= ratings libsvm recordio request features model
fuzz: deps
	@CC=$(FUZZ_CC) cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACTO_SANITIZE=ON -DFACTO_FUZZ=ON \
	  -DFACTO_BUILD_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@mkdir -p build-fuzz/findings
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1 OMP_NUM_THREADS=1 \
	    build-fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=build-fuzz/findings/$$t- \
	    build-fuzz/corpus/$$t tests/fuzz/corpus/$$t >build-fuzz/$$t.log 2>&1 \
	    || { tail -n 60 build-fuzz/$$t.log; echo "fuzz_$$t: finding (log build-fuzz/$$t.log)"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' build-fuzz/$$t.log | tail -n 2; \
	done

# Headers, libfacto and libfacto_fetch (static and shared), the facto command
# and pkg-config files (facto, facto-fetch) under $(PREFIX); DESTDIR is honoured.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	bench/ml100k.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
