#!/usr/bin/env bash
# CourierAMQP benchmark: Courier vs raw librabbitmq (raw/raw_bench.c) in the same run, against the RabbitMQ
# at COURIER_AMQP_URL (default the local node of `.ci/rabbitmq start`, port 5672), with the same confirm
# window, prefetch, message size and persistence (delivery mode 2, mandatory publishes, durable topic
# exchange + durable queue bound with #, one ack per message). Release builds. Not a timed test.
#
#   bash Benchmarks/AMQP/run.sh [COUNT] [SIZE] [WINDOW] [PREFETCH]    defaults: 20000 256 256 256
#
# Courier rows: "produce" publishes through publish(contentsOf:) in batches of WINDOW (two batches under
# way), "produce-concurrent" through publish(_:) from WINDOW tasks; "consume" reads the first one's queue
# and "consume (2nd queue)" the second's. Each program also prints one JSON line per step
# ({"side","step","messages","size","msgPerSec","cpuNsPerMsg"}); they are repeated at the end for a suite.
# The raw program logs in as guest/guest on vhost "/" (the URL's host and port are used).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNT=${1:-20000}
SIZE=${2:-256}
WINDOW=${3:-256}
PREFETCH=${4:-256}
SCRATCH=${SCRATCH:-.build}
URL=${COURIER_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
# amqp://[user:password@]host[:port][/vhost] -> host, port
AUTHORITY=$(echo "$URL" | sed -E 's#^amqps?://([^@/]*@)?([^/?,]*).*#\2#')
HOST=${AUTHORITY%:*}
PORT=${AUTHORITY##*:}
[ "$HOST" = "$AUTHORITY" ] && PORT=5672
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cc -O2 -o "$WORK/raw_bench" Benchmarks/AMQP/raw/raw_bench.c $(pkg-config --cflags --libs librabbitmq)
swift build -c release --scratch-path "$SCRATCH" --product CourierAMQPBenchmark >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

RUN=bench-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -srm); librabbitmq $(pkg-config --modversion librabbitmq); broker $HOST:$PORT; $COUNT messages of $SIZE bytes, confirm window $WINDOW, prefetch $PREFETCH, persistent"
JSON=()
step() { # label, command...: prints the human line, keeps the JSON line
    local label=$1 out
    shift
    out=$("$@")
    echo "$label $(echo "$out" | grep -v '^{')"
    JSON+=("$(echo "$out" | grep '^{')")
}
rate() { echo "$1" | sed -E 's/.*"msgPerSec":([0-9]+).*/\1/'; }
step "raw C                 " "$WORK/raw_bench" produce "$HOST" "$PORT" "$RUN-raw" "$RUN-raw.readers" "$COUNT" "$SIZE" "$WINDOW"
step "Courier (batches)     " "$BIN/CourierAMQPBenchmark" produce "$URL" "$RUN-courier" readers "$COUNT" "$SIZE" "$WINDOW"
step "Courier (concurrent)  " "$BIN/CourierAMQPBenchmark" produce-concurrent "$URL" "$RUN-courier2" readers "$COUNT" "$SIZE" "$WINDOW"
step "raw C                 " "$WORK/raw_bench" consume "$HOST" "$PORT" "$RUN-raw.readers" "$COUNT" "$PREFETCH"
step "Courier               " "$BIN/CourierAMQPBenchmark" consume "$URL" "$RUN-courier" readers "$COUNT" "$PREFETCH"
step "Courier (2nd queue)   " "$BIN/CourierAMQPBenchmark" consume "$URL" "$RUN-courier2" readers "$COUNT" "$PREFETCH"
ratio() { awk -v a="$(rate "$2")" -v b="$(rate "$3")" -v what="$1" 'BEGIN { printf "%s ratio Courier/raw = %.2f (target >= 0.8)\n", what, a / b }'; }
ratio "produce (batches)   " "${JSON[1]}" "${JSON[0]}"
ratio "produce (concurrent)" "${JSON[2]}" "${JSON[0]}"
ratio "consume             " "${JSON[4]}" "${JSON[3]}"
ratio "consume (2nd queue) " "${JSON[5]}" "${JSON[3]}"
printf '%s\n' "${JSON[@]}"
echo "(queues $RUN-raw.readers, $RUN-courier.readers and $RUN-courier2.readers are left empty; delete them with rabbitmqctl if you like)"
