/*
 * itemknn.c — item-based k-nearest-neighbour top-N for implicit feedback
 * (Sarwar, Karypis, Konstan & Riedl, "Item-based collaborative filtering
 * recommendation algorithms", WWW 2001; Deshpande & Karypis, "Item-based
 * top-N recommendation algorithms", ACM TOIS 2004). X is the users x items
 * matrix of interaction weights. The similarity of items i and j is the
 * cosine of their columns,
 *   sim(i, j) = <w_i, w_j> / (|w_i| |w_j|),
 * of W = X (similarity=cosine) or of W = X after BM25 weighting
 * (similarity=bm25; Robertson & Zaragoza, "The probabilistic relevance
 * framework: BM25 and beyond", FnTIR 2009, eq. 3.15's term-frequency
 * part), with users as the documents and items as the terms:
 *   w_ui = x_ui (K1 + 1) / (x_ui + K1 (1 - B + B len_u / avg_len)),
 * len_u = sum_i x_ui. BM25's IDF factor multiplies a whole column and so
 * cancels in the cosine: it is left out. With 0/1 data the weighting
 * gives every interaction of a user with a long history a smaller weight
 * (B: how much the length counts, K1: how far from 1 it can go; K1 = 0 is
 * plain cosine). Each item keeps its K most similar items (neighbors,
 * similarity > 0, ties to the lower index): row S_j. A history h with
 * weights v (a training user's items, or a folded-in user's) scores
 *   s(i) = sum_{j in h} v_j S_j(i)
 * (the items most similar to what the user had; 0 for an item no history
 * item lists). Nothing (or only unknown items) falls back to the item
 * counts. Memory O(n_items K); a query costs O(n_items + |h| K). Built by
 * src/train/fit_itemknn.c over src/solvers/itemsim.c.
 */
#include "itemmodels.h"

#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const fct_penum fct_knn_sims[] = {{"cosine", FCT_KNN_COSINE}, {"bm25", FCT_KNN_BM25}, {NULL, 0}};

/* Defaults: chosen on validation carve-outs of training data only
 * (bench/rank_tune.c, whose header has the procedure and the figures). */
#define F(field) offsetof(fct_itemknn_params, field)
static const fct_pdesc fct_itemknn_pdesc[] = {
    {"similarity", NULL, FCT_PT_ENUM, F(similarity), fct_knn_sims, 0, 0, 0, NULL,
     "cosine of the items' user columns, or bm25: the same after BM25 weighting of the user x item matrix "
     "(users as documents: heavy users count less). Default bm25, chosen on validation carve-outs of training "
     "data (bench/rank_tune.c): NDCG@10 0.209 against cosine's 0.185 on ml-100k ratings >= 4, 0.256 against "
     "0.231 with every rating as an interaction (K 500)",
     "facto", NULL},
    {"neighbors", "neighbours", FCT_PT_INT, F(neighbors), NULL, 1, INT32_MAX, 0, "is not a positive integer",
     "K, the most similar items each item keeps. Default 500, chosen on validation carve-outs: NDCG@10 rises "
     "from K 20 (0.194, 0.244 on the two sets) through 200 (0.206, 0.252) to 500 (0.209, 0.256) and no further "
     "at 1000",
     "facto", NULL},
    {"bm25_k1", "k1", FCT_PT_FLOAT, F(bm25_k1), NULL, 0, 1e6, 0, NULL,
     "BM25 K1, how fast repeated weight saturates (0 = plain cosine). Default 5 with bm25_b 0.9: within 0.0011 "
     "of the best of K1 1..100 x B 0.5..1 on each validation set at every K (no pair is best on both)",
     "facto", NULL},
    {"bm25_b", "b", FCT_PT_FLOAT, F(bm25_b), NULL, 0, 1, 0, NULL,
     "BM25 B, how much a user's history length shrinks each of their weights (0 = not at all). Default 0.9, "
     "chosen with bm25_k1 on validation carve-outs",
     "facto", NULL},
};
#undef F

static void fct_itemknn_defaults(void *p)
{
    fct_itemknn_params *q = p;
    memset(q, 0, sizeof *q);
    q->similarity = FCT_KNN_BM25;
    q->neighbors = 500;
    q->bm25_k1 = 5.0f;
    q->bm25_b = 0.9f;
}

const fct_ptable fct_itemknn_ptable = {"itemknn", fct_itemknn_pdesc,
                                       (int)(sizeof fct_itemknn_pdesc / sizeof fct_itemknn_pdesc[0]),
                                       sizeof(fct_itemknn_params), fct_itemknn_defaults, NULL};

void fct_itemknn_destroy(fct_itemknn_model *m)
{
    if (!m)
        return;
    fct_item_base_clear(&m->b);
    free(m->nbr_ptr);
    free(m->nbr_items);
    free(m->nbr_sim);
    free(m);
}

static void fct_itemknn_free(facto_model *model) { fct_itemknn_destroy((fct_itemknn_model *)model); }

static facto_status fct_itemknn_score(facto_ctx *ctx, const facto_model *model, const fct_query *q,
                                      const int32_t *items, int64_t n, fct_score_mode mode, float *out)
{
    (void)mode;
    const fct_itemknn_model *m = (const fct_itemknn_model *)model;
    const int32_t *hist;
    const float *vals;
    int64_t nh;
    facto_status st = fct_item_history(ctx, &m->b, q, "itemknn", &hist, &vals, &nh);
    if (st != FACTO_OK)
        return st;
    float *own, *s = fct_item_scores_begin(&m->b, items, out, &own);
    if (!s)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "itemknn: out of memory for %d scores", m->b.n_items);
    memset(s, 0, (size_t)m->b.n_items * sizeof *s);
    int64_t known = 0;
    for (int64_t x = 0; x < nh; x++) {
        int32_t j = hist[x];
        if (j < 0)
            continue;
        known++;
        float v = vals ? vals[x] : 1.0f;
        for (int64_t e = m->nbr_ptr[j]; e < m->nbr_ptr[j + 1]; e++)
            s[m->nbr_items[e]] += v * m->nbr_sim[e];
    }
    if (known == 0)
        memcpy(s, m->b.pop, (size_t)m->b.n_items * sizeof *s);
    fct_item_gather(&m->b, items, n, own, out);
    return FACTO_OK;
}

/* Row S_item: its neighbours' similarities, 0 elsewhere (the item itself too). */
static facto_status fct_itemknn_similarity(facto_ctx *ctx, const facto_model *model, int32_t item, float *out)
{
    const fct_itemknn_model *m = (const fct_itemknn_model *)model;
    if (item < 0 || item >= m->b.n_items)
        return fct_fail(ctx, FACTO_ERR_INVALID, "itemknn: item index %d is outside the model's %d items", item,
                        m->b.n_items);
    memset(out, 0, (size_t)m->b.n_items * sizeof *out);
    for (int64_t e = m->nbr_ptr[item]; e < m->nbr_ptr[item + 1]; e++)
        out[m->nbr_items[e]] = m->nbr_sim[e];
    return FACTO_OK;
}

static int64_t fct_itemknn_seen(const facto_model *model, int32_t u, fct_seen_list *items)
{
    return fct_item_seen(&((const fct_itemknn_model *)model)->b, u, items);
}

static const void *fct_itemknn_get_params(const facto_model *model)
{
    return &((const fct_itemknn_model *)model)->params;
}
static facto_task fct_itemknn_task_of(const void *params)
{
    (void)params;
    return FACTO_TASK_RANKING;
}
static facto_task fct_itemknn_task(const facto_model *model)
{
    (void)model;
    return FACTO_TASK_RANKING;
}
static unsigned fct_itemknn_inputs(const facto_model *model)
{
    (void)model;
    return FACTO_INPUT_RATINGS;
}
static const facto_idmap *fct_itemknn_users(const facto_model *model)
{
    return ((const fct_itemknn_model *)model)->b.users;
}
static const facto_idmap *fct_itemknn_items(const facto_model *model)
{
    return ((const fct_itemknn_model *)model)->b.items;
}

/* ---- model file: the shared sections with prefix "KN" (the header's last
 * field is n_nbr), then KNNP int64 [n_items + 1] neighbour offsets, KNNI
 * int32 [n_nbr] neighbours, KNNS float [n_nbr] similarities. */
#define FCT_KNN_TAG_PTR FACTO_TAG('K', 'N', 'N', 'P')
#define FCT_KNN_TAG_ITEMS FACTO_TAG('K', 'N', 'N', 'I')
#define FCT_KNN_TAG_SIM FACTO_TAG('K', 'N', 'N', 'S')

static facto_status fct_itemknn_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w)
{
    const fct_itemknn_model *m = (const fct_itemknn_model *)model;
    facto_status st = fct_item_base_save(ctx, w, &m->b, 'K', 'N', &fct_itemknn_ptable, &m->params, m->n_nbr);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_KNN_TAG_PTR, m->nbr_ptr, sizeof(int64_t), (uint64_t)m->b.n_items + 1);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_KNN_TAG_ITEMS, m->nbr_items, sizeof(int32_t), (uint64_t)m->n_nbr);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_KNN_TAG_SIM, m->nbr_sim, sizeof(float), (uint64_t)m->n_nbr);
    return st;
}

/* NULL when the neighbour lists are consistent, else what is wrong. */
static const char *fct_itemknn_check(const fct_itemknn_model *m)
{
    const int64_t *p = m->nbr_ptr;
    if (p[0] != 0 || p[m->b.n_items] != m->n_nbr)
        return "the neighbour offsets do not span the neighbour lists";
    for (int32_t i = 0; i < m->b.n_items; i++) {
        if (p[i] > p[i + 1] || p[i + 1] > m->n_nbr)
            return "the neighbour offsets are not increasing";
        if (p[i + 1] - p[i] > m->params.neighbors)
            return "an item keeps more neighbours than the hyperparameter neighbors allows";
        for (int64_t e = p[i]; e < p[i + 1]; e++) {
            int32_t j = m->nbr_items[e];
            if (j < 0 || j >= m->b.n_items || j == i || (e > p[i] && j <= m->nbr_items[e - 1]))
                return "a neighbour list holds an item out of range, out of order, or the item itself";
            if (!(m->nbr_sim[e] > 0.0f) || !(m->nbr_sim[e] <= FLT_MAX))
                return "a similarity is not a finite positive number";
        }
    }
    return NULL;
}

static facto_status fct_itemknn_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    *out = NULL;
    fct_itemknn_model *m = calloc(1, sizeof *m);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    m->base.ops = &fct_itemknn_ops;
    int64_t n_nbr = 0;
    facto_status st = fct_item_base_load(ctx, r, &m->b, 'K', 'N', &fct_itemknn_ptable, &m->params, &n_nbr);
    const void *pd = NULL, *id = NULL, *sd = NULL;
    uint64_t nb = 0;
    if (st == FACTO_OK && (n_nbr < 0 || (uint64_t)n_nbr > fct_size_mul((uint64_t)m->b.n_items, (uint64_t)m->params.neighbors)))
        st = fct_item_corrupt(ctx, r, "itemknn", "the neighbour count in the header is out of range");
    if (st == FACTO_OK)
        st = fct_mfile_get(ctx, r, FCT_KNN_TAG_PTR, (int64_t)(((uint64_t)m->b.n_items + 1) * sizeof(int64_t)), &pd,
                           &nb);
    if (st == FACTO_OK)
        st = fct_mfile_get(ctx, r, FCT_KNN_TAG_ITEMS, -1, &id, &nb);
    if (st == FACTO_OK && nb != fct_size_mul((uint64_t)n_nbr, sizeof(int32_t)))
        st = fct_item_corrupt(ctx, r, "itemknn", "the neighbour section size does not match the header");
    if (st == FACTO_OK)
        st = fct_mfile_get(ctx, r, FCT_KNN_TAG_SIM, -1, &sd, &nb);
    if (st == FACTO_OK && nb != fct_size_mul((uint64_t)n_nbr, sizeof(float)))
        st = fct_item_corrupt(ctx, r, "itemknn", "the similarity section size does not match the header");
    if (st == FACTO_OK) {
        m->n_nbr = n_nbr;
        size_t nn = (size_t)(n_nbr > 0 ? n_nbr : 1);
        m->nbr_ptr = fct_malloc_array((size_t)m->b.n_items + 1, sizeof *m->nbr_ptr);
        m->nbr_items = fct_malloc_array(nn, sizeof *m->nbr_items);
        m->nbr_sim = fct_malloc_array(nn, sizeof *m->nbr_sim);
        if (!m->nbr_ptr || !m->nbr_items || !m->nbr_sim)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for %lld neighbours", fct_mfile_path(r),
                          (long long)n_nbr);
    }
    if (st == FACTO_OK) {
        memcpy(m->nbr_ptr, pd, ((size_t)m->b.n_items + 1) * sizeof *m->nbr_ptr);
        memcpy(m->nbr_items, id, (size_t)n_nbr * sizeof *m->nbr_items);
        memcpy(m->nbr_sim, sd, (size_t)n_nbr * sizeof *m->nbr_sim);
        const char *bad = fct_itemknn_check(m);
        if (bad)
            st = fct_item_corrupt(ctx, r, "itemknn", bad);
    }
    if (st != FACTO_OK) {
        fct_itemknn_destroy(m);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}

const fct_model_ops fct_itemknn_ops = {
    .kind = FACTO_MODEL_ITEMKNN,
    .name = "itemknn",
    .summary = "item-item k nearest neighbours, cosine or BM25-weighted cosine (Sarwar et al. 2001; Deshpande & "
               "Karypis 2004)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_itemknn_ptable,
    .thread_invariant = INT_MAX, /* each Gram row on one thread, in a fixed order */
    .task_of = fct_itemknn_task_of,
    .free = fct_itemknn_free,
    .save = fct_itemknn_save,
    .load = fct_itemknn_load,
    .get_params = fct_itemknn_get_params,
    .task = fct_itemknn_task,
    .inputs = fct_itemknn_inputs,
    .users = fct_itemknn_users,
    .items = fct_itemknn_items,
    .score = fct_itemknn_score,
    .item_similarity = fct_itemknn_similarity,
    .seen = fct_itemknn_seen,
};
