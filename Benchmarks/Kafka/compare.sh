#!/usr/bin/env bash
# Before/after comparison in one session: one fresh `courier kafka-mock` cluster, ROUNDS rounds, each running
# raw C, raw C with Courier's headers, the BASE build and this tree's build of CourierKafkaBenchmark one after
# the other on produce, then raw C, raw C subscribed to Courier's two topics, BASE and this tree on consume
# (all reading the same Courier-produced records, each in its own group). Alternating within a round, with
# BASE and this tree taking turns to go first, keeps a shared machine's swings from favouring one contender;
# with two CPUs the mock runs on CPU 0 and every client on CPU 1, as in the suite. Prints one JSON line per step, tagged with
# "contender" and "round"; summarize.py gives medians and ratios. Release builds; not a timed test.
#
#   BASE=/path/to/old/CourierKafkaBenchmark bash Benchmarks/Kafka/compare.sh [ROUNDS] [COUNT] [SIZE] > out.jsonl
#   python3 Benchmarks/Kafka/summarize.py out.jsonl
#
# Build BASE from an older commit without touching this repository, for example:
#   git archive <commit> | tar -x -C /tmp/base && (cd /tmp/base && swift build -c release --product CourierKafkaBenchmark)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROUNDS=${1:-5}
COUNT=${2:-100000}
SIZE=${3:-64}
SCRATCH=${SCRATCH:-.build}
WORK=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cc -O2 -o "$WORK/raw_bench" Benchmarks/Kafka/raw/raw_bench.c $(pkg-config --cflags --libs rdkafka)
swift build -c release --scratch-path "$SCRATCH" --product CourierKafkaBenchmark >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product courier >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
NEW=$BIN/CourierKafkaBenchmark
RAW=$WORK/raw_bench

# As the suite does: the mock cluster on CPU 0, every client on CPU 1, when there are two CPUs to pin to.
MOCK_CPU=() CLIENT_CPU=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then MOCK_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1); fi
RAW=("${CLIENT_CPU[@]}" "$RAW")
run_build() { # run_build base|new ARGS...: one CourierKafkaBenchmark step of that build, on the client CPU
    local program=$NEW
    [[ $1 == base ]] && program=$BASE
    shift
    "${CLIENT_CPU[@]}" "$program" "$@"
}

mkfifo "$WORK/commands"
"${MOCK_CPU[@]}" "$BIN/courier" kafka-mock --brokers 3 --topic courier:12 --topic p-raw:12 --topic p-rawh:12 --topic p-base:12 --topic p-new:12 \
    < "$WORK/commands" > "$WORK/mock.out" &
MOCK_PID=$!
exec 3>"$WORK/commands"
for _ in $(seq 50); do [[ -s $WORK/mock.out ]] && break; sleep 0.1; done
B=$(head -n1 "$WORK/mock.out")

run_build new produce "$B" courier "$COUNT" "$SIZE" >/dev/null
# One Courier group subscription makes the group's retry topic, which raw C then subscribes to as well.
run_build new consume "$B" courier 10 g0 >/dev/null
tag() { sed "s/^{/{\"contender\":\"$1\",\"round\":$2,/"; }
# BASE and this tree take turns going first, so neither always runs right after raw C.
builds() { if [[ -n ${BASE:-} ]] && (($1 % 2)); then echo "base new"; elif [[ -n ${BASE:-} ]]; then echo "new base"; else echo new; fi; }
for round in $(seq "$ROUNDS"); do
    "${RAW[@]}" produce "$B" p-raw "$COUNT" "$SIZE" --json | tag raw "$round"
    "${RAW[@]}" produce-headers "$B" p-rawh "$COUNT" "$SIZE" --json | tag raw-headers "$round"
    for build in $(builds "$round"); do
        run_build "$build" produce "$B" "p-$build" "$COUNT" "$SIZE" 1000 8 --json | tag "$build" "$round"
    done
    "${RAW[@]}" consume "$B" courier "$COUNT" "raw-$round" --json | tag raw "$round"
    "${RAW[@]}" consume-retry-topic "$B" courier "$COUNT" "raw-retry-$round" courier.retry.g0 --json | tag raw-retry-topic "$round"
    for build in $(builds "$round"); do
        run_build "$build" consume "$B" courier "$COUNT" "$build-$round" --json | tag "$build" "$round"
    done
done
exec 3>&-
