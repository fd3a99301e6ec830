/*
 * fm_als.c — alternating least squares / coordinate descent for
 * factorization machines (Rendle, "Factorization Machines with libFM", ACM
 * TIST 2012, sec. 4.2): every parameter in turn is set to the minimiser of
 *   sum_n (y_n - y^_n)^2 + bias_wd w0^2 + linear_wd |w|^2 + factors_wd |V|^2
 * with the others fixed, which is closed-form because y^ is linear in each
 * parameter. It is the MCMC sweep with the draws replaced by conditional
 * modes and fixed precisions, so both share one engine (fm_cd_engine.c,
 * fm_cd_sweep.c, driven by fm_mcmc.c); each sweep costs O(k (nnz + n)) and
 * can never increase the objective above.
 */
#include "fm_mcmc.h"
#include "fm_solvers.h"

#include <string.h>

facto_status fct_fm_fit_als(facto_ctx *ctx, fct_fm_model *model, const facto_rows *train,
                              const uint32_t *train_slots, const facto_rows *test, const uint32_t *test_slots,
                              const fct_fm_callbacks *callbacks)
{
    return fct_fm_cd_run_rows(ctx, model, FACTO_FM_CD_ALS, train, train_slots, test, test_slots, callbacks, NULL);
}

facto_status fct_fm_als_objective(facto_ctx *ctx, const fct_fm_model *m, const fct_fm_data *d,
                                    const uint32_t *const *slots, double *objective)
{
    if (!d->direct || !d->direct->labels)
        return fct_fail(ctx, FACTO_ERR_INVALID, "rows have no labels");
    double *pred = fct_malloc_array(d->n_rows ? (size_t)d->n_rows : 1, sizeof *pred);
    if (!pred)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld predictions", (long long)d->n_rows);
    facto_status st = fct_fm_blocks_predict_raw(ctx, m, d, slots, pred);
    if (st != FACTO_OK) {
        free(pred);
        return st;
    }
    int classify = m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    double sse = 0.0, ww = 0.0, vv = 0.0;
    for (int64_t n = 0; n < d->n_rows; n++) {
        double y = d->direct->labels[n];
        if (classify)
            y = y > 0.0 ? 1.0 : -1.0;
        double e = pred[n] - y;
        sse += e * e;
    }
    for (int64_t s = 0; s < m->n_slots; s++) {
        ww += (double)m->w[s] * m->w[s];
        for (int32_t f = 0; f < m->k; f++)
            vv += (double)m->V[s * m->k + f] * m->V[s * m->k + f];
    }
    free(pred);
    *objective = sse + (double)m->params.bias_wd * m->w0 * m->w0 + (double)m->params.linear_wd * ww +
                 (double)m->params.factors_wd * vv;
    return FACTO_OK;
}
