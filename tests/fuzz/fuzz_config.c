/* fuzz_config: arbitrary bytes as a configuration file - YAML parsing,
 * schema validation, error formatting and printing must neither crash
 * nor leak. Secret references are checked for syntax only, so the
 * fuzzer never reads files or depends on the environment. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/cfg.h"
#include "config/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
units(const char *s, size_t len)
{
    char out[CFG_UNIT_STR_MAX];
    uint64_t u;
    uint32_t bps;

    if (cfg_parse_duration(&u, s, len) == 0)
        cfg_fmt_duration(out, sizeof(out), u);
    if (cfg_parse_size(&u, s, len) == 0)
        cfg_fmt_size(out, sizeof(out), u);
    if (cfg_parse_percent(&bps, s, len) == 0)
        cfg_fmt_percent(out, sizeof(out), bps);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    struct cfg_errors errs;
    struct cfg cfg;
    char line[512];

    if (sink == NULL)
        sink = fopen("/dev/null", "w");
    if (size < 64)
        units((const char *)data, size);
    cfg_errors_init(&errs);
    if (cfg_load_mem(&cfg, "fuzz.yaml", (const char *)data, size,
                     CFG_LOAD_NO_SECRETS, &errs) == 0 &&
        sink != NULL)
        cfg_print(sink, &cfg);
    for (size_t i = 0; i < errs.n; i++)
        cfg_error_format(line, sizeof(line), &errs.v[i]);
    if (sink != NULL)
        cfg_errors_print(sink, &errs);
    cfg_cleanup(&cfg);
    cfg_errors_cleanup(&errs);
    return 0;
}
