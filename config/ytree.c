/* ytree.c - libyaml events to a bounded node tree (ytree.h). */
#include "config/ytree.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "chain/err.h"
#include "config/cfg_int.h"

struct builder {
    struct cfg_errors *errs;
    const char *file;
    const char *buf;
    size_t len;
    struct ynode *root;
    struct ynode *stack[CFG_DEPTH_MAX];
    size_t depth;
    size_t nodes;
    unsigned docs;
};

/* Report an error at libyaml mark m (0-based). */
static void __attribute__((format(printf, 3, 4)))
berror(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cfg_errors_add(b->errs, b->file, (unsigned)m->line + 1,
                   (unsigned)m->column + 1, "%s", msg);
}

void
ytree_free(struct ynode *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        ytree_free(n->kids[i]);
    free(n->kids);
    free(n->str);
    free(n);
}

bool
ynode_is_null(const struct ynode *n)
{
    if (n == NULL)
        return true;
    if (n->kind != YNODE_SCALAR || !n->plain)
        return false;
    return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
           !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

size_t
ynode_map_len(const struct ynode *n)
{
    return n != NULL && n->kind == YNODE_MAP ? n->n / 2 : 0;
}

const struct ynode *
ynode_map_get(const struct ynode *n, const char *name, const struct ynode **key)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < ynode_map_len(n); i++) {
        const struct ynode *k = n->kids[2 * i];

        if (k->kind == YNODE_SCALAR && !k->dup && k->len == len &&
            !memcmp(k->str, name, len)) {
            if (key != NULL)
                *key = k;
            return n->kids[2 * i + 1];
        }
    }
    return NULL;
}

static struct ynode *
node_new(enum ynode_kind kind, const yaml_mark_t *m)
{
    struct ynode *n = kp_xcalloc(1, sizeof(*n));

    n->kind = kind;
    n->line = (unsigned)m->line + 1;
    n->col = (unsigned)m->column + 1;
    return n;
}

/* A key repeated in map `m`: report it and mark it so the schema skips
 * the pair (the first occurrence wins, but the file is invalid anyway). */
static void
check_duplicate(struct builder *b, const struct ynode *m, struct ynode *key)
{
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const struct ynode *k = m->kids[i];
        char q[CFG_QUOTE_MAX];

        if (k->kind != YNODE_SCALAR || k->dup || k->len != key->len ||
            memcmp(k->str, key->str, key->len) != 0)
            continue;
        key->dup = true;
        cfg_quote(q, sizeof(q), key->str, key->len);
        cfg_errors_add(b->errs, b->file, key->line, key->col,
                       "duplicate key %s (first defined at line %u)", q,
                       k->line);
        return;
    }
}

/* Hang node n under the innermost open container (or make it the root).
 * Takes n. Returns: 0, or KP_ELIMIT (node cap; n freed). */
static int
attach(struct builder *b, struct ynode *n, const yaml_mark_t *m)
{
    struct ynode *parent;

    if (++b->nodes > CFG_NODES_MAX) {
        ytree_free(n);
        berror(b, m, "too many YAML nodes (at most %d)", CFG_NODES_MAX);
        return KP_ELIMIT;
    }
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    parent = b->stack[b->depth - 1];
    if (parent->kind == YNODE_MAP && parent->n % 2 == 0) {
        if (n->kind != YNODE_SCALAR)
            berror(b, m, "mapping keys must be plain text");
        else
            check_duplicate(b, parent, n);
    }
    parent->kids =
        kp_xrealloc(parent->kids, (parent->n + 1) * sizeof(parent->kids[0]));
    parent->kids[parent->n++] = n;
    return 0;
}

/* Anchors and tags on a node event. Anchors are refused outright: with
 * no anchors there can be no aliases to expand, so no alias bomb. */
static int
check_props(struct builder *b, const yaml_event_t *ev,
            const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (anchor != NULL) {
        berror(b, &ev->start_mark,
               "YAML anchors (&%s) and aliases are not allowed",
               (const char *)anchor);
        return KP_EINVAL;
    }
    if (tag != NULL)
        berror(b, &ev->start_mark, "YAML tags (%s) are not allowed",
               (const char *)tag);
    return 0;
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct ynode *n;
    int rc;

    if ((rc = check_props(b, ev, ev->data.scalar.anchor,
                          ev->data.scalar.tag)) != 0)
        return rc;
    if (ev->data.scalar.length > CFG_SCALAR_MAX) {
        berror(b, &ev->start_mark, "value too long (more than %d bytes)",
               CFG_SCALAR_MAX);
        return KP_ELIMIT;
    }
    n = node_new(YNODE_SCALAR, &ev->start_mark);
    n->len = ev->data.scalar.length;
    n->str = kp_xmalloc(n->len + 1);
    memcpy(n->str, ev->data.scalar.value, n->len);
    n->str[n->len] = '\0';
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n, &ev->start_mark);
}

static int
on_start(struct builder *b, const yaml_event_t *ev, enum ynode_kind kind)
{
    const yaml_char_t *anchor, *tag;
    struct ynode *n;
    int rc;

    if (kind == YNODE_MAP) {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
    } else {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
    }
    if ((rc = check_props(b, ev, anchor, tag)) != 0)
        return rc;
    if (b->depth == CFG_DEPTH_MAX) {
        berror(b, &ev->start_mark, "nesting too deep (more than %d levels)",
               CFG_DEPTH_MAX);
        return KP_ELIMIT;
    }
    n = node_new(kind, &ev->start_mark);
    if ((rc = attach(b, n, &ev->start_mark)) != 0)
        return rc;
    b->stack[b->depth++] = n;
    return 0;
}

/* Returns: 0, or a KP_E* code after a fatal error (already reported). */
static int
on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (b->docs++ == 0)
            return 0;
        berror(b, &ev->start_mark,
               "only one YAML document per file is allowed");
        return KP_EINVAL;
    case YAML_ALIAS_EVENT:
        berror(b, &ev->start_mark,
               "YAML aliases (*%s) and anchors are not allowed",
               (const char *)ev->data.alias.anchor);
        return KP_EINVAL;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, YNODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, YNODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        assert(b->depth > 0);
        b->depth--;
        return 0;
    default:
        return 0;
    }
}

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not
 * a mark: count lines and characters up to it. */
static void
offset_to_mark(yaml_mark_t *m, const char *buf, size_t len, size_t off)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < off && i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        if (c == '\n') {
            m->line++;
            m->column = 0;
        } else if ((c & 0xC0) != 0x80) {
            m->column++;
        }
    }
}

static void
report_parser_error(struct builder *b, const yaml_parser_t *p)
{
    yaml_mark_t m = p->problem_mark;
    const char *problem = p->problem ? p->problem : "parse error";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        cfg_errors_add(b->errs, b->file, 0, 0, "out of memory parsing YAML");
        return;
    case YAML_READER_ERROR:
        offset_to_mark(&m, b->buf, b->len, p->problem_offset);
        if (p->problem_value != -1) {
            berror(b, &m, "invalid YAML: %s (0x%X)", problem,
                   (unsigned)p->problem_value);
            return;
        }
        break;
    default:
        if (p->context != NULL) {
            berror(b, &m, "invalid YAML: %s (%s at line %u)", problem,
                   p->context, (unsigned)p->context_mark.line + 1);
            return;
        }
        break;
    }
    berror(b, &m, "invalid YAML: %s", problem);
}

int
ytree_parse(struct ynode **root, struct cfg_errors *errs, const char *file,
            const char *buf, size_t len)
{
    struct builder b = {.errs = errs, .file = file, .buf = buf, .len = len};
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = 0;

    assert(root != NULL && errs != NULL && file != NULL);
    assert(buf != NULL || len == 0);
    *root = NULL;
    if (len > CFG_FILE_MAX) {
        cfg_errors_add(errs, file, 0, 0, "file too large (more than %d bytes)",
                       CFG_FILE_MAX);
        return KP_ELIMIT;
    }
    if (!yaml_parser_initialize(&p)) {
        cfg_errors_add(errs, file, 0, 0, "out of memory parsing YAML");
        return KP_EINVAL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(buf ? buf : ""),
                                 len);
    for (;;) {
        yaml_event_type_t type;

        if (!yaml_parser_parse(&p, &ev)) {
            report_parser_error(&b, &p);
            rc = KP_EINVAL;
            break;
        }
        type = ev.type;
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (rc != 0 || type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    if (rc != 0) {
        ytree_free(b.root);
        return rc;
    }
    *root = b.root;
    return 0;
}
