# solti-exec: the Makefile wraps CMake (library, shim, solti-run, C tests)
# and the Go and Python tool chains. `make test` is what CI runs.

BUILD   ?= build
PREFIX  ?= /usr/local
GO      ?= go
PYTHON  ?= /usr/bin/python3
CMAKE   ?= cmake
CTEST   ?= ctest
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all configure test go-test c-test py-test run install clean bench fmt-check

all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

configure: $(BUILD)/CMakeCache.txt

$(BUILD)/CMakeCache.txt: CMakeLists.txt
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

test: all go-test c-test py-test

fmt-check:
	@out=$$(gofmt -l core capi); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# core is pure Go: checked for cgo, vetted, and tested with the race detector
# against the shim built above.
go-test: fmt-check
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

run: all
	./examples/demo.sh $(BUILD)/solti-run

install: all
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)

# Builds everything, then runs the benchmark suite and prints its table
# (figures, baselines measured in the same run, ratios, targets).
bench: all
	$(PYTHON) bench/run.py --build $(BUILD)
