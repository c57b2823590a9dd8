#!/usr/bin/env bash
# CourierAMQP benchmark: Courier vs raw librabbitmq (raw/raw_bench.c) in the same run, against the RabbitMQ
# at COURIER_AMQP_URL (default the local node of `.ci/rabbitmq start`, port 5672), with the same confirm
# window, prefetch, message size and persistence (delivery mode 2, mandatory publishes, durable topic
# exchange + durable queue bound with #, one ack per message). Release builds. Not a timed test.
#
#   [ROUNDS=3] [SETTLE=5] [RAW_ACK_EVERY=1] [PIN=1] bash Benchmarks/AMQP/run.sh [COUNT] [SIZE] [WINDOW] [PREFETCH]
#       defaults: 20000 256 256 256
#
# PIN=1 (the default on 2+ cores with taskset) puts the RabbitMQ node listening on the port on CPU 0 and
# every contender on CPU 1, as `make bench` does: unpinned, the broker's busy-waiting schedulers and the
# client share cores at random and the consume rates split into two modes (about 33k and 80k msg/s here).
#
# The raw consumer acks every message on its own by default (the plain librabbitmq loop); RAW_ACK_EVERY=N
# (N > 1) makes it batch its acks the way Courier does: one `multiple` ack per N messages and whenever no
# more frames are buffered. Courier's consumer always batches (a `multiple` ack per quarter of the
# prefetch, or when the subscriber has settled everything handed out, or every 2 ms while deliveries flow).
#
# Each round runs every step once on fresh queues: the three produces, a pause of SETTLE seconds (the
# broker is still writing), then the consumes, raw first in odd rounds and Courier first in even ones. The
# summary gives each round's Courier/raw ratios and their median, since on a shared machine single runs
# swing widely.
#
# Courier rows: "produce" publishes through publish(contentsOf:) in batches of WINDOW (two batches under
# way), "produce-concurrent" through publish(_:) from WINDOW tasks; "consume" reads the first one's queue
# and "consume (2nd queue)" the second's. Each program also prints one JSON line per step
# ({"side","step","messages","size","msgPerSec","cpuNsPerMsg"}); they are printed at the end, each with its
# "round", for a suite to collect.
# The raw program logs in as guest/guest on vhost "/" (the URL's host and port are used).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNT=${1:-20000}
SIZE=${2:-256}
WINDOW=${3:-256}
PREFETCH=${4:-256}
ROUNDS=${ROUNDS:-3}
SETTLE=${SETTLE:-5}
RAW_ACK_EVERY=${RAW_ACK_EVERY:-1}
SCRATCH=${SCRATCH:-.build}
URL=${COURIER_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
# amqp://[user:password@]host[:port][/vhost] -> host, port
AUTHORITY=$(echo "$URL" | sed -E 's#^amqps?://([^@/]*@)?([^/?,]*).*#\2#')
HOST=${AUTHORITY%:*}
PORT=${AUTHORITY##*:}
[ "$HOST" = "$AUTHORITY" ] && PORT=5672
WORK=$(mktemp -d)
PIN=${PIN:-1}
BROKER_PID=""
CLIENT=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    BROKER_PID=$(ss -Htlnp "sport = :$PORT" | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -1)
    [ -n "$BROKER_PID" ] && taskset -a -p -c 0 "$BROKER_PID" >/dev/null
    CLIENT=(taskset -c 1)
fi
trap 'rm -rf "$WORK"; [ -n "$BROKER_PID" ] && taskset -a -p -c "0-$(($(nproc) - 1))" "$BROKER_PID" >/dev/null; true' EXIT

cc -O2 -o "$WORK/raw_bench" Benchmarks/AMQP/raw/raw_bench.c $(pkg-config --cflags --libs librabbitmq)
swift build -c release --scratch-path "$SCRATCH" --product CourierAMQPBenchmark >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -srm); librabbitmq $(pkg-config --modversion librabbitmq); broker $HOST:$PORT; $COUNT messages of $SIZE bytes, confirm window $WINDOW, prefetch $PREFETCH, persistent; raw acks every $RAW_ACK_EVERY message(s); $ROUNDS rounds; $([ -n "$BROKER_PID" ] && echo "broker on CPU 0, contenders on CPU 1" || echo "not pinned")"
JSON=()
step() { # index, label, command...: prints the human line, keeps the JSON line at its index in the round
    local index=$1 label=$2 out
    shift 2
    out=$("${CLIENT[@]}" "$@")
    echo "  $label $(echo "$out" | grep -v '^{')"
    JSON[$((6 * (ROUND - 1) + index))]="$(echo "$out" | grep '^{' | sed "s/^{/{\"round\":$ROUND,/")"
}
for ROUND in $(seq 1 "$ROUNDS"); do
    RUN=bench-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    echo "round $ROUND (load $(cut -d' ' -f1 /proc/loadavg)):"
    step 0 "raw C                " "$WORK/raw_bench" produce "$HOST" "$PORT" "$RUN-raw" "$RUN-raw.readers" "$COUNT" "$SIZE" "$WINDOW"
    step 1 "Courier (batches)    " "$BIN/CourierAMQPBenchmark" produce "$URL" "$RUN-courier" readers "$COUNT" "$SIZE" "$WINDOW"
    step 2 "Courier (concurrent) " "$BIN/CourierAMQPBenchmark" produce-concurrent "$URL" "$RUN-courier2" readers "$COUNT" "$SIZE" "$WINDOW"
    # The broker keeps writing persistent messages for a while after the confirms: a consume right after
    # the produces competes with that, so wait, and let raw and Courier take turns at going first.
    sleep "$SETTLE"
    if [ $((ROUND % 2)) -eq 1 ]; then
        step 3 "raw C                " "$WORK/raw_bench" consume "$HOST" "$PORT" "$RUN-raw.readers" "$COUNT" "$PREFETCH" "$RAW_ACK_EVERY"
        step 4 "Courier              " "$BIN/CourierAMQPBenchmark" consume "$URL" "$RUN-courier" readers "$COUNT" "$PREFETCH"
    else
        step 4 "Courier              " "$BIN/CourierAMQPBenchmark" consume "$URL" "$RUN-courier" readers "$COUNT" "$PREFETCH"
        step 3 "raw C                " "$WORK/raw_bench" consume "$HOST" "$PORT" "$RUN-raw.readers" "$COUNT" "$PREFETCH" "$RAW_ACK_EVERY"
    fi
    step 5 "Courier (2nd queue)  " "$BIN/CourierAMQPBenchmark" consume "$URL" "$RUN-courier2" readers "$COUNT" "$PREFETCH"
    echo "  (queues $RUN-raw.readers, $RUN-courier.readers and $RUN-courier2.readers are left empty; delete them with rabbitmqctl if you like)"
done
printf '%s\n' "${JSON[@]}" > "$WORK/results.json"
# Per round: Courier/raw for each Courier row; then the median over the rounds (six JSON lines per round,
# in the order above).
awk -v rounds="$ROUNDS" '
    { match($0, /"msgPerSec":[0-9]+/); rate[NR - 1] = substr($0, RSTART + 12, RLENGTH - 12) }
    function median(values, n,    i, j, t) {
        for (i = 1; i < n; i++) for (j = i; j > 0 && values[j - 1] > values[j]; j--) { t = values[j]; values[j] = values[j - 1]; values[j - 1] = t }
        return n % 2 ? values[int(n / 2)] : (values[n / 2 - 1] + values[n / 2]) / 2
    }
    END {
        split("produce (batches)|produce (concurrent)|consume|consume (2nd queue)", names, "|")
        split("1 2 4 5", courier, " "); split("0 0 3 3", raw, " ")
        for (k = 1; k <= 4; k++) {
            line = sprintf("%-21s Courier/raw per round:", names[k])
            for (r = 0; r < rounds; r++) { ratio[r] = rate[6 * r + courier[k]] / rate[6 * r + raw[k]]; line = line sprintf(" %.2f", ratio[r]) }
            printf "%s; median %.2f (target >= 0.8)\n", line, median(ratio, rounds)
        }
    }' "$WORK/results.json"
cat "$WORK/results.json"
