/*
 * bench.h - a minimal benchmark harness shared by bench/bench_*.c.
 *
 * BENCH_RUN(name, iters, body) runs `body` iters times per batch, over
 * BENCH_BATCHES batches, and prints "<name> <median> ns/op" using the
 * median batch (robust against a noisy neighbour on a 2-core machine).
 * bench_sink() keeps results alive so the optimizer cannot drop the work.
 */
#ifndef KP_BENCH_H
#define KP_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_BATCHES 21

static inline uint64_t
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static inline void
bench_report(const char *name, double *per_op, int n)
{
    qsort(per_op, (size_t)n, sizeof(*per_op), bench_cmp_double);
    printf("%s %.1f ns/op\n", name, per_op[n / 2]);
    fflush(stdout);
}

static inline void
bench_sink(const void *p)
{
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

#define BENCH_RUN(name, iters, body)                                          \
    do {                                                                      \
        double per_op_[BENCH_BATCHES];                                        \
        for (int b_ = 0; b_ < BENCH_BATCHES; b_++) {                          \
            uint64_t t0_ = bench_now_ns();                                    \
            for (long i_ = 0; i_ < (long)(iters); i_++) {                     \
                body;                                                         \
            }                                                                 \
            per_op_[b_] = (double)(bench_now_ns() - t0_) / (double)(iters);   \
        }                                                                     \
        bench_report((name), per_op_, BENCH_BATCHES);                         \
    } while (0)

#endif
