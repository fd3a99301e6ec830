/*
 * fm_cd_sweep.c — the sweeps of the FM engine (Rendle, "Factorization
 * Machines with libFM", ACM TIST 2012, sec. 4.2-4.4, Algorithm 2): theta
 * enters y^ linearly, y^ = g + theta h, so with e = y^ - y cached per row its
 * conditional posterior is Gaussian with precision alpha sum h^2 + lambda and
 * mean (alpha (theta sum h^2 - sum h e) + mu lambda) / precision; MCMC draws
 * from it, ALS takes its mean. w0, w, then V one factor f at a time over each
 * source's CSC with the cache q_f(n) = sum_i v_if x_i: a direct feature costs
 * O(its rows); blocks (VLDB 2013) keep per-block-row sums of e, e q, q, q^2,
 * so a block feature costs O(its block rows). Per iteration O(k nnz + k n B).
 */
#include "fm_cd_engine.h"

#include <math.h>
#include <string.h>

/* Draw (MCMC) or take the mode (ALS) of N(mean, 1/prec). A parameter the
 * data do not determine (prec 0: no prior precision and h = 0 in every
 * row, e.g. v of a row's only feature under ALS without L2) is set to 0,
 * as libFM does. */
static double fct_fm_draw(fct_fm_engine *eng, double mean, double prec)
{
    if (!(prec > 0.0) || !isfinite(mean))
        return 0.0;
    if (eng->mode == FACTO_FM_CD_ALS)
        return mean;
    return mean + fct_rng_normal(&eng->rng) / sqrt(prec);
}

static void fct_fm_sweep_w0(fct_fm_engine *eng)
{
    double se = 0.0;
    for (int64_t n = 0; n < eng->n; n++)
        se += eng->eq[n].e;
    double sh2 = (double)eng->n;
    double prec = eng->alpha * sh2 + eng->lambda0;
    double mean = eng->alpha * (eng->w0 * sh2 - se) / prec;
    double nw = fct_fm_draw(eng, mean, prec);
    double d = nw - eng->w0;
    eng->w0 = nw;
    for (int64_t n = 0; n < eng->n; n++)
        eng->eq[n].e += d;
}

static void fct_fm_sweep_w(fct_fm_engine *eng)
{
    double *w = eng->w;
    for (int i = 0; i < eng->n_src; i++) {
        fct_fm_src *s = &eng->src[i];
        if (!s->ref) {
            for (int64_t c = 0; c < s->n_cols; c++) {
                uint32_t sl = s->col_slot[c];
                int32_t g = eng->group[sl];
                double sh2 = 0.0, she = 0.0;
                for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                    double x = s->col_val[p];
                    sh2 += x * x;
                    she += x * eng->eq[s->col_row[p]].e;
                }
                double prec = eng->alpha * sh2 + eng->lambda_w[g];
                double mean = (eng->alpha * (w[sl] * sh2 - she) + eng->mu_w[g] * eng->lambda_w[g]) / prec;
                double nw = fct_fm_draw(eng, mean, prec);
                double d = nw - w[sl];
                w[sl] = nw;
                for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++)
                    eng->eq[s->col_row[p]].e += d * s->col_val[p];
            }
            continue;
        }
        /* Block: per block row j, E_j = sum of e over the joined rows; the
         * change of y^ in every joined row is dL_j, applied afterwards. */
        for (int64_t j = 0; j < s->n_rows; j++) {
            s->agg[j].e = 0.0;
            s->dy[j] = 0.0;
        }
        for (int64_t n = 0; n < eng->n; n++)
            s->agg[s->ref[n]].e += eng->eq[n].e;
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            int32_t g = eng->group[sl];
            double sh2 = 0.0, she = 0.0;
            for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                uint32_t j = s->col_row[p];
                double x = s->col_val[p];
                sh2 += x * x * s->cnt[j];
                she += x * s->agg[j].e;
            }
            double prec = eng->alpha * sh2 + eng->lambda_w[g];
            double mean = (eng->alpha * (w[sl] * sh2 - she) + eng->mu_w[g] * eng->lambda_w[g]) / prec;
            double nw = fct_fm_draw(eng, mean, prec);
            double d = nw - w[sl];
            w[sl] = nw;
            for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                uint32_t j = s->col_row[p];
                double dx = d * s->col_val[p];
                s->agg[j].e += dx * s->cnt[j];
                s->dy[j] += dx;
            }
        }
        for (int64_t n = 0; n < eng->n; n++)
            eng->eq[n].e += s->dy[s->ref[n]];
    }
    for (int64_t u = 0; u < eng->n_unseen; u++)
        w[eng->unseen[u]] = eng->mode == FACTO_FM_CD_ALS ? 0.0 : eng->mu_w[eng->group[eng->unseen[u]]];
}

/* Aggregate rows for block s: qr = q - q^B_j summed per block row j. Train
 * rows often arrive grouped by j (sorted by user), so sums run in registers
 * while j repeats and are flushed when it changes. */
static inline void fct_fm_agg_flush(fct_fm_agg *a, double s1, double s2, double e, double eq)
{
    a->s1 += s1;
    a->s2 += s2;
    a->e += e;
    a->eq += eq;
}

/* Column c of block source s, factor f: the mean and precision of v's
 * conditional (aggregates already built). Reads the block rows of c only. */
static inline void fct_fm_block_col_post(const fct_fm_engine *eng, const fct_fm_src *s, int32_t f, const double *vf,
                                         int64_t c, double *mean_out, double *prec_out)
{
    const int32_t k = eng->k;
    const double *mu = eng->mu_v, *lam = eng->lambda_v;
    const double *qb = eng->brows[s->brows].qf;
    uint32_t sl = s->col_slot[c];
    int32_t g = eng->group[sl];
    double v = vf[sl], sh2 = 0.0, she = 0.0, sh2b = 0.0, sheb = 0.0;
    int64_t p = s->col_ptr[c];
    const int64_t p1 = s->col_ptr[c + 1];
    /* two sets of sums (even and odd entries) so the additions overlap:
     * an implicit-feedback column holds one entry per rater */
    for (; p + 2 <= p1; p += 2) {
        uint32_t j = s->col_row[p], j2 = s->col_row[p + 1];
        const fct_fm_agg *a = &s->agg[j], *a2 = &s->agg[j2];
        double x = s->col_val[p], x2 = s->col_val[p + 1];
        double aj = qb[j] - x * v, aj2 = qb[j2] - x2 * v;
        sh2 += x * x * (a->s2 + 2.0 * aj * a->s1 + s->cnt[j] * aj * aj);
        she += x * (a->eq + aj * a->e);
        sh2b += x2 * x2 * (a2->s2 + 2.0 * aj2 * a2->s1 + s->cnt[j2] * aj2 * aj2);
        sheb += x2 * (a2->eq + aj2 * a2->e);
    }
    if (p < p1) {
        uint32_t j = s->col_row[p];
        const fct_fm_agg *a = &s->agg[j];
        double x = s->col_val[p];
        double aj = qb[j] - x * v;
        sh2 += x * x * (a->s2 + 2.0 * aj * a->s1 + s->cnt[j] * aj * aj);
        she += x * (a->eq + aj * a->e);
    }
    sh2 += sh2b;
    she += sheb;
    double l = lam[g * k + f];
    double prec = eng->alpha * sh2 + l;
    *mean_out = (eng->alpha * (v * sh2 - she) + mu[g * k + f] * l) / prec;
    *prec_out = prec;
}

/* Column c's change d of v (from v) into the sums of its block rows. */
static inline void fct_fm_block_col_apply(fct_fm_src *s, double *qb, int64_t c, double v, double d)
{
    for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
        uint32_t j = s->col_row[p];
        fct_fm_agg *a = &s->agg[j];
        double x = s->col_val[p];
        double aj = qb[j] - x * v;
        double dx = d * x;
        a->e += dx * (a->s1 + s->cnt[j] * aj);
        a->eq += dx * (a->s2 + aj * a->s1);
        qb[j] += dx;
        s->dq[j] += dx;
        s->dy[j] += dx * aj;
    }
}

/* Columns [c0, c1) of one run (no block row shared) on the engine's
 * threads: their posteriors in parallel (each reads only its own block
 * rows, which no other column of the run changes), the draws in column
 * order from the one stream (as the sequential sweep takes them), the
 * changes in parallel. The same bits as column by column. */
static void fct_fm_block_run_par(fct_fm_engine *eng, fct_fm_src *s, int32_t f, double *vf, int64_t c0, int64_t c1)
{
    double *qb = eng->brows[s->brows].qf;
    double *cm = eng->col_mean, *cp = eng->col_prec, *cv = eng->col_v, *cd = eng->col_d;
#pragma omp parallel for num_threads(eng->nthreads) schedule(static)
    for (int64_t c = c0; c < c1; c++)
        fct_fm_block_col_post(eng, s, f, vf, c, &cm[c - c0], &cp[c - c0]);
    for (int64_t c = c0; c < c1; c++) {
        const uint32_t sl = s->col_slot[c];
        const double v = vf[sl], nv = fct_fm_draw(eng, cm[c - c0], cp[c - c0]);
        cv[c - c0] = v;
        cd[c - c0] = nv - v;
        vf[sl] = nv;
    }
#pragma omp parallel for num_threads(eng->nthreads) schedule(static)
    for (int64_t c = c0; c < c1; c++)
        fct_fm_block_col_apply(s, qb, c, cv[c - c0], cd[c - c0]);
}

/* Sweep v_if of block source s for factor f (aggregates already built):
 * column by column, or run by run on threads (fct_fm_engine_threads) when
 * a run holds at least fct_fm_par_min_nnz entries. */
static void fct_fm_block_sweep_v(fct_fm_engine *eng, fct_fm_src *s, int32_t f, double *vf)
{
    double *qb = eng->brows[s->brows].qf;
    const int runs = eng->nthreads > 1 && s->run_ptr;
    const int64_t nruns = runs ? s->n_runs : 1;
    for (int64_t r = 0; r < nruns; r++) {
        const int64_t c0 = runs ? s->run_ptr[r] : 0, c1 = runs ? s->run_ptr[r + 1] : s->n_cols;
        if (runs && c1 - c0 > 1 && s->col_ptr[c1] - s->col_ptr[c0] >= fct_fm_par_min_nnz) {
            fct_fm_block_run_par(eng, s, f, vf, c0, c1);
            continue;
        }
        for (int64_t c = c0; c < c1; c++) {
            const uint32_t sl = s->col_slot[c];
            double mean, prec;
            fct_fm_block_col_post(eng, s, f, vf, c, &mean, &prec);
            const double v = vf[sl], nv = fct_fm_draw(eng, mean, prec);
            vf[sl] = nv;
            fct_fm_block_col_apply(s, qb, c, v, nv - v);
        }
    }
}

/* sum h^2 and sum h e over the rows p0..p1 of a direct column with
 * h = x (q - x v): four independent sums, so the additions do not wait on
 * each other (a column of a one-hot id holds tens of rows). */
static inline void fct_fm_direct_sums(const fct_fm_eq *restrict eq, const uint32_t *restrict row,
                                        const float *restrict val, int64_t p0, int64_t p1, double v, double *sh2,
                                        double *she)
{
    double a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
    int64_t p = p0;
    for (; p + 4 <= p1; p += 4) {
        for (int u = 0; u < 4; u++) {
            const fct_fm_eq *t = &eq[row[p + u]];
            double x = val[p + u];
            double h = x * (t->q - x * v);
            a[u] += h * h;
            b[u] += h * t->e;
        }
    }
    for (; p < p1; p++) {
        const fct_fm_eq *t = &eq[row[p]];
        double x = val[p];
        double h = x * (t->q - x * v);
        a[0] += h * h;
        b[0] += h * t->e;
    }
    *sh2 = (a[0] + a[1]) + (a[2] + a[3]);
    *she = (b[0] + b[1]) + (b[2] + b[3]);
}

/* Begin factor f on blocks 1..nb: q^B_f of their rows, sums zeroed. */
static void fct_fm_blocks_begin(fct_fm_engine *eng, int nb, const double *vf)
{
    for (int b = 1; b <= nb; b++) {
        fct_fm_src *s = &eng->src[b];
        fct_fm_brows_factor(eng, &eng->brows[s->brows], vf, 0);
        memset(s->agg, 0, (size_t)s->n_rows * sizeof *s->agg);
        memset(s->dq, 0, (size_t)s->n_rows * sizeof *s->dq);
        memset(s->dy, 0, (size_t)s->n_rows * sizeof *s->dy);
    }
}

/* v_f of the slots no training row uses: their group's mu (MCMC), 0 (ALS). */
static void fct_fm_unseen_v(fct_fm_engine *eng, int32_t f, double *vf)
{
    for (int64_t u = 0; u < eng->n_unseen; u++) {
        uint32_t sl = eng->unseen[u];
        vf[sl] = eng->mode == FACTO_FM_CD_ALS ? 0.0 : eng->mu_v[eng->group[sl] * eng->k + f];
    }
}

/* Pair form, pass 1: the previous factor's deferred item change into e
 * (pending 2), and the sums per user with q_rest = q2_i. */
static void fct_fm_pair_user_range(fct_fm_engine *eng, int64_t n0, int64_t N)
{
    fct_fm_eq *restrict eq = eng->eq;
    fct_fm_src *s1 = &eng->src[1], *s2 = &eng->src[2];
    const int32_t *restrict r1 = s1->ref, *restrict r2 = s2->ref;
    const double *q2 = eng->brows[s2->brows].qf;
    const double *restrict pa = eng->pend_a, *restrict pb = eng->pend_b, *restrict pq = eng->pend_q1;
    fct_fm_agg *restrict ag = s1->agg;
    const int pend = eng->pending == 2;
    /* per run of rows of one user (rows usually come sorted by user):
     * two sets of sums, even and odd rows, so additions overlap */
    for (int64_t n = n0; n < N;) {
        const int32_t u = r1[n];
        double a1 = 0, a2 = 0, ae = 0, aeq = 0, b1 = 0, b2 = 0, be = 0, beq = 0;
        int64_t m = n;
        for (; m + 1 < N && r1[m] == u && r1[m + 1] == u; m += 2) {
            int32_t i = r2[m], i2 = r2[m + 1];
            double e = eq[m].e, e2 = eq[m + 1].e;
            if (pend) {
                e += pq[u] * pa[i] + pb[i];
                e2 += pq[u] * pa[i2] + pb[i2];
                eq[m].e = e;
                eq[m + 1].e = e2;
            }
            double qr = q2[i], qr2 = q2[i2];
            a1 += qr;
            a2 += qr * qr;
            ae += e;
            aeq += e * qr;
            b1 += qr2;
            b2 += qr2 * qr2;
            be += e2;
            beq += e2 * qr2;
        }
        if (m < N && r1[m] == u) {
            int32_t i = r2[m];
            double e = eq[m].e;
            if (pend) {
                e += pq[u] * pa[i] + pb[i];
                eq[m].e = e;
            }
            double qr = q2[i];
            a1 += qr;
            a2 += qr * qr;
            ae += e;
            aeq += e * qr;
            m++;
        }
        fct_fm_agg_flush(&ag[u], a1 + b1, a2 + b2, ae + be, aeq + beq);
        n = m;
    }
}

/* Pass 1 over all rows; on threads when the rows are grouped by user
 * (pair_par), each thread a range of whole users: the same bits. */
static void fct_fm_pair_user_sums(fct_fm_engine *eng)
{
    if (eng->pair_par) {
#pragma omp parallel for num_threads(eng->nthreads) schedule(static, 1)
        for (int t = 0; t < eng->nthreads; t++)
            fct_fm_pair_user_range(eng, eng->ub[t], eng->ub[t + 1]);
    } else {
        fct_fm_pair_user_range(eng, 0, eng->n);
    }
    eng->pending = 0;
}

/* Pair form, pass 2: the user sweep's change into e, and the sums per item
 * with q_rest = q1_u. */
static void fct_fm_pair_item_sums(fct_fm_engine *eng)
{
    const int64_t N = eng->n;
    fct_fm_eq *restrict eq = eng->eq;
    fct_fm_src *s1 = &eng->src[1], *s2 = &eng->src[2];
    const int32_t *restrict r1 = s1->ref, *restrict r2 = s2->ref;
    const double *q1 = eng->brows[s1->brows].qf, *q2 = eng->brows[s2->brows].qf;
    const double *restrict dq = s1->dq, *restrict dy = s1->dy;
    fct_fm_agg *restrict ag = s2->agg;
    int32_t cj = -1;
    double a1 = 0, a2 = 0, ae = 0, aeq = 0;
    for (int64_t n = 0; n < N; n++) {
        int32_t u = r1[n], i = r2[n];
        double e = eq[n].e + q2[i] * dq[u] + dy[u];
        eq[n].e = e;
        if (i != cj) {
            if (cj >= 0)
                fct_fm_agg_flush(&ag[cj], a1, a2, ae, aeq);
            cj = i;
            a1 = a2 = ae = aeq = 0.0;
        }
        double qr = q1[u];
        a1 += qr;
        a2 += qr * qr;
        ae += e;
        aeq += e * qr;
    }
    if (cj >= 0)
        fct_fm_agg_flush(&ag[cj], a1, a2, ae, aeq);
}

/*
 * One factor f on pair-form data (no direct features, blocks 1 = users and
 * 2 = items, e.g. every ratings data set): q(n) = q1_u + q2_i comes from the
 * block rows, so only e is kept per row. Pass 1 applies the previous
 * factor's deferred item change and sums per user (q_rest = q2_i), the user
 * sweep follows, pass 2 applies it and sums per item (q_rest = q1_u), then
 * the item sweep, whose change is deferred. Two passes over the rows.
 */
static void fct_fm_sweep_v_pair(fct_fm_engine *eng, int32_t f)
{
    double *vf = eng->V + (int64_t)f * eng->n_slots;
    fct_fm_src *s1 = &eng->src[1], *s2 = &eng->src[2];
    fct_fm_blocks_begin(eng, 2, vf);
    fct_fm_pair_user_sums(eng);
    fct_fm_block_sweep_v(eng, s1, f, vf);
    fct_fm_pair_item_sums(eng);
    fct_fm_block_sweep_v(eng, s2, f, vf);
    memcpy(eng->pend_a, s2->dq, (size_t)s2->n_rows * sizeof *eng->pend_a);
    memcpy(eng->pend_b, s2->dy, (size_t)s2->n_rows * sizeof *eng->pend_b);
    memcpy(eng->pend_q1, eng->brows[s1->brows].qf, (size_t)s1->n_rows * sizeof *eng->pend_q1);
    eng->pending = 2;
    fct_fm_unseen_v(eng, f, vf);
}

/* Pass 1 on flat rows (no blocks): q_f of every row, taken from the
 * previous factor's update pass once it sums it (qn_ok). */
static void fct_fm_flat_q(fct_fm_engine *eng, const double *vf)
{
    const int64_t N = eng->n;
    fct_fm_eq *eq = eng->eq;
    const fct_fm_src *d0 = &eng->src[0];
    if (eng->qn_ok) {
        /* flat rows: q was summed by the previous factor's sweep */
        const double *restrict qn = eng->qn;
        for (int64_t n = 0; n < N; n++)
            eq[n].q = qn[n];
    } else {
        /* flat rows: pointers in registers, nothing but the direct entries */
        const int64_t *restrict rp = d0->row_ptr;
        const uint32_t *restrict sl = d0->slot;
        const float *restrict xv = d0->val;
        const double *restrict v = vf;
        for (int64_t n = 0; n < N; n++) {
            double q = 0.0;
            for (int64_t e = rp[n]; e < rp[n + 1]; e++)
                if (sl[e] != FACTO_FM_NO_SLOT)
                    q += v[sl[e]] * xv[e];
            eq[n].q = q;
        }
    }
}

/* Pass 1 with blocks: the last block's deferred change into e (pending 1),
 * q_f of every row from its direct entries and the blocks' q^B_f, and the
 * sums of block 1 when no direct sweep comes in between. */
static void fct_fm_rows_q(fct_fm_engine *eng, const double *vf, int has_direct)
{
    const int64_t N = eng->n;
    fct_fm_eq *eq = eng->eq;
    const int nb = eng->n_src - 1;
    const fct_fm_src *d0 = &eng->src[0];
    fct_fm_src *s1 = nb > 0 && !has_direct ? &eng->src[1] : NULL;
    int32_t cj = -1;
    double a1 = 0, a2 = 0, ae = 0, aeq = 0;
    const int32_t *pref = eng->pending ? eng->src[nb].ref : NULL;
    for (int64_t n = 0; n < N; n++) {
        double q = 0.0;
        if (pref) {
            int32_t j = pref[n];
            eq[n].e += eq[n].q * eng->pend_a[j] + eng->pend_b[j];
        }
        if (has_direct) {
            for (int64_t e = d0->row_ptr[n]; e < d0->row_ptr[n + 1]; e++)
                if (d0->slot[e] != FACTO_FM_NO_SLOT)
                    q += vf[d0->slot[e]] * d0->val[e];
        }
        for (int b = 1; b <= nb; b++)
            q += eng->brows[eng->src[b].brows].qf[eng->src[b].ref[n]];
        eq[n].q = q;
        if (s1) {
            int32_t j = s1->ref[n];
            if (j != cj) {
                if (cj >= 0)
                    fct_fm_agg_flush(&s1->agg[cj], a1, a2, ae, aeq);
                cj = j;
                a1 = a2 = ae = aeq = 0.0;
            }
            double qr = q - eng->brows[s1->brows].qf[j], e = eq[n].e;
            a1 += qr;
            a2 += qr * qr;
            ae += e;
            aeq += e * qr;
        }
    }
    if (s1 && cj >= 0)
        fct_fm_agg_flush(&s1->agg[cj], a1, a2, ae, aeq);
    eng->pending = 0;
}

/* v_f of the direct features, column by column, with e and q of their rows
 * updated. Flat rows: the update pass also sums q of the next factor (its
 * v are final: the next factor's, or factor 0's for the next iteration),
 * which saves the next factor's pass over the rows. */
static void fct_fm_direct_sweep_v(fct_fm_engine *eng, int32_t f, double *vf)
{
    const int64_t N = eng->n;
    fct_fm_eq *eq = eng->eq;
    const double *mu = eng->mu_v, *lam = eng->lambda_v;
    const int32_t k = eng->k;
    const int nb = eng->n_src - 1;
    fct_fm_src *s = &eng->src[0];
    double *restrict qn = nb == 0 ? eng->qn : NULL;
    const double *vnext = eng->V + (int64_t)((f + 1) % k) * eng->n_slots;
    if (qn)
        memset(qn, 0, (size_t)N * sizeof *qn);
    for (int64_t c = 0; c < s->n_cols; c++) {
        uint32_t sl = s->col_slot[c];
        int32_t g = eng->group[sl];
        double v = vf[sl], sh2, she;
        fct_fm_direct_sums(eq, s->col_row, s->col_val, s->col_ptr[c], s->col_ptr[c + 1], v, &sh2, &she);
        double l = lam[g * k + f];
        double prec = eng->alpha * sh2 + l;
        double mean = (eng->alpha * (v * sh2 - she) + mu[g * k + f] * l) / prec;
        double nv = fct_fm_draw(eng, mean, prec);
        double d = nv - v;
        vf[sl] = nv;
        if (qn) {
            const double vn = vnext[sl];
            for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                uint32_t r = s->col_row[p];
                fct_fm_eq *t = &eq[r];
                double x = s->col_val[p];
                double h = x * (t->q - x * v);
                t->q += d * x;
                t->e += d * h;
                qn[r] += vn * x;
            }
            continue;
        }
        for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
            fct_fm_eq *t = &eq[s->col_row[p]];
            double x = s->col_val[p];
            double h = x * (t->q - x * v);
            t->q += d * x;
            t->e += d * h;
        }
    }
    if (qn)
        eng->qn_ok = 1;
}

/* Sums of block 1 after the direct sweep. */
static void fct_fm_first_block_sums(fct_fm_engine *eng)
{
    const fct_fm_eq *eq = eng->eq;
    fct_fm_src *s1 = &eng->src[1];
    const double *qb = eng->brows[s1->brows].qf;
    for (int64_t n = 0; n < eng->n; n++) {
        int32_t j = s1->ref[n];
        double qr = eq[n].q - qb[j], e = eq[n].e;
        fct_fm_agg_flush(&s1->agg[j], qr, qr * qr, e, e * qr);
    }
}

/* After block b's sweep: its changes into every joined row (e += q_rest
 * dq_j + dy_j, q += dq_j), fused with the sums of block b + 1; the last
 * block's change is deferred (pending 1) into the next factor's first pass. */
static void fct_fm_block_apply(fct_fm_engine *eng, int b)
{
    const int64_t N = eng->n;
    fct_fm_eq *eq = eng->eq;
    const int nb = eng->n_src - 1;
    fct_fm_src *s = &eng->src[b];
    const double *qb = eng->brows[s->brows].qf, *dq = s->dq, *dy = s->dy;
    const int32_t *ref = s->ref;
    fct_fm_src *sn = b < nb ? &eng->src[b + 1] : NULL;
    if (!sn) {
        /* Deferred: with q_prev = q before this block's change,
         * e += (q_prev - q^B_old_j) dq_j + dy_j. q itself is rebuilt by
         * the next factor's first pass; fct_fm_flush_pending applies
         * e at the end of the iteration. */
        for (int64_t j = 0; j < s->n_rows; j++) {
            eng->pend_a[j] = dq[j];
            eng->pend_b[j] = dy[j] - (qb[j] - dq[j]) * dq[j];
        }
        eng->pending = 1;
        return;
    }
    const double *qbn = eng->brows[sn->brows].qf;
    int32_t cj = -1;
    double a1 = 0, a2 = 0, ae = 0, aeq = 0;
    for (int64_t n = 0; n < N; n++) {
        int32_t j = ref[n];
        double q = eq[n].q;
        double qr = q - (qb[j] - dq[j]);
        double e = eq[n].e + qr * dq[j] + dy[j];
        q += dq[j];
        eq[n].e = e;
        eq[n].q = q;
        int32_t jn = sn->ref[n];
        if (jn != cj) {
            if (cj >= 0)
                fct_fm_agg_flush(&sn->agg[cj], a1, a2, ae, aeq);
            cj = jn;
            a1 = a2 = ae = aeq = 0.0;
        }
        double qrn = q - qbn[jn];
        a1 += qrn;
        a2 += qrn * qrn;
        ae += e;
        aeq += e * qrn;
    }
    if (cj >= 0)
        fct_fm_agg_flush(&sn->agg[cj], a1, a2, ae, aeq);
}

/*
 * One factor f. Passes over the n training rows: (1) q_f(n) from the direct
 * rows and the blocks' q^B_f, fused with the sums of the first block;
 * then the direct features' CSC sweep; then per block b: its sweep over
 * block rows, and one pass that applies its changes to e and q (every
 * joined row gets e += q_rest dq_j + dy_j, q += dq_j) fused with the sums
 * of block b + 1; the last block's change is deferred into the next factor's
 * first pass. Passes over the rows per factor: n_blocks (direct sweep aside).
 */
static void fct_fm_sweep_v(fct_fm_engine *eng, int32_t f)
{
    double *vf = eng->V + (int64_t)f * eng->n_slots;
    const int nb = eng->n_src - 1;
    const int has_direct = eng->src[0].n_cols > 0;

    if (!has_direct && nb == 2) {
        fct_fm_sweep_v_pair(eng, f);
        return;
    }
    fct_fm_blocks_begin(eng, nb, vf);
    /* Pass 1: q of every row (+ sums of the first block when there is no
     * direct sweep in between). */
    if (nb == 0)
        fct_fm_flat_q(eng, vf);
    else
        fct_fm_rows_q(eng, vf, has_direct);
    if (has_direct) {
        fct_fm_direct_sweep_v(eng, f, vf);
        if (nb > 0)
            fct_fm_first_block_sums(eng);
    }
    for (int b = 1; b <= nb; b++) {
        fct_fm_block_sweep_v(eng, &eng->src[b], f, vf);
        fct_fm_block_apply(eng, b);
    }
    fct_fm_unseen_v(eng, f, vf);
}

/* Apply the last block's deferred change to e (and q). */
static void fct_fm_flush_pending(fct_fm_engine *eng)
{
    if (!eng->pending)
        return;
    if (eng->pending == 2) {
        const int32_t *r1 = eng->src[1].ref, *r2 = eng->src[2].ref;
        for (int64_t n = 0; n < eng->n; n++)
            eng->eq[n].e += eng->pend_q1[r1[n]] * eng->pend_a[r2[n]] + eng->pend_b[r2[n]];
        eng->pending = 0;
        return;
    }
    const int32_t *ref = eng->src[eng->n_src - 1].ref;
    for (int64_t n = 0; n < eng->n; n++) {
        int32_t j = ref[n];
        eng->eq[n].e += eng->eq[n].q * eng->pend_a[j] + eng->pend_b[j];
        eng->eq[n].q += eng->pend_a[j];
    }
    eng->pending = 0;
}

/* One iteration of the engine (libFM's order, TIST 2012 Algorithm 2): the
 * noise precision, w0, the hyperparameters of w then w, those of V then V
 * one factor at a time (MCMC draws the hyperparameters; ALS keeps them). */
void fct_fm_cd_sweep(fct_fm_engine *eng)
{
    fct_fm_draw_alpha(eng);
    fct_fm_sweep_w0(eng);
    if (eng->mode == FACTO_FM_CD_MCMC)
        fct_fm_draw_hyper(eng, eng->w, eng->mu_w, eng->lambda_w, 1);
    fct_fm_sweep_w(eng);
    if (eng->mode == FACTO_FM_CD_MCMC) {
        for (int32_t f = 0; f < eng->k; f++)
            fct_fm_draw_hyper(eng, eng->V + (int64_t)f * eng->n_slots, eng->mu_v + f, eng->lambda_v + f, eng->k);
    }
    for (int32_t f = 0; f < eng->k; f++)
        fct_fm_sweep_v(eng, f);
    fct_fm_flush_pending(eng);
}
