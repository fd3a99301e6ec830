/*
 * itemmodels.h — the item-based ranking kinds for implicit feedback:
 * popular (popular.c), itemknn (itemknn.c) and ease (ease.c), and the part
 * they share (itembase.c): the training users and their items with the
 * interaction weights (so a training user is scored exactly as the history
 * query of those items, and top-N leaves them out), per-item interaction
 * counts (the fallback for a query with nothing in it), the query rules,
 * and the model file sections that hold all that. None of these kinds has
 * user factors: every score is computed from a history of items, which is
 * also how a user who was not in training is folded in.
 *
 * Training data: a facto_dataset whose rating column is an interaction
 * weight (1 for a click or a rating kept by a threshold; plays, counts);
 * weights must be >= 0 and finite. Training is src/train/fit_<kind>.c over
 * the routines of src/solvers/itemsim.h.
 */
#ifndef FACTO_ITEMMODELS_H
#define FACTO_ITEMMODELS_H

#include "model.h"

/* What the three kinds share: ids, training histories, item counts. */
typedef struct fct_item_base {
    int32_t n_users, n_items;
    int64_t n_seen;              /* training (user, item) pairs */
    facto_idmap *users, *items;  /* owned */
    int64_t *seen_ptr;           /* [n_users + 1] offsets into seen_items / seen_w */
    int32_t *seen_items;         /* [n_seen] each user's training items, ascending */
    float *seen_w;               /* [n_seen] their weights, finite and >= 0 */
    float *pop;                  /* [n_items] training pairs of each item (popular with count=weights:
                                    the sum of their weights) */
} fct_item_base;

/* Fill b from `train` (copies of its id maps, CSR and weights; pop = pairs
 * per item). Errors: FACTO_ERR_EMPTY (no interactions), FACTO_ERR_INVALID
 * (a negative weight: the message names the user and item ids),
 * FACTO_ERR_NOMEM. On error b holds nothing (fct_item_base_clear is safe). */
facto_status fct_item_base_init(facto_ctx *ctx, fct_item_base *b, const facto_dataset *train, const char *kind);
void fct_item_base_clear(fct_item_base *b);

/*
 * The history a query stands for: a training user's items and weights
 * (q->user in [0, n_users)), the query's own history (user < 0,
 * n_history > 0: items must be -1, meaning unknown and skipped, or in
 * [0, n_items); values finite and >= 0, NULL = each 1), or nothing (*n 0:
 * an unknown user; the kind's fallback). *items and *values are borrowed
 * from the model or the query; *values may be NULL. Errors:
 * FACTO_ERR_INVALID (a feature-row query, an item out of range, a bad
 * value: the message names the kind).
 */
facto_status fct_item_history(facto_ctx *ctx, const fct_item_base *b, const fct_query *q, const char *kind,
                              const int32_t **items, const float **values, int64_t *n);

/* Where a kind computes scores of every item: `out` itself when items is
 * NULL, else a fresh buffer of n_items floats (*own set, free() it); NULL
 * when out of memory. fct_item_gather then copies the asked items' scores
 * into out (0 for an index outside [0, n_items): an unknown item has no
 * interactions) and frees the buffer. Both paths give the same bits. */
float *fct_item_scores_begin(const fct_item_base *b, const int32_t *items, float *out, float **own);
void fct_item_gather(const fct_item_base *b, const int32_t *items, int64_t n, float *own, float *out);

/* The seen op of all three kinds. */
int64_t fct_item_seen(const fct_item_base *b, int32_t u, fct_seen_list *items);

/*
 * Model file sections. Each kind has a two-letter prefix P1 P2 and writes:
 *   P1 P2 'P' 'R'  hyperparameters, "name=value\n" lines of its table;
 *   P1 P2 'H' 'D'  32 bytes: u32 layout (1) @0, i32 n_users @4, i32 n_items @8,
 *                  u32 0 @12, i64 n_seen @16, i64 kind-specific @24;
 *   P1 P2 'U' 'I', P1 P2 'I' 'I'  user and item id maps;
 *   P1 P2 'S' 'P'  int64 [n_users + 1] seen offsets; P1 P2 'S' 'I' int32 [n_seen]
 *                  items; P1 P2 'S' 'W' float [n_seen] weights;
 *   P1 P2 'C' 'T'  float [n_items] item counts.
 * save writes them all (`extra` goes to the header's last field); load
 * reads and checks every size, range and value (FACTO_ERR_CORRUPT naming
 * the path and the kind), fills b, the kind's params struct (through its
 * table, so a file cannot carry a setting the table refuses) and *extra.
 * On error b holds nothing.
 */
facto_status fct_item_base_save(facto_ctx *ctx, fct_mfile_writer *w, const fct_item_base *b, char p1, char p2,
                                const fct_ptable *table, const void *params, int64_t extra);
facto_status fct_item_base_load(facto_ctx *ctx, const fct_mfile_reader *r, fct_item_base *b, char p1, char p2,
                                const fct_ptable *table, void *params, int64_t *extra);

/* FACTO_ERR_CORRUPT "PATH: KIND model: what". */
facto_status fct_item_corrupt(facto_ctx *ctx, const fct_mfile_reader *r, const char *kind, const char *what);

/* ---- popular (popular.c) ------------------------------------------------ */

typedef enum fct_popular_count {
    FCT_POPULAR_PAIRS = 1,  /* "pairs": users who interacted with the item (weights ignored) */
    FCT_POPULAR_WEIGHTS = 2 /* "weights": the sum of their weights */
} fct_popular_count;

typedef struct fct_popular_params {
    int count; /* fct_popular_count */
} fct_popular_params;

typedef struct fct_popular_model {
    facto_model base;
    fct_item_base b; /* b.pop is the ranking */
    fct_popular_params params;
} fct_popular_model;

extern const fct_model_ops fct_popular_ops;
extern const fct_ptable fct_popular_ptable;
void fct_popular_destroy(fct_popular_model *m);

/* ---- itemknn (itemknn.c) ------------------------------------------------ */

typedef enum fct_knn_similarity {
    FCT_KNN_COSINE = 1, /* "cosine" of the item columns of X */
    FCT_KNN_BM25 = 2    /* "bm25": cosine of the columns of X after BM25 weighting */
} fct_knn_similarity;

typedef struct fct_itemknn_params {
    int similarity; /* fct_knn_similarity */
    int neighbors;  /* K: neighbours kept per item */
    float bm25_k1;  /* BM25 K1 (term-frequency saturation) */
    float bm25_b;   /* BM25 B (length normalisation) */
} fct_itemknn_params;

typedef struct fct_itemknn_model {
    facto_model base;
    fct_item_base b;
    fct_itemknn_params params;
    int64_t n_nbr;      /* kept (item, neighbour) pairs */
    int64_t *nbr_ptr;   /* [n_items + 1] */
    int32_t *nbr_items; /* [n_nbr] each item's neighbours, ascending, never the item itself */
    float *nbr_sim;     /* [n_nbr] their similarities, finite */
} fct_itemknn_model;

extern const fct_model_ops fct_itemknn_ops;
extern const fct_ptable fct_itemknn_ptable;
void fct_itemknn_destroy(fct_itemknn_model *m);

/* ---- ease (ease.c) ------------------------------------------------------ */

typedef struct fct_ease_params {
    float reg;           /* lambda, the L2 weight on B */
    uint64_t max_memory; /* bytes the items x items matrix may take; 0 = half of fct_memory_total() */
} fct_ease_params;

typedef struct fct_ease_model {
    facto_model base;
    fct_item_base b;
    fct_ease_params params;
    float *B; /* [n_items, n_items] row-major, zero diagonal; 64-byte aligned */
} fct_ease_model;

extern const fct_model_ops fct_ease_ops;
extern const fct_ptable fct_ease_ptable;
void fct_ease_destroy(fct_ease_model *m);

#endif /* FACTO_ITEMMODELS_H */
