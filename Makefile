# Courier developer entry points. `make` alone lists them.
# CI runs `bash .ci/run`, which is `make test`.

# swift from PATH; else the toolchain location the Courier CI image uses (/opt/swift).
SWIFT ?= $(or $(shell command -v swift 2>/dev/null),$(wildcard /opt/swift/usr/bin/swift),swift)
# Extra flags for swift build/test, e.g. `make test SWIFT_FLAGS="-c release"`.
SWIFT_FLAGS ?=
# The broker `.ci/rabbitmq start` runs; integration tests read this to find it.
COURIER_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/

.DEFAULT_GOAL := help
.PHONY: help deps build demo test rabbitmq-start rabbitmq-stop clean conformance bench chaos

help: ## List the targets
	@echo "Courier make targets:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "Variables: SWIFT=$(SWIFT) SWIFT_FLAGS=$(SWIFT_FLAGS)"

# Scripts run through bash so a checkout without exec bits still works.
deps: ## Install missing Debian packages (C libraries, rabbitmq-server); silent when all are present
	@bash .ci/install-deps

build: deps ## Build all targets (swift build)
	$(SWIFT) build $(SWIFT_FLAGS)

# The bin path follows SWIFT_FLAGS (.build/debug by default, .build/release with -c release).
demo: deps ## Build, then run `courier demo`
	$(SWIFT) build $(SWIFT_FLAGS)
	"$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)/courier" demo

test: export COURIER_AMQP_URL := $(COURIER_AMQP_URL)
# The suite runs many librdkafka clients and mock clusters at once (each broker thread holds a wake-up pipe):
# the soft descriptor limit is raised to the hard one, as servers do, when the shell allows it.
test: deps ## Start a loopback RabbitMQ, then run the whole test suite (swift test)
	@bash .ci/rabbitmq start
	@ulimit -n "$$(ulimit -Hn)" 2>/dev/null || true; echo "swift test with a limit of $$(ulimit -n) open files"; $(SWIFT) test $(SWIFT_FLAGS)

# Full mode of the transport conformance suite: every test whose name contains "Conformance" (memory,
# the plugin sample, Kafka on its mock cluster, AMQP on the loopback RabbitMQ started here as in `make test`).
conformance: export COURIER_AMQP_URL := $(COURIER_AMQP_URL)
conformance: export COURIER_CONFORMANCE_MODE := full
conformance: deps ## Run the transport conformance suite in full mode (short mode runs in `make test`)
	@bash .ci/rabbitmq start
	$(SWIFT) test $(SWIFT_FLAGS) --filter Conformance

# Release builds; Courier vs the raw C programs vs the Python clients on the RabbitMQ `make test` uses and one
# Kafka mock cluster; installs the contenders' packages. Settings: BENCH_* variables (Benchmarks/run-suite.sh).
bench: export COURIER_AMQP_URL := $(COURIER_AMQP_URL)
bench: deps ## Run the benchmark suite and rewrite BENCHMARKS.md
	@SWIFT="$(SWIFT)" bash Benchmarks/run-suite.sh

# Release build; every chaos scenario with real processes, a private RabbitMQ node on 127.0.0.1:5673 (started,
# killed, hung and stopped by the run) and Kafka mock clusters. Options: CHAOS_FLAGS, e.g. "--scenario 4" or
# "--machine-note 'other builds running'". Exits 1 unless every scenario passes; RELIABILITY.md is written either way.
CHAOS_FLAGS ?=
chaos: deps ## Run the chaos scenarios (about 10 minutes) and rewrite RELIABILITY.md
	$(SWIFT) build -c release --product courier
	"$$($(SWIFT) build -c release --show-bin-path)/courier" chaos --report RELIABILITY.md $(CHAOS_FLAGS)

rabbitmq-start: deps ## Start the local RabbitMQ (127.0.0.1:5672, state in .courier/rabbitmq)
	@bash .ci/rabbitmq start

rabbitmq-stop: ## Stop the local RabbitMQ
	@bash .ci/rabbitmq stop

clean: rabbitmq-stop ## Stop RabbitMQ, remove build products and its state (.build, .courier/rabbitmq)
	rm -rf .build .courier/rabbitmq
