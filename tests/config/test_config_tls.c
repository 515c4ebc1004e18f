/* chain.rpc[].tls_ca_file and chain.ws[].tls_ca_file: a CA file for
 * https:// and wss:// endpoints. A readable PEM file loads (relative to
 * the config file) and print-config shows it, reading back the same; the
 * key on an http:// or ws:// URL, a file that is missing, not a regular
 * file or holds no certificate, and wss endpoints that name different
 * files are each an error at the key's line and column. With
 * CFG_LOAD_NO_SECRETS the file is not looked at, the scheme still is
 * where the URL is known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "chain/err.h"
#include "config/cfg.h"
#include "tests/config/cfgtext.h"
#include "tests/support/tmp.h"

/* The endpoints go at line 6; everything after them is fixed. */
static const char head_yaml[] = "protocol:\n"         /* 1 */
                                "  name: test\n"      /* 2 */
                                "chain:\n"            /* 3 */
                                "  chain_id: 31337\n" /* 4 */
                                "  rpc:\n";           /* 5 */

static const char tail_yaml[] =
    "signer:\n"
    "  key_env: KEEPER_PRIVATE_KEY\n"
    "  min_balance: 0.1ether\n"
    "oracles:\n"
    "  - name: eth_usd\n"
    "    address: 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\n"
    "    asset: ETH/USD\n"
    "    max_age: 2h\n"
    "    heartbeat: 1h\n"
    "reserve:\n"
    "  contracts:\n"
    "    reserve: 0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0\n"
    "    clearinghouse: 0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9\n"
    "    backstop: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9\n"
    "strategies:\n"
    "  inject:\n"
    "    epoch_budget: 100000e6\n";

/* Only the marker is checked at load; TLS libraries read the rest. */
static const char fake_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBfake\n"
                               "-----END CERTIFICATE-----\n";

static char tmpdir[64];
static char ca[128];   /* tmpdir/ca.pem */
static char ca2[128];  /* tmpdir/ca2.pem */
static char none[128]; /* tmpdir/none.pem, never made */

/* --- helpers --- */

/* head_yaml + endpoints + tail_yaml. Returns: the text (free it). */
static char *
config_text(const char *endpoints)
{
    size_t n = strlen(head_yaml) + strlen(endpoints) + strlen(tail_yaml);
    char *t = malloc(n + 1);

    assert_non_null(t);
    snprintf(t, n + 1, "%s%s%s", head_yaml, endpoints, tail_yaml);
    return t;
}

/* Load `endpoints` in the fixed text from memory as "t.yaml" and expect
 * exactly the error lines `want` ("": it loads). */
static void
expect_flags(const char *endpoints, unsigned flags, const char *want)
{
    char *text = config_text(endpoints), *got = cfgt_load_text(text, flags);

    assert_string_equal(got, want);
    free(got);
    free(text);
}

static void
expect(const char *endpoints, const char *want)
{
    expect_flags(endpoints, 0, want);
}

static int
group_setup(void **state)
{
    (void)state;
    if (ts_tmpdir_make(tmpdir, sizeof(tmpdir), "test-config-tls") != 0)
        return -1;
    snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);
    snprintf(ca2, sizeof(ca2), "%s/ca2.pem", tmpdir);
    snprintf(none, sizeof(none), "%s/none.pem", tmpdir);
    return ts_write_text(ca, fake_pem, 0644) == 0 &&
                   ts_write_text(ca2, fake_pem, 0644) == 0
               ? 0
               : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    return ts_tmpdir_remove(tmpdir);
}

/* --- tests --- */

/* Relative to the config file; printed as the absolute path, and only
 * where set; the printed form loads back to the same chain section. */
static void
test_loads_and_prints(void **state)
{
    char *text, *path, *out, *out2, line[256];
    const struct cfg_chain *ch;
    struct cfg_errors errs;
    struct cfg cfg, again;

    (void)state;
    text = config_text("    - url: https://127.0.0.1:8545\n"
                       "      tls_ca_file: ca.pem\n"
                       "    - url: http://127.0.0.1:8546\n"
                       "  ws:\n"
                       "    - url: wss://127.0.0.1:8545\n"
                       "      tls_ca_file: ca.pem\n"
                       "    - url: ws://127.0.0.1:8546\n");
    assert_int_equal(asprintf(&path, "%s/tls.yaml", tmpdir) > 0, 1);
    assert_int_equal(ts_write_text(path, text, 0600), 0);
    cfg_errors_init(&errs);
    if (cfg_load(&cfg, path, 0, &errs) != 0)
        cfg_errors_print(stderr, &errs);
    assert_int_equal(errs.n, 0);
    ch = &cfg.protocols[0].chain;
    assert_string_equal(ch->rpc[0].tls_ca_file, ca);
    assert_string_equal(ch->rpc[1].tls_ca_file, "");
    assert_string_equal(ch->ws[0].tls_ca_file, ca);
    assert_string_equal(ch->ws[1].tls_ca_file, "");

    out = cfgt_print_text(&cfg);
    snprintf(line, sizeof(line), "      tls_ca_file: \"%s\"\n", ca);
    assert_non_null(strstr(out, line));                   /* rpc[0] */
    assert_non_null(strstr(strstr(out, line) + 1, line)); /* ws[0] */
    assert_null(strstr(strstr(strstr(out, line) + 1, line) + 1, line));
    assert_int_equal(cfg_load_mem(&again, path, out, strlen(out), 0, &errs), 0);
    out2 = cfgt_print_text(&again);
    assert_string_equal(out, out2);
    assert_memory_equal(&cfg.protocols[0].chain, &again.protocols[0].chain,
                        sizeof(cfg.protocols[0].chain));
    free(out);
    free(out2);
    free(text);
    free(path);
    cfg_cleanup(&cfg);
    cfg_cleanup(&again);
    cfg_errors_cleanup(&errs);
}

static void
test_needs_tls_url(void **state)
{
    char ep[512];

    (void)state;
    snprintf(ep, sizeof(ep),
             "    - url: http://127.0.0.1:8545\n"
             "      tls_ca_file: %s\n",
             ca);
    expect(ep, "t.yaml:7:20: chain.rpc[0].tls_ca_file: applies to https:// "
               "URLs only\n");
    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "  ws:\n"
             "    - url: ws://127.0.0.1:8545\n"
             "      tls_ca_file: %s\n",
             ca);
    expect(ep, "t.yaml:9:20: chain.ws[0].tls_ca_file: applies to wss:// "
               "URLs only\n");
    /* The scheme is checked in any case; upper case is still TLS. */
    snprintf(ep, sizeof(ep),
             "    - url: HTTPS://127.0.0.1:8545\n"
             "      tls_ca_file: %s\n"
             "    - url: http://127.0.0.1:8546\n"
             "      tls_ca_file: %s\n",
             none, none);
    expect_flags(ep, CFG_LOAD_NO_SECRETS,
                 "t.yaml:9:20: chain.rpc[1].tls_ca_file: applies to "
                 "https:// URLs only\n");
}

/* A referenced URL is checked once resolved. */
static void
test_referenced_url(void **state)
{
    char ep[512];

    (void)state;
    snprintf(ep, sizeof(ep),
             "    - url: ${env:KP_TEST_TLS_URL}\n"
             "      tls_ca_file: %s\n",
             ca);
    setenv("KP_TEST_TLS_URL", "https://node.example/v2/key", 1);
    expect(ep, "");
    setenv("KP_TEST_TLS_URL", "http://node.example/v2/key", 1);
    expect(ep, "t.yaml:7:20: chain.rpc[0].tls_ca_file: applies to https:// "
               "URLs only\n");
    /* Unknown without secrets: nothing to say. */
    expect_flags(ep, CFG_LOAD_NO_SECRETS, "");
    unsetenv("KP_TEST_TLS_URL");
}

static void
test_unusable_file(void **state)
{
    char ep[512], want[512], junk[160];

    (void)state;
    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "      tls_ca_file: %s\n",
             none);
    snprintf(want, sizeof(want),
             "t.yaml:7:20: chain.rpc[0].tls_ca_file: cannot read '%s': No "
             "such file or directory\n",
             none);
    expect(ep, want);
    /* Not looked at without secrets (CI away from the machine). */
    expect_flags(ep, CFG_LOAD_NO_SECRETS, "");

    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "  ws:\n"
             "    - url: wss://127.0.0.1:8545\n"
             "      tls_ca_file: %s\n",
             tmpdir);
    snprintf(want, sizeof(want),
             "t.yaml:9:20: chain.ws[0].tls_ca_file: '%s' is not a regular "
             "file\n",
             tmpdir);
    expect(ep, want);

    snprintf(junk, sizeof(junk), "%s/junk.pem", tmpdir);
    assert_int_equal(ts_write_text(junk, "not a certificate\n", 0644), 0);
    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "      tls_ca_file: %s\n",
             junk);
    snprintf(want, sizeof(want),
             "t.yaml:7:20: chain.rpc[0].tls_ca_file: '%s' holds no PEM "
             "certificate (expected '-----BEGIN CERTIFICATE-----')\n",
             junk);
    expect(ep, want);
}

/* One TLS context per WebSocket client: its wss endpoints agree. */
static void
test_ws_endpoints_agree(void **state)
{
    char ep[1024];

    (void)state;
    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "  ws:\n"
             "    - url: wss://a.example\n"
             "      tls_ca_file: %s\n"
             "    - url: ws://127.0.0.1:8546\n"
             "    - url: wss://b.example\n"
             "      tls_ca_file: %s\n"
             "    - url: wss://c.example\n"
             "      tls_ca_file: %s\n",
             ca, ca2, ca);
    expect(ep, "t.yaml:12:20: chain.ws[2].tls_ca_file: must be the same as "
               "chain.ws[0]'s (the WebSocket client trusts one CA file for "
               "all wss:// endpoints)\n");
    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "  ws:\n"
             "    - url: wss://a.example\n"
             "    - url: wss://b.example\n"
             "      tls_ca_file: %s\n",
             ca);
    expect(ep, "t.yaml:10:20: chain.ws[1].tls_ca_file: must be the same as "
               "chain.ws[0]'s (the WebSocket client trusts one CA file for "
               "all wss:// endpoints)\n");
    /* A URL not known (no secrets) is not guessed at. */
    snprintf(ep, sizeof(ep),
             "    - url: https://127.0.0.1:8545\n"
             "  ws:\n"
             "    - url: ${env:KP_TEST_TLS_WS}\n"
             "    - url: wss://b.example\n"
             "      tls_ca_file: %s\n",
             ca);
    expect_flags(ep, CFG_LOAD_NO_SECRETS, "");
    /* rpc endpoints each have their own. */
    snprintf(ep, sizeof(ep),
             "    - url: https://a.example\n"
             "      tls_ca_file: %s\n"
             "    - url: https://b.example\n"
             "      tls_ca_file: %s\n"
             "    - url: https://c.example\n",
             ca, ca2);
    expect(ep, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_and_prints),
        cmocka_unit_test(test_needs_tls_url),
        cmocka_unit_test(test_referenced_url),
        cmocka_unit_test(test_unusable_file),
        cmocka_unit_test(test_ws_endpoints_agree),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
