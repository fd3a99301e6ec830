/*
 * evaluate.c — accuracy of any model through the model interface: on a
 * rating data set (ids matched to the model's by string, one score() call
 * per test user) or on labelled feature rows. Regressors get RMSE and MAE
 * (sums in double); binary classifiers SageMaker's classifier metrics at
 * threshold 0.5 (src/metrics/classify.c). Cost O(n num_factors) to score,
 * plus O(n log n) for a classifier's AUC.
 */
#include "models/model.h"

#include "data/dataset.h"
#include "data/rows.h"

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

facto_status facto_model_evaluate(facto_ctx *ctx, const facto_model *model, const facto_dataset *test,
                                  const facto_eval_options *opts, facto_metrics *out, float *scores)
{
    if (!model || !test || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "evaluate needs a model, a data set and out");
    facto_eval_options def = facto_eval_options_default();
    if (!opts)
        opts = &def;
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
    if (st == FACTO_OK) {
        fct_err_acc acc = {0, 0, 0};
        float *s = scores ? scores : own;
        st = fct_model_score_dataset(ctx, model, test, umap, imap, s, task == FACTO_TASK_BINARY ? NULL : &acc,
                                     &out->n_unknown_users, &out->n_unknown_items);
        if (st == FACTO_OK && task == FACTO_TASK_BINARY)
            st = fct_eval_scores(ctx, task, labels, s, test->n_ratings, out);
        else if (st == FACTO_OK)
            fct_metrics_set_errors(out, &acc);
    }
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
    if (st == FACTO_OK)
        st = fct_eval_scores(ctx, task, rows->labels, scores, rows->n_rows, out);
    free(scores);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
