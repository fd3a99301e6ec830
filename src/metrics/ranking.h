/*
 * ranking.h — full-ranking metrics of top-N recommendation (definitions
 * with formulas in docs/metrics.md): precision@k, recall@k, NDCG@k, MAP@k,
 * HR@k, MRR, AUC and catalogue coverage@k, for one user at a time from the
 * user's top list, scores and relevant (test) items, summed in an
 * accumulator and averaged over users. The ranking is over every item but
 * the user's excluded (training) ones; a tie ranks the lower item index
 * first, as top-N does. Cost per user O(k log t + n_items log t) for t test
 * items; memory O(n_items) bits for coverage.
 */
#ifndef FACTO_METRICS_RANKING_H
#define FACTO_METRICS_RANKING_H

#include "core/internal.h"

typedef enum fct_rank_kind {
    FCT_RANK_PRECISION = 1,
    FCT_RANK_RECALL,
    FCT_RANK_NDCG,
    FCT_RANK_MAP,
    FCT_RANK_HR,
    FCT_RANK_MRR,     /* no cut-off: the rank of the first relevant item in the full ranking */
    FCT_RANK_AUC,     /* no cut-off */
    FCT_RANK_COVERAGE /* share of the catalogue in at least one user's top k */
} fct_rank_kind;

typedef struct fct_rank_metric {
    fct_rank_kind kind;
    int k; /* cut-off; 0 for MRR and AUC */
} fct_rank_metric;

#define FCT_RANK_MAX_METRICS FACTO_METRICS_MAX_RANKING

/* Parse "ndcg@10,recall@20,mrr,auc,coverage@10" into out[*n] (at most
 * FCT_RANK_MAX_METRICS, no repeats). FACTO_ERR_INVALID naming the bad entry. */
facto_status fct_rank_parse(facto_ctx *ctx, const char *text, fct_rank_metric *out, int *n);
/* "ndcg@10" into buf. */
void fct_rank_name(const fct_rank_metric *m, char *buf, size_t size);
/* Largest cut-off among metrics (the top list length the driver must give). */
int fct_rank_max_k(const fct_rank_metric *m, int n);

typedef struct fct_rank_acc {
    int n_metrics;
    fct_rank_metric metric[FCT_RANK_MAX_METRICS];
    /* per-user values (all in [0, 1]) summed exactly in 128-bit fixed point
     * (units of 2^-52): integer sums do not depend on the order threads add
     * users in, so the averages are the same for any thread count */
    struct {
        uint64_t lo, hi;
    } sum[FCT_RANK_MAX_METRICS];
    int64_t n_users;          /* users scored */
    int64_t n_auc_users;      /* users with an AUC (at least one ranked relevant and one other item) */
    int32_t n_items;
    uint8_t *covered;         /* [n_items]: an item reached some user's top k (coverage), or NULL */
    int coverage_k;           /* the coverage metric's k (0 = none) */
} fct_rank_acc;

/* An empty accumulator for metrics[n] over n_items items. FACTO_ERR_NOMEM. */
facto_status fct_rank_acc_init(facto_ctx *ctx, fct_rank_acc *acc, const fct_rank_metric *metrics, int n,
                               int32_t n_items);
void fct_rank_acc_free(fct_rank_acc *acc);

/*
 * Add one user. top [n_top]: the user's best items, best first (the top-N
 * list with excluded items left out, at least min(max k, candidates) long);
 * scores [n_items]: every item's ranking score (NaN ranks last); excluded
 * [n_excluded] ascending: items not ranked for this user (its training
 * items); relevant [n_relevant] ascending: its test items that the model
 * knows and that are not excluded; n_unranked: further test items the model
 * cannot rank (unknown to it): they count in the recall / NDCG / MAP
 * denominators min(|test|, k) and can never be hits. A user with no test
 * item at all must not be added (the caller counts it as skipped).
 */
void fct_rank_acc_user(fct_rank_acc *acc, const int32_t *top, int n_top, const float *scores,
                       const int32_t *excluded, int64_t n_excluded, const int32_t *relevant, int64_t n_relevant,
                       int64_t n_unranked);

/* Add b into a (per-thread accumulators over the same metrics and items). */
void fct_rank_acc_merge(fct_rank_acc *a, const fct_rank_acc *b);

/* Averages into out->ranking[] (names as fct_rank_name), out->n_users. */
void fct_rank_acc_finish(const fct_rank_acc *acc, facto_metrics *out);

#endif /* FACTO_METRICS_RANKING_H */
