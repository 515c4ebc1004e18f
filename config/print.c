/* print.c - the normalized configuration as YAML, secrets redacted
 * (cfg_print in cfg.h). Driven by the same schema tables as loading, so
 * every key is printed, in table order, defaults included. */
#include "config/cfg.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"
#include "config/cfg_int.h"

static void print_map(FILE *f, const struct cfg_schema *s, const char *obj,
                      int indent, bool dash, const struct cfg_print_ctx *pc);

static bool
secret_is_set(const struct cfg_secret *s)
{
    return s->ref[0] != '\0' || s->value[0] != '\0';
}

/* A reference is shown as what it refers to, never as its value. */
static void
print_secret(FILE *f, const struct cfg_secret *s)
{
    char buf[CFG_REF_MAX + 16];

    if (s->ref[0] != '\0') {
        snprintf(buf, sizeof(buf), "<redacted: %s>", s->ref);
        cfg_print_quoted(f, buf);
    } else {
        /* Inline, which the schema allows only for non-secrets. */
        cfg_print_quoted(f, s->value);
    }
}

static bool
is_omitted(const struct cfg_key *k, const char *field)
{
    const struct cfg_schema *sub = k->aux;

    if (k->type == CT_SECTION)
        return sub->is_set != NULL && !sub->is_set(field);
    if (!(k->flags & CF_OMIT_EMPTY))
        return false;
    if (k->flags & (CF_SECRET | CF_SECRET_OK))
        return !secret_is_set((const struct cfg_secret *)field);
    return field[0] == '\0';
}

static void
print_list(FILE *f, const struct cfg_key *k, const char *obj, int indent,
           const struct cfg_print_ctx *pc)
{
    size_t n = *(const size_t *)(obj + k->count_off);

    if (n == 0) {
        fputs(" []\n", f);
        return;
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++)
        print_map(f, k->aux, obj + k->off + i * k->size, indent + 4, true, pc);
}

static void
print_key(FILE *f, const struct cfg_key *k, const char *obj, int indent,
          const struct cfg_print_ctx *pc)
{
    const char *field = obj + k->off;

    switch (k->type) {
    case CT_SECTION:
        fputc('\n', f);
        print_map(f, k->aux, field, indent + 2, false, pc);
        return;
    case CT_LIST:
        print_list(f, k, obj, indent, pc);
        return;
    default:
        break;
    }
    fputc(' ', f);
    if (k->flags & (CF_SECRET | CF_SECRET_OK))
        print_secret(f, (const struct cfg_secret *)field);
    else
        cfg_type(k->type)->print(f, k, field, pc);
    fputc('\n', f);
}

/* dash: the first line starts a list item ("- " in the last two columns
 * of the indentation). */
static void
print_map(FILE *f, const struct cfg_schema *s, const char *obj, int indent,
          bool dash, const struct cfg_print_ctx *pc)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct cfg_key *k = &s->keys[i];

        if (is_omitted(k, obj + k->off))
            continue;
        if (dash)
            fprintf(f, "%*s- ", indent - 2, "");
        else
            fprintf(f, "%*s", indent, "");
        dash = false;
        fprintf(f, "%s:", k->name);
        print_key(f, k, obj, indent, pc);
    }
}

int
cfg_print(FILE *f, const struct cfg *cfg)
{
    assert(f != NULL && cfg != NULL);
    for (size_t i = 0; i < cfg->n_protocols; i++) {
        const struct cfg_protocol *p = &cfg->protocols[i];
        struct cfg_print_ctx pc = {.token_decimals = p->reserve.decimals};

        if (i > 0)
            fputs("---\n", f);
        fputs("# ", f);
        for (const char *c = p->path; *c; c++)
            fputc(*c == '\n' || *c == '\r' ? '?' : *c, f);
        fputc('\n', f);
        print_map(f, &cfg_protocol_schema, (const char *)p, 0, false, &pc);
    }
    return fflush(f) != 0 || ferror(f) ? KP_EIO : 0;
}
