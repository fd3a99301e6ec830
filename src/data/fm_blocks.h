/*
 * fm_blocks.h — factorization-machine data with libFM's block structure
 * (Rendle, "Scaling Factorization Machines to Relational Data", VLDB 2013):
 * each data row is its own sparse features ("direct" rows) plus, for every
 * block B, a reference to one row of B's small design matrix (e.g. a per-user
 * block holding the user's one-hot id, side features and rated items scaled
 * by 1/sqrt(|N(u)|), SVD++-style). A block row is stored once however many
 * data rows use it, so memory is O(nnz(direct) + sum_B (nnz(B) + n_rows))
 * instead of O(sum_n nnz(row n expanded)). Every feature lives in exactly one
 * source (the direct rows or one block): the samplers rely on it.
 */
#ifndef FACTO_FM_BLOCKS_H
#define FACTO_FM_BLOCKS_H

#include "dataset.h"
#include "rows.h"

#define FACTO_FM_MAX_BLOCKS 8

/* One block: its design matrix and, per data row, which of its rows is joined. */
typedef struct fct_fm_block {
    const facto_rows *rows; /* [n_block_rows, feature_dim], keys are global feature indices */
    const int32_t *ref;     /* [n_rows] block row joined to each data row, in [0, rows->n_rows) */
    int rows_owned;         /* 1: fct_fm_data_release frees rows */
    int ref_owned;          /* 1: fct_fm_data_release frees ref */
} fct_fm_block;

/* Data rows = direct features (+ labels) joined with the blocks. */
typedef struct fct_fm_data {
    int64_t n_rows;
    uint64_t feature_dim;     /* max over sources of (max key + 1) and their feature_dim */
    const facto_rows *direct; /* [n_rows, feature_dim] per-row features; labels here */
    int direct_owned;
    int n_blocks;
    fct_fm_block block[FACTO_FM_MAX_BLOCKS];
    /* Prior groups (MCMC hyperpriors are shared within a group, libFM's
     * -meta): [feature_dim] group of each feature in [0, n_groups), or NULL
     * for one group. */
    const int32_t *feature_group;
    int32_t n_groups;
    int groups_owned;
    /* 1 when built by fct_fm_data_from_ratings: block 0 holds one row per
     * training user then an empty row, block 1 the same per item; the
     * solvers then also leave per-user / per-item sums in the model. */
    int pairs;
} fct_fm_data;

/*
 * One-hot fields of flat rows, for the MCMC hyperpriors (one prior group per
 * field, as libFM's -meta file gives them): when every row holds the same
 * number m (2..64) of keys and, each row's keys sorted, every key at
 * position j lies below every key at position j + 1 (the position ranges
 * [lo_j, hi_j] are disjoint and ascending), the rows are m fields laid side
 * by side (SageMaker's user + item layout, or any such concatenation):
 * *groups [dim] gets j for keys in [lo_j, lo_{j+1}) (keys below lo_1 and
 * from lo_m up go to the first and last field), *n_groups = m. Otherwise
 * (other layouts, no rows, dim > 2^26) *groups = NULL and *n_groups = 1.
 * *groups owned by the caller. FACTO_ERR_NOMEM. O(nnz + dim).
 */
facto_status fct_fm_infer_fields(facto_ctx *ctx, const facto_rows *rows, uint64_t dim, int32_t **groups,
                                   int32_t *n_groups);

/*
 * Flat rows of exactly two one-hot fields (groups from fct_fm_infer_fields
 * with n_groups 2, every key always with the same value) as pair-form block
 * data, the layout the sampler sweeps fastest (fm_mcmc.c): direct rows
 * without features (the labels), block 0 one row per key of field 0 seen in
 * `rows`, block 1 the same for field 1, keys ascending. *out gets
 * feature_group = groups (borrowed) and n_groups 2. *ok = 0 and *out empty
 * when a key comes with two values. FACTO_ERR_NOMEM. O(nnz + dim).
 */
facto_status fct_fm_data_two_fields(facto_ctx *ctx, const facto_rows *rows, const int32_t *groups, uint64_t dim,
                                      fct_fm_data *out, int *ok);

/* Start data from direct rows (a data set without blocks is just these).
 * owned = 1 hands `direct` over to d. Never fails. */
void fct_fm_data_init(fct_fm_data *d, const facto_rows *direct, int owned);

/* Add a block. Ownership of what is flagged owned passes to d even when this
 * fails. Errors: FACTO_ERR_INVALID (too many blocks; a ref outside the
 * block, message "block B: row N refers to block row R of M"). O(n_rows). */
facto_status fct_fm_data_add_block(facto_ctx *ctx, fct_fm_data *d, const facto_rows *rows, int rows_owned,
                                     const int32_t *ref, int ref_owned);

/* Free what d owns and zero it. NULL-safe. */
void fct_fm_data_release(fct_fm_data *d);

/*
 * Check that the sources use disjoint features and fill *source_of with a
 * [feature_dim] array: 0 = unused, 1 = direct rows, 2 + b = block b
 * (owned by the caller, free()). FACTO_ERR_INVALID names a shared feature.
 * O(feature_dim + nnz) time and feature_dim bytes.
 */
facto_status fct_fm_data_sources(facto_ctx *ctx, const fct_fm_data *d, uint64_t feature_dim,
                                   uint8_t **source_of);

/* Expand to flat rows: row n = direct row n + every joined block row, keys
 * sorted (a key in two sources is summed). For tests and for scoring with a
 * saved model. *out owned by the caller. O(expanded nnz). FACTO_ERR_NOMEM. */
facto_status fct_fm_data_expand(facto_ctx *ctx, const fct_fm_data *d, facto_rows **out);

/*
 * Rating data as FM rows in block form. Features: [0, U) one-hot user,
 * [U, U+I) one-hot item, then (optional) user side features (d_u columns),
 * item side features (d_i columns), implicit feedback (I columns: the
 * training items of the user, each valued 1/sqrt(|N(u)|)) and item-side
 * implicit feedback (U columns: the training users of the item, each
 * 1/sqrt(|N(i)|), in the item block). U, I are the
 * train set's users and items. Block 0 = users (one row per train user plus
 * an empty row for users unknown to train), block 1 = items (likewise).
 * Test rows are matched to train indices by id string. Labels = ratings.
 * Prior groups: user id, item id, then the user side groups, the item side
 * groups, implicit, item implicit.
 */
typedef struct fct_fm_ratings_spec {
    int implicit;                /* add the user's rated items (SVD++-style) to the user block */
    int implicit_items;          /* add the item's raters to the item block */
    const facto_rows *user_side; /* [U, d_u] per train user (NULL: none); borrowed */
    const facto_rows *item_side; /* [I, d_i] per train item (NULL: none); borrowed */
    /* Optional prior group of each side column ([d_u], [d_i], values >= 0,
     * borrowed); NULL puts all user (item) side columns in one group. */
    const int32_t *user_side_group;
    const int32_t *item_side_group;
} fct_fm_ratings_spec;

/* Build train (and, when test != NULL, test) data in block form; the test
 * data borrows train's blocks, so release test first. Errors:
 * FACTO_ERR_INVALID (side rows count != U or I), FACTO_ERR_NOMEM. */
facto_status fct_fm_data_from_ratings(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                        const fct_fm_ratings_spec *spec, fct_fm_data *train_out,
                                        fct_fm_data *test_out);

/*
 * Side features of every id of `ids` (a training set's users or items) from
 * `path`, read as a feature table (features.c, facto_features_read):
 * MovieLens 100K u.user (is_user) or u.item (!is_user) when the first data
 * line holds '|' (user: age bucket, gender, occupation; item: genres /
 * n_genres, release decade), else the attribute format "id<TAB>name[:value]
 * name[:value] ..." (value 1 when omitted; '#' lines and blank lines
 * skipped; the prior group of a column is its name up to the first '=', so
 * "genre=Drama" and "genre=Comedy" share one). *rows [ids->n, *n_cols] (an
 * id without a line gets an empty row; ids not in `ids` are skipped) and
 * *groups [*n_cols] (the table's column groups) are owned by the caller.
 * Errors: FACTO_ERR_IO, FACTO_ERR_PARSE ("PATH:LINE: ..."; also when no id
 * of `ids` gets a feature), FACTO_ERR_NOMEM. O(file + nnz). fm_blocks.c.
 */
facto_status fct_fm_side_table(facto_ctx *ctx, const char *path, int is_user, const facto_idmap *ids,
                                 facto_rows **rows, int32_t **groups, int32_t *n_cols);
/* The same from a table already read (facto_features_read); `name` names
 * it in messages (its path, or "user features"). */
facto_status fct_fm_side_rows(facto_ctx *ctx, const facto_features *f, const char *name, int is_user,
                              const facto_idmap *ids, facto_rows **rows, int32_t **groups, int32_t *n_cols);

#endif /* FACTO_FM_BLOCKS_H */
