/*
 * Raw librabbitmq (rabbitmq-c 0.11) side of the CourierAMQP benchmark: the same work Courier does, with no
 * Swift in between, on the same messages (payload and the properties a Courier envelope carries).
 *
 *   raw_bench produce HOST PORT EXCHANGE QUEUE COUNT SIZE WINDOW   confirmed persistent publishes, WINDOW in flight
 *   raw_bench consume HOST PORT QUEUE COUNT PREFETCH [ACK_EVERY]   consume with manual acks: one ack per message, or
 *                                                                  with ACK_EVERY > 1 one `multiple` ack for every
 *                                                                  ACK_EVERY messages and whenever no more frames are
 *                                                                  buffered (the way CourierAMQP batches its acks)
 *
 * Prints "<mode>: N messages in S s = R msg/s", then one JSON line:
 * {"side":"raw","step":...,"messages":...,"size":...,"msgPerSec":...,"cpuNsPerMsg":...}
 * (cpuNsPerMsg: user + system CPU time of the process per message).
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void die(const char *what) {
    fprintf(stderr, "raw_bench: %s failed\n", what);
    exit(1);
}

static void check_reply(amqp_connection_state_t conn, const char *what) {
    if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL) die(what);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* User + system CPU time of the process so far, in nanoseconds. */
static long long cpu_nanoseconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
}

static void report(const char *step, long count, long size, double seconds, long long cpu) {
    printf("%s: %ld messages in %.3f s = %.0f msg/s\n", step, count, seconds, count / seconds);
    printf("{\"side\":\"raw\",\"step\":\"%s\",\"messages\":%ld,\"size\":%ld,\"msgPerSec\":%.0f,\"cpuNsPerMsg\":%lld}\n",
           step, count, size, count / seconds, count > 0 ? cpu / count : 0);
}

static amqp_connection_state_t open_connection(const char *host, int port) {
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(conn);
    if (!socket || amqp_socket_open(socket, host, port) != AMQP_STATUS_OK) die("connect");
    amqp_rpc_reply_t login = amqp_login(conn, "/", 0, 131072, 10, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    if (login.reply_type != AMQP_RESPONSE_NORMAL) die("login");
    amqp_channel_open(conn, 1);
    check_reply(conn, "channel.open");
    return conn;
}

/* Reads confirms until at most `limit` publishes are unconfirmed. */
static void await_confirms(amqp_connection_state_t conn, uint64_t published, uint64_t *confirmed, uint64_t limit) {
    while (published - *confirmed > limit) {
        amqp_frame_t frame;
        if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK) die("wait for confirm");
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;
            *confirmed = ack->delivery_tag; /* in-order on one channel: multiple or not, all up to the tag */
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            die("publish (nacked)");
        } else if (frame.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
            die("publish (returned)");
        }
        amqp_maybe_release_buffers(conn);
    }
}

static int produce(const char *host, int port, const char *exchange, const char *queue, long count, long size, long window) {
    amqp_connection_state_t conn = open_connection(host, port);
    amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    check_reply(conn, "exchange.declare");
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    check_reply(conn, "queue.declare");
    amqp_queue_bind(conn, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes("#"), amqp_empty_table);
    check_reply(conn, "queue.bind");
    amqp_confirm_select(conn, 1);
    check_reply(conn, "confirm.select");

    char *payload = malloc(size > 0 ? size : 1);
    memset(payload, 'x', size);
    amqp_bytes_t body = {.len = size, .bytes = payload};
    /* The same properties a Courier envelope carries, so the broker handles the same message: a 36-byte
     * id, a timestamp, and a headers table with the millisecond timestamp. */
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_HEADERS_FLAG;
    props.delivery_mode = 2;
    char id[64], millis[24];
    amqp_table_entry_t header;
    header.key = amqp_cstring_bytes("courier-timestamp");
    header.value.kind = AMQP_FIELD_KIND_UTF8;
    props.headers.num_entries = 1;
    props.headers.entries = &header;

    double start = now_seconds();
    long long cpu = cpu_nanoseconds();
    uint64_t published = 0, confirmed = 0;
    for (long i = 0; i < count; i++) {
        snprintf(id, sizeof id, "raw00000-0000-0000-0000-%012ld", i);
        props.message_id = amqp_cstring_bytes(id);
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        props.timestamp = (uint64_t)wall.tv_sec;
        snprintf(millis, sizeof millis, "%lld", (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
        header.value.value.bytes = amqp_cstring_bytes(millis);
        if (amqp_basic_publish(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes(exchange), 1, 0, &props, body) != AMQP_STATUS_OK) die("publish");
        published++;
        await_confirms(conn, published, &confirmed, (uint64_t)window - 1);
    }
    await_confirms(conn, published, &confirmed, 0);
    double seconds = now_seconds() - start;
    report("produce", count, size, seconds, cpu_nanoseconds() - cpu);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    free(payload);
    return 0;
}

static int consume(const char *host, int port, const char *queue, long count, long prefetch, long ack_every) {
    amqp_connection_state_t conn = open_connection(host, port);
    amqp_basic_qos(conn, 1, 0, (uint16_t)prefetch, 0);
    check_reply(conn, "basic.qos");
    amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check_reply(conn, "basic.consume");
    double start = now_seconds();
    long long cpu = cpu_nanoseconds();
    long size = 0;
    long unacked = 0;
    for (long received = 0; received < count;) {
        amqp_envelope_t envelope;
        amqp_maybe_release_buffers(conn);
        amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, NULL, 0);
        if (reply.reply_type != AMQP_RESPONSE_NORMAL) die("consume");
        received++;
        unacked++;
        /* One ack per message; or, batched, a `multiple` ack when ACK_EVERY are unacked, the socket has
         * nothing more buffered (the next read would wait), or this is the last message. */
        if (ack_every <= 1 || unacked >= ack_every || received == count ||
            (!amqp_frames_enqueued(conn) && !amqp_data_in_buffer(conn))) {
            if (amqp_basic_ack(conn, 1, envelope.delivery_tag, ack_every > 1) != AMQP_STATUS_OK) die("ack");
            unacked = 0;
        }
        size = (long)envelope.message.body.len;
        amqp_destroy_envelope(&envelope);
    }
    double seconds = now_seconds() - start;
    report("consume", count, size, seconds, cpu_nanoseconds() - cpu);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 9 && strcmp(argv[1], "produce") == 0)
        return produce(argv[2], atoi(argv[3]), argv[4], argv[5], atol(argv[6]), atol(argv[7]), atol(argv[8]));
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "consume") == 0)
        return consume(argv[2], atoi(argv[3]), argv[4], atol(argv[5]), atol(argv[6]), argc == 8 ? atol(argv[7]) : 1);
    fprintf(stderr, "usage: raw_bench produce HOST PORT EXCHANGE QUEUE COUNT SIZE WINDOW | consume HOST PORT QUEUE COUNT PREFETCH [ACK_EVERY]\n");
    return 2;
}
