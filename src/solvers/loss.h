/*
 * loss.h — the loss interface of the first-order solvers (MF: sgd_mf.c;
 * FM: fm_sgd.c): for a raw model score y and a label, the loss value and
 * its derivative d loss / d y, which is all an SGD-type solver needs (the
 * gradient of a parameter is that derivative times d y / d parameter).
 *
 * Pointwise losses (one score, one label):
 *   squared   l = 1/2 (y - t)^2,           dl/dy = y - t,          pred = y
 *   logistic  l = log(1 + e^{-y}) (t = 1), log(1 + e^{y}) (t = 0),
 *             dl/dy = sigmoid(y) - t,      pred = sigmoid(y)
 * (logistic labels: t = 1 when label > 0, else 0; so 0/1 and -1/+1 work).
 * `pred` is the prediction the loss is calibrated for; a model may still
 * clip it (FM's regressor clips to the training range).
 *
 * Design: the formulas are static inline functions (hot loops inline them
 * through fct_loss_point, a switch on the kind), and fct_loss_get gives a
 * descriptor with function pointers for code that holds a loss as data.
 * Pairwise losses plug in as further kinds whose descriptor has
 * pairwise = 1 and a `pair` function of (s_pos, s_neg) filling dscore =
 * d l / d s_pos (d l / d s_neg = -dscore): BPR (Rendle et al., UAI 2009),
 * l = -log sigmoid(s_pos - s_neg); WARP (Weston et al., IJCAI 2011), the
 * hinge max(0, 1 - s_pos + s_neg) times a rank weight its sampler supplies.
 * All in double; O(1) per call (logistic: two exp, one log1p).
 */
#ifndef FACTO_SOLVERS_LOSS_H
#define FACTO_SOLVERS_LOSS_H

#include <math.h>

typedef enum fct_loss_kind {
    FCT_LOSS_SQUARED = 0,
    FCT_LOSS_LOGISTIC = 1
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

/* A loss as data. */
typedef struct fct_loss {
    fct_loss_kind kind;
    const char *name;                                     /* "squared", "logistic" */
    int pairwise;                                         /* 0: point; 1: pair */
    fct_loss_value (*point)(double score, double label);  /* pointwise losses */
    fct_loss_value (*pair)(double s_pos, double s_neg);   /* pairwise losses (none yet) */
} fct_loss;

/* The descriptor of `kind`, NULL for an unknown kind. */
const fct_loss *fct_loss_get(fct_loss_kind kind);
/* The descriptor named `name` (as fct_loss.name), NULL when none is. */
const fct_loss *fct_loss_by_name(const char *name);

#endif /* FACTO_SOLVERS_LOSS_H */
