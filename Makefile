# LeadBridge — two commands on a fresh Debian machine with Swift:
#   make demo   set up and run the main job
#   make test   run every test (ends with "N passed, M failed")
#   make install [PREFIX=/usr/local]
SHELL := /bin/bash
SWIFT ?= swift
BUILD_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev pkg-config
TEST_PACKAGES := python3 python3-jsonschema postgresql chromium
BENCH_PACKAGES := wrk nginx-light hyperfine sqlite3 postgresql
BIN := .build/debug/leadbridge
PREFIX ?= /usr/local
SHARE := $(DESTDIR)$(PREFIX)/share/leadbridge
# Release links the Swift runtime, FoundationEssentials and libstdc++ statically (a catalog
# command starts without loading a dozen shared libraries): tools/build-release.sh;
# tools/check-binary.sh checks what it does load.

.PHONY: deps deps-test deps-bench build release test demo lint bench clean install uninstall

deps:
	@tools/ensure-packages.sh $(BUILD_PACKAGES)

deps-test: deps
	@tools/ensure-packages.sh $(TEST_PACKAGES)

deps-bench: deps
	@tools/ensure-packages.sh $(BENCH_PACKAGES)

build: deps
	$(SWIFT) build -Xswiftc -warnings-as-errors

release: deps
	SWIFT=$(SWIFT) tools/build-release.sh
	tools/check-binary.sh .build/release/leadbridge

lint: build
	$(BIN) lint

test: deps-test
	@tools/test.sh

# The release binary in $(PREFIX)/bin and the shipped specs in $(PREFIX)/share/leadbridge,
# where the binary looks for them (no LEADBRIDGE_HOME needed).
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)
	install -m 755 .build/release/leadbridge $(DESTDIR)$(PREFIX)/bin/leadbridge
	rm -rf $(SHARE)/Networks $(SHARE)/Templates
	cp -R Networks Templates $(SHARE)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/leadbridge
	rm -rf $(SHARE)

demo: build
	@tools/demo.sh $(BIN)

bench: deps-bench release
	bench/run

clean:
	rm -rf .build
