/* Tier policy and volatility estimator: the per-tick costs. */
#include <string.h>

#include "bench/bench.h"
#include "chain/u256.h"
#include "oracle/history.h"
#include "oracle/price.h"
#include "strategies/policy.h"

#define USD(x) ((uint64_t)(x)*1000000ull)

static void
setup(struct policy_params *p, struct protocol_state *s,
      struct oracle_price *px, uint64_t now)
{
    struct u256 ans;

    policy_params_default(p);
    protocol_state_init(s);
    s->block_number = 100;
    u256_from_u64(&s->reserve, USD(1200));
    u256_from_u64(&s->target, USD(1000));
    u256_from_u64(&s->critical, USD(800));
    u256_from_u64(&s->depletion, USD(300));
    u256_from_u64(&s->open_interest, USD(5000));
    u256_from_u64(&s->pool_available, USD(5000));
    u256_from_u64(&ans, 200000000000ull);
    (void)oracle_price_init(px, &ans, 8, now - 10, NULL);
}

static void
bench_decide(void)
{
    struct policy_params p;
    struct protocol_state s;
    struct oracle_price px;
    struct policy_memory m, fresh;
    struct policy_decision d;
    struct price_view pv = {NULL, 0.03, 0.02};
    uint64_t now = 1700000000;
    char line[2048];

    setup(&p, &s, &px, now);
    pv.price = &px;
    policy_memory_init(&m);
    BENCH_RUN("policy_decide_t1", 200000,
              policy_decide(&d, &m, &p, &s, &pv, now);
              bench_sink(&d));
    /* Below critical with a fresh memory each time: the full inject path
     * (caps, key, reason text). */
    u256_from_u64(&s.reserve, USD(500));
    policy_memory_init(&fresh);
    BENCH_RUN("policy_decide_t2_inject", 200000, m = fresh;
              policy_decide(&d, &m, &p, &s, &pv, now); bench_sink(&d));
    /* The same condition again: suppressed while in flight. */
    BENCH_RUN("policy_decide_t2_held", 200000,
              policy_decide(&d, &m, &p, &s, &pv, now);
              bench_sink(&d));
    BENCH_RUN("policy_decision_format", 100000,
              policy_decision_format(line, sizeof(line), &d);
              bench_sink(line));
}

static void
bench_ewma(void)
{
    struct oracle_history_params hp;
    struct oracle_history h;
    struct oracle_price px;
    struct u256 ans;
    uint64_t t = 1;
    double v = 0.0004;

    oracle_history_params_default(&hp);
    (void)oracle_history_init(&h, &hp);
    u256_from_u64(&ans, 200000000000ull);
    (void)oracle_price_init(&px, &ans, 8, 1, NULL);
    BENCH_RUN("oracle_ewma_step", 1000000,
              v = oracle_ewma_step(v, 0.94, 0.001, 60.0, false);
              bench_sink(&v));
    /* A full history update: order check, ring write, two estimators. */
    BENCH_RUN("oracle_history_push", 200000, px.updated_at = ++t;
              px.value = (t & 1) ? 2000.0 : 2001.0;
              oracle_history_push(&h, &px); bench_sink(&h));
    oracle_history_cleanup(&h);
}

int
main(void)
{
    bench_decide();
    bench_ewma();
    return 0;
}
