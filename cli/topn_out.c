/*
 * topn_out.c — lists of items as `facto recommend` and `facto similar`
 * print them (topn_out.h). Every format names items by the model's own ids;
 * titles come from facto_titles_read. Output files go through facto_output
 * (a temporary file renamed over the target), so a reader never sees half a
 * file and a failure leaves the old one in place. O(size of the output).
 */
#include "topn_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_titles_load(facto_ctx *ctx, const char *dataset, const char *dir, const facto_idmap *items, cli_titles *t)
{
    char buf[4096];
    t->titles = NULL;
    t->n = 0;
    facto_status st;
    if (dataset) {
        if ((st = facto_dataset_path(ctx, dataset, buf, sizeof buf)) != FACTO_OK)
            return cli_fail(ctx, st, 0);
        dir = buf;
    }
    if (dir && items && (st = facto_titles_read(ctx, dir, items, &t->titles, &t->n)) != FACTO_OK)
        return cli_fail(ctx, st, 0);
    return 0;
}

void cli_titles_free(cli_titles *t)
{
    facto_titles_free(t->titles, t->n);
    t->titles = NULL;
    t->n = 0;
}

const char *cli_title(const cli_titles *t, int32_t item)
{
    return t && t->titles && item >= 0 && item < t->n ? t->titles[item] : NULL;
}

/* The id of model item `item` (its index as text when the model has no name for it). */
static const char *cli_item_id(const facto_idmap *items, int32_t item, char *buf, size_t size)
{
    const char *id = items ? facto_idmap_name(items, item) : NULL;
    if (id)
        return id;
    snprintf(buf, size, "%d", (int)item);
    return buf;
}

int cli_recs_ratings(facto_ctx *ctx, const facto_model *model, const char *user, const facto_recommendation *recs,
                     int n, float *rating)
{
    const facto_idmap *items = facto_model_items(model);
    for (int i = 0; i < n; i++) {
        char buf[32];
        facto_status st = facto_model_predict(ctx, model, user, cli_item_id(items, recs[i].item, buf, sizeof buf),
                                              &rating[i], NULL);
        if (st != FACTO_OK)
            return cli_fail(ctx, st, 0);
    }
    return 0;
}

/* Width of an int as text. */
static int cli_int_width(long long v)
{
    char buf[32];
    return snprintf(buf, sizeof buf, "%lld", v);
}

void cli_recs_table(FILE *out, const facto_idmap *items, const facto_recommendation *recs, int n,
                    const cli_titles *t, const float *rating)
{
    char buf[32], num[32], rnum[32];
    int wr = cli_int_width(n) > 4 ? cli_int_width(n) : 4, wi = 4, ws = 5, wg = 6, titled = 0;
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(cli_item_id(items, recs[i].item, buf, sizeof buf));
        wi = len > wi ? len : wi;
        len = (int)strlen(cli_num(num, recs[i].score));
        ws = len > ws ? len : ws;
        if (rating && (len = (int)strlen(cli_num(num, rating[i]))) > wg)
            wg = len;
        const char *title = cli_title(t, recs[i].item);
        titled |= title && *title;
    }
    fprintf(out, "%*s  %-*s", wr, "rank", wi, "item");
    if (rating)
        fprintf(out, "  %*s", wg, "rating");
    fprintf(out, "  %*s%s\n", ws, "score", titled ? "  title" : "");
    for (int i = 0; i < n; i++) {
        const char *title = cli_title(t, recs[i].item);
        fprintf(out, "%*d  %-*s", wr, i + 1, wi, cli_item_id(items, recs[i].item, buf, sizeof buf));
        if (rating)
            fprintf(out, "  %*s", wg, cli_num(rnum, rating[i]));
        fprintf(out, "  %*s", ws, cli_num(num, recs[i].score));
        if (title && *title)
            fprintf(out, "  %s", title);
        fputc('\n', out);
    }
}

void cli_recs_tsv(FILE *out, const char *id, const facto_idmap *items, const facto_recommendation *recs, int n,
                  const float *rating)
{
    for (int i = 0; i < n; i++) {
        char buf[32], num[32], rnum[32];
        fprintf(out, "%s\t%s\t", id, cli_item_id(items, recs[i].item, buf, sizeof buf));
        if (rating)
            fprintf(out, "%s\t", cli_num(rnum, rating[i]));
        fprintf(out, "%s\n", cli_num(num, recs[i].score));
    }
}

json_t *cli_recs_items(const facto_idmap *items, const facto_recommendation *recs, int n, const cli_titles *t,
                       const float *rating)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++) {
        char buf[32];
        const char *title = cli_title(t, recs[i].item);
        json_t *o = json_object();
        json_object_set_new(o, "item", cli_json_str(cli_item_id(items, recs[i].item, buf, sizeof buf)));
        if (rating)
            json_object_set_new(o, "rating", cli_json_float(rating[i]));
        json_object_set_new(o, "score", cli_json_float(recs[i].score));
        if (title)
            json_object_set_new(o, "title", json_string(title));
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *cli_recs_json(const char *key, const char *id, const facto_idmap *items, const facto_recommendation *recs,
                      int n, const cli_titles *t, const float *rating)
{
    json_t *root = json_object(), *arr = cli_recs_items(items, recs, n, t, rating);
    if (!root || !arr || json_object_set_new(root, key, cli_json_str(id)) != 0 ||
        json_object_set_new(root, "items", arr) != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int cli_json_line(FILE *out, json_t *root)
{
    if (!root) {
        cli_error("out of memory building JSON output");
        return FACTO_EXIT_INTERNAL;
    }
    /* as cli_json_print: 15 significant digits print every rounded value as written */
    int rc = json_dumpf(root, out, JSON_REAL_PRECISION(15));
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF)
        return FACTO_EXIT_DATA; /* the caller names the file when it closes it */
    return 0;
}

int cli_outfile_open(cli_outfile *o, facto_ctx *ctx, const char *path)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    o->ctx = ctx;
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    if (!*path) {
        cli_error("--out: the path is empty");
        return FACTO_EXIT_USAGE;
    }
    facto_status st = facto_output_open(ctx, path, 0, &o->out);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    o->f = facto_output_stream(o->out);
    return 0;
}

int cli_outfile_close(cli_outfile *o, int ok)
{
    if (!o->f)
        return ok ? 0 : FACTO_EXIT_DATA;
    if (o->f == stdout) {
        o->f = NULL;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_error("cannot write to stdout: %s", strerror(errno));
            return FACTO_EXIT_DATA;
        }
        return ok ? 0 : FACTO_EXIT_DATA;
    }
    o->f = NULL;
    facto_output *out = o->out;
    o->out = NULL;
    if (!ok) {
        facto_output_abort(out);
        return FACTO_EXIT_DATA;
    }
    facto_status st = facto_output_commit(o->ctx, out);
    return st == FACTO_OK ? 0 : cli_fail(o->ctx, st, 0);
}
