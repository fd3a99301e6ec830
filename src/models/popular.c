/*
 * popular.c — the most-popular baseline for implicit feedback: every item
 * is scored by how many training interactions it has, the same list for
 * every user, a training user's own items left out by top-N (the seen op).
 * The standard first baseline of the top-N literature (e.g. Cremonesi,
 * Koren & Turrin, "Performance of recommender algorithms on top-N
 * recommendation tasks", RecSys 2010, "TopPop"). Hyperparameter: what is
 * counted (pairs or weights). Scoring is O(n_items) a query; a history
 * query is checked and then ignored, so fold-in gives the same list too.
 * The training driver is src/train/fit_popular.c.
 */
#include "itemmodels.h"

#include <limits.h>
#include <string.h>

static const fct_penum fct_popular_counts[] = {{"pairs", FCT_POPULAR_PAIRS}, {"weights", FCT_POPULAR_WEIGHTS},
                                               {NULL, 0}};

#define F(field) offsetof(fct_popular_params, field)
static const fct_pdesc fct_popular_pdesc[] = {
    {"count", NULL, FCT_PT_ENUM, F(count), fct_popular_counts, 0, 0, 0, NULL,
     "what makes an item popular: pairs = the users who interacted with it, each once, weights ignored; "
     "weights = the sum of their interaction weights (plays, clicks). Default pairs: on 0/1 data (a "
     "threshold) the two are the same; on counts, pairs is not swayed by a few heavy users",
     "facto", NULL},
};
#undef F

static void fct_popular_defaults(void *p)
{
    fct_popular_params *q = p;
    memset(q, 0, sizeof *q);
    q->count = FCT_POPULAR_PAIRS;
}

const fct_ptable fct_popular_ptable = {"popular", fct_popular_pdesc,
                                       (int)(sizeof fct_popular_pdesc / sizeof fct_popular_pdesc[0]),
                                       sizeof(fct_popular_params), fct_popular_defaults, NULL};

void fct_popular_destroy(fct_popular_model *m)
{
    if (!m)
        return;
    fct_item_base_clear(&m->b);
    free(m);
}

static void fct_popular_free(facto_model *model) { fct_popular_destroy((fct_popular_model *)model); }

/* Every query gets the counts; unknown items 0. */
static facto_status fct_popular_score(facto_ctx *ctx, const facto_model *model, const fct_query *q,
                                      const int32_t *items, int64_t n, fct_score_mode mode, float *out)
{
    (void)mode;
    const fct_popular_model *m = (const fct_popular_model *)model;
    const int32_t *hist;
    const float *vals;
    int64_t nh;
    facto_status st = fct_item_history(ctx, &m->b, q, "popular", &hist, &vals, &nh);
    if (st != FACTO_OK)
        return st;
    if (!items) {
        memcpy(out, m->b.pop, (size_t)m->b.n_items * sizeof *out);
        return FACTO_OK;
    }
    for (int64_t x = 0; x < n; x++)
        out[x] = items[x] >= 0 && items[x] < m->b.n_items ? m->b.pop[items[x]] : 0.0f;
    return FACTO_OK;
}

/* Items "similar" to any item: the score of the history {item}, i.e. the counts. */
static facto_status fct_popular_similarity(facto_ctx *ctx, const facto_model *model, int32_t item, float *out)
{
    const fct_popular_model *m = (const fct_popular_model *)model;
    if (item < 0 || item >= m->b.n_items)
        return fct_fail(ctx, FACTO_ERR_INVALID, "popular: item index %d is outside the model's %d items", item,
                        m->b.n_items);
    memcpy(out, m->b.pop, (size_t)m->b.n_items * sizeof *out);
    return FACTO_OK;
}

static int64_t fct_popular_seen(const facto_model *model, int32_t u, fct_seen_list *items)
{
    return fct_item_seen(&((const fct_popular_model *)model)->b, u, items);
}

static const void *fct_popular_get_params(const facto_model *model)
{
    return &((const fct_popular_model *)model)->params;
}
static facto_task fct_popular_task_of(const void *params)
{
    (void)params;
    return FACTO_TASK_RANKING;
}
static facto_task fct_popular_task(const facto_model *model)
{
    (void)model;
    return FACTO_TASK_RANKING;
}
static unsigned fct_popular_inputs(const facto_model *model)
{
    (void)model;
    return FACTO_INPUT_RATINGS;
}
static const facto_idmap *fct_popular_users(const facto_model *model)
{
    return ((const fct_popular_model *)model)->b.users;
}
static const facto_idmap *fct_popular_items(const facto_model *model)
{
    return ((const fct_popular_model *)model)->b.items;
}

/* Sections: the shared ones (itemmodels.h) with prefix "PP"; the counts
 * section is the ranking. */
static facto_status fct_popular_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w)
{
    const fct_popular_model *m = (const fct_popular_model *)model;
    return fct_item_base_save(ctx, w, &m->b, 'P', 'P', &fct_popular_ptable, &m->params, 0);
}

static facto_status fct_popular_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    *out = NULL;
    fct_popular_model *m = calloc(1, sizeof *m);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    m->base.ops = &fct_popular_ops;
    int64_t extra = 0;
    facto_status st = fct_item_base_load(ctx, r, &m->b, 'P', 'P', &fct_popular_ptable, &m->params, &extra);
    if (st == FACTO_OK && extra != 0)
        st = fct_item_corrupt(ctx, r, "popular", "the header's last field is not 0");
    if (st != FACTO_OK) {
        fct_popular_destroy(m);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}

const fct_model_ops fct_popular_ops = {
    .kind = FACTO_MODEL_POPULAR,
    .name = "popular",
    .summary = "most popular items, the same list for everyone minus their own (implicit feedback baseline)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_popular_ptable,
    .thread_invariant = INT_MAX, /* one pass, no threads */
    .task_of = fct_popular_task_of,
    .free = fct_popular_free,
    .save = fct_popular_save,
    .load = fct_popular_load,
    .get_params = fct_popular_get_params,
    .task = fct_popular_task,
    .inputs = fct_popular_inputs,
    .users = fct_popular_users,
    .items = fct_popular_items,
    .score = fct_popular_score,
    .item_similarity = fct_popular_similarity,
    .seen = fct_popular_seen,
};
