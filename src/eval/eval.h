/*
 * eval.h — what the drivers of src/eval/ share: scoring a block of users
 * against every item (one sgemm through a model's dot form, else one score()
 * call per user), and a user's training items through the seen op. Used by
 * top-N (recommend.c) and the ranking metrics (evaluate.c), so both rank
 * with the same scores.
 */
#ifndef FACTO_EVAL_H
#define FACTO_EVAL_H

#include "models/model.h"

/* Scores of a block of users at once: at most this many users, capped at
 * this many bytes of [block, n_items] floats. */
#define FCT_SCORE_BLOCK 256
#define FCT_SCORE_BLOCK_BYTES ((size_t)64 << 20)

typedef struct fct_scorer {
    const facto_model *model;
    fct_dot_form dot;
    int has_dot;
    int32_t n_items;
    int block;   /* users a call takes */
    float *S;    /* [block, n_items] raw scores of the last call */
    float *Ub;   /* [block, k] gathered user factors (dot form) */
    int32_t *users; /* [block] the users of the last call */
} fct_scorer;

/* Set up a scorer for `model` (it must have ids). FACTO_ERR_NOMEM. */
facto_status fct_scorer_init(facto_ctx *ctx, fct_scorer *sc, const facto_model *model);
void fct_scorer_free(fct_scorer *sc);
/* Scores of users[nb] (model indices >= 0, nb <= sc->block): the products
 * of the block (one sgemm), or the model's score() for a one-user block.
 * Errors: those of the model's score(). */
facto_status fct_scorer_run(facto_ctx *ctx, fct_scorer *sc, const int32_t *users, int nb);
/* Row b's raw scores [n_items] of the last run, finished once (c + b_u + b_i
 * added to the products in place); call it once per row, from any thread. */
float *fct_scorer_row(fct_scorer *sc, int b);

/* User u's training items, ascending (borrowed; both pointers NULL when
 * there are none); 0 when the model keeps none (*kept = 0 then, when kept
 * is not NULL). */
int64_t fct_seen_items(const facto_model *model, int32_t u, fct_seen_list *items, int *kept);
/* The n items of l as int32: l's own array, or *buf (grown to *cap
 * entries, owned by the caller) filled from 2-byte indices; NULL when out
 * of memory. */
const int32_t *fct_seen_wide(const fct_seen_list *l, int64_t n, int32_t **buf, int64_t *cap);

/* One-user top-N of a dot-form model through the int8 prefilter
 * (recommend.c): 0 when it pays (AVX-512 VNNI, many factors; the default),
 * 1 never, 2 always (the scalar integer kernel without VNNI), 3 always
 * with the scalar kernel (tests). The lists are the same either way. */
void fct_rec_set_prefilter(int mode);

#endif /* FACTO_EVAL_H */
