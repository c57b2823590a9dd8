#!/usr/bin/env bash
# `make bench`: the whole benchmark suite in one run, then BENCHMARKS.md rewritten from its figures.
# This script prepares (Python contenders, release builds, the raw C programs, the local RabbitMQ); the
# measuring and the report are Benchmarks/suite.py, in Python because the suite runs other programs,
# reads their rusage (os.wait4), parses their JSON lines and computes medians and ratios, which is
# shorter and clearer there than in shell, and python3 is needed anyway for the Python contenders.
#
#   bash Benchmarks/run-suite.sh            environment: COURIER_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
#                                           BENCH_RUNS (5), BENCH_AMQP_COUNT (20000), BENCH_KAFKA_COUNT (100000),
#                                           BENCH_SIZE (256), BENCH_WINDOW (256), BENCH_PREFETCH (256),
#                                           BENCH_MEMORY_COUNT (100000), BENCH_PARTITIONS (12),
#                                           BENCH_LATENCY_RATE (1000 msg/s), BENCH_LATENCY_COUNT (1000 per round),
#                                           BENCH_PIN (1: brokers on CPU 0, clients on CPU 1), BENCH_OUTPUT (BENCHMARKS.md),
#                                           BENCH_NOTE (a line for the Machine section, e.g. what else ran);
#                                           needs valgrind for the Kafka instruction counts (installed here when missing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SWIFT=${SWIFT:-swift}
export COURIER_AMQP_URL=${COURIER_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}

# The contenders' Debian packages; quiet when present (as .ci/install-deps).
bash .ci/install-deps
missing=()
for pkg in python3 python3-pika python3-confluent-kafka util-linux valgrind; do
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true) == ii* ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    SUDO=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || {
            echo "run-suite: missing packages: ${missing[*]}; not root and sudo is not installed; as root run:" >&2
            echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
            exit 1
        }
        SUDO=(sudo)
    fi
    echo "run-suite: installing ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null || {
        "${SUDO[@]}" apt-get update -qq >/dev/null && "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    }
fi

echo "run-suite: release builds (courier, CourierAMQPBenchmark, CourierKafkaBenchmark) and the raw C programs"
for product in courier CourierAMQPBenchmark CourierKafkaBenchmark; do
    # Quiet when it works; the compiler's own words when it does not.
    if ! build_log=$("$SWIFT" build -c release --product "$product" 2>&1); then
        echo "run-suite: the release build of $product failed:" >&2
        tail -n 40 <<<"$build_log" >&2
        exit 1
    fi
done
BIN=$("$SWIFT" build -c release --show-bin-path)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/amqp_raw_bench" Benchmarks/AMQP/raw/raw_bench.c $(pkg-config --cflags --libs librabbitmq)
cc -O2 -o "$WORK/kafka_raw_bench" Benchmarks/Kafka/raw/raw_bench.c $(pkg-config --cflags --libs rdkafka)

# The broker the URL names, started here as `make test` does (a no-op when it runs already).
PORT=$(sed -E 's|^[a-z]+://([^@/]*@)?[^:/]+:([0-9]+).*|\2|;t;s|.*|5672|' <<<"$COURIER_AMQP_URL")
COURIER_RABBITMQ_PORT=$PORT bash .ci/rabbitmq start

/usr/bin/python3 Benchmarks/suite.py --bin "$BIN" --work "$WORK" --amqp-port "$PORT"
