/*
 * logwin.c - a bounded window of logs (see logwin.h).
 */
#include "chain/logwin.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

#define LOGWIN_MIN_BUCKETS 64

static size_t
lw_hash(const uint8_t block_hash[32], uint64_t log_index)
{
    uint64_t h;

    /* Block hashes are already uniform: their first bytes will do. */
    memcpy(&h, block_hash, sizeof(h));
    h ^= log_index * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 29));
}

void
logwin_init(struct logwin *w, size_t cap, size_t max_bytes)
{
    assert(w != NULL && cap >= 1);
    memset(w, 0, sizeof(*w));
    w->cap = cap;
    w->max_bytes = max_bytes;
    w->nbuckets = LOGWIN_MIN_BUCKETS;
    w->buckets = kp_xcalloc(w->nbuckets, sizeof(*w->buckets));
}

void
logwin_cleanup(struct logwin *w)
{
    struct logwin_entry *e, *next;

    if (w == NULL)
        return;
    for (e = w->head; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    free(w->buckets);
    memset(w, 0, sizeof(*w));
}

size_t
logwin_count(const struct logwin *w)
{
    return w->count;
}

static struct logwin_entry **
lw_slot(const struct logwin *w, const uint8_t block_hash[32],
        uint64_t log_index)
{
    struct logwin_entry **pp =
        &w->buckets[lw_hash(block_hash, log_index) & (w->nbuckets - 1)];

    while (*pp != NULL && ((*pp)->log.log_index != log_index ||
                           memcmp((*pp)->log.block_hash, block_hash, 32) != 0))
        pp = &(*pp)->hnext;
    return pp;
}

const struct evlog *
logwin_find(const struct logwin *w, const uint8_t block_hash[32],
            uint64_t log_index)
{
    struct logwin_entry *e = *lw_slot(w, block_hash, log_index);

    return e != NULL ? &e->log : NULL;
}

/* Take `e` out of the hash chains and the order list (not freed). */
static void
lw_unlink(struct logwin *w, struct logwin_entry *e)
{
    struct logwin_entry **pp = lw_slot(w, e->log.block_hash, e->log.log_index);

    assert(*pp == e);
    *pp = e->hnext;
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        w->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        w->tail = e->prev;
    e->prev = e->next = e->hnext = NULL;
    w->count--;
    w->bytes -= e->log.data_len;
}

static void
lw_grow(struct logwin *w)
{
    size_t n = w->nbuckets * 2;
    struct logwin_entry **b = kp_xcalloc(n, sizeof(*b));

    for (struct logwin_entry *e = w->head; e != NULL; e = e->next) {
        size_t i = lw_hash(e->log.block_hash, e->log.log_index) & (n - 1);

        e->hnext = b[i];
        b[i] = e;
    }
    free(w->buckets);
    w->buckets = b;
    w->nbuckets = n;
}

int
logwin_add(struct logwin *w, const struct evlog *l)
{
    struct logwin_entry **pp, *e;

    assert(w != NULL && l != NULL && (l->data != NULL || l->data_len == 0));
    if (l->data_len > w->max_bytes)
        return KP_ELIMIT;
    if (*lw_slot(w, l->block_hash, l->log_index) != NULL)
        return KP_ESTATE;
    while (w->head != NULL &&
           (w->count + 1 > w->cap || w->bytes + l->data_len > w->max_bytes)) {
        e = w->head;
        lw_unlink(w, e);
        free(e);
        w->evicted++;
    }
    if (w->count + 1 > w->nbuckets)
        lw_grow(w);
    e = kp_xcalloc(1, sizeof(*e) + l->data_len);
    e->log = *l;
    if (l->data_len > 0)
        memcpy(e + 1, l->data, l->data_len);
    e->log.data = (const uint8_t *)(e + 1);
    pp = lw_slot(w, l->block_hash, l->log_index);
    *pp = e;
    e->prev = w->tail;
    if (w->tail != NULL)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    w->count++;
    w->bytes += l->data_len;
    return 0;
}

bool
logwin_remove(struct logwin *w, const uint8_t block_hash[32],
              uint64_t log_index)
{
    struct logwin_entry *e = *lw_slot(w, block_hash, log_index);

    if (e == NULL)
        return false;
    lw_unlink(w, e);
    free(e);
    return true;
}

static int
lw_cmp_asc(const void *a, const void *b)
{
    const struct evlog *x = &(*(struct logwin_entry *const *)a)->log;
    const struct evlog *y = &(*(struct logwin_entry *const *)b)->log;

    if (x->block_number != y->block_number)
        return x->block_number < y->block_number ? -1 : 1;
    if (x->log_index != y->log_index)
        return x->log_index < y->log_index ? -1 : 1;
    return 0;
}

static int
lw_cmp_desc(const void *a, const void *b)
{
    return lw_cmp_asc(b, a);
}

/* Move the entries for which keep() is true into *out, sorted by cmp. */
static void
lw_take(struct logwin *w, struct logwin_list *out,
        bool (*pick)(const struct evlog *, const void *), const void *ctx,
        int (*cmp)(const void *, const void *))
{
    struct logwin_entry *e, *next;
    size_t n = 0;

    out->v = NULL;
    out->n = 0;
    for (e = w->head; e != NULL; e = e->next)
        n += pick(&e->log, ctx);
    if (n == 0)
        return;
    out->v = kp_xcalloc(n, sizeof(*out->v));
    for (e = w->head; e != NULL; e = next) {
        next = e->next;
        if (!pick(&e->log, ctx))
            continue;
        lw_unlink(w, e);
        out->v[out->n++] = e;
    }
    qsort(out->v, out->n, sizeof(*out->v), cmp);
}

static bool
lw_pick_block(const struct evlog *l, const void *ctx)
{
    return memcmp(l->block_hash, ctx, 32) == 0;
}

static bool
lw_pick_above(const struct evlog *l, const void *ctx)
{
    return l->block_number > *(const uint64_t *)ctx;
}

void
logwin_take_block(struct logwin *w, struct logwin_list *out,
                  const uint8_t block_hash[32])
{
    lw_take(w, out, lw_pick_block, block_hash, lw_cmp_asc);
}

void
logwin_take_above(struct logwin *w, struct logwin_list *out, uint64_t number)
{
    lw_take(w, out, lw_pick_above, &number, lw_cmp_desc);
}

void
logwin_prune_below(struct logwin *w, uint64_t number)
{
    while (w->head != NULL && w->head->log.block_number < number) {
        struct logwin_entry *e = w->head;

        lw_unlink(w, e);
        free(e);
    }
}

void
logwin_list_free(struct logwin_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
