/*
 * cmd_recommend.c — `facto recommend --model M`: top-k items, best first,
 * for one user (--user ID), for a user the model never saw given by their
 * items (--history ITEMS: facto_model_recommend_history folds them in), or
 * for every user at once (--all-users, recommend_all.c), leaving out what a
 * user had in training unless --include-seen and the pairs of --exclude
 * FILE. Any model with ids; nothing here asks its kind. The model file does
 * not record which data set it came from, so titles come from --dataset
 * NAME (its registry folder) or --titles DIR (any folder with u.item,
 * movies.dat or movies.csv). Cost O(n_items * factors + n_items log k) a
 * user, plus reading the titles and exclusions.
 */
#include "pairs.h"
#include "recommend.h"

#include <stdlib.h>
#include <string.h>

enum {
    OPT_MODEL = 256, OPT_USER, OPT_INCLUDE_SEEN, OPT_JSON, OPT_DATASET, OPT_TITLES, OPT_EXCLUDE, OPT_HISTORY,
    OPT_ALL_USERS, OPT_OUT, OPT_FORMAT, OPT_THREADS, OPT_RAW_SCORES
};

static const struct option cli_rec_opts[] = {{"model", required_argument, NULL, OPT_MODEL},
                                               {"user", required_argument, NULL, OPT_USER},
                                               {"k", required_argument, NULL, 'k'},
                                               {"include-seen", no_argument, NULL, OPT_INCLUDE_SEEN},
                                               {"json", no_argument, NULL, OPT_JSON},
                                               {"dataset", required_argument, NULL, OPT_DATASET},
                                               {"titles", required_argument, NULL, OPT_TITLES},
                                               {"exclude", required_argument, NULL, OPT_EXCLUDE},
                                               {"history", required_argument, NULL, OPT_HISTORY},
                                               {"all-users", no_argument, NULL, OPT_ALL_USERS},
                                               {"out", required_argument, NULL, OPT_OUT},
                                               {"format", required_argument, NULL, OPT_FORMAT},
                                               {"threads", required_argument, NULL, OPT_THREADS},
                                               {"raw-scores", no_argument, NULL, OPT_RAW_SCORES},
                                               {"help", no_argument, NULL, 'h'},
                                               {NULL, 0, NULL, 0}};

#define FACTO_REC_DEFAULT_K 10

static void cli_rec_help(const char *verb)
{
    printf("Usage: %s --model MODEL --user ID [OPTIONS]\n"
           "       %s --model MODEL --history ITEMS [OPTIONS]\n"
           "       %s --model MODEL --all-users [--out FILE] [--format tsv|jsonl] [OPTIONS]\n\n"
           "Print the top-k items for user ID (the data's own id): rank, item id, rating, score and,\n"
           "when known, the title. Items the user had in training are left out. Any model trained\n"
           "from ratings or interactions (with user and item ids). The rating is what `facto predict`\n"
           "prints for the pair (clipped to the training range; a classifier's probability); the\n"
           "score is the raw ranking score the list is sorted by (not clipped, so ties are rare).\n"
           "A ranking model (implicit feedback) has no rating: its lists show the score only, as\n"
           "do lists of --history (the folded-in user is not in the model for predict to use).\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --user ID          the user (one of --user, --history, --all-users is required)\n"
           "  --history ITEMS    a user the model never saw, by the items they had: a comma list\n"
           "                     (\"50,181,1\"), or - for one item a line on stdin; the model folds them\n"
           "                     in and ranks the other items; items it never saw are ignored and\n"
           "                     named on stderr (default: none)\n"
           "  --all-users        the top k of every user of the model, users in id order (numerically\n"
           "                     when every id is an integer), items best first, scored in chunks of\n"
           "                     %d users and streamed out (default: off)\n"
           "  -k, --k N          how many items (default %d)\n"
           "  --include-seen     also list items the user had in training (default: off)\n"
           "  --exclude FILE     'user item' pairs to leave out of those users' lists, one a line,\n"
           "                     any delimiter `facto predict` reads; - = stdin (default: none)\n"
           "  --raw-scores       the ranking score only, without the rating column (default: off)\n"
           "  --format F         tsv: 'user<TAB>item<TAB>rating<TAB>score' lines ('user<TAB>item<TAB>score'\n"
           "                     with --raw-scores or a ranking model); jsonl: one {\"user\", \"items\"}\n"
           "                     object a line, as --json prints it (default: a table for --user and\n"
           "                     --history, tsv for --all-users)\n"
           "  --out FILE         --all-users: write there, through a temporary file renamed into place\n"
           "                     when complete (default: stdout)\n"
           "  --threads N        threads scoring users, 0 = all cores: more are faster (--all-users) on\n"
           "                     more cores, and the lists are the same for any count (default 1)\n"
           "  --dataset NAME     take titles from this registered data set's folder (default: none)\n"
           "  --titles DIR       take titles from u.item, movies.dat or movies.csv in DIR (default:\n"
           "                     none). The model file does not record its data set: give one of\n"
           "                     these two to see titles.\n"
           "  --json             print {\"user\": ID, \"items\": [{\"item\", \"rating\", \"score\"[, \"title\"]},\n"
           "                     ...]} (\"rating\" left out as the column is)\n"
           "                     (--history: {\"history\": [...], \"unknown_items\": [...], \"items\": [...]})\n"
           "                     (default: text)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error or unknown user, 3 internal error.\n",
           verb, verb, verb, CLI_REC_CHUNK, FACTO_REC_DEFAULT_K);
}

static int cli_rec_option(const char *verb, int c, cli_rec_args *a)
{
    switch (c) {
    case OPT_MODEL: a->model = optarg; return 0;
    case OPT_USER: a->user = optarg; return 0;
    case 'k': return cli_arg_int(verb, "-k", optarg, 1, 1000000, &a->k);
    case OPT_INCLUDE_SEEN: a->include_seen = 1; return 0;
    case OPT_JSON: a->json = 1; return 0;
    case OPT_DATASET: a->dataset = optarg; return 0;
    case OPT_TITLES: a->titles = optarg; return 0;
    case OPT_EXCLUDE: a->exclude = optarg; return 0;
    case OPT_HISTORY: a->history = optarg; return 0;
    case OPT_ALL_USERS: a->all_users = 1; return 0;
    case OPT_RAW_SCORES: a->raw_scores = 1; return 0;
    case OPT_OUT: a->out = optarg; return 0;
    case OPT_THREADS: return cli_arg_int(verb, "--threads", optarg, 0, 4096, &a->threads);
    case OPT_FORMAT:
        a->format_set = 1;
        if (strcmp(optarg, "tsv") == 0)
            a->format = CLI_REC_TSV;
        else if (strcmp(optarg, "jsonl") == 0)
            a->format = CLI_REC_JSONL;
        else
            return cli_usage(verb, "--format: '%s' is not tsv or jsonl", optarg);
        return 0;
    default: return FACTO_EXIT_USAGE;
    }
}

/* The options that go together; the default format. Usage error or 0. */
static int cli_rec_check(const char *verb, cli_rec_args *a)
{
    if (!a->model)
        return cli_usage(verb, "missing --model MODEL");
    int modes = !!a->user + !!a->history + a->all_users;
    if (modes == 0)
        return cli_usage(verb, "missing --user ID, --history ITEMS or --all-users");
    if (modes > 1)
        return cli_usage(verb, "give one of --user, --history, --all-users");
    if (a->dataset && a->titles)
        return cli_usage(verb, "give --dataset or --titles, not both");
    if (a->json && a->format_set)
        return cli_usage(verb, "give --json or --format, not both");
    if (a->out && !a->all_users)
        return cli_usage(verb, "--out goes with --all-users");
    if (a->all_users && a->json)
        return cli_usage(verb, "--all-users writes one object a line with --format jsonl, not --json");
    if (a->history && a->raw_scores)
        return cli_usage(verb, "--raw-scores goes with --user and --all-users (a --history list shows the score "
                               "only)");
    if (a->history && (a->exclude || a->include_seen || a->format_set))
        return cli_usage(verb, "--exclude, --include-seen and --format go with --user and --all-users (a "
                               "history's own items are never listed)");
    if (a->json)
        a->format = CLI_REC_JSONL;
    else if (!a->format_set)
        a->format = a->all_users ? CLI_REC_TSV : CLI_REC_TABLE;
    return 0;
}

static int cli_rec_parse(int argc, char **argv, cli_rec_args *a, int *help)
{
    const char *verb = argv[0];
    int rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "hk:", cli_rec_opts)) != -1) {
        if (c == 'h') {
            *help = 1;
            return 0;
        }
        rc = cli_rec_option(verb, c, a);
    }
    return rc ? rc : cli_rec_check(verb, a);
}

/* One user's list: k + their excluded items asked for, the excluded dropped. */
static int cli_rec_user(facto_ctx *ctx, const facto_model *model, const cli_rec_args *a, const cli_excl *ex,
                        const cli_titles *t)
{
    int32_t u = facto_idmap_find(facto_model_users(model), a->user);
    int64_t kq64 = (int64_t)a->k + cli_excl_count(ex, u);
    int kq = kq64 > 2000000000 ? 2000000000 : (int)kq64;
    facto_recommendation *recs = calloc((size_t)kq, sizeof *recs);
    if (!recs) {
        cli_error("out of memory for %d recommendations", kq);
        return FACTO_EXIT_INTERNAL;
    }
    int n = 0, rc = 0;
    facto_status st = facto_model_recommend(ctx, model, a->user, kq, a->include_seen, recs, &n);
    if (st != FACTO_OK) {
        free(recs);
        int rc_fail = cli_fail(ctx, st, 0);
        if (st == FACTO_ERR_NOT_FOUND && u < 0)
            fprintf(stderr, "facto: note: --user takes an id of the training data; for a user the model never "
                            "saw, give the items they had with --history ITEMS (models that fold users in)\n");
        return rc_fail;
    }
    n = cli_excl_filter(ex, u, recs, n, a->k);
    const facto_idmap *items = facto_model_items(model);
    float *rating = NULL;
    if (cli_rec_with_rating(model, a) && n > 0) {
        if (!(rating = malloc((size_t)n * sizeof *rating))) {
            free(recs);
            cli_error("out of memory for %d ratings", n);
            return FACTO_EXIT_INTERNAL;
        }
        if ((rc = cli_recs_ratings(ctx, model, a->user, recs, n, rating)) != 0) {
            free(rating);
            free(recs);
            return rc;
        }
    }
    if (n == 0)
        fprintf(stderr, "facto: note: user '%s' has rated every item the model knows; nothing is left to "
                        "recommend (--include-seen lists them)\n", a->user);
    if (a->format == CLI_REC_JSONL)
        rc = cli_json_print(cli_recs_json("user", a->user, items, recs, n, t, rating));
    else if (a->format == CLI_REC_TSV)
        cli_recs_tsv(stdout, a->user, items, recs, n, rating);
    else
        cli_recs_table(stdout, items, recs, n, t, rating);
    free(rating);
    free(recs);
    return rc;
}

/* The items of --history. */
typedef struct cli_history {
    char **items; /* owned */
    int32_t n, cap;
} cli_history;

/* Append `text` [len], trimmed of blanks; blank entries are skipped. Exit code. */
static int cli_history_add(cli_history *h, const char *text, size_t len)
{
    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 0;
    if (h->n == h->cap) {
        int32_t cap = h->cap ? 2 * h->cap : 64;
        char **ni = cap < h->cap ? NULL : realloc(h->items, (size_t)cap * sizeof *ni);
        if (!ni)
            return FACTO_EXIT_INTERNAL;
        h->items = ni;
        h->cap = cap;
    }
    if (!(h->items[h->n] = strndup(text, len)))
        return FACTO_EXIT_INTERNAL;
    h->n++;
    return 0;
}

/* --history ITEMS: a comma list, or one item a line on stdin ("-"; blank and
 * '#' lines skipped). Prints its own error; exit code. */
static int cli_history_read(const char *text, cli_history *h)
{
    int rc = 0;
    if (strcmp(text, "-") != 0) {
        for (const char *p = text; rc == 0; p++) {
            size_t len = strcspn(p, ",");
            rc = cli_history_add(h, p, len);
            p += len;
            if (!*p)
                break;
        }
    } else {
        char *line = malloc(CLI_LINE_MAX);
        long got;
        long long lineno = 0;
        rc = line ? 0 : FACTO_EXIT_INTERNAL;
        while (rc == 0 && (got = cli_read_line(stdin, line, CLI_LINE_MAX)) != -1) {
            lineno++;
            if (got < 0) {
                cli_error("<stdin>:%lld: %s", lineno,
                          got == -2 ? "the line is longer than 64 KiB" : "the line holds a NUL byte");
                rc = FACTO_EXIT_DATA;
            } else if (line[strspn(line, " \t")] != '#') {
                rc = cli_history_add(h, line, (size_t)got);
            }
        }
        free(line);
    }
    if (rc == FACTO_EXIT_INTERNAL)
        cli_error("out of memory reading --history");
    return rc;
}

static void cli_history_free(cli_history *h)
{
    for (int32_t x = 0; x < h->n; x++)
        free(h->items[x]);
    free(h->items);
}

/* The history's items the model does not know: named on stderr, and as a JSON array. */
static json_t *cli_history_unknown(const facto_model *model, const cli_history *h, int32_t n_unknown)
{
    json_t *arr = json_array();
    const facto_idmap *map = facto_model_items(model);
    if (n_unknown > 0)
        fprintf(stderr, "facto: note: %d of %d history items are unknown to the model and were ignored:",
                (int)n_unknown, (int)h->n);
    for (int32_t x = 0, shown = 0; x < h->n; x++)
        if (facto_idmap_find(map, h->items[x]) < 0) {
            json_array_append_new(arr, cli_json_str(h->items[x]));
            if (shown++ < 20)
                fprintf(stderr, " '%s'", h->items[x]);
            else if (shown == 21)
                fprintf(stderr, " ...");
        }
    if (n_unknown > 0)
        fputc('\n', stderr);
    return arr;
}

/* What --history prints: the table, or {"history", "unknown_items", "items"}. */
static int cli_history_print(const facto_model *model, const cli_rec_args *a, const cli_history *h,
                             json_t *unknown, const facto_recommendation *recs, int n, const cli_titles *t)
{
    if (!a->json) {
        cli_recs_table(stdout, facto_model_items(model), recs, n, t, NULL);
        return 0;
    }
    json_t *root = json_object(), *hist = json_array();
    for (int32_t x = 0; x < h->n; x++)
        json_array_append_new(hist, cli_json_str(h->items[x]));
    json_object_set_new(root, "history", hist);
    json_object_set(root, "unknown_items", unknown);
    json_object_set_new(root, "items", cli_recs_items(facto_model_items(model), recs, n, t, NULL));
    return cli_json_print(root);
}

/* --history: fold a user in from their items. */
static int cli_rec_history(facto_ctx *ctx, const facto_model *model, const cli_rec_args *a, const cli_titles *t)
{
    cli_history h = {NULL, 0, 0};
    int32_t n_unknown = 0;
    int n_out = 0, rc = cli_history_read(a->history, &h);
    facto_recommendation *recs = calloc((size_t)a->k, sizeof *recs);
    facto_status st;
    if (rc == 0 && !recs) {
        cli_error("out of memory for %d recommendations", a->k);
        rc = FACTO_EXIT_INTERNAL;
    }
    if (rc == 0 && h.n == 0)
        rc = cli_usage("facto recommend", "--history: no items given");
    if (rc == 0 && (st = facto_model_recommend_history(ctx, model, (const char *const *)h.items, NULL, h.n, a->k,
                                                       recs, &n_out, &n_unknown)) != FACTO_OK)
        rc = cli_fail(ctx, st, 0);
    if (rc == 0) {
        json_t *unknown = cli_history_unknown(model, &h, n_unknown);
        if (n_unknown == h.n) {
            cli_error("--history: none of its %d items is known to the model", (int)h.n);
            rc = FACTO_EXIT_DATA;
        } else {
            rc = cli_history_print(model, a, &h, unknown, recs, n_out, t);
        }
        json_decref(unknown);
    }
    free(recs);
    cli_history_free(&h);
    return rc;
}

int cli_rec_with_rating(const facto_model *model, const cli_rec_args *a)
{
    return !a->raw_scores && facto_model_task(model) != FACTO_TASK_RANKING;
}

static int cli_rec_run(facto_ctx *ctx, const facto_model *model, void *arg)
{
    const cli_rec_args *a = arg;
    if (!(facto_model_inputs(model) & FACTO_INPUT_RATINGS)) {
        cli_error("%s: this model scores feature rows; it knows no users or items to recommend %s", a->model,
                  CLI_IDS_HINT);
        return FACTO_EXIT_DATA;
    }
    cli_titles t;
    cli_excl ex;
    memset(&ex, 0, sizeof ex);
    int rc = cli_titles_load(ctx, a->dataset, a->titles, facto_model_items(model), &t);
    if (rc)
        return rc;
    if (a->exclude && (rc = cli_excl_read(a->exclude, model, a->all_users ? NULL : a->user, &ex)) == 0 &&
        ex.n_unknown > 0)
        fprintf(stderr, "facto: note: %s: %lld of %lld pairs name a user or item the model never saw; ignored\n",
                a->exclude, ex.n_unknown, ex.n_pairs);
    facto_ctx_set_threads(ctx, a->threads);
    if (rc == 0)
        rc = a->all_users ? cli_recommend_all(ctx, model, a, &ex, &t)
             : a->history ? cli_rec_history(ctx, model, a, &t)
                          : cli_rec_user(ctx, model, a, &ex, &t);
    cli_excl_free(&ex);
    cli_titles_free(&t);
    return rc;
}

int cli_cmd_recommend(int argc, char **argv)
{
    cli_rec_args a;
    memset(&a, 0, sizeof a);
    a.k = FACTO_REC_DEFAULT_K;
    a.threads = 1;
    int help = 0, rc = cli_rec_parse(argc, argv, &a, &help);
    if (help) {
        cli_rec_help(argv[0]);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;
    return cli_run_with_model(a.model, cli_rec_run, &a);
}
