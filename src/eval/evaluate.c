/*
 * evaluate.c — accuracy of any model through the model interface: on a
 * rating data set (ids matched to the model's by string, one score() call
 * per test user) or on labelled feature rows. Regressors get RMSE and MAE
 * (sums in double); binary classifiers SageMaker's classifier metrics at
 * threshold 0.5 (src/metrics/classify.c); ranking metrics
 * (src/metrics/ranking.c) rank every item but a test user's training ones,
 * users scored in blocks as top-N does (scoring.c), a user the model never
 * saw folded in from its history when one is given. Cost O(n num_factors)
 * to score pairs, plus O(n log n) for a classifier's AUC; ranking
 * O(test users x n_items x num_factors).
 */
#include "eval.h"

#include "data/dataset.h"
#include "data/rows.h"
#include "kernels/blas.h"
#include "metrics/ranking.h"
#include "topn.h"

#include <omp.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

facto_eval_options facto_eval_options_default(void)
{
    facto_eval_options o;
    memset(&o, 0, sizeof o);
    return o;
}

/* Labels must be finite, and a classifier's 0/1 or -1/+1 (> 0 is class 1). */
static facto_status fct_check_labels(facto_ctx *ctx, facto_task task, const float *labels, int64_t n)
{
    for (int64_t r = 0; r < n; r++) {
        float y = labels[r];
        if (!isfinite(y))
            return fct_fail(ctx, FACTO_ERR_INVALID, "evaluation row %lld: the label is not a finite number",
                            (long long)r + 1);
        if (task == FACTO_TASK_BINARY && y != 0.0f && y != 1.0f && y != -1.0f)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "evaluation row %lld: label %g is not 0 or 1 (or -1/+1) as binary_classifier needs",
                            (long long)r + 1, (double)y);
    }
    return FACTO_OK;
}

/* Figures of scores [n] against labels [n] for the model's task. */
static facto_status fct_eval_scores(facto_ctx *ctx, facto_task task, const float *labels, const float *scores,
                                    int64_t n, facto_metrics *out)
{
    if (task == FACTO_TASK_BINARY) {
        out->n = n;
        return facto_binary_metrics_compute(ctx, labels, scores, n, 0.5, 1.0, &out->binary);
    }
    fct_err_acc acc = {0, 0, 0};
    for (int64_t r = 0; r < n; r++)
        fct_err_acc_add(&acc, scores[r], labels[r]);
    fct_metrics_set_errors(out, &acc);
    return FACTO_OK;
}


/* ---- ranking metrics ------------------------------------------------------ */

#define FCT_RANK_DEFAULT "ndcg@10,recall@20,precision@10,map@10,mrr,hr@10,auc,coverage@10"

/* What one thread needs to rank users. */
typedef struct fct_rank_work {
    fct_rank_acc acc;
    facto_recommendation *top; /* [kmax] */
    int32_t *relevant;         /* [widest test user] */
    int64_t skipped;
    int32_t *wide;             /* a narrow seen list as int32 (fct_seen_wide) */
    int64_t wide_cap;
    int oom;                   /* a seen list could not be widened */
} fct_rank_work;

/* One user: raw scores [n_items], excluded (training or history) items
 * ascending, the user's test items (model indices, -1 unknown) [n_test]. */
static void fct_rank_one(fct_rank_work *w, int kmax, const float *scores, int32_t n_items, const int32_t *excl,
                         int64_t n_excl, const int32_t *test_items, int64_t n_test)
{
    int64_t n_rel = 0, unranked = 0;
    for (int64_t x = 0; x < n_test; x++) {
        int32_t i = test_items[x];
        if (i < 0) {
            unranked++;
            continue;
        }
        int64_t lo = 0, hi = n_excl; /* is i excluded? */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (excl[mid] < i)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!(lo < n_excl && excl[lo] == i))
            w->relevant[n_rel++] = i;
    }
    if (n_rel + unranked == 0) {
        w->skipped++;
        return;
    }
    /* test items come sorted per user (CSR); mapped indices may not be */
    for (int64_t a = 1; a < n_rel; a++)
        for (int64_t b = a; b > 0 && w->relevant[b - 1] > w->relevant[b]; b--) {
            int32_t t = w->relevant[b];
            w->relevant[b] = w->relevant[b - 1];
            w->relevant[b - 1] = t;
        }
    fct_topk top;
    fct_topk_init(&top, w->top, kmax);
    const int32_t *e = excl, *e_end = excl ? excl + n_excl : NULL;
    for (int32_t i = 0; i < n_items; i++) {
        while (e < e_end && *e < i)
            e++;
        if (e < e_end && *e == i)
            continue;
        fct_topk_offer(&top, i, scores[i]);
    }
    int n_top = fct_topk_finish(&top);
    int32_t items[256], *it = n_top <= 256 ? items : fct_malloc_array((size_t)n_top, sizeof *it);
    if (!it)
        return;
    for (int r = 0; r < n_top; r++)
        it[r] = w->top[r].item;
    fct_rank_acc_user(&w->acc, it, n_top, scores, excl, n_excl, w->relevant, n_rel, unranked);
    if (it != items)
        free(it);
}

/* Users the model knows, in blocks of the scorer. */
static facto_status fct_rank_known(facto_ctx *ctx, const facto_model *model, const facto_dataset *test,
                                   const int32_t *umap, const int32_t *imap_items, fct_rank_work *work, int n_threads,
                                   int kmax)
{
    fct_scorer sc;
    facto_status st = fct_scorer_init(ctx, &sc, model);
    if (st != FACTO_OK)
        return st;
    int32_t *bu = fct_malloc_array((size_t)sc.block, sizeof *bu), *bt = fct_malloc_array((size_t)sc.block, sizeof *bt);
    if (!bu || !bt)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for a block of %d users", sc.block);
    fct_blas_set_threads(n_threads);
    for (int32_t tu = 0; st == FACTO_OK && tu < test->n_users;) {
        int nb = 0;
        for (; tu < test->n_users && nb < sc.block; tu++)
            if (umap[tu] >= 0) {
                bu[nb] = umap[tu];
                bt[nb++] = tu;
            }
        if (nb == 0 || (st = fct_scorer_run(ctx, &sc, bu, nb)) != FACTO_OK)
            continue;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (nb > 1)
        for (int b = 0; b < nb; b++) {
            fct_rank_work *w = &work[omp_get_thread_num()];
            fct_seen_list sl;
            int64_t n_excl = fct_seen_items(model, bu[b], &sl, NULL);
            const int32_t *excl = fct_seen_wide(&sl, n_excl, &w->wide, &w->wide_cap);
            int64_t r0 = test->row_ptr[bt[b]], r1 = test->row_ptr[bt[b] + 1];
            if (n_excl > 0 && !excl)
                w->oom = 1;
            else
                fct_rank_one(w, kmax, fct_scorer_row(&sc, b), sc.n_items, excl, n_excl, imap_items + r0, r1 - r0);
        }
        for (int t = 0; t < n_threads && st == FACTO_OK; t++)
            if (work[t].oom)
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for a user's training items");
    }
    free(bu);
    free(bt);
    fct_scorer_free(&sc);
    return st;
}

/* Users the model never saw: folded in from their items in `history`
 * (those items are then not ranked), else skipped. One user at a time. */
static facto_status fct_rank_unknown(facto_ctx *ctx, const facto_model *model, const facto_dataset *test,
                                     const int32_t *umap, const int32_t *imap_items, const facto_dataset *history,
                                     fct_rank_work *w, int kmax)
{
    int32_t n_items = facto_idmap_size(facto_model_items(model));
    int32_t *hmap = NULL, *hist = NULL;
    float *vals = NULL, *scores = NULL;
    facto_status st = FACTO_OK;
    int64_t width = 0;
    if (history) {
        for (int32_t hu = 0; hu < history->n_users; hu++)
            width = history->row_ptr[hu + 1] - history->row_ptr[hu] > width ? history->row_ptr[hu + 1] - history->row_ptr[hu]
                                                                              : width;
        st = fct_model_map_ids(ctx, history->item_map, facto_model_items(model), &hmap);
        hist = fct_malloc_array((size_t)(width > 0 ? width : 1), sizeof *hist);
        vals = fct_malloc_array((size_t)(width > 0 ? width : 1), sizeof *vals);
        scores = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *scores);
        if (st == FACTO_OK && (!hist || !vals || !scores))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory folding users in");
    }
    for (int32_t tu = 0; st == FACTO_OK && tu < test->n_users; tu++) {
        if (umap[tu] >= 0)
            continue;
        int32_t hu = history ? facto_idmap_find(history->user_map, facto_idmap_name(test->user_map, tu)) : -1;
        if (hu < 0) {
            w->skipped++;
            continue;
        }
        int32_t n = 0;
        for (int64_t e = history->row_ptr[hu]; e < history->row_ptr[hu + 1]; e++)
            if (hmap[history->items[e]] >= 0) {
                hist[n] = hmap[history->items[e]];
                vals[n++] = history->ratings[e];
            }
        /* history items ascending for the exclusion walk (values follow) */
        for (int32_t a = 1; a < n; a++)
            for (int32_t b = a; b > 0 && hist[b - 1] > hist[b]; b--) {
                int32_t t = hist[b];
                float v = vals[b];
                hist[b] = hist[b - 1];
                vals[b] = vals[b - 1];
                hist[b - 1] = t;
                vals[b - 1] = v;
            }
        fct_query q = {-1, n, hist, vals, 0, NULL, NULL};
        if ((st = model->ops->score(ctx, model, &q, NULL, n_items, FCT_SCORE_RAW, scores)) != FACTO_OK)
            break;
        int64_t r0 = test->row_ptr[tu], r1 = test->row_ptr[tu + 1];
        fct_rank_one(w, kmax, scores, n_items, hist, n, imap_items + r0, r1 - r0);
    }
    free(hmap);
    free(hist);
    free(vals);
    free(scores);
    return st;
}

/* Ranking metrics of opts->metrics (or the default list) into out. */
static facto_status fct_eval_ranking(facto_ctx *ctx, const facto_model *model, const facto_dataset *test,
                                     const char *metrics_text, const facto_dataset *history, const int32_t *umap,
                                     const int32_t *imap, facto_metrics *out)
{
    fct_rank_metric metrics[FCT_RANK_MAX_METRICS];
    int n_metrics = 0;
    facto_status st = fct_rank_parse(ctx, metrics_text, metrics, &n_metrics);
    if (st != FACTO_OK)
        return st;
    const int kmax = fct_rank_max_k(metrics, n_metrics) > 0 ? fct_rank_max_k(metrics, n_metrics) : 1;
    const int32_t n_items = facto_idmap_size(facto_model_items(model));
    const int n_threads = fct_threads(ctx);
    int64_t width = 1;
    for (int32_t tu = 0; tu < test->n_users; tu++)
        width = test->row_ptr[tu + 1] - test->row_ptr[tu] > width ? test->row_ptr[tu + 1] - test->row_ptr[tu] : width;
    /* each test rating's item as a model index, in test's CSR order */
    int32_t *items = fct_malloc_array((size_t)(test->n_ratings > 0 ? test->n_ratings : 1), sizeof *items);
    fct_rank_work *work = fct_calloc_array((size_t)n_threads, sizeof *work);
    if (!items || !work)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for ranking metrics");
    for (int64_t e = 0; st == FACTO_OK && e < test->n_ratings; e++)
        items[e] = imap[test->items[e]];
    for (int t = 0; st == FACTO_OK && t < n_threads; t++) {
        st = fct_rank_acc_init(ctx, &work[t].acc, metrics, n_metrics, n_items);
        work[t].top = fct_malloc_array((size_t)kmax, sizeof *work[t].top);
        work[t].relevant = fct_malloc_array((size_t)width, sizeof *work[t].relevant);
        if (st == FACTO_OK && (!work[t].top || !work[t].relevant))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for ranking metrics");
    }
    if (st == FACTO_OK)
        st = fct_rank_known(ctx, model, test, umap, items, work, n_threads, kmax);
    if (st == FACTO_OK)
        st = fct_rank_unknown(ctx, model, test, umap, items, history, &work[0], kmax);
    if (st == FACTO_OK) {
        for (int t = 1; t < n_threads; t++) {
            fct_rank_acc_merge(&work[0].acc, &work[t].acc);
            work[0].skipped += work[t].skipped;
        }
        fct_rank_acc_finish(&work[0].acc, out);
        out->n_users_skipped = work[0].skipped;
    }
    for (int t = 0; work && t < n_threads; t++) {
        fct_rank_acc_free(&work[t].acc);
        free(work[t].top);
        free(work[t].relevant);
        free(work[t].wide);
    }
    free(work);
    free(items);
    return st;
}

facto_status facto_model_evaluate(facto_ctx *ctx, const facto_model *model, const facto_dataset *test,
                                  const facto_eval_options *opts, facto_metrics *out, float *scores)
{
    if (!model || !test || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "evaluate needs a model, a data set and out");
    facto_eval_options def = facto_eval_options_default();
    if (!opts)
        opts = &def;
    {
        facto_status wst = fct_dataset_wide(ctx, opts->history);
        if (wst != FACTO_OK)
            return wst;
    }
    const facto_idmap *users = facto_model_users(model), *items = facto_model_items(model);
    if (!users || !items)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained on feature rows: evaluate it on labelled rows, not ratings",
                        model->ops->name);
    facto_task task = model->ops->task(model);
    fct_metrics_empty(out, task);
    if (test->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "the test data set holds no ratings");
    if (task == FACTO_TASK_BINARY && !(opts->binarize > 0.0f))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "a binary classifier is scored against ratings through a threshold: give the one it was "
                        "trained with (facto_eval_options.binarize, --binarize T)");
    if (task != FACTO_TASK_BINARY && opts->binarize > 0.0f)
        return fct_fail(ctx, FACTO_ERR_INVALID, "binarize is for a binary classifier trained from ratings");
    const char *rank = opts->metrics ? opts->metrics : task == FACTO_TASK_RANKING ? FCT_RANK_DEFAULT : NULL;
    /* Errors of a rating model read each rating once, from the narrow
     * arrays of a .fds data set when it has them; the rest reads wide ones. */
    if (task == FACTO_TASK_BINARY || task == FACTO_TASK_RANKING || rank) {
        facto_status wst = fct_dataset_wide(ctx, test);
        if (wst != FACTO_OK)
            return wst;
    }
    int32_t *umap = NULL, *imap = NULL;
    float *own = NULL, *labels = NULL;
    facto_status st = fct_model_map_ids(ctx, test->user_map, users, &umap);
    if (st == FACTO_OK)
        st = fct_model_map_ids(ctx, test->item_map, items, &imap);
    if (st == FACTO_OK && task == FACTO_TASK_BINARY) {
        size_t n = (size_t)test->n_ratings;
        labels = fct_malloc_array(n, sizeof *labels);
        own = scores ? NULL : fct_malloc_array(n, sizeof *own);
        if (!labels || (!scores && !own))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %zu scores", n);
        for (size_t x = 0; st == FACTO_OK && x < n; x++)
            labels[x] = test->ratings[x] >= opts->binarize ? 1.0f : 0.0f;
    }
    if (st == FACTO_OK && task != FACTO_TASK_RANKING) {
        fct_err_acc acc = {0, 0, 0};
        float *s = scores ? scores : own;
        st = fct_model_score_dataset(ctx, model, test, umap, imap, s, task == FACTO_TASK_BINARY ? NULL : &acc,
                                     &out->n_unknown_users, &out->n_unknown_items);
        if (st == FACTO_OK && task == FACTO_TASK_BINARY)
            st = fct_eval_scores(ctx, task, labels, s, test->n_ratings, out);
        else if (st == FACTO_OK)
            fct_metrics_set_errors(out, &acc);
    } else if (st == FACTO_OK) {
        /* a ranking model has no predictions to compare with the values */
        out->n = test->n_ratings;
        for (int32_t u = 0; u < test->n_users; u++)
            out->n_unknown_users += umap[u] < 0 ? test->row_ptr[u + 1] - test->row_ptr[u] : 0;
        for (int64_t e = 0; e < test->n_ratings; e++)
            out->n_unknown_items += imap[test->items[e]] < 0;
    }
    if (st == FACTO_OK && rank)
        st = fct_eval_ranking(ctx, model, test, rank, opts->history, umap, imap, out);
    free(umap);
    free(imap);
    free(own);
    free(labels);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

facto_status facto_model_evaluate_rows(facto_ctx *ctx, const facto_model *model, const facto_rows *rows,
                                       facto_metrics *out)
{
    if (!model || !rows || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "evaluate needs a model, rows and out");
    facto_task task = model->ops->task(model);
    fct_metrics_empty(out, task);
    if (!(model->ops->inputs(model) & FACTO_INPUT_ROWS))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained from ratings: evaluate it on ratings (by id), not feature rows",
                        model->ops->name);
    if (rows->n_rows <= 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "no rows to evaluate");
    if (!rows->labels)
        return fct_fail(ctx, FACTO_ERR_INVALID, "evaluation rows have no labels");
    facto_status st = fct_check_labels(ctx, task, rows->labels, rows->n_rows);
    if (st != FACTO_OK)
        return st;
    float *scores = fct_malloc_array((size_t)rows->n_rows, sizeof *scores);
    if (!scores)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld scores", (long long)rows->n_rows);
    st = facto_model_predict_rows(ctx, model, rows, scores, NULL);
    if (st != FACTO_OK && strncmp(facto_errmsg(ctx), "row ", 4) == 0) {
        /* "evaluation row N: ...", as the label checks name them */
        char msg[FACTO_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
        st = fct_fail(ctx, st, "evaluation %s", msg);
    }
    if (st == FACTO_OK)
        st = fct_eval_scores(ctx, task, rows->labels, scores, rows->n_rows, out);
    free(scores);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
