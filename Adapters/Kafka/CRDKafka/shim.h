// librdkafka's client API and its mock cluster, as one Clang module for CourierKafka's internal layer.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
