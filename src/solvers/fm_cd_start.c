/*
 * fm_cd_start.c — can ALS and MCMC train from libFM's starting point on
 * these data? (fct_fm_start_check, fm_mcmc.h). Both start from w0 = w = 0
 * and V ~ N(0, init_stdev^2), so the first prediction of a row is its
 * pairwise term alone, whose variance over the draw of V is, exactly,
 *   k init_stdev^4 sum_{i<j} x_i^2 x_j^2
 * (the pair terms are uncorrelated). When a feature value is orders of
 * magnitude past the others (one libsvm value of 1e8 among one-hot rows),
 * or numeric features are left unscaled, those predictions spread
 * thousands of times wider than the labels, and the sweeps never come
 * back: the model learns nothing and predicts garbage, while every figure
 * in it stays finite. The check computes that spread without drawing V,
 * over every data row (direct features plus the joined block rows: the
 * sums combine without cancellation), as a multiple R of the standard
 * deviation of the training targets (labels; a classifier's +-1):
 *
 *   R >= FACTO_FM_START_MAX (300): refused, FACTO_ERR_INVALID, naming the
 *     row with the widest spread and its feature far off the scale of the
 *     others, and an init_stdev that brings R to about 1;
 *   R >= FACTO_FM_START_WARN (30): a warning through the context logger.
 *
 * Figures behind the bounds (k 8, ML-100K u1 rows; R as computed here):
 * one-hot rows R 0.025; numeric features scaled to [0, 1] 0.049, x10 0.95,
 * x100 87 (trains: test AUC ALS 0.76, MCMC 0.72 where [0, 1] gives 0.72 /
 * 0.78), x1000 8733 and x5000 218,300 (learn nothing: AUC 0.49-0.55);
 * x5000 at init_stdev 0.01: R 2183, AUC ALS 0.60, MCMC 0.55; at 0.001: R
 * 21.8, AUC 0.76 / 0.74. 501 one-hot rows with one value 1e8: R 100,600
 * (saved MCMC model RMSE 2.79, ALS 2.54, against 1.15 / 1.23 without it);
 * at init_stdev 0.01 R 1006, ALS 2.53; at 0.001 R 10, 1.26 / 1.15. Labels
 * scaled by 1e-5 with one-hot rows: R 2530, ALS test RMSE 2.0e-5 against a
 * label deviation of 1.1e-5 (worse than the mean). A collapsed or exploding
 * bias is not a robust sign (rows x100 train well with w0 = 65..187, the
 * linear weights of features that are never 0 absorb it), nor a training
 * error above the mean's (a legitimate one-iteration MCMC model on 501 rows
 * has 1.008 times the mean's RMSE).
 *
 * Cost O(nnz(direct) + sum_B nnz(B) + n_rows n_blocks) time, O(block rows)
 * memory: nothing next to one sweep.
 */
#include "fm_mcmc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Below this, a suggested init_stdev is no remedy (values near FLT_MAX):
 * only scaling the data is offered. */
#define FCT_START_MIN_STDEV 1e-6

/* |x| in bins by binary exponent, to find a typical value without sorting. */
enum { FCT_START_BINS = 300, FCT_START_BIAS = 160 };

typedef struct fct_start_hist {
    double count[FCT_START_BINS];
    float first[FCT_START_BINS]; /* a value seen in each bin */
} fct_start_hist;

static void fct_start_hist_add(fct_start_hist *h, float x, double weight)
{
    float a = fabsf(x);
    if (!(a > 0.0f))
        return;
    int e;
    (void)frexpf(a, &e);
    int b = e + FCT_START_BIAS;
    b = b < 0 ? 0 : b >= FCT_START_BINS ? FCT_START_BINS - 1 : b;
    if (h->count[b] == 0.0)
        h->first[b] = a;
    h->count[b] += weight;
}

/* A value from the bin holding the (lower) median of what was added, 0 when empty. */
static float fct_start_hist_median(const fct_start_hist *h)
{
    double total = 0.0, seen = 0.0;
    for (int b = 0; b < FCT_START_BINS; b++)
        total += h->count[b];
    for (int b = 0; b < FCT_START_BINS; b++) {
        seen += h->count[b];
        if (total > 0.0 && seen >= total / 2)
            return h->first[b];
    }
    return 0.0f;
}

/* Sum of x^2 (*s2) and of x_i^2 x_j^2 over pairs i < j (*p) of one row's
 * values, as a running combination (no cancellation). */
static void fct_start_row(const facto_rows *r, int64_t row, double *s2, double *p)
{
    double s = 0.0, q = 0.0;
    for (int64_t e = r->row_ptr[row]; e < r->row_ptr[row + 1]; e++) {
        double x2 = (double)r->values[e] * r->values[e];
        q += x2 * s;
        s += x2;
    }
    *s2 = s;
    *p = q;
}

/* The two values of largest magnitude among the features of data row n. */
typedef struct fct_start_big {
    uint32_t key[2];
    float value[2];
    int n;
} fct_start_big;

static void fct_start_big_scan(fct_start_big *big, const facto_rows *r, int64_t row)
{
    for (int64_t e = r->row_ptr[row]; e < r->row_ptr[row + 1]; e++) {
        float a = fabsf(r->values[e]);
        if (big->n < 2 || a > fabsf(big->value[1])) {
            int at = big->n < 2 ? big->n++ : 1;
            big->key[at] = r->keys[e];
            big->value[at] = r->values[e];
            if (at == 1 && fabsf(big->value[1]) > fabsf(big->value[0])) {
                uint32_t tk = big->key[0];
                float tv = big->value[0];
                big->key[0] = big->key[1];
                big->value[0] = big->value[1];
                big->key[1] = tk;
                big->value[1] = tv;
            }
        }
    }
}

/* x rounded down to one significant digit (for a suggested setting). */
static double fct_start_round_down(double x)
{
    if (!(x > 0.0) || !isfinite(x))
        return x;
    double p = pow(10.0, floor(log10(x)));
    return floor(x / p) * p;
}

facto_status fct_fm_start_check(facto_ctx *ctx, const fct_fm_model *m, fct_fm_cd_mode mode,
                                const fct_fm_data *train)
{
    const facto_rows *direct = train->direct;
    const int64_t n = train->n_rows;
    if (!direct || !direct->labels || n < 1)
        return FACTO_OK; /* the solver's own checks name these */
    const int classify = m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    const double sigma = m->params.init_stdev, k = m->k > 0 ? m->k : 1;
    /* per block row: sum x^2, sum over pairs x_i^2 x_j^2, and how many data rows join it */
    double *bs2[FACTO_FM_MAX_BLOCKS] = {0}, *bp[FACTO_FM_MAX_BLOCKS] = {0}, *bcnt[FACTO_FM_MAX_BLOCKS] = {0};
    fct_start_hist *hist = calloc(1, sizeof *hist);
    facto_status st = hist ? FACTO_OK : fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    for (int b = 0; st == FACTO_OK && b < train->n_blocks; b++) {
        const facto_rows *br = train->block[b].rows;
        size_t nb = br->n_rows > 0 ? (size_t)br->n_rows : 1;
        bs2[b] = fct_malloc_array(nb, sizeof(double));
        bp[b] = fct_malloc_array(nb, sizeof(double));
        bcnt[b] = fct_calloc_array(nb, sizeof(double));
        if (!bs2[b] || !bp[b] || !bcnt[b]) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            break;
        }
        for (int64_t j = 0; j < br->n_rows; j++)
            fct_start_row(br, j, &bs2[b][j], &bp[b][j]);
        for (int64_t r = 0; r < n; r++)
            bcnt[b][train->block[b].ref[r]] += 1.0;
        for (int64_t j = 0; j < br->n_rows; j++)
            for (int64_t e = br->row_ptr[j]; e < br->row_ptr[j + 1]; e++)
                fct_start_hist_add(hist, br->values[e], bcnt[b][j]);
    }
    if (st != FACTO_OK)
        goto done;
    /* per data row: the variance of its first prediction (over k sigma^4) */
    double sum_p = 0.0, worst_p = -1.0, sy = 0.0, syy = 0.0;
    int64_t worst = 0;
    for (int64_t r = 0; r < n; r++) {
        double s2, p;
        fct_start_row(direct, r, &s2, &p);
        for (int64_t e = direct->row_ptr[r]; e < direct->row_ptr[r + 1]; e++)
            fct_start_hist_add(hist, direct->values[e], 1.0);
        for (int b = 0; b < train->n_blocks; b++) {
            int32_t j = train->block[b].ref[r];
            p += bp[b][j] + s2 * bs2[b][j];
            s2 += bs2[b][j];
        }
        sum_p += p;
        if (p > worst_p) {
            worst_p = p;
            worst = r;
        }
        double y = classify ? (direct->labels[r] > 0.0f ? 1.0 : -1.0) : direct->labels[r];
        sy += y;
        syy += y * y;
    }
    double mean = sy / (double)n, var = syy / (double)n - mean * mean;
    /* labels all equal: measure against 1 (a classifier's +-1 scale) */
    double sd = var > 0.0 ? sqrt(var) : 1.0;
    double spread = sqrt(k * (sum_p / (double)n)) * sigma * sigma;
    double R = spread / sd;
    /* Values near FLT_MAX make the sums pass the double range: no
     * init_stdev helps, and the solver refuses the model that does not fit
     * a float (fct_fm_cd_run) with its own advice. */
    if (!isfinite(R) || R < FACTO_FM_START_WARN)
        goto done;
    fct_start_big big = {{0, 0}, {0.0f, 0.0f}, 0};
    fct_start_big_scan(&big, direct, worst);
    for (int b = 0; b < train->n_blocks; b++)
        fct_start_big_scan(&big, train->block[b].rows, train->block[b].ref[worst]);
    const float typical = fct_start_hist_median(hist);
    const double fix = fct_start_round_down(sigma / sqrt(R));
    const char *solver = mode == FACTO_FM_CD_ALS ? "als" : "mcmc";
    /* Feature rows name the row (the CLI turns "training row N" into
     * FILE:LINE); ratings in block form have no rows of a file. */
    /* A feature an order of magnitude past the typical value is named with
     * its row (feature rows: the CLI turns "training row N" into FILE:LINE;
     * ratings in block form have no rows of a file); else the labels are
     * too small for init_stdev and these feature values. */
    const int feature = big.n > 0 && typical > 0.0f && fabsf(big.value[0]) >= 10.0f * typical;
    char cause[320] = "", fix_text[160];
    if (feature) {
        int len = train->pairs ? 0 : snprintf(cause, sizeof cause, "training row %lld: ", (long long)worst + 1);
        len += snprintf(cause + len, sizeof cause - (size_t)len, "feature key %u = %g", big.key[0],
                        (double)big.value[0]);
        if (big.n > 1)
            len += snprintf(cause + len, sizeof cause - (size_t)len, " (with key %u = %g)", big.key[1],
                            (double)big.value[1]);
        snprintf(cause + len, sizeof cause - (size_t)len,
                 " is far off the scale of the other feature values (typically %g): ", (double)typical);
        if (fix >= FCT_START_MIN_STDEV)
            snprintf(fix_text, sizeof fix_text,
                     "scale that feature (e.g. to [0, 1]) or lower init_stdev to %g or below", fix);
        else
            snprintf(fix_text, sizeof fix_text, "scale that feature (e.g. to [0, 1])");
    } else {
        snprintf(cause, sizeof cause, "feature values of typically %g against these labels: ", (double)typical);
        if (fix >= FCT_START_MIN_STDEV)
            snprintf(fix_text, sizeof fix_text,
                     "lower init_stdev to %g or below, or scale the labels up (or the feature values down)", fix);
        else
            snprintf(fix_text, sizeof fix_text, "scale the feature values down (e.g. to [0, 1]) or the labels up");
    }
    if (R >= FACTO_FM_START_MAX)
        st = fct_fail(ctx, FACTO_ERR_INVALID,
                      "%swith init_stdev %g, %s starts from predictions on the training rows that spread %.3g "
                      "times the standard deviation of the training labels (%.3g) and learns nothing from there "
                      "(it needs less than %d); %s",
                      cause, sigma, solver, R, sd, FACTO_FM_START_MAX, fix_text);
    else
        fct_log(ctx, FACTO_LOG_WARN,
                "%swith init_stdev %g, %s starts from predictions on the training rows that spread %.3g times the "
                "standard deviation of the training labels (%.3g): training may be slow or end worse (from %d on "
                "it is refused); %s",
                cause, sigma, solver, R, sd, FACTO_FM_START_MAX, fix_text);
done:
    for (int b = 0; b < FACTO_FM_MAX_BLOCKS; b++) {
        free(bs2[b]);
        free(bp[b]);
        free(bcnt[b]);
    }
    free(hist);
    return st;
}
