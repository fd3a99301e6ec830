/*
 * fm_encode.c — ratings -> factorization-machine rows. An encoder fixes the
 * key layout from the training set's id maps (one-hot user, one-hot item,
 * as SageMaker's FM MovieLens example and libFM do) plus the columns of
 * optional MovieLens 100K side files, read as feature tables (features.c):
 * u.user's age bucket, gender and occupation, u.item's genres (summing to 1)
 * and release decade. Ids index the one-hot blocks in first-seen order, or
 * as numbers (key = id - 1, exactly SageMaker's demo). Side features are
 * looked up by the data's own ids, so a test user unseen in training still
 * gets them. Building costs O(users + items + side file); encoding a data
 * set is O(ratings * row length), each row pushed in ascending key order.
 */
#include "data/dataset.h"
#include "data/rows.h"
#include "data/features.h"

#include <stdio.h>
#include <string.h>

struct facto_fm_encoder {
    facto_idmap *users, *items; /* one-hot layout: the training set's ids */
    int numeric;                /* 1: key = id - 1 (SageMaker's demo layout) */
    int64_t n_user_ids, n_item_ids; /* numeric layout: largest user / item id */
    float binarize;
    /* side features (u.user, u.item) by the data's own ids, or NULL */
    facto_features *side_users, *side_items;
    /* key offsets: one-hot items, user side columns, item side columns */
    uint64_t off_item, off_user_side, off_item_side, dim;
};

facto_fm_encode_options facto_fm_encode_options_default(void)
{
    facto_fm_encode_options o;
    memset(&o, 0, sizeof o);
    return o;
}

void facto_fm_encoder_free(facto_fm_encoder *enc)
{
    if (!enc)
        return;
    fct_idmap_free(enc->users);
    fct_idmap_free(enc->items);
    facto_features_free(enc->side_users);
    facto_features_free(enc->side_items);
    free(enc);
}

uint64_t facto_fm_encoder_dim(const facto_fm_encoder *enc) { return enc->dim; }

/* FACTO_ERR_PARSE when no id of the side file `side` is an id of `ids`. */
static facto_status fct_side_overlap(facto_ctx *ctx, const facto_idmap *side, const facto_idmap *ids,
                                       const char *path, const char *what)
{
    int32_t n = facto_idmap_size(side);
    for (int32_t i = 0; i < n; i++)
        if (facto_idmap_find(ids, facto_idmap_name(side, i)) >= 0)
            return FACTO_OK;
    return fct_fail(ctx, FACTO_ERR_PARSE,
                      "%s: none of its %d %s ids (the first is '%.40s') is a %s of the training ratings: "
                      "a side file for other data?",
                      path ? path : "side features", (int)n, what, n > 0 ? facto_idmap_name(side, 0) : "", what);
}

/* A numeric id: decimal digits only, 1 .. 2^31-1; -1 otherwise. */
static int64_t fct_fm_numeric_id(const char *s)
{
    int64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > INT32_MAX)
            return -1;
    }
    return v >= 1 ? v : -1;
}

/* Largest numeric id of `map` (0 when empty); with `strict`, a non-numeric
 * id is an error naming `what`. */
static facto_status fct_fm_max_id(facto_ctx *ctx, const facto_idmap *map, int strict, const char *what,
                                    int64_t *max)
{
    for (int32_t i = 0; map && i < facto_idmap_size(map); i++) {
        const char *id = facto_idmap_name(map, i);
        int64_t v = fct_fm_numeric_id(id);
        if (v < 0 && strict)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "%s id '%.40s' is not a positive integer, which the numeric id layout needs", what, id);
        if (v > *max)
            *max = v;
    }
    return FACTO_OK;
}

facto_status facto_fm_encoder_new(facto_ctx *ctx, const facto_dataset *train, const facto_fm_encode_options *opts,
                                  facto_fm_encoder **out)
{
    *out = NULL;
    facto_fm_encode_options def = facto_fm_encode_options_default();
    if (!opts)
        opts = &def;
    if (!(opts->binarize >= 0.0f))
        return fct_fail(ctx, FACTO_ERR_INVALID, "binarize must be >= 0 (0 keeps ratings as labels)");
    {
        facto_status wst = fct_dataset_wide(ctx, train);
        if (wst != FACTO_OK)
            return wst;
    }
    facto_fm_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    enc->binarize = opts->binarize;
    enc->users = fct_idmap_clone(facto_dataset_users(train));
    enc->items = fct_idmap_clone(facto_dataset_items(train));
    if (!enc->users || !enc->items) {
        facto_fm_encoder_free(enc);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    facto_status st = FACTO_OK;
    /* Side files: MovieLens only (an attribute file is refused on its first
     * line), each its own kind: a u.item given as users fails too. */
    if (opts->user_file &&
        (st = fct_features_read(ctx, opts->user_file, FCT_FEATURES_ML_USERS, &enc->side_users)) != FACTO_OK) {
        facto_fm_encoder_free(enc);
        return st;
    }
    if (opts->item_file &&
        (st = fct_features_read(ctx, opts->item_file, FCT_FEATURES_ML_ITEMS, &enc->side_items)) != FACTO_OK) {
        facto_fm_encoder_free(enc);
        return st;
    }
    const facto_idmap *su = facto_features_ids(enc->side_users), *si = facto_features_ids(enc->side_items);
    /* A side file that describes none of the training ids is the wrong file. */
    if ((su && (st = fct_side_overlap(ctx, su, enc->users, opts->user_file, "user")) != FACTO_OK) ||
        (si && (st = fct_side_overlap(ctx, si, enc->items, opts->item_file, "item")) != FACTO_OK)) {
        facto_fm_encoder_free(enc);
        return st;
    }
    if (opts->numeric_ids) {
        int64_t mu = 0, mi = 0;
        if ((st = fct_fm_max_id(ctx, enc->users, 1, "user", &mu)) != FACTO_OK ||
            (st = fct_fm_max_id(ctx, enc->items, 1, "item", &mi)) != FACTO_OK) {
            facto_fm_encoder_free(enc);
            return st;
        }
        int64_t tu = mu, ti = mi;
        fct_fm_max_id(ctx, su, 0, "user", &mu);
        fct_fm_max_id(ctx, si, 0, "item", &mi);
        if (opts->max_user_id > 0) {
            if (opts->max_user_id < tu || opts->max_user_id > INT32_MAX) {
                facto_fm_encoder_free(enc);
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "max_user_id %lld is below the training set's largest user id %lld or above 2^31-1",
                                  (long long)opts->max_user_id, (long long)tu);
            }
            mu = opts->max_user_id;
        }
        if (opts->max_item_id > 0) {
            if (opts->max_item_id < ti || opts->max_item_id > INT32_MAX) {
                facto_fm_encoder_free(enc);
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "max_item_id %lld is below the training set's largest item id %lld or above 2^31-1",
                                  (long long)opts->max_item_id, (long long)ti);
            }
            mi = opts->max_item_id;
        }
        enc->numeric = 1;
        enc->n_user_ids = mu;
        enc->n_item_ids = mi;
    }
    enc->off_item = enc->numeric ? (uint64_t)enc->n_user_ids : (uint64_t)enc->users->n;
    enc->off_user_side = enc->off_item + (enc->numeric ? (uint64_t)enc->n_item_ids : (uint64_t)enc->items->n);
    enc->off_item_side = enc->off_user_side + (uint64_t)facto_features_n_columns(enc->side_users);
    enc->dim = enc->off_item_side + (uint64_t)facto_features_n_columns(enc->side_items);
    *out = enc;
    return fct_ok(ctx);
}

facto_status facto_fm_encoder_key_name(facto_ctx *ctx, const facto_fm_encoder *enc, uint64_t key, char *buf,
                                       size_t size)
{
    int n;
    if (key < enc->off_item && enc->numeric)
        n = snprintf(buf, size, "user=%llu", (unsigned long long)key + 1);
    else if (key < enc->off_item)
        n = snprintf(buf, size, "user=%s", facto_idmap_name(enc->users, (int32_t)key));
    else if (key < enc->off_user_side && enc->numeric)
        n = snprintf(buf, size, "item=%llu", (unsigned long long)(key - enc->off_item) + 1);
    else if (key < enc->off_user_side)
        n = snprintf(buf, size, "item=%s", facto_idmap_name(enc->items, (int32_t)(key - enc->off_item)));
    else if (key < enc->off_item_side)
        n = snprintf(buf, size, "%s", enc->side_users->columns->names[key - enc->off_user_side]);
    else if (key < enc->dim)
        n = snprintf(buf, size, "%s", enc->side_items->columns->names[key - enc->off_item_side]);
    else
        return fct_fail(ctx, FACTO_ERR_INVALID, "key %llu is not below the encoder's dimension %llu",
                          (unsigned long long)key, (unsigned long long)enc->dim);
    if (n < 0 || (size_t)n >= size)
        return fct_fail(ctx, FACTO_ERR_INVALID, "buffer of %zu bytes too small for the name of key %llu", size,
                          (unsigned long long)key);
    return fct_ok(ctx);
}

/* Push the side features of `id` (none when side is NULL or lacks the id),
 * their columns shifted by `off`. */
static facto_status fct_fm_push_side(facto_ctx *ctx, const facto_features *side, const char *id, uint64_t off,
                                     facto_rows *rows)
{
    int32_t s = side ? facto_idmap_find(side->ids, id) : -1;
    if (s < 0)
        return FACTO_OK;
    const facto_rows *r = side->rows;
    for (int64_t e = r->row_ptr[s]; e < r->row_ptr[s + 1]; e++) {
        facto_status st = facto_rows_push(ctx, rows, (uint32_t)(off + r->keys[e]), r->values[e]);
        if (st != FACTO_OK)
            return st;
    }
    return FACTO_OK;
}

/* Push the keys of (user, item) in ascending order. uid/iid: the data's ids. */
static facto_status fct_fm_push_pair(facto_ctx *ctx, const facto_fm_encoder *enc, facto_rows *rows,
                                       const char *uid, const char *iid, int *known_user, int *known_item)
{
    facto_status st;
    int64_t u, i;
    if (enc->numeric) {
        u = fct_fm_numeric_id(uid);
        i = fct_fm_numeric_id(iid);
        u = u >= 1 && u <= enc->n_user_ids ? u - 1 : -1;
        i = i >= 1 && i <= enc->n_item_ids ? i - 1 : -1;
    } else {
        u = facto_idmap_find(enc->users, uid);
        i = facto_idmap_find(enc->items, iid);
    }
    /* known = in the training set, in both layouts: a numeric id in 1..max
     * that training never had gets its key, but the key was never trained */
    *known_user = enc->numeric ? facto_idmap_find(enc->users, uid) >= 0 : u >= 0;
    *known_item = enc->numeric ? facto_idmap_find(enc->items, iid) >= 0 : i >= 0;
    if (u >= 0 && (st = facto_rows_push(ctx, rows, (uint32_t)u, 1.0f)) != FACTO_OK)
        return st;
    if (i >= 0 && (st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_item + (uint64_t)i), 1.0f)) != FACTO_OK)
        return st;
    if ((st = fct_fm_push_side(ctx, enc->side_users, uid, enc->off_user_side, rows)) != FACTO_OK)
        return st;
    return fct_fm_push_side(ctx, enc->side_items, iid, enc->off_item_side, rows);
}

facto_status facto_fm_encode(facto_ctx *ctx, const facto_fm_encoder *enc, const facto_dataset *ds,
                             facto_rows **out, int64_t *n_unknown_users, int64_t *n_unknown_items)
{
    *out = NULL;
    if (enc->dim > (uint64_t)UINT32_MAX + 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "the layout has %llu keys, more than 2^32",
                          (unsigned long long)enc->dim);
    const int64_t *row_ptr;
    const int32_t *items;
    const float *ratings;
    const int64_t *ts;
    facto_dataset_csr(ds, &row_ptr, &items, &ratings, &ts);
    int32_t nu = facto_dataset_n_users(ds);
    if (facto_dataset_n_ratings(ds) == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "no ratings to encode");
    const facto_idmap *dsu = facto_dataset_users(ds), *dsi = facto_dataset_items(ds);
    facto_rows *rows = facto_rows_new(enc->dim, 1);
    if (!rows)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    int64_t unk_u = 0, unk_i = 0;
    facto_status st = FACTO_OK;
    for (int32_t u = 0; u < nu && st == FACTO_OK; u++) {
        const char *uid = facto_idmap_name(dsu, u);
        for (int64_t j = row_ptr[u]; j < row_ptr[u + 1]; j++) {
            int ku, ki;
            if ((st = fct_fm_push_pair(ctx, enc, rows, uid, facto_idmap_name(dsi, items[j]), &ku, &ki)) != FACTO_OK)
                break;
            unk_u += !ku;
            unk_i += !ki;
            float label = enc->binarize > 0.0f ? (ratings[j] >= enc->binarize ? 1.0f : 0.0f) : ratings[j];
            if ((st = facto_rows_finish_row(ctx, rows, label)) != FACTO_OK)
                break;
        }
    }
    if (st != FACTO_OK) {
        facto_rows_free(rows);
        return st;
    }
    if (n_unknown_users)
        *n_unknown_users = unk_u;
    if (n_unknown_items)
        *n_unknown_items = unk_i;
    *out = rows;
    return fct_ok(ctx);
}

facto_status facto_fm_encode_pair(facto_ctx *ctx, const facto_fm_encoder *enc, const char *user, const char *item,
                                  float label, facto_rows *rows, int *flags)
{
    int ku, ki;
    facto_status st = fct_fm_push_pair(ctx, enc, rows, user, item, &ku, &ki);
    if (st == FACTO_OK)
        st = facto_rows_finish_row(ctx, rows, label);
    if (flags)
        *flags = (ku ? 0 : FACTO_PRED_UNKNOWN_USER) | (ki ? 0 : FACTO_PRED_UNKNOWN_ITEM);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
