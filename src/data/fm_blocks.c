/*
 * fm_blocks.c — factorization-machine data in libFM's block structure (VLDB
 * 2013): direct per-row features plus references into shared block design
 * matrices, so a per-user block (one-hot id, side features, the user's rated
 * items scaled by 1/sqrt(|N(u)|)) is stored once per user, not once per
 * rating. Also expands blocks into flat rows (tests, scoring a saved model),
 * builds the block form of rating data and lays side-feature tables
 * (features.c) onto the training ids. Costs: building O(nnz of the blocks +
 * n_rows); expanding O(expanded nnz), which blocks exist to avoid.
 */
#include "fm_blocks.h"
#include "features.h"

#include <math.h>
#include <string.h>

/* Largest key + 1 in `r` (0 for no entries), or r->feature_dim if larger. */
static uint64_t fct_fm_rows_dim(const facto_rows *r)
{
    uint64_t dim = r->feature_dim;
    for (int64_t e = 0; e < r->nnz; e++)
        if ((uint64_t)r->keys[e] + 1 > dim)
            dim = (uint64_t)r->keys[e] + 1;
    return dim;
}

facto_status fct_fm_infer_fields(facto_ctx *ctx, const facto_rows *rows, uint64_t dim, int32_t **groups,
                                   int32_t *n_groups)
{
    enum { MAXF = 64 };
    *groups = NULL;
    *n_groups = 1;
    if (!rows || rows->n_rows < 1 || dim < 2 || dim > ((uint64_t)1 << 26))
        return FACTO_OK;
    const int64_t m = rows->row_ptr[1] - rows->row_ptr[0];
    if (m < 2 || m > MAXF)
        return FACTO_OK;
    uint32_t lo[MAXF], hi[MAXF], k[MAXF];
    for (int j = 0; j < m; j++) {
        lo[j] = UINT32_MAX;
        hi[j] = 0;
    }
    for (int64_t r = 0; r < rows->n_rows; r++) {
        const int64_t b = rows->row_ptr[r];
        if (rows->row_ptr[r + 1] - b != m)
            return FACTO_OK;
        for (int j = 0; j < m; j++) { /* insertion sort: m is small */
            uint32_t x = rows->keys[b + j];
            int i = j;
            for (; i > 0 && k[i - 1] > x; i--)
                k[i] = k[i - 1];
            k[i] = x;
        }
        for (int j = 0; j < m; j++) {
            lo[j] = k[j] < lo[j] ? k[j] : lo[j];
            hi[j] = k[j] > hi[j] ? k[j] : hi[j];
        }
    }
    for (int j = 0; j + 1 < m; j++)
        if (hi[j] >= lo[j + 1])
            return FACTO_OK;
    if (hi[m - 1] >= dim)
        return FACTO_OK;
    int32_t *g = fct_malloc_array((size_t)dim, sizeof *g);
    if (!g)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %llu feature groups", (unsigned long long)dim);
    int j = 0;
    for (uint64_t key = 0; key < dim; key++) {
        while (j + 1 < m && key >= lo[j + 1])
            j++;
        g[key] = j;
    }
    *groups = g;
    *n_groups = (int32_t)m;
    return FACTO_OK;
}

facto_status fct_fm_data_two_fields(facto_ctx *ctx, const facto_rows *rows, const int32_t *groups, uint64_t dim,
                                      fct_fm_data *out, int *ok)
{
    *ok = 0;
    memset(out, 0, sizeof *out);
    const int64_t N = rows->n_rows, nnz = rows->row_ptr[N];
    size_t nd = dim ? (size_t)dim : 1, nr = N ? (size_t)N : 1;
    int32_t *brow = fct_malloc_array(nd, sizeof *brow);
    float *bval = fct_malloc_array(nd, sizeof *bval);
    int32_t *ref[2] = {fct_malloc_array(nr, sizeof(int32_t)), fct_malloc_array(nr, sizeof(int32_t))};
    facto_rows *block[2] = {facto_rows_new(dim, 0), facto_rows_new(dim, 0)};
    facto_rows *direct = facto_rows_new(dim, 1);
    facto_status st = FACTO_OK;
    if (!brow || !bval || !ref[0] || !ref[1] || !block[0] || !block[1] || !direct || !rows->labels) {
        st = rows->labels ? fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the rows' two fields") : FACTO_OK;
        goto fail;
    }
    for (size_t key = 0; key < nd; key++)
        brow[key] = -1;
    for (int64_t e = 0; e < nnz; e++) {
        uint32_t key = rows->keys[e];
        if (key >= dim)
            goto fail;
        if (brow[key] < 0) {
            brow[key] = 0;
            bval[key] = rows->values[e];
        } else if (bval[key] != rows->values[e]) {
            goto fail; /* not one-hot-like: the key's value differs between rows */
        }
    }
    int32_t cnt[2] = {0, 0};
    for (size_t key = 0; key < nd && st == FACTO_OK; key++) {
        if (brow[key] < 0)
            continue;
        int g = groups[key] ? 1 : 0;
        brow[key] = cnt[g]++;
        st = facto_rows_push(ctx, block[g], (uint32_t)key, bval[key]);
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, block[g], 0.0f);
    }
    for (int64_t r = 0; r < N && st == FACTO_OK; r++) {
        for (int64_t e = rows->row_ptr[r]; e < rows->row_ptr[r + 1]; e++)
            ref[groups[rows->keys[e]] ? 1 : 0][r] = brow[rows->keys[e]];
        st = facto_rows_finish_row(ctx, direct, rows->labels[r]);
    }
    if (st != FACTO_OK)
        goto fail;
    free(brow);
    free(bval);
    fct_fm_data_init(out, direct, 1);
    st = fct_fm_data_add_block(ctx, out, block[0], 1, ref[0], 1);
    facto_status st2 = fct_fm_data_add_block(ctx, out, block[1], 1, ref[1], 1);
    if (st == FACTO_OK)
        st = st2;
    if (st != FACTO_OK) {
        fct_fm_data_release(out);
        return st;
    }
    out->feature_group = groups;
    out->n_groups = 2;
    *ok = 1;
    return FACTO_OK;
fail:
    free(brow);
    free(bval);
    free(ref[0]);
    free(ref[1]);
    facto_rows_free(block[0]);
    facto_rows_free(block[1]);
    facto_rows_free(direct);
    return st;
}

void fct_fm_data_init(fct_fm_data *d, const facto_rows *direct, int owned)
{
    memset(d, 0, sizeof *d);
    d->direct = direct;
    d->direct_owned = owned;
    d->n_rows = direct ? direct->n_rows : 0;
    d->feature_dim = direct ? fct_fm_rows_dim(direct) : 0;
}

static void fct_fm_block_release(fct_fm_block *b)
{
    if (b->rows_owned)
        facto_rows_free((facto_rows *)b->rows);
    if (b->ref_owned)
        free((int32_t *)b->ref);
    memset(b, 0, sizeof *b);
}

facto_status fct_fm_data_add_block(facto_ctx *ctx, fct_fm_data *d, const facto_rows *rows, int rows_owned,
                                     const int32_t *ref, int ref_owned)
{
    fct_fm_block b = {rows, ref, rows_owned, ref_owned};
    if (d->n_blocks >= FACTO_FM_MAX_BLOCKS) {
        fct_fm_block_release(&b);
        return fct_fail(ctx, FACTO_ERR_INVALID, "at most %d feature blocks are supported", FACTO_FM_MAX_BLOCKS);
    }
    for (int64_t n = 0; n < d->n_rows; n++) {
        if (ref[n] < 0 || (int64_t)ref[n] >= rows->n_rows) {
            facto_status st = fct_fail(ctx, FACTO_ERR_INVALID, "block %d: row %lld refers to block row %ld of %lld",
                                         d->n_blocks, (long long)n, (long)ref[n], (long long)rows->n_rows);
            fct_fm_block_release(&b);
            return st;
        }
    }
    uint64_t dim = fct_fm_rows_dim(rows);
    if (dim > d->feature_dim)
        d->feature_dim = dim;
    d->block[d->n_blocks++] = b;
    return FACTO_OK;
}

void fct_fm_data_release(fct_fm_data *d)
{
    if (!d)
        return;
    for (int b = 0; b < d->n_blocks; b++)
        fct_fm_block_release(&d->block[b]);
    if (d->direct_owned)
        facto_rows_free((facto_rows *)d->direct);
    if (d->groups_owned)
        free((int32_t *)d->feature_group);
    memset(d, 0, sizeof *d);
}

facto_status fct_fm_data_sources(facto_ctx *ctx, const fct_fm_data *d, uint64_t feature_dim,
                                   uint8_t **source_of)
{
    if (feature_dim < d->feature_dim)
        return fct_fail(ctx, FACTO_ERR_INVALID, "data use feature %llu but feature_dim is %llu",
                          (unsigned long long)d->feature_dim - 1, (unsigned long long)feature_dim);
    uint8_t *src = fct_calloc_array(feature_dim ? (size_t)feature_dim : 1, 1);
    if (!src)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %llu feature tags",
                          (unsigned long long)feature_dim);
    for (int s = 0; s <= d->n_blocks; s++) {
        const facto_rows *r = s == 0 ? d->direct : d->block[s - 1].rows;
        if (!r)
            continue;
        uint8_t tag = (uint8_t)(s + 1);
        for (int64_t e = 0; e < r->nnz; e++) {
            uint32_t k = r->keys[e];
            if (src[k] != 0 && src[k] != tag) {
                int first_direct = src[k] == 1;
                free(src);
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "feature %lu appears in two sources (%s and block %d); each feature must "
                                  "belong to the direct rows or to one block",
                                  (unsigned long)k, first_direct ? "the direct rows" : "another block", s - 1);
            }
            src[k] = tag;
        }
    }
    *source_of = src;
    return FACTO_OK;
}

facto_status fct_fm_data_expand(facto_ctx *ctx, const fct_fm_data *d, facto_rows **out)
{
    int labelled = d->direct && d->direct->labels;
    facto_rows *r = facto_rows_new(d->feature_dim, labelled);
    if (!r)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory expanding feature blocks");
    for (int64_t n = 0; n < d->n_rows; n++) {
        for (int s = 0; s <= d->n_blocks; s++) {
            const facto_rows *src = s == 0 ? d->direct : d->block[s - 1].rows;
            if (!src)
                continue;
            int64_t row = s == 0 ? n : d->block[s - 1].ref[n];
            for (int64_t e = src->row_ptr[row]; e < src->row_ptr[row + 1]; e++) {
                facto_status st = facto_rows_push(ctx, r, src->keys[e], src->values[e]);
                if (st != FACTO_OK) {
                    facto_rows_free(r);
                    return st;
                }
            }
        }
        facto_status st = facto_rows_finish_row(ctx, r, labelled ? d->direct->labels[n] : 0.0f);
        if (st != FACTO_OK) {
            facto_rows_free(r);
            return st;
        }
    }
    *out = r;
    return FACTO_OK;
}

/* Map every rating of `ds` to (train user, train item) indices; unknown ids
 * get U (or I), the index of the empty block row. */
static facto_status fct_fm_ratings_refs(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *ds,
                                          int32_t **uref, int32_t **iref)
{
    int64_t n = ds->n_ratings;
    int32_t *ur = fct_malloc_array(n ? (size_t)n : 1, sizeof *ur);
    int32_t *ir = fct_malloc_array(n ? (size_t)n : 1, sizeof *ir);
    int32_t *imap = fct_malloc_array(ds->n_items ? (size_t)ds->n_items : 1, sizeof *imap);
    if (!ur || !ir || !imap) {
        free(ur);
        free(ir);
        free(imap);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld rating references", (long long)n);
    }
    for (int32_t i = 0; i < ds->n_items; i++) {
        int32_t t = ds == train ? i : facto_idmap_find(train->item_map, facto_idmap_name(ds->item_map, i));
        imap[i] = t < 0 ? train->n_items : t;
    }
    for (int32_t u = 0; u < ds->n_users; u++) {
        int32_t t = ds == train ? u : facto_idmap_find(train->user_map, facto_idmap_name(ds->user_map, u));
        for (int64_t e = ds->row_ptr[u]; e < ds->row_ptr[u + 1]; e++) {
            ur[e] = t < 0 ? train->n_users : t;
            ir[e] = imap[ds->items[e]];
        }
    }
    free(imap);
    *uref = ur;
    *iref = ir;
    return FACTO_OK;
}

/* Label-only direct rows (no features) holding the ratings of ds in CSR order. */
static facto_status fct_fm_label_rows(facto_ctx *ctx, const facto_dataset *ds, facto_rows **out)
{
    facto_rows *r = facto_rows_new(0, 1);
    if (!r)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for label rows");
    for (int64_t e = 0; e < ds->n_ratings; e++) {
        facto_status st = facto_rows_finish_row(ctx, r, ds->ratings[e]);
        if (st != FACTO_OK) {
            facto_rows_free(r);
            return st;
        }
    }
    *out = r;
    return FACTO_OK;
}

/* Feature offsets of rating data in block form (fm_blocks.h): [0, U) user
 * ids, [U, off_us) item ids, then user side, item side, implicit items,
 * implicit users, up to dim. */
typedef struct fct_fm_layout {
    int32_t U, I;
    uint64_t du, di; /* user / item side columns */
    uint64_t off_us, off_is, off_imp, off_iimp, dim;
} fct_fm_layout;

/* Check the side rows against train and lay out the features. */
static facto_status fct_fm_ratings_layout(facto_ctx *ctx, const facto_dataset *train, const fct_fm_ratings_spec *spec,
                                          fct_fm_layout *L)
{
    L->U = train->n_users;
    L->I = train->n_items;
    if (spec->user_side && spec->user_side->n_rows != L->U)
        return fct_fail(ctx, FACTO_ERR_INVALID, "user side features have %lld rows, the training data %ld users",
                          (long long)spec->user_side->n_rows, (long)L->U);
    if (spec->item_side && spec->item_side->n_rows != L->I)
        return fct_fail(ctx, FACTO_ERR_INVALID, "item side features have %lld rows, the training data %ld items",
                          (long long)spec->item_side->n_rows, (long)L->I);
    L->du = spec->user_side ? fct_fm_rows_dim(spec->user_side) : 0;
    L->di = spec->item_side ? fct_fm_rows_dim(spec->item_side) : 0;
    L->off_us = (uint64_t)L->U + (uint64_t)L->I;
    L->off_is = L->off_us + L->du;
    L->off_imp = L->off_is + L->di;
    L->off_iimp = L->off_imp + (spec->implicit ? (uint64_t)L->I : 0);
    L->dim = L->off_iimp + (spec->implicit_items ? (uint64_t)L->U : 0);
    if (L->dim > ((uint64_t)1 << 32))
        return fct_fail(ctx, FACTO_ERR_INVALID, "%llu features do not fit 32-bit keys", (unsigned long long)L->dim);
    return FACTO_OK;
}

/* User block: per train user its one-hot key, side features and (implicit)
 * rated items at 1/sqrt(|N(u)|); then an empty row for unknown users. */
static facto_status fct_fm_user_block(facto_ctx *ctx, const facto_dataset *train, const fct_fm_ratings_spec *spec,
                                      const fct_fm_layout *L, facto_rows **out)
{
    facto_rows *ub = facto_rows_new(L->dim, 0);
    if (!ub)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for feature blocks");
    facto_status st = FACTO_OK;
    for (int32_t u = 0; u <= L->U && st == FACTO_OK; u++) {
        if (u < L->U) {
            st = facto_rows_push(ctx, ub, (uint32_t)u, 1.0f);
            const facto_rows *s = spec->user_side;
            for (int64_t e = s ? s->row_ptr[u] : 0; s && e < s->row_ptr[u + 1] && st == FACTO_OK; e++)
                st = facto_rows_push(ctx, ub, (uint32_t)(L->off_us + s->keys[e]), s->values[e]);
            int64_t deg = train->row_ptr[u + 1] - train->row_ptr[u];
            float norm = deg > 0 ? (float)(1.0 / sqrt((double)deg)) : 0.0f;
            for (int64_t e = train->row_ptr[u]; spec->implicit && e < train->row_ptr[u + 1] && st == FACTO_OK; e++)
                st = facto_rows_push(ctx, ub, (uint32_t)(L->off_imp + (uint64_t)train->items[e]), norm);
        }
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, ub, 0.0f);
    }
    if (st != FACTO_OK) {
        facto_rows_free(ub);
        return st;
    }
    *out = ub;
    return FACTO_OK;
}

/* Raters of each item (CSC of train): item i's users are
 * iusers[iptr[i] .. iptr[i + 1]), ascending. Both owned by the caller. */
static facto_status fct_fm_item_raters(facto_ctx *ctx, const facto_dataset *train, int64_t **iptr_out,
                                       int32_t **iusers_out)
{
    const int32_t U = train->n_users, I = train->n_items;
    int64_t *iptr = fct_calloc_array((size_t)I + 1, sizeof *iptr);
    int32_t *iusers = fct_malloc_array(train->n_ratings ? (size_t)train->n_ratings : 1, sizeof *iusers);
    if (!iptr || !iusers) {
        free(iptr);
        free(iusers);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for item raters");
    }
    for (int64_t e = 0; e < train->n_ratings; e++)
        iptr[train->items[e] + 1]++;
    for (int32_t i = 0; i < I; i++)
        iptr[i + 1] += iptr[i];
    for (int32_t u = 0; u < U; u++)
        for (int64_t e = train->row_ptr[u]; e < train->row_ptr[u + 1]; e++)
            iusers[iptr[train->items[e]]++] = u;
    for (int32_t i = I; i > 0; i--)
        iptr[i] = iptr[i - 1];
    iptr[0] = 0;
    *iptr_out = iptr;
    *iusers_out = iusers;
    return FACTO_OK;
}

/* Item block: per train item its one-hot key, side features and (implicit
 * items) raters at 1/sqrt(|N(i)|); then an empty row for unknown items. */
static facto_status fct_fm_item_block(facto_ctx *ctx, const facto_dataset *train, const fct_fm_ratings_spec *spec,
                                      const fct_fm_layout *L, facto_rows **out)
{
    facto_rows *ib = facto_rows_new(L->dim, 0);
    if (!ib)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for feature blocks");
    int64_t *iptr = NULL;
    int32_t *iusers = NULL;
    facto_status st = spec->implicit_items ? fct_fm_item_raters(ctx, train, &iptr, &iusers) : FACTO_OK;
    for (int32_t i = 0; i <= L->I && st == FACTO_OK; i++) {
        if (i < L->I) {
            st = facto_rows_push(ctx, ib, (uint32_t)(L->U + i), 1.0f);
            const facto_rows *s = spec->item_side;
            for (int64_t e = s ? s->row_ptr[i] : 0; s && e < s->row_ptr[i + 1] && st == FACTO_OK; e++)
                st = facto_rows_push(ctx, ib, (uint32_t)(L->off_is + s->keys[e]), s->values[e]);
            if (iptr) {
                int64_t deg = iptr[i + 1] - iptr[i];
                float norm = deg > 0 ? (float)(1.0 / sqrt((double)deg)) : 0.0f;
                for (int64_t e = iptr[i]; e < iptr[i + 1] && st == FACTO_OK; e++)
                    st = facto_rows_push(ctx, ib, (uint32_t)(L->off_iimp + (uint64_t)iusers[e]), norm);
            }
        }
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, ib, 0.0f);
    }
    free(iptr);
    free(iusers);
    if (st != FACTO_OK) {
        facto_rows_free(ib);
        return st;
    }
    *out = ib;
    return FACTO_OK;
}

/* Prior group of every feature [L->dim]: 0 user ids, 1 item ids, then the
 * user side groups, the item side groups, implicit, item implicit. */
static facto_status fct_fm_ratings_groups(facto_ctx *ctx, const fct_fm_ratings_spec *spec, const fct_fm_layout *L,
                                          int32_t **out, int32_t *n_groups)
{
    int32_t *groups = fct_malloc_array((size_t)L->dim, sizeof *groups);
    if (!groups)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %llu feature groups", (unsigned long long)L->dim);
    int32_t gu = 1, gi = 1;
    for (uint64_t c = 0; spec->user_side_group && c < L->du; c++)
        gu = spec->user_side_group[c] + 1 > gu ? spec->user_side_group[c] + 1 : gu;
    for (uint64_t c = 0; spec->item_side_group && c < L->di; c++)
        gi = spec->item_side_group[c] + 1 > gi ? spec->item_side_group[c] + 1 : gi;
    const int32_t g_us = 2, g_is = 2 + gu, g_imp = g_is + gi, g_iimp = g_imp + 1;
    for (uint64_t f = 0; f < L->dim; f++) {
        if (f < (uint64_t)L->U)
            groups[f] = 0;
        else if (f < L->off_us)
            groups[f] = 1;
        else if (f < L->off_is)
            groups[f] = g_us + (spec->user_side_group ? spec->user_side_group[f - L->off_us] : 0);
        else if (f < L->off_imp)
            groups[f] = g_is + (spec->item_side_group ? spec->item_side_group[f - L->off_is] : 0);
        else
            groups[f] = f < L->off_iimp ? g_imp : g_iimp;
    }
    *out = groups;
    *n_groups = g_iimp + 1;
    return FACTO_OK;
}

/* *out = the ratings of ds (labels, no direct features) joined with the
 * user block ub and the item block ib by id. owned = 1 hands ub and ib to
 * *out, also on failure. On failure *out is released (or, when it fails
 * before, left as it was). */
static facto_status fct_fm_join_ratings(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *ds,
                                        const facto_rows *ub, const facto_rows *ib, int owned, fct_fm_data *out)
{
    facto_rows *labels = NULL;
    int32_t *uref = NULL, *iref = NULL;
    facto_status st = fct_fm_label_rows(ctx, ds, &labels);
    if (st == FACTO_OK)
        st = fct_fm_ratings_refs(ctx, train, ds, &uref, &iref);
    if (st != FACTO_OK) {
        facto_rows_free(labels);
        if (owned) {
            facto_rows_free((facto_rows *)ub);
            facto_rows_free((facto_rows *)ib);
        }
        return st;
    }
    fct_fm_data_init(out, labels, 1);
    st = fct_fm_data_add_block(ctx, out, ub, owned, uref, 1);
    if (st == FACTO_OK) {
        st = fct_fm_data_add_block(ctx, out, ib, owned, iref, 1);
    } else {
        free(iref);
        if (owned)
            facto_rows_free((facto_rows *)ib);
    }
    if (st != FACTO_OK)
        fct_fm_data_release(out);
    return st;
}

facto_status fct_fm_data_from_ratings(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                        const fct_fm_ratings_spec *spec, fct_fm_data *train_out,
                                        fct_fm_data *test_out)
{
    static const fct_fm_ratings_spec none = {0, 0, NULL, NULL, NULL, NULL};
    if (!spec)
        spec = &none;
    fct_fm_layout L;
    memset(&L, 0, sizeof L);
    facto_status st = fct_fm_ratings_layout(ctx, train, spec, &L);
    if (st != FACTO_OK)
        return st;
    facto_rows *ub = NULL, *ib = NULL;
    if ((st = fct_fm_user_block(ctx, train, spec, &L, &ub)) != FACTO_OK)
        return st;
    if ((st = fct_fm_item_block(ctx, train, spec, &L, &ib)) != FACTO_OK) {
        facto_rows_free(ub);
        return st;
    }
    if ((st = fct_fm_join_ratings(ctx, train, train, ub, ib, 1, train_out)) != FACTO_OK)
        return st;
    train_out->feature_dim = L.dim;
    int32_t *groups = NULL, n_groups = 0;
    if ((st = fct_fm_ratings_groups(ctx, spec, &L, &groups, &n_groups)) != FACTO_OK) {
        fct_fm_data_release(train_out);
        return st;
    }
    train_out->pairs = 1;
    train_out->feature_group = groups;
    train_out->n_groups = n_groups;
    train_out->groups_owned = 1;
    if (test) {
        st = fct_fm_join_ratings(ctx, train, test, train_out->block[0].rows, train_out->block[1].rows, 0, test_out);
        if (st != FACTO_OK) {
            fct_fm_data_release(train_out);
            return st;
        }
        test_out->feature_dim = L.dim;
        test_out->pairs = 1;
    }
    return FACTO_OK;
}

facto_status fct_fm_side_rows(facto_ctx *ctx, const facto_features *f, const char *name, int is_user,
                              const facto_idmap *ids, facto_rows **rows, int32_t **groups, int32_t *n_cols)
{
    *rows = NULL;
    *groups = NULL;
    *n_cols = 0;
    int32_t d = f->columns->n;
    facto_status st = FACTO_OK;
    facto_rows *r = facto_rows_new(0, 0);
    int32_t *g = fct_malloc_array(d ? (size_t)d : 1, sizeof *g);
    if (!r || !g)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    /* Row t = the features of training id t (empty when the file lacks it). */
    int64_t with_features = 0;
    for (int32_t t = 0; st == FACTO_OK && t < ids->n; t++) {
        int32_t s = facto_idmap_find(f->ids, facto_idmap_name(ids, t));
        const int64_t b = s >= 0 ? f->rows->row_ptr[s] : 0, e = s >= 0 ? f->rows->row_ptr[s + 1] : 0;
        for (int64_t k = b; k < e && st == FACTO_OK; k++)
            st = facto_rows_push(ctx, r, f->rows->keys[k], f->rows->values[k]);
        with_features += e > b;
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, r, 0.0f);
    }
    /* A side file that gives no training id a feature (empty, or made for
     * other data) would train silently without side features. */
    if (st == FACTO_OK && with_features == 0)
        st = fct_fail(ctx, FACTO_ERR_PARSE,
                      "%s: gives no %s of the training ratings a feature (empty, or a side file for other data?)",
                      name, is_user ? "user" : "item");
    if (st == FACTO_OK && d > 0)
        memcpy(g, f->column_group, (size_t)d * sizeof *g);
    if (st != FACTO_OK) {
        facto_rows_free(r);
        free(g);
        return st;
    }
    r->feature_dim = (uint64_t)d;
    *rows = r;
    *groups = g;
    *n_cols = d;
    return FACTO_OK;
}

facto_status fct_fm_side_table(facto_ctx *ctx, const char *path, int is_user, const facto_idmap *ids,
                               facto_rows **rows, int32_t **groups, int32_t *n_cols)
{
    *rows = NULL;
    *groups = NULL;
    *n_cols = 0;
    facto_features *f = NULL;
    unsigned accept = FCT_FEATURES_ATTRIBUTES | (is_user ? FCT_FEATURES_ML_USERS : FCT_FEATURES_ML_ITEMS);
    facto_status st = fct_features_read(ctx, path, accept, &f);
    if (st == FACTO_OK)
        st = fct_fm_side_rows(ctx, f, path, is_user, ids, rows, groups, n_cols);
    facto_features_free(f);
    return st;
}
