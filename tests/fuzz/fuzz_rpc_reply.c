/* Arbitrary bytes into the JSON-RPC reply parser: as the reply to a single
 * call (id 1) and to a batch of three (ids 7..9). The first byte picks the
 * mode so that both paths see every input shape. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/err.h"
#include "chain/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_items(const struct rpc_reply_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct rpc_reply_item *it = &items[i];

        if (it->err == 0 && !it->result)
            __builtin_trap();
        if (it->err == KP_ERPC && !it->message)
            __builtin_trap();
        if (it->err != 0 && it->err != KP_ERPC && it->err != KP_EINVAL)
            __builtin_trap();
        /* Touch what the caller would read. */
        if (it->err == KP_ERPC)
            (void)strlen(it->message);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rpc_reply_item items[3];
    char why[128];
    cJSON *doc = NULL;
    bool batch;
    uint64_t v;
    int rc;

    if (size < 1)
        return 0;
    batch = data[0] & 1;
    rc = rpc_reply_parse(&doc, items, why, sizeof(why), (const char *)data + 1,
                         size - 1, batch ? 7 : 1, batch ? 3 : 1, batch);
    if (rc == 0) {
        if (!doc)
            __builtin_trap();
        check_items(items, batch ? 3 : 1);
        if (items[0].err == 0)
            (void)rpc_quantity_u64(items[0].result, &v);
        cJSON_Delete(doc);
    } else if (rc != KP_EINVAL || doc || !why[0]) {
        __builtin_trap();
    }
    return 0;
}
