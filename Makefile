SHELL := /bin/bash
# Two commands for a fresh machine: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: demo test deps build release bench bench-storage bench-spans clean

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	./scripts/demo.sh

# Builds every product first (the server tests run the real `argus` binary), runs the shipped
# rule unit tests, then all tests (the output ends with the test runner's summary line).
test: build
	@./scripts/install-deps.sh test
	.build/debug/argus rules test alerts/*.test.yml
	$(SWIFT) test 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}

# Argus next to Prometheus and VictoriaMetrics on one dataset; writes docs/comparison.md.
# Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--series 2000 --hours 2".
bench:
	./scripts/bench.sh $(BENCH_ARGS)

bench-storage: release
	.build/release/argus-bench storage

bench-spans: release
	.build/release/argus-bench spans

clean:
	rm -rf .build
