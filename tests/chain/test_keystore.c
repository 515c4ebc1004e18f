/* Keystore v3: the Web3 Secret Storage spec vectors (scrypt, pbkdf2),
 * geth's test vectors (30/31-byte keys, light scrypt, address field), a
 * geth-standard-cost file (n=2^18, r=8: 256 MiB), and misuse: wrong
 * password, corrupted MAC/ciphertext, truncated and garbage JSON,
 * unsupported kdf/cipher/prf/version/dklen, hostile KDF parameters (must
 * fail fast), wrong hex lengths, duplicate keys, size caps, passwords
 * from files and the environment. The in-house scrypt fallback is checked
 * against RFC 7914 vectors and, differentially, against OpenSSL. */
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
#include "chain/hex.h"
#include "chain/keystore.h"
#include "chain/keystore_int.h"
#include "tests/support/tmp.h"

#include <openssl/evp.h>

#define SPEC_KEY                                                               \
    "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------- */

static void
vector_path(char *out, size_t cap, const char *name)
{
    const char *src = getenv("KP_SOURCE_DIR");

    snprintf(out, cap, "%s/tests/chain/vectors/keystore/%s", src ? src : ".",
             name);
}

/* Read a vector into a NUL-terminated heap buffer. */
static char *
read_vector(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf = malloc(KEYSTORE_FILE_MAX + 1);

    assert_non_null(buf);
    vector_path(path, sizeof(path), name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (is KP_SOURCE_DIR set?)", path);
    *len = fread(buf, 1, KEYSTORE_FILE_MAX, f);
    fclose(f);
    buf[*len] = 0;
    return buf;
}

static void
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void
tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void
expect_key(const uint8_t key[32], const char *hex)
{
    uint8_t want[32];

    assert_int_equal(hex_decode_exact(want, 32, hex, strlen(hex)), 0);
    assert_memory_equal(key, want, 32);
}

/* Load a vector file and expect `rc`; on success compare with `keyhex`
 * (unless NULL). The error text must be one line and free of the
 * password. */
static void
load_vector(const char *name, const char *pw, int rc, const char *keyhex)
{
    char path[512], err[256] = "";
    uint8_t key[32];

    vector_path(path, sizeof(path), name);
    memset(key, 0xaa, sizeof(key));
    assert_int_equal(keystore_load(key, err, sizeof(err), path, pw, strlen(pw)),
                     rc);
    if (rc == 0 && keyhex)
        expect_key(key, keyhex);
    if (rc != 0) {
        uint8_t untouched[32];

        memset(untouched, 0xaa, sizeof(untouched));
        assert_memory_equal(key, untouched, 32);
        assert_true(err[0] != 0);
        assert_null(strchr(err, '\n'));
        if (*pw)
            assert_null(strstr(err, pw));
    }
}

/* Replace the first occurrence of `from` in `s` by `to` (new buffer). */
static char *
replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    size_t n = strlen(s) + strlen(to) + 1;
    char *out = malloc(n);

    assert_non_null(at);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

/* Parse `json` with the default limits; return the code. */
static int
parse_str(const char *json, char *err, size_t errcap)
{
    struct keystore ks;

    return keystore_parse(&ks, err, errcap, json, strlen(json), NULL);
}

/* A light scrypt keystore with placeholders substituted. The crypto is
 * geth's "aaa" file (password "foobar"). */
static const char aaa_fmt[] =
    "{\"address\":\"f466859ead1932d743d622cb74fc058882e8648a\","
    "\"crypto\":{\"cipher\":\"%s\",\"ciphertext\":\"%s\","
    "\"cipherparams\":{\"iv\":\"%s\"},\"kdf\":\"%s\",\"kdfparams\":{%s},"
    "\"mac\":\"%s\"},\"id\":\"472e8b3d-afb6-45b5-8111-72c89895099a\","
    "\"version\":%s}";
#define AAA_CT                                                                 \
    "cb664472deacb41a2e995fa7f96fe29ce744471deb8d146a0e43c7898c9ddd4d"
#define AAA_IV "dfd9ee70812add5f4b8f89d0811c9158"
#define AAA_MAC                                                                \
    "bac9af994b15a45dd39669fc66f9aa8a3b9dd8c22cb16e4d8d7ea089d0f1a1a9"
#define AAA_SALT                                                               \
    "0d6769bf016d45c479213990d6a08d938469c4adad8a02ce507b4a4e7b7739f1"
#define AAA_KDFP                                                               \
    "\"dklen\":32,\"n\":8,\"p\":16,\"r\":8,\"salt\":\"" AAA_SALT "\""

struct fields {
    const char *cipher, *ct, *iv, *kdf, *kdfp, *mac, *version;
};

static int
parse_fields(const struct fields *f, char *err, size_t errcap)
{
    char json[4096];

    snprintf(json, sizeof(json), aaa_fmt, f->cipher ? f->cipher : "aes-128-ctr",
             f->ct ? f->ct : AAA_CT, f->iv ? f->iv : AAA_IV,
             f->kdf ? f->kdf : "scrypt", f->kdfp ? f->kdfp : AAA_KDFP,
             f->mac ? f->mac : AAA_MAC, f->version ? f->version : "3");
    return parse_str(json, err, errcap);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- scrypt ----------------------------------------------------------- */

static void
test_scrypt_rfc7914(void **state)
{
    static const char v1[] =
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
        "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906";
    static const char v2[] =
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640";
    uint8_t dk[64], want[64];

    (void)state;
    assert_int_equal(hex_decode_exact(want, 64, v1, 128), 0);
    assert_int_equal(keystore_scrypt_romix(dk, 64, "", 0, NULL, 0, 16, 1, 1),
                     0);
    assert_memory_equal(dk, want, 64);
    assert_int_equal(keystore_scrypt(dk, 64, "", 0, NULL, 0, 16, 1, 1), 0);
    assert_memory_equal(dk, want, 64);
    assert_int_equal(hex_decode_exact(want, 64, v2, 128), 0);
    assert_int_equal(keystore_scrypt_romix(dk, 64, "password", 8,
                                           (const uint8_t *)"NaCl", 4, 1024, 8,
                                           16),
                     0);
    assert_memory_equal(dk, want, 64);
}

static void
test_scrypt_romix_matches_openssl(void **state)
{
    static const uint32_t rs[] = {1, 2, 3, 8};
    static const uint64_t ns[] = {2, 4, 16, 256, 1024};
    uint8_t salt[32], a[32], b[32];

    (void)state;
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)(i * 29 + 3);
    for (size_t ri = 0; ri < 4; ri++)
        for (size_t ni = 0; ni < 5; ni++)
            for (uint32_t p = 1; p <= 3; p++) {
                assert_true(keystore_scrypt_openssl_ok(ns[ni], rs[ri]));
                assert_int_equal(keystore_scrypt_romix(a, 32, "pw", 2, salt,
                                                       sizeof(salt), ns[ni],
                                                       rs[ri], p),
                                 0);
                assert_int_equal(EVP_PBE_scrypt("pw", 2, salt, sizeof(salt),
                                                ns[ni], rs[ri], p, 0, b, 32),
                                 1);
                assert_memory_equal(a, b, 32);
            }
    /* The rule OpenSSL enforces and geth does not: n < 2^(16r). */
    assert_true(keystore_scrypt_openssl_ok(UINT64_C(1) << 15, 1));
    assert_false(keystore_scrypt_openssl_ok(UINT64_C(1) << 16, 1));
    assert_false(keystore_scrypt_openssl_ok(UINT64_C(1) << 18, 1));
    assert_true(keystore_scrypt_openssl_ok(UINT64_C(1) << 20, 2));
    assert_true(keystore_scrypt_openssl_ok(UINT64_C(1) << 20, 8));
}

/* ---- known answers ------------------------------------------------- */

static void
test_spec_pbkdf2(void **state)
{
    (void)state;
    load_vector("spec_pbkdf2.json", "testpassword", 0, SPEC_KEY);
}

static void
test_spec_scrypt(void **state)
{
    (void)state;
    /* n=2^18 with r=1: OpenSSL refuses it (n >= 2^(16r)); the in-house
     * ROMix handles it, as geth does. */
    load_vector("spec_scrypt.json", "testpassword", 0, SPEC_KEY);
}

static void
test_geth_short_keys(void **state)
{
    (void)state;
    /* Ciphertexts of 31 and 30 bytes decrypt to keys with leading zeros. */
    load_vector(
        "geth_31_byte_key.json", "foo", 0,
        "00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35");
    load_vector(
        "geth_30_byte_key.json", "foo", 0,
        "000081c29e8142bb6a81bef5a92bda7a8328a5c85bb2f9542e76f9b0f94fc018");
}

static void
test_geth_address_field(void **state)
{
    struct keystore ks;
    char err[256];
    size_t len;
    char *json = read_vector("geth_aaa.json", &len);
    uint8_t want[20];

    (void)state;
    /* These files name their address, which keystore_decrypt checks: a
     * success proves the decrypted key is the one the file names. */
    load_vector("geth_very_light_scrypt.json", "", 0, NULL);
    load_vector("geth_aaa.json", "foobar", 0, NULL);
    load_vector("geth_zzz.json", "foobar", 0, NULL);
    assert_int_equal(keystore_parse(&ks, err, sizeof(err), json, len, NULL), 0);
    assert_true(ks.has_address);
    assert_int_equal(
        hex_decode_exact(want, 20, "f466859ead1932d743d622cb74fc058882e8648a",
                         40),
        0);
    assert_memory_equal(ks.address, want, 20);
    assert_int_equal(ks.kdf, KEYSTORE_KDF_SCRYPT);
    assert_int_equal(ks.n, 8);
    assert_int_equal(ks.r, 8);
    assert_int_equal(ks.p, 16);
    assert_int_equal(ks.saltlen, 32);
    assert_int_equal(ks.ctlen, 32);
    free(json);
}

static void
test_geth_standard_cost(void **state)
{
    (void)state;
    /* n=2^18 r=8 needs 256 MiB: above OpenSSL's default scrypt memory
     * limit, inside ours. */
    load_vector(
        "standard_n262144_r8.json", "keeper-standard-vector", 0,
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
}

static void
test_crypto_capitalised(void **state)
{
    size_t len;
    char *json = read_vector("geth_very_light_scrypt.json", &len);
    char *upper = replace(json, "\"crypto\"", "\"Crypto\"");
    char *both = replace(json, "\"id\"", "\"Crypto\":{},\"id\"");
    struct keystore ks;
    uint8_t key[32];
    char err[256];

    (void)state;
    assert_int_equal(
        keystore_parse(&ks, err, sizeof(err), upper, strlen(upper), NULL), 0);
    assert_int_equal(keystore_decrypt(key, err, sizeof(err), &ks, "", 0), 0);
    assert_int_equal(parse_str(both, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "Crypto"));
    free(json);
    free(upper);
    free(both);
}

/* ---- misuse: passwords, MAC, address --------------------------------- */

static void
test_wrong_password(void **state)
{
    (void)state;
    load_vector("geth_aaa.json", "foobaR", KP_ECHECKSUM, NULL);
    load_vector("geth_aaa.json", "", KP_ECHECKSUM, NULL);
    load_vector("geth_very_light_scrypt.json", "bad", KP_ECHECKSUM, NULL);
    load_vector("geth_31_byte_key.json", "foo\n", KP_ECHECKSUM, NULL);
    load_vector("spec_pbkdf2.json", "testpasswor", KP_ECHECKSUM, NULL);
}

static void
test_corrupted_mac_and_ciphertext(void **state)
{
    struct keystore ks, bad;
    size_t len;
    char *json = read_vector("geth_aaa.json", &len);
    uint8_t key[32];
    char err[256];

    (void)state;
    assert_int_equal(keystore_parse(&ks, err, sizeof(err), json, len, NULL), 0);
    for (size_t i = 0; i < 32; i += 7) {
        bad = ks;
        bad.mac[i] ^= 0x01;
        assert_int_equal(
            keystore_decrypt(key, err, sizeof(err), &bad, "foobar", 6),
            KP_ECHECKSUM);
        assert_non_null(strstr(err, "MAC"));
        bad = ks;
        bad.ciphertext[i] ^= 0x80;
        assert_int_equal(
            keystore_decrypt(key, err, sizeof(err), &bad, "foobar", 6),
            KP_ECHECKSUM);
        bad = ks;
        bad.salt[i] ^= 0x01;
        assert_int_equal(
            keystore_decrypt(key, err, sizeof(err), &bad, "foobar", 6),
            KP_ECHECKSUM);
    }
    /* The IV is not covered by the MAC: a flipped IV decrypts to another
     * key, which the address field then rejects. */
    bad = ks;
    bad.iv[15] ^= 0x01;
    assert_int_equal(keystore_decrypt(key, err, sizeof(err), &bad, "foobar", 6),
                     KP_ECHECKSUM);
    assert_non_null(strstr(err, "address"));
    assert_int_equal(keystore_decrypt(key, err, sizeof(err), &ks, "foobar", 6),
                     0);
    free(json);
}

static void
test_address_mismatch(void **state)
{
    (void)state;
    /* geth's "zero" file: aaa's crypto under an all-zero address. */
    load_vector("geth_zero_address.json", "foobar", KP_ECHECKSUM, NULL);
}

/* ---- misuse: JSON shape --------------------------------------------- */

static void
test_truncated_json(void **state)
{
    size_t len;
    char *json = read_vector("geth_aaa.json", &len);
    struct keystore ks;
    char err[256];

    (void)state;
    /* Every strict prefix is invalid; none may crash. */
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(
            keystore_parse(&ks, err, sizeof(err), json, n, NULL), 0);
    assert_int_equal(keystore_parse(&ks, err, sizeof(err), json, len, NULL), 0);
    free(json);
}

static void
test_garbage_json(void **state)
{
    static const char *const bad[] = {
        "",
        "null",
        "[]",
        "3",
        "\"x\"",
        "{",
        "{}",
        "{\"version\":3}",
        "{\"version\":3,\"crypto\":[]}",
        "{\"version\":3,\"crypto\":{}}",
        "\xff\xfe\x00garbage",
        "{\"version\":\"3\",\"crypto\":{}}",
        "{\"version\":3,\"crypto\":{\"kdf\":7}}",
    };
    uint8_t rnd[512];
    struct keystore ks;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse_str(bad[i], err, sizeof(err));

        assert_true(rc == KP_EINVAL || rc == KP_EUNSUPPORTED);
        assert_null(strchr(err, '\n'));
    }
    srand(42);
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (uint8_t)rand();
        assert_int_not_equal(keystore_parse(&ks, err, sizeof(err),
                                            (const char *)rnd, sizeof(rnd),
                                            NULL),
                             0);
    }
}

static void
test_types_and_duplicates(void **state)
{
    struct fields f = {0};
    char err[256];
    char *json, *dup;
    size_t len;

    (void)state;
    f.kdfp =
        "\"dklen\":32,\"n\":\"8\",\"p\":16,\"r\":8,\"salt\":\"" AAA_SALT "\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "crypto.kdfparams.n"));
    f.kdfp = "\"dklen\":32,\"n\":8,\"p\":16,\"r\":8";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "missing crypto.kdfparams.salt"));
    f.kdfp =
        "\"dklen\":32,\"n\":8,\"n\":8,\"p\":16,\"r\":8,\"salt\":\"" AAA_SALT
        "\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "duplicate"));
    /* A duplicate "mac" could mean two things to two parsers. */
    json = read_vector("geth_aaa.json", &len);
    dup = replace(json, "\"mac\"", "\"mac\":\"00\",\"mac\"");
    assert_int_equal(parse_str(dup, err, sizeof(err)), KP_EINVAL);
    free(dup);
    dup = replace(json, "\"version\":3", "\"version\":3.5");
    assert_int_equal(parse_str(dup, err, sizeof(err)), KP_EINVAL);
    free(dup);
    dup = replace(json, "\"address\":\"f4", "\"address\":\"zz");
    assert_int_equal(parse_str(dup, err, sizeof(err)), KP_EINVAL);
    free(dup);
    free(json);
}

static void
test_unsupported(void **state)
{
    struct fields f = {0};
    char err[256];

    (void)state;
    f.kdf = "argon2id";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    assert_non_null(strstr(err, "kdf"));
    f.kdf = NULL;
    f.cipher = "aes-128-cbc";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    assert_non_null(strstr(err, "cipher"));
    /* Echoed input stays one printable line, and short. */
    f.cipher = "aes\\n128\\u001b[31m-ctr-and-a-very-long-tail-0123456789";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    assert_null(strchr(err, '\n'));
    assert_null(strchr(err, 0x1b));
    assert_non_null(strstr(err, "aes?128?[31m-ctr"));
    assert_non_null(strstr(err, "..."));
    assert_null(strstr(err, "0123456789"));
    f.cipher = NULL;
    f.version = "1";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    f.version = "1e30";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    f.version = NULL;
    f.kdfp = "\"dklen\":64,\"n\":8,\"p\":16,\"r\":8,\"salt\":\"" AAA_SALT "\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    assert_non_null(strstr(err, "dklen"));
    f.kdf = "pbkdf2";
    f.kdfp =
        "\"dklen\":32,\"c\":1024,\"prf\":\"hmac-sha512\",\"salt\":\"" AAA_SALT
        "\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EUNSUPPORTED);
    assert_non_null(strstr(err, "prf"));
    /* The same with the right prf parses (then fails its MAC). */
    f.kdfp =
        "\"dklen\":32,\"c\":1024,\"prf\":\"hmac-sha256\",\"salt\":\"" AAA_SALT
        "\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), 0);
}

/* ---- misuse: hostile KDF parameters ---------------------------------- */

static void
expect_kdfp(const char *kdf, const char *kdfp, int rc)
{
    struct fields f = {.kdf = kdf, .kdfp = kdfp};
    char err[256] = "";

    assert_int_equal(parse_fields(&f, err, sizeof(err)), rc);
    if (rc == KP_ELIMIT)
        assert_non_null(strstr(err, "limit"));
}

#define SALT ",\"salt\":\"" AAA_SALT "\""

static void
test_hostile_kdf_params(void **state)
{
    double t0 = now_s();

    (void)state;
    /* Memory: n=2^30 r=8 would be 1 TiB; n=2^20 r=8 1 GiB. */
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":1073741824,\"r\":8,\"p\":1" SALT,
                KP_ELIMIT);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":1048576,\"r\":8,\"p\":1" SALT,
                KP_ELIMIT);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":1e300,\"r\":8,\"p\":1" SALT,
                KP_ELIMIT);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":16,\"r\":4096,\"p\":1" SALT,
                KP_ELIMIT);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":16,\"r\":8,\"p\":1000000" SALT,
                KP_ELIMIT);
    /* CPU: 2^20 * 1 * 16 = 2^24 > 2^23 even though memory is 128 MiB. */
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":1048576,\"r\":1,\"p\":16" SALT,
                KP_ELIMIT);
    expect_kdfp("pbkdf2",
                "\"dklen\":32,\"c\":2147483648,\"prf\":\"hmac-sha256\"" SALT,
                KP_ELIMIT);
    expect_kdfp("pbkdf2",
                "\"dklen\":32,\"c\":4194305,\"prf\":\"hmac-sha256\"" SALT,
                KP_ELIMIT);
    /* Malformed rather than too big. */
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":3,\"r\":8,\"p\":1" SALT,
                KP_EINVAL);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":1,\"r\":8,\"p\":1" SALT,
                KP_EINVAL);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":0,\"r\":8,\"p\":1" SALT,
                KP_EINVAL);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":-16,\"r\":8,\"p\":1" SALT,
                KP_EINVAL);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":16.5,\"r\":8,\"p\":1" SALT,
                KP_EINVAL);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":16,\"r\":0,\"p\":1" SALT,
                KP_EINVAL);
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":16,\"r\":8,\"p\":0" SALT,
                KP_EINVAL);
    expect_kdfp("pbkdf2", "\"dklen\":32,\"c\":0,\"prf\":\"hmac-sha256\"" SALT,
                KP_EINVAL);
    /* At the caps: accepted (parse only, the KDF is not run). */
    expect_kdfp("scrypt", "\"dklen\":32,\"n\":1048576,\"r\":4,\"p\":2" SALT, 0);
    expect_kdfp("pbkdf2",
                "\"dklen\":32,\"c\":4194304,\"prf\":\"hmac-sha256\"" SALT, 0);
    /* Refusals happen before any work: all of the above in well under a
     * second even under ASan. */
    assert_true(now_s() - t0 < 1.0);
}

static void
test_custom_limits(void **state)
{
    struct keystore_limits lim = keystore_default_limits;
    struct keystore ks;
    size_t len;
    char *json = read_vector("standard_n262144_r8.json", &len);
    char err[256];

    (void)state;
    assert_int_equal(keystore_parse(&ks, err, sizeof(err), json, len, &lim), 0);
    lim.scrypt_max_mem = 128u << 20;
    assert_int_equal(keystore_parse(&ks, err, sizeof(err), json, len, &lim),
                     KP_ELIMIT);
    assert_non_null(strstr(err, "MiB"));
    free(json);
}

/* ---- misuse: hex lengths -------------------------------------------- */

static void
test_hex_lengths(void **state)
{
    struct fields f = {0};
    char err[256];

    (void)state;
    f.iv = "dfd9ee70812add5f4b8f89d0811c91";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "iv"));
    f.iv = "dfd9ee70812add5f4b8f89d0811c915800";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    f.iv = "dfd9ee70812add5f4b8f89d0811c915";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    f.iv = "dfd9ee70812add5f4b8f89d0811c915g";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    f.iv = "0xdfd9ee70812add5f4b8f89d0811c9158";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), 0);
    f.iv = NULL;
    f.mac = "bac9af994b15a45dd39669fc66f9aa8a3b9dd8c22cb16e4d8d7ea089d0f1a1";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "mac"));
    f.mac = NULL;
    f.ct = AAA_CT "00";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "ciphertext"));
    f.ct = "";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    f.ct = NULL;
    f.kdfp = "\"dklen\":32,\"n\":8,\"p\":16,\"r\":8,\"salt\":\"\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "salt"));
    f.kdfp =
        "\"dklen\":32,\"n\":8,\"p\":16,\"r\":8,\"salt\":\"" AAA_SALT AAA_SALT
        "00\"";
    assert_int_equal(parse_fields(&f, err, sizeof(err)), KP_EINVAL);
}

static void
test_short_address_field(void **state)
{
    size_t len;
    char *json = read_vector("geth_aaa.json", &len);
    char *bad = replace(json, "f466859ead1932d743d622cb74fc058882e8648a",
                        "f466859ead1932d743d622cb74fc058882e864");
    char err[256];

    (void)state;
    assert_int_equal(parse_str(bad, err, sizeof(err)), KP_EINVAL);
    assert_non_null(strstr(err, "address"));
    free(bad);
    free(json);
}

/* ---- files and caps ------------------------------------------------- */

static void
test_file_errors(void **state)
{
    char path[512], err[256];
    uint8_t key[32];
    char *big;
    size_t len;
    char *json = read_vector("geth_aaa.json", &len);
    struct keystore ks;

    (void)state;
    tmp_path(path, sizeof(path), "missing.json");
    assert_int_equal(keystore_load(key, err, sizeof(err), path, "x", 1),
                     KP_EIO);
    assert_non_null(strstr(err, path));
    assert_int_equal(keystore_load(key, err, sizeof(err), tmpdir, "x", 1),
                     KP_EIO);
    /* A valid keystore padded with whitespace past the cap. */
    big = malloc(KEYSTORE_FILE_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', KEYSTORE_FILE_MAX + 1);
    memcpy(big, json, len);
    tmp_path(path, sizeof(path), "big.json");
    write_file(path, big, KEYSTORE_FILE_MAX + 1, 0600);
    assert_int_equal(keystore_load(key, err, sizeof(err), path, "foobar", 6),
                     KP_ELIMIT);
    assert_int_equal(
        keystore_parse(&ks, err, sizeof(err), big, KEYSTORE_FILE_MAX + 1, NULL),
        KP_ELIMIT);
    /* Exactly at the cap: accepted. */
    write_file(path, big, KEYSTORE_FILE_MAX, 0600);
    assert_int_equal(keystore_load(key, err, sizeof(err), path, "foobar", 6),
                     0);
    unlink(path);
    /* err may be omitted. */
    assert_int_equal(keystore_load(key, NULL, 0, tmpdir, "x", 1), KP_EIO);
    free(big);
    free(json);
}

/* ---- passwords ------------------------------------------------------- */

static void
expect_pw_file(const char *content, size_t clen, size_t cap, int rc,
               const char *want, size_t wantlen)
{
    char path[512], pw[64], err[256];
    size_t pwlen = 99;

    tmp_path(path, sizeof(path), "pw");
    write_file(path, content, clen, 0600);
    assert_true(cap <= sizeof(pw));
    assert_int_equal(
        keystore_password_file(pw, cap, &pwlen, err, sizeof(err), path), rc);
    if (rc == 0) {
        assert_int_equal(pwlen, wantlen);
        assert_memory_equal(pw, want, wantlen);
    } else {
        assert_int_equal(pwlen, 0);
    }
    unlink(path);
}

static void
test_password_file(void **state)
{
    char path[512], pw[16], err[256];
    size_t pwlen;

    (void)state;
    expect_pw_file("hunter2\n", 8, 64, 0, "hunter2", 7);
    expect_pw_file("hunter2", 7, 64, 0, "hunter2", 7);
    expect_pw_file("hunter2\r\n", 9, 64, 0, "hunter2", 7);
    expect_pw_file("hunter2\n\n", 9, 64, 0, "hunter2\n", 8);
    expect_pw_file(" pass word \n", 12, 64, 0, " pass word ", 11);
    expect_pw_file("", 0, 64, 0, "", 0);
    expect_pw_file("\n", 1, 64, 0, "", 0);
    expect_pw_file("a\0b\n", 4, 64, 0, "a\0b", 3);
    expect_pw_file("12345678", 8, 8, 0, "12345678", 8);
    expect_pw_file("12345678\n", 9, 8, KP_ELIMIT, NULL, 0);
    tmp_path(path, sizeof(path), "no-such-pw");
    assert_int_equal(
        keystore_password_file(pw, sizeof(pw), &pwlen, err, sizeof(err), path),
        KP_EIO);
    assert_non_null(strstr(err, "password file"));
    assert_int_equal(keystore_password_file(pw, sizeof(pw), &pwlen, err,
                                            sizeof(err), tmpdir),
                     KP_EIO);
}

static void
test_password_env(void **state)
{
    char pw[16], err[256];
    size_t pwlen;

    (void)state;
    setenv("KP_TEST_KS_PW", "foobar\n", 1);
    assert_int_equal(keystore_password_env(pw, sizeof(pw), &pwlen, err,
                                           sizeof(err), "KP_TEST_KS_PW"),
                     0);
    /* Taken as is: the newline stays. */
    assert_int_equal(pwlen, 7);
    assert_memory_equal(pw, "foobar\n", 7);
    setenv("KP_TEST_KS_PW", "", 1);
    assert_int_equal(keystore_password_env(pw, sizeof(pw), &pwlen, err,
                                           sizeof(err), "KP_TEST_KS_PW"),
                     0);
    assert_int_equal(pwlen, 0);
    setenv("KP_TEST_KS_PW", "0123456789abcdefX", 1);
    assert_int_equal(keystore_password_env(pw, sizeof(pw), &pwlen, err,
                                           sizeof(err), "KP_TEST_KS_PW"),
                     KP_ELIMIT);
    assert_null(strstr(err, "0123456789"));
    unsetenv("KP_TEST_KS_PW");
    assert_int_equal(keystore_password_env(pw, sizeof(pw), &pwlen, err,
                                           sizeof(err), "KP_TEST_KS_PW"),
                     KP_ENOTFOUND);
    assert_non_null(strstr(err, "KP_TEST_KS_PW"));
    assert_int_equal(
        keystore_password_env(pw, sizeof(pw), &pwlen, err, sizeof(err), ""),
        KP_EINVAL);
}

static int
setup(void **state)
{
    (void)state;
    return ts_tmpdir_make(tmpdir, sizeof(tmpdir), "keystore");
}

static int
teardown(void **state)
{
    (void)state;
    /* rmdir, not ts_tmpdir_remove: a test that leaves a file behind
     * fails here. */
    return rmdir(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrypt_rfc7914),
        cmocka_unit_test(test_scrypt_romix_matches_openssl),
        cmocka_unit_test(test_spec_pbkdf2),
        cmocka_unit_test(test_spec_scrypt),
        cmocka_unit_test(test_geth_short_keys),
        cmocka_unit_test(test_geth_address_field),
        cmocka_unit_test(test_geth_standard_cost),
        cmocka_unit_test(test_crypto_capitalised),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_corrupted_mac_and_ciphertext),
        cmocka_unit_test(test_address_mismatch),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_garbage_json),
        cmocka_unit_test(test_types_and_duplicates),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_hostile_kdf_params),
        cmocka_unit_test(test_custom_limits),
        cmocka_unit_test(test_hex_lengths),
        cmocka_unit_test(test_short_address_field),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_password_file),
        cmocka_unit_test(test_password_env),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
