/*
 * ranking.c — full-ranking metrics of one user, summed over users (see
 * ranking.h and docs/metrics.md for the definitions). Item a outranks item
 * b when its score is higher, or equal with a lower item index (NaN counts
 * as the lowest score): the order top-N uses, so hits in the top list and
 * ranks in the full list agree. MRR and AUC walk every candidate once with
 * a binary search among the user's relevant items: O(n_items log t).
 */
#include "ranking.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    fct_rank_kind kind;
    int has_k;
} fct_rank_names[] = {
    {"precision", FCT_RANK_PRECISION, 1}, {"recall", FCT_RANK_RECALL, 1}, {"ndcg", FCT_RANK_NDCG, 1},
    {"map", FCT_RANK_MAP, 1},             {"hr", FCT_RANK_HR, 1},         {"mrr", FCT_RANK_MRR, 0},
    {"auc", FCT_RANK_AUC, 0},             {"coverage", FCT_RANK_COVERAGE, 1},
};
#define FCT_N_RANK_NAMES ((int)(sizeof fct_rank_names / sizeof fct_rank_names[0]))

facto_status fct_rank_parse(facto_ctx *ctx, const char *text, fct_rank_metric *out, int *n)
{
    *n = 0;
    const char *s = text;
    while (s && *s) {
        size_t len = strcspn(s, ",");
        char item[48];
        if (len == 0 || len >= sizeof item)
            return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: '%.*s' is not a metric (e.g. ndcg@10, recall@20, mrr)",
                            (int)len, s);
        memcpy(item, s, len);
        item[len] = '\0';
        char *at = strchr(item, '@');
        int k = 0;
        if (at) {
            char *end = NULL;
            long v = strtol(at + 1, &end, 10);
            if (end == at + 1 || *end != '\0' || v < 1 || v > 100000)
                return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: '%s': the cut-off must be an integer in 1..100000",
                                item);
            *at = '\0';
            k = (int)v;
        }
        int found = -1;
        for (int i = 0; i < FCT_N_RANK_NAMES; i++)
            if (strcmp(item, fct_rank_names[i].name) == 0)
                found = i;
        if (found < 0)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "metrics: '%s' is unknown (precision@k, recall@k, ndcg@k, map@k, hr@k, mrr, auc, "
                            "coverage@k)",
                            item);
        if (fct_rank_names[found].has_k != (k > 0))
            return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: %s %s", fct_rank_names[found].name,
                            fct_rank_names[found].has_k ? "needs a cut-off (@k)" : "takes no cut-off");
        fct_rank_metric m = {fct_rank_names[found].kind, k};
        for (int i = 0; i < *n; i++)
            if (out[i].kind == m.kind && out[i].k == m.k)
                return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: %.*s is given twice", (int)len, s);
        if (*n >= FCT_RANK_MAX_METRICS)
            return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: at most %d at once", FCT_RANK_MAX_METRICS);
        out[(*n)++] = m;
        s += len;
        if (*s == ',')
            s++;
    }
    if (*n == 0)
        return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: none given");
    return FACTO_OK;
}

facto_status facto_ranking_metrics_check(facto_ctx *ctx, const char *metrics)
{
    fct_rank_metric m[FCT_RANK_MAX_METRICS];
    int n = 0;
    if (!metrics)
        return fct_fail(ctx, FACTO_ERR_INVALID, "metrics: none given");
    facto_status st = fct_rank_parse(ctx, metrics, m, &n);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

void fct_rank_name(const fct_rank_metric *m, char *buf, size_t size)
{
    const char *name = "?";
    for (int i = 0; i < FCT_N_RANK_NAMES; i++)
        if (fct_rank_names[i].kind == m->kind)
            name = fct_rank_names[i].name;
    if (m->k > 0)
        snprintf(buf, size, "%s@%d", name, m->k);
    else
        snprintf(buf, size, "%s", name);
}

int fct_rank_max_k(const fct_rank_metric *m, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k = m[i].k > k ? m[i].k : k;
    return k;
}

facto_status fct_rank_acc_init(facto_ctx *ctx, fct_rank_acc *acc, const fct_rank_metric *metrics, int n,
                               int32_t n_items)
{
    memset(acc, 0, sizeof *acc);
    acc->n_metrics = n;
    acc->n_items = n_items;
    memcpy(acc->metric, metrics, (size_t)n * sizeof *metrics);
    for (int i = 0; i < n; i++)
        if (metrics[i].kind == FCT_RANK_COVERAGE)
            acc->coverage_k = metrics[i].k;
    if (acc->coverage_k > 0) {
        acc->covered = fct_calloc_array((size_t)(n_items > 0 ? n_items : 1), 1);
        if (!acc->covered)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for coverage of %d items", n_items);
    }
    return FACTO_OK;
}

void fct_rank_acc_free(fct_rank_acc *acc)
{
    free(acc->covered);
    acc->covered = NULL;
}

/* 1 when a outranks b. */
static inline int fct_beats(float sa, int32_t a, float sb, int32_t b)
{
    double x = isnan(sa) ? -INFINITY : sa, y = isnan(sb) ? -INFINITY : sb;
    return x > y || (x == y && a < b);
}

static int fct_in_sorted(const int32_t *a, int64_t n, int32_t v)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == v;
}

/* Relevant items sorted best first (insertion sort: t is small; a heap sort
 * would do for long lists, but t is a user's test items). */
static void fct_sort_by_rank(int32_t *r, int64_t n, const float *scores)
{
    for (int64_t i = 1; i < n; i++) {
        int32_t v = r[i];
        int64_t j = i;
        while (j > 0 && fct_beats(scores[v], v, scores[r[j - 1]], r[j - 1])) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = v;
    }
}

/* Scale of the fixed-point sums (fct_rank_acc.sum): every value is in [0, 1]. */
#define FCT_RANK_FIXED 4503599627370496.0 /* 2^52 */

static void fct_fixed_add(uint64_t *lo, uint64_t *hi, uint64_t add_lo, uint64_t add_hi)
{
    uint64_t s = *lo + add_lo;
    *hi += add_hi + (s < add_lo);
    *lo = s;
}

/* The fixed-point sum as a value. */
static double fct_fixed_value(uint64_t lo, uint64_t hi)
{
    return ((double)hi * 18446744073709551616.0 + (double)lo) / FCT_RANK_FIXED;
}

/* MRR and AUC of one user: one pass over the candidates. */
static void fct_rank_full(const float *scores, int32_t n_items, const int32_t *excluded, int64_t n_excluded,
                          const int32_t *rel_sorted, const int32_t *relevant, int64_t p, double *mrr, double *auc,
                          int *has_auc)
{
    int64_t above_best = 0, negatives = 0;
    double correct = 0.0;
    int32_t best = rel_sorted[0];
    const int32_t *ex = excluded, *ex_end = excluded ? excluded + n_excluded : NULL;
    for (int32_t c = 0; c < n_items; c++) {
        while (ex < ex_end && *ex < c)
            ex++;
        if ((ex < ex_end && *ex == c) || fct_in_sorted(relevant, p, c))
            continue;
        negatives++;
        if (fct_beats(scores[c], c, scores[best], best))
            above_best++;
        /* relevant items ranked above c: the first position in rel_sorted that c beats */
        int64_t lo = 0, hi = p;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (fct_beats(scores[rel_sorted[mid]], rel_sorted[mid], scores[c], c))
                lo = mid + 1;
            else
                hi = mid;
        }
        correct += (double)lo;
    }
    *mrr = 1.0 / (double)(above_best + 1);
    *has_auc = negatives > 0;
    *auc = negatives > 0 ? correct / ((double)p * (double)negatives) : NAN;
}

void fct_rank_acc_user(fct_rank_acc *acc, const int32_t *top, int n_top, const float *scores,
                       const int32_t *excluded, int64_t n_excluded, const int32_t *relevant, int64_t n_relevant,
                       int64_t n_unranked)
{
    const int64_t t = n_relevant + n_unranked;
    double mrr = 0.0, auc = NAN;
    int has_auc = 0, need_full = 0;
    for (int m = 0; m < acc->n_metrics; m++)
        need_full |= acc->metric[m].kind == FCT_RANK_MRR || acc->metric[m].kind == FCT_RANK_AUC;
    if (need_full && n_relevant > 0) {
        int32_t small[64], *rs = n_relevant <= 64 ? small : fct_malloc_array((size_t)n_relevant, sizeof *rs);
        if (rs) {
            memcpy(rs, relevant, (size_t)n_relevant * sizeof *rs);
            fct_sort_by_rank(rs, n_relevant, scores);
            fct_rank_full(scores, acc->n_items, excluded, n_excluded, rs, relevant, n_relevant, &mrr, &auc, &has_auc);
            if (rs != small)
                free(rs);
        }
    }
    for (int m = 0; m < acc->n_metrics; m++) {
        const fct_rank_metric *mt = &acc->metric[m];
        int k = mt->k < n_top ? mt->k : n_top;
        int64_t denom = t < mt->k ? t : mt->k;
        double hits = 0.0, dcg = 0.0, idcg = 0.0, ap = 0.0;
        for (int r = 0; r < k && mt->k > 0; r++) {
            if (!fct_in_sorted(relevant, n_relevant, top[r]))
                continue;
            hits += 1.0;
            dcg += 1.0 / log2((double)r + 2.0);
            ap += hits / (double)(r + 1);
        }
        for (int64_t r = 0; r < denom; r++)
            idcg += 1.0 / log2((double)r + 2.0);
        double v = 0.0;
        switch (mt->kind) {
        case FCT_RANK_PRECISION: v = hits / (double)mt->k; break;
        case FCT_RANK_RECALL: v = denom > 0 ? hits / (double)denom : 0.0; break;
        case FCT_RANK_NDCG: v = idcg > 0.0 ? dcg / idcg : 0.0; break;
        case FCT_RANK_MAP: v = denom > 0 ? ap / (double)denom : 0.0; break;
        case FCT_RANK_HR: v = hits > 0.0 ? 1.0 : 0.0; break;
        case FCT_RANK_MRR: v = mrr; break;
        case FCT_RANK_AUC: v = has_auc ? auc : 0.0; break;
        case FCT_RANK_COVERAGE: v = 0.0; break;
        }
        fct_fixed_add(&acc->sum[m].lo, &acc->sum[m].hi, (uint64_t)llround(v * FCT_RANK_FIXED), 0);
    }
    if (acc->covered)
        for (int r = 0; r < n_top && r < acc->coverage_k; r++)
            acc->covered[top[r]] = 1;
    acc->n_users++;
    acc->n_auc_users += has_auc;
}

void fct_rank_acc_merge(fct_rank_acc *a, const fct_rank_acc *b)
{
    for (int m = 0; m < a->n_metrics; m++)
        fct_fixed_add(&a->sum[m].lo, &a->sum[m].hi, b->sum[m].lo, b->sum[m].hi);
    a->n_users += b->n_users;
    a->n_auc_users += b->n_auc_users;
    if (a->covered && b->covered)
        for (int32_t i = 0; i < a->n_items; i++)
            a->covered[i] |= b->covered[i];
}

void fct_rank_acc_finish(const fct_rank_acc *acc, facto_metrics *out)
{
    out->n_ranking = acc->n_metrics;
    out->n_users = acc->n_users;
    for (int m = 0; m < acc->n_metrics; m++) {
        const fct_rank_metric *mt = &acc->metric[m];
        facto_ranking_value *v = &out->ranking[m];
        fct_rank_name(mt, v->name, sizeof v->name);
        if (mt->kind == FCT_RANK_COVERAGE) {
            int64_t c = 0;
            for (int32_t i = 0; acc->covered && i < acc->n_items; i++)
                c += acc->covered[i];
            v->value = acc->n_items > 0 ? (double)c / (double)acc->n_items : NAN;
        } else if (mt->kind == FCT_RANK_AUC) {
            v->value = acc->n_auc_users > 0 ? fct_fixed_value(acc->sum[m].lo, acc->sum[m].hi) / (double)acc->n_auc_users : NAN;
        } else {
            v->value = acc->n_users > 0 ? fct_fixed_value(acc->sum[m].lo, acc->sum[m].hi) / (double)acc->n_users : NAN;
        }
    }
}
