/*
 * cmd_recommend.c — `facto recommend --model M --user ID`: the top-k items
 * for one user, best first, leaving out what the user rated in training
 * unless --include-seen. The model file does not record which data set it
 * came from, so titles come from --dataset NAME (its registry folder) or
 * --titles DIR (any folder with u.item, movies.dat or movies.csv).
 * Cost O(n_items * factors + n_items log k), plus reading the titles file.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_MODEL = 256, OPT_USER, OPT_INCLUDE_SEEN, OPT_JSON, OPT_DATASET, OPT_TITLES };

static const struct option cli_rec_opts[] = {{"model", required_argument, NULL, OPT_MODEL},
                                               {"user", required_argument, NULL, OPT_USER},
                                               {"k", required_argument, NULL, 'k'},
                                               {"include-seen", no_argument, NULL, OPT_INCLUDE_SEEN},
                                               {"json", no_argument, NULL, OPT_JSON},
                                               {"dataset", required_argument, NULL, OPT_DATASET},
                                               {"titles", required_argument, NULL, OPT_TITLES},
                                               {"help", no_argument, NULL, 'h'},
                                               {NULL, 0, NULL, 0}};

#define FACTO_REC_DEFAULT_K 10

static void cli_rec_help(const char *verb)
{
    printf("Usage: %s --model MODEL --user ID [OPTIONS]\n\n"
           "Print the top-k items for user ID (the data's own id): rank, item id, predicted rating\n"
           "and, when known, the title. Items the user rated in training are left out.\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --user ID          the user (required)\n"
           "  -k, --k N          how many items (default %d)\n"
           "  --include-seen     also list items the user rated in training (default: off)\n"
           "  --dataset NAME     take titles from this registered data set's folder (default: none)\n"
           "  --titles DIR       take titles from u.item, movies.dat or movies.csv in DIR (default:\n"
           "                     none). The model file does not record its data set: give one of\n"
           "                     these two to see titles.\n"
           "  --json             print {\"user\": ID, \"items\": [{\"item\", \"score\"[, \"title\"]}, ...]}\n"
           "                     (default: text)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error or unknown user, 3 internal error.\n",
           verb, FACTO_REC_DEFAULT_K);
}

int cli_cmd_recommend(int argc, char **argv)
{
    const char *verb = argv[0];
    const char *model_path = NULL, *user = NULL, *dataset = NULL, *titles_dir = NULL;
    int k = FACTO_REC_DEFAULT_K, include_seen = 0, json = 0, rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "hk:", cli_rec_opts)) != -1) {
        switch (c) {
        case 'h': cli_rec_help(verb); return FACTO_EXIT_OK;
        case OPT_MODEL: model_path = optarg; break;
        case OPT_USER: user = optarg; break;
        case 'k': rc = cli_arg_int(verb, "-k", optarg, 1, 1000000, &k); break;
        case OPT_INCLUDE_SEEN: include_seen = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_DATASET: dataset = optarg; break;
        case OPT_TITLES: titles_dir = optarg; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!model_path)
        return cli_usage(verb, "missing --model MODEL");
    if (!user)
        return cli_usage(verb, "missing --user ID");
    if (dataset && titles_dir)
        return cli_usage(verb, "give --dataset or --titles, not both");

    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_model *model = NULL;
    facto_recommendation *recs = NULL;
    char **titles = NULL;
    int32_t n_titles = 0;
    char dir[4096];
    facto_status st = facto_model_load(ctx, model_path, &model);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    const facto_idmap *items = facto_model_items(model);
    if (!(facto_model_inputs(model) & FACTO_INPUT_RATINGS)) {
        cli_error("%s: this model scores feature rows; it knows no users or items to recommend (a model "
                  "trained from ratings does)", model_path);
        rc = FACTO_EXIT_DATA;
        goto done;
    }
    if (dataset) {
        if ((st = facto_dataset_path(ctx, dataset, dir, sizeof dir)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
        titles_dir = dir;
    }
    if (titles_dir && items) {
        if ((st = facto_titles_read(ctx, titles_dir, items, &titles, &n_titles)) != FACTO_OK) {
            rc = cli_fail(ctx, st, 0);
            goto done;
        }
    }
    recs = calloc((size_t)k, sizeof *recs);
    if (!recs) {
        cli_error("out of memory for %d recommendations", k);
        rc = FACTO_EXIT_INTERNAL;
        goto done;
    }
    int n = 0;
    if ((st = facto_model_recommend(ctx, model, user, k, include_seen, recs, &n)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    if (n == 0)
        fprintf(stderr, "facto: note: user '%s' has rated every item the model knows; nothing is left to "
                        "recommend (--include-seen lists them)\n", user);
    json_t *root = NULL, *arr = NULL;
    if (json) {
        root = json_object();
        arr = json_array();
        json_object_set_new(root, "user", cli_json_str(user));
        json_object_set_new(root, "items", arr);
    } else {
        printf("rank  item      score  title\n");
    }
    for (int i = 0; i < n; i++) {
        const char *id = items ? facto_idmap_name(items, recs[i].item) : NULL;
        const char *title = titles && recs[i].item >= 0 && recs[i].item < n_titles ? titles[recs[i].item] : NULL;
        char idbuf[32];
        if (!id) {
            snprintf(idbuf, sizeof idbuf, "%d", (int)recs[i].item);
            id = idbuf;
        }
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "item", cli_json_str(id));
            json_object_set_new(o, "score", cli_json_num(recs[i].score, 6));
            if (title)
                json_object_set_new(o, "title", json_string(title));
            json_array_append_new(arr, o);
        } else {
            printf("%4d  %-8s %6.3f  %s\n", i + 1, id, (double)recs[i].score, title ? title : "");
        }
    }
    if (json)
        rc = cli_json_print(root);
done:
    free(recs);
    facto_titles_free(titles, n_titles);
    facto_model_free(model);
    facto_ctx_free(ctx);
    return rc;
}
