/* history.c - bounded price history and EWMA volatility. */
#include "oracle/history.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

void
oracle_history_params_default(struct oracle_history_params *p)
{
    assert(p != NULL);
    p->capacity = 1024;
    p->lambda_day = 0.94;
    p->lambda_long_day = 0.995;
    p->min_returns = 10;
}

static bool
lambda_ok(double l)
{
    return isfinite(l) && l > 0.0 && l < 1.0;
}

int
oracle_history_params_check(const struct oracle_history_params *p)
{
    assert(p != NULL);
    if (p->capacity < 2 || p->capacity > ORACLE_HISTORY_CAP_MAX)
        return KP_ECONFIG;
    if (!lambda_ok(p->lambda_day) || !lambda_ok(p->lambda_long_day))
        return KP_ECONFIG;
    /* The long-run estimator exists to be slower; the reverse would turn
     * the volatility loading upside down. */
    if (p->lambda_long_day < p->lambda_day)
        return KP_ECONFIG;
    return 0;
}

int
oracle_history_init(struct oracle_history *h,
                    const struct oracle_history_params *p)
{
    int rc;

    assert(h != NULL && p != NULL);
    memset(h, 0, sizeof(*h));
    if ((rc = oracle_history_params_check(p)) != 0)
        return rc;
    h->ring = kp_xcalloc(p->capacity, sizeof(*h->ring));
    h->capacity = p->capacity;
    h->fast.lambda_day = p->lambda_day;
    h->slow.lambda_day = p->lambda_long_day;
    h->min_returns = p->min_returns;
    return 0;
}

void
oracle_history_cleanup(struct oracle_history *h)
{
    if (h == NULL)
        return;
    free(h->ring);
    memset(h, 0, sizeof(*h));
}

double
oracle_ewma_step(double var, double lambda_day, double r, double dt, bool seed)
{
    double day_var = r * r * ((double)ORACLE_SECONDS_PER_DAY / dt);
    double l;

    assert(dt > 0.0);
    if (seed)
        return day_var;
    l = pow(lambda_day, dt / (double)ORACLE_SECONDS_PER_DAY);
    return l * var + (1.0 - l) * day_var;
}

/* Whether `p` is strictly newer than the last accepted sample. Round ids
 * decide only when both sides have one (0 = the source has no rounds). */
static bool
is_newer(const struct oracle_history *h, const struct oracle_price *p)
{
    if (!h->has_last)
        return true;
    if (p->updated_at <= h->last.updated_at)
        return false;
    if (!u256_is_zero(&p->round_id) && !u256_is_zero(&h->last.round_id) &&
        u256_cmp(&p->round_id, &h->last.round_id) <= 0)
        return false;
    return true;
}

static void
fold_return(struct oracle_history *h, const struct oracle_price *p)
{
    double r = log(p->value / h->last.value);
    double dt = (double)(p->updated_at - h->last.updated_at);
    bool seed = h->n_returns == 0;

    h->fast.var =
        oracle_ewma_step(h->fast.var, h->fast.lambda_day, r, dt, seed);
    h->slow.var =
        oracle_ewma_step(h->slow.var, h->slow.lambda_day, r, dt, seed);
    h->n_returns++;
}

int
oracle_history_push(struct oracle_history *h, const struct oracle_price *p)
{
    assert(h != NULL && h->ring != NULL && p != NULL);
    if (!isfinite(p->value) || p->value <= 0.0 || p->updated_at == 0)
        return KP_EINVAL;
    if (!is_newer(h, p))
        return KP_ESTALE;
    if (h->has_last)
        fold_return(h, p);
    h->ring[h->head] = *p;
    h->head = (h->head + 1) % h->capacity;
    if (h->len < h->capacity)
        h->len++;
    h->last = *p;
    h->has_last = true;
    return 0;
}

size_t
oracle_history_len(const struct oracle_history *h)
{
    assert(h != NULL);
    return h->len;
}

const struct oracle_price *
oracle_history_at(const struct oracle_history *h, size_t i)
{
    size_t oldest;

    assert(h != NULL);
    if (i >= h->len)
        return NULL;
    oldest = (h->head + h->capacity - h->len) % h->capacity;
    return &h->ring[(oldest + i) % h->capacity];
}

const struct oracle_price *
oracle_history_latest(const struct oracle_history *h)
{
    assert(h != NULL);
    return h->has_last ? &h->last : NULL;
}

static int
sigma_of(const struct oracle_history *h, bool slow, double scale, double *sigma)
{
    assert(h != NULL && sigma != NULL);
    *sigma = 0.0;
    if (h->n_returns == 0 || h->n_returns < h->min_returns)
        return KP_ESTATE;
    *sigma = sqrt(slow ? h->slow.var : h->fast.var) * scale;
    return 0;
}

int
oracle_history_sigma_daily(const struct oracle_history *h, double *sigma)
{
    return sigma_of(h, false, 1.0, sigma);
}

int
oracle_history_sigma_annual(const struct oracle_history *h, double *sigma)
{
    return sigma_of(h, false, sqrt((double)ORACLE_DAYS_PER_YEAR), sigma);
}

int
oracle_history_sigma_long_daily(const struct oracle_history *h, double *sigma)
{
    return sigma_of(h, true, 1.0, sigma);
}

int
oracle_history_sigma_long_annual(const struct oracle_history *h, double *sigma)
{
    return sigma_of(h, true, sqrt((double)ORACLE_DAYS_PER_YEAR), sigma);
}
