/*
 * readdata.c — the CLI's one way to read a ratings file: the read options
 * from --format/--delimiter/--columns/--implicit/--implicit-threshold,
 * facto_dataset_read_with_stats, a note on stderr when duplicate (user,
 * item) ratings were merged, and for implicit data the read summary.
 * Cost: one streaming pass over the file (the library reader's).
 */
#include "readdata.h"

#include <math.h>
#include <stdlib.h>

void cli_read_defaults(cli_readopts *r)
{
    r->opts = facto_read_options_default();
    r->format_set = 0;
    r->implicit_set = 0;
}

int cli_read_implicit(const char *verb, cli_readopts *r, const char *threshold)
{
    r->opts.implicit = 1;
    r->implicit_set = 1;
    if (!threshold)
        return 0;
    double t;
    if (cli_arg_double(verb, "--implicit-threshold", threshold, -1e300, 1e300, &t) != 0)
        return FACTO_EXIT_USAGE;
    if (!(t > 0.0))
        return cli_usage(verb, "--implicit-threshold: %s is not above 0 (pairs whose summed weight is >= T "
                               "are kept)", threshold);
    r->opts.implicit_threshold = t;
    return 0;
}

int cli_read_finish(cli_readopts *r)
{
    /* A delimiter or column list only means something for delimited text. */
    if (!r->format_set && (r->opts.delimiter != 0 || r->opts.columns != NULL))
        r->opts.format = FACTO_FORMAT_DELIMITED;
    return 0;
}

/* What the reader did with an implicit file, on stderr. */
static void cli_read_summary(const char *path, const facto_read_options *o, const facto_dataset *ds,
                             const facto_read_stats *s)
{
    long long pairs = facto_dataset_n_ratings(ds), users = facto_dataset_n_users(ds), items = facto_dataset_n_items(ds);
    fprintf(stderr, "facto: note: %s: %lld line%s of implicit feedback -> %lld pair%s (%lld user%s, %lld item%s)",
            path, (long long)s->n_lines, cli_plural(s->n_lines), pairs, cli_plural(pairs), users, cli_plural(users),
            items, cli_plural(items));
    fprintf(stderr, "; %lld repeated line%s added into their pair", (long long)s->n_duplicates,
            cli_plural(s->n_duplicates));
    char t[32];
    facto_format_double(t, sizeof t, o->implicit_threshold);
    if (o->implicit_threshold > 0)
        fprintf(stderr, "; %lld pair%s below the threshold %s dropped, and with them %d user%s and %d item%s",
                (long long)s->n_below_threshold, cli_plural(s->n_below_threshold), t,
                (int)s->n_users_dropped, cli_plural(s->n_users_dropped), (int)s->n_items_dropped,
                cli_plural(s->n_items_dropped));
    fputc('\n', stderr);
}

int cli_read(facto_ctx *ctx, const cli_readopts *r, const char *path, facto_dataset **out,
             facto_read_stats *stats_out)
{
    facto_read_stats stats;
    facto_status st = facto_dataset_read_with_stats(ctx, path, &r->opts, out, &stats);
    if (st == FACTO_ERR_INVALID) {
        /* Only the read options (--format, --columns, --delimiter) are invalid. */
        cli_error("%s (check --format, --columns and --delimiter)", facto_errmsg(ctx));
        return FACTO_EXIT_USAGE;
    }
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    if (stats_out)
        *stats_out = stats;
    if (r->opts.implicit)
        cli_read_summary(path, &r->opts, *out, &stats);
    else if (stats.n_duplicates > 0)
        fprintf(stderr,
                "facto: note: %s: %lld duplicate (user, item) pairs; the last rating of each was kept (for "
                "clicks, plays or purchases, whose repeats add up, read it with --implicit)\n",
                path, (long long)stats.n_duplicates);
    return FACTO_EXIT_OK;
}
