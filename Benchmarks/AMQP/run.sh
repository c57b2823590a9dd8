#!/usr/bin/env bash
# CourierAMQP benchmark: Courier vs raw librabbitmq (raw/raw_bench.c) in the same run, against the local
# RabbitMQ (make rabbitmq-start), with the same confirm window, prefetch, message size and persistence
# (delivery mode 2, mandatory publishes, durable topic exchange + durable queue bound with #, one ack per
# message). Release builds. Not a timed test.
#
#   bash Benchmarks/AMQP/run.sh [COUNT] [SIZE] [WINDOW] [PREFETCH]    defaults: 20000 256 256 256
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNT=${1:-20000}
SIZE=${2:-256}
WINDOW=${3:-256}
PREFETCH=${4:-256}
SCRATCH=${SCRATCH:-.build}
URL=${COURIER_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
HOST=127.0.0.1
PORT=5672
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cc -O2 -o "$WORK/raw_bench" Benchmarks/AMQP/raw/raw_bench.c $(pkg-config --cflags --libs librabbitmq)
swift build -c release --scratch-path "$SCRATCH" --product CourierAMQPBenchmark >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

RUN=bench-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
echo "machine: $(nproc) cores, $(uname -srm); librabbitmq $(pkg-config --modversion librabbitmq); $COUNT messages of $SIZE bytes, confirm window $WINDOW, prefetch $PREFETCH, persistent"
rate() { sed -E 's/.*= ([0-9]+) msg\/s.*/\1/'; }
RAW_P=$("$WORK/raw_bench" produce "$HOST" "$PORT" "$RUN-raw" "$RUN-raw.readers" "$COUNT" "$SIZE" "$WINDOW");               echo "raw C    $RAW_P"
CRR_P=$("$BIN/CourierAMQPBenchmark" produce "$URL" "$RUN-courier" readers "$COUNT" "$SIZE" "$WINDOW");                  echo "Courier  $CRR_P"
RAW_C=$("$WORK/raw_bench" consume "$HOST" "$PORT" "$RUN-raw.readers" "$COUNT" "$PREFETCH");                             echo "raw C    $RAW_C"
CRR_C=$("$BIN/CourierAMQPBenchmark" consume "$URL" "$RUN-courier" readers "$COUNT" "$PREFETCH");                        echo "Courier  $CRR_C"
awk -v a="$(echo "$CRR_P" | rate)" -v b="$(echo "$RAW_P" | rate)" 'BEGIN { printf "produce ratio Courier/raw = %.2f (target >= 0.8)\n", a / b }'
awk -v a="$(echo "$CRR_C" | rate)" -v b="$(echo "$RAW_C" | rate)" 'BEGIN { printf "consume ratio Courier/raw = %.2f (target >= 0.8)\n", a / b }'
echo "(queues $RUN-raw.readers and $RUN-courier.readers are left empty; delete them with rabbitmqctl if you like)"
