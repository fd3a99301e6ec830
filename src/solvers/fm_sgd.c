/*
 * fm_sgd.c — mini-batch first-order training of factorization machines with
 * SageMaker's semantics: per mini-batch the loss gradient of every row is
 * taken at the parameters before the batch, summed, multiplied by
 * rescale_grad (default 1/mini_batch_size, i.e. the batch mean), clipped
 * element-wise to [-clip_gradient, clip_gradient] (MXNet's rule; <= 0 or
 * unset: no clipping), then weight decay wd*theta is added and the optimizer
 * steps: sgd, adagrad (Duchi et al. 2011), adam (Kingma & Ba 2015, Alg. 1;
 * the default: MXNet's FM example, which SageMaker's eps hints at) or
 * ftrl (McMahan et al. 2013, MXNet's form with lambda1 = 0, beta = 1, wd in
 * the denominator). Updates are lazy: only the slots a batch touches change.
 * Losses: regressor 1/2 (y^ - y)^2, classifier log(1 + e^{-y^}) form of log
 * loss; d loss / d y^ is (y^ - y) and (sigmoid(y^) - y).
 * Cost O(k * nnz) per epoch; memory O(n_slots * k) optimizer state plus
 * O(mini_batch_size * max row nnz * k) gradient buffers, none per sample.
 * mini_batch_size 1 with optimizer sgd takes a fused, vectorised path (AVX2
 * when the CPU has it) with no gradient buffers, clip_gradient or not: ~15M
 * samples/s at k = 32 on one-hot ML-100K, one core (clipping costs 15-25%).
 * Rows are visited in a shuffled order, so with many features the loops
 * are memory-bound; the parameters of rows (and slots) a few steps ahead
 * are prefetched.
 * average_epochs N keeps one more copy of the parameters: the running mean
 * of their values at the end of each of the last N epochs (SWA).
 */
#include "fm_solvers.h"

#include "kernels/kernels.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
    facto_optimizer opt;
    float lr[3], wd[3]; /* 0 bias, 1 linear, 2 factors */
    float rescale, clip, eps;
    int do_clip;
    float b1, b2;
    double b1t, b2t; /* b1^t, b2^t for Adam's bias correction */
    float adam_scale; /* sqrt(1 - b2^t) / (1 - b1^t) of the current step */
    float w0_s1, w0_s2;
    float *w_s1, *w_s2; /* [n_slots] */
    float *V_s1, *V_s2; /* [n_slots, k] */
} fct_fm_opt;

static double fct_fm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline float fct_fm_clipf(float g, float c) { return g > c ? c : (g < -c ? -c : g); }

/* One optimizer step on theta[0..n) with raw batch gradients g[0..n)
 * (rescaled and clipped here). `which`: 0 bias, 1 linear, 2 factors. */
static inline void fct_fm_step(const fct_fm_opt *o, int which, float *restrict theta, float *restrict s1,
                                 float *restrict s2, float *restrict g,
                                 int32_t n)
{
    const float lr = o->lr[which], wd = o->wd[which], rs = o->rescale;
    if (o->do_clip)
        for (int32_t i = 0; i < n; i++)
            g[i] = fct_fm_clipf(g[i] * rs, o->clip);
    else
        for (int32_t i = 0; i < n; i++)
            g[i] *= rs;
    switch (o->opt) {
    case FACTO_OPT_SGD:
        for (int32_t i = 0; i < n; i++)
            theta[i] -= lr * (g[i] + wd * theta[i]);
        break;
    case FACTO_OPT_ADAGRAD:
        if (n >= 8) {
            fct_kern.adagrad(theta, s1, g, n, wd, lr, o->eps);
            break;
        }
        for (int32_t i = 0; i < n; i++) {
            float gi = g[i] + wd * theta[i];
            s1[i] += gi * gi;
            theta[i] -= lr * gi / (sqrtf(s1[i]) + o->eps);
        }
        break;
    case FACTO_OPT_ADAM: {
        const float b1 = o->b1, b2 = o->b2, lrt = lr * o->adam_scale;
        if (n >= 8) {
            fct_kern.adam(theta, s1, s2, g, n, wd, b1, b2, lrt, 1.0f, o->eps);
            break;
        }
        for (int32_t i = 0; i < n; i++) {
            float gi = g[i] + wd * theta[i];
            s1[i] = b1 * s1[i] + (1.0f - b1) * gi;
            s2[i] = b2 * s2[i] + (1.0f - b2) * gi * gi;
            theta[i] -= lrt * s1[i] / (sqrtf(s2[i]) + o->eps);
        }
        break;
    }
    case FACTO_OPT_FTRL:
        if (lr <= 0.0f)
            break;
        for (int32_t i = 0; i < n; i++) {
            float gi = g[i];
            float nn = s2[i] + gi * gi;
            s1[i] += gi - (sqrtf(nn) - sqrtf(s2[i])) * theta[i] / lr;
            s2[i] = nn;
            theta[i] = -s1[i] / ((1.0f + sqrtf(nn)) / lr + wd);
        }
        break;
    }
}

static facto_status fct_fm_opt_init(facto_ctx *ctx, fct_fm_opt *o, const fct_fm_model *m)
{
    const facto_fm_params *p = &m->params;
    memset(o, 0, sizeof *o);
    o->opt = p->optimizer;
    o->lr[0] = p->bias_lr;
    o->lr[1] = p->linear_lr;
    o->lr[2] = p->factors_lr;
    o->wd[0] = p->bias_wd;
    o->wd[1] = p->linear_wd;
    o->wd[2] = p->factors_wd;
    o->rescale = isnan(p->rescale_grad) ? 1.0f / (float)p->mini_batch_size : p->rescale_grad;
    o->do_clip = !isnan(p->clip_gradient) && p->clip_gradient > 0.0f;
    o->clip = o->do_clip ? p->clip_gradient : 0.0f;
    o->eps = isnan(p->eps) ? 1e-8f : p->eps;
    o->b1 = 0.9f;
    o->b2 = 0.999f;
    o->b1t = o->b2t = 1.0;
    o->adam_scale = 1.0f;
    if (o->opt == FACTO_OPT_SGD)
        return FACTO_OK;
    size_t nw = (size_t)(m->n_slots > 0 ? m->n_slots : 1);
    size_t nv = nw * (size_t)m->k;
    o->w_s1 = fct_aligned_alloc(nw * sizeof(float));
    o->V_s1 = fct_aligned_alloc(nv * sizeof(float));
    int two = o->opt == FACTO_OPT_ADAM || o->opt == FACTO_OPT_FTRL;
    if (two) {
        o->w_s2 = fct_aligned_alloc(nw * sizeof(float));
        o->V_s2 = fct_aligned_alloc(nv * sizeof(float));
    }
    if (!o->w_s1 || !o->V_s1 || (two && (!o->w_s2 || !o->V_s2)))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for the %s optimizer state",
                          fct_fm_optimizer_name(o->opt));
    memset(o->w_s1, 0, nw * sizeof(float));
    memset(o->V_s1, 0, nv * sizeof(float));
    if (two) {
        memset(o->w_s2, 0, nw * sizeof(float));
        memset(o->V_s2, 0, nv * sizeof(float));
    }
    return FACTO_OK;
}

static void fct_fm_opt_free(fct_fm_opt *o)
{
    fct_aligned_free(o->w_s1);
    fct_aligned_free(o->w_s2);
    fct_aligned_free(o->V_s1);
    fct_aligned_free(o->V_s2);
}

/* Advance the step count (Adam's bias correction). */
static inline void fct_fm_opt_tick(fct_fm_opt *o)
{
    if (o->opt != FACTO_OPT_ADAM)
        return;
    o->b1t *= o->b1;
    o->b2t *= o->b2;
    o->adam_scale = (float)(sqrt(1.0 - o->b2t) / (1.0 - o->b1t));
}

#define S1(a, i) ((a) ? (a) + (i) : NULL)

/* Loss and d loss / d y^ of one row; *score receives the final score. */
static inline double fct_fm_loss_grad(const fct_fm_model *m, double y, float label, double *g, float *score)
{
    if (m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER) {
        double t = label > 0.0f ? 1.0 : 0.0;
        double p = 1.0 / (1.0 + exp(-y));
        *g = p - t;
        *score = (float)p;
        /* log(1 + e^{-y}) for t = 1, log(1 + e^{y}) for t = 0, overflow-safe */
        double z = t > 0.5 ? -y : y;
        return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    }
    double e = y - label;
    *g = e;
    double c = y < m->target_min ? m->target_min : (y > m->target_max ? m->target_max : y);
    *score = (float)c;
    return 0.5 * e * e;
}

/* Running figures of an epoch, for the log lines. */
typedef struct fct_fm_running {
    double loss, se;
    int64_t n, correct;
} fct_fm_running;

/* Score row r (its n slots `sl` and values `xs`), put the loss gradient
 * with respect to the raw score in *gd, keep the score in prog[r] and add
 * the row to *run. Returns 0, or -1 when the loss or gradient is not finite.
 * Shared by the per-row and the mini-batch loops: O(k * n). */
static inline int fct_fm_row_grad(const fct_fm_model *m, const facto_rows *train, int64_t r,
                                    const uint32_t *sl, const float *xs, int64_t n, float *sum, float *prog,
                                    double *gd, fct_fm_running *run)
{
    double y = fct_fm_row_raw(m, m->w, m->V, m->w0, sl, xs, n, sum);
    float label = train->labels[r];
    double loss = fct_fm_loss_grad(m, y, label, gd, &prog[r]);
    if (!isfinite(loss) || !isfinite(*gd))
        return -1;
    run->loss += loss;
    run->se += (double)(prog[r] - label) * (prog[r] - label);
    run->correct += (prog[r] >= 0.5f) == (label > 0.0f);
    run->n++;
    return 0;
}

/*
 * The hot path: mini_batch_size 1, optimizer sgd. Rows order[i0..i1) are
 * scored and updated one at a time by two kernels (kernels.h: fm_score,
 * then fm_sgd or fm_sgd_clip, vectorised, AVX2+FMA when the CPU has it);
 * the unclipped kernel stays as fast as it was. Clipping is fct_fm_step's:
 * each element of the rescaled gradient (bias g, linear g x_i, factor
 * g x_i (sum_f - v_if x_i), with g = d loss / d y^ * rescale_grad) is
 * clipped to [-clip, clip] before weight decay is added, as MXNet does.
 * Returns i1, or the index of the first row whose loss is not finite.
 */
typedef struct {
    fct_fm_model *m;
    const facto_rows *rows;
    const uint32_t *slots;
    const int64_t *order;
    float lr[3], wd[3], rescale, clip;
    int classifier, do_clip;
    float *sum, *sq; /* [k + 16] scratch each */
    float *prog;     /* [n_rows] progressive scores */
    double loss, se;
    int64_t n, correct;
} fct_fm_plain;

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

/* The same for one slot's optimizer state (and its parameters). */
static inline void fct_fm_prefetch_slot(const fct_fm_opt *o, const fct_fm_model *m, uint32_t s)
{
    const int64_t bytes = (int64_t)m->k * (int64_t)sizeof(float), at = (int64_t)s * m->k;
    for (int64_t off = 0; off < bytes; off += 64) {
        __builtin_prefetch((const char *)(m->V + at) + off, 1, 3);
        if (o->V_s1)
            __builtin_prefetch((const char *)(o->V_s1 + at) + off, 1, 3);
        if (o->V_s2)
            __builtin_prefetch((const char *)(o->V_s2 + at) + off, 1, 3);
    }
    __builtin_prefetch(m->w + s, 1, 3);
}

static int64_t fct_fm_plain_run(fct_fm_plain *c, int64_t i0, int64_t i1)
{
    fct_fm_model *m = c->m;
    const int32_t k = m->k;
    const int64_t *row_ptr = c->rows->row_ptr;
    const float *values = c->rows->values, *labels = c->rows->labels;
    const uint32_t *slots = c->slots;
    const float lr0 = c->lr[0], lr1 = c->lr[1], lr2 = c->lr[2];
    const float wd0 = c->wd[0], wd1 = c->wd[1], wd2 = c->wd[2], rs = c->rescale, cl = c->clip;
    const float tmin = m->target_min, tmax = m->target_max;
    const int do_clip = c->do_clip;
    double loss_acc = 0.0, se_acc = 0.0;
    int64_t correct = 0, i;
    for (i = i0; i < i1; i++) {
        const int64_t r = c->order[i], b = row_ptr[r], n = row_ptr[r + 1] - b;
        const uint32_t *sl = slots + b;
        const float *xs = values + b;
        if (i + 8 < i1) {
            const int64_t r8 = c->order[i + 8];
            __builtin_prefetch(row_ptr + r8, 0, 3);
            __builtin_prefetch(labels + r8, 0, 3);
            __builtin_prefetch(c->prog + r8, 1, 3);
        }
        if (i + 4 < i1) {
            const int64_t b4 = row_ptr[c->order[i + 4]];
            __builtin_prefetch(slots + b4, 0, 3);
            __builtin_prefetch(values + b4, 0, 3);
        }
        if (i + 2 < i1)
            fct_fm_prefetch_row(m, c->rows, slots, c->order[i + 2], NULL);
        const double y = fct_kern.fm_score(m->w0, m->w, m->V, k, sl, xs, n, c->sum, c->sq);
        const float label = labels[r];
        double gd, loss;
        float score;
        if (c->classifier) {
            const double t = label > 0.0f ? 1.0 : 0.0, p = 1.0 / (1.0 + exp(-y)), z = t > 0.5 ? -y : y;
            gd = p - t;
            score = (float)p;
            loss = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
            correct += (score >= 0.5f) == (t > 0.5);
        } else {
            gd = y - label;
            score = (float)(y < tmin ? tmin : (y > tmax ? tmax : y));
            loss = 0.5 * gd * gd;
        }
        if (!isfinite(loss) || !isfinite(gd))
            break;
        c->prog[r] = score;
        loss_acc += loss;
        se_acc += (double)(score - label) * (double)(score - label);
        const float g = (float)gd * rs;
        m->w0 -= lr0 * ((do_clip ? fct_fm_clipf(g, cl) : g) + wd0 * m->w0);
        if (do_clip)
            fct_kern.fm_sgd_clip(m->w, m->V, k, sl, xs, n, c->sum, g, lr1, wd1, lr2, wd2, cl);
        else
            fct_kern.fm_sgd(m->w, m->V, k, sl, xs, n, c->sum, g, lr1, wd1, lr2, wd2, cl);
    }
    c->loss += loss_acc;
    c->se += se_acc;
    c->correct += correct;
    c->n += i - i0;
    return i;
}

/* SageMaker-style progress line (MXNet's Speedometer wording). */
static void fct_fm_log_batch(facto_ctx *ctx, int classifier, int epoch, int64_t batch, int64_t run_n, int64_t *log_n,
                               int64_t run_correct, double run_loss, double run_se, double *tlog)
{
    double now = fct_fm_now();
    double speed = (double)(run_n - *log_n) / (now - *tlog > 1e-9 ? now - *tlog : 1e-9);
    double n = run_n > 0 ? (double)run_n : 1.0;
    if (classifier)
        facto_log(ctx, FACTO_LOG_INFO,
                  "Epoch[%d] Batch[%lld] Speed: %.0f samples/sec train binary_classification_accuracy=%.4f "
                  "binary_classification_cross_entropy=%.4f",
                  epoch - 1, (long long)batch, speed, (double)run_correct / n, run_loss / n);
    else
        facto_log(ctx, FACTO_LOG_INFO, "Epoch[%d] Batch[%lld] Speed: %.0f samples/sec train rmse=%.4f", epoch - 1,
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

facto_status fct_fm_fit_sgd(facto_ctx *ctx, fct_fm_model *m, const facto_rows *train, const uint32_t *train_slots,
                              const facto_rows *test, const uint32_t *test_slots, const facto_fm_callbacks *callbacks)
{
    const facto_fm_params *p = &m->params;
    const int32_t k = m->k;
    const int64_t n_rows = train->n_rows;
    const int64_t B = p->mini_batch_size < n_rows ? p->mini_batch_size : n_rows;
    fct_fm_opt o;
    facto_status st = fct_fm_opt_init(ctx, &o, m);
    int64_t max_nnz = 0;
    for (int64_t r = 0; r < n_rows; r++)
        if (train->row_ptr[r + 1] - train->row_ptr[r] > max_nnz)
            max_nnz = train->row_ptr[r + 1] - train->row_ptr[r];
    /* Batch gradient buffers (B > 1 only): local index of each slot, the
     * touched slots, and their gradients. */
    int64_t cap = B * max_nnz < m->n_slots ? B * max_nnz : m->n_slots;
    int32_t *local = NULL;
    uint32_t *touched = NULL;
    float *gw = NULL, *gV = NULL;
    int64_t *order = fct_malloc_array((size_t)n_rows, sizeof(int64_t));
    float *sum = fct_aligned_alloc((size_t)(k + 16) * sizeof(float));
    float *prog = fct_malloc_array((size_t)n_rows, sizeof(float));
    float *test_scores = test ? fct_malloc_array((size_t)(test->n_rows ? test->n_rows : 1), sizeof(float)) : NULL;
    if (st == FACTO_OK && (!order || !sum || !prog || (test && !test_scores)))
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for training buffers");
    if (st == FACTO_OK && B > 1) {
        local = fct_malloc_array((size_t)(m->n_slots ? m->n_slots : 1), sizeof(int32_t));
        touched = fct_malloc_array((size_t)(cap ? cap : 1), sizeof(uint32_t));
        gw = fct_malloc_array((size_t)(cap ? cap : 1), sizeof(float));
        gV = fct_aligned_alloc((size_t)(cap ? cap : 1) * (size_t)k * sizeof(float));
        if (!local || !touched || !gw || !gV)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for mini-batch gradients "
                                                  "(lower mini_batch_size)");
        else
            for (int64_t s = 0; s < m->n_slots; s++)
                local[s] = -1;
    }
    float *gtmp = fct_aligned_alloc((size_t)(k + 16) * sizeof(float));
    if (st == FACTO_OK && !gtmp)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for training buffers");
    fct_rng rng;
    fct_rng_seed(&rng, p->seed ^ 0x5bd1e995u);
    for (int64_t r = 0; r < n_rows && order; r++)
        order[r] = r;
    const int classifier = p->predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    const int64_t n_batches = (n_rows + B - 1) / B;
    float *sq = fct_aligned_alloc((size_t)(k + 16) * sizeof(float));
    if (st == FACTO_OK && !sq)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for training buffers");
    fct_fm_plain pc;
    memset(&pc, 0, sizeof pc);
    const int plain = B == 1 && o.opt == FACTO_OPT_SGD;
    if (plain) {
        pc.do_clip = o.do_clip;
        pc.m = m;
        pc.rows = train;
        pc.slots = train_slots;
        pc.order = order;
        pc.rescale = o.rescale;
        pc.clip = o.clip;
        pc.classifier = classifier;
        pc.sum = sum;
        pc.sq = sq;
        pc.prog = prog;
    }

    /* Weight averaging over the last average_epochs epochs. */
    int n_avg = 0;
    float avg_w0 = 0.0f, *avg_w = NULL, *avg_V = NULL;
    if (st == FACTO_OK && p->average_epochs > 0) {
        avg_w = fct_aligned_alloc((size_t)(m->n_slots > 0 ? m->n_slots : 1) * sizeof(float));
        avg_V = fct_aligned_alloc((size_t)(m->n_slots > 0 ? m->n_slots : 1) * (size_t)k * sizeof(float));
        if (!avg_w || !avg_V)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for average_epochs");
    }

    for (int epoch = 1; st == FACTO_OK && epoch <= p->epochs; epoch++) {
        fct_rng_shuffle_i64(&rng, order, n_rows);
        for (int i = 0; i < 3; i++) {
            pc.lr[i] = o.lr[i];
            pc.wd[i] = o.wd[i];
        }
        double t0 = fct_fm_now(), tlog = t0;
        fct_fm_running run = {0.0, 0.0, 0, 0};
        int64_t log_n = 0;
        if (plain) {
            /* Fused fast path, in stretches of log_interval rows. */
            for (int64_t i0 = 0; i0 < n_rows;) {
                int64_t i1 = i0 + p->log_interval < n_rows ? i0 + p->log_interval : n_rows;
                pc.loss = pc.se = 0.0;
                pc.n = pc.correct = 0;
                int64_t stop = fct_fm_plain_run(&pc, i0, i1);
                run.loss += pc.loss;
                run.se += pc.se;
                run.correct += pc.correct;
                run.n += pc.n;
                if (stop < i1) {
                    st = fct_fm_diverged(ctx, m, epoch, stop);
                    break;
                }
                i0 = i1;
                fct_fm_log_batch(ctx, classifier, epoch, i1, run.n, &log_n, run.correct, run.loss, run.se, &tlog);
            }
        }
        for (int64_t bi = 0; !plain && bi < n_batches && st == FACTO_OK; bi++) {
            const int64_t i0 = bi * B, i1 = i0 + B < n_rows ? i0 + B : n_rows;
            fct_fm_opt_tick(&o);
            if (B == 1) {
                /* Fused path: a row's keys are distinct, so each entry's
                 * gradient (at the pre-update sums) is applied at once. */
                const int64_t r = order[i0], b = train->row_ptr[r], n = train->row_ptr[r + 1] - b;
                const uint32_t *sl = train_slots + b;
                const float *xs = train->values + b;
                double gd;
                if (fct_fm_row_grad(m, train, r, sl, xs, n, sum, prog, &gd, &run) != 0) {
                    st = fct_fm_diverged(ctx, m, epoch, bi);
                    break;
                }
                const float g = (float)gd;
                float g0 = g;
                fct_fm_step(&o, 0, &m->w0, &o.w0_s1, &o.w0_s2, &g0, 1);
                /* (optimizer sgd takes the vectorised path above) */
                for (int64_t j = 0; j < n; j++) {
                    const uint32_t s = sl[j];
                    const float x = xs[j], gx = g * x;
                    float gl = gx;
                    fct_fm_step(&o, 1, &m->w[s], S1(o.w_s1, s), S1(o.w_s2, s), &gl, 1);
                    float *v = m->V + (int64_t)s * k;
                    for (int32_t f = 0; f < k; f++)
                        gtmp[f] = gx * (sum[f] - v[f] * x);
                    fct_fm_step(&o, 2, v, S1(o.V_s1, (int64_t)s * k), S1(o.V_s2, (int64_t)s * k), gtmp, k);
                }
            } else {
                float g0sum = 0.0f;
                int64_t nt = 0;
                for (int64_t i = i0; i < i1; i++) {
                    const int64_t r = order[i], b = train->row_ptr[r], n = train->row_ptr[r + 1] - b;
                    const uint32_t *sl = train_slots + b;
                    const float *xs = train->values + b;
                    if (i + 8 < i1) {
                        const int64_t r8 = order[i + 8];
                        __builtin_prefetch(train->row_ptr + r8, 0, 3);
                        __builtin_prefetch(train->labels + r8, 0, 3);
                        __builtin_prefetch(prog + r8, 1, 3);
                    }
                    if (i + 4 < i1) {
                        const int64_t b4 = train->row_ptr[order[i + 4]];
                        __builtin_prefetch(train_slots + b4, 0, 3);
                        __builtin_prefetch(train->values + b4, 0, 3);
                    }
                    if (i + 2 < i1)
                        fct_fm_prefetch_row(m, train, train_slots, order[i + 2], local);
                    double gd;
                    if (fct_fm_row_grad(m, train, r, sl, xs, n, sum, prog, &gd, &run) != 0) {
                        st = fct_fm_diverged(ctx, m, epoch, bi);
                        break;
                    }
                    const float g = (float)gd;
                    g0sum += g;
                    for (int64_t j = 0; j < n; j++) {
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
                        for (int32_t f = 0; f < k; f++)
                            gv[f] += gx * (sum[f] - v[f] * x);
                    }
                }
                if (st != FACTO_OK) {
                    for (int64_t li = 0; li < nt; li++)
                        local[touched[li]] = -1;
                    break;
                }
                fct_fm_step(&o, 0, &m->w0, &o.w0_s1, &o.w0_s2, &g0sum, 1);
                for (int64_t li = 0; li < nt; li++) {
                    const uint32_t s = touched[li];
                    if (li + 2 < nt) /* optimizer state of a slot ahead */
                        fct_fm_prefetch_slot(&o, m, touched[li + 2]);
                    local[s] = -1;
                    fct_fm_step(&o, 1, &m->w[s], S1(o.w_s1, s), S1(o.w_s2, s), &gw[li], 1);
                    fct_fm_step(&o, 2, m->V + (int64_t)s * k, S1(o.V_s1, (int64_t)s * k), S1(o.V_s2, (int64_t)s * k),
                                  gV + li * k, k);
                }
            }
            if ((bi + 1) % p->log_interval == 0)
                fct_fm_log_batch(ctx, classifier, epoch, bi + 1, run.n, &log_n, run.correct, run.loss, run.se,
                                   &tlog);
        }
        if (st != FACTO_OK)
            break;
        if (!isfinite(m->w0)) {
            st = fct_fm_diverged(ctx, m, epoch, n_batches - 1);
            break;
        }
        double secs = fct_fm_now() - t0;
        fct_fm_model avg_view = *m; /* the averaged parameters, for the test report */
        if (avg_w && epoch > p->epochs - p->average_epochs) {
            n_avg++;
            const float a = 1.0f / (float)n_avg;
            avg_w0 += a * (m->w0 - avg_w0);
            if (n_avg == 1) {
                memcpy(avg_w, m->w, (size_t)m->n_slots * sizeof(float));
                memcpy(avg_V, m->V, (size_t)m->n_slots * (size_t)k * sizeof(float));
            } else {
                for (int64_t s = 0; s < m->n_slots; s++)
                    avg_w[s] += a * (m->w[s] - avg_w[s]);
                for (int64_t i = 0; i < m->n_slots * k; i++)
                    avg_V[i] += a * (m->V[i] - avg_V[i]);
            }
            avg_view.w0 = avg_w0;
            avg_view.w = avg_w;
            avg_view.V = avg_V;
        }
        facto_fm_epoch_report rep;
        memset(&rep, 0, sizeof rep);
        rep.epoch = epoch;
        rep.epochs = p->epochs;
        rep.seconds = secs;
        rep.samples_per_second = (double)n_rows / (secs > 1e-9 ? secs : 1e-9);
        st = fct_fm_metrics_from_scores(ctx, m, train, prog, &rep.train);
        if (st == FACTO_OK && test) {
            fct_fm_score_rows(&avg_view, test, test_slots, test_scores);
            st = fct_fm_metrics_from_scores(ctx, m, test, test_scores, &rep.test);
        } else {
            rep.test.predictor_type = p->predictor_type;
            rep.test.rmse = rep.test.mae = NAN;
            rep.test.binary.accuracy = rep.test.binary.cross_entropy = rep.test.binary.f_beta = NAN;
            rep.test.binary.precision = rep.test.binary.recall = rep.test.binary.auc = NAN;
        }
        if (st != FACTO_OK)
            break;
        if (classifier)
            facto_log(ctx, FACTO_LOG_INFO,
                      "epoch %d/%d: train accuracy %.4f cross_entropy %.4f; test accuracy %.4f cross_entropy %.4f "
                      "f1 %.4f auc %.4f (%.3f s, %.0f samples/s)",
                      epoch, p->epochs, rep.train.binary.accuracy, rep.train.binary.cross_entropy,
                      rep.test.binary.accuracy, rep.test.binary.cross_entropy, rep.test.binary.f_beta,
                      rep.test.binary.auc, secs, rep.samples_per_second);
        else
            facto_log(ctx, FACTO_LOG_INFO, "epoch %d/%d: train rmse %.4f; test rmse %.4f mae %.4f (%.3f s, %.0f samples/s)",
                      epoch, p->epochs, rep.train.rmse, rep.test.rmse, rep.test.mae, secs, rep.samples_per_second);
        if (callbacks && callbacks->on_epoch && callbacks->on_epoch(&rep, callbacks->user_data))
            break;
        for (int i = 0; i < 3; i++)
            o.lr[i] *= p->lr_decay;
    }
    if (st == FACTO_OK && n_avg > 0) {
        m->w0 = avg_w0;
        memcpy(m->w, avg_w, (size_t)m->n_slots * sizeof(float));
        memcpy(m->V, avg_V, (size_t)m->n_slots * (size_t)k * sizeof(float));
    }
    fct_aligned_free(avg_w);
    fct_aligned_free(avg_V);
    fct_fm_opt_free(&o);
    free(local);
    free(touched);
    free(gw);
    fct_aligned_free(gV);
    free(order);
    fct_aligned_free(sum);
    fct_aligned_free(gtmp);
    fct_aligned_free(sq);
    free(prog);
    free(test_scores);
    return st;
}
