/*
 * core_to_core: how long this host takes to hand one cache line from CPU 0 to CPU 1 and back.
 *
 *   cc -O2 -pthread -o core_to_core Benchmarks/host/core_to_core.c && ./core_to_core [ROUNDS]
 *
 * Two threads, pinned to CPUs 0 and 1, pass a flag back and forth ROUNDS times (default 100,000);
 * prints the mean round trip in nanoseconds. Every lock, counter and shared object a two-thread
 * pipeline touches from both sides costs about one such trip, so this is the unit the memory consumer's
 * two-core figures move in (see Benchmarks/ANALYSIS.md).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Alignas(64) atomic_int ball;
static long rounds = 100000;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *answer(void *unused) {
    (void)unused;
    pin(1);
    for (long i = 0; i < rounds; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 1) {}
        atomic_store_explicit(&ball, 0, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atol(argv[1]);
    if (rounds < 1) {
        fprintf(stderr, "core_to_core: ROUNDS must be a whole number of at least 1\n");
        return 2;
    }
    pthread_t other;
    if (pthread_create(&other, NULL, answer, NULL) != 0) {
        fprintf(stderr, "core_to_core: could not start the second thread\n");
        return 1;
    }
    pin(0);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < rounds; i++) {
        atomic_store_explicit(&ball, 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 0) {}
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(other, NULL);
    double nanoseconds = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("%.0f ns per round trip (%ld rounds, CPU 0 <-> CPU 1)\n", nanoseconds / rounds, rounds);
    return 0;
}
