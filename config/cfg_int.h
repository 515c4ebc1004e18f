/*
 * cfg_int.h - declarations shared by the config module's units: the
 * schema tables (schema.c), the value types (types.c), the walker that
 * applies a schema to a YAML tree (walk.c), secret references (secret.c)
 * and small text helpers. Not for use outside config/ (tests excepted).
 *
 * A schema is a table of keys, one line per key, in the manner of redis'
 * config table: the key's name, its type, flags, where it is stored
 * (offset into the section's struct), its default and bounds - both
 * written as text and parsed by the same code as user input, so a default
 * reads exactly as it would in a file - and, for sections and lists, the
 * schema of what they contain.
 */
#ifndef KP_CONFIG_CFG_INT_H
#define KP_CONFIG_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/cfg.h"
#include "config/ytree.h"

enum cfg_type {
    CT_BOOL,
    CT_U32,       /* decimal integer, stored as uint32_t   */
    CT_U64,       /* decimal integer, stored as uint64_t   */
    CT_DOUBLE,    /* decimal number, stored as double      */
    CT_DURATION,  /* units.h, stored as uint64_t ms        */
    CT_PERCENT,   /* units.h, stored as uint32_t bps       */
    CT_SIZE,      /* units.h, stored as uint64_t bytes     */
    CT_WEI,       /* u256_parse_units, struct u256         */
    CT_TOKEN,     /* integer[.frac][eK] base units, u256   */
    CT_ENUM,      /* name from aux (struct cfg_enum[]), int */
    CT_NAME,      /* [a-z0-9_-], char[size]                */
    CT_LABEL,     /* printable text without control chars  */
    CT_TEXT,      /* any text (secret values)              */
    CT_ASSET,     /* [A-Za-z0-9/_.-]                       */
    CT_ENVNAME,   /* [A-Za-z_][A-Za-z0-9_]*                */
    CT_PATH,      /* file path, joined with the config dir */
    CT_HTTP_URL,  /* http:// or https://                   */
    CT_WS_URL,    /* ws:// or wss://                       */
    CT_ADDRESS,   /* 0x + 40 hex, EIP-55 if mixed case     */
    CT_READ_SIG,  /* "name(...)(uintN)"                    */
    CT_WRITE_SIG, /* "name(uintN)"                         */
    CT_HOSTPORT,  /* host:port, struct cfg_metrics         */
    CT_SECTION,   /* mapping, aux = struct cfg_schema      */
    CT_LIST,      /* sequence of mappings, aux = schema    */
    CT_NTYPES
};

/* Key flags. */
#define CF_REQUIRED 0x01u  /* must be present                         */
#define CF_SECRET 0x02u    /* struct cfg_secret; reference required   */
#define CF_SECRET_OK 0x04u /* struct cfg_secret; reference or inline  */
#define CF_MIN_EXCL 0x08u  /* CT_DOUBLE: bound excluded               */
#define CF_MAX_EXCL 0x10u
#define CF_OMIT_EMPTY 0x20u /* print only when set                     */

struct cfg_enum {
    const char *name;
    int value;
};

struct cfg_ctx;
struct cfg_schema;

struct cfg_key {
    const char *name;
    enum cfg_type type;
    unsigned flags;
    size_t off;                  /* of the field in the section's struct */
    size_t size;                 /* of the field; CT_LIST: of one element */
    size_t count_off, max_items; /* CT_LIST: size_t count; capacity */
    const char *def, *min, *max; /* as text; NULL: none (CT_LIST: min is
                                    the minimum number of entries) */
    const void *aux; /* CT_ENUM: struct cfg_enum[] ending with {NULL};
                        CT_SECTION, CT_LIST: struct cfg_schema */
};

/* Cross-field rules of one mapping, run after its keys were applied and
 * only if they raised no error. `map` may be NULL (section absent);
 * `owner` is the node errors about missing things point at. */
typedef void cfg_check_fn(struct cfg_ctx *ctx, const struct ynode *map,
                          const struct ynode *owner, void *obj,
                          const char *path);

struct cfg_schema {
    const char *name; /* for documentation */
    const struct cfg_key *keys;
    size_t nkeys;
    cfg_check_fn *check;
    /* Printing: whether the section holds anything (NULL: always). */
    bool (*is_set)(const void *obj);
};

/* The schema of one protocol file, rooted at struct cfg_protocol. */
extern const struct cfg_schema cfg_protocol_schema;

/* Walking state for one file. */
struct cfg_ctx {
    struct cfg_errors *errs;
    const char *file; /* for messages */
    const char *dir;  /* relative paths resolve against it; "" for cwd */
    unsigned flags;   /* CFG_LOAD_* */
    size_t nerr;      /* errors this file produced */
};

/* Report an error at node `at` (NULL: about the whole file). */
void cfg_ctx_error(struct cfg_ctx *ctx, const struct ynode *at, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

/* Apply `schema` to mapping `map` (NULL: absent, defaults only), storing
 * into obj. `owner` is the key node the mapping belongs to (for "missing
 * key" errors); path names it in messages ("" at the root). */
void cfg_walk_map(struct cfg_ctx *ctx, const struct cfg_schema *schema,
                  const struct ynode *map, const struct ynode *owner, void *obj,
                  const char *path);

/* --- value types (types.c) --- */

/* What printing a value may depend on beyond the value itself. */
struct cfg_print_ctx {
    unsigned token_decimals; /* CT_TOKEN prints as <tokens>e<decimals> */
};

struct cfg_type_ops {
    const char *what; /* "a duration", for "expected a duration" */
    size_t size;      /* of the stored field; 0: char[k->size] */
    /* Parse s[0..len) (NUL-free) into field; ctx is NULL for built-in
     * defaults and bounds. On error return nonzero and write a reason
     * into why; the reason never contains the value itself (it may be a
     * secret; the caller quotes it where that is safe). */
    int (*parse)(const struct cfg_ctx *ctx, const struct cfg_key *k,
                 void *field, const char *s, size_t len, char *why,
                 size_t whycap);
    /* Order two parsed values for bounds; NULL: no bounds. */
    int (*cmp)(const void *a, const void *b);
    /* Write the value as YAML text (already quoted if need be). */
    void (*print)(FILE *f, const struct cfg_key *k, const void *field,
                  const struct cfg_print_ctx *pc);
};

/* Returns: the operations of scalar type t (not CT_SECTION/CT_LIST). */
const struct cfg_type_ops *cfg_type(enum cfg_type t);

/* Parse a key's default or bound text into field (asserts it parses). */
void cfg_parse_builtin(const struct cfg_key *k, void *field, const char *s);

/* Returns: whether URL s[0..len) names a loopback host (localhost,
 * 127.0.0.0/8, [::1]). */
bool cfg_url_is_loopback(const char *s, size_t len);

/* Write s as a YAML double-quoted string. */
void cfg_print_quoted(FILE *f, const char *s);

/* --- secret references (secret.c) --- */

/* Returns: whether s[0..len) has the shape of a reference "${...}". */
bool cfg_is_reference(const char *s, size_t len);

/* Parse reference s[0..len) into sec->ref and, unless CFG_LOAD_NO_SECRETS,
 * resolve it into sec->value (env variable, or file relative to dir with
 * one trailing newline dropped).
 * Returns: 0, or nonzero with a reason in why (without the value). */
int cfg_secret_resolve(struct cfg_secret *sec, const char *s, size_t len,
                       const char *dir, unsigned flags, char *why,
                       size_t whycap);

/* Join a relative path[0..len) to dir ("" or an absolute path stays
 * as it is). Returns: 0, or KP_ERANGE if out is too small. */
int cfg_join_path(char *out, size_t cap, const char *dir, const char *path,
                  size_t len);

/* Read a regular file of at most `cap` bytes into a new buffer.
 * Returns: 0, KP_EIO (errno kept), KP_ELIMIT (larger than cap),
 *          KP_EINVAL (not a regular file).   Out: *buf (free it), *len */
int cfg_read_file(char **buf, size_t *len, const char *path, size_t cap);

/* --- text helpers (text.c) --- */

/* Quote s[0..len) for a message: printable ASCII kept, other bytes as
 * \xHH, cut after 48 characters with "...". cap >= 8; CFG_QUOTE_MAX
 * holds the longest output.   Out: out (NUL-terminated) */
#define CFG_QUOTE_MAX 64
void cfg_quote(char *out, size_t cap, const char *s, size_t len);

/* Damerau-Levenshtein (optimal string alignment) distance, case-
 * sensitive. Strings longer than 64 bytes compare as very far. */
size_t cfg_edit_distance(const char *a, size_t alen, const char *b,
                         size_t blen);

/* Returns: the entry of names[0..n) closest to s[0..len) if close enough
 * to be a likely typo (or one contains the other), else NULL. */
const char *cfg_suggest(const char *s, size_t len, const char *const *names,
                        size_t n);

/* Check an ABI call signature "name(types)" or "name(types)(outputs)"
 * with chain/abi.h's parser; it must name a function.
 * Returns: 0 with the counts of inputs and outputs (-1: no output list)
 *          and whether each list is exactly one uintN; or nonzero with
 *          a reason in why. */
struct cfg_abisig {
    int n_in, n_out;
    bool in_is_uint, out_is_uint;
};
int cfg_abisig_check(struct cfg_abisig *sig, const char *s, size_t len,
                     char *why, size_t whycap);

#endif
