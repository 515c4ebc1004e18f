/*
 * cli_abi.c - `keeper abi ...`: the ABI codec from the command line.
 *
 *   keeper abi encode SIG [ARGS...]   calldata, as `cast calldata`
 *   keeper abi decode SIG HEX         one value per line
 *   keeper abi selector SIG           the 4-byte selector
 *   keeper abi topic SIG              the 32-byte hash (event topic 0)
 *   keeper abi revert HEX [ERRSIG...] what revert data says
 *
 * `abi decode` reads back what `abi encode` writes: with outputs in SIG
 * ("f(..)(outs)") HEX is return data of the outputs; with a nameless
 * "(types)" it is raw data; otherwise it is calldata for SIG.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "keeper/cli.h"

/* Decoded values can outgrow their data (offsets may share a tail), so
 * the arena, not the data size, bounds what a decode builds. */
#define CLI_ABI_ARENA (16u * 1024 * 1024)
#define CLI_ABI_MAX_ERRSIGS 64

static const char usage_text[] =
    "usage: keeper abi encode SIG [ARGS...]\n"
    "       keeper abi decode SIG HEX\n"
    "       keeper abi selector SIG\n"
    "       keeper abi topic SIG\n"
    "       keeper abi revert HEX [ERRSIG...]\n"
    "Put '--' before arguments that start with '-' (negative numbers).";

/* Show at most this much of an offending argument in an error. */
#define SHOW 60

static int
sig_error(const char *text, const struct abi_error *e)
{
    return cli_error("abi: bad signature '%.*s%s': column %zu: %s", SHOW,
                     text, strlen(text) > SHOW ? "..." : "", e->pos + 1,
                     e->msg);
}

static int
parse_sig(struct abi_sig *sig, const char *text)
{
    struct abi_error e;

    if (abi_sig_parse(sig, text, strlen(text), &e) != 0)
        return sig_error(text, &e);
    return 0;
}

static void
print_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    fputs("0x", stdout);
    for (size_t i = 0; i < n; i++) {
        putchar(digits[p[i] >> 4]);
        putchar(digits[p[i] & 15]);
    }
    putchar('\n');
}

/* Decode a hex argument (0x optional, surrounding whitespace ignored)
 * into a fresh buffer. Returns: the buffer, or NULL after an error. */
static uint8_t *
read_hex(const char *s, size_t *n)
{
    size_t len = strlen(s);
    uint8_t *buf;
    int rc;

    while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
        len--;
    while (len > 0 && strchr(" \t\r\n", *s) != NULL)
        s++, len--;
    buf = kp_xmalloc(len / 2 + 1);
    if ((rc = hex_decode(buf, len / 2 + 1, n, s, len)) != 0) {
        free(buf);
        cli_error("abi: '%.*s%s' is not hex data: %s", SHOW, s,
                  len > SHOW ? "..." : "", kp_strerror(rc));
        return NULL;
    }
    return buf;
}

static int
cmd_encode(int argc, char **argv)
{
    struct abi_sig sig;
    struct abi_error e;
    const char *const *args = (const char *const *)argv + 1;
    size_t n, nargs = (size_t)argc - 1;
    uint8_t *out;
    int rc;

    if (argc < 1)
        return cli_error("abi: usage: keeper abi encode SIG [ARGS...]");
    if (parse_sig(&sig, argv[0]) != 0)
        return CLI_EXIT_USAGE;
    if (sig.kind == ABI_SIG_EVENT)
        return cli_error("abi: '%s' is an event: nothing to encode", argv[0]);
    rc = abi_encode_call_text(NULL, 0, &n, &sig, args, nargs, &e);
    if (rc == 0 || (rc == KP_ERANGE && n > 0)) {
        out = kp_xmalloc(n + 1);
        rc = abi_encode_call_text(out, n + 1, &n, &sig, args, nargs, &e);
        if (rc == 0)
            print_hex(out, n);
        free(out);
    }
    if (rc == 0)
        return CLI_EXIT_OK;
    if (e.arg < 0)
        return cli_error("abi: %s", e.msg);
    return cli_error("abi: argument %d '%.*s%s': column %zu: %s", e.arg + 1,
                     SHOW, args[e.arg], strlen(args[e.arg]) > SHOW ? "..." : "",
                     e.pos + 1, e.msg);
}

static int
print_values(const struct abi_value *tuple)
{
    char *line = NULL;
    size_t need;

    for (size_t i = 0; i < tuple->u.list.n; i++) {
        abi_value_format(NULL, 0, &need, &tuple->u.list.v[i]);
        line = kp_xrealloc(line, need + 1);
        abi_value_format(line, need + 1, &need, &tuple->u.list.v[i]);
        puts(line);
    }
    free(line);
    return CLI_EXIT_OK;
}

static int
decode_data(const struct abi_sig *sig, const uint8_t *data, size_t len,
            const char *sigtext)
{
    struct abi_arena a;
    struct abi_value v;
    struct abi_error e;
    void *buf = kp_xmalloc(CLI_ABI_ARENA);
    int rc;

    abi_arena_init(&a, buf, CLI_ABI_ARENA);
    if (sig->outputs != ABI_NONE)
        rc = abi_decode_output(&v, &a, sig, data, len, &e);
    else if (sig->name[0] == '\0')
        rc = abi_decode(&v, &a, sig, sig->inputs, data, len, &e);
    else
        rc = abi_decode_call(&v, &a, sig, data, len, &e);
    if (rc == 0)
        rc = print_values(&v);
    else
        rc = cli_error("abi: cannot decode as '%s': %s", sigtext, e.msg);
    free(buf);
    return rc;
}

static int
cmd_decode(int argc, char **argv)
{
    struct abi_sig sig;
    uint8_t *data;
    size_t len;
    int rc;

    if (argc != 2)
        return cli_error("abi: usage: keeper abi decode SIG HEX");
    if (parse_sig(&sig, argv[0]) != 0)
        return CLI_EXIT_USAGE;
    if (sig.kind == ABI_SIG_EVENT)
        return cli_error("abi: '%s' is an event: logs need their topics",
                         argv[0]);
    if ((data = read_hex(argv[1], &len)) == NULL)
        return CLI_EXIT_USAGE;
    rc = decode_data(&sig, data, len, argv[0]);
    free(data);
    return rc;
}

static int
cmd_hash(int argc, char **argv, size_t n)
{
    struct abi_sig sig;

    if (argc != 1)
        return cli_error("abi: usage: keeper abi %s SIG",
                         n == 4 ? "selector" : "topic");
    if (parse_sig(&sig, argv[0]) != 0)
        return CLI_EXIT_USAGE;
    print_hex(sig.hash, n);
    return CLI_EXIT_OK;
}

static int
print_revert(const uint8_t *data, size_t len, const struct abi_sig *errs,
             size_t nerrs)
{
    struct abi_arena a;
    struct abi_revert r;
    struct abi_error e;
    void *buf = kp_xmalloc(CLI_ABI_ARENA);
    char *line;
    size_t need;
    int rc;

    abi_arena_init(&a, buf, CLI_ABI_ARENA);
    rc = abi_decode_revert(&r, &a, data, len, errs, nerrs, &e);
    if (rc == 0) {
        abi_revert_format(NULL, 0, &need, &r);
        line = kp_xmalloc(need + 1);
        abi_revert_format(line, need + 1, &need, &r);
        puts(line);
        free(line);
    } else {
        rc = cli_error("abi: malformed revert data: %s", e.msg);
    }
    free(buf);
    return rc;
}

static int
cmd_revert(int argc, char **argv)
{
    struct abi_sig *errs;
    uint8_t *data;
    size_t len, n = (size_t)(argc > 1 ? argc - 1 : 0);
    int rc = 0;

    if (argc < 1)
        return cli_error("abi: usage: keeper abi revert HEX [ERRSIG...]");
    if (n > CLI_ABI_MAX_ERRSIGS)
        return cli_error("abi: at most %d error signatures",
                         CLI_ABI_MAX_ERRSIGS);
    errs = kp_xcalloc(n + 1, sizeof(*errs));
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = parse_sig(&errs[i], argv[i + 1]);
    if (rc == 0 && (data = read_hex(argv[0], &len)) == NULL)
        rc = CLI_EXIT_USAGE;
    if (rc == 0) {
        rc = print_revert(data, len, errs, n);
        free(data);
    }
    free(errs);
    return rc;
}

/* Strip options (only --help) and "--"; leave the operands in argv.
 * Returns: -1 to go on, or an exit status. */
static int
parse_options(int *argc, char ***argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    optind = 0; /* full re-initialisation (GNU) */
    opterr = 0;
    while ((c = getopt_long(*argc, *argv, "h", opts, NULL)) != -1) {
        if (c == 'h')
            return puts(usage_text), CLI_EXIT_OK;
        if (optopt != 0)
            return cli_error("abi: unknown option '-%c' (put '--' before "
                             "arguments that start with '-')",
                             optopt);
        return cli_error("abi: unknown option '%s'", (*argv)[optind - 1]);
    }
    *argc -= optind;
    *argv += optind;
    return -1;
}

int
cli_abi(int argc, char **argv)
{
    const char *cmd;
    int rc;

    if (argc < 2)
        return cli_error("abi: missing action (encode, decode, selector, "
                         "topic, revert; see 'keeper abi --help')");
    cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
        return puts(usage_text), CLI_EXIT_OK;
    argc--, argv++; /* argv[0] is now the action, as getopt expects */
    if ((rc = parse_options(&argc, &argv)) >= 0)
        return rc;
    if (!strcmp(cmd, "encode"))
        return cmd_encode(argc, argv);
    if (!strcmp(cmd, "decode"))
        return cmd_decode(argc, argv);
    if (!strcmp(cmd, "selector"))
        return cmd_hash(argc, argv, 4);
    if (!strcmp(cmd, "topic"))
        return cmd_hash(argc, argv, 32);
    if (!strcmp(cmd, "revert"))
        return cmd_revert(argc, argv);
    return cli_error("abi: unknown action '%s' (encode, decode, selector, "
                     "topic, revert)",
                     cmd);
}
