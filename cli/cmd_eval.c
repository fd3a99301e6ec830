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
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_MODEL = 256, OPT_TEST, OPT_FORMAT, OPT_COLUMNS, OPT_DELIM, OPT_JSON, OPT_BINARIZE, OPT_IMPLICIT,
    OPT_IMPLICIT_THRESHOLD, OPT_METRICS, OPT_HISTORY, OPT_THREADS, OPT_PROPENSITIES, OPT_MAX_IPS_WEIGHT,
    OPT_EVENTS_DIR, OPT_IPS, OPT_IPS_K, OPT_MAX_POSITIONS, OPT_SAGEMAKER
};

static const struct option cli_eval_opts[] = {
    {"model", required_argument, NULL, OPT_MODEL},     {"test", required_argument, NULL, OPT_TEST},
    {"format", required_argument, NULL, OPT_FORMAT},   {"columns", required_argument, NULL, OPT_COLUMNS},
    {"delimiter", required_argument, NULL, OPT_DELIM}, {"json", no_argument, NULL, OPT_JSON},
    {"binarize", required_argument, NULL, OPT_BINARIZE}, {"help", no_argument, NULL, 'h'},
    {"implicit", no_argument, NULL, OPT_IMPLICIT},     {"implicit-threshold", required_argument, NULL, OPT_IMPLICIT_THRESHOLD},
    {"metrics", required_argument, NULL, OPT_METRICS}, {"history", required_argument, NULL, OPT_HISTORY},
    {"threads", required_argument, NULL, OPT_THREADS}, {"propensities", required_argument, NULL, OPT_PROPENSITIES},
    {"max-ips-weight", required_argument, NULL, OPT_MAX_IPS_WEIGHT}, {"events-dir", required_argument, NULL, OPT_EVENTS_DIR},
    {"ips", no_argument, NULL, OPT_IPS},               {"k", required_argument, NULL, OPT_IPS_K},
    {"max-positions", required_argument, NULL, OPT_MAX_POSITIONS}, {"sagemaker", no_argument, NULL, OPT_SAGEMAKER},
    {NULL, 0, NULL, 0}};

static void cli_eval_help(const char *verb)
{
    printf("Usage: %s --model MODEL --test FILE [OPTIONS]\n"
           "       %s --model MODEL --events-dir DIR --ips [--k K] [--max-ips-weight W]\n\n"
           "Score a test file with a saved model. A model with ids (trained from ratings) reads\n"
           "ratings; a model that scores feature rows reads labelled rows. Every model prints one\n"
           "table, a figure a line: a regressor's RMSE and MAE, a classifier's SageMaker metrics, a\n"
           "ranking model's (and with --metrics any model with ids') ranking metrics (docs/metrics.md)\n"
           "with the users ranked and skipped, then the number of ratings (or rows) and, for ratings,\n"
           "how many had a user or item unknown to the model (predicted by its fallback).\n\n"
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
           "                     recall and \"count\"; ranking metrics by name (\"ndcg@10\") with n_users and\n"
           "                     n_users_skipped; ratings add \"unknown_users\", \"unknown_items\" (default: text)\n"
           "  --sagemaker        the figures as SageMaker's log lines, as `facto train` prints them:\n"
           "                     #test_score (algo-1) : ('rmse', 0.89); with --ips ctr_ips@K,\n"
           "                     ctr_ips_clipped@K, ctr_naive@K, slates_used, clicks_used (default: the table)\n"
           "  --binarize T       a binary classifier trained from ratings: label 1 when a test rating\n"
           "                     is >= T, the threshold it was trained with (required for such a model)\n"
           "                     (default: none)\n"
           CLI_IMPLICIT_HELP("off; on for a model whose task is ranking")
           "  --metrics LIST     ranking metrics, e.g. ndcg@10,recall@20: precision@k, recall@k, ndcg@k,\n"
           "                     map@k, hr@k, mrr, auc, coverage@k; every test pair is relevant\n"
           "                     (default: none for a rating model; for a ranking model\n"
           "                     ndcg@10,recall@20,precision@10,map@10,mrr,hr@10,auc,coverage@10)\n"
           "  --history FILE     ratings of test users the model never saw (a users:F split's fold-in\n"
           "                     part), read as --test is: such a user is folded in from them and their\n"
           "                     items are not ranked (default: none, such users are skipped)\n"
           "  --threads N        threads ranking users (ranking metrics), 0 = all cores: more are faster\n"
           "                     on more cores, and the figures are the same for any count (default 1)\n"
           "  --propensities FILE  a regressor: also print the inverse-propensity-scored RMSE and MAE,\n"
           "                     estimates of the errors over every (user, item) pair, not only the\n"
           "                     observed ones (Schnabel et al., ICML 2016, section 3.2): IPS (sum of\n"
           "                     e / p over the model's users x items) and the self-normalised SNIPS\n"
           "                     (over sum 1 / p). FILE: `user item propensity` or `item propensity` lines, p\n"
           "                     the probability that the pair is in the test file; every test rating\n"
           "                     needs one (default: none)\n"
           "  --max-ips-weight W clip 1 / p at W >= 1 (default: no clipping; with --ips: 10)\n"
           "  --events-dir DIR   an event log (facto serve --events-dir), with --ips (default: none)\n"
           "  --ips              offline click-through rate of the model on the log's slates by inverse\n"
           "                     propensity scoring (Joachims et al., WSDM 2017): each slate re-ranked by\n"
           "                     the model, the clicks in its top k weighted 1/propensity of the position\n"
           "                     they were shown at, propensities CTR(p)/CTR(1) from the same log; beside\n"
           "                     it the clipped and the naive (unweighted) estimates (default: off)\n"
           "  --k K              --ips: the top K of each re-ranked slate (default 5)\n"
           "  --max-positions N  --ips: positions whose propensity is estimated; a click shown below\n"
           "                     position N is left out of the IPS and clipped estimates (counted as\n"
           "                     skipped), never of the naive one (default 100)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb, verb);
}

typedef struct cli_eval_args {
    const char *model, *test;
    const char *metrics, *history; /* --metrics, --history, or NULL */
    const char *propensities;      /* --propensities, or NULL */
    double max_ips_weight;         /* --max-ips-weight, 0 = none */
    int json, sagemaker, threads;
    float binarize;
    cli_readopts read;
    facto_rows_format rows_format;
    int rows_format_set;
    const char *events_dir; /* --events-dir, or NULL */
    int ips, ips_k, max_positions;
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
        case OPT_SAGEMAKER: a->sagemaker = 1; break;
        case OPT_BINARIZE: rc = cli_arg_float(verb, "--binarize", optarg, 1e-30, 3.4e38, &a->binarize); break;
        case OPT_IMPLICIT: rc = cli_read_implicit(verb, &a->read, NULL); break;
        case OPT_IMPLICIT_THRESHOLD: rc = cli_read_implicit(verb, &a->read, optarg); break;
        case OPT_METRICS: a->metrics = optarg; break;
        case OPT_HISTORY: a->history = optarg; break;
        case OPT_THREADS: rc = cli_arg_int(verb, "--threads", optarg, 0, 4096, &a->threads); break;
        case OPT_PROPENSITIES: a->propensities = optarg; break;
        case OPT_MAX_IPS_WEIGHT:
            rc = cli_arg_double(verb, "--max-ips-weight", optarg, 1.0, 1e30, &a->max_ips_weight);
            break;
        case OPT_EVENTS_DIR: a->events_dir = optarg; break;
        case OPT_IPS: a->ips = 1; break;
        case OPT_IPS_K: rc = cli_arg_int(verb, "--k", optarg, 1, 10000, &a->ips_k); break;
        case OPT_MAX_POSITIONS: rc = cli_arg_int(verb, "--max-positions", optarg, 1, 10000, &a->max_positions); break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!a->model)
        return cli_usage(verb, "missing --model MODEL");
    if (a->json && a->sagemaker)
        return cli_usage(verb, "give --json or --sagemaker, not both");
    if (a->events_dir || a->ips) {
        if (!a->events_dir || !a->ips)
            return cli_usage(verb, "--events-dir and --ips go together (the IPS estimate on an event log)");
        if (a->test || a->metrics || a->history || a->binarize > 0 || a->read.format_set || a->read.implicit_set ||
            a->propensities)
            return cli_usage(verb, "--events-dir --ips reads the log only: --test, --metrics, --history, "
                                   "--binarize, --format, --implicit and --propensities go with a test file");
        return 0;
    }
    if (a->ips_k || a->max_positions)
        return cli_usage(verb, "--k and --max-positions go with --events-dir --ips");
    if (!a->test)
        return cli_usage(verb, "missing --test FILE");
    if (a->metrics && (rc = cli_arg_metrics(verb, a->metrics)) != 0)
        return rc;
    if (a->max_ips_weight > 0.0 && !a->propensities)
        return cli_usage(verb, "--max-ips-weight goes with --propensities");
    return cli_read_finish(&a->read);
}

/*
 * What eval prints, one form for every task: JSON (SageMaker's names, the
 * count, the unknown ids of ratings, the users ranked), the table
 * (cli_print_table), or with --sagemaker SageMaker's log lines
 * ("#test_score (algo-1) : ('rmse', 0.89)"). `what` names the count
 * ("ratings", "rows"); `ratings`: the test file held ratings (ids).
 */
static int cli_eval_print(const facto_metrics *m, const facto_ips_errors *ips, const char *what, int ratings,
                          const cli_eval_args *a)
{
    const char *xn[] = {"IPS RMSE", "IPS MAE", "SNIPS RMSE", "SNIPS MAE"};
    const char *xk[] = {"ips_rmse", "ips_mae", "snips_rmse", "snips_mae"};
    double xv[4] = {0, 0, 0, 0};
    if (ips) {
        xv[0] = ips->ips_rmse;
        xv[1] = ips->ips_mae;
        xv[2] = ips->snips_rmse;
        xv[3] = ips->snips_mae;
    }
    if (a->json) {
        json_t *root = json_object();
        if (m->task == FACTO_TASK_REGRESSION) {
            /* the keys' order since the first release: rmse, mae, count, unknown ids, ranking metrics */
            json_object_set_new(root, "rmse", cli_json_float(m->rmse));
            json_object_set_new(root, "mae", cli_json_float(m->mae));
            for (int i = 0; ips && i < 4; i++)
                json_object_set_new(root, xk[i], cli_json_float(xv[i]));
            json_object_set_new(root, "count", json_integer(m->n));
            if (ratings) {
                json_object_set_new(root, "unknown_users", json_integer(m->n_unknown_users));
                json_object_set_new(root, "unknown_items", json_integer(m->n_unknown_items));
            }
            for (int i = 0; i < m->n_ranking; i++)
                json_object_set_new(root, m->ranking[i].name, cli_json_float(m->ranking[i].value));
            cli_json_users(root, m);
            return cli_json_print(root);
        }
        cli_json_metrics(root, "", m, 1);
        cli_json_users(root, m);
        json_object_set_new(root, "count", json_integer(m->n));
        if (ratings) {
            json_object_set_new(root, "unknown_users", json_integer(m->n_unknown_users));
            json_object_set_new(root, "unknown_items", json_integer(m->n_unknown_items));
        }
        return cli_json_print(root);
    }
    if (a->sagemaker) {
        cli_print_scores(stdout, "test", m);
        for (int i = 0; ips && i < 4; i++) {
            char num[32];
            printf("#test_score (algo-1) : ('%s', %s)\n", xk[i], cli_num(num, xv[i]));
        }
        cli_print_users(stdout, "test", m);
        return 0;
    }
    cli_print_table(stdout, m, what, ratings, ips ? xn : NULL, xv, ips ? 4 : 0);
    return 0;
}

/* 1 when the first line of text at `path` that is not blank or '#' reads as
 * ratings ("196<TAB>242<TAB>3", "userId,movieId,rating"): two fields or more
 * and no key:value among the first two; 0 for libsvm rows, recordIO
 * (binary) or a file that cannot be read (its reader then says why). */
static int cli_eval_looks_like_ratings(facto_ctx *ctx, const char *path)
{
    facto_rows_format form = FACTO_ROWS_AUTO;
    struct stat sb;
    /* a pipe is read once, by the rows reader */
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || facto_rows_detect(ctx, path, &form) != FACTO_OK ||
        form == FACTO_ROWS_RECORDIO)
        return 0;
    FILE *f = fopen(path, "rb");
    char line[4096];
    int ratings = 0;
    while (f && fgets(line, sizeof line, f)) {
        size_t skip = strspn(line, " \t\r\n");
        if (line[skip] == '\0' || line[skip] == '#')
            continue;
        char *save = NULL, *a = strtok_r(line + skip, " \t,;|\r\n", &save), *b = strtok_r(NULL, " \t,;|\r\n", &save);
        ratings = a && b && !strchr(a, ':') && !strchr(b, ':');
        break;
    }
    if (f)
        fclose(f);
    return ratings;
}

/* A model that scores feature rows, on the labelled rows of the test file. */
static int cli_eval_rows(facto_ctx *ctx, const facto_model *model, const cli_eval_args *a)
{
    if (a->read.format_set || a->read.opts.columns || a->read.opts.delimiter)
        return cli_usage("facto eval", "a model that scores feature rows reads rows: --format "
                                       "auto|libsvm|recordio only");
    if (a->read.implicit_set || a->metrics || a->history)
        return cli_usage("facto eval", "--implicit, --implicit-threshold, --metrics and --history are for a model "
                                       "with ids (trained from ratings); this one scores feature rows");
    if (a->rows_format != FACTO_ROWS_RECORDIO && cli_eval_looks_like_ratings(ctx, a->test)) {
        /* as `facto predict` says for 'user item' pairs */
        cli_error("%s: this model was trained on feature rows (ratings encoded one-hot into rows keep no ids), "
                  "so it scores labelled feature rows, not the ratings of %s: encode them with the training's "
                  "layout (`facto convert` with the same data, split, --numeric-ids and --binarize, --to libsvm) "
                  "and pass PREFIX.test, or train a model that keeps the ids (a model trained from ratings "
                  "evaluates ratings)",
                  a->model, a->test);
        return FACTO_EXIT_DATA;
    }
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
        rc = cli_eval_print(&m, NULL, "rows", 0, a);
    }
    facto_rows_free(rows);
    facto_rows_origin_free(origin);
    return rc;
}

/* The test (and --history) ratings, read as the model learnt: a ranking
 * model's as implicit feedback. */
static int cli_eval_read(facto_ctx *ctx, const facto_model *model, const cli_eval_args *a, facto_dataset **test,
                         facto_dataset **history)
{
    cli_readopts ro = a->read;
    if (facto_model_task(model) == FACTO_TASK_RANKING)
        ro.opts.implicit = 1;
    *test = *history = NULL;
    int rc = cli_read(ctx, &ro, a->test, test, NULL);
    if (rc == 0 && a->history && (rc = cli_read(ctx, &ro, a->history, history, NULL)) != 0) {
        facto_dataset_free(*test);
        *test = NULL;
    }
    return rc;
}

/* --propensities: the test ratings' inverse-propensity weights; a rating
 * without one is named with its line in the test file. */
static int cli_eval_weights(facto_ctx *ctx, const cli_eval_args *a, const facto_dataset *test, float **w)
{
    facto_propensity_stats ps;
    facto_status st = facto_propensity_weights(ctx, a->propensities, test, a->max_ips_weight, w, &ps);
    if (st == FACTO_ERR_NOT_FOUND && ps.missing >= 0) {
        char msg[1024], where[4300] = "";
        snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
        const int64_t *row_ptr, *times;
        const int32_t *items;
        const float *ratings;
        facto_dataset_csr(test, &row_ptr, &items, &ratings, &times);
        int32_t u = 0;
        while (row_ptr[u + 1] <= ps.missing)
            u++;
        int64_t line = 0;
        if (facto_dataset_find_line(ctx, a->test, &a->read.opts, facto_idmap_name(facto_dataset_users(test), u),
                                    facto_idmap_name(facto_dataset_items(test), items[ps.missing]), &line) == FACTO_OK &&
            line > 0)
            snprintf(where, sizeof where, " (the rating is %s:%lld)", a->test, (long long)line);
        cli_error("%s%s", msg, where);
        return FACTO_EXIT_DATA;
    }
    return st == FACTO_OK ? 0 : cli_fail(ctx, st, 0);
}

/* A model with ids, on the ratings of the test file. */
static int cli_eval_ratings(facto_ctx *ctx, const facto_model *model, const cli_eval_args *a)
{
    if (a->rows_format_set)
        return cli_usage("facto eval", "--format libsvm|recordio is for models that score feature rows");
    facto_task task = facto_model_task(model);
    int classifier = task == FACTO_TASK_BINARY;
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
    facto_dataset *test = NULL, *history = NULL;
    int rc = cli_eval_read(ctx, model, a, &test, &history);
    if (rc)
        return rc;
    facto_ctx_set_threads(ctx, a->threads);
    facto_eval_options eo = facto_eval_options_default();
    eo.binarize = a->binarize;
    eo.metrics = a->metrics;
    eo.history = history;
    facto_metrics m;
    float *scores = NULL, *weights = NULL;
    facto_ips_errors ips;
    if (a->propensities && task != FACTO_TASK_REGRESSION) {
        facto_dataset_free(test);
        facto_dataset_free(history);
        return cli_usage("facto eval", "--propensities weighs the errors of a rating regressor; this model is a %s",
                         task == FACTO_TASK_RANKING ? "ranking model" : "classifier");
    }
    if (a->propensities && (rc = cli_eval_weights(ctx, a, test, &weights)) != 0) {
        facto_dataset_free(test);
        facto_dataset_free(history);
        return rc;
    }
    if (a->propensities && !(scores = malloc((size_t)facto_dataset_n_ratings(test) * sizeof *scores + 1))) {
        free(weights);
        facto_dataset_free(test);
        facto_dataset_free(history);
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_status st = facto_model_evaluate(ctx, model, test, &eo, &m, scores);
    if (st == FACTO_OK && scores)
        st = facto_ips_errors_of(ctx, test, scores, weights,
                                 (double)facto_idmap_size(facto_model_users(model)) *
                                     (double)facto_idmap_size(facto_model_items(model)),
                                 &ips);
    if (st != FACTO_OK)
        rc = cli_fail(ctx, st, 0);
    else
        rc = cli_eval_print(&m, scores ? &ips : NULL, "ratings", 1, a);
    free(scores);
    free(weights);
    facto_dataset_free(test);
    facto_dataset_free(history);
    return rc;
}

/* --events-dir --ips: the model's offline CTR on the log's slates. */
static int cli_eval_ips(facto_ctx *ctx, const facto_model *model, const cli_eval_args *a)
{
    facto_events *ev = NULL;
    int rc = cli_events_read(ctx, a->events_dir, &ev);
    if (rc)
        return rc;
    int max_pos = a->max_positions ? a->max_positions : 100, n_pos = 0;
    double *prop = malloc((size_t)max_pos * sizeof *prop);
    facto_ips_options o = facto_ips_options_default();
    if (a->ips_k)
        o.k = a->ips_k;
    if (a->max_ips_weight > 0)
        o.max_weight = a->max_ips_weight;
    facto_ips_result r;
    facto_status st = prop ? facto_events_propensities(ctx, ev, max_pos, prop, &n_pos) : FACTO_ERR_NOMEM;
    if (st == FACTO_OK)
        st = facto_events_ips(ctx, model, ev, prop, n_pos, &o, &r);
    if (st != FACTO_OK) {
        cli_error("%s: %s", a->events_dir, prop ? facto_errmsg(ctx) : "out of memory");
        rc = cli_exit_of(st);
    } else if (a->json) {
        json_t *root = json_object(), *pj = json_array();
        json_object_set_new(root, "k", json_integer(o.k));
        json_object_set_new(root, "ctr_ips", cli_json_float(r.ctr_ips));
        json_object_set_new(root, "ctr_ips_clipped", cli_json_float(r.ctr_clipped));
        json_object_set_new(root, "max_ips_weight", cli_json_float(o.max_weight));
        json_object_set_new(root, "ctr_naive", cli_json_float(r.ctr_naive));
        json_object_set_new(root, "slates_used", json_integer(r.slates_used));
        json_object_set_new(root, "slots_used", json_integer(r.slots_used));
        json_object_set_new(root, "clicks_used", json_integer(r.clicks_used));
        json_object_set_new(root, "slates_unknown_user", json_integer(r.slates_unknown_user));
        json_object_set_new(root, "slates_unknown_item", json_integer(r.slates_unknown_item));
        json_object_set_new(root, "clicks_unknown_position", json_integer(r.clicks_unknown_position));
        for (int p = 0; p < n_pos; p++)
            json_array_append_new(pj, cli_json_float(prop[p]));
        json_object_set_new(root, "propensities", pj);
        rc = cli_json_print(root);
    } else if (a->sagemaker) {
        /* SageMaker's log lines, as the other evaluations print them */
        char num[32];
        printf("#test_score (algo-1) : ('ctr_ips@%d', %s)\n", o.k, cli_num(num, r.ctr_ips));
        printf("#test_score (algo-1) : ('ctr_ips_clipped@%d', %s)\n", o.k, cli_num(num, r.ctr_clipped));
        printf("#test_score (algo-1) : ('ctr_naive@%d', %s)\n", o.k, cli_num(num, r.ctr_naive));
        printf("#test_score (algo-1) : ('slates_used', %lld)\n", (long long)r.slates_used);
        printf("#test_score (algo-1) : ('clicks_used', %lld)\n", (long long)r.clicks_used);
    } else {
        char num[32];
        facto_events_counts n;
        facto_events_get_counts(ev, &n);
        printf("events         %lld impression%s, %lld click%s in %lld file%s (%lld torn line%s skipped)\n",
               (long long)n.impressions, cli_plural(n.impressions), (long long)n.clicks, cli_plural(n.clicks),
               (long long)n.files, cli_plural(n.files), (long long)n.torn_lines, cli_plural(n.torn_lines));
        printf("propensities   ");
        for (int p = 0; p < n_pos && p < 20; p++)
            printf("%s%.3f", p ? " " : "", prop[p]);
        printf("%s  (CTR(p)/CTR(1), positions 1..%d)\n", n_pos > 20 ? " ..." : "", n_pos);
        printf("used           %lld slate%s, %lld slot%s of their top %d, %lld click%s in them\n",
               (long long)r.slates_used, cli_plural(r.slates_used), (long long)r.slots_used, cli_plural(r.slots_used),
               o.k, (long long)r.clicks_used, cli_plural(r.clicks_used));
        printf("skipped        %lld slates (user unknown to the model or none), %lld slates (an item unknown), "
               "%lld clicks (position without a propensity)\n",
               (long long)r.slates_unknown_user, (long long)r.slates_unknown_item,
               (long long)r.clicks_unknown_position);
        printf("ctr@%d ips      %s\n", o.k, cli_num(num, r.ctr_ips));
        char cap[32];
        facto_format_double(cap, sizeof cap, o.max_weight);
        printf("ctr@%d clipped  %s  (weights capped at %s)\n", o.k, cli_num(num, r.ctr_clipped), cap);
        printf("ctr@%d naive    %s\n", o.k, cli_num(num, r.ctr_naive));
    }
    free(prop);
    facto_events_free(ev);
    return rc;
}

static int cli_eval_run(facto_ctx *ctx, const facto_model *model, void *arg)
{
    const cli_eval_args *a = arg;
    if (a->events_dir)
        return cli_eval_ips(ctx, model, a);
    unsigned inputs = facto_model_inputs(model);
    /* rows when it scores rows only, or when --format says rows */
    int rows = (inputs & FACTO_INPUT_ROWS) && (!(inputs & FACTO_INPUT_RATINGS) || a->rows_format_set);
    return rows ? cli_eval_rows(ctx, model, a) : cli_eval_ratings(ctx, model, a);
}

int cli_cmd_eval(int argc, char **argv)
{
    cli_eval_args a;
    memset(&a, 0, sizeof a);
    cli_read_defaults(&a.read);
    a.threads = 1;
    int help = 0, rc = cli_eval_parse(argc, argv, &a, &help);
    if (help) {
        cli_eval_help(argv[0]);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;
    return cli_run_with_model(a.model, cli_eval_run, &a);
}
