/*
 * pairwise.h — the solver of the pairwise ranking kinds, BPR and WARP, on
 * the shared implicit factor model (models/factors.h): s(u, i) = b_i +
 * <U_u, V_i>. An epoch visits every training pair (u, i) once, in a fresh
 * random order, and for each draws negatives j (sampling.h: uniform or by
 * popularity; a drawn positive of u is never used as a negative):
 *
 *   BPR (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, UAI 2009): one
 *     negative (drawn again while it is a positive of u, up to
 *     FCT_PAIR_NEG_TRIES times; the pair is skipped when all are), loss
 *     l = -log sigmoid(s_ui - s_uj) (loss.h's bpr);
 *   WARP (Weston, Bengio & Usunier, IJCAI 2011, in LightFM's form):
 *     negatives are drawn until one violates the margin, s_uj > s_ui - 1,
 *     or max_sampled trials have been made (no update then; a trial that
 *     draws a positive of u counts and is passed over); the update for the
 *     violating j found at trial t is the hinge 1 - s_ui + s_uj (loss.h's
 *     warp) times the rank weight log(max(1, floor((n_items - 1) / t)))
 *     (LightFM's; Weston et al.'s L(k) = sum_{r=1..k} 1/r is about log k +
 *     0.58). A violation found only after (n_items - 1) / 2 trials weighs
 *     log 1 = 0: no update.
 *
 * With d = d l / d s_ui (times WARP's weight), the gradients of the three
 * rows are, from their old values (fct_pair_grads):
 *     U_u: d (V_i - V_j),   V_i: d U_u,   V_j: -d U_u,   b_i: d,  b_j: -d,
 * and each row takes one lazy step of the optimizer module (optim.h: sgd,
 * adagrad or adam, with weight decay reg on factors and reg_bias on the
 * bias; Adam's bias correction from the update's global position, so
 * threads need no shared counter).
 *
 * Threads: Hogwild (Recht, Re, Wright & Niu, NIPS 2011): n_threads > 1
 * share the epoch's order in static chunks and update the shared rows
 * without locks, each drawing from its own random stream. Races lose an
 * occasional update, and which ones depends on timing: a run on more than
 * one thread is not bit-reproducible. One thread is: the same seed gives
 * the same model bytes.
 *
 * Cost per epoch O(nnz k) for BPR (plus O(log |I_u|) a draw for the
 * positive check), O(nnz k max_sampled) at most for WARP (usually far
 * less once the model ranks well: the trials stop at the first violation).
 * Memory: O(nnz) for the order and the optimizer's state.
 */
#ifndef FACTO_SOLVERS_PAIRWISE_H
#define FACTO_SOLVERS_PAIRWISE_H

#include <math.h>

#include "loss.h"
#include "optim.h"
#include "sampling.h"

#include "data/dataset.h"
#include "models/factors.h"

/* BPR's redraws of a negative that is a positive of the user. */
#define FCT_PAIR_NEG_TRIES 32

typedef struct fct_pair_cfg {
    fct_loss_kind loss;       /* FCT_LOSS_BPR or FCT_LOSS_WARP */
    fct_optim_kind optimizer; /* SGD, ADAGRAD or ADAM */
    float lr;
    float reg;                /* weight decay of U and V rows */
    float reg_bias;           /* weight decay of the item bias */
    int32_t max_sampled;      /* WARP: trials per positive, >= 1 */
    fct_neg_kind negatives;
    int n_threads;            /* >= 1; > 1: Hogwild */
    uint64_t seed;
} fct_pair_cfg;

typedef struct fct_pair_solver fct_pair_solver;

/* What an epoch did. */
typedef struct fct_pair_stats {
    double loss;     /* sum over the epoch's positives of the loss before its update (WARP: weighted
                        hinge; a positive without a violating negative adds 0) */
    int64_t n;       /* positives visited */
    int64_t updates; /* positives that updated the model */
    int64_t trials;  /* negatives drawn (WARP: scored) */
} fct_pair_stats;

/*
 * A solver for model m (U, V and item_bias as created and initialised)
 * trained on `train`, whose users and items are m's. Errors:
 * FACTO_ERR_INVALID (a config out of range), FACTO_ERR_NOMEM.
 */
facto_status fct_pair_solver_new(facto_ctx *ctx, const fct_pair_cfg *cfg, fct_factors_model *m,
                                 const facto_dataset *train, fct_pair_solver **out);
void fct_pair_solver_free(fct_pair_solver *s);

/* One epoch (1-based number `epoch`: it seeds the epoch's order and
 * streams) over every training pair; fills *stats. */
void fct_pair_epoch(fct_pair_solver *s, int epoch, fct_pair_stats *stats);

/* The loss gradients of a triple's rows for d = d l / d s_ui (above), from
 * u, vi, vj [k] into gu, gi, gj [k] (no aliasing). O(k). */
void fct_pair_grads(const float *u, const float *vi, const float *vj, int k, float d, float *gu, float *gi, float *gj);

/* WARP's rank weight of a violation found at trial t >= 1 among n_items:
 * log(max(1, floor((n_items - 1) / t))) (LightFM's form); 0 for fewer
 * than two items. */
static inline double fct_warp_weight(int32_t n_items, int32_t t)
{
    const int32_t q = n_items > 1 ? (n_items - 1) / t : 0;
    return q > 1 ? log((double)q) : 0.0;
}

#endif /* FACTO_SOLVERS_PAIRWISE_H */
