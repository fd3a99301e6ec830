/*
 * loss.h — the loss interface of the first-order solvers (MF: sgd_mf.c;
 * FM: fm_sgd.c; BPR and WARP: pairwise.c): for a raw model score y and a
 * label, or a pair of scores, the loss value and its derivative d loss /
 * d score, which is all an SGD-type solver needs (the gradient of a
 * parameter is that derivative times d score / d parameter).
 *
 * Pointwise losses (one score, one label):
 *   squared   l = 1/2 (y - t)^2,           dl/dy = y - t,          pred = y
 *   logistic  l = log(1 + e^{-y}) (t = 1), log(1 + e^{y}) (t = 0),
 *             dl/dy = sigmoid(y) - t,      pred = sigmoid(y)
 * (logistic labels: t = 1 when label > 0, else 0; so 0/1 and -1/+1 work).
 * `pred` is the prediction the loss is calibrated for; a model may still
 * clip it (FM's regressor clips to the training range).
 *
 * Pairwise losses (a positive item's score s_pos against a negative's
 * s_neg; dscore = d l / d s_pos, and d l / d s_neg = -dscore):
 *   bpr   l = -log sigmoid(x) = log(1 + e^{-x}), x = s_pos - s_neg
 *         (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, UAI 2009),
 *         dl/ds_pos = sigmoid(x) - 1 = -sigmoid(-x),  pred = sigmoid(x)
 *         (the probability that the positive ranks above the negative);
 *   warp  l = max(0, 1 - s_pos + s_neg), the margin hinge of WARP (Weston,
 *         Bengio & Usunier, IJCAI 2011), dl/ds_pos = -1 where the margin
 *         is violated (s_neg > s_pos - 1), else 0 (at the kink: 0);
 *         pred = 1 when violated, else 0. WARP's rank weight L(rank
 *         estimate) multiplies the loss and its derivative; its sampler
 *         (src/solvers/pairwise.c) supplies it.
 * The multi-label softmax cross-entropy is not a function of one or two
 * scores (it needs every item's, or a sample's): src/solvers/softmax.c.
 *
 * Design: the formulas are static inline functions (hot loops inline them
 * through fct_loss_point / fct_loss_pair, a switch on the kind), and
 * fct_loss_get gives a descriptor with function pointers for code that
 * holds a loss as data: pointwise kinds have `point`, pairwise ones
 * pairwise = 1 and `pair`.
 * All in double; O(1) per call (logistic, bpr: two exp, one log1p).
 */
#ifndef FACTO_SOLVERS_LOSS_H
#define FACTO_SOLVERS_LOSS_H

#include <math.h>

typedef enum fct_loss_kind {
    FCT_LOSS_SQUARED = 0,
    FCT_LOSS_LOGISTIC = 1,
    FCT_LOSS_BPR = 2, /* pairwise */
    FCT_LOSS_WARP = 3 /* pairwise */
} fct_loss_kind;

/* One evaluation of a loss. */
typedef struct fct_loss_value {
    double loss;   /* l */
    double dscore; /* d l / d score (pairwise: d l / d s_pos) */
    double pred;   /* pointwise: the prediction l is calibrated for */
} fct_loss_value;

static inline fct_loss_value fct_loss_squared(double y, double label)
{
    fct_loss_value v;
    v.dscore = y - label;
    v.loss = 0.5 * v.dscore * v.dscore;
    v.pred = y;
    return v;
}

/* Overflow-safe: log(1 + e^z) = z + log1p(e^{-z}) for z > 0. */
static inline fct_loss_value fct_loss_logistic(double y, double label)
{
    const double t = label > 0.0 ? 1.0 : 0.0, p = 1.0 / (1.0 + exp(-y)), z = t > 0.5 ? -y : y;
    fct_loss_value v;
    v.dscore = p - t;
    v.pred = p;
    v.loss = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    return v;
}

/* A pointwise loss of `kind` at score y. */
static inline fct_loss_value fct_loss_point(fct_loss_kind kind, double y, double label)
{
    return kind == FCT_LOSS_LOGISTIC ? fct_loss_logistic(y, label) : fct_loss_squared(y, label);
}

/* BPR: overflow-safe as the logistic loss (it is the logistic loss of x
 * with label 1). */
static inline fct_loss_value fct_loss_bpr(double s_pos, double s_neg)
{
    const double x = s_pos - s_neg;
    fct_loss_value v;
    v.pred = 1.0 / (1.0 + exp(-x));
    v.dscore = -1.0 / (1.0 + exp(x));
    v.loss = x < 0 ? -x + log1p(exp(x)) : log1p(exp(-x));
    return v;
}

/* WARP's margin hinge (without its rank weight). */
static inline fct_loss_value fct_loss_warp(double s_pos, double s_neg)
{
    const double h = 1.0 - s_pos + s_neg;
    fct_loss_value v;
    v.loss = h > 0.0 ? h : 0.0;
    v.dscore = h > 0.0 ? -1.0 : 0.0;
    v.pred = h > 0.0 ? 1.0 : 0.0;
    return v;
}

/* A pairwise loss of `kind` (FCT_LOSS_BPR or FCT_LOSS_WARP). */
static inline fct_loss_value fct_loss_pair(fct_loss_kind kind, double s_pos, double s_neg)
{
    return kind == FCT_LOSS_WARP ? fct_loss_warp(s_pos, s_neg) : fct_loss_bpr(s_pos, s_neg);
}

/* A loss as data. */
typedef struct fct_loss {
    fct_loss_kind kind;
    const char *name;                                     /* "squared", "logistic", "bpr", "warp" */
    int pairwise;                                         /* 0: point; 1: pair */
    fct_loss_value (*point)(double score, double label);  /* pointwise losses */
    fct_loss_value (*pair)(double s_pos, double s_neg);   /* pairwise losses */
} fct_loss;

/* The descriptor of `kind`, NULL for an unknown kind. */
const fct_loss *fct_loss_get(fct_loss_kind kind);
/* The descriptor named `name` (as fct_loss.name), NULL when none is. */
const fct_loss *fct_loss_by_name(const char *name);

#endif /* FACTO_SOLVERS_LOSS_H */
