/*
 * cmd_serve.c — `facto serve --model M`: the HTTP inference server
 * (facto_serve_run, src/serve/). This file reads flags and the API key
 * file, prints the address once the server listens ("listening on
 * http://HOST:PORT", on stdout, so a script can read the port --port 0
 * chose), and logs to stderr with a UTC timestamp. Everything else —
 * routes, reload, shutdown, SageMaker's environment — is the library's.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    OPT_MODEL = 256, OPT_BIND, OPT_PORT, OPT_THREADS, OPT_KEY_FILE, OPT_MAX_BODY, OPT_MAX_INSTANCES, OPT_TIMEOUT,
    OPT_DATASET, OPT_TITLES, OPT_QUIET, OPT_EVENTS_DIR, OPT_FSYNC, OPT_FSYNC_MS, OPT_ROTATE, OPT_LOG_IMPRESSIONS
};

static const struct option cli_serve_opts[] = {{"model", required_argument, NULL, OPT_MODEL},
                                                 {"bind", required_argument, NULL, OPT_BIND},
                                                 {"port", required_argument, NULL, OPT_PORT},
                                                 {"threads", required_argument, NULL, OPT_THREADS},
                                                 {"api-key-file", required_argument, NULL, OPT_KEY_FILE},
                                                 {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
                                                 {"max-instances", required_argument, NULL, OPT_MAX_INSTANCES},
                                                 {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                                 {"dataset", required_argument, NULL, OPT_DATASET},
                                                 {"titles", required_argument, NULL, OPT_TITLES},
                                                 {"quiet", no_argument, NULL, OPT_QUIET},
                                                 {"events-dir", required_argument, NULL, OPT_EVENTS_DIR},
                                                 {"fsync", required_argument, NULL, OPT_FSYNC},
                                                 {"fsync-interval-ms", required_argument, NULL, OPT_FSYNC_MS},
                                                 {"events-rotate-bytes", required_argument, NULL, OPT_ROTATE},
                                                 {"log-impressions", no_argument, NULL, OPT_LOG_IMPRESSIONS},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {NULL, 0, NULL, 0}};

static void cli_serve_help(const char *verb)
{
    printf("Usage: %s --model MODEL [OPTIONS]\n\n"
           "Serve a model over HTTP: SageMaker's inference contract (GET /ping, POST /invocations),\n"
           "GET/POST /recommendations, GET /similar-items, GET /metrics (Prometheus), POST /admin/reload,\n"
           "POST /events (with --events-dir).\n"
           "SIGHUP reloads the model file (a bad file is refused and the old model keeps serving);\n"
           "SIGTERM or SIGINT stops accepting, finishes the requests in flight and exits 0.\n"
           "docs/serving.md describes every route, body and error.\n\n"
           "  --model MODEL         model file (default: the first facto model file in $SM_MODEL_DIR,\n"
           "                        else /opt/ml/model)\n"
           "  --bind ADDR           address to listen on (default 127.0.0.1; 0.0.0.0 when\n"
           "                        SAGEMAKER_BIND_TO_PORT is set)\n"
           "  --port N              TCP port; 0 picks a free one (default $SAGEMAKER_BIND_TO_PORT, else 8080)\n"
           "  --threads N           worker threads, requests answered at once: more serve more clients\n"
           "                        in parallel; every answer is the same for any count (0 or default:\n"
           "                        all cores, as for train)\n"
           "  --api-key-file F      every route but /ping needs 'Authorization: Bearer KEY', KEY being\n"
           "                        the first line of F (default: no key; a warning when --bind is not\n"
           "                        a loopback address)\n"
           "  --max-body-bytes N    larger request bodies get 413 (default 6291456, SageMaker's 6 MiB)\n"
           "  --max-instances N     more instances in one /invocations request get 413 (default 100000)\n"
           "  --timeout S           close a connection idle or stalled for S seconds (default 30)\n"
           "  --dataset NAME        titles from this registered data set's folder (default: none)\n"
           "  --titles DIR          titles from u.item, movies.dat or movies.csv in DIR (default: none)\n"
           "  --quiet               log warnings only (default: also start, reload and stop)\n"
           "  --events-dir D        keep an event log: POST /events appends impressions, clicks, purchases\n"
           "                        and ratings to JSON Lines files in D (created if missing; default: none)\n"
           "  --fsync always|interval  always: every event is synced to disk before its 2xx answer;\n"
           "                        interval: a thread syncs every --fsync-interval-ms (an acknowledged\n"
           "                        event survives kill -9, not always a machine crash) (default always)\n"
           "  --fsync-interval-ms N the interval of --fsync interval (default 1000)\n"
           "  --events-rotate-bytes N  start a new log file before one passes N bytes; files also change\n"
           "                        on the hour, UTC (default 67108864, 64 MiB)\n"
           "  --log-impressions     /recommendations and /similar-items log the items they answer as an\n"
           "                        impression with their request_id (needs --events-dir; default off)\n"
           "  -h, --help            this text\n"
           "\nOnce listening it prints 'listening on http://ADDR:PORT' on stdout.\n"
           "Exit codes: 0 stopped by SIGTERM/SIGINT, 1 usage, 2 the model or key file cannot be read or\n"
           "the port cannot be bound, 3 internal error.\n",
           verb);
}

static void cli_serve_log(facto_log_level level, const char *message, void *user)
{
    (void)level;
    (void)user;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s facto serve: %s\n", stamp, message);
    fflush(stderr);
}

static void cli_serve_ready(const char *bind, int port, void *user)
{
    (void)user;
    if (strchr(bind, ':'))
        printf("listening on http://[%s]:%d\n", bind, port);
    else
        printf("listening on http://%s:%d\n", bind, port);
    fflush(stdout);
}

/* The key: the file's first line, blanks around it removed. */
static int cli_serve_key(const char *path, char *key, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("%s: cannot read the API key file", path);
        return FACTO_EXIT_DATA;
    }
    if (!fgets(key, (int)size, f))
        key[0] = '\0';
    fclose(f);
    size_t n = strlen(key);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' ' || key[n - 1] == '\t'))
        key[--n] = '\0';
    size_t a = strspn(key, " \t");
    memmove(key, key + a, n - a + 1);
    if (!key[0]) {
        cli_error("%s: the API key file's first line is empty", path);
        return FACTO_EXIT_DATA;
    }
    return 0;
}

int cli_cmd_serve(int argc, char **argv)
{
    const char *verb = argv[0];
    facto_serve_options o = facto_serve_options_default();
    const char *key_file = NULL, *dataset = NULL, *titles = NULL;
    int quiet = 0, rc = 0, c, v, fsync_interval = 0, fsync_ms = 1000;
    uint64_t u;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_serve_opts)) != -1) {
        switch (c) {
        case 'h': cli_serve_help(verb); return FACTO_EXIT_OK;
        case OPT_MODEL: o.model_path = optarg; break;
        case OPT_BIND: o.bind = optarg; break;
        case OPT_PORT: rc = cli_arg_int(verb, "--port", optarg, 0, 65535, &o.port); break;
        case OPT_THREADS: rc = cli_arg_int(verb, "--threads", optarg, 0, 1024, &o.threads); break;
        case OPT_KEY_FILE: key_file = optarg; break;
        case OPT_MAX_BODY:
            rc = cli_arg_u64(verb, "--max-body-bytes", optarg, &u);
            if (rc == 0 && (u < 1 || u > ((uint64_t)1 << 32)))
                rc = cli_usage(verb, "--max-body-bytes %s is not from 1 to 4294967296", optarg);
            o.max_body_bytes = (size_t)u;
            break;
        case OPT_MAX_INSTANCES: rc = cli_arg_int(verb, "--max-instances", optarg, 1, 10000000, &o.max_instances); break;
        case OPT_TIMEOUT:
            rc = cli_arg_int(verb, "--timeout", optarg, 1, 86400, &v);
            o.timeout_seconds = (unsigned)v;
            break;
        case OPT_DATASET: dataset = optarg; break;
        case OPT_TITLES: titles = optarg; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_EVENTS_DIR: o.events_dir = optarg; break;
        case OPT_FSYNC:
            if (strcmp(optarg, "always") == 0)
                fsync_interval = 0;
            else if (strcmp(optarg, "interval") == 0)
                fsync_interval = 1;
            else
                rc = cli_usage(verb, "--fsync %s is not always or interval", optarg);
            break;
        case OPT_FSYNC_MS: rc = cli_arg_int(verb, "--fsync-interval-ms", optarg, 1, 3600000, &fsync_ms); break;
        case OPT_ROTATE:
            rc = cli_arg_u64(verb, "--events-rotate-bytes", optarg, &u);
            if (rc == 0 && u < 1)
                rc = cli_usage(verb, "--events-rotate-bytes must be at least 1");
            o.events_rotate_bytes = u;
            break;
        case OPT_LOG_IMPRESSIONS: o.log_impressions = 1; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (dataset && titles)
        return cli_usage(verb, "give --dataset or --titles, not both");
    if (o.log_impressions && !o.events_dir)
        return cli_usage(verb, "--log-impressions needs --events-dir DIR");
    o.events_fsync_ms = fsync_interval ? fsync_ms : 0;
    char key[1024];
    if (key_file) {
        if ((rc = cli_serve_key(key_file, key, sizeof key)) != 0)
            return rc;
        o.api_key = key;
    }
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_ctx_set_log(ctx, cli_serve_log, NULL, quiet ? FACTO_LOG_WARN : FACTO_LOG_INFO);
    char dir[4096];
    facto_status st = FACTO_OK;
    if (dataset && (st = facto_dataset_path(ctx, dataset, dir, sizeof dir)) == FACTO_OK)
        titles = dir;
    o.titles_dir = titles;
    o.on_ready = cli_serve_ready;
    if (st == FACTO_OK)
        st = facto_serve_run(ctx, &o);
    rc = st == FACTO_OK ? FACTO_EXIT_OK : cli_fail(ctx, st, 1);
    facto_ctx_free(ctx);
    return rc;
}
