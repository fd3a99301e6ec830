/*
 * fit_ease.c — the training driver of EASE (models/ease.c): validates the
 * parameters, refuses (FACTO_ERR_INVALID) a catalogue whose n_items^2
 * floats exceed max_memory (default half of what the system gives the
 * process) saying how many bytes it would need, keeps the training users' items and weights, builds the
 * Gram matrix X^T X by sparse accumulation (fct_gram_dense) and turns it
 * into B in place (fct_ease_solve: Cholesky inverse through LAPACK in
 * float). Threads: facto_ctx_set_threads() for the Gram rows and OpenBLAS.
 * Cost O(sum over users of |items|^2 + n_items^3); memory n_items^2 * 4
 * bytes plus O(nnz + threads n_items).
 */
#include "train.h"

#include "data/dataset.h"
#include "models/itemmodels.h"
#include "solvers/itemsim.h"

#include <stdio.h>
#include <string.h>

/* "1.5 GiB", "320.0 MiB", "5.3 KiB", "100 bytes" into buf. */
static const char *fct_ease_bytes(uint64_t n, char *buf, size_t size)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(buf, size, "%llu bytes", (unsigned long long)n);
        return buf;
    }
    double v = (double)n / 1024.0;
    int u = 0;
    for (; v >= 1024.0 && u < 3; u++)
        v /= 1024.0;
    snprintf(buf, size, "%.1f %s", v, unit[u]);
    return buf;
}

facto_status fct_fit_ease(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (!data->train || data->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "ease trains on interactions (facto_fit_data.train), not feature rows");
    const fct_ease_params *p = fct_params_struct(params);
    facto_status st = fct_params_check(ctx, &fct_ease_ptable, p);
    if (st != FACTO_OK)
        return st;
    if (data->train->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "ease: the training data set holds no interactions");
    uint64_t ni = (uint64_t)data->train->n_items, need = ni * ni * sizeof(float);
    uint64_t limit = p->max_memory;
    if (limit == 0) {
        uint64_t total = fct_memory_total();
        limit = total / 2;
        if (total == 0)
            limit = UINT64_MAX; /* nothing to go by: let the allocation decide */
    }
    if (need > limit) {
        char need_h[32], limit_h[32];
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "ease: %llu items need a %llu x %llu float matrix, %llu bytes (%s), more than max_memory "
                        "allows: %llu bytes (%s%s); raise max_memory (--max-memory BYTES) or keep fewer items",
                        (unsigned long long)ni, (unsigned long long)ni, (unsigned long long)ni,
                        (unsigned long long)need, fct_ease_bytes(need, need_h, sizeof need_h),
                        (unsigned long long)limit, fct_ease_bytes(limit, limit_h, sizeof limit_h),
                        p->max_memory ? "" : ", half of this machine's memory");
    }
    double t0 = fct_now();
    fct_ease_model *m = calloc(1, sizeof *m);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "ease: out of memory");
    m->base.ops = &fct_ease_ops;
    m->params = *p;
    st = fct_item_base_init(ctx, &m->b, data->train, "ease");
    if (st == FACTO_OK && !(m->B = fct_aligned_alloc((size_t)need)))
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "ease: out of memory for the %llu x %llu matrix (%llu bytes)",
                      (unsigned long long)ni, (unsigned long long)ni, (unsigned long long)need);
    int threads = fct_threads(ctx);
    if (st == FACTO_OK)
        st = fct_gram_dense(ctx, m->b.n_users, m->b.n_items, m->b.seen_ptr, m->b.seen_items, m->b.seen_w, threads,
                            m->B);
    double t1 = fct_now();
    if (st == FACTO_OK)
        st = fct_ease_solve(ctx, m->b.n_items, p->reg, threads, m->B);
    if (st != FACTO_OK) {
        fct_ease_destroy(m);
        return st;
    }
    fct_log(ctx, FACTO_LOG_INFO, "ease: %d items, Gram %.2f s, inverse %.2f s", m->b.n_items, t1 - t0,
            fct_now() - t1);
    fct_fit_report_once(&m->base, data->train, callbacks, fct_now() - t0);
    *out = &m->base;
    return fct_ok(ctx);
}
