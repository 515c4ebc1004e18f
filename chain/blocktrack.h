/*
 * blocktrack.h - the recent chain of processed blocks, for reorg detection.
 *
 * Pure logic, no I/O. A tracker holds the last `cap` blocks (number, hash,
 * parent hash, timestamp) of the chain as the event stream processed it:
 * contiguous numbers, each block's parent the block before. New heads are
 * classified against it (known, child of the tip, ahead with a gap, or on
 * another fork); the common ancestor with a freshly read stretch of the
 * node's canonical chain tells how far to rewind after a reorg.
 *
 * A tracker starts unbased (nothing processed). Setting a base says which
 * block number comes next without knowing its parent (a start from a
 * configured block, or after a reorg deeper than the window); the first
 * block appended after that is accepted without a parent check.
 */
#ifndef KP_CHAIN_BLOCKTRACK_H
#define KP_CHAIN_BLOCKTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCKTRACK_MAX_CAP 65536

struct blocktrack_hdr {
    uint64_t number;
    uint64_t timestamp;
    uint8_t hash[32];
    uint8_t parent[32];
};

struct blocktrack {
    struct blocktrack_hdr *ring;
    size_t cap, start, len;
    bool based;    /* something was processed or a base was set */
    uint64_t next; /* number of the next block to append */
};

/* How a head relates to the tracked chain. */
enum blocktrack_rel {
    BLOCKTRACK_UNBASED, /* nothing to compare with */
    BLOCKTRACK_KNOWN,   /* this very block is tracked */
    BLOCKTRACK_CHILD,   /* number == next, and its parent is the tip (or
                           the tracker is empty: no parent to check) */
    BLOCKTRACK_AHEAD,   /* number > next: blocks in between are missing */
    BLOCKTRACK_FORK,    /* number < next with another hash, or number ==
                           next with another parent: the chain changed */
    BLOCKTRACK_STALE,   /* below the window and not provably a fork */
};

/* Set up an empty, unbased tracker of `cap` blocks (1..BLOCKTRACK_MAX_CAP).
 * Out: t   In: cap */
void blocktrack_init(struct blocktrack *t, size_t cap);

/* Release the tracker's memory. */
void blocktrack_cleanup(struct blocktrack *t);

/* Forget every block; the next block appended must be `next` (and is
 * taken without a parent check). */
void blocktrack_set_base(struct blocktrack *t, uint64_t next);

/* Returns: whether something was processed or a base set. */
bool blocktrack_is_based(const struct blocktrack *t);

/* Returns: the number of blocks held. */
size_t blocktrack_len(const struct blocktrack *t);

/* Returns: the newest block, or NULL if none is held. */
const struct blocktrack_hdr *blocktrack_tip(const struct blocktrack *t);

/* Returns: the number the next block must have (meaningful once based). */
uint64_t blocktrack_next(const struct blocktrack *t);

/* Returns: the lowest number held, or blocktrack_next if none is. */
uint64_t blocktrack_low(const struct blocktrack *t);

/* Returns: the block held at `number`, or NULL. */
const struct blocktrack_hdr *blocktrack_at(const struct blocktrack *t,
                                           uint64_t number);

/* Returns: whether the block (number, hash) is held. */
bool blocktrack_contains(const struct blocktrack *t, uint64_t number,
                         const uint8_t hash[32]);

/* Classify head `h` against the tracked chain. */
enum blocktrack_rel blocktrack_classify(const struct blocktrack *t,
                                        const struct blocktrack_hdr *h);

/* Append `h` as the new tip; the oldest block goes when full.
 * Returns: 0; KP_ESTATE if unbased, if h->number is not next, or if its
 *          parent is not the tip's hash.
 * In: t, h */
int blocktrack_append(struct blocktrack *t, const struct blocktrack_hdr *h);

/* Drop every block above `number`. If none is left, the tracker stays
 * based with next = number + 1. */
void blocktrack_truncate(struct blocktrack *t, uint64_t number);

/* Find where the tracked chain and `chain` - the node's blocks for the
 * consecutive numbers chain[0].number .. chain[n-1].number - part: the
 * highest number held by both with equal hashes, such that chain links
 * up from there (each parent the hash before it).
 * Returns: 0 (*out set); KP_EINVAL if `chain` is not consecutive or does
 *          not link up above the ancestor (it was read across a change);
 *          KP_ENOTFOUND if no block agrees.
 * Out: *out   In: t, chain, n */
int blocktrack_find_ancestor(const struct blocktrack *t,
                             const struct blocktrack_hdr *chain, size_t n,
                             uint64_t *out);

#endif
