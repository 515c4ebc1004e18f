/* Configuration loading: the examples load; each error class gives its
 * exact "FILE:LINE:COL: message"; every error of a file is reported;
 * limits (size, depth, aliases) hold; secrets resolve and never print;
 * print-config reads back to the same configuration; units parse and
 * format exactly; the docs list every key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain/err.h"
#include "config/cfg.h"
#include "config/cfg_int.h"
#include "config/units.h"
#include "tests/config/cfgtext.h"
#include "tests/support/tmp.h"

/* Line numbers in expected messages refer to this text. */
static const char base_yaml[] =
    "protocol:\n"                                                     /*  1 */
    "  name: test\n"                                                  /*  2 */
    "chain:\n"                                                        /*  3 */
    "  chain_id: 31337\n"                                             /*  4 */
    "  rpc:\n"                                                        /*  5 */
    "    - url: http://127.0.0.1:8545\n"                              /*  6 */
    "signer:\n"                                                       /*  7 */
    "  key_env: KEEPER_PRIVATE_KEY\n"                                 /*  8 */
    "  min_balance: 0.1ether\n"                                       /*  9 */
    "oracles:\n"                                                      /* 10 */
    "  - name: eth_usd\n"                                             /* 11 */
    "    address: 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\n"       /* 12 */
    "    asset: ETH/USD\n"                                            /* 13 */
    "    max_age: 2h\n"                                               /* 14 */
    "    heartbeat: 1h\n"                                             /* 15 */
    "reserve:\n"                                                      /* 16 */
    "  contracts:\n"                                                  /* 17 */
    "    reserve: 0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0\n"       /* 18 */
    "    clearinghouse: 0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9\n" /* 19 */
    "    backstop: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9\n"      /* 20 */
    "strategies:\n"                                                   /* 21 */
    "  inject:\n"                                                     /* 22 */
    "    epoch_budget: 100000e6\n";                                   /* 23 */

static char tmpdir[64];

/* --- helpers --- */

/* base_yaml with the first occurrence of `from` replaced by `to`. */
static char *
edit(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    size_t n;
    char *out;

    assert_non_null(p);
    n = strlen(text) - strlen(from) + strlen(to);
    out = malloc(n + 1);
    assert_non_null(out);
    sprintf(out, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
    return out;
}

static void
expect_errors(const char *text, const char *want)
{
    char *got = cfgt_load_text(text, 0);

    assert_string_equal(got, want);
    free(got);
}

/* Replace `from` by `to` in base_yaml and expect exactly `want`. */
static void
expect_edit(const char *from, const char *to, const char *want)
{
    char *text = edit(base_yaml, from, to);

    expect_errors(text, want);
    free(text);
}

static char *
write_file(const char *name, const char *text, size_t len)
{
    char *path = malloc(strlen(tmpdir) + strlen(name) + 2);
    FILE *f;

    assert_non_null(path);
    sprintf(path, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *
source_dir(void)
{
    const char *d = getenv("KP_SOURCE_DIR");

    return d != NULL ? d : ".";
}

static void
set_example_secrets(void)
{
    setenv("KEEPER_KEYSTORE_PASSWORD", "S3CRET-keystore-pw", 1);
    setenv("PAGERDUTY_ROUTING_KEY", "S3CRET-routing-key", 1);
    setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/S3CRET", 1);
}

static int
group_setup(void **state)
{
    (void)state;
    return ts_tmpdir_make(tmpdir, sizeof(tmpdir), "test-config");
}

static int
group_teardown(void **state)
{
    (void)state;
    return ts_tmpdir_remove(tmpdir);
}

/* --- valid configurations --- */

static void
test_base_loads_with_defaults(void **state)
{
    const struct cfg_protocol *p;
    struct cfg_errors errs;
    struct cfg cfg;
    struct u256 want;

    (void)state;
    cfg_errors_init(&errs);
    assert_int_equal(
        cfg_load_mem(&cfg, "t.yaml", base_yaml, strlen(base_yaml), 0, &errs),
        0);
    assert_int_equal(cfg.n_protocols, 1);
    p = cfg_find_protocol(&cfg, "test");
    assert_non_null(p);
    assert_null(cfg_find_protocol(&cfg, "other"));
    assert_string_equal(p->path, "t.yaml");
    assert_int_equal(p->chain.chain_id, 31337);
    assert_int_equal(p->chain.n_rpc, 1);
    assert_string_equal(p->chain.rpc[0].name, "rpc0");
    assert_string_equal(p->chain.rpc[0].url.value, "http://127.0.0.1:8545");
    assert_string_equal(p->chain.rpc[0].url.ref, "");
    assert_int_equal(p->chain.rpc[0].weight, 1);
    assert_int_equal(p->chain.n_ws, 0);
    assert_int_equal(p->chain.max_lag_blocks, 3);
    assert_int_equal(p->chain.request_timeout_ms, 5000);
    assert_int_equal(p->chain.poll_interval_ms, 2000);
    assert_int_equal(p->chain.confirmations, 1);
    assert_int_equal(p->chain.max_reply_bytes, 8 << 20);
    assert_int_equal(p->signer.kind, CFG_SIGNER_KEY_ENV);
    assert_string_equal(p->signer.key_env, "KEEPER_PRIVATE_KEY");
    u256_from_u64(&want, 100000000000000000ULL);
    assert_int_equal(u256_cmp(&p->signer.min_balance, &want), 0);
    assert_int_equal(p->n_oracles, 1);
    assert_int_equal(p->oracles[0].type, CFG_ORACLE_CHAINLINK);
    assert_int_equal(p->oracles[0].address.b[0], 0xe7);
    assert_int_equal(p->oracles[0].max_age_ms, 7200000);
    assert_int_equal(p->oracles[0].heartbeat_ms, 3600000);
    assert_true(p->oracles[0].ewma_lambda == 0.94);
    assert_int_equal(p->reserve.decimals, 6);
    assert_string_equal(p->reserve.calls.backstop_available,
                        "available()(uint256)");
    assert_true(p->strategies.inject.enabled);
    assert_int_equal(p->strategies.inject.epoch_ms, 86400000);
    u256_from_u64(&want, 100000000000ULL);
    assert_int_equal(u256_cmp(&p->strategies.inject.epoch_budget, &want), 0);
    assert_false(p->strategies.clawback.enabled);
    assert_true(p->strategies.clawback.require_approval);
    assert_true(p->strategies.amber_health == 1.5);
    assert_int_equal(p->strategies.stress_move_bps, 2000);
    assert_int_equal(p->tx.gas_limit_margin_bps, 2000);
    assert_int_equal(p->tx.fee_bump_bps, 1250);
    u256_from_u64(&want, 500000000000ULL);
    assert_int_equal(u256_cmp(&p->tx.max_fee, &want), 0);
    assert_int_equal(p->tx.replace_after_blocks, 3);
    assert_int_equal(p->alerts.n_channels, 0);
    assert_string_equal(cfg.metrics.host, "127.0.0.1");
    assert_int_equal(cfg.metrics.port, 9464);
    assert_int_equal(cfg.log.level, CFG_LOG_INFO);
    assert_int_equal(cfg.log.format, CFG_LOG_TEXT);
    cfg_cleanup(&cfg);
    assert_null(cfg.protocols);
    cfg_errors_cleanup(&errs);
}

static void
test_examples_load(void **state)
{
    const struct cfg_protocol *ref, *min;
    struct cfg_errors errs;
    struct cfg cfg;
    char dir[1024], path[1100];

    (void)state;
    set_example_secrets();
    snprintf(dir, sizeof(dir), "%s/examples", source_dir());
    cfg_errors_init(&errs);
    if (cfg_load(&cfg, dir, 0, &errs) != 0)
        cfg_errors_print(stderr, &errs);
    assert_int_equal(errs.n, 0);
    assert_true(cfg.n_protocols >= 2);
    ref = cfg_find_protocol(&cfg, "reference");
    min = cfg_find_protocol(&cfg, "minimal");
    assert_non_null(ref);
    assert_non_null(min);
    assert_int_equal(ref->signer.kind, CFG_SIGNER_KEYSTORE);
    snprintf(path, sizeof(path), "%s/keys/keeper.json", dir);
    assert_string_equal(ref->signer.keystore.path, path);
    assert_string_equal(ref->signer.keystore.password.ref,
                        "env:KEEPER_KEYSTORE_PASSWORD");
    assert_string_equal(ref->signer.keystore.password.value,
                        "S3CRET-keystore-pw");
    assert_int_equal(ref->alerts.n_channels, 3);
    assert_int_equal(ref->alerts.channels[0].type, CFG_CHANNEL_PAGERDUTY);
    assert_string_equal(ref->alerts.channels[0].url.value,
                        "https://events.pagerduty.com/v2/enqueue");
    assert_string_equal(ref->alerts.channels[0].routing_key.value,
                        "S3CRET-routing-key");
    assert_int_equal(ref->alerts.channels[0].min_severity,
                     CFG_SEVERITY_CRITICAL);
    assert_int_equal(ref->alerts.channels[2].type, CFG_CHANNEL_WEBHOOK);
    assert_true(ref->strategies.clawback.enabled);
    assert_int_equal(ref->chain.n_ws, 1);
    assert_string_equal(ref->chain.ws[0].name, "anvil-ws");
    /* metrics/log set in one file apply to all. */
    assert_int_equal(min->metrics.port, cfg.metrics.port);
    assert_int_equal(min->signer.kind, CFG_SIGNER_KEY_ENV);
    cfg_cleanup(&cfg);
    cfg_errors_cleanup(&errs);
}

static void
test_examples_each_file(void **state)
{
    static const char *const files[] = {"reference-protocol.yaml",
                                        "minimal.yaml"};
    char path[1100];

    (void)state;
    set_example_secrets();
    for (size_t i = 0; i < 2; i++) {
        struct cfg_errors errs;
        struct cfg cfg;

        snprintf(path, sizeof(path), "%s/examples/%s", source_dir(), files[i]);
        cfg_errors_init(&errs);
        assert_int_equal(cfg_load(&cfg, path, 0, &errs), 0);
        assert_int_equal(cfg.n_protocols, 1);
        cfg_cleanup(&cfg);
        cfg_errors_cleanup(&errs);
    }
}

/* --- one test per error class --- */

static void
test_unknown_key_suggests(void **state)
{
    (void)state;
    expect_edit("    max_age: 2h\n", "    max_agee: 2h\n",
                "t.yaml:11:5: oracles[0]: missing required key 'max_age'\n"
                "t.yaml:14:5: oracles[0]: unknown key 'max_agee' (did you "
                "mean 'max_age'?)\n");
    expect_edit("chain:\n", "chian:\n",
                "t.yaml:1:1: missing required key 'chain'\n"
                "t.yaml:3:1: unknown key 'chian' (did you mean 'chain'?)\n");
    /* A substring of a longer key. */
    expect_edit("  rpc:\n", "  timeout: 3s\n  rpc:\n",
                "t.yaml:5:3: chain: unknown key 'timeout' (did you mean "
                "'request_timeout'?)\n");
    /* Nothing close: the valid keys are listed. */
    expect_edit("  name: test\n", "  name: test\n  zzzzzz: 1\n",
                "t.yaml:3:3: protocol: unknown key 'zzzzzz' (expected one "
                "of: name, description)\n");
}

static void
test_duplicate_key(void **state)
{
    (void)state;
    expect_edit("    heartbeat: 1h\n", "    heartbeat: 1h\n    heartbeat: 2h\n",
                "t.yaml:16:5: duplicate key 'heartbeat' (first defined at "
                "line 15)\n");
    /* A duplicate section is reported once, and its contents ignored. */
    expect_edit("strategies:\n", "protocol:\n  name: other\nstrategies:\n",
                "t.yaml:21:1: duplicate key 'protocol' (first defined at "
                "line 1)\n");
}

static void
test_wrong_type(void **state)
{
    (void)state;
    expect_edit("chain_id: 31337", "chain_id: [1]",
                "t.yaml:4:13: chain.chain_id: expected a whole number, got "
                "a list\n");
    expect_edit("chain_id: 31337", "chain_id: abc",
                "t.yaml:4:13: chain.chain_id: expected a whole number (got "
                "'abc')\n");
    expect_edit("  rpc:\n    - url: http://127.0.0.1:8545\n",
                "  rpc: http://127.0.0.1:8545\n",
                "t.yaml:5:8: chain.rpc: expected a list (lines starting "
                "with '- '), got a value\n");
    expect_edit("  inject:\n", "  clawback:\n    enabled: yes\n  inject:\n",
                "t.yaml:23:14: strategies.clawback.enabled: expected true "
                "or false (got 'yes')\n");
    expect_edit("strategies:\n", "log:\n  format: [json]\nstrategies:\n",
                "t.yaml:22:11: log.format: expected one of: text, json, got "
                "a list\n");
}

static void
test_out_of_range(void **state)
{
    (void)state;
    expect_edit("chain_id: 31337", "chain_id: 0",
                "t.yaml:4:13: chain.chain_id: must be between 1 and "
                "9223372036854775771 (got '0')\n");
    expect_edit("    heartbeat: 1h\n",
                "    heartbeat: 1h\n    ewma_lambda: 1.0\n",
                "t.yaml:16:18: oracles[0].ewma_lambda: must be greater than "
                "0 and less than 1 (got '1.0')\n");
    expect_edit("strategies:\n", "tx:\n  fee_bump: 10%\nstrategies:\n",
                "t.yaml:22:13: tx.fee_bump: must be between 12.5% and 100% "
                "(got '10%')\n");
    expect_edit("    max_age: 2h\n", "    max_age: 30m\n",
                "t.yaml:14:14: oracles[0].max_age: must be at least the "
                "heartbeat (a healthy feed may be that old)\n");
    expect_edit("chain_id: 31337", "chain_id: 99999999999999999999999",
                "t.yaml:4:13: chain.chain_id: number too large (at most "
                "18446744073709551615) (got '99999999999999999999999')\n");
}

static void
test_bad_units(void **state)
{
    (void)state;
    expect_edit("max_age: 2h", "max_age: 2x",
                "t.yaml:14:14: oracles[0].max_age: invalid duration: write "
                "a number and a unit, e.g. 30s, 250ms, 2m, 1h, 1d (got "
                "'2x')\n");
    expect_edit("heartbeat: 1h", "heartbeat: 3600",
                "t.yaml:15:16: oracles[0].heartbeat: missing unit: write "
                "e.g. 30s (units: ms, s, m, h, d) (got '3600')\n");
    expect_edit("min_balance: 0.1ether", "min_balance: 0.1eth",
                "t.yaml:9:16: signer.min_balance: invalid amount: write a "
                "whole number of wei, with an optional unit, e.g. 30gwei, "
                "1.5ether, 250000e6 (got '0.1eth')\n");
    expect_edit("epoch_budget: 100000e6", "epoch_budget: 1ether",
                "t.yaml:23:19: strategies.inject.epoch_budget: invalid token "
                "amount: write base units of the reserve token, e.g. "
                "250000e6 for 250000 at 6 decimals (unit names like ether do "
                "not apply) (got '1ether')\n");
    expect_edit("  inject:\n", "  stress_move: 20\n  inject:\n",
                "t.yaml:22:16: strategies.stress_move: missing '%': write "
                "e.g. 20% (got '20')\n");
}

static void
test_missing_required(void **state)
{
    (void)state;
    expect_edit("    asset: ETH/USD\n", "",
                "t.yaml:11:5: oracles[0]: missing required key 'asset'\n");
    expect_edit("signer:\n  key_env: KEEPER_PRIVATE_KEY\n  min_balance: "
                "0.1ether\n",
                "", "t.yaml:1:1: missing required key 'signer'\n");
    /* An empty section is present: what it needs is reported inside. */
    expect_edit("  contracts:\n", "  contracts:\n    reserve:\n",
                "t.yaml:18:5: reserve.contracts.reserve: missing value\n"
                "t.yaml:19:5: duplicate key 'reserve' (first defined at "
                "line 18)\n");
    expect_edit("  key_env: KEEPER_PRIVATE_KEY\n", "",
                "t.yaml:7:1: signer: one of 'keystore', 'key_file' or "
                "'key_env' is required\n");
    expect_edit("  key_env: KEEPER_PRIVATE_KEY\n",
                "  key_env: KEEPER_PRIVATE_KEY\n  key_file: /k\n",
                "t.yaml:9:3: signer: 'key_file' and 'key_env' cannot both be "
                "set (give one key source)\n");
    expect_edit("  inject:\n    epoch_budget: 100000e6\n",
                "  amber_health: 2\n",
                "t.yaml:21:1: strategies.inject: missing required key "
                "'epoch_budget' (required while enabled)\n");
    expect_edit("  rpc:\n    - url: http://127.0.0.1:8545\n", "  rpc: []\n",
                "t.yaml:5:8: chain.rpc: at least 1 entry is required\n");
}

static void
test_inline_secret_refused(void **state)
{
    (void)state;
    expect_edit("  key_env: KEEPER_PRIVATE_KEY\n",
                "  keystore:\n    path: k.json\n    password: hunter2\n",
                "t.yaml:10:15: signer.keystore.password: secrets must be "
                "referenced: use ${env:NAME} or ${file:PATH}\n");
    expect_edit("strategies:\n",
                "alerts:\n  channels:\n    - name: s\n      type: slack\n"
                "      url: https://hooks.slack.com/services/T0/B0/XX\n"
                "strategies:\n",
                "t.yaml:25:12: alerts.channels[0].url: secrets must be "
                "referenced: use ${env:NAME} or ${file:PATH} (slack URLs "
                "carry a token; inline URLs are allowed for loopback hosts "
                "only)\n");
    /* The value is never echoed, even when invalid. */
    expect_edit("    - url: http://127.0.0.1:8545\n",
                "    - url: ftp://user:S3CRET@host\n",
                "t.yaml:6:12: chain.rpc[0].url: expected an http:// or "
                "https:// URL\n");
    /* The WebSocket client takes no credentials in the URL: refused here,
     * not when the keeper starts (brackets of an IPv6 host too). */
    expect_edit("    - url: http://127.0.0.1:8545\n",
                "    - url: http://127.0.0.1:8545\n"
                "  ws:\n    - url: ws://user:S3CRET@127.0.0.1:8546\n"
                "    - url: ws://u@[::1]:8546/x\n"
                "    - url: ws://[::1]:8546/a@b\n",
                "t.yaml:8:12: chain.ws[0].url: user info (user:password@) is "
                "not supported in a WebSocket URL\n"
                "t.yaml:9:12: chain.ws[1].url: user info (user:password@) is "
                "not supported in a WebSocket URL\n");
}

/* metrics.listen takes what the metrics server can bind: IPv4 or
 * localhost, never a name to resolve or (not yet) IPv6. */
static void
test_metrics_listen(void **state)
{
    (void)state;
    expect_edit("strategies:\n",
                "metrics:\n  listen: 0.0.0.0:9464\nstrategies:\n", "");
    expect_edit("strategies:\n",
                "metrics:\n  listen: localhost:1\nstrategies:\n", "");
    expect_edit("strategies:\n",
                "metrics:\n  listen: \"[::1]:9464\"\nstrategies:\n",
                "t.yaml:22:11: metrics.listen: IPv6 is not supported: the "
                "metrics server listens on an IPv4 address or localhost (e.g. "
                "127.0.0.1:9464, 0.0.0.0:9464) (got '[::1]:9464')\n");
    expect_edit("strategies:\n",
                "metrics:\n  listen: example.com:80\nstrategies:\n",
                "t.yaml:22:11: metrics.listen: not an IPv4 address: the "
                "metrics server listens on an IPv4 address or localhost (e.g. "
                "127.0.0.1:9464, 0.0.0.0:9464) (got 'example.com:80')\n");
}

static void
test_loopback_webhook_inline_ok(void **state)
{
    char *text = edit(base_yaml, "strategies:\n",
                      "alerts:\n  channels:\n    - name: w\n"
                      "      type: webhook\n"
                      "      url: http://127.0.0.1:9099/hook\n"
                      "    - name: v\n      type: webhook\n"
                      "      url: http://[::1]:9099/hook\n"
                      "strategies:\n");

    (void)state;
    expect_errors(text, "");
    free(text);
}

static void
test_secret_references(void **state)
{
    char *pw, *text, *cfgpath, yaml[2048], cwd[1024];
    struct cfg_errors errs;
    struct cfg cfg;

    (void)state;
    unsetenv("KP_TEST_UNSET_VAR");
    expect_edit("  key_env: KEEPER_PRIVATE_KEY\n",
                "  keystore:\n    path: k.json\n"
                "    password: ${env:KP_TEST_UNSET_VAR}\n",
                "t.yaml:10:15: signer.keystore.password: environment "
                "variable 'KP_TEST_UNSET_VAR' is not set\n");
    /* Syntax only with CFG_LOAD_NO_SECRETS. */
    text = edit(base_yaml, "  key_env: KEEPER_PRIVATE_KEY\n",
                "  keystore:\n    path: k.json\n"
                "    password: ${env:KP_TEST_UNSET_VAR}\n");
    pw = cfgt_load_text(text, CFG_LOAD_NO_SECRETS);
    assert_string_equal(pw, "");
    free(pw);
    free(text);
    expect_edit("  key_env: KEEPER_PRIVATE_KEY\n",
                "  keystore:\n    path: k.json\n    password: ${vault:x}\n",
                "t.yaml:10:15: signer.keystore.password: invalid secret "
                "reference (use ${env:NAME} or ${file:PATH})\n");
    expect_edit("chain_id: 31337", "chain_id: ${env:CHAIN_ID}",
                "t.yaml:4:13: chain.chain_id: secret references are not "
                "allowed here (only in secret fields, see docs/config.md)\n");

    /* ${file:...} relative to the config file, trailing newline gone. */
    free(write_file("pw.txt", "file-pw\n", 8));
    text = edit(base_yaml, "  key_env: KEEPER_PRIVATE_KEY\n",
                "  keystore:\n    path: k.json\n"
                "    password: ${file:pw.txt}\n");
    cfgpath = write_file("secret.yaml", text, strlen(text));
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load(&cfg, cfgpath, 0, &errs), 0);
    assert_string_equal(cfg.protocols[0].signer.keystore.password.value,
                        "file-pw");
    assert_string_equal(cfg.protocols[0].signer.keystore.password.ref,
                        "file:pw.txt");
    snprintf(yaml, sizeof(yaml), "%s/k.json", tmpdir);
    assert_string_equal(cfg.protocols[0].signer.keystore.path, yaml);
    cfg_cleanup(&cfg);
    /* Loaded by a relative name, paths still come out absolute. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmpdir), 0);
    assert_int_equal(cfg_load(&cfg, "secret.yaml", 0, &errs), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(cfg.protocols[0].signer.keystore.path, yaml);
    assert_string_equal(cfg.protocols[0].path, "secret.yaml");
    cfg_cleanup(&cfg);
    free(text);
    free(cfgpath);

    /* A missing file names the file and the position. */
    text = edit(base_yaml, "  key_env: KEEPER_PRIVATE_KEY\n",
                "  keystore:\n    path: k.json\n"
                "    password: ${file:nope.txt}\n");
    cfgpath = write_file("secret2.yaml", text, strlen(text));
    assert_int_equal(cfg_load(&cfg, cfgpath, 0, &errs), KP_ECONFIG);
    assert_int_equal(errs.n, 1);
    snprintf(yaml, sizeof(yaml),
             "%s:10:15: signer.keystore.password: cannot read secret file "
             "'%s/nope.txt': No such file or directory\n",
             cfgpath, tmpdir);
    pw = cfgt_errors_text(&errs);
    assert_string_equal(pw, yaml);
    free(pw);
    free(text);
    free(cfgpath);
    cfg_errors_cleanup(&errs);
}

static void
test_env_secret_value_validated(void **state)
{
    (void)state;
    setenv("KP_TEST_RPC_URL", "not a url S3CRET", 1);
    expect_edit("    - url: http://127.0.0.1:8545\n",
                "    - url: ${env:KP_TEST_RPC_URL}\n",
                "t.yaml:6:12: chain.rpc[0].url: the value of "
                "${env:KP_TEST_RPC_URL} is invalid: expected an http:// or "
                "https:// URL\n");
    setenv("KP_TEST_RPC_URL", "https://mainnet.example/v3/S3CRET", 1);
    expect_edit("    - url: http://127.0.0.1:8545\n",
                "    - url: ${env:KP_TEST_RPC_URL}\n", "");
    unsetenv("KP_TEST_RPC_URL");
}

static void
test_address_checksum(void **state)
{
    (void)state;
    /* One letter's case flipped. */
    expect_edit("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                "0xE7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                "t.yaml:12:14: oracles[0].address: address checksum (EIP-55) "
                "mismatch: check the address, or write it in lowercase (got "
                "'0xE7f1725E7734CE288F8367e1Bb143E90bb3F0512')\n");
    /* All lowercase carries no checksum and is accepted. */
    expect_edit("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", "");
}

static void
test_abi_signatures(void **state)
{
    (void)state;
    expect_edit("  contracts:\n",
                "  calls:\n    balance: balance()\n"
                "  contracts:\n",
                "t.yaml:18:14: reserve.calls.balance: a read call takes no "
                "arguments and returns one unsigned integer, e.g. "
                "balance()(uint256) (got 'balance()')\n");
    expect_edit("  contracts:\n",
                "  calls:\n    balance: bal(uint7)(uint256)\n"
                "  contracts:\n",
                "t.yaml:18:14: reserve.calls.balance: invalid ABI signature: "
                "unknown type 'uint7' at character 5, expected e.g. "
                "balance()(uint256) (got 'bal(uint7)(uint256)')\n");
    expect_edit("    epoch_budget: 100000e6\n",
                "    epoch_budget: 100000e6\n    call: inject(address)\n",
                "t.yaml:24:11: strategies.inject.call: an action call takes "
                "one unsigned integer (the amount), e.g. inject(uint256) "
                "(got 'inject(address)')\n");
    /* A nameless list is not a call. */
    expect_edit("    epoch_budget: 100000e6\n",
                "    epoch_budget: 100000e6\n    call: (uint256)\n",
                "t.yaml:24:11: strategies.inject.call: invalid ABI signature: "
                "not a function signature at character 1, expected e.g. "
                "balance()(uint256) (got '(uint256)')\n");
    /* Whitespace and the Solidity form are accepted. */
    expect_edit("    epoch_budget: 100000e6\n",
                "    epoch_budget: 100000e6\n"
                "    call: \"function inject(uint256 amount) external\"\n",
                "");
    expect_edit("  contracts:\n",
                "  calls:\n    balance: getReserve()(uint128)\n"
                "    target: t()((uint256,bool)[2],uint8)\n"
                "  contracts:\n",
                "t.yaml:19:13: reserve.calls.target: a read call takes no "
                "arguments and returns one unsigned integer, e.g. "
                "balance()(uint256) (got 't()((uint256,bool)[2],uint8)')\n");
}

static void
test_invalid_yaml_syntax(void **state)
{
    (void)state;
    expect_errors("protocol:\n  name: x\n chain: 1\n",
                  "t.yaml:3:2: invalid YAML: did not find expected key "
                  "(while parsing a block mapping at line 1)\n");
    expect_errors("protocol:\n  name: \"x\n",
                  "t.yaml:3:1: invalid YAML: found unexpected end of stream "
                  "(while scanning a quoted scalar at line 2)\n");
    expect_errors("protocol:\n\tname: x\n",
                  "t.yaml:2:1: invalid YAML: found character that cannot "
                  "start any token (while scanning for the next token at "
                  "line 2)\n");
    expect_errors("protocol:\n  name: x\x01\n",
                  "t.yaml:2:10: invalid YAML: control characters are not "
                  "allowed (0x1)\n");
    expect_errors("a: 1\n---\nb: 2\n",
                  "t.yaml:2:1: only one YAML document per file is allowed\n");
    expect_errors("", "t.yaml: empty configuration (expected the sections "
                      "protocol, chain, signer, oracles, reserve, "
                      "strategies)\n");
    expect_errors("# only a comment\n",
                  "t.yaml: empty configuration (expected the sections "
                  "protocol, chain, signer, oracles, reserve, "
                  "strategies)\n");
    expect_errors("- a\n- b\n", "t.yaml:1:1: expected a mapping of sections "
                                "(protocol:, chain:, ...) at the top level\n");
    expect_errors("? [a]\n: 1\n",
                  "t.yaml:1:1: missing required key 'protocol'\n"
                  "t.yaml:1:1: missing required key 'chain'\n"
                  "t.yaml:1:1: missing required key 'signer'\n"
                  "t.yaml:1:1: missing required key 'oracles'\n"
                  "t.yaml:1:1: missing required key 'reserve'\n"
                  "t.yaml:1:1: missing required key 'strategies'\n"
                  "t.yaml:1:3: mapping keys must be plain text\n");
}

/* --- limits --- */

static void
test_too_deep(void **state)
{
    char text[256];
    size_t n = 0;

    (void)state;
    n += (size_t)sprintf(text + n, "protocol: ");
    for (int i = 0; i < 40; i++)
        text[n++] = '[';
    for (int i = 0; i < 40; i++)
        text[n++] = ']';
    text[n++] = '\n';
    text[n] = '\0';
    expect_errors(text, "t.yaml:1:26: nesting too deep (more than 16 "
                        "levels)\n");
}

static void
test_alias_bomb(void **state)
{
    /* Nine levels of ten aliases would expand to 10^9 nodes. */
    char text[4096];
    size_t n = 0;
    clock_t t0 = clock();

    (void)state;
    n += (size_t)sprintf(text + n, "a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,"
                                   "lol,lol]\n");
    for (int i = 1; i < 10; i++)
        n += (size_t)sprintf(text + n,
                             "a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,"
                             "*a%d,*a%d,*a%d]\n",
                             i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                             i - 1, i - 1, i - 1, i - 1);
    expect_errors(text, "t.yaml:1:5: YAML anchors (&a0) and aliases are not "
                        "allowed\n");
    expect_errors("a: *x\n",
                  "t.yaml:1:4: YAML aliases (*x) and anchors are not "
                  "allowed\n");
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
}

static void
test_huge_file(void **state)
{
    size_t len = CFG_FILE_MAX + 1;
    char *big = malloc(len), *path, want[256];
    struct cfg_errors errs;
    struct cfg cfg;
    char *got;

    (void)state;
    assert_non_null(big);
    memset(big, '#', len);
    big[len - 1] = '\n';
    path = write_file("huge.yaml", big, len);
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load(&cfg, path, 0, &errs), KP_ECONFIG);
    got = cfgt_errors_text(&errs);
    snprintf(want, sizeof(want),
             "%s: file too large (more than 1048576 bytes)\n", path);
    assert_string_equal(got, want);
    free(got);
    cfg_errors_cleanup(&errs);
    /* The same cap from memory. */
    assert_int_equal(cfg_load_mem(&cfg, "m.yaml", big, len, 0, &errs),
                     KP_ECONFIG);
    got = cfgt_errors_text(&errs);
    assert_string_equal(got,
                        "m.yaml: file too large (more than 1048576 bytes)\n");
    free(got);
    cfg_errors_cleanup(&errs);
    free(big);
    free(path);
}

static void
test_node_and_scalar_caps(void **state)
{
    size_t cap = 4 * CFG_NODES_MAX + 64, n = 0;
    char *text = malloc(cap);

    (void)state;
    assert_non_null(text);
    n += (size_t)sprintf(text + n, "a: [");
    for (int i = 0; i < CFG_NODES_MAX; i++)
        n += (size_t)sprintf(text + n, "1,");
    sprintf(text + n, "1]\n");
    /* Root map, key and list are 3 nodes; item 4094 is one too many. */
    expect_errors(text, "t.yaml:1:8191: too many YAML nodes (at most "
                        "4096)\n");
    memset(text, 'x', CFG_SCALAR_MAX + 1);
    memcpy(text, "a: ", 3);
    strcpy(text + CFG_SCALAR_MAX + 4, "\n");
    expect_errors(text, "t.yaml:1:4: value too long (more than 4096 "
                        "bytes)\n");
    free(text);
}

static void
test_list_cap(void **state)
{
    char text[4096];
    size_t n = 0;
    char *full;

    (void)state;
    n += (size_t)sprintf(text + n, "  rpc:\n");
    for (int i = 0; i < CFG_MAX_RPC + 1; i++)
        n += (size_t)sprintf(text + n, "    - url: http://127.0.0.1:%d\n",
                             8545 + i);
    full = edit(base_yaml, "  rpc:\n    - url: http://127.0.0.1:8545\n", text);
    expect_errors(full, "t.yaml:14:7: chain.rpc: too many entries (at most "
                        "8)\n");
    free(full);
}

static void
test_error_cap(void **state)
{
    char text[8192], *got;
    size_t n = 0;
    struct cfg_errors errs;
    struct cfg cfg;

    (void)state;
    for (int i = 0; i < 150; i++)
        n += (size_t)sprintf(text + n, "zz%d: 1\n", i);
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load_mem(&cfg, "t.yaml", text, n, 0, &errs),
                     KP_ECONFIG);
    assert_int_equal(errs.n, CFG_ERRORS_MAX);
    assert_int_equal(errs.dropped, 150 + 6 - CFG_ERRORS_MAX);
    got = cfgt_errors_text(&errs);
    assert_non_null(strstr(got, "t.yaml: 56 more errors not shown\n"));
    free(got);
    cfg_errors_cleanup(&errs);
}

/* --- several errors --- */

static void
test_all_errors_reported(void **state)
{
    char *t1 = edit(base_yaml, "chain_id: 31337", "chain_id: -1");
    char *t2 = edit(t1, "max_age: 2h", "max_age: soon");
    char *t3 = edit(t2, "  rpc:\n", "  rcp: 1\n  rpc:\n");
    char *t4 = edit(t3, "    epoch_budget: 100000e6\n",
                    "    epoch_budget: 100000e6\n    cooldown: 1y\n");

    (void)state;
    expect_errors(t4, "t.yaml:4:13: chain.chain_id: expected a whole number "
                      "(got '-1')\n"
                      "t.yaml:5:3: chain: unknown key 'rcp' (did you mean "
                      "'rpc'?)\n"
                      "t.yaml:15:14: oracles[0].max_age: invalid duration: "
                      "write a number and a unit, e.g. 30s, 250ms, 2m, 1h, "
                      "1d (got 'soon')\n"
                      "t.yaml:25:15: strategies.inject.cooldown: invalid "
                      "duration: write a number and a unit, e.g. 30s, 250ms, "
                      "2m, 1h, 1d (got '1y')\n");
    free(t1);
    free(t2);
    free(t3);
    free(t4);
}

static void
test_unique_names(void **state)
{
    (void)state;
    expect_edit("    heartbeat: 1h\n",
                "    heartbeat: 1h\n  - name: eth_usd\n"
                "    address: 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\n"
                "    asset: ETH/USD\n    max_age: 2h\n    heartbeat: 1h\n",
                "t.yaml:16:11: oracles[1].name: duplicate oracle name "
                "'eth_usd' (first used by oracles[0])\n");
    expect_edit("    - url: http://127.0.0.1:8545\n",
                "    - url: http://127.0.0.1:8545\n"
                "  ws:\n    - url: ws://127.0.0.1:8545\n      name: rpc0\n",
                "t.yaml:9:13: chain.ws[0].name: duplicate endpoint name "
                "'rpc0' (first used by chain.rpc[0])\n");
}

/* --- directories --- */

static void
test_directory(void **state)
{
    char sub[128], path[256], want[1024], *got, *other;
    struct cfg_errors errs;
    struct cfg cfg;

    (void)state;
    snprintf(sub, sizeof(sub), "%s/dir", tmpdir);
    assert_int_equal(mkdir(sub, 0700), 0);
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load(&cfg, sub, 0, &errs), KP_ECONFIG);
    got = cfgt_errors_text(&errs);
    snprintf(want, sizeof(want), "%s: no *.yaml files in directory\n", sub);
    assert_string_equal(got, want);
    free(got);
    cfg_errors_cleanup(&errs);

    free(write_file("dir/b.yaml", base_yaml, strlen(base_yaml)));
    other = edit(base_yaml, "name: test", "name: second");
    free(write_file("dir/a.yaml", other, strlen(other)));
    free(other);
    free(write_file("dir/notes.txt", "not yaml", 8));
    free(write_file("dir/.hidden.yaml", "broken: [", 9));
    assert_int_equal(cfg_load(&cfg, sub, 0, &errs), 0);
    assert_int_equal(cfg.n_protocols, 2);
    assert_string_equal(cfg.protocols[0].name, "second"); /* a.yaml */
    assert_string_equal(cfg.protocols[1].name, "test");
    cfg_cleanup(&cfg);

    /* The same protocol twice. */
    free(write_file("dir/c.yaml", base_yaml, strlen(base_yaml)));
    assert_int_equal(cfg_load(&cfg, sub, 0, &errs), KP_ECONFIG);
    got = cfgt_errors_text(&errs);
    snprintf(want, sizeof(want),
             "%s/c.yaml:2:9: protocol.name: protocol 'test' is already "
             "defined in %s/b.yaml\n",
             sub, sub);
    assert_string_equal(got, want);
    free(got);
    cfg_errors_cleanup(&errs);
    snprintf(path, sizeof(path), "%s/c.yaml", sub);
    assert_int_equal(unlink(path), 0);

    /* Process-wide sections must agree where they are given. */
    other = edit(base_yaml, "name: test", "name: third\nlog:\n  level: debug");
    free(write_file("dir/c.yaml", other, strlen(other)));
    free(other);
    assert_int_equal(cfg_load(&cfg, sub, 0, &errs), 0);
    assert_int_equal(cfg.log.level, CFG_LOG_DEBUG);
    for (size_t i = 0; i < cfg.n_protocols; i++)
        assert_int_equal(cfg.protocols[i].log.level, CFG_LOG_DEBUG);
    cfg_cleanup(&cfg);
    other = edit(base_yaml, "name: test", "name: fourth\nlog:\n  level: warn");
    free(write_file("dir/d.yaml", other, strlen(other)));
    free(other);
    assert_int_equal(cfg_load(&cfg, sub, 0, &errs), KP_ECONFIG);
    got = cfgt_errors_text(&errs);
    snprintf(want, sizeof(want),
             "%s/d.yaml:3:1: log: differs from the 'log' section in "
             "%s/c.yaml (it applies to the whole process, so files that set "
             "it must agree)\n",
             sub, sub);
    assert_string_equal(got, want);
    free(got);
    cfg_errors_cleanup(&errs);
}

/* --- printing --- */

/* Replace each "<redacted: X>" with "${X}". */
static char *
unredact(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;

    assert_non_null(out);
    while (*s) {
        if (!strncmp(s, "<redacted: ", 11)) {
            const char *end = strchr(s, '>');

            assert_non_null(end);
            o += sprintf(o, "${%.*s}", (int)(end - s - 11), s + 11);
            s = end + 1;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static void
test_print_redacts_and_round_trips(void **state)
{
    struct cfg_errors errs;
    struct cfg cfg, again;
    char path[1100], *out, *back, *out2;

    (void)state;
    set_example_secrets();
    snprintf(path, sizeof(path), "%s/examples/reference-protocol.yaml",
             source_dir());
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load(&cfg, path, 0, &errs), 0);
    out = cfgt_print_text(&cfg);
    assert_null(strstr(out, "S3CRET"));
    assert_non_null(strstr(out, "password: \"<redacted: "
                                "env:KEEPER_KEYSTORE_PASSWORD>\"\n"));
    assert_non_null(strstr(out, "url: \"<redacted: env:SLACK_WEBHOOK_URL>\""));
    assert_non_null(strstr(out, "min_balance: 0.5ether\n"));
    assert_non_null(strstr(out, "epoch_budget: 250000e6\n"));
    assert_non_null(strstr(out, "fee_bump: 12.5%\n"));
    assert_non_null(strstr(out, "max_reply_bytes: 8MiB\n"));
    /* Reading the printed form back (references restored) gives the
     * same configuration. */
    back = unredact(out);
    if (cfg_load_mem(&again, path, back, strlen(back), 0, &errs) != 0)
        cfg_errors_print(stderr, &errs);
    assert_int_equal(errs.n, 0);
    out2 = cfgt_print_text(&again);
    assert_string_equal(out, out2);
    assert_memory_equal(&cfg.protocols[0].chain, &again.protocols[0].chain,
                        sizeof(cfg.protocols[0].chain));
    assert_memory_equal(&cfg.protocols[0].strategies,
                        &again.protocols[0].strategies,
                        sizeof(cfg.protocols[0].strategies));
    free(out);
    free(out2);
    free(back);
    cfg_cleanup(&cfg);
    cfg_cleanup(&again);
    cfg_errors_cleanup(&errs);
}

static void
test_print_minimal_round_trips(void **state)
{
    struct cfg_errors errs;
    struct cfg cfg, again;
    char *out, *out2;

    (void)state;
    cfg_errors_init(&errs);
    assert_int_equal(
        cfg_load_mem(&cfg, "t.yaml", base_yaml, strlen(base_yaml), 0, &errs),
        0);
    out = cfgt_print_text(&cfg);
    assert_int_equal(cfg_load_mem(&again, "t.yaml", out, strlen(out), 0, &errs),
                     0);
    out2 = cfgt_print_text(&again);
    assert_string_equal(out, out2);
    assert_memory_equal(cfg.protocols, again.protocols,
                        sizeof(cfg.protocols[0]));
    free(out);
    free(out2);
    cfg_cleanup(&cfg);
    cfg_cleanup(&again);
    cfg_errors_cleanup(&errs);
}

/* --- units --- */

enum unit_kind { UNIT_DURATION, UNIT_PERCENT, UNIT_SIZE };

/* An input, what parsing it returns and, when it parses, its value and
 * how that value prints. */
struct unit_case {
    const char *in;
    int rc;
    uint64_t value;
    const char *out;
};

static int
unit_parse(enum unit_kind kind, uint64_t *v, const char *s)
{
    uint32_t bps = 0;
    int rc;

    if (kind == UNIT_DURATION)
        return cfg_parse_duration(v, s, strlen(s));
    if (kind == UNIT_SIZE)
        return cfg_parse_size(v, s, strlen(s));
    rc = cfg_parse_percent(&bps, s, strlen(s));
    *v = bps;
    return rc;
}

static void
unit_fmt(enum unit_kind kind, char *out, size_t cap, uint64_t v)
{
    if (kind == UNIT_DURATION)
        cfg_fmt_duration(out, cap, v);
    else if (kind == UNIT_PERCENT)
        cfg_fmt_percent(out, cap, (uint32_t)v);
    else
        cfg_fmt_size(out, cap, v);
}

static void
check_units(enum unit_kind kind, const struct unit_case *c, size_t n)
{
    char buf[CFG_UNIT_STR_MAX];

    for (size_t i = 0; i < n; i++) {
        uint64_t v = 7;

        assert_int_equal(unit_parse(kind, &v, c[i].in), c[i].rc);
        if (c[i].rc != 0)
            continue;
        assert_int_equal(v, c[i].value);
        unit_fmt(kind, buf, sizeof(buf), v);
        assert_string_equal(buf, c[i].out);
    }
}

static void
test_durations(void **state)
{
    static const struct unit_case v[] = {
        {"250ms", 0, 250, "250ms"},
        {"30s", 0, 30000, "30s"},
        {"2m", 0, 120000, "2m"},
        {"1h", 0, 3600000, "1h"},
        {"1d", 0, 86400000, "1d"},
        {"1.5s", 0, 1500, "1500ms"},
        {"1.5h", 0, 5400000, "90m"},
        {"0s", 0, 0, "0s"},
        {"90s", 0, 90000, "90s"},
        {"0.001s", 0, 1, "1ms"},
        {"0.5ms", KP_EINVAL, 0, ""},
        {"30", KP_EINVAL, 0, ""},
        {"s", KP_EINVAL, 0, ""},
        {"1.s", KP_EINVAL, 0, ""},
        {"-1s", KP_EINVAL, 0, ""},
        {"1 s", KP_EINVAL, 0, ""},
        {"1S", KP_EINVAL, 0, ""},
        {"1w", KP_EINVAL, 0, ""},
        {"", KP_EINVAL, 0, ""},
        {"1.0000000001s", KP_EINVAL, 0, ""},
        {"213503982335d", KP_EOVERFLOW, 0, ""},
        {"99999999999999999999ms", KP_EOVERFLOW, 0, ""},
    };

    (void)state;
    check_units(UNIT_DURATION, v, sizeof(v) / sizeof(v[0]));
}

static void
test_percents_and_sizes(void **state)
{
    static const struct unit_case p[] = {
        {"2%", 0, 200, "2%"},
        {"0.5%", 0, 50, "0.5%"},
        {"12.5%", 0, 1250, "12.5%"},
        {"12.25%", 0, 1225, "12.25%"},
        {"0.01%", 0, 1, "0.01%"},
        {"100%", 0, 10000, "100%"},
        {"12.50%", 0, 1250, "12.5%"},
        {"0.001%", KP_EINVAL, 0, ""},
        {"20", KP_EINVAL, 0, ""},
        {"%", KP_EINVAL, 0, ""},
        {"2 %", KP_EINVAL, 0, ""},
        {"2%%", KP_EINVAL, 0, ""},
        {"99999999999%", KP_EOVERFLOW, 0, ""},
    };
    static const struct unit_case s[] = {
        {"8MiB", 0, 8 << 20, "8MiB"}, {"65536", 0, 65536, "64KiB"},
        {"1GiB", 0, 1 << 30, "1GiB"}, {"100B", 0, 100, "100"},
        {"1.5MiB", KP_EINVAL, 0, ""}, {"8MB", KP_EINVAL, 0, ""},
        {"MiB", KP_EINVAL, 0, ""},    {"99999999999GiB", KP_EOVERFLOW, 0, ""},
    };

    (void)state;
    check_units(UNIT_PERCENT, p, sizeof(p) / sizeof(p[0]));
    check_units(UNIT_SIZE, s, sizeof(s) / sizeof(s[0]));
}

static void
test_edit_distance_and_suggest(void **state)
{
    static const char *const names[] = {"max_age", "heartbeat", "name",
                                        "request_timeout"};

    (void)state;
    assert_int_equal(cfg_edit_distance("kitten", 6, "sitting", 7), 3);
    assert_int_equal(cfg_edit_distance("ab", 2, "ba", 2), 1);
    assert_int_equal(cfg_edit_distance("", 0, "abc", 3), 3);
    assert_int_equal(cfg_edit_distance("chian", 5, "chain", 5), 1);
    assert_string_equal(cfg_suggest("max_agee", 8, names, 4), "max_age");
    assert_string_equal(cfg_suggest("haertbeat", 9, names, 4), "heartbeat");
    assert_string_equal(cfg_suggest("timeout", 7, names, 4), "request_timeout");
    assert_null(cfg_suggest("colour", 6, names, 4));
    assert_null(cfg_suggest("", 0, names, 4));
}

/* --- docs and misuse --- */

static char *docs_text;

static void
check_documented(const struct cfg_schema *s, const char *path)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct cfg_key *k = &s->keys[i];
        char p[160], needle[170];

        snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", k->name);
        if (k->type == CT_LIST) {
            snprintf(needle, sizeof(needle), "`%s`", p);
            if (!strstr(docs_text, needle))
                fail_msg("docs/config.md does not document %s", needle);
            strcat(p, "[]");
            check_documented(k->aux, p);
            continue;
        }
        if (k->type == CT_SECTION) {
            check_documented(k->aux, p);
            continue;
        }
        snprintf(needle, sizeof(needle), "| `%s` |", p);
        if (!strstr(docs_text, needle))
            fail_msg("docs/config.md does not document %s", p);
    }
}

static void
test_docs_list_every_key(void **state)
{
    char path[1100];
    size_t len;

    (void)state;
    snprintf(path, sizeof(path), "%s/docs/config.md", source_dir());
    assert_int_equal(cfg_read_file(&docs_text, &len, path, 1 << 20), 0);
    check_documented(&cfg_protocol_schema, "");
    free(docs_text);
}

static void
test_misuse(void **state)
{
    struct cfg_errors errs;
    struct cfg cfg;
    char *got, line[16];

    (void)state;
    cfg_cleanup(NULL);
    memset(&cfg, 0, sizeof(cfg));
    cfg_cleanup(&cfg);
    cfg_errors_cleanup(NULL);
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load(&cfg, "/nonexistent/kp.yaml", 0, &errs),
                     KP_ECONFIG);
    got = cfgt_errors_text(&errs);
    assert_string_equal(got, "/nonexistent/kp.yaml: cannot read: No such "
                             "file or directory\n");
    /* Formatting truncates like snprintf and reports the full length. */
    assert_int_equal(cfg_error_format(line, sizeof(line), &errs.v[0]),
                     (int)strlen(got) - 1);
    assert_int_equal(strlen(line), sizeof(line) - 1);
    free(got);
    cfg_cleanup(&cfg);
    cfg_errors_cleanup(&errs);
    assert_int_equal(cfg_load(&cfg, "/dev/null", 0, &errs), KP_ECONFIG);
    assert_string_equal(errs.v[0].msg, "not a regular file");
    assert_int_equal(cfg_load_mem(&cfg, "x", NULL, 0, 0, &errs), KP_ECONFIG);
    assert_int_equal(errs.n, 2);
    cfg_errors_cleanup(&errs);
    assert_int_equal(errs.n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_loads_with_defaults),
        cmocka_unit_test(test_examples_load),
        cmocka_unit_test(test_examples_each_file),
        cmocka_unit_test(test_unknown_key_suggests),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_units),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_inline_secret_refused),
        cmocka_unit_test(test_metrics_listen),
        cmocka_unit_test(test_loopback_webhook_inline_ok),
        cmocka_unit_test(test_secret_references),
        cmocka_unit_test(test_env_secret_value_validated),
        cmocka_unit_test(test_address_checksum),
        cmocka_unit_test(test_abi_signatures),
        cmocka_unit_test(test_invalid_yaml_syntax),
        cmocka_unit_test(test_too_deep),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_huge_file),
        cmocka_unit_test(test_node_and_scalar_caps),
        cmocka_unit_test(test_list_cap),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_unique_names),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_print_redacts_and_round_trips),
        cmocka_unit_test(test_print_minimal_round_trips),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_percents_and_sizes),
        cmocka_unit_test(test_edit_distance_and_suggest),
        cmocka_unit_test(test_docs_list_every_key),
        cmocka_unit_test(test_misuse),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
