# sparsesim — the only prerequisite is Go; `make run` and `make test` fetch
# modules on first use.
GO      ?= go
BIN     := bin/sparsesim
PKGS    := ./...

.PHONY: all build run test bench vet fmt-check rtl-test rtl-synth clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/sparsesim

# The embedded default: ResNet-18 on a 32x32 weight-stationary array with a
# DDR4-2400 channel model.
run: build
	./$(BIN) run

test: fmt-check vet
	$(GO) test -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
