/*
 * abi.h - the Solidity contract ABI: signatures, values, encoding and
 * decoding of calldata, return data, event logs and revert data, and the
 * text syntax of `cast` for values.
 *
 * Three objects:
 *   - struct abi_sig: a parsed human-readable signature such as
 *     "transfer(address,uint256)", "balance()(uint256)" or
 *     "event Transfer(address indexed,address indexed,uint256)". Its types
 *     form a tree of nodes kept inside the struct (no allocation), with
 *     caps on nodes, depth and fixed array sizes.
 *   - struct abi_value: a value tree. Nodes live in a caller-provided
 *     arena (struct abi_arena) whose cap bounds what hostile input can
 *     make us build. Byte strings are not copied where avoidable: a
 *     decoded bytes/string value points into the decoded data, a parsed
 *     string into the text it was parsed from. Keep the data, the text
 *     and the arena alive while using the values.
 *   - struct abi_error: what went wrong and where (the column in a
 *     signature or argument text, the byte offset in data).
 *
 * Encoders write into caller buffers; a too small buffer gives KP_ERANGE
 * and the size needed. Decoding is strict: every offset and length must
 * stay inside the data, and padding that the ABI fixes must be zero
 * (uintN high bits, intN sign extension, address high bytes, bool 0/1,
 * bytesN low bytes, bytes/string tail padding). Offsets need not be the
 * ones a canonical encoder writes (as Solidity's own decoder).
 */
#ifndef KP_CHAIN_ABI_H
#define KP_CHAIN_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/address.h"
#include "chain/u256.h"

#define ABI_MAX_NODES 256        /* type nodes in one signature */
#define ABI_MAX_DEPTH 64         /* nesting of tuples and arrays */
#define ABI_MAX_FIXED_LEN 4096   /* k in T[k] */
#define ABI_MAX_STATIC (1u << 20) /* encoded size of one static type */
#define ABI_MAX_NAME 128         /* function/event/error name */
#define ABI_MAX_SIG_TEXT 8192    /* signature text accepted */
#define ABI_CANON_MAX 4096       /* canonical signature, with its NUL */
#define ABI_MAX_ARGS_TEXT (256u * 1024) /* abi_encode_call_text input */
#define ABI_NONE 0xffffu         /* "no node" */

enum abi_kind {
    ABI_UINT = 1,    /* uintN: N bits, 8..256 */
    ABI_INT,         /* intN, two's complement */
    ABI_ADDRESS,
    ABI_BOOL,
    ABI_FIXED_BYTES, /* bytesN: N bytes, 1..32 */
    ABI_BYTES,
    ABI_STRING,
    ABI_ARRAY,       /* T[] */
    ABI_FIXED_ARRAY, /* T[k] */
    ABI_TUPLE,       /* (T1,...,Tn); also a parameter list */
    ABI_TOPIC,       /* values only: the 32-byte topic of an indexed
                      * event parameter of a hashed (reference) type */
};

enum abi_sig_kind {
    ABI_SIG_FUNCTION = 0, /* also a nameless "(types)" list */
    ABI_SIG_EVENT,        /* "event ..." or any "indexed" parameter */
    ABI_SIG_ERROR,        /* "error ..." */
};

/* One node of a type tree. Nodes refer to each other by index into
 * abi_sig.nodes, so a struct abi_sig can be copied by value. */
struct abi_type {
    uint8_t kind;    /* enum abi_kind */
    bool dynamic;    /* encoded out of line (in the tail) */
    bool indexed;    /* event parameter marked "indexed" */
    uint16_t size;   /* uintN/intN: N bits; bytesN: N bytes */
    uint16_t child;  /* arrays: element type; tuples: first member */
    uint16_t next;   /* next member of the enclosing tuple, or ABI_NONE */
    uint16_t count;  /* tuples: number of members */
    uint32_t len;    /* T[k]: k */
    uint32_t head;   /* bytes taken in the head: 32 if dynamic */
};

struct abi_sig {
    uint8_t kind;      /* enum abi_sig_kind */
    bool anonymous;    /* "event E(...) anonymous": no topic0 */
    uint8_t nindexed;  /* "indexed" inputs */
    uint16_t inputs;   /* tuple node of the inputs */
    uint16_t outputs;  /* tuple node of the outputs, or ABI_NONE */
    uint16_t nnodes;
    uint8_t hash[32];  /* Keccak-256 of the canonical form: the selector
                        * is hash[0..3], an event's topic0 is hash */
    char name[ABI_MAX_NAME + 1]; /* "" for a nameless list */
    struct abi_type nodes[ABI_MAX_NODES];
};

/* Where and why an operation failed. `arg` is the argument index for
 * text arguments (-1 otherwise); `pos` the 0-based byte column in the
 * signature or argument text, or the byte offset in decoded data. */
struct abi_error {
    int code;
    int arg;
    size_t pos;
    char msg[160];
};

/* A bump allocator over caller memory. Nothing is freed one by one:
 * reset (or drop) the whole arena. */
struct abi_arena {
    unsigned char *base;
    size_t cap;
    size_t used;
};

struct abi_value {
    uint8_t kind; /* enum abi_kind */
    union {
        struct u256 num;      /* ABI_UINT, ABI_INT (two's complement) */
        bool b;               /* ABI_BOOL */
        struct eth_addr addr; /* ABI_ADDRESS */
        struct {
            uint8_t b[32];
            uint8_t len;      /* N; 32 for ABI_TOPIC */
        } fixed;              /* ABI_FIXED_BYTES, ABI_TOPIC */
        struct {
            const uint8_t *p;
            size_t len;
        } bytes;              /* ABI_BYTES, ABI_STRING */
        struct {
            struct abi_value *v;
            size_t n;
        } list;               /* ABI_ARRAY, ABI_FIXED_ARRAY, ABI_TUPLE */
    } u;
};

/* ---- signatures (abi_type.c) ---- */

/* Parse a human-readable signature. Accepted, with any whitespace:
 *   name(T1,T2)            "transfer(address,uint256)"
 *   name(T1)(R1,R2)        outputs, as cast: "balance()(uint256)"
 *   (T1,T2)                a nameless list (raw data, no selector)
 *   function name(T1 a, T2 b) external view returns (R1)
 *   event Name(T1 indexed a, T2 b) [anonymous]
 *   error Name(T1)
 * Types: uint/int (256 bits), uintN/intN (N = 8..256, step 8), address,
 * bool, bytesN (1..32), bytes, string, T[k] (1 <= k), T[], tuples (...)
 * or tuple(...) at any depth. Parameter names and data locations are
 * ignored. "indexed" is allowed on top-level inputs only.
 * Returns: 0; KP_EINVAL (syntax), KP_EUNSUPPORTED (fixed, function...),
 *          KP_ELIMIT (a cap above).
 * Out: sig, err (may be NULL)   In: text, len */
int abi_sig_parse(struct abi_sig *sig, const char *text, size_t len,
                  struct abi_error *err);

/* Write the canonical form "name(T1,T2)" of the inputs (the text whose
 * Keccak-256 is sig->hash), NUL-terminated.
 * Returns: 0, or KP_ERANGE (cap too small; ABI_CANON_MAX always fits).
 * Out: out   In: sig */
int abi_sig_canonical(char *out, size_t cap, const struct abi_sig *sig);

/* Write the canonical name of one type node ("uint256", "(bool,bytes)[2]").
 * Returns: 0, or KP_ERANGE.   Out: out   In: sig, type */
int abi_type_canonical(char *out, size_t cap, const struct abi_sig *sig,
                       uint16_t type);

/* Returns: the node `idx` of `sig` (idx must be valid). */
const struct abi_type *abi_sig_node(const struct abi_sig *sig, uint16_t idx);

/* ---- values (abi.c) ---- */

/* Out: a   In: buf, cap (buf must outlive the arena's values) */
void abi_arena_init(struct abi_arena *a, void *buf, size_t cap);
void abi_arena_reset(struct abi_arena *a);
/* Allocate `n` zeroed value nodes.
 * Returns: the nodes, or NULL if the arena's cap would be exceeded. */
struct abi_value *abi_arena_values(struct abi_arena *a, size_t n);

/* Build values by hand (for encoding). Out: v */
void abi_value_uint(struct abi_value *v, const struct u256 *x);
void abi_value_uint64(struct abi_value *v, uint64_t x);
void abi_value_int(struct abi_value *v, const struct u256 *twos);
void abi_value_bool(struct abi_value *v, bool b);
void abi_value_address(struct abi_value *v, const struct eth_addr *a);
/* n <= 32 */
void abi_value_fixed_bytes(struct abi_value *v, const uint8_t *p, size_t n);
/* The bytes are referenced, not copied. */
void abi_value_bytes(struct abi_value *v, const uint8_t *p, size_t n);
void abi_value_string(struct abi_value *v, const char *s, size_t n);
/* kind: ABI_ARRAY, ABI_FIXED_ARRAY or ABI_TUPLE; items referenced. */
void abi_value_list(struct abi_value *v, enum abi_kind kind,
                    struct abi_value *items, size_t n);

/* ---- encoding (abi.c) ---- */

/* ABI-encode `v` (a tuple value) as the tuple type `tuple` of `sig`
 * (the head/tail encoding of a parameter list).
 * Returns: 0; KP_EINVAL (a value's kind or count does not match the
 *          type), KP_ERANGE (a value does not fit its type: *outlen is
 *          then 0; or `out` is too small: *outlen > cap then holds the
 *          size needed).
 * Out: out, *outlen   In: sig, tuple, v */
int abi_encode(uint8_t *out, size_t cap, size_t *outlen,
               const struct abi_sig *sig, uint16_t tuple,
               const struct abi_value *v);

/* Calldata: the 4-byte selector of `sig`, then its inputs `args`.
 * Returns/Out: as abi_encode. */
int abi_encode_call(uint8_t *out, size_t cap, size_t *outlen,
                    const struct abi_sig *sig, const struct abi_value *args);

/* Calldata from argument texts in cast syntax (abi_args_parse); with a
 * nameless signature, the encoded inputs without a selector. Uses a
 * temporary heap arena bounded by the text sizes (at most
 * ABI_MAX_ARGS_TEXT bytes of text in all, else KP_ELIMIT).
 * Returns: as abi_encode and abi_args_parse.
 * Out: out, *outlen, err (may be NULL)   In: sig, argv, argc */
int abi_encode_call_text(uint8_t *out, size_t cap, size_t *outlen,
                         const struct abi_sig *sig, const char *const *argv,
                         size_t argc, struct abi_error *err);

/* ---- decoding (abi.c) ---- */

/* Decode `data` as the tuple type `tuple` of `sig` into *out (a tuple
 * value). Bytes beyond what the types reach are ignored (as Solidity).
 * Offsets may make many values share one tail: the arena's cap bounds
 * both the nodes built and the bytes that bytes/string values reference
 * in all (each reference counted), so what a caller then prints or
 * re-encodes stays proportional to the cap.
 * Returns: 0; KP_ETRUNC (an offset, length or word past the end),
 *          KP_ENONCANON (non-zero padding, bool > 1, out-of-range intN),
 *          KP_ELIMIT (arena full, or too many bytes referenced).
 * Out: out (nodes in `a`, bytes pointing into `data`), err (may be NULL)
 * In: sig, tuple, data, len */
int abi_decode(struct abi_value *out, struct abi_arena *a,
               const struct abi_sig *sig, uint16_t tuple,
               const uint8_t *data, size_t len, struct abi_error *err);

/* Calldata: check the selector, then decode the inputs.
 * Returns: as abi_decode, or KP_EINVAL (selector missing or different). */
int abi_decode_call(struct abi_value *out, struct abi_arena *a,
                    const struct abi_sig *sig, const uint8_t *data,
                    size_t len, struct abi_error *err);

/* Return data of `sig`'s outputs ("balance()(uint256)"); a signature
 * without outputs is KP_EINVAL. Returns: as abi_decode. */
int abi_decode_output(struct abi_value *out, struct abi_arena *a,
                      const struct abi_sig *sig, const uint8_t *data,
                      size_t len, struct abi_error *err);

/* An event log. Topic 0 must be sig->hash (unless anonymous), then one
 * topic per indexed input; the other inputs are decoded from `data`.
 * *out is a tuple of all inputs in declaration order. Indexed inputs of
 * value types are decoded from their topic (strictly); indexed inputs of
 * other types (bytes, string, arrays, tuples) are stored in the log only
 * as a hash: they come back as ABI_TOPIC values holding the topic.
 * Returns: as abi_decode; KP_EINVAL (topic0 or topic count mismatch).
 * In: topics[ntopics][32] */
int abi_decode_log(struct abi_value *out, struct abi_arena *a,
                   const struct abi_sig *sig, const uint8_t (*topics)[32],
                   size_t ntopics, const uint8_t *data, size_t len,
                   struct abi_error *err);

/* ---- revert data (abi_revert.c) ---- */

enum abi_revert_kind {
    ABI_REVERT_EMPTY = 0, /* no data: revert() or require(c) */
    ABI_REVERT_ERROR,     /* Error(string), selector 0x08c379a0 */
    ABI_REVERT_PANIC,     /* Panic(uint256), selector 0x4e487b71 */
    ABI_REVERT_CUSTOM,    /* one of the given error signatures */
    ABI_REVERT_UNKNOWN,   /* a selector none of them has */
};

struct abi_revert {
    uint8_t kind;               /* enum abi_revert_kind */
    uint8_t selector[4];
    size_t datalen;             /* bytes of revert data */
    const char *reason;         /* ABI_REVERT_ERROR: points into data */
    size_t reason_len;
    struct u256 panic_code;     /* ABI_REVERT_PANIC */
    const struct abi_sig *sig;  /* ABI_REVERT_CUSTOM: the matching error */
    struct abi_value args;      /* ABI_REVERT_CUSTOM/ERROR/PANIC: a tuple */
};

/* Classify and decode revert data. `errors` (may be NULL when nerrors is
 * 0) are custom error signatures to try, matched by selector.
 * Returns: 0 (including for ABI_REVERT_UNKNOWN); KP_EINVAL (1-3 bytes of
 *          data); a decoding error when a known selector's arguments are
 *          malformed.
 * Out: r, err (may be NULL)   In: data, len, errors, nerrors */
int abi_decode_revert(struct abi_revert *r, struct abi_arena *a,
                      const uint8_t *data, size_t len,
                      const struct abi_sig *errors, size_t nerrors,
                      struct abi_error *err);

/* One line: `Error("reason")`, `Panic(0x11): arithmetic underflow or
 * overflow`, `Name(arg1, arg2)`, `unknown error selector 0x12345678 (36 bytes)`,
 * `empty revert data`.
 * Returns: 0, or KP_ERANGE (*outlen: the length needed, without NUL).
 * Out: out, *outlen (may be NULL)   In: r */
int abi_revert_format(char *out, size_t cap, size_t *outlen,
                      const struct abi_revert *r);

/* Returns: the meaning of a Solidity panic code, or NULL if unknown. */
const char *abi_panic_reason(const struct u256 *code);

/* ---- text (abi_text.c) ---- */

/* Parse one value of type `type` from `text`, in the syntax of
 * `cast calldata` arguments: integers decimal or 0x/0b/0o, signed for
 * intN, with an optional fraction, exponent and unit ("1.5ether",
 * "30 gwei", "1e18"); true/false; addresses as 40 hex digits (0x
 * optional, any case, checksum not enforced, as cast); bytes/bytesN as
 * hex (bytesN exactly N bytes); strings bare or quoted with " or ';
 * arrays [a, b]; tuples (a, b).
 * Returns: 0; KP_EINVAL (syntax), KP_ERANGE (number out of range, wrong
 *          length), KP_ELIMIT (arena full).
 * Out: out (in `a`; strings point into text), err (may be NULL)
 * In: sig, type, text, len */
int abi_value_parse(struct abi_value *out, struct abi_arena *a,
                    const struct abi_sig *sig, uint16_t type,
                    const char *text, size_t len, struct abi_error *err);

/* Parse one argument per member of the tuple type `tuple` into the
 * tuple value *out. err->arg tells which argument failed.
 * Returns: as abi_value_parse; KP_EINVAL when argc differs. */
int abi_args_parse(struct abi_value *out, struct abi_arena *a,
                   const struct abi_sig *sig, uint16_t tuple,
                   const char *const *argv, size_t argc,
                   struct abi_error *err);

/* Format a value in the same syntax, as a top-level argument: uints in
 * decimal, ints signed, addresses EIP-55, bytes lowercase 0x-hex, bools
 * true/false, strings bare at top level and quoted inside arrays and
 * tuples ("..." or, if the string holds a '"', '...'), elements joined
 * by ", ". Parsing the output gives the value back, except for strings
 * that the syntax cannot hold (a top-level string with trailing
 * whitespace and both quote characters, or a string in a list with both
 * quote characters and a ',' or closing bracket: these are written
 * "..." with \" and \\ escapes).
 * Returns: 0, or KP_ERANGE (*outlen: the length needed, without NUL).
 * Out: out, *outlen (may be NULL)   In: v */
int abi_value_format(char *out, size_t cap, size_t *outlen,
                     const struct abi_value *v);

#endif
