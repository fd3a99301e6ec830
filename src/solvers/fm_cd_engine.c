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
int fct_fm_brows_get(fct_fm_engine *eng, const facto_rows *rows, const uint32_t *slots)
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
facto_status fct_fm_src_build(fct_fm_engine *eng, fct_fm_src *s, uint8_t *seen, int64_t *count)
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
    }
    for (int i = 0; i < eng->n_brows; i++) {
        free(eng->brows[i].lin);
        free(eng->brows[i].qf);
        free(eng->brows[i].sf);
    }
    free(eng->pend_a);
    free(eng->pend_b);
    free(eng->pend_q1);
    free(eng->qn);
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
