// librdkafka's client API and its mock cluster, as one Clang module for CourierKafka's internal layer.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <pthread.h>

/// Names the calling thread for top, perf and gdb (at most 15 bytes). glibc declares
/// pthread_setname_np only under _GNU_SOURCE, which this module map does not set.
static inline void courier_name_current_thread(const char *name) {
    extern int pthread_setname_np(pthread_t thread, const char *name);
    (void)pthread_setname_np(pthread_self(), name);
}
