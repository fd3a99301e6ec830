/*
 * cmd_predict.c — `facto predict --model M --input PAIRS`: read `user item`
 * pairs (one a line; fields split on tab, space, comma, semicolon, '|' or
 * "::"; further fields such as a rating are ignored; blank and '#' lines are
 * skipped, and so is a header whose first field is user, userId or user_id;
 * `-` reads stdin) and write `user<TAB>item<TAB>score` lines, or one
 * JSON object with --json; MF models and FM models trained from ratings
 * (by ids). Streams the input: O(1) memory in text mode,
 * O(pairs) with --json; O(factors) per pair.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    printf("Usage: %s --model MODEL --input PAIRS [--json]\n"
           "       %s --model FM_MODEL --input REQUEST --content-type TYPE [--accept TYPE] [--output FILE]\n\n"
           "Predict the rating of each 'user item' pair of PAIRS (one pair a line; fields split on\n"
           "tab, space, comma, semicolon, '|' or '::'; more fields, e.g. a rating, are ignored;\n"
           "blank lines, lines starting with '#' and a first line starting with user, userId or\n"
           "user_id are skipped).\n"
           "Writes 'user<TAB>item<TAB>score' lines. A user or item the model never saw is predicted\n"
           "from the biases and counted in a note on stderr.\n\n"
           "  --model MODEL      model file written by `facto train --out` (required)\n"
           "  --input PAIRS      file of pairs, '-' = stdin (required)\n"
           "  --json             print {\"predictions\": [{\"user\", \"item\", \"score\"[, \"unknown_user\",\n"
           "                     \"unknown_item\"]}, ...]} (default: text)\n"
           "\nA factorization machine trained from ratings (facto train --model fm --solver als|mcmc\n"
           "--dataset/--from-ratings) predicts pairs the same way. One trained on feature rows answers\n"
           "SageMaker inference requests instead (without --content-type it exits with code 2):\n"
           "  --content-type T   application/json|application/jsonlines|application/x-recordio-protobuf,\n"
           "                     the format of --input (required for an FM model)\n"
           "  --accept T         format of the response (default: the content type)\n"
           "  --output FILE      where the response goes (default: stdout; recordIO is binary)\n"
           "  -h, --help         this text\n"
           "\nExit codes: 0 ok, 1 usage, 2 data or I/O error (also a malformed request), 3 internal error.\n",
           verb, verb);
}

/* A header line such as "userId,movieId,rating": its first field names the user column. */
static int cli_is_header(const char *field)
{
    return strcasecmp(field, "user") == 0 || strcasecmp(field, "userid") == 0 || strcasecmp(field, "user_id") == 0;
}

/* The pairs file's delimiter, fixed by its first data line: "::" (code ':'),
 * tab, comma, semicolon or '|' when the line holds one, else runs of blanks
 * (code ' '). Ids may then hold spaces ("Ann Lee,Up"). */
static char cli_pairs_delim(const char *line)
{
    if (strstr(line, "::"))
        return ':';
    static const char cands[] = {'\t', ',', ';', '|'};
    for (size_t i = 0; i < sizeof cands; i++)
        if (strchr(line, cands[i]))
            return cands[i];
    return ' ';
}

/* Cut the next field of *p in place at `delim`; surrounding blanks and one
 * pair of double quotes are removed. NULL when no field is left. */
static char *cli_next_field(char **p, char delim)
{
    char *s = *p;
    if (!s)
        return NULL;
    if (delim == ' ')
        while (*s == ' ' || *s == '\t')
            s++;
    if (!*s && delim == ' ')
        return NULL;
    char *end = delim == ' ' ? s + strcspn(s, " \t") : delim == ':' ? strstr(s, "::") : strchr(s, delim);
    if (end && *end) {
        *end = '\0';
        *p = end + (delim == ':' ? 2 : 1);
    } else {
        *p = NULL;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* Read one line (without its end) into buf of `cap` bytes. Returns its
 * length, -1 at end of file, -2 when longer than cap - 1 bytes, -3 when it
 * holds a NUL byte. Bounded memory, whatever the input (/dev/zero). */
static long cli_read_pair_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int c, nul = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (c == '\0')
            nul = 1;
        if (n + 1 >= cap)
            return -2;
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return -1;
    while (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return nul ? -3 : (long)n;
}

int cli_cmd_predict(int argc, char **argv)
{
    const char *verb = argv[0];
    const char *model_path = NULL, *input = NULL;
    const char *content_type = NULL, *accept = NULL, *output = NULL;
    int json = 0, c;
    cli_getopt_begin();
    while ((c = cli_getopt(verb, argc, argv, "h", cli_predict_opts)) != -1) {
        switch (c) {
        case 'h': cli_predict_help(verb); return FACTO_EXIT_OK;
        case OPT_MODEL: model_path = optarg; break;
        case OPT_INPUT: input = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_CONTENT_TYPE: content_type = optarg; break;
        case OPT_ACCEPT: accept = optarg; break;
        case OPT_OUTPUT: output = optarg; break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (!model_path)
        return cli_usage(verb, "missing --model MODEL");
    if (!input)
        return cli_usage(verb, "missing --input PAIRS (a file, or - for stdin)");

    facto_ctx *ctx = facto_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    int rc = FACTO_EXIT_OK;
    facto_model *model = NULL;
    json_t *root = NULL, *preds = NULL;
    char *line = NULL;
    size_t cap = 0;
    int from_stdin = strcmp(input, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : input;
    FILE *f = NULL;
    facto_status st = facto_model_load(ctx, model_path, &model);
    if (st != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    unsigned inputs = facto_model_inputs(model);
    int by_ids = (inputs & FACTO_INPUT_RATINGS) != 0;
    if (!by_ids || content_type || accept || output) {
        if (!content_type && !accept && !output) {
            cli_error("%s: this model was trained on feature rows, so it scores feature rows, not 'user item' "
                      "pairs: pass a SageMaker request with --content-type "
                      "application/json|application/jsonlines|application/x-recordio-protobuf (a factorization "
                      "machine trained from ratings with --solver als|mcmc predicts by ids)",
                      model_path);
            rc = FACTO_EXIT_DATA;
        } else if (!(inputs & FACTO_INPUT_ROWS)) {
            cli_error("%s: this model was trained from ratings: it predicts (user, item) pairs by id (facto "
                      "predict --model M --input PAIRS), not feature rows or SageMaker requests (train a "
                      "factorization machine on rows with --train for those)",
                      model_path);
            rc = FACTO_EXIT_DATA;
        } else if (json) {
            rc = cli_usage(verb, "--json is for pairs; responses to SageMaker requests follow --accept");
        } else {
            rc = cli_fm_predict(ctx, model, input, content_type, accept, output);
        }
        goto done;
    }
    f = from_stdin ? stdin : fopen(input, "rb");
    if (!f) {
        cli_error("%s: cannot open: %s", input, strerror(errno));
        rc = FACTO_EXIT_DATA;
        goto done;
    }
    if (json) {
        root = json_object();
        preds = json_array();
        if (!root || !preds || json_object_set(root, "predictions", preds) != 0) {
            cli_error("out of memory");
            rc = FACTO_EXIT_INTERNAL;
            goto done;
        }
    }
    long long lineno = 0, n_pairs = 0, n_unknown = 0;
    long got;
    char delim = 0;
    errno = 0;
    line = malloc(cap = 65536);
    if (!line) {
        cli_error("out of memory");
        rc = FACTO_EXIT_INTERNAL;
        goto done;
    }
    while ((got = cli_read_pair_line(f, line, cap)) != -1) {
        lineno++;
        if (got == -2 || got == -3) {
            cli_error(got == -2 ? "%s:%lld: the line is longer than 64 KiB; is this a file of 'user item' pairs?"
                                      : "%s:%lld: line holds a NUL byte (binary or compressed data?)",
                            name, lineno);
            rc = FACTO_EXIT_DATA;
            goto done;
        }
        char *p = line;
        if (lineno == 1 && got >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3;
        char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\0' || *q == '#')
            continue;
        if (!delim)
            delim = cli_pairs_delim(q);
        char shown[80];
        snprintf(shown, sizeof shown, "%s", q);
        char *user = cli_next_field(&p, delim), *item = user ? cli_next_field(&p, delim) : NULL;
        if (!user || !item || !*user || !*item) {
            cli_error("%s:%lld: expected 'user item', got '%s'", name, lineno, shown);
            rc = FACTO_EXIT_DATA;
            goto done;
        }
        if (n_pairs == 0 && cli_is_header(user))
            continue;
        float score;
        int flags = 0;
        st = facto_model_predict(ctx, model, user, item, &score, &flags);
        if (st != FACTO_OK) {
            cli_error("%s:%lld: %s", name, lineno, facto_errmsg(ctx));
            rc = st == FACTO_ERR_NOMEM || st == FACTO_ERR_INTERNAL ? FACTO_EXIT_INTERNAL : FACTO_EXIT_DATA;
            goto done;
        }
        n_pairs++;
        n_unknown += flags != 0;
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "user", cli_json_str(user));
            json_object_set_new(o, "item", cli_json_str(item));
            json_object_set_new(o, "score", cli_json_num(score, 6));
            if (flags & FACTO_PRED_UNKNOWN_USER)
                json_object_set_new(o, "unknown_user", json_true());
            if (flags & FACTO_PRED_UNKNOWN_ITEM)
                json_object_set_new(o, "unknown_item", json_true());
            if (json_array_append_new(preds, o) != 0) {
                cli_error("out of memory");
                rc = FACTO_EXIT_INTERNAL;
                goto done;
            }
        } else {
            printf("%s\t%s\t%.4f\n", user, item, (double)score);
        }
    }
    if (ferror(f)) {
        cli_error("%s:%lld: read error: %s", name, lineno + 1, strerror(errno));
        rc = FACTO_EXIT_DATA;
        goto done;
    }
    if (n_unknown > 0)
        fprintf(stderr, "facto: note: %lld of %lld pairs had a user or item the model never saw\n", n_unknown,
                n_pairs);
    if (json) {
        rc = cli_json_print(root);
        root = NULL;
    }
done:
    if (f && !from_stdin)
        fclose(f);
    free(line);
    json_decref(preds);
    json_decref(root);
    facto_model_free(model);
    facto_ctx_free(ctx);
    return rc;
}
