# LeadBridge — two commands on a fresh Debian machine with Swift:
#   make demo   set up and run the main job
#   make test   run every test
SHELL := /bin/bash
SWIFT ?= swift
BUILD_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config
TEST_PACKAGES := python3 python3-jsonschema
BENCH_PACKAGES := wrk nginx-light hyperfine sqlite3
BIN := .build/debug/leadbridge

.PHONY: deps deps-test deps-bench build release test demo lint bench clean

deps:
	@tools/ensure-packages.sh $(BUILD_PACKAGES)

deps-test: deps
	@tools/ensure-packages.sh $(TEST_PACKAGES)

deps-bench: deps
	@tools/ensure-packages.sh $(BENCH_PACKAGES)

build: deps
	$(SWIFT) build -Xswiftc -warnings-as-errors

release: deps
	$(SWIFT) build -c release -Xswiftc -warnings-as-errors

lint: build
	$(BIN) lint

test: deps-test
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors
	$(SWIFT) test --skip-build
	$(BIN) lint --strict
	$(BIN) test
	/usr/bin/python3 Tests/Schema/validate_specs.py .
	$(SWIFT) build -c release -Xswiftc -warnings-as-errors

demo: build
	@tools/demo.sh $(BIN)

bench: deps-bench release
	bench/run

clean:
	rm -rf .build
