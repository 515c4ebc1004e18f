/* risk.c - risk metrics of a protocol state snapshot. */
#include "strategies/risk.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "chain/err.h"

void
risk_params_default(struct risk_params *p)
{
    assert(p != NULL);
    p->stress_move_bps = 1000;
    p->margin_bps = 0;
}

int
risk_params_check(const struct risk_params *p)
{
    assert(p != NULL);
    if (p->stress_move_bps == 0 || p->stress_move_bps > RISK_BPS)
        return KP_ECONFIG;
    if (p->margin_bps > RISK_BPS)
        return KP_ECONFIG;
    return 0;
}

void
risk_distance(struct u256 *dist, bool *below, const struct u256 *reserve,
              const struct u256 *level)
{
    assert(dist != NULL && below != NULL && reserve != NULL && level != NULL);
    *below = u256_cmp(reserve, level) < 0;
    if (*below)
        (void)u256_sub(dist, level, reserve);
    else
        (void)u256_sub(dist, reserve, level);
}


/* An unsigned amount in units of 10^decimals, as a double. */
static double
units(const struct u256 *a, unsigned decimals)
{
    return u256_to_units_double(a, decimals);
}

/* A two's complement amount in units of 10^decimals. */
static double
signed_units(const struct u256 *a, unsigned decimals)
{
    struct u256 mag;

    if (!u256_is_neg(a))
        return units(a, decimals);
    u256_neg(&mag, a);
    return -units(&mag, decimals);
}

static double
round_up(double x)
{
    return x > 0.0 ? nextafter(x, INFINITY) : x;
}

static double
round_down(double x)
{
    return x > 0.0 ? nextafter(x, 0.0) : x;
}

double
risk_shortfall_proxy(const struct u256 *open_interest, unsigned decimals,
                     const struct risk_params *p)
{
    double excess;

    assert(open_interest != NULL && p != NULL);
    if (decimals > STATE_DECIMALS_MAX)
        return INFINITY;
    if (p->margin_bps >= p->stress_move_bps)
        return 0.0;
    excess = (double)(p->stress_move_bps - p->margin_bps) / RISK_BPS;
    return round_up(units(open_interest, decimals) * excess);
}

/* Σ max(0, −(margin + size·(stressed − entry))) over the positions. */
static double
shortfall_at(const struct protocol_state *s, double stressed)
{
    double total = 0.0;

    for (size_t i = 0; i < s->n_positions; i++) {
        const struct position *pos = &s->positions[i];
        double size = signed_units(&pos->size, s->size_decimals);
        double entry = units(&pos->entry_price, s->price_decimals);
        double margin = units(&pos->margin, s->decimals);
        double equity = margin + size * (stressed - entry);

        if (equity < 0.0)
            total -= equity;
    }
    return total;
}

int
risk_shortfall_positions(double *shortfall, const struct protocol_state *s,
                         double mark, const struct risk_params *p)
{
    double m, up, down;

    assert(shortfall != NULL && s != NULL && p != NULL);
    *shortfall = 0.0;
    if (!isfinite(mark) || mark <= 0.0)
        return KP_EINVAL;
    if (s->decimals > STATE_DECIMALS_MAX ||
        s->size_decimals > STATE_DECIMALS_MAX ||
        s->price_decimals > STATE_DECIMALS_MAX)
        return KP_EINVAL;
    if (s->n_positions > 0 && s->positions == NULL)
        return KP_EINVAL;
    m = (double)p->stress_move_bps / RISK_BPS;
    up = shortfall_at(s, mark * (1.0 + m));
    down = shortfall_at(s, mark * (1.0 - m));
    *shortfall = round_up(up > down ? up : down);
    return 0;
}

double
risk_solvency_ratio(double reserve, double shortfall)
{
    if (isnan(reserve) || isnan(shortfall))
        return 0.0;
    if (shortfall <= 0.0)
        return INFINITY;
    if (reserve <= 0.0)
        return 0.0;
    return round_down(reserve / shortfall);
}

double
risk_vol_loading(double sigma_ewma, double sigma_long, double beta, double cap)
{
    double ratio, f;

    if (!isfinite(sigma_ewma) || !isfinite(sigma_long) || sigma_ewma <= 0.0 ||
        sigma_long <= 0.0)
        return 1.0;
    if (!isfinite(beta) || beta <= 0.0 || !isfinite(cap) || cap < 1.0)
        return 1.0;
    if (cap > RISK_LOADING_MAX)
        cap = RISK_LOADING_MAX;
    ratio = sigma_ewma / sigma_long;
    if (!(ratio > 1.0))
        return 1.0;
    f = pow(ratio, beta);
    return isfinite(f) && f < cap ? f : cap;
}

int
risk_loaded_target(struct u256 *out, const struct u256 *base, double factor)
{
    const uint64_t one = 1000000; /* factor resolution: 1e-6 */
    struct u256 hi, lo, d, part;
    double x;
    uint64_t ppm, b, rem;

    assert(out != NULL && base != NULL);
    if (!isfinite(factor) || factor < 1.0 || factor > RISK_LOADING_MAX)
        return KP_EINVAL;
    x = factor * (double)one;
    ppm = (uint64_t)x;
    if ((double)ppm < x)
        ppm++;
    /* base = hi·1e6 + lo, so base·ppm/1e6 = hi·ppm + lo·ppm/1e6 and the
     * second product (< 1e6 · 1e8) fits in 64 bits. */
    u256_from_u64(&d, one);
    (void)u256_divmod(&hi, &lo, base, &d);
    (void)u256_to_u64(&b, &lo);
    rem = (b * ppm) % one;
    u256_from_u64(&part, (b * ppm) / one + (rem != 0));
    if (u256_mul_u64(out, &hi, ppm) != 0 || u256_add(out, out, &part) != 0) {
        memset(out->w, 0xff, sizeof(out->w));
        return KP_EOVERFLOW;
    }
    return 0;
}

int
risk_haircut_bps(uint32_t *bps, const struct u256 *amount,
                 const struct u256 *positive_pnl)
{
    struct u256 a, p, num, one, q;
    unsigned shift;
    uint64_t v;

    assert(bps != NULL && amount != NULL && positive_pnl != NULL);
    a = *amount;
    p = *positive_pnl;
    *bps = 0;
    if (u256_is_zero(&p))
        return KP_EINVAL;
    if (u256_cmp(&a, &p) > 0) {
        *bps = RISK_BPS;
        return KP_ERANGE;
    }
    /* a·10^4 + p − 1 must fit: with p < 2^242 it does. Larger values are
     * scaled down, a rounded up and p down, so the result can only grow. */
    if ((shift = u256_bit_len(&p)) > 242) {
        shift -= 242;
        u256_shr(&a, &a, shift);
        (void)u256_add_u64(&a, &a, 1);
        u256_shr(&p, &p, shift);
    }
    u256_from_u64(&one, 1);
    (void)u256_mul_u64(&num, &a, RISK_BPS);
    (void)u256_add(&num, &num, &p);
    (void)u256_sub(&num, &num, &one);
    (void)u256_divmod(&q, NULL, &num, &p);
    (void)u256_to_u64(&v, &q);
    *bps = v > RISK_BPS ? RISK_BPS : (uint32_t)v;
    return 0;
}

static double
haircut_of(const struct protocol_state *s)
{
    if (u256_is_zero(&s->uncovered_debt))
        return 0.0;
    if (!s->has_positive_pnl)
        return NAN;
    if (u256_is_zero(&s->positive_pnl))
        return INFINITY;
    return round_up(u256_to_double(&s->uncovered_debt) /
                    u256_to_double(&s->positive_pnl));
}

static void
fill_distances(struct risk_metrics *m, const struct protocol_state *s)
{
    risk_distance(&m->to_target, &m->below_target, &s->reserve, &s->target);
    risk_distance(&m->to_critical, &m->below_critical, &s->reserve,
                  &s->critical);
    risk_distance(&m->to_depletion, &m->below_depletion, &s->reserve,
                  &s->depletion);
    m->has_debt = !u256_is_zero(&s->uncovered_debt);
}

int
risk_evaluate(struct risk_metrics *m, const struct risk_params *p,
              const struct protocol_state *s, double mark)
{
    int rc;

    assert(m != NULL && p != NULL && s != NULL);
    memset(m, 0, sizeof(*m));
    if ((rc = risk_params_check(p)) != 0 || (rc = protocol_state_check(s)) != 0)
        return rc;
    fill_distances(m, s);
    m->reserve = round_down(units(&s->reserve, s->decimals));
    if (s->n_positions > 0 &&
        risk_shortfall_positions(&m->shortfall, s, mark, p) == 0)
        m->shortfall_from_positions = true;
    else
        m->shortfall = risk_shortfall_proxy(&s->open_interest, s->decimals, p);
    m->solvency = risk_solvency_ratio(m->reserve, m->shortfall);
    m->health = m->solvency;
    m->haircut = haircut_of(s);
    return 0;
}
