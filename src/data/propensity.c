/*
 * propensity.c — facto_propensity_weights: inverse-propensity weights of a
 * data set's ratings (Schnabel, Swaminathan, Singh, Chandak & Joachims,
 * "Recommendations as Treatments: Debiasing Learning and Evaluation", ICML
 * 2016, section 3: each observed rating counts 1 / P(observed)). The file
 * holds `user item propensity` or `item propensity` lines in any delimiter
 * the ratings reader detects (delimited.h), an optional header, blank and
 * # comment lines. Ids are matched through the data set's id maps; lines
 * for ids or pairs the data set does not hold are counted and ignored.
 * Cost O(L log L + n_ratings) for L lines; memory 24 bytes a pair line.
 */
#include "dataset.h"
#include "delimited.h"
#include "linereader.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct fct_prop_entry {
    int32_t user, item;
    float p;
    int64_t line;
} fct_prop_entry;

static int fct_prop_cmp(const void *a, const void *b)
{
    const fct_prop_entry *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* The propensity field of one line into *p, checked to be in (0, 1]. */
static facto_status fct_prop_value(facto_ctx *ctx, const char *path, int64_t lineno, const fct_field *f, float *p)
{
    char shown[4 * 40 + 8];
    double v;
    if (!fct_ratings_number(f->s, f->n, &v) || !isfinite(v)) {
        fct_show(shown, sizeof shown, f->s, f->n);
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: propensity '%s' is not a number", path, (long long)lineno,
                        shown);
    }
    if (!(v > 0.0 && v <= 1.0) || (float)v <= 0.0f) {
        fct_show(shown, sizeof shown, f->s, f->n);
        return fct_fail(ctx, FACTO_ERR_PARSE,
                        "%s:%lld: propensity '%s' is not in (0, 1]: it is the probability that the rating was "
                        "observed",
                        path, (long long)lineno, shown);
    }
    *p = (float)v;
    return FACTO_OK;
}

/* Read every line: per-item propensities into item_p / item_line ([n_items],
 * 0 = none), per-pair ones into *entries. */
static facto_status fct_prop_read(facto_ctx *ctx, const char *path, const facto_dataset *ds, float *item_p,
                                  int64_t *item_line, fct_prop_entry **entries, int64_t *n_entries,
                                  facto_propensity_stats *stats, char header[168], int64_t *header_line)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st)
        return st;
    fct_fields fs = {NULL, 0, 0};
    int64_t cap = 0;
    int n_cols = 0, first = 1, r;
    char delim = 0, *line;
    size_t len;
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (fct_is_blank_or_comment(line, len))
            continue;
        if (memchr(line, '\0', len)) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: binary data (a NUL byte): not a propensity file", path,
                          (long long)lr.lineno);
            break;
        }
        if (!delim)
            delim = fct_detect_delim(line, len, 2);
        if ((st = fct_split_line(ctx, path, lr.lineno, line, len, delim, &fs)) != FACTO_OK)
            break;
        if (first) {
            first = 0;
            n_cols = fs.n;
            if (n_cols != 2 && n_cols != 3) {
                st = fct_fail(ctx, FACTO_ERR_PARSE,
                              "%s:%lld: a propensity line is `user item propensity` or `item propensity`; this "
                              "one has %d column%s",
                              path, (long long)lr.lineno, fs.n, fs.n == 1 ? "" : "s");
                break;
            }
            double v;
            const fct_field *last = &fs.f[n_cols - 1];
            if (!fct_ratings_number(last->s, last->n, &v)) {
                /* a header: its last column names the propensity (kept to
                 * be named if a rating then has no propensity) */
                fct_show(header, 168, last->s, last->n);
                *header_line = lr.lineno;
                continue;
            }
        }
        if (fs.n != n_cols) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %d column%s, but the file's first line has %d (%s)", path,
                          (long long)lr.lineno, fs.n, fs.n == 1 ? "" : "s", n_cols,
                          n_cols == 3 ? "user item propensity" : "item propensity");
            break;
        }
        float p = 0.0f;
        if ((st = fct_prop_value(ctx, path, lr.lineno, &fs.f[n_cols - 1], &p)) != FACTO_OK)
            break;
        stats->n_lines++;
        int32_t u = 0, it;
        if (n_cols == 3)
            u = fct_idmap_find_n(ds->user_map, fs.f[0].s, fs.f[0].n);
        it = fct_idmap_find_n(ds->item_map, fs.f[n_cols - 2].s, fs.f[n_cols - 2].n);
        if (u < 0 || it < 0) {
            stats->n_unused++;
            continue;
        }
        if (n_cols == 2) {
            if (item_line[it]) {
                char shown[4 * 40 + 8];
                fct_show(shown, sizeof shown, fs.f[0].s, fs.f[0].n);
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: a second propensity for item '%s' (the first is on line %lld)",
                              path, (long long)lr.lineno, shown, (long long)item_line[it]);
                break;
            }
            item_p[it] = p;
            item_line[it] = lr.lineno;
            continue;
        }
        if (*n_entries == cap) {
            int64_t ncap = cap ? 2 * cap : 4096;
            fct_prop_entry *e = fct_realloc_array(*entries, (size_t)ncap, sizeof *e);
            if (!e) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            *entries = e;
            cap = ncap;
        }
        (*entries)[(*n_entries)++] = (fct_prop_entry){u, it, p, lr.lineno};
    }
    if (r < 0)
        st = facto_errcode(ctx);
    if (st == FACTO_OK && first)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no propensities: the file holds no data line", path);
    stats->per_item = n_cols == 2;
    fct_linereader_close(&lr);
    free(fs.f);
    return st;
}

facto_status facto_propensity_weights(facto_ctx *ctx, const char *path, const facto_dataset *ds, double max_weight,
                                      float **weights, facto_propensity_stats *stats)
{
    facto_propensity_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    stats->missing = -1;
    if (weights)
        *weights = NULL;
    if (!path || !ds || !weights)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_propensity_weights: path, ds and weights must be given");
    {
        facto_status wst = fct_dataset_wide(ctx, ds);
        if (wst != FACTO_OK)
            return wst;
    }
    if (!(max_weight == 0.0 || (max_weight >= 1.0 && max_weight <= 1e30)))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "the largest inverse-propensity weight must be 0 (no clipping) or in [1, 1e30] (1/p >= 1): "
                        "got %g",
                        max_weight);
    const int64_t n = ds->n_ratings;
    float *w = fct_malloc_array(n > 0 ? (size_t)n : 1, sizeof *w);
    float *item_p = fct_calloc_array((size_t)ds->n_items + 1, sizeof *item_p);
    int64_t *item_line = fct_calloc_array((size_t)ds->n_items + 1, sizeof *item_line);
    fct_prop_entry *e = NULL;
    int64_t ne = 0, header_line = 0;
    char header[168] = "";
    facto_status st;
    if (!w || !item_p || !item_line) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = fct_prop_read(ctx, path, ds, item_p, item_line, &e, &ne, stats, header, &header_line)) != FACTO_OK)
        goto done;
    if (!stats->per_item && ne > 1) {
        qsort(e, (size_t)ne, sizeof *e, fct_prop_cmp);
        for (int64_t x = 1; x < ne; x++)
            if (e[x].user == e[x - 1].user && e[x].item == e[x - 1].item) {
                st = fct_fail(ctx, FACTO_ERR_PARSE,
                              "%s:%lld: a second propensity for user '%s', item '%s' (the first is on line %lld)",
                              path, (long long)e[x].line, facto_idmap_name(ds->user_map, e[x].user),
                              facto_idmap_name(ds->item_map, e[x].item), (long long)e[x - 1].line);
                goto done;
            }
    }
    /* Merge-join: ratings are by user, items ascending; so are the entries. */
    int64_t used = 0, x = 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        for (int64_t j = ds->row_ptr[u]; j < ds->row_ptr[u + 1]; j++) {
            int32_t it = ds->items[j];
            float p = 0.0f;
            int64_t line = 0;
            if (stats->per_item) {
                p = item_p[it];
                line = item_line[it];
            } else {
                while (x < ne && (e[x].user < u || (e[x].user == u && e[x].item < it)))
                    x++;
                if (x < ne && e[x].user == u && e[x].item == it) {
                    line = e[x].line;
                    p = e[x++].p;
                    used++;
                }
            }
            if (!(p > 0.0f)) {
                stats->missing = j;
                char hint[260] = "";
                if (header_line)
                    snprintf(hint, sizeof hint, "; line %lld was taken for a header, as its last column '%s' is "
                             "not a number", (long long)header_line, header);
                st = fct_fail(ctx, FACTO_ERR_NOT_FOUND, "%s: no propensity for the rating of user '%s', item '%s'%s%s",
                              path, facto_idmap_name(ds->user_map, u), facto_idmap_name(ds->item_map, it),
                              stats->per_item ? " (the file gives propensities per item)" : "", hint);
                goto done;
            }
            double inv = 1.0 / (double)p;
            if (max_weight > 0.0 && inv > max_weight) {
                inv = max_weight;
                stats->n_clipped++;
            }
            if (!(inv <= FLT_MAX)) { /* p below 1 / FLT_MAX: the weight would be inf */
                st = fct_fail(ctx, FACTO_ERR_PARSE,
                              "%s:%lld: propensity below %.6g (1 / the largest float): its weight 1 / p is beyond "
                              "a float's range; clip the weights (--max-ips-weight) or raise p",
                              path, (long long)line, 1.0 / FLT_MAX);
                goto done;
            }
            w[j] = (float)inv;
        }
    if (!stats->per_item)
        stats->n_unused += ne - used;
    *weights = w;
    w = NULL;
    st = fct_ok(ctx);
done:
    free(w);
    free(item_p);
    free(item_line);
    free(e);
    return st;
}
