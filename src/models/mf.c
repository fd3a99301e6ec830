/*
 * mf.c — biased matrix factorization (Koren, Bell & Volinsky, "Matrix
 * factorization techniques for recommender systems", IEEE Computer 2009):
 * r^ = mu + b_u + b_i + p_u . q_i with squared loss and separate L2 on biases
 * and factors. This file holds the hyperparameter table, the model object
 * and its initialisation (mu = training mean, biases 0, factors
 * N(0, init_std^2)), the model interface (score, finish, dot form, seen
 * items: predict, evaluate and top-N are the drivers of src/eval/), the
 * objective and gradient for tests, and the model file sections. Training is
 * src/train/fit_mf.c. Scoring costs O(k) a pair.
 */
#include "mf.h"

#include "../data/dataset.h"
#include "../kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- parameters ---------------------------------------------------------- */

facto_mf_params facto_mf_params_default(void)
{
    /* Chosen with bench/mf_tune.c on validation parts carved out of
     * ml-100k u1.base..u5.base (20% and 10%) and on ua/ub, never on
     * u*.test; the procedure and figures are in that program's header
     * comment. k = 512 with init 0.007 (rather than 256 and 0.01) halves
     * the spread over seeds; reg_bias 0.05 (rather than 0.01) helps users
     * with few ratings (ua/ub) at no cost on the random carve-outs.
     * Issue 10's study (bench/mf_defaults.sh, docs/benchmarks.md: adagrad
     * and other lr / decay / L2 on ml-100k and three synthetic shapes, at
     * k 512 / 60 epochs and k 64 / 10 epochs) found no setting better on
     * all of them; nor an initial scale (init_std 0.0133-0.2, fixed or
     * c / sqrt(k)): larger starts lose on ml-100k at k 512 and on the
     * sparse set at k 64. What did: reg_factors from the data
     * (fct_mf_reg_from_data), the same 0.08 on ml-100k's carve-outs and on
     * sparser data, less on denser (docs/benchmarks.md). */
    facto_mf_params p;
    memset(&p, 0, sizeof p);
    p.num_factors = 512;
    p.epochs = 60;
    p.optimizer = FACTO_OPT_SGD;
    p.learning_rate = 0.02f;
    p.lr_decay = 0.96f;
    p.momentum = 0.0f;
    p.reg_factors = NAN; /* from the data (fct_mf_reg_from_data): 0.077 on ml-100k u1.base */
    p.reg_bias = 0.05f;
    p.init_std = 0.007f;
    p.seed = 42;
    return p;
}

/* The hyperparameter table: names, CLI aliases, ranges, help. The CLI's
 * flags (--factors, --lr, --reg, --lr-decay ...) are these names or aliases
 * ('-' and '_' alike). */
static const fct_penum fct_mf_optimizers[] = {{"sgd", FACTO_OPT_SGD}, {"adam", FACTO_OPT_ADAM}, {"adagrad", FACTO_OPT_ADAGRAD}, {NULL, 0}};

#define F(field) offsetof(facto_mf_params, field)
static const fct_pdesc fct_mf_pdesc[] = {
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, 65536, 0, NULL,
     "number of latent factors k", "sagemaker", NULL},
    {"epochs", "iterations", FCT_PT_INT, F(epochs), NULL, 1, INT32_MAX, 0, "is not a positive integer",
     "passes over the training ratings", "sagemaker", NULL},
    {"optimizer", NULL, FCT_PT_ENUM, F(optimizer), fct_mf_optimizers, 0, 0, 0, NULL,
     "sgd (plain, or heavy-ball with momentum), adam (lazy per row) or adagrad (blocked SGD with a rate per row of "
     "P and Q, lr / sqrt(G), G the row's summed mean squared gradient; Chin et al. PAKDD 2015)",
     "facto", NULL},
    {"learning_rate", "lr", FCT_PT_FLOAT, F(learning_rate), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "step size of epoch 1 (Adam: try 0.001; adagrad: 0.05-0.2, lr_decay 0.96-1)", "facto", NULL},
    {"lr_decay", NULL, FCT_PT_FLOAT, F(lr_decay), NULL, 0, 1, FCT_PF_MIN_OPEN, NULL,
     "learning rate multiplier after each epoch", "facto", NULL},
    {"momentum", NULL, FCT_PT_FLOAT, F(momentum), NULL, 0, 1, FCT_PF_MAX_OPEN, NULL,
     "SGD heavy-ball momentum (0 = none; ignored by adam and adagrad)", "facto", NULL},
    {"reg_factors", "reg,factors_wd", FCT_PT_FLOAT, F(reg_factors), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NULL,
     "L2 weight of the factors, per rating; unset, from the training data: 0.27 sd (1 / sqrt(ratings per user) + "
     "1 / sqrt(ratings per item)), at most 0.08, sd the ratings' standard deviation (0.076 on ml-100k u1.base, "
     "0.029 on 18M ratings of MovieLens-20M's shape)", "facto", "from the data"},
    {"reg_bias", "linear_wd", FCT_PT_FLOAT, F(reg_bias), NULL, 0, FLT_MAX, 0, NULL,
     "L2 weight of the biases, per rating", "facto", NULL},
    {"init_std", "factors_init_sigma", FCT_PT_FLOAT, F(init_std), NULL, 0, FLT_MAX, 0, NULL,
     "factors start as N(0, init_std^2)", "facto", NULL},
    {"seed", NULL, FCT_PT_U64, F(seed), NULL, 0, 18446744073709551615.0, 0, NULL,
     "seed of initialisation and shuffling", "facto", NULL},
    {"train_pass", NULL, FCT_PT_INT, F(train_pass), NULL, 0, 1, FCT_PF_UNSET_ZERO, NULL,
     "1: score the training set after each epoch for its RMSE; 0: sgd reports the errors seen in the epoch",
     "facto", "0"},
};
#undef F

static void fct_mf_defaults(void *p) { *(facto_mf_params *)p = facto_mf_params_default(); }

const fct_ptable fct_mf_ptable = {"mf", fct_mf_pdesc, (int)(sizeof fct_mf_pdesc / sizeof fct_mf_pdesc[0]),
                                  sizeof(facto_mf_params), fct_mf_defaults, NULL};

/* "sgd, num_factors 512, 60 epochs, learning_rate 0.02" (fct_model_ops.describe). */
static size_t fct_mf_params_describe(const void *params, char *buf, size_t size)
{
    const facto_mf_params *p = params;
    char lr[32];
    fct_format_float_short(lr, sizeof lr, p->learning_rate);
    int n = snprintf(buf, size, "%s, num_factors %d, %d epoch%s, learning_rate %s\n",
                     p->optimizer == FACTO_OPT_ADAM      ? "adam"
                     : p->optimizer == FACTO_OPT_ADAGRAD ? "adagrad"
                                                         : "sgd",
                     p->num_factors, p->epochs, p->epochs == 1 ? "" : "s", lr);
    return n > 0 ? (size_t)n : 0;
}

/* momentum is plain sgd's only (fct_model_ops.param_used). */
static int fct_mf_param_used(const void *params, const fct_pdesc *d)
{
    const facto_mf_params *p = params;
    return strcmp(d->name, "momentum") != 0 || p->optimizer == FACTO_OPT_SGD;
}

facto_status fct_mf_validate(facto_ctx *ctx, const facto_mf_params *p) { return fct_params_check(ctx, &fct_mf_ptable, p); }

/* ---- the model object ------------------------------------------------------ */

static float *fct_mf_zeroed(size_t n, int zero)
{
    if (n > SIZE_MAX / sizeof(float))
        return NULL;
    float *a = fct_aligned_alloc(n * sizeof(float));
    if (a && zero)
        memset(a, 0, n * sizeof(float));
    return a;
}

/* Rows for training in place (n + 1 rows of ld floats; zeroed when zero
 * is set, else left for the caller to write), the
 * kernel asked for 2 MiB pages where it gives them on request
 * (transparent huge pages "madvise"): SGD reads rows at random, and one
 * TLB entry then covers 2 MiB of rows rather than 4 KiB; the first touch
 * (the zeroing) costs a few hundred page faults rather than one per 4 KiB. */
static float *fct_mf_rows(size_t n, size_t ld, int zero)
{
    if (n + 1 > SIZE_MAX / ld / sizeof(float))
        return NULL;
    const size_t bytes = (n + 1) * ld * sizeof(float);
    float *a = fct_aligned_alloc(bytes);
    if (!a)
        return NULL;
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t b = ((uintptr_t)a + huge - 1) & ~(huge - 1), e = ((uintptr_t)a + bytes) & ~(huge - 1);
    if (e > b)
        (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
#endif
    if (zero)
        memset(a, 0, bytes);
    return a;
}

/* fct_mf_model_alloc with P and Q of n + 1 rows of stride ld > k (training
 * in place), or n rows of k when ld == k; P and Q zeroed when zero_pq is
 * set, else left for the caller to write every element. */
static fct_mf_model *fct_mf_model_alloc_ld(int32_t n_users, int32_t n_items, int32_t k, int64_t n_seen, int32_t ld,
                                           int zero_pq);

fct_mf_model *fct_mf_model_alloc(int32_t n_users, int32_t n_items, int32_t k, int64_t n_seen)
{
    return fct_mf_model_alloc_ld(n_users, n_items, k, n_seen, k, 1);
}

static fct_mf_model *fct_mf_model_alloc_ld(int32_t n_users, int32_t n_items, int32_t k, int64_t n_seen, int32_t ld,
                                           int zero_pq)
{
    if (n_users < 0 || n_items < 0 || k < 1 || n_seen < 0 || ld < k)
        return NULL;
    fct_mf_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.ops = &fct_mf_ops;
    m->n_users = n_users;
    m->n_items = n_items;
    m->k = k;
    m->ld = ld;
    m->n_seen = n_seen;
    m->bu = fct_mf_zeroed((size_t)n_users, 1);
    m->bi = fct_mf_zeroed((size_t)n_items, 1);
    m->P = ld > k ? fct_mf_rows((size_t)n_users, (size_t)ld, zero_pq)
                  : fct_mf_zeroed((size_t)n_users * (size_t)k, zero_pq);
    m->Q = ld > k ? fct_mf_rows((size_t)n_items, (size_t)ld, zero_pq)
                  : fct_mf_zeroed((size_t)n_items * (size_t)k, zero_pq);
    m->seen_ptr = fct_calloc_array((size_t)n_users + 1, sizeof *m->seen_ptr);
    m->seen_items = fct_malloc_array((size_t)n_seen, sizeof *m->seen_items);
    if (!m->bu || !m->bi || !m->P || !m->Q || !m->seen_ptr || !m->seen_items) {
        fct_mf_model_destroy(m);
        return NULL;
    }
    return m;
}

void fct_mf_model_destroy(fct_mf_model *m)
{
    if (!m)
        return;
    fct_aligned_free(m->bu);
    fct_aligned_free(m->bi);
    fct_aligned_free(m->P);
    fct_aligned_free(m->Q);
    free(m->seen_ptr);
    free(m->seen_items);
    free(m->seen16);
    fct_idmap_free(m->users);
    fct_idmap_free(m->items);
    free(m);
}

static void fct_mf_free(facto_model *model) { fct_mf_model_destroy((fct_mf_model *)model); }

static const fct_mf_model *fct_as_mf(const facto_model *model)
{
    return model && model->ops == &fct_mf_ops ? (const fct_mf_model *)model : NULL;
}

float fct_mf_score(const fct_mf_model *m, int32_t u, int32_t i)
{
    const size_t ld = (size_t)m->ld;
    return (float)m->mu + m->bu[u] + m->bi[i] + fct_dot(m->P + (size_t)u * ld, m->Q + (size_t)i * ld, m->k);
}

/* Prediction of model indices, -1 = unknown; clipped; flags as in facto.h. */
static float fct_mf_predict_idx(const fct_mf_model *m, int32_t u, int32_t i, int *flags)
{
    float s;
    int f = 0;
    if (u >= 0 && i >= 0) {
        s = fct_mf_score(m, u, i);
    } else {
        s = (float)m->mu;
        if (u >= 0)
            s += m->bu[u];
        else
            f |= FACTO_PRED_UNKNOWN_USER;
        if (i >= 0)
            s += m->bi[i];
        else
            f |= FACTO_PRED_UNKNOWN_ITEM;
    }
    if (flags)
        *flags = f;
    if (s < m->min_rating)
        s = m->min_rating;
    if (s > m->max_rating)
        s = m->max_rating;
    return s;
}

/* ---- objective and gradient (tests, diagnostics) -------------------------- */

double fct_mf_objective(const fct_mf_model *m, const facto_dataset *data, float reg_factors, float reg_bias)
{
    const size_t k = (size_t)m->k;
    double J = 0.0;
    for (int32_t u = 0; u < data->n_users; u++) {
        for (int64_t x = data->row_ptr[u]; x < data->row_ptr[u + 1]; x++) {
            int32_t i = data->items[x];
            const float *p = m->P + (size_t)u * (size_t)m->ld, *q = m->Q + (size_t)i * (size_t)m->ld;
            double dot = 0.0, pp = 0.0, qq = 0.0;
            for (size_t f = 0; f < k; f++) {
                dot += (double)p[f] * q[f];
                pp += (double)p[f] * p[f];
                qq += (double)q[f] * q[f];
            }
            double e = data->ratings[x] - (m->mu + m->bu[u] + m->bi[i] + dot);
            J += 0.5 * e * e + 0.5 * reg_factors * (pp + qq) +
                 0.5 * reg_bias * ((double)m->bu[u] * m->bu[u] + (double)m->bi[i] * m->bi[i]);
        }
    }
    return J;
}

void fct_mf_gradient(const fct_mf_model *m, const facto_dataset *data, float reg_factors, float reg_bias,
                       double *g_bu, double *g_bi, double *g_P, double *g_Q)
{
    const size_t k = (size_t)m->k;
    memset(g_bu, 0, (size_t)m->n_users * sizeof *g_bu);
    memset(g_bi, 0, (size_t)m->n_items * sizeof *g_bi);
    memset(g_P, 0, (size_t)m->n_users * k * sizeof *g_P);
    memset(g_Q, 0, (size_t)m->n_items * k * sizeof *g_Q);
    for (int32_t u = 0; u < data->n_users; u++) {
        for (int64_t x = data->row_ptr[u]; x < data->row_ptr[u + 1]; x++) {
            int32_t i = data->items[x];
            const float *p = m->P + (size_t)u * (size_t)m->ld, *q = m->Q + (size_t)i * (size_t)m->ld;
            double dot = 0.0;
            for (size_t f = 0; f < k; f++)
                dot += (double)p[f] * q[f];
            double e = data->ratings[x] - (m->mu + m->bu[u] + m->bi[i] + dot);
            g_bu[u] += -e + reg_bias * m->bu[u];
            g_bi[i] += -e + reg_bias * m->bi[i];
            for (size_t f = 0; f < k; f++) {
                g_P[(size_t)u * k + f] += -e * q[f] + reg_factors * p[f];
                g_Q[(size_t)i * k + f] += -e * p[f] + reg_factors * q[f];
            }
        }
    }
}

/* ---- the model interface --------------------------------------------------- */

/* Scores of user q->user (or the unknown-user fallback) against items:
 * raw mu + b_u + b_i + p_u . q_i, or the clipped prediction with the
 * unknown-id fallbacks of fct_mf_predict_idx. O(n k). */
static facto_status fct_mf_ops_score(facto_ctx *ctx, const facto_model *model, const fct_query *q,
                                     const int32_t *items, int64_t n, fct_score_mode mode, float *out)
{
    const fct_mf_model *m = (const fct_mf_model *)model;
    if (q->n_history > 0 || q->n_keys > 0)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "mf scores users of its training data; a user given by a history or a feature row is "
                        "not supported by this model kind");
    int32_t u = q->user < m->n_users ? q->user : -1;
    if (!items)
        n = m->n_items;
    for (int64_t j = 0; j < n; j++) {
        int32_t i = items ? items[j] : (int32_t)j;
        if (i >= m->n_items)
            i = -1;
        if (mode == FCT_SCORE_PREDICT)
            out[j] = fct_mf_predict_idx(m, u, i, NULL);
        else if (u >= 0 && i >= 0)
            out[j] = fct_mf_score(m, u, i);
        else
            out[j] = (float)m->mu + (u >= 0 ? m->bu[u] : 0.0f) + (i >= 0 ? m->bi[i] : 0.0f);
    }
    return FACTO_OK;
}

static void fct_mf_ops_finish(const facto_model *model, float *scores, int64_t n)
{
    const fct_mf_model *m = (const fct_mf_model *)model;
    for (int64_t j = 0; j < n; j++) {
        float s = scores[j];
        s = s < m->min_rating ? m->min_rating : s;
        scores[j] = s > m->max_rating ? m->max_rating : s;
    }
}

static float fct_mf_ops_pair(const facto_model *model, int32_t u, int32_t i)
{
    return fct_mf_score((const fct_mf_model *)model, u, i);
}

static int fct_mf_ops_dot_form(const facto_model *model, fct_dot_form *out)
{
    const fct_mf_model *m = (const fct_mf_model *)model;
    out->pair = fct_mf_ops_pair;
    out->c = (float)m->mu;
    out->user_bias = m->bu;
    out->item_bias = m->bi;
    out->U = m->P;
    out->V = m->Q;
    out->n_users = m->n_users;
    out->n_items = m->n_items;
    out->k = m->k;
    out->ldu = out->ldv = m->k;
    return 1;
}

static int64_t fct_mf_ops_seen(const facto_model *model, int32_t u, fct_seen_list *items)
{
    const fct_mf_model *m = (const fct_mf_model *)model;
    items->i32 = m->seen_items ? m->seen_items + m->seen_ptr[u] : NULL;
    items->i16 = m->seen16 ? m->seen16 + m->seen_ptr[u] : NULL;
    return m->seen_ptr[u + 1] - m->seen_ptr[u];
}

static const void *fct_mf_ops_params(const facto_model *model) { return &((const fct_mf_model *)model)->params; }
static facto_task fct_mf_ops_task(const facto_model *model)
{
    (void)model;
    return FACTO_TASK_REGRESSION;
}
static unsigned fct_mf_ops_inputs(const facto_model *model)
{
    (void)model;
    return FACTO_INPUT_RATINGS;
}
static const facto_idmap *fct_mf_ops_users(const facto_model *model) { return ((const fct_mf_model *)model)->users; }
static const facto_idmap *fct_mf_ops_items(const facto_model *model) { return ((const fct_mf_model *)model)->items; }

/* ---- training support (the epoch loop is src/train/fit_mf.c) ------------- */

/* The largest |bits| of a[0..n): every a[x] is finite when it is below
 * 0x7f800000, that of inf (an unsigned max, which vectorises; a float sum
 * of 0 * a[x] is one long dependency chain). */
uint32_t fct_mf_abs_bits_max(const float *a, size_t n)
{
    uint32_t mx = 0;
    for (size_t x = 0; x < n; x++) {
        uint32_t b;
        memcpy(&b, a + x, sizeof b);
        b &= 0x7fffffffu;
        mx = b > mx ? b : mx;
    }
    return mx;
}

static int fct_mf_all_finite(const float *a, size_t n)
{
    return fct_mf_abs_bits_max(a, n) < 0x7f800000u;
}

int fct_mf_params_finite(const fct_mf_model *m)
{
    size_t k = (size_t)m->ld; /* the padding is 0, and the bias copies are finite when bu, bi are */
    return fct_mf_all_finite(m->bu, (size_t)m->n_users) && fct_mf_all_finite(m->bi, (size_t)m->n_items) &&
           fct_mf_all_finite(m->P, (size_t)m->n_users * k) && fct_mf_all_finite(m->Q, (size_t)m->n_items * k);
}

float fct_mf_reg_from_data(double sd, int64_t n_ratings, int32_t users_rated, int32_t items_rated)
{
    if (!(sd > 0.0) || !isfinite(sd) || n_ratings <= 0 || users_rated <= 0 || items_rated <= 0)
        return 0.0f;
    const double n = (double)n_ratings;
    const double reg = FCT_MF_REG_SCALE * sd * (1.0 / sqrt(n / users_rated) + 1.0 / sqrt(n / items_rated));
    return (float)(reg < FCT_MF_REG_MAX ? reg : FCT_MF_REG_MAX);
}

/* Build the model shell: maps, mu, range, seen lists, random factors. */
facto_status fct_mf_init(facto_ctx *ctx, const facto_dataset *train, const facto_mf_params *p, fct_rng *rng,
                         int32_t ld, int with_seen, fct_mf_model **out)
{
    /* Without seen lists their array is allocated and never touched, then
     * freed: no pages. */
    fct_mf_model *m = fct_mf_model_alloc_ld(train->n_users, train->n_items, p->num_factors, train->n_ratings,
                                            ld > p->num_factors ? ld : p->num_factors, 0);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for a model of %d users, %d items, %d factors",
                          train->n_users, train->n_items, p->num_factors);
    m->params = *p;
    m->users = fct_idmap_clone(train->user_map);
    m->items = fct_idmap_clone(train->item_map);
    if (!m->users || !m->items) {
        fct_mf_model_destroy(m);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory copying id maps");
    }
    m->mu = fct_dataset_rating_sum(train, fct_threads(ctx)) / (double)train->n_ratings;
    if (isnan(p->reg_factors)) {
        double sd = 0.0;
        int32_t nu = 0, ni = 0;
        facto_status st = fct_dataset_spread(ctx, train, m->mu, fct_threads(ctx), &sd, &nu, &ni);
        if (st != FACTO_OK) {
            fct_mf_model_destroy(m);
            return st;
        }
        m->params.reg_factors = fct_mf_reg_from_data(sd, train->n_ratings, nu, ni);
    }
    m->min_rating = train->min_rating;
    m->max_rating = train->max_rating;
    memcpy(m->seen_ptr, train->row_ptr, ((size_t)train->n_users + 1) * sizeof *m->seen_ptr);
    free(m->seen_items);
    m->seen_items = NULL;
    if (with_seen) {
        facto_status st = fct_mf_set_seen(ctx, m, train);
        if (st != FACTO_OK) {
            fct_mf_model_destroy(m);
            return st;
        }
    }
    /* every element of P and Q written here (their first touch), over the
     * context's threads; the values those of fct_rng_normal in a plain loop */
    const size_t k = (size_t)m->k, s = (size_t)m->ld;
    const int nt = fct_threads(ctx);
    fct_rng_normal_rows(rng, m->P, (size_t)m->n_users, k, s, (double)p->init_std, nt);
    fct_rng_normal_rows(rng, m->Q, (size_t)m->n_items, k, s, (double)p->init_std, nt);
    if (s > k) { /* the spare zero rows */
        memset(m->P + (size_t)m->n_users * s, 0, s * sizeof *m->P);
        memset(m->Q + (size_t)m->n_items * s, 0, s * sizeof *m->Q);
    }
    *out = m;
    return FACTO_OK;
}

facto_status fct_mf_set_seen(facto_ctx *ctx, fct_mf_model *m, const facto_dataset *train)
{
    const int64_t n = train->n_ratings;
    const fct_narrow *nw = &train->narrow;
    free(m->seen_items);
    free(m->seen16);
    m->seen_items = NULL;
    m->seen16 = NULL;
    if (m->n_items > FCT_MF_SEEN16_MAX) {
        facto_status st = fct_dataset_wide(ctx, train);
        if (st != FACTO_OK)
            return st;
        if (!(m->seen_items = fct_malloc_array((size_t)n + 1, sizeof *m->seen_items)))
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the model's item lists");
        memcpy(m->seen_items, train->items, (size_t)n * sizeof *m->seen_items);
        return FACTO_OK;
    }
    if (!(m->seen16 = fct_malloc_array((size_t)n + 1, sizeof *m->seen16)))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the model's item lists");
    /* in pieces, the mapped pages of a .fds data set given back once copied,
     * so the copy does not sit beside the whole mapping; the pieces over the
     * context's threads (the copy's first touch too) */
    const int64_t piece = (int64_t)1 << 20, n_pieces = (n + piece - 1) / piece;
    const int nt = fct_threads(ctx);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1 && n_pieces > 1)
    for (int64_t q = 0; q < n_pieces; q++) {
        const int64_t x = q * piece, e = x + piece < n ? x + piece : n;
        if (train->items) {
            for (int64_t j = x; j < e; j++)
                m->seen16[j] = (uint16_t)train->items[j];
        } else if (nw->item_w == 2) {
            memcpy(m->seen16 + x, (const uint16_t *)nw->items + x, (size_t)(e - x) * sizeof *m->seen16);
            fct_release_mapped((const uint16_t *)nw->items + x, (uint64_t)(e - x) * sizeof(uint16_t));
        } else {
            const int32_t *src = nw->items;
            for (int64_t j = x; j < e; j++)
                m->seen16[j] = (uint16_t)src[j];
            fct_release_mapped(src + x, (uint64_t)(e - x) * sizeof *src);
        }
    }
    return FACTO_OK;
}

/* Rows of stride ld to rows of stride k, moving forward (a row never lands
 * past its old place); then the pages past the compact arrays are given back. */
static void fct_mf_compact_one(float *a, size_t rows, size_t k, size_t ld)
{
    for (size_t r = 1; r < rows; r++)
        memmove(a + r * k, a + r * ld, k * sizeof(float));
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0)
        return;
    uintptr_t b = (uintptr_t)(a + rows * k), e = (uintptr_t)(a + (rows + 1) * ld);
    b = (b + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
    e &= ~((uintptr_t)pg - 1);
    if (e > b)
        (void)madvise((void *)b, e - b, MADV_DONTNEED);
}

void fct_mf_compact(fct_mf_model *m)
{
    if (m->ld == m->k)
        return;
    fct_mf_compact_one(m->P, (size_t)m->n_users, (size_t)m->k, (size_t)m->ld);
    fct_mf_compact_one(m->Q, (size_t)m->n_items, (size_t)m->k, (size_t)m->ld);
    m->ld = m->k;
}

/* ---- model file sections ---------------------------------------------------------- */

#define FACTO_MF_TAG_HPARAMS FACTO_TAG('M', 'F', 'H', 'P')
#define FACTO_MF_TAG_BU FACTO_TAG('M', 'F', 'B', 'U')
#define FACTO_MF_TAG_BI FACTO_TAG('M', 'F', 'B', 'I')
#define FACTO_MF_TAG_P FACTO_TAG('M', 'F', 'P', 'U')
#define FACTO_MF_TAG_Q FACTO_TAG('M', 'F', 'Q', 'I')
#define FACTO_MF_TAG_USERS FACTO_TAG('M', 'F', 'U', 'I')
#define FACTO_MF_TAG_ITEMS FACTO_TAG('M', 'F', 'I', 'I')
#define FACTO_MF_TAG_SEEN_PTR FACTO_TAG('M', 'F', 'S', 'P')
#define FACTO_MF_TAG_SEEN FACTO_TAG('M', 'F', 'S', 'I')

/* MFHP section: 80 bytes at fixed offsets (docs/format.md), little-endian
 * on every host (the fct_le_* helpers). */
#define FACTO_MF_HP_BYTES 80
#define FACTO_MF_HP_LAYOUT 1

static void fct_mf_pack_header(const fct_mf_model *m, unsigned char *b)
{
    memset(b, 0, FACTO_MF_HP_BYTES);
    fct_le_store_u32(b + 0, FACTO_MF_HP_LAYOUT);
    fct_le_store_u32(b + 4, (uint32_t)m->params.num_factors);
    fct_le_store_u32(b + 8, (uint32_t)m->params.epochs);
    fct_le_store_u32(b + 12, (uint32_t)(int32_t)m->params.optimizer);
    fct_le_store_f32(b + 16, m->params.learning_rate);
    fct_le_store_f32(b + 20, m->params.lr_decay);
    fct_le_store_f32(b + 24, m->params.momentum);
    fct_le_store_f32(b + 28, m->params.reg_factors);
    fct_le_store_f32(b + 32, m->params.reg_bias);
    fct_le_store_f32(b + 36, m->params.init_std);
    fct_le_store_u64(b + 40, (uint64_t)m->params.seed);
    fct_le_store_u32(b + 48, (uint32_t)m->n_users);
    fct_le_store_u32(b + 52, (uint32_t)m->n_items);
    fct_le_store_f64(b + 56, m->mu);
    fct_le_store_f32(b + 64, m->min_rating);
    fct_le_store_f32(b + 68, m->max_rating);
    fct_le_store_u64(b + 72, (uint64_t)m->n_seen);
}

static facto_status fct_mf_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w)
{
    const fct_mf_model *m = fct_as_mf(model);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "mf save called on another model kind");
    unsigned char hp[FACTO_MF_HP_BYTES];
    fct_mf_pack_header(m, hp);
    size_t k = (size_t)m->k, nu = (size_t)m->n_users, ni = (size_t)m->n_items;
    facto_status st = fct_mfile_put(ctx, w, FACTO_MF_TAG_HPARAMS, hp, sizeof hp);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_BU, m->bu, sizeof(float), nu);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_BI, m->bi, sizeof(float), ni);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_P, m->P, sizeof(float), nu * k);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_Q, m->Q, sizeof(float), ni * k);
    if (st == FACTO_OK)
        st = fct_model_put_idmap(ctx, w, FACTO_MF_TAG_USERS, m->users);
    if (st == FACTO_OK)
        st = fct_model_put_idmap(ctx, w, FACTO_MF_TAG_ITEMS, m->items);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_SEEN_PTR, m->seen_ptr, sizeof(int64_t), nu + 1);
    /* seen items: uint16 up to 65,536 items (format 2), else int32 */
    if (st == FACTO_OK && m->n_items > FCT_MF_SEEN16_MAX) {
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_SEEN, m->seen_items, sizeof(int32_t), (uint64_t)m->n_seen);
    } else if (st == FACTO_OK) {
        fct_mfile_need_version(w, 2);
        uint16_t *narrow = NULL; /* a model holding int32 lists (built in pieces: DSGD, tests) */
        if (!m->seen16 && m->n_seen > 0) {
            if (!(narrow = fct_malloc_array((size_t)m->n_seen, sizeof *narrow)))
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory writing the seen lists");
            for (int64_t x = 0; x < m->n_seen; x++)
                narrow[x] = (uint16_t)m->seen_items[x];
        }
        st = fct_mfile_put_array(ctx, w, FACTO_MF_TAG_SEEN, m->seen16 ? m->seen16 : narrow, sizeof(uint16_t),
                                 (uint64_t)m->n_seen);
        free(narrow);
    }
    return st;
}

static facto_status fct_mf_corrupt(facto_ctx *ctx, const fct_mfile_reader *r, const char *what)
{
    return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: mf model: %s", fct_mfile_path(r), what);
}

/* Copy section `tag` of exactly `bytes` bytes into dst. */
static facto_status fct_mf_get_copy(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, void *dst,
                                      size_t bytes)
{
    const void *data = NULL;
    uint64_t nbytes = 0;
    facto_status st = fct_mfile_get(ctx, r, tag, (int64_t)bytes, &data, &nbytes);
    if (st == FACTO_OK && bytes)
        memcpy(dst, data, bytes);
    return st;
}

static facto_status fct_mf_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    *out = NULL;
    const void *hpv = NULL;
    uint64_t nb = 0;
    facto_status st = fct_mfile_get(ctx, r, FACTO_MF_TAG_HPARAMS, FACTO_MF_HP_BYTES, &hpv, &nb);
    if (st != FACTO_OK)
        return st;
    const unsigned char *b = hpv;
    uint32_t layout;
    int32_t opt, n_users, n_items;
    int64_t n_seen;
    facto_mf_params p;
    memset(&p, 0, sizeof p);
    double mu;
    float min_r, max_r;
    layout = fct_le_load_u32(b + 0);
    p.num_factors = (int32_t)fct_le_load_u32(b + 4);
    p.epochs = (int32_t)fct_le_load_u32(b + 8);
    opt = (int32_t)fct_le_load_u32(b + 12);
    p.learning_rate = fct_le_load_f32(b + 16);
    p.lr_decay = fct_le_load_f32(b + 20);
    p.momentum = fct_le_load_f32(b + 24);
    p.reg_factors = fct_le_load_f32(b + 28);
    p.reg_bias = fct_le_load_f32(b + 32);
    p.init_std = fct_le_load_f32(b + 36);
    p.seed = fct_le_load_u64(b + 40);
    n_users = (int32_t)fct_le_load_u32(b + 48);
    n_items = (int32_t)fct_le_load_u32(b + 52);
    mu = fct_le_load_f64(b + 56);
    min_r = fct_le_load_f32(b + 64);
    max_r = fct_le_load_f32(b + 68);
    n_seen = (int64_t)fct_le_load_u64(b + 72);
    p.optimizer = (facto_optimizer)opt;
    if (layout != FACTO_MF_HP_LAYOUT)
        return fct_mf_corrupt(ctx, r, "unknown hyperparameter layout");
    if (fct_mf_validate(ctx, &p) != FACTO_OK)
        return fct_mf_corrupt(ctx, r, "hyperparameters out of range");
    /* unset (NAN) is for a fit to fill from the data: a trained model keeps the value it used */
    if (isnan(p.reg_factors))
        return fct_mf_corrupt(ctx, r, "reg_factors is unset (NaN) in the header; a trained model keeps the value "
                                      "it used");
    if (n_users < 0 || n_items < 0 || n_seen < 0 || !isfinite(mu) || !(min_r <= max_r))
        return fct_mf_corrupt(ctx, r, "bad sizes or rating range in the header");
    /* Training saves only finite figures, and mu is the mean of ratings in
     * [min_r, max_r] (allow for its rounding). */
    double slack = 1e-6 * (1.0 + fabs((double)min_r) + fabs((double)max_r));
    if (!isfinite(min_r) || !isfinite(max_r) || mu < (double)min_r - slack || mu > (double)max_r + slack)
        return fct_mf_corrupt(ctx, r, "the mean rating or the rating range in the header is not finite or "
                                         "not consistent");
    /* Sizes must match the sections before anything is allocated from them. */
    size_t k = (size_t)p.num_factors, nu = (size_t)n_users, ni = (size_t)n_items;
    const void *tmp;
    if (fct_mfile_get(ctx, r, FACTO_MF_TAG_P, -1, &tmp, &nb) != FACTO_OK)
        return facto_errcode(ctx);
    if (nb != fct_size_mul(fct_size_mul(nu, k), sizeof(float)))
        return fct_mf_corrupt(ctx, r, "user factor section size does not match the header");
    if (fct_mfile_get(ctx, r, FACTO_MF_TAG_Q, -1, &tmp, &nb) != FACTO_OK)
        return facto_errcode(ctx);
    if (nb != fct_size_mul(fct_size_mul(ni, k), sizeof(float)))
        return fct_mf_corrupt(ctx, r, "item factor section size does not match the header");
    if (fct_mfile_get(ctx, r, FACTO_MF_TAG_SEEN, -1, &tmp, &nb) != FACTO_OK)
        return facto_errcode(ctx);
    /* int32 items (format 1, or more than 65,536 items), else uint16 (format 2) */
    const int seen16 = n_items <= FCT_MF_SEEN16_MAX && fct_mfile_version(r) >= 2;
    if (nb != fct_size_mul((uint64_t)n_seen, seen16 ? sizeof(uint16_t) : sizeof(int32_t)))
        return fct_mf_corrupt(ctx, r, "seen list section size does not match the header");

    fct_mf_model *m = fct_mf_model_alloc(n_users, n_items, p.num_factors, seen16 ? 0 : n_seen);
    if (m && seen16) {
        free(m->seen_items);
        m->seen_items = NULL;
        m->n_seen = n_seen;
        if (!(m->seen16 = fct_malloc_array((size_t)n_seen + 1, sizeof *m->seen16))) {
            fct_mf_model_destroy(m);
            m = NULL;
        }
    }
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory loading %s", fct_mfile_path(r));
    m->params = p;
    m->mu = mu;
    m->min_rating = min_r;
    m->max_rating = max_r;
    st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_BU, m->bu, nu * sizeof(float));
    if (st == FACTO_OK)
        st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_BI, m->bi, ni * sizeof(float));
    if (st == FACTO_OK)
        st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_P, m->P, nu * k * sizeof(float));
    if (st == FACTO_OK)
        st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_Q, m->Q, ni * k * sizeof(float));
    if (st == FACTO_OK)
        st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_SEEN_PTR, m->seen_ptr, (nu + 1) * sizeof(int64_t));
    if (st == FACTO_OK && seen16)
        st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_SEEN, m->seen16, (size_t)n_seen * sizeof(uint16_t));
    else if (st == FACTO_OK)
        st = fct_mf_get_copy(ctx, r, FACTO_MF_TAG_SEEN, m->seen_items, (size_t)n_seen * sizeof(int32_t));
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FACTO_MF_TAG_USERS, &m->users);
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FACTO_MF_TAG_ITEMS, &m->items);
    if (st == FACTO_OK && (facto_idmap_size(m->users) != n_users || facto_idmap_size(m->items) != n_items))
        st = fct_mf_corrupt(ctx, r, "id map sizes do not match the header");
    if (st == FACTO_OK) {
        const fct_seen_list l = {seen16 ? NULL : m->seen_items, seen16 ? m->seen16 : NULL};
        const char *bad = fct_model_check_seen_list(m->seen_ptr, &l, n_users, n_items, n_seen);
        if (bad)
            st = fct_mf_corrupt(ctx, r, bad);
    }
    if (st == FACTO_OK && !fct_mf_params_finite(m)) {
        /* Name the section: user biases MFBU, item biases MFBI, factors MFPU / MFQI. */
        const struct {
            const float *a;
            size_t n;
            const char *what;
        } arr[4] = {{m->bu, nu, "the user biases (section 'MFBU') hold"},
                    {m->bi, ni, "the item biases (section 'MFBI') hold"},
                    {m->P, nu * k, "the user factors (section 'MFPU') hold"},
                    {m->Q, ni * k, "the item factors (section 'MFQI') hold"}};
        const char *what = NULL;
        for (int x = 0; x < 4 && !what; x++)
            for (size_t j = 0; j < arr[x].n && !what; j++)
                if (!isfinite(arr[x].a[j]))
                    what = arr[x].what;
        if (!what)
            what = "the biases or factors hold";
        char msg[160];
        snprintf(msg, sizeof msg, "%s a value that is not finite (inf or nan)", what);
        st = fct_mf_corrupt(ctx, r, msg);
    }
    if (st != FACTO_OK) {
        fct_mf_model_destroy(m);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}

const fct_model_ops fct_mf_ops = {
    .kind = FACTO_MODEL_MF,
    .name = "mf",
    .summary = "biased matrix factorization, SGD or Adam (Koren, Bell & Volinsky 2009)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_mf_ptable,
    .thread_invariant = 16, /* sgd: blocked, the same model from 1 to FCT_MF_GRID (16) threads, the grid
                               grows above (momentum and adam: Hogwild, on one thread by default) */
    .describe = fct_mf_params_describe,
    .param_used = fct_mf_param_used,
    .free = fct_mf_free,
    .save = fct_mf_save,
    .load = fct_mf_load,
    .get_params = fct_mf_ops_params,
    .task = fct_mf_ops_task,
    .inputs = fct_mf_ops_inputs,
    .users = fct_mf_ops_users,
    .items = fct_mf_ops_items,
    .score = fct_mf_ops_score,
    .finish = fct_mf_ops_finish,
    .dot_form = fct_mf_ops_dot_form,
    .seen = fct_mf_ops_seen,
};
