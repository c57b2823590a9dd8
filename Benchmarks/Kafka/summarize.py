#!/usr/bin/env python3
"""Medians of the JSON lines run.sh collects (RESULTS=FILE), per side and step, and the ratios of medians.

    RESULTS=results.jsonl bash Benchmarks/Kafka/run.sh 100000 64    # once per round, five rounds or more
    python3 Benchmarks/Kafka/summarize.py results.jsonl

Lines with a "contender" field are grouped by it instead of by "side" (for runs that compare builds).
The machine is shared and wall-clock rates swing between rounds: compare medians of rounds in which the
contenders alternated, and CPU per message as the steadier figure.
"""
import collections
import json
import statistics
import sys

rows = collections.defaultdict(list)
for path in sys.argv[1:] or ["/dev/stdin"]:
    with open(path) as lines:
        for line in lines:
            line = line.strip()
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            rows[(record["step"], record.get("contender", record["side"]))].append(record)

medians = {}
print(f"{'step':8} {'side':16} {'n':>2} {'msg/s median':>13} {'min':>9} {'max':>9} {'CPU ns/msg median':>18} {'min':>6} {'max':>6}")
for (step, side), records in sorted(rows.items()):
    rates = [r["msgPerSec"] for r in records]
    cpus = [r["cpuNsPerMsg"] for r in records]
    medians[(step, side)] = (statistics.median(rates), statistics.median(cpus))
    print(f"{step:8} {side:16} {len(records):2} {statistics.median(rates):13,.0f} {min(rates):9,} {max(rates):9,} "
          f"{statistics.median(cpus):18,.0f} {min(cpus):6,} {max(cpus):6,}")

print()
for (step, side), (rate, cpu) in sorted(medians.items()):
    if side in ("raw", "raw-headers", "raw-retry-topic"):
        continue
    for baseline in ("raw", "raw-headers", "raw-retry-topic"):
        if (step, baseline) in medians:
            base_rate, base_cpu = medians[(step, baseline)]
            print(f"{step:8} {side} / {baseline}: msg/s {rate / base_rate:.2f}, CPU per message (baseline / {side}) {base_cpu / cpu:.2f}")
