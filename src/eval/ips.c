/*
 * ips.c — facto_ips_errors_of: inverse-propensity-scored RMSE and MAE
 * (Schnabel, Swaminathan, Singh, Chandak & Joachims, ICML 2016, section
 * 3.2): plain IPS, sum_observed delta / p over the number of pairs, and the
 * self-normalised SNIPS, sum delta / p over sum 1 / p. Sums in double.
 * O(n_ratings).
 */
#include "data/dataset.h"

#include <math.h>
#include <string.h>

facto_status facto_ips_errors_of(facto_ctx *ctx, const facto_dataset *test, const float *scores,
                                 const float *weights, double n_pairs, facto_ips_errors *out)
{
    if (!test || !scores || !weights || !out || !(n_pairs >= 0.0))
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_ips_errors_of: test, scores, weights and out must be given");
    {
        facto_status wst = fct_dataset_wide(ctx, test);
        if (wst != FACTO_OK)
            return wst;
    }
    memset(out, 0, sizeof *out);
    if (test->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "no ratings to score");
    double sw = 0.0, se2 = 0.0, se1 = 0.0;
    for (int64_t j = 0; j < test->n_ratings; j++) {
        double w = weights[j], e = (double)scores[j] - (double)test->ratings[j];
        sw += w;
        se2 += w * e * e;
        se1 += w * fabs(e);
    }
    out->n = test->n_ratings;
    out->n_pairs = n_pairs > 0.0 ? n_pairs : (double)test->n_users * (double)test->n_items;
    out->weight_sum = sw;
    out->ips_rmse = sqrt(se2 / out->n_pairs);
    out->ips_mae = se1 / out->n_pairs;
    out->snips_rmse = sqrt(se2 / sw);
    out->snips_mae = se1 / sw;
    return fct_ok(ctx);
}
