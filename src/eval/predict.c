/*
 * predict.c — predictions of any model through the model interface: one
 * (user, item) pair by the data's own ids, or every row of a feature-row
 * matrix. The unknown-id flags are the driver's (an id the model's map does
 * not hold); the fallback score is the model's. Cost: one score() call per
 * pair or row, O(num_factors) or O(nnz(row) num_factors).
 */
#include "models/model.h"

#include "data/rows.h"

#include <stdio.h>
#include <string.h>

facto_status facto_model_predict(facto_ctx *ctx, const facto_model *model, const char *user, const char *item,
                                 float *score, int *flags)
{
    if (!model)
        return fct_fail(ctx, FACTO_ERR_INVALID, "predict: a model must be given");
    const facto_idmap *users = facto_model_users(model), *items = facto_model_items(model);
    if (!users || !items)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained on feature rows: it scores feature rows, not (user, item) ids",
                        model->ops->name);
    if (!user || !item || !score)
        return fct_fail(ctx, FACTO_ERR_INVALID, "predict: user, item and score must not be NULL");
    int32_t u = facto_idmap_find(users, user), i = facto_idmap_find(items, item);
    fct_query q = fct_query_user(u);
    facto_status st = model->ops->score(ctx, model, &q, &i, 1, FCT_SCORE_PREDICT, score);
    if (st != FACTO_OK)
        return st;
    if (flags)
        *flags = (u < 0 ? FACTO_PRED_UNKNOWN_USER : 0) | (i < 0 ? FACTO_PRED_UNKNOWN_ITEM : 0);
    return fct_ok(ctx);
}

facto_status facto_model_predict_rows(facto_ctx *ctx, const facto_model *model, const facto_rows *rows,
                                      float *scores, float *predicted_labels)
{
    if (!model)
        return fct_fail(ctx, FACTO_ERR_INVALID, "predict: a model must be given");
    if (!(model->ops->inputs(model) & FACTO_INPUT_ROWS))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained from ratings: it predicts (user, item) pairs by id "
                        "(facto predict --input PAIRS, facto eval --test RATINGS), not feature rows",
                        model->ops->name);
    if (!rows || (!scores && rows->n_rows > 0))
        return fct_fail(ctx, FACTO_ERR_INVALID, "predict: rows and scores must be given");
    for (int64_t r = 0; r < rows->n_rows; r++) {
        int64_t b = rows->row_ptr[r];
        fct_query q = {-1, 0, NULL, NULL, rows->row_ptr[r + 1] - b, rows->keys + b, rows->values + b};
        facto_status st = model->ops->score(ctx, model, &q, NULL, 1, FCT_SCORE_PREDICT, scores + r);
        if (st != FACTO_OK) {
            char msg[FACTO_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
            return fct_fail(ctx, st, "row %lld: %s", (long long)r + 1, msg);
        }
    }
    int binary = model->ops->task(model) == FACTO_TASK_BINARY;
    if (predicted_labels)
        for (int64_t r = 0; r < rows->n_rows; r++)
            predicted_labels[r] = binary ? (scores[r] >= 0.5f ? 1.0f : 0.0f) : scores[r];
    return fct_ok(ctx);
}
