#!/usr/bin/env bash
# What CourierKafka does per message, counted instead of timed: counts do not drift with the host, times
# here do (by up to 2x within minutes). Uprobes on the Swift runtime (swift_retain, swift_release),
# its concurrency library (swift_task_switch, swift_task_alloc) and, where glibc's symbols allow it,
# malloc's slow paths (_int_malloc, malloc_consolidate); `perf stat` over one consume and one publish
# of COUNT messages per build, against one `courier kafka-mock` cluster. Needs root and perf (Debian:
# linux-perf). Not a timed test; the probes are removed on exit.
#
#   bash Benchmarks/Kafka/counts.sh [COUNT] [CourierKafkaBenchmark ...]   defaults: 100000, this tree's build
#
# Prints one JSON object per build and step: {"build","step","messages", then each probe's count per message}.
# Null and immortal objects count too (swift_release(nil) is a call), so compare builds, not absolutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNT=${1:-100000}
shift || true
if ((EUID != 0)); then echo "counts: uprobes need root" >&2; exit 1; fi
command -v perf >/dev/null || { echo "counts: perf is missing; as root: apt-get install -y linux-perf" >&2; exit 1; }
swift build -c release --product CourierKafkaBenchmark >/dev/null
swift build -c release --product courier >/dev/null
BIN=$(swift build -c release --show-bin-path)
BUILDS=("$@")
((${#BUILDS[@]})) || BUILDS=("$BIN/CourierKafkaBenchmark")
WORK=$(mktemp -d)
trap 'perf probe -q -d "courier_counts:*" 2>/dev/null || true; kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

library() { ldd "${BUILDS[0]}" | awk -v name="$1" '$1 ~ "^" name {print $3; exit}'; }
SWIFT_CORE=$(library libswiftCore.so)
SWIFT_CONCURRENCY=$(library libswift_Concurrency.so)
LIBC=$(library libc.so.6)
perf probe -q -d "courier_counts:*" 2>/dev/null || true
perf probe -q -x "$SWIFT_CORE" -a 'courier_counts:retain=swift_retain' -a 'courier_counts:release=swift_release'
perf probe -q -x "$SWIFT_CONCURRENCY" -a 'courier_counts:task_switch=swift_task_switch' -a 'courier_counts:task_alloc=swift_task_alloc'
# glibc's internal functions are probeable only where its symbols are (debug symbols or a full symbol table).
# malloc_consolidate has inlined copies: -f names them malloc_consolidate_1 and so on, summed below.
perf probe -q -x "$LIBC" -a 'courier_counts:malloc_slow_path=_int_malloc' 2>/dev/null \
    || echo "counts: glibc's _int_malloc cannot be probed here (no symbols); malloc's slow paths are not counted" >&2
perf probe -q -f -x "$LIBC" -a 'courier_counts:malloc_consolidate=malloc_consolidate' 2>/dev/null \
    || echo "counts: glibc's malloc_consolidate cannot be probed here (no symbols); not counted" >&2

MOCK_CPU=() CLIENT_CPU=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then MOCK_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1); fi
mkfifo "$WORK/commands"
"${MOCK_CPU[@]}" "$BIN/courier" kafka-mock --brokers 3 --topic courier:12 < "$WORK/commands" > "$WORK/mock.out" &
MOCK_PID=$!
exec 3>"$WORK/commands"
for _ in $(seq 50); do [[ -s $WORK/mock.out ]] && break; sleep 0.1; done
B=$(head -n1 "$WORK/mock.out")
"${CLIENT_CPU[@]}" "${BUILDS[0]}" produce "$B" courier "$COUNT" 256 >/dev/null

# count BUILD STEP ARGS...: one run under perf stat, printed as per-message counts.
count() {
    local build=$1 step=$2
    shift 2
    "${CLIENT_CPU[@]}" perf stat -x, -e 'courier_counts:*' -o "$WORK/stat.csv" "$build" "$@" >/dev/null
    python3 - "$build" "$step" "$COUNT" "$WORK/stat.csv" <<'PYTHON'
import json, re, sys
build, step, count, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
totals = {}
for line in open(path):
    fields = line.strip().split(",")
    if len(fields) > 2 and fields[2].startswith("courier_counts:") and fields[0].isdigit():
        name = re.sub(r"_[0-9]+$", "", fields[2].split(":", 1)[1])
        totals[name] = totals.get(name, 0) + int(fields[0])
row = {"build": build, "step": step, "messages": count}
row.update({name: round(total / count, 3) for name, total in sorted(totals.items())})
print(json.dumps(row))
PYTHON
}
index=0
for build in "${BUILDS[@]}"; do
    index=$((index + 1))
    count "$build" consume consume "$B" courier "$COUNT" "counts-$index-$$"
    count "$build" publish produce "$B" "counts-$index-$$" "$COUNT" 256
done
exec 3>&-
