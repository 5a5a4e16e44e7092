# gofw's build, test and install entry points. The README's two commands
# are `make demo` and `make test`.
GO ?= go
FUZZTIME ?= 10s
PREFIX ?= /usr/local
# urfave_cli_no_docs leaves out urfave/cli's man-page generator (and its
# markdown library), which costs milliseconds at every start of every
# program; gofw prints its help without it.
export GOFLAGS := -tags=urfave_cli_no_docs

.PHONY: build test vet unit fuzz demo install uninstall

build:
	$(GO) build -o bin/ ./cmd/...

test: vet unit fuzz

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }

unit:
	$(GO) test -count=1 ./...

# A short run of every fuzz target (go test runs one target at a time).
# A target fails when it finds an input that fails: go test then writes
# it to testdata/fuzz/TARGET, and the run stops with its output. go test
# -fuzz also exits non-zero now and then with no input to show, when
# -fuzztime runs out while a worker is busy (golang/go#56238, "context
# deadline exceeded"): such a run is tried once more, and fails only if
# it fails again.
fuzz:
	@set -e; for t in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$t $$f ($(FUZZTIME))"; \
	    before=$$(ls $$t/testdata/fuzz/$$f 2>/dev/null | wc -l); \
	    if ! $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$t >fuzz.out 2>&1; then \
	      after=$$(ls $$t/testdata/fuzz/$$f 2>/dev/null | wc -l); \
	      if [ "$$after" != "$$before" ]; then cat fuzz.out; rm -f fuzz.out; exit 1; fi; \
	      echo "  no failing input was written; trying once more"; \
	      $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$t >fuzz.out 2>&1 || \
	        { cat fuzz.out; rm -f fuzz.out; exit 1; }; \
	    fi; \
	  done; \
	done; rm -f fuzz.out

demo:
	./examples/demo.sh

# install puts the four programs in $(PREFIX)/sbin, the systemd unit in
# /etc/systemd/system and, if there is none yet, a starting ruleset in
# /etc/gofw/rules.v4 (an existing file, e.g. from iptables-save, is kept).
# Then: systemctl daemon-reload && systemctl enable --now gofwd
install: build
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/systemd/system $(DESTDIR)$(PREFIX)/share/doc/gofw
	install -m 0755 bin/gofwd bin/gofw bin/gofw-save bin/gofw-restore bin/gofw-trace $(DESTDIR)$(PREFIX)/sbin/
	sed 's|/usr/local/|$(PREFIX)/|g' init/gofwd.service > $(DESTDIR)/etc/systemd/system/gofwd.service
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/gofw/
	install -d -m 0700 $(DESTDIR)/etc/gofw
	test -e $(DESTDIR)/etc/gofw/rules.v4 || install -m 0600 init/rules.v4 $(DESTDIR)/etc/gofw/rules.v4

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/gofwd $(DESTDIR)$(PREFIX)/sbin/gofw $(DESTDIR)$(PREFIX)/sbin/gofw-save $(DESTDIR)$(PREFIX)/sbin/gofw-restore $(DESTDIR)$(PREFIX)/sbin/gofw-trace
	rm -f $(DESTDIR)/etc/systemd/system/gofwd.service
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/gofw
