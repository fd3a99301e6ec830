/*
 * cmd_predict.c — `facto predict --model M --input FILE`. What the input is
 * follows what the model scores (facto_model_inputs): a model with ids
 * reads `user item` pairs (pairs.c: one a line; fields split on tab, space, comma,
 * semicolon, '|' or "::"; further fields such as a rating are ignored;
 * blank and '#' lines are skipped, and so is a header whose first field is
 * user, userId or user_id; `-` reads stdin) and writes
 * `user<TAB>item<TAB>score` lines, or one JSON object with --json; a model
 * that scores feature rows answers a SageMaker inference request
 * (--content-type) with SageMaker's response (--accept), with a predicted
 * label when its task is binary. Streams the pairs: O(1) memory in text
 * mode, O(pairs) with --json; O(factors) per pair; a request is read whole
 * (at most 256 MiB).
 */
#include "hparams.h"
#include "pairs.h"
#include "rows_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_MODEL = 256, OPT_INPUT, OPT_JSON, OPT_CONTENT_TYPE, OPT_ACCEPT, OPT_OUTPUT };

static const struct option cli_predict_opts[] = {{"model", required_argument, NULL, OPT_MODEL},
                                                   {"input", required_argument, NULL, OPT_INPUT},
                                                   {"json", no_argument, NULL, OPT_JSON},
                                                   {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
                                                   {"accept", required_argument, NULL, OPT_ACCEPT},
                                                   {"output", required_argument, NULL, OPT_OUTPUT},
                                                   {"help", no_argument, NULL, 'h'},
                                                   {NULL, 0, NULL, 0}};

static void cli_predict_help(const char *verb)
{
    printf("Usage: %s --model MODEL --input PAIRS [--json] [--output FILE]\n"
           "       %s --model MODEL --input REQUEST --content-type TYPE [--accept TYPE] [--output FILE]\n\n"
           "A model trained from ratings predicts the rating (or, a classifier, the probability of\n"
           "label 1) of each 'user item' pair of PAIRS: one pair a line; fields split on tab, space,\n"
           "comma, semicolon, '|' or '::', the delimiter taken from the first data line (every later\n"
           "line must use the same one); more fields, e.g. a rating, are ignored; blank lines, lines\n"
           "starting with '#' and a first line starting with user, userId or user_id are skipped.\n"
           "Writes 'user<TAB>item<TAB>score' lines. A user or item the model never saw is predicted\n"
           "by its fallback (the biases) and counted in a note on stderr.\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --input FILE       file of pairs or a request body, '-' = stdin (required)\n"
           "  --json             print {\"predictions\": [{\"user\", \"item\", \"score\"[, \"unknown_user\",\n"
           "                     \"unknown_item\"]}, ...]} (default: text)\n"
           "  --output FILE      write the predictions to FILE, whole, then renamed into place (default:\n"
           "                     stdout)\n"
           "\nA model trained on feature rows answers SageMaker inference requests instead\n"
           "(without --content-type it exits with code 2):\n"
           "  --content-type T   application/json|application/jsonlines|application/x-recordio-protobuf,\n"
           "                     the format of --input (required for such a model)\n"
           "  --accept T         format of the response (default: the content type)\n"
           "  --output FILE      where the response goes (default: stdout; recordIO is binary)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error (also a malformed request), 3 internal error.\n",
           verb, verb);
}

/* Write `size` bytes of response to `output` (NULL or "-" = stdout); JSON
 * bodies get the newline a terminal or a text file wants. Exit code. */
static int cli_predict_write(facto_ctx *ctx, const char *output, const void *resp, size_t size, int binary)
{
    int to_stdout = !output || strcmp(output, "-") == 0;
    facto_output *o = NULL;
    facto_status st = to_stdout ? FACTO_OK : facto_output_open(ctx, output, 0, &o);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0); /* e.g. --output names the model or the request */
    FILE *f = to_stdout ? stdout : facto_output_stream(o);
    int bad = fwrite(resp, 1, size, f) != size;
    if (!bad && !binary && size > 0 && ((const char *)resp)[size - 1] != '\n')
        bad = fputc('\n', f) == EOF;
    if (!to_stdout) /* the commit sees any write error and then leaves the old file */
        return (st = facto_output_commit(ctx, o)) == FACTO_OK ? 0 : cli_fail(ctx, st, 0);
    if (bad || fflush(f) != 0) {
        cli_error("<stdout>: write error: %s", strerror(errno));
        return FACTO_EXIT_DATA;
    }
    return 0;
}

/* Score the rows of `body` and write the response. */
static int cli_predict_rows(facto_ctx *ctx, const facto_model *model, const facto_rows *rows, const char *input,
                            facto_content_type out_type, const char *output)
{
    size_t n = (size_t)facto_rows_count(rows);
    float *scores = malloc((n ? n : 1) * sizeof *scores), *labels = malloc((n ? n : 1) * sizeof *labels);
    void *resp = NULL;
    size_t resp_size = 0;
    int rc = 0;
    facto_status st;
    int classifier = facto_model_task(model) == FACTO_TASK_BINARY;
    if (!scores || !labels) {
        cli_error("out of memory");
        rc = FACTO_EXIT_INTERNAL;
    } else if ((st = facto_model_predict_rows(ctx, model, rows, scores, labels)) != FACTO_OK) {
        /* "row N: ..." (1-based) is request instance N-1, as the parser names them */
        const char *msg = facto_errmsg(ctx);
        char *end = NULL;
        long long row = strncmp(msg, "row ", 4) == 0 ? strtoll(msg + 4, &end, 10) : 0;
        if (row >= 1 && end && strncmp(end, ": ", 2) == 0)
            cli_error("%s: request instance %lld: %s", input, row - 1, end + 2);
        else
            cli_error("%s: %s", input, msg);
        rc = cli_exit_of(st);
    } else if ((st = facto_inference_response_write(ctx, out_type, scores, classifier ? labels : NULL, (int64_t)n,
                                                    &resp, &resp_size)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
    } else {
        rc = cli_predict_write(ctx, output, resp, resp_size, out_type == FACTO_CONTENT_RECORDIO);
    }
    facto_buffer_free(resp);
    free(scores);
    free(labels);
    return rc;
}

/* A SageMaker inference request from `input` in `content_type`, answered
 * in `accept` (NULL = the content type). */
static int cli_predict_request(facto_ctx *ctx, const facto_model *model, const char *input, const char *content_type,
                               const char *accept, const char *output)
{
    const char *verb = "facto predict";
    facto_content_type in_type, out_type;
    if (!content_type)
        return cli_usage(verb, "a model that scores feature rows needs --content-type application/json|"
                               "application/jsonlines|application/x-recordio-protobuf");
    if (facto_content_type_parse(ctx, content_type, &in_type) != FACTO_OK)
        return cli_usage(verb, "--content-type: %s", facto_errmsg(ctx));
    out_type = in_type;
    if (accept && facto_content_type_parse(ctx, accept, &out_type) != FACTO_OK)
        return cli_usage(verb, "--accept: %s", facto_errmsg(ctx));
    uint64_t feature_dim = 0;
    char *body = NULL;
    size_t size = 0;
    int rc = cli_model_feature_dim(ctx, model, &feature_dim);
    if (rc == 0)
        rc = cli_slurp(input, &body, &size);
    if (rc)
        return rc;
    facto_rows *rows = NULL;
    facto_status st = facto_inference_request_parse(ctx, in_type, body, size, feature_dim, &rows);
    if (st != FACTO_OK) {
        /* a bad request is a data error; the message names the input file */
        cli_error("%s: %s", strcmp(input, "-") == 0 ? "<stdin>" : input, facto_errmsg(ctx));
        rc = cli_exit_of(st);
    } else {
        rc = cli_predict_rows(ctx, model, rows, strcmp(input, "-") == 0 ? "<stdin>" : input, out_type, output);
    }
    facto_rows_free(rows);
    free(body);
    return rc;
}

/* Pairs being scored: where the output goes and the counts of the note. */
typedef struct cli_pairs {
    json_t *preds;    /* --json: the array of predictions, else NULL */
    FILE *out;        /* text lines go here (stdout, or --output's temporary file) */
    long long n_pairs, n_unknown;
} cli_pairs;

/* One prediction, as a text line or a JSON object. Exit code. */
static int cli_pairs_emit(cli_pairs *s, const char *user, const char *item, float score, int flags)
{
    s->n_pairs++;
    s->n_unknown += flags != 0;
    if (!s->preds) {
        char num[32];
        fprintf(s->out, "%s\t%s\t%s\n", user, item, cli_num(num, score));
        return 0;
    }
    json_t *o = json_object();
    json_object_set_new(o, "user", cli_json_str(user));
    json_object_set_new(o, "item", cli_json_str(item));
    json_object_set_new(o, "score", cli_json_float(score));
    if (flags & FACTO_PRED_UNKNOWN_USER)
        json_object_set_new(o, "unknown_user", json_true());
    if (flags & FACTO_PRED_UNKNOWN_ITEM)
        json_object_set_new(o, "unknown_item", json_true());
    if (!o || json_array_append_new(s->preds, o) != 0) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    return 0;
}

/* Score every pair of `input` with a model that predicts by ids; the
 * lines (or the JSON) go to `output` (NULL or "-": stdout) through a
 * temporary file renamed into place once all is written. */
static int cli_predict_pairs(facto_ctx *ctx, const facto_model *model, const char *input, int json,
                             const char *output)
{
    cli_pairs_reader r;
    int rc = cli_pairs_open(&r, input);
    if (rc)
        return rc;
    facto_output *o = NULL;
    facto_status ost;
    if (output && strcmp(output, "-") != 0 && (ost = facto_output_open(ctx, output, 0, &o)) != FACTO_OK) {
        cli_pairs_close(&r);
        return cli_fail(ctx, ost, 0); /* e.g. --output names the model or the input */
    }
    cli_pairs s = {json ? json_array() : NULL, o ? facto_output_stream(o) : stdout, 0, 0};
    json_t *root = json ? json_object() : NULL;
    if (json && (!root || !s.preds || json_object_set(root, "predictions", s.preds) != 0)) {
        cli_error("out of memory");
        rc = FACTO_EXIT_INTERNAL;
    }
    char *user, *item;
    int got;
    while (rc == 0 && (got = cli_pairs_next(&r, &user, &item)) != 0) {
        float score;
        int flags = 0;
        facto_status st;
        if (got < 0) {
            rc = -got;
        } else if ((st = facto_model_predict(ctx, model, user, item, &score, &flags)) != FACTO_OK) {
            cli_error("%s:%lld: %s", r.name, r.lineno, facto_errmsg(ctx));
            rc = cli_exit_of(st);
        } else {
            rc = cli_pairs_emit(&s, user, item, score, flags);
        }
    }
    if (rc == 0 && s.n_unknown > 0)
        fprintf(stderr, "facto: note: %lld of %lld pairs had a user or item the model never saw\n", s.n_unknown,
                s.n_pairs);
    if (rc == 0 && json && o) {
        if (json_dumpf(root, s.out, JSON_REAL_PRECISION(15)) != 0 || fputc('\n', s.out) == EOF)
            rc = FACTO_EXIT_DATA; /* the commit below reports the write error */
    } else if (rc == 0 && json) {
        rc = cli_json_print(root);
        root = NULL;
    }
    if (o && rc == 0) {
        if ((ost = facto_output_commit(ctx, o)) != FACTO_OK)
            rc = cli_fail(ctx, ost, 0);
    } else if (o) {
        facto_output_abort(o); /* nothing half-written; an older file stays */
    } else if (rc == 0 && !json && fflush(stdout) != 0) {
        cli_error("<stdout>: write error: %s", strerror(errno));
        rc = FACTO_EXIT_DATA;
    }
    cli_pairs_close(&r);
    json_decref(s.preds);
    json_decref(root);
    return rc;
}

typedef struct cli_predict_args {
    const char *verb; /* argv[0], for usage messages */
    const char *model, *input, *content_type, *accept, *output;
    int json;
} cli_predict_args;

static int cli_predict_parse(int argc, char **argv, cli_predict_args *a, int *help)
{
    const char *verb = argv[0];
    int c;
    cli_getopt_begin();
    while ((c = cli_getopt(verb, argc, argv, "h", cli_predict_opts)) != -1) {
        switch (c) {
        case 'h': *help = 1; return 0;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_INPUT: a->input = optarg; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_CONTENT_TYPE: a->content_type = optarg; break;
        case OPT_ACCEPT: a->accept = optarg; break;
        case OPT_OUTPUT: a->output = optarg; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (!a->model)
        return cli_usage(verb, "missing --model MODEL");
    if (!a->input)
        return cli_usage(verb, "missing --input PAIRS (a file, or - for stdin)");
    return 0;
}

/* What the model scores decides what the input is. */
static int cli_predict_run(facto_ctx *ctx, const facto_model *model, void *arg)
{
    const cli_predict_args *a = arg;
    unsigned inputs = facto_model_inputs(model);
    int request = a->content_type || a->accept;
    if ((inputs & FACTO_INPUT_RATINGS) && !request)
        return cli_predict_pairs(ctx, model, a->input, a->json, a->output);
    if (!request) {
        cli_error("%s: this model was trained on feature rows, so it scores feature rows, not 'user item' "
                  "pairs: pass a SageMaker request with --content-type "
                  "application/json|application/jsonlines|application/x-recordio-protobuf (a model trained "
                  "from ratings predicts by ids)",
                  a->model);
        return FACTO_EXIT_DATA;
    }
    if (!(inputs & FACTO_INPUT_ROWS)) {
        cli_error("%s: this model was trained from ratings: it predicts (user, item) pairs by id (facto "
                  "predict --model M --input PAIRS), not feature rows or SageMaker requests (train a model "
                  "on feature rows with --train for those)",
                  a->model);
        return FACTO_EXIT_DATA;
    }
    if (a->json)
        return cli_usage(a->verb, "--json is for pairs; responses to SageMaker requests follow --accept");
    return cli_predict_request(ctx, model, a->input, a->content_type, a->accept, a->output);
}

int cli_cmd_predict(int argc, char **argv)
{
    cli_predict_args a;
    memset(&a, 0, sizeof a);
    int help = 0, rc = cli_predict_parse(argc, argv, &a, &help);
    if (help) {
        cli_predict_help(argv[0]);
        return FACTO_EXIT_OK;
    }
    if (rc)
        return rc;
    a.verb = argv[0];
    return cli_run_with_model(a.model, cli_predict_run, &a);
}
