/*
 * fm.h — internal layout of the factorization machine model, shared by the
 * model code (fm.c) and its solvers (fm_sgd.c, fm_als.c, fm_mcmc.c).
 * Parameters live in "slots": w[slot], V[slot * k .. slot * k + k - 1].
 * Dense mode (feature_dim * (k + 1) <= FACTO_FM_DENSE_MAX_FLOATS): slot == key,
 * n_slots == feature_dim. Hashed mode (larger feature_dim, up to 2^32): only
 * keys seen in the training rows get a slot (ascending key order), found
 * through an open-addressing table; memory is O(distinct training keys * k).
 * A key without a slot (unseen in training) has w = 0 and v = 0.
 */
#ifndef FACTO_FM_H
#define FACTO_FM_H

#include "model.h"

#include "data/rows.h"

#include <math.h>

/* Dense parameter arrays up to this many floats (16 MiB); hashed above, so
 * a model over 10^7 sparse features costs O(keys seen), never O(feature_dim).
 * Training and scoring run on slots either way: the hash is only paid once
 * per input, when its keys are mapped. */
#define FACTO_FM_DENSE_MAX_FLOATS ((uint64_t)1 << 22)
/* "No slot": the key was not seen in training (or an empty hash cell). */
#define FACTO_FM_NO_SLOT UINT32_MAX

typedef struct fct_fm_model {
    facto_model base;          /* base.ops == &fct_fm_ops */
    facto_fm_params params;    /* validated; params.num_factors == k */
    int32_t k;                 /* num_factors */
    int hashed;                /* 0 dense (slot == key), 1 hashed */
    int64_t n_slots;           /* dense: feature_dim; hashed: distinct training keys */
    float w0;                  /* global bias */
    float *w;                  /* [n_slots] linear weights, 64-byte aligned */
    float *V;                  /* [n_slots, k] row-major factors, 64-byte aligned */
    /* hashed mode only (NULL / 0 in dense mode): */
    uint32_t *slot_keys;       /* [n_slots] key of each slot, ascending */
    uint32_t *hash_keys;       /* [hash_mask + 1] key in each cell */
    uint32_t *hash_slots;      /* [hash_mask + 1] slot in each cell, FACTO_FM_NO_SLOT = empty */
    uint64_t hash_mask;        /* cells - 1 (cells: power of two, >= 2 * n_slots) */
    int hash_shift;            /* 64 - log2(cells) */
    /* regressor: range of the training labels; predictions are clipped to it
     * (as libFM does). Classifier: unused (0, 1). */
    float target_min, target_max;
    /* Posterior samples (MCMC). When n_samples > 0, a prediction is the mean
     * over the samples of each sample's prediction (classifier: mean
     * probability) and w0/w/V above hold the last sample. */
    int32_t n_samples;
    float *sample_w0;          /* [n_samples] */
    float *sample_w;           /* [n_samples, n_slots], 64-byte aligned */
    float *sample_V;           /* [n_samples, n_slots, k], 64-byte aligned */
    /* Ratings models (facto_fm_fit_ratings) only; NULL / 0 otherwise. Every
     * row is one user block joined with one item block (fm_blocks.h), so
     * y^(u, i) = w0 + b_u + b_i + <q_u, q_i> with, per user (item) block
     * row, b = sum w x + 1/2 (|q|^2 - sum |v x|^2) and q = sum v x: the
     * block's own interactions fold into b. The model keeps these sums
     * (averaged over the posterior for MCMC, see fm_mcmc.c) instead of the
     * side tables and implicit lists, so a pair costs O(pair_k). */
    facto_idmap *users, *items; /* the training set's ids, owned */
    int32_t n_users, n_items;
    int32_t pair_k;             /* length of each q */
    uint32_t pair_features;     /* FACTO_FM_FEATURES_* bits the model was trained with */
    float pair_w0;
    float *pair_b;              /* [n_users + n_items]: users first */
    float *pair_q;              /* [n_users + n_items, pair_k], 64-byte aligned */
    /* Ratings models: each training user's items, ascending, so top-N can
     * leave them out (NULL in files written before facto 0.2). */
    int64_t n_seen;
    int64_t *seen_ptr;          /* [n_users + 1] offsets into seen_items */
    int32_t *seen_items;        /* [n_seen] */
} fct_fm_model;

/* What the FM solvers report (the training drivers turn it into the
 * public facto_epoch_report): metrics of an FM model on labelled rows. */
typedef struct fct_fm_metrics {
    facto_fm_predictor predictor_type;
    int64_t n_rows;
    double rmse;                   /* regressor: test:rmse; NAN for a classifier */
    double mae;                    /* regressor: mean absolute error; NAN for a classifier */
    facto_binary_metrics binary;   /* classifier, threshold 0.5, beta 1; NAN fields for a regressor */
} fct_fm_metrics;

/* Figures of one finished epoch (SGD) or iteration (ALS, MCMC). */
typedef struct fct_fm_epoch_report {
    int epoch;                 /* 1-based */
    int epochs;                /* total */
    fct_fm_metrics train;    /* progressive: each row scored just before its own update */
    fct_fm_metrics test;     /* after the epoch; n_rows 0 and NAN metrics when no test rows were given */
    double seconds;            /* wall time of this epoch's updates, seconds */
    double samples_per_second; /* training rows per second of this epoch */
} fct_fm_epoch_report;

/* Callbacks during FM training; on_epoch may be NULL. Return non-zero from
 * on_epoch to stop early (fit then returns FACTO_OK with the model so far). */
typedef struct fct_fm_callbacks {
    int (*on_epoch)(const fct_fm_epoch_report *report, void *user_data);
    void *user_data;
} fct_fm_callbacks;

/* Slot of `key`, or FACTO_FM_NO_SLOT when the model has none for it. O(1). */
static inline uint32_t fct_fm_slot(const fct_fm_model *m, uint32_t key) {
    if (!m->hashed)
        return (int64_t)key < m->n_slots ? key : FACTO_FM_NO_SLOT;
    uint64_t h = ((uint64_t)key * 0x9E3779B97F4A7C15ull) >> m->hash_shift;
    for (;;) {
        uint32_t s = m->hash_slots[h];
        if (s == FACTO_FM_NO_SLOT || m->hash_keys[h] == key)
            return s;
        h = (h + 1) & m->hash_mask;
    }
}

/* Label of row r as 0/1 for a classifier (1 when > 0, so 0/1 and -1/+1
 * both work), the raw label for a regressor. */
static inline float fct_fm_label(const fct_fm_model *m, float y) {
    if (m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER)
        return y > 0.0f ? 1.0f : 0.0f;
    return y;
}

/* A regressor's score y clipped to the training label range, or y itself
 * with clip_predictions false. */
static inline double fct_fm_clip(const fct_fm_model *m, double y) {
    if (m->params.raw_predictions)
        return y;
    return y < m->target_min ? m->target_min : y > m->target_max ? m->target_max : y;
}

/*
 * Raw model output y^ of one row (no sigmoid, no clipping) with the current
 * w0/w/V: slots[n], values[n]; entries with FACTO_FM_NO_SLOT are skipped.
 * `sum` [k] scratch receives sum_i v_if x_i (what gradients need).
 * O(k * n).
 */
static inline double fct_fm_row_raw(const fct_fm_model *m, const float *w, const float *V, float w0,
                                      const uint32_t *slots, const float *values, int64_t n, float *sum) {
    const int32_t k = m->k;
    double y = w0, sq = 0.0;
    for (int32_t f = 0; f < k; f++)
        sum[f] = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        uint32_t s = slots[j];
        if (s == FACTO_FM_NO_SLOT)
            continue;
        float x = values[j];
        const float *v = V + (int64_t)s * k;
        y += (double)w[s] * x;
        for (int32_t f = 0; f < k; f++) {
            float t = v[f] * x;
            sum[f] += t;
            sq += (double)t * t;
        }
    }
    double dot = 0.0;
    for (int32_t f = 0; f < k; f++)
        dot += (double)sum[f] * sum[f];
    return y + 0.5 * (dot - sq);
}

/*
 * Create a model for `params` (validated here) and the keys of `train`:
 * chooses dense or hashed slots, then initialises w0, w and V with the
 * *_init_method settings and params->seed. *out owned by the caller (free
 * with facto_model_free(&(*out)->base)). Errors: FACTO_ERR_INVALID,
 * FACTO_ERR_NOMEM. Cost O(nnz(train) + n_slots * k).
 */
facto_status fct_fm_model_new(facto_ctx *ctx, const facto_fm_params *params, const facto_rows *train,
                                fct_fm_model **out);

/*
 * Map every key of `rows` to its slot once: *slots [rows->nnz], owned by the
 * caller (free()). Unseen keys map to FACTO_FM_NO_SLOT. Errors:
 * FACTO_ERR_INVALID (a key >= feature_dim or a non-finite value: "WHAT row
 * N: ...", N 1-based, so the CLI names the file and line of `what` rows:
 * "training", "test", "feature block"), FACTO_ERR_NOMEM. O(nnz).
 */
facto_status fct_fm_map_rows(facto_ctx *ctx, const fct_fm_model *m, const facto_rows *rows, const char *what,
                             uint32_t **slots);

/* Set w and V of every slot that no entry of `train` (mapped by `slots`)
 * uses to 0, in the stored samples too: an unseen feature scores 0.
 * FACTO_ERR_NOMEM. O(nnz + n_slots k). */
facto_status fct_fm_zero_unseen(facto_ctx *ctx, fct_fm_model *m, const facto_rows *train,
                                  const uint32_t *slots);

/* Final scores of every row of `rows` (mapped by `slots`) into scores[n_rows]:
 * regressor y^ clipped to [target_min, target_max], classifier sigmoid(y^);
 * averages over posterior samples when the model has them. */
void fct_fm_score_rows(const fct_fm_model *m, const facto_rows *rows, const uint32_t *slots, float *scores);

/* Metrics of scores[n] against the labels of `rows` for m's predictor type. */
facto_status fct_fm_metrics_from_scores(facto_ctx *ctx, const fct_fm_model *m, const facto_rows *rows,
                                          const float *scores, fct_fm_metrics *out);

/* Keep train's per-user item lists in a ratings model (for top-N).
 * FACTO_ERR_NOMEM. O(n_users + n_ratings). */
facto_status fct_fm_set_seen(facto_ctx *ctx, fct_fm_model *m, const facto_dataset *train);

/* The hyperparameter table (fm_params.c). */
extern const fct_ptable fct_fm_ptable;

/* Labels of `rows` must be present and finite; a classifier's 0/1 or
 * -1/+1. FACTO_ERR_INVALID naming `what` ("training") and the row (1-based). */
facto_status fct_fm_check_labels(facto_ctx *ctx, const facto_fm_params *p, const facto_rows *rows, const char *what);

/* "name=value\n" lines of every hyperparameter that is set, into buf (size
 * bytes, NUL-terminated when it fits); returns the length needed without the
 * NUL, like snprintf. facto_fm_params_set() reads each line back exactly. */
size_t fct_fm_params_dump(const facto_fm_params *p, char *buf, size_t size);

/* The model interface's view of a configuration (fct_model_ops.task_of,
 * .describe; fm_params.c): the predictor's task, and "summary\nnotes\n". */
facto_task fct_fm_params_task(const void *params);
size_t fct_fm_params_describe(const void *params, char *buf, size_t size);
/* 0 when the configuration's solver ignores hyperparameter d (fct_model_ops.param_used). */
int fct_fm_param_used(const void *params, const fct_pdesc *d);

/* Names of enum values, for messages and the model file ("regressor", "adam"). */
const char *fct_fm_predictor_name(facto_fm_predictor p);
const char *fct_fm_solver_name(facto_fm_solver s);
const char *fct_fm_optimizer_name(facto_optimizer o);
const char *fct_fm_init_name(facto_fm_init_method m);

#endif /* FACTO_FM_H */
