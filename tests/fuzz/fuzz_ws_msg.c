/* Arbitrary bytes into the WebSocket message parser of the event stream
 * (eth_subscription notifications with headers or logs, replies to
 * eth_subscribe). The first byte picks the log data cap, so that both
 * sides of the cap are reached. Whatever comes back must keep its
 * promises: data inside the caller's buffer and under the cap, at most 4
 * topics, NUL-terminated identifiers, and only documented error codes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/err.h"
#include "chain/evlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_log(const struct evlog_msg *m, const uint8_t *buf, size_t cap)
{
    struct evlog_filter f;
    volatile uint8_t sink = 0;

    if (m->log.ntopics > EVLOG_MAX_TOPICS || m->log.data_len > cap)
        __builtin_trap();
    if (m->log.data_len > 0 && m->log.data != buf)
        __builtin_trap();
    for (size_t i = 0; i < m->log.data_len; i++)
        sink ^= m->log.data[i];
    (void)sink;
    /* Match against a filter built from the log itself: it must match. */
    memset(&f, 0, sizeof(f));
    f.naddrs = 1;
    f.addrs[0] = m->log.address;
    for (size_t i = 0; i < m->log.ntopics; i++) {
        f.nalts[i] = 1;
        memcpy(f.topics[i][0], m->log.topics[i], 32);
    }
    if (!evlog_filter_match(&f, &m->log))
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[4096];
    struct evlog_msg m;
    size_t cap;
    int rc;

    if (size < 1)
        return 0;
    cap = (size_t)data[0] * 16; /* 0 .. 4080 */
    rc = evlog_msg_parse(&m, buf, cap, (const char *)data + 1, size - 1);
    if (rc != 0) {
        if (rc != KP_EINVAL && rc != KP_ERANGE && rc != KP_ELIMIT)
            __builtin_trap();
        return 0;
    }
    if (memchr(m.sub, '\0', sizeof(m.sub)) == NULL ||
        memchr(m.text, '\0', sizeof(m.text)) == NULL)
        __builtin_trap();
    switch (m.kind) {
    case EVLOG_MSG_LOG:
        check_log(&m, buf, cap);
        break;
    case EVLOG_MSG_HEAD:
    case EVLOG_MSG_REPLY:
        break;
    default:
        __builtin_trap();
    }
    return 0;
}
