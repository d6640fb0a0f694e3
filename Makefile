# Idem — the two commands that matter: `make run` and `make test`.
SWIFT ?= swift
SHARED_STORE_SUITES = SeedWalkthroughTests|IdempotencySemanticsTests|CrashRecoveryTests|SharedStoreTests

.PHONY: build release run test lint clean deps bench

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

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests Package.swift

clean:
	rm -rf .build .run
