/*
 * logwin.h - a bounded window of logs keyed by (block hash, log index).
 *
 * Pure logic, no I/O. The event stream keeps two: the logs it delivered
 * for recent blocks (to drop duplicates, and to announce the removal of
 * the logs of orphaned blocks, which needs their contents) and the live
 * logs waiting for their block's head. Entries are deep copies (the data
 * bytes too) kept in insertion order; the oldest go first when the window
 * is over its count or byte cap.
 */
#ifndef KP_CHAIN_LOGWIN_H
#define KP_CHAIN_LOGWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/evlog.h"

struct logwin_entry {
    struct evlog log;                 /* log.data points into the entry */
    struct logwin_entry *hnext;       /* hash chain */
    struct logwin_entry *prev, *next; /* insertion order */
};

struct logwin {
    struct logwin_entry **buckets;
    size_t nbuckets;
    struct logwin_entry *head, *tail; /* oldest, newest */
    size_t count, cap;
    size_t bytes, max_bytes; /* data bytes held, and their cap */
    uint64_t evicted;        /* entries dropped for the caps */
};

/* Entries taken out of a window; free with logwin_list_free. */
struct logwin_list {
    struct logwin_entry **v;
    size_t n;
};

/* Set up an empty window for at most `cap` entries (>= 1) and `max_bytes`
 * bytes of log data. Out: w   In: cap, max_bytes */
void logwin_init(struct logwin *w, size_t cap, size_t max_bytes);

/* Release every entry. */
void logwin_cleanup(struct logwin *w);

/* Returns: the number of entries. */
size_t logwin_count(const struct logwin *w);

/* Returns: the entry's log for (block_hash, log_index), or NULL. Borrowed
 * until the window changes. */
const struct evlog *logwin_find(const struct logwin *w,
                                const uint8_t block_hash[32],
                                uint64_t log_index);

/* Add a copy of `l` (with its data). Oldest entries go while over a cap.
 * Returns: 0; KP_ESTATE if an entry with that key is already held;
 *          KP_ELIMIT if `l` alone is over the byte cap (not added). */
int logwin_add(struct logwin *w, const struct evlog *l);

/* Drop the entry for (block_hash, log_index).
 * Returns: whether there was one. */
bool logwin_remove(struct logwin *w, const uint8_t block_hash[32],
                   uint64_t log_index);

/* Take out every entry of block `block_hash`, by ascending log index.
 * Out: *out (replaced; free it)   In: w, block_hash */
void logwin_take_block(struct logwin *w, struct logwin_list *out,
                       const uint8_t block_hash[32]);

/* Take out every entry of a block numbered above `number`, newest first:
 * by descending block number, then descending log index.
 * Out: *out (replaced; free it)   In: w, number */
void logwin_take_above(struct logwin *w, struct logwin_list *out,
                       uint64_t number);

/* Drop old entries of blocks numbered below `number`: those inserted
 * before any entry of a block at or above it (entries come in mostly
 * ascending order; the rest age out with the caps). */
void logwin_prune_below(struct logwin *w, uint64_t number);

/* Release a list's entries and array. */
void logwin_list_free(struct logwin_list *l);

#endif
