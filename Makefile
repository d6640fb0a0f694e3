# Idem — the two commands that matter: `make run` and `make test`.
SWIFT ?= swift

.PHONY: build release run test lint clean deps

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
	scripts/walkthrough-test.sh

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests Package.swift

clean:
	rm -rf .build .run
