#!/usr/bin/python3
"""The benchmark suite behind `make bench` (run through Benchmarks/run-suite.sh, which builds and starts what
this needs): every contender on the same brokers in the same run, then BENCHMARKS.md rewritten.

Contenders alternate round by round (one warm-up round each, not counted, then BENCH_RUNS measured rounds),
so a slow moment of a shared machine spreads over all of them. Each program's own JSON result line is
preferred (msgPerSec, cpuNsPerMsg over its timed part); a program that prints only the human line
("... = R msg/s") gets its CPU time from its whole process (os rusage of the child, start-up included).
"""
import argparse
import datetime
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setting(name, default):
    value = os.environ.get(name, str(default))
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"suite: {name}={value!r} must be a positive whole number")
    return int(value)


RUNS = setting("BENCH_RUNS", 5)
AMQP_COUNT = setting("BENCH_AMQP_COUNT", 20000)
# 100,000: a Kafka consumer reads at about a million messages a second here, so 20,000 lasted 15 - 40 ms,
# shorter than one fetch wait (fetch.wait.max.ms=100) and dominated by how the group's first fetches
# happened to line up (the same binaries read 0.43x raw C at 20,000 and 0.69x at 100,000). The mock
# keeps 5 MB per partition: 100,000 x 256 B over 12 partitions fits.
KAFKA_COUNT = setting("BENCH_KAFKA_COUNT", 100000)
MEMORY_COUNT = setting("BENCH_MEMORY_COUNT", 100000)
SIZE = setting("BENCH_SIZE", 256)
WINDOW = setting("BENCH_WINDOW", 256)
PREFETCH = setting("BENCH_PREFETCH", 256)
PARTITIONS = setting("BENCH_PARTITIONS", 12)
LATENCY_RATE = setting("BENCH_LATENCY_RATE", 1000)
LATENCY_COUNT = setting("BENCH_LATENCY_COUNT", 1000)
PIN = bool(os.environ.get("BENCH_PIN", "1") == "1" and (os.cpu_count() or 1) >= 2 and shutil.which("taskset"))
OUTPUT = os.environ.get("BENCH_OUTPUT", os.path.join(ROOT, "BENCHMARKS.md"))
AMQP_URL = os.environ.get("COURIER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
# The code measured: the commit, marked when the working tree had changes.
COMMIT = ""
PROCESS_TIMEOUT = 600

failures = []
# The settings a saved run carries, so --report-only describes the run it reports.
SETTING_NAMES = ["RUNS", "AMQP_COUNT", "KAFKA_COUNT", "MEMORY_COUNT", "SIZE", "WINDOW", "PREFETCH", "PARTITIONS",
                 "LATENCY_RATE", "LATENCY_COUNT", "PIN", "AMQP_URL", "COMMIT"]


def log(text):
    print(f"suite: {text}", file=sys.stderr, flush=True)


def client(command):
    """Clients run on CPU 1, brokers on CPU 0, when pinning is on."""
    return (["taskset", "-c", "1"] if PIN else []) + command


def shell(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(label, command, messages):
    """Runs one contender round; returns {"rate", "cpu", "cpuSource"} or None (the failure is recorded)."""
    before = children_cpu()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        failures.append(f"{label}: no result within {PROCESS_TIMEOUT} s")
        return None
    process_cpu = children_cpu() - before
    if done.returncode != 0:
        failures.append(f"{label}: exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}")
        return None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{") and "msgPerSec" in line:
            try:
                result = json.loads(line)
                return {"rate": float(result["msgPerSec"]), "cpuTimed": float(result["cpuNsPerMsg"]), "cpuProcess": process_cpu * 1e9 / messages}
            except (ValueError, KeyError):
                pass
    match = re.search(r"= ([0-9.]+) msg/s", done.stdout)
    if not match:
        failures.append(f"{label}: no result line in {done.stdout.strip()[-200:]!r}")
        return None
    return {"rate": float(match.group(1)), "cpuTimed": None, "cpuProcess": process_cpu * 1e9 / messages}


def spread(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


class Table:
    """Results of one transport: step -> contender -> list of round results."""

    def __init__(self):
        self.rounds = {}

    def add(self, step, contender, result, measured):
        if result is not None and measured:
            self.rounds.setdefault(step, {}).setdefault(contender, []).append(result)

    def timed_cpu_everywhere(self, step):
        """Whether every contender of `step` reported the CPU time of its timed part (else all are compared
        on whole-process CPU time, start-up included, so the column stays like for like)."""
        return all(r["cpuTimed"] is not None for results in self.rounds.get(step, {}).values() for r in results)

    def summary(self, step, contender):
        results = self.rounds.get(step, {}).get(contender, [])
        if not results:
            return None
        timed = self.timed_cpu_everywhere(step)
        return {
            "rate": spread([r["rate"] for r in results]),
            "cpu": spread([r["cpuTimed"] if timed else r["cpuProcess"] for r in results]),
            "cpuSource": "timed part" if timed else "whole process",
            "rounds": len(results),
        }


def pin_broker(port):
    """Moves the RabbitMQ node listening on `port` to CPU 0; returns its pid to restore later."""
    if not PIN:
        return None
    match = re.search(r"pid=(\d+)", shell(["ss", "-Htlnp", f"sport = :{port}"]))
    if not match:
        log(f"no process found listening on port {port}; RabbitMQ is not pinned")
        return None
    shell(["taskset", "-a", "-p", "-c", "0", match.group(1)])
    return match.group(1)


def unpin(pid):
    if pid:
        shell(["taskset", "-a", "-p", "-c", f"0-{os.cpu_count() - 1}", pid])


def courier_bench(binary, arguments, label, pinned=False):
    command = [os.path.join(binary, "courier"), "bench"] + arguments + ["--json", "--quiet"]
    if pinned:
        command = client(command)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        failures.append(f"{label}: no result within an hour")
        return None
    if done.returncode != 0:
        failures.append(f"{label}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_suite(binary):
    common = ["--messages", str(MEMORY_COUNT), "--runs", str(RUNS), "--size", str(SIZE)]
    log("memory: producer ladder")
    producer = courier_bench(binary, ["producer"] + common, "memory producer")
    log("memory: consumer ladder")
    consumer = courier_bench(binary, ["consumer"] + common, "memory consumer")
    # The same ladder on one core: what each stage costs per message without its eight handlers settling
    # from two threads at once (which makes some runs two to three times slower, see the analysis).
    one_core = None
    if PIN:
        log("memory: consumer ladder on one core")
        one_core = courier_bench(binary, ["consumer"] + common, "memory consumer (one core)", pinned=True)
    return producer, consumer, one_core


def amqp_suite(binary, work, port):
    table = Table()
    run_id = "bench-" + secrets.token_hex(3)
    created = []
    for round_index in range(RUNS + 1):
        measured = round_index > 0
        log(f"RabbitMQ: {'warm-up' if not measured else f'round {round_index}/{RUNS}'}")
        for contender in ("raw C", "Courier", "Python"):
            tag = {"raw C": "raw", "Courier": "courier", "Python": "python"}[contender]
            exchange = f"{run_id}-r{round_index}-{tag}"
            queue = f"{exchange}.readers"
            created.append((exchange, queue))
            if contender == "raw C":
                produce = [os.path.join(work, "amqp_raw_bench"), "produce", "127.0.0.1", str(port), exchange, queue, str(AMQP_COUNT), str(SIZE), str(WINDOW)]
                consume = [os.path.join(work, "amqp_raw_bench"), "consume", "127.0.0.1", str(port), queue, str(AMQP_COUNT), str(PREFETCH)]
            elif contender == "Courier":
                program = os.path.join(binary, "CourierAMQPBenchmark")
                produce = [program, "produce", AMQP_URL, exchange, "readers", str(AMQP_COUNT), str(SIZE), str(WINDOW)]
                consume = [program, "consume", AMQP_URL, exchange, "readers", str(AMQP_COUNT), str(PREFETCH)]
            else:
                script = os.path.join(ROOT, "Benchmarks", "Python", "amqp_bench.py")
                produce = ["/usr/bin/python3", script, "produce", "127.0.0.1", str(port), exchange, queue, str(AMQP_COUNT), str(SIZE), str(WINDOW)]
                consume = ["/usr/bin/python3", script, "consume", "127.0.0.1", str(port), queue, str(AMQP_COUNT), str(PREFETCH)]
            table.add("confirmed publish", contender, run(f"RabbitMQ {contender} produce", client(produce), AMQP_COUNT), measured)
            table.add("consume", contender, run(f"RabbitMQ {contender} consume", client(consume), AMQP_COUNT), measured)
    delete_amqp(port, created)
    return table


def delete_amqp(port, created):
    """Removes the exchanges and (now empty) queues the rounds declared."""
    try:
        import pika

        connection = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port, credentials=pika.PlainCredentials("guest", "guest")))
        channel = connection.channel()
        for exchange, queue in created:
            channel.queue_delete(queue)
            channel.exchange_delete(exchange)
        connection.close()
    except Exception as error:  # leftovers are harmless; say so and go on
        log(f"could not delete the benchmark queues and exchanges: {error}")


class KafkaMock:
    """One `courier kafka-mock` cluster on CPU 0 for the whole Kafka part; stdin open keeps it running."""

    def __init__(self, binary, topics):
        command = [os.path.join(binary, "courier"), "kafka-mock", "--brokers", "3"]
        for topic in topics:
            command += ["--topic", f"{topic}:{PARTITIONS}"]
        if PIN:
            command = ["taskset", "-c", "0"] + command
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.bootstrap = self.process.stdout.readline().strip()
        if not self.bootstrap:
            raise RuntimeError("courier kafka-mock printed no bootstrap address")

    def close(self):
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=20)
        except (OSError, subprocess.SubprocessError):
            self.process.kill()
            self.process.wait()


def kafka_suite(binary, work, mock):
    table = Table()
    for round_index in range(RUNS + 1):
        measured = round_index > 0
        log(f"Kafka: {'warm-up' if not measured else f'round {round_index}/{RUNS}'}")
        script = os.path.join(ROOT, "Benchmarks", "Python", "kafka_bench.py")
        programs = {
            "raw C": [os.path.join(work, "kafka_raw_bench")],
            "Courier": [os.path.join(binary, "CourierKafkaBenchmark")],
            "Python": ["/usr/bin/python3", script],
        }
        for contender, program in programs.items():
            tag = {"raw C": "raw", "Courier": "courier", "Python": "python"}[contender]
            produce = program + ["produce", mock.bootstrap, f"r{round_index}-{tag}", str(KAFKA_COUNT), str(SIZE)]
            table.add("confirmed publish", contender, run(f"Kafka {contender} produce", client(produce), KAFKA_COUNT), measured)
        # Raw C writing the records Courier writes: the same payload and key, the record timestamp and the one
        # header Courier adds (`courier-id`, 36 characters), which librdkafka itself charges for.
        produce = programs["raw C"] + ["produce-headers", mock.bootstrap, f"r{round_index}-rawh", str(KAFKA_COUNT), str(SIZE)]
        table.add("confirmed publish", SAME_RECORDS, run(f"Kafka {SAME_RECORDS} produce", client(produce), KAFKA_COUNT), measured)
        # Not Courier: one Swift thread on librdkafka writing, for every message, the envelope and record Courier
        # writes and nothing else, the ceiling for any Swift producer of them (ProduceFloor.swift).
        produce = programs["Courier"] + ["produce-floor", mock.bootstrap, f"r{round_index}-floor", str(KAFKA_COUNT), str(SIZE)]
        table.add("confirmed publish", ENVELOPE_FLOOR, run(f"Kafka {ENVELOPE_FLOOR} produce", client(produce), KAFKA_COUNT), measured)
        # Every consumer reads what Courier produced (with Courier's headers), each in its own group.
        for contender, program in programs.items():
            tag = {"raw C": "raw", "Courier": "courier", "Python": "python"}[contender]
            consume = program + ["consume", mock.bootstrap, f"r{round_index}-courier", str(KAFKA_COUNT), f"{tag}-readers-r{round_index}"]
            table.add("consume", contender, run(f"Kafka {contender} consume", client(consume), KAFKA_COUNT), measured)
        # A Courier group subscription also reads its group's (empty) retry topic, created by Courier's run
        # above; raw C subscribed the same way shows what that costs librdkafka itself.
        topic, retry_topic = f"r{round_index}-courier", f"r{round_index}-courier.retry.courier-readers-r{round_index}"
        consume = programs["raw C"] + ["consume-retry-topic", mock.bootstrap, topic, str(KAFKA_COUNT), f"raw2-readers-r{round_index}", retry_topic]
        table.add("consume", SAME_SUBSCRIPTION, run(f"Kafka {SAME_SUBSCRIPTION} consume", client(consume), KAFKA_COUNT), measured)
        # Not Courier: one Swift thread on librdkafka building the envelope Courier hands out for every record
        # and nothing else, the ceiling for any Swift consumer of owned envelopes (EnvelopeFloor.swift).
        consume = programs["Courier"] + ["consume-floor", mock.bootstrap, topic, str(KAFKA_COUNT), f"floor-readers-r{round_index}"]
        table.add("consume", ENVELOPE_FLOOR, run(f"Kafka {ENVELOPE_FLOOR} consume", client(consume), KAFKA_COUNT), measured)
    return table


# The raw C consumer subscribed to the same two topics as a Courier group subscription.
SAME_SUBSCRIPTION = "raw C, Courier's two topics"
# The raw C producer writing the same records as Courier (its id header and the record timestamp).
SAME_RECORDS = "raw C, Courier's records"
# A Swift consumer that only builds an owned envelope per record: no CourierKafka.
ENVELOPE_FLOOR = "Swift, envelopes only"


def latency_suite(binary, mock):
    results = []
    transports = [("memory", "memory://bench", None), ("RabbitMQ", AMQP_URL, None)]
    if mock:
        transports.append(("Kafka", f"kafka://{mock.bootstrap}", "latency"))
        # The mock broker answers an empty fetch only after fetch.wait.max.ms (500 ms by default), even when
        # data arrives meanwhile; a short wait shows what the client itself adds.
        transports.append(("Kafka, fetch.wait.max.ms=10", f"kafka://{mock.bootstrap}?fetch.wait.max.ms=10", "latency"))
    for name, url, topic in transports:
        log(f"latency: {name}")
        arguments = ["latency", "--transport", url, "--rate", str(LATENCY_RATE), "--messages", str(LATENCY_COUNT), "--runs", str(RUNS), "--size", str(SIZE)]
        if url.startswith("amqp"):
            arguments += ["--confirm-window", str(WINDOW), "--persistent", "true"]
        if topic:
            arguments += ["--topic", topic]
        else:
            arguments += ["--topic", f"bench-latency-{secrets.token_hex(3)}"]
        command = client([os.path.join(binary, "courier"), "bench"] + arguments + ["--json", "--quiet"])
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                failures.append(f"latency {name}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
                continue
            results.append((name, json.loads(done.stdout.strip().splitlines()[-1])))
        except (subprocess.TimeoutExpired, ValueError, IndexError) as error:
            failures.append(f"latency {name}: {error}")
    return results


# ---------------------------------------------------------------- report


def machine():
    model = ""
    for line in shell(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    return {
        "cores": os.cpu_count(),
        "model": model or "unknown",
        "kernel": shell(["uname", "-srm"]),
        "memory": next((line.split()[1] for line in shell(["free", "-g"]).splitlines() if line.startswith("Mem:")), "?"),
    }


def versions():
    def package(name):
        return shell(["dpkg-query", "-W", "-f=${Version}", name]) or "not installed"

    swift = shell(["swift", "--version"]).splitlines()
    return {
        "Swift": swift[0] if swift else "unknown",
        "librabbitmq (rabbitmq-c)": shell(["pkg-config", "--modversion", "librabbitmq"]),
        "librdkafka": shell(["pkg-config", "--modversion", "rdkafka"]),
        "rabbitmq-server": package("rabbitmq-server"),
        "Python": shell(["/usr/bin/python3", "--version"]).replace("Python ", ""),
        "python3-pika": package("python3-pika"),
        "python3-confluent-kafka": package("python3-confluent-kafka"),
        "C compiler": shell(["cc", "--version"]).splitlines()[0] if shell(["cc", "--version"]) else "unknown",
    }


def fmt_rate(value):
    return f"{value:,.0f}"


def fmt_us(nanoseconds):
    return f"{nanoseconds / 1000:.2f}"


def transport_section(title, table, targets):
    lines = [f"## {title}", ""]
    ratio_rows = []
    for step in ("confirmed publish", "consume"):
        lines += [f"**{step}**", "", "| contender | msg/s median | min – max | CPU µs/msg (median) | CPU measured over |", "|---|---:|---:|---:|---|"]
        figures = {}
        contenders = ["raw C", "Courier", "Python"] + [extra for extra in (SAME_RECORDS, SAME_SUBSCRIPTION, ENVELOPE_FLOOR) if table.summary(step, extra)]
        for contender in contenders:
            summary = table.summary(step, contender)
            if not summary:
                lines.append(f"| {contender} | failed | | | |")
                continue
            figures[contender] = summary
            rate, cpu = summary["rate"], summary["cpu"]
            lines.append(f"| {contender} | {fmt_rate(rate['median'])} | {fmt_rate(rate['min'])} – {fmt_rate(rate['max'])} | {fmt_us(cpu['median'])} | {summary['cpuSource']} |")
        lines.append("")
        courier = figures.get("Courier")

        def ratio(other):
            if not courier or other not in figures:
                return None
            return courier["rate"]["median"] / figures[other]["rate"]["median"]

        records = ratio(SAME_RECORDS)
        if records is not None and figures.get("raw C"):
            floor = figures[SAME_RECORDS]["rate"]["median"] / figures["raw C"]["rate"]["median"]
            lines += [
                f"Courier / raw C writing the same records (its `courier-id` header and the record timestamp): **{records:.2f}**; "
                f"raw C writing them runs at {floor:.2f}× of raw C's header-less rate.",
                "",
            ]
        same = ratio(SAME_SUBSCRIPTION)
        if same is not None:
            lines += [f"Courier / raw C subscribed to the same two topics (the topic and its group's retry topic): **{same:.2f}**.", ""]
        if ENVELOPE_FLOOR in figures and figures.get("raw C"):
            ceiling = figures[ENVELOPE_FLOOR]["rate"]["median"] / figures["raw C"]["rate"]["median"]
            if step == "consume":
                what = ("building the envelope Courier hands out for each record, no hand-off, no async settle, no bookkeeping",
                        "consumer of owned envelopes")
            else:
                what = ("building Courier's envelope for each message and writing Courier's record, no batches, outcomes or breaker",
                        "producer of Courier's records")
            lines += [
                f"{ENVELOPE_FLOOR} (one Swift thread on librdkafka {what[0]}): **{ceiling:.2f}×** raw C, the ceiling for any "
                f"Swift {what[1]} here; Courier reaches {ratio(ENVELOPE_FLOOR) or 0:.2f} of it.",
                "",
            ]
        ratio_rows.append((f"{title} {step}", ratio("raw C"), ratio("Python"), targets[step]))
    return lines, ratio_rows


def memory_section(producer, consumer, one_core=None):
    lines = ["## Memory transport: what each pipeline stage costs", ""]
    overheads = []
    ladders = [("producer", producer, 1000), ("consumer", consumer, 1500)]
    if one_core:
        ladders.append(("consumer on one core (pinned to CPU 1)", one_core, None))
    for label, report, target in ladders:
        if not report:
            lines += [f"The {label} ladder has no figures in this run (not selected with --only, or see Failures).", ""]
            overheads.append((label, None, target))
            continue
        lines += [
            f"**{label}** ({report['messages']:,} messages per round, {report['payloadBytes']}-byte payloads; each row adds one stage to the row above)",
            "",
            "| stage | wall ns/msg median | min – max | CPU ns/msg | msg/s | stage adds (ns) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in report["rows"]:
            wall = row["wallNanosecondsPerMessage"]
            added = row.get("addedNanosecondsPerMessage")
            lines.append(
                f"| {row['name']} | {wall['median']:.0f} | {wall['min']:.0f} – {wall['max']:.0f} | "
                f"{row['cpuNanosecondsPerMessage']['median']:.0f} | {row['messagesPerSecond']:,.0f} | {'' if added is None else f'{added:+.0f}'} |"
            )
        rows = [row for row in report["rows"] if not row.get("besideLadder")]
        overhead = rows[-1]["wallNanosecondsPerMessage"]["median"] - rows[0]["wallNanosecondsPerMessage"]["median"]
        ratio = rows[-1]["wallNanosecondsPerMessage"]["median"] / max(rows[0]["wallNanosecondsPerMessage"]["median"], 1)
        if any(row.get("besideLadder") for row in report["rows"]):
            lines += ["", "Rows after the full pipeline are alternatives to it, not stages: their \"adds\" compares them with the full pipeline (the SQLite row is the durable store's extra cost per message)."]
        if target is None:
            lines += ["", f"Full consumer pipeline over the bare transport on one core: {overhead:.0f} ns/msg, {ratio:.2f}× the bare transport's time "
                      "(for comparison; the target is read on the ladder above, which uses both cores).", ""]
            continue
        overheads.append((label, overhead, target))
        lines += ["", f"Full {label} pipeline over the bare transport: **{overhead:.0f} ns/msg** (target ≤ {target} ns), {ratio:.2f}× the bare transport's time per message.", ""]
    return lines, overheads


def latency_section(results):
    lines = [
        "## Latency at a fixed rate (Courier, full producer and consumer pipelines)",
        "",
        f"{LATENCY_COUNT:,} messages per round at {LATENCY_RATE:,} msg/s (below saturation on every transport), {RUNS} rounds after a warm-up; "
        "each cell is the median over rounds of that round's percentile, with min – max. Confirmed publish: the producer's `publish` call "
        "until the broker confirmed. End to end: from that call to the handler running.",
        "",
        "| transport | publish p50 µs | publish p99 µs | end-to-end p50 µs | end-to-end p99 µs |",
        "|---|---:|---:|---:|---:|",
    ]

    def cell(spread):
        return f"{spread['median'] / 1000:.0f} ({spread['min'] / 1000:.0f} – {spread['max'] / 1000:.0f})"

    for name, report in results:
        lines.append(f"| {name} | {cell(report['publishP50'])} | {cell(report['publishP99'])} | {cell(report['endToEndP50'])} | {cell(report['endToEndP99'])} |")
    lines += [
        "",
        "The raw C programs and the Python scripts have no fixed-rate mode, so latency is Courier's alone here.",
        "",
    ]
    return lines


def instructions_suite():
    """Instructions per message for raw C and the Swift floors, counted by callgrind (Benchmarks/Kafka/instructions.sh)."""
    log("Kafka: instructions per message (callgrind)")
    if not shutil.which("valgrind"):
        failures.append("Kafka instructions: valgrind is missing (as root: apt-get install -y valgrind)")
        return None
    script = os.path.join(ROOT, "Benchmarks", "Kafka", "instructions.sh")
    try:
        done = subprocess.run(["bash", script], capture_output=True, text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        failures.append("Kafka instructions: instructions.sh took more than 20 minutes")
        return None
    if done.returncode != 0:
        failures.append(f"Kafka instructions: instructions.sh failed: {done.stderr.strip()[-300:]}")
        return None
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {f"{row['side']} {row['step']}": row["instructionsPerMessage"] for row in rows}


def instructions_section(counts):
    if not counts:
        return []
    lines = [
        "## Kafka: instructions per message (callgrind)",
        "",
        "`Benchmarks/Kafka/instructions.sh`: valgrind's callgrind over the whole process (librdkafka's threads included), "
        "runs of 20,000 and 100,000 messages against one `courier kafka-mock` cluster, the difference over 80,000 "
        "(start-up and group join cancel out). Counts do not drift with the host as times do. CourierKafka itself cannot "
        "run under valgrind 3.19 (an internal error on Swift's concurrency runtime); the Swift floors use none of it.",
        "",
        "| step | raw C | raw C doing Courier's part | Swift floor | raw C / floor | target for Courier |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, part, target in (("produce", "raw-headers", 0.7), ("consume", "raw-owned", 0.8)):
        raw, same, floor = (counts.get(f"{side} {step}") for side in ("raw", part, "swift-envelopes-only"))
        if not (raw and same and floor):
            lines.append(f"| {step} | missing | | | | |")
            continue
        lines.append(f"| {step} | {raw:,} | {same:,} ({raw / same:.2f}) | {floor:,} | **{raw / floor:.2f}** | ≥ {target} |")
    lines += [
        "",
        "Raw C doing Courier's part: writing Courier's records (the `courier-id` header and the record timestamp) on produce; "
        "copying each record's payload and id out (`consume-owned`) on consume. The Swift floors are the `produce-floor` and "
        "`consume-floor` programs of the Kafka section: Courier's envelope for each message on one thread, nothing else. "
        "CourierKafka does that work and more, so its ratio to raw C cannot exceed the floor's by work alone.",
        "",
    ]
    return lines


def write_report(started, finished, load_before, load_after, memory, amqp, kafka, latency, instructions=None):
    host = machine()
    lines = [
        "# Courier benchmarks",
        "",
        f"Generated by `make bench` (Benchmarks/run-suite.sh → Benchmarks/suite.py) on {started:%Y-%m-%d %H:%M} UTC, "
        f"{int((finished - started).total_seconds() // 60)} minutes. Do not edit by hand: run `make bench` again.",
        "",
        "## Machine",
        "",
        f"- {host['cores']} cores, {host['model']}, {host['memory']} GiB RAM, {host['kernel']}",
        f"- load average (1, 5, 15 min): {load_before} before, {load_after} after",
    ]
    note = os.environ.get("BENCH_NOTE")
    if note:
        lines.append(f"- {note}")
    lines += ["", "## Versions", "", f"- Courier: commit {COMMIT or 'not recorded'}"] + [f"- {name}: {value}" for name, value in versions().items()]
    lines += [
        "",
        "## Method",
        "",
        f"- Release builds (`swift build -c release`); raw C programs with `cc -O2`; Python contenders on Debian's python3 packages.",
        f"- Every contender: one warm-up round (not counted), then {RUNS} measured rounds; contenders alternate within each round. "
        "Reported: median and min – max of msg/s; CPU time per message (user + system, all threads, getrusage).",
        f"- RabbitMQ (local node, {re.sub(r'//[^@]*@', '//', AMQP_URL)}): {AMQP_COUNT:,} messages of {SIZE} bytes per round; durable topic exchange and durable queue; "
        f"persistent (delivery mode 2), mandatory publishes with a confirm window of {WINDOW}; consume with prefetch {PREFETCH} and one ack per message. "
        "Each contender publishes to its own fresh exchange and queue, then consumes that queue.",
        f"- Kafka (one `courier kafka-mock` cluster, 3 brokers, {PARTITIONS} partitions per topic, librdkafka {shell(['pkg-config', '--modversion', 'rdkafka'])}): "
        f"{KAFKA_COUNT:,} messages of {SIZE} bytes; idempotent producer, acks=all, linger.ms=5, 100 distinct keys; a message counts when its delivery report says stored; "
        "every producer sends one warm-up message and waits for its report before its clock starts; one more raw C producer writes the records Courier writes "
        "(the `courier-id` header and the record timestamp), and one Swift program without CourierKafka (`CourierKafkaBenchmark produce-floor`) "
        "writes them on one thread, building the envelope Courier builds for each message. Consumers: a group each, offsets stored per message, all reading the topic Courier produced that round, timed from the first message; "
        "one more raw C consumer subscribes to that topic and Courier's retry topic of its group, as a Courier group subscription does; "
        "and one Swift program without CourierKafka (`CourierKafkaBenchmark consume-floor`) reads it on one thread, building only the envelope "
        "Courier hands out for each record.",
        f"- Memory: `courier bench producer|consumer` ({MEMORY_COUNT:,} messages per round), one process, stages added one at a time.",
        "- CPU pinning: " + (
            "RabbitMQ and the Kafka mock cluster on CPU 0 (`taskset`), every client process on CPU 1, so broker and client do not take each other's core "
            "and every contender gets the same one core. The memory ladders are not pinned: they are one process and use both cores; "
            "the consumer ladder runs once more pinned to CPU 1 (what each stage costs without two threads contending), reported beside it."
            if PIN else "off (BENCH_PIN=0 or fewer than 2 cores)."
        ),
        "",
    ]
    ratio_rows = []
    memory_lines, overheads = memory_section(*memory)
    sections = []
    if amqp is not None:
        amqp_lines, rows = transport_section("RabbitMQ", amqp, {"confirmed publish": 0.8, "consume": 0.8})
        sections += amqp_lines
        ratio_rows += rows
    if kafka is not None:
        kafka_lines, rows = transport_section("Kafka", kafka, {"confirmed publish": 0.7, "consume": 0.8})
        sections += kafka_lines
        ratio_rows += rows

    lines += ["## Ratios", "", "| scenario | Courier / raw C | target | Courier / Python | target |", "|---|---:|---:|---:|---:|"]
    for scenario, raw, python, target in ratio_rows:
        def show(value, goal):
            if value is None:
                return "failed", ""
            return f"{value:.2f}", ("met" if value >= goal else "**missed**")

        raw_text, raw_verdict = show(raw, target)
        python_text, python_verdict = show(python, 1.0)
        lines.append(f"| {scenario} | {raw_text} | ≥ {target} {raw_verdict} | {python_text} | > 1 {python_verdict} |")
    for label, overhead, target in overheads:
        verdict = "no figures" if overhead is None else f"{overhead:.0f} ns/msg, {'met' if overhead <= target else '**missed**'}"
        lines.append(f"| memory {label} pipeline overhead | {verdict} | ≤ {target} ns | | |")
    lines.append("")
    lines += memory_lines + sections + instructions_section(instructions) + latency_section(latency)
    analysis = os.path.join(ROOT, "Benchmarks", "ANALYSIS.md")
    if os.path.exists(analysis):
        with open(analysis) as notes:
            lines += [notes.read().rstrip(), ""]
    lines += ["## Failures", ""] + ([f"- {failure}" for failure in failures] if failures else ["None: every round of every contender completed."]) + [""]
    with open(OUTPUT, "w") as output:
        output.write("\n".join(lines))
    log(f"wrote {OUTPUT}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="release bin path with courier, CourierAMQPBenchmark, CourierKafkaBenchmark")
    parser.add_argument("--work", required=True, help="folder with the compiled amqp_raw_bench and kafka_raw_bench")
    parser.add_argument("--amqp-port", type=int, default=5672)
    parser.add_argument("--only", default="memory,amqp,kafka,latency,instructions", help="comma-separated parts to run")
    parser.add_argument("--results", default=os.path.join(ROOT, ".build", "bench-results.json"), help="where the raw figures are kept")
    parser.add_argument("--report-only", action="store_true", help="rewrite BENCHMARKS.md from --results without measuring (e.g. after editing ANALYSIS.md)")
    arguments = parser.parse_args()
    if arguments.report_only:
        with open(arguments.results) as saved:
            kept = json.load(saved)
        failures.extend(kept["failures"])
        globals().update(kept["settings"])
        tables = []
        for rounds in (kept["amqp"], kept["kafka"]):
            table = None
            if rounds is not None:
                table = Table()
                table.rounds = rounds
            tables.append(table)
        write_report(
            datetime.datetime.fromisoformat(kept["started"]), datetime.datetime.fromisoformat(kept["finished"]),
            kept["loadBefore"], kept["loadAfter"], tuple(kept["memory"]), tables[0], tables[1], [tuple(item) for item in kept["latency"]],
            kept.get("instructions"),
        )
        return 0
    parts = set(arguments.only.split(","))
    global COMMIT
    COMMIT = shell(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or "unknown"
    # BENCHMARKS.md is this suite's own output: a previous run left uncommitted is not a code change.
    if shell(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)BENCHMARKS.md"]):
        COMMIT += " with uncommitted changes"
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())

    memory = memory_suite(arguments.bin) if "memory" in parts else (None, None, None)
    broker_pid = pin_broker(arguments.amqp_port)
    mock = None
    try:
        amqp = amqp_suite(arguments.bin, arguments.work, arguments.amqp_port) if "amqp" in parts else None
        kafka = None
        if "kafka" in parts or "latency" in parts:
            topics = [f"r{r}-{tag}" for r in range(RUNS + 1) for tag in ("raw", "rawh", "floor", "courier", "python")] + ["latency"]
            try:
                mock = KafkaMock(arguments.bin, topics)
            except (OSError, RuntimeError) as error:
                failures.append(f"Kafka: the mock cluster did not start: {error}")
            if mock and "kafka" in parts:
                kafka = kafka_suite(arguments.bin, arguments.work, mock)
        latency = latency_suite(arguments.bin, mock) if "latency" in parts else []
    finally:
        if mock:
            mock.close()
        unpin(broker_pid)
    instructions = instructions_suite() if "instructions" in parts else None
    load_after = " ".join(f"{value:.2f}" for value in os.getloadavg())
    finished = datetime.datetime.now(datetime.timezone.utc)
    os.makedirs(os.path.dirname(arguments.results), exist_ok=True)
    with open(arguments.results, "w") as saved:
        json.dump({
            "started": started.isoformat(), "finished": finished.isoformat(), "loadBefore": load_before, "loadAfter": load_after,
            "memory": memory, "amqp": amqp.rounds if amqp else None, "kafka": kafka.rounds if kafka else None,
            "latency": latency, "instructions": instructions, "failures": failures, "settings": {name: globals()[name] for name in SETTING_NAMES},
        }, saved)
    write_report(started, finished, load_before, load_after, memory, amqp, kafka, latency, instructions)
    for failure in failures:
        log(f"failed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
