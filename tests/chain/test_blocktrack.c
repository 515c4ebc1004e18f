/* The recent-chain tracker (classification, append, truncate, common
 * ancestor across forks, window eviction) and the log window (dedupe key,
 * caps and eviction, removal order, pruning), without a network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/blocktrack.h"
#include "chain/err.h"
#include "chain/logwin.h"

/* Block `n` of fork `f`: hash (f, n), parent (pf, n-1) where pf is the
 * fork the parent is on. */
static struct blocktrack_hdr
blk(uint64_t n, uint8_t f, uint8_t pf)
{
    struct blocktrack_hdr h;

    memset(&h, 0, sizeof(h));
    h.number = n;
    h.timestamp = 1000 + n;
    h.hash[0] = f;
    memcpy(h.hash + 8, &n, sizeof(n));
    if (n > 0) {
        uint64_t p = n - 1;

        h.parent[0] = pf;
        memcpy(h.parent + 8, &p, sizeof(p));
    }
    return h;
}

/* A chain of fork `f` from `lo` to `hi` (parents on f too). */
static void
build(struct blocktrack *t, uint64_t lo, uint64_t hi, uint8_t f)
{
    blocktrack_set_base(t, lo);
    for (uint64_t n = lo; n <= hi; n++) {
        struct blocktrack_hdr h = blk(n, f, f);

        assert_int_equal(blocktrack_append(t, &h), 0);
    }
}

static void
test_append_and_classify(void **state)
{
    struct blocktrack t;
    struct blocktrack_hdr h;

    (void)state;
    blocktrack_init(&t, 8);
    h = blk(10, 1, 1);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_UNBASED);
    assert_int_equal(blocktrack_append(&t, &h), KP_ESTATE); /* unbased */
    build(&t, 10, 14, 1);
    assert_int_equal(blocktrack_len(&t), 5);
    assert_int_equal(blocktrack_tip(&t)->number, 14);
    assert_int_equal(blocktrack_next(&t), 15);
    assert_int_equal(blocktrack_low(&t), 10);

    h = blk(12, 1, 1);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_KNOWN);
    h = blk(15, 1, 1);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_CHILD);
    h = blk(15, 2, 2); /* parent on another fork */
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_FORK);
    assert_int_equal(blocktrack_append(&t, &h), KP_ESTATE);
    h = blk(13, 2, 1);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_FORK);
    h = blk(17, 1, 1);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_AHEAD);
    assert_int_equal(blocktrack_append(&t, &h), KP_ESTATE); /* gap */
    h = blk(9, 2, 2);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_STALE);

    assert_non_null(blocktrack_at(&t, 10));
    assert_null(blocktrack_at(&t, 9));
    assert_null(blocktrack_at(&t, 15));
    h = blk(11, 1, 1);
    assert_true(blocktrack_contains(&t, 11, h.hash));
    h = blk(11, 2, 1);
    assert_false(blocktrack_contains(&t, 11, h.hash));
    blocktrack_cleanup(&t);
}

static void
test_window_evicts_oldest(void **state)
{
    struct blocktrack t;

    (void)state;
    blocktrack_init(&t, 4);
    build(&t, 100, 109, 1);
    assert_int_equal(blocktrack_len(&t), 4);
    assert_int_equal(blocktrack_low(&t), 106);
    assert_int_equal(blocktrack_tip(&t)->number, 109);
    for (uint64_t n = 106; n <= 109; n++)
        assert_int_equal(blocktrack_at(&t, n)->number, n);
    assert_null(blocktrack_at(&t, 105));
    blocktrack_cleanup(&t);
}

static void
test_base_without_parent(void **state)
{
    struct blocktrack t;
    struct blocktrack_hdr h = blk(50, 3, 9);

    (void)state;
    blocktrack_init(&t, 4);
    blocktrack_set_base(&t, 50);
    assert_true(blocktrack_is_based(&t));
    assert_null(blocktrack_tip(&t));
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_CHILD);
    h = blk(49, 3, 3);
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_STALE);
    h = blk(50, 3, 9); /* any parent */
    assert_int_equal(blocktrack_append(&t, &h), 0);
    h = blk(51, 3, 3);
    assert_int_equal(blocktrack_append(&t, &h), 0);
    blocktrack_cleanup(&t);
}

static void
test_truncate(void **state)
{
    struct blocktrack t;
    struct blocktrack_hdr h;

    (void)state;
    blocktrack_init(&t, 16);
    build(&t, 20, 29, 1);
    blocktrack_truncate(&t, 25);
    assert_int_equal(blocktrack_tip(&t)->number, 25);
    assert_int_equal(blocktrack_next(&t), 26);
    h = blk(26, 2, 1); /* new branch off 25 */
    assert_int_equal(blocktrack_classify(&t, &h), BLOCKTRACK_CHILD);
    assert_int_equal(blocktrack_append(&t, &h), 0);
    blocktrack_truncate(&t, 40); /* above the tip: nothing */
    assert_int_equal(blocktrack_tip(&t)->number, 26);
    blocktrack_truncate(&t, 5); /* below the window: empty, based */
    assert_int_equal(blocktrack_len(&t), 0);
    assert_int_equal(blocktrack_next(&t), 6);
    assert_true(blocktrack_is_based(&t));
    blocktrack_cleanup(&t);
}

/* The node's chain: fork 1 up to `split`, then fork 2. */
static void
node_chain(struct blocktrack_hdr *c, uint64_t lo, size_t n, uint64_t split)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t k = lo + i;
        uint8_t f = k <= split ? 1 : 2;
        uint8_t pf = k - 1 <= split ? 1 : 2;

        c[i] = blk(k, f, pf);
    }
}

static void
test_find_ancestor(void **state)
{
    struct blocktrack t;
    struct blocktrack_hdr c[12];
    uint64_t a = 0;

    (void)state;
    blocktrack_init(&t, 16);
    build(&t, 100, 110, 1);
    /* Same chain, extended: the tip itself. */
    node_chain(c, 108, 6, 200);
    assert_int_equal(blocktrack_find_ancestor(&t, c, 6, &a), 0);
    assert_int_equal(a, 110);
    /* Forked after 106. */
    node_chain(c, 104, 8, 106);
    assert_int_equal(blocktrack_find_ancestor(&t, c, 8, &a), 0);
    assert_int_equal(a, 106);
    /* The read does not reach down to the fork point. */
    node_chain(c, 108, 4, 106);
    assert_int_equal(blocktrack_find_ancestor(&t, c, 4, &a), KP_ENOTFOUND);
    /* Not consecutive. */
    node_chain(c, 104, 8, 106);
    c[3].number = 150;
    assert_int_equal(blocktrack_find_ancestor(&t, c, 8, &a), KP_EINVAL);
    /* Consecutive, but broken links above the ancestor (read across a
     * change of the chain). */
    node_chain(c, 104, 8, 106);
    c[5].parent[0] = 7;
    assert_int_equal(blocktrack_find_ancestor(&t, c, 8, &a), KP_EINVAL);
    /* Nothing held. */
    blocktrack_set_base(&t, 100);
    node_chain(c, 100, 4, 200);
    assert_int_equal(blocktrack_find_ancestor(&t, c, 4, &a), KP_ENOTFOUND);
    assert_int_equal(blocktrack_find_ancestor(&t, c, 0, &a), KP_ENOTFOUND);
    blocktrack_cleanup(&t);
}

/* ---- log window ---- */

static struct evlog
mklog(uint64_t number, uint8_t fork, uint64_t index, const uint8_t *data,
      size_t len)
{
    struct evlog l;

    memset(&l, 0, sizeof(l));
    l.block_number = number;
    l.block_hash[0] = fork;
    memcpy(l.block_hash + 8, &number, sizeof(number));
    l.log_index = index;
    l.data = data;
    l.data_len = len;
    return l;
}

static void
test_logwin_dedupe(void **state)
{
    struct logwin w;
    uint8_t d[3] = {1, 2, 3};
    struct evlog a = mklog(5, 1, 0, d, 3), b = mklog(5, 1, 1, d, 2);
    struct evlog c = mklog(5, 2, 0, NULL, 0); /* same index, other block */
    const struct evlog *got;

    (void)state;
    logwin_init(&w, 100, 1000);
    assert_int_equal(logwin_add(&w, &a), 0);
    assert_int_equal(logwin_add(&w, &a), KP_ESTATE);
    assert_int_equal(logwin_add(&w, &b), 0);
    assert_int_equal(logwin_add(&w, &c), 0);
    assert_int_equal(logwin_count(&w), 3);
    got = logwin_find(&w, a.block_hash, 0);
    assert_non_null(got);
    assert_int_equal(got->data_len, 3);
    assert_ptr_not_equal(got->data, d); /* a copy */
    assert_memory_equal(got->data, d, 3);
    assert_null(logwin_find(&w, a.block_hash, 7));
    assert_true(logwin_remove(&w, a.block_hash, 0));
    assert_false(logwin_remove(&w, a.block_hash, 0));
    assert_null(logwin_find(&w, a.block_hash, 0));
    assert_int_equal(logwin_add(&w, &a), 0); /* back after removal */
    logwin_cleanup(&w);
}

static void
test_logwin_caps(void **state)
{
    struct logwin w;
    uint8_t d[100] = {0};

    (void)state;
    logwin_init(&w, 4, 250);
    for (uint64_t i = 0; i < 6; i++) {
        struct evlog l = mklog(1, 1, i, NULL, 0);

        assert_int_equal(logwin_add(&w, &l), 0);
    }
    assert_int_equal(logwin_count(&w), 4);
    assert_int_equal(w.evicted, 2);
    assert_null(logwin_find(&w, mklog(1, 1, 0, NULL, 0).block_hash, 0));
    assert_non_null(logwin_find(&w, mklog(1, 1, 0, NULL, 0).block_hash, 5));
    /* Bytes: two of 100 fit, a third evicts. */
    for (uint64_t i = 10; i < 13; i++) {
        struct evlog l = mklog(2, 1, i, d, sizeof(d));

        assert_int_equal(logwin_add(&w, &l), 0);
    }
    assert_true(w.bytes <= 250);
    {
        uint8_t huge[300] = {0};
        struct evlog big = mklog(3, 1, 0, huge, sizeof(huge));

        /* Alone over the byte cap: refused, nothing evicted for it. */
        size_t before = logwin_count(&w);

        assert_int_equal(logwin_add(&w, &big), KP_ELIMIT);
        assert_int_equal(logwin_count(&w), before);
    }
    logwin_cleanup(&w);
}

static void
test_logwin_take_order(void **state)
{
    struct logwin w;
    struct logwin_list l;
    /* Insert in a scrambled order. */
    const uint64_t nums[] = {7, 5, 6, 7, 5, 6, 8};
    const uint64_t idx[] = {1, 0, 2, 0, 1, 0, 0};

    (void)state;
    logwin_init(&w, 100, 1000);
    for (size_t i = 0; i < 7; i++) {
        struct evlog e = mklog(nums[i], 1, idx[i], NULL, 0);

        assert_int_equal(logwin_add(&w, &e), 0);
    }
    logwin_take_above(&w, &l, 5);
    assert_int_equal(l.n, 5);
    /* Newest block first, then descending index. */
    assert_int_equal(l.v[0]->log.block_number, 8);
    assert_int_equal(l.v[1]->log.block_number, 7);
    assert_int_equal(l.v[1]->log.log_index, 1);
    assert_int_equal(l.v[2]->log.log_index, 0);
    assert_int_equal(l.v[3]->log.block_number, 6);
    assert_int_equal(l.v[3]->log.log_index, 2);
    assert_int_equal(l.v[4]->log.log_index, 0);
    logwin_list_free(&l);
    assert_int_equal(logwin_count(&w), 2);
    {
        struct evlog e = mklog(5, 1, 0, NULL, 0);

        logwin_take_block(&w, &l, e.block_hash);
    }
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0]->log.log_index, 0);
    assert_int_equal(l.v[1]->log.log_index, 1);
    logwin_list_free(&l);
    assert_int_equal(logwin_count(&w), 0);
    logwin_take_above(&w, &l, 0);
    assert_int_equal(l.n, 0);
    assert_null(l.v);
    logwin_list_free(&l);
    logwin_cleanup(&w);
}

static void
test_logwin_prune_and_grow(void **state)
{
    struct logwin w;

    (void)state;
    logwin_init(&w, 100000, 1 << 20);
    /* Past the initial bucket count: lookups still work after growth. */
    for (uint64_t n = 0; n < 1000; n++)
        for (uint64_t i = 0; i < 3; i++) {
            struct evlog e = mklog(n, 1, i, NULL, 0);

            assert_int_equal(logwin_add(&w, &e), 0);
        }
    for (uint64_t n = 0; n < 1000; n += 97) {
        struct evlog e = mklog(n, 1, 2, NULL, 0);

        assert_non_null(logwin_find(&w, e.block_hash, 2));
    }
    logwin_prune_below(&w, 900);
    assert_int_equal(logwin_count(&w), 300);
    {
        struct evlog e = mklog(899, 1, 0, NULL, 0);

        assert_null(logwin_find(&w, e.block_hash, 0));
        e = mklog(900, 1, 0, NULL, 0);
        assert_non_null(logwin_find(&w, e.block_hash, 0));
    }
    logwin_cleanup(&w);
    logwin_cleanup(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_classify),
        cmocka_unit_test(test_window_evicts_oldest),
        cmocka_unit_test(test_base_without_parent),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_find_ancestor),
        cmocka_unit_test(test_logwin_dedupe),
        cmocka_unit_test(test_logwin_caps),
        cmocka_unit_test(test_logwin_take_order),
        cmocka_unit_test(test_logwin_prune_and_grow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
