/*
 * cmd_eval.c — `facto eval --model M --test FILE`: load a saved model, read a
 * ratings file, and print RMSE, MAE, the number of ratings scored and how
 * many had a user or item the model never saw (those are predicted from the
 * biases). Cost O(n_test * factors) through facto_model_evaluate.
 */
#include "readdata.h"

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
           "Score every rating of FILE with a saved model; print RMSE, MAE, the number of ratings\n"
           "and how many had a user or item unknown to the model (predicted from the biases).\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --test FILE        ratings to score; for an FM model, labelled rows (libsvm or\n"
           "                     recordIO-protobuf, --format libsvm|recordio; default: by content), or\n"
           "                     ratings for an FM trained from ratings (--solver als|mcmc) (required)\n"
           FACTO_CLI_READ_HELP
           "  --json             print {\"rmse\", \"mae\", \"count\", \"unknown_users\", \"unknown_items\"};\n"
           "                     FM: {\"rmse\", \"mae\"} or the classifier's binary_classification_accuracy,\n"
           "                     binary_classification_cross_entropy, binary_f_beta, auc, precision,\n"
           "                     recall, and \"count\" (default: text)\n"
           "  --binarize T       for a binary_classifier trained from ratings (--binarize T): label 1\n"
           "                     when a test rating is >= T, and print the classifier's metrics (required\n"
           "                     for such a model; give the training's T) (default: none)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb);
}

int cli_cmd_eval(int argc, char **argv)
{
    const char *verb = argv[0];
    const char *model_path = NULL, *test_path = NULL;
    int json = 0, rc = 0, c;
    float binarize = 0.0f;
    cli_readopts read;
    cli_read_defaults(&read);
    facto_rows_format rows_format = FACTO_ROWS_AUTO;
    int rows_format_set = 0;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_eval_opts)) != -1) {
        switch (c) {
        case 'h': cli_eval_help(verb); return FACTO_EXIT_OK;
        case OPT_MODEL: model_path = optarg; break;
        case OPT_TEST: test_path = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "libsvm") == 0 || strcmp(optarg, "recordio") == 0) {
                rc = cli_arg_rows_format(verb, "--format", optarg, 0, &rows_format);
                rows_format_set = 1;
                break;
            }
            rc = cli_arg_format(verb, optarg, &read.opts.format);
            read.format_set = 1;
            break;
        case OPT_COLUMNS: read.opts.columns = optarg; break;
        case OPT_DELIM: rc = cli_arg_delimiter(verb, optarg, &read.opts.delimiter); break;
        case OPT_JSON: json = 1; break;
        case OPT_BINARIZE: rc = cli_arg_float(verb, "--binarize", optarg, 1e-30, 3.4e38, &binarize); break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!model_path)
        return cli_usage(verb, "missing --model MODEL");
    if (!test_path)
        return cli_usage(verb, "missing --test FILE");
    cli_read_finish(&read);

    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_model *model = NULL;
    facto_dataset *test = NULL;
    facto_status st = facto_model_load(ctx, model_path, &model);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    unsigned inputs = facto_model_inputs(model);
    if ((inputs & FACTO_INPUT_ROWS) && (!(inputs & FACTO_INPUT_RATINGS) || rows_format_set)) {
        if (read.format_set || read.opts.columns || read.opts.delimiter)
            rc = cli_usage(verb, "a model trained on feature rows reads rows: --format auto|libsvm|recordio only");
        else
            rc = cli_fm_eval(ctx, model, test_path, rows_format, json);
        goto done;
    }
    if (rows_format_set) {
        rc = cli_usage(verb, "--format libsvm|recordio is for models trained on feature rows");
        goto done;
    }
    int classifier = facto_model_task(model) == FACTO_TASK_BINARY;
    if (classifier && !(binarize > 0.0f)) {
        /* Its scores are probabilities of rating >= the training's --binarize
         * threshold, which the model does not keep: an RMSE against the
         * ratings would mean nothing. */
        cli_error("%s: a binary_classifier trained from ratings needs --binarize T (the threshold it was "
                  "trained with) to be evaluated against ratings",
                  model_path);
        rc = FACTO_EXIT_USAGE;
        goto done;
    }
    if (!classifier && binarize > 0.0f) {
        rc = cli_usage(verb, "--binarize is for a binary_classifier trained from ratings");
        goto done;
    }
    if ((rc = cli_read(ctx, &read, test_path, &test, NULL)) != 0)
        goto done;
    facto_eval_options eo = facto_eval_options_default();
    eo.binarize = binarize;
    facto_metrics r;
    st = facto_model_evaluate(ctx, model, test, &eo, &r, NULL);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    if (classifier) {
        rc = cli_fm_report(&r, json);
        goto done;
    }
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "rmse", cli_json_num(r.rmse, 6));
        json_object_set_new(root, "mae", cli_json_num(r.mae, 6));
        json_object_set_new(root, "count", json_integer(r.n));
        json_object_set_new(root, "unknown_users", json_integer(r.n_unknown_users));
        json_object_set_new(root, "unknown_items", json_integer(r.n_unknown_items));
        rc = cli_json_print(root);
    } else {
        printf("RMSE           %.4f\n"
               "MAE            %.4f\n"
               "ratings        %lld\n"
               "unknown users  %lld\n"
               "unknown items  %lld\n",
               r.rmse, r.mae, (long long)r.n, (long long)r.n_unknown_users, (long long)r.n_unknown_items);
    }
done:
    facto_dataset_free(test);
    facto_model_free(model);
    facto_ctx_free(ctx);
    return rc;
}
