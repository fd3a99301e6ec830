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

# Unit tests under AddressSanitizer + UBSan (CI runs this too).
# Built with clang (gcc builds the main tree), so CI compiles with both.
ASAN_CC ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
asan-test: deps
	@CC=$(ASAN_CC) cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACTO_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -L quick -LE lint

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

# Headers, libfacto and libfacto_fetch (static and shared), the facto command
# and pkg-config files (facto, facto-fetch) under $(PREFIX); DESTDIR is honoured.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	bench/ml100k.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
