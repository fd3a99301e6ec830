/*
 * cmd_similar.c — `facto similar --model M --item ID`: the k items most
 * like one item, best first, the item itself left out
 * (facto_model_similar: the model's item-item weights when it has them,
 * else the cosine of its item factors). Any model with items; nothing here
 * asks its kind. Titles as `facto recommend` takes them (--dataset NAME or
 * --titles DIR). Cost O(n_items * factors + n_items log k), plus reading
 * the titles.
 */
#include "topn_out.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_MODEL = 256, OPT_ITEM, OPT_JSON, OPT_DATASET, OPT_TITLES };

static const struct option cli_similar_opts[] = {{"model", required_argument, NULL, OPT_MODEL},
                                                   {"item", required_argument, NULL, OPT_ITEM},
                                                   {"k", required_argument, NULL, 'k'},
                                                   {"json", no_argument, NULL, OPT_JSON},
                                                   {"dataset", required_argument, NULL, OPT_DATASET},
                                                   {"titles", required_argument, NULL, OPT_TITLES},
                                                   {"help", no_argument, NULL, 'h'},
                                                   {NULL, 0, NULL, 0}};

#define FACTO_SIMILAR_DEFAULT_K 10

static void cli_similar_help(const char *verb)
{
    printf("Usage: %s --model MODEL --item ID [OPTIONS]\n\n"
           "Print the k items most similar to item ID (the data's own id), best first: rank, item id,\n"
           "similarity and, when known, the title. A model with item-item weights (item-kNN, EASE)\n"
           "ranks by them, any other by the cosine of its item factors.\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --item ID          the item (required)\n"
           "  -k, --k N          how many items (default %d)\n"
           "  --dataset NAME     take titles from this registered data set's folder (default: none)\n"
           "  --titles DIR       take titles from u.item, movies.dat or movies.csv in DIR (default:\n"
           "                     none)\n"
           "  --json             print {\"item\": ID, \"items\": [{\"item\", \"score\"[, \"title\"]}, ...]}\n"
           "                     (default: text)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error, unknown item or a model without item\n"
           "vectors, 3 internal error.\n",
           verb, FACTO_SIMILAR_DEFAULT_K);
}

typedef struct cli_similar_args {
    const char *model, *item, *dataset, *titles;
    int k, json;
} cli_similar_args;

static int cli_similar_parse(int argc, char **argv, cli_similar_args *a, int *help)
{
    const char *verb = argv[0];
    int rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "hk:", cli_similar_opts)) != -1) {
        switch (c) {
        case 'h': *help = 1; return 0;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_ITEM: a->item = optarg; break;
        case 'k': rc = cli_arg_int(verb, "-k", optarg, 1, 1000000, &a->k); break;
        case OPT_JSON: a->json = 1; break;
        case OPT_DATASET: a->dataset = optarg; break;
        case OPT_TITLES: a->titles = optarg; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!a->model)
        return cli_usage(verb, "missing --model MODEL");
    if (!a->item)
        return cli_usage(verb, "missing --item ID");
    if (a->dataset && a->titles)
        return cli_usage(verb, "give --dataset or --titles, not both");
    return 0;
}

static int cli_similar_run(facto_ctx *ctx, const facto_model *model, void *arg)
{
    const cli_similar_args *a = arg;
    const facto_idmap *items = facto_model_items(model);
    if (!items) {
        cli_error("%s: this model scores feature rows; it knows no items to compare %s", a->model, CLI_IDS_HINT);
        return FACTO_EXIT_DATA;
    }
    cli_titles t;
    int rc = cli_titles_load(ctx, a->dataset, a->titles, items, &t);
    if (rc)
        return rc;
    facto_recommendation *recs = calloc((size_t)a->k, sizeof *recs);
    int n = 0;
    facto_status st;
    if (!recs) {
        cli_error("out of memory for %d items", a->k);
        rc = FACTO_EXIT_INTERNAL;
    } else if ((st = facto_model_similar(ctx, model, a->item, a->k, recs, &n)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
    } else if (a->json) {
        rc = cli_json_print(cli_recs_json("item", a->item, items, recs, n, &t, NULL));
    } else {
        cli_recs_table(stdout, items, recs, n, &t, NULL);
    }
    free(recs);
    cli_titles_free(&t);
    return rc;
}

int cli_cmd_similar(int argc, char **argv)
{
    cli_similar_args a;
    memset(&a, 0, sizeof a);
    a.k = FACTO_SIMILAR_DEFAULT_K;
    int help = 0, rc = cli_similar_parse(argc, argv, &a, &help);
    if (help) {
        cli_similar_help(argv[0]);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;
    return cli_run_with_model(a.model, cli_similar_run, &a);
}
