# Thin wrapper over CMake so the README's commands stay short.
#   make            build build/tollgate
#   make run        install what is missing, build, start the stack (host mode)
#   make test       install what is missing, build, run unit + end-to-end tests
#   make asan       unit tests under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make install    install (PREFIX=/usr/local, DESTDIR=)
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build deps test unit e2e asan fuzz run bench clean format install
all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the binary, man pages,
# completions, systemd units, configs (docs/install.md).
install: deps-build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target tollgate tollgate_man -- --no-print-directory >/dev/null
	@DESTDIR=$(abspath $(DESTDIR)) cmake --install $(BUILD) >/dev/null
	@echo "make install: installed under $(abspath $(DESTDIR))$(PREFIX)"

deps-%:
	@scripts/deps.sh $*

# Builds the tollgate target only (no test binaries), quietly: one line, and
# the compiler's output only when it fails.
run: deps-run
	@echo "make run: building $(BUILD)/tollgate"
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@out=$$(cmake --build $(BUILD) -j$(JOBS) --target tollgate -- --no-print-directory 2>&1) || { printf '%s\n' "$$out"; exit 1; }
	@scripts/run-stack.sh

test: deps-test build unit e2e

unit:
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

tests/e2e/node_modules: tests/e2e/package-lock.json
	@cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

e2e: tests/e2e/node_modules
	@cd tests/e2e && TOLLGATE_BIN=$(CURDIR)/$(BUILD)/tollgate node --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec

asan: deps-test
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DTOLLGATE_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS) -- --no-print-directory
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

fuzz: deps-test
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DTOLLGATE_FUZZ=ON -DTOLLGATE_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j$(JOBS) -- --no-print-directory
	@scripts/fuzz.sh build-fuzz/fuzz $(FUZZ_SECONDS)

bench: build
	@bench/run.sh

format:
	@clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
