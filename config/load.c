/* load.c - files and directories to struct cfg (cfg.h): read with a size
 * cap, parse, apply the schema, then the checks across files. */
#include "config/cfg.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/err.h"
#include "config/cfg_int.h"
#include "config/ytree.h"

/* One file being loaded. */
struct source {
    char *path;
    struct ynode *root;
    bool ok; /* loaded without errors of its own */
};

static size_t
error_count(const struct cfg_errors *e)
{
    return e->n + e->dropped;
}

/* The absolute directory of file `path`, so that relative paths in it
 * do not depend on the working directory after loading.
 * Returns: a new string (free it); the directory as written if it cannot
 * be resolved. */
static char *
abs_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir, *abs;

    if (slash == NULL)
        dir = kp_xstrdup(".");
    else if (slash == path)
        dir = kp_xstrdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        dir = kp_xstrdup(".");
    abs = realpath(dir, NULL);
    if (abs == NULL)
        return dir;
    free(dir);
    return abs;
}

static void
load_buffer(struct cfg_protocol *p, struct source *src, const char *dir,
            const char *buf, size_t len, unsigned flags,
            struct cfg_errors *errs)
{
    struct cfg_ctx ctx = {errs, src->path, dir, flags, 0};
    const struct ynode *root;

    if (ytree_parse(&src->root, errs, src->path, buf, len) != 0)
        return;
    root = src->root;
    if (ynode_is_null(root)) {
        cfg_errors_add(errs, src->path, 0, 0,
                       "empty configuration (expected the sections "
                       "protocol, chain, signer, oracles, reserve, "
                       "strategies)");
        return;
    }
    if (root->kind != YNODE_MAP) {
        cfg_ctx_error(&ctx, root,
                      "expected a mapping of sections "
                      "(protocol:, chain:, ...) at the top level");
        return;
    }
    if (strlen(src->path) >= sizeof(p->path)) {
        cfg_errors_add(errs, src->path, 0, 0, "file path too long");
        return;
    }
    strcpy(p->path, src->path);
    cfg_walk_map(&ctx, &cfg_protocol_schema, root, root, p, "");
}

static void
load_file(struct cfg_protocol *p, struct source *src, unsigned flags,
          struct cfg_errors *errs)
{
    char *dir, *buf;
    size_t len;
    int rc = cfg_read_file(&buf, &len, src->path, CFG_FILE_MAX);

    if (rc == KP_ELIMIT) {
        cfg_errors_add(errs, src->path, 0, 0,
                       "file too large (more than %d bytes)", CFG_FILE_MAX);
        return;
    }
    if (rc == KP_EINVAL) {
        cfg_errors_add(errs, src->path, 0, 0, "not a regular file");
        return;
    }
    if (rc != 0) {
        cfg_errors_add(errs, src->path, 0, 0, "cannot read: %s",
                       strerror(errno));
        return;
    }
    dir = abs_dir_of(src->path);
    load_buffer(p, src, dir, buf, len, flags, errs);
    free(dir);
    free(buf);
}

/* --- directories --- */

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_config_name(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".yaml");
}

/* The *.yaml files of dir, sorted, as "dir/name".
 * Returns: 0, or KP_ECONFIG after an error. Out: *names (free each and
 * the array), *n */
static int
list_dir(char ***names, size_t *n, const char *dir, struct cfg_errors *errs)
{
    size_t dl = strlen(dir), count = 0;
    char **v = kp_xcalloc(CFG_MAX_FILES, sizeof(*v));
    const char *sep = dl > 0 && dir[dl - 1] == '/' ? "" : "/";
    struct dirent *de;
    DIR *d = opendir(dir);

    *names = NULL;
    *n = 0;
    if (d == NULL) {
        cfg_errors_add(errs, dir, 0, 0, "cannot read: %s", strerror(errno));
        free(v);
        return KP_ECONFIG;
    }
    while ((de = readdir(d)) != NULL) {
        if (!is_config_name(de->d_name))
            continue;
        if (count == CFG_MAX_FILES) {
            cfg_errors_add(errs, dir, 0, 0,
                           "too many *.yaml files (at most %d)", CFG_MAX_FILES);
            break;
        }
        v[count] = kp_xmalloc(dl + strlen(de->d_name) + 2);
        sprintf(v[count++], "%s%s%s", dir, sep, de->d_name);
    }
    closedir(d);
    if (count == 0)
        cfg_errors_add(errs, dir, 0, 0, "no *.yaml files in directory");
    qsort(v, count, sizeof(v[0]), cmp_str);
    *names = v;
    *n = count;
    return 0;
}

/* --- checks across files --- */

static const struct ynode *
name_node(const struct ynode *root)
{
    const struct ynode *proto = ynode_map_get(root, "protocol", NULL);
    const struct ynode *name = ynode_map_get(proto, "name", NULL);

    return name != NULL ? name : root;
}

static void
check_protocol_names(const struct cfg *cfg, const struct source *src,
                     struct cfg_errors *errs)
{
    for (size_t j = 1; j < cfg->n_protocols; j++) {
        for (size_t i = 0; i < j; i++) {
            const struct ynode *at = name_node(src[j].root);

            if (!src[i].ok || !src[j].ok ||
                strcmp(cfg->protocols[i].name, cfg->protocols[j].name))
                continue;
            cfg_errors_add(errs, src[j].path, at->line, at->col,
                           "protocol.name: protocol '%s' is already defined "
                           "in %s",
                           cfg->protocols[j].name, src[i].path);
            break;
        }
    }
}

/* A process-wide section: the first file that sets it decides; others
 * that set it must agree; the result is copied to every protocol. The
 * structs come from zeroed memory, so memcmp compares them exactly. */
static void
merge_section(struct cfg *cfg, const struct source *src, const char *key,
              size_t off, size_t size, void *out, struct cfg_errors *errs)
{
    size_t first = SIZE_MAX;

    for (size_t i = 0; i < cfg->n_protocols; i++) {
        const struct ynode *k = NULL;
        const char *base = (const char *)&cfg->protocols[i];

        if (!src[i].ok || ynode_is_null(ynode_map_get(src[i].root, key, &k)))
            continue;
        if (first == SIZE_MAX) {
            first = i;
            continue;
        }
        if (memcmp(base + off, (const char *)&cfg->protocols[first] + off,
                   size) != 0)
            cfg_errors_add(errs, src[i].path, k->line, k->col,
                           "%s: differs from the '%s' section in %s (it "
                           "applies to the whole process, so files that set "
                           "it must agree)",
                           key, key, src[first].path);
    }
    if (cfg->n_protocols == 0)
        return;
    memcpy(out,
           (const char *)&cfg->protocols[first == SIZE_MAX ? 0 : first] + off,
           size);
    for (size_t i = 0; i < cfg->n_protocols; i++)
        memcpy((char *)&cfg->protocols[i] + off, out, size);
}

static void
check_across(struct cfg *cfg, const struct source *src, struct cfg_errors *errs)
{
    check_protocol_names(cfg, src, errs);
    merge_section(cfg, src, "metrics", offsetof(struct cfg_protocol, metrics),
                  sizeof(cfg->metrics), &cfg->metrics, errs);
    merge_section(cfg, src, "log", offsetof(struct cfg_protocol, log),
                  sizeof(cfg->log), &cfg->log, errs);
}

/* --- entry points --- */

static int
finish(struct cfg *cfg, struct source *src, size_t before,
       struct cfg_errors *errs)
{
    check_across(cfg, src, errs);
    for (size_t i = 0; i < cfg->n_protocols; i++) {
        ytree_free(src[i].root);
        free(src[i].path);
    }
    free(src);
    if (error_count(errs) == before)
        return 0;
    cfg_cleanup(cfg);
    cfg_errors_sort(errs);
    return KP_ECONFIG;
}

/* Take the array of paths; load each into a new protocol. */
static int
load_paths(struct cfg *cfg, char **paths, size_t n, unsigned flags,
           size_t before, struct cfg_errors *errs)
{
    struct source *src = kp_xcalloc(n, sizeof(*src));

    cfg->protocols = kp_xcalloc(n, sizeof(cfg->protocols[0]));
    cfg->n_protocols = n;
    for (size_t i = 0; i < n; i++) {
        size_t e0 = error_count(errs);

        src[i].path = paths[i];
        load_file(&cfg->protocols[i], &src[i], flags, errs);
        src[i].ok = error_count(errs) == e0;
    }
    free(paths);
    return finish(cfg, src, before, errs);
}

int
cfg_load(struct cfg *cfg, const char *path, unsigned flags,
         struct cfg_errors *errs)
{
    size_t before, n = 1;
    struct stat st;
    char **paths;

    assert(cfg != NULL && path != NULL && errs != NULL);
    memset(cfg, 0, sizeof(*cfg));
    before = error_count(errs);
    if (stat(path, &st) != 0) {
        cfg_errors_add(errs, path, 0, 0, "cannot read: %s", strerror(errno));
        return KP_ECONFIG;
    }
    if (S_ISDIR(st.st_mode)) {
        if (list_dir(&paths, &n, path, errs) != 0)
            return KP_ECONFIG;
        if (error_count(errs) != before) {
            for (size_t i = 0; i < n; i++)
                free(paths[i]);
            free(paths);
            return KP_ECONFIG;
        }
    } else {
        paths = kp_xcalloc(1, sizeof(*paths));
        paths[0] = kp_xstrdup(path);
    }
    return load_paths(cfg, paths, n, flags, before, errs);
}

int
cfg_load_mem(struct cfg *cfg, const char *name, const char *buf, size_t len,
             unsigned flags, struct cfg_errors *errs)
{
    struct source *src;
    size_t before;

    assert(cfg != NULL && name != NULL && errs != NULL);
    assert(buf != NULL || len == 0);
    memset(cfg, 0, sizeof(*cfg));
    before = error_count(errs);
    src = kp_xcalloc(1, sizeof(*src));
    src->path = kp_xstrdup(name);
    cfg->protocols = kp_xcalloc(1, sizeof(cfg->protocols[0]));
    cfg->n_protocols = 1;
    load_buffer(&cfg->protocols[0], src, "", buf, len, flags, errs);
    src->ok = error_count(errs) == before;
    return finish(cfg, src, before, errs);
}

/* Secrets live only in struct cfg_secret fields (the schema marks them),
 * and only in list entries that were loaded: wipe exactly those, not the
 * whole ~80 KB of each protocol. */
static void
wipe_secrets(const struct cfg_schema *s, char *obj)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct cfg_key *k = &s->keys[i];

        if (k->type == CT_SECTION) {
            wipe_secrets(k->aux, obj + k->off);
        } else if (k->type == CT_LIST) {
            size_t n = *(size_t *)(obj + k->count_off);

            for (size_t j = 0; j < n && j < k->max_items; j++)
                wipe_secrets(k->aux, obj + k->off + j * k->size);
        } else if (k->flags & (CF_SECRET | CF_SECRET_OK)) {
            kp_wipe(obj + k->off, sizeof(struct cfg_secret));
        }
    }
}

void
cfg_cleanup(struct cfg *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_protocols; i++)
        wipe_secrets(&cfg_protocol_schema, (char *)&cfg->protocols[i]);
    free(cfg->protocols);
    memset(cfg, 0, sizeof(*cfg));
}

const struct cfg_protocol *
cfg_find_protocol(const struct cfg *cfg, const char *name)
{
    assert(cfg != NULL && name != NULL);
    for (size_t i = 0; i < cfg->n_protocols; i++)
        if (!strcmp(cfg->protocols[i].name, name))
            return &cfg->protocols[i];
    return NULL;
}
