/*
 * train_data.c — the data a model is trained on (train_data.h): ratings
 * from a data set's split or from files (split on the fly when asked),
 * side feature files, feature rows files with their origins, and ratings
 * one-hot encoded into rows (facto_fm_encoder, a data format, not a model)
 * for a configuration that trains on rows only. Design: the form comes from
 * the library's capabilities (facto_kind_info.train_inputs,
 * facto_params_inputs, facto_params_task); hyperparameters are read only
 * under the conventional names of hparams.h. Cost: the readers', plus
 * O(ratings * row length) to encode.
 */
#include "train_data.h"

#include "hparams.h"
#include "topn_out.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

/* Folder holding `path` into buf (for the side files next to a ratings file). */
static void cli_dir_of(const char *path, char *buf, size_t size)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(buf, size, "%s", dirname(tmp));
}

int cli_split_is_spec(const char *split)
{
    if (strchr(split, ':'))
        return 1;
    facto_ctx *ctx = cli_ctx_new();
    facto_split parsed;
    int spec = ctx && facto_split_parse(ctx, split, &parsed) == FACTO_OK;
    facto_ctx_free(ctx);
    return spec;
}

/* The files of src into train_path / test_path ("" = none), the split to
 * apply (*spec NULL: none) and the folder side files are looked up in. */
static int cli_ratings_files(facto_ctx *ctx, const cli_ratings_source *src, char *train_path, char *test_path,
                             size_t size, const char **spec, char *dir, size_t dir_size)
{
    *spec = NULL;
    dir[0] = '\0';
    if (!src->dataset) {
        snprintf(train_path, size, "%s", src->ratings);
        snprintf(test_path, size, "%s", src->test_ratings ? src->test_ratings : "");
        *spec = src->split;
        cli_dir_of(src->ratings, dir, dir_size);
        return 0;
    }
    int custom = cli_split_is_spec(src->split);
    facto_status st = facto_dataset_split_files(ctx, src->dataset, custom ? NULL : src->split, train_path,
                                                test_path, size);
    if (st == FACTO_OK && src->side_features)
        st = facto_dataset_path(ctx, src->dataset, dir, dir_size);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    *spec = custom ? src->split : NULL;
    return 0;
}

int cli_ratings_train_path(facto_ctx *ctx, const cli_ratings_source *src, char *path, size_t size)
{
    char test[4096], dir[4096];
    const char *spec;
    return cli_ratings_files(ctx, src, path, test, size < sizeof test ? size : sizeof test, &spec, dir, sizeof dir);
}

/* Side files to use: the named ones, else (--side-features) u.user / u.item in dir. */
static void cli_side_files(const cli_ratings_source *src, const char *dir, char *user_file, char *item_file,
                           size_t size)
{
    snprintf(user_file, size, "%s", src->user_file ? src->user_file : "");
    snprintf(item_file, size, "%s", src->item_file ? src->item_file : "");
    if (src->side_features && !src->user_file)
        snprintf(user_file, size, "%s/u.user", dir);
    if (src->side_features && !src->item_file)
        snprintf(item_file, size, "%s/u.item", dir);
}

int cli_split_is_users(const char *split)
{
    facto_ctx *ctx = cli_ctx_new();
    facto_split parsed;
    int users = ctx && split && facto_split_parse(ctx, split, &parsed) == FACTO_OK && parsed.kind == FACTO_SPLIT_USERS;
    facto_ctx_free(ctx);
    return users;
}

/* Split `all` (read from `path`) as `split` says: train and test, or for
 * users:F with a history the three parts of facto_dataset_split_users. */
static int cli_ratings_split(facto_ctx *ctx, const cli_ratings_source *src, const char *path,
                             const facto_dataset *all, const facto_split *split, facto_dataset **train,
                             facto_dataset **test, facto_dataset **history)
{
    facto_status st;
    if (history && split->kind == FACTO_SPLIT_USERS) {
        double h = src->history_fraction > 0 ? src->history_fraction : FACTO_SPLIT_HISTORY_FRACTION;
        st = facto_dataset_split_users(ctx, all, split->fraction, split->seed, h, train, history, test);
    } else {
        st = facto_dataset_split(ctx, all, split, train, test);
    }
    if (st == FACTO_OK)
        return 0;
    cli_error("%s: %s", path, facto_errmsg(ctx));
    return st == FACTO_ERR_INVALID ? FACTO_EXIT_USAGE : cli_exit_of(st);
}

int cli_ratings_read(facto_ctx *ctx, const char *verb, const cli_ratings_source *src, facto_dataset **train,
                     facto_dataset **test, facto_dataset **history, facto_read_stats *stats, char *user_file,
                     char *item_file, size_t size)
{
    char train_path[4096], test_path[4096], dir[4096];
    const char *spec;
    *train = *test = NULL;
    if (history)
        *history = NULL;
    int rc = cli_ratings_files(ctx, src, train_path, test_path, sizeof train_path, &spec, dir, sizeof dir);
    if (rc)
        return rc;
    facto_split split;
    if (spec) {
        if (facto_split_parse(ctx, spec, &split) != FACTO_OK)
            return cli_usage(verb, "--split: %s", facto_errmsg(ctx));
        split.seed = src->seed;
    }
    cli_readopts defaults;
    cli_read_defaults(&defaults);
    const cli_readopts *ro = src->read ? src->read : &defaults;
    facto_dataset *all = NULL;
    if ((rc = cli_read(ctx, ro, train_path, &all, stats)) != 0)
        return rc;
    if (spec) {
        rc = cli_ratings_split(ctx, src, train_path, all, &split, train, test, history);
        facto_dataset_free(all);
        if (rc)
            return rc;
    } else {
        *train = all;
        if (test_path[0] && (rc = cli_read(ctx, ro, test_path, test, NULL)) != 0) {
            facto_dataset_free(all);
            *train = NULL;
            return rc;
        }
    }
    cli_side_files(src, dir, user_file, item_file, size);
    return 0;
}

/* The layout of `e` as "key<TAB>field<TAB>id" lines after a header, key
 * ascending ("0<TAB>user<TAB>196", "2625<TAB>genre<TAB>Comedy"), to `path`
 * whole or not at all. Exit code. */
static int cli_key_map_write(facto_ctx *ctx, const facto_fm_encoder *e, const char *path)
{
    cli_outfile of;
    int rc = cli_outfile_open(&of, ctx, path);
    if (rc)
        return rc;
    fprintf(of.f, "key\tfield\tid\n");
    char name[1024];
    for (uint64_t k = 0; rc == 0 && k < facto_fm_encoder_dim(e); k++) {
        facto_status st = facto_fm_encoder_key_name(ctx, e, k, name, sizeof name);
        if (st != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            break;
        }
        const char *eq = strchr(name, '=');
        fprintf(of.f, "%llu\t%.*s\t%s\n", (unsigned long long)k, eq ? (int)(eq - name) : (int)strlen(name), name,
                eq ? eq + 1 : "");
    }
    int rc2 = cli_outfile_close(&of, rc == 0);
    return rc ? rc : rc2;
}

int cli_ratings_encode(facto_ctx *ctx, const char *name, const facto_dataset *train, const facto_dataset *test,
                       const facto_fm_encode_options *enc, const char *key_map, int users_split, FILE *info,
                       facto_rows **train_rows, facto_rows **test_rows)
{
    facto_fm_encoder *e = NULL;
    int rc = 0;
    *train_rows = *test_rows = NULL;
    facto_status st = facto_fm_encoder_new(ctx, train, enc, &e);
    if (st == FACTO_ERR_INVALID) {
        /* the layout does not fit the ratings (--numeric-ids on ids like 'u1'): name them */
        cli_error("%s: %s", name, facto_errmsg(ctx));
        return FACTO_EXIT_DATA;
    }
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    int64_t uu = 0, ui = 0;
    if ((st = facto_fm_encode(ctx, e, train, train_rows, NULL, NULL)) != FACTO_OK ||
        (test && (st = facto_fm_encode(ctx, e, test, test_rows, &uu, &ui)) != FACTO_OK)) {
        rc = cli_fail(ctx, st, 0);
        facto_rows_free(*train_rows);
        facto_rows_free(*test_rows);
        *train_rows = *test_rows = NULL;
    } else {
        long long n = facto_rows_count(*train_rows), nu = facto_dataset_n_users(train),
                  ni = facto_dataset_n_items(train);
        fprintf(info, "encoded %lld training rating%s (%lld user%s, %lld item%s", n, cli_plural(n), nu,
                cli_plural(nu), ni, cli_plural(ni));
        if (enc->user_file || enc->item_file)
            fprintf(info, ", side features from%s%s%s%s", enc->user_file ? " " : "",
                    enc->user_file ? enc->user_file : "", enc->item_file ? " " : "",
                    enc->item_file ? enc->item_file : "");
        fprintf(info, "): feature_dim %llu\n", (unsigned long long)facto_fm_encoder_dim(e));
        /* users:F holds its test users out of training: every one is unknown by design */
        long long nt = *test_rows ? (long long)facto_rows_count(*test_rows) : 0, users = users_split ? 0 : uu;
        long long worst = users > ui ? users : ui;
        if (*test_rows)
            fprintf(info, "encoded %lld test ratings (%lld with a user and %lld with an item unknown to training)\n",
                    nt, (long long)uu, (long long)ui);
        if (nt > 0 && 2 * worst > nt)
            fprintf(stderr, "facto: warning: %lld of %lld test ratings have %s unknown to training: is the test "
                            "set from the same data, with its columns in the same order (--columns)?\n",
                    worst, nt, worst == users ? "a user" : "an item");
        if (key_map && (rc = cli_key_map_write(ctx, e, key_map)) != 0) {
            facto_rows_free(*train_rows);
            facto_rows_free(*test_rows);
            *train_rows = *test_rows = NULL;
        } else if (key_map) {
            fprintf(info, "wrote the layout (key, field, id) to %s\n", key_map);
        }
    }
    facto_fm_encoder_free(e);
    return rc;
}

int cli_data_check(const char *verb, cli_data_opts *o, int rows_kind)
{
    cli_ratings_source *s = &o->src;
    int n = !!s->dataset + !!o->train + !!o->from_ratings + !!o->events_dir;
    if (o->events_dir && (s->split || o->format || o->read.opts.columns || o->read.opts.delimiter || s->side_features ||
                          s->user_file || s->item_file || o->numeric_ids))
        return cli_usage(verb, "--events-dir trains on the whole log's clicks and purchases; --split, --format, "
                               "--columns, --delimiter and the side-feature options go with ratings files");
    if (o->test && !o->train)
        return cli_usage(verb, "--test goes with --train (with --dataset, use --split; with --from-ratings, "
                               "--test-ratings)");
    if (o->test_ratings && !o->from_ratings)
        return cli_usage(verb, "--test-ratings goes with --from-ratings");
    if (o->train && rows_kind) {
        o->train_rows = o->train;
        o->test_rows = o->test;
    } else {
        s->ratings = o->train ? o->train : o->from_ratings;
        s->test_ratings = o->train ? o->test : o->test_ratings;
    }
    if (n == 0)
        return cli_usage(verb, "missing --dataset NAME --split SPLIT, --train FILE, --from-ratings FILE or "
                               "--events-dir DIR");
    if (n > 1)
        return cli_usage(verb, "give one of --dataset, --train, --from-ratings, --events-dir");
    if (s->dataset && !s->split)
        return cli_usage(verb, "--dataset needs --split (an official split such as u1, or " CLI_SPLIT_SPECS ")");
    if (s->ratings && s->split && s->test_ratings)
        return cli_usage(verb, "give a test file or --split, not both");
    if (s->ratings && s->split && !cli_split_is_spec(s->split))
        return cli_usage(verb, "--split with a ratings file must be " CLI_SPLIT_SPECS);
    if (o->fold_in_set && !cli_split_is_users(s->split))
        return cli_usage(verb, "--fold-in-fraction goes with --split users:F (the share of a held-out user's "
                               "ratings folded in at evaluation)");
    if (o->seed_set && !(s->split && cli_split_is_spec(s->split)))
        return cli_usage(verb, "--seed seeds a split made on the fly (--split " CLI_SPLIT_SPECS "); this kind "
                               "has no seed hyperparameter");
    if (o->train_rows && (s->split || o->read.opts.columns || o->read.opts.delimiter || s->side_features ||
                          s->user_file || s->item_file || o->numeric_ids))
        return cli_usage(verb, "--train reads feature rows for this kind; --split, --columns, --delimiter and "
                               "the side-feature options go with ratings (--dataset or --from-ratings)");
    if (o->format && o->train_rows)
        return cli_arg_rows_format(verb, "--format", o->format, 1, &o->rows_format);
    if (o->format) {
        o->read.format_set = 1;
        if (cli_arg_format(verb, o->format, &o->read.opts.format) != 0)
            return FACTO_EXIT_USAGE;
    }
    return cli_read_finish(&o->read);
}

/* feature_dim (SageMaker's name for the width of the rows), 0 when unset or unknown. */
static uint64_t cli_feature_dim(facto_ctx *ctx, const facto_params *p)
{
    char buf[64];
    return cli_param_get(ctx, p, CLI_HP_FEATURE_DIM, buf, sizeof buf) ? strtoull(buf, NULL, 10) : 0;
}

/* Set feature_dim to `dim` in p and on the rows. */
static int cli_set_feature_dim(facto_ctx *ctx, facto_params *p, uint64_t dim, cli_train_data *d)
{
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)dim);
    facto_status st = facto_params_set(ctx, p, CLI_HP_FEATURE_DIM, text);
    if (st == FACTO_OK)
        st = facto_rows_set_dim(ctx, d->train_rows, dim);
    if (st == FACTO_OK && d->test_rows)
        st = facto_rows_set_dim(ctx, d->test_rows, dim);
    return st == FACTO_OK ? 0 : cli_fail(ctx, st, 0);
}

/* --train / --test feature rows, read against feature_dim when it is given. */
static int cli_data_rows(facto_ctx *ctx, const char *verb, const cli_data_opts *o, facto_params *p,
                         cli_train_data *d)
{
    if (!(facto_params_inputs(p) & FACTO_INPUT_ROWS))
        return cli_usage(verb, "this configuration trains on ratings, not on feature rows: give --dataset or "
                               "--from-ratings");
    uint64_t dim = cli_feature_dim(ctx, p);
    int rc = cli_rows_read(ctx, o->train_rows, o->rows_format, dim, &d->train_rows, &d->train_origin);
    if (rc == 0 && o->test_rows)
        rc = cli_rows_read(ctx, o->test_rows, o->rows_format, dim, &d->test_rows, &d->test_origin);
    if (rc)
        return rc;
    d->on_rows = 1;
    if (dim == 0 && cli_param_known(ctx, p, CLI_HP_FEATURE_DIM)) {
        dim = facto_rows_dim(d->train_rows);
        if (d->test_rows && facto_rows_dim(d->test_rows) > dim)
            dim = facto_rows_dim(d->test_rows);
        if (dim == 0) {
            cli_error("%s: no row holds a feature (every line has a label only), so there is nothing to learn "
                      "from; rows look like 'label index:value ...'",
                      o->train_rows);
            return FACTO_EXIT_DATA;
        }
        fprintf(stderr, "facto: note: %s not given; %llu from the data\n", CLI_HP_FEATURE_DIM,
                (unsigned long long)dim);
        if ((rc = cli_set_feature_dim(ctx, p, dim, d)) != 0)
            return rc;
    }
    facto_task task = facto_params_task(p);
    cli_rows_file tr = {"", o->train_rows, d->train_rows, d->train_origin};
    cli_rows_file te = {"", o->test_rows, d->test_rows, d->test_origin};
    if ((rc = cli_rows_check_labels(&tr, task)) != 0)
        return rc;
    return d->test_rows ? cli_rows_check_labels(&te, task) : 0;
}

/* Ratings one-hot encoded into rows, for a configuration that trains on rows only. */
static int cli_data_encode(facto_ctx *ctx, const char *verb, const cli_data_opts *o, facto_params *p, FILE *info,
                           cli_train_data *d)
{
    facto_fm_encode_options enc = facto_fm_encode_options_default();
    enc.user_file = d->user_file[0] ? d->user_file : NULL;
    enc.item_file = d->item_file[0] ? d->item_file : NULL;
    enc.numeric_ids = o->numeric_ids;
    enc.binarize = (float)cli_param_number(ctx, p, CLI_HP_BINARIZE, 0.0);
    const char *name = o->src.ratings ? o->src.ratings : o->src.dataset;
    int rc = cli_ratings_encode(ctx, name, d->train, d->test, &enc, o->key_map, cli_split_is_users(o->src.split), info,
                                &d->train_rows, &d->test_rows);
    if (rc)
        return rc;
    d->on_rows = d->encoded = 1;
    /* The rows carry the labels now: binarize (a setting of ratings) is done. */
    if (enc.binarize > 0.0f && facto_params_set(ctx, p, CLI_HP_BINARIZE, "0") != FACTO_OK)
        return cli_fail(ctx, facto_errcode(ctx), 0);
    if (!cli_param_known(ctx, p, CLI_HP_FEATURE_DIM))
        return 0;
    uint64_t dim = facto_rows_dim(d->train_rows), given = cli_feature_dim(ctx, p);
    if (given > 0 && given < dim)
        return cli_usage(verb, "%s %llu is smaller than the encoded layout's %llu", CLI_HP_FEATURE_DIM,
                         (unsigned long long)given, (unsigned long long)dim);
    return cli_set_feature_dim(ctx, p, given > 0 ? given : dim, d);
}

/* Read a side feature table; a table that gives none of `ids` (the
 * training users or items) a feature is for other data: named, exit 2. */
static int cli_data_side(facto_ctx *ctx, const char *path, const char *what, const facto_idmap *ids,
                         facto_features **out)
{
    facto_status st = facto_features_read(ctx, path, out);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    const facto_idmap *rows = facto_features_ids(*out);
    for (int32_t r = 0; r < facto_idmap_size(rows); r++) {
        int32_t n = 0;
        if (facto_idmap_find(ids, facto_idmap_name(rows, r)) >= 0 &&
            facto_features_row(ctx, *out, r, NULL, NULL, &n) == FACTO_OK && n > 0)
            return 0;
    }
    cli_error("%s: gives no %s of the training ratings a feature (empty, or a side file for other data?)", path,
              what);
    return FACTO_EXIT_DATA;
}

/* The side feature tables of a fit on ratings. */
static int cli_data_features(facto_ctx *ctx, cli_train_data *d)
{
    int rc = 0;
    if (d->user_file[0])
        rc = cli_data_side(ctx, d->user_file, "user", facto_dataset_users(d->train), &d->user_features);
    if (rc == 0 && d->item_file[0])
        rc = cli_data_side(ctx, d->item_file, "item", facto_dataset_items(d->train), &d->item_features);
    return rc;
}

/* --events-dir: the log's clicks and purchases as implicit feedback, for a ranking kind. */
static int cli_data_events(facto_ctx *ctx, const char *verb, const cli_data_opts *o, facto_params *p,
                           cli_train_data *d)
{
    if (facto_params_task(p) != FACTO_TASK_RANKING || !(facto_params_inputs(p) & FACTO_INPUT_RATINGS))
        return cli_usage(verb, "--events-dir trains a ranking kind on implicit feedback (clicks and purchases): "
                               "give --model ials, ease, bpr, warp, softmax, itemknn or popular");
    facto_events *ev = NULL;
    int rc = cli_events_read(ctx, o->events_dir, &ev);
    if (rc)
        return rc;
    facto_events_counts n;
    facto_events_get_counts(ev, &n);
    facto_status st = facto_events_interactions(ctx, ev, &d->train);
    facto_events_free(ev);
    if (st != FACTO_OK) {
        cli_error("%s: %s", o->events_dir, facto_errmsg(ctx));
        return cli_exit_of(st);
    }
    d->read = facto_read_options_default();
    d->read.implicit = 1;
    d->stats.n_lines = n.clicks + n.purchases;
    d->stats.n_duplicates = d->stats.n_lines - facto_dataset_n_ratings(d->train);
    const long long pairs = facto_dataset_n_ratings(d->train), nu = facto_dataset_n_users(d->train),
                    ni = facto_dataset_n_items(d->train);
    fprintf(stderr,
            "facto: note: %s: %lld clicks and purchases -> %lld (user, item) pair%s (%lld user%s, %lld item%s); "
            "%lld impression%s and %lld rating%s not used\n",
            o->events_dir, (long long)(n.clicks + n.purchases), pairs, cli_plural(pairs), nu, cli_plural(nu), ni,
            cli_plural(ni), (long long)n.impressions, cli_plural(n.impressions), (long long)n.ratings,
            cli_plural(n.ratings));
    return 0;
}

int cli_data_load(facto_ctx *ctx, const char *verb, const cli_data_opts *o, facto_params *p, FILE *info,
                  cli_train_data *d)
{
    memset(d, 0, sizeof *d);
    if (o->key_map && (o->train_rows || (facto_params_inputs(p) & FACTO_INPUT_RATINGS)))
        return cli_usage(verb, "--key-map writes the layout of ratings encoded into feature rows; this "
                               "configuration trains on %s", o->train_rows ? "feature rows as they are"
                                                                            : "the ratings themselves");
    if (o->train_rows)
        return cli_data_rows(ctx, verb, o, p, d);
    unsigned inputs = facto_params_inputs(p);
    int direct = (inputs & FACTO_INPUT_RATINGS) != 0, encode = !direct && (inputs & FACTO_INPUT_ROWS);
    if (!direct && !encode)
        return cli_usage(verb, "this configuration trains on neither ratings nor feature rows");
    if (direct && o->numeric_ids)
        return cli_usage(verb, "--numeric-ids is the layout of ratings encoded into feature rows; this "
                               "configuration trains on the ratings themselves");
    if (facto_params_task(p) == FACTO_TASK_BINARY && !(cli_param_number(ctx, p, CLI_HP_BINARIZE, 0.0) > 0.0))
        return cli_usage(verb, "a binary classifier trained from ratings needs --%s T (label 1 when the rating "
                               "is >= T)", CLI_HP_BINARIZE);
    if (o->events_dir)
        return cli_data_events(ctx, verb, o, p, d);
    cli_ratings_source src = o->src;
    char seed[64];
    /* a model whose task is ranking learns from implicit feedback */
    cli_readopts read = o->read;
    if (facto_params_task(p) == FACTO_TASK_RANKING)
        read.opts.implicit = 1;
    src.read = &read;
    if (!o->seed_set)
        src.seed = cli_param_get(ctx, p, CLI_HP_SEED, seed, sizeof seed) ? strtoull(seed, NULL, 10) : 0;
    int rc = cli_ratings_read(ctx, verb, &src, &d->train, &d->test, &d->history, &d->stats, d->user_file,
                              d->item_file, sizeof d->user_file);
    if (rc)
        return rc;
    d->read = read.opts;
    d->duplicates = d->stats.n_duplicates;
    return encode ? cli_data_encode(ctx, verb, o, p, info, d) : cli_data_features(ctx, d);
}

void cli_data_free(cli_train_data *d)
{
    facto_dataset_free(d->train);
    facto_dataset_free(d->test);
    facto_dataset_free(d->history);
    facto_features_free(d->user_features);
    facto_features_free(d->item_features);
    facto_rows_free(d->train_rows);
    facto_rows_free(d->test_rows);
    facto_rows_origin_free(d->train_origin);
    facto_rows_origin_free(d->test_origin);
    memset(d, 0, sizeof *d);
}
