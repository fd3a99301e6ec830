/*
 * fm_mcmc_summary.c — what a run leaves in the model besides its last
 * parameters: the store of one sample (doubles to floats, the probit scale);
 * the rank-r Nystrom summary of the posterior average of V V^T (Tropp et
 * al., NIPS 2017), O(n_slots k r) per sample added and O(n_slots r^2) to
 * finish; and on ratings data the per-user / per-item sums b and q of every
 * sample, O(k nnz(blocks)) each, kept as thinned samples or as the summary
 * of their Gram matrix.
 */
#include "fm_cd_engine.h"

#include "kernels/gram.h"

#include <math.h>
#include <string.h>

/* ---- samples kept in the model ---------------------------------------- */

/* The engine's parameters as one sample (fm_cd_engine.h). O(n_slots k). */
void fct_fm_store_params(fct_fm_engine *eng, float *w0, float *w, float *V)
{
    const int64_t S = eng->n_slots;
    const int32_t k = eng->k;
    double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    double vscale = sqrt(scale);
    *w0 = (float)(scale * eng->w0);
    for (int64_t s = 0; s < S; s++)
        w[s] = (float)(scale * eng->w[s]);
    for (int32_t f = 0; f < k; f++) {
        const double *vf = eng->V + (int64_t)f * S;
        for (int64_t s = 0; s < S; s++)
            V[s * k + f] = (float)(vscale * vf[s]);
    }
}

/* ---- low-rank summary of the posterior --------------------------------- */

/*
 * The average prediction over samples s has the pairwise part
 * sum_{i<j} x_i x_j A_ij with A = mean_s V_s V_s^T [n_slots, n_slots], a PSD
 * matrix no single V reproduces (the posterior mean of V is not it: the
 * factors of different samples are not aligned). A randomized Nystrom
 * approximation (Tropp, Yurtsever, Udell & Cevher, "Fixed-rank approximation
 * of a positive-semidefinite matrix from streaming data", NIPS 2017, sec. 3)
 * keeps only Y = A Omega for a Gaussian Omega [n_slots, r], accumulated
 * sample by sample in O(n_slots k r), and ends with A ~ F F^T where
 * F = Y_nu L^-T, L L^T = Omega^T Y_nu, Y_nu = Y + nu Omega (a tiny shift
 * for stability). F becomes the model's V with r factors, and w0, w their
 * posterior means, so a plain FM of r factors predicts the posterior
 * average (up to the rank-r error) at the size of r / k samples.
 * Measured on ML-100K u1 (500 iterations): one-hot user + item rows, rank
 * 128 gives the full average's test RMSE (0.9047) at 1.3 MiB, where 16
 * thinned samples give 0.9145 at 5.5 MiB. With side or implicit features a
 * row holds many features and the rank-r error of each of its pairs adds
 * up (rank 256: 0.947 instead of 0.897 with side features), so thinned
 * samples stay the default and the summary is opt-in.
 */
void fct_fm_summary_free(fct_fm_summary *s)
{
    free(s->omega);
    free(s->y);
    free(s->t);
    memset(s, 0, sizeof *s);
}

facto_status fct_fm_summary_init(fct_fm_engine *eng, fct_fm_summary *s, int64_t n, int32_t r,
                                   uint64_t seed)
{
    size_t NS = n ? (size_t)n : 1;
    if ((size_t)r > NS) /* rank n_slots is already exact */
        r = (int32_t)NS;
    s->r = r;
    s->omega = fct_malloc_array(NS * (size_t)r, sizeof *s->omega);
    s->y = fct_calloc_array(NS * (size_t)r, sizeof *s->y);
    s->t = fct_malloc_array((size_t)eng->k * (size_t)r, sizeof *s->t);
    if (!s->omega || !s->y || !s->t)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for a rank-%ld posterior summary", (long)r);
    fct_rng rng; /* its own stream: the chain does not depend on r */
    fct_rng_seed(&rng, seed ^ 0x6a09e667f3bcc909ull);
    for (size_t i = 0; i < NS * (size_t)r; i++)
        s->omega[i] = fct_rng_normal(&rng);
    return FACTO_OK;
}

/* Y += V V^T Omega for V [k, NS] factor-major (the engine's V, or the
 * per-user / per-item sums of a ratings model). O(NS k r). */
void fct_fm_summary_add(fct_fm_engine *eng, fct_fm_summary *s, const double *V, int64_t NS)
{
    fct_gram_update(V, NS, eng->k, s->omega, s->r, s->t, s->y);
    s->n++;
}

/* F [NS, r] (64-byte aligned, owned by the caller) with F F^T ~ the mean
 * of V V^T over the samples added. */
facto_status fct_fm_summary_factor(fct_fm_engine *eng, fct_fm_summary *s, int64_t NS, float **out)
{
    const int32_t r = s->r;
    *out = NULL;
    facto_status st = FACTO_OK;
    double *c = fct_malloc_array((size_t)r * (size_t)r, sizeof *c);
    float *F = fct_aligned_alloc((size_t)(NS ? NS : 1) * (size_t)r * sizeof(float));
    if (!c || !F) {
        free(c);
        fct_aligned_free(F);
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory finishing the posterior summary");
    }
    double fro = 0.0;
    for (int64_t i = 0; i < NS * r; i++) {
        s->y[i] /= (double)s->n;
        fro += s->y[i] * s->y[i];
    }
    double nu = 1e-9 * sqrt(fro) + 1e-300;
    for (int attempt = 0; attempt < 8; attempt++, nu *= 100.0) {
        /* C = Omega^T (Y + nu Omega), symmetrised; Cholesky in place. */
        for (int32_t a = 0; a < r; a++)
            for (int32_t b = 0; b < r; b++)
                c[a * r + b] = 0.0;
        for (int64_t i = 0; i < NS; i++) {
            const double *om = s->omega + i * r, *yi = s->y + i * r;
            for (int32_t a = 0; a < r; a++) {
                double oa = om[a];
                double *ca = c + (int64_t)a * r;
                for (int32_t b = 0; b <= a; b++)
                    ca[b] += oa * (yi[b] + nu * om[b]) + om[b] * (yi[a] + nu * oa);
            }
        }
        int ok = 1;
        for (int32_t a = 0; a < r && ok; a++) {
            for (int32_t b = 0; b <= a; b++) {
                double v = 0.5 * c[a * r + b];
                if (b == a)
                    v = c[a * r + a] * 0.5;
                for (int32_t q = 0; q < b; q++)
                    v -= c[a * r + q] * c[b * r + q];
                if (b == a) {
                    if (!(v > 0.0)) {
                        ok = 0;
                        break;
                    }
                    c[a * r + a] = sqrt(v);
                } else {
                    c[a * r + b] = v / c[b * r + b];
                }
            }
        }
        if (!ok)
            continue;
        /* Row i of F solves L f = y_i + nu omega_i. */
        for (int64_t i = 0; i < NS; i++) {
            const double *om = s->omega + i * r, *yi = s->y + i * r;
            double *f = s->t; /* reuse scratch: k >= 1 rows of r, need r */
            for (int32_t a = 0; a < r; a++) {
                double v = yi[a] + nu * om[a];
                for (int32_t q = 0; q < a; q++)
                    v -= c[a * r + q] * f[q];
                f[a] = v / c[a * r + a];
            }
            for (int32_t a = 0; a < r; a++)
                F[i * r + a] = (float)f[a];
        }
        free(c);
        *out = F;
        return FACTO_OK;
    }
    st = fct_fail(eng->ctx, FACTO_ERR_INTERNAL, "posterior summary: Omega^T A Omega is not positive definite");
    free(c);
    fct_aligned_free(F);
    return st;
}

/* Turn the summary into the model's parameters: V := F [n_slots, r],
 * w0 / w := posterior means, no stored samples; the classifier's scaled as
 * fct_fm_store_params scales a sample (probit to logistic: w0, w times
 * the scale, V times its root, so F F^T times the scale). */
facto_status fct_fm_summary_finish(fct_fm_engine *eng, fct_fm_summary *s, fct_fm_model *m,
                                     double w0_mean, const double *w_sum, int n_lin)
{
    float *F = NULL;
    facto_status st = fct_fm_summary_factor(eng, s, eng->n_slots, &F);
    if (st != FACTO_OK)
        return st;
    double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    if (eng->classify) {
        float vs = (float)sqrt(scale);
        for (int64_t i = 0; i < eng->n_slots * (int64_t)s->r; i++)
            F[i] *= vs;
    }
    fct_aligned_free(m->V);
    m->V = F;
    m->k = s->r;
    m->params.num_factors = s->r;
    m->w0 = (float)(scale * w0_mean);
    for (int64_t i = 0; i < eng->n_slots; i++)
        m->w[i] = (float)(scale * w_sum[i] / n_lin);
    return FACTO_OK;
}

/* ---- per-user / per-item sums of a ratings model ----------------------- */

/*
 * A ratings model scores (u, i) as w0 + b_u + b_i + <q_u, q_i> (fm.h). Its
 * b is linear in the prediction, so the posterior mean over every
 * post-burn-in sample is exact. The pairwise part's mean is
 * mean_s <q_u^s, q_i^s> = G_ui with G = mean_s Q_s Q_s^T [nb, nb], the Gram
 * matrix of the stacked sums Q_s [nb, k]: kept either as S thinned samples
 * concatenated ([q^1 .. q^S] / sqrt(S), exact for those S, S k floats a
 * row) or as the rank-r Nystrom factor F of G (F F^T ~ G, r floats a row).
 * Every row of these data is one user and one item, so the one-hot case of
 * the feature-level summary applies whatever the blocks hold.
 */
void fct_fm_pairs_free(fct_fm_pairs *p)
{
    free(p->q);
    free(p->b);
    free(p->sum_b);
    free(p->kept);
    fct_fm_summary_free(&p->sum);
    memset(p, 0, sizeof *p);
}

/* b and q of every block row for the engine's current parameters.
 * O(k (nnz(user block) + nnz(item block))). */
static void fct_fm_pairs_compute(fct_fm_engine *eng, fct_fm_pairs *p)
{
    for (int bi = 0; bi < 2; bi++) {
        fct_fm_brows *br = &eng->brows[p->bidx[bi]];
        const facto_rows *r = br->rows;
        int64_t off = bi ? p->off1 : 0;
        for (int64_t j = 0; j < r->n_rows; j++) {
            double lin = 0.0;
            for (int64_t e = r->row_ptr[j]; e < r->row_ptr[j + 1]; e++)
                if (br->slots[e] != FACTO_FM_NO_SLOT)
                    lin += eng->w[br->slots[e]] * r->values[e];
            p->b[off + j] = lin;
        }
    }
    for (int32_t f = 0; f < eng->k; f++) {
        const double *vf = eng->V + (int64_t)f * eng->n_slots;
        for (int bi = 0; bi < 2; bi++) {
            fct_fm_brows *br = &eng->brows[p->bidx[bi]];
            int64_t off = bi ? p->off1 : 0;
            fct_fm_brows_factor(eng, br, vf, 1);
            for (int64_t j = 0; j < br->rows->n_rows; j++) {
                p->q[(int64_t)f * p->nb + off + j] = br->qf[j];
                p->b[off + j] += 0.5 * (br->qf[j] * br->qf[j] - br->sf[j]);
            }
        }
    }
}

/* Set up p for ratings data (block 0 users, block 1 items; bidx: their
 * engine brows) in a run of T iterations after `burnin`: MCMC keeps a
 * rank-r summary (params.summary_rank, -1 = 256) or thinned samples of q
 * (summary_rank 0); ALS only the last parameters. FACTO_ERR_NOMEM. */
facto_status fct_fm_pairs_init(fct_fm_engine *eng, fct_fm_pairs *p, const fct_fm_data *train, const int *bidx,
                               int T, int burnin)
{
    const facto_fm_params *P = &eng->m->params;
    p->off1 = train->block[0].rows->n_rows;
    p->nb = p->off1 + train->block[1].rows->n_rows;
    p->bidx[0] = bidx[0];
    p->bidx[1] = bidx[1];
    p->q = fct_malloc_array((size_t)p->nb * (size_t)eng->k, sizeof *p->q);
    p->b = fct_malloc_array((size_t)p->nb, sizeof *p->b);
    p->sum_b = fct_calloc_array((size_t)p->nb, sizeof *p->sum_b);
    if (!p->q || !p->b || !p->sum_b)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for per-user and per-item sums");
    int rank = P->summary_rank < 0 ? 256 : P->summary_rank;
    if (eng->mode == FACTO_FM_CD_MCMC && rank > 0) {
        if (rank > p->nb)
            rank = (int)p->nb;
        return fct_fm_summary_init(eng, &p->sum, p->nb, rank, P->seed);
    } else if (eng->mode == FACTO_FM_CD_MCMC) {
        p->keep = P->mcmc_samples > 0 ? P->mcmc_samples : 1;
        if (p->keep > T - burnin)
            p->keep = T - burnin;
        p->kept = fct_malloc_array((size_t)p->keep * (size_t)p->nb * (size_t)eng->k, sizeof *p->kept);
        if (!p->kept)
            return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for %d posterior samples", p->keep);
    }
    return FACTO_OK;
}

/* Add the engine's current parameters, post-burn-in iteration `it` of T,
 * to p: b and w0 always, q into the summary every sum_every-th iteration
 * counted back from T, or as one of p->keep thinned samples.
 * O(k nnz(blocks)) + O(nb k r) when the summary takes it. */
void fct_fm_pairs_add(fct_fm_engine *eng, fct_fm_pairs *p, int T, int it, int burnin, int sum_every)
{
    fct_fm_pairs_compute(eng, p);
    for (int64_t j = 0; j < p->nb; j++)
        p->sum_b[j] += p->b[j];
    p->sum_w0 += eng->w0;
    p->n++;
    /* about 100 samples spread over the chain: each add costs
     * O(nb k r) (~4 ms on ML-100K at r 256, k 32, AVX2); fewer samples
     * lose accuracy on short chains (100 iterations, every 5th:
     * saved 0.9116 against the chain's 0.9093; every one: 0.9098) */
    if (p->sum.r > 0 && (T - it) % sum_every == 0)
        fct_fm_summary_add(eng, &p->sum, p->q, p->nb);
    int pthin = p->keep > 0 ? (T - burnin) / p->keep : 1;
    if (pthin < 1)
        pthin = 1;
    if (p->keep > 0 && (T - it) % pthin == 0 && (T - it) / pthin < p->keep && p->n_kept < p->keep) {
        float *dst = p->kept + (size_t)p->n_kept++ * (size_t)p->nb * (size_t)eng->k;
        for (int64_t j = 0; j < p->nb; j++)
            for (int32_t f = 0; f < eng->k; f++)
                dst[j * eng->k + f] = (float)p->q[(int64_t)f * p->nb + j];
    }
}

/* Write the model's pair part: users = block rows [0, U), items = block
 * rows [off1, off1 + I); the empty rows for unknown ids are left out. */
facto_status fct_fm_pairs_finish(fct_fm_engine *eng, fct_fm_pairs *p, fct_fm_model *m)
{
    const int64_t U = p->off1 - 1, I = p->nb - p->off1 - 1;
    const int32_t k = eng->k;
    double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    int32_t pk;
    float *F = NULL;
    if (p->n == 0) { /* ALS, or no sample after burn-in: the last parameters */
        fct_fm_pairs_compute(eng, p);
        for (int64_t j = 0; j < p->nb; j++)
            p->sum_b[j] = p->b[j];
        p->sum_w0 = eng->w0;
        p->n = 1;
        pk = k;
    } else if (p->sum.r > 0 && p->sum.n > 0) {
        facto_status st = fct_fm_summary_factor(eng, &p->sum, p->nb, &F);
        if (st != FACTO_OK)
            return st;
        pk = p->sum.r;
    } else {
        pk = p->n_kept > 0 ? p->n_kept * k : k;
    }
    if (pk < 1)
        pk = 1;
    m->n_users = (int32_t)U;
    m->n_items = (int32_t)I;
    m->pair_k = pk;
    size_t rows = (size_t)(U + I) ? (size_t)(U + I) : 1;
    m->pair_b = fct_malloc_array(rows, sizeof *m->pair_b);
    m->pair_q = fct_aligned_alloc(rows * (size_t)pk * sizeof(float));
    if (!m->pair_b || !m->pair_q) {
        fct_aligned_free(F);
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for %lld per-user and per-item sums",
                          (long long)(U + I));
    }
    m->pair_w0 = (float)(scale * p->sum_w0 / (double)p->n);
    double vs = sqrt(scale), cs = p->n_kept > 0 ? vs / sqrt((double)p->n_kept) : vs;
    for (int64_t r = 0; r < U + I; r++) {
        int64_t j = r < U ? r : p->off1 + (r - U);
        m->pair_b[r] = (float)(scale * p->sum_b[j] / (double)p->n);
        float *out = m->pair_q + r * pk;
        if (F) {
            for (int32_t c = 0; c < pk; c++)
                out[c] = (float)(vs * F[j * pk + c]);
        } else if (p->n_kept > 0) {
            for (int t = 0; t < p->n_kept; t++)
                for (int32_t f = 0; f < k; f++)
                    out[t * k + f] = (float)(cs * p->kept[((size_t)t * (size_t)p->nb + (size_t)j) * (size_t)k + f]);
        } else {
            for (int32_t f = 0; f < k; f++)
                out[f] = (float)(vs * p->q[(int64_t)f * p->nb + j]);
        }
    }
    fct_aligned_free(F);
    return FACTO_OK;
}
