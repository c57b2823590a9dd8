#!/usr/bin/env bash
# Instructions per message, counted by valgrind's callgrind instead of timed: the same on every run, where
# times on this host drift by up to 2x within minutes. Counts the whole process (every librdkafka thread)
# of raw C (raw/raw_bench.c) and of the Swift floors (CourierKafkaBenchmark produce-floor and consume-floor:
# Courier's envelope and record on librdkafka, without CourierKafka), each at two message counts, and reports
# the difference divided by the difference in messages, so start-up and group join cancel out.
# CourierKafka itself cannot be counted this way: valgrind 3.19 stops with an internal error on Swift's
# concurrency runtime (the floors use none); its place against the floors is in the timed runs.
# Not a timed test. Needs valgrind (Debian: valgrind) and a C compiler with librdkafka's headers.
#
#   bash Benchmarks/Kafka/instructions.sh [SMALL] [LARGE]     defaults: 20000 100000
#
# Prints one JSON object per contender and step: {"side","step","instructionsPerMessage"}, then the ratios
# the benchmark targets are about (raw C's instructions over the other's: 0.8 means 1.25x raw C's work).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SMALL=${1:-20000}
LARGE=${2:-100000}
command -v valgrind >/dev/null || { echo "instructions: valgrind is missing; as root: apt-get install -y valgrind" >&2; exit 1; }
swift build -c release --product CourierKafkaBenchmark >/dev/null
swift build -c release --product courier >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/raw_bench" Benchmarks/Kafka/raw/raw_bench.c $(pkg-config --cflags --libs rdkafka)

MOCK_CPU=() CLIENT_CPU=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then MOCK_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1); fi
TOPICS=()
for count in "$SMALL" "$LARGE"; do
    for tag in raw rawh floor courier; do TOPICS+=(--topic "$tag-$count:12"); done
done
mkfifo "$WORK/commands"
"${MOCK_CPU[@]}" "$BIN/courier" kafka-mock --brokers 3 "${TOPICS[@]}" < "$WORK/commands" > "$WORK/mock.out" &
MOCK_PID=$!
exec 3>"$WORK/commands"
for _ in $(seq 50); do [[ -s $WORK/mock.out ]] && break; sleep 0.1; done
B=$(head -n1 "$WORK/mock.out")

# instructions NAME COMMAND...: the program's total instruction count under callgrind.
instructions() {
    local name=$1
    shift
    "${CLIENT_CPU[@]}" valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.out" "$@" > /dev/null 2> "$WORK/$name.log" \
        || { echo "instructions: $name failed:" >&2; grep -v '^%' "$WORK/$name.log" | tail -5 >&2; exit 1; }
    awk '/^summary:|^totals:/ {print $2; exit}' "$WORK/$name.out"
}

declare -A TOTAL
for count in "$SMALL" "$LARGE"; do
    TOTAL[raw,produce,$count]=$(instructions "raw-produce-$count" "$WORK/raw_bench" produce "$B" "raw-$count" "$count" 256)
    TOTAL[raw-headers,produce,$count]=$(instructions "rawh-produce-$count" "$WORK/raw_bench" produce-headers "$B" "rawh-$count" "$count" 256)
    TOTAL[swift-envelopes-only,produce,$count]=$(instructions "floor-produce-$count" "$BIN/CourierKafkaBenchmark" produce-floor "$B" "floor-$count" "$count" 256)
    # The consumers read what Courier wrote (its headers), as in the suite; Courier's own run is not counted.
    "${CLIENT_CPU[@]}" "$BIN/CourierKafkaBenchmark" produce "$B" "courier-$count" "$count" 256 > /dev/null
    TOTAL[raw,consume,$count]=$(instructions "raw-consume-$count" "$WORK/raw_bench" consume "$B" "courier-$count" "$count" "raw-$count-$$")
    TOTAL[raw-owned,consume,$count]=$(instructions "owned-consume-$count" "$WORK/raw_bench" consume-owned "$B" "courier-$count" "$count" "owned-$count-$$")
    TOTAL[swift-envelopes-only,consume,$count]=$(instructions "floor-consume-$count" "$BIN/CourierKafkaBenchmark" consume-floor "$B" "courier-$count" "$count" "floor-$count-$$")
done

for key in "${!TOTAL[@]}"; do
    IFS=, read -r side step count <<< "$key"
    if [[ $count == "$LARGE" ]]; then echo "$side $step ${TOTAL[$side,$step,$SMALL]} ${TOTAL[$key]}"; fi
done | python3 -c '
import json, sys
small, large = int(sys.argv[1]), int(sys.argv[2])
rows = {}
for line in sys.stdin:
    side, step, at_small, at_large = line.split()
    rows[(side, step)] = (int(at_large) - int(at_small)) / (large - small)
for (side, step), per_message in sorted(rows.items(), key=lambda item: (item[0][1], item[1])):
    print(json.dumps({"side": side, "step": step, "instructionsPerMessage": round(per_message)}))
for step in ("produce", "consume"):
    raw = rows[("raw", step)]
    for (side, other_step), per_message in sorted(rows.items()):
        if other_step == step and side != "raw":
            print(f"{step}: raw C / {side} = {raw / per_message:.2f}")
' "$SMALL" "$LARGE"
