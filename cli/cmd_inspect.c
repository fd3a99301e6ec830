/*
 * cmd_inspect.c — `facto inspect --model M [--json]`: what a saved model is,
 * through the model interface only: its kind and the kind's summary, its
 * task, what it scores (user and item ids, or feature rows), how many users
 * and items it knows, the file's size and every hyperparameter it was
 * trained with (facto_model_params, printed with facto_params_format; JSON
 * numbers as numbers). Cost: one verified load of the file.
 */
#include "hparams.h"

#include <string.h>

enum { OPT_MODEL = 256, OPT_JSON, OPT_FEATURES };

static const struct option cli_inspect_opts[] = {{"model", required_argument, NULL, OPT_MODEL},
                                                 {"json", no_argument, NULL, OPT_JSON},
                                                 {"features", no_argument, NULL, OPT_FEATURES},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {NULL, 0, NULL, 0}};

static void cli_inspect_help(const char *verb)
{
    printf("Usage: %s --model MODEL [--json]\n\n"
           "Describe a saved model: its kind, its task (regression, binary), what it scores ((user, item)\n"
           "ids, or feature rows), the number of users and items it knows (a model with ids), the\n"
           "file's size, and the hyperparameters it was trained with that its solver used (fm by mcmc:\n"
           "no learning rates; --json lists every one).\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --json             print {\"model\", \"kind\", \"summary\", \"task\", \"scores\", \"users\", \"items\",\n"
           "                     \"bytes\", \"params\"} (default: text)\n"
           "  --features         the feature layout (key -> field, id) of a model that scores feature\n"
           "                     rows, for building SageMaker requests: such a model file keeps only\n"
           "                     the numbers of its keys, so this says where the layout is written\n"
           "                     (`facto train --key-map FILE` or `facto convert --key-map FILE` with\n"
           "                     the same data and options) (default: off)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error (also a bad model file), 3 internal error.\n",
           verb);
}

/* What a model scores, as the output names it: "ids", "rows" or "ids, rows". */
static const char *cli_inspect_scores(unsigned inputs)
{
    if ((inputs & FACTO_INPUT_RATINGS) && (inputs & FACTO_INPUT_ROWS))
        return "ids, rows";
    return inputs & FACTO_INPUT_RATINGS ? "ids" : inputs & FACTO_INPUT_ROWS ? "rows" : "nothing";
}

static int cli_inspect_json(facto_ctx *ctx, const char *path, const facto_model *model, const facto_kind_info *k,
                            const facto_params *p)
{
    const facto_idmap *users = facto_model_users(model), *items = facto_model_items(model);
    json_t *root = json_object();
    json_object_set_new(root, "model", cli_json_str(path));
    json_object_set_new(root, "kind", json_string(k->name));
    json_object_set_new(root, "summary", json_string(k->summary));
    json_object_set_new(root, "task", json_string(cli_task_name(facto_model_task(model))));
    json_object_set_new(root, "scores", json_string(cli_inspect_scores(facto_model_inputs(model))));
    if (users && items) {
        json_object_set_new(root, "users", json_integer(facto_idmap_size(users)));
        json_object_set_new(root, "items", json_integer(facto_idmap_size(items)));
    }
    json_object_set_new(root, "bytes", json_integer(cli_file_size(path)));
    json_object_set_new(root, "params", cli_params_json(ctx, p));
    return cli_json_print(root);
}

static int cli_inspect_text(const char *path, const facto_model *model, const facto_kind_info *k,
                            const facto_params *p)
{
    const facto_idmap *users = facto_model_users(model), *items = facto_model_items(model);
    unsigned inputs = facto_model_inputs(model);
    printf("model      %s\n"
           "bytes      %lld\n"
           "kind       %s: %s\n"
           "task       %s\n"
           "scores     %s\n",
           path, cli_file_size(path), k->name, k->summary, cli_task_name(facto_model_task(model)),
           inputs & FACTO_INPUT_RATINGS ? "(user, item) ids" : inputs & FACTO_INPUT_ROWS ? "feature rows" : "nothing");
    if (users && items)
        printf("users      %d\n"
               "items      %d\n",
               (int)facto_idmap_size(users), (int)facto_idmap_size(items));
    printf("hyperparameters:\n");
    return cli_params_print(stdout, p, "  ");
}

int cli_cmd_inspect(int argc, char **argv)
{
    const char *verb = argv[0], *path = NULL;
    int json = 0, features = 0, c;
    cli_getopt_begin();
    while ((c = cli_getopt(verb, argc, argv, "h", cli_inspect_opts)) != -1) {
        switch (c) {
        case 'h': cli_inspect_help(verb); return FACTO_EXIT_OK;
        case OPT_MODEL: path = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_FEATURES: features = 1; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (!path)
        return cli_usage(verb, "missing --model MODEL");
    facto_ctx *ctx = cli_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_model *model = NULL;
    facto_params *p = NULL;
    facto_kind_info k;
    facto_status st = facto_model_load(ctx, path, &model);
    if (st == FACTO_OK)
        st = facto_model_kind_find(ctx, facto_model_kind_name(facto_model_get_kind(model)), &k);
    if (st == FACTO_OK)
        st = facto_model_params(ctx, model, &p);
    if (st == FACTO_OK && features) {
        /* key names live in the encoder, not the model: say where they are written */
        int rows = (facto_model_inputs(model) & FACTO_INPUT_ROWS) != 0;
        cli_error("%s: %s", path,
                  rows ? "this model file keeps its feature keys as numbers only, not their names; the layout of "
                         "ratings encoded into rows is written by `facto train --key-map FILE` (or `facto convert "
                         "--key-map FILE` with the same data, split, --numeric-ids and side features): "
                         "'key<TAB>field<TAB>id' lines"
                       : "this model predicts by (user, item) ids (facto predict --input PAIRS); it has no feature "
                         "keys");
        facto_params_free(p);
        facto_model_free(model);
        facto_ctx_free(ctx);
        return FACTO_EXIT_DATA;
    }
    int rc = st != FACTO_OK ? cli_fail(ctx, st, 0)
             : json         ? cli_inspect_json(ctx, path, model, &k, p)
                            : cli_inspect_text(path, model, &k, p);
    facto_params_free(p);
    facto_model_free(model);
    facto_ctx_free(ctx);
    return rc;
}
