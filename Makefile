# Idem — the two commands that matter: `make run` and `make test`.
SWIFT ?= swift
SHARED_STORE_SUITES = SeedWalkthroughTests|IdempotencySemanticsTests|CrashRecoveryTests|SharedStoreTests

.PHONY: build release run test lint clean deps bench install install-build uninstall

# `make install` / `make uninstall` (scripts/install.sh); DESTDIR stages for packaging.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
# A separate build directory: the installed binaries link the Swift runtime statically, so
# they need only Debian's libraries and survive toolchain upgrades or removal.
INSTALL_BUILD = .build/install
INSTALL_VARS = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' \
	UNITDIR='$(UNITDIR)' SYSUSERSDIR='$(SYSUSERSDIR)' BUILD_DIR='$(INSTALL_BUILD)/release'

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

deps:
	scripts/install-deps.sh

## Serve http://127.0.0.1:9000 (nginx + responder); installs missing packages when root.
run:
	PORT=$(or $(PORT),9000) scripts/run-local.sh

## Every test: unit, the real LMDB store, and end to end through a real nginx.
test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	# The behavioural suites again on the shared stores (the tests start redis-server and PostgreSQL).
	IDEM_TEST_STORE=redis $(SWIFT) test --skip-build --filter '$(SHARED_STORE_SUITES)'
	IDEM_TEST_STORE=postgres $(SWIFT) test --skip-build --filter '$(SHARED_STORE_SUITES)'
	scripts/walkthrough-test.sh

## Speed, side by side: nginx, a minimal C responder and idem under wrk, plus the store
## microbenchmark; writes bench/results/<timestamp>/results.md and chart.png (~5 min).
bench:
	bench/run.sh

## Binaries to /usr/local/bin, config to /etc/idem (kept if present), systemd units, the idem
## user, the nginx site. PREFIX, SYSCONFDIR, DESTDIR, UNITDIR, SYSUSERSDIR as usual.
install: install-build
	$(INSTALL_VARS) scripts/install.sh install

install-build:
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(INSTALL_BUILD) --product idem
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(INSTALL_BUILD) --product idemctl

## Removes what install put there, except /etc/idem and /var/lib/idem.
uninstall:
	$(INSTALL_VARS) scripts/install.sh uninstall

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests Package.swift

clean:
	rm -rf .build .run
