/*
 * fm_sync.c — synchronous data-parallel mini-batch SGD for factorization
 * machines on feature rows (the scheme of MXNet's and SageMaker's
 * distributed FM with a synchronous kvstore; "Parallelized stochastic
 * gradient descent" in its plainest form). Every rank reads all rows and
 * builds the same model (fct_fm_model_new: same slots, same seeded start),
 * then keeps rows rank, rank + P, ... An epoch has ceil(n_rows /
 * mini_batch_size) mini-batches, as a single process's; in each, every rank
 * scores its share (the batch's fraction of its own rows) of the batch at the parameters before the batch and
 * sums the loss gradients into dense arrays (bias, w [n_slots], V
 * [n_slots, k], and a touched count per slot), one MPI_Allreduce adds them
 * over the ranks, and every rank takes the same lazy optimizer step on the
 * touched slots (fm_sgd.c's rules: rescale_grad, clip_gradient, weight
 * decay, sgd / adam / adagrad / ftrl from optim.h). The ranks' models stay
 * identical, so rank 0's is the result and nothing is gathered. With one
 * rank the model is facto_fm_fit's with the same settings bit for bit
 * (same shuffles, same summation order).
 * Traffic: (1 + n_slots (k + 2)) floats per rank per mini-batch (the
 * sparse gradient sent dense); docs/distributed.md. Cost per rank and
 * epoch O(nnz k / P + n_batches n_slots k).
 */
#include "dist.h"

#include "models/fm.h"
#include "solvers/optim.h"
#include "solvers/loss.h"

#include <math.h>
#include <string.h>

typedef struct fmsync {
    fct_fm_model *m;
    fct_optim o;
    fct_optim_param p[3];
    float lr[3], wd[3];
    fct_optim_rate rate[3];
    float *buf;      /* [1 + n_slots + n_slots k + n_slots + 1]: g0, gw, gV, touched, bad */
    int64_t nbuf;
    int64_t *order;  /* [n_loc] this rank's rows */
    int64_t n_loc;
    float *sum;      /* [k] */
} fmsync;

static void fmsync_free(fmsync *f)
{
    for (int i = 0; i < 3; i++)
        fct_optim_param_free(&f->p[i]);
    free(f->buf);
    free(f->order);
    free(f->sum);
    if (f->m)
        facto_model_free(&f->m->base);
}

facto_status fct_dist_check_fm(facto_ctx *ctx, const facto_params *params, int async, int n_ranks)
{
    const facto_fm_params *q = fct_params_struct(params);
    const char *scheme = async ? "asynchronous mini-batches" : "synchronous mini-batches";
    if (q->solver != FACTO_FM_SOLVER_SGD)
        return fct_fail(ctx, FACTO_ERR_INVALID, "distributed fm trains with solver sgd (%s), not %s", scheme,
                        q->solver == FACTO_FM_SOLVER_ALS ? "als" : "mcmc");
    if (q->average_epochs > 0)
        return fct_fail(ctx, FACTO_ERR_INVALID, "distributed fm does not average epochs: leave average_epochs at 0");
    if (q->mini_batch_size < 2 * (int64_t)n_ranks)
        return fct_fail(ctx, FACTO_ERR_INVALID, "distributed fm needs mini_batch_size >= 2 x ranks (%d): each rank "
                                                "takes its share of every mini-batch", 2 * n_ranks);
    if (async && q->optimizer != FACTO_OPT_SGD)
        return fct_fail(ctx, FACTO_ERR_INVALID, "asynchronous distributed fm pushes plain SGD steps to the owners of "
                                                "the parameters: use --optimizer sgd");
    return FACTO_OK;
}

facto_status fct_dist_fm_prepare(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                 facto_fm_params *qp, fct_fm_model **mp, uint32_t **slotsp)
{
    facto_fm_params q = *(const facto_fm_params *)fct_params_struct(params);
    const facto_rows *train = data->train_rows;
    *mp = NULL;
    *slotsp = NULL;
    facto_status st = FACTO_OK; /* (the settings: fct_dist_check_fm, by facto_dist_fit) */
    if (!train || data->train || data->train_fds)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "distributed fm trains on feature rows (facto_dist_data.train_rows); "
                                              "encode ratings one-hot first");
    if (st == FACTO_OK && q.feature_dim == 0)
        q.feature_dim = facto_rows_dim(train);
    if (st == FACTO_OK)
        st = facto_fm_params_validate(ctx, &q);
    if (st == FACTO_OK && train->n_rows <= 0)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "factorization machine: the training rows are empty");
    if (st == FACTO_OK)
        st = fct_fm_check_labels(ctx, &q, train, "training");
    if (st == FACTO_OK)
        st = fct_fm_model_new(ctx, &q, train, mp);
    if (st == FACTO_OK)
        st = fct_fm_map_rows(ctx, *mp, train, "training", slotsp);
    if (st == FACTO_OK && q.predictor_type == FACTO_FM_REGRESSOR) {
        float lo = train->labels[0], hi = train->labels[0];
        for (int64_t r = 1; r < train->n_rows; r++) {
            lo = train->labels[r] < lo ? train->labels[r] : lo;
            hi = train->labels[r] > hi ? train->labels[r] : hi;
        }
        (*mp)->target_min = lo;
        (*mp)->target_max = hi;
    }
    if (st != FACTO_OK) {
        free(*slotsp);
        *slotsp = NULL;
        if (*mp)
            facto_model_free(&(*mp)->base);
        *mp = NULL;
    }
    *qp = q;
    return st;
}

facto_status fct_dist_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out)
{
    if (data->async)
        return fct_dist_fit_fm_async(ctx, params, data, out);
    int rank = 0, P = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    const facto_rows *train = data->train_rows;
    fmsync f;
    memset(&f, 0, sizeof f);
    facto_fm_params q;
    uint32_t *slots = NULL;
    facto_status st = fct_dist_fm_prepare(ctx, params, data, &q, &f.m, &slots);
    fct_fm_model *m = f.m;
    if (st == FACTO_OK) {
        static const fct_optim_kind kinds[] = {
            [FACTO_OPT_SGD] = FCT_OPTIM_SGD,
            [FACTO_OPT_ADAM] = FCT_OPTIM_ADAM,
            [FACTO_OPT_ADAGRAD] = FCT_OPTIM_ADAGRAD,
            [FACTO_OPT_FTRL] = FCT_OPTIM_FTRL,
        };
        /* fm_sgd.c's optimizer settings */
        fct_optim_init(&f.o, kinds[q.optimizer]);
        f.o.adam_form = FCT_ADAM_RATE;
        f.o.eps = isnan(q.eps) ? 1e-8f : q.eps;
        f.o.rescale = isnan(q.rescale_grad) ? 1.0f / (float)q.mini_batch_size : q.rescale_grad;
        f.o.clip = !isnan(q.clip_gradient) && q.clip_gradient > 0.0f ? q.clip_gradient : 0.0f;
        f.lr[0] = q.bias_lr;
        f.lr[1] = q.linear_lr;
        f.lr[2] = q.factors_lr;
        f.wd[0] = q.bias_wd;
        f.wd[1] = q.linear_wd;
        f.wd[2] = q.factors_wd;
        f.nbuf = 1 + m->n_slots * ((int64_t)m->k + 2) + 1;
        f.n_loc = (train->n_rows - rank + P - 1) / P;
        f.buf = fct_malloc_array((size_t)f.nbuf, sizeof *f.buf);
        f.order = fct_malloc_array((size_t)f.n_loc + 1, sizeof *f.order);
        f.sum = fct_malloc_array((size_t)m->k, sizeof *f.sum);
        if (fct_optim_param_init(&f.p[0], &f.o, &m->w0, 1, 1) != 0 ||
            fct_optim_param_init(&f.p[1], &f.o, m->w, m->n_slots, 1) != 0 ||
            fct_optim_param_init(&f.p[2], &f.o, m->V, m->n_slots, m->k) != 0 || !f.buf || !f.order || !f.sum)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for training buffers");
        else if (f.nbuf > INT32_MAX)
            st = fct_fail(ctx, FACTO_ERR_INVALID, "distributed fm sends the gradient dense: n_slots x (k + 2) "
                                                  "must stay below 2^31 (lower num_factors or feature_dim)");
    }
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;

    const int32_t k = m->k;
    const fct_loss_kind kind = q.predictor_type == FACTO_FM_BINARY_CLASSIFIER ? FCT_LOSS_LOGISTIC : FCT_LOSS_SQUARED;
    const int64_t N = train->n_rows, B = q.mini_batch_size < N ? q.mini_batch_size : N, nb = (N + B - 1) / B;
    float *g0 = f.buf, *gw = f.buf + 1, *gV = gw + m->n_slots, *touched = gV + m->n_slots * k,
          *bad = touched + m->n_slots;
    for (int64_t x = 0; x < f.n_loc; x++)
        f.order[x] = rank + x * P;
    fct_rng rng;
    fct_rng_seed(&rng, rank == 0 ? q.seed ^ 0x5bd1e995u : q.seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(rank + 1)));
    int stop = 0;
    for (int epoch = 1; epoch <= q.epochs && !stop; epoch++) {
        fct_rng_shuffle_i64(&rng, f.order, f.n_loc);
        double t0 = MPI_Wtime(), se = 0.0;
        int64_t bytes0 = fct_dist_bytes;
        for (int64_t bi = 0; bi < nb; bi++) {
            /* batch bi holds positions [bi B, (bi + 1) B) of an epoch of N rows; this
             * rank's share is the same fraction of its own n_loc rows */
            const int64_t e = (bi + 1) * B < N ? (bi + 1) * B : N;
            const int64_t i0 = f.n_loc * (bi * B) / N, i1 = f.n_loc * e / N;
            memset(f.buf, 0, (size_t)f.nbuf * sizeof *f.buf);
            float g0sum = 0.0f;
            for (int64_t i = i0; i < i1 && *bad == 0.0f; i++) {
                const int64_t r = f.order[i], b = train->row_ptr[r], n = train->row_ptr[r + 1] - b;
                const uint32_t *sl = slots + b;
                const float *xs = train->values + b;
                const double y = fct_fm_row_raw(m, m->w, m->V, m->w0, sl, xs, n, f.sum);
                const float label = fct_fm_label(m, train->labels[r]);
                const fct_loss_value l = fct_loss_point(kind, y, label);
                if (!isfinite(l.loss) || !isfinite(l.dscore)) {
                    *bad = 1.0f;
                    break;
                }
                const float score = kind == FCT_LOSS_LOGISTIC ? (float)l.pred : (float)fct_fm_clip(m, y);
                se += (double)(score - label) * (score - label);
                const float g = (float)l.dscore;
                g0sum += g;
                for (int64_t j = 0; j < n; j++) {
                    const uint32_t s = sl[j];
                    if (s == FACTO_FM_NO_SLOT)
                        continue;
                    const float x = xs[j], gx = g * x;
                    gw[s] += gx;
                    touched[s] = 1.0f;
                    const float *v = m->V + (int64_t)s * k;
                    float *gv = gV + (int64_t)s * k;
                    for (int32_t c = 0; c < k; c++)
                        gv[c] += gx * (f.sum[c] - v[c] * x);
                }
            }
            *g0 = g0sum;
            if (P > 1) {
                MPI_Allreduce(MPI_IN_PLACE, f.buf, (int)f.nbuf, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
                fct_dist_count(f.nbuf * 4);
            }
            if (*bad != 0.0f) {
                st = fct_fail(ctx, FACTO_ERR_DIVERGED, "training diverged in epoch %d, mini-batch %lld: the loss is "
                              "not finite; lower factors_lr (now %g), linear_lr (%g) or bias_lr (%g), or set "
                              "clip_gradient", epoch, (long long)bi + 1, (double)f.lr[2], (double)f.lr[1],
                              (double)f.lr[0]);
                goto done;
            }
            fct_optim_tick(&f.o);
            for (int i = 0; i < 3; i++)
                f.rate[i] = fct_optim_rate_of(&f.o, f.o.clock, f.lr[i], f.wd[i]);
            fct_optim_step1(&f.o, &f.rate[0], &f.p[0], 0, *g0);
            for (int64_t s = 0; s < m->n_slots; s++)
                if (touched[s] != 0.0f) {
                    fct_optim_step1(&f.o, &f.rate[1], &f.p[1], s, gw[s]);
                    fct_optim_step(&f.o, &f.rate[2], &f.p[2], s, gV + s * k);
                }
        }
        double se_all = se;
        if (P > 1) {
            MPI_Allreduce(&se, &se_all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            fct_dist_count(8);
        }
        double secs = MPI_Wtime() - t0;
        int64_t bytes = fct_dist_bytes_all(bytes0);
        if (!isfinite(m->w0)) {
            st = fct_fail(ctx, FACTO_ERR_DIVERGED, "training diverged in epoch %d: the bias is not finite; lower "
                                                   "bias_lr (now %g)", epoch, (double)f.lr[0]);
            goto done;
        }
        if (rank == 0 && data->on_epoch) {
            facto_dist_report rep = {epoch, q.epochs, sqrt(se_all / (double)N), secs,
                                     secs > 0.0 ? (double)N / secs : 0.0, bytes, NAN};
            stop = data->on_epoch(&rep, data->user_data) != 0;
        }
        MPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
        fct_dist_count(rank == 0 ? 4 * (P - 1) : 0);
        for (int i = 0; i < 3; i++)
            f.lr[i] *= q.lr_decay;
    }
    st = fct_fm_zero_unseen(ctx, m, train, slots);
    if ((st = fct_dist_agree(ctx, st)) == FACTO_OK && rank == 0) {
        *out = &m->base;
        f.m = NULL;
    }
done:
    free(slots);
    fmsync_free(&f);
    return st;
}
