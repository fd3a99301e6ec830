/*
 * topn.c — top-k with a binary min-heap: the root is the worst of the k kept,
 * a candidate replaces it only when it is better, then sifts down. At the end
 * a heap sort (pop the worst to the back) leaves the buffer best first.
 * O(n log k) time for n candidates, no allocation.
 */
#include "topn.h"

/* 1 when a ranks below b: lower score, or equal score and higher item. */
static int fct_topk_worse(const facto_recommendation *a, const facto_recommendation *b)
{
    if (a->score != b->score)
        return a->score < b->score;
    return a->item > b->item;
}

static void fct_topk_sift_down(facto_recommendation *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && fct_topk_worse(&h[l], &h[m]))
            m = l;
        if (r < n && fct_topk_worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        facto_recommendation t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

void fct_topk_init(fct_topk *t, facto_recommendation *buf, int k)
{
    t->heap = buf;
    t->k = k > 0 ? k : 0;
    t->n = 0;
}

void fct_topk_push(fct_topk *t, int32_t item, float score)
{
    if (t->k == 0 || score != score) /* NaN never ranks */
        return;
    facto_recommendation c = {item, score};
    facto_recommendation *h = t->heap;
    if (t->n < t->k) {
        int i = t->n++;
        h[i] = c;
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!fct_topk_worse(&h[i], &h[parent]))
                break;
            facto_recommendation tmp = h[i];
            h[i] = h[parent];
            h[parent] = tmp;
            i = parent;
        }
        return;
    }
    if (!fct_topk_worse(&h[0], &c))
        return;
    h[0] = c;
    fct_topk_sift_down(h, t->n, 0);
}

int fct_topk_finish(fct_topk *t)
{
    facto_recommendation *h = t->heap;
    for (int end = t->n - 1; end > 0; end--) {
        facto_recommendation tmp = h[0];
        h[0] = h[end];
        h[end] = tmp;
        fct_topk_sift_down(h, end, 0);
    }
    return t->n;
}
