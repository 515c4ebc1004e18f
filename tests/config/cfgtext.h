/*
 * cfgtext.h - the config tests' text views: a configuration loaded from
 * text, its errors as `keeper check-config` prints them, and the
 * configuration as `keeper print-config` prints it.
 */
#ifndef KP_TESTS_CONFIG_CFGTEXT_H
#define KP_TESTS_CONFIG_CFGTEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "config/cfg.h"

/* Every error of `errs`, one per line, as cfg_errors_print writes them.
 * Returns: the text (free it). */
static inline char *
cfgt_errors_text(const struct cfg_errors *errs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    cfg_errors_print(f, errs);
    fclose(f);
    return buf;
}

/* `cfg` as `keeper print-config` prints it.
 * Returns: the text (free it). */
static inline char *
cfgt_print_text(const struct cfg *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(cfg_print(f, cfg), 0);
    fclose(f);
    return buf;
}

/* Load `text` from memory as "t.yaml" with `flags`; a failed load must
 * be KP_ECONFIG with errors and leave nothing loaded.
 * Returns: the error lines ("" if it loaded; free it). */
static inline char *
cfgt_load_text(const char *text, unsigned flags)
{
    struct cfg_errors errs;
    struct cfg cfg;
    char *out;
    int rc;

    cfg_errors_init(&errs);
    rc = cfg_load_mem(&cfg, "t.yaml", text, strlen(text), flags, &errs);
    assert_int_equal(rc == 0, errs.n == 0);
    if (rc != 0) {
        assert_int_equal(rc, KP_ECONFIG);
        assert_null(cfg.protocols);
    }
    out = cfgt_errors_text(&errs);
    cfg_cleanup(&cfg);
    cfg_errors_cleanup(&errs);
    return out;
}

#endif
