/*
 * cmd_train.c — `facto train`, one command for every kind (--model KIND,
 * default mf): the command's own options say where the data is and what to
 * print; every other --name VALUE is a hyperparameter of the kind, set by
 * name over SageMaker's hyperparameters.json (--hyperparameters). The data
 * is read as the configuration trains (train_data.c), the model fitted with
 * facto_model_fit, scored after the fit with the model interface and saved;
 * what is printed is train_report.c's. --help is generated from the kinds
 * and the kind's parameter table (hparams.c). Nothing here asks which kind
 * a model is. Cost: the fit's; the CLI adds one scoring pass over train
 * and test.
 */
#include "hparams.h"
#include "train_report.h"
#ifdef FACTO_WITH_MPI
#include "train_dist.h"
#endif

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLI_DEFAULT_KIND "mf"

/* The command's own options; any other --name VALUE is a hyperparameter. */
typedef enum {
    TO_MODEL = 1, TO_DATASET, TO_SPLIT, TO_TRAIN, TO_TEST, TO_FROM_RATINGS, TO_TEST_RATINGS, TO_EVENTS_DIR, TO_FORMAT, TO_COLUMNS,
    TO_DELIMITER, TO_SIDE, TO_USER_FEATURES, TO_ITEM_FEATURES, TO_NUMERIC_IDS, TO_HYPERPARAMETERS, TO_OUT, TO_JSON,
    TO_VERBOSE, TO_THREADS, TO_HELP, TO_IMPLICIT, TO_IMPLICIT_THRESHOLD, TO_METRICS, TO_FOLD_IN, TO_SEED,
    TO_PROPENSITIES, TO_MAX_IPS_WEIGHT, TO_KEY_MAP
#ifdef FACTO_WITH_MPI
    , TO_DISTRIBUTED, TO_ASYNC
#endif
} cli_train_opt;

static const struct {
    const char *name; /* '-' and '_' alike: --side-features and --side_features both match */
    cli_train_opt id;
    int has_arg;
    int yields;       /* 1: a hyperparameter of the same name wins (fm's implicit, a kind's seed) */
} cli_train_opts[] = {
    {"model", TO_MODEL, 1, 0},
    {"dataset", TO_DATASET, 1, 0},
    {"split", TO_SPLIT, 1, 0},
    {"train", TO_TRAIN, 1, 0},
    {"test", TO_TEST, 1, 0},
    {"from-ratings", TO_FROM_RATINGS, 1, 0},
    {"test-ratings", TO_TEST_RATINGS, 1, 0},
    {"events-dir", TO_EVENTS_DIR, 1, 0},
    {"format", TO_FORMAT, 1, 0},
    {"columns", TO_COLUMNS, 1, 0},
    {"delimiter", TO_DELIMITER, 1, 0},
    {"side-features", TO_SIDE, 0, 0},
    {"user-features", TO_USER_FEATURES, 1, 0},
    {"item-features", TO_ITEM_FEATURES, 1, 0},
    {"numeric-ids", TO_NUMERIC_IDS, 0, 0},
    {"key-map", TO_KEY_MAP, 1, 0},
    {"hyperparameters", TO_HYPERPARAMETERS, 1, 0},
    {"out", TO_OUT, 1, 0},
    {"json", TO_JSON, 0, 0},
    {"verbose", TO_VERBOSE, 0, 0},
    {"threads", TO_THREADS, 1, 0},
    {"help", TO_HELP, 0, 0},
    {"implicit", TO_IMPLICIT, 0, 1},
    {"implicit-feedback", TO_IMPLICIT, 0, 0},
    {"implicit-threshold", TO_IMPLICIT_THRESHOLD, 1, 0},
    {"metrics", TO_METRICS, 1, 0},
    {"fold-in-fraction", TO_FOLD_IN, 1, 0},
    {"seed", TO_SEED, 1, 1}, /* the split's seed, for a kind without a seed hyperparameter */
    {"propensities", TO_PROPENSITIES, 1, 0},
    {"max-ips-weight", TO_MAX_IPS_WEIGHT, 1, 0},
#ifdef FACTO_WITH_MPI
    {"distributed", TO_DISTRIBUTED, 0, 0}, /* train across the ranks of an MPI job (train_dist.c) */
    {"async", TO_ASYNC, 0, 0},             /* with it, fm: DiFacto-style asynchronous training */
#endif
};
#define CLI_TRAIN_NOPTS (sizeof cli_train_opts / sizeof cli_train_opts[0])

typedef struct cli_train_args {
    cli_data_opts data;
    const char *hyperparameters, *out;
    const char *metrics; /* --metrics LIST, or NULL */
    const char *propensities; /* --propensities FILE, or NULL */
    double max_ips_weight;    /* --max-ips-weight W, 0 = no clipping */
    int json, verbose, threads, threads_set, help;
#ifdef FACTO_WITH_MPI
    int distributed, async;
#endif
    cli_hp_flags hp;
} cli_train_args;

/* ---- --help ----------------------------------------------------------------- */

static void cli_train_help_usage(const char *model)
{
    printf("Usage: facto train %s%s%s(--dataset NAME --split SPLIT | --train FILE [--test FILE]\n"
           "                   | --from-ratings FILE [--test-ratings FILE] | --events-dir DIR) [OPTIONS] [--HYPERPARAMETER VALUE ...]\n\n",
           model ? "--model " : "[--model KIND] ", model ? model : "", model ? " " : "");
}

/* What a kind trains on, in words. */
static const char *cli_train_inputs_text(unsigned inputs)
{
    if ((inputs & FACTO_INPUT_ROWS) && (inputs & FACTO_INPUT_RATINGS))
        return "feature rows (--train) or ratings (--dataset, --from-ratings)";
    return inputs & FACTO_INPUT_ROWS ? "feature rows (--train)" : "ratings (--dataset, --train, --from-ratings)";
}

static void cli_train_help_kinds(void)
{
    printf("Models (--model KIND, default %s; `facto train --model KIND --help` adds KIND's hyperparameters):\n",
           CLI_DEFAULT_KIND);
    for (int i = 0; i < facto_model_kind_count(); i++) {
        facto_kind_info k;
        if (facto_model_kind_info(NULL, i, &k) == FACTO_OK)
            printf("  %-6s %s;\n         trains on %s\n", k.name, k.summary, cli_train_inputs_text(k.train_inputs));
    }
    printf("\n");
}

/* "(default 1 ...)" of --threads: each kind's, from whether its models depend on the count. */
static void cli_train_help_threads(const facto_kind_info *kind)
{
    printf("  --threads N        training threads, 0 = all cores: more train faster on more cores\n"
           "                     (default ");
    if (kind) {
        if (kind->thread_invariant == INT_MAX)
            printf("0: the model is the same for any count)\n");
        else if (kind->thread_invariant > 1)
            printf("0: the model is the same for any count\n"
                   "                     up to %d)\n",
                   kind->thread_invariant);
        else
            printf("1: more threads train another model,\n"
                   "                     not reproducibly)\n");
        return;
    }
    for (int i = 0; i < facto_model_kind_count(); i++) {
        facto_kind_info k;
        if (facto_model_kind_info(NULL, i, &k) == FACTO_OK)
            printf("%s%s %s", i ? ", " : "", k.thread_invariant ? "0 for" : "1 for", k.name);
    }
    printf(";\n                     0 where the model is the same for any count, or up to a\n"
           "                     count --model NAME --help names)\n");
}

/* own_seed / own_implicit: the kind has a hyperparameter of that name, which --seed / --implicit then set. */
static void cli_train_help_common(const facto_kind_info *kind, int own_seed, int own_implicit)
{
    printf("Data:\n"
           "  --dataset NAME     a registered data set, see `facto datasets list` (default: none)\n"
           "  --split SPLIT      an official split (ml-100k: u1..u5, ua, ub), or random:F (F of the\n"
           "                     ratings to test), kfold:K:I (fold I of K), time:F (each user's latest F),\n"
           "                     per-user:F (F of each user's), leave-last-out (each user's latest),\n"
           "                     users:F (F of the users, held out whole and folded in at evaluation),\n"
           "                     of the data set's ratings or of a ratings file; seeded by the kind's seed\n"
           "                     hyperparameter, or --seed for a kind without one (no default)\n");
    if (!own_seed)
        printf("  --seed N           seed of a split made on the fly, for a kind without a seed\n"
               "                     hyperparameter (default 0; a kind with one reads --seed as it)\n");
    printf("  --fold-in-fraction H  users:F only: the share of a held-out user's ratings folded in at\n"
           "                     evaluation, the rest scored (default 0.8)\n"
           "  --train FILE       training data: feature rows (libsvm/libFM text or recordIO-protobuf,\n"
           "                     told apart by content) for a kind that trains on rows, else ratings\n"
           "                     (default: none)\n"
           "  --test FILE        test data of the same form, scored after every epoch (default: none)\n"
           "  --from-ratings FILE  training ratings for any kind (default: none)\n"
           "  --test-ratings FILE  test ratings, with --from-ratings (default: none)\n"
           "  --events-dir DIR   an event log (facto serve --events-dir): a ranking kind trains on its\n"
           "                     clicks and purchases, each (user, item) pair weighted by their count,\n"
           "                     as implicit feedback read with --implicit (default: none)\n"
           "  --format F         rows: auto|libsvm|recordio; ratings: auto|ml100k|ml1m|mlcsv|delimited\n"
           "                     (default auto: rows by content, ratings from the first lines)\n"
           "  --delimiter C      ratings: tab|comma|semicolon|space|auto or one character (default auto;\n"
           "                     implies --format delimited)\n"
           "  --columns LIST     ratings: user,item,rating[,timestamp] as header names or 1-based\n"
           "                     positions (default: the first columns in that order)\n"
           "  --side-features    ratings: MovieLens u.user / u.item next to the ratings as side features\n"
           "                     (fm only; default: off)\n"
           "  --user-features FILE, --item-features FILE  side features by user / item id: u.user /\n"
           "                     u.item, or 'id<TAB>name[:value] ...' lines (fm only; default: none)\n"
           "  --numeric-ids      ratings encoded into feature rows (a configuration that trains on rows\n"
           "                     only): SageMaker's demo layout, feature_dim = max user id + max item id\n"
           "                     (default: off; else one-hot keys of the training ids)\n"
           "  --key-map FILE     ratings encoded into feature rows: write the layout there, a\n"
           "                     'key<TAB>field<TAB>id' line a key (0<TAB>user<TAB>196), to build SageMaker\n"
           "                     requests for string ids (as `facto convert --key-map`) (default: none)\n");
    if (!own_implicit)
        printf(CLI_IMPLICIT_FLAG_HELP("off; on for a kind whose task is ranking"));
    printf("  --implicit-feedback  %s\n                     (default: off; on for a kind whose task is ranking)\n",
           own_implicit ? "read implicit feedback: the third column is a weight (plays, clicks;\n"
                          "                     absent = 1), repeated (user, item) pairs add up; --implicit is this\n"
                          "                     kind's hyperparameter"
                        : "the same, for a kind with a hyperparameter named implicit");
    printf(CLI_THRESHOLD_HELP
           "  --propensities FILE  ratings: weigh each training rating by 1 / p, the inverse of the\n"
           "                     probability that it was observed (Schnabel et al., ICML 2016):\n"
           "                     `user item propensity` or `item propensity` lines, delimited as\n"
           "                     ratings files, p in (0, 1]; every training rating needs one; kinds\n"
           "                     that take weights: mf (default: none, unweighted)\n"
           "  --max-ips-weight W clip 1 / p at W >= 1 (default: no clipping)\n"
           "\nHyperparameters:\n"
           "  --hyperparameters FILE  SageMaker's hyperparameters.json, values as strings (default: none)\n"
           "  --NAME VALUE       a hyperparameter of the kind, also --NAME=VALUE; '-' and '_' alike;\n"
           "                     flags override the file; SageMaker's names are aliases in every kind\n"
           "                     that has the same thing (--num_factors = --factors, --factors_wd, --linear_wd,\n"
           "                     --mini_batch_size, --epochs; KIND's --help lists them after \"also\")\n"
           "                     (default: the kind's, listed by --model KIND --help)\n"
           "\nOutput:\n"
           "  --out MODEL        save the trained model to this file (default: not saved)\n"
           "  --json             one JSON object on stdout: model, task, trained_on, the train_ and test\n"
           "                     figures (regression: train_rmse, train_mae, test_rmse, test_mae; binary:\n"
           "                     SageMaker's names, train_ prefixed for the training data), test_rmse_chain\n"
           "                     (MCMC), epochs, seconds, samples_per_second, ratings_per_second, n_train,\n"
           "                     n_test, duplicates, out, model_bytes and params; ranking metrics by name\n"
           "                     (\"ndcg@10\") with n_users and n_users_skipped; implicit data adds\n"
           "                     implicit_threshold, below_threshold, users_dropped, items_dropped; epoch\n"
           "                     lines go to stderr (default: off)\n"
           "  --metrics LIST     ranking metrics of the test set after training, e.g. ndcg@10,recall@20:\n"
           "                     precision@k, recall@k, ndcg@k, map@k, hr@k, mrr, auc, coverage@k\n"
           "                     (docs/metrics.md) (default: none for a rating model; for a ranking model\n"
           "                     ndcg@10,recall@20,precision@10,map@10,mrr,hr@10,auc,coverage@10)\n"
           "  --verbose          the library's log lines on stderr (default: off)\n");
    cli_train_help_threads(kind);
#ifdef FACTO_WITH_MPI
    printf("  --distributed      train across the ranks of an MPI job (mpirun -np P facto train --distributed\n"
           "                     ...): mf by DSGD (plain sgd; a .fds --train is read in shards), fm by\n"
           "                     synchronous mini-batches (solver sgd), ials with users and items sharded\n"
           "                     and the Gram matrix all-reduced; rank 0 saves (docs/distributed.md)\n"
           "                     (default: off, one process)\n"
           "  --async            with --distributed, fm: DiFacto-style asynchronous SGD (parameters owned\n"
           "                     by feature, pulled and pushed with MPI one-sided calls; optimizer sgd)\n"
           "                     (default: off, synchronous)\n");
#endif
    printf("  -h, --help         this text\n");
}

static void cli_train_help(facto_ctx *ctx, const facto_kind_info *kind, const facto_params *fresh)
{
    cli_train_help_usage(kind ? kind->name : NULL);
    printf("Train a model and print its figures after every epoch (regression: RMSE and MAE;\n"
           "binary: accuracy, cross-entropy, AUC), then the saved model's in SageMaker's form:\n"
           "  #test_score (algo-1) : ('rmse', 0.9140)\n"
           "A ranking model (and any model with --metrics) reports ranking metrics of the test set,\n"
           "each test user's items ranked among all items but its training ones:\n"
           "  #test_score (algo-1) : ('ndcg@10', 0.2531)\n"
           "  #test_users (algo-1) : 942 scored, 0 skipped\n\n");
    if (kind) {
        printf("%s: %s.\nTrains on %s.\n", kind->name, kind->summary, cli_train_inputs_text(kind->train_inputs));
        if (kind->train_inputs & FACTO_INPUT_ROWS)
            printf("A configuration that trains on feature rows only gets ratings one-hot encoded first\n"
                   "(user + item + side features, as `facto convert` writes them).\n");
        printf("\n");
    }
    else
        cli_train_help_kinds();
    cli_train_help_common(kind, kind && cli_param_known(ctx, fresh, CLI_HP_SEED),
                          kind && cli_param_known(ctx, fresh, "implicit"));
    if (kind) {
        printf("\nHyperparameters of %s (--NAME VALUE; [sagemaker]: SageMaker's name and default):\n", kind->name);
        cli_params_help(stdout, ctx, fresh);
    }
    printf("\nExit codes: 0 ok, 1 usage (also a missing or invalid hyperparameter), 2 data or I/O error,\n"
           "3 internal error.\n");
}

/* ---- options ------------------------------------------------------------------ */

/* `name` (len bytes) == `opt` with '-' and '_' alike. */
static int cli_opt_eq(const char *name, size_t len, const char *opt)
{
    if (strlen(opt) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((name[i] == '_' ? '-' : name[i]) != opt[i])
            return 0;
    return 1;
}

/* The --model of argv (NULL when none), so the kind's table is known before the options are read. */
static const char *cli_train_model_arg(int argc, char **argv)
{
    const char *model = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model = argv[++i];
        else if (strncmp(argv[i], "--model=", 8) == 0)
            model = argv[i] + 8;
    }
    return model;
}

static int cli_train_option(const char *verb, cli_train_args *a, cli_train_opt opt, const char *value)
{
    cli_data_opts *d = &a->data;
    switch (opt) {
    case TO_MODEL: break; /* read before the options */
    case TO_DATASET: d->src.dataset = value; break;
    case TO_SPLIT: d->src.split = value; break;
    case TO_TRAIN: d->train = value; break;
    case TO_TEST: d->test = value; break;
    case TO_FROM_RATINGS: d->from_ratings = value; break;
    case TO_TEST_RATINGS: d->test_ratings = value; break;
    case TO_EVENTS_DIR: d->events_dir = value; break;
    case TO_FORMAT: d->format = value; break;
    case TO_COLUMNS: d->read.opts.columns = value; break;
    case TO_DELIMITER: return cli_arg_delimiter(verb, value, &d->read.opts.delimiter);
    case TO_SIDE: d->src.side_features = 1; break;
    case TO_USER_FEATURES: d->src.user_file = value; break;
    case TO_ITEM_FEATURES: d->src.item_file = value; break;
    case TO_NUMERIC_IDS: d->numeric_ids = 1; break;
    case TO_KEY_MAP: d->key_map = value; break;
    case TO_HYPERPARAMETERS: a->hyperparameters = value; break;
    case TO_OUT:
        a->out = value;
        if (!*value)
            return cli_usage(verb, "--out: the model path is empty");
        break;
    case TO_JSON: a->json = 1; break;
    case TO_VERBOSE: a->verbose = 1; break;
    case TO_THREADS:
        a->threads_set = 1;
        return cli_arg_int(verb, "--threads", value, 0, 4096, &a->threads);
    case TO_HELP: a->help = 1; break;
#ifdef FACTO_WITH_MPI
    case TO_DISTRIBUTED: a->distributed = 1; break;
    case TO_ASYNC: a->async = 1; break;
#endif
    case TO_IMPLICIT: return cli_read_implicit(verb, &d->read, NULL);
    case TO_IMPLICIT_THRESHOLD: return cli_read_implicit(verb, &d->read, value);
    case TO_METRICS: a->metrics = value; return cli_arg_metrics(verb, value);
    case TO_FOLD_IN: {
        double h = 0.0;
        d->fold_in_set = 1;
        if (cli_arg_double(verb, "--fold-in-fraction", value, 0.0, 1.0, &h) != 0)
            return FACTO_EXIT_USAGE;
        if (!(h > 0.0 && h < 1.0))
            return cli_usage(verb, "--fold-in-fraction: %s is not strictly between 0 and 1", value);
        d->src.history_fraction = h;
        break;
    }
    case TO_SEED:
        d->seed_set = 1;
        return cli_arg_u64(verb, "--seed", value, &d->src.seed);
    case TO_PROPENSITIES: a->propensities = value; break;
    case TO_MAX_IPS_WEIGHT: return cli_arg_double(verb, "--max-ips-weight", value, 1.0, 1e30, &a->max_ips_weight);
    }
    return 0;
}

/* One argument at argv[*i]: a command option or a hyperparameter of fresh's kind. */
static int cli_train_arg(facto_ctx *ctx, const char *verb, const facto_params *fresh, int argc, char **argv, int *i,
                         cli_train_args *a)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0)
        return cli_train_option(verb, a, TO_HELP, NULL);
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return cli_usage(verb, "unexpected argument '%s'", arg);
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int opt = 0, has_arg = 1, yields = 0;
    for (size_t k = 0; k < CLI_TRAIN_NOPTS; k++)
        if (cli_opt_eq(name, len, cli_train_opts[k].name)) {
            opt = (int)cli_train_opts[k].id;
            has_arg = cli_train_opts[k].has_arg;
            yields = cli_train_opts[k].yields;
        }
    char hp[128];
    snprintf(hp, sizeof hp, "%.*s", (int)len, name);
    if (yields && cli_param_known(ctx, fresh, hp)) {
        opt = 0; /* the kind's own hyperparameter (a seed also seeds the split) */
        has_arg = 1;
    }
    if (!opt && !cli_param_known(ctx, fresh, hp)) {
        /* a name another kind has (an alias, SageMaker's name) is not a typo: say whose it is */
        if (strncmp(facto_errmsg(ctx), "unknown hyperparameter", 22) != 0)
            return cli_usage(verb, "--%s: %s", hp, facto_errmsg(ctx));
        return cli_usage(verb, "unknown option '--%s': not an option of facto train nor a hyperparameter of %s",
                         hp, facto_params_kind(fresh));
    }
    const char *value = NULL;
    if (has_arg && eq)
        value = eq + 1;
    else if (has_arg && *i + 1 < argc)
        value = argv[++*i];
    else if (has_arg)
        return cli_usage(verb, "option '--%s' needs a value", hp);
    else if (eq)
        return cli_usage(verb, "option '--%s' takes no value", hp);
    if (opt)
        return cli_train_option(verb, a, (cli_train_opt)opt, value);
    char flag[136];
    snprintf(flag, sizeof flag, "--%s", hp);
    int rc = cli_hp_value_check(verb, flag, value);
    return rc ? rc : cli_hp_flags_add(&a->hp, name, len, value);
}

static int cli_train_parse(facto_ctx *ctx, const char *verb, const facto_params *fresh, int argc, char **argv,
                           cli_train_args *a)
{
    int rc = cli_hp_flags_alloc(&a->hp, argc);
    for (int i = 1; rc == 0 && i < argc && !a->help; i++)
        rc = cli_train_arg(ctx, verb, fresh, argc, argv, &i, a);
    if (rc == 0 && a->out && a->data.key_map && strcmp(a->out, a->data.key_map) == 0)
        return cli_usage(verb, "--key-map and --out name the same file (%s): give the key map its own", a->out);
    return rc;
}

/* ---- the fit ------------------------------------------------------------------ */

/* The rows files a log message may name a row of ("training row N: ..."
 * becomes FILE:LINE, as errors do); none before the data are read. */
typedef struct cli_train_logdata {
    cli_rows_file files[2];
    int n;
} cli_train_logdata;

static void cli_train_log(facto_log_level level, const char *message, void *user)
{
    const cli_train_logdata *ld = user;
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char located[8192];
    if (ld && cli_rows_locate(message, ld->files, ld->n, located, sizeof located))
        message = located;
    if (cli_rank > 0) /* one write a line, so lines of ranks never mix */
        fprintf(stderr, "[%s] rank %d: %s\n", names[level <= FACTO_LOG_DEBUG ? level : FACTO_LOG_DEBUG], cli_rank,
                message);
    else
        fprintf(stderr, "[%s] %s\n", names[level <= FACTO_LOG_DEBUG ? level : FACTO_LOG_DEBUG], message);
}

/*
 * A failed fit: a message about one row of a rows file names its line; an
 * invalid hyperparameter (the library's message starts "hyperparameter")
 * is a usage error (exit 1); anything else is the data's (exit 2; with
 * rows files, the file is named), or an internal error.
 */
static int cli_train_fit_error(facto_ctx *ctx, facto_status st, const cli_data_opts *o, const cli_train_data *d)
{
    const char *msg = facto_errmsg(ctx);
    cli_rows_file files[] = {{"training row ", o->train_rows, d->train_rows, d->train_origin},
                             {"test row ", o->test_rows, d->test_rows, d->test_origin}};
    if (d->on_rows && !d->encoded && cli_rows_report(msg, files, 2))
        return cli_exit_of(st);
    if (st == FACTO_ERR_INVALID && strncmp(msg, "hyperparameter ", 15) == 0)
        return cli_fail(ctx, st, 1);
    if (st == FACTO_ERR_INVALID && d->on_rows && !d->encoded) {
        cli_error("%s: %s", strncmp(msg, "test", 4) == 0 && o->test_rows ? o->test_rows : o->train_rows, msg);
        return FACTO_EXIT_DATA;
    }
    return cli_fail(ctx, st, 0);
}

/* Score the model on its training and test data, as it was saved: the
 * test users of a users:F split folded in from their history, the ranking
 * metrics of --metrics (a ranking model: its default list). A ranking model
 * has no figures of its own training data (every training item is left
 * out of a user's ranking), so only the count is kept there. */
static facto_status cli_train_score(facto_ctx *ctx, const facto_model *model, const facto_params *p,
                                    const cli_train_args *a, const cli_train_data *d, cli_train_result *res)
{
    facto_task task = facto_model_task(model);
    memset(&res->test, 0, sizeof res->test);
    res->test.task = task;
    res->have_test = d->on_rows ? d->test_rows != NULL : d->test != NULL;
    if (d->on_rows) {
        facto_status st = facto_model_evaluate_rows(ctx, model, d->train_rows, &res->train);
        if (st == FACTO_OK && d->test_rows)
            st = facto_model_evaluate_rows(ctx, model, d->test_rows, &res->test);
        return st;
    }
    facto_eval_options eo = facto_eval_options_default();
    if (task == FACTO_TASK_BINARY)
        eo.binarize = (float)cli_param_number(ctx, p, CLI_HP_BINARIZE, 0.0);
    facto_status st = FACTO_OK;
    if (task == FACTO_TASK_RANKING) {
        res->train = res->test;
        res->train.n = facto_dataset_n_ratings(d->train);
        res->train.rmse = res->train.mae = NAN;
    } else {
        st = facto_model_evaluate(ctx, model, d->train, &eo, &res->train, NULL);
    }
    eo.metrics = a->metrics;
    eo.history = d->history;
    if (st == FACTO_OK && d->test)
        st = facto_model_evaluate(ctx, model, d->test, &eo, &res->test, NULL);
    return st;
}

/* RMSE of predicting the training mean for every test rating: the figure a
 * regressor must beat; NAN without ratings. */
static double cli_train_mean_rmse(const facto_dataset *train, const facto_dataset *test)
{
    if (facto_dataset_n_ratings(train) == 0 || facto_dataset_n_ratings(test) == 0)
        return NAN;
    /* both read narrow (.fds): no decoded copy of either */
    return facto_dataset_rmse_constant(test, facto_dataset_mean_rating(train));
}

/*
 * The test ratings' ids unknown to training, as `facto eval` counts them
 * (to `info`), and a warning on stderr when the test set looks like
 * another data set or a file with its columns swapped: most test ratings
 * have an unknown user or item, or a regressor does worse than predicting
 * the training mean. With users:F (users_split) the test users are unknown
 * by design: only the items are weighed.
 */
static void cli_train_test_report(FILE *info, const cli_train_data *d, const cli_train_result *res, int users_split)
{
    if (d->on_rows || !d->test || !res->have_test)
        return;
    const facto_metrics *m = &res->test;
    long long n = (long long)facto_dataset_n_ratings(d->test);
    fprintf(info, "test ratings unknown to training: %lld of %lld with an unknown user, %lld with an unknown item\n",
            (long long)m->n_unknown_users, n, (long long)m->n_unknown_items);
    /* users:F holds its test users out of training: every one is unknown by design */
    long long users = users_split ? 0 : m->n_unknown_users;
    long long worst = users > m->n_unknown_items ? users : m->n_unknown_items;
    if (n > 0 && 2 * worst > n)
        fprintf(stderr, "facto: warning: %lld of %lld test ratings have %s unknown to training: is the test set "
                        "from the same data, with its columns in the same order (--columns)?\n",
                worst, n, worst == users ? "a user" : "an item");
    double base = m->task == FACTO_TASK_REGRESSION ? cli_train_mean_rmse(d->train, d->test) : NAN;
    if (isfinite(base) && isfinite(m->rmse) && m->rmse > base) {
        char a[32], b[32];
        fprintf(stderr, "facto: warning: test RMSE %s is worse than %s, predicting the training mean for every "
                        "rating: nothing learnt carries over to the test set; is it from the same data, with its "
                        "columns in the same order (--columns)? (else: more regularization, fewer epochs)\n",
                cli_num(a, m->rmse), cli_num(b, base));
    }
}

/* The hyperparameters the fit set itself (unset in p, set in the model's
 * mp: mf's reg_factors from the data), one line: "set by the fit from the
 * data: reg_factors 0.07616233". Nothing when there are none. */
static void cli_train_fit_set(facto_ctx *ctx, FILE *info, const facto_params *p, const facto_params *mp)
{
    char line[512] = "", value[128], shown[64];
    size_t used = 0;
    for (int i = 0; i < facto_params_count(mp) && used < sizeof line; i++) {
        facto_param_info pi;
        if (facto_params_info(ctx, mp, i, &pi) != FACTO_OK || cli_param_get(ctx, p, pi.name, value, sizeof value) ||
            !cli_param_get(ctx, mp, pi.name, value, sizeof value))
            continue;
        cli_short_number(value, shown, sizeof shown);
        used += (size_t)snprintf(line + used, sizeof line - used, "%s %s %s", used ? "," : "", pi.name, shown);
    }
    if (used)
        fprintf(info, "set by the fit from the data:%s\n", line);
}

/* Save, score, print. */
static int cli_train_finish(facto_ctx *ctx, const cli_train_args *a, const facto_params *p, const cli_train_data *d,
                            const cli_train_report *r, facto_model *model, cli_train_result *res)
{
    facto_params *mp = NULL;
    /* saved first: a model whose evaluation fails is kept */
    facto_status st = a->out ? facto_model_save(ctx, model, a->out) : FACTO_OK;
    if (st == FACTO_OK)
        st = cli_train_score(ctx, model, p, a, d, res);
    if (st == FACTO_OK)
        st = facto_model_params(ctx, model, &mp);
    if (st != FACTO_OK) {
        int rc = cli_fail(ctx, st, 0);
        if (st == FACTO_ERR_INVALID && d->history)
            fprintf(stderr, "facto: note: --split users:F folds the held-out users in from their history, which "
                            "this model cannot do; choose a kind that folds users in, or another split\n");
        if (a->out && cli_file_size(a->out) > 0)
            fprintf(stderr, "facto: note: the model was saved to %s before the evaluation failed\n", a->out);
        return rc;
    }
    if (a->out) {
        res->out = a->out;
        res->model_bytes = cli_file_size(a->out);
        fprintf(r->info, "saved model to %s (%lld bytes)\n", a->out, res->model_bytes);
    }
    cli_train_fit_set(ctx, r->info, p, mp);
    cli_train_test_report(r->info, d, res, cli_split_is_users(a->data.src.split));
    int rc = cli_report_final(ctx, r, res, mp, d, a->json);
    facto_params_free(mp);
    return rc;
}

/* --propensities: the training ratings' inverse-propensity weights into
 * *w (NULL without the option); a rating without a propensity is named
 * with its line in the training file. Prints its own errors. */
static int cli_train_weights(facto_ctx *ctx, const char *verb, const cli_train_args *a, const cli_train_data *d,
                             FILE *info, float **w)
{
    *w = NULL;
    if (!a->propensities) {
        if (a->max_ips_weight > 0.0)
            return cli_usage(verb, "--max-ips-weight goes with --propensities");
        return 0;
    }
    if (d->on_rows)
        return cli_usage(verb, "--propensities weighs ratings by (user, item); this configuration trains on "
                               "feature rows");
    facto_propensity_stats ps;
    facto_status st = facto_propensity_weights(ctx, a->propensities, d->train, a->max_ips_weight, w, &ps);
    if (st == FACTO_ERR_NOT_FOUND && ps.missing >= 0) {
        char msg[1024], where[4300] = "";
        snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
        const int64_t *row_ptr;
        const int32_t *items;
        const float *ratings;
        const int64_t *times;
        facto_dataset_csr(d->train, &row_ptr, &items, &ratings, &times);
        int32_t u = 0;
        while (row_ptr[u + 1] <= ps.missing)
            u++;
        char path[4096];
        int64_t line = 0;
        if (cli_ratings_train_path(ctx, &a->data.src, path, sizeof path) == 0 &&
            facto_dataset_find_line(ctx, path, &d->read, facto_idmap_name(facto_dataset_users(d->train), u),
                                    facto_idmap_name(facto_dataset_items(d->train), items[ps.missing]),
                                    &line) == FACTO_OK &&
            line > 0)
            snprintf(where, sizeof where, " (the rating is %s:%lld)", path, (long long)line);
        cli_error("%s%s", msg, where);
        return FACTO_EXIT_DATA;
    }
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    double lo = INFINITY, hi = 0.0;
    for (int64_t j = 0; j < facto_dataset_n_ratings(d->train); j++) {
        lo = fmin(lo, (double)(*w)[j]);
        hi = fmax(hi, (double)(*w)[j]);
    }
    char a1[32], a2[32];
    fprintf(info, "inverse-propensity weights from %s (%s): %s..%s", a->propensities,
            ps.per_item ? "per item" : "per pair", cli_num(a1, lo), cli_num(a2, hi));
    if (a->max_ips_weight > 0.0)
        fprintf(info, ", %lld clipped at %s", (long long)ps.n_clipped, cli_num(a1, a->max_ips_weight));
    if (ps.n_unused > 0)
        fprintf(info, "; %lld line%s for pairs not in the training data ignored", (long long)ps.n_unused,
                ps.n_unused == 1 ? "" : "s");
    fprintf(info, "\n");
    return 0;
}

/* What --metrics needs of the data: ranked (user, item) ids and a test set. */
static int cli_train_metrics_check(const char *verb, const cli_train_args *a, const cli_train_data *d)
{
    if (!a->metrics)
        return 0;
    if (d->on_rows)
        return cli_usage(verb, "--metrics ranks the items of a model trained on (user, item) ids; this one "
                               "trains on feature rows");
    if (!d->test)
        return cli_usage(verb, "--metrics needs a test set (--split, --test or --test-ratings)");
    return 0;
}

static int cli_train_run(facto_ctx *ctx, const char *verb, const facto_kind_info *kind, facto_params *p,
                         const cli_train_args *a)
{
    facto_ctx_set_threads(ctx, a->threads_set ? a->threads : kind->thread_invariant ? 0 : 1);
    cli_train_logdata ld;
    memset(&ld, 0, sizeof ld);
    facto_ctx_set_log(ctx, cli_train_log, &ld, a->verbose ? FACTO_LOG_INFO : FACTO_LOG_WARN);
    FILE *info = a->json ? stderr : stdout;
    facto_status st;
#ifdef FACTO_WITH_MPI
    if (a->async && !a->distributed)
        return cli_usage(verb, "--async goes with --distributed (asynchronous distributed fm)");
    if (a->distributed && a->propensities)
        return cli_usage(verb, "--propensities (IPS weights) is not supported with --distributed");
    if (a->distributed)
        return cli_train_dist(ctx, verb, p, &a->data, a->out, a->async);
#endif
    /* A model that could not be saved is found out now, not after the fit. */
    if (a->out && (st = facto_model_save_check(ctx, a->out)) != FACTO_OK)
        return cli_fail(ctx, st, 0);
    cli_train_data d;
    int rc = cli_data_load(ctx, verb, &a->data, p, info, &d);
    if (rc == 0)
        rc = cli_train_metrics_check(verb, a, &d);
    float *weights = NULL;
    if (rc == 0)
        rc = cli_train_weights(ctx, verb, a, &d, info, &weights);
    if (rc == 0 && weights && (st = facto_dataset_set_weights(ctx, d.train, weights)) != FACTO_OK)
        rc = cli_fail(ctx, st, 0);
    facto_model *model = NULL;
    if (rc == 0 && d.on_rows && !d.encoded) {
        ld.files[0] = (cli_rows_file){"training row ", a->data.train_rows, d.train_rows, d.train_origin};
        ld.files[1] = (cli_rows_file){"test row ", a->data.test_rows, d.test_rows, d.test_origin};
        ld.n = 2;
    }
    if (rc == 0) {
        cli_report_header(info, p, &d);
        cli_train_report r;
        facto_fit_callbacks cb = cli_report_begin(&r, info, &d);
        facto_fit_data fd = {d.on_rows ? NULL : d.train, d.on_rows ? NULL : d.test, d.train_rows, d.test_rows,
                             d.user_features, d.item_features};
        st = facto_model_fit(ctx, p, &fd, &cb, &model);
        cli_train_result res;
        memset(&res, 0, sizeof res);
        res.kind = kind->name;
        res.seconds = cli_now() - r.t_start;
        cli_report_bar_clear(&r);
        rc = st != FACTO_OK ? cli_train_fit_error(ctx, st, &a->data, &d)
                            : cli_train_finish(ctx, a, p, &d, &r, model, &res);
    }
    facto_model_free(model);
    free(weights);
    cli_data_free(&d);
    return rc;
}

int cli_cmd_train(int argc, char **argv)
{
    const char *model_arg = cli_train_model_arg(argc, argv);
    facto_ctx *ctx = cli_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_kind_info kind;
    facto_params *p = NULL;
    cli_train_args a;
    memset(&a, 0, sizeof a);
    cli_read_defaults(&a.data.read);
    char verb[96];
    int rc = 0;
    if (facto_model_kind_find(ctx, model_arg ? model_arg : CLI_DEFAULT_KIND, &kind) != FACTO_OK)
        rc = cli_usage(argv[0], "--model: %s", facto_errmsg(ctx));
    else if (facto_params_new(ctx, kind.name, &p) != FACTO_OK)
        rc = cli_fail(ctx, facto_errcode(ctx), 0);
    if (rc == 0) {
        /* usage errors point at the kind's --help, which lists its hyperparameters */
        snprintf(verb, sizeof verb, "%s --model %s", argv[0], kind.name);
        rc = cli_train_parse(ctx, verb, p, argc, argv, &a);
    }
    if (rc == 0 && a.help)
        cli_train_help(ctx, model_arg ? &kind : NULL, p);
    else if (rc == 0 && (rc = cli_data_check(verb, &a.data, (kind.train_inputs & FACTO_INPUT_ROWS) != 0)) == 0 &&
             (rc = cli_params_apply(ctx, verb, p, a.hyperparameters, &a.hp)) == 0 &&
             (rc = cli_params_check_early(ctx, verb, p)) == 0)
        rc = cli_train_run(ctx, verb, &kind, p, &a);
    cli_hp_flags_free(&a.hp);
    facto_params_free(p);
    facto_ctx_free(ctx);
    return rc;
}
