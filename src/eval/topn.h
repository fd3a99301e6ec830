/*
 * topn.h — top-k selection over a stream of (item, score): a binary min-heap
 * of the k best seen so far, then a sort of the survivors, best first.
 * O(n log k) for n candidates, memory O(k) in a buffer the caller provides.
 * Ties go to the lower item index, so results are deterministic; NaN scores
 * are never selected.
 */
#ifndef FACTO_TOPN_H
#define FACTO_TOPN_H

#include "facto.h"

typedef struct fct_topk {
    facto_recommendation *heap; /* [k], borrowed from the caller */
    int k;                      /* capacity, >= 0 */
    int n;                      /* entries held, <= k */
} fct_topk;

/* Start a selection of at most k entries into buf [k]. */
void fct_topk_init(fct_topk *t, facto_recommendation *buf, int k);
/* Offer one candidate. */
void fct_topk_push(fct_topk *t, int32_t item, float score);
/* Offer candidates in increasing item order: then a full heap rejects
 * anything not strictly above its worst (an equal score has the higher
 * index) without a call. */
static inline void fct_topk_offer(fct_topk *t, int32_t item, float score)
{
    if (t->n == t->k && !(score > t->heap[0].score))
        return;
    fct_topk_push(t, item, score);
}
/* Sort the held entries best first in place (buf[0] is the best); returns
 * their count. The selection must not be pushed to afterwards. */
int fct_topk_finish(fct_topk *t);

#endif /* FACTO_TOPN_H */
