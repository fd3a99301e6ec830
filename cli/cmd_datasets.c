/*
 * cmd_datasets.c — `facto datasets list|path NAME|fetch NAME [--json]`: the
 * MovieLens registry from the command line. `list` shows each data set and
 * whether it is on disk, `path` prints its folder (exit 2 when missing),
 * `fetch` downloads, verifies and unpacks it (src/data/registry.c).
 * O(number of data sets) besides the download.
 */
#include "cli.h"

#include <string.h>

static const struct option cli_ds_opts[] = {
    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

static void cli_ds_help(const char *verb)
{
    printf("Usage: %s list|path NAME|fetch NAME [--json]\n\n"
           "  list               registered data sets, and whether each is on disk\n"
           "  path NAME          print the data set's folder (exit 2 when it is missing)\n"
           "  fetch NAME         download the official zip, check its checksum, unpack it\n"
           "  --json             JSON output (default: text)\n"
           "  -h, --help         this text\n\n"
           "Data sets live in $FACTO_DATA_HOME, else $XDG_CACHE_HOME/facto, else ~/.cache/facto\n"
           "(one folder each, as the official zip unpacks). FACTO_DATASETS_URL sets a mirror holding\n"
           "the same zips; FACTO_CONNECT_TIMEOUT the connect timeout in seconds (default 30).\n"
           "Offline, fetch says which address to download and where to unzip it.\n"
           "\nExit codes: 0 ok, 1 usage, 2 data, network or I/O error, 3 internal error.\n",
           verb);
}

static void cli_ds_log(facto_log_level level, const char *message, void *user)
{
    (void)user;
    if (level <= FACTO_LOG_INFO)
        fprintf(stderr, "facto: %s\n", message);
}

int cli_cmd_datasets(int argc, char **argv)
{
    const char *verb = argv[0];
    int json = 0, c;
    /* '+' is not used: options may follow the action word. */
    cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "h", cli_ds_opts, NULL)) != -1) {
        if (c == 'h') {
            cli_ds_help(verb);
            return FACTO_EXIT_OK;
        } else if (c == 'j') {
            json = 1;
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
    if (!is_list && !is_path && !is_fetch)
        return cli_usage(verb, "unknown action '%s' (list, path NAME, fetch NAME)", action);
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
