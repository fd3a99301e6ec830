/*
 * factors.c — the implicit factor model shared by the ranking kinds with
 * user and item vectors (factors.h): build, derived arrays, the model
 * interface (score for a training user, a history by one exact
 * least-squares solve, or the mean user; dot form; cosine item similarity;
 * seen items), the exact row solve that iALS's exact path and fold-in
 * share, and the model file sections. Scoring one user costs O(n_items k);
 * a fold-in adds O(n_h k^2 + k^3).
 */
#include "factors.h"

#include "data/dataset.h"
#include "kernels/blas.h"
#include "kernels/chol.h"
#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- build and free ---------------------------------------------------------- */

static float *fct_factors_zeroed(size_t n)
{
    if (n > SIZE_MAX / sizeof(float))
        return NULL;
    float *a = fct_aligned_alloc((n ? n : 1) * sizeof(float));
    if (a)
        memset(a, 0, (n ? n : 1) * sizeof(float));
    return a;
}

void fct_factors_destroy(fct_factors_model *m)
{
    if (!m)
        return;
    free(m->params);
    fct_aligned_free(m->U);
    fct_aligned_free(m->V);
    fct_aligned_free(m->item_bias);
    fct_aligned_free(m->gram);
    fct_aligned_free(m->mean_user);
    fct_aligned_free(m->v_norm);
    free(m->seen_ptr);
    free(m->seen_items);
    fct_idmap_free(m->users);
    fct_idmap_free(m->items);
    free(m);
}

void fct_factors_free(facto_model *model) { fct_factors_destroy((fct_factors_model *)model); }

/* The shell of a model: arrays allocated (zeroed), nothing filled. */
static fct_factors_model *fct_factors_alloc(const fct_model_ops *ops, int32_t n_users, int32_t n_items, int32_t k,
                                            int with_item_bias, int64_t n_seen)
{
    fct_factors_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.ops = ops;
    m->n_users = n_users;
    m->n_items = n_items;
    m->k = k;
    m->n_seen = n_seen;
    m->params = calloc(1, ops->params->size);
    m->U = fct_factors_zeroed((size_t)n_users * (size_t)k);
    m->V = fct_factors_zeroed((size_t)n_items * (size_t)k);
    m->item_bias = with_item_bias ? fct_factors_zeroed((size_t)n_items) : NULL;
    m->seen_ptr = fct_calloc_array((size_t)n_users + 1, sizeof *m->seen_ptr);
    m->seen_items = fct_malloc_array((size_t)(n_seen > 0 ? n_seen : 1), sizeof *m->seen_items);
    if (!m->params || !m->U || !m->V || (with_item_bias && !m->item_bias) || !m->seen_ptr || !m->seen_items) {
        fct_factors_destroy(m);
        return NULL;
    }
    return m;
}

static const char *fct_foldin_check(const fct_factors_foldin *f)
{
    const float v[4] = {f->alpha, f->unobserved, f->reg, f->reg_exponent};
    for (int x = 0; x < 4; x++)
        if (!isfinite(v[x]) || v[x] < 0.0f)
            return "a fold-in setting (alpha, unobserved weight, reg, reg exponent) is negative or not finite";
    return NULL;
}

facto_status fct_factors_create(facto_ctx *ctx, const fct_model_ops *ops, const void *params,
                                const facto_dataset *train, int32_t k, int with_item_bias,
                                const fct_factors_foldin *foldin, fct_factors_model **out)
{
    *out = NULL;
    if (k < 1 || !foldin || !params || !train)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%s: factor model needs k >= 1 (got %d), params, data and fold-in "
                        "settings", ops->name, (int)k);
    const char *bad = fct_foldin_check(foldin);
    if (bad)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%s: %s", ops->name, bad);
    fct_factors_model *m = fct_factors_alloc(ops, train->n_users, train->n_items, k, with_item_bias,
                                             train->n_ratings);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for a model of %d users, %d items, %d factors",
                        ops->name, train->n_users, train->n_items, (int)k);
    memcpy(m->params, params, ops->params->size);
    m->foldin = *foldin;
    m->users = fct_idmap_clone(train->user_map);
    m->items = fct_idmap_clone(train->item_map);
    if (!m->users || !m->items) {
        fct_factors_destroy(m);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory copying id maps", ops->name);
    }
    memcpy(m->seen_ptr, train->row_ptr, ((size_t)train->n_users + 1) * sizeof *m->seen_ptr);
    memcpy(m->seen_items, train->items, (size_t)train->n_ratings * sizeof *m->seen_items);
    *out = m;
    return FACTO_OK;
}

void fct_factors_init_normal(fct_factors_model *m, fct_rng *rng, double std)
{
    const size_t k = (size_t)m->k;
    for (size_t x = 0; x < (size_t)m->n_users * k; x++)
        m->U[x] = (float)(std * fct_rng_normal(rng));
    for (size_t x = 0; x < (size_t)m->n_items * k; x++)
        m->V[x] = (float)(std * fct_rng_normal(rng));
}

int fct_factors_finite(const fct_factors_model *m)
{
    const size_t k = (size_t)m->k;
    float acc = 0.0f; /* any inf or nan makes the sum non-finite */
    for (size_t x = 0; x < (size_t)m->n_users * k; x++)
        acc += 0.0f * m->U[x];
    for (size_t x = 0; x < (size_t)m->n_items * k; x++)
        acc += 0.0f * m->V[x];
    for (int32_t i = 0; m->item_bias && i < m->n_items; i++)
        acc += 0.0f * m->item_bias[i];
    return acc == 0.0f;
}

const char *fct_factors_unusable(const fct_factors_model *m)
{
    const size_t k = (size_t)m->k;
    double su = 0.0, sv = 0.0, sb = 0.0;
    for (size_t x = 0; x < (size_t)m->n_users * k; x++)
        su += (double)m->U[x] * (double)m->U[x];
    for (size_t x = 0; x < (size_t)m->n_items * k; x++)
        sv += (double)m->V[x] * (double)m->V[x];
    for (int32_t i = 0; m->item_bias && i < m->n_items; i++)
        sb = fmax(sb, fabs((double)m->item_bias[i]));
    if (!isfinite(su))
        return "the user factors hold a value that is not finite (inf or nan)";
    if (!isfinite(sv))
        return "the item factors hold a value that is not finite (inf or nan)";
    if (!isfinite(sb))
        return "the item biases hold a value that is not finite (inf or nan)";
    /* Every score b_i + <U_u, V_i> and every entry of U^T U and V^T V is at
     * most sb + sqrt(su sv), su or sv (Cauchy-Schwarz): below FLT_MAX / 4
     * each, no float sum of them overflows. */
    const double lim = (double)FLT_MAX / 4.0;
    if (su >= lim || sv >= lim || sb >= lim)
        return "the factors or biases are so large that scores overflow float";
    return NULL;
}

facto_status fct_factors_ready(facto_ctx *ctx, fct_factors_model *m)
{
    const int32_t k = m->k;
    if (!m->gram)
        m->gram = fct_factors_zeroed((size_t)k * (size_t)k);
    if (!m->mean_user)
        m->mean_user = fct_factors_zeroed((size_t)k);
    if (!m->v_norm)
        m->v_norm = fct_factors_zeroed((size_t)m->n_items);
    if (!m->gram || !m->mean_user || !m->v_norm)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for a %d x %d Gram matrix", m->base.ops->name,
                        (int)k, (int)k);
    fct_blas_set_threads(1);
    fct_gram_tn(m->n_items, k, m->V, k, m->gram);
    /* Mean user in double, rows in order: the same bits for any thread count. */
    double *acc = calloc((size_t)k, sizeof *acc);
    if (!acc)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", m->base.ops->name);
    for (int32_t u = 0; u < m->n_users; u++)
        for (int32_t f = 0; f < k; f++)
            acc[f] += m->U[(size_t)u * (size_t)k + (size_t)f];
    for (int32_t f = 0; f < k; f++)
        m->mean_user[f] = m->n_users > 0 ? (float)(acc[f] / m->n_users) : 0.0f;
    free(acc);
    for (int32_t i = 0; i < m->n_items; i++) {
        const float *v = m->V + (size_t)i * (size_t)k;
        double s = 0.0;
        for (int32_t f = 0; f < k; f++)
            s += (double)v[f] * v[f];
        m->v_norm[i] = (float)sqrt(s);
    }
    return FACTO_OK;
}

/* ---- the exact row solve (fold-in, iALS's exact path) ---------------------------- */

double fct_factors_row_reg(float reg, float unobserved, float nu, int64_t n, int64_t n_other)
{
    if (nu == 0.0f)
        return (double)reg;
    return (double)reg * pow((double)n + (double)unobserved * (double)n_other, (double)nu);
}

int fct_factors_solve_row(const float *Y, int32_t n_rows_y, int k, const float *G, float unobserved, float lam,
                          float alpha, const int32_t *idx, const float *values, int64_t n, double *work,
                          float *x)
{
    double *A = work, *b = work + (size_t)k * (size_t)k;
    for (int f = 0; f < k; f++) {
        b[f] = 0.0;
        for (int g = 0; g <= f; g++)
            A[(size_t)f * k + g] = (double)unobserved * G[(size_t)f * k + g];
        A[(size_t)f * k + f] += lam;
    }
    for (int64_t j = 0; j < n; j++) {
        if (idx[j] < 0 || idx[j] >= n_rows_y)
            continue;
        const float *y = Y + (size_t)idx[j] * (size_t)k;
        const double c = 1.0 + (double)alpha * (values ? values[j] : 1.0f), w = c - unobserved;
        for (int f = 0; f < k; f++) {
            const double wy = w * y[f];
            double *Af = A + (size_t)f * k;
            for (int g = 0; g <= f; g++)
                Af[g] += wy * y[g];
            b[f] += c * y[f];
        }
    }
    if (fct_chol_factor_d(A, k) != 0) {
        for (int f = 0; f < k; f++)
            x[f] = 0.0f;
        return -1;
    }
    fct_chol_solve_d(A, k, b);
    for (int f = 0; f < k; f++)
        x[f] = (float)b[f];
    return 0;
}

/* ---- the model interface ----------------------------------------------------------- */

static const fct_factors_model *fct_as_factors(const facto_model *model) { return (const fct_factors_model *)model; }

const void *fct_factors_get_params(const facto_model *model) { return fct_as_factors(model)->params; }

facto_task fct_factors_task(const facto_model *model)
{
    (void)model;
    return FACTO_TASK_RANKING;
}

facto_task fct_factors_task_of(const void *params)
{
    (void)params;
    return FACTO_TASK_RANKING;
}

unsigned fct_factors_inputs(const facto_model *model)
{
    (void)model;
    return FACTO_INPUT_RATINGS;
}

const facto_idmap *fct_factors_users(const facto_model *model) { return fct_as_factors(model)->users; }
const facto_idmap *fct_factors_items(const facto_model *model) { return fct_as_factors(model)->items; }

int64_t fct_factors_seen(const facto_model *model, int32_t u, fct_seen_list *items)
{
    const fct_factors_model *m = fct_as_factors(model);
    items->i16 = NULL;
    items->i32 = m->seen_items + m->seen_ptr[u];
    return m->seen_ptr[u + 1] - m->seen_ptr[u];
}

/* Item i's raw score for the user vector p [k] (the one sum score() and
 * the dot form's pair both use). */
static inline float fct_factors_item_score(const fct_factors_model *m, const float *p, int32_t i)
{
    return (m->item_bias ? m->item_bias[i] : 0.0f) + fct_dot(p, m->V + (size_t)i * (size_t)m->k, m->k);
}

static float fct_factors_pair(const facto_model *model, int32_t u, int32_t i)
{
    const fct_factors_model *m = fct_as_factors(model);
    return fct_factors_item_score(m, m->U + (size_t)u * (size_t)m->k, i);
}

int fct_factors_dot_form(const facto_model *model, fct_dot_form *out)
{
    const fct_factors_model *m = fct_as_factors(model);
    out->pair = fct_factors_pair;
    out->c = 0.0f;
    out->user_bias = NULL;
    out->item_bias = m->item_bias;
    out->U = m->U;
    out->V = m->V;
    out->n_users = m->n_users;
    out->n_items = m->n_items;
    out->k = m->k;
    out->ldu = out->ldv = m->k;
    return 1;
}

/* The fold-in vector of a history query into p [k]. */
static facto_status fct_factors_fold_in(facto_ctx *ctx, const fct_factors_model *m, const fct_query *q, float *p)
{
    int64_t n_valid = 0;
    for (int32_t j = 0; j < q->n_history; j++) {
        if (q->history_values) {
            float v = q->history_values[j];
            if (!isfinite(v) || v < 0.0f)
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                "%s: history value %d (%g) is negative or not a finite number", m->base.ops->name,
                                (int)j, (double)v);
        }
        n_valid += q->history[j] >= 0 && q->history[j] < m->n_items;
    }
    const int k = m->k;
    double *work = fct_malloc_array((size_t)k * (size_t)k + (size_t)k, sizeof *work);
    if (!work)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory folding in a user", m->base.ops->name);
    const fct_factors_foldin *f = &m->foldin;
    double lam = fct_factors_row_reg(f->reg, f->unobserved, f->reg_exponent, n_valid, m->n_items);
    fct_factors_solve_row(m->V, m->n_items, k, m->gram, f->unobserved, (float)lam, f->alpha, q->history,
                          q->history_values, q->n_history, work, p);
    free(work);
    return FACTO_OK;
}

facto_status fct_factors_score(facto_ctx *ctx, const facto_model *model, const fct_query *q, const int32_t *items,
                               int64_t n, fct_score_mode mode, float *out)
{
    (void)mode; /* ranking scores: the prediction is the raw score */
    const fct_factors_model *m = fct_as_factors(model);
    if (q->n_keys > 0)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "%s scores users by id or by a history of items; a feature row is not supported by this "
                        "model kind",
                        m->base.ops->name);
    const size_t k = (size_t)m->k;
    float *folded = NULL;
    const float *p;
    if (q->user >= 0 && q->user < m->n_users) {
        p = m->U + (size_t)q->user * k;
    } else if (q->user < 0 && q->n_history > 0) {
        folded = fct_aligned_alloc(k * sizeof(float));
        if (!folded)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", m->base.ops->name);
        facto_status st = fct_factors_fold_in(ctx, m, q, folded);
        if (st != FACTO_OK) {
            fct_aligned_free(folded);
            return st;
        }
        p = folded;
    } else {
        p = m->mean_user;
    }
    if (!items)
        n = m->n_items;
    for (int64_t j = 0; j < n; j++) {
        int32_t i = items ? items[j] : (int32_t)j;
        if (i < 0 || i >= m->n_items) {
            out[j] = 0.0f; /* an item the model does not know: no evidence either way */
            continue;
        }
        out[j] = fct_factors_item_score(m, p, i);
    }
    fct_aligned_free(folded);
    return FACTO_OK;
}

facto_status fct_factors_item_similarity(facto_ctx *ctx, const facto_model *model, int32_t item, float *out)
{
    const fct_factors_model *m = fct_as_factors(model);
    if (item < 0 || item >= m->n_items)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%s: item index %d is out of range", m->base.ops->name, (int)item);
    const size_t k = (size_t)m->k;
    const float *v = m->V + (size_t)item * k;
    const float ni = m->v_norm[item];
    for (int32_t j = 0; j < m->n_items; j++) {
        float d = ni * m->v_norm[j];
        out[j] = d > 0.0f ? fct_dot(v, m->V + (size_t)j * k, m->k) / d : 0.0f;
    }
    return FACTO_OK;
}

/* ---- model file sections ------------------------------------------------------------------ */

#define FCT_FC_TAG_PARAMS FACTO_TAG('F', 'C', 'P', 'R')
#define FCT_FC_TAG_HEAD FACTO_TAG('F', 'C', 'H', 'D')
#define FCT_FC_TAG_U FACTO_TAG('F', 'C', 'U', 'F')
#define FCT_FC_TAG_V FACTO_TAG('F', 'C', 'V', 'F')
#define FCT_FC_TAG_BIAS FACTO_TAG('F', 'C', 'I', 'B')
#define FCT_FC_TAG_USERS FACTO_TAG('F', 'C', 'U', 'S')
#define FCT_FC_TAG_ITEMS FACTO_TAG('F', 'C', 'I', 'T')
#define FCT_FC_TAG_SEEN_PTR FACTO_TAG('F', 'C', 'S', 'P')
#define FCT_FC_TAG_SEEN FACTO_TAG('F', 'C', 'S', 'I')
#define FCT_FC_HEAD_BYTES 48
#define FCT_FC_HEAD_LAYOUT 1u

/* FCHD: u32 layout @0, i32 n_users @4, i32 n_items @8, i32 k @12,
 * u32 has item bias @16, f32 alpha @20, f32 unobserved @24, f32 reg @28,
 * f32 reg_exponent @32, u32 reserved (0) @36, i64 n_seen @40. */
static void fct_factors_pack_head(const fct_factors_model *m, unsigned char *b)
{
    memset(b, 0, FCT_FC_HEAD_BYTES);
    fct_le_store_u32(b + 0, FCT_FC_HEAD_LAYOUT);
    fct_le_store_u32(b + 4, (uint32_t)m->n_users);
    fct_le_store_u32(b + 8, (uint32_t)m->n_items);
    fct_le_store_u32(b + 12, (uint32_t)m->k);
    fct_le_store_u32(b + 16, m->item_bias ? 1u : 0u);
    fct_le_store_f32(b + 20, m->foldin.alpha);
    fct_le_store_f32(b + 24, m->foldin.unobserved);
    fct_le_store_f32(b + 28, m->foldin.reg);
    fct_le_store_f32(b + 32, m->foldin.reg_exponent);
    fct_le_store_u64(b + 40, (uint64_t)m->n_seen);
}

facto_status fct_factors_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w)
{
    const fct_factors_model *m = fct_as_factors(model);
    const fct_ptable *t = m->base.ops->params;
    size_t need = fct_params_dump(t, m->params, NULL, 0) + 1;
    char *text = malloc(need);
    if (!text)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory saving hyperparameters", m->base.ops->name);
    fct_params_dump(t, m->params, text, need);
    facto_status st = fct_mfile_put(ctx, w, FCT_FC_TAG_PARAMS, text, need - 1);
    free(text);
    unsigned char head[FCT_FC_HEAD_BYTES];
    fct_factors_pack_head(m, head);
    const uint64_t k = (uint64_t)m->k, nu = (uint64_t)m->n_users, ni = (uint64_t)m->n_items;
    if (st == FACTO_OK)
        st = fct_mfile_put(ctx, w, FCT_FC_TAG_HEAD, head, sizeof head);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_FC_TAG_U, m->U, sizeof(float), nu * k);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_FC_TAG_V, m->V, sizeof(float), ni * k);
    if (st == FACTO_OK && m->item_bias)
        st = fct_mfile_put_array(ctx, w, FCT_FC_TAG_BIAS, m->item_bias, sizeof(float), ni);
    if (st == FACTO_OK)
        st = fct_model_put_idmap(ctx, w, FCT_FC_TAG_USERS, m->users);
    if (st == FACTO_OK)
        st = fct_model_put_idmap(ctx, w, FCT_FC_TAG_ITEMS, m->items);
    if (st == FACTO_OK)
        st = fct_model_put_seen(ctx, w, FCT_FC_TAG_SEEN_PTR, FCT_FC_TAG_SEEN, m->n_users, m->seen_ptr,
                                m->seen_items);
    return st;
}

static facto_status fct_factors_corrupt(facto_ctx *ctx, const fct_mfile_reader *r, const char *kind,
                                        const char *what)
{
    return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: %s model: %s", fct_mfile_path(r), kind, what);
}

/* The kind's hyperparameters from FCPR: name=value lines through its table,
 * then every rule of the table. */
static facto_status fct_factors_get_params_section(facto_ctx *ctx, const fct_mfile_reader *r,
                                                   const fct_model_ops *ops, void *params)
{
    const void *data;
    uint64_t n;
    facto_status st = fct_mfile_get(ctx, r, FCT_FC_TAG_PARAMS, -1, &data, &n);
    if (st != FACTO_OK)
        return st;
    ops->params->defaults(params);
    if (fct_params_parse_lines(ctx, ops->params, params, data, (size_t)n, fct_mfile_path(r)) != FACTO_OK ||
        fct_params_check(ctx, ops->params, params) != FACTO_OK) {
        char msg[FACTO_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "bad hyperparameters: %s", facto_errmsg(ctx));
        return fct_factors_corrupt(ctx, r, ops->name, msg);
    }
    return FACTO_OK;
}

/* Copy section `tag`, which must hold exactly `bytes` bytes, into dst. */
static facto_status fct_factors_get_copy(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, void *dst,
                                         uint64_t bytes)
{
    const void *data = NULL;
    uint64_t n = 0;
    facto_status st = fct_mfile_get(ctx, r, tag, (int64_t)bytes, &data, &n);
    if (st == FACTO_OK && bytes)
        memcpy(dst, data, (size_t)bytes);
    return st;
}

/* The size of section `tag` (FACTO_ERR_CORRUPT when missing). */
static facto_status fct_factors_section_bytes(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag,
                                              uint64_t *bytes)
{
    const void *data;
    return fct_mfile_get(ctx, r, tag, -1, &data, bytes);
}

facto_status fct_factors_load(facto_ctx *ctx, const fct_mfile_reader *r, const fct_model_ops *ops,
                              facto_model **out)
{
    *out = NULL;
    const char *kind = ops->name;
    void *params = calloc(1, ops->params->size);
    if (!params)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    facto_status st = fct_factors_get_params_section(ctx, r, ops, params);
    const void *hv = NULL;
    uint64_t nb = 0;
    if (st == FACTO_OK)
        st = fct_mfile_get(ctx, r, FCT_FC_TAG_HEAD, FCT_FC_HEAD_BYTES, &hv, &nb);
    if (st != FACTO_OK) {
        free(params);
        return st;
    }
    const unsigned char *b = hv;
    const uint32_t layout = fct_le_load_u32(b), has_bias = fct_le_load_u32(b + 16), reserved = fct_le_load_u32(b + 36);
    const int32_t n_users = (int32_t)fct_le_load_u32(b + 4), n_items = (int32_t)fct_le_load_u32(b + 8),
                  k = (int32_t)fct_le_load_u32(b + 12);
    const int64_t n_seen = (int64_t)fct_le_load_u64(b + 40);
    fct_factors_foldin foldin = {fct_le_load_f32(b + 20), fct_le_load_f32(b + 24), fct_le_load_f32(b + 28),
                                 fct_le_load_f32(b + 32)};
    const char *bad = NULL;
    const fct_pdesc *kd = fct_params_find(ops->params, "num_factors");
    int k_param = -1;
    if (kd && kd->type == FCT_PT_INT)
        memcpy(&k_param, (const char *)params + kd->offset, sizeof k_param);
    if (layout != FCT_FC_HEAD_LAYOUT || reserved != 0)
        bad = "unknown header layout";
    else if (n_users < 0 || n_items < 0 || n_seen < 0 || has_bias > 1)
        bad = "bad sizes in the header";
    else if (k < 1 || k > 65536 || (kd && k != k_param))
        bad = "the factor count in the header does not match the hyperparameters";
    else
        bad = fct_foldin_check(&foldin);
    /* Sizes must match the sections before anything is allocated from them. */
    const uint64_t fk = (uint64_t)(k > 0 ? k : 0), fu = (uint64_t)(n_users > 0 ? n_users : 0),
                   fi = (uint64_t)(n_items > 0 ? n_items : 0);
    uint64_t bytes = 0;
    if (!bad && (fct_factors_section_bytes(ctx, r, FCT_FC_TAG_U, &bytes) != FACTO_OK || bytes != fct_size_mul(fct_size_mul(fu, fk), 4)))
        bad = "the user factor section does not match the header";
    if (!bad && (fct_factors_section_bytes(ctx, r, FCT_FC_TAG_V, &bytes) != FACTO_OK || bytes != fct_size_mul(fct_size_mul(fi, fk), 4)))
        bad = "the item factor section does not match the header";
    if (!bad && has_bias &&
        (fct_factors_section_bytes(ctx, r, FCT_FC_TAG_BIAS, &bytes) != FACTO_OK || bytes != fct_size_mul(fi, 4)))
        bad = "the item bias section does not match the header";
    if (!bad && !has_bias && fct_mfile_has(r, FCT_FC_TAG_BIAS))
        bad = "an item bias section in a model whose header says it has none";
    if (!bad && (fct_factors_section_bytes(ctx, r, FCT_FC_TAG_SEEN, &bytes) != FACTO_OK ||
                 bytes != fct_size_mul((uint64_t)n_seen, 4)))
        bad = "the seen list section does not match the header";
    if (bad) {
        free(params);
        return fct_factors_corrupt(ctx, r, kind, bad);
    }
    fct_factors_model *m = fct_factors_alloc(ops, n_users, n_items, k, (int)has_bias, 0);
    if (!m) {
        free(params);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory loading %s", fct_mfile_path(r));
    }
    memcpy(m->params, params, ops->params->size);
    free(params);
    m->foldin = foldin;
    free(m->seen_ptr);
    free(m->seen_items);
    m->seen_ptr = NULL;
    m->seen_items = NULL;
    st = fct_factors_get_copy(ctx, r, FCT_FC_TAG_U, m->U, fu * fk * 4);
    if (st == FACTO_OK)
        st = fct_factors_get_copy(ctx, r, FCT_FC_TAG_V, m->V, fi * fk * 4);
    if (st == FACTO_OK && has_bias)
        st = fct_factors_get_copy(ctx, r, FCT_FC_TAG_BIAS, m->item_bias, fi * 4);
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FCT_FC_TAG_USERS, &m->users);
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FCT_FC_TAG_ITEMS, &m->items);
    if (st == FACTO_OK && (facto_idmap_size(m->users) != n_users || facto_idmap_size(m->items) != n_items))
        st = fct_factors_corrupt(ctx, r, kind, "id map sizes do not match the header");
    if (st == FACTO_OK)
        st = fct_model_get_seen(ctx, r, FCT_FC_TAG_SEEN_PTR, FCT_FC_TAG_SEEN, n_users, n_items, &m->seen_ptr,
                                &m->seen_items, &m->n_seen);
    if (st == FACTO_OK && m->n_seen != n_seen)
        st = fct_factors_corrupt(ctx, r, kind, "the seen lists do not match the header");
    const char *unusable = st == FACTO_OK ? fct_factors_unusable(m) : NULL;
    if (unusable)
        st = fct_factors_corrupt(ctx, r, kind, unusable);
    if (st == FACTO_OK)
        st = fct_factors_ready(ctx, m);
    if (st != FACTO_OK) {
        fct_factors_destroy(m);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}
