/*
 * ease.c — EASE, the closed-form item-item model of Steck, "Embarrassingly
 * Shallow Autoencoders for Sparse Data", WWW 2019: with X the users x
 * items matrix of interaction weights,
 *   min_B |X - X B|_F^2 + lambda |B|_F^2   subject to diag(B) = 0
 * has the solution (the paper's eq. 8)
 *   P = (X^T X + lambda I)^-1,   B = I - P diag(1 / diag(P)),
 * i.e. B_ij = -P_ij / P_jj for i != j and B_ii = 0. A history h with
 * weights v (a training user's row of X, or a folded-in user's) scores
 *   s(j) = sum_{i in h} v_i B_ij   (x_u B);
 * nothing (or only unknown items) falls back to the item counts. B is a
 * dense float [n_items, n_items]: memory n_items^2 * 4 bytes (training
 * refuses a catalogue whose matrix exceeds max_memory), a query costs
 * O(|h| n_items). Trained by src/train/fit_ease.c (Gram through sparse
 * accumulation, Cholesky inverse through LAPACK spotrf + spotri).
 */
#include "itemmodels.h"

#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Defaults: chosen on validation carve-outs of training data only
 * (bench/rank_tune.c, whose header has the procedure and the figures). */
#define F(field) offsetof(fct_ease_params, field)
static const fct_pdesc fct_ease_pdesc[] = {
    {"reg", "lambda,l2", FCT_PT_FLOAT, F(reg), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "lambda, the L2 weight on B, added to the diagonal of X^T X. Default 400, chosen on validation carve-outs "
     "of training data (bench/rank_tune.c) from 50..2000: NDCG@10 0.217 on ml-100k ratings >= 4 and 0.269 with "
     "every rating as an interaction, within 0.001 of each set's best (300, 500) and the best on both; the best "
     "value grows with the number of interactions",
     "facto", NULL},
    {"max_memory", NULL, FCT_PT_U64, F(max_memory), NULL, 1, 18446744073709551615.0, FCT_PF_UNSET_ZERO, NULL,
     "bytes the items x items float matrix may take (items^2 x 4); a larger catalogue is refused with what it "
     "would need", "facto", "half of the memory the system gives this process"},
};
#undef F

static void fct_ease_defaults(void *p)
{
    fct_ease_params *q = p;
    memset(q, 0, sizeof *q);
    q->reg = 400.0f;
    q->max_memory = 0;
}

const fct_ptable fct_ease_ptable = {"ease", fct_ease_pdesc, (int)(sizeof fct_ease_pdesc / sizeof fct_ease_pdesc[0]),
                                    sizeof(fct_ease_params), fct_ease_defaults, NULL};

void fct_ease_destroy(fct_ease_model *m)
{
    if (!m)
        return;
    fct_item_base_clear(&m->b);
    fct_aligned_free(m->B);
    free(m);
}

static void fct_ease_free(facto_model *model) { fct_ease_destroy((fct_ease_model *)model); }

static facto_status fct_ease_score(facto_ctx *ctx, const facto_model *model, const fct_query *q, const int32_t *items,
                                   int64_t n, fct_score_mode mode, float *out)
{
    (void)mode;
    const fct_ease_model *m = (const fct_ease_model *)model;
    const int32_t *hist;
    const float *vals;
    int64_t nh;
    facto_status st = fct_item_history(ctx, &m->b, q, "ease", &hist, &vals, &nh);
    if (st != FACTO_OK)
        return st;
    float *own, *s = fct_item_scores_begin(&m->b, items, out, &own);
    if (!s)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "ease: out of memory for %d scores", m->b.n_items);
    const int32_t ni = m->b.n_items;
    memset(s, 0, (size_t)ni * sizeof *s);
    int64_t known = 0;
    for (int64_t x = 0; x < nh; x++) {
        int32_t i = hist[x];
        if (i < 0)
            continue;
        known++;
        fct_axpy(vals ? vals[x] : 1.0f, m->B + (size_t)i * (size_t)ni, s, ni);
    }
    if (known == 0)
        memcpy(s, m->b.pop, (size_t)ni * sizeof *s);
    fct_item_gather(&m->b, items, n, own, out);
    return FACTO_OK;
}

/* Row B_item: what having the item adds to every item's score (0 for itself). */
static facto_status fct_ease_similarity(facto_ctx *ctx, const facto_model *model, int32_t item, float *out)
{
    const fct_ease_model *m = (const fct_ease_model *)model;
    if (item < 0 || item >= m->b.n_items)
        return fct_fail(ctx, FACTO_ERR_INVALID, "ease: item index %d is outside the model's %d items", item,
                        m->b.n_items);
    memcpy(out, m->B + (size_t)item * (size_t)m->b.n_items, (size_t)m->b.n_items * sizeof *out);
    return FACTO_OK;
}

static int64_t fct_ease_seen(const facto_model *model, int32_t u, fct_seen_list *items)
{
    return fct_item_seen(&((const fct_ease_model *)model)->b, u, items);
}

static const void *fct_ease_get_params(const facto_model *model) { return &((const fct_ease_model *)model)->params; }
static facto_task fct_ease_task_of(const void *params)
{
    (void)params;
    return FACTO_TASK_RANKING;
}
static facto_task fct_ease_task(const facto_model *model)
{
    (void)model;
    return FACTO_TASK_RANKING;
}
static unsigned fct_ease_inputs(const facto_model *model)
{
    (void)model;
    return FACTO_INPUT_RATINGS;
}
static const facto_idmap *fct_ease_users(const facto_model *model) { return ((const fct_ease_model *)model)->b.users; }
static const facto_idmap *fct_ease_items(const facto_model *model) { return ((const fct_ease_model *)model)->b.items; }

/* ---- model file: the shared sections with prefix "EA" (the header's last
 * field is 0), then EAB_ float [n_items, n_items] row-major B. */
#define FCT_EASE_TAG_B FACTO_TAG('E', 'A', 'B', '_')

static facto_status fct_ease_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w)
{
    const fct_ease_model *m = (const fct_ease_model *)model;
    facto_status st = fct_item_base_save(ctx, w, &m->b, 'E', 'A', &fct_ease_ptable, &m->params, 0);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_EASE_TAG_B, m->B, sizeof(float),
                                 (uint64_t)m->b.n_items * (uint64_t)m->b.n_items);
    return st;
}

/* NULL when B is a finite matrix with a zero diagonal, else what is wrong. */
static const char *fct_ease_check(const float *B, int32_t ni)
{
    float acc = 0.0f; /* any inf or nan makes it non-finite */
    for (size_t x = 0; x < (size_t)ni * (size_t)ni; x++)
        acc += 0.0f * B[x];
    if (acc != 0.0f)
        return "the item-item weights hold a value that is not finite (inf or nan)";
    for (int32_t i = 0; i < ni; i++)
        if (B[(size_t)i * (size_t)ni + (size_t)i] != 0.0f)
            return "the item-item weights have a diagonal entry that is not 0";
    return NULL;
}

static facto_status fct_ease_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    *out = NULL;
    fct_ease_model *m = calloc(1, sizeof *m);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    m->base.ops = &fct_ease_ops;
    int64_t extra = 0;
    facto_status st = fct_item_base_load(ctx, r, &m->b, 'E', 'A', &fct_ease_ptable, &m->params, &extra);
    if (st == FACTO_OK && extra != 0)
        st = fct_item_corrupt(ctx, r, "ease", "the header's last field is not 0");
    const void *data = NULL;
    uint64_t nb = 0, cells = fct_size_mul((uint64_t)m->b.n_items, (uint64_t)m->b.n_items);
    if (st == FACTO_OK)
        st = fct_mfile_get(ctx, r, FCT_EASE_TAG_B, -1, &data, &nb);
    if (st == FACTO_OK && nb != fct_size_mul(cells, sizeof(float)))
        st = fct_item_corrupt(ctx, r, "ease", "the item-item section size does not match the item count");
    if (st == FACTO_OK && !(m->B = fct_aligned_alloc((size_t)nb)))
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for a %d x %d matrix", fct_mfile_path(r),
                      m->b.n_items, m->b.n_items);
    if (st == FACTO_OK) {
        memcpy(m->B, data, (size_t)nb);
        const char *bad = fct_ease_check(m->B, m->b.n_items);
        if (bad)
            st = fct_item_corrupt(ctx, r, "ease", bad);
    }
    if (st != FACTO_OK) {
        fct_ease_destroy(m);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}

const fct_model_ops fct_ease_ops = {
    .kind = FACTO_MODEL_EASE,
    .name = "ease",
    .summary = "EASE, closed-form item-item weights B = I - P diag(1/diag P), P = (X^T X + reg I)^-1 (Steck, WWW "
               "2019)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_ease_ptable,
    .thread_invariant = 0, /* the Gram rows are, but OpenBLAS's threaded Cholesky and inverse round
                              differently with more threads (the same rankings to rounding, not the same bits) */
    .task_of = fct_ease_task_of,
    .free = fct_ease_free,
    .save = fct_ease_save,
    .load = fct_ease_load,
    .get_params = fct_ease_get_params,
    .task = fct_ease_task,
    .inputs = fct_ease_inputs,
    .users = fct_ease_users,
    .items = fct_ease_items,
    .score = fct_ease_score,
    .item_similarity = fct_ease_similarity,
    .seen = fct_ease_seen,
};
