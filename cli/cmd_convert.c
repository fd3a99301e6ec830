/*
 * cmd_convert.c — `facto convert`: ratings -> factorization machine rows
 * (one-hot user + item, optional MovieLens u.user / u.item side features,
 * through facto_fm_encoder; the test file is encoded with the train file's
 * layout) written as libsvm text or SageMaker recordIO-protobuf, and rows
 * from one of those formats to the other (exact round trip). Also holds the
 * ratings -> rows helper `facto train --model fm --dataset` shares.
 * Cost: one pass over the ratings, O(ratings * row length) to encode.
 */
#include "readdata.h"

#include <libgen.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

int cli_arg_rows_format(const char *verb, const char *flag, const char *text, int allow_auto,
                          facto_rows_format *out)
{
    if (strcmp(text, "libsvm") == 0 || strcmp(text, "libfm") == 0)
        *out = FACTO_ROWS_LIBSVM;
    else if (strcmp(text, "recordio") == 0 || strcmp(text, "recordio-protobuf") == 0)
        *out = FACTO_ROWS_RECORDIO;
    else if (allow_auto && strcmp(text, "auto") == 0)
        *out = FACTO_ROWS_AUTO;
    else
        return cli_usage(verb, "%s: '%s' is not one of %slibsvm, recordio", flag, text,
                               allow_auto ? "auto, " : "");
    return 0;
}

/* Folder holding `path` into buf (for the side files next to a ratings file). */
static void cli_dir_of(const char *path, char *buf, size_t size)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(buf, size, "%s", dirname(tmp));
}

/* Train and test ratings as `src` says; *test NULL when there is none. */
static int cli_fm_read_ratings(facto_ctx *ctx, const char *verb, const cli_fm_source *src,
                                 facto_dataset **train, facto_dataset **test, char *dir, size_t dir_size)
{
    char train_path[4096], test_path[4096];
    const char *spec = NULL;
    facto_status st;
    int rc;
    *train = *test = NULL;
    if (src->dataset) {
        int custom = strchr(src->split, ':') != NULL;
        st = facto_dataset_split_files(ctx, src->dataset, custom ? NULL : src->split, train_path, test_path,
                                       sizeof train_path);
        if (st != FACTO_OK)
            return cli_fail(ctx, st, 0);
        if (custom)
            spec = src->split;
        if ((st = facto_dataset_path(ctx, src->dataset, dir, dir_size)) != FACTO_OK)
            return cli_fail(ctx, st, 0);
    } else {
        snprintf(train_path, sizeof train_path, "%s", src->ratings);
        snprintf(test_path, sizeof test_path, "%s", src->test_ratings ? src->test_ratings : "");
        spec = src->split;
        cli_dir_of(src->ratings, dir, dir_size);
    }
    facto_split split;
    if (spec) {
        if (facto_split_parse(ctx, spec, &split) != FACTO_OK)
            return cli_usage(verb, "--split: %s", facto_errmsg(ctx));
        split.seed = src->seed;
    }
    cli_readopts ro;
    cli_read_defaults(&ro);
    facto_dataset *all = NULL;
    if ((rc = cli_read(ctx, &ro, train_path, &all, NULL)) != 0)
        return rc;
    if (spec) {
        st = facto_dataset_split(ctx, all, &split, train, test);
        facto_dataset_free(all);
        return st == FACTO_OK ? 0 : cli_fail(ctx, st, 0);
    }
    *train = all;
    if (test_path[0] && (rc = cli_read(ctx, &ro, test_path, test, NULL)) != 0) {
        facto_dataset_free(all);
        *train = NULL;
        return rc;
    }
    return 0;
}

int cli_fm_from_ratings(facto_ctx *ctx, const char *verb, const cli_fm_source *src, FILE *info,
                              facto_rows **train, facto_rows **test, uint64_t *dim)
{
    facto_dataset *dtr = NULL, *dte = NULL;
    facto_fm_encoder *enc = NULL;
    char dir[4096], user_file[4200], item_file[4200];
    *train = *test = NULL;
    int rc = cli_fm_read_ratings(ctx, verb, src, &dtr, &dte, dir, sizeof dir);
    if (rc)
        return rc;
    facto_fm_encode_options eo = src->enc;
    eo.user_file = src->user_file;
    eo.item_file = src->item_file;
    if (src->side_features) {
        snprintf(user_file, sizeof user_file, "%s/u.user", dir);
        snprintf(item_file, sizeof item_file, "%s/u.item", dir);
        if (!eo.user_file)
            eo.user_file = user_file;
        if (!eo.item_file)
            eo.item_file = item_file;
    }
    facto_status st = facto_fm_encoder_new(ctx, dtr, &eo, &enc);
    if (st == FACTO_ERR_INVALID) {
        /* the layout does not fit the ratings (e.g. --numeric-ids on ids like 'u1'): name them */
        cli_error("%s: %s", src->ratings ? src->ratings : src->dataset ? src->dataset : "ratings",
                        facto_errmsg(ctx));
        rc = FACTO_EXIT_DATA;
        goto done;
    }
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    *dim = facto_fm_encoder_dim(enc);
    int64_t uu = 0, ui = 0;
    if ((st = facto_fm_encode(ctx, enc, dtr, train, NULL, NULL)) != FACTO_OK ||
        (dte && (st = facto_fm_encode(ctx, enc, dte, test, &uu, &ui)) != FACTO_OK)) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    fprintf(info, "encoded %lld training ratings (%d users, %d items", (long long)facto_rows_count(*train),
            (int)facto_dataset_n_users(dtr), (int)facto_dataset_n_items(dtr));
    if (eo.user_file || eo.item_file)
        fprintf(info, ", side features from%s%s%s%s", eo.user_file ? " " : "", eo.user_file ? eo.user_file : "",
                eo.item_file ? " " : "", eo.item_file ? eo.item_file : "");
    fprintf(info, "): feature_dim %llu\n", (unsigned long long)*dim);
    if (*test)
        fprintf(info, "encoded %lld test ratings (%lld with a user and %lld with an item unknown to training)\n",
                (long long)facto_rows_count(*test), (long long)uu, (long long)ui);
done:
    if (rc) {
        facto_rows_free(*train);
        facto_rows_free(*test);
        *train = *test = NULL;
    }
    facto_fm_encoder_free(enc);
    facto_dataset_free(dtr);
    facto_dataset_free(dte);
    return rc;
}

int cli_fm_read_sets(facto_ctx *ctx, const char *verb, const cli_fm_source *src, facto_dataset **train,
                           facto_dataset **test, char *user_file, char *item_file, size_t size)
{
    char dir[4096];
    int rc = cli_fm_read_ratings(ctx, verb, src, train, test, dir, sizeof dir);
    if (rc)
        return rc;
    snprintf(user_file, size, "%s", src->user_file ? src->user_file : "");
    snprintf(item_file, size, "%s", src->item_file ? src->item_file : "");
    if (src->side_features) {
        if (!src->user_file)
            snprintf(user_file, size, "%s/u.user", dir);
        if (!src->item_file)
            snprintf(item_file, size, "%s/u.item", dir);
    }
    return 0;
}

/* ---- the subcommand ---------------------------------------------------- */

enum {
    OPT_FROM_RATINGS = 256, OPT_TEST_RATINGS, OPT_DATASET, OPT_SPLIT, OPT_SEED, OPT_TO, OPT_OUT, OPT_SIDE,
    OPT_USER_FEATURES, OPT_ITEM_FEATURES, OPT_NUMERIC_IDS, OPT_BINARIZE, OPT_INPUT, OPT_FROM, OPT_FEATURE_DIM,
    OPT_JSON
};

static const struct option cli_convert_opts[] = {
    {"from-ratings", required_argument, NULL, OPT_FROM_RATINGS},
    {"test-ratings", required_argument, NULL, OPT_TEST_RATINGS},
    {"dataset", required_argument, NULL, OPT_DATASET},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"to", required_argument, NULL, OPT_TO},
    {"out", required_argument, NULL, OPT_OUT},
    {"side-features", no_argument, NULL, OPT_SIDE},
    {"user-features", required_argument, NULL, OPT_USER_FEATURES},
    {"item-features", required_argument, NULL, OPT_ITEM_FEATURES},
    {"numeric-ids", no_argument, NULL, OPT_NUMERIC_IDS},
    {"binarize", required_argument, NULL, OPT_BINARIZE},
    {"input", required_argument, NULL, OPT_INPUT},
    {"from", required_argument, NULL, OPT_FROM},
    {"feature_dim", required_argument, NULL, OPT_FEATURE_DIM},
    {"feature-dim", required_argument, NULL, OPT_FEATURE_DIM},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void cli_convert_help(const char *verb)
{
    facto_fm_encode_options e = facto_fm_encode_options_default();
    printf("Usage: %s (--dataset NAME --split SPLIT | --from-ratings FILE [--test-ratings FILE | --split SPEC])\n"
           "                     --to libsvm|recordio --out PREFIX [OPTIONS]\n"
           "       %s --input FILE --to libsvm|recordio --out FILE [--from FORMAT] [--feature_dim N]\n\n"
           "Turn ratings into factorization machine rows: each rating becomes one row with a one-hot\n"
           "user key and a one-hot item key (feature_dim = users + items, as in SageMaker's FM\n"
           "MovieLens example), label = the rating. The test ratings are encoded with the training\n"
           "file's layout; a user or item unknown to training gets no key. Writes PREFIX.train and,\n"
           "when there is a test part, PREFIX.test, and prints 'feature_dim N' first.\n"
           "The second form converts rows between the two formats (reading back gives the same rows).\n\n"
           "Ratings:\n"
           "  --dataset NAME     a registered data set, see `facto datasets list` (default: none)\n"
           "  --split SPLIT      an official split (ml-100k: u1..u5, ua, ub), or random:F, kfold:K:I, time:F\n"
           "                     applied to the data set's ratings or to --from-ratings (no default)\n"
           "  --seed N           seed of random/kfold splits (default 0)\n"
           "  --from-ratings FILE  training ratings, any format `facto train` reads (default: none)\n"
           "  --test-ratings FILE  test ratings, encoded with the training layout (default: none)\n"
           "  --side-features    add MovieLens 100K side features from u.user (age bucket, gender,\n"
           "                     occupation) and u.item (genres, release decade) in the data set's folder\n"
           "                     or the ratings file's folder (default: off)\n"
           "  --user-features FILE  u.user-style file to use instead (default: none)\n"
           "  --item-features FILE  u.item-style file to use instead (default: none)\n"
           "  --numeric-ids      SageMaker demo layout: user key = id - 1, item key = max user id + id - 1\n"
           "                     (ml-100k: feature_dim 943 + 1682 = 2625 for every split) (default: %s)\n"
           "  --binarize T       label 1 when the rating is >= T, else 0, for binary_classifier\n"
           "                     (default %g = the rating is the label)\n"
           "Rows:\n"
           "  --input FILE       rows to convert (libsvm text or recordIO-protobuf) (default: none)\n"
           "  --from FORMAT      auto|libsvm|recordio, format of --input (default auto: by content)\n"
           "  --feature_dim N    number of columns (the recordIO shape); 0 = the input's (default 0)\n"
           "Output:\n"
           "  --to FORMAT        libsvm|recordio (required)\n"
           "  --out PATH         PREFIX for ratings, FILE for --input ('-' = stdout) (required)\n"
           "  --json             print {\"feature_dim\", \"n_train\", \"n_test\", \"train\", \"test\"} (default: off)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb, verb, e.numeric_ids ? "on" : "off", (double)e.binarize);
}

static int cli_convert_rows(facto_ctx *ctx, const char *input, facto_rows_format from, uint64_t dim,
                              const char *out, facto_rows_format to, int json)
{
    facto_rows *rows = NULL;
    facto_status st = facto_rows_read(ctx, input, from, dim, &rows);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    if (dim > 0 && (st = facto_rows_set_dim(ctx, rows, dim)) != FACTO_OK) {
        facto_rows_free(rows);
        return cli_fail(ctx, st, 0);
    }
    uint64_t d = facto_rows_dim(rows);
    int rc = 0;
    if ((st = facto_rows_write(ctx, rows, out, to)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
    } else if (strcmp(out, "-") != 0) {
        if (json) {
            json_t *root = json_object();
            json_object_set_new(root, "feature_dim", json_integer((json_int_t)d));
            json_object_set_new(root, "n_rows", json_integer(facto_rows_count(rows)));
            json_object_set_new(root, "nnz", json_integer(facto_rows_nnz(rows)));
            json_object_set_new(root, "out", cli_json_str(out));
            rc = cli_json_print(root);
        } else {
            printf("feature_dim %llu\n%lld rows, %lld entries -> %s\n", (unsigned long long)d,
                   (long long)facto_rows_count(rows), (long long)facto_rows_nnz(rows), out);
        }
    }
    facto_rows_free(rows);
    return rc;
}

/* 1 when `out` names an existing file that is also `in` (same device and inode). */
static int cli_same_file(const char *out, const char *in)
{
    struct stat so, si;
    if (!out || !in || strcmp(out, "-") == 0 || strcmp(in, "-") == 0)
        return 0;
    return stat(out, &so) == 0 && stat(in, &si) == 0 && so.st_dev == si.st_dev && so.st_ino == si.st_ino;
}

/* Refuse an output that would overwrite one of the inputs (exit 2). */
static int cli_convert_check_out(const char *out, const char *const *inputs, int n)
{
    for (int i = 0; i < n; i++) {
        if (cli_same_file(out, inputs[i])) {
            cli_error("%s: is the input file %s; writing there would destroy it (choose another --out)", out,
                            inputs[i]);
            return FACTO_EXIT_DATA;
        }
    }
    return 0;
}

int cli_cmd_convert(int argc, char **argv)
{
    const char *verb = argv[0];
    cli_fm_source src;
    memset(&src, 0, sizeof src);
    src.enc = facto_fm_encode_options_default();
    const char *to_text = NULL, *out = NULL, *input = NULL;
    facto_rows_format to = FACTO_ROWS_AUTO, from = FACTO_ROWS_AUTO;
    uint64_t dim = 0;
    int json = 0, rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_convert_opts)) != -1) {
        switch (c) {
        case 'h': cli_convert_help(verb); return FACTO_EXIT_OK;
        case OPT_FROM_RATINGS: src.ratings = optarg; break;
        case OPT_TEST_RATINGS: src.test_ratings = optarg; break;
        case OPT_DATASET: src.dataset = optarg; break;
        case OPT_SPLIT: src.split = optarg; break;
        case OPT_SEED: rc = cli_arg_u64(verb, "--seed", optarg, &src.seed); break;
        case OPT_TO: to_text = optarg; rc = cli_arg_rows_format(verb, "--to", optarg, 0, &to); break;
        case OPT_OUT: out = optarg; break;
        case OPT_SIDE: src.side_features = 1; break;
        case OPT_USER_FEATURES: src.user_file = optarg; break;
        case OPT_ITEM_FEATURES: src.item_file = optarg; break;
        case OPT_NUMERIC_IDS: src.enc.numeric_ids = 1; break;
        case OPT_BINARIZE: rc = cli_arg_float(verb, "--binarize", optarg, 1e-30, 1e30, &src.enc.binarize); break;
        case OPT_INPUT: input = optarg; break;
        case OPT_FROM: rc = cli_arg_rows_format(verb, "--from", optarg, 1, &from); break;
        case OPT_FEATURE_DIM:
            rc = cli_arg_u64(verb, "--feature_dim", optarg, &dim);
            if (rc == 0 && dim > ((uint64_t)1 << 32))
                rc = cli_usage(verb, "--feature_dim: %llu is above 2^32", (unsigned long long)dim);
            break;
        case OPT_JSON: json = 1; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!to_text)
        return cli_usage(verb, "missing --to libsvm|recordio");
    if (!out)
        return cli_usage(verb, "missing --out PATH");
    int n_sources = !!input + !!src.ratings + !!src.dataset;
    if (n_sources != 1)
        return cli_usage(verb, "give exactly one of --input FILE, --from-ratings FILE, --dataset NAME");
    if (input && (src.split || src.test_ratings || src.side_features || src.user_file || src.item_file ||
                  src.enc.numeric_ids || src.enc.binarize > 0))
        return cli_usage(verb, "--input converts rows; the ratings options do not apply to it");
    if (!input && (from != FACTO_ROWS_AUTO || dim > 0))
        return cli_usage(verb, "--from and --feature_dim go with --input");
    if (src.dataset && !src.split)
        return cli_usage(verb, "--dataset needs --split (u1..u5, ua, ub, random:F, kfold:K:I or time:F)");
    if (src.dataset && src.test_ratings)
        return cli_usage(verb, "--test-ratings goes with --from-ratings, not with --dataset");
    if (src.ratings && src.split && (src.test_ratings || !strchr(src.split, ':')))
        return cli_usage(verb, "--split with --from-ratings must be random:F, kfold:K:I or time:F, "
                                     "without --test-ratings");

    char train_path[4200], test_path[4200];
    snprintf(train_path, sizeof train_path, "%s.train", out);
    snprintf(test_path, sizeof test_path, "%s.test", out);
    {
        const char *inputs[] = {input, src.ratings, src.test_ratings, src.user_file, src.item_file};
        int n_in = (int)(sizeof inputs / sizeof inputs[0]);
        if (input ? (rc = cli_convert_check_out(out, inputs, n_in)) != 0
                  : (rc = cli_convert_check_out(train_path, inputs, n_in)) != 0 ||
                        (rc = cli_convert_check_out(test_path, inputs, n_in)) != 0)
            return rc;
    }
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    if (input) {
        rc = cli_convert_rows(ctx, input, from, dim, out, to, json);
        facto_ctx_free(ctx);
        return rc;
    }
    facto_rows *train = NULL, *test = NULL;
    rc = cli_fm_from_ratings(ctx, verb, &src, stderr, &train, &test, &dim);
    if (rc == 0) {
        facto_status st = facto_rows_write(ctx, train, train_path, to);
        if (st == FACTO_OK && test)
            st = facto_rows_write(ctx, test, test_path, to);
        if (st != FACTO_OK)
            rc = cli_fail(ctx, st, 0);
    }
    if (rc == 0 && json) {
        json_t *root = json_object();
        json_object_set_new(root, "feature_dim", json_integer((json_int_t)dim));
        json_object_set_new(root, "n_train", json_integer(facto_rows_count(train)));
        json_object_set_new(root, "n_test", json_integer(test ? facto_rows_count(test) : 0));
        json_object_set_new(root, "train", cli_json_str(train_path));
        json_object_set_new(root, "test", test ? cli_json_str(test_path) : json_null());
        rc = cli_json_print(root);
    } else if (rc == 0) {
        printf("feature_dim %llu\n%lld rows -> %s\n", (unsigned long long)dim, (long long)facto_rows_count(train),
               train_path);
        if (test)
            printf("%lld rows -> %s\n", (long long)facto_rows_count(test), test_path);
    }
    facto_rows_free(train);
    facto_rows_free(test);
    facto_ctx_free(ctx);
    return rc;
}
