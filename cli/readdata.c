/*
 * readdata.c — the CLI's one way to read a ratings file: the read options
 * from --format/--delimiter/--columns, facto_dataset_read, and a note on
 * stderr when duplicate (user, item) pairs were merged. Cost: one streaming
 * pass over the file (the library reader's).
 */
#include "readdata.h"

void cli_read_defaults(cli_readopts *r)
{
    r->opts = facto_read_options_default();
    r->format_set = 0;
}

int cli_read_finish(cli_readopts *r)
{
    /* A delimiter or column list only means something for delimited text. */
    if (!r->format_set && (r->opts.delimiter != 0 || r->opts.columns != NULL))
        r->opts.format = FACTO_FORMAT_DELIMITED;
    return 0;
}

int cli_read(facto_ctx *ctx, const cli_readopts *r, const char *path, facto_dataset **out,
                   int64_t *dups_out)
{
    int64_t dups = 0;
    facto_status st = facto_dataset_read(ctx, path, &r->opts, out, &dups);
    if (st == FACTO_ERR_INVALID) {
        /* Only the read options (--format, --columns, --delimiter) are invalid. */
        cli_error("%s (check --format, --columns and --delimiter)", facto_errmsg(ctx));
        return FACTO_EXIT_USAGE;
    }
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    if (dups_out)
        *dups_out = dups;
    if (dups > 0)
        fprintf(stderr, "facto: note: %s: %lld duplicate (user, item) pairs; the last rating of each was kept\n",
                path, (long long)dups);
    return FACTO_EXIT_OK;
}
