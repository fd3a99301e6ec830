/*
 * readdata.h — reading a ratings file from the CLI with the shared
 * --format/--delimiter/--columns and --implicit/--implicit-threshold options
 * (readdata.c). Reports merged duplicate pairs of explicit ratings, and the
 * read summary of implicit data (pairs, repeats summed, pairs below the
 * threshold, users and items dropped), on stderr. No cost beyond the
 * library reader's.
 */
#ifndef FACTO_CLI_READDATA_H
#define FACTO_CLI_READDATA_H

#include "cli.h"

typedef struct cli_readopts {
    facto_read_options opts;
    int format_set;   /* --format was given */
    int implicit_set; /* --implicit or --implicit-threshold was given */
} cli_readopts;

/* Help lines of --implicit (`dflt`: its default) and --implicit-threshold. */
#define CLI_IMPLICIT_FLAG_HELP(dflt)                                                                                \
    "  --implicit         read implicit feedback: the third column is a weight (plays, clicks; absent\n"           \
    "                     = 1), repeated (user, item) pairs add up\n"                                          \
    "                     (default: " dflt ")\n"
#define CLI_THRESHOLD_HELP                                                                                          \
    "  --implicit-threshold T  keep the pairs whose summed weight is >= T, each a positive of weight 1\n"      \
    "                     (MovieLens stars >= 4: 4); implies --implicit (default: none, every pair kept)\n"
#define CLI_IMPLICIT_HELP(dflt) CLI_IMPLICIT_FLAG_HELP(dflt) CLI_THRESHOLD_HELP

void cli_read_defaults(cli_readopts *r);
/* --implicit (threshold NULL) or --implicit-threshold T into r. Usage error or 0. */
int cli_read_implicit(const char *verb, cli_readopts *r, const char *threshold);
/* Call after option parsing: --delimiter/--columns without --format imply delimited. */
int cli_read_finish(cli_readopts *r);
/* Read `path`; on failure prints the library's message and returns exit code 2 (or 3;
 * 1 for bad read options). *stats (may be NULL) receives what the reader counted. */
int cli_read(facto_ctx *ctx, const cli_readopts *r, const char *path, facto_dataset **out,
             facto_read_stats *stats);

#endif /* FACTO_CLI_READDATA_H */
