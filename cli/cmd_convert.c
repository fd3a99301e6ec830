/*
 * cmd_convert.c — `facto convert`: ratings -> feature rows (one-hot user +
 * item, optional side features, through facto_fm_encoder; the test file is
 * encoded with the train file's layout; train_data.c reads and encodes)
 * written as libsvm text or SageMaker recordIO-protobuf, rows from one
 * of those formats to the other (exact round trip), and a ratings file
 * (text or .fds) to a .fds data set or to user<TAB>item<TAB>rating text.
 * Cost: one pass over the ratings, O(ratings * row length) to encode.
 */
#include "train_data.h"

#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subcommand ---------------------------------------------------- */

enum {
    OPT_FROM_RATINGS = 256, OPT_TEST_RATINGS, OPT_DATASET, OPT_SPLIT, OPT_SEED, OPT_TO, OPT_OUT, OPT_SIDE,
    OPT_USER_FEATURES, OPT_ITEM_FEATURES, OPT_NUMERIC_IDS, OPT_BINARIZE, OPT_INPUT, OPT_FROM, OPT_FEATURE_DIM,
    OPT_JSON, OPT_IMPLICIT, OPT_IMPLICIT_THRESHOLD, OPT_KEY_MAP
};

static const struct option cli_convert_opts[] = {
    {"from-ratings", required_argument, NULL, OPT_FROM_RATINGS},
    {"train", required_argument, NULL, OPT_FROM_RATINGS},
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
    {"implicit", no_argument, NULL, OPT_IMPLICIT},
    {"implicit-threshold", required_argument, NULL, OPT_IMPLICIT_THRESHOLD},
    {"key-map", required_argument, NULL, OPT_KEY_MAP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void cli_convert_help(const char *verb)
{
    facto_fm_encode_options e = facto_fm_encode_options_default();
    printf("Usage: %s (--dataset NAME --split SPLIT | --from-ratings FILE [--test-ratings FILE | --split SPEC])\n"
           "                     --to libsvm|recordio --out PREFIX [OPTIONS]\n"
           "       %s --input FILE --to libsvm|recordio --out FILE [--from FORMAT] [--feature_dim N]\n"
           "       %s (--train FILE | --input FILE) --to fds|tsv --out FILE [--implicit[-threshold T]]\n\n"
           "Turn ratings into factorization machine rows: each rating becomes one row with a one-hot\n"
           "user key and a one-hot item key (feature_dim = users + items, as in SageMaker's FM\n"
           "MovieLens example), label = the rating. The test ratings are encoded with the training\n"
           "file's layout; a user or item unknown to training gets no key. Writes PREFIX.train and,\n"
           "when there is a test part, PREFIX.test, and prints 'feature_dim N' first.\n"
           "The second form converts rows between the two formats (reading back gives the same rows).\n"
           "The third writes any ratings file (text, or .fds) as a compact binary .fds data set, which\n"
           "every command reads by mapping it (docs/format.md), or as user<TAB>item<TAB>rating[<TAB>time]\n"
           "text; the same pairs and values either way. --train is --from-ratings.\n\n"
           "Ratings:\n"
           "  --dataset NAME     a registered data set, see `facto datasets list` (default: none)\n"
           "  --split SPLIT      an official split (ml-100k: u1..u5, ua, ub), or " CLI_SPLIT_SPECS "\n"
           "                     applied to the data set's ratings or to --from-ratings (no default)\n"
           "  --seed N           seed of the splits made on the fly (default 0)\n"
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
           "  --key-map FILE     also write the layout: a 'key<TAB>field<TAB>id' line a key (0<TAB>user<TAB>196,\n"
           "                     943<TAB>item<TAB>242, side features as field and value), to build\n"
           "                     a SageMaker request for string ids; a model trained on the same data\n"
           "                     and options (`facto train --key-map FILE`) has this layout (default: none)\n"
           CLI_IMPLICIT_HELP("off")
           "                     The label is then the pair's summed weight (1 with a threshold).\n"
           "Rows:\n"
           "  --input FILE       rows to convert (libsvm text or recordIO-protobuf) (default: none)\n"
           "  --from FORMAT      auto|libsvm|recordio, format of --input (default auto: by content)\n"
           "  --feature_dim N    number of columns (the recordIO shape); 0 = the input's (default 0)\n"
           "Output:\n"
           "  --to FORMAT        libsvm|recordio (rows), fds|tsv (a ratings file) (required)\n"
           "  --out PATH         PREFIX for ratings, FILE for --input ('-' = stdout) (required)\n"
           "  --json             print {\"feature_dim\", \"n_train\", \"n_test\", \"train\", \"test\"} (default: off)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb, verb, verb, e.numeric_ids ? "on" : "off", (double)e.binarize);
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

typedef struct cli_convert_args {
    cli_ratings_source src;
    facto_fm_encode_options enc;
    cli_readopts read;
    const char *to_text, *out, *input;
    const char *key_map; /* --key-map FILE, or NULL */
    facto_rows_format to, from;
    uint64_t dim;
    int json;
    int data_to; /* --to fds (1) or tsv (2): a ratings file to a ratings file */
} cli_convert_args;

static int cli_convert_option(const char *verb, int c, cli_convert_args *a)
{
    switch (c) {
    case OPT_FROM_RATINGS: a->src.ratings = optarg; return 0;
    case OPT_TEST_RATINGS: a->src.test_ratings = optarg; return 0;
    case OPT_DATASET: a->src.dataset = optarg; return 0;
    case OPT_SPLIT: a->src.split = optarg; return 0;
    case OPT_SEED: return cli_arg_u64(verb, "--seed", optarg, &a->src.seed);
    case OPT_TO:
        a->to_text = optarg;
        a->data_to = strcmp(optarg, "fds") == 0 ? 1 : strcmp(optarg, "tsv") == 0 ? 2 : 0;
        if (a->data_to || cli_rows_format_of(optarg, 0, &a->to))
            return 0;
        return cli_usage(verb, "--to: '%s' is not one of libsvm, recordio (rows), fds, tsv (ratings)", optarg);
    case OPT_OUT: a->out = optarg; return 0;
    case OPT_SIDE: a->src.side_features = 1; return 0;
    case OPT_USER_FEATURES: a->src.user_file = optarg; return 0;
    case OPT_ITEM_FEATURES: a->src.item_file = optarg; return 0;
    case OPT_NUMERIC_IDS: a->enc.numeric_ids = 1; return 0;
    case OPT_BINARIZE: return cli_arg_float(verb, "--binarize", optarg, 1e-30, 1e30, &a->enc.binarize);
    case OPT_INPUT: a->input = optarg; return 0;
    case OPT_KEY_MAP: a->key_map = optarg; return 0;
    case OPT_FROM: return cli_arg_rows_format(verb, "--from", optarg, 1, &a->from);
    case OPT_FEATURE_DIM:
        if (cli_arg_u64(verb, "--feature_dim", optarg, &a->dim) != 0)
            return FACTO_EXIT_USAGE;
        return a->dim > ((uint64_t)1 << 32) ? cli_usage(verb, "--feature_dim: %llu is above 2^32",
                                                           (unsigned long long)a->dim)
                                            : 0;
    case OPT_JSON: a->json = 1; return 0;
    case OPT_IMPLICIT: return cli_read_implicit(verb, &a->read, NULL);
    case OPT_IMPLICIT_THRESHOLD: return cli_read_implicit(verb, &a->read, optarg);
    default: return FACTO_EXIT_USAGE;
    }
}

static int cli_convert_parse(int argc, char **argv, cli_convert_args *a, int *help)
{
    const char *verb = argv[0];
    const cli_ratings_source *s = &a->src;
    int rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_convert_opts)) != -1) {
        if (c == 'h') {
            *help = 1;
            return 0;
        }
        rc = cli_convert_option(verb, c, a);
    }
    if (rc)
        return rc;
    if (!a->to_text)
        return cli_usage(verb, "missing --to libsvm|recordio|fds|tsv");
    if (!a->out)
        return cli_usage(verb, "missing --out PATH");
    if (!*a->out)
        return cli_usage(verb, "--out: the path is empty");
    if (a->data_to) {
        if (!!a->input + !!s->ratings != 1 || s->dataset)
            return cli_usage(verb, "--to %s needs exactly one of --input FILE, --train FILE (any ratings file)",
                             a->to_text);
        if (s->split || s->test_ratings || s->side_features || s->user_file || s->item_file || a->enc.numeric_ids ||
            a->enc.binarize > 0 || a->from != FACTO_ROWS_AUTO || a->dim > 0 || a->key_map)
            return cli_usage(verb, "--to %s takes the ratings file and the read options (--implicit, "
                                   "--implicit-threshold) only", a->to_text);
        return 0;
    }
    if (!!a->input + !!s->ratings + !!s->dataset != 1)
        return cli_usage(verb, "give exactly one of --input FILE, --from-ratings FILE, --dataset NAME");
    if (a->input && (s->split || s->test_ratings || s->side_features || s->user_file || s->item_file ||
                     a->enc.numeric_ids || a->enc.binarize > 0 || a->read.implicit_set || a->key_map))
        return cli_usage(verb, "--input converts rows; the ratings options do not apply to it");
    if (!a->input && (a->from != FACTO_ROWS_AUTO || a->dim > 0))
        return cli_usage(verb, "--from and --feature_dim go with --input");
    if (s->dataset && !s->split)
        return cli_usage(verb, "--dataset needs --split (an official split such as u1, or " CLI_SPLIT_SPECS ")");
    if (s->dataset && s->test_ratings)
        return cli_usage(verb, "--test-ratings goes with --from-ratings, not with --dataset");
    if (s->ratings && s->split && (s->test_ratings || !cli_split_is_spec(s->split)))
        return cli_usage(verb, "--split with --from-ratings must be " CLI_SPLIT_SPECS ", without --test-ratings");
    return 0;
}

/* Ratings -> PREFIX.train (and PREFIX.test). */
static int cli_convert_ratings(facto_ctx *ctx, const char *verb, cli_convert_args *a, const char *train_path,
                               const char *test_path)
{
    facto_dataset *dtr = NULL, *dte = NULL;
    facto_rows *train = NULL, *test = NULL;
    char user_file[4200], item_file[4200];
    a->src.read = &a->read;
    int rc = cli_ratings_read(ctx, verb, &a->src, &dtr, &dte, NULL, NULL, user_file, item_file, sizeof user_file);
    if (rc == 0) {
        a->enc.user_file = user_file[0] ? user_file : NULL;
        a->enc.item_file = item_file[0] ? item_file : NULL;
        rc = cli_ratings_encode(ctx, a->src.ratings ? a->src.ratings : a->src.dataset, dtr, dte, &a->enc,
                                a->key_map, cli_split_is_users(a->src.split), stderr, &train, &test);
    }
    facto_status st = FACTO_OK;
    if (rc == 0 && (st = facto_rows_write(ctx, train, train_path, a->to)) == FACTO_OK && test)
        st = facto_rows_write(ctx, test, test_path, a->to);
    if (rc == 0 && st != FACTO_OK)
        rc = cli_fail(ctx, st, 0);
    uint64_t dim = train ? facto_rows_dim(train) : 0;
    if (rc == 0 && a->json) {
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
    facto_dataset_free(dtr);
    facto_dataset_free(dte);
    return rc;
}

/* A ratings file (text or .fds) to .fds or text: FILE -> FILE. */
static int cli_convert_data(facto_ctx *ctx, cli_convert_args *a)
{
    const char *in = a->input ? a->input : a->src.ratings;
    facto_dataset *ds = NULL;
    int rc = cli_read(ctx, &a->read, in, &ds, NULL);
    if (rc != 0)
        return rc;
    facto_status st = a->data_to == 1 ? facto_dataset_write_fds(ctx, ds, a->out) : facto_dataset_write_tsv(ctx, ds, a->out);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
    } else if (strcmp(a->out, "-") == 0) {
        rc = 0;
    } else if (a->json) {
        json_t *root = json_object();
        json_object_set_new(root, "n_users", json_integer(facto_dataset_n_users(ds)));
        json_object_set_new(root, "n_items", json_integer(facto_dataset_n_items(ds)));
        json_object_set_new(root, "n_ratings", json_integer(facto_dataset_n_ratings(ds)));
        json_object_set_new(root, "out", cli_json_str(a->out));
        rc = cli_json_print(root);
    } else {
        printf("%d users, %d items, %lld ratings -> %s\n", (int)facto_dataset_n_users(ds),
               (int)facto_dataset_n_items(ds), (long long)facto_dataset_n_ratings(ds), a->out);
    }
    facto_dataset_free(ds);
    return rc;
}

int cli_cmd_convert(int argc, char **argv)
{
    const char *verb = argv[0];
    cli_convert_args a;
    memset(&a, 0, sizeof a);
    a.enc = facto_fm_encode_options_default();
    cli_read_defaults(&a.read);
    int help = 0, rc = cli_convert_parse(argc, argv, &a, &help);
    if (help) {
        cli_convert_help(verb);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;
    char train_path[4200], test_path[4200];
    snprintf(train_path, sizeof train_path, "%s.train", a.out);
    snprintf(test_path, sizeof test_path, "%s.test", a.out);
    const char *inputs[] = {a.input, a.src.ratings, a.src.test_ratings, a.src.user_file, a.src.item_file};
    int n_in = (int)(sizeof inputs / sizeof inputs[0]);
    if (a.input || a.data_to ? (rc = cli_convert_check_out(a.out, inputs, n_in)) != 0
                : (rc = cli_convert_check_out(train_path, inputs, n_in)) != 0 ||
                      (rc = cli_convert_check_out(test_path, inputs, n_in)) != 0)
        return rc;
    facto_ctx *ctx = cli_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    rc = a.data_to ? cli_convert_data(ctx, &a)
         : a.input ? cli_convert_rows(ctx, a.input, a.from, a.dim, a.out, a.to, a.json)
                 : cli_convert_ratings(ctx, verb, &a, train_path, test_path);
    facto_ctx_free(ctx);
    return rc;
}
