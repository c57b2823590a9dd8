#!/usr/bin/python3
"""python3-confluent-kafka side of the Kafka benchmark (the same librdkafka underneath): the same work and
settings as Benchmarks/Kafka/raw/raw_bench.c.

  kafka_bench.py produce BOOTSTRAP TOPIC COUNT SIZE    idempotent producer, acks=all, linger.ms=5; a message
                                                      counts when its delivery report says stored
  kafka_bench.py consume BOOTSTRAP TOPIC COUNT GROUP   group consumer, offsets stored per message
                                                      (enable.auto.offset.store=false), timed from the first message
"""
import sys

from confluent_kafka import Consumer, KafkaException, Producer

from bench_common import Meter, report


def fail(message):
    print(f"kafka_bench.py: {message}", file=sys.stderr)
    sys.exit(1)


def produce(bootstrap, topic, count, size):
    producer = Producer({
        "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
        "linger.ms": 5, "message.timeout.ms": 10000,
    })
    outcome = {"delivered": 0, "failed": 0}

    def on_delivery(error, _message):
        outcome["failed" if error else "delivered"] += 1

    payload = b"x" * size
    # Outside the timed part, as on Courier's side: connections, metadata and the idempotent producer id.
    producer.produce(topic, payload, key="warm-up", on_delivery=on_delivery)
    while outcome["delivered"] + outcome["failed"] < 1:
        producer.poll(0.01)
    if outcome["failed"]:
        fail("the warm-up message was not delivered")
    outcome["delivered"] = 0
    meter = Meter()
    meter.start()
    for index in range(count):
        while True:
            try:
                producer.produce(topic, payload, key=f"key-{index % 100}", on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    while outcome["delivered"] + outcome["failed"] < count:
        producer.poll(0.01)
    meter.stop()
    if outcome["failed"]:
        fail(f"{outcome['failed']} of {count} messages failed")
    report("produce", count, size, meter)


def consume(bootstrap, topic, count, group):
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.offset.store": False, "enable.auto.commit": True, "auto.commit.interval.ms": 1000,
    })
    consumer.subscribe([topic])
    meter = Meter()
    received = 0
    payload_bytes = 0
    while received < count:
        message = consumer.poll(0.1)
        if message is None:
            continue
        if message.error():
            continue
        if received == 0:
            meter.start()
        message.headers()
        payload_bytes += len(message.value() or b"")
        received += 1
        consumer.store_offsets(message)
    meter.stop()
    consumer.close()
    report("consume", count, payload_bytes // max(1, count), meter)


USAGE = "usage: kafka_bench.py produce BOOTSTRAP TOPIC COUNT SIZE | consume BOOTSTRAP TOPIC COUNT GROUP"


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if len(argv) != 6 or mode not in ("produce", "consume"):
        fail(USAGE)
    try:
        count = int(argv[4])
        size = int(argv[5]) if mode == "produce" else 0
    except ValueError:
        fail("COUNT and SIZE are numbers; " + USAGE)
    if count < 1 or size < 0:
        fail("COUNT must be at least 1 and SIZE at least 0")
    try:
        if mode == "produce":
            produce(argv[2], argv[3], count, size)
        else:
            consume(argv[2], argv[3], count, argv[5])
    except KafkaException as error:
        fail(str(error))


if __name__ == "__main__":
    main(sys.argv)
