/* errors.c - the list of configuration errors (cfg.h). */
#include "config/cfg.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

void
cfg_errors_init(struct cfg_errors *e)
{
    assert(e != NULL);
    memset(e, 0, sizeof(*e));
}

void
cfg_errors_cleanup(struct cfg_errors *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].file);
        free(e->v[i].msg);
    }
    free(e->v);
    memset(e, 0, sizeof(*e));
}

static char *
vformat(const char *fmt, va_list ap)
{
    va_list aq;
    char *s;
    int n;

    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    assert(n >= 0);
    s = kp_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void
cfg_errors_add(struct cfg_errors *e, const char *file, unsigned line,
               unsigned col, const char *fmt, ...)
{
    struct cfg_error *err;
    va_list ap;

    assert(e != NULL && file != NULL && fmt != NULL);
    if (e->n >= CFG_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 16;
        e->v = kp_xrealloc(e->v, e->cap * sizeof(e->v[0]));
    }
    err = &e->v[e->n++];
    err->file = kp_xstrdup(file);
    err->line = line;
    err->col = col;
    va_start(ap, fmt);
    err->msg = vformat(fmt, ap);
    va_end(ap);
}

/* Merge sort on (file, line, col): stable, so errors at one position keep
 * the order in which they were found. */
static int
error_cmp(const struct cfg_error *a, const struct cfg_error *b)
{
    int c = strcmp(a->file, b->file);

    if (c != 0)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return 0;
}

void
cfg_errors_sort(struct cfg_errors *e)
{
    assert(e != NULL);
    /* Insertion sort: at most CFG_ERRORS_MAX entries, mostly in order. */
    for (size_t i = 1; i < e->n; i++) {
        struct cfg_error x = e->v[i];
        size_t j = i;

        for (; j > 0 && error_cmp(&e->v[j - 1], &x) > 0; j--)
            e->v[j] = e->v[j - 1];
        e->v[j] = x;
    }
}

int
cfg_error_format(char *out, size_t cap, const struct cfg_error *err)
{
    assert(err != NULL && (out != NULL || cap == 0));
    if (err->line == 0)
        return snprintf(out, cap, "%s: %s", err->file, err->msg);
    return snprintf(out, cap, "%s:%u:%u: %s", err->file, err->line, err->col,
                    err->msg);
}

void
cfg_errors_print(FILE *f, const struct cfg_errors *e)
{
    assert(f != NULL && e != NULL);
    for (size_t i = 0; i < e->n; i++) {
        const struct cfg_error *err = &e->v[i];

        if (err->line == 0)
            fprintf(f, "%s: %s\n", err->file, err->msg);
        else
            fprintf(f, "%s:%u:%u: %s\n", err->file, err->line, err->col,
                    err->msg);
    }
    if (e->dropped > 0 && e->n > 0)
        fprintf(f, "%s: %zu more errors not shown\n", e->v[e->n - 1].file,
                e->dropped);
}
