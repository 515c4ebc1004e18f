/* Signer: keys from a keystore (password file or variable), a raw key file
 * (mode checked) or the environment (warned); known-answer signatures
 * (cast wallet sign --no-hash with anvil's dev key #0), recovery of the
 * signer's address, low-s; misuse of every entry point; and the locked
 * memory holder (secmem): zeroed, excluded from core dumps, guarded. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/capability.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/keccak.h"
#include "chain/keyfile.h"
#include "chain/secmem.h"
#include "chain/signer.h"
#include "tests/support/tmp.h"

/* anvil's well-known dev account #0 (public test key). */
#define DEV0_KEY                                                               \
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define DEV0_ADDR "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"

static char tmpdir[256];

static void
tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const char *data, mode_t mode)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fputs(data, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void
vector_path(char *out, size_t cap, const char *name)
{
    const char *src = getenv("KP_SOURCE_DIR");

    snprintf(out, cap, "%s/tests/chain/vectors/keystore/%s", src ? src : ".",
             name);
}

static void
expect_address(const struct signer *s, const char *hex40)
{
    struct eth_addr got = signer_address(s);
    uint8_t want[20];

    assert_int_equal(hex_decode_exact(want, 20, hex40, 40), 0);
    assert_memory_equal(got.b, want, 20);
}

/* Error texts are one line and never carry the secret. */
static void
expect_clean_err(const char *err, const char *secret)
{
    assert_true(err[0] != 0);
    assert_null(strchr(err, '\n'));
    if (secret)
        assert_null(strstr(err, secret));
}

/* ---- sources ---------------------------------------------------------- */

static void
test_key_file(void **state)
{
    struct signer *s = NULL;
    char path[512], err[256] = "";
    unsigned warn = 99;

    (void)state;
    tmp_path(path, sizeof(path), "key");
    write_file(path, "0x" DEV0_KEY "\n", 0600);
    assert_int_equal(
        signer_new_from_key_file(&s, &warn, err, sizeof(err), path), 0);
    assert_non_null(s);
    expect_address(s, DEV0_ADDR);
    assert_int_equal(signer_source(s), SIGNER_SRC_KEY_FILE);
    assert_int_equal(warn & SIGNER_WARN_ENV_KEY, 0);
    signer_free(s);
    unlink(path);
}

static void
test_key_file_mode_too_open(void **state)
{
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660};
    struct signer *s = (struct signer *)&s;
    char path[512], err[256];

    (void)state;
    tmp_path(path, sizeof(path), "key-open");
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        write_file(path, DEV0_KEY, modes[i]);
        assert_int_equal(
            signer_new_from_key_file(&s, NULL, err, sizeof(err), path),
            KP_EPERM);
        assert_null(s);
        expect_clean_err(err, DEV0_KEY);
        assert_non_null(strstr(err, "chmod"));
    }
    unlink(path);
    assert_int_equal(signer_new_from_key_file(&s, NULL, err, sizeof(err), path),
                     KP_EIO);
    /* Not a key: hex of the wrong length, zero, the curve order. */
    write_file(path, DEV0_KEY "00", 0600);
    assert_int_equal(signer_new_from_key_file(&s, NULL, err, sizeof(err), path),
                     KP_EINVAL);
    write_file(
        path,
        "0000000000000000000000000000000000000000000000000000000000000000",
        0600);
    assert_int_equal(signer_new_from_key_file(&s, NULL, err, sizeof(err), path),
                     KP_ECRYPTO);
    write_file(
        path,
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        0600);
    assert_int_equal(signer_new_from_key_file(&s, NULL, err, sizeof(err), path),
                     KP_ECRYPTO);
    unlink(path);
}

static void
test_env_key(void **state)
{
    struct signer *s = NULL;
    char err[256];
    unsigned warn = 0;

    (void)state;
    setenv("KP_TEST_SIGNER_KEY", DEV0_KEY, 1);
    assert_int_equal(
        signer_new_from_env(&s, &warn, err, sizeof(err), "KP_TEST_SIGNER_KEY"),
        0);
    expect_address(s, DEV0_ADDR);
    assert_int_equal(signer_source(s), SIGNER_SRC_ENV);
    assert_true(warn & SIGNER_WARN_ENV_KEY);
    signer_free(s);
    /* NULL name: the standard KEEPER_PRIVATE_KEY. */
    setenv(KEYFILE_ENV, "0x" DEV0_KEY, 1);
    assert_int_equal(signer_new_from_env(&s, &warn, err, sizeof(err), NULL), 0);
    expect_address(s, DEV0_ADDR);
    signer_free(s);
    unsetenv(KEYFILE_ENV);
    assert_int_equal(signer_new_from_env(&s, &warn, err, sizeof(err), NULL),
                     KP_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err, KEYFILE_ENV));
    setenv("KP_TEST_SIGNER_KEY", DEV0_KEY "0", 1);
    warn = 0;
    assert_int_equal(
        signer_new_from_env(&s, &warn, err, sizeof(err), "KP_TEST_SIGNER_KEY"),
        KP_EINVAL);
    assert_null(s);
    assert_int_equal(warn & SIGNER_WARN_ENV_KEY, 0);
    expect_clean_err(err, DEV0_KEY);
    setenv("KP_TEST_SIGNER_KEY",
           "0000000000000000000000000000000000000000000000000000000000000000",
           1);
    assert_int_equal(
        signer_new_from_env(&s, &warn, err, sizeof(err), "KP_TEST_SIGNER_KEY"),
        KP_ECRYPTO);
    unsetenv("KP_TEST_SIGNER_KEY");
}

static void
test_keystore_password_file(void **state)
{
    struct signer *s = NULL;
    char ks[512], pw[512], err[256];

    (void)state;
    vector_path(ks, sizeof(ks), "geth_aaa.json");
    tmp_path(pw, sizeof(pw), "pw");
    write_file(pw, "foobar\n", 0600);
    assert_int_equal(signer_new_from_keystore(&s, NULL, err, sizeof(err), ks,
                                              SIGNER_PW_FILE, pw),
                     0);
    expect_address(s, "f466859ead1932d743d622cb74fc058882e8648a");
    assert_int_equal(signer_source(s), SIGNER_SRC_KEYSTORE);
    signer_free(s);
    write_file(pw, "foobar\n\n", 0600);
    assert_int_equal(signer_new_from_keystore(&s, NULL, err, sizeof(err), ks,
                                              SIGNER_PW_FILE, pw),
                     KP_ECHECKSUM);
    assert_null(s);
    expect_clean_err(err, "foobar");
    unlink(pw);
    assert_int_equal(signer_new_from_keystore(&s, NULL, err, sizeof(err), ks,
                                              SIGNER_PW_FILE, pw),
                     KP_EIO);
}

static void
test_keystore_password_env(void **state)
{
    struct signer *s = NULL;
    char ks[512], err[256];
    unsigned warn = 0;

    (void)state;
    vector_path(ks, sizeof(ks), "geth_zzz.json");
    setenv("KP_TEST_SIGNER_PW", "foobar", 1);
    assert_int_equal(signer_new_from_keystore(&s, &warn, err, sizeof(err), ks,
                                              SIGNER_PW_ENV,
                                              "KP_TEST_SIGNER_PW"),
                     0);
    expect_address(s, "289d485d9771714cce91d3393d764e1311907acc");
    assert_int_equal(warn & SIGNER_WARN_ENV_KEY, 0);
    signer_free(s);
    setenv("KP_TEST_SIGNER_PW", "wrong", 1);
    assert_int_equal(signer_new_from_keystore(&s, NULL, err, sizeof(err), ks,
                                              SIGNER_PW_ENV,
                                              "KP_TEST_SIGNER_PW"),
                     KP_ECHECKSUM);
    unsetenv("KP_TEST_SIGNER_PW");
    assert_int_equal(signer_new_from_keystore(&s, NULL, err, sizeof(err), ks,
                                              SIGNER_PW_ENV,
                                              "KP_TEST_SIGNER_PW"),
                     KP_ENOTFOUND);
    /* Keystore with a 31-byte ciphertext (leading zero byte of the key). */
    vector_path(ks, sizeof(ks), "geth_31_byte_key.json");
    setenv("KP_TEST_SIGNER_PW", "foo", 1);
    assert_int_equal(signer_new_from_keystore(&s, NULL, err, sizeof(err), ks,
                                              SIGNER_PW_ENV,
                                              "KP_TEST_SIGNER_PW"),
                     0);
    expect_address(s, "d1e64e5480bfaf733ba7d48712decb8227797a4e");
    signer_free(s);
    unsetenv("KP_TEST_SIGNER_PW");
}

static void
test_open_misuse(void **state)
{
    struct signer_opts o;
    struct signer *s = NULL;
    char ks[512], err[256];

    (void)state;
    vector_path(ks, sizeof(ks), "geth_aaa.json");
    memset(&o, 0, sizeof(o));
    assert_int_equal(signer_open(&s, NULL, err, sizeof(err), &o), KP_EINVAL);
    assert_null(s);
    o.source = SIGNER_SRC_KEYSTORE;
    assert_int_equal(signer_open(&s, NULL, err, sizeof(err), &o), KP_EINVAL);
    o.path = ks;
    assert_int_equal(signer_open(&s, NULL, err, sizeof(err), &o), KP_EINVAL);
    assert_non_null(strstr(err, "password"));
    o.pw_ref = "KP_TEST_UNSET_PW";
    assert_int_equal(signer_open(&s, NULL, err, sizeof(err), &o), KP_EINVAL);
    o.pw_source = SIGNER_PW_ENV;
    assert_int_equal(signer_open(&s, NULL, err, sizeof(err), &o), KP_ENOTFOUND);
    memset(&o, 0, sizeof(o));
    o.source = SIGNER_SRC_KEY_FILE;
    assert_int_equal(signer_open(&s, NULL, err, sizeof(err), &o), KP_EINVAL);
    /* Keystore given as a key file and vice versa. */
    o.path = ks;
    assert_int_equal(signer_open(&s, NULL, NULL, 0, &o) < 0, 1);
    assert_null(s);
    signer_free(NULL);
}

/* ---- signing ----------------------------------------------------------- */

static struct signer *
dev0_signer(void)
{
    struct signer *s = NULL;
    char err[256];

    setenv("KP_TEST_SIGNER_KEY", DEV0_KEY, 1);
    assert_int_equal(
        signer_new_from_env(&s, NULL, err, sizeof(err), "KP_TEST_SIGNER_KEY"),
        0);
    unsetenv("KP_TEST_SIGNER_KEY");
    return s;
}

static void
test_sign_known_answers(void **state)
{
    /* cast wallet sign --no-hash --private-key DEV0 DIGEST -> r||s||v. */
    static const struct {
        const char *digest, *sig;
    } kat[] = {
        {"7828e9d3df82e69351d51b8c7a93dbe8a71fecfc70c9ab6c998b4a0105e7f8a7",
         "b0609135eb8c1d4ba5a53f2ece971bab6fb952299095ccb0762cf0f48079f2d3"
         "064c4331542d26cdff531163ccccc3d161ee4d79be70a629110760a7422ca9ae1b"},
        {"0000000000000000000000000000000000000000000000000000000000000001",
         "a60a6906512e182138437a161eebd743f725438c71210b926fcd721b9a7c4bfa"
         "151b0de4e4103d8b44f1539c214dc5b85a2c217c93d3f3c69dd7f9d0a93ac3061c"},
    };
    /* Not compared: digests >= n (e.g. all ff). libsecp256k1 feeds the
     * unreduced digest to RFC 6979, cast reduces it first, so the nonces
     * differ; both signatures are valid (see the recovery test). A keccak
     * output is >= n with probability ~2^-128. */
    struct signer *s = dev0_signer();
    struct eth_sig sig;
    uint8_t digest[32], want[65];

    (void)state;
    /* keccak("keeper") is the first digest. */
    keccak256(digest, (const uint8_t *)"keeper", 6);
    assert_int_equal(hex_decode_exact(want, 32, kat[0].digest, 64), 0);
    assert_memory_equal(digest, want, 32);
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        assert_int_equal(hex_decode_exact(digest, 32, kat[i].digest, 64), 0);
        assert_int_equal(hex_decode_exact(want, 65, kat[i].sig, 130), 0);
        assert_int_equal(signer_sign_digest(s, &sig, digest), 0);
        assert_memory_equal(sig.r, want, 32);
        assert_memory_equal(sig.s, want + 32, 32);
        assert_int_equal(sig.y_parity + 27, want[64]);
    }
    signer_free(s);
}

/* Recover the address from (digest, sig) with libsecp256k1 directly,
 * independently of ecdsa_recover. */
static void
recover_address(uint8_t addr[20], const struct eth_sig *sig,
                const uint8_t digest[32])
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pub;
    uint8_t compact[64], ser[65], h[32];
    size_t serlen = sizeof(ser);

    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    assert_int_equal(secp256k1_ecdsa_recoverable_signature_parse_compact(
                         ctx, &rs, compact, sig->y_parity),
                     1);
    assert_int_equal(secp256k1_ecdsa_recover(ctx, &pub, &rs, digest), 1);
    secp256k1_ec_pubkey_serialize(ctx, ser, &serlen, &pub,
                                  SECP256K1_EC_UNCOMPRESSED);
    keccak256(h, ser + 1, 64);
    memcpy(addr, h + 12, 20);
    secp256k1_context_destroy(ctx);
}

static void
test_sign_recovers_and_low_s(void **state)
{
    /* n/2, big-endian: s must not exceed it (EIP-2). */
    static const char half_n[] =
        "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
    struct signer *s = dev0_signer();
    struct eth_sig sig, again;
    struct eth_addr mine = signer_address(s);
    uint8_t digest[32], addr[20], half[32];

    (void)state;
    assert_int_equal(hex_decode_exact(half, 32, half_n, 64), 0);
    for (uint32_t i = 0; i < 66; i++) {
        keccak256(digest, (const uint8_t *)&i, sizeof(i));
        if (i >= 64) /* extremes: all zero, all ff (>= n) */
            memset(digest, i == 64 ? 0x00 : 0xff, sizeof(digest));
        assert_int_equal(signer_sign_digest(s, &sig, digest), 0);
        assert_true(sig.y_parity == 0 || sig.y_parity == 1);
        assert_true(memcmp(sig.s, half, 32) <= 0);
        recover_address(addr, &sig, digest);
        assert_memory_equal(addr, mine.b, 20);
        /* RFC 6979: deterministic. */
        assert_int_equal(signer_sign_digest(s, &again, digest), 0);
        assert_memory_equal(&again, &sig, sizeof(sig));
    }
    signer_free(s);
}

/* ---- secmem ----------------------------------------------------------- */

/* The VmFlags line of the /proc/self/smaps entry holding `p`. */
static bool
vmflags_of(const void *p, char *flags, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    bool inside = false;
    unsigned long lo, hi, a = (unsigned long)(uintptr_t)p;

    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') &&
            line[0] != 'V')
            inside = a >= lo && a < hi;
        else if (inside && !strncmp(line, "VmFlags:", 8)) {
            snprintf(flags, cap, "%s", line + 8);
            fclose(f);
            return true;
        }
    }
    fclose(f);
    return false;
}

static void
test_secmem(void **state)
{
    struct secmem *m;
    bool warn = true;
    unsigned char *d;
    char flags[256];

    (void)state;
    m = secmem_new(100, &warn);
    assert_int_equal(secmem_len(m), 100);
    d = secmem_data(m);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(d[i], 0);
    memset(d, 0x5a, 100);
    /* Left out of core dumps ("dd"); locked ("lo") when mlock worked. */
    assert_true(vmflags_of(d, flags, sizeof(flags)));
    assert_non_null(strstr(flags, " dd"));
    if (secmem_is_locked(m)) {
        assert_non_null(strstr(flags, " lo"));
        assert_false(warn);
    }
    secmem_free(m);
    secmem_free(NULL);
}

/* Remove CAP_IPC_LOCK (which lets root lock memory past RLIMIT_MEMLOCK)
 * from this process's effective set. Returns: whether it worked. */
static bool
drop_ipc_lock(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    if (syscall(SYS_capget, &hdr, data) != 0)
        return false;
    data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
    return syscall(SYS_capset, &hdr, data) == 0;
}

/* With no lockable memory, holders still work; the first failure warns,
 * later ones do not. Run in a child: the limit and the once-per-process
 * flag must not leak into the other tests. */
static void
test_secmem_lock_failure_warns_once(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {0, 0};
        struct secmem *a, *b;
        bool wa = false, wb = true;

        if (!drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
            _exit(10);
        a = secmem_new(32, &wa);
        b = secmem_new(32, &wb);
        memset(secmem_data(a), 1, 32);
        memset(secmem_data(b), 2, 32);
        if (secmem_is_locked(a) || !wa)
            _exit(11);
        if (secmem_is_locked(b) || wb)
            _exit(12);
        secmem_free(a);
        secmem_free(b);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_secmem_guard_page(void **state)
{
    struct secmem *m = secmem_new(32, NULL);
    volatile unsigned char *d = secmem_data(m);
    pid_t pid;
    int status;

    (void)state;
    /* The page before the data is inaccessible: touching it must kill the
     * child (SIGSEGV, or ASan's handler exiting non-zero). */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches SIGSEGV to report a failed test; the child must
         * simply die. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        d[-1] = 1;
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    secmem_free(m);
}

static int
setup(void **state)
{
    (void)state;
    return ts_tmpdir_make(tmpdir, sizeof(tmpdir), "signer");
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
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_key_file_mode_too_open),
        cmocka_unit_test(test_env_key),
        cmocka_unit_test(test_keystore_password_file),
        cmocka_unit_test(test_keystore_password_env),
        cmocka_unit_test(test_open_misuse),
        cmocka_unit_test(test_sign_known_answers),
        cmocka_unit_test(test_sign_recovers_and_low_s),
        cmocka_unit_test(test_secmem),
        cmocka_unit_test(test_secmem_lock_failure_warns_once),
        cmocka_unit_test(test_secmem_guard_page),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
