#!/usr/bin/python3
"""python3-pika side of the RabbitMQ benchmark: the same work as Benchmarks/AMQP/raw/raw_bench.c.

  amqp_bench.py produce HOST PORT EXCHANGE QUEUE COUNT SIZE WINDOW   confirmed persistent publishes, WINDOW in flight
  amqp_bench.py consume HOST PORT QUEUE COUNT PREFETCH               manual acks, one ack per message

Durable topic exchange and durable queue bound with '#', delivery mode 2, mandatory publishes, a message id
each. Publishing uses pika's SelectConnection so WINDOW publishes can await their confirms at once (the
BlockingConnection waits for each confirm before the next publish, a window of 1).
"""
import sys

import pika

from bench_common import Meter, report


def fail(message):
    print(f"amqp_bench.py: {message}", file=sys.stderr)
    sys.exit(1)


def parameters(host, port):
    return pika.ConnectionParameters(host=host, port=port, credentials=pika.PlainCredentials("guest", "guest"), heartbeat=10)


def produce(host, port, exchange, queue, count, size, window):
    body = b"x" * size
    meter = Meter()
    state = {"published": 0, "confirmed": 0, "channel": None}

    def publish_more():
        channel = state["channel"]
        while state["published"] < count and state["published"] - state["confirmed"] < window:
            properties = pika.BasicProperties(delivery_mode=2, message_id=f"py-{state['published']}")
            channel.basic_publish(exchange, exchange, body, properties, mandatory=True)
            state["published"] += 1

    def on_confirm(frame):
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            fail("publish nacked")
        # In order on one channel: an ack with multiple confirms everything up to its tag.
        state["confirmed"] = method.delivery_tag if method.multiple else max(state["confirmed"], method.delivery_tag)
        if state["confirmed"] >= count:
            meter.stop()
            connection.close()
        else:
            publish_more()

    def on_return(channel, method, properties, body):
        fail(f"publish returned: {method.reply_text}")

    def on_confirm_mode(_frame):
        meter.start()
        publish_more()

    def on_bound(_frame):
        state["channel"].confirm_delivery(on_confirm, callback=on_confirm_mode)

    def on_queue(_frame):
        state["channel"].queue_bind(queue, exchange, routing_key="#", callback=on_bound)

    def on_exchange(_frame):
        state["channel"].queue_declare(queue, durable=True, callback=on_queue)

    def on_channel(channel):
        state["channel"] = channel
        channel.add_on_return_callback(on_return)
        channel.exchange_declare(exchange, exchange_type="topic", durable=True, callback=on_exchange)

    def on_open_error(_connection, error):
        fail(f"connect: {error}")

    connection = pika.SelectConnection(
        parameters(host, port),
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_open_error_callback=on_open_error,
        on_close_callback=lambda c, reason: c.ioloop.stop(),
    )
    connection.ioloop.start()
    if state["confirmed"] < count:
        fail(f"only {state['confirmed']} of {count} publishes were confirmed")
    report("produce", count, size, meter)


def consume(host, port, queue, count, prefetch):
    connection = pika.BlockingConnection(parameters(host, port))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    meter = Meter()
    state = {"received": 0, "bytes": 0}

    def on_message(channel, method, properties, body):
        channel.basic_ack(method.delivery_tag)
        state["received"] += 1
        state["bytes"] += len(body)
        if state["received"] == count:
            channel.stop_consuming()

    channel.basic_consume(queue, on_message, auto_ack=False)
    meter.start()
    channel.start_consuming()
    meter.stop()
    connection.close()
    report("consume", count, state["bytes"] // max(1, count), meter)


USAGE = "usage: amqp_bench.py produce HOST PORT EXCHANGE QUEUE COUNT SIZE WINDOW | consume HOST PORT QUEUE COUNT PREFETCH"


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    try:
        if mode == "produce" and len(argv) == 9:
            count, size, window = int(argv[6]), int(argv[7]), int(argv[8])
            if count < 1 or size < 0 or window < 1:
                fail("COUNT and WINDOW must be at least 1, SIZE at least 0")
            return produce(argv[2], int(argv[3]), argv[4], argv[5], count, size, window)
        if mode == "consume" and len(argv) == 7:
            count, prefetch = int(argv[5]), int(argv[6])
            if count < 1 or not 1 <= prefetch <= 65535:
                fail("COUNT must be at least 1, PREFETCH 1...65535")
            return consume(argv[2], int(argv[3]), argv[4], count, prefetch)
    except ValueError:
        fail("PORT, COUNT, SIZE, WINDOW and PREFETCH are numbers; " + USAGE)
    fail(USAGE)


if __name__ == "__main__":
    main(sys.argv)
