#!/usr/bin/env bash
# Courier Kafka benchmark: CourierKafka vs raw librdkafka (raw/raw_bench.c) with the same settings
# (idempotent producer, acks=all, linger.ms=5, consumer group with offsets stored per message,
# fetch.wait.max.ms=100), against
# one `courier kafka-mock` cluster in the same run. Release builds. Not a timed test.
#
#   bash Benchmarks/Kafka/run.sh [COUNT] [SIZE]      defaults: 20000 messages of 256 bytes
#   BATCH=1000 CONCURRENCY=8 bash Benchmarks/Kafka/run.sh ...   the Courier producer's batch size and batches in flight
#
# Each step prints one JSON object; RESULTS=FILE appends them (with the run's time) to FILE.
# The mock cluster keeps about 5 MiB per partition: keep COUNT x (SIZE + ~300 header bytes) / 12 under that.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNT=${1:-20000}
SIZE=${2:-256}
SCRATCH=${SCRATCH:-.build}
WORK=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cc -O2 -o "$WORK/raw_bench" Benchmarks/Kafka/raw/raw_bench.c $(pkg-config --cflags --libs rdkafka)
swift build -c release --scratch-path "$SCRATCH" --product CourierKafkaBenchmark >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product courier >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

mkfifo "$WORK/commands"
"$BIN/courier" kafka-mock --brokers 3 --topic raw:12 --topic raw-headers:12 --topic courier:12 < "$WORK/commands" > "$WORK/mock.out" &
MOCK_PID=$!
exec 3>"$WORK/commands"   # keeps the mock's stdin open until the end
for _ in $(seq 50); do [[ -s $WORK/mock.out ]] && break; sleep 0.1; done
BOOTSTRAP=$(head -n1 "$WORK/mock.out")

echo "machine: $(nproc) cores, $(uname -srm); librdkafka $(pkg-config --modversion rdkafka); $COUNT messages of $SIZE bytes, 12 partitions, 3 mock brokers"
# Each program prints one JSON object per step: {"side","step","messages","size","msgPerSec","cpuNsPerMsg"}.
# The Courier producer publishes with publish(contentsOf:) in batches of $BATCH, $CONCURRENCY batches in flight.
BATCH=${BATCH:-1000}
CONCURRENCY=${CONCURRENCY:-8}
rate() { sed -E 's/.*"msgPerSec":([0-9]+).*/\1/'; }
RAW_P=$("$WORK/raw_bench" produce "$BOOTSTRAP" raw "$COUNT" "$SIZE" --json);                                        echo "$RAW_P"
# The same records as Courier's: the payload, the key, the record timestamp and Courier's one header (courier-id).
RAWH_P=$("$WORK/raw_bench" produce-headers "$BOOTSTRAP" raw-headers "$COUNT" "$SIZE" --json);                       echo "$RAWH_P"
CRR_P=$("$BIN/CourierKafkaBenchmark" produce "$BOOTSTRAP" courier "$COUNT" "$SIZE" "$BATCH" "$CONCURRENCY" --json);  echo "$CRR_P"
# Both consumers read the messages Courier produced (with Courier's headers), each in its own group.
RAW_C=$("$WORK/raw_bench" consume "$BOOTSTRAP" courier "$COUNT" raw-readers --json);                                echo "$RAW_C"
CRR_C=$("$BIN/CourierKafkaBenchmark" consume "$BOOTSTRAP" courier "$COUNT" courier-readers --json);                echo "$CRR_C"
# A Courier group subscription also reads the group's retry topic (empty here); raw C subscribed the same way:
# the same two topics (Courier's retry topic exists now), its own group.
RAWR_C=$("$WORK/raw_bench" consume-retry-topic "$BOOTSTRAP" courier "$COUNT" raw-retry-readers courier.retry.courier-readers --json); echo "$RAWR_C"
# Not CourierKafka: one Swift thread building only the envelope Courier hands out per record (the ceiling for Swift).
FLOOR_C=$("$BIN/CourierKafkaBenchmark" consume-floor "$BOOTSTRAP" courier "$COUNT" floor-readers --json);         echo "$FLOOR_C"
awk -v a="$(echo "$CRR_P" | rate)" -v b="$(echo "$RAW_P" | rate)" 'BEGIN { printf "produce ratio Courier/raw = %.2f (target >= 0.7)\n", a / b }'
awk -v a="$(echo "$CRR_P" | rate)" -v b="$(echo "$RAWH_P" | rate)" 'BEGIN { printf "produce ratio Courier/raw-headers (same records) = %.2f\n", a / b }'
awk -v a="$(echo "$CRR_C" | rate)" -v b="$(echo "$RAW_C" | rate)" 'BEGIN { printf "consume ratio Courier/raw = %.2f (target >= 0.8)\n", a / b }'
awk -v a="$(echo "$CRR_C" | rate)" -v b="$(echo "$RAWR_C" | rate)" 'BEGIN { printf "consume ratio Courier/raw-retry-topic (same subscription) = %.2f\n", a / b }'
awk -v a="$(echo "$FLOOR_C" | rate)" -v b="$(echo "$RAW_C" | rate)" 'BEGIN { printf "consume ratio Swift envelopes only/raw = %.2f (the ceiling for a Swift consumer of owned envelopes)\n", a / b }'
if [[ -n ${RESULTS:-} ]]; then
    stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    for line in "$RAW_P" "$RAWH_P" "$CRR_P" "$RAW_C" "$CRR_C" "$RAWR_C" "$FLOOR_C"; do echo "${line%\}},\"at\":\"$stamp\"}" >> "$RESULTS"; done
fi
exec 3>&-
