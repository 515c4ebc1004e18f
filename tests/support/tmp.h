/*
 * tmp.h - temporary directories and small files for tests.
 */
#ifndef KP_TESTS_SUPPORT_TMP_H
#define KP_TESTS_SUPPORT_TMP_H

#include <stddef.h>
#include <sys/types.h>

/* Make a fresh directory $TMPDIR/kp-<tag>-XXXXXX ($TMPDIR defaults to
 * /tmp), mode 0700.
 * Returns: 0, or -1.   Out: dir (cap bytes)   In: tag */
int ts_tmpdir_make(char *dir, size_t cap, const char *tag);

/* Remove `dir` and everything below it (links are not followed).
 * Returns: 0, or -1 if something could not be removed. */
int ts_tmpdir_remove(const char *dir);

/* Read a small text file whole; trailing white space is cut (tools end
 * their output with a newline).
 * Returns: the text (free it), or NULL if it cannot be read. */
char *ts_read_text(const char *path);

/* Create `path` with `mode` (it must not exist yet) holding `text`.
 * Returns: 0, or -1. */
int ts_write_text(const char *path, const char *text, mode_t mode);

#endif
