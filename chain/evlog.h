/*
 * evlog.h - event logs, log filters, and the JSON that carries them.
 *
 * Typed logs and block headers from JSON-RPC objects (eth_getLogs results,
 * eth_getBlockBy* results) and from eth_subscription notifications on a
 * WebSocket (newHeads and logs). Parsing is separate from I/O and has
 * caps on everything: at most 4 topics, log data into a caller's buffer of
 * a given size, identifiers of bounded length.
 *
 * Filters follow eth_getLogs: a list of addresses (any of them; none:
 * any address) and up to 4 topic positions, each either a wildcard or a
 * list of alternatives. A log matches if it has at least as many topics as
 * the last constrained position and every constrained position holds one
 * of its alternatives.
 */
#ifndef KP_CHAIN_EVLOG_H
#define KP_CHAIN_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chain/address.h"
#include "chain/blocktrack.h"

#define EVLOG_MAX_TOPICS 4
#define EVLOG_MAX_ADDRS 16         /* addresses in one filter */
#define EVLOG_MAX_ALTS 8           /* alternatives at one topic position */
#define EVLOG_FILTER_JSON_MAX 4096 /* bytes of a filter object as JSON */
#define EVLOG_SUBID_MAX 80         /* subscription id, with the NUL */
#define EVLOG_MSG_TEXT 160         /* error message kept from a reply */

struct evlog {
    struct eth_addr address;
    uint8_t topics[EVLOG_MAX_TOPICS][32];
    uint8_t ntopics;
    const uint8_t *data; /* borrowed: see who filled the struct */
    size_t data_len;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint64_t tx_index;
    uint64_t log_index;
    uint32_t filters; /* bit i: matches filter i (set by the event stream) */
};

struct evlog_filter {
    struct eth_addr addrs[EVLOG_MAX_ADDRS];
    size_t naddrs; /* 0: any address */
    uint8_t topics[EVLOG_MAX_TOPICS][EVLOG_MAX_ALTS][32];
    size_t nalts[EVLOG_MAX_TOPICS]; /* 0: any topic there */
};

/* What a WebSocket message from a JSON-RPC node is. */
enum evlog_msg_kind {
    EVLOG_MSG_REPLY, /* answer to a request of ours (id) */
    EVLOG_MSG_HEAD,  /* eth_subscription with a block header */
    EVLOG_MSG_LOG,   /* eth_subscription with a log */
};

struct evlog_msg {
    enum evlog_msg_kind kind;
    /* EVLOG_MSG_REPLY */
    uint64_t id;
    bool is_error;
    int64_t err_code;
    char text[EVLOG_MSG_TEXT]; /* result string (e.g. a subscription id)
                                  or the error message; "" otherwise */
    /* EVLOG_MSG_HEAD and EVLOG_MSG_LOG */
    char sub[EVLOG_SUBID_MAX];  /* subscription id */
    struct blocktrack_hdr head; /* EVLOG_MSG_HEAD */
    struct evlog log;           /* EVLOG_MSG_LOG; data in the caller's
                                   buffer */
    bool removed;               /* EVLOG_MSG_LOG: "removed": true */
};

/* Parse a log object (as in eth_getLogs results). Pending logs (no block
 * hash) are refused. `data` is decoded into `buf`; out->data points there.
 * Returns: 0; KP_EINVAL (missing or malformed member); KP_ERANGE (a
 *          quantity over 64 bits); KP_ELIMIT (more than 4 topics, or data
 *          longer than `cap` bytes).
 * Out: out, buf, *removed (optional: the "removed" member, false if absent)
 * In: o, cap */
int evlog_parse(struct evlog *out, uint8_t *buf, size_t cap, bool *removed,
                const cJSON *o);

/* Parse a block header object (eth_getBlockBy*, newHeads): number, hash,
 * parentHash, timestamp.
 * Returns: 0; KP_EINVAL (missing or malformed member); KP_ERANGE.
 * Out: out   In: o */
int evlog_parse_header(struct blocktrack_hdr *out, const cJSON *o);

/* Parse one WebSocket message (`len` bytes at `text`, need not be
 * NUL-terminated): a JSON-RPC reply with a numeric id, or an
 * eth_subscription notification whose result is a header or a log.
 * Returns: 0; KP_EINVAL (not JSON, or none of those shapes); KP_ERANGE,
 *          KP_ELIMIT (as evlog_parse).
 * Out: m, buf (log data)   In: buf cap, text, len */
int evlog_msg_parse(struct evlog_msg *m, uint8_t *buf, size_t cap,
                    const char *text, size_t len);

/* Returns: whether log `l` matches filter `f` (eth_getLogs rules). */
bool evlog_filter_match(const struct evlog_filter *f, const struct evlog *l);

/* Returns: whether `f` is usable: naddrs <= EVLOG_MAX_ADDRS and each nalts
 * <= EVLOG_MAX_ALTS. */
bool evlog_filter_is_valid(const struct evlog_filter *f);

/* Write `f` as a JSON filter object ({"address":[...],"topics":[...]}),
 * with `extra` (e.g. "\"fromBlock\":\"0x1\"", or NULL) added as members.
 * Returns: 0, KP_ERANGE if `cap` is too small, KP_EINVAL for an invalid
 *          filter.
 * Out: out   In: cap, f, extra */
int evlog_filter_json(char *out, size_t cap, const struct evlog_filter *f,
                      const char *extra);

/* Returns: whether logs `a` and `b` are the same log: same block hash and
 * log index. */
bool evlog_same(const struct evlog *a, const struct evlog *b);

#endif
