/* cli_run.c - `keeper run` (cli_run.h): options in, daemon_run out. */
#include "keeper/cli_run.h"

#include <getopt.h>
#include <stdio.h>

#include "keeper/cli.h"
#include "keeper/daemon.h"
#include "keeper/version.h"

#define RUN_USAGE                                                              \
    "keeper run -c FILE|DIR [--once] [--dry-run] [--state-dir DIR] "           \
    "[--log-format text|json] [--log-level debug|info|warn|error]"

enum {
    OPT_ONCE = 256,
    OPT_DRY_RUN,
    OPT_STATE_DIR,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL
};

static int
parse_opt(struct daemon_opts *o, int c, const char *arg, const char *cmd)
{
    switch (c) {
    case 'c':
        o->config_path = arg;
        return 0;
    case OPT_ONCE:
        o->once = true;
        return 0;
    case OPT_DRY_RUN:
        o->dry_run = true;
        return 0;
    case OPT_STATE_DIR:
        if (arg[0] == '\0')
            return cli_error("%s: --state-dir: empty path", cmd);
        o->state_dir = arg;
        return 0;
    case OPT_LOG_FORMAT:
        o->log_format_set = true;
        if (log_format_parse(&o->log_format, arg) != 0)
            return cli_error("%s: --log-format: want text or json (got '%s')",
                             cmd, arg);
        return 0;
    case OPT_LOG_LEVEL:
        o->log_level_set = true;
        if (log_level_parse(&o->log_level, arg) != 0)
            return cli_error("%s: --log-level: want debug, info, warn or "
                             "error (got '%s')",
                             cmd, arg);
        return 0;
    default:
        return cli_error("%s: unknown option or missing value (usage: %s)", cmd,
                         RUN_USAGE);
    }
}

/* Returns: 0, or CLI_EXIT_USAGE after printing why. */
static int
parse_opts(struct daemon_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"once", no_argument, NULL, OPT_ONCE},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1)
        if ((rc = parse_opt(o, c, optarg, argv[0])) != 0)
            return rc;
    if (optind < argc)
        return cli_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
    if (o->config_path == NULL)
        return cli_error("%s: missing -c FILE|DIR (usage: %s)", argv[0],
                         RUN_USAGE);
    return 0;
}

int
cli_run(int argc, char **argv)
{
    struct daemon_opts o = {.version = KEEPER_VERSION};
    int rc;

    if ((rc = parse_opts(&o, argc, argv)) != 0)
        return rc;
    return daemon_run(&o);
}
