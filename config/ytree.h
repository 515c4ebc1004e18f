/*
 * ytree.h - a YAML document as a small tree of nodes that remember where
 * they were written (libyaml's marks, made 1-based).
 *
 * Only what a configuration needs: scalars (kept as text; typing is the
 * schema's job), mappings with scalar keys, sequences. Refused with an
 * error: anchors and aliases (no alias expansion, so no alias bomb), tags,
 * more than one document. Bounded: file size, nesting depth, node count
 * and scalar length (limits in cfg.h). Duplicate keys are reported here,
 * and the duplicate pair is marked so later stages skip it.
 */
#ifndef KP_CONFIG_YTREE_H
#define KP_CONFIG_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cfg.h"

enum ynode_kind {
    YNODE_SCALAR,
    YNODE_MAP,
    YNODE_SEQ,
};

struct ynode {
    enum ynode_kind kind;
    unsigned line, col; /* 1-based position of the node's first character */
    /* Scalars: the text (NUL-terminated; may contain a NUL from an escape,
     * so len is authoritative) and whether it was written plain (unquoted,
     * not a block scalar): only plain "", "~" and "null" are null. */
    char *str;
    size_t len;
    bool plain;
    /* Map keys: a later repeat of an earlier key (reported already). */
    bool dup;
    /* Children: sequence items; for a map, key/value pairs flattened
     * (kids[2i] is a key, kids[2i+1] its value). */
    struct ynode **kids;
    size_t n;
};

/* Parse one YAML document from memory. An empty stream gives *root NULL.
 * Errors (syntax with libyaml's position, limits, anchors...) go to errs
 * against `file`; duplicate keys are reported without failing.
 * Returns: 0, or KP_EINVAL / KP_ELIMIT after a fatal error (*root NULL).
 * Out: *root, errs   In: file, buf, len */
int ytree_parse(struct ynode **root, struct cfg_errors *errs, const char *file,
                const char *buf, size_t len);

/* Free a tree (NULL is a no-op). */
void ytree_free(struct ynode *n);

/* Returns: whether n is absent or a plain null scalar ("", "~", null). */
bool ynode_is_null(const struct ynode *n);

/* Returns: the number of key/value pairs of a map (0 for other kinds). */
size_t ynode_map_len(const struct ynode *n);

/* Returns: the value for key `name` in map n (first occurrence), or NULL
 * if n is not a map or has no such key. Out: *key (may be NULL) */
const struct ynode *ynode_map_get(const struct ynode *n, const char *name,
                                  const struct ynode **key);

#endif
