/*
 * readdata.h — reading a ratings file from the CLI with the shared
 * --format/--delimiter/--columns options (readdata.c). Reports merged
 * duplicate pairs on stderr. No cost beyond the library reader's.
 */
#ifndef FACTO_CLI_READDATA_H
#define FACTO_CLI_READDATA_H

#include "cli.h"

typedef struct cli_readopts {
    facto_read_options opts;
    int format_set; /* --format was given */
} cli_readopts;

void cli_read_defaults(cli_readopts *r);
/* Call after option parsing: --delimiter/--columns without --format imply delimited. */
int cli_read_finish(cli_readopts *r);
/* Read `path`; on failure prints the library's message and returns exit code 2 (or 3).
 * *dups (may be NULL) receives the number of merged duplicate pairs. */
int cli_read(facto_ctx *ctx, const cli_readopts *r, const char *path, facto_dataset **out,
                   int64_t *dups);

#endif /* FACTO_CLI_READDATA_H */
