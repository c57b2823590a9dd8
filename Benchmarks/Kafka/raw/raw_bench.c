/*
 * Raw librdkafka baseline for the Courier Kafka benchmark: the same work as CourierKafkaBenchmark with the
 * same settings, in plain C.
 *
 *   raw_bench produce BOOTSTRAP TOPIC COUNT SIZE [--json]   idempotent producer, acks=all, linger.ms=5;
 *                                                          counts a message when its delivery report says stored
 *   raw_bench produce-headers ...                          the same, each message written as Courier writes it:
 *                                                          one header, courier-id (a 36-character id), and the
 *                                                          creation time as the record timestamp, so the
 *                                                          records on the wire are the same as Courier's
 *   raw_bench consume BOOTSTRAP TOPIC COUNT GROUP [--json]  group consumer, rd_kafka_consumer_poll,
 *                                                          enable.auto.offset.store=false, offset stored per message,
 *                                                          fetch.wait.max.ms=100 (Courier's consumer default)
 *   raw_bench consume-owned BOOTSTRAP TOPIC COUNT GROUP [--json]
 *                                                          the same, each record first copied into a message of its
 *                                                          own, as an API that hands out owned messages must: the
 *                                                          payload and the courier-id header's value copied out,
 *                                                          three allocations freed after the offset is stored
 *   raw_bench consume-retry-topic BOOTSTRAP TOPIC COUNT GROUP RETRY_TOPIC [--json]
 *                                                          the same, subscribed to RETRY_TOPIC (empty) as well, as a
 *                                                          Courier group subscription is to its retry topic
 *
 * Prints one line: "<mode> <count> messages in <seconds> s = <rate> msg/s ...", or with --json one JSON object:
 * {"side":"raw","step":"produce","messages":N,"size":B,"msgPerSec":R,"cpuNsPerMsg":C}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <librdkafka/rdkafka.h>

static long delivered, failed;
static int json;
static int with_headers;
static int owned_copies;
static const char *retry_topic;

/* A record copied out of librdkafka's buffers: what a consumer API handing out owned messages makes. */
struct owned_record {
    char *id;
    unsigned char *payload;
    size_t length;
};

/* Copies `message` (its payload and its courier-id header, when present) into memory of its own. */
static struct owned_record *copy_record(const rd_kafka_message_t *message) {
    struct owned_record *record = malloc(sizeof *record);
    if (!record) return NULL;
    record->length = message->len;
    record->payload = malloc(message->len ? message->len : 1);
    if (record->payload && message->len) memcpy(record->payload, message->payload, message->len);
    record->id = NULL;
    rd_kafka_headers_t *headers = NULL;
    const void *value = NULL;
    size_t size = 0;
    if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR
        && rd_kafka_header_get_last(headers, "courier-id", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR && value) {
        record->id = malloc(size + 1);
        if (record->id) {
            memcpy(record->id, value, size);
            record->id[size] = 0;
        }
    }
    return record;
}

static void free_record(struct owned_record *record) {
    if (!record) return;
    free(record->id);
    free(record->payload);
    free(record);
}

/* CPU time (user + system) of this process so far, in nanoseconds. */
static long long cpu_ns(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL
         + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
}

static void report(const char *step, long count, size_t size, double seconds, long long cpu, const char *extra) {
    if (json)
        printf("{\"side\":\"%s\",\"step\":\"%s\",\"messages\":%ld,\"size\":%zu,\"msgPerSec\":%.0f,\"cpuNsPerMsg\":%lld}\n",
               with_headers ? "raw-headers" : retry_topic ? "raw-retry-topic" : owned_copies ? "raw-owned" : "raw", step, count, size, count / seconds, count ? cpu / count : 0);
    else
        printf("%s %ld messages in %.3f s = %.0f msg/s %s, %lld ns CPU/msg\n", step, count, seconds, count / seconds, extra, count ? cpu / count : 0);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wall-clock milliseconds since 1970, as Courier stamps a record. */
static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk; (void)opaque;
    if (message->err) failed++; else delivered++;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "raw_bench: %s\n", error);
        exit(1);
    }
}

/* A 36-character id in UUID form with `index` in both halves, formatted by hand as Courier's Envelope.makeID
 * formats its random bytes (snprintf took about 1,200 instructions a message, several times Courier's id). */
static void format_id(char id[37], unsigned long index) {
    static const char digits[] = "0123456789abcdef";
    memcpy(id, "00000000-0000-4000-8000-000000000000", 37);
    unsigned long high = index;
    for (int position = 7; position >= 0; position--, high >>= 4) id[position] = digits[high & 15];
    for (int position = 35; position >= 24; position--, index >>= 4) id[position] = digits[index & 15];
}

static int produce(const char *bootstrap, const char *topic, long count, size_t size) {
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "enable.idempotence", "true");
    set(conf, "acks", "all");
    set(conf, "linger.ms", "5");
    set(conf, "message.timeout.ms", "10000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!rk) { fprintf(stderr, "raw_bench: %s\n", error); return 1; }
    char *payload = malloc(size);
    memset(payload, 'x', size);
    /* Outside the timed part, as on Courier's side: connections, metadata and the idempotent producer id. */
    rd_kafka_resp_err_t warm_up = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY("warm-up", 7), RD_KAFKA_V_VALUE(payload, size),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (warm_up) { fprintf(stderr, "raw_bench: produce: %s\n", rd_kafka_err2str(warm_up)); return 1; }
    while (delivered + failed < 1) rd_kafka_poll(rk, 10);
    if (failed) { fprintf(stderr, "raw_bench: the warm-up message was not delivered\n"); return 1; }
    delivered = 0;
    double start = now();
    long long cpu_start = cpu_ns();
    for (long index = 0; index < count; index++) {
        char key[32];
        snprintf(key, sizeof key, "key-%ld", index % 100);
        for (;;) {
            rd_kafka_resp_err_t err;
            if (with_headers) {
                char id[37];
                format_id(id, (unsigned long)index);
                err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_TIMESTAMP(wall_ms()),
                    RD_KAFKA_V_HEADER("courier-id", id, 36), RD_KAFKA_V_END);
            } else {
                err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            }
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) { rd_kafka_poll(rk, 10); continue; }
            if (err) { fprintf(stderr, "raw_bench: produce: %s\n", rd_kafka_err2str(err)); return 1; }
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    while (delivered + failed < count) rd_kafka_poll(rk, 10);
    double seconds = now() - start;
    long long cpu = cpu_ns() - cpu_start;
    char extra[64];
    snprintf(extra, sizeof extra, "(%ld failed)", failed);
    report("produce", delivered, size, seconds, cpu, extra);
    rd_kafka_destroy(rk);
    free(payload);
    return failed ? 1 : 0;
}

static int consume(const char *bootstrap, const char *topic, long count, const char *group) {
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", group);
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "enable.auto.commit", "true");
    set(conf, "auto.commit.interval.ms", "1000");
    set(conf, "fetch.wait.max.ms", "100");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!rk) { fprintf(stderr, "raw_bench: %s\n", error); return 1; }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    if (retry_topic) rd_kafka_topic_partition_list_add(topics, retry_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    long received = 0;
    size_t bytes = 0;
    double start = 0;
    long long cpu_start = 0;
    while (received < count) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        if (!message) continue;
        if (!message->err) {
            if (received == 0) { start = now(); cpu_start = cpu_ns(); }
            if (owned_copies) {
                struct owned_record *record = copy_record(message);
                bytes += record ? record->length : 0;
                received++;
                rd_kafka_offset_store(message->rkt, message->partition, message->offset);
                free_record(record);
            } else {
                rd_kafka_headers_t *headers = NULL;
                rd_kafka_message_headers(message, &headers);
                bytes += message->len;
                received++;
                rd_kafka_offset_store(message->rkt, message->partition, message->offset);
            }
        }
        rd_kafka_message_destroy(message);
    }
    double seconds = now() - start;
    long long cpu = cpu_ns() - cpu_start;
    char extra[64];
    snprintf(extra, sizeof extra, "(%zu payload bytes)", bytes);
    report("consume", received, received ? bytes / received : 0, seconds, cpu, extra);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[argc - 1], "--json")) { json = 1; argc--; }
    if (argc == 6 && !strcmp(argv[1], "produce")) return produce(argv[2], argv[3], atol(argv[4]), (size_t)atol(argv[5]));
    if (argc == 6 && !strcmp(argv[1], "produce-headers")) {
        with_headers = 1;
        return produce(argv[2], argv[3], atol(argv[4]), (size_t)atol(argv[5]));
    }
    if (argc == 6 && !strcmp(argv[1], "consume")) return consume(argv[2], argv[3], atol(argv[4]), argv[5]);
    if (argc == 6 && !strcmp(argv[1], "consume-owned")) {
        owned_copies = 1;
        return consume(argv[2], argv[3], atol(argv[4]), argv[5]);
    }
    if (argc == 7 && !strcmp(argv[1], "consume-retry-topic")) {
        retry_topic = argv[6];
        return consume(argv[2], argv[3], atol(argv[4]), argv[5]);
    }
    fprintf(stderr, "usage: raw_bench produce|produce-headers BOOTSTRAP TOPIC COUNT SIZE [--json] | consume|consume-owned BOOTSTRAP TOPIC COUNT GROUP [--json] | consume-retry-topic BOOTSTRAP TOPIC COUNT GROUP RETRY_TOPIC [--json]\n");
    return 2;
}
