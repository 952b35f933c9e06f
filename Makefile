# The Makefile is the contract: CI calls `make lint test`, the README starts with
# `make demo` and `make test`.
GO             ?= go
BIN            := bin/fiosync
STATICCHECK    := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_FLAGS     ?=
# What `fiosync version` reports when the build info has no version (go build -buildvcs=false).
VERSION        ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT         ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS        := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build test lint demo bench fuzz golden clean

all: lint test build

# Built as releases are (.goreleaser.yaml): without cgo, so statically linked, which also
# starts each command about 2 ms sooner than a dynamically linked build.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/fiosync

# Every test, with the race detector, beside a throwaway PostgreSQL (scripts/with-pg.sh);
# fuzz seed corpora run as ordinary tests. The manifest tests run again with the portable
# walk (os.ReadDir and os.Lstat) that systems other than Linux use.
test:
	./scripts/with-pg.sh $(GO) test -race -count=1 $(TEST_FLAGS) ./...
	$(GO) test -race -count=1 -tags portablewalk $(TEST_FLAGS) ./manifest/

lint:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	./scripts/actionlint.sh

# Plan and apply examples/dailies against a local emulator, then show a second plan is empty.
demo: build
	./scripts/demo.sh

# Every performance comparison, side by side in one run, printed as ratios.
bench:
	./scripts/bench.sh

# Refresh golden files after an intended output change.
golden:
	$(GO) test ./... -update

clean:
	rm -rf bin
