/* Shared by the metrics tests: run `promtool check metrics` on a text.
 * Header-only (static) so each test executable gets its own copy. */
#ifndef KP_TESTS_KEEPER_PROMTOOL_H
#define KP_TESTS_KEEPER_PROMTOOL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Returns: promtool's exit status (-1 if it could not run).
 * Out: report (promtool's stdout+stderr, NUL-terminated, truncated to
 * reportsz) */
static int
promtool_check(const char *text, size_t len, char *report, size_t reportsz)
{
    char in[] = "/tmp/kp_promtool_in_XXXXXX";
    char out[] = "/tmp/kp_promtool_out_XXXXXX";
    char cmd[256];
    int fin = mkstemp(in), fout = mkstemp(out), status;
    size_t n = 0;
    FILE *f;

    report[0] = '\0';
    if (fin < 0 || fout < 0)
        return -1;
    if (write(fin, text, len) != (ssize_t)len)
        return -1;
    close(fin);
    close(fout);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s 2>&1", in,
             out);
    status = system(cmd);
    if ((f = fopen(out, "r")) != NULL) {
        n = fread(report, 1, reportsz - 1, f);
        fclose(f);
    }
    report[n] = '\0';
    unlink(in);
    unlink(out);
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

#endif
