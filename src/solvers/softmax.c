/*
 * softmax.c — the multi-label softmax cross-entropy and its gradients for a
 * batch of users, full and sampled with the logQ correction, and the
 * mini-batch epochs that step the factor model with them (softmax.h).
 * Products of blocks go through OpenBLAS (kernels/blas.h), per-row work
 * through OpenMP loops; sums of exponentials in double.
 */
#include "softmax.h"

#include "kernels/blas.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* ---- scratch ------------------------------------------------------------------ */

static float *fct_softmax_floats(size_t n) { return fct_aligned_alloc((n ? n : 1) * sizeof(float)); }

void fct_softmax_work_free(fct_softmax_work *w)
{
    if (!w)
        return;
    fct_aligned_free(w->Ub);
    fct_aligned_free(w->Vc);
    fct_aligned_free(w->Z);
    fct_aligned_free(w->Gc);
    fct_aligned_free(w->gbc);
    fct_aligned_free(w->gU);
    fct_aligned_free(w->gV);
    fct_aligned_free(w->gb);
    free(w->rows);
    free(w->off);
    free(w->slot);
    free(w->dzp);
    free(w->t_excl);
    free(w->t_z);
    free(w->t_pos);
    free(w);
}

fct_softmax_work *fct_softmax_work_new(int32_t k, int32_t n_items, int32_t max_batch, int sampled, int32_t S,
                                       int64_t max_pos, int n_threads)
{
    fct_softmax_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    const int nt = n_threads > 0 ? n_threads : 1;
    w->k = k;
    w->n_items = n_items;
    w->max_batch = max_batch;
    w->max_cols = sampled ? S : n_items;
    w->max_pos = max_pos > 0 ? max_pos : 1;
    w->n_threads = nt;
    const size_t kk = (size_t)k, B = (size_t)max_batch, C = (size_t)w->max_cols;
    w->Ub = fct_softmax_floats(B * kk);
    w->Z = fct_softmax_floats(B * C);
    w->gU = fct_softmax_floats(B * kk);
    w->rows = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *w->rows);
    w->off = fct_malloc_array(B ? B : 1, sizeof *w->off);
    int ok = w->Ub && w->Z && w->gU && w->rows && w->off;
    if (sampled) {
        w->Vc = fct_softmax_floats(C * kk);
        w->Gc = fct_softmax_floats(C * kk);
        w->gbc = fct_softmax_floats(C);
        w->slot = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *w->slot);
        w->t_excl = fct_malloc_array((size_t)nt * (size_t)w->max_pos, sizeof *w->t_excl);
        w->t_z = fct_malloc_array((size_t)nt * (size_t)w->max_pos, sizeof *w->t_z);
        w->t_pos = fct_malloc_array((size_t)nt * (C ? C : 1), sizeof *w->t_pos);
        ok = ok && w->Vc && w->Gc && w->gbc && w->slot && w->t_excl && w->t_z && w->t_pos;
        for (int32_t i = 0; ok && i < n_items; i++)
            w->slot[i] = -1;
        /* rows: the samples plus the positives of a batch; grown on demand */
        w->rows_cap = 0;
    } else {
        w->rows_cap = n_items;
        w->gV = fct_softmax_floats((size_t)n_items * kk);
        w->gb = fct_softmax_floats((size_t)n_items);
        ok = ok && w->gV && w->gb;
    }
    if (!ok) {
        fct_softmax_work_free(w);
        return NULL;
    }
    return w;
}

/* Room for `rows` gradient rows (sampled). 0, or -1 when out of memory. */
static int fct_softmax_rows_reserve(fct_softmax_work *w, int64_t rows)
{
    if (rows > w->n_items)
        rows = w->n_items;
    if (rows <= w->rows_cap)
        return 0;
    float *gV = fct_softmax_floats((size_t)rows * (size_t)w->k), *gb = fct_softmax_floats((size_t)rows);
    if (!gV || !gb) {
        fct_aligned_free(gV);
        fct_aligned_free(gb);
        return -1;
    }
    fct_aligned_free(w->gV);
    fct_aligned_free(w->gb);
    w->gV = gV;
    w->gb = gb;
    w->rows_cap = (int32_t)rows;
    return 0;
}

/* The batch's user rows into Ub. */
static void fct_softmax_gather_users(const fct_factors_model *m, const fct_softmax_batch *bt, fct_softmax_work *w)
{
    const size_t k = (size_t)m->k;
    for (int32_t r = 0; r < bt->n; r++)
        memcpy(w->Ub + (size_t)r * k, m->U + (size_t)bt->users[r] * k, k * sizeof(float));
}

/* ---- full softmax ------------------------------------------------------------- */

int fct_softmax_full(const fct_factors_model *m, const fct_softmax_batch *bt, fct_softmax_work *w, double *out)
{
    const int32_t n = m->n_items, B = bt->n, k = m->k;
    if (B > w->max_batch || n != w->max_cols || !w->gV)
        return -1;
    fct_softmax_gather_users(m, bt, w);
    float *Z = w->Z;
    fct_sgemm_nt(B, n, k, w->Ub, k, m->V, k, Z, n);
    double loss = 0.0;
#pragma omp parallel for num_threads(w->n_threads) schedule(static) reduction(+ : loss)
    for (int32_t r = 0; r < B; r++) {
        float *z = Z + (size_t)r * (size_t)n;
        if (m->item_bias)
            for (int32_t j = 0; j < n; j++)
                z[j] += m->item_bias[j];
        const int64_t b = bt->row_ptr[bt->users[r]], np = bt->row_ptr[bt->users[r] + 1] - b;
        const int32_t *pos = bt->items + b;
        double mx = -INFINITY, sum = 0.0, spos = 0.0;
        for (int32_t j = 0; j < n; j++)
            mx = z[j] > mx ? z[j] : mx;
        for (int32_t j = 0; j < n; j++)
            sum += exp((double)z[j] - mx);
        const double lse = mx + log(sum);
        for (int64_t q = 0; q < np; q++)
            spos += z[pos[q]];
        loss += (double)np * lse - spos;
        for (int32_t j = 0; j < n; j++)
            z[j] = (float)((double)np * exp((double)z[j] - lse));
        for (int64_t q = 0; q < np; q++)
            z[pos[q]] -= 1.0f;
    }
    /* d U_B = dZ V [B, k];  d V = dZ^T U_B [n, k];  d b = column sums of dZ */
    fct_sgemm(0, 0, B, k, n, 1.0f, Z, n, m->V, k, 0.0f, w->gU, k);
    fct_sgemm(1, 0, n, k, B, 1.0f, Z, n, w->Ub, k, 0.0f, w->gV, k);
#pragma omp parallel for num_threads(w->n_threads) schedule(static)
    for (int32_t j = 0; j < n; j++) {
        float s = 0.0f;
        for (int32_t r = 0; r < B; r++)
            s += Z[(size_t)r * (size_t)n + (size_t)j];
        w->gb[j] = s;
        w->rows[j] = j;
    }
    w->n_rows = n;
    *out = loss;
    return 0;
}

/* ---- sampled softmax with the logQ correction ------------------------------------ */

/* The slot of item i in w's gradient rows, added (zeroed) when new. */
static int32_t fct_softmax_slot(fct_softmax_work *w, int32_t i)
{
    int32_t t = w->slot[i];
    if (t < 0) {
        t = w->n_rows++;
        w->slot[i] = t;
        w->rows[t] = i;
        memset(w->gV + (size_t)t * (size_t)w->k, 0, (size_t)w->k * sizeof(float));
        w->gb[t] = 0.0f;
    }
    return t;
}

int fct_softmax_sampled(const fct_factors_model *m, const fct_softmax_batch *bt, int32_t S, const int32_t *samples,
                        const float *corr, fct_softmax_work *w, double *out)
{
    const int32_t B = bt->n, k = m->k;
    if (B > w->max_batch || S > w->max_cols || !w->slot)
        return -1;
    int64_t n_pos = 0;
    for (int32_t r = 0; r < B; r++) {
        const int64_t np = bt->row_ptr[bt->users[r] + 1] - bt->row_ptr[bt->users[r]];
        if (np > w->max_pos)
            return -1;
        w->off[r] = n_pos;
        n_pos += np;
    }
    if (n_pos > w->dzp_cap) {
        double *d = realloc(w->dzp, (size_t)n_pos * sizeof *d);
        if (!d)
            return -1;
        w->dzp = d;
        w->dzp_cap = n_pos;
    }
    if (fct_softmax_rows_reserve(w, (int64_t)S + n_pos) != 0)
        return -1;
    fct_softmax_gather_users(m, bt, w);
    for (int32_t s = 0; s < S; s++)
        memcpy(w->Vc + (size_t)s * (size_t)k, m->V + (size_t)samples[s] * (size_t)k, (size_t)k * sizeof(float));
    float *Z = w->Z;
    fct_sgemm_nt(B, S, k, w->Ub, k, w->Vc, k, Z, S);
    double loss = 0.0;
#pragma omp parallel for num_threads(w->n_threads) schedule(static) reduction(+ : loss)
    for (int32_t r = 0; r < B; r++) {
        const int t = omp_get_thread_num();
        double *excl = w->t_excl + (size_t)t * (size_t)w->max_pos, *zp = w->t_z + (size_t)t * (size_t)w->max_pos;
        int64_t *at = w->t_pos + (size_t)t * (size_t)w->max_cols;
        const int32_t u = bt->users[r];
        const int64_t b = bt->row_ptr[u], np = bt->row_ptr[u + 1] - b;
        const int64_t off = w->off[r]; /* positives of the users before r */
        const int32_t *pos = bt->items + b;
        float *z = Z + (size_t)r * (size_t)S;
        const float *pu = w->Ub + (size_t)r * (size_t)k;
        double mx = -INFINITY;
        for (int32_t s = 0; s < S; s++) {
            z[s] += (m->item_bias ? m->item_bias[samples[s]] : 0.0f) - corr[s];
            mx = z[s] > mx ? z[s] : mx;
        }
        for (int64_t q = 0; q < np; q++) {
            const int32_t i = pos[q];
            zp[q] = (double)((m->item_bias ? m->item_bias[i] : 0.0f) + fct_dot(pu, m->V + (size_t)i * (size_t)k, k));
            mx = zp[q] > mx ? zp[q] : mx;
            excl[q] = 0.0;
        }
        /* T = sum_s e^{z_s - mx}; each positive's own drawn copies apart */
        double T = 0.0;
        for (int32_t s = 0; s < S; s++) {
            const double e = exp((double)z[s] - mx);
            T += e;
            at[s] = fct_sorted_find(pos, np, samples[s]);
            if (at[s] >= 0)
                excl[at[s]] += e;
        }
        double R = 0.0;
        for (int64_t q = 0; q < np; q++) {
            const double rest = T - excl[q], ep = exp(zp[q] - mx);
            const double Zq = ep + (rest > 0.0 ? rest : 0.0);
            loss += mx + log(Zq) - zp[q];
            w->dzp[off + q] = ep / Zq - 1.0;
            excl[q] = 1.0 / Zq; /* from here on: 1 / Z_q */
            R += excl[q];
        }
        for (int32_t s = 0; s < S; s++) {
            const double e = exp((double)z[s] - mx);
            z[s] = (float)(e * (R - (at[s] >= 0 ? excl[at[s]] : 0.0)));
        }
    }
    /* d U_B = dZ Vc + positives' share;  d Vc = dZ^T U_B;  d b_c = column sums */
    fct_sgemm(0, 0, B, k, S, 1.0f, Z, S, w->Vc, k, 0.0f, w->gU, k);
    fct_sgemm(1, 0, S, k, B, 1.0f, Z, S, w->Ub, k, 0.0f, w->Gc, k);
    for (int32_t s = 0; s < S; s++) {
        float c = 0.0f;
        for (int32_t r = 0; r < B; r++)
            c += Z[(size_t)r * (size_t)S + (size_t)s];
        w->gbc[s] = c;
    }
    /* Scatter into the touched rows (serial: rows are shared). */
    w->n_rows = 0;
    for (int32_t s = 0; s < S; s++) {
        const int32_t t = fct_softmax_slot(w, samples[s]);
        fct_axpy(1.0f, w->Gc + (size_t)s * (size_t)k, w->gV + (size_t)t * (size_t)k, k);
        w->gb[t] += w->gbc[s];
    }
    int64_t off = 0;
    for (int32_t r = 0; r < B; r++) {
        const int32_t u = bt->users[r];
        const int64_t b = bt->row_ptr[u], np = bt->row_ptr[u + 1] - b;
        float *gu = w->gU + (size_t)r * (size_t)k;
        const float *pu = w->Ub + (size_t)r * (size_t)k;
        for (int64_t q = 0; q < np; q++) {
            const int32_t i = bt->items[b + q];
            const float d = (float)w->dzp[off + q];
            const int32_t t = fct_softmax_slot(w, i);
            fct_axpy(d, m->V + (size_t)i * (size_t)k, gu, k);
            fct_axpy(d, pu, w->gV + (size_t)t * (size_t)k, k);
            w->gb[t] += d;
        }
        off += np;
    }
    for (int32_t t = 0; t < w->n_rows; t++)
        w->slot[w->rows[t]] = -1;
    *out = loss;
    return 0;
}

/* ---- training ---------------------------------------------------------------------- */

struct fct_softmax_solver {
    fct_softmax_cfg cfg;
    fct_factors_model *m;
    const int64_t *row_ptr;
    const int32_t *items;
    int64_t *order;     /* [n_users] the epoch's order of users */
    int32_t *batch;     /* [batch_size] */
    int32_t *samples;   /* [S] */
    float *corr;        /* [S] */
    fct_negsampler pop; /* the proposal Q (sampled) */
    fct_optim opt;
    fct_optim_param U, V, b;
    fct_softmax_work *w;
};

void fct_softmax_solver_free(fct_softmax_solver *s)
{
    if (!s)
        return;
    free(s->order);
    free(s->batch);
    free(s->samples);
    free(s->corr);
    fct_negsampler_free(&s->pop);
    fct_optim_param_free(&s->U);
    fct_optim_param_free(&s->V);
    fct_optim_param_free(&s->b);
    fct_softmax_work_free(s->w);
    free(s);
}

facto_status fct_softmax_solver_new(facto_ctx *ctx, const fct_softmax_cfg *cfg, fct_factors_model *m,
                                    const facto_dataset *train, fct_softmax_solver **out)
{
    *out = NULL;
    if (cfg->batch_size < 1 || cfg->n_threads < 1 || (cfg->sampled && cfg->num_sampled < 1) ||
        train->n_users != m->n_users || train->n_items != m->n_items)
        return fct_fail(ctx, FACTO_ERR_INVALID, "softmax solver: bad configuration or data");
    fct_softmax_solver *s = calloc(1, sizeof *s);
    if (!s)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "softmax: out of memory");
    s->cfg = *cfg;
    s->m = m;
    s->row_ptr = train->row_ptr;
    s->items = train->items;
    int64_t max_pos = 1;
    for (int32_t u = 0; u < train->n_users; u++)
        max_pos = train->row_ptr[u + 1] - train->row_ptr[u] > max_pos ? train->row_ptr[u + 1] - train->row_ptr[u]
                                                                      : max_pos;
    const int32_t B = cfg->batch_size < m->n_users ? cfg->batch_size : (m->n_users > 0 ? m->n_users : 1);
    const int32_t S = cfg->sampled ? cfg->num_sampled : 0;
    fct_optim_init(&s->opt, cfg->optimizer);
    s->order = fct_malloc_array((size_t)(m->n_users > 0 ? m->n_users : 1), sizeof *s->order);
    s->batch = fct_malloc_array((size_t)B, sizeof *s->batch);
    s->samples = fct_malloc_array((size_t)(S > 0 ? S : 1), sizeof *s->samples);
    s->corr = fct_malloc_array((size_t)(S > 0 ? S : 1), sizeof *s->corr);
    s->w = fct_softmax_work_new(m->k, m->n_items, B, cfg->sampled, S, max_pos, cfg->n_threads);
    int ok = s->order && s->batch && s->samples && s->corr && s->w &&
             fct_optim_param_init(&s->U, &s->opt, m->U, m->n_users, m->k) == 0 &&
             fct_optim_param_init(&s->V, &s->opt, m->V, m->n_items, m->k) == 0 &&
             fct_optim_param_init(&s->b, &s->opt, m->item_bias, m->item_bias ? m->n_items : 0, 1) == 0;
    if (ok && cfg->sampled)
        ok = fct_negsampler_init(&s->pop, FCT_NEG_POPULARITY, m->n_items, train->items, train->n_ratings) == 0;
    if (!ok) {
        fct_softmax_solver_free(s);
        return fct_fail(ctx, FACTO_ERR_NOMEM,
                        "softmax: out of memory for the solver (batch %d users x %d %s, %d factors)", (int)B,
                        (int)(cfg->sampled ? S : m->n_items), cfg->sampled ? "samples" : "items", m->k);
    }
    *out = s;
    return FACTO_OK;
}

/* One optimizer step from the gradients in s->w for a batch of n users. */
static void fct_softmax_step(fct_softmax_solver *s, const int32_t *users, int32_t n)
{
    fct_softmax_work *w = s->w;
    fct_factors_model *m = s->m;
    const int k = m->k, nt = s->cfg.n_threads;
    fct_optim_tick(&s->opt);
    s->opt.rescale = 1.0f / (float)n;
    const fct_optim_rate rf = fct_optim_rate_of(&s->opt, s->opt.clock, s->cfg.lr, s->cfg.reg);
    fct_optim_rate rb = rf;
    rb.wd = 0.0f;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int32_t r = 0; r < n; r++)
        fct_optim_step(&s->opt, &rf, &s->U, users[r], w->gU + (size_t)r * (size_t)k);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int32_t t = 0; t < w->n_rows; t++) {
        fct_optim_step(&s->opt, &rf, &s->V, w->rows[t], w->gV + (size_t)t * (size_t)k);
        if (m->item_bias)
            fct_optim_step1(&s->opt, &rb, &s->b, w->rows[t], w->gb[t]);
    }
}

facto_status fct_softmax_epoch(facto_ctx *ctx, fct_softmax_solver *s, int epoch, double *loss, int64_t *n_pos)
{
    fct_factors_model *m = s->m;
    const int32_t nu = m->n_users, S = s->cfg.num_sampled;
    fct_rng rng;
    fct_rng_seed(&rng, s->cfg.seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)epoch));
    for (int32_t u = 0; u < nu; u++)
        s->order[u] = u;
    fct_rng_shuffle_i64(&rng, s->order, nu);
    fct_blas_set_threads(s->cfg.n_threads);
    *loss = 0.0;
    *n_pos = 0;
    for (int32_t b0 = 0; b0 < nu; b0 += s->w->max_batch) {
        const int32_t n = nu - b0 < s->w->max_batch ? nu - b0 : s->w->max_batch;
        for (int32_t r = 0; r < n; r++) {
            s->batch[r] = (int32_t)s->order[b0 + r];
            *n_pos += s->row_ptr[s->batch[r] + 1] - s->row_ptr[s->batch[r]];
        }
        const fct_softmax_batch bt = {n, s->batch, s->row_ptr, s->items};
        double l = 0.0;
        int rc;
        if (s->cfg.sampled) {
            const double log_s = log((double)S);
            for (int32_t x = 0; x < S; x++) {
                s->samples[x] = fct_negsampler_draw(&s->pop, &rng);
                s->corr[x] = (float)(log_s + fct_negsampler_log_q(&s->pop, s->samples[x]));
            }
            rc = fct_softmax_sampled(m, &bt, S, s->samples, s->corr, s->w, &l);
        } else {
            rc = fct_softmax_full(m, &bt, s->w, &l);
        }
        if (rc != 0)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "softmax: out of memory for a batch's gradients");
        *loss += l;
        fct_softmax_step(s, s->batch, n);
    }
    return FACTO_OK;
}
