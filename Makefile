# gofw's build, test and install entry points. The README's two commands
# are `make demo` and `make test`.
GO ?= go
FUZZTIME ?= 10s
PREFIX ?= /usr/local

.PHONY: build test vet unit fuzz demo

build:
	$(GO) build -o bin/ ./cmd/...

test: vet unit fuzz

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }

unit:
	$(GO) test -count=1 ./...

# A short run of every fuzz target (go test runs one target at a time).
fuzz:
	@set -e; for t in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$t $$f ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$t >/dev/null || \
	      { $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$t; exit 1; }; \
	  done; \
	done

demo:
	./examples/demo.sh
