/*
 * blocktrack.c - the recent chain of processed blocks (see blocktrack.h).
 */
#include "chain/blocktrack.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

void
blocktrack_init(struct blocktrack *t, size_t cap)
{
    assert(t != NULL && cap >= 1 && cap <= BLOCKTRACK_MAX_CAP);
    memset(t, 0, sizeof(*t));
    t->ring = kp_xcalloc(cap, sizeof(*t->ring));
    t->cap = cap;
}

void
blocktrack_cleanup(struct blocktrack *t)
{
    if (t == NULL)
        return;
    free(t->ring);
    memset(t, 0, sizeof(*t));
}

void
blocktrack_set_base(struct blocktrack *t, uint64_t next)
{
    t->start = t->len = 0;
    t->based = true;
    t->next = next;
}

bool
blocktrack_is_based(const struct blocktrack *t)
{
    return t->based;
}

size_t
blocktrack_len(const struct blocktrack *t)
{
    return t->len;
}

static const struct blocktrack_hdr *
bt_slot(const struct blocktrack *t, size_t i)
{
    return &t->ring[(t->start + i) % t->cap];
}

const struct blocktrack_hdr *
blocktrack_tip(const struct blocktrack *t)
{
    return t->len > 0 ? bt_slot(t, t->len - 1) : NULL;
}

uint64_t
blocktrack_next(const struct blocktrack *t)
{
    return t->next;
}

uint64_t
blocktrack_low(const struct blocktrack *t)
{
    return t->len > 0 ? t->next - t->len : t->next;
}

const struct blocktrack_hdr *
blocktrack_at(const struct blocktrack *t, uint64_t number)
{
    uint64_t low = blocktrack_low(t);

    if (t->len == 0 || number < low || number >= t->next)
        return NULL;
    return bt_slot(t, (size_t)(number - low));
}

bool
blocktrack_contains(const struct blocktrack *t, uint64_t number,
                    const uint8_t hash[32])
{
    const struct blocktrack_hdr *b = blocktrack_at(t, number);

    return b != NULL && memcmp(b->hash, hash, 32) == 0;
}

enum blocktrack_rel
blocktrack_classify(const struct blocktrack *t, const struct blocktrack_hdr *h)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(t);

    if (!t->based)
        return BLOCKTRACK_UNBASED;
    if (h->number > t->next)
        return BLOCKTRACK_AHEAD;
    if (h->number == t->next)
        return tip == NULL || memcmp(h->parent, tip->hash, 32) == 0
                   ? BLOCKTRACK_CHILD
                   : BLOCKTRACK_FORK;
    if (h->number < blocktrack_low(t))
        return BLOCKTRACK_STALE;
    return blocktrack_contains(t, h->number, h->hash) ? BLOCKTRACK_KNOWN
                                                      : BLOCKTRACK_FORK;
}

int
blocktrack_append(struct blocktrack *t, const struct blocktrack_hdr *h)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(t);

    if (!t->based || h->number != t->next ||
        (tip != NULL && memcmp(h->parent, tip->hash, 32) != 0))
        return KP_ESTATE;
    if (t->len == t->cap) {
        t->start = (t->start + 1) % t->cap;
        t->len--;
    }
    t->ring[(t->start + t->len) % t->cap] = *h;
    t->len++;
    t->next = h->number + 1;
    return 0;
}

void
blocktrack_truncate(struct blocktrack *t, uint64_t number)
{
    uint64_t low = blocktrack_low(t);

    if (!t->based || number + 1 >= t->next)
        return;
    if (t->len == 0 || number < low) {
        t->start = t->len = 0;
    } else {
        t->len = (size_t)(number - low + 1);
    }
    t->next = number + 1;
}

int
blocktrack_find_ancestor(const struct blocktrack *t,
                         const struct blocktrack_hdr *chain, size_t n,
                         uint64_t *out)
{
    size_t i;

    for (i = 1; i < n; i++)
        if (chain[i].number != chain[0].number + i)
            return KP_EINVAL;
    for (i = n; i-- > 0;) {
        if (blocktrack_contains(t, chain[i].number, chain[i].hash))
            break;
    }
    if (i == (size_t)-1)
        return KP_ENOTFOUND;
    for (size_t j = i + 1; j < n; j++)
        if (memcmp(chain[j].parent, chain[j - 1].hash, 32) != 0)
            return KP_EINVAL;
    *out = chain[i].number;
    return 0;
}
