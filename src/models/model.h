/*
 * model.h — the one interface every model kind implements. A concrete model
 * struct starts with `facto_model base;` so a facto_model* can be cast to it;
 * base.ops points at the kind's fct_model_ops. Everything that uses a model
 * — predict, evaluate, top-N (src/eval/), training reports (src/train/), the
 * CLI and the server — goes through these ops and never through a kind's own
 * code. A new kind is one file in src/models/ that fills an ops table (at
 * least score, save, load and the parameter table) and one line in
 * fct_model_kinds[] (model.c); see docs/design.md.
 */
#ifndef FACTO_MODEL_H
#define FACTO_MODEL_H

#include "core/internal.h"
#include "core/params.h"
#include "io/modelfile.h"
#include "metrics/metrics.h"

#include <stdatomic.h>

/*
 * Whom to score items for. One form at a time:
 *   user >= 0                  a user of the model's user map (training user);
 *   user < 0, n_history > 0    a user given by the items they interacted with
 *                              (model item indices, optional values: fold-in);
 *   user < 0, n_keys > 0       a feature row (models that score feature rows);
 *   nothing                    an unknown user: the model's documented fallback
 *                              (e.g. MF's mu + b_i).
 * Every pointer is borrowed for the call.
 */
typedef struct fct_query {
    int32_t user;
    int32_t n_history;
    const int32_t *history;       /* [n_history] item indices */
    const float *history_values;  /* [n_history], or NULL (each 1) */
    int64_t n_keys;
    const uint32_t *keys;         /* [n_keys] feature keys, ascending */
    const float *values;          /* [n_keys] */
} fct_query;

/* A query for training user u. */
static inline fct_query fct_query_user(int32_t u)
{
    fct_query q = {u, 0, NULL, NULL, 0, NULL, NULL};
    return q;
}

/*
 * The dot form of a model whose raw score is
 *   s(u, i) = c + b_u + b_i + <U_u, V_i>
 * so a block of users is scored against every item with one sgemm. Arrays
 * are borrowed from the model: U [n_users, k] with row stride ldu, V
 * [n_items, k] with row stride ldv, row-major; user_bias [n_users] and
 * item_bias [n_items] may be NULL (zero). pair is the model's own raw
 * score of training user u and item i, bit for bit what score() returns
 * with FCT_SCORE_RAW (its own kernel and order of the sums, which may
 * differ from a fixed-order sum of the terms above in the last bits): top-N
 * selects and reports those, so a pair prints the same number in a list
 * and in predict. It must be within a few roundings of the sum above (the
 * top-N bounds assume any order of float sums, or better).
 */
typedef struct fct_dot_form {
    float (*pair)(const facto_model *model, int32_t u, int32_t i);
    float c;
    const float *user_bias;
    const float *item_bias;
    const float *U;
    const float *V;
    int32_t n_users, n_items, k;
    int64_t ldu, ldv;
} fct_dot_form;

/* What score() returns. */
typedef enum fct_score_mode {
    FCT_SCORE_RAW = 0,    /* ranking scores: higher is better (no clipping, no link function) */
    FCT_SCORE_PREDICT = 1 /* predictions: clipped to the rating range, or the probability of class 1 */
} fct_score_mode;

/* One user's training items, ascending: int32 indices (i32) or, for a
 * model that keeps them narrow (mf with at most 65,536 items), uint16 ones
 * (i16); the other pointer NULL. fct_seen_walk reads either. */
typedef struct fct_seen_list {
    const int32_t *i32;
    const uint16_t *i16;
} fct_seen_list;

/* A walk over a seen list beside an ascending scan of items:
 * fct_seen_walk_has(w, i) is 1 when i is in the list; the i of successive
 * calls must not decrease. O(n) over a whole scan. */
typedef struct fct_seen_walk {
    fct_seen_list l;
    int64_t x, n;
} fct_seen_walk;

static inline void fct_seen_walk_init(fct_seen_walk *w, const fct_seen_list *l, int64_t n)
{
    w->l = *l;
    w->x = 0;
    w->n = (l->i32 || l->i16) ? n : 0;
}

static inline int fct_seen_walk_has(fct_seen_walk *w, int32_t i)
{
    if (w->l.i16) {
        while (w->x < w->n && (int32_t)w->l.i16[w->x] < i)
            w->x++;
        return w->x < w->n && (int32_t)w->l.i16[w->x] == i;
    }
    while (w->x < w->n && w->l.i32[w->x] < i)
        w->x++;
    return w->x < w->n && w->l.i32[w->x] == i;
}

/* Item x of a seen list. */
static inline int32_t fct_seen_at(const fct_seen_list *l, int64_t x)
{
    return l->i16 ? (int32_t)l->i16[x] : l->i32[x];
}

typedef struct fct_model_ops {
    facto_model_kind kind;
    const char *name;                 /* "mf": the --model name and the registry key */
    const char *summary;              /* one line for --help */
    unsigned train_inputs;            /* FACTO_INPUT_* bits the kind trains on */
    const fct_ptable *params;         /* its hyperparameter table */
    /* Optional: FACTO_INPUT_* bits a configuration (the kind's params
     * struct) trains on, when it is narrower than train_inputs. */
    unsigned (*inputs_of)(const void *params);
    /* N > 0 when a model is the same for any facto_ctx_set_threads() count
     * from 1 to N (INT_MAX: any; a program may then use every core by
     * default); 0 when more threads change the result (Hogwild SGD). */
    int thread_invariant;
    /* Optional: FACTO_TASK_* a configuration trains, 0 while a setting it
     * depends on is unset. NULL: FACTO_TASK_REGRESSION. */
    facto_task (*task_of)(const void *params);
    /* Optional: "summary\nnote\n..." for a program to show before training,
     * as snprintf (returns the length needed). NULL: no summary. */
    size_t (*describe)(const void *params, char *buf, size_t size);
    /* Optional: 0 when the configuration ignores hyperparameter d (fm with
     * solver mcmc: the learning rates), else 1. NULL: every one is used. */
    int (*param_used)(const void *params, const fct_pdesc *d);

    void (*free)(facto_model *model);
    /* Write the model's sections; the caller creates and commits the file. */
    facto_status (*save)(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w);
    /* Build a model from a verified file's sections. */
    facto_status (*load)(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out);

    /* The struct `params` describes, as trained (borrowed). */
    const void *(*get_params)(const facto_model *model);
    /* FACTO_TASK_* of this model (a classifier, a rating regressor, ...). */
    facto_task (*task)(const facto_model *model);
    /* FACTO_INPUT_* a trained model scores: RATINGS = (user, item) ids, ROWS = feature rows. */
    unsigned (*inputs)(const facto_model *model);
    /* Id maps, borrowed; NULL for a model without ids (FM on feature rows). */
    const facto_idmap *(*users)(const facto_model *model);
    const facto_idmap *(*items)(const facto_model *model);

    /*
     * Scores of query q against items[n] (model item indices; -1 = an item the
     * model does not know: its fallback), or against every item when items
     * is NULL (then out has room for the item count). A feature-row query
     * takes items NULL and writes one score. Reentrant on a const model (no
     * shared scratch). Errors: FACTO_ERR_INVALID (a query form the kind does
     * not take, a key >= feature_dim), FACTO_ERR_NOMEM.
     */
    facto_status (*score)(facto_ctx *ctx, const facto_model *model, const fct_query *q, const int32_t *items,
                          int64_t n, fct_score_mode mode, float *out);
    /* Optional: RAW scores [n] -> predictions in place (clip, sigmoid), for
     * scores computed through the dot form. NULL: raw scores are predictions. */
    void (*finish)(const facto_model *model, float *scores, int64_t n);
    /* Optional: fill *out and return 1 when the model has a dot form. */
    int (*dot_form)(const facto_model *model, fct_dot_form *out);
    /* Optional: similarity of item i to every item into out [n_items]
     * (higher = more similar), for "similar items": item-item models give
     * their own weights; NULL: the driver uses the cosine of the dot
     * form's item factors. Reentrant. */
    facto_status (*item_similarity)(facto_ctx *ctx, const facto_model *model, int32_t item, float *out);
    /* Optional: the items user u had in training, ascending (borrowed,
     * 4-byte or 2-byte indices: fct_seen_list); returns their count, or -1
     * when this model keeps none (NULL op: the kind never keeps them). */
    int64_t (*seen)(const facto_model *model, int32_t u, fct_seen_list *items);
} fct_model_ops;

struct facto_model {
    const fct_model_ops *ops;
    /* Top-N's rounding bound of a dot-form model (eval/recommend.c: max
     * |V_i| and max |b_i| over items, as float bits), computed on the first
     * top-N call and kept: a model never changes once fitted or loaded.
     * topn_bound_ready turns 1 (release) after both are stored. Zero from
     * the kinds' calloc. */
    _Atomic uint32_t topn_bound[2];
    _Atomic int topn_bound_ready;
    /* One-user top-N's int8 copy of a dot-form model's item factors
     * (eval/recommend.c, fct_rec_quant): one allocation, built on the first
     * one-user call that uses it, freed by facto_model_free. NULL from the
     * kinds' calloc. */
    _Atomic(void *) topn_quant;
};

/* Registered kinds (mf.c, fm.c, popular.c, itemknn.c, ease.c, ials.c, bpr.c,
 * warp.c, softmax.c define the ops), in facto_model_kind order. */
extern const fct_model_ops fct_mf_ops;
extern const fct_model_ops fct_fm_ops;
extern const fct_model_ops fct_popular_ops;
extern const fct_model_ops fct_itemknn_ops;
extern const fct_model_ops fct_ease_ops;
extern const fct_model_ops fct_ials_ops;
extern const fct_model_ops fct_bpr_ops;
extern const fct_model_ops fct_warp_ops;
extern const fct_model_ops fct_softmax_ops;

/* The ops of kind `name` ("mf") or of kind number `kind`; NULL when unknown. */
const fct_model_ops *fct_model_kind_by_name(const char *name);
const fct_model_ops *fct_model_kind_by_id(facto_model_kind kind);

/* ---- helpers every driver uses, written once over the ops ---- */

/* Map the ids of `from` to the model's indices: *out [size of from], -1 where
 * the model does not know an id; free() it. FACTO_ERR_NOMEM. */
facto_status fct_model_map_ids(facto_ctx *ctx, const facto_idmap *from, const facto_idmap *to, int32_t **out);

/*
 * Score every rating of `data` (its ids matched to the model's through umap
 * / imap from fct_model_map_ids, or taken as the model's indices when NULL)
 * with FCT_SCORE_PREDICT, one score() call per user: into scores
 * [n_ratings] in data's CSR order when it is not NULL, and into acc (errors
 * against the ratings, in CSR order) when that is not NULL. Counts the
 * ratings whose user / item the model did not know (either may be NULL).
 * Over the context's threads in pieces of 2^18 ratings (user ranges fixed
 * by the data, their error sums added in piece order: the same figures for
 * any thread count; a smaller data set is one piece, summed in CSR order).
 * Memory O(largest user) a thread besides scores. Errors: those of
 * score(), FACTO_ERR_NOMEM.
 */
facto_status fct_model_score_dataset(facto_ctx *ctx, const facto_model *model, const facto_dataset *data,
                                     const int32_t *umap, const int32_t *imap, float *scores, fct_err_acc *acc,
                                     int64_t *n_unknown_users, int64_t *n_unknown_items);

/*
 * Per-user training item lists (CSR: ptr [n_users + 1], items [ptr[n_users]],
 * ascending per user, each < n_items), so top-N can leave seen items out,
 * stored as two model file sections. check: NULL when the lists are
 * consistent, else what is wrong. get: reads and checks them; *ptr, *items
 * owned by the caller (free()); FACTO_ERR_CORRUPT naming the path.
 */
const char *fct_model_check_seen(const int64_t *ptr, const int32_t *items, int32_t n_users, int32_t n_items,
                                 int64_t n_seen);
/* The same over a seen list of either width. */
const char *fct_model_check_seen_list(const int64_t *ptr, const fct_seen_list *items, int32_t n_users,
                                      int32_t n_items, int64_t n_seen);
facto_status fct_model_put_seen(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag_ptr, uint32_t tag_items,
                                int32_t n_users, const int64_t *ptr, const int32_t *items);
facto_status fct_model_get_seen(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag_ptr, uint32_t tag_items,
                                int32_t n_users, int32_t n_items, int64_t **ptr, int32_t **items, int64_t *n_seen);

/* Id maps as a model file section: u32 count, then per id u8 length
 * (1..255) + bytes. get: a zero length, a NUL byte inside an id, a duplicate
 * id, a count that does not match the bytes -> FACTO_ERR_CORRUPT naming
 * path, tag and index. *out owned by the caller: free with fct_idmap_free(). */
facto_status fct_model_put_idmap(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const facto_idmap *map);
facto_status fct_model_get_idmap(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, facto_idmap **out);

/* The kind's struct inside a facto_params (borrowed), for the fit drivers. */
const void *fct_params_struct(const facto_params *params);
/* The table of a facto_params. */
const fct_ptable *fct_params_table(const facto_params *params);

#endif /* FACTO_MODEL_H */
