/*
 * fit_ials.c — the training driver of `ials`. Objective, over every (user,
 * item) pair of the training data's users and items (S the observed pairs,
 * w_ui their weights, U [n_users, k], V [n_items, k]):
 *
 *   L(U, V) = sum_{(u,i) in S} c_ui (1 - <U_u, V_i>)^2
 *           + alpha_0 sum_{(u,i) not in S} <U_u, V_i>^2
 *           + sum_u lambda (|I_u| + alpha_0 n_items)^nu |U_u|^2
 *           + sum_i lambda (|U_i| + alpha_0 n_users)^nu |V_i|^2,
 *   c_ui = 1 + alpha w_ui
 *
 * (Hu, Koren & Volinsky 2008 with alpha_0 = 1 and nu = 0; the unobserved
 * weight alpha_0 and the frequency-scaled L2 exponent nu are Rendle et al.
 * 2022's). Each iteration re-solves every item vector with U fixed, then
 * every user vector with V fixed (so the final U is optimal for the final
 * V, as a fold-in of a training user's history is), each row by cg_steps
 * warm-started conjugate gradient steps, or exactly (cg_steps 0), through
 * src/solvers/ials_cg.c. Factors start as N(0, init_std^2 / k), U then V,
 * from the seed; the result has the same bits for any thread count. The
 * epoch report carries the seconds of the two half-iterations and, when an
 * epoch callback is set, L / |S| after the iteration (one extra pass over
 * the training pairs, timed apart). Cost per iteration: O(nnz k
 * (cg_steps + 1) + (n_users + n_items) k^2 (cg_steps + 1)).
 */
#include "solvers/ials_cg.h"
#include "train.h"

#include "data/dataset.h"
#include "metrics/metrics.h"
#include "models/ials.h"

#include <math.h>
#include <string.h>

/* The item-major copy of the training pairs: ptr [n_items + 1], users and
 * weights in user order within each item. */
typedef struct fct_ials_transpose {
    int64_t *ptr;
    int32_t *users;
    float *val;
} fct_ials_transpose;

static facto_status fct_ials_transpose_build(facto_ctx *ctx, const facto_dataset *d, fct_ials_transpose *t)
{
    const int64_t nnz = d->n_ratings;
    t->ptr = fct_calloc_array((size_t)d->n_items + 1, sizeof *t->ptr);
    t->users = fct_malloc_array((size_t)(nnz > 0 ? nnz : 1), sizeof *t->users);
    t->val = fct_malloc_array((size_t)(nnz > 0 ? nnz : 1), sizeof *t->val);
    int64_t *next = fct_malloc_array((size_t)d->n_items + 1, sizeof *next);
    if (!t->ptr || !t->users || !t->val || !next) {
        free(next);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "ials: out of memory transposing %lld interactions", (long long)nnz);
    }
    for (int64_t x = 0; x < nnz; x++)
        t->ptr[d->items[x] + 1]++;
    for (int32_t i = 0; i < d->n_items; i++)
        t->ptr[i + 1] += t->ptr[i];
    memcpy(next, t->ptr, ((size_t)d->n_items + 1) * sizeof *next);
    for (int32_t u = 0; u < d->n_users; u++)
        for (int64_t x = d->row_ptr[u]; x < d->row_ptr[u + 1]; x++) {
            int64_t at = next[d->items[x]]++;
            t->users[at] = u;
            t->val[at] = d->ratings[x];
        }
    free(next);
    return FACTO_OK;
}

static void fct_ials_transpose_free(fct_ials_transpose *t)
{
    free(t->ptr);
    free(t->users);
    free(t->val);
}

/* Weights must be finite and >= 0, so every confidence is >= 1. */
static facto_status fct_ials_check_weights(facto_ctx *ctx, const facto_dataset *d)
{
    for (int32_t u = 0; u < d->n_users; u++)
        for (int64_t x = d->row_ptr[u]; x < d->row_ptr[u + 1]; x++) {
            float w = d->ratings[x];
            if (!isfinite(w) || w < 0.0f)
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                "ials: the weight of user '%s', item '%s' is %g; interaction weights must be "
                                "finite and >= 0",
                                facto_idmap_name(d->user_map, u), facto_idmap_name(d->item_map, d->items[x]),
                                (double)w);
        }
    return FACTO_OK;
}

facto_status fct_fit_ials(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out)
{
    *out = NULL;
    const facto_dataset *train = data->train;
    if (!train || data->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "ials trains on interactions (facto_fit_data.train), not feature rows");
    const fct_ials_params *p = fct_params_struct(params);
    facto_status st = fct_params_check(ctx, &fct_ials_ptable, p);
    if (st != FACTO_OK)
        return st;
    if (train->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "the training data set holds no interactions");
    st = fct_ials_check_weights(ctx, train);
    if (st != FACTO_OK)
        return st;

    const fct_factors_foldin foldin = {p->alpha, p->unobserved_weight, p->reg, p->reg_exponent};
    fct_factors_model *m = NULL;
    st = fct_factors_create(ctx, &fct_ials_ops, p, train, p->num_factors, 0, &foldin, &m);
    if (st != FACTO_OK)
        return st;
    fct_rng rng;
    fct_rng_seed(&rng, p->seed);
    fct_factors_init_normal(m, &rng, (double)p->init_std / sqrt((double)p->num_factors));
    const char *bad = fct_factors_unusable(m);
    if (bad) {
        st = fct_fail(ctx, FACTO_ERR_DIVERGED, "ials: the initial factors, drawn with standard deviation init_std / "
                      "sqrt(num_factors), are unusable (%s): lower --init_std (now %g)", bad, (double)p->init_std);
        fct_factors_destroy(m);
        return st;
    }

    fct_ials_transpose tr = {NULL, NULL, NULL};
    st = fct_ials_transpose_build(ctx, train, &tr);
    if (st != FACTO_OK)
        goto done;
    const fct_ials_cfg cfg = {p->num_factors, p->alpha, p->unobserved_weight, p->reg, p->reg_exponent,
                              p->cg_steps, fct_threads(ctx)};
    const fct_ials_side items = {m->V, m->n_items, tr.ptr, tr.users, tr.val, m->U, m->n_users};
    const fct_ials_side users = {m->U, m->n_users, train->row_ptr, train->items, train->ratings, m->V, m->n_items};
    const int report = callbacks && callbacks->on_epoch;
    for (int it = 1; it <= p->epochs; it++) {
        double t0 = fct_now();
        st = fct_ials_solve_side(ctx, &cfg, &items, NULL);
        if (st == FACTO_OK)
            st = fct_ials_solve_side(ctx, &cfg, &users, NULL);
        if (st != FACTO_OK)
            goto done;
        double secs = fct_now() - t0;
        bad = fct_factors_unusable(m);
        if (bad) {
            st = fct_ials_diverged(ctx, &cfg, it, bad);
            goto done;
        }
        if (!report)
            continue;
        /* The objective: every user's share with V fixed (one more pass,
         * which leaves U as it is: no CG step, just the loss) plus V's L2. */
        double loss = NAN;
        st = fct_ials_objective(ctx, &cfg, &users, &loss);
        if (st != FACTO_OK)
            goto done;
        loss += fct_ials_reg_term(&cfg, m->V, m->n_items, tr.ptr, m->n_users);
        facto_epoch_report rep;
        memset(&rep, 0, sizeof rep);
        rep.epoch = it;
        rep.epochs = p->epochs;
        fct_metrics_empty(&rep.train, FACTO_TASK_RANKING);
        fct_metrics_empty(&rep.test, FACTO_TASK_RANKING);
        rep.test_rmse_average = NAN;
        rep.seconds = secs;
        rep.samples_per_second = secs > 0.0 ? (double)train->n_ratings / secs : 0.0;
        rep.train_loss = loss / (double)train->n_ratings;
        fct_log(ctx, FACTO_LOG_DEBUG, "ials iteration %d: %.3f s, loss per pair %.6f", it, secs, rep.train_loss);
        if (callbacks->on_epoch(&rep, callbacks->user_data))
            break;
    }
    st = fct_factors_ready(ctx, m);
done:
    fct_ials_transpose_free(&tr);
    if (st != FACTO_OK) {
        fct_factors_destroy(m);
        return st;
    }
    *out = &m->base;
    return fct_ok(ctx);
}
