# sparsesim — the only prerequisite is Go; `make run` and `make test` fetch
# modules on first use.
GO      ?= go
BIN     := bin/sparsesim
PKGS    := ./...

.PHONY: all build run test test-cluster fuzz-short bench vet fmt-check rtl-test rtl-synth clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/sparsesim

# The embedded default: ResNet-18 on a 32x32 weight-stationary array with a
# DDR4-2400 channel model.
run: build
	./$(BIN) run

test: fmt-check vet
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(MAKE) fuzz-short

# Every fuzz target (package:target), each fuzzed for FUZZTIME executions: a
# bounded few seconds in `make test`; `make fuzz-short FUZZTIME=1000000x` runs
# a million per target. The seed corpora also run in plain `go test`. A count,
# not a duration: Go 1.26's fuzz coordinator can report a spurious "context
# deadline exceeded" when a -fuzztime duration expires mid-execution
# (golang/go#75804, fixed in Go 1.27).
FUZZ_TARGETS := configs:FuzzParseYAML configs:FuzzScaleSimCfg traces:FuzzTopologyCSV \
	traces:FuzzSpAttenCSV traces:FuzzTrace traces:FuzzNPY sweep:FuzzPlotResults \
	report:FuzzPlotTimeline cmd/sparsesim:FuzzCLI workloads/moe:FuzzTrace
FUZZTIME ?= 1000x

fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -parallel 1 ./$$pkg || exit 1; \
	done

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# A real single-node Slurm cluster in a temp dir (root; apt-get install
# slurm-wlm munge): sweep --slurm 4, a requeued shard and the hand-written
# docs/cluster job array, each checked byte for byte against the unsharded
# sweep. Not part of `make test`, which needs no Slurm.
test-cluster: build
	docs/cluster/test-cluster.sh $(BIN)

# Every RTL unit at every parameter set, ≥10,000 vectors, iverilog and verilator.
rtl-test:
	$(GO) test -count=1 -timeout 90m -v -run 'TestRTL' ./rtl -rtl.full

# yosys generic synth and synth_xilinx -family xcup for every unit and
# parameter set, and synth_xilinx of whole arrays (the FPGA model's per-PE
# fit), into the table the FPGA model reads. Long: tens of minutes on 2 cores.
rtl-synth:
	$(GO) run ./cmd/sparsesim rtl synth -o energy/catalog/rtl_resources.csv

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
