/*
 * cmd_train_fm.c — the factorization machine side of the CLI: `facto train
 * --model fm` (every SageMaker hyperparameter as a flag of the same name,
 * passed through facto_fm_params_set so no name is listed twice, over
 * SageMaker's hyperparameters.json), and the FM paths of `facto predict`
 * (SageMaker inference requests and responses) and `facto eval`. Rows come
 * from libsvm / recordIO-protobuf files or are encoded from ratings on the
 * fly. Cost: the fit's, O(epochs * nnz * num_factors); the CLI adds O(nnz).
 */
#include "readdata.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cli_fm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- options ------------------------------------------------------------ */

/* Options of the command itself; any other --name VALUE is a hyperparameter. */
typedef enum {
    FO_MODEL = 1, FO_DATASET, FO_SPLIT, FO_TRAIN, FO_TEST, FO_FROM_RATINGS, FO_TEST_RATINGS, FO_FORMAT,
    FO_HYPERPARAMETERS, FO_OUT, FO_JSON, FO_VERBOSE, FO_THREADS, FO_SIDE, FO_USER_FEATURES, FO_ITEM_FEATURES,
    FO_NUMERIC_IDS, FO_BINARIZE, FO_IMPLICIT, FO_PRIOR_GROUPS, FO_HELP
} cli_fm_opt;

static const struct {
    const char *name; /* with underscores: --side-features and --side_features both match */
    cli_fm_opt id;
    int has_arg;
} cli_fm_opts[] = {
    {"model", FO_MODEL, 1},           {"dataset", FO_DATASET, 1},
    {"split", FO_SPLIT, 1},           {"train", FO_TRAIN, 1},
    {"test", FO_TEST, 1},             {"from_ratings", FO_FROM_RATINGS, 1},
    {"test_ratings", FO_TEST_RATINGS, 1},
    {"format", FO_FORMAT, 1},         {"hyperparameters", FO_HYPERPARAMETERS, 1},
    {"out", FO_OUT, 1},               {"json", FO_JSON, 0},
    {"verbose", FO_VERBOSE, 0},       {"threads", FO_THREADS, 1},
    {"side_features", FO_SIDE, 0},    {"user_features", FO_USER_FEATURES, 1},
    {"item_features", FO_ITEM_FEATURES, 1},
    {"numeric_ids", FO_NUMERIC_IDS, 0}, {"binarize", FO_BINARIZE, 1},
    {"implicit", FO_IMPLICIT, 1},     {"prior_groups", FO_PRIOR_GROUPS, 1},
    {"help", FO_HELP, 0},
};
#define FACTO_FM_NOPTS (sizeof cli_fm_opts / sizeof cli_fm_opts[0])

/* One line of help per hyperparameter; the defaults come from the library. */
static const struct {
    const char *name, *text;
} cli_fm_hp_help[] = {
    {"feature_dim", "columns of the input; SageMaker requires it"},
    {"num_factors", "length of each factor vector v_i"},
    {"predictor_type", "regressor|binary_classifier"},
    {"epochs", "passes over the training rows (sgd)"},
    {"mini_batch_size", "rows per update (sgd; 1 takes the fused per-row path)"},
    {"bias_lr", "learning rate of w0"},
    {"linear_lr", "learning rate of w"},
    {"factors_lr", "learning rate of V"},
    {"bias_wd", "weight decay of w0 (ALS: its L2, libFM -regular; SageMaker's tiny defaults overfit, try 10)"},
    {"linear_wd", "weight decay of w (ALS: its L2, as bias_wd)"},
    {"factors_wd", "weight decay of V (ALS: its L2, as linear_wd)"},
    {"bias_init_method", "normal|uniform|constant"},
    {"linear_init_method", "normal|uniform|constant"},
    {"factors_init_method", "normal|uniform|constant"},
    {"solver", "sgd|als|mcmc [facto]"},
    {"optimizer", "sgd|adagrad|adam|ftrl, for solver sgd [facto]"},
    {"seed", "initialisation and shuffling [facto]"},
    {"num_iter", "ALS sweeps / MCMC iterations [facto]"},
    {"init_stdev", "ALS/MCMC factor init N(0, s^2) [facto]"},
    {"mcmc_samples", "posterior samples kept in an MCMC model [facto]"},
    {"log_interval", "a log line every N mini-batches (see --verbose) [facto]"},
    {"lr_decay", "learning rates multiplied by this after each epoch [facto]"},
    {"average_epochs", "model = mean of the last N epochs' parameters, 0 = off [facto]"},
    {"burn_in", "MCMC iterations left out of the average and of the model [facto]"},
    {"summary_rank", "MCMC model: -1 auto (ratings: rank 256; rows: samples), 0 samples, r rank [facto]"},
    {"mcmc_chains", "independent MCMC chains pooled; they run on --threads threads [facto]"},
    {"prior_groups", "MCMC hyperprior groups, see --prior-groups above [facto]"},
};

/* SageMaker's hyperparameters with "Default value: None": the library leaves
 * them unset (NAN), so facto_fm_params_format() does not list them. */
static const struct {
    const char *name, *text;
} cli_fm_hp_unset[] = {
    {"bias_init_scale", "U[-s, s] scale of w0 (uniform init)"},
    {"bias_init_sigma", "N(0, s^2) sigma of w0 (normal init; unset = 0.01, SageMaker's)"},
    {"bias_init_value", "value of w0 (constant init)"},
    {"linear_init_scale", "uniform init scale of w"},
    {"linear_init_sigma", "normal init sigma of w (unset = 0.01)"},
    {"linear_init_value", "constant init value of w"},
    {"factors_init_scale", "uniform init scale of V"},
    {"factors_init_sigma", "normal init sigma of V (unset = 0.001)"},
    {"factors_init_value", "constant init value of V"},
    {"clip_gradient", "clip each gradient element to [-c, c]; unset or <= 0 = no clipping"},
    {"eps", "optimizer epsilon (adagrad, adam; unset = 1e-8)"},
    {"rescale_grad", "factor on the summed batch gradient (unset = 1 / mini_batch_size)"},
};

/* "0.100000001" (a float written with 9 digits) -> "0.1": the fewest digits
 * that read back to the same float; any other text is copied. */
static void cli_fm_short_number(const char *text, char *buf, size_t size)
{
    char *end;
    snprintf(buf, size, "%s", text);
    if (!strpbrk(text, ".eE"))
        return;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return;
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if ((float)strtod(buf, NULL) == (float)v)
            return;
    }
}

static void cli_fm_train_help(const char *verb)
{
    printf("Usage: %s --model fm (--train FILE [--test FILE] | --dataset NAME --split SPLIT)\n"
           "                   --num_factors K --predictor_type regressor|binary_classifier [HYPERPARAMETERS]\n\n"
           "Train a factorization machine (Rendle 2010) with Amazon SageMaker's hyperparameters and\n"
           "print per-epoch metrics, then SageMaker-style lines such as\n"
           "  #test_score (algo-1) : ('rmse', 0.9140)\n"
           "(regressor: rmse, mae; binary_classifier: binary_classification_accuracy,\n"
           "binary_classification_cross_entropy, binary_f_beta, and auc, precision, recall).\n\n"
           "Data:\n"
           "  --train FILE       labelled rows: libsvm/libFM text or recordIO-protobuf (default: none)\n"
           "  --test FILE        rows scored after every epoch and at the end (default: none)\n"
           "  --format F         auto|libsvm|recordio for --train/--test (default auto: by content)\n"
           "  --dataset NAME     encode ratings on the fly, one-hot user + item as `facto convert` does\n"
           "                     (default: none)\n"
           "  --split SPLIT      with --dataset: u1..u5, ua, ub, random:F, kfold:K:I, time:F (no default)\n"
           "  --from-ratings FILE, --test-ratings FILE  ratings files to encode (default: none)\n"
           "  --side-features    add u.user/u.item side features (default: off)\n"
           "  --user-features FILE, --item-features FILE  side files to use (default: none)\n"
           "  --numeric-ids      SageMaker demo layout, feature_dim = max user id + max item id (default: off)\n"
           "  --implicit WHICH   user|item|both: implicit-feedback blocks (als/mcmc only; default: none)\n"
           "  --prior-groups G   MCMC hyperpriors on ratings: 1 one per block kind (ids, side files, implicit),\n"
           "                     2 one per kind of side feature too, 0 one for all (default 1); on rows\n"
           "                     (--train): 1 one per one-hot field found (every row one key from each of\n"
           "                     the same disjoint key ranges, e.g. users then items), 0 one for all\n"
           "                     (libFM without -meta) (default 1)\n"
           "With --solver als or mcmc, ratings (--dataset, --from-ratings) train in libFM's block form\n"
           "(each user's and item's features stored once, one hyperprior per kind of feature): the\n"
           "model keeps the training ids and predicts by them (facto predict --input PAIRS, facto eval\n"
           "--test RATINGS); feature_dim is the layout's. Side files: MovieLens u.user / u.item or\n"
           "'id<TAB>name[:value] ...' lines.\n"
           "  --binarize T       label = rating >= T, needed by binary_classifier on ratings (default: off)\n"
           "When feature_dim is not given it is taken from the data: the recordIO shape, the largest\n"
           "libsvm key + 1 over --train and --test, or the encoder's layout; a note says so.\n\n"
           "Hyperparameters (SageMaker's names; --num-factors works as well as --num_factors;\n"
           "flags override --hyperparameters):\n"
           "  --hyperparameters FILE  SageMaker's hyperparameters.json, values as strings (default: none)\n",
           verb);
    facto_fm_params p = facto_fm_params_default();
    size_t need = facto_fm_params_format(&p, NULL, 0);
    char *buf = malloc(need + 1);
    if (buf) {
        facto_fm_params_format(&p, buf, need + 1);
        /* the three required ones first (unset, so not in the dump) */
        for (size_t i = 0; i < sizeof cli_fm_hp_help / sizeof *cli_fm_hp_help; i++) {
            const char *n = cli_fm_hp_help[i].name;
            char key[80];
            snprintf(key, sizeof key, "\n%s=", n);
            int listed = strncmp(buf, key + 1, strlen(key + 1)) == 0 || strstr(buf, key) != NULL;
            if (!listed)
                printf("  --%-20s %s (%s)\n", n, cli_fm_hp_help[i].text,
                       strcmp(n, "feature_dim") == 0 ? "default: from the data" : "required");
        }
        for (char *line = buf; *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            char *eq = strchr(line, '=');
            if (eq) {
                *eq = '\0';
                const char *text = "";
                for (size_t i = 0; i < sizeof cli_fm_hp_help / sizeof *cli_fm_hp_help; i++)
                    if (strcmp(cli_fm_hp_help[i].name, line) == 0)
                        text = cli_fm_hp_help[i].text;
                char shown[64];
                cli_fm_short_number(eq + 1, shown, sizeof shown);
                printf("  --%-20s %s%s(default %s)\n", line, text, *text ? " " : "", shown);
            }
            if (!nl)
                break;
            line = nl + 1;
        }
        free(buf);
    }
    for (size_t i = 0; i < sizeof cli_fm_hp_unset / sizeof *cli_fm_hp_unset; i++)
        printf("  --%-20s %s (default: not set)\n", cli_fm_hp_unset[i].name, cli_fm_hp_unset[i].text);
    printf("\nOutput:\n"
           "  --out MODEL        save the trained model (default: not saved)\n"
           "  --json             one JSON object on stdout: regressor train_rmse, test_rmse, test_mae;\n"
           "                     classifier binary_classification_accuracy,\n"
           "                     binary_classification_cross_entropy, binary_f_beta, auc, precision,\n"
           "                     recall (test rows; train_ prefix for the training rows); epochs,\n"
           "                     seconds, samples_per_second, n_train, n_test; mcmc regressor also\n"
           "                     test_rmse_chain, libFM's running average over all iterations, where\n"
           "                     test_rmse is the saved model's (its mcmc_samples) (default: off)\n"
           "  --verbose          library log lines on stderr, one every log_interval mini-batches\n"
           "                     with samples/s and the running train metric (default: off)\n"
           "  --threads N        threads for the MCMC chains (the only part that uses more than\n"
           "                     one); the model does not depend on it; 0 = all cores (default 0)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage (also a missing or invalid hyperparameter), 2 data or I/O\n"
           "error, 3 internal error.\n");
}

typedef struct cli_fm_args {
    const char *train, *test, *out, *hyperparameters, *format_text;
    cli_fm_source src;
    int json, verbose, threads;
    int implicit; /* FACTO_FM_IMPLICIT_* bits */
    int prior_groups, prior_groups_set;
    /* hyperparameter flags in command-line order */
    const char **hp_names, **hp_values;
    int n_hp;
} cli_fm_args;

/* "--num-factors" -> "num_factors" into buf. */
static void cli_fm_norm(const char *name, size_t len, char *buf, size_t size)
{
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = name[i] == '-' ? '_' : name[i];
    buf[n] = '\0';
}

static int cli_fm_parse(int argc, char **argv, cli_fm_args *a, int *help)
{
    (void)argv;
    const char *verb = "facto train --model fm"; /* so usage errors point at this command's --help */
    a->hp_names = calloc((size_t)argc, sizeof *a->hp_names);
    a->hp_values = calloc((size_t)argc, sizeof *a->hp_values);
    if (!a->hp_names || !a->hp_values) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0) {
            *help = 1;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return cli_usage(verb, "unexpected argument '%s'", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        char norm[128];
        cli_fm_norm(name, len, norm, sizeof norm);
        int opt = 0, has_arg = 1;
        for (size_t k = 0; k < FACTO_FM_NOPTS; k++) {
            if (strcmp(norm, cli_fm_opts[k].name) == 0) {
                opt = (int)cli_fm_opts[k].id;
                has_arg = cli_fm_opts[k].has_arg;
            }
        }
        const char *value = NULL;
        if (has_arg) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return cli_usage(verb, "option '--%.*s' needs a value", (int)len, name);
        } else if (eq) {
            return cli_usage(verb, "option '--%.*s' takes no value", (int)len, name);
        }
        int rc = 0;
        switch (opt) {
        case 0: /* a hyperparameter, checked once the file (if any) is applied */
            a->hp_names[a->n_hp] = name;
            a->hp_values[a->n_hp++] = value;
            break;
        case FO_MODEL: break;
        case FO_DATASET: a->src.dataset = value; break;
        case FO_SPLIT: a->src.split = value; break;
        case FO_TRAIN: a->train = value; break;
        case FO_TEST: a->test = value; break;
        case FO_FROM_RATINGS: a->src.ratings = value; break;
        case FO_TEST_RATINGS: a->src.test_ratings = value; break;
        case FO_FORMAT: a->format_text = value; break;
        case FO_HYPERPARAMETERS: a->hyperparameters = value; break;
        case FO_OUT: a->out = value; break;
        case FO_JSON: a->json = 1; break;
        case FO_VERBOSE: a->verbose = 1; break;
        case FO_THREADS: rc = cli_arg_int(verb, "--threads", value, 0, 4096, &a->threads); break;
        case FO_SIDE: a->src.side_features = 1; break;
        case FO_USER_FEATURES: a->src.user_file = value; break;
        case FO_ITEM_FEATURES: a->src.item_file = value; break;
        case FO_NUMERIC_IDS: a->src.enc.numeric_ids = 1; break;
        case FO_BINARIZE: rc = cli_arg_float(verb, "--binarize", value, 1e-30, 1e30, &a->src.enc.binarize); break;
        case FO_IMPLICIT:
            if (strcmp(value, "user") == 0)
                a->implicit = FACTO_FM_IMPLICIT_USER;
            else if (strcmp(value, "item") == 0)
                a->implicit = FACTO_FM_IMPLICIT_ITEM;
            else if (strcmp(value, "both") == 0)
                a->implicit = FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM;
            else
                rc = cli_usage(verb, "--implicit: '%s' is not user, item or both", value);
            break;
        case FO_PRIOR_GROUPS:
            rc = cli_arg_int(verb, "--prior-groups", value, 0, 2, &a->prior_groups);
            a->prior_groups_set = 1;
            break;
        case FO_HELP: *help = 1; return 0;
        }
        if (rc)
            return rc;
    }
    int n_sources = !!a->train + !!a->src.dataset + !!a->src.ratings;
    if (n_sources == 0)
        return cli_usage(verb, "missing --train FILE (or --dataset NAME --split SPLIT)");
    if (n_sources > 1)
        return cli_usage(verb, "give one of --train, --dataset, --from-ratings");
    int from_ratings = a->train == NULL;
    if (!from_ratings && (a->src.split || a->src.test_ratings || a->src.side_features || a->src.user_file ||
                          a->src.item_file || a->src.enc.numeric_ids || a->src.enc.binarize > 0))
        return cli_usage(verb, "--train reads rows; --split and the ratings options go with --dataset "
                                     "or --from-ratings");
    if (!from_ratings && a->implicit)
        return cli_usage(verb, "--implicit goes with --dataset or --from-ratings (ratings)");
    if (!from_ratings && a->prior_groups_set && a->prior_groups == 2)
        return cli_usage(verb, "--prior-groups 2 (a group per kind of side feature) goes with --dataset or "
                                     "--from-ratings; rows take 0 or 1");
    if (from_ratings && (a->test || a->format_text))
        return cli_usage(verb, "--test and --format go with --train (rows files)");
    if (a->src.dataset && !a->src.split)
        return cli_usage(verb, "--dataset needs --split (u1..u5, ua, ub, random:F, kfold:K:I or time:F)");
    if (a->src.dataset && a->src.test_ratings)
        return cli_usage(verb, "--test-ratings goes with --from-ratings");
    if (a->src.ratings && a->src.split && (a->src.test_ratings || !strchr(a->src.split, ':')))
        return cli_usage(verb, "--split with --from-ratings must be random:F, kfold:K:I or time:F");
    return 0;
}

/* Hyperparameters: the library's defaults, then the JSON file, then the flags. */
static int cli_fm_build_params(facto_ctx *ctx, const char *verb, const cli_fm_args *a, facto_fm_params *p)
{
    *p = facto_fm_params_default();
    if (a->hyperparameters) {
        facto_status st = facto_fm_params_load_json(ctx, p, a->hyperparameters);
        if (st == FACTO_ERR_INVALID)
            return cli_usage(verb, "%s", facto_errmsg(ctx));
        if (st != FACTO_OK)
            return cli_fail(ctx, st, 0);
    }
    for (int i = 0; i < a->n_hp; i++) {
        const char *name = a->hp_names[i], *eq = strchr(name, '=');
        char norm[128];
        cli_fm_norm(name, eq ? (size_t)(eq - name) : strlen(name), norm, sizeof norm);
        if (facto_fm_params_set(ctx, p, norm, a->hp_values[i]) != FACTO_OK)
            return cli_usage(verb, "--%s: %s", norm, facto_errmsg(ctx));
    }
    if (p->num_factors == 0)
        return cli_usage(verb, "missing required hyperparameter num_factors (--num_factors K)");
    if (p->predictor_type == FACTO_FM_PREDICTOR_UNSET)
        return cli_usage(verb, "missing required hyperparameter predictor_type "
                                     "(--predictor_type regressor|binary_classifier)");
    /* Check every rule now, before any data is read; feature_dim may come later. */
    facto_fm_params check = *p;
    if (check.feature_dim == 0)
        check.feature_dim = 1;
    if (facto_fm_params_validate(ctx, &check) != FACTO_OK)
        return cli_usage(verb, "%s", facto_errmsg(ctx));
    return 0;
}

/* The feature_dim hyperparameter of a trained model (rows models: the width of a row). */
static int cli_model_feature_dim(facto_ctx *ctx, const facto_model *model, uint64_t *dim)
{
    facto_params *p = NULL;
    char buf[64];
    facto_status st = facto_model_params(ctx, model, &p);
    if (st == FACTO_OK)
        st = facto_params_get(ctx, p, "feature_dim", buf, sizeof buf);
    facto_params_free(p);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    *dim = strtoull(buf, NULL, 10);
    return 0;
}

/* ---- training ------------------------------------------------------------ */

static const char *cli_fm_predictor_name_cli(facto_fm_predictor p)
{
    return p == FACTO_FM_BINARY_CLASSIFIER ? "binary_classifier" : "regressor";
}

typedef struct cli_fm_state {
    FILE *out;
    int have_last;
    facto_epoch_report last;
    double update_seconds;
    int64_t samples;
    int64_t n_train;
} cli_fm_state;

static int cli_fm_on_epoch(const facto_epoch_report *r, void *user)
{
    cli_fm_state *s = user;
    FILE *out = s->out;
    int w = r->epochs >= 100 ? 3 : 2;
    fprintf(out, "epoch %*d/%d", w, r->epoch, r->epochs);
    if (r->train.task == FACTO_TASK_BINARY) {
        fprintf(out, "  train accuracy %.4f cross_entropy %.4f", r->train.binary.accuracy,
                r->train.binary.cross_entropy);
        if (r->test.n > 0)
            fprintf(out, "  test accuracy %.4f cross_entropy %.4f auc %.4f", r->test.binary.accuracy,
                    r->test.binary.cross_entropy, r->test.binary.auc);
    } else {
        fprintf(out, "  train rmse %.4f", r->train.rmse);
        if (r->test.n > 0)
            fprintf(out, "  test rmse %.4f mae %.4f", r->test.rmse, r->test.mae);
    }
    fprintf(out, "  %.3fs %.0f samples/s\n", r->seconds, r->samples_per_second);
    fflush(out);
    s->last = *r;
    s->have_last = 1;
    s->update_seconds += r->seconds;
    s->samples += s->n_train;
    return 0;
}

static void cli_fm_log(facto_log_level level, const char *message, void *user)
{
    (void)user;
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    fprintf(stderr, "[%s] %s\n", names[level <= FACTO_LOG_DEBUG ? level : FACTO_LOG_DEBUG], message);
}

/* MCMC with several chains: the progress lines are the first chain's. */
static void cli_fm_chains_note(FILE *info, const facto_fm_params *p)
{
    if (p->solver == FACTO_FM_SOLVER_MCMC && p->mcmc_chains > 1)
        fprintf(info, "mcmc: %d chains of %d iterations, pooled at the end; the lines below follow chain 1\n",
                p->mcmc_chains, p->num_iter);
}

/* ---- errors about one row of a rows file ---------------------------------- */

/* Added to a classifier's label error. */
#define FACTO_FM_LABEL_HINT " (labels 0/1 or -1/+1; for ratings use --binarize T: label = rating >= T)"

/* "PATH:LINE: detail" (recordIO: "PATH: record N at byte B: detail") for row
 * `row` (0-based) of the rows read from `path`; "PATH: row N: detail"
 * when the origin does not know the row. */
static void cli_fm_row_error(const char *path, const facto_rows_origin *origin, int64_t row, const char *detail,
                               const char *hint)
{
    char where[4400];
    if (facto_rows_origin_where(origin, row, where, sizeof where) > 0)
        cli_error("%s: %s%s", where, detail, hint);
    else
        cli_error("%s: row %lld: %s%s", path, (long long)row + 1, detail, hint);
}

/*
 * The labels as facto_fm_fit and facto_fm_evaluate want them (finite; a
 * classifier's 0 or 1, or -1/+1), checked here so that a bad one is named
 * by its line (or record) in the file rather than by its row number among
 * the rows read. Rows without labels are left to the library. Returns 0, or
 * FACTO_EXIT_DATA after the message. O(rows).
 */
static int cli_fm_check_file_labels(const facto_rows *rows, const facto_rows_origin *origin, const char *path,
                                      facto_fm_predictor type)
{
    const float *labels = NULL;
    facto_rows_csr(rows, NULL, NULL, NULL, &labels);
    if (!labels)
        return 0;
    for (int64_t r = 0; r < facto_rows_count(rows); r++) {
        float y = labels[r];
        char detail[160];
        if (!isfinite(y)) {
            cli_fm_row_error(path, origin, r, "the label is not a finite number", "");
            return FACTO_EXIT_DATA;
        }
        if (type == FACTO_FM_BINARY_CLASSIFIER && y != 0.0f && y != 1.0f && y != -1.0f) {
            snprintf(detail, sizeof detail, "label %g is not 0 or 1 (or -1/+1) as binary_classifier needs",
                     (double)y);
            cli_fm_row_error(path, origin, r, detail, FACTO_FM_LABEL_HINT);
            return FACTO_EXIT_DATA;
        }
    }
    return 0;
}

/*
 * A library message about one row ("training row 2: ...", "test row 2:
 * ...", "evaluation row 2: ...", row numbers from 1 among the rows read):
 * when `msg` starts with `prefix` and a row number of `rows`, print it as
 * cli_fm_row_error() does and return 1; else 0. For whatever the checks
 * above do not catch.
 */
static int cli_fm_row_message(const char *msg, const char *prefix, const char *path, const facto_rows *rows,
                                const facto_rows_origin *origin, const char *hint)
{
    size_t n = strlen(prefix);
    if (!path || !rows || strncmp(msg, prefix, n) != 0 || msg[n] < '0' || msg[n] > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    long long row = strtoll(msg + n, &end, 10);
    if (errno || strncmp(end, ": ", 2) != 0 || row < 1 || row > facto_rows_count(rows))
        return 0;
    cli_fm_row_error(path, origin, row - 1, end + 2, hint);
    return 1;
}

/* Read --train/--test rows, with where each row came from; feature_dim
 * from the data when params has none. */
static int cli_fm_read_files(facto_ctx *ctx, const char *verb, const cli_fm_args *a, facto_fm_params *p,
                               facto_rows **train, facto_rows **test, facto_rows_origin **train_origin,
                               facto_rows_origin **test_origin)
{
    facto_rows_format fmt = FACTO_ROWS_AUTO;
    int rc;
    if (a->format_text && (rc = cli_arg_rows_format(verb, "--format", a->format_text, 1, &fmt)) != 0)
        return rc;
    facto_status st = facto_rows_read_origin(ctx, a->train, fmt, p->feature_dim, train, train_origin);
    if (st == FACTO_OK && a->test)
        st = facto_rows_read_origin(ctx, a->test, fmt, p->feature_dim, test, test_origin);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    if (p->feature_dim == 0) {
        uint64_t d = facto_rows_dim(*train);
        if (*test && facto_rows_dim(*test) > d)
            d = facto_rows_dim(*test);
        p->feature_dim = d;
        fprintf(stderr, "facto: note: feature_dim not given; %llu from the data\n", (unsigned long long)d);
    }
    if ((st = facto_rows_set_dim(ctx, *train, p->feature_dim)) != FACTO_OK ||
        (*test && (st = facto_rows_set_dim(ctx, *test, p->feature_dim)) != FACTO_OK))
        return cli_fail(ctx, st, 0);
    if ((rc = cli_fm_check_file_labels(*train, *train_origin, a->train, p->predictor_type)) != 0)
        return rc;
    if (*test && (rc = cli_fm_check_file_labels(*test, *test_origin, a->test, p->predictor_type)) != 0)
        return rc;
    return 0;
}

static void cli_fm_json_metrics(json_t *root, const char *prefix, const facto_metrics *m, int have)
{
    char key[96];
#define FACTO_FM_SET(name, value)                                                                                   \
    do {                                                                                                            \
        snprintf(key, sizeof key, "%s%s", prefix, name);                                                            \
        json_object_set_new(root, key, cli_json_num(have ? (value) : NAN, 6));                                    \
    } while (0)
    if (m->task == FACTO_TASK_BINARY) {
        FACTO_FM_SET("binary_classification_accuracy", m->binary.accuracy);
        FACTO_FM_SET("binary_classification_cross_entropy", m->binary.cross_entropy);
        FACTO_FM_SET("binary_f_beta", m->binary.f_beta);
        FACTO_FM_SET("auc", m->binary.auc);
        FACTO_FM_SET("precision", m->binary.precision);
        FACTO_FM_SET("recall", m->binary.recall);
    } else {
        FACTO_FM_SET("rmse", m->rmse);
        FACTO_FM_SET("mae", m->mae);
    }
#undef FACTO_FM_SET
}

/* SageMaker's log form: #test_score (algo-1) : ('rmse', 0.9140) */
static void cli_fm_print_scores(FILE *out, const char *which, const facto_metrics *m)
{
    if (m->task == FACTO_TASK_BINARY) {
        const char *names[] = {"binary_classification_accuracy", "binary_classification_cross_entropy",
                               "binary_f_beta", "auc", "precision", "recall"};
        double v[] = {m->binary.accuracy, m->binary.cross_entropy, m->binary.f_beta,
                      m->binary.auc,      m->binary.precision,     m->binary.recall};
        for (int i = 0; i < 6; i++)
            fprintf(out, "#%s_score (algo-1) : ('%s', %.6g)\n", which, names[i], v[i]);
    } else {
        fprintf(out, "#%s_score (algo-1) : ('rmse', %.6g)\n", which, m->rmse);
        fprintf(out, "#%s_score (algo-1) : ('mae', %.6g)\n", which, m->mae);
    }
}

/* --solver als|mcmc on ratings: block form through facto_fm_fit_ratings. */
static int cli_fm_train_ratings(facto_ctx *ctx, const char *verb, const cli_fm_args *a, facto_fm_params *p,
                                  FILE *info)
{
    if (a->src.enc.numeric_ids)
        return cli_usage(verb, "--numeric-ids is the flat layout of --solver sgd; als and mcmc on ratings "
                                     "use the block form");
    facto_dataset *dtr = NULL, *dte = NULL;
    facto_model *model = NULL;
    char uf[4200], itf[4200];
    cli_fm_source src = a->src;
    src.seed = p->seed;
    int rc = cli_fm_read_sets(ctx, verb, &src, &dtr, &dte, uf, itf, sizeof uf);
    if (rc)
        return rc;
    facto_fm_ratings_options o = facto_fm_ratings_options_default();
    o.user_file = uf[0] ? uf : NULL;
    o.item_file = itf[0] ? itf : NULL;
    o.implicit = a->implicit;
    /* --prior-groups, else the hyperparameter (hyperparameters.json or
     * --prior_groups; 0 or 1, default 1 as the block form's) */
    o.prior_groups = a->prior_groups_set ? a->prior_groups : p->prior_groups;
    if (a->prior_groups_set && a->prior_groups <= 1)
        p->prior_groups = a->prior_groups; /* the model's hyperparameters say what was used */
    o.binarize = a->src.enc.binarize;
    int64_t ntr = facto_dataset_n_ratings(dtr), nte = dte ? facto_dataset_n_ratings(dte) : 0;
    fprintf(info, "training fm (%s, solver %s, num_factors %d, block form: one-hot user + item%s%s%s%s) on %lld "
                  "ratings (%d users, %d items)",
            cli_fm_predictor_name_cli(p->predictor_type), p->solver == FACTO_FM_SOLVER_MCMC ? "mcmc" : "als",
            p->num_factors, o.user_file ? ", user side" : "", o.item_file ? ", item side" : "",
            (o.implicit & FACTO_FM_IMPLICIT_USER) ? ", implicit items" : "",
            (o.implicit & FACTO_FM_IMPLICIT_ITEM) ? ", implicit users" : "", (long long)ntr,
            (int)facto_dataset_n_users(dtr), (int)facto_dataset_n_items(dtr));
    if (dte)
        fprintf(info, ", testing on %lld ratings", (long long)nte);
    fprintf(info, "\n");
    cli_fm_chains_note(info, p);
    fflush(info);
    cli_fm_state s;
    memset(&s, 0, sizeof s);
    s.out = info;
    s.n_train = ntr;
    facto_fit_callbacks cb = {cli_fm_on_epoch, NULL, &s};
    double chain = NAN, t0 = cli_fm_now();
    facto_status st = facto_fm_fit_ratings(ctx, dtr, dte, &o, p, &cb, &model, &chain);
    double seconds = cli_fm_now() - t0;
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    if ((rc = cli_model_feature_dim(ctx, model, &p->feature_dim)) != 0)
        goto done;
    facto_eval_options eo = facto_eval_options_default();
    eo.binarize = o.binarize;
    facto_metrics mtrain, mtest;
    memset(&mtest, 0, sizeof mtest);
    mtest.task = facto_model_task(model);
    if ((st = facto_model_evaluate(ctx, model, dtr, &eo, &mtrain, NULL)) != FACTO_OK ||
        (dte && (st = facto_model_evaluate(ctx, model, dte, &eo, &mtest, NULL)) != FACTO_OK)) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    long long bytes = -1;
    if (a->out) {
        if ((st = facto_model_save(ctx, model, a->out)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
        FILE *f = fopen(a->out, "rb");
        if (f && fseek(f, 0, SEEK_END) == 0)
            bytes = ftell(f);
        if (f)
            fclose(f);
        fprintf(info, "saved model to %s (%lld bytes)\n", a->out, bytes);
    }
    double sps = s.update_seconds > 0 ? (double)s.samples / s.update_seconds : 0;
    int classifier = p->predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    if (a->json) {
        json_t *root = json_object();
        json_object_set_new(root, "model", json_string("fm"));
        json_object_set_new(root, "predictor_type", json_string(cli_fm_predictor_name_cli(p->predictor_type)));
        json_object_set_new(root, "solver", json_string(p->solver == FACTO_FM_SOLVER_MCMC ? "mcmc" : "als"));
        json_object_set_new(root, "block_form", json_true());
        json_object_set_new(root, "feature_dim", json_integer((json_int_t)p->feature_dim));
        json_object_set_new(root, "num_factors", json_integer(p->num_factors));
        cli_fm_json_metrics(root, "train_", &mtrain, 1);
        cli_fm_json_metrics(root, classifier ? "" : "test_", &mtest, dte != NULL);
        if (p->solver == FACTO_FM_SOLVER_MCMC && !classifier && dte)
            json_object_set_new(root, "test_rmse_chain", cli_json_num(chain, 6));
        json_object_set_new(root, "epochs", json_integer(s.have_last ? s.last.epoch : 0));
        json_object_set_new(root, "seconds", cli_json_num(seconds, 4));
        json_object_set_new(root, "samples_per_second", cli_json_num(sps, 4));
        json_object_set_new(root, "n_train", json_integer(ntr));
        json_object_set_new(root, "n_test", json_integer(nte));
        if (a->out) {
            json_object_set_new(root, "out", cli_json_str(a->out));
            json_object_set_new(root, "model_bytes", json_integer(bytes));
        }
        rc = cli_json_print(root);
    } else {
        cli_fm_print_scores(stdout, "train", &mtrain);
        if (dte)
            cli_fm_print_scores(stdout, "test", &mtest);
        if (p->solver == FACTO_FM_SOLVER_MCMC && !classifier && dte)
            printf("#test_score (algo-1) : ('rmse_chain', %.6g)\n", chain);
        printf("#seconds (algo-1) : %.3f, %.0f samples/s over %d iterations\n", seconds, sps,
               s.have_last ? s.last.epoch : 0);
    }
done:
    facto_model_free(model);
    facto_dataset_free(dtr);
    facto_dataset_free(dte);
    return rc;
}

int cli_train_fm(int argc, char **argv)
{
    (void)argv;
    const char *verb = "facto train --model fm"; /* usage errors point at this command's --help */
    cli_fm_args a;
    memset(&a, 0, sizeof a);
    a.src.enc = facto_fm_encode_options_default();
    a.threads = 0; /* only MCMC chains use threads, and their result does not depend on the count */
    int help = 0;
    int rc = cli_fm_parse(argc, argv, &a, &help);
    if (help) {
        cli_fm_train_help("facto train");
        rc = FACTO_EXIT_OK;
    }
    facto_ctx *ctx = NULL;
    facto_rows *train = NULL, *test = NULL;
    facto_rows_origin *train_origin = NULL, *test_origin = NULL;
    facto_model *model = NULL;
    if (rc || help)
        goto done;
    if (!(ctx = facto_ctx_new())) {
        cli_error("out of memory");
        rc = FACTO_EXIT_INTERNAL;
        goto done;
    }
    facto_fm_params p;
    if ((rc = cli_fm_build_params(ctx, verb, &a, &p)) != 0)
        goto done;
    if (p.predictor_type == FACTO_FM_BINARY_CLASSIFIER && a.train == NULL && !(a.src.enc.binarize > 0)) {
        rc = cli_usage(verb, "binary_classifier on ratings needs --binarize T (label 1 when rating >= T)");
        goto done;
    }
    facto_ctx_set_threads(ctx, a.threads);
    facto_ctx_set_log(ctx, cli_fm_log, NULL, a.verbose ? FACTO_LOG_INFO : FACTO_LOG_WARN);
    FILE *info = a.json ? stderr : stdout;
    if (!a.train && p.solver != FACTO_FM_SOLVER_SGD) {
        rc = cli_fm_train_ratings(ctx, verb, &a, &p, info);
        goto done;
    }
    if (a.implicit || (a.prior_groups_set && !a.train)) {
        rc = cli_usage(verb, "--implicit and --prior-groups need --solver als or mcmc");
        goto done;
    }
    if (a.prior_groups_set)
        p.prior_groups = a.prior_groups; /* rows: 0 one group, 1 one per one-hot field found (MCMC) */
    if (a.train) {
        if ((rc = cli_fm_read_files(ctx, verb, &a, &p, &train, &test, &train_origin, &test_origin)) != 0)
            goto done;
    } else {
        uint64_t dim = 0;
        a.src.seed = p.seed;
        if ((rc = cli_fm_from_ratings(ctx, verb, &a.src, info, &train, &test, &dim)) != 0)
            goto done;
        if (p.feature_dim == 0) {
            p.feature_dim = dim;
        } else if (p.feature_dim < dim) {
            rc = cli_usage(verb, "feature_dim %llu is smaller than the encoded layout's %llu",
                                 (unsigned long long)p.feature_dim, (unsigned long long)dim);
            goto done;
        }
        facto_status sd = facto_rows_set_dim(ctx, train, p.feature_dim);
        if (sd == FACTO_OK && test)
            sd = facto_rows_set_dim(ctx, test, p.feature_dim);
        if (sd != FACTO_OK) {
            rc = cli_fail(ctx, sd, 0);
            goto done;
        }
    }
    char solver[16], pred[32];
    {
        /* names as the library spells them, from its own formatter */
        char buf[4096];
        facto_fm_params_format(&p, buf, sizeof buf);
        const char *s = strstr(buf, "\nsolver="), *t = strstr(buf, "predictor_type=");
        snprintf(solver, sizeof solver, "%.*s", s ? (int)strcspn(s + 8, "\n") : 0, s ? s + 8 : "");
        snprintf(pred, sizeof pred, "%.*s", t ? (int)strcspn(t + 15, "\n") : 0, t ? t + 15 : "");
    }
    fprintf(info, "training fm (%s, solver %s, num_factors %d) on %lld rows, feature_dim %llu", pred, solver,
            p.num_factors, (long long)facto_rows_count(train), (unsigned long long)p.feature_dim);
    if (test)
        fprintf(info, ", testing on %lld rows", (long long)facto_rows_count(test));
    fprintf(info, "\n");
    cli_fm_chains_note(info, &p);
    fflush(info);

    cli_fm_state s;
    memset(&s, 0, sizeof s);
    s.out = info;
    s.n_train = facto_rows_count(train);
    facto_fit_callbacks cb = {cli_fm_on_epoch, NULL, &s};
    double t0 = cli_fm_now();
    facto_status st = facto_fm_fit(ctx, train, test, &p, &cb, &model);
    double seconds = cli_fm_now() - t0;
    if (st != FACTO_OK) {
        /* the hyperparameters were checked above: INVALID here is the data's fault */
        const char *msg = facto_errmsg(ctx);
        int is_label = strstr(msg, "binary_classifier needs") != NULL;
        const char *where = strncmp(msg, "test", 4) == 0 ? a.test : a.train;
        const char *hint = is_label ? FACTO_FM_LABEL_HINT : "";
        if (cli_fm_row_message(msg, "training row ", a.train, train, train_origin, hint) ||
            cli_fm_row_message(msg, "test row ", a.test, test, test_origin, hint)) {
            rc = st == FACTO_ERR_NOMEM || st == FACTO_ERR_INTERNAL ? FACTO_EXIT_INTERNAL : FACTO_EXIT_DATA;
        } else if (where || is_label) {
            cli_error("%s%s%s%s", where ? where : "", where ? ": " : "", msg, hint);
            rc = st == FACTO_ERR_NOMEM || st == FACTO_ERR_INTERNAL ? FACTO_EXIT_INTERNAL : FACTO_EXIT_DATA;
        } else {
            rc = cli_fail(ctx, st, 0);
        }
        goto done;
    }
    facto_metrics mtrain, mtest;
    memset(&mtest, 0, sizeof mtest);
    mtest.task = facto_model_task(model);
    if ((st = facto_model_evaluate_rows(ctx, model, train, &mtrain)) != FACTO_OK ||
        (test && (st = facto_model_evaluate_rows(ctx, model, test, &mtest)) != FACTO_OK)) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    if (a.out) {
        if ((st = facto_model_save(ctx, model, a.out)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
        fprintf(info, "saved model to %s\n", a.out);
    }
    double sps = s.update_seconds > 0 ? (double)s.samples / s.update_seconds : 0;
    if (a.json) {
        json_t *root = json_object();
        json_object_set_new(root, "model", json_string("fm"));
        json_object_set_new(root, "predictor_type", json_string(pred));
        json_object_set_new(root, "solver", json_string(solver));
        json_object_set_new(root, "feature_dim", json_integer((json_int_t)p.feature_dim));
        json_object_set_new(root, "num_factors", json_integer(p.num_factors));
        cli_fm_json_metrics(root, "train_", &mtrain, 1);
        cli_fm_json_metrics(root, p.predictor_type == FACTO_FM_BINARY_CLASSIFIER ? "" : "test_", &mtest,
                              test != NULL);
        /* MCMC: the test figure after the last iteration is libFM's, the running
         * average over the whole chain; test_rmse is the saved model's. */
        if (p.solver == FACTO_FM_SOLVER_MCMC && p.predictor_type == FACTO_FM_REGRESSOR && test)
            json_object_set_new(root, "test_rmse_chain",
                                cli_json_num(s.have_last ? s.last.test_rmse_average : NAN, 6));
        json_object_set_new(root, "epochs", json_integer(s.have_last ? s.last.epoch : 0));
        json_object_set_new(root, "seconds", cli_json_num(seconds, 4));
        json_object_set_new(root, "samples_per_second", cli_json_num(sps, 4));
        json_object_set_new(root, "n_train", json_integer(facto_rows_count(train)));
        json_object_set_new(root, "n_test", json_integer(test ? facto_rows_count(test) : 0));
        if (a.out)
            json_object_set_new(root, "out", cli_json_str(a.out));
        rc = cli_json_print(root);
    } else {
        cli_fm_print_scores(stdout, "train", &mtrain);
        if (test)
            cli_fm_print_scores(stdout, "test", &mtest);
        printf("#seconds (algo-1) : %.3f, %.0f samples/s over %d epochs\n", seconds, sps,
               s.have_last ? s.last.epoch : 0);
    }
done:
    facto_model_free(model);
    facto_rows_free(train);
    facto_rows_free(test);
    facto_rows_origin_free(train_origin);
    facto_rows_origin_free(test_origin);
    facto_ctx_free(ctx);
    free(a.hp_names);
    free(a.hp_values);
    return rc;
}

/* ---- predict ------------------------------------------------------------ */


/* Whole file (or stdin) into a buffer; *data owned by the caller. */
/* The largest request body read (256 MiB, as the longest text line; SageMaker's own limits are 6 MB
 * for real-time and 100 MB for batch requests). */
#define FACTO_FM_MAX_REQUEST (1 << 28)

static int cli_fm_slurp(const char *path, char **data, size_t *size)
{
    int from_stdin = strcmp(path, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return FACTO_EXIT_DATA;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        if (n == cap && cap >= FACTO_FM_MAX_REQUEST) {
            cli_error("%s: more than %d MiB: too large for one request (an endless stream?)",
                            from_stdin ? "<stdin>" : path, FACTO_FM_MAX_REQUEST >> 20);
            free(buf);
            if (!from_stdin)
                fclose(f);
            *data = NULL;
            *size = 0;
            return FACTO_EXIT_DATA;
        }
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!buf) {
        cli_error("out of memory reading %s", path);
        rc = FACTO_EXIT_INTERNAL;
    } else if (ferror(f)) {
        cli_error("%s: read error: %s", from_stdin ? "<stdin>" : path, strerror(errno));
        free(buf);
        buf = NULL;
        rc = FACTO_EXIT_DATA;
    }
    if (!from_stdin)
        fclose(f);
    *data = buf;
    *size = n;
    return rc;
}

int cli_fm_predict(facto_ctx *ctx, const facto_model *model, const char *input, const char *content_type,
                         const char *accept, const char *output)
{
    const char *verb = "facto predict";
    facto_content_type in_type, out_type;
    if (!content_type)
        return cli_usage(verb, "an FM model needs --content-type application/json|application/jsonlines|"
                                     "application/x-recordio-protobuf");
    if (facto_content_type_parse(ctx, content_type, &in_type) != FACTO_OK)
        return cli_usage(verb, "--content-type: %s", facto_errmsg(ctx));
    out_type = in_type;
    if (accept && facto_content_type_parse(ctx, accept, &out_type) != FACTO_OK)
        return cli_usage(verb, "--accept: %s", facto_errmsg(ctx));
    uint64_t feature_dim = 0;
    int rc = cli_model_feature_dim(ctx, model, &feature_dim);
    if (rc)
        return rc;
    char *body = NULL;
    size_t size = 0;
    rc = cli_fm_slurp(input, &body, &size);
    if (rc)
        return rc;
    facto_rows *rows = NULL;
    float *scores = NULL, *labels = NULL;
    void *resp = NULL;
    size_t resp_size = 0;
    facto_status st = facto_inference_request_parse(ctx, in_type, body, size, feature_dim, &rows);
    if (st != FACTO_OK) {
        /* a bad request is a data error; the message names the input file */
        cli_error("%s: %s", strcmp(input, "-") == 0 ? "<stdin>" : input, facto_errmsg(ctx));
        rc = st == FACTO_ERR_NOMEM || st == FACTO_ERR_INTERNAL ? FACTO_EXIT_INTERNAL : FACTO_EXIT_DATA;
        goto done;
    }
    size_t n = (size_t)facto_rows_count(rows);
    scores = malloc((n ? n : 1) * sizeof *scores);
    labels = malloc((n ? n : 1) * sizeof *labels);
    if (!scores || !labels) {
        cli_error("out of memory");
        rc = FACTO_EXIT_INTERNAL;
        goto done;
    }
    int classifier = facto_model_task(model) == FACTO_TASK_BINARY;
    if ((st = facto_model_predict_rows(ctx, model, rows, scores, labels)) != FACTO_OK ||
        (st = facto_inference_response_write(ctx, out_type, scores, classifier ? labels : NULL, (int64_t)n, &resp,
                                             &resp_size)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    int to_stdout = !output || strcmp(output, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(output, "wb");
    if (!f) {
        cli_error("%s: cannot create: %s", output, strerror(errno));
        rc = FACTO_EXIT_DATA;
        goto done;
    }
    int bad = fwrite(resp, 1, resp_size, f) != resp_size;
    /* JSON bodies end without a newline; a terminal or a text file wants one */
    if (!bad && out_type != FACTO_CONTENT_RECORDIO && resp_size > 0 && ((char *)resp)[resp_size - 1] != '\n')
        bad = fputc('\n', f) == EOF;
    bad |= to_stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad) {
        cli_error("%s: write error: %s", to_stdout ? "<stdout>" : output, strerror(errno));
        rc = FACTO_EXIT_DATA;
    }
done:
    facto_buffer_free(resp);
    free(scores);
    free(labels);
    facto_rows_free(rows);
    free(body);
    return rc;
}

/* ---- eval --------------------------------------------------------------- */

int cli_fm_report(const facto_metrics *m, int json)
{
    if (json) {
        json_t *root = json_object();
        cli_fm_json_metrics(root, "", m, 1);
        json_object_set_new(root, "count", json_integer(m->n));
        return cli_json_print(root);
    }
    cli_fm_print_scores(stdout, "test", m);
    printf("rows           %lld\n", (long long)m->n);
    return 0;
}

int cli_fm_eval(facto_ctx *ctx, const facto_model *model, const char *path, facto_rows_format format, int json)
{
    uint64_t feature_dim = 0;
    int rc = cli_model_feature_dim(ctx, model, &feature_dim);
    if (rc)
        return rc;
    facto_rows *rows = NULL;
    facto_rows_origin *origin = NULL;
    facto_status st = facto_rows_read_origin(ctx, path, format, feature_dim, &rows, &origin);
    if (st == FACTO_OK)
        st = facto_rows_set_dim(ctx, rows, feature_dim);
    if (st != FACTO_OK) {
        facto_rows_free(rows);
        facto_rows_origin_free(origin);
        return cli_fail(ctx, st, 0);
    }
    facto_metrics m;
    rc = cli_fm_check_file_labels(rows, origin, path,
                                  facto_model_task(model) == FACTO_TASK_BINARY ? FACTO_FM_BINARY_CLASSIFIER
                                                                               : FACTO_FM_REGRESSOR);
    if (rc) {
        /* reported */
    } else if ((st = facto_model_evaluate_rows(ctx, model, rows, &m)) != FACTO_OK) {
        /* a message about one row ("evaluation row 2: ...") names its line; any other names the file */
        const char *msg = facto_errmsg(ctx);
        if (!cli_fm_row_message(msg, "evaluation row ", path, rows, origin,
                                  strstr(msg, "binary_classifier needs") ? FACTO_FM_LABEL_HINT : ""))
            cli_error("%s: %s", path, msg);
        rc = st == FACTO_ERR_NOMEM || st == FACTO_ERR_INTERNAL ? FACTO_EXIT_INTERNAL : FACTO_EXIT_DATA;
    } else {
        rc = cli_fm_report(&m, json);
    }
    facto_rows_free(rows);
    facto_rows_origin_free(origin);
    return rc;
}
