/*
 * cmd_train.c — `facto train`: resolve the training (and test) data from
 * --dataset/--split or --train/--test, fit a model, print one line per epoch
 * (train/test RMSE and MAE) and, on a terminal, a progress bar on stderr with
 * ratings/s and ETA; --json prints one object with the final figures; --out
 * saves the model. Models are picked with --model through cli_train_models
 * (add a row there for a new kind; it gets the whole argv). Cost: the fit's,
 * O(epochs * n_ratings * factors); the CLI adds O(1) per progress call.
 */
#include "readdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- model kinds ------------------------------------------------------- */

static int cli_train_mf(int argc, char **argv);

static const struct {
    const char *name;
    cli_fn train;
} cli_train_models[] = {
    {"mf", cli_train_mf},
    {"fm", cli_train_fm},
};

int cli_cmd_train(int argc, char **argv)
{
    /* Find --model before parsing: each kind has its own options. */
    const char *model = "mf";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model = argv[i + 1];
        else if (strncmp(argv[i], "--model=", 8) == 0)
            model = argv[i] + 8;
    }
    for (size_t k = 0; k < sizeof cli_train_models / sizeof *cli_train_models; k++)
        if (strcmp(model, cli_train_models[k].name) == 0)
            return cli_train_models[k].train(argc, argv);
    return cli_usage(argv[0], "--model: unknown model '%s' (known: mf, fm)", model);
}

/* ---- MF ---------------------------------------------------------------- */

static double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct cli_train_state {
    int json;          /* epoch lines go to stderr */
    int tty;           /* progress bar on stderr */
    int bar_shown;
    double t_start;
    double last_bar;
    int64_t n_train;
    facto_epoch_report last;
    int have_last;
    double update_seconds; /* sum of epoch update times */
} cli_train_state;

static void cli_bar_clear(cli_train_state *s)
{
    if (s->bar_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        s->bar_shown = 0;
    }
}

static int cli_on_epoch(const facto_epoch_report *r, void *user)
{
    cli_train_state *s = user;
    cli_bar_clear(s);
    FILE *out = s->json ? stderr : stdout;
    fprintf(out, "epoch %*d/%d  train RMSE %.4f MAE %.4f", r->epochs >= 100 ? 3 : 2, r->epoch, r->epochs,
            r->train.rmse, r->train.mae);
    if (r->test.n > 0)
        fprintf(out, "  test RMSE %.4f MAE %.4f", r->test.rmse, r->test.mae);
    fprintf(out, "  %.2fs %.0f ratings/s\n", r->seconds, r->samples_per_second);
    fflush(out);
    s->last = *r;
    s->have_last = 1;
    s->update_seconds += r->seconds;
    return 0;
}

static int cli_on_progress(int epoch, int64_t done, int64_t total, void *user)
{
    cli_train_state *s = user;
    if (!s->tty || total <= 0)
        return 0;
    double now = cli_now();
    if (now - s->last_bar < 0.1 && done < total)
        return 0;
    s->last_bar = now;
    int epochs = s->last.epochs > 0 ? s->last.epochs : 0;
    double elapsed = now - s->t_start;
    double processed = (double)(epoch - 1) * (double)total + (double)done;
    double rate = elapsed > 0 ? processed / elapsed : 0;
    char eta[32] = "?";
    if (rate > 0 && epochs > 0) {
        double left = ((double)epochs * (double)total - processed) / rate;
        snprintf(eta, sizeof eta, "%d:%02d", (int)(left / 60), (int)fmod(left, 60));
    }
    int width = 30, fill = (int)((double)width * (double)done / (double)total);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[Kepoch %d [%s] %3d%%  %.0f ratings/s  ETA %s", epoch, bar,
            (int)(100.0 * (double)done / (double)total), rate, eta);
    fflush(stderr);
    s->bar_shown = 1;
    return 0;
}

static void cli_train_help(const char *verb)
{
    facto_mf_params p = facto_mf_params_default();
    printf("Usage: %s (--dataset NAME --split SPLIT | --train FILE [--test FILE] [--split SPEC]) [OPTIONS]\n\n"
           "Train a biased matrix factorization model (Koren, Bell & Volinsky 2009) and print\n"
           "train and test RMSE/MAE after every epoch.\n\n"
           "Data:\n"
           "  --dataset NAME     a registered data set, see `facto datasets list` (default: none)\n"
           "  --split SPLIT      an official split (ml-100k: u1..u5, ua, ub), or random:F (F of the\n"
           "                     ratings to test), kfold:K:I (fold I of K), time:F (each user's latest F)\n"
           "                     applied to the data set's ratings file or to --train (no default)\n"
           "  --train FILE       training ratings, instead of --dataset (default: none)\n"
           "  --test FILE        test ratings, scored after every epoch (default: none)\n"
           FACTO_CLI_READ_HELP
           "\nModel:\n"
           "  --model KIND       mf|fm (default mf); `facto train --model fm --help` lists FM's options\n"
           "  --factors N        number of latent factors (default %d)\n"
           "  --epochs N         passes over the training ratings (default %d)\n"
           "  --optimizer NAME   sgd|adam (default %s)\n"
           "  --lr X             learning rate (default %g)\n"
           "  --lr-decay X       learning rate multiplier after each epoch (default %g)\n"
           "  --momentum X       SGD momentum in [0, 1) (default %g)\n"
           "  --reg X            L2 regularisation of the factors (default %g)\n"
           "  --reg-bias X       L2 regularisation of the biases (default %g)\n"
           "  --init-std X       factors start as N(0, X^2) (default %g)\n"
           "  --seed N           seed for initialisation, shuffling and random/kfold splits (default %llu)\n"
           "  --threads N        training threads, 0 = all cores (default 1)\n"
           "\nOutput:\n"
           "  --out MODEL        save the trained model to this file (default: not saved)\n"
           "  --json             print one JSON object (train_rmse, train_mae, test_rmse, test_mae,\n"
           "                     epochs, seconds = wall time of the fit, ratings_per_second = training\n"
           "                     updates per second, n_train, n_test, duplicates) on stdout; epoch\n"
           "                     lines go to stderr (default: off)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb, p.num_factors, p.epochs, p.optimizer == FACTO_OPT_ADAM ? "adam" : "sgd", (double)p.learning_rate,
           (double)p.lr_decay, (double)p.momentum, (double)p.reg_factors, (double)p.reg_bias, (double)p.init_std,
           (unsigned long long)p.seed);
}

enum {
    OPT_DATASET = 256, OPT_SPLIT, OPT_TRAIN, OPT_TEST, OPT_FORMAT, OPT_COLUMNS, OPT_DELIM, OPT_MODEL, OPT_FACTORS,
    OPT_EPOCHS, OPT_LR, OPT_LR_DECAY, OPT_REG, OPT_REG_BIAS, OPT_OPTIMIZER, OPT_MOMENTUM, OPT_INIT_STD, OPT_SEED,
    OPT_THREADS, OPT_OUT, OPT_JSON
};

static const struct option cli_train_opts[] = {
    {"dataset", required_argument, NULL, OPT_DATASET}, {"split", required_argument, NULL, OPT_SPLIT},
    {"train", required_argument, NULL, OPT_TRAIN},     {"test", required_argument, NULL, OPT_TEST},
    {"format", required_argument, NULL, OPT_FORMAT},   {"columns", required_argument, NULL, OPT_COLUMNS},
    {"delimiter", required_argument, NULL, OPT_DELIM}, {"model", required_argument, NULL, OPT_MODEL},
    {"factors", required_argument, NULL, OPT_FACTORS}, {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"lr", required_argument, NULL, OPT_LR},           {"lr-decay", required_argument, NULL, OPT_LR_DECAY},
    {"reg", required_argument, NULL, OPT_REG},         {"reg-bias", required_argument, NULL, OPT_REG_BIAS},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"momentum", required_argument, NULL, OPT_MOMENTUM},
    {"init-std", required_argument, NULL, OPT_INIT_STD},
    {"seed", required_argument, NULL, OPT_SEED},       {"threads", required_argument, NULL, OPT_THREADS},
    {"out", required_argument, NULL, OPT_OUT},         {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};

typedef struct cli_train_args {
    const char *dataset, *split, *train, *test, *out;
    cli_readopts read;
    facto_mf_params params;
    int threads;
    int json;
} cli_train_args;

static int cli_train_parse(int argc, char **argv, cli_train_args *a, int *help)
{
    const char *verb = argv[0];
    int c, rc = 0;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_train_opts)) != -1) {
        switch (c) {
        case 'h': *help = 1; return 0;
        case OPT_DATASET: a->dataset = optarg; break;
        case OPT_SPLIT: a->split = optarg; break;
        case OPT_TRAIN: a->train = optarg; break;
        case OPT_TEST: a->test = optarg; break;
        case OPT_FORMAT:
            rc = cli_arg_format(verb, optarg, &a->read.opts.format);
            a->read.format_set = 1;
            break;
        case OPT_COLUMNS: a->read.opts.columns = optarg; break;
        case OPT_DELIM: rc = cli_arg_delimiter(verb, optarg, &a->read.opts.delimiter); break;
        case OPT_MODEL: break; /* dispatched in cli_cmd_train */
        case OPT_FACTORS: rc = cli_arg_int(verb, "--factors", optarg, 1, 65536, &a->params.num_factors); break;
        case OPT_EPOCHS: rc = cli_arg_int(verb, "--epochs", optarg, 1, 1000000, &a->params.epochs); break;
        case OPT_LR: rc = cli_arg_float(verb, "--lr", optarg, 1e-30, 1e6, &a->params.learning_rate); break;
        case OPT_LR_DECAY: rc = cli_arg_float(verb, "--lr-decay", optarg, 1e-30, 1, &a->params.lr_decay); break;
        case OPT_REG: rc = cli_arg_float(verb, "--reg", optarg, 0, 1e6, &a->params.reg_factors); break;
        case OPT_REG_BIAS: rc = cli_arg_float(verb, "--reg-bias", optarg, 0, 1e6, &a->params.reg_bias); break;
        case OPT_MOMENTUM: rc = cli_arg_float(verb, "--momentum", optarg, 0, 0.999999, &a->params.momentum); break;
        case OPT_INIT_STD: rc = cli_arg_float(verb, "--init-std", optarg, 0, 1e3, &a->params.init_std); break;
        case OPT_SEED: rc = cli_arg_u64(verb, "--seed", optarg, &a->params.seed); break;
        case OPT_THREADS: rc = cli_arg_int(verb, "--threads", optarg, 0, 4096, &a->threads); break;
        case OPT_OUT:
            a->out = optarg;
            if (!*optarg)
                rc = cli_usage(verb, "--out: the model path is empty");
            break;
        case OPT_JSON: a->json = 1; break;
        case OPT_OPTIMIZER:
            if (strcmp(optarg, "sgd") == 0)
                a->params.optimizer = FACTO_OPT_SGD;
            else if (strcmp(optarg, "adam") == 0)
                a->params.optimizer = FACTO_OPT_ADAM;
            else
                rc = cli_usage(verb, "--optimizer: '%s' is not one of sgd, adam", optarg);
            break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    cli_read_finish(&a->read);
    if (a->dataset && a->train)
        return cli_usage(verb, "give --dataset or --train, not both");
    if (!a->dataset && !a->train)
        return cli_usage(verb, "missing --dataset NAME --split SPLIT, or --train FILE");
    if (a->dataset && !a->split)
        return cli_usage(verb, "--dataset needs --split (u1..u5, ua, ub, random:F, kfold:K:I or time:F)");
    if (a->dataset && a->test)
        return cli_usage(verb, "--test goes with --train, not with --dataset (use --split)");
    if (a->train && a->split && a->test)
        return cli_usage(verb, "give --test or --split, not both");
    if (a->train && a->split && !strchr(a->split, ':'))
        return cli_usage(verb, "--split with --train must be random:F, kfold:K:I or time:F");
    return 0;
}

/* Load train/test datasets as the arguments say. */
static int cli_train_data(facto_ctx *ctx, const cli_train_args *a, facto_dataset **train, facto_dataset **test,
                            int64_t *dups)
{
    char train_path[4096], test_path[4096];
    const char *verb = "facto train";
    facto_status st;
    int rc;
    const char *split_spec = NULL;
    if (a->dataset) {
        if (strchr(a->split, ':')) {
            split_spec = a->split;
            st = facto_dataset_split_files(ctx, a->dataset, NULL, train_path, test_path, sizeof train_path);
        } else {
            st = facto_dataset_split_files(ctx, a->dataset, a->split, train_path, test_path, sizeof train_path);
        }
        if (st != FACTO_OK)
            return cli_fail(ctx, st, 0);
    } else {
        snprintf(train_path, sizeof train_path, "%s", a->train);
        snprintf(test_path, sizeof test_path, "%s", a->test ? a->test : "");
        split_spec = a->split;
    }
    facto_split split;
    if (split_spec) {
        if ((st = facto_split_parse(ctx, split_spec, &split)) != FACTO_OK) {
            cli_usage(verb, "--split: %s", facto_errmsg(ctx));
            return FACTO_EXIT_USAGE;
        }
        split.seed = a->params.seed;
    }
    facto_dataset *all = NULL;
    if ((rc = cli_read(ctx, &a->read, train_path, &all, dups)) != 0)
        return rc;
    if (split_spec) {
        st = facto_dataset_split(ctx, all, &split, train, test);
        facto_dataset_free(all);
        if (st != FACTO_OK) {
            cli_error("%s: %s", train_path, facto_errmsg(ctx));
            return st == FACTO_ERR_INVALID ? FACTO_EXIT_USAGE : FACTO_EXIT_DATA;
        }
        return 0;
    }
    *train = all;
    if (test_path[0]) {
        if ((rc = cli_read(ctx, &a->read, test_path, test, NULL)) != 0) {
            facto_dataset_free(all);
            *train = NULL;
            return rc;
        }
    }
    return 0;
}

static int cli_train_mf(int argc, char **argv)
{
    cli_train_args a;
    memset(&a, 0, sizeof a);
    cli_read_defaults(&a.read);
    a.params = facto_mf_params_default();
    a.threads = 1;
    int help = 0;
    int rc = cli_train_parse(argc, argv, &a, &help);
    if (help) {
        cli_train_help(argv[0]);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;

    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_ctx_set_threads(ctx, a.threads);
    facto_dataset *train = NULL, *test = NULL;
    facto_model *model = NULL;
    json_t *root = NULL;
    int64_t dups = 0;
    facto_status st;
    /* A model that could not be saved is found out now, not after the fit. */
    if (a.out && (st = facto_model_save_check(ctx, a.out)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    if ((rc = cli_train_data(ctx, &a, &train, &test, &dups)) != 0)
        goto done;

    cli_train_state s;
    memset(&s, 0, sizeof s);
    s.json = a.json;
    s.tty = cli_stderr_is_tty();
    s.n_train = facto_dataset_n_ratings(train);
    s.last.epochs = a.params.epochs;
    facto_fit_callbacks cb = {cli_on_epoch, cli_on_progress, &s};
    FILE *info = a.json ? stderr : stdout;
    fprintf(info, "training mf on %lld ratings (%d users, %d items)", (long long)s.n_train,
            (int)facto_dataset_n_users(train), (int)facto_dataset_n_items(train));
    if (test)
        fprintf(info, ", testing on %lld ratings", (long long)facto_dataset_n_ratings(test));
    fprintf(info, "\n");
    fflush(info);
    s.t_start = cli_now();
    st = facto_mf_fit(ctx, train, test, &a.params, &cb, &model);
    double seconds = cli_now() - s.t_start;
    cli_bar_clear(&s);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 1);
        goto done;
    }
    if (a.out) {
        if ((st = facto_model_save(ctx, model, a.out)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
        fprintf(info, "saved model to %s\n", a.out);
    }
    if (a.json) {
        double rps = s.update_seconds > 0 ? (double)s.n_train * s.last.epoch / s.update_seconds : 0;
        root = json_object();
        json_object_set_new(root, "model", json_string("mf"));
        json_object_set_new(root, "train_rmse", cli_json_num(s.have_last ? s.last.train.rmse : NAN, 6));
        json_object_set_new(root, "train_mae", cli_json_num(s.have_last ? s.last.train.mae : NAN, 6));
        json_object_set_new(root, "test_rmse", cli_json_num(s.have_last && test ? s.last.test.rmse : NAN, 6));
        json_object_set_new(root, "test_mae", cli_json_num(s.have_last && test ? s.last.test.mae : NAN, 6));
        json_object_set_new(root, "epochs", json_integer(s.have_last ? s.last.epoch : 0));
        json_object_set_new(root, "seconds", cli_json_num(seconds, 4));
        json_object_set_new(root, "ratings_per_second", cli_json_num(rps, 4));
        json_object_set_new(root, "n_train", json_integer(s.n_train));
        json_object_set_new(root, "n_test", json_integer(test ? facto_dataset_n_ratings(test) : 0));
        json_object_set_new(root, "duplicates", json_integer(dups));
        if (a.out)
            json_object_set_new(root, "out", cli_json_str(a.out));
        rc = cli_json_print(root);
        root = NULL;
    }
done:
    json_decref(root);
    facto_model_free(model);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
    return rc;
}
