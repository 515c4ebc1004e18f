/* Solidity contracts compiled at test time: see solc.h. */
#include "tests/support/solc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/proc.h"
#include "tests/support/tmp.h"

/* solcjs names its output after the source unit: "T.sol" -> "T_sol_T.bin"
 * (every character other than a letter or digit becomes '_'). */
static int
bin_path(char *out, size_t cap, const char *dir, const char *unit,
         const char *contract)
{
    int n = snprintf(out, cap, "%s/", dir);
    size_t at;

    if (n < 0 || (size_t)n >= cap)
        return -1;
    at = (size_t)n;
    for (const char *p = unit; *p && at + 1 < cap; p++)
        out[at++] = isalnum((unsigned char)*p) ? *p : '_';
    n = snprintf(out + at, cap - at, "_%s.bin", contract);
    return n >= 0 && (size_t)n < cap - at ? 0 : -1;
}

/* Run solcjs on `sol` with output to `outdir`; read the .bin. */
static int
compile_into(char **bin, const char *sol, const char *contract,
             const char *outdir)
{
    char solc[4096], base[4096], out[4096];
    const char *slash = strrchr(sol, '/');
    char *argv[] = {solc, "--bin",        "--base-path", base,
                    "-o", (char *)outdir, (char *)sol,   NULL};
    pid_t pid;

    if (slash == NULL || (size_t)(slash - sol) >= sizeof(base) ||
        ts_source_path(solc, sizeof(solc), "node_modules/.bin/solcjs") != 0)
        return -1;
    snprintf(base, sizeof(base), "%.*s", (int)(slash - sol), sol);
    pid = ts_spawn(argv, NULL);
    if (pid < 0 || ts_reap(pid) != 0 ||
        bin_path(out, sizeof(out), outdir, slash + 1, contract) != 0)
        return -1;
    *bin = ts_read_text(out);
    if (*bin != NULL && (*bin)[0] != '\0')
        return 0;
    free(*bin);
    *bin = NULL;
    return -1;
}

int
ts_solc_file(char **bin, const char *sol, const char *contract)
{
    char dir[4096];
    int rc;

    *bin = NULL;
    if (ts_tmpdir_make(dir, sizeof(dir), "solc") != 0)
        return -1;
    rc = compile_into(bin, sol, contract, dir);
    ts_tmpdir_remove(dir);
    if (rc != 0)
        fprintf(stderr, "solcjs: %s did not compile\n", sol);
    return rc;
}

int
ts_solc_source(char **bin, const char *source, const char *contract)
{
    char dir[4096], sol[4200];
    int rc = -1;

    *bin = NULL;
    if (ts_tmpdir_make(dir, sizeof(dir), "solc-src") != 0)
        return -1;
    snprintf(sol, sizeof(sol), "%s/%s.sol", dir, contract);
    if (ts_write_text(sol, source, 0600) == 0)
        rc = ts_solc_file(bin, sol, contract);
    ts_tmpdir_remove(dir);
    return rc;
}
