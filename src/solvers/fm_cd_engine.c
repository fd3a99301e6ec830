/*
 * fm_cd_engine.c — the state of the column-wise sweep engine that the FM
 * solvers MCMC and ALS share (fm_cd_engine.h): block rows (a block's design
 * matrix with per-row caches of the current factor, shared by train and test
 * when they share the block), each training source's transpose (CSC, one
 * column per slot, built once in O(nnz)), and prediction of whole data sets
 * with the engine's parameters factor by factor, O(k (nnz(direct) + sum_B
 * nnz(B) + n n_blocks)), which also serves fct_fm_blocks_predict_raw.
 */
#include "fm_cd_engine.h"

#include <string.h>

/* Index in eng->brows of `rows` (added when new), -1 when out of memory. */
static int fct_fm_brows_get(fct_fm_engine *eng, const facto_rows *rows, const uint32_t *slots)
{
    for (int i = 0; i < eng->n_brows; i++)
        if (eng->brows[i].rows == rows)
            return i;
    fct_fm_brows *b = &eng->brows[eng->n_brows];
    size_t nr = rows->n_rows ? (size_t)rows->n_rows : 1;
    b->rows = rows;
    b->slots = slots;
    b->lin = fct_calloc_array(nr, sizeof(double));
    b->qf = fct_calloc_array(nr, sizeof(double));
    b->sf = fct_calloc_array(nr, sizeof(double));
    if (!b->lin || !b->qf || !b->sf)
        return -1;
    return eng->n_brows++;
}

/* Build the CSC of a source and mark its slots seen. */
static facto_status fct_fm_src_build(fct_fm_engine *eng, fct_fm_src *s, uint8_t *seen, int64_t *count)
{
    int64_t nnz = s->row_ptr[s->n_rows];
    memset(count, 0, (size_t)eng->n_slots * sizeof *count);
    for (int64_t e = 0; e < nnz; e++)
        if (s->slot[e] != FACTO_FM_NO_SLOT)
            count[s->slot[e]]++;
    s->n_cols = 0;
    for (int64_t i = 0; i < eng->n_slots; i++)
        if (count[i])
            s->n_cols++;
    s->col_slot = fct_malloc_array((size_t)s->n_cols + 1, sizeof *s->col_slot);
    s->col_ptr = fct_malloc_array((size_t)s->n_cols + 1, sizeof *s->col_ptr);
    s->col_row = fct_malloc_array(nnz ? (size_t)nnz : 1, sizeof *s->col_row);
    s->col_val = fct_malloc_array(nnz ? (size_t)nnz : 1, sizeof *s->col_val);
    if (!s->col_slot || !s->col_ptr || !s->col_row || !s->col_val)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory transposing %lld entries", (long long)nnz);
    /* count[slot] becomes the write position of the slot's column. */
    int64_t c = 0, pos = 0;
    for (int64_t i = 0; i < eng->n_slots; i++) {
        if (!count[i])
            continue;
        if (seen[i])
            return fct_fail(eng->ctx, FACTO_ERR_INVALID,
                              "feature slot %lld appears in two sources (direct rows or blocks); each feature must "
                              "belong to one",
                              (long long)i);
        seen[i] = 1;
        s->col_slot[c] = (uint32_t)i;
        s->col_ptr[c] = pos;
        int64_t len = count[i];
        count[i] = pos;
        pos += len;
        c++;
    }
    s->col_ptr[c] = pos;
    for (int64_t r = 0; r < s->n_rows; r++) {
        for (int64_t e = s->row_ptr[r]; e < s->row_ptr[r + 1]; e++) {
            uint32_t sl = s->slot[e];
            if (sl == FACTO_FM_NO_SLOT)
                continue;
            int64_t p = count[sl]++;
            s->col_row[p] = (uint32_t)r;
            s->col_val[p] = s->val[e];
        }
    }
    if (s->ref) {
        size_t nr = s->n_rows ? (size_t)s->n_rows : 1;
        s->cnt = fct_calloc_array(nr, sizeof *s->cnt);
        s->agg = fct_calloc_array(nr, sizeof *s->agg);
        s->dq = fct_calloc_array(nr, sizeof *s->dq);
        s->dy = fct_calloc_array(nr, sizeof *s->dy);
        if (!s->cnt || !s->agg || !s->dq || !s->dy)
            return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for block sums");
        for (int64_t n = 0; n < eng->n; n++)
            s->cnt[s->ref[n]] += 1.0;
    }
    return FACTO_OK;
}

void fct_fm_engine_free(fct_fm_engine *eng)
{
    for (int i = 0; i < eng->n_src; i++) {
        fct_fm_src *s = &eng->src[i];
        free(s->col_slot);
        free(s->col_ptr);
        free(s->col_row);
        free(s->col_val);
        free(s->cnt);
        free(s->agg);
        free(s->dq);
        free(s->dy);
        free(s->run_ptr);
    }
    free(eng->ub);
    free(eng->col_mean);
    free(eng->col_prec);
    free(eng->col_v);
    free(eng->col_d);
    for (int i = 0; i < eng->n_brows; i++) {
        free(eng->brows[i].lin);
        free(eng->brows[i].qf);
        free(eng->brows[i].sf);
    }
    free(eng->pend_a);
    free(eng->pend_b);
    free(eng->pend_q1);
    free(eng->qn);
    free(eng->seen);
    free(eng->count);
    free(eng->z);
    free(eng->eq);
    free(eng->w);
    free(eng->V);
    free(eng->group);
    free(eng->group_size);
    free(eng->unseen);
    free(eng->mu_w);
    free(eng->lambda_w);
    free(eng->mu_v);
    free(eng->lambda_v);
}

/* ---- setting up a run ---------------------------------------------------- */

facto_status fct_fm_engine_alloc(fct_fm_engine *eng, facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                                 const fct_fm_data *train)
{
    memset(eng, 0, sizeof *eng);
    eng->ctx = ctx;
    eng->m = m;
    eng->mode = mode;
    eng->classify = m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    eng->k = m->k;
    eng->n_slots = m->n_slots;
    eng->n = train->n_rows;
    eng->labels = train->direct->labels;
    fct_rng_seed(&eng->rng, m->params.seed);
    const size_t NS = eng->n_slots ? (size_t)eng->n_slots : 1;
    eng->eq = fct_calloc_array((size_t)eng->n, sizeof *eng->eq);
    eng->w = fct_calloc_array(NS, sizeof *eng->w);
    eng->V = fct_malloc_array(NS * (size_t)eng->k, sizeof *eng->V);
    eng->group = fct_calloc_array(NS, sizeof *eng->group);
    eng->seen = fct_calloc_array(NS, 1);
    eng->count = fct_malloc_array(NS, sizeof *eng->count);
    if (eng->classify)
        eng->z = fct_calloc_array((size_t)eng->n, sizeof *eng->z);
    if (!eng->eq || !eng->w || !eng->V || !eng->group || !eng->seen || !eng->count || (eng->classify && !eng->z))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the %s solver state",
                        mode == FACTO_FM_CD_ALS ? "als" : "mcmc");
    return FACTO_OK;
}

/* Prior group of every slot from train->feature_group (all 0 without). */
static facto_status fct_fm_engine_groups(fct_fm_engine *eng, const fct_fm_data *train)
{
    const fct_fm_model *m = eng->m;
    eng->n_groups = train->feature_group && train->n_groups > 0 ? train->n_groups : 1;
    if (eng->n_groups > 256)
        return fct_fail(eng->ctx, FACTO_ERR_INVALID, "%ld prior groups: at most 256", (long)eng->n_groups);
    if (train->feature_group) {
        for (int64_t s = 0; s < eng->n_slots; s++) {
            uint64_t key = m->hashed ? m->slot_keys[s] : (uint64_t)s;
            int32_t g = key < train->feature_dim ? train->feature_group[key] : 0;
            if (g < 0 || g >= eng->n_groups)
                return fct_fail(eng->ctx, FACTO_ERR_INVALID, "feature %llu: prior group %ld is not in [0, %ld)",
                                (unsigned long long)key, (long)g, (long)eng->n_groups);
            eng->group[s] = g;
        }
    }
    return FACTO_OK;
}

/* The training sources (direct rows, then each block) and their
 * transposes, the test blocks' rows (train_bidx / test_bidx [n_blocks]
 * get their index in eng->brows) and the arrays of the deferred changes. */
static facto_status fct_fm_engine_sources(fct_fm_engine *eng, const fct_fm_data *train,
                                          const uint32_t *const *train_slots, const fct_fm_data *test,
                                          const uint32_t *const *test_slots, int *train_bidx, int *test_bidx)
{
    facto_status st;
    eng->n_src = 1 + train->n_blocks;
    for (int i = 0; i < eng->n_src; i++) {
        fct_fm_src *s = &eng->src[i];
        if (i == 0) {
            s->n_rows = eng->n;
            s->row_ptr = train->direct->row_ptr;
            s->val = train->direct->values;
            s->brows = -1;
        } else {
            const fct_fm_block *b = &train->block[i - 1];
            s->n_rows = b->rows->n_rows;
            s->row_ptr = b->rows->row_ptr;
            s->val = b->rows->values;
            s->ref = b->ref;
            s->brows = fct_fm_brows_get(eng, b->rows, train_slots[i]);
            train_bidx[i - 1] = s->brows;
            if (s->brows < 0)
                return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for block caches");
        }
        s->slot = train_slots[i];
        if ((st = fct_fm_src_build(eng, s, eng->seen, eng->count)) != FACTO_OK)
            return st;
    }
    for (int b = 0; test && b < test->n_blocks; b++) {
        test_bidx[b] = fct_fm_brows_get(eng, test->block[b].rows, test_slots[1 + b]);
        if (test_bidx[b] < 0)
            return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for block caches");
    }
    if (eng->n_src > 1) {
        size_t nr = eng->src[eng->n_src - 1].n_rows ? (size_t)eng->src[eng->n_src - 1].n_rows : 1;
        eng->pend_a = fct_calloc_array(nr, sizeof *eng->pend_a);
        eng->pend_b = fct_calloc_array(nr, sizeof *eng->pend_b);
        eng->pend_q1 = fct_calloc_array(eng->src[1].n_rows ? (size_t)eng->src[1].n_rows : 1, sizeof *eng->pend_q1);
        if (!eng->pend_a || !eng->pend_b || !eng->pend_q1)
            return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for block sums");
    }
    if (eng->n_src == 1 && !(eng->qn = fct_calloc_array((size_t)eng->n, sizeof *eng->qn)))
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for the rows' q");
    return FACTO_OK;
}

/* Group sizes (slots seen in training), the unseen slots and the
 * hyperparameter arrays [G] and [G, k]. */
static facto_status fct_fm_engine_hyper(fct_fm_engine *eng)
{
    eng->group_size = fct_calloc_array((size_t)eng->n_groups, sizeof *eng->group_size);
    int64_t n_unseen = 0;
    for (int64_t s = 0; s < eng->n_slots; s++)
        n_unseen += !eng->seen[s];
    eng->unseen = fct_malloc_array(n_unseen ? (size_t)n_unseen : 1, sizeof *eng->unseen);
    eng->mu_w = fct_calloc_array((size_t)eng->n_groups, sizeof *eng->mu_w);
    eng->lambda_w = fct_calloc_array((size_t)eng->n_groups, sizeof *eng->lambda_w);
    eng->mu_v = fct_calloc_array((size_t)eng->n_groups * (size_t)eng->k, sizeof *eng->mu_v);
    eng->lambda_v = fct_calloc_array((size_t)eng->n_groups * (size_t)eng->k, sizeof *eng->lambda_v);
    if (!eng->group_size || !eng->unseen || !eng->mu_w || !eng->lambda_w || !eng->mu_v || !eng->lambda_v)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for hyperparameters");
    for (int64_t s = 0; s < eng->n_slots; s++) {
        if (eng->seen[s])
            eng->group_size[eng->group[s]]++;
        else
            eng->unseen[eng->n_unseen++] = (uint32_t)s;
    }
    return FACTO_OK;
}

/* Start as libFM does: w0 = w = 0, V ~ N(0, init_stdev^2) on the slots seen
 * in training (0 elsewhere); fixed precisions from the *_wd settings for
 * ALS, lambda = 1 and mu = 0 for MCMC. */
static void fct_fm_engine_start(fct_fm_engine *eng)
{
    const facto_fm_params *P = &eng->m->params;
    eng->alpha = 1.0;
    if (eng->mode == FACTO_FM_CD_ALS) {
        eng->lambda0 = P->bias_wd;
        for (int32_t g = 0; g < eng->n_groups; g++) {
            eng->lambda_w[g] = P->linear_wd;
            for (int32_t f = 0; f < eng->k; f++)
                eng->lambda_v[g * eng->k + f] = P->factors_wd;
        }
    } else {
        eng->lambda0 = 0.0;
        for (int32_t g = 0; g < eng->n_groups; g++) {
            eng->lambda_w[g] = 1.0;
            for (int32_t f = 0; f < eng->k; f++)
                eng->lambda_v[g * eng->k + f] = 1.0;
        }
    }
    for (int32_t f = 0; f < eng->k; f++)
        for (int64_t s = 0; s < eng->n_slots; s++)
            eng->V[(int64_t)f * eng->n_slots + s] = eng->seen[s] ? P->init_stdev * fct_rng_normal(&eng->rng) : 0.0;
}

facto_status fct_fm_engine_build(fct_fm_engine *eng, const fct_fm_data *train, const uint32_t *const *train_slots,
                                 const fct_fm_data *test, const uint32_t *const *test_slots, int *train_bidx,
                                 int *test_bidx)
{
    facto_status st = fct_fm_engine_groups(eng, train);
    if (st == FACTO_OK)
        st = fct_fm_engine_sources(eng, train, train_slots, test, test_slots, train_bidx, test_bidx);
    if (st == FACTO_OK)
        st = fct_fm_engine_hyper(eng);
    if (st == FACTO_OK)
        fct_fm_engine_start(eng);
    return st;
}

/* ---- threads within a factor ---------------------------------------------- */

/* 20M rows: on 2 cores, a 2M-rating MCMC run (k 32, one chain) was 1.08x
 * slower in wall time and took 1.22x the CPU on 2 threads than on one
 * (quiet machine, 3 alternating runs): the per-run barriers cost more than
 * the work between them at that size. Larger data amortise them; the
 * threaded sweep is unmeasured there. */
int64_t fct_fm_par_min_rows = 20000000, fct_fm_par_min_nnz = 50000;

/* Cut the columns of block source s into runs that share no block row
 * (greedy, in column order; mark [n_rows] scratch). */
static facto_status fct_fm_src_runs(fct_fm_engine *eng, fct_fm_src *s, int64_t *mark)
{
    s->run_ptr = fct_malloc_array((size_t)s->n_cols + 1, sizeof *s->run_ptr);
    if (!s->run_ptr)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for column runs");
    for (int64_t j = 0; j < s->n_rows; j++)
        mark[j] = -1;
    int64_t nr = 0;
    s->run_ptr[0] = 0;
    for (int64_t c = 0; c < s->n_cols; c++) {
        int clash = 0;
        for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1] && !clash; p++)
            clash = mark[s->col_row[p]] == nr;
        if (clash)
            s->run_ptr[++nr] = c;
        for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++)
            mark[s->col_row[p]] = nr;
    }
    s->run_ptr[++nr] = s->n_cols;
    s->n_runs = s->n_cols ? nr : 0;
    return FACTO_OK;
}

/* Pair form: rows grouped by user? Then the user cuts. */
static facto_status fct_fm_pair_cuts(fct_fm_engine *eng, int T)
{
    const int64_t N = eng->n, NU = eng->src[1].n_rows;
    const int32_t *r1 = eng->src[1].ref;
    uint8_t *done = fct_calloc_array(NU ? (size_t)NU : 1, 1);
    if (!done)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for row cuts");
    int grouped = 1;
    for (int64_t n = 0; n < N && grouped; n++) {
        if (n > 0 && r1[n] == r1[n - 1])
            continue;
        grouped = !done[r1[n]];
        done[r1[n]] = 1;
    }
    free(done);
    if (!grouped)
        return FACTO_OK;
    if (!(eng->ub = fct_malloc_array((size_t)T + 1, sizeof *eng->ub)))
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for row cuts");
    /* near t N / T, moved forward to the start of a user's rows */
    eng->ub[0] = 0;
    for (int t = 1; t <= T; t++) {
        int64_t n = t == T ? N : N * t / T;
        if (n < eng->ub[t - 1])
            n = eng->ub[t - 1];
        while (n > 0 && n < N && r1[n] == r1[n - 1])
            n++;
        eng->ub[t] = n;
    }
    eng->pair_par = 1;
    return FACTO_OK;
}

facto_status fct_fm_engine_threads(fct_fm_engine *eng, int nthreads)
{
    eng->nthreads = nthreads > 1 ? nthreads : 1;
    if (eng->nthreads == 1 || eng->n_src < 2)
        return FACTO_OK;
    int64_t most = 0, nr = 0;
    for (int b = 1; b < eng->n_src; b++) {
        most = eng->src[b].n_cols > most ? eng->src[b].n_cols : most;
        nr = eng->src[b].n_rows > nr ? eng->src[b].n_rows : nr;
    }
    int64_t *mark = fct_malloc_array(nr ? (size_t)nr : 1, sizeof *mark);
    eng->col_mean = fct_malloc_array(most ? (size_t)most : 1, sizeof(double));
    eng->col_prec = fct_malloc_array(most ? (size_t)most : 1, sizeof(double));
    eng->col_v = fct_malloc_array(most ? (size_t)most : 1, sizeof(double));
    eng->col_d = fct_malloc_array(most ? (size_t)most : 1, sizeof(double));
    facto_status st = FACTO_OK;
    if (!mark || !eng->col_mean || !eng->col_prec || !eng->col_v || !eng->col_d)
        st = fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for column runs");
    for (int b = 1; st == FACTO_OK && b < eng->n_src; b++)
        st = fct_fm_src_runs(eng, &eng->src[b], mark);
    free(mark);
    if (st == FACTO_OK && eng->n_src == 3 && eng->src[0].n_cols == 0 && eng->n >= fct_fm_par_min_rows)
        st = fct_fm_pair_cuts(eng, eng->nthreads);
    return st;
}

/* q_f of every row of block rows b, and sum_i (v_if x_i)^2 when with_sq. */
void fct_fm_brows_factor(fct_fm_engine *eng, fct_fm_brows *b, const double *vf, int with_sq)
{
    (void)eng;
    const facto_rows *r = b->rows;
    const uint32_t *sl = b->slots;
    const float *x = r->values;
    for (int64_t j = 0; j < r->n_rows; j++) {
        double q = 0.0, s2 = 0.0;
        for (int64_t e = r->row_ptr[j]; e < r->row_ptr[j + 1]; e++) {
            if (sl[e] == FACTO_FM_NO_SLOT)
                continue;
            double t = vf[sl[e]] * x[e];
            q += t;
            s2 += t * t;
        }
        b->qf[j] = q;
        if (with_sq)
            b->sf[j] = s2;
    }
}

/* ---- prediction with the engine's parameters, factor by factor --------- */

/* Add the factor-f pairwise part of y^ of data d into out[n] (after
 * fct_fm_brows_factor ran for d's blocks with the final v_f). */
static void fct_fm_add_factor(fct_fm_engine *eng, const fct_fm_data *d, const uint32_t *const *slots,
                                const int *bidx, const double *vf, double *out)
{
    const facto_rows *r = d->direct;
    for (int64_t n = 0; n < d->n_rows; n++) {
        double q = 0.0, s2 = 0.0;
        if (r) {
            for (int64_t e = r->row_ptr[n]; e < r->row_ptr[n + 1]; e++) {
                uint32_t sl = slots[0][e];
                if (sl == FACTO_FM_NO_SLOT)
                    continue;
                double t = vf[sl] * r->values[e];
                q += t;
                s2 += t * t;
            }
        }
        for (int b = 0; b < d->n_blocks; b++) {
            const fct_fm_brows *br = &eng->brows[bidx[b]];
            int32_t j = d->block[b].ref[n];
            q += br->qf[j];
            s2 += br->sf[j];
        }
        out[n] += 0.5 * (q * q - s2);
    }
}

/* w0 + linear part of y^ of data d into out[n] (after the brows' lin). */
static void fct_fm_set_linear(fct_fm_engine *eng, const fct_fm_data *d, const uint32_t *const *slots,
                                const int *bidx, double *out)
{
    const facto_rows *r = d->direct;
    for (int64_t n = 0; n < d->n_rows; n++) {
        double y = eng->w0;
        if (r) {
            for (int64_t e = r->row_ptr[n]; e < r->row_ptr[n + 1]; e++) {
                uint32_t sl = slots[0][e];
                if (sl != FACTO_FM_NO_SLOT)
                    y += eng->w[sl] * r->values[e];
            }
        }
        for (int b = 0; b < d->n_blocks; b++)
            y += eng->brows[bidx[b]].lin[d->block[b].ref[n]];
        out[n] = y;
    }
}

/* Full y^ of up to two data sets (train resync, test) with the current
 * parameters: O(k (nnz(direct) + sum_B nnz(B) + n n_blocks)). */
void fct_fm_predict_sets(fct_fm_engine *eng, int nd, const fct_fm_data *const *d,
                           const uint32_t *const *const *slots, const int *const *bidx, double *const *out)
{
    /* linear parts */
    for (int i = 0; i < eng->n_brows; i++) {
        fct_fm_brows *b = &eng->brows[i];
        const facto_rows *r = b->rows;
        for (int64_t j = 0; j < r->n_rows; j++) {
            double lin = 0.0;
            for (int64_t e = r->row_ptr[j]; e < r->row_ptr[j + 1]; e++)
                if (b->slots[e] != FACTO_FM_NO_SLOT)
                    lin += eng->w[b->slots[e]] * r->values[e];
            b->lin[j] = lin;
        }
    }
    for (int i = 0; i < nd; i++)
        fct_fm_set_linear(eng, d[i], slots[i], bidx[i], out[i]);
    for (int32_t f = 0; f < eng->k; f++) {
        const double *vf = eng->V + (int64_t)f * eng->n_slots;
        for (int i = 0; i < eng->n_brows; i++)
            fct_fm_brows_factor(eng, &eng->brows[i], vf, 1);
        for (int i = 0; i < nd; i++)
            fct_fm_add_factor(eng, d[i], slots[i], bidx[i], vf, out[i]);
    }
}

facto_status fct_fm_blocks_predict_raw(facto_ctx *ctx, const fct_fm_model *m, const fct_fm_data *d,
                                         const uint32_t *const *slots, double *out)
{
    fct_fm_engine eng;
    memset(&eng, 0, sizeof eng);
    eng.ctx = ctx;
    eng.k = m->k;
    eng.n_slots = m->n_slots;
    const size_t NS = eng.n_slots ? (size_t)eng.n_slots : 1;
    facto_status st = FACTO_OK;
    int bidx[FACTO_FM_MAX_BLOCKS];
    eng.w = fct_malloc_array(NS, sizeof *eng.w);
    eng.V = fct_malloc_array(NS * (size_t)eng.k, sizeof *eng.V);
    if (!eng.w || !eng.V) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        goto done;
    }
    eng.w0 = m->w0;
    for (int64_t s = 0; s < eng.n_slots; s++) {
        eng.w[s] = m->w[s];
        for (int32_t f = 0; f < eng.k; f++)
            eng.V[(int64_t)f * eng.n_slots + s] = m->V[s * eng.k + f];
    }
    for (int b = 0; b < d->n_blocks; b++) {
        bidx[b] = fct_fm_brows_get(&eng, d->block[b].rows, slots[1 + b]);
        if (bidx[b] < 0) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    {
        const fct_fm_data *dd[1] = {d};
        const uint32_t *const *ss[1] = {slots};
        const int *bb[1] = {bidx};
        double *oo[1] = {out};
        fct_fm_predict_sets(&eng, 1, dd, ss, bb, oo);
    }
done:
    fct_fm_engine_free(&eng);
    return st;
}
