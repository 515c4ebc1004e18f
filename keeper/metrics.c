#include "keeper/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

struct family {
    char *name;
    char *help;
    enum metric_type type;
    char *label_names[METRICS_MAX_LABELS];
    size_t nlabels;
    double *buckets;
    char (*le)[32]; /* the bounds as rendered, computed once */
    size_t nbuckets;
    struct metric **series;
    size_t nseries, series_cap;
};

struct metric {
    const struct family *fam;
    uint64_t hash;
    double value;   /* counter/gauge value; histogram sum */
    uint64_t count; /* histogram sample count */
    char *labels[METRICS_MAX_LABELS];
    uint64_t buckets[]; /* histogram: nbuckets + 1 (+Inf), not cumulative */
};

struct metrics {
    struct family **fams;
    size_t nfams, fams_cap;
    size_t render_cap;
};

/* ---- names ------------------------------------------------------------- */

static bool
name_char_ok(char c, bool first, bool colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        return true;
    if (colon && c == ':')
        return true;
    return !first && c >= '0' && c <= '9';
}

static bool
valid_ident(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || strlen(s) > METRICS_MAX_NAME)
        return false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (!name_char_ok(s[i], i == 0, colon))
            return false;
    }
    return true;
}

bool
metrics_is_valid_name(const char *s)
{
    return valid_ident(s, true);
}

bool
metrics_is_valid_label_name(const char *s)
{
    return valid_ident(s, false);
}

static bool
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- registry ---------------------------------------------------------- */

struct metrics *
metrics_new(size_t render_cap)
{
    struct metrics *reg = kp_xcalloc(1, sizeof(*reg));

    reg->render_cap = render_cap ? render_cap : METRICS_DEFAULT_RENDER_CAP;
    return reg;
}

static void
metric_free(struct metric *m, size_t nlabels)
{
    for (size_t i = 0; i < nlabels; i++)
        free(m->labels[i]);
    free(m);
}

static void
family_free(struct family *f)
{
    for (size_t i = 0; i < f->nseries; i++)
        metric_free(f->series[i], f->nlabels);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->label_names[i]);
    free(f->series);
    free(f->buckets);
    free(f->le);
    free(f->help);
    free(f->name);
    free(f);
}

void
metrics_free(struct metrics *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->nfams; i++)
        family_free(reg->fams[i]);
    free(reg->fams);
    free(reg);
}

static struct family *
family_find(const struct metrics *reg, const char *name)
{
    for (size_t i = 0; i < reg->nfams; i++) {
        if (strcmp(reg->fams[i]->name, name) == 0)
            return reg->fams[i];
    }
    return NULL;
}

/* ---- definition -------------------------------------------------------- */

/* Suffixes promtool reserves for histograms/summaries, and label names
 * it reserves, so that everything we accept also passes its lint. */
static int
check_name(const struct metric_desc *d)
{
    if (!metrics_is_valid_name(d->name))
        return KP_EINVAL;
    if (d->type == METRIC_TYPE_COUNTER && !has_suffix(d->name, "_total"))
        return KP_EINVAL;
    if (d->type != METRIC_TYPE_COUNTER && has_suffix(d->name, "_total"))
        return KP_EINVAL;
    if (has_suffix(d->name, "_bucket") || has_suffix(d->name, "_count") ||
        has_suffix(d->name, "_sum"))
        return KP_EINVAL;
    if (d->help == NULL || d->help[0] == '\0')
        return KP_EINVAL;
    if (strlen(d->help) > METRICS_MAX_HELP)
        return KP_ERANGE;
    return 0;
}

static int
check_labels(const struct metric_desc *d)
{
    if (d->nlabels > METRICS_MAX_LABELS)
        return KP_ERANGE;
    for (size_t i = 0; i < d->nlabels; i++) {
        const char *l = d->label_names[i];

        if (!metrics_is_valid_label_name(l) || strncmp(l, "__", 2) == 0 ||
            strcmp(l, "le") == 0 || strcmp(l, "quantile") == 0)
            return KP_EINVAL;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(l, d->label_names[j]) == 0)
                return KP_EINVAL;
        }
    }
    return 0;
}

static int
check_buckets(const struct metric_desc *d)
{
    if (d->type != METRIC_TYPE_HISTOGRAM)
        return d->nbuckets == 0 ? 0 : KP_EINVAL;
    if (d->nbuckets > METRICS_MAX_BUCKETS)
        return KP_ERANGE;
    if (d->nbuckets > 0 && d->buckets == NULL)
        return KP_EINVAL;
    for (size_t i = 0; i < d->nbuckets; i++) {
        if (!isfinite(d->buckets[i]))
            return KP_EINVAL;
        if (i > 0 && !(d->buckets[i] > d->buckets[i - 1]))
            return KP_EINVAL;
    }
    return 0;
}

static int
check_desc(const struct metric_desc *d)
{
    int rc;

    if ((unsigned)d->type > METRIC_TYPE_HISTOGRAM)
        return KP_EINVAL;
    if ((rc = check_name(d)) != 0 || (rc = check_labels(d)) != 0)
        return rc;
    return check_buckets(d);
}

static bool
family_matches(const struct family *f, const struct metric_desc *d)
{
    if (f->type != d->type || f->nlabels != d->nlabels ||
        f->nbuckets != d->nbuckets || strcmp(f->help, d->help) != 0)
        return false;
    for (size_t i = 0; i < f->nlabels; i++) {
        if (strcmp(f->label_names[i], d->label_names[i]) != 0)
            return false;
    }
    for (size_t i = 0; i < f->nbuckets; i++) {
        if (f->buckets[i] != d->buckets[i])
            return false;
    }
    return true;
}

/* Go's strconv.ParseFloat reads all of these; shortest that round-trips. */
static void
fmt_double(char *out, size_t outsz, double v)
{
    if (isnan(v))
        snprintf(out, outsz, "NaN");
    else if (isinf(v))
        snprintf(out, outsz, v > 0 ? "+Inf" : "-Inf");
    else if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v &&
             !(v == 0 && signbit(v)))
        snprintf(out, outsz, "%lld", (long long)v); /* exact, no strtod */
    else {
        snprintf(out, outsz, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, outsz, "%.17g", v);
    }
}

static struct family *
family_new(const struct metric_desc *d)
{
    struct family *f = kp_xcalloc(1, sizeof(*f));

    f->name = kp_xstrdup(d->name);
    f->help = kp_xstrdup(d->help);
    f->type = d->type;
    f->nlabels = d->nlabels;
    for (size_t i = 0; i < d->nlabels; i++)
        f->label_names[i] = kp_xstrdup(d->label_names[i]);
    f->nbuckets = d->nbuckets;
    if (d->nbuckets > 0) {
        f->buckets = kp_xmalloc(d->nbuckets * sizeof(double));
        memcpy(f->buckets, d->buckets, d->nbuckets * sizeof(double));
        f->le = kp_xmalloc(d->nbuckets * sizeof(*f->le));
        for (size_t i = 0; i < d->nbuckets; i++)
            fmt_double(f->le[i], sizeof(f->le[i]), d->buckets[i]);
    }
    return f;
}

int
metrics_define(struct metrics *reg, const struct metric_desc *d)
{
    struct family *f;
    struct metric *unused;
    int rc;

    if (reg == NULL || d == NULL)
        return KP_EINVAL;
    if ((rc = check_desc(d)) != 0)
        return rc;
    if ((f = family_find(reg, d->name)) != NULL)
        return family_matches(f, d) ? 0 : KP_EINVAL;
    if (reg->nfams >= METRICS_MAX_FAMILIES)
        return KP_ELIMIT;
    if (reg->nfams == reg->fams_cap) {
        reg->fams_cap = reg->fams_cap ? 2 * reg->fams_cap : 16;
        reg->fams = kp_xrealloc(reg->fams, reg->fams_cap * sizeof(*reg->fams));
    }
    reg->fams[reg->nfams++] = family_new(d);
    if (d->nlabels == 0)
        return metrics_series(reg, &unused, d->name, NULL, 0);
    return 0;
}

/* ---- series ------------------------------------------------------------ */

/* FNV-1a over the values, each followed by a 0xff separator (a byte that
 * never occurs in UTF-8), so ("ab","c") and ("a","bc") differ. */
static uint64_t
labels_hash(const char *const *values, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;
    }
    return h;
}

static struct metric *
series_find(const struct family *f, uint64_t hash, const char *const *values)
{
    for (size_t i = 0; i < f->nseries; i++) {
        struct metric *m = f->series[i];
        size_t j = 0;

        if (m->hash != hash)
            continue;
        while (j < f->nlabels && strcmp(m->labels[j], values[j]) == 0)
            j++;
        if (j == f->nlabels)
            return m;
    }
    return NULL;
}

static struct metric *
series_add(struct family *f, uint64_t hash, const char *const *values)
{
    size_t nb = f->type == METRIC_TYPE_HISTOGRAM ? f->nbuckets + 1 : 0;
    struct metric *m = kp_xcalloc(1, sizeof(*m) + nb * sizeof(m->buckets[0]));

    m->fam = f;
    m->hash = hash;
    for (size_t i = 0; i < f->nlabels; i++)
        m->labels[i] = kp_xstrdup(values[i]);
    if (f->nseries == f->series_cap) {
        f->series_cap = f->series_cap ? 2 * f->series_cap : 4;
        f->series = kp_xrealloc(f->series, f->series_cap * sizeof(*f->series));
    }
    f->series[f->nseries++] = m;
    return m;
}

int
metrics_series(struct metrics *reg, struct metric **out, const char *name,
               const char *const *values, size_t nvalues)
{
    struct family *f;
    uint64_t hash;

    if (reg == NULL || out == NULL || name == NULL)
        return KP_EINVAL;
    *out = NULL;
    if ((f = family_find(reg, name)) == NULL)
        return KP_ENOTFOUND;
    if (nvalues != f->nlabels || (nvalues > 0 && values == NULL))
        return KP_EINVAL;
    for (size_t i = 0; i < nvalues; i++) {
        if (values[i] == NULL)
            return KP_EINVAL;
        if (strlen(values[i]) > METRICS_MAX_LABEL_VALUE)
            return KP_ERANGE;
    }
    hash = labels_hash(values, nvalues);
    if ((*out = series_find(f, hash, values)) != NULL)
        return 0;
    if (f->nseries >= METRICS_MAX_SERIES)
        return KP_ELIMIT;
    *out = series_add(f, hash, values);
    return 0;
}

/* ---- updates ----------------------------------------------------------- */

void
metric_inc(struct metric *h)
{
    metric_add(h, 1.0);
}

void
metric_add(struct metric *h, double v)
{
    if (h == NULL)
        return;
    if (h->fam->type == METRIC_TYPE_COUNTER && v >= 0)
        h->value += v;
    else if (h->fam->type == METRIC_TYPE_GAUGE)
        h->value += v;
}

void
metric_set(struct metric *h, double v)
{
    if (h != NULL && h->fam->type == METRIC_TYPE_GAUGE)
        h->value = v;
}

void
metric_observe(struct metric *h, double v)
{
    size_t i = 0;

    if (h == NULL || h->fam->type != METRIC_TYPE_HISTOGRAM || isnan(v))
        return;
    while (i < h->fam->nbuckets && v > h->fam->buckets[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->value += v;
}

double
metric_value(const struct metric *h)
{
    if (h == NULL)
        return 0;
    if (h->fam->type == METRIC_TYPE_HISTOGRAM)
        return (double)h->count;
    return h->value;
}

/* ---- rendering --------------------------------------------------------- */

struct rbuf {
    char *p;
    size_t len, cap, max;
    bool over;
};

static void
rb_put(struct rbuf *b, const char *s, size_t n)
{
    if (b->over)
        return;
    if (n > b->max - b->len - 1) { /* keep room for the NUL */
        b->over = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        b->p = kp_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
rb_str(struct rbuf *b, const char *s)
{
    rb_put(b, s, strlen(s));
}

/* Text format escaping: HELP escapes \ and newline; label values also ".
 * Runs of plain bytes are copied at once. */
static void
rb_escaped(struct rbuf *b, const char *s, bool quote)
{
    const char *special = quote ? "\\\n\"" : "\\\n";

    while (*s != '\0') {
        size_t run = strcspn(s, special);

        rb_put(b, s, run);
        s += run;
        if (*s == '\\')
            rb_str(b, "\\\\");
        else if (*s == '\n')
            rb_str(b, "\\n");
        else if (*s == '"')
            rb_str(b, "\\\"");
        else
            break;
        s++;
    }
}

static void
rb_double(struct rbuf *b, double v)
{
    char num[40];

    fmt_double(num, sizeof(num), v);
    rb_str(b, num);
}

static void
rb_u64(struct rbuf *b, uint64_t v)
{
    char num[24];
    size_t i = sizeof(num);

    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    rb_put(b, num + i, sizeof(num) - i);
}

/* {a="x",b="y"[,le="..."]} or nothing when there are no labels at all. */
static void
rb_labels(struct rbuf *b, const struct metric *m, const char *le)
{
    const struct family *f = m->fam;

    if (f->nlabels == 0 && le == NULL)
        return;
    rb_str(b, "{");
    for (size_t i = 0; i < f->nlabels; i++) {
        if (i > 0)
            rb_str(b, ",");
        rb_str(b, f->label_names[i]);
        rb_str(b, "=\"");
        rb_escaped(b, m->labels[i], true);
        rb_str(b, "\"");
    }
    if (le != NULL) {
        rb_str(b, f->nlabels > 0 ? ",le=\"" : "le=\"");
        rb_str(b, le);
        rb_str(b, "\"");
    }
    rb_str(b, "}");
}

static void
rb_sample_start(struct rbuf *b, const struct metric *m, const char *suffix,
                const char *le)
{
    rb_str(b, m->fam->name);
    rb_str(b, suffix);
    rb_labels(b, m, le);
    rb_str(b, " ");
}

static void
render_histogram(struct rbuf *b, const struct metric *m)
{
    const struct family *f = m->fam;
    uint64_t cum = 0;

    for (size_t i = 0; i <= f->nbuckets; i++) {
        cum += m->buckets[i];
        rb_sample_start(b, m, "_bucket", i < f->nbuckets ? f->le[i] : "+Inf");
        rb_u64(b, cum);
        rb_str(b, "\n");
    }
    rb_sample_start(b, m, "_sum", NULL);
    rb_double(b, m->value);
    rb_str(b, "\n");
    rb_sample_start(b, m, "_count", NULL);
    rb_u64(b, m->count);
    rb_str(b, "\n");
}

static void
render_family(struct rbuf *b, const struct family *f)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};

    if (f->nseries == 0)
        return;
    rb_str(b, "# HELP ");
    rb_str(b, f->name);
    rb_str(b, " ");
    rb_escaped(b, f->help, false);
    rb_str(b, "\n# TYPE ");
    rb_str(b, f->name);
    rb_str(b, " ");
    rb_str(b, types[f->type]);
    rb_str(b, "\n");
    for (size_t i = 0; i < f->nseries; i++) {
        const struct metric *m = f->series[i];

        if (f->type == METRIC_TYPE_HISTOGRAM) {
            render_histogram(b, m);
            continue;
        }
        rb_sample_start(b, m, "", NULL);
        rb_double(b, m->value);
        rb_str(b, "\n");
    }
}

int
metrics_render(const struct metrics *reg, char **out, size_t *outlen)
{
    struct rbuf b = {0};

    if (reg == NULL || out == NULL || outlen == NULL)
        return KP_EINVAL;
    *out = NULL;
    *outlen = 0;
    b.max = reg->render_cap;
    rb_put(&b, "", 0); /* an empty registry still yields "" */
    for (size_t i = 0; i < reg->nfams && !b.over; i++)
        render_family(&b, reg->fams[i]);
    if (b.over) {
        free(b.p);
        return KP_ELIMIT;
    }
    *out = b.p;
    *outlen = b.len;
    return 0;
}

/* ---- the daemon's families --------------------------------------------- */

static const double rpc_latency_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const struct metric_desc keeper_families[] = {
    {METRIC_BUILD_INFO,
     "Build information; the value is always 1.",
     METRIC_TYPE_GAUGE,
     {"version"},
     1,
     NULL,
     0},
    {METRIC_UP,
     "1 while the keeper process runs.",
     METRIC_TYPE_GAUGE,
     {NULL},
     0,
     NULL,
     0},
    {METRIC_RPC_REQUESTS_TOTAL,
     "JSON-RPC requests sent, per endpoint.",
     METRIC_TYPE_COUNTER,
     {"endpoint", "method"},
     2,
     NULL,
     0},
    {METRIC_RPC_ERRORS_TOTAL,
     "JSON-RPC requests that failed, per endpoint and error class.",
     METRIC_TYPE_COUNTER,
     {"endpoint", "class"},
     2,
     NULL,
     0},
    {METRIC_RPC_LATENCY_SECONDS,
     "JSON-RPC round-trip time.",
     METRIC_TYPE_HISTOGRAM,
     {"endpoint"},
     1,
     rpc_latency_buckets,
     sizeof(rpc_latency_buckets) / sizeof(rpc_latency_buckets[0])},
    {METRIC_HEAD_BLOCK,
     "Number of the latest head block seen.",
     METRIC_TYPE_GAUGE,
     {"chain"},
     1,
     NULL,
     0},
    {METRIC_HEAD_AGE_SECONDS,
     "Seconds since the timestamp of the latest head block.",
     METRIC_TYPE_GAUGE,
     {"chain"},
     1,
     NULL,
     0},
    {METRIC_WS_RECONNECTS_TOTAL,
     "WebSocket reconnections, per endpoint.",
     METRIC_TYPE_COUNTER,
     {"endpoint"},
     1,
     NULL,
     0},
    {METRIC_BACKFILLED_LOGS_TOTAL,
     "Logs recovered with eth_getLogs after a reconnect.",
     METRIC_TYPE_COUNTER,
     {"chain"},
     1,
     NULL,
     0},
};

int
metrics_register_keeper(struct metrics *reg, const char *version)
{
    size_t n = sizeof(keeper_families) / sizeof(keeper_families[0]);
    struct metric *h;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if ((rc = metrics_define(reg, &keeper_families[i])) != 0)
            return rc;
    }
    rc = metrics_series(reg, &h, METRIC_BUILD_INFO,
                        METRIC_LABELS(version ? version : "unknown"));
    if (rc != 0)
        return rc;
    metric_set(h, 1);
    if ((rc = metrics_series(reg, &h, METRIC_UP, NULL, 0)) != 0)
        return rc;
    metric_set(h, 1);
    return 0;
}
