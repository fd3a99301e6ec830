/*
 * cmd_eval.c — `facto eval --model M --test FILE`: load a saved model and
 * score a test file with it. What the file holds follows what the model
 * scores (facto_model_inputs): ratings for a model with ids, labelled
 * feature rows (libsvm / recordIO) for one that scores rows; the figures
 * follow its task (facto_model_task): RMSE and MAE with the unknown ids of
 * a regressor on ratings, a classifier's SageMaker metrics otherwise.
 * Cost O(n_test * factors) through facto_model_evaluate(_rows).
 */
#include "hparams.h"
#include "readdata.h"
#include "rows_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_MODEL = 256, OPT_TEST, OPT_FORMAT, OPT_COLUMNS, OPT_DELIM, OPT_JSON, OPT_BINARIZE };

static const struct option cli_eval_opts[] = {
    {"model", required_argument, NULL, OPT_MODEL},     {"test", required_argument, NULL, OPT_TEST},
    {"format", required_argument, NULL, OPT_FORMAT},   {"columns", required_argument, NULL, OPT_COLUMNS},
    {"delimiter", required_argument, NULL, OPT_DELIM}, {"json", no_argument, NULL, OPT_JSON},
    {"binarize", required_argument, NULL, OPT_BINARIZE}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void cli_eval_help(const char *verb)
{
    printf("Usage: %s --model MODEL --test FILE [OPTIONS]\n\n"
           "Score a test file with a saved model. A model with ids (trained from ratings) reads\n"
           "ratings; a regressor prints RMSE, MAE, the number of ratings and how many had a user or\n"
           "item unknown to the model (predicted by its fallback). A model that scores feature rows\n"
           "reads labelled rows. A classifier prints SageMaker's metrics.\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --test FILE        ratings, or labelled rows (libsvm or recordIO-protobuf) for a model\n"
           "                     that scores feature rows (required)\n"
           "  --format F         ratings: " "auto|ml100k|ml1m|mlcsv|delimited; rows: libsvm|recordio\n"
           "                     (default auto: ratings from the first lines, rows by content)\n"
           "  --delimiter C      ratings: tab|comma|semicolon|space|auto or one character (default auto;\n"
           "                     implies --format delimited)\n"
           "  --columns LIST     ratings: user,item,rating[,timestamp] as header names or 1-based\n"
           "                     positions (default: the first columns in that order)\n"
           "  --json             print {\"rmse\", \"mae\", \"count\", \"unknown_users\", \"unknown_items\"}, or a\n"
           "                     classifier's binary_classification_accuracy,\n"
           "                     binary_classification_cross_entropy, binary_f_beta, auc, precision,\n"
           "                     recall and \"count\" (default: text)\n"
           "  --binarize T       a binary classifier trained from ratings: label 1 when a test rating\n"
           "                     is >= T, the threshold it was trained with (required for such a model)\n"
           "                     (default: none)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb);
}

typedef struct cli_eval_args {
    const char *model, *test;
    int json;
    float binarize;
    cli_readopts read;
    facto_rows_format rows_format;
    int rows_format_set;
} cli_eval_args;

static int cli_eval_parse(int argc, char **argv, cli_eval_args *a, int *help)
{
    const char *verb = argv[0];
    int rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_eval_opts)) != -1) {
        switch (c) {
        case 'h': *help = 1; return 0;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_TEST: a->test = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "libsvm") == 0 || strcmp(optarg, "recordio") == 0) {
                a->rows_format_set = 1;
                rc = cli_arg_rows_format(verb, "--format", optarg, 0, &a->rows_format);
            } else {
                a->read.format_set = 1;
                rc = cli_arg_format(verb, optarg, &a->read.opts.format);
            }
            break;
        case OPT_COLUMNS: a->read.opts.columns = optarg; break;
        case OPT_DELIM: rc = cli_arg_delimiter(verb, optarg, &a->read.opts.delimiter); break;
        case OPT_JSON: a->json = 1; break;
        case OPT_BINARIZE: rc = cli_arg_float(verb, "--binarize", optarg, 1e-30, 3.4e38, &a->binarize); break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!a->model)
        return cli_usage(verb, "missing --model MODEL");
    if (!a->test)
        return cli_usage(verb, "missing --test FILE");
    return cli_read_finish(&a->read);
}

/* The figures under SageMaker's names, and the count. */
static int cli_eval_scores(const facto_metrics *m, const char *what, int json)
{
    if (json) {
        json_t *root = json_object();
        cli_json_metrics(root, "", m, 1);
        json_object_set_new(root, "count", json_integer(m->n));
        return cli_json_print(root);
    }
    cli_print_scores(stdout, "test", m);
    printf("%-14s %lld\n", what, (long long)m->n);
    return 0;
}

/* A regressor on ratings: RMSE, MAE and the ids it did not know. */
static int cli_eval_regression(const facto_metrics *r, int json)
{
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "rmse", cli_json_num(r->rmse, 6));
        json_object_set_new(root, "mae", cli_json_num(r->mae, 6));
        json_object_set_new(root, "count", json_integer(r->n));
        json_object_set_new(root, "unknown_users", json_integer(r->n_unknown_users));
        json_object_set_new(root, "unknown_items", json_integer(r->n_unknown_items));
        return cli_json_print(root);
    }
    printf("RMSE           %.4f\n"
           "MAE            %.4f\n"
           "ratings        %lld\n"
           "unknown users  %lld\n"
           "unknown items  %lld\n",
           r->rmse, r->mae, (long long)r->n, (long long)r->n_unknown_users, (long long)r->n_unknown_items);
    return 0;
}

/* A model that scores feature rows, on the labelled rows of the test file. */
static int cli_eval_rows(facto_ctx *ctx, const facto_model *model, const cli_eval_args *a)
{
    if (a->read.format_set || a->read.opts.columns || a->read.opts.delimiter)
        return cli_usage("facto eval", "a model that scores feature rows reads rows: --format "
                                       "auto|libsvm|recordio only");
    uint64_t dim = 0;
    facto_rows *rows = NULL;
    facto_rows_origin *origin = NULL;
    int rc = cli_model_feature_dim(ctx, model, &dim);
    if (rc == 0)
        rc = cli_rows_read(ctx, a->test, a->rows_format, dim, &rows, &origin);
    if (rc)
        return rc;
    cli_rows_file file = {"evaluation row ", a->test, rows, origin};
    facto_metrics m;
    facto_status st;
    if ((rc = cli_rows_check_labels(&file, facto_model_task(model))) != 0) {
        /* reported */
    } else if ((st = facto_model_evaluate_rows(ctx, model, rows, &m)) != FACTO_OK) {
        /* a message about one row names its line; any other names the file */
        if (!cli_rows_report(facto_errmsg(ctx), &file, 1))
            cli_error("%s: %s", a->test, facto_errmsg(ctx));
        rc = cli_exit_of(st);
    } else {
        rc = cli_eval_scores(&m, "rows", a->json);
    }
    facto_rows_free(rows);
    facto_rows_origin_free(origin);
    return rc;
}

/* A model with ids, on the ratings of the test file. */
static int cli_eval_ratings(facto_ctx *ctx, const facto_model *model, const cli_eval_args *a)
{
    if (a->rows_format_set)
        return cli_usage("facto eval", "--format libsvm|recordio is for models that score feature rows");
    int classifier = facto_model_task(model) == FACTO_TASK_BINARY;
    if (classifier && !(a->binarize > 0.0f)) {
        /* Its scores are probabilities of rating >= the training's threshold,
         * which the model does not keep: an RMSE against the ratings would
         * mean nothing. */
        cli_error("%s: a binary classifier trained from ratings needs --binarize T (the threshold it was "
                  "trained with) to be evaluated against ratings",
                  a->model);
        return FACTO_EXIT_USAGE;
    }
    if (!classifier && a->binarize > 0.0f)
        return cli_usage("facto eval", "--binarize is for a binary classifier trained from ratings");
    facto_dataset *test = NULL;
    int rc = cli_read(ctx, &a->read, a->test, &test, NULL);
    if (rc)
        return rc;
    facto_eval_options eo = facto_eval_options_default();
    eo.binarize = a->binarize;
    facto_metrics m;
    facto_status st = facto_model_evaluate(ctx, model, test, &eo, &m, NULL);
    if (st != FACTO_OK)
        rc = cli_fail(ctx, st, 0);
    else
        rc = classifier ? cli_eval_scores(&m, "ratings", a->json) : cli_eval_regression(&m, a->json);
    facto_dataset_free(test);
    return rc;
}

int cli_cmd_eval(int argc, char **argv)
{
    cli_eval_args a;
    memset(&a, 0, sizeof a);
    cli_read_defaults(&a.read);
    int help = 0, rc = cli_eval_parse(argc, argv, &a, &help);
    if (help) {
        cli_eval_help(argv[0]);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_model *model = NULL;
    facto_status st = facto_model_load(ctx, a.model, &model);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
    } else {
        unsigned inputs = facto_model_inputs(model);
        /* rows when it scores rows only, or when --format says rows */
        int rows = (inputs & FACTO_INPUT_ROWS) && (!(inputs & FACTO_INPUT_RATINGS) || a.rows_format_set);
        rc = rows ? cli_eval_rows(ctx, model, &a) : cli_eval_ratings(ctx, model, &a);
    }
    facto_model_free(model);
    facto_ctx_free(ctx);
    return rc;
}
