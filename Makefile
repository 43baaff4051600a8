# solti-exec: the Makefile wraps CMake (library, shim, solti-run, C tests)
# and the Go and Python tool chains. `make test` is what CI runs.

BUILD   ?= build
PREFIX  ?= /usr/local
GO      ?= go
PYTHON  ?= /usr/bin/python3
CMAKE   ?= cmake
CTEST   ?= ctest
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all configure test go-test c-test py-test shim-check run install clean bench fmt-check tidy-check

all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

configure: $(BUILD)/CMakeCache.txt

$(BUILD)/CMakeCache.txt: CMakeLists.txt
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

test: all go-test shim-check c-test py-test

# The shim built into the library must stay self-contained (no C library, no
# thread pointer, no mutable globals), with any compiler defaults.
shim-check:
	tests/shim/check_in_library.sh

fmt-check:
	@out=$$(gofmt -l core capi); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# go.mod and go.sum must be as `go mod tidy` leaves them (it prints the diff).
tidy-check:
	@$(GO) mod tidy -diff || { echo "tidy-check: run go mod tidy"; exit 1; }

# core is pure Go: checked for cgo, vetted, and tested with the race detector
# against the shim built above.
go-test: fmt-check tidy-check
	@cgo=$$($(GO) list -f '{{if .CgoFiles}}{{.ImportPath}}{{end}}' ./core/...); \
	  if [ -n "$$cgo" ]; then echo "cgo found in core: $$cgo"; exit 1; fi
	$(GO) vet ./...
	SOLTI_EXEC_SHIM=$(abspath $(BUILD))/solti-exec-shim $(GO) test -race -count=1 ./core/...

c-test: all
	$(CTEST) --test-dir $(BUILD) --output-on-failure -j $(JOBS)

py-test: all
	@if [ -d bindings/python/tests ]; then \
	  SOLTI_EXEC_LIBRARY=$(abspath $(BUILD))/libsolti_exec.so.0 PYTHONPATH=bindings/python \
	    $(PYTHON) -m pytest -q bindings/python/tests; \
	else echo "py-test: no Python bindings yet"; fi

# The demonstration alone on the terminal: the build's output goes to
# $(BUILD)/run-build.log and is shown only if the build fails.
run:
	@mkdir -p $(BUILD)
	@{ $(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo && \
	   $(CMAKE) --build $(BUILD) -j $(JOBS); } >$(BUILD)/run-build.log 2>&1 \
	  || { cat $(BUILD)/run-build.log; echo "make run: the build failed"; exit 1; }
	@./examples/demo.sh $(BUILD)/solti-run

install: all
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)

# Builds everything, then runs the benchmark suite and prints its table
# (figures, baselines measured in the same run, ratios, targets).
bench: all
	$(PYTHON) bench/run.py --build $(BUILD)

# ---- Reliability: fuzzing, stress, checked builds (CI runs each) -------------

.PHONY: fuzz stress check-cgocheck2 check-asan check-valgrind

# Each Go fuzz target for FUZZTIME. The seed corpora are committed under
# testdata/fuzz/<target> beside each package; a failing input is written there
# too and the run fails. FuzzSpawnValidNumbers spawns a real child for each
# input that passes validation, against the shim built here. -fuzzminimizetime bounds the minimization of each
# new interesting input (60 s by default), which would otherwise eat most of
# a short run.
FUZZTIME ?= 30s
FUZZ_TARGETS ?= core/model:FuzzParseTaskSpec core/model:FuzzParseRunnerConfig core/model:FuzzScanJSON \
                core/model:FuzzDecodeBody core/output:FuzzFramer core/output:FuzzLineWriterRuns \
                core/runner:FuzzSpawnValidNumbers
#
# Go 1.26's fuzzing coordinator can report "context deadline exceeded" when
# -fuzztime ends while a worker is mid-input (go.dev/issue/75804, fixed in
# Go 1.27), having found nothing: such a run, with no failing input written
# and nothing else wrong in its log, is run once more. Any other failure
# fails at once.
fuzz:
	@mkdir -p $(BUILD)/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; log=$(BUILD)/fuzz/$$fn.log; \
	  for try in 1 2; do \
	    if SOLTI_EXEC_SHIM=$(abspath $(BUILD))/solti-exec-shim $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./$$pkg \
	      >$$log 2>&1; then break; fi; \
	    if [ $$try = 1 ] && grep -q '^    context deadline exceeded$$' $$log && ! grep -q 'Failing input written\|panic:\|_test.go:[0-9]' $$log; then \
	      echo "fuzz: $$fn: the coordinator's deadline race (no failing input), running it again"; continue; fi; \
	    cat $$log; echo "fuzz: $$fn FAILED"; exit 1; \
	  done; \
	  echo "fuzz: $$fn: $$(grep -o 'execs: [0-9]*' $$log | tail -n 1 | cut -d' ' -f2) executions in $(FUZZTIME)"; \
	done

# tests/stress/stress.c at full size: 10,000 cycles, 200 tasks x 100,000
# lines, then the leak check. STRESS_ARGS passes options (see stress.c).
STRESS_ARGS ?=
stress: all
	$(BUILD)/tests/stress/solti-stress $(STRESS_ARGS)

# arm64: the shim (its own system call numbers and entry) must build for it
# with -Werror, standalone and as built into the library, and the Go core (the seccomp program's syscall table
# included) must vet and compile its tests there. Cross-checked from x86-64
# with Debian's gcc-aarch64-linux-gnu; run natively on an arm64 machine.
ARM64_CC ?= aarch64-linux-gnu-gcc
.PHONY: check-arm64
check-arm64:
	@mkdir -p $(BUILD)
	$(ARM64_CC) -Os -static -nostdlib -nostartfiles -ffreestanding -fno-builtin \
	  -fno-stack-protector -fno-asynchronous-unwind-tables -no-pie \
	  -Wall -Wextra -Werror -o $(BUILD)/solti-exec-shim-arm64 shim/solti-exec-shim.c
	@file $(BUILD)/solti-exec-shim-arm64 | grep -q 'ARM aarch64' || { echo "check-arm64: not an arm64 binary"; exit 1; }
	tests/shim/check_in_library.sh $(ARM64_CC) aarch64-linux-gnu-nm aarch64-linux-gnu-objdump
	GOARCH=arm64 $(GO) vet ./core/...
	@for pkg in $$(GOARCH=arm64 $(GO) list ./core/...); do \
	  GOARCH=arm64 $(GO) test -c -o /dev/null $$pkg || exit 1; done
	@echo "check-arm64: the shim and the Go core build for arm64"

# The C tests against a library built with GOEXPERIMENT=cgocheck2, which
# checks at run time every pointer that crosses between C and Go (cgocheck=1,
# the default, checks only what is cheap).
BUILD_CGOCHECK2 ?= $(BUILD)-cgocheck2
check-cgocheck2:
	$(CMAKE) -S . -B $(BUILD_CGOCHECK2) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOLTI_EXEC_GOEXPERIMENT=cgocheck2
	$(CMAKE) --build $(BUILD_CGOCHECK2) -j $(JOBS)
	$(CTEST) --test-dir $(BUILD_CGOCHECK2) --output-on-failure -j $(JOBS)

# The C tests, solti-stress and solti-run built with
# -fsanitize=address,undefined (CMake option SOLTI_EXEC_SANITIZE), against the
# library. The test executables carry the ASan runtime themselves, so nothing
# is preloaded, and it is initialised before the library loads; the Go
# runtime then installs its signal handlers over ASan's and passes on the
# faults that are not its own (allow_user_segv_handler=1, the default, lets
# it). The Go heap is mmap'd, not malloc'd, so LeakSanitizer sees only C heap
# (the tests', and the library's cgo side) and needs no exceptions for the Go
# runtime: leaks are errors here. Any undefined behaviour stops the test
# (-fno-sanitize-recover) with a stack trace.
BUILD_ASAN ?= $(BUILD)-asan
check-asan:
	$(CMAKE) -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOLTI_EXEC_SANITIZE=ON
	$(CMAKE) --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(CTEST) --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

# C tests under valgrind's memcheck: any definite leak or memory error outside
# the Go runtime fails. tests/valgrind/go-runtime.supp silences what memcheck
# cannot follow in Go code (goroutine stacks); it does not silence leaks.
VALGRIND ?= valgrind
VALGRIND_TESTS ?= test_handles test_cancel
check-valgrind: all
	@for t in $(VALGRIND_TESTS); do echo "valgrind: $$t"; \
	  $(VALGRIND) -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	    --error-exitcode=99 --suppressions=tests/valgrind/go-runtime.supp $(BUILD)/tests/c/$$t \
	    || { echo "valgrind: $$t FAILED"; exit 1; }; \
	done

# ---- The suites as an unprivileged user (CI runs this as root) ---------------

# The C and Python suites of an already built tree, run as TEST_USER (made
# if missing): what most users run. The build stays root's; the tree is made
# readable, and CTest's log directory writable, for that user. PATH is a
# plain system one, as the user's own would be.
TEST_USER ?= solti-test
.PHONY: test-unprivileged
test-unprivileged: all
	@[ "$$(id -u)" = 0 ] || { echo "test-unprivileged: run as root (it switches to $(TEST_USER))"; exit 1; }
	@id -u $(TEST_USER) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin $(TEST_USER)
	@chmod -R a+rX . ; d=$(CURDIR); while [ "$$d" != / ]; do chmod a+x "$$d"; d=$$(dirname "$$d"); done
	@mkdir -p $(BUILD)/Testing && chown -R $(TEST_USER) $(BUILD)/Testing
	@home=$$(mktemp -d) && chown $(TEST_USER) $$home && \
	as_user="setpriv --reuid=$(TEST_USER) --regid=$$(id -g $(TEST_USER)) --init-groups \
	  env -i HOME=$$home PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1" && \
	echo "test-unprivileged: as $$(setpriv --reuid=$(TEST_USER) id -un) (uid $$(id -u $(TEST_USER)))" && \
	$$as_user $(CTEST) --test-dir $(abspath $(BUILD)) --output-on-failure -j $(JOBS) && \
	$$as_user SOLTI_EXEC_LIBRARY=$(abspath $(BUILD))/libsolti_exec.so.0 PYTHONPATH=$(CURDIR)/bindings/python \
	  $(PYTHON) -m pytest -q -p no:cacheprovider $(CURDIR)/bindings/python/tests; \
	rc=$$?; rm -rf $$home; exit $$rc

# ---- The Python wheel ----------------------------------------------------------

# dist/solti_exec-*.whl with libsolti_exec.so.0 and the exec shim inside
# (solti_exec/_lib): it needs no Go, no system install and no
# SOLTI_EXEC_LIBRARY. Built from a staged copy of bindings/python, without
# fetching anything (--no-build-isolation: setuptools and wheel installed).
DIST ?= dist
.PHONY: wheel check-wheel
wheel: all
	@rm -rf $(BUILD)/wheel-src && mkdir -p $(BUILD)/wheel-src $(DIST)
	@cp -r bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md \
	  bindings/python/solti_exec $(BUILD)/wheel-src/
	@rm -rf $(BUILD)/wheel-src/solti_exec/__pycache__ && mkdir -p $(BUILD)/wheel-src/solti_exec/_lib
	@cp -L $(BUILD)/libsolti_exec.so.0 $(BUILD)/solti-exec-shim $(BUILD)/wheel-src/solti_exec/_lib/
	$(PYTHON) -m pip wheel -q --no-build-isolation --no-deps -w $(DIST) $(BUILD)/wheel-src
	@ls $(DIST)/solti_exec-*.whl

# The wheel, and `pip install bindings/python` from this checkout, each in a
# fresh venv with no Go on PATH and no SOLTI_EXEC_* variables, from an empty
# directory: python -m solti_exec run -- echo hi must print hi.
check-wheel: wheel
	tests/install/check_wheel.sh $(PYTHON) $(DIST) $(CURDIR)
