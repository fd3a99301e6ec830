/*
 * fm.c — the factorization machine model (Rendle, ICDM 2010): creation with
 * dense or hashed parameter slots (see fm.h), SageMaker's three init
 * methods, key -> slot mapping of input rows, scoring in O(k * nnz), the
 * public fit / predict / evaluate entry points, and save / load through the
 * model file layer. fit validates everything, then hands the model to the
 * solver named by params->solver (fm_sgd.c, fm_als.c, fm_mcmc.c), and
 * zeroes the parameters of features no training row uses. Ratings models
 * (fm.h) also score (user, item) ids from per-user / per-item sums.
 * Memory: O(n_slots * k) parameters + O(nnz) slot indices per input; never
 * O(feature_dim) in hashed mode.
 */
#include "fm.h"

#include "../data/dataset.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static void fct_fm_free(facto_model *base)
{
    fct_fm_model *m = (fct_fm_model *)base;
    if (!m)
        return;
    fct_aligned_free(m->w);
    fct_aligned_free(m->V);
    free(m->slot_keys);
    free(m->hash_keys);
    free(m->hash_slots);
    free(m->sample_w0);
    fct_aligned_free(m->sample_w);
    fct_aligned_free(m->sample_V);
    fct_idmap_free(m->users);
    fct_idmap_free(m->items);
    free(m->pair_b);
    fct_aligned_free(m->pair_q);
    free(m->seen_ptr);
    free(m->seen_items);
    free(m);
}

/* Draw one weight from an init method; sigma NAN means the default. */
static float fct_fm_draw(fct_rng *rng, facto_fm_init_method method, float scale, float sigma,
                           float default_sigma, float value)
{
    switch (method) {
    case FACTO_FM_INIT_UNIFORM: return (float)((2.0 * fct_rng_uniform(rng) - 1.0) * scale);
    case FACTO_FM_INIT_CONSTANT: return value;
    case FACTO_FM_INIT_NORMAL: break;
    }
    return (float)(fct_rng_normal(rng) * (isnan(sigma) ? default_sigma : sigma));
}

static int fct_fm_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Build the open-addressing table over m->slot_keys[0..n_slots). */
static facto_status fct_fm_build_hash(facto_ctx *ctx, fct_fm_model *m)
{
    uint64_t cells = 16;
    int bits = 4;
    while (cells < 2 * (uint64_t)m->n_slots) {
        cells <<= 1;
        bits++;
    }
    m->hash_keys = fct_malloc_array(cells, sizeof(uint32_t));
    m->hash_slots = fct_malloc_array(cells, sizeof(uint32_t));
    if (!m->hash_keys || !m->hash_slots)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for a %llu-cell key table",
                          (unsigned long long)cells);
    memset(m->hash_slots, 0xff, cells * sizeof(uint32_t));
    m->hash_mask = cells - 1;
    m->hash_shift = 64 - bits;
    for (int64_t s = 0; s < m->n_slots; s++) {
        uint32_t key = m->slot_keys[s];
        uint64_t h = ((uint64_t)key * 0x9E3779B97F4A7C15ull) >> m->hash_shift;
        while (m->hash_slots[h] != FACTO_FM_NO_SLOT)
            h = (h + 1) & m->hash_mask;
        m->hash_keys[h] = key;
        m->hash_slots[h] = (uint32_t)s;
    }
    return FACTO_OK;
}

static fct_fm_model *fct_fm_alloc(void)
{
    fct_fm_model *m = calloc(1, sizeof *m);
    if (m)
        m->base.ops = &fct_fm_ops;
    return m;
}

static facto_status fct_fm_alloc_params(facto_ctx *ctx, fct_fm_model *m)
{
    uint64_t nw = (uint64_t)m->n_slots, nv = (uint64_t)m->n_slots * (uint64_t)m->k;
    m->w = fct_aligned_alloc((nw ? nw : 1) * sizeof(float));
    m->V = fct_aligned_alloc((nv ? nv : 1) * sizeof(float));
    if (!m->w || !m->V)
        return fct_fail(ctx, FACTO_ERR_NOMEM,
                          "factorization machine: out of memory for %lld slots x %d factors (lower num_factors, or "
                          "feature_dim to the keys really used)",
                          (long long)m->n_slots, m->k);
    return FACTO_OK;
}

facto_status fct_fm_model_new(facto_ctx *ctx, const facto_fm_params *params, const facto_rows *train,
                                fct_fm_model **out)
{
    *out = NULL;
    facto_status st = facto_fm_params_validate(ctx, params);
    if (st != FACTO_OK)
        return st;
    fct_fm_model *m = fct_fm_alloc();
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory");
    m->params = *params;
    m->k = params->num_factors;
    m->target_min = 0.0f;
    m->target_max = 1.0f;
    uint64_t dim = params->feature_dim;
    if (dim * (uint64_t)(m->k + 1) <= FACTO_FM_DENSE_MAX_FLOATS) {
        m->hashed = 0;
        m->n_slots = (int64_t)dim;
    } else {
        /* Hashed: one slot per distinct key of the training rows. */
        m->hashed = 1;
        int64_t nnz = train ? train->nnz : 0;
        m->slot_keys = fct_malloc_array((size_t)(nnz ? nnz : 1), sizeof(uint32_t));
        if (!m->slot_keys) {
            fct_fm_free(&m->base);
            return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for %lld keys",
                              (long long)nnz);
        }
        for (int64_t r = 0; train && r < train->n_rows; r++)
            for (int64_t j = train->row_ptr[r]; j < train->row_ptr[r + 1]; j++) {
                if ((uint64_t)train->keys[j] >= dim) {
                    fct_fm_free(&m->base);
                    return fct_fail(ctx, FACTO_ERR_INVALID, "training row %lld: feature key %u >= feature_dim %llu",
                                      (long long)r + 1, train->keys[j], (unsigned long long)dim);
                }
                m->slot_keys[j] = train->keys[j];
            }
        qsort(m->slot_keys, (size_t)nnz, sizeof(uint32_t), fct_fm_cmp_u32);
        int64_t n = 0;
        for (int64_t j = 0; j < nnz; j++)
            if (n == 0 || m->slot_keys[n - 1] != m->slot_keys[j])
                m->slot_keys[n++] = m->slot_keys[j];
        if (n >= (int64_t)FACTO_FM_NO_SLOT) {
            fct_fm_free(&m->base);
            return fct_fail(ctx, FACTO_ERR_INVALID, "training rows use %lld distinct keys; at most %u are supported",
                              (long long)n, FACTO_FM_NO_SLOT - 1);
        }
        m->n_slots = n;
        uint32_t *shrunk = fct_realloc_array(m->slot_keys, (size_t)(n ? n : 1), sizeof(uint32_t));
        if (shrunk)
            m->slot_keys = shrunk;
        st = fct_fm_build_hash(ctx, m);
        if (st != FACTO_OK) {
            fct_fm_free(&m->base);
            return st;
        }
    }
    st = fct_fm_alloc_params(ctx, m);
    if (st != FACTO_OK) {
        fct_fm_free(&m->base);
        return st;
    }
    fct_rng rng;
    fct_rng_seed(&rng, params->seed);
    m->w0 = fct_fm_draw(&rng, params->bias_init_method, params->bias_init_scale, params->bias_init_sigma, 0.01f,
                          params->bias_init_value);
    for (int64_t s = 0; s < m->n_slots; s++)
        m->w[s] = fct_fm_draw(&rng, params->linear_init_method, params->linear_init_scale,
                                params->linear_init_sigma, 0.01f, params->linear_init_value);
    int64_t nv = m->n_slots * m->k;
    for (int64_t i = 0; i < nv; i++)
        m->V[i] = fct_fm_draw(&rng, params->factors_init_method, params->factors_init_scale,
                                params->factors_init_sigma, 0.001f, params->factors_init_value);
    *out = m;
    return FACTO_OK;
}

facto_status fct_fm_map_rows(facto_ctx *ctx, const fct_fm_model *m, const facto_rows *rows, const char *what,
                             uint32_t **slots)
{
    *slots = NULL;
    uint32_t *s = fct_malloc_array((size_t)(rows->nnz ? rows->nnz : 1), sizeof(uint32_t));
    if (!s)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory mapping %lld entries",
                          (long long)rows->nnz);
    uint64_t dim = m->params.feature_dim;
    for (int64_t r = 0; r < rows->n_rows; r++)
        for (int64_t j = rows->row_ptr[r]; j < rows->row_ptr[r + 1]; j++) {
            uint32_t key = rows->keys[j];
            if ((uint64_t)key >= dim) {
                free(s);
                return fct_fail(ctx, FACTO_ERR_INVALID, "%s row %lld: feature key %u >= feature_dim %llu", what,
                                  (long long)r + 1, key, (unsigned long long)dim);
            }
            if (!isfinite(rows->values[j])) {
                free(s);
                return fct_fail(ctx, FACTO_ERR_INVALID, "%s row %lld: the value of feature key %u is not finite",
                                  what, (long long)r + 1, key);
            }
            s[j] = fct_fm_slot(m, key);
        }
    *slots = s;
    return FACTO_OK;
}

/* y^ of one row with parameters (w0, w, V), without scratch memory: the
 * factors are walked in blocks of 64 on the stack. */
static double fct_fm_raw_noscratch(const fct_fm_model *m, float w0, const float *w, const float *V,
                                     const uint32_t *slots, const float *values, int64_t n)
{
    const int32_t k = m->k;
    double y = w0;
    for (int64_t j = 0; j < n; j++)
        if (slots[j] != FACTO_FM_NO_SLOT)
            y += (double)w[slots[j]] * values[j];
    for (int32_t f0 = 0; f0 < k; f0 += 64) {
        int32_t nf = k - f0 < 64 ? k - f0 : 64;
        double sum[64], sq = 0.0;
        for (int32_t f = 0; f < nf; f++)
            sum[f] = 0.0;
        for (int64_t j = 0; j < n; j++) {
            if (slots[j] == FACTO_FM_NO_SLOT)
                continue;
            const float *v = V + (int64_t)slots[j] * k + f0;
            double x = values[j];
            for (int32_t f = 0; f < nf; f++) {
                double t = v[f] * x;
                sum[f] += t;
                sq += t * t;
            }
        }
        double dot = 0.0;
        for (int32_t f = 0; f < nf; f++)
            dot += sum[f] * sum[f];
        y += 0.5 * (dot - sq);
    }
    return y;
}

static float fct_fm_finish(const fct_fm_model *m, double y)
{
    if (m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER)
        return (float)(1.0 / (1.0 + exp(-y)));
    return (float)fct_fm_clip(m, y);
}

/* The prediction (or, RAW, the raw y^ of a model without samples) of one
 * row whose keys are mapped to slots[n]. Samples (MCMC) average their
 * predictions. O(n k) per sample. */
static float fct_fm_predict_slots(const fct_fm_model *m, const uint32_t *slots, const float *values, int64_t n,
                                  fct_score_mode mode)
{
    if (m->n_samples > 0) {
        double acc = 0.0;
        for (int32_t t = 0; t < m->n_samples; t++) {
            const float *w = m->sample_w + (int64_t)t * m->n_slots;
            const float *V = m->sample_V + (int64_t)t * m->n_slots * m->k;
            acc += fct_fm_finish(m, fct_fm_raw_noscratch(m, m->sample_w0[t], w, V, slots, values, n));
        }
        return (float)(acc / m->n_samples);
    }
    double y = fct_fm_raw_noscratch(m, m->w0, m->w, m->V, slots, values, n);
    return mode == FCT_SCORE_PREDICT ? fct_fm_finish(m, y) : (float)y;
}

void fct_fm_score_rows(const fct_fm_model *m, const facto_rows *rows, const uint32_t *slots, float *scores)
{
    for (int64_t r = 0; r < rows->n_rows; r++) {
        int64_t b = rows->row_ptr[r], n = rows->row_ptr[r + 1] - b;
        scores[r] = fct_fm_predict_slots(m, slots + b, rows->values + b, n, FCT_SCORE_PREDICT);
    }
}

facto_status fct_fm_metrics_from_scores(facto_ctx *ctx, const fct_fm_model *m, const facto_rows *rows,
                                          const float *scores, fct_fm_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->predictor_type = m->params.predictor_type;
    out->n_rows = rows->n_rows;
    out->rmse = out->mae = NAN;
    out->binary.accuracy = out->binary.cross_entropy = out->binary.f_beta = NAN;
    out->binary.precision = out->binary.recall = out->binary.auc = NAN;
    if (!rows->labels)
        return fct_fail(ctx, FACTO_ERR_INVALID, "factorization machine: the rows have no labels to score against");
    if (rows->n_rows == 0)
        return FACTO_OK;
    if (m->params.predictor_type == FACTO_FM_REGRESSOR) {
        double se = 0.0, ae = 0.0;
        for (int64_t r = 0; r < rows->n_rows; r++) {
            double e = (double)scores[r] - rows->labels[r];
            se += e * e;
            ae += fabs(e);
        }
        out->rmse = sqrt(se / (double)rows->n_rows);
        out->mae = ae / (double)rows->n_rows;
        return FACTO_OK;
    }
    return facto_binary_metrics_compute(ctx, rows->labels, scores, rows->n_rows, 0.5, 1.0, &out->binary);
}

/* Labels must be present and finite; a classifier's must be 0/1 or -1/+1. */
facto_status fct_fm_check_labels(facto_ctx *ctx, const facto_fm_params *p, const facto_rows *rows,
                                          const char *what)
{
    if (!rows->labels)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%s rows have no labels", what);
    for (int64_t r = 0; r < rows->n_rows; r++) {
        float y = rows->labels[r];
        if (!isfinite(y))
            return fct_fail(ctx, FACTO_ERR_INVALID, "%s row %lld: the label is not a finite number", what,
                              (long long)r + 1);
        if (p->predictor_type == FACTO_FM_BINARY_CLASSIFIER && y != 0.0f && y != 1.0f && y != -1.0f)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "%s row %lld: label %g is not 0 or 1 (or -1/+1) as binary_classifier needs", what,
                              (long long)r + 1, (double)y);
    }
    return FACTO_OK;
}

/* A slot no training row touches keeps its initial draw under SGD (dense
 * mode gives every key a slot), or the prior mean under MCMC: set w and v
 * (and those of every stored sample) to 0 so an unseen feature scores 0,
 * as a hashed model's missing key does. O(nnz + n_slots (k + 1)). */
facto_status fct_fm_zero_unseen(facto_ctx *ctx, fct_fm_model *m, const facto_rows *train,
                                  const uint32_t *slots)
{
    uint8_t *seen = fct_calloc_array(m->n_slots ? (size_t)m->n_slots : 1, 1);
    if (!seen)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for %lld slot flags",
                          (long long)m->n_slots);
    for (int64_t j = 0; j < train->nnz; j++)
        if (slots[j] != FACTO_FM_NO_SLOT && train->values[j] != 0.0f)
            seen[slots[j]] = 1;
    const int64_t k = m->k;
    for (int64_t s = 0; s < m->n_slots; s++) {
        if (seen[s])
            continue;
        m->w[s] = 0.0f;
        memset(m->V + s * k, 0, (size_t)k * sizeof(float));
        for (int32_t t = 0; t < m->n_samples; t++) {
            m->sample_w[(int64_t)t * m->n_slots + s] = 0.0f;
            memset(m->sample_V + ((int64_t)t * m->n_slots + s) * k, 0, (size_t)k * sizeof(float));
        }
    }
    free(seen);
    return FACTO_OK;
}

/* ---- the model interface -------------------------------------------------------- */

/* y^ of (u, i) from the per-user / per-item sums of a ratings model, in
 * double; -1 = unknown (its b and q count as 0). O(pair_k). */
static double fct_fm_pair_raw(const fct_fm_model *m, int32_t u, int32_t i)
{
    const int32_t pk = m->pair_k;
    double y = m->pair_w0;
    if (u >= 0)
        y += m->pair_b[u];
    if (i >= 0)
        y += m->pair_b[m->n_users + i];
    if (u >= 0 && i >= 0) {
        const float *a = m->pair_q + (int64_t)u * pk, *b = m->pair_q + ((int64_t)m->n_users + i) * pk;
        double dot = 0.0;
        for (int32_t f = 0; f < pk; f++)
            dot += (double)a[f] * b[f];
        y += dot;
    }
    return y;
}

/* One feature row's score: keys mapped to slots on the stack in chunks is
 * not possible (the sum needs all of them), so a row over 256 keys takes a
 * heap buffer. Samples (MCMC) average their predictions. */
static facto_status fct_fm_score_row(facto_ctx *ctx, const fct_fm_model *m, const fct_query *q,
                                     fct_score_mode mode, float *out)
{
    uint32_t stack[256], *slots = stack;
    if (q->n_keys > 256 && !(slots = fct_malloc_array((size_t)q->n_keys, sizeof *slots)))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for a row of %lld keys",
                        (long long)q->n_keys);
    facto_status st = FACTO_OK;
    for (int64_t j = 0; j < q->n_keys && st == FACTO_OK; j++) {
        if ((uint64_t)q->keys[j] >= m->params.feature_dim)
            st = fct_fail(ctx, FACTO_ERR_INVALID, "feature key %u >= feature_dim %llu", q->keys[j],
                          (unsigned long long)m->params.feature_dim);
        else if (!isfinite(q->values[j]))
            st = fct_fail(ctx, FACTO_ERR_INVALID, "the value of feature key %u is not finite", q->keys[j]);
        else
            slots[j] = fct_fm_slot(m, q->keys[j]);
    }
    if (st == FACTO_OK)
        out[0] = fct_fm_predict_slots(m, slots, q->values, q->n_keys, mode);
    if (slots != stack)
        free(slots);
    return st;
}

static facto_status fct_fm_ops_score(facto_ctx *ctx, const facto_model *model, const fct_query *q,
                                     const int32_t *items, int64_t n, fct_score_mode mode, float *out)
{
    const fct_fm_model *m = (const fct_fm_model *)model;
    if (!m->users) {
        if (q->user >= 0 || q->n_history > 0 || items)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "this factorization machine was trained on feature rows: it scores feature rows "
                            "(SageMaker requests), not (user, item) ids");
        return fct_fm_score_row(ctx, m, q, mode, out);
    }
    if (q->n_keys > 0 || q->n_history > 0)
        /* Its w / V are one sample; what it predicts with are the posterior
         * per-user / per-item sums, reached by ids only. */
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this factorization machine was trained from ratings in block form: it predicts (user, "
                        "item) pairs by id, not feature rows or histories");
    int32_t u = q->user < m->n_users ? q->user : -1;
    if (!items)
        n = m->n_items;
    for (int64_t j = 0; j < n; j++) {
        int32_t i = items ? items[j] : (int32_t)j;
        double y = fct_fm_pair_raw(m, u, i < m->n_items ? i : -1);
        out[j] = mode == FCT_SCORE_PREDICT ? fct_fm_finish(m, y) : (float)y;
    }
    return FACTO_OK;
}

static void fct_fm_ops_finish(const facto_model *model, float *scores, int64_t n)
{
    const fct_fm_model *m = (const fct_fm_model *)model;
    for (int64_t j = 0; j < n; j++)
        scores[j] = fct_fm_finish(m, scores[j]);
}

static float fct_fm_ops_pair(const facto_model *model, int32_t u, int32_t i)
{
    return (float)fct_fm_pair_raw((const fct_fm_model *)model, u, i);
}

static int fct_fm_ops_dot_form(const facto_model *model, fct_dot_form *out)
{
    const fct_fm_model *m = (const fct_fm_model *)model;
    if (!m->users)
        return 0;
    out->pair = fct_fm_ops_pair;
    out->c = m->pair_w0;
    out->user_bias = m->pair_b;
    out->item_bias = m->pair_b + m->n_users;
    out->U = m->pair_q;
    out->V = m->pair_q + (int64_t)m->n_users * m->pair_k;
    out->n_users = m->n_users;
    out->n_items = m->n_items;
    out->k = m->pair_k;
    out->ldu = out->ldv = m->pair_k;
    return 1;
}

static int64_t fct_fm_ops_seen(const facto_model *model, int32_t u, fct_seen_list *items)
{
    const fct_fm_model *m = (const fct_fm_model *)model;
    items->i32 = NULL;
    items->i16 = NULL;
    if (!m->seen_ptr)
        return -1;
    if (u < 0 || u >= m->n_users)
        return 0;
    items->i32 = m->seen_items + m->seen_ptr[u];
    return m->seen_ptr[u + 1] - m->seen_ptr[u];
}

/* SGD trains on feature rows only (ratings are one-hot encoded first); ALS
 * and MCMC also on ratings in block form. */
static unsigned fct_fm_ops_inputs_of(const void *params)
{
    const facto_fm_params *p = params;
    return p->solver == FACTO_FM_SOLVER_SGD ? FACTO_INPUT_ROWS : FACTO_INPUT_ROWS | FACTO_INPUT_RATINGS;
}

static const void *fct_fm_ops_params(const facto_model *model) { return &((const fct_fm_model *)model)->params; }

static facto_task fct_fm_ops_task(const facto_model *model)
{
    return ((const fct_fm_model *)model)->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER
               ? FACTO_TASK_BINARY
               : FACTO_TASK_REGRESSION;
}

static unsigned fct_fm_ops_inputs(const facto_model *model)
{
    return ((const fct_fm_model *)model)->users ? FACTO_INPUT_RATINGS : FACTO_INPUT_ROWS;
}

static const facto_idmap *fct_fm_ops_users(const facto_model *model) { return ((const fct_fm_model *)model)->users; }
static const facto_idmap *fct_fm_ops_items(const facto_model *model) { return ((const fct_fm_model *)model)->items; }

facto_status fct_fm_set_seen(facto_ctx *ctx, fct_fm_model *m, const facto_dataset *train)
{
    free(m->seen_ptr);
    free(m->seen_items);
    m->n_seen = train->n_ratings;
    m->seen_ptr = fct_malloc_array((size_t)train->n_users + 1, sizeof *m->seen_ptr);
    m->seen_items = fct_malloc_array((size_t)(train->n_ratings > 0 ? train->n_ratings : 1), sizeof *m->seen_items);
    if (!m->seen_ptr || !m->seen_items)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for %lld seen items",
                        (long long)train->n_ratings);
    memcpy(m->seen_ptr, train->row_ptr, ((size_t)train->n_users + 1) * sizeof *m->seen_ptr);
    memcpy(m->seen_items, train->items, (size_t)train->n_ratings * sizeof *m->seen_items);
    return FACTO_OK;
}

/* ---- model file ------------------------------------------------------------
 * Sections: FMPR hyperparameters as "name=value\n" text (read back through
 * facto_fm_params_set, so a file can never carry an invalid setting); FMHD a
 * 40-byte header (u64 feature_dim, u64 n_slots, i32 k, i32 hashed,
 * i32 n_samples, f32 w0, f32 target_min, f32 target_max); FMW_ w [n_slots];
 * FMV_ V [n_slots, k]; FMKY slot keys [n_slots] (hashed only); FMS0/FMSW/FMSV
 * posterior samples (n_samples > 0 only). Little-endian, as the file layer. */
#define FACTO_FM_TAG_PARAMS FACTO_TAG('F', 'M', 'P', 'R')
#define FACTO_FM_TAG_HEAD FACTO_TAG('F', 'M', 'H', 'D')
#define FACTO_FM_TAG_W FACTO_TAG('F', 'M', 'W', '_')
#define FACTO_FM_TAG_V FACTO_TAG('F', 'M', 'V', '_')
#define FACTO_FM_TAG_KEYS FACTO_TAG('F', 'M', 'K', 'Y')
#define FACTO_FM_TAG_S0 FACTO_TAG('F', 'M', 'S', '0')
#define FACTO_FM_TAG_SW FACTO_TAG('F', 'M', 'S', 'W')
#define FACTO_FM_TAG_SV FACTO_TAG('F', 'M', 'S', 'V')
#define FACTO_FM_HEAD_BYTES 40
/* Ratings models only: FMPH a 20-byte header (i32 n_users, i32 n_items,
 * i32 pair_k, i32 feature bits, f32 w0), FMUS / FMIT the id maps, FMPB b
 * [n_users + n_items], FMPQ q [n_users + n_items, pair_k]. */
#define FACTO_FM_TAG_PAIR_HEAD FACTO_TAG('F', 'M', 'P', 'H')
#define FACTO_FM_TAG_USERS FACTO_TAG('F', 'M', 'U', 'S')
#define FACTO_FM_TAG_ITEMS FACTO_TAG('F', 'M', 'I', 'T')
#define FACTO_FM_TAG_PAIR_B FACTO_TAG('F', 'M', 'P', 'B')
#define FACTO_FM_TAG_PAIR_Q FACTO_TAG('F', 'M', 'P', 'Q')
#define FACTO_FM_PAIR_HEAD_BYTES 20
/* Ratings models from facto 0.2 on: FMRP / FMRI each training user's rated
 * items (CSR offsets [n_users + 1] int64, items int32), for top-N. */
#define FACTO_FM_TAG_RATED_PTR FACTO_TAG('F', 'M', 'R', 'P')
#define FACTO_FM_TAG_RATED FACTO_TAG('F', 'M', 'R', 'I')

static facto_status fct_fm_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w)
{
    const fct_fm_model *m = (const fct_fm_model *)model;
    size_t need = fct_fm_params_dump(&m->params, NULL, 0) + 1;
    char *text = malloc(need);
    if (!text)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory saving hyperparameters");
    fct_fm_params_dump(&m->params, text, need);
    facto_status st = fct_mfile_put(ctx, w, FACTO_FM_TAG_PARAMS, text, need - 1);
    free(text);
    if (st != FACTO_OK)
        return st;
    uint8_t head[FACTO_FM_HEAD_BYTES];
    fct_le_store_u64(head, m->params.feature_dim);
    fct_le_store_u64(head + 8, (uint64_t)m->n_slots);
    fct_le_store_u32(head + 16, (uint32_t)m->k);
    fct_le_store_u32(head + 20, (uint32_t)m->hashed);
    fct_le_store_u32(head + 24, (uint32_t)m->n_samples);
    fct_le_store_f32(head + 28, m->w0);
    fct_le_store_f32(head + 32, m->target_min);
    fct_le_store_f32(head + 36, m->target_max);
    st = fct_mfile_put(ctx, w, FACTO_FM_TAG_HEAD, head, sizeof head);
    /* numbers little-endian on every host; the directory records width 1
     * as format 1 always has (fct_mfile_put_le) */
    uint64_t nw = (uint64_t)m->n_slots, nv = nw * (uint64_t)m->k, nsamp = (uint64_t)m->n_samples;
    if (st == FACTO_OK)
        st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_W, m->w, sizeof(float), nw);
    if (st == FACTO_OK)
        st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_V, m->V, sizeof(float), nv);
    if (st == FACTO_OK && m->hashed)
        st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_KEYS, m->slot_keys, sizeof(uint32_t), nw);
    if (st == FACTO_OK && m->n_samples > 0) {
        st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_S0, m->sample_w0, sizeof(float), nsamp);
        if (st == FACTO_OK)
            st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_SW, m->sample_w, sizeof(float), nsamp * nw);
        if (st == FACTO_OK)
            st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_SV, m->sample_V, sizeof(float), nsamp * nv);
    }
    if (st == FACTO_OK && m->users) {
        uint8_t ph[FACTO_FM_PAIR_HEAD_BYTES];
        fct_le_store_u32(ph, (uint32_t)m->n_users);
        fct_le_store_u32(ph + 4, (uint32_t)m->n_items);
        fct_le_store_u32(ph + 8, (uint32_t)m->pair_k);
        fct_le_store_u32(ph + 12, m->pair_features);
        fct_le_store_f32(ph + 16, m->pair_w0);
        uint64_t rows = (uint64_t)m->n_users + (uint64_t)m->n_items;
        st = fct_mfile_put(ctx, w, FACTO_FM_TAG_PAIR_HEAD, ph, sizeof ph);
        if (st == FACTO_OK)
            st = fct_model_put_idmap(ctx, w, FACTO_FM_TAG_USERS, m->users);
        if (st == FACTO_OK)
            st = fct_model_put_idmap(ctx, w, FACTO_FM_TAG_ITEMS, m->items);
        if (st == FACTO_OK)
            st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_PAIR_B, m->pair_b, sizeof(float), rows);
        if (st == FACTO_OK)
            st = fct_mfile_put_le(ctx, w, FACTO_FM_TAG_PAIR_Q, m->pair_q, sizeof(float), rows * (uint64_t)m->pair_k);
        if (st == FACTO_OK && m->seen_ptr)
            st = fct_model_put_seen(ctx, w, FACTO_FM_TAG_RATED_PTR, FACTO_FM_TAG_RATED, m->n_users, m->seen_ptr,
                                    m->seen_items);
    }
    return st;
}

/* Copy a section of exactly `bytes` bytes into fresh 64-byte aligned memory. */
static facto_status fct_fm_get_array(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, uint64_t bytes,
                                       int aligned, void **out)
{
    const void *data;
    uint64_t n;
    *out = NULL;
    /* a size computed from the header's counts that passed 2^63 (fct_size_mul
     * saturates) matches no section: the file is corrupt, not memory short */
    if (bytes > (uint64_t)INT64_MAX)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: section '%c%c%c%c': the header's counts make a size past 2^63 bytes",
                        fct_mfile_path(r), (char)(tag & 0xff), (char)(tag >> 8 & 0xff), (char)(tag >> 16 & 0xff),
                        (char)(tag >> 24 & 0xff));
    facto_status st = fct_mfile_get(ctx, r, tag, (int64_t)bytes, &data, &n);
    if (st != FACTO_OK)
        return st;
    void *p = aligned ? fct_aligned_alloc(bytes ? bytes : 1) : malloc(bytes ? bytes : 1);
    if (!p)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for %llu bytes", fct_mfile_path(r),
                          (unsigned long long)bytes);
    fct_le_copy(p, data, 4, bytes / 4); /* every FM array holds 4-byte numbers */
    *out = p;
    return FACTO_OK;
}

/* The per-user / per-item sums of a ratings model (FMPH, FMUS, FMIT, FMPB,
 * FMPQ) and, when the file has them, the training users' rated items. */
static facto_status fct_fm_load_pairs(facto_ctx *ctx, const fct_mfile_reader *r, fct_fm_model *m)
{
    const char *path = fct_mfile_path(r);
    const void *data;
    uint64_t n;
    facto_status st = fct_mfile_get(ctx, r, FACTO_FM_TAG_PAIR_HEAD, FACTO_FM_PAIR_HEAD_BYTES, &data, &n);
    int32_t p4[4] = {0, 0, 0, 0};
    if (st == FACTO_OK) {
        for (int i = 0; i < 4; i++)
            p4[i] = (int32_t)fct_le_load_u32((const unsigned char *)data + 4 * i);
        m->pair_w0 = fct_le_load_f32((const unsigned char *)data + 16);
        if (p4[0] < 0 || p4[1] < 0 || p4[2] < 1 || p4[2] > (1 << 20) || !isfinite(m->pair_w0))
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the per-user / per-item header is inconsistent", path);
    }
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FACTO_FM_TAG_USERS, &m->users);
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FACTO_FM_TAG_ITEMS, &m->items);
    if (st == FACTO_OK && (facto_idmap_size(m->users) != p4[0] || facto_idmap_size(m->items) != p4[1]))
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the id maps do not match the per-user / per-item sums",
                        path);
    if (st == FACTO_OK) {
        m->n_users = p4[0];
        m->n_items = p4[1];
        m->pair_k = p4[2];
        m->pair_features = (uint32_t)p4[3];
        uint64_t rows = (uint64_t)p4[0] + (uint64_t)p4[1];
        st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_PAIR_B, fct_size_mul(rows, sizeof(float)), 0, (void **)&m->pair_b);
        if (st == FACTO_OK)
            st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_PAIR_Q, fct_size_mul(fct_size_mul(rows, (uint64_t)p4[2]), sizeof(float)), 1,
                                    (void **)&m->pair_q);
    }
    if (st == FACTO_OK && fct_mfile_has(r, FACTO_FM_TAG_RATED_PTR))
        st = fct_model_get_seen(ctx, r, FACTO_FM_TAG_RATED_PTR, FACTO_FM_TAG_RATED, m->n_users, m->n_items,
                                &m->seen_ptr, &m->seen_items, &m->n_seen);
    return st;
}

static facto_status fct_fm_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    const char *path = fct_mfile_path(r);
    *out = NULL;
    const void *data;
    uint64_t n;
    facto_status st = fct_mfile_get(ctx, r, FACTO_FM_TAG_PARAMS, -1, &data, &n);
    if (st != FACTO_OK)
        return st;
    facto_fm_params p = facto_fm_params_default();
    /* "name=value" lines, each read back through the table's rules */
    if (fct_params_parse_lines(ctx, &fct_fm_ptable, &p, data, (size_t)n, path) != FACTO_OK) {
        char msg[FACTO_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: bad hyperparameter in the model: %s", path, msg);
    }
    if (facto_fm_params_validate(ctx, &p) != FACTO_OK) {
        char msg[FACTO_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the model's hyperparameters are invalid: %s", path, msg);
    }
    st = fct_mfile_get(ctx, r, FACTO_FM_TAG_HEAD, FACTO_FM_HEAD_BYTES, &data, &n);
    if (st != FACTO_OK)
        return st;
    const uint8_t *head = data;
    uint64_t dim, ns;
    int32_t i3[3];
    float f3[3];
    dim = fct_le_load_u64(head);
    ns = fct_le_load_u64(head + 8);
    for (int i = 0; i < 3; i++) {
        i3[i] = (int32_t)fct_le_load_u32(head + 16 + 4 * i);
        f3[i] = fct_le_load_f32(head + 28 + 4 * i);
    }
    int dense_ok = i3[0] > 0 && dim * ((uint64_t)i3[0] + 1) <= FACTO_FM_DENSE_MAX_FLOATS;
    /* An MCMC summary replaced the k the layout was chosen by with its rank
     * (summary_finish): either layout, whatever feature_dim x (rank + 1). */
    int any_layout = i3[0] > 0 && p.solver == FACTO_FM_SOLVER_MCMC && p.summary_rank > 0;
    if (dim != p.feature_dim || i3[0] != p.num_factors || (i3[1] != 0 && i3[1] != 1) || i3[2] < 0 ||
        (i3[1] == 0 && ((!dense_ok && !any_layout) || ns != dim)) ||
        (i3[1] == 1 && ((dense_ok && !any_layout) || ns > dim || ns >= FACTO_FM_NO_SLOT)) ||
        !isfinite(f3[0]) || !isfinite(f3[1]) || !isfinite(f3[2]) || f3[1] > f3[2] ||
        (ns > 0 && (uint64_t)i3[0] > ((uint64_t)1 << 60) / ns))
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the factorization machine header is inconsistent", path);
    fct_fm_model *m = fct_fm_alloc();
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    m->params = p;
    m->k = i3[0];
    m->hashed = i3[1];
    m->n_slots = (int64_t)ns;
    m->n_samples = i3[2];
    m->w0 = f3[0];
    m->target_min = f3[1];
    m->target_max = f3[2];
    uint64_t nw = fct_size_mul(ns, sizeof(float)), nv = fct_size_mul(nw, (uint64_t)m->k);
    st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_W, nw, 1, (void **)&m->w);
    if (st == FACTO_OK)
        st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_V, nv, 1, (void **)&m->V);
    if (st == FACTO_OK && m->hashed) {
        st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_KEYS, fct_size_mul(ns, sizeof(uint32_t)), 0, (void **)&m->slot_keys);
        for (uint64_t i = 0; st == FACTO_OK && i < ns; i++)
            if ((uint64_t)m->slot_keys[i] >= dim || (i > 0 && m->slot_keys[i] <= m->slot_keys[i - 1]))
                st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the factorization machine's keys are not ascending",
                                path);
        if (st == FACTO_OK)
            st = fct_fm_build_hash(ctx, m);
    }
    if (st == FACTO_OK && m->n_samples > 0) {
        st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_S0, fct_size_mul((uint64_t)m->n_samples, sizeof(float)), 0,
                                (void **)&m->sample_w0);
        if (st == FACTO_OK)
            st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_SW, fct_size_mul((uint64_t)m->n_samples, nw), 1, (void **)&m->sample_w);
        if (st == FACTO_OK)
            st = fct_fm_get_array(ctx, r, FACTO_FM_TAG_SV, fct_size_mul((uint64_t)m->n_samples, nv), 1, (void **)&m->sample_V);
    }
    if (st == FACTO_OK && fct_mfile_has(r, FACTO_FM_TAG_PAIR_HEAD))
        st = fct_fm_load_pairs(ctx, r, m);
    /* A NaN or infinite parameter would turn every score it touches into
     * NaN (or a clamp); the checksum cannot tell, so look. */
    if (st == FACTO_OK) {
        uint64_t nsamp = (uint64_t)m->n_samples, pair_rows = (uint64_t)m->n_users + (uint64_t)m->n_items;
        const struct {
            uint32_t tag;
            const float *a;
            uint64_t n;
        } arrays[] = {
            {FACTO_FM_TAG_W, m->w, ns},
            {FACTO_FM_TAG_V, m->V, ns * (uint64_t)m->k},
            {FACTO_FM_TAG_S0, m->sample_w0, m->sample_w0 ? nsamp : 0},
            {FACTO_FM_TAG_SW, m->sample_w, m->sample_w ? nsamp * ns : 0},
            {FACTO_FM_TAG_SV, m->sample_V, m->sample_V ? nsamp * ns * (uint64_t)m->k : 0},
            {FACTO_FM_TAG_PAIR_B, m->pair_b, m->pair_b ? pair_rows : 0},
            {FACTO_FM_TAG_PAIR_Q, m->pair_q, m->pair_q ? pair_rows * (uint64_t)m->pair_k : 0},
        };
        for (size_t a = 0; st == FACTO_OK && a < sizeof arrays / sizeof arrays[0]; a++) {
            for (uint64_t i = 0; i < arrays[a].n; i++) {
                if (!isfinite(arrays[a].a[i])) {
                    uint32_t t = arrays[a].tag;
                    st = fct_fail(ctx, FACTO_ERR_CORRUPT,
                                    "%s: section '%c%c%c%c' holds a non-finite parameter (element %llu is %g)", path,
                                    (char)(t & 0xff), (char)(t >> 8 & 0xff), (char)(t >> 16 & 0xff),
                                    (char)(t >> 24 & 0xff), (unsigned long long)i, (double)arrays[a].a[i]);
                    break;
                }
            }
        }
    }
    if (st != FACTO_OK) {
        fct_fm_free(&m->base);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}

const fct_model_ops fct_fm_ops = {
    .kind = FACTO_MODEL_FM,
    .name = "fm",
    .summary = "factorization machine with SageMaker's hyperparameters; SGD family, ALS or MCMC (Rendle 2010, 2012)",
    .train_inputs = FACTO_INPUT_ROWS | FACTO_INPUT_RATINGS,
    .params = &fct_fm_ptable,
    .inputs_of = fct_fm_ops_inputs_of,
    .thread_invariant = INT_MAX, /* only MCMC chains run in parallel, each on its own seed */
    .task_of = fct_fm_params_task,
    .describe = fct_fm_params_describe,
    .param_used = fct_fm_param_used,
    .free = fct_fm_free,
    .save = fct_fm_save,
    .load = fct_fm_load,
    .get_params = fct_fm_ops_params,
    .task = fct_fm_ops_task,
    .inputs = fct_fm_ops_inputs,
    .users = fct_fm_ops_users,
    .items = fct_fm_ops_items,
    .score = fct_fm_ops_score,
    .finish = fct_fm_ops_finish,
    .dot_form = fct_fm_ops_dot_form,
    .seen = fct_fm_ops_seen,
};
