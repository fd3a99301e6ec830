/*
 * cmd_datasets.c — `facto datasets list|path NAME|fetch NAME|synth [--json]`:
 * the MovieLens registry from the command line, and synthetic data sets.
 * `list` shows each data set and whether it is on disk, `path` prints its
 * folder (exit 2 when missing), `fetch` downloads, verifies and unpacks it
 * (src/data/registry.c), `synth` writes a generated set (.fds or text by the
 * name). O(number of data sets) besides the download; synth O(ratings).
 */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_USERS = 256, OPT_ITEMS, OPT_RATINGS, OPT_SEED, OPT_OUT, OPT_IMPLICIT, OPT_MNAR, OPT_TEST_FRACTION, OPT_UNIFORM };

static const struct option cli_ds_opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"users", required_argument, NULL, OPT_USERS},
    {"items", required_argument, NULL, OPT_ITEMS},
    {"ratings", required_argument, NULL, OPT_RATINGS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"out", required_argument, NULL, OPT_OUT},
    {"implicit", no_argument, NULL, OPT_IMPLICIT},
    {"mnar", required_argument, NULL, OPT_MNAR},
    {"test-fraction", required_argument, NULL, OPT_TEST_FRACTION},
    {"uniform", required_argument, NULL, OPT_UNIFORM},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void cli_ds_help(const char *verb)
{
    facto_synth_options d = facto_synth_options_default();
    printf("Usage: %s list|path NAME|fetch NAME [--json]\n"
           "       %s synth --users N --items M --ratings R --out FILE [--seed S] [--implicit] [--json]\n"
           "       %s synth --mnar ALPHA --users N --items M --ratings R --out DIR [--test-fraction F]\n"
           "                [--uniform T] [--seed S] [--json]\n\n"
           "  list               registered data sets, and whether each is on disk\n"
           "  path NAME          print the data set's folder (exit 2 when it is missing)\n"
           "  fetch NAME         download the official zip, check its checksum, unpack it\n"
           "  synth              write a synthetic data set: Zipf-like item popularity, long-tailed user\n"
           "                     activity, R distinct (user, item) pairs, ratings from a rank-%d model plus\n"
           "                     noise on the half-star scale 0.5..5; the same seed gives the same file\n"
           "  --users N          users, each with at least one rating (default %d)\n"
           "  --items M          items at most: an item that no rating drew is absent from the file, which\n"
           "                     then holds fewer (the summary line says how many) (default %d)\n"
           "  --ratings R        ratings, N..N*M (default %lld)\n"
           "  --seed S           seed (default %llu)\n"
           "  --implicit         binary interactions (every weight 1), items chosen by taste (default: off)\n"
           "  --out FILE         FILE.fds: the compact binary data set (docs/format.md), read by every\n"
           "                     command; any other name: user<TAB>item<TAB>rating text (required)\n"
           "  --mnar ALPHA       ratings missing not at random with known propensities (Schnabel et al.,\n"
           "                     ICML 2016): every pair of N x M has a true rating 1..5 and is observed\n"
           "                     with propensity c * ALPHA^max(0, 4 - rating) (users rate what they like;\n"
           "                     ALPHA 1 = at random), about R observed. Writes into the folder DIR:\n"
           "                     train.tsv, test.tsv (observed, held out with --test-fraction),\n"
           "                     uniform.tsv (T pairs drawn uniformly, true ratings), train.propensities\n"
           "                     and test.propensities (`user item propensity`: the probability that\n"
           "                     the pair is in that file); a file of these five that the run does not\n"
           "                     write (test files with --test-fraction 0) is removed (default: off)\n"
           "  --test-fraction F  --mnar: share of the observed ratings held out, in [0, 1) (default 0.1)\n"
           "  --uniform T        --mnar: uniformly exposed test pairs (default R / 4)\n"
           "  --json             JSON output (default: text)\n"
           "  -h, --help         this text\n\n"
           "Data sets live in $FACTO_DATA_HOME, else $XDG_CACHE_HOME/facto, else ~/.cache/facto\n"
           "(one folder each, as the official zip unpacks). FACTO_DATASETS_URL sets a mirror holding\n"
           "the same zips; FACTO_CONNECT_TIMEOUT the connect timeout in seconds (default 30).\n"
           "Offline, fetch says which address to download and where to unzip it.\n"
           "\nExit codes: 0 ok, 1 usage, 2 data, network or I/O error, 3 internal error.\n",
           verb, verb, verb, (int)d.rank, (int)d.n_users, (int)d.n_items, (long long)d.n_ratings,
           (unsigned long long)d.seed);
}

static void cli_ds_log(facto_log_level level, const char *message, void *user)
{
    (void)user;
    if (level <= FACTO_LOG_INFO)
        fprintf(stderr, "facto: %s\n", message);
}

/* 1 when the name ends in ".fds". */
static int cli_ds_is_fds(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".fds") == 0;
}

/* `synth`: generate, write by the file name, say what was written. */
static int cli_ds_synth(const facto_synth_options *o, const char *out, int json)
{
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_dataset *ds = NULL;
    facto_status st = facto_dataset_synth(ctx, o, &ds);
    int rc = FACTO_EXIT_OK, fds = cli_ds_is_fds(out);
    if (st == FACTO_ERR_INVALID) {
        cli_error("%s", facto_errmsg(ctx));
        rc = FACTO_EXIT_USAGE;
    } else if (st != FACTO_OK ||
               (st = fds ? facto_dataset_write_fds(ctx, ds, out) : facto_dataset_write_tsv(ctx, ds, out)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
    } else if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "out", cli_json_str(out));
        json_object_set_new(root, "format", cli_json_str(fds ? "fds" : "tsv"));
        json_object_set_new(root, "n_users", json_integer(facto_dataset_n_users(ds)));
        json_object_set_new(root, "n_items", json_integer(facto_dataset_n_items(ds)));
        json_object_set_new(root, "n_ratings", json_integer(facto_dataset_n_ratings(ds)));
        rc = cli_json_print(root);
    } else {
        /* an item that no rating drew is not in the file: --items is an upper bound (every user gets one) */
        int nu = (int)facto_dataset_n_users(ds), ni = (int)facto_dataset_n_items(ds);
        printf("%d users, %d items, %lld %s -> %s", nu, ni, (long long)facto_dataset_n_ratings(ds),
               o->implicit ? "interactions" : "ratings", out);
        if (ni < o->n_items)
            printf(" (--items %d is an upper bound: %d item%s drew no rating and %s absent)", (int)o->n_items,
                   (int)o->n_items - ni, o->n_items - ni == 1 ? "" : "s", o->n_items - ni == 1 ? "is" : "are");
        printf("\n");
    }
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
    return rc;
}

/* `synth --mnar`: the five files of facto_dataset_synth_mnar into folder dir. */
static int cli_ds_synth_mnar(const facto_synth_options *o, double alpha, double test_fraction, int64_t n_uniform,
                             const char *dir, int json)
{
    const int made = mkdir(dir, 0777) == 0; /* made here: removed again if nothing is generated */
    if (!made && errno != EEXIST) {
        cli_error("%s: cannot create the folder: %s", dir, strerror(errno));
        return FACTO_EXIT_DATA;
    }
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_synth_mnar m;
    facto_status st = facto_dataset_synth_mnar(ctx, o, alpha, test_fraction, n_uniform, &m);
    if (st != FACTO_OK) {
        int rc = cli_fail(ctx, st, 1);
        facto_ctx_free(ctx);
        if (made)
            (void)rmdir(dir);
        return rc;
    }
    const struct {
        const char *name;
        const facto_dataset *ds;
    } parts[5] = {{"train.tsv", m.train},
                  {"test.tsv", m.test},
                  {"uniform.tsv", m.uniform},
                  {"train.propensities", m.train_propensity},
                  {"test.propensities", m.test_propensity}};
    char path[4096];
    int rc = FACTO_EXIT_OK;
    json_t *root = json ? json_object() : NULL;
    for (int j = 0; j < 5 && rc == FACTO_EXIT_OK; j++) {
        if (!parts[j].ds)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, parts[j].name);
        if ((st = facto_dataset_write_tsv(ctx, parts[j].ds, path)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            break;
        }
        if (root)
            json_object_set_new(root, parts[j].name, json_integer(facto_dataset_n_ratings(parts[j].ds)));
        else
            printf("%-19s %lld %s\n", parts[j].name, (long long)facto_dataset_n_ratings(parts[j].ds),
                   j < 3 ? "ratings" : "propensities");
    }
    /* the folder holds one run: a file of the five that this run does not
     * write (test files with --test-fraction 0, uniform.tsv with --uniform 0)
     * is an earlier run's and goes, so no reader mixes two runs */
    for (int j = 0; j < 5 && rc == FACTO_EXIT_OK; j++) {
        if (parts[j].ds)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, parts[j].name);
        if (unlink(path) != 0 && errno != ENOENT) {
            cli_error("%s: cannot remove the earlier run's file: %s", path, strerror(errno));
            rc = FACTO_EXIT_DATA;
        }
    }
    if (rc == FACTO_EXIT_OK) {
        char num[32];
        if (root) {
            json_t *p = json_array();
            for (int r = 0; r < 5; r++)
                json_array_append_new(p, cli_json_float(m.propensity[r]));
            json_object_set_new(root, "propensity_by_rating", p);
            json_object_set_new(root, "out", cli_json_str(dir));
            rc = cli_json_print(root);
            root = NULL;
        } else {
            printf("propensity by true rating 1..5:");
            for (int r = 0; r < 5; r++)
                printf(" %s", cli_num(num, m.propensity[r]));
            printf("\n");
        }
    }
    json_decref(root);
    facto_synth_mnar_free(&m);
    facto_ctx_free(ctx);
    return rc;
}

int cli_cmd_datasets(int argc, char **argv)
{
    const char *verb = argv[0];
    int json = 0, c, synth_opts = 0;
    facto_synth_options so = facto_synth_options_default();
    const char *out = NULL;
    uint64_t u64;
    int iv, mnar = 0;
    double alpha = 1.0, test_fraction = 0.1;
    int64_t n_uniform = -1;
    /* '+' is not used: options may follow the action word. */
    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "h", cli_ds_opts, NULL)) != -1) {
        if (c == 'h') {
            cli_ds_help(verb);
            return FACTO_EXIT_OK;
        } else if (c == 'j') {
            json = 1;
        } else if (c == OPT_USERS || c == OPT_ITEMS) {
            if (cli_arg_int(verb, c == OPT_USERS ? "--users" : "--items", optarg, 1, INT32_MAX, &iv) != 0)
                return FACTO_EXIT_USAGE;
            *(c == OPT_USERS ? &so.n_users : &so.n_items) = iv;
            synth_opts = 1;
        } else if (c == OPT_RATINGS) {
            if (cli_arg_u64(verb, "--ratings", optarg, &u64) != 0)
                return FACTO_EXIT_USAGE;
            if (u64 < 1 || u64 > (uint64_t)INT64_MAX)
                return cli_usage(verb, "--ratings: %s is not a count of at least 1", optarg);
            so.n_ratings = (int64_t)u64;
            synth_opts = 1;
        } else if (c == OPT_SEED) {
            if (cli_arg_u64(verb, "--seed", optarg, &so.seed) != 0)
                return FACTO_EXIT_USAGE;
            synth_opts = 1;
        } else if (c == OPT_OUT) {
            out = optarg;
            synth_opts = 1;
        } else if (c == OPT_IMPLICIT) {
            so.implicit = 1;
            synth_opts = 1;
        } else if (c == OPT_MNAR) {
            if (cli_arg_double(verb, "--mnar", optarg, 1e-9, 1.0, &alpha) != 0)
                return FACTO_EXIT_USAGE;
            mnar = synth_opts = 1;
        } else if (c == OPT_TEST_FRACTION) {
            if (cli_arg_double(verb, "--test-fraction", optarg, 0.0, 0.99, &test_fraction) != 0)
                return FACTO_EXIT_USAGE;
            synth_opts = 1;
        } else if (c == OPT_UNIFORM) {
            if (cli_arg_u64(verb, "--uniform", optarg, &u64) != 0 || u64 > (uint64_t)INT64_MAX)
                return cli_usage(verb, "--uniform: %s is not a count", optarg);
            n_uniform = (int64_t)u64;
            synth_opts = 1;
        } else {
            return cli_usage(verb, "unknown option '%s'", argv[optind - 1]);
        }
    }
    int npos = argc - optind;
    char **pos = argv + optind;
    if (npos < 1)
        return cli_usage(verb, "missing action: list, path NAME or fetch NAME");
    const char *action = pos[0];
    int is_list = strcmp(action, "list") == 0, is_path = strcmp(action, "path") == 0,
        is_fetch = strcmp(action, "fetch") == 0;
    if (strcmp(action, "synth") == 0) {
        if (npos != 1)
            return cli_usage(verb, "synth takes options only");
        if (!out || !*out)
            return cli_usage(verb, "synth needs --out FILE (FILE.fds or text; a folder with --mnar)%s",
                             out ? ": the path is empty" : "");
        /* the generator's limits, in the flags' terms (before any work) */
        const long long N = so.n_users, M = so.n_items, R = so.n_ratings, NM = N * M;
        if (mnar && NM > (1LL << 28))
            return cli_usage(verb, "--mnar draws every (user, item) pair: --users x --items is %lld x %lld = %lld, "
                                   "more than the 268435456 (2^28) it can hold",
                             N, M, NM);
        if (mnar && NM < 2)
            return cli_usage(verb, "--mnar observes at most half of the (user, item) pairs: --users x --items is "
                                   "%lld x %lld = %lld, give at least 2 pairs",
                             N, M, NM);
        if (mnar && (R > NM / 2 || n_uniform > NM / 2))
            return cli_usage(verb, "--mnar: %s %lld is more than half of --users x --items (%lld x %lld = %lld): "
                                   "give at most %lld",
                             R > NM / 2 ? "--ratings" : "--uniform", R > NM / 2 ? R : (long long)n_uniform, N, M,
                             NM, NM / 2);
        if (mnar && so.implicit)
            return cli_usage(verb, "--mnar draws explicit ratings 1..5: it does not take --implicit");
        if (!mnar && R < N)
            return cli_usage(verb, "--ratings %lld is fewer than --users %lld: every user gets at least one rating, "
                                   "so --ratings must be at least %lld (or lower --users)",
                             R, N, N);
        if (!mnar && R > NM)
            return cli_usage(verb, "--ratings %lld is more than --users x --items (%lld x %lld = %lld): the ratings "
                                   "are distinct (user, item) pairs, so give at most %lld (or raise --users or "
                                   "--items)",
                             R, N, M, NM, NM);
        if (mnar)
            return cli_ds_synth_mnar(&so, alpha, test_fraction, n_uniform >= 0 ? n_uniform : so.n_ratings / 4, out,
                                     json);
        if (n_uniform >= 0 || test_fraction != 0.1)
            return cli_usage(verb, "--test-fraction and --uniform go with --mnar");
        return cli_ds_synth(&so, out, json);
    }
    if (synth_opts)
        return cli_usage(verb, "--users, --items, --ratings, --seed, --implicit, --mnar, --test-fraction, --uniform and "
                               "--out go with synth");
    if (!is_list && !is_path && !is_fetch)
        return cli_usage(verb, "unknown action '%s' (list, path NAME, fetch NAME, synth)", action);
    if (is_list && npos != 1)
        return cli_usage(verb, "list takes no argument");
    if (!is_list && npos != 2)
        return cli_usage(verb, "%s needs exactly one data set NAME", action);

    facto_ctx *ctx = cli_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    int rc = FACTO_EXIT_OK;
    char path[4096];
    facto_status st;
    if (is_list) {
        const char *const *names;
        int n = facto_datasets_list(&names);
        char home[4096];
        if ((st = facto_data_home(ctx, home, sizeof home)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
        json_t *arr = json ? json_array() : NULL;
        if (!json)
            printf("data home: %s\n", home);
        for (int i = 0; i < n; i++) {
            int present = facto_dataset_path(ctx, names[i], path, sizeof path) == FACTO_OK;
            if (json) {
                json_t *o = json_object();
                json_object_set_new(o, "name", cli_json_str(names[i]));
                json_object_set_new(o, "present", json_boolean(present));
                json_object_set_new(o, "path", present ? cli_json_str(path) : json_null());
                json_array_append_new(arr, o);
            } else {
                printf("%-16s %s\n", names[i], present ? path : "(not fetched)");
            }
        }
        if (json) {
            json_t *root = json_object();
            json_object_set_new(root, "data_home", cli_json_str(home));
            json_object_set_new(root, "datasets", arr);
            rc = cli_json_print(root);
        }
    } else {
        /* path NAME, or fetch NAME and then print its path. */
        if (!is_path) {
            facto_ctx_set_log(ctx, cli_ds_log, NULL, FACTO_LOG_INFO);
            if ((st = facto_dataset_fetch(ctx, pos[1])) != FACTO_OK) {
                rc = cli_fail(ctx, st, 0);
                goto done;
            }
        }
        if ((st = facto_dataset_path(ctx, pos[1], path, sizeof path)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
        if (json) {
            json_t *root = json_object();
            json_object_set_new(root, "name", cli_json_str(pos[1]));
            json_object_set_new(root, "path", cli_json_str(path));
            rc = cli_json_print(root);
        } else {
            printf("%s\n", path);
        }
    }
done:
    facto_ctx_free(ctx);
    return rc;
}
