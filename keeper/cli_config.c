/* cli_config.c - check-config and print-config (cli_config.h). */
#include "keeper/cli_config.h"

#include <getopt.h>
#include <stdio.h>

#include "config/cfg.h"
#include "keeper/cli.h"

struct config_opts {
    const char *path;
    unsigned flags;
};

/* Returns: 0, or CLI_EXIT_USAGE after printing why. */
static int
parse_opts(struct config_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"no-secrets", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->path = NULL;
    o->flags = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->path = optarg;
            break;
        case 'S':
            o->flags |= CFG_LOAD_NO_SECRETS;
            break;
        default:
            return cli_error("%s: unknown option or missing value (usage: "
                             "keeper %s -c FILE|DIR [--no-secrets])",
                             argv[0], argv[0]);
        }
    }
    if (optind < argc)
        return cli_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
    if (o->path == NULL)
        return cli_error("%s: missing -c FILE|DIR", argv[0]);
    return 0;
}

/* Load per the options. Returns: 0, or the exit status to return. */
static int
load(struct cfg *cfg, int argc, char **argv)
{
    struct config_opts o;
    struct cfg_errors errs;
    int rc;

    if ((rc = parse_opts(&o, argc, argv)) != 0)
        return rc;
    cfg_errors_init(&errs);
    if (cfg_load(cfg, o.path, o.flags, &errs) != 0) {
        cfg_errors_print(stderr, &errs);
        cfg_errors_cleanup(&errs);
        return CLI_EXIT_FAIL;
    }
    cfg_errors_cleanup(&errs);
    return 0;
}

int
cli_check_config(int argc, char **argv)
{
    struct cfg cfg;
    int rc;

    if ((rc = load(&cfg, argc, argv)) != 0)
        return rc;
    cfg_cleanup(&cfg);
    puts("configuration OK");
    return CLI_EXIT_OK;
}

int
cli_print_config(int argc, char **argv)
{
    struct cfg cfg;
    int rc;

    if ((rc = load(&cfg, argc, argv)) != 0)
        return rc;
    rc = cfg_print(stdout, &cfg);
    cfg_cleanup(&cfg);
    if (rc != 0) {
        cli_error("print-config: cannot write the output");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
