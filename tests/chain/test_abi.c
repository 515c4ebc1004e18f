/* ABI codec: the Solidity ABI specification's examples, selectors and
 * event topics, cast's text syntax, strict decoding of hostile data,
 * event logs, revert data, and a misuse test for each public function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/abi.h"
#include "chain/err.h"
#include "chain/hex.h"

#define ARENA 65536
static unsigned char arena_buf[ARENA] __attribute__((aligned(16)));

static struct abi_sig *
sig_of(const char *text)
{
    static struct abi_sig sigs[4];
    static int next;
    struct abi_sig *s = &sigs[next++ % 4];
    struct abi_error e;

    if (abi_sig_parse(s, text, strlen(text), &e) != 0)
        fail_msg("parse '%s': col %zu: %s", text, e.pos + 1, e.msg);
    return s;
}

/* Decode hex words (spaces allowed between them) into a static buffer. */
static uint8_t *
unhex(const char *words, size_t *len)
{
    static uint8_t out[2][4096];
    static int which;
    char clean[8192];
    size_t n = 0;
    uint8_t *buf = out[which++ % 2];

    for (const char *p = words; *p; p++)
        if (*p != ' ')
            clean[n++] = *p;
    assert_true(n < sizeof(clean));
    assert_int_equal(hex_decode(buf, sizeof(out[0]), len, clean, n), 0);
    return buf;
}

/* Encode `args` as calldata of `sig`, compare with `want`, decode it back
 * and compare each formatted value with `back` (or `args` when NULL). */
static void
roundtrip(const char *sigtext, const char *const *args, size_t n,
          const char *want, const char *const *back)
{
    const struct abi_sig *sig = sig_of(sigtext);
    uint8_t out[4096], *exp;
    size_t outlen, explen;
    struct abi_arena a;
    struct abi_value v;
    struct abi_error e;
    char text[1024];

    if (abi_encode_call_text(out, sizeof(out), &outlen, sig, args, n, &e))
        fail_msg("%s: arg %d col %zu: %s", sigtext, e.arg, e.pos, e.msg);
    exp = unhex(want, &explen);
    assert_int_equal(outlen, explen);
    assert_memory_equal(out, exp, explen);

    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    assert_int_equal(abi_decode_call(&v, &a, sig, out, outlen, &e), 0);
    assert_int_equal(v.kind, ABI_TUPLE);
    assert_int_equal(v.u.list.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(
            abi_value_format(text, sizeof(text), NULL, &v.u.list.v[i]), 0);
        assert_string_equal(text, back ? back[i] : args[i]);
    }
}

/* ---- the specification's examples ---- */

static void
test_spec_examples(void **state)
{
    (void)state;
    roundtrip("baz(uint32,bool)", (const char *[]){"69", "true"}, 2,
              "cdcd77c0"
              "0000000000000000000000000000000000000000000000000000000000000045"
              "0000000000000000000000000000000000000000000000000000000000000001",
              NULL);
    roundtrip("bar(bytes3[2])", (const char *[]){"[0x616263, 0x646566]"}, 1,
              "fce353f6"
              "6162630000000000000000000000000000000000000000000000000000000000"
              "6465660000000000000000000000000000000000000000000000000000000000",
              NULL);
    roundtrip("sam(bytes,bool,uint256[])",
              (const char *[]){"0x64617665", "true", "[1, 2, 3]"}, 3,
              "a5643bf2"
              "0000000000000000000000000000000000000000000000000000000000000060"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "00000000000000000000000000000000000000000000000000000000000000a0"
              "0000000000000000000000000000000000000000000000000000000000000004"
              "6461766500000000000000000000000000000000000000000000000000000000"
              "0000000000000000000000000000000000000000000000000000000000000003"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000003",
              NULL);
}

static void
test_spec_dynamic(void **state)
{
    (void)state;
    roundtrip("f(uint256,uint32[],bytes10,bytes)",
              (const char *[]){"0x123", "[0x456,0x789]",
                               "0x31323334353637383930",
                               "0x48656c6c6f2c20776f726c6421"},
              4,
              "8be65246"
              "0000000000000000000000000000000000000000000000000000000000000123"
              "0000000000000000000000000000000000000000000000000000000000000080"
              "3132333435363738393000000000000000000000000000000000000000000000"
              "00000000000000000000000000000000000000000000000000000000000000e0"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000456"
              "0000000000000000000000000000000000000000000000000000000000000789"
              "000000000000000000000000000000000000000000000000000000000000000d"
              "48656c6c6f2c20776f726c642100000000000000000000000000000000000000",
              (const char *[]){"291", "[1110, 1929]", "0x31323334353637383930",
                               "0x48656c6c6f2c20776f726c6421"});
    roundtrip("g(uint256[][],string[])",
              (const char *[]){"[[1, 2], [3]]", "[one, two, three]"}, 2,
              "2289b18c"
              "0000000000000000000000000000000000000000000000000000000000000040"
              "0000000000000000000000000000000000000000000000000000000000000140"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000040"
              "00000000000000000000000000000000000000000000000000000000000000a0"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000003"
              "0000000000000000000000000000000000000000000000000000000000000003"
              "0000000000000000000000000000000000000000000000000000000000000060"
              "00000000000000000000000000000000000000000000000000000000000000a0"
              "00000000000000000000000000000000000000000000000000000000000000e0"
              "0000000000000000000000000000000000000000000000000000000000000003"
              "6f6e650000000000000000000000000000000000000000000000000000000000"
              "0000000000000000000000000000000000000000000000000000000000000003"
              "74776f0000000000000000000000000000000000000000000000000000000000"
              "0000000000000000000000000000000000000000000000000000000000000005"
              "7468726565000000000000000000000000000000000000000000000000000000",
              (const char *[]){"[[1, 2], [3]]", "[\"one\", \"two\", \"three\"]"});
}

/* Arrays of tuples and tuples holding dynamic data (values from cast). */
static void
test_tuples(void **state)
{
    (void)state;
    roundtrip("f((uint8[],uint8))", (const char *[]){"( [1] , 2 )"}, 1,
              "1d8a5f1a"
              "0000000000000000000000000000000000000000000000000000000000000020"
              "0000000000000000000000000000000000000000000000000000000000000040"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000001",
              (const char *[]){"([1], 2)"});
    roundtrip("f((uint8,uint8)[])", (const char *[]){"[ (1,2),(3,4) ]"}, 1,
              "1ac62d85"
              "0000000000000000000000000000000000000000000000000000000000000020"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000001"
              "0000000000000000000000000000000000000000000000000000000000000002"
              "0000000000000000000000000000000000000000000000000000000000000003"
              "0000000000000000000000000000000000000000000000000000000000000004",
              (const char *[]){"[(1, 2), (3, 4)]"});
}

/* ---- signatures ---- */

static void
check_selector(const char *text, uint32_t want)
{
    const struct abi_sig *s = sig_of(text);
    uint32_t got = (uint32_t)s->hash[0] << 24 | (uint32_t)s->hash[1] << 16 |
                   (uint32_t)s->hash[2] << 8 | s->hash[3];

    if (got != want)
        fail_msg("%s: selector %08x, want %08x", text, got, want);
}

static void
check_canonical(const char *text, const char *want)
{
    char out[ABI_CANON_MAX];

    assert_int_equal(abi_sig_canonical(out, sizeof(out), sig_of(text)), 0);
    assert_string_equal(out, want);
}

static void
test_selectors(void **state)
{
    (void)state;
    check_selector("transfer(address,uint256)", 0xa9059cbb);
    check_selector("function transfer(address to, uint256 amount) external "
                   "returns (bool)",
                   0xa9059cbb);
    check_selector("  transfer ( address , uint ) ", 0xa9059cbb);
    check_selector("balanceOf(address)(uint256)", 0x70a08231);
    check_selector("f((uint,bool)[],string)", 0xfc4f9699); /* cast sig */
    check_selector("f(tuple(uint256,bool))", 0xc5cba275);
    check_canonical("f(uint, int, (uint8[2][], bytes32)[3])",
                    "f(uint256,int256,(uint8[2][],bytes32)[3])");
    check_canonical("function g(string memory s, address payable to) view",
                    "g(string,address)");
    check_canonical("(uint256,bool)", "(uint256,bool)");
    check_canonical("balance()(uint256)", "balance()");
}

static void
test_event_topic(void **state)
{
    static const char *const forms[] = {
        "Transfer(address indexed,address indexed,uint256)",
        ("event Transfer(address indexed from, address indexed to, uint256 "
         "value)"),
        "event Transfer(address,address,uint256)",
    };
    size_t n;
    uint8_t *want = unhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a116"
                          "28f55a4df523b3ef",
                          &n);

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        const struct abi_sig *s = sig_of(forms[i]);

        assert_int_equal(s->kind, ABI_SIG_EVENT);
        assert_memory_equal(s->hash, want, 32);
    }
    assert_int_equal(sig_of(forms[0])->nindexed, 2);
}

static void
check_sig_error(const char *text, int code, size_t col)
{
    struct abi_sig s;
    struct abi_error e;
    int rc = abi_sig_parse(&s, text, strlen(text), &e);

    if (rc != code || e.code != code || e.pos != col)
        fail_msg("'%s': rc %d col %zu (%s); want rc %d col %zu", text, rc,
                 e.pos, e.msg, code, col);
}

static void
test_sig_errors(void **state)
{
    char deep[200], wide[2200], len[64];
    size_t n = 0;

    (void)state;
    check_sig_error("f(uint7)", KP_EINVAL, 2);
    check_sig_error("f(uint264)", KP_EINVAL, 2);
    check_sig_error("f(bytes33)", KP_EINVAL, 2);
    check_sig_error("f(uint08)", KP_EINVAL, 2);
    check_sig_error("f(uint256", KP_EINVAL, 9);
    check_sig_error("f(uint256,)", KP_EINVAL, 10);
    check_sig_error("f(uint256[0])", KP_EINVAL, 9);
    check_sig_error("f(uint256[4097])", KP_ELIMIT, 9);
    check_sig_error("f(uint256[] x y)", KP_EINVAL, 14);
    check_sig_error("f(fixed128x18)", KP_EUNSUPPORTED, 2);
    check_sig_error("f(function)", KP_EUNSUPPORTED, 2);
    check_sig_error("f(()[])", KP_EINVAL, 2);
    check_sig_error("f((uint256 indexed))", KP_EINVAL, 11);
    check_sig_error("f(uint256) returns", KP_EINVAL, 18);
    check_sig_error("f(uint256)(bool)(bool)", KP_EINVAL, 16);
    check_sig_error("error E(uint256 indexed)", KP_EINVAL, 0);
    check_sig_error("event E(uint indexed, uint indexed, uint indexed, "
                    "uint indexed)",
                    KP_ELIMIT, 0);
    check_sig_error("", KP_EINVAL, 0);
    check_sig_error("f(uint256) junk", KP_EINVAL, 11);
    check_sig_error("f(uint256[1048576])", KP_ELIMIT, 9);
    check_sig_error("f(uint256[4096][4096])", KP_ELIMIT, 15);

    /* Depth: 64 levels are fine (the parameter list is one), 65 not. */
    n += (size_t)sprintf(deep, "f(");
    for (int i = 0; i < 63; i++)
        deep[n++] = '(';
    n += (size_t)sprintf(deep + n, "bool");
    for (int i = 0; i < 63; i++)
        deep[n++] = ')';
    deep[n++] = ')';
    deep[n] = '\0';
    assert_int_equal(abi_sig_parse(&(struct abi_sig){0}, deep, n, NULL), 0);
    memmove(deep + 3, deep + 2, n - 1);
    deep[2] = '(';
    memmove(deep + n + 1, deep + n, 2);
    deep[n] = ')';
    check_sig_error(deep, KP_ELIMIT, 65);

    /* Nodes: 255 members and the list fit, 256 do not. */
    n = (size_t)sprintf(wide, "f(");
    for (int i = 0; i < 255; i++)
        n += (size_t)sprintf(wide + n, "%sbool", i ? "," : "");
    sprintf(wide + n, ")");
    assert_int_equal(abi_sig_parse(&(struct abi_sig){0}, wide, n + 1, NULL),
                     0);
    sprintf(wide + n, ",bool)");
    check_sig_error(wide, KP_ELIMIT, n + 1);

    /* Names, NUL bytes, text size. */
    memset(len, 'a', sizeof(len));
    assert_int_equal(abi_sig_parse(&(struct abi_sig){0}, "f\0()", 4, NULL),
                     KP_EINVAL);
    assert_int_equal(abi_sig_parse(&(struct abi_sig){0}, len,
                                   ABI_MAX_SIG_TEXT + 1, NULL),
                     KP_ELIMIT);
}

/* ---- text syntax ---- */

static int
parse1(const char *type, const char *text, struct abi_value *v,
       struct abi_error *e)
{
    static struct abi_sig s;
    static struct abi_arena a;
    char buf[300];

    snprintf(buf, sizeof(buf), "(%s)", type);
    assert_int_equal(abi_sig_parse(&s, buf, strlen(buf), NULL), 0);
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    return abi_value_parse(v, &a, &s, s.nodes[s.inputs].child, text,
                           strlen(text), e);
}

static void
check_text(const char *type, const char *text, const char *want)
{
    struct abi_value v;
    struct abi_error e;
    char out[512];

    if (parse1(type, text, &v, &e) != 0)
        fail_msg("%s '%s': col %zu: %s", type, text, e.pos, e.msg);
    assert_int_equal(abi_value_format(out, sizeof(out), NULL, &v), 0);
    if (strcmp(out, want) != 0)
        fail_msg("%s '%s' gave '%s', want '%s'", type, text, out, want);
}

static void
check_text_error(const char *type, const char *text, int code)
{
    struct abi_value v;
    struct abi_error e;
    int rc = parse1(type, text, &v, &e);

    if (rc != code)
        fail_msg("%s '%s': rc %d (%s), want %d", type, text, rc,
                 rc ? e.msg : "ok", code);
}

/* How `text` reads as `type`: formatted as `want`, or, when want is
 * NULL, refused with `rc`. */
struct text_case {
    const char *type;
    const char *text;
    const char *want;
    int rc;
};

static void
check_texts(const struct text_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].want != NULL)
            check_text(c[i].type, c[i].text, c[i].want);
        else
            check_text_error(c[i].type, c[i].text, c[i].rc);
    }
}

static void
test_text_numbers(void **state)
{
    static const struct text_case c[] = {
        {"uint8", "255", "255", 0},
        {"uint8", "0xff", "255", 0},
        {"uint256", "0X1F", "31", 0},
        {"uint256", "0b101", "5", 0},
        {"uint256", "0o17", "15", 0},
        {"uint256", "007", "7", 0},
        {"uint256", "1ether", "1000000000000000000", 0},
        {"uint256", "1.5 gwei", "1500000000", 0},
        {"uint256", "2nano", "2000000000", 0},
        {"uint256", "1e18", "1000000000000000000", 0},
        {"uint256", "15e-1ether", "1500000000000000000", 0},
        {"uint256", "0x1.8ether", "1800000000000000000", 0},
        {"uint256", "5 ", "5", 0},
        {"uint256", "3wei", "3", 0},
        {"uint256",
         "115792089237316195423570985008687907853269984665640564039457"
         "584007913129639935",
         "115792089237316195423570985008687907853269984665640564039457"
         "584007913129639935",
         0},
        {"int8", "-128", "-128", 0},
        {"int8", "+127", "127", 0},
        {"int8", "-0x80", "-128", 0},
        {"int256", "-1ether", "-1000000000000000000", 0},
        {"int256",
         "-57896044618658097711785492504343953926634992332820282019728"
         "792003956564819968",
         "-57896044618658097711785492504343953926634992332820282019728"
         "792003956564819968",
         0},

        {"uint8", "256", NULL, KP_ERANGE},
        {"int8", "-129", NULL, KP_ERANGE},
        {"int8", "128", NULL, KP_ERANGE},
        {"int8", "0x80", NULL, KP_ERANGE},
        {"uint256",
         "115792089237316195423570985008687907853269984665640564"
         "039457584007913129639936",
         NULL, KP_ERANGE},
        {"uint256", "1e78", NULL, KP_ERANGE},
        {"uint256", "-1", NULL, KP_EINVAL},
        {"uint256", "+1", NULL, KP_EINVAL},
        {"uint256", "", NULL, KP_EINVAL},
        {"uint256", " 5", NULL, KP_EINVAL},
        {"uint256", "1.5", NULL, KP_EINVAL},
        {"uint256", "1.0", NULL, KP_EINVAL},
        {"uint256", "1.", NULL, KP_EINVAL},
        {"uint256", "1e-1", NULL, KP_EINVAL},
        {"uint256", "1 Gwei", NULL, KP_EINVAL},
        {"uint256", "1 gwei ", NULL, KP_EINVAL},
        {"uint256", "0.0000000000000000001ether", NULL, KP_EINVAL},
        {"uint256", "0b12", NULL, KP_EINVAL},
        {"uint256", "12abc", NULL, KP_EINVAL},
    };

    (void)state;
    check_texts(c, sizeof(c) / sizeof(c[0]));
}

static void
test_text_hex_bool(void **state)
{
    static const struct text_case c[] = {
        {"address", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
         "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0},
        {"address", "70997970C51812DC3A010C7D01B50E0D17DC79C8",
         "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0},
        /* cast does not enforce the checksum of mixed-case input. */
        {"address", "0x70997970C51812dc3A010C7d01b50e0d17dc79c8",
         "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0},
        {"bytes", "0x", "0x", 0},
        {"bytes", "ABcd", "0xabcd", 0},
        {"bytes3", "010203", "0x010203", 0},
        {"bool", "true", "true", 0},
        {"bool", "false", "false", 0},

        {"address", "0X70997970c51812dc3a010c7d01b50e0d17dc79c8", NULL,
         KP_EINVAL},
        {"address", "0x70997970c51812dc3a010c7d01b50e0d17dc79", NULL,
         KP_ERANGE},
        {"bytes", "", NULL, KP_EINVAL},
        {"bytes", "0x1", NULL, KP_EINVAL},
        {"bytes", "hello", NULL, KP_EINVAL},
        {"bytes3", "0x0102", NULL, KP_ERANGE},
        {"bytes3", "0x01020304", NULL, KP_ERANGE},
        {"bool", "True", NULL, KP_EINVAL},
        {"bool", "1", NULL, KP_EINVAL},
        {"bool", "true ", NULL, KP_EINVAL},
    };

    (void)state;
    check_texts(c, sizeof(c) / sizeof(c[0]));
}

static void
test_text_strings(void **state)
{
    static const struct text_case c[] = {
        {"string", "hello", "hello", 0},
        {"string", " hello \t", " hello", 0},
        {"string", "'x '", "\"x \"", 0},
        {"string", "'\"x'", "'\"x'", 0},
        {"string", "\"quoted\"", "quoted", 0},
        {"string", "'a\"b'", "a\"b", 0},
        {"string", "a\"", "a\"", 0},
        {"string", "", "", 0},
        {"string", "x\xc2\xa0", "x", 0}, /* U+00A0 is whitespace */
        {"string[]", "[a, b ,\"c,d\", 'e]']", "[\"a\", \"b\", \"c,d\", \"e]\"]",
         0},
        {"string[]", "[a)b]", "[\"a)b\"]", 0},
        {"string[]", "['x\"y']", "['x\"y']", 0},
        {"(string,uint8)", "(a] , 1)", "(\"a]\", 1)", 0},
        {"(string,string)", "(\"a\" , b)", "(\"a\", \"b\")", 0},
        {"string[]", "[it's \"x\"]", "[it's \"x\"]", 0},

        {"string", "\"open", NULL, KP_EINVAL},
        {"string", "\"a\"b", NULL, KP_EINVAL},
        {"string[]", "[,a]", NULL, KP_EINVAL},
        {"string[]", "[\"a\" , b]", NULL, KP_EINVAL},
    };

    (void)state;
    check_texts(c, sizeof(c) / sizeof(c[0]));
}

static void
test_text_lists(void **state)
{
    static const struct text_case c[] = {
        {"bool[]", "[ true, false ]", "[true, false]", 0},
        {"bool[]", "[true,false,]", "[true, false]", 0},
        {"uint8[]", "[1 ,2 ]", "[1, 2]", 0},
        {"uint8[]", "[ ]", "[]", 0},
        {"uint8[][]", "[[],]", "[[]]", 0},
        {"(uint8,uint8)", " ( 1 , 2 )", "(1, 2)", 0},
        {"uint256[2][]", "[[1,2],[3,4]]", "[[1, 2], [3, 4]]", 0},

        {"bool[]", "[true ,false]", NULL, KP_EINVAL},
        {"bool[]", " [true]", NULL, KP_EINVAL},
        {"bool[]", "[true] ", NULL, KP_EINVAL},
        {"uint8[]", "[,]", NULL, KP_EINVAL},
        {"uint8[]", "[1,,]", NULL, KP_EINVAL},
        {"uint8[]", "[1", NULL, KP_EINVAL},
        {"uint8[2]", "[1]", NULL, KP_EINVAL},
        {"uint8[2]", "[1,2,3]", NULL, KP_EINVAL},
        {"(uint8,uint8)", "(1,2,)", NULL, KP_EINVAL},
        {"(uint8,uint8)", "(1)", NULL, KP_EINVAL},
        {"(uint8,uint8)", "(1,2) ", NULL, KP_EINVAL},
        {"uint8[][]", "[[1] ,[2]]", NULL, KP_EINVAL},
    };

    (void)state;
    check_texts(c, sizeof(c) / sizeof(c[0]));
}

/* A string that cast's syntax cannot hold in a list comes out escaped. */
static void
test_format_escapes(void **state)
{
    struct abi_value s, list;
    char out[64];
    size_t need;

    (void)state;
    abi_value_string(&s, "a\"b',\\", 6);
    abi_value_list(&list, ABI_ARRAY, &s, 1);
    assert_int_equal(abi_value_format(out, sizeof(out), &need, &list), 0);
    assert_string_equal(out, "[\"a\\\"b',\\\\\"]");
    assert_int_equal(need, strlen(out));
    assert_int_equal(abi_value_format(out, 5, &need, &list), KP_ERANGE);
    assert_int_equal(need, 12);
    assert_string_equal(out, "[\"a\\");
}

/* ---- hand-built values ---- */

static void
test_encode_values(void **state)
{
    const struct abi_sig *sig = sig_of("inject(uint256)");
    struct abi_value arg, args;
    uint8_t out[36], want[36];
    size_t n;
    const char *text[] = {"1000000"};

    (void)state;
    abi_value_uint64(&arg, 1000000);
    abi_value_list(&args, ABI_TUPLE, &arg, 1);
    assert_int_equal(abi_encode_call(out, sizeof(out), &n, sig, &args), 0);
    assert_int_equal(n, 36);
    assert_int_equal(
        abi_encode_call_text(want, sizeof(want), &n, sig, text, 1, NULL), 0);
    assert_memory_equal(out, want, 36);
    assert_memory_equal(out, sig->hash, 4);

    /* Buffer too small: the size needed comes back. */
    assert_int_equal(abi_encode_call(out, 35, &n, sig, &args), KP_ERANGE);
    assert_int_equal(n, 36);
    assert_int_equal(abi_encode_call(NULL, 0, &n, sig, &args), KP_ERANGE);
    assert_int_equal(n, 36);
}

/* abi_encode of `t` as the inputs of `sig`, into out (256 bytes).
 * Returns: its result.   Out: *n */
static int
encode_inputs(uint8_t out[256], size_t *n, const struct abi_sig *sig,
              const struct abi_value *t)
{
    return abi_encode(out, 256, n, sig, sig->inputs, t);
}

static void
test_encode_misuse(void **state)
{
    const struct abi_sig *sig = sig_of("(uint8,int8,bytes2,bool[2])");
    struct abi_value v[4], items[2], t;
    struct u256 big;
    uint8_t out[256];
    size_t n;

    (void)state;
    abi_value_uint64(&v[0], 255);
    abi_value_int(&v[1], &(struct u256){{(uint64_t)-128, UINT64_MAX, UINT64_MAX,
                                         UINT64_MAX}});
    abi_value_fixed_bytes(&v[2], (const uint8_t *)"ab", 2);
    abi_value_bool(&items[0], true);
    abi_value_bool(&items[1], false);
    abi_value_list(&v[3], ABI_FIXED_ARRAY, items, 2);
    abi_value_list(&t, ABI_TUPLE, v, 4);
    assert_int_equal(encode_inputs(out, &n, sig, &t), 0);
    assert_int_equal(n, 5 * 32);
    assert_int_equal(out[31], 255);
    assert_int_equal(out[32], 0xff);
    assert_int_equal(out[63], 0x80);

    abi_value_uint64(&v[0], 256); /* uint8 out of range */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_ERANGE);
    assert_int_equal(n, 0);
    abi_value_uint64(&v[0], 1);
    abi_value_int(&v[1], &(struct u256){{128, 0, 0, 0}}); /* int8 */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_ERANGE);
    u256_from_u64(&big, 1);
    abi_value_int(&v[1], &big);
    abi_value_fixed_bytes(&v[2], (const uint8_t *)"abc", 3); /* bytes2 */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_ERANGE);
    abi_value_uint64(&v[2], 1); /* wrong kind */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_EINVAL);
    abi_value_fixed_bytes(&v[2], (const uint8_t *)"ab", 2);
    abi_value_list(&v[3], ABI_FIXED_ARRAY, items, 1); /* count */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_EINVAL);
    abi_value_list(&v[3], ABI_ARRAY, items, 2); /* array kind */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_EINVAL);
    abi_value_list(&t, ABI_TUPLE, v, 3); /* member count */
    assert_int_equal(encode_inputs(out, &n, sig, &t), KP_EINVAL);
}

static void
test_encode_text_misuse(void **state)
{
    const struct abi_sig *sig = sig_of("f(uint8,string)");
    const char *args[] = {"1", "x"};
    struct abi_error e;
    uint8_t out[256];
    size_t n;
    char *huge;

    (void)state;
    assert_int_equal(abi_encode_call_text(out, sizeof(out), &n, sig, args, 1,
                                          &e),
                     KP_EINVAL);
    assert_int_equal(e.arg, -1);
    args[0] = "300";
    assert_int_equal(abi_encode_call_text(out, sizeof(out), &n, sig, args, 2,
                                          &e),
                     KP_ERANGE);
    assert_int_equal(e.arg, 0);
    assert_int_equal(n, 0);
    args[0] = "3";
    assert_int_equal(abi_encode_call_text(out, 10, &n, sig, args, 2, &e),
                     KP_ERANGE);
    assert_int_equal(n, 4 + 4 * 32);
    huge = malloc(ABI_MAX_ARGS_TEXT + 2);
    memset(huge, 'a', ABI_MAX_ARGS_TEXT + 1);
    huge[ABI_MAX_ARGS_TEXT + 1] = '\0';
    args[1] = huge;
    assert_int_equal(abi_encode_call_text(out, sizeof(out), &n, sig, args, 2,
                                          &e),
                     KP_ELIMIT);
    free(huge);

    /* A nameless list encodes without a selector. */
    sig = sig_of("(uint8)");
    assert_int_equal(abi_encode_call_text(out, sizeof(out), &n, sig, args, 1,
                                          &e),
                     0);
    assert_int_equal(n, 32);
    assert_int_equal(out[31], 3);
}

/* ---- strict decoding ---- */

static int
decode_hex(const char *sigtext, const char *words, struct abi_value *v,
           size_t *pos)
{
    const struct abi_sig *s = sig_of(sigtext);
    struct abi_arena a;
    struct abi_error e;
    size_t len;
    uint8_t *data = unhex(words, &len);
    int rc;

    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    rc = abi_decode(v, &a, s, s->inputs, data, len, &e);
    if (pos != NULL)
        *pos = rc ? e.pos : 0;
    return rc;
}

#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define W1 "0000000000000000000000000000000000000000000000000000000000000001"
#define W2 "0000000000000000000000000000000000000000000000000000000000000002"
#define W20 "0000000000000000000000000000000000000000000000000000000000000020"
#define WFF "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define W0_56 "00000000000000000000000000000000000000000000000000000000"
#define W0_60 W0_56 "0000"
#define W0_62 W0_60 "00"

static void
test_decode_strict(void **state)
{
    struct abi_value v;
    size_t pos;

    (void)state;
    assert_int_equal(decode_hex("(uint8,bool)", W1 W1, &v, NULL), 0);
    assert_int_equal(decode_hex("(uint8)", "00000000000000000000000000000000"
                                           "00000000000000000000000000000100",
                                &v, &pos),
                     KP_ENONCANON);
    assert_int_equal(decode_hex("(bool)", W2, &v, NULL), KP_ENONCANON);
    assert_int_equal(decode_hex("(address)", WFF, &v, NULL), KP_ENONCANON);
    assert_int_equal(decode_hex("(int8)", WFF, &v, NULL), 0);
    assert_int_equal(decode_hex("(int8)", "ffffffffffffffffffffffffffffffff"
                                          "ffffffffffffffffffffffffffffff7f",
                                &v, NULL),
                     KP_ENONCANON);
    assert_int_equal(decode_hex("(int8)", "00000000000000000000000000000000"
                                          "00000000000000000000000000000080",
                                &v, NULL),
                     KP_ENONCANON);
    assert_int_equal(decode_hex("(bytes2)", "0102000000000000000000000000000"
                                            "000000000000000000000000000000001",
                                &v, NULL),
                     KP_ENONCANON);
    /* Truncated static data; a word short. */
    assert_int_equal(decode_hex("(uint256,uint256)", W1, &v, &pos),
                     KP_ETRUNC);
    assert_int_equal(pos, 0);
    assert_int_equal(decode_hex("(uint256)", "00", &v, NULL), KP_ETRUNC);
    /* Offset past the end, huge offset, huge length. */
    assert_int_equal(decode_hex("(bytes)", W2 W0, &v, &pos), KP_ETRUNC);
    assert_int_equal(decode_hex("(bytes)", "ff" W0_62 W0, &v, NULL),
                     KP_ETRUNC);
    assert_int_equal(decode_hex("(bytes)", W20 WFF, &v, NULL), KP_ETRUNC);
    assert_int_equal(decode_hex("(bytes)", W20 W0_56 "ffffffff", &v, NULL),
                     KP_ETRUNC);
    assert_int_equal(decode_hex("(uint256[])", W20 W0_56 "ffffffff", &v, NULL),
                     KP_ETRUNC);
    /* Bytes: missing or dirty padding. */
    assert_int_equal(decode_hex("(bytes)", W20 W1 "01", &v, NULL), KP_ETRUNC);
    assert_int_equal(decode_hex("(bytes)", W20 W1 "0101" W0_60, &v, &pos),
                     KP_ENONCANON);
    assert_int_equal(pos, 65);
    assert_int_equal(decode_hex("(string)", W20 W1 "61" W0_62, &v, NULL), 0);
    assert_int_equal(v.u.list.v[0].u.bytes.len, 1);
    assert_int_equal(v.u.list.v[0].u.bytes.p[0], 'a');
}

/* Offsets that all point at the same tail make values grow much faster
 * than the data: the arena bounds it. */
static void
test_decode_aliasing(void **state)
{
    const struct abi_sig *s = sig_of("(uint256[][])");
    static uint8_t data[32 * 3 + 32 * 500 + 32 * 501];
    static unsigned char small[4096];
    struct abi_arena a;
    struct abi_value v;
    uint8_t *p = data;

    (void)state;
    p[31] = 0x20; /* offset of the outer array */
    p += 32;
    p[30] = 500 >> 8, p[31] = 500 & 0xff; /* 500 inner arrays */
    p += 32;
    for (int i = 0; i < 500; i++, p += 32) { /* each: offset 500*32 */
        p[30] = (500 * 32) >> 8;
        p[31] = (500 * 32) & 0xff;
    }
    p[30] = 500 >> 8, p[31] = 500 & 0xff; /* 500 words of zeros */
    abi_arena_init(&a, small, sizeof(small));
    assert_int_equal(abi_decode(&v, &a, s, s->inputs, data, sizeof(data),
                                NULL),
                     KP_ELIMIT);
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    assert_int_equal(abi_decode(&v, &a, s, s->inputs, data, sizeof(data),
                                NULL),
                     KP_ELIMIT); /* 250,000 values do not fit 64 KiB */
}

static void
test_decode_call_output(void **state)
{
    const struct abi_sig *bal = sig_of("balance()(uint256)");
    const struct abi_sig *tr = sig_of("transfer(address,uint256)");
    struct abi_arena a;
    struct abi_value v;
    struct abi_error e;
    size_t len;
    uint8_t *data;
    uint64_t x;

    (void)state;
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    data = unhex("000000000000000000000000000000000000000000000000000000000000"
                 "002a",
                 &len);
    assert_int_equal(abi_decode_output(&v, &a, bal, data, len, &e), 0);
    assert_int_equal(u256_to_u64(&x, &v.u.list.v[0].u.num), 0);
    assert_int_equal(x, 42);
    assert_int_equal(abi_decode_output(&v, &a, tr, data, len, &e), KP_EINVAL);
    assert_int_equal(abi_decode_call(&v, &a, tr, data, len, &e), KP_EINVAL);
    assert_non_null(strstr(e.msg, "0xa9059cbb"));
    assert_int_equal(abi_decode_call(&v, &a, tr, data, 3, &e), KP_EINVAL);
    data = unhex("a9059cbb" W1 W2, &len);
    assert_int_equal(abi_decode_call(&v, &a, tr, data, len, &e), 0);
    assert_int_equal(v.u.list.v[0].u.addr.b[19], 1);
    data = unhex("a9059cbb" W1 "00", &len);
    assert_int_equal(abi_decode_call(&v, &a, tr, data, len, &e), KP_ETRUNC);
    assert_int_equal(e.pos, 4); /* offsets count the selector */
}

/* ---- logs ---- */

static void
test_decode_log(void **state)
{
    const struct abi_sig *ev = sig_of("event Transfer(address indexed from, "
                                      "address indexed to, uint256 value)");
    const struct abi_sig *named =
        sig_of("event Named(string indexed name, uint8 indexed n, bytes b)");
    const struct abi_sig *anon = sig_of("event A(uint256 indexed x) anonymous");
    uint8_t topics[3][32] = {{0}}, data[96] = {0};
    struct abi_arena a;
    struct abi_value v;
    struct abi_error e;

    (void)state;
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    memcpy(topics[0], ev->hash, 32);
    topics[1][31] = 0xaa;
    topics[2][31] = 0xbb;
    data[31] = 7;
    assert_int_equal(abi_decode_log(&v, &a, ev, (const uint8_t (*)[32])topics,
                                    3, data, 32, &e),
                     0);
    assert_int_equal(v.u.list.n, 3);
    assert_int_equal(v.u.list.v[0].u.addr.b[19], 0xaa);
    assert_int_equal(v.u.list.v[1].u.addr.b[19], 0xbb);
    assert_int_equal(v.u.list.v[2].u.num.w[0], 7);
    /* Misuse: missing topic, foreign topic 0, dirty indexed address. */
    assert_int_equal(abi_decode_log(&v, &a, ev, (const uint8_t (*)[32])topics,
                                    2, data, 32, &e),
                     KP_EINVAL);
    topics[0][0] ^= 1;
    assert_int_equal(abi_decode_log(&v, &a, ev, (const uint8_t (*)[32])topics,
                                    3, data, 32, &e),
                     KP_EINVAL);
    topics[0][0] ^= 1;
    topics[1][0] = 1;
    assert_int_equal(abi_decode_log(&v, &a, ev, (const uint8_t (*)[32])topics,
                                    3, data, 32, &e),
                     KP_ENONCANON);
    assert_int_equal(abi_decode_log(&v, &a, ev, (const uint8_t (*)[32])topics,
                                    3, data, 31, &e),
                     KP_ENONCANON);

    /* An indexed string is only its hash; bytes come from the data. */
    memcpy(topics[0], named->hash, 32);
    memset(topics[1], 0x5a, 32);
    memset(topics[2], 0, 32);
    topics[2][31] = 9;
    memset(data, 0, sizeof(data));
    data[31] = 0x20;
    data[63] = 1;
    data[64] = 0xee;
    assert_int_equal(abi_decode_log(&v, &a, named,
                                    (const uint8_t (*)[32])topics, 3, data,
                                    96, &e),
                     0);
    assert_int_equal(v.u.list.v[0].kind, ABI_TOPIC);
    assert_int_equal(v.u.list.v[0].u.fixed.b[7], 0x5a);
    assert_int_equal(v.u.list.v[1].u.num.w[0], 9);
    assert_int_equal(v.u.list.v[2].u.bytes.len, 1);
    assert_int_equal(v.u.list.v[2].u.bytes.p[0], 0xee);

    /* Anonymous: no topic 0. */
    assert_int_equal(abi_decode_log(&v, &a, anon,
                                    (const uint8_t (*)[32])topics + 2, 1,
                                    NULL, 0, &e),
                     0);
    assert_int_equal(v.u.list.v[0].u.num.w[0], 9);
}

/* ---- revert data ---- */

static const char *
revert_text(const char *words, const struct abi_sig *errs, size_t n, int *rc)
{
    static char out[256];
    struct abi_arena a;
    struct abi_revert r;
    size_t len;
    uint8_t *data = unhex(words, &len);

    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    *rc = abi_decode_revert(&r, &a, data, len, errs, n, NULL);
    if (*rc != 0)
        return NULL;
    assert_int_equal(abi_revert_format(out, sizeof(out), NULL, &r), 0);
    return out;
}

static void
test_revert(void **state)
{
    struct abi_sig errs[2];
    struct abi_arena a;
    struct abi_revert r;
    char small[8];
    size_t need;
    int rc;

    (void)state;
    assert_string_equal(revert_text("08c379a0" W20
                                    "000000000000000000000000000000000000000"
                                    "0000000000000000000000005"
                                    "68656c6c6f0000000000000000000000000000"
                                    "00000000000000000000000000",
                                    NULL, 0, &rc),
                        "Error(\"hello\")");
    assert_string_equal(revert_text("4e487b71"
                                    "0000000000000000000000000000000000000"
                                    "000000000000000000000000011",
                                    NULL, 0, &rc),
                        "Panic(0x11): arithmetic underflow or overflow");
    assert_string_equal(revert_text("4e487b71" W1, NULL, 0, &rc),
                        "Panic(0x1): assertion failed");
    assert_string_equal(revert_text("4e487b71" WFF, NULL, 0, &rc),
                        "Panic(0xffffffffffffffffffffffffffffffffffffffffffff"
                        "ffffffffffffffffffff): unknown panic code");
    assert_string_equal(revert_text("", NULL, 0, &rc), "empty revert data");
    assert_string_equal(revert_text("12345678", NULL, 0, &rc),
                        "unknown error selector 0x12345678 (4 bytes)");

    /* Custom errors, given their signatures. */
    assert_int_equal(abi_sig_parse(&errs[0], "error NotKeeper(address who)",
                                   28, NULL),
                     0);
    assert_int_equal(abi_sig_parse(&errs[1], "AboveTarget(uint256,uint256)",
                                   28, NULL),
                     0);
    {
        char words[8 + 2 * 64 + 1];

        snprintf(words, sizeof(words), "%02x%02x%02x%02x%s%s",
                 errs[1].hash[0], errs[1].hash[1], errs[1].hash[2],
                 errs[1].hash[3], W1, W2);
        assert_string_equal(revert_text(words, errs, 2, &rc),
                            "AboveTarget(1, 2)");
        words[8 + 64] = '\0'; /* one argument short */
        assert_null(revert_text(words, errs, 2, &rc));
        assert_int_equal(rc, KP_ETRUNC);
    }
    /* Misuse: 1-3 bytes, a malformed Error(string). */
    assert_null(revert_text("08c379", NULL, 0, &rc));
    assert_int_equal(rc, KP_EINVAL);
    assert_null(revert_text("08c379a0" W2, NULL, 0, &rc));
    assert_int_equal(rc, KP_ETRUNC);

    /* abi_revert_format: a short buffer reports the size needed. */
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    assert_int_equal(abi_decode_revert(&r, &a, NULL, 0, NULL, 0, NULL), 0);
    assert_int_equal(abi_revert_format(small, sizeof(small), &need, &r),
                     KP_ERANGE);
    assert_int_equal(need, strlen("empty revert data"));
}

static void
test_panic_reason(void **state)
{
    struct u256 c;

    (void)state;
    u256_from_u64(&c, 0x12);
    assert_string_equal(abi_panic_reason(&c), "division or modulo by zero");
    u256_from_u64(&c, 0x32);
    assert_string_equal(abi_panic_reason(&c), "array index out of bounds");
    u256_from_u64(&c, 0x13);
    assert_null(abi_panic_reason(&c));
    c.w[3] = 1;
    assert_null(abi_panic_reason(&c));
}

/* ---- arena and small accessors ---- */

static void
test_arena(void **state)
{
    unsigned char buf[4 * sizeof(struct abi_value) + 8];
    struct abi_arena a;
    struct abi_value *v;

    (void)state;
    abi_arena_init(&a, buf + 1, sizeof(buf) - 1); /* misaligned on purpose */
    v = abi_arena_values(&a, 2);
    assert_non_null(v);
    assert_int_equal((uintptr_t)v % _Alignof(struct abi_value), 0);
    assert_null(abi_arena_values(&a, 3));
    assert_null(abi_arena_values(&a, SIZE_MAX / 4));
    assert_non_null(abi_arena_values(&a, 0));
    abi_arena_reset(&a);
    assert_non_null(abi_arena_values(&a, 3));
    abi_arena_init(&a, NULL, 0);
    assert_null(abi_arena_values(&a, 1));
}

static void
test_sig_accessors(void **state)
{
    const struct abi_sig *s = sig_of("f((uint256,bool)[2],string)");
    const struct abi_type *in = abi_sig_node(s, s->inputs);
    const struct abi_type *arr = abi_sig_node(s, in->child);
    char out[ABI_CANON_MAX];

    (void)state;
    assert_int_equal(in->count, 2);
    assert_int_equal(in->dynamic, true);
    assert_int_equal(arr->kind, ABI_FIXED_ARRAY);
    assert_int_equal(arr->len, 2);
    assert_int_equal(arr->head, 128);
    assert_false(arr->dynamic);
    assert_int_equal(abi_type_canonical(out, sizeof(out), s, in->child), 0);
    assert_string_equal(out, "(uint256,bool)[2]");
    assert_int_equal(abi_type_canonical(out, 5, s, in->child), KP_ERANGE);
    assert_int_equal(abi_sig_canonical(out, 3, s), KP_ERANGE);
    assert_int_equal(s->outputs, ABI_NONE);
}

static void
test_args_parse(void **state)
{
    const struct abi_sig *s = sig_of("f(uint8,string)");
    const char *argv[] = {"7", "[x"};
    struct abi_arena a;
    struct abi_value v;
    struct abi_error e;
    char tiny[sizeof(struct abi_value)];

    (void)state;
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));
    assert_int_equal(abi_args_parse(&v, &a, s, s->inputs, argv, 2, &e), 0);
    assert_string_equal((const char *)v.u.list.v[1].u.bytes.p, "[x");
    assert_int_equal(abi_args_parse(&v, &a, s, s->inputs, argv, 3, &e),
                     KP_EINVAL);
    argv[0] = "7x";
    assert_int_equal(abi_args_parse(&v, &a, s, s->inputs, argv, 2, &e),
                     KP_EINVAL);
    assert_int_equal(e.arg, 0);
    assert_int_equal(e.pos, 1);
    abi_arena_init(&a, tiny, sizeof(tiny));
    argv[0] = "7";
    assert_int_equal(abi_args_parse(&v, &a, s, s->inputs, argv, 2, &e),
                     KP_ELIMIT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_spec_dynamic),
        cmocka_unit_test(test_tuples),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_event_topic),
        cmocka_unit_test(test_sig_errors),
        cmocka_unit_test(test_text_numbers),
        cmocka_unit_test(test_text_hex_bool),
        cmocka_unit_test(test_text_strings),
        cmocka_unit_test(test_text_lists),
        cmocka_unit_test(test_format_escapes),
        cmocka_unit_test(test_encode_values),
        cmocka_unit_test(test_encode_misuse),
        cmocka_unit_test(test_encode_text_misuse),
        cmocka_unit_test(test_decode_strict),
        cmocka_unit_test(test_decode_aliasing),
        cmocka_unit_test(test_decode_call_output),
        cmocka_unit_test(test_decode_log),
        cmocka_unit_test(test_revert),
        cmocka_unit_test(test_panic_reason),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_sig_accessors),
        cmocka_unit_test(test_args_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
