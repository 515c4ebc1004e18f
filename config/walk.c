/* walk.c - apply a schema (cfg_int.h) to a YAML tree: every key checked
 * against its table line, every error collected with its position. */
#include "config/cfg_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

#define PATH_MAX_LEN 128
#define WHY_MAX 320
#define MAX_KEYS 32 /* per schema */

/* Scratch large enough for any fixed-size value (bounds, secrets). */
union scratch {
    struct u256 a;
    uint64_t u;
    double d;
    char s[CFG_SECRET_MAX];
};

void
cfg_ctx_error(struct cfg_ctx *ctx, const struct ynode *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->nerr++;
    cfg_errors_add(ctx->errs, ctx->file, at ? at->line : 0, at ? at->col : 0,
                   "%s", msg);
}

/* "chain.rpc" + "url" -> "chain.rpc.url"; "" + "chain" -> "chain". */
static void
join_key(char *out, const char *path, const char *name)
{
    snprintf(out, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", name);
}

/* "path: " for messages, or "" at the root. */
static const char *
prefix(char *buf, size_t cap, const char *path)
{
    snprintf(buf, cap, "%s%s", path, *path ? ": " : "");
    return buf;
}

static const char *
kind_name(const struct ynode *n)
{
    return n->kind == YNODE_MAP ? "a mapping" : "a list";
}

static void walk_map(struct cfg_ctx *ctx, const struct cfg_schema *schema,
                     const struct ynode *map, const struct ynode *owner,
                     void *obj, const char *path, bool defaults_only);

/* --- unknown keys --- */

static void
unknown_key(struct cfg_ctx *ctx, const struct cfg_schema *schema,
            const struct ynode *k, const char *path)
{
    const char *names[MAX_KEYS];
    char q[CFG_QUOTE_MAX], pre[PATH_MAX_LEN + 2], list[512];
    const char *best;
    size_t o = 0;

    for (size_t i = 0; i < schema->nkeys; i++)
        names[i] = schema->keys[i].name;
    cfg_quote(q, sizeof(q), k->str, k->len);
    prefix(pre, sizeof(pre), path);
    best = cfg_suggest(k->str, k->len, names, schema->nkeys);
    if (best != NULL) {
        cfg_ctx_error(ctx, k, "%sunknown key %s (did you mean '%s'?)", pre, q,
                      best);
        return;
    }
    list[0] = '\0';
    for (size_t i = 0; i < schema->nkeys && o < sizeof(list); i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
                              names[i]);
    cfg_ctx_error(ctx, k, "%sunknown key %s (expected one of: %s)", pre, q,
                  list);
}

/* --- scalars --- */

static void
check_bounds(struct cfg_ctx *ctx, const struct cfg_key *k,
             const struct cfg_type_ops *ops, const void *field,
             const struct ynode *v, const char *path)
{
    union scratch lo, hi;
    bool bad_lo = false, bad_hi = false;
    const char *lo_w, *hi_w;
    char q[CFG_QUOTE_MAX];

    if (ops->cmp == NULL || (k->min == NULL && k->max == NULL))
        return;
    if (k->min != NULL) {
        int c;

        cfg_parse_builtin(k, &lo, k->min);
        c = ops->cmp(field, &lo);
        bad_lo = (k->flags & CF_MIN_EXCL) ? c <= 0 : c < 0;
    }
    if (k->max != NULL) {
        int c;

        cfg_parse_builtin(k, &hi, k->max);
        c = ops->cmp(field, &hi);
        bad_hi = (k->flags & CF_MAX_EXCL) ? c >= 0 : c > 0;
    }
    if (!bad_lo && !bad_hi)
        return;
    cfg_quote(q, sizeof(q), v->str, v->len);
    lo_w = (k->flags & CF_MIN_EXCL) ? "greater than" : "at least";
    hi_w = (k->flags & CF_MAX_EXCL) ? "less than" : "at most";
    if (k->min != NULL && k->max != NULL &&
        !(k->flags & (CF_MIN_EXCL | CF_MAX_EXCL)))
        cfg_ctx_error(ctx, v, "%s: must be between %s and %s (got %s)", path,
                      k->min, k->max, q);
    else if (k->min != NULL && k->max != NULL)
        cfg_ctx_error(ctx, v, "%s: must be %s %s and %s %s (got %s)", path,
                      lo_w, k->min, hi_w, k->max, q);
    else if (k->min != NULL)
        cfg_ctx_error(ctx, v, "%s: must be %s %s (got %s)", path, lo_w, k->min,
                      q);
    else
        cfg_ctx_error(ctx, v, "%s: must be %s %s (got %s)", path, hi_w, k->max,
                      q);
}

/* A secret field: a reference, or (if allowed) an inline value. The value
 * is validated with the field's type but never echoed. */
static void
set_secret(struct cfg_ctx *ctx, const struct cfg_key *k, struct cfg_secret *sec,
           const struct ynode *v, const char *path)
{
    const struct cfg_type_ops *ops = cfg_type(k->type);
    struct cfg_key vk = *k;
    union scratch tmp;
    char why[WHY_MAX];

    vk.size = sizeof(sec->value);
    if (cfg_is_reference(v->str, v->len)) {
        if (cfg_secret_resolve(sec, v->str, v->len, ctx->dir, ctx->flags, why,
                               sizeof(why)) != 0) {
            cfg_ctx_error(ctx, v, "%s: %s", path, why);
        } else if (sec->value[0] != '\0' &&
                   ops->parse(ctx, &vk, tmp.s, sec->value, strlen(sec->value),
                              why, sizeof(why)) != 0) {
            cfg_ctx_error(ctx, v, "%s: the value of ${%s} is invalid: %s", path,
                          sec->ref, why);
        }
        kp_wipe(&tmp, sizeof(tmp));
        return;
    }
    if (k->flags & CF_SECRET) {
        cfg_ctx_error(ctx, v,
                      "%s: secrets must be referenced: use ${env:NAME} or "
                      "${file:PATH}",
                      path);
        return;
    }
    memset(sec, 0, sizeof(*sec));
    if (ops->parse(ctx, &vk, sec->value, v->str, v->len, why, sizeof(why)))
        cfg_ctx_error(ctx, v, "%s: %s", path, why);
}

static void
set_scalar(struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const struct ynode *v, const char *path)
{
    const struct cfg_type_ops *ops = cfg_type(k->type);
    char why[WHY_MAX], q[CFG_QUOTE_MAX];

    if (v->kind != YNODE_SCALAR) {
        union scratch tmp;

        if (k->type == CT_ENUM) /* its parse error lists the names */
            ops->parse(ctx, k, &tmp, "", 0, why, sizeof(why));
        else
            snprintf(why, sizeof(why), "expected %s", ops->what);
        cfg_ctx_error(ctx, v, "%s: %s, got %s", path, why, kind_name(v));
        return;
    }
    if (memchr(v->str, '\0', v->len) != NULL) {
        cfg_ctx_error(ctx, v, "%s: contains a NUL character", path);
        return;
    }
    if (k->flags & (CF_SECRET | CF_SECRET_OK)) {
        set_secret(ctx, k, field, v, path);
        return;
    }
    if (cfg_is_reference(v->str, v->len)) {
        cfg_ctx_error(ctx, v,
                      "%s: secret references are not allowed here (only "
                      "in secret fields, see docs/config.md)",
                      path);
        return;
    }
    if (ops->parse(ctx, k, field, v->str, v->len, why, sizeof(why)) != 0) {
        cfg_quote(q, sizeof(q), v->str, v->len);
        cfg_ctx_error(ctx, v, "%s: %s (got %s)", path, why, q);
        return;
    }
    check_bounds(ctx, k, ops, field, v, path);
}

/* --- sections and lists --- */

static void
set_list(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj,
         const struct ynode *key, const struct ynode *v, const char *path)
{
    size_t *count = (size_t *)((char *)obj + k->count_off);
    size_t min = k->min ? (size_t)strtoul(k->min, NULL, 10) : 0;
    char ipath[PATH_MAX_LEN];

    *count = 0;
    if (ynode_is_null(v))
        v = NULL;
    else if (v->kind != YNODE_SEQ) {
        cfg_ctx_error(ctx, v,
                      "%s: expected a list (lines starting with "
                      "'- '), got %s",
                      path, v->kind == YNODE_MAP ? "a mapping" : "a value");
        return;
    }
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        const struct ynode *item = v->kids[i];

        snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
        if (i == k->max_items) {
            cfg_ctx_error(ctx, item, "%s: too many entries (at most %zu)", path,
                          k->max_items);
            break;
        }
        if (item->kind != YNODE_MAP) {
            cfg_ctx_error(ctx, item,
                          "%s: expected a mapping (key: value "
                          "lines)",
                          ipath);
            continue;
        }
        cfg_walk_map(ctx, k->aux, item, item,
                     (char *)obj + k->off + (*count)++ * k->size, ipath);
    }
    if ((v == NULL ? 0 : v->n) < min)
        cfg_ctx_error(ctx, v ? v : key, "%s: at least %zu %s required", path,
                      min, min == 1 ? "entry is" : "entries are");
}

/* Key k given with value v (v may be a null scalar). */
static void
set_key(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj,
        const struct ynode *key, const struct ynode *v, const char *path)
{
    char kpath[PATH_MAX_LEN];
    void *field = (char *)obj + k->off;

    join_key(kpath, path, k->name);
    switch (k->type) {
    case CT_SECTION:
        cfg_walk_map(ctx, k->aux, ynode_is_null(v) ? NULL : v, key, field,
                     kpath);
        return;
    case CT_LIST:
        set_list(ctx, k, obj, key, v, kpath);
        return;
    default:
        break;
    }
    if (!ynode_is_null(v)) {
        set_scalar(ctx, k, field, v, kpath);
        return;
    }
    if (k->flags & CF_REQUIRED)
        cfg_ctx_error(ctx, key, "%s: missing value", kpath);
    else if (k->def != NULL)
        cfg_parse_builtin(k, field, k->def);
}

/* Key k not given: a default, or an error if it is required. */
static void
absent_key(struct cfg_ctx *ctx, const struct cfg_key *k, void *obj,
           const struct ynode *owner, const char *path, bool quiet)
{
    char kpath[PATH_MAX_LEN], pre[PATH_MAX_LEN + 2];

    if ((k->flags & CF_REQUIRED) && !quiet) {
        cfg_ctx_error(ctx, owner, "%smissing required key '%s'",
                      prefix(pre, sizeof(pre), path), k->name);
        return;
    }
    if (k->flags & CF_REQUIRED)
        return;
    join_key(kpath, path, k->name);
    if (k->type == CT_SECTION)
        walk_map(ctx, k->aux, NULL, owner, (char *)obj + k->off, kpath, true);
    else if (k->type == CT_LIST)
        *(size_t *)((char *)obj + k->count_off) = 0;
    else if (k->def != NULL)
        cfg_parse_builtin(k, (char *)obj + k->off, k->def);
}

static int
find_key(const struct cfg_schema *schema, const struct ynode *k)
{
    for (size_t i = 0; i < schema->nkeys; i++) {
        const char *name = schema->keys[i].name;

        if (strlen(name) == k->len && !memcmp(name, k->str, k->len))
            return (int)i;
    }
    return -1;
}

/* Fixed-size types must be stored in fields of their size. */
static void
assert_schema(const struct cfg_schema *schema)
{
    assert(schema->nkeys <= MAX_KEYS);
    for (size_t i = 0; i < schema->nkeys; i++) {
        const struct cfg_key *k = &schema->keys[i];

        if (k->type == CT_SECTION || k->type == CT_LIST)
            assert(k->aux != NULL);
        else if (k->flags & (CF_SECRET | CF_SECRET_OK))
            assert(k->size == sizeof(struct cfg_secret));
        else
            assert(cfg_type(k->type)->size == 0 ||
                   cfg_type(k->type)->size == k->size);
        (void)k;
    }
}

/* defaults_only: the section is absent, so only defaults apply (no
 * "missing required key" for what it would have needed). */
static void
walk_map(struct cfg_ctx *ctx, const struct cfg_schema *schema,
         const struct ynode *map, const struct ynode *owner, void *obj,
         const char *path, bool defaults_only)
{
    bool seen[MAX_KEYS] = {false}, quiet = defaults_only;
    size_t nerr0 = ctx->nerr;

    assert_schema(schema);
    if (map != NULL && map->kind != YNODE_MAP) {
        cfg_ctx_error(ctx, map,
                      "%s: expected a mapping (key: value lines), "
                      "got %s",
                      path, map->kind == YNODE_SEQ ? "a list" : "a value");
        map = NULL;
        quiet = true;
    }
    for (size_t i = 0; i < ynode_map_len(map); i++) {
        const struct ynode *k = map->kids[2 * i], *v = map->kids[2 * i + 1];
        int idx;

        if (k->kind != YNODE_SCALAR || k->dup)
            continue; /* reported by the parser */
        if ((idx = find_key(schema, k)) < 0) {
            unknown_key(ctx, schema, k, path);
            continue;
        }
        seen[idx] = true;
        set_key(ctx, &schema->keys[idx], obj, k, v, path);
    }
    for (size_t i = 0; i < schema->nkeys; i++)
        if (!seen[i])
            absent_key(ctx, &schema->keys[i], obj, owner, path, quiet);
    if (schema->check != NULL && ctx->nerr == nerr0)
        schema->check(ctx, map, owner, obj, path);
}

void
cfg_walk_map(struct cfg_ctx *ctx, const struct cfg_schema *schema,
             const struct ynode *map, const struct ynode *owner, void *obj,
             const char *path)
{
    walk_map(ctx, schema, map, owner, obj, path, false);
}
