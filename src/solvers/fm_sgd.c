/*
 * fm_sgd.c — mini-batch first-order training of factorization machines with
 * SageMaker's semantics: per mini-batch the loss gradient of every row is
 * taken at the parameters before the batch, summed, multiplied by
 * rescale_grad (default 1/mini_batch_size, i.e. the batch mean), clipped
 * element-wise to [-clip_gradient, clip_gradient] (MXNet's rule; <= 0 or
 * unset: no clipping), then weight decay wd*theta is added and the optimizer
 * steps: sgd, adagrad (Duchi et al. 2011), adam (Kingma & Ba 2015, with
 * MXNet's learning-rate form of the bias correction; the default: MXNet's
 * FM example, which SageMaker's eps hints at) or ftrl (McMahan et al. 2013,
 * MXNet's form with lambda1 = 0, beta = 1, wd in the denominator). The
 * optimizers are the optimizer module's (optim.h), lazy: only the slots a
 * batch touches change. Losses (loss.h): regressor squared 1/2 (y^ - y)^2,
 * classifier logistic log(1 + e^{-y^}); d loss / d y^ is (y^ - y) and
 * (sigmoid(y^) - y).
 * Cost O(k * nnz) per epoch; memory O(n_slots * k) optimizer state plus
 * O(mini_batch_size * max row nnz * k) gradient buffers, none per sample.
 * mini_batch_size 1 with optimizer sgd takes a fused, vectorised path
 * (kernels fm_score and fm_sgd, AVX2 when the CPU has it) with no gradient
 * buffers, clip_gradient or not: ~15M samples/s at k = 32 on one-hot
 * ML-100K, one core (clipping costs 15-25%).
 * Rows are visited in a shuffled order, so with many features the loops
 * are memory-bound; the parameters of rows (and slots) a few steps ahead
 * are prefetched.
 * average_epochs N keeps one more copy of the parameters: the running mean
 * of their values at the end of each of the last N epochs (SWA).
 * Steps of fct_fm_fit_sgd: set-up (fct_fm_fit_init), then per epoch a pass
 * (fct_fm_epoch_pass: fused rows, single rows or mini-batches), the
 * average (fct_fm_average_epoch) and the report (fct_fm_epoch_report).
 */
#include "fm_solvers.h"

#include "loss.h"
#include "optim.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Least multiply-adds per mini-batch (B x mean nnz per row x k) for
 * fct_fm_batch_par to run on threads; below it, fct_fm_batch on one. */
double fct_fm_sgd_par_work = 4.0 * 1024 * 1024;

static double fct_fm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- optimizer ------------------------------------------------------------ */

/* The optimizer of a fit over the three parameter groups (0 bias w0,
 * 1 linear w [n_slots], 2 factors V [n_slots, k]), their learning rates
 * (decayed per epoch) and weight decays, and the rates of the current step. */
typedef struct fct_fm_opt {
    fct_optim o;
    fct_optim_param p[3];
    float lr[3], wd[3];
    fct_optim_rate rate[3];
} fct_fm_opt;

static facto_status fct_fm_opt_init(facto_ctx *ctx, fct_fm_opt *fo, fct_fm_model *m)
{
    const facto_fm_params *p = &m->params;
    static const fct_optim_kind kinds[] = {
        [FACTO_OPT_SGD] = FCT_OPTIM_SGD,
        [FACTO_OPT_ADAM] = FCT_OPTIM_ADAM,
        [FACTO_OPT_ADAGRAD] = FCT_OPTIM_ADAGRAD,
        [FACTO_OPT_FTRL] = FCT_OPTIM_FTRL,
    };
    memset(fo, 0, sizeof *fo);
    fct_optim_init(&fo->o, kinds[p->optimizer]);
    fo->o.adam_form = FCT_ADAM_RATE;
    fo->o.eps = isnan(p->eps) ? 1e-8f : p->eps;
    fo->o.rescale = isnan(p->rescale_grad) ? 1.0f / (float)p->mini_batch_size : p->rescale_grad;
    fo->o.clip = !isnan(p->clip_gradient) && p->clip_gradient > 0.0f ? p->clip_gradient : 0.0f;
    fo->lr[0] = p->bias_lr;
    fo->lr[1] = p->linear_lr;
    fo->lr[2] = p->factors_lr;
    fo->wd[0] = p->bias_wd;
    fo->wd[1] = p->linear_wd;
    fo->wd[2] = p->factors_wd;
    if (fct_optim_param_init(&fo->p[0], &fo->o, &m->w0, 1, 1) != 0 ||
        fct_optim_param_init(&fo->p[1], &fo->o, m->w, m->n_slots, 1) != 0 ||
        fct_optim_param_init(&fo->p[2], &fo->o, m->V, m->n_slots, m->k) != 0)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for the %s optimizer state",
                        fct_fm_optimizer_name(p->optimizer));
    return FACTO_OK;
}

static void fct_fm_opt_free(fct_fm_opt *fo)
{
    for (int i = 0; i < 3; i++)
        fct_optim_param_free(&fo->p[i]);
}

/* The rates of the three groups at the optimizer's current clock. */
static void fct_fm_opt_rates(fct_fm_opt *fo)
{
    for (int i = 0; i < 3; i++)
        fo->rate[i] = fct_optim_rate_of(&fo->o, fo->o.clock, fo->lr[i], fo->wd[i]);
}

/* ---- one row's loss ---------------------------------------------------------- */

/* Running figures of an epoch, for the log lines. */
typedef struct fct_fm_running {
    double loss, se;
    int64_t n, correct;
} fct_fm_running;

/* The loss of raw score y; *score: what the model reports (classifier: the
 * probability; regressor: y clipped to the training range). */
static inline fct_loss_value fct_fm_loss(const fct_fm_model *m, fct_loss_kind kind, double y, float label,
                                         float *score)
{
    const fct_loss_value l = fct_loss_point(kind, y, label);
    if (kind == FCT_LOSS_LOGISTIC)
        *score = (float)l.pred;
    else
        *score = (float)fct_fm_clip(m, y);
    return l;
}

/* Score row r (its n slots `sl` and values `xs`), put the loss gradient
 * with respect to the raw score in *gd, keep the score in prog[r] and add
 * the row to *run. Returns 0, or -1 when the loss or gradient is not finite.
 * Shared by the per-row and the mini-batch loops: O(k * n). */
static inline int fct_fm_row_grad(const fct_fm_model *m, fct_loss_kind kind, const facto_rows *train, int64_t r,
                                  const uint32_t *sl, const float *xs, int64_t n, float *sum, float *prog, double *gd,
                                  fct_fm_running *run)
{
    const double y = fct_fm_row_raw(m, m->w, m->V, m->w0, sl, xs, n, sum);
    const float label = train->labels[r];
    const fct_loss_value l = fct_fm_loss(m, kind, y, label, &prog[r]);
    *gd = l.dscore;
    if (!isfinite(l.loss) || !isfinite(l.dscore))
        return -1;
    run->loss += l.loss;
    run->se += (double)(prog[r] - label) * (prog[r] - label);
    run->correct += (prog[r] >= 0.5f) == (label > 0.0f);
    run->n++;
    return 0;
}

/* ---- the state of a fit ------------------------------------------------------ */

typedef struct fct_fm_fit {
    facto_ctx *ctx;
    fct_fm_model *m;
    const facto_rows *train, *test;
    const uint32_t *train_slots, *test_slots;
    fct_loss_kind loss;
    int64_t B, n_batches; /* rows per mini-batch, mini-batches per epoch */
    int fused;            /* B == 1 with optimizer sgd: fct_fm_fused_rows */
    fct_fm_opt opt;
    fct_rng rng;
    int64_t *order;          /* [n_rows] this epoch's order */
    float *sum, *sq, *gtmp;  /* [k + 16] scratch */
    float *prog;             /* [n_rows] progressive (pre-update) scores */
    float *test_scores;      /* [test rows] */
    /* B > 1: local index of each slot in the batch (-1: untouched), the
     * touched slots, and their summed gradients [cap], [cap, k] */
    int32_t *local;
    uint32_t *touched;
    float *gw, *gV;
    /* B > 1 on threads > 1 (fct_fm_batch_par): local, touched, gw and gV
     * one part of cap slots per thread; per batch row its factor sums
     * [B, k], loss gradient, loss, squared error and flags. */
    int nthreads;
    int64_t cap, max_nnz;
    float *rsum, *rg;
    int32_t *rn;     /* [B] entries of each batch row */
    uint32_t *es;    /* [B, max_nnz] each batch row's slots, */
    float *ex;       /* values */
    uint8_t *eo;     /* and the owning thread of each slot */
    double *rloss, *rse;
    uint8_t *rflag;
    /* average_epochs: epochs averaged so far and the running means */
    int n_avg;
    float avg_w0, *avg_w, *avg_V;
} fct_fm_fit;

static void fct_fm_fit_free(fct_fm_fit *f)
{
    fct_fm_opt_free(&f->opt);
    free(f->order);
    fct_aligned_free(f->sum);
    fct_aligned_free(f->sq);
    fct_aligned_free(f->gtmp);
    free(f->prog);
    free(f->test_scores);
    free(f->local);
    free(f->touched);
    free(f->gw);
    fct_aligned_free(f->gV);
    fct_aligned_free(f->rsum);
    free(f->rg);
    free(f->rloss);
    free(f->rse);
    free(f->rflag);
    free(f->rn);
    free(f->es);
    free(f->ex);
    free(f->eo);
    fct_aligned_free(f->avg_w);
    fct_aligned_free(f->avg_V);
}

/* Gradient buffers of a mini-batch (B > 1). */
static facto_status fct_fm_fit_batch_buffers(fct_fm_fit *f)
{
    const fct_fm_model *m = f->m;
    int64_t max_nnz = 0;
    for (int64_t r = 0; r < f->train->n_rows; r++)
        if (f->train->row_ptr[r + 1] - f->train->row_ptr[r] > max_nnz)
            max_nnz = f->train->row_ptr[r + 1] - f->train->row_ptr[r];
    const int64_t cap = f->B * max_nnz < m->n_slots ? f->B * max_nnz : m->n_slots;
    const size_t T = (size_t)f->nthreads, nc = (size_t)(cap ? cap : 1);
    f->cap = (int64_t)nc;
    f->local = fct_malloc_array((size_t)(m->n_slots ? m->n_slots : 1), sizeof(int32_t));
    f->touched = fct_malloc_array(T * nc, sizeof(uint32_t));
    f->gw = fct_malloc_array(T * nc, sizeof(float));
    f->gV = fct_aligned_alloc(T * nc * (size_t)m->k * sizeof(float));
    if (!f->local || !f->touched || !f->gw || !f->gV)
        return fct_fail(f->ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for mini-batch gradients "
                                                 "(lower mini_batch_size)");
    for (int64_t s = 0; s < m->n_slots; s++)
        f->local[s] = -1;
    if (f->nthreads > 1) {
        const size_t B = (size_t)f->B;
        f->rsum = fct_aligned_alloc(B * (size_t)m->k * sizeof(float) + 64);
        f->rg = fct_malloc_array(B, sizeof(float));
        f->rloss = fct_malloc_array(B, sizeof(double));
        f->rse = fct_malloc_array(B, sizeof(double));
        f->rflag = fct_malloc_array(B, 1);
        f->max_nnz = max_nnz;
        const size_t ne = B * (size_t)(max_nnz > 0 ? max_nnz : 1);
        f->rn = fct_malloc_array(B, sizeof(int32_t));
        f->es = fct_malloc_array(ne, sizeof(uint32_t));
        f->ex = fct_malloc_array(ne, sizeof(float));
        f->eo = fct_malloc_array(ne, 1);
        if (!f->rsum || !f->rg || !f->rloss || !f->rse || !f->rflag || !f->rn || !f->es || !f->ex || !f->eo)
            return fct_fail(f->ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for mini-batch gradients "
                                                     "(lower mini_batch_size)");
    }
    return FACTO_OK;
}

static facto_status fct_fm_fit_init(fct_fm_fit *f, facto_ctx *ctx, fct_fm_model *m, const facto_rows *train,
                                    const uint32_t *train_slots, const facto_rows *test, const uint32_t *test_slots)
{
    const facto_fm_params *p = &m->params;
    const int64_t n_rows = train->n_rows;
    const size_t kk = (size_t)(m->k + 16) * sizeof(float);
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    f->m = m;
    f->train = train;
    f->test = test;
    f->train_slots = train_slots;
    f->test_slots = test_slots;
    f->loss = p->predictor_type == FACTO_FM_BINARY_CLASSIFIER ? FCT_LOSS_LOGISTIC : FCT_LOSS_SQUARED;
    f->B = p->mini_batch_size < n_rows ? p->mini_batch_size : n_rows;
    f->n_batches = (n_rows + f->B - 1) / f->B;
    f->fused = f->B == 1 && p->optimizer == FACTO_OPT_SGD;
    /* threads only for mini-batches with enough work between two
     * synchronisations (fct_fm_batch_par, fct_fm_sgd_par_work) */
    const double nnz_row = n_rows ? (double)train->row_ptr[n_rows] / (double)n_rows : 0.0;
    f->nthreads = f->B > 1 && (double)f->B * nnz_row * m->k >= fct_fm_sgd_par_work ? fct_threads(ctx) : 1;
    if (f->nthreads > f->B)
        f->nthreads = (int)f->B;
    if (f->nthreads > 255)
        f->nthreads = 255;
    facto_status st = fct_fm_opt_init(ctx, &f->opt, m);
    if (st != FACTO_OK)
        return st;
    f->order = fct_malloc_array((size_t)n_rows, sizeof(int64_t));
    f->sum = fct_aligned_alloc(kk);
    f->sq = fct_aligned_alloc(kk);
    f->gtmp = fct_aligned_alloc(kk);
    f->prog = fct_malloc_array((size_t)n_rows, sizeof(float));
    if (test)
        f->test_scores = fct_malloc_array((size_t)(test->n_rows ? test->n_rows : 1), sizeof(float));
    if (!f->order || !f->sum || !f->sq || !f->gtmp || !f->prog || (test && !f->test_scores))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for training buffers");
    if (f->B > 1 && (st = fct_fm_fit_batch_buffers(f)) != FACTO_OK)
        return st;
    if (p->average_epochs > 0) {
        f->avg_w = fct_aligned_alloc((size_t)(m->n_slots > 0 ? m->n_slots : 1) * sizeof(float));
        f->avg_V = fct_aligned_alloc((size_t)(m->n_slots > 0 ? m->n_slots : 1) * (size_t)m->k * sizeof(float));
        if (!f->avg_w || !f->avg_V)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for average_epochs");
    }
    fct_rng_seed(&f->rng, p->seed ^ 0x5bd1e995u);
    for (int64_t r = 0; r < n_rows; r++)
        f->order[r] = r;
    return FACTO_OK;
}

/* ---- prefetching ----------------------------------------------------------- */

/* Ask for the parameters of row r ahead of time: with many features they
 * are random reads from a large array, and the loop is memory-bound. */
static inline __attribute__((always_inline)) void fct_fm_prefetch_row(const fct_fm_model *m,
                                                                      const facto_rows *rows,
                                                                      const uint32_t *slots, int64_t r,
                                                                      const int32_t *local)
{
    const int64_t b = rows->row_ptr[r], e = rows->row_ptr[r + 1];
    for (int64_t j = b; j < e; j++) {
        const uint32_t s = slots[j];
        if (s == FACTO_FM_NO_SLOT)
            continue;
        if (local)
            __builtin_prefetch(local + s, 1, 3);
        const char *v = (const char *)(m->V + (int64_t)s * m->k);
        for (int64_t off = 0; off < (int64_t)m->k * (int64_t)sizeof(float); off += 64)
            __builtin_prefetch(v + off, 1, 3);
        __builtin_prefetch(m->w + s, 1, 3);
    }
}

/* The row pointers, labels and entries of the rows at order[i + 8] and
 * order[i + 4], and the parameters of the row at order[i + 2]. */
static inline __attribute__((always_inline)) void fct_fm_prefetch_ahead(const fct_fm_fit *f, int64_t i,
                                                                        int64_t i1, const int32_t *local)
{
    const facto_rows *rows = f->train;
    if (i + 8 < i1) {
        const int64_t r8 = f->order[i + 8];
        __builtin_prefetch(rows->row_ptr + r8, 0, 3);
        __builtin_prefetch(rows->labels + r8, 0, 3);
        __builtin_prefetch(f->prog + r8, 1, 3);
    }
    if (i + 4 < i1) {
        const int64_t b4 = rows->row_ptr[f->order[i + 4]];
        __builtin_prefetch(f->train_slots + b4, 0, 3);
        __builtin_prefetch(rows->values + b4, 0, 3);
    }
    if (i + 2 < i1)
        fct_fm_prefetch_row(f->m, rows, f->train_slots, f->order[i + 2], local);
}

/* The same for one slot's optimizer state (and its parameters). */
static inline void fct_fm_prefetch_slot(const fct_fm_opt *fo, const fct_fm_model *m, uint32_t s)
{
    const int64_t bytes = (int64_t)m->k * (int64_t)sizeof(float), at = (int64_t)s * m->k;
    const float *s1 = fo->p[2].s1, *s2 = fo->p[2].s2;
    for (int64_t off = 0; off < bytes; off += 64) {
        __builtin_prefetch((const char *)(m->V + at) + off, 1, 3);
        if (s1)
            __builtin_prefetch((const char *)(s1 + at) + off, 1, 3);
        if (s2)
            __builtin_prefetch((const char *)(s2 + at) + off, 1, 3);
    }
    __builtin_prefetch(m->w + s, 1, 3);
}

/* ---- the three kinds of step ------------------------------------------------ */

/*
 * The hot path: mini_batch_size 1, optimizer sgd. Rows order[i0..i1) are
 * scored and updated one at a time by two kernels (fm_score, then the
 * optimizer module's fused fct_optim_fm_sgd_row: vectorised, AVX2+FMA when
 * the CPU has it); sums are kept per factor in float, not double as
 * fct_fm_row_raw does. Clipping is the optimizer's: each element of the
 * rescaled gradient (bias g, linear g x_i, factor g x_i (sum_f - v_if x_i),
 * with g = d loss / d y^ * rescale_grad) is clipped to [-clip, clip]
 * before weight decay is added, as MXNet does. Adds the rows' figures to
 * *run (summed over the stretch first); returns i1, or the index of the
 * first row whose loss is not finite.
 */
static int64_t fct_fm_fused_rows(fct_fm_fit *f, int64_t i0, int64_t i1, fct_fm_running *run)
{
    fct_fm_model *m = f->m;
    const int32_t k = m->k;
    const int64_t *row_ptr = f->train->row_ptr;
    const float *values = f->train->values, *labels = f->train->labels;
    const fct_optim *o = &f->opt.o;
    const fct_optim_rate *rates = f->opt.rate;
    const fct_loss_kind kind = f->loss;
    double loss_acc = 0.0, se_acc = 0.0;
    int64_t correct = 0, i;
    for (i = i0; i < i1; i++) {
        const int64_t r = f->order[i], b = row_ptr[r], n = row_ptr[r + 1] - b;
        const uint32_t *sl = f->train_slots + b;
        const float *xs = values + b;
        fct_fm_prefetch_ahead(f, i, i1, NULL);
        const double y = fct_kern.fm_score(m->w0, m->w, m->V, k, sl, xs, n, f->sum, f->sq);
        const float label = labels[r];
        float score;
        const fct_loss_value l = fct_fm_loss(m, kind, y, label, &score);
        if (!isfinite(l.loss) || !isfinite(l.dscore))
            break;
        if (kind == FCT_LOSS_LOGISTIC)
            correct += (score >= 0.5f) == (label > 0.0f);
        f->prog[r] = score;
        loss_acc += l.loss;
        se_acc += (double)(score - label) * (double)(score - label);
        fct_optim_fm_sgd_row(o, rates, &m->w0, m->w, m->V, k, sl, xs, n, f->sum, (float)l.dscore);
    }
    run->loss += loss_acc;
    run->se += se_acc;
    run->correct += correct;
    run->n += i - i0;
    return i;
}

/* mini_batch_size 1, any other optimizer: row order[i]. A row's keys are
 * distinct, so each entry's gradient (at the pre-update sums) is applied
 * at once. 0, or -1 when the loss is not finite. */
static int fct_fm_single_row(fct_fm_fit *f, int64_t i, fct_fm_running *run)
{
    fct_fm_model *m = f->m;
    const int32_t k = m->k;
    const fct_fm_opt *fo = &f->opt;
    const int64_t r = f->order[i], b = f->train->row_ptr[r], n = f->train->row_ptr[r + 1] - b;
    const uint32_t *sl = f->train_slots + b;
    const float *xs = f->train->values + b;
    double gd;
    if (fct_fm_row_grad(m, f->loss, f->train, r, sl, xs, n, f->sum, f->prog, &gd, run) != 0)
        return -1;
    const float g = (float)gd;
    fct_optim_step1(&fo->o, &fo->rate[0], &fo->p[0], 0, g);
    for (int64_t j = 0; j < n; j++) {
        const uint32_t s = sl[j];
        const float x = xs[j], gx = g * x;
        fct_optim_step1(&fo->o, &fo->rate[1], &fo->p[1], s, gx);
        const float *v = m->V + (int64_t)s * k;
        for (int32_t q = 0; q < k; q++)
            f->gtmp[q] = gx * (f->sum[q] - v[q] * x);
        fct_optim_step(&fo->o, &fo->rate[2], &fo->p[2], s, f->gtmp);
    }
    return 0;
}

/* Mini-batch order[i0..i1) (B > 1): every row's gradient at the
 * parameters before the batch, summed per touched slot, then one step per
 * touched slot. 0, or -1 when a loss is not finite (nothing is updated). */
static int fct_fm_batch(fct_fm_fit *f, int64_t i0, int64_t i1, fct_fm_running *run)
{
    fct_fm_model *m = f->m;
    const int32_t k = m->k;
    const fct_fm_opt *fo = &f->opt;
    int32_t *local = f->local;
    float g0sum = 0.0f;
    int64_t nt = 0;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t r = f->order[i], b = f->train->row_ptr[r], n = f->train->row_ptr[r + 1] - b;
        const uint32_t *sl = f->train_slots + b;
        const float *xs = f->train->values + b;
        fct_fm_prefetch_ahead(f, i, i1, local);
        double gd;
        if (fct_fm_row_grad(m, f->loss, f->train, r, sl, xs, n, f->sum, f->prog, &gd, run) != 0) {
            for (int64_t li = 0; li < nt; li++)
                local[f->touched[li]] = -1;
            return -1;
        }
        const float g = (float)gd;
        g0sum += g;
        for (int64_t j = 0; j < n; j++) {
            const uint32_t s = sl[j];
            int32_t li = local[s];
            if (li < 0) {
                li = local[s] = (int32_t)nt;
                f->touched[nt++] = s;
                f->gw[li] = 0.0f;
                memset(f->gV + (int64_t)li * k, 0, (size_t)k * sizeof(float));
            }
            const float x = xs[j], gx = g * x;
            f->gw[li] += gx;
            const float *restrict v = m->V + (int64_t)s * k;
            float *restrict gv = f->gV + (int64_t)li * k;
            for (int32_t q = 0; q < k; q++)
                gv[q] += gx * (f->sum[q] - v[q] * x);
        }
    }
    fct_optim_step1(&fo->o, &fo->rate[0], &fo->p[0], 0, g0sum);
    for (int64_t li = 0; li < nt; li++) {
        const uint32_t s = f->touched[li];
        if (li + 2 < nt) /* optimizer state of a slot ahead */
            fct_fm_prefetch_slot(fo, m, f->touched[li + 2]);
        local[s] = -1;
        fct_optim_step1(&fo->o, &fo->rate[1], &fo->p[1], s, f->gw[li]);
        fct_optim_step(&fo->o, &fo->rate[2], &fo->p[2], s, f->gV + li * k);
    }
    return 0;
}

/*
 * fct_fm_batch on f->nthreads threads, with the same result bit for bit
 * (so the model does not depend on the thread count): (1) the rows of the
 * batch are scored in parallel, each into its own factor sums [k]; (2)
 * each thread owns the slots s with (s / 64) mod threads = its number (64
 * in a row: threads writing neighbours of w, local or the optimizer
 * state would share cache lines, which doubled the CPU time), scans the
 * batch's entries in row order and sums the gradient of its own slots
 * (the sequential loop's order of additions), then takes their optimizer
 * steps (lazy: a step reads and writes only its own slot's state). Thread
 * 0 also adds the rows' figures in row order and steps w0. One fork and
 * one barrier per batch, which is what limits it: on a 2-core machine
 * shared with other work (load 15-25) a wait at a barrier costs a
 * scheduler time slice, milliseconds, so batches of 1000 one-hot rows at
 * k 32 (64K multiply-adds, ~0.1 ms) ran 20x slower on 2 threads than on
 * one. fct_fm_fit_init therefore takes threads only when a batch holds at
 * least fct_fm_sgd_par_work multiply-adds (B x mean row nnz x k).
 */
static int fct_fm_batch_par(fct_fm_fit *f, int64_t i0, int64_t i1, fct_fm_running *run)
{
    fct_fm_model *m = f->m;
    const int32_t k = m->k;
    const fct_fm_opt *fo = &f->opt;
    const facto_rows *train = f->train;
    const int64_t nb = i1 - i0, cap = f->cap;
    const fct_loss_kind kind = f->loss;
    int32_t *local = f->local;
    int bad = 0;
#pragma omp parallel num_threads(f->nthreads)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        /* (1) scores, losses and factor sums */
#pragma omp for schedule(static)
        for (int64_t bi = 0; bi < nb; bi++) {
            fct_fm_prefetch_ahead(f, i0 + bi, i1, NULL);
            const int64_t r = f->order[i0 + bi], b = train->row_ptr[r], n = train->row_ptr[r + 1] - b;
            /* the row's entries side by side, for the slot owners */
            uint32_t *es = f->es + bi * f->max_nnz;
            float *ex = f->ex + bi * f->max_nnz;
            uint8_t *eo = f->eo + bi * f->max_nnz;
            f->rn[bi] = (int32_t)n;
            for (int64_t j = 0; j < n; j++) {
                es[j] = f->train_slots[b + j];
                ex[j] = train->values[b + j];
                eo[j] = (uint8_t)((es[j] >> 6) % (uint32_t)T);
            }
            const double y =
                fct_fm_row_raw(m, m->w, m->V, m->w0, f->train_slots + b, train->values + b, n, f->rsum + bi * k);
            const float label = train->labels[r];
            const fct_loss_value l = fct_fm_loss(m, kind, y, label, &f->prog[r]);
            const float sc = f->prog[r];
            f->rg[bi] = (float)l.dscore;
            f->rloss[bi] = l.loss;
            f->rse[bi] = (double)(sc - label) * (sc - label);
            f->rflag[bi] = (uint8_t)((!isfinite(l.loss) || !isfinite(l.dscore)) | ((sc >= 0.5f) == (label > 0.0f)) << 1);
        }
        /* (2) each thread: is the batch finite (all agree), then its slots */
        int ok = 1;
        for (int64_t bi = 0; bi < nb; bi++)
            ok &= !(f->rflag[bi] & 1);
        if (!ok) {
            if (t == 0)
                bad = 1;
        } else {
            uint32_t *touched = f->touched + (int64_t)t * cap;
            float *gw = f->gw + (int64_t)t * cap, *gV = f->gV + (int64_t)t * cap * k;
            int64_t nt = 0;
            for (int64_t bi = 0; bi < nb; bi++) {
                const int64_t n = f->rn[bi];
                const uint32_t *sl = f->es + bi * f->max_nnz;
                const float *xs = f->ex + bi * f->max_nnz;
                const uint8_t *own = f->eo + bi * f->max_nnz;
                const float g = f->rg[bi];
                const float *restrict sum = f->rsum + bi * k;
                for (int64_t j = 0; j < n; j++) {
                    if (own[j] != t)
                        continue;
                    const uint32_t s = sl[j];
                    int32_t li = local[s];
                    if (li < 0) {
                        li = local[s] = (int32_t)nt;
                        touched[nt++] = s;
                        gw[li] = 0.0f;
                        memset(gV + (int64_t)li * k, 0, (size_t)k * sizeof(float));
                    }
                    const float x = xs[j], gx = g * x;
                    gw[li] += gx;
                    const float *restrict v = m->V + (int64_t)s * k;
                    float *restrict gv = gV + (int64_t)li * k;
                    for (int32_t q = 0; q < k; q++)
                        gv[q] += gx * (sum[q] - v[q] * x);
                }
            }
            for (int64_t li = 0; li < nt; li++) {
                const uint32_t s = touched[li];
                local[s] = -1;
                fct_optim_step1(&fo->o, &fo->rate[1], &fo->p[1], s, gw[li]);
                fct_optim_step(&fo->o, &fo->rate[2], &fo->p[2], s, gV + li * k);
            }
            if (t == 0) {
                float g0sum = 0.0f;
                for (int64_t bi = 0; bi < nb; bi++) {
                    run->loss += f->rloss[bi];
                    run->se += f->rse[bi];
                    run->correct += f->rflag[bi] >> 1;
                    run->n++;
                    g0sum += f->rg[bi];
                }
                fct_optim_step1(&fo->o, &fo->rate[0], &fo->p[0], 0, g0sum);
            }
        }
    }
    return bad ? -1 : 0;
}

/* ---- an epoch ---------------------------------------------------------------- */

/* SageMaker-style progress line (MXNet's Speedometer wording). */
static void fct_fm_log_batch(facto_ctx *ctx, int classifier, int epoch, int64_t batch, int64_t run_n, int64_t *log_n,
                             int64_t run_correct, double run_loss, double run_se, double *tlog)
{
    double now = fct_fm_now();
    double speed = (double)(run_n - *log_n) / (now - *tlog > 1e-9 ? now - *tlog : 1e-9);
    double n = run_n > 0 ? (double)run_n : 1.0;
    if (classifier)
        fct_log(ctx, FACTO_LOG_INFO,
                  "Epoch[%d] Batch[%lld] Speed: %.0f samples/sec train binary_classification_accuracy=%.4f "
                  "binary_classification_cross_entropy=%.4f",
                  epoch - 1, (long long)batch, speed, (double)run_correct / n, run_loss / n);
    else
        fct_log(ctx, FACTO_LOG_INFO, "Epoch[%d] Batch[%lld] Speed: %.0f samples/sec train rmse=%.4f", epoch - 1,
                  (long long)batch, speed, sqrt(run_se / n));
    *tlog = now;
    *log_n = run_n;
}

static facto_status fct_fm_diverged(facto_ctx *ctx, const fct_fm_model *m, int epoch, int64_t batch)
{
    const facto_fm_params *p = &m->params;
    return fct_fail(ctx, FACTO_ERR_DIVERGED,
                    "training diverged in epoch %d, mini-batch %lld: the loss is not finite; lower factors_lr "
                    "(now %g), linear_lr (%g) or bias_lr (%g), or set clip_gradient",
                    epoch, (long long)batch + 1, (double)p->factors_lr, (double)p->linear_lr, (double)p->bias_lr);
}

/* One pass over the shuffled rows: fused rows in stretches of
 * log_interval rows, or mini-batches (one tick of the optimizer's clock
 * each), with a progress line every log_interval rows / batches. */
static facto_status fct_fm_epoch_pass(fct_fm_fit *f, int epoch)
{
    const facto_fm_params *p = &f->m->params;
    const int64_t n_rows = f->train->n_rows;
    const int classifier = f->loss == FCT_LOSS_LOGISTIC;
    double tlog = fct_fm_now();
    fct_fm_running run = {0.0, 0.0, 0, 0};
    int64_t log_n = 0;
    if (f->fused) {
        fct_fm_opt_rates(&f->opt);
        for (int64_t i0 = 0; i0 < n_rows;) {
            const int64_t i1 = i0 + p->log_interval < n_rows ? i0 + p->log_interval : n_rows;
            const int64_t stop = fct_fm_fused_rows(f, i0, i1, &run);
            if (stop < i1)
                return fct_fm_diverged(f->ctx, f->m, epoch, stop);
            i0 = i1;
            fct_fm_log_batch(f->ctx, classifier, epoch, i1, run.n, &log_n, run.correct, run.loss, run.se, &tlog);
        }
        return FACTO_OK;
    }
    for (int64_t bi = 0; bi < f->n_batches; bi++) {
        const int64_t i0 = bi * f->B, i1 = i0 + f->B < n_rows ? i0 + f->B : n_rows;
        fct_optim_tick(&f->opt.o);
        fct_fm_opt_rates(&f->opt);
        const int bad = f->B == 1        ? fct_fm_single_row(f, i0, &run)
                        : f->nthreads > 1 ? fct_fm_batch_par(f, i0, i1, &run)
                                          : fct_fm_batch(f, i0, i1, &run);
        if (bad != 0)
            return fct_fm_diverged(f->ctx, f->m, epoch, bi);
        if ((bi + 1) % p->log_interval == 0)
            fct_fm_log_batch(f->ctx, classifier, epoch, bi + 1, run.n, &log_n, run.correct, run.loss, run.se, &tlog);
    }
    return FACTO_OK;
}

/* After epoch `epoch`: fold the parameters into the running means when the
 * epoch is one of the last average_epochs, and point *view at the means
 * (else *view is the model). O(n_slots k). */
static void fct_fm_average_epoch(fct_fm_fit *f, int epoch, fct_fm_model *view)
{
    const fct_fm_model *m = f->m;
    const facto_fm_params *p = &m->params;
    *view = *m;
    if (!f->avg_w || epoch <= p->epochs - p->average_epochs)
        return;
    f->n_avg++;
    const float a = 1.0f / (float)f->n_avg;
    f->avg_w0 += a * (m->w0 - f->avg_w0);
    if (f->n_avg == 1) {
        memcpy(f->avg_w, m->w, (size_t)m->n_slots * sizeof(float));
        memcpy(f->avg_V, m->V, (size_t)m->n_slots * (size_t)m->k * sizeof(float));
    } else {
        for (int64_t s = 0; s < m->n_slots; s++)
            f->avg_w[s] += a * (m->w[s] - f->avg_w[s]);
        for (int64_t i = 0; i < m->n_slots * m->k; i++)
            f->avg_V[i] += a * (m->V[i] - f->avg_V[i]);
    }
    view->w0 = f->avg_w0;
    view->w = f->avg_w;
    view->V = f->avg_V;
}

/* Train metrics from the progressive scores, test metrics of `view` (the
 * averaged parameters when averaging), the epoch line and the callback.
 * *stop = 1 when the callback asks to stop. */
static facto_status fct_fm_sgd_report(fct_fm_fit *f, int epoch, double secs, const fct_fm_model *view,
                                        const fct_fm_callbacks *callbacks, int *stop)
{
    const fct_fm_model *m = f->m;
    const facto_fm_params *p = &m->params;
    fct_fm_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = epoch;
    rep.epochs = p->epochs;
    rep.seconds = secs;
    rep.samples_per_second = (double)f->train->n_rows / (secs > 1e-9 ? secs : 1e-9);
    facto_status st = fct_fm_metrics_from_scores(f->ctx, m, f->train, f->prog, &rep.train);
    if (st == FACTO_OK && f->test) {
        fct_fm_score_rows(view, f->test, f->test_slots, f->test_scores);
        st = fct_fm_metrics_from_scores(f->ctx, m, f->test, f->test_scores, &rep.test);
    } else {
        rep.test.predictor_type = p->predictor_type;
        rep.test.rmse = rep.test.mae = NAN;
        rep.test.binary.accuracy = rep.test.binary.cross_entropy = rep.test.binary.f_beta = NAN;
        rep.test.binary.precision = rep.test.binary.recall = rep.test.binary.auc = NAN;
    }
    if (st != FACTO_OK)
        return st;
    if (f->loss == FCT_LOSS_LOGISTIC)
        fct_log(f->ctx, FACTO_LOG_INFO,
                  "epoch %d/%d: train accuracy %.4f cross_entropy %.4f; test accuracy %.4f cross_entropy %.4f "
                  "f1 %.4f auc %.4f (%.3f s, %.0f samples/s)",
                  epoch, p->epochs, rep.train.binary.accuracy, rep.train.binary.cross_entropy,
                  rep.test.binary.accuracy, rep.test.binary.cross_entropy, rep.test.binary.f_beta,
                  rep.test.binary.auc, secs, rep.samples_per_second);
    else
        fct_log(f->ctx, FACTO_LOG_INFO,
                  "epoch %d/%d: train rmse %.4f; test rmse %.4f mae %.4f (%.3f s, %.0f samples/s)", epoch, p->epochs,
                  rep.train.rmse, rep.test.rmse, rep.test.mae, secs, rep.samples_per_second);
    *stop = callbacks && callbacks->on_epoch && callbacks->on_epoch(&rep, callbacks->user_data);
    return FACTO_OK;
}

facto_status fct_fm_fit_sgd(facto_ctx *ctx, fct_fm_model *m, const facto_rows *train, const uint32_t *train_slots,
                            const facto_rows *test, const uint32_t *test_slots, const fct_fm_callbacks *callbacks)
{
    const facto_fm_params *p = &m->params;
    fct_fm_fit f;
    facto_status st = fct_fm_fit_init(&f, ctx, m, train, train_slots, test, test_slots);
    int stop = 0;
    for (int epoch = 1; st == FACTO_OK && !stop && epoch <= p->epochs; epoch++) {
        fct_rng_shuffle_i64(&f.rng, f.order, train->n_rows);
        const double t0 = fct_fm_now();
        st = fct_fm_epoch_pass(&f, epoch);
        if (st == FACTO_OK && !isfinite(m->w0))
            st = fct_fm_diverged(ctx, m, epoch, f.n_batches - 1);
        if (st != FACTO_OK)
            break;
        const double secs = fct_fm_now() - t0;
        fct_fm_model view; /* the averaged parameters, for the test report */
        fct_fm_average_epoch(&f, epoch, &view);
        st = fct_fm_sgd_report(&f, epoch, secs, &view, callbacks, &stop);
        for (int i = 0; i < 3; i++)
            f.opt.lr[i] *= p->lr_decay;
    }
    if (st == FACTO_OK && f.n_avg > 0) {
        m->w0 = f.avg_w0;
        memcpy(m->w, f.avg_w, (size_t)m->n_slots * sizeof(float));
        memcpy(m->V, f.avg_V, (size_t)m->n_slots * (size_t)m->k * sizeof(float));
    }
    fct_fm_fit_free(&f);
    return st;
}
