/*
 * itembase.c — what the item-based ranking kinds (popular, itemknn, ease;
 * itemmodels.h) share: their training users' histories with weights (the
 * seen lists of top-N and the history a training user is scored from), the
 * per-item counts, the query rules, and their common model file sections
 * with every check a corrupt file needs. Cost O(n_users + n_items +
 * n_seen) time and memory for init, save and load.
 */
#include "itemmodels.h"

#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void fct_item_base_clear(fct_item_base *b)
{
    fct_idmap_free(b->users);
    fct_idmap_free(b->items);
    free(b->seen_ptr);
    free(b->seen_items);
    free(b->seen_w);
    free(b->pop);
    memset(b, 0, sizeof *b);
}

/* Allocate the arrays for the sizes in b. */
static int fct_item_base_alloc(fct_item_base *b)
{
    size_t ns = (size_t)(b->n_seen > 0 ? b->n_seen : 1);
    b->seen_ptr = fct_calloc_array((size_t)b->n_users + 1, sizeof *b->seen_ptr);
    b->seen_items = fct_malloc_array(ns, sizeof *b->seen_items);
    b->seen_w = fct_malloc_array(ns, sizeof *b->seen_w);
    b->pop = fct_calloc_array((size_t)(b->n_items > 0 ? b->n_items : 1), sizeof *b->pop);
    return b->seen_ptr && b->seen_items && b->seen_w && b->pop;
}

facto_status fct_item_base_init(facto_ctx *ctx, fct_item_base *b, const facto_dataset *train, const char *kind)
{
    memset(b, 0, sizeof *b);
    if (!train || train->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "%s: the training data set holds no interactions", kind);
    for (int32_t u = 0; u < train->n_users; u++)
        for (int64_t x = train->row_ptr[u]; x < train->row_ptr[u + 1]; x++)
            if (!(train->ratings[x] >= 0.0f) || !isfinite(train->ratings[x]))
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                "%s: user '%s', item '%s' has weight %g; interaction weights must be finite and "
                                ">= 0 (keep explicit ratings as interactions with a threshold)",
                                kind, facto_idmap_name(train->user_map, u),
                                facto_idmap_name(train->item_map, train->items[x]), (double)train->ratings[x]);
    b->n_users = train->n_users;
    b->n_items = train->n_items;
    b->n_seen = train->n_ratings;
    b->users = fct_idmap_clone(train->user_map);
    b->items = fct_idmap_clone(train->item_map);
    if (!b->users || !b->items || !fct_item_base_alloc(b)) {
        fct_item_base_clear(b);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for %d users, %d items, %lld interactions", kind,
                        train->n_users, train->n_items, (long long)train->n_ratings);
    }
    memcpy(b->seen_ptr, train->row_ptr, ((size_t)b->n_users + 1) * sizeof *b->seen_ptr);
    memcpy(b->seen_items, train->items, (size_t)b->n_seen * sizeof *b->seen_items);
    memcpy(b->seen_w, train->ratings, (size_t)b->n_seen * sizeof *b->seen_w);
    for (int64_t x = 0; x < b->n_seen; x++)
        b->pop[b->seen_items[x]] += 1.0f;
    return FACTO_OK;
}

facto_status fct_item_history(facto_ctx *ctx, const fct_item_base *b, const fct_query *q, const char *kind,
                              const int32_t **items, const float **values, int64_t *n)
{
    *items = NULL;
    *values = NULL;
    *n = 0;
    if (q->user >= 0) {
        if (q->user < b->n_users) {
            int64_t a = b->seen_ptr[q->user];
            *items = b->seen_items + a;
            *values = b->seen_w + a;
            *n = b->seen_ptr[q->user + 1] - a;
        }
        return FACTO_OK;
    }
    if (q->n_history > 0) {
        if (!q->history)
            return fct_fail(ctx, FACTO_ERR_INVALID, "%s: a history query of %d items has no item list", kind,
                            q->n_history);
        for (int32_t x = 0; x < q->n_history; x++) {
            int32_t i = q->history[x];
            if (i < -1 || i >= b->n_items)
                return fct_fail(ctx, FACTO_ERR_INVALID, "%s: history item %d is index %d, outside the model's %d items",
                                kind, x + 1, i, b->n_items);
            if (q->history_values && !(q->history_values[x] >= 0.0f && isfinite(q->history_values[x])))
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                "%s: history item %d has weight %g; weights must be finite and >= 0", kind, x + 1,
                                (double)q->history_values[x]);
        }
        *items = q->history;
        *values = q->history_values;
        *n = q->n_history;
        return FACTO_OK;
    }
    if (q->n_keys > 0)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "%s scores users by their items; a feature row is not a query this model kind takes", kind);
    return FACTO_OK;
}

float *fct_item_scores_begin(const fct_item_base *b, const int32_t *items, float *out, float **own)
{
    *own = NULL;
    if (!items)
        return out;
    *own = fct_malloc_array((size_t)(b->n_items > 0 ? b->n_items : 1), sizeof(float));
    return *own;
}

void fct_item_gather(const fct_item_base *b, const int32_t *items, int64_t n, float *own, float *out)
{
    if (!items)
        return;
    for (int64_t x = 0; x < n; x++) {
        int32_t i = items[x];
        out[x] = i >= 0 && i < b->n_items ? own[i] : 0.0f;
    }
    free(own);
}

int64_t fct_item_seen(const fct_item_base *b, int32_t u, fct_seen_list *items)
{
    items->i16 = NULL;
    if (u < 0 || u >= b->n_users) {
        items->i32 = NULL;
        return 0;
    }
    items->i32 = b->seen_items + b->seen_ptr[u];
    return b->seen_ptr[u + 1] - b->seen_ptr[u];
}

/* ---- model file sections --------------------------------------------------------- */

#define FCT_ITEM_HEAD_BYTES 32
#define FCT_ITEM_LAYOUT 1
#define FCT_TAG2(p1, p2, c, d) FACTO_TAG(p1, p2, c, d)

facto_status fct_item_corrupt(facto_ctx *ctx, const fct_mfile_reader *r, const char *kind, const char *what)
{
    return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: %s model: %s", fct_mfile_path(r), kind, what);
}

facto_status fct_item_base_save(facto_ctx *ctx, fct_mfile_writer *w, const fct_item_base *b, char p1, char p2,
                                const fct_ptable *table, const void *params, int64_t extra)
{
    size_t need = fct_params_dump(table, params, NULL, 0) + 1;
    char *text = malloc(need);
    if (!text)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory saving hyperparameters", table->kind);
    fct_params_dump(table, params, text, need);
    facto_status st = fct_mfile_put(ctx, w, FCT_TAG2(p1, p2, 'P', 'R'), text, need - 1);
    free(text);
    unsigned char head[FCT_ITEM_HEAD_BYTES];
    memset(head, 0, sizeof head);
    fct_le_store_u32(head, FCT_ITEM_LAYOUT);
    fct_le_store_u32(head + 4, (uint32_t)b->n_users);
    fct_le_store_u32(head + 8, (uint32_t)b->n_items);
    fct_le_store_u64(head + 16, (uint64_t)b->n_seen);
    fct_le_store_u64(head + 24, (uint64_t)extra);
    if (st == FACTO_OK)
        st = fct_mfile_put(ctx, w, FCT_TAG2(p1, p2, 'H', 'D'), head, sizeof head);
    if (st == FACTO_OK)
        st = fct_model_put_idmap(ctx, w, FCT_TAG2(p1, p2, 'U', 'I'), b->users);
    if (st == FACTO_OK)
        st = fct_model_put_idmap(ctx, w, FCT_TAG2(p1, p2, 'I', 'I'), b->items);
    if (st == FACTO_OK)
        st = fct_model_put_seen(ctx, w, FCT_TAG2(p1, p2, 'S', 'P'), FCT_TAG2(p1, p2, 'S', 'I'), b->n_users,
                                b->seen_ptr, b->seen_items);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_TAG2(p1, p2, 'S', 'W'), b->seen_w, sizeof(float), (uint64_t)b->n_seen);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, FCT_TAG2(p1, p2, 'C', 'T'), b->pop, sizeof(float), (uint64_t)b->n_items);
    return st;
}

/* Index of the first value of a[n] that is not finite or below zero, or -1. */
static int64_t fct_bad_weight(const float *a, int64_t n)
{
    for (int64_t x = 0; x < n; x++)
        if (!(a[x] >= 0.0f) || !isfinite(a[x]))
            return x;
    return -1;
}

/* Copy float section `tag` of exactly n values into dst, each finite and >= 0. */
static facto_status fct_item_get_weights(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, const char *kind,
                                         const char *what, float *dst, int64_t n)
{
    const void *data;
    uint64_t nb;
    facto_status st = fct_mfile_get(ctx, r, tag, -1, &data, &nb);
    if (st != FACTO_OK)
        return st;
    if (nb != fct_size_mul((uint64_t)n, sizeof(float))) {
        char msg[160];
        snprintf(msg, sizeof msg, "the %s section has %llu bytes, the header says %lld values", what,
                 (unsigned long long)nb, (long long)n);
        return fct_item_corrupt(ctx, r, kind, msg);
    }
    if (n > 0)
        memcpy(dst, data, (size_t)n * sizeof(float));
    int64_t bad = fct_bad_weight(dst, n);
    if (bad >= 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the %s hold a value that is negative or not finite (entry %lld)", what,
                 (long long)bad);
        return fct_item_corrupt(ctx, r, kind, msg);
    }
    return FACTO_OK;
}

facto_status fct_item_base_load(facto_ctx *ctx, const fct_mfile_reader *r, fct_item_base *b, char p1, char p2,
                                const fct_ptable *table, void *params, int64_t *extra)
{
    const char *kind = table->kind;
    memset(b, 0, sizeof *b);
    /* hyperparameters, through the table's own rules */
    const void *data;
    uint64_t nb;
    facto_status st = fct_mfile_get(ctx, r, FCT_TAG2(p1, p2, 'P', 'R'), -1, &data, &nb);
    if (st != FACTO_OK)
        return st;
    table->defaults(params);
    if (fct_params_parse_lines(ctx, table, params, data, (size_t)nb, fct_mfile_path(r)) != FACTO_OK ||
        fct_params_check(ctx, table, params) != FACTO_OK) {
        char msg[FACTO_ERRMSG_MAX / 2];
        snprintf(msg, sizeof msg, "hyperparameters: %s", facto_errmsg(ctx));
        return fct_item_corrupt(ctx, r, kind, msg);
    }
    st = fct_mfile_get(ctx, r, FCT_TAG2(p1, p2, 'H', 'D'), FCT_ITEM_HEAD_BYTES, &data, &nb);
    if (st != FACTO_OK)
        return st;
    const unsigned char *h = data;
    uint32_t layout = fct_le_load_u32(h), zero = fct_le_load_u32(h + 12);
    int32_t n_users = (int32_t)fct_le_load_u32(h + 4), n_items = (int32_t)fct_le_load_u32(h + 8);
    int64_t n_seen = (int64_t)fct_le_load_u64(h + 16);
    *extra = (int64_t)fct_le_load_u64(h + 24);
    if (layout != FCT_ITEM_LAYOUT || zero != 0)
        return fct_item_corrupt(ctx, r, kind, "unknown header layout");
    if (n_users < 1 || n_items < 1 || n_seen < 1)
        return fct_item_corrupt(ctx, r, kind, "the header's user, item or interaction count is not positive");
    /* sizes against the sections before anything is allocated from them */
    st = fct_mfile_get(ctx, r, FCT_TAG2(p1, p2, 'S', 'I'), -1, &data, &nb);
    if (st != FACTO_OK)
        return st;
    if (nb != fct_size_mul((uint64_t)n_seen, sizeof(int32_t)))
        return fct_item_corrupt(ctx, r, kind, "the seen list section size does not match the header");
    st = fct_mfile_get(ctx, r, FCT_TAG2(p1, p2, 'C', 'T'), -1, &data, &nb);
    if (st != FACTO_OK)
        return st;
    if (nb != fct_size_mul((uint64_t)n_items, sizeof(float)))
        return fct_item_corrupt(ctx, r, kind, "the item count section size does not match the header");

    st = fct_model_get_idmap(ctx, r, FCT_TAG2(p1, p2, 'U', 'I'), &b->users);
    if (st == FACTO_OK)
        st = fct_model_get_idmap(ctx, r, FCT_TAG2(p1, p2, 'I', 'I'), &b->items);
    if (st == FACTO_OK && (facto_idmap_size(b->users) != n_users || facto_idmap_size(b->items) != n_items))
        st = fct_item_corrupt(ctx, r, kind, "id map sizes do not match the header");
    if (st != FACTO_OK) {
        fct_item_base_clear(b);
        return st;
    }
    int64_t n_got = 0;
    st = fct_model_get_seen(ctx, r, FCT_TAG2(p1, p2, 'S', 'P'), FCT_TAG2(p1, p2, 'S', 'I'), n_users, n_items,
                            &b->seen_ptr, &b->seen_items, &n_got);
    if (st == FACTO_OK && n_got != n_seen)
        st = fct_item_corrupt(ctx, r, kind, "the seen lists do not hold the header's interaction count");
    if (st != FACTO_OK) {
        fct_item_base_clear(b);
        return st;
    }
    b->n_users = n_users;
    b->n_items = n_items;
    b->n_seen = n_seen;
    b->seen_w = fct_malloc_array((size_t)n_seen, sizeof *b->seen_w);
    b->pop = fct_malloc_array((size_t)n_items, sizeof *b->pop);
    if (!b->seen_w || !b->pop) {
        fct_item_base_clear(b);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    }
    st = fct_item_get_weights(ctx, r, FCT_TAG2(p1, p2, 'S', 'W'), kind, "interaction weights", b->seen_w, n_seen);
    if (st == FACTO_OK)
        st = fct_item_get_weights(ctx, r, FCT_TAG2(p1, p2, 'C', 'T'), kind, "item counts", b->pop, n_items);
    for (int32_t u = 0; st == FACTO_OK && u < n_users; u++)
        if (b->seen_ptr[u + 1] == b->seen_ptr[u])
            st = fct_item_corrupt(ctx, r, kind, "a training user has no items");
    if (st != FACTO_OK)
        fct_item_base_clear(b);
    return st;
}
