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

.PHONY: all deps build demo test asan-test install bench clean

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

# Headers, libfacto and libfacto_fetch (static and shared), the facto command
# and pkg-config files (facto, facto-fetch) under $(PREFIX); DESTDIR is honoured.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	bench/ml100k.sh

clean:
	rm -rf $(BUILD) build-asan
