/* Arbitrary bytes into the Chainlink decoders and the judge: as
 * latestRoundData return data, as decimals() return data, and as an
 * AnswerUpdated log (topic count and topics from the input; topic0 forced
 * right on request so that decoding goes past it). Whatever decodes is
 * judged at the decimals the input picks; an accepted price must be
 * positive, finite and carry the decoded answer exactly. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/err.h"
#include "chain/u256.h"
#include "oracle/chainlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
judge(const struct oracle_chainlink_round *r, unsigned decimals)
{
    struct oracle_price p;
    enum oracle_reject why = ORACLE_REJ_COUNT;
    struct u256 phased = r->answered_in_round;

    if (oracle_chainlink_round_price(&p, &why, r, decimals) == 0) {
        if (!isfinite(p.value) || !(p.value > 0.0) || u256_is_neg(&p.answer) ||
            u256_cmp(&p.answer, &r->answer) != 0 || p.updated_at == 0 ||
            p.decimals != decimals)
            __builtin_trap();
    } else if ((unsigned)why >= ORACLE_REJ_COUNT) {
        __builtin_trap();
    }
    oracle_chainlink_apply_phase(&phased, &r->round_id);
}

static void
fuzz_round(const uint8_t *d, size_t n, unsigned decimals)
{
    struct oracle_chainlink_round r;

    if (oracle_chainlink_decode_round(&r, d, n) != 0)
        return;
    /* uint80 fields decode strictly. */
    if (u256_bit_len(&r.round_id) > 80 ||
        u256_bit_len(&r.answered_in_round) > 80 || n < 160)
        __builtin_trap();
    judge(&r, decimals);
}

static void
fuzz_decimals(const uint8_t *d, size_t n)
{
    unsigned dec = 1000;

    if (oracle_chainlink_decode_decimals(&dec, d, n) == 0 && dec > 255)
        __builtin_trap();
}

static void
fuzz_log(const uint8_t *d, size_t n, uint8_t ctl, unsigned decimals)
{
    uint8_t topics[4][32];
    size_t ntopics = ctl % 5, take = ntopics * 32;
    struct oracle_chainlink_round r;

    if (n < take)
        return;
    memcpy(topics, d, take);
    if ((ctl & 0x80) && ntopics > 0)
        oracle_chainlink_topic_answer_updated(topics[0]);
    if (oracle_chainlink_decode_log(&r, topics, ntopics, d + take, n - take) !=
        0)
        return;
    if (ntopics != 3 || u256_cmp(&r.round_id, &r.answered_in_round) != 0)
        __builtin_trap();
    judge(&r, decimals);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned decimals;

    if (size < 2)
        return 0;
    decimals = data[1] % 40; /* a few past ORACLE_DECIMALS_MAX */
    switch (data[0] % 3) {
    case 0:
        fuzz_round(data + 2, size - 2, decimals);
        break;
    case 1:
        fuzz_decimals(data + 2, size - 2);
        break;
    default:
        if (size >= 3)
            fuzz_log(data + 3, size - 3, data[2], decimals);
        break;
    }
    return 0;
}
