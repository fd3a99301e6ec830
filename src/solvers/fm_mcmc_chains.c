/*
 * fm_mcmc_chains.c — several MCMC chains in one run: seeds, each chain's own
 * model sharing the slot map, the lockstep that lets chain 0's callbacks stop
 * every chain after the same iterations, and the pooling of their outputs
 * into chain 0's model (thinned samples concatenated, summaries merged by a
 * second Nystrom summary, w0 / w / b averaged). Chains run on up to
 * fct_threads(ctx) threads; the result does not depend on the thread count.
 * Cost: C chains of the single-chain cost, plus O(C n_slots k r) to merge.
 */
#include "fm_cd_engine.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* Chain `chain` may run iteration `it` (see fct_fm_chain_sync). */
int fct_fm_chain_may_run(fct_fm_chain_sync *sync, int chain, int it)
{
    if (!sync)
        return 1;
    if (atomic_load(&sync->failed))
        return 0;
    if (chain == 0) {
        atomic_store(&sync->started, it);
        return 1;
    }
    if (!sync->lockstep)
        return 1;
    long wait_ns = 20000;
    for (;;) {
        if (atomic_load(&sync->failed))
            return 0;
        if (atomic_load(&sync->started) >= it)
            return 1;
        if (atomic_load(&sync->done))
            return atomic_load(&sync->started) >= it;
        struct timespec ts = {0, wait_ns};
        nanosleep(&ts, NULL);
        if (wait_ns < 1000000)
            wait_ns *= 2;
    }
}

/*
 * MCMC runs params.mcmc_chains independent chains (own seeds, own starting
 * points) on up to fct_threads(ctx) threads and pools their samples: the
 * prediction is the mean over every chain's post-burn-in samples. A Gibbs
 * chain on an FM moves slowly between the posterior's modes (the factors'
 * rotations, and V's scale against lambda), and one chain's training error
 * keeps falling long after its test error has flattened, so several short
 * chains average more of the posterior than one long one. Measured on
 * ML-100K u1, side + user-implicit features, k 32, saved models over seeds
 * 1-4 (bench/fm_seeds.sh): 1 chain x 500 0.8939-0.8946, 4 chains x 250
 * (twice the CPU) 0.8915-0.8919. Chain c > 0 is seeded
 * from (seed, c); chain 0 uses the seed itself, so mcmc_chains 1 is the
 * single-chain run, byte for byte. The result does not depend on the
 * number of threads.
 */

static uint64_t fct_fm_chain_seed(uint64_t seed, int c)
{
    if (c == 0)
        return seed;
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)c; /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A model for chain c > 0: shares m's read-only slot map, owns w, V and
 * what the run allocates. Free with fct_fm_chain_model_free. */
static facto_status fct_fm_chain_model(facto_ctx *ctx, const fct_fm_model *m, fct_fm_model *c)
{
    *c = *m;
    size_t NS = m->n_slots ? (size_t)m->n_slots : 1;
    c->w = fct_aligned_alloc(NS * sizeof(float));
    c->V = fct_aligned_alloc(NS * (size_t)m->k * sizeof(float));
    c->n_samples = 0;
    c->sample_w0 = NULL;
    c->sample_w = c->sample_V = NULL;
    c->users = c->items = NULL;
    c->pair_b = c->pair_q = NULL;
    c->pair_k = 0;
    if (!c->w || !c->V)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for another MCMC chain's parameters");
    return FACTO_OK;
}

static void fct_fm_chain_model_free(fct_fm_model *c)
{
    fct_aligned_free(c->w);
    fct_aligned_free(c->V);
    free(c->sample_w0);
    fct_aligned_free(c->sample_w);
    fct_aligned_free(c->sample_V);
    free(c->pair_b);
    fct_aligned_free(c->pair_q);
    memset(c, 0, sizeof *c);
}

/*
 * F [NS, rout] with F F^T ~ (1/C) sum_c F_c F_c^T, for F_c [NS, rin]
 * row-major (each chain's summary): the Nystrom summary (fm_mcmc_summary.c)
 * applied to the chains' own summaries. *out 64-byte aligned, owned by the
 * caller.
 */
static facto_status fct_fm_lowrank_merge(facto_ctx *ctx, float *const *F, int C, int64_t NS, int32_t rin,
                                           int32_t rout, uint64_t seed, float **out, int32_t *rank)
{
    fct_fm_engine tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.ctx = ctx;
    tmp.k = rin;
    fct_fm_summary sm;
    memset(&sm, 0, sizeof sm);
    size_t ns = NS ? (size_t)NS : 1;
    double *V = fct_malloc_array(ns * (size_t)rin, sizeof *V);
    facto_status st = V ? fct_fm_summary_init(&tmp, &sm, NS, rout, seed)
                        : fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory merging MCMC chains");
    for (int c = 0; c < C && st == FACTO_OK; c++) {
        for (int64_t i = 0; i < NS; i++)
            for (int32_t a = 0; a < rin; a++)
                V[(int64_t)a * NS + i] = F[c][i * rin + a];
        fct_fm_summary_add(&tmp, &sm, V, NS);
    }
    if (st == FACTO_OK)
        st = fct_fm_summary_factor(&tmp, &sm, NS, out);
    *rank = sm.r; /* rout, or NS when smaller */
    fct_fm_summary_free(&sm);
    free(V);
    return st;
}

/* Ratings models: w0, w and the per-user / per-item b are posterior means,
 * averaged; q pooled by a second summary (summary_rank != 0) or by
 * concatenating every chain's thinned samples, each chain weighted 1/C. */
static facto_status fct_fm_merge_pairs(facto_ctx *ctx, fct_fm_model *m, fct_fm_model *const *cm, int C)
{
    const int64_t NS = m->n_slots;
    facto_status st;
    const int64_t rows = (int64_t)m->n_users + m->n_items;
    double w0 = m->w0, pw0 = m->pair_w0;
    for (int c = 1; c < C; c++) {
        w0 += cm[c]->w0;
        pw0 += cm[c]->pair_w0;
        for (int64_t s = 0; s < NS; s++)
            m->w[s] += cm[c]->w[s];
        for (int64_t r = 0; r < rows; r++)
            m->pair_b[r] += cm[c]->pair_b[r];
    }
    m->w0 = (float)(w0 / C);
    m->pair_w0 = (float)(pw0 / C);
    for (int64_t s = 0; s < NS; s++)
        m->w[s] /= (float)C;
    for (int64_t r = 0; r < rows; r++)
        m->pair_b[r] /= (float)C;
    float *F = NULL, *Fs[256];
    int32_t pk = m->pair_k;
    for (int c = 0; c < C; c++)
        Fs[c] = cm[c]->pair_q;
    if (m->params.summary_rank != 0) {
        if ((st = fct_fm_lowrank_merge(ctx, Fs, C, rows, pk, pk, m->params.seed ^ 0x3c6ef372fe94f82bull, &F,
                                       &pk)) != FACTO_OK)
            return st;
    } else { /* thinned samples: concatenate, each chain's mean weighted 1/C */
        int64_t tk = 0;
        for (int c = 0; c < C; c++)
            tk += cm[c]->pair_k;
        if (tk > INT32_MAX / 2 || !(F = fct_aligned_alloc((size_t)(rows ? rows : 1) * (size_t)tk * sizeof(float))))
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory merging MCMC chains");
        double sc = 1.0 / sqrt((double)C);
        for (int64_t r = 0; r < rows; r++) {
            float *o = F + r * tk;
            for (int c = 0; c < C; c++) {
                const float *q = cm[c]->pair_q + r * cm[c]->pair_k;
                for (int32_t a = 0; a < cm[c]->pair_k; a++)
                    *o++ = (float)(sc * q[a]);
            }
        }
        pk = (int32_t)tk;
    }
    fct_aligned_free(m->pair_q);
    m->pair_q = F;
    m->pair_k = pk;
    return FACTO_OK;
}

/* Thinned samples: concatenated; w0 / w of every sample = the pooled
 * posterior means (each chain's samples carry that chain's means). */
static facto_status fct_fm_merge_samples(facto_ctx *ctx, fct_fm_model *m, fct_fm_model *const *cm, int C)
{
    const int64_t NS = m->n_slots;
    const size_t ns = NS ? (size_t)NS : 1;
    int64_t S = 0;
    for (int c = 0; c < C; c++)
        S += cm[c]->n_samples;
    float *sw0 = fct_calloc_array((size_t)S, sizeof *sw0);
    float *sw = fct_aligned_alloc((size_t)S * ns * sizeof(float));
    float *sv = fct_aligned_alloc((size_t)S * ns * (size_t)m->k * sizeof(float));
    double *mw = fct_calloc_array(ns, sizeof *mw);
    if (!sw0 || !sw || !sv || !mw) {
        free(sw0);
        fct_aligned_free(sw);
        fct_aligned_free(sv);
        free(mw);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld pooled posterior samples", (long long)S);
    }
    double mw0 = 0.0;
    int64_t t = 0;
    for (int c = 0; c < C; c++) { /* every sample of a chain carries that chain's means */
        const fct_fm_model *x = cm[c];
        mw0 += x->sample_w0[0];
        for (int64_t s = 0; s < NS; s++)
            mw[s] += x->sample_w[s];
        memcpy(sv + (size_t)t * ns * (size_t)m->k, x->sample_V,
               (size_t)x->n_samples * ns * (size_t)m->k * sizeof(float));
        t += x->n_samples;
    }
    for (int64_t j = 0; j < S; j++) {
        sw0[j] = (float)(mw0 / C);
        for (int64_t s = 0; s < NS; s++)
            sw[(size_t)j * ns + (size_t)s] = (float)(mw[s] / C);
    }
    free(mw);
    free(m->sample_w0);
    fct_aligned_free(m->sample_w);
    fct_aligned_free(m->sample_V);
    m->sample_w0 = sw0;
    m->sample_w = sw;
    m->sample_V = sv;
    m->n_samples = (int32_t)S;
    return FACTO_OK;
}

/* Feature-level summaries: V = a summary of the chains' F, w0 / w means. */
static facto_status fct_fm_merge_summary(facto_ctx *ctx, fct_fm_model *m, fct_fm_model *const *cm, int C)
{
    const int64_t NS = m->n_slots;
    facto_status st;
    double w0 = 0.0;
    float *Fs[256], *F = NULL;
    for (int c = 0; c < C; c++) {
        w0 += cm[c]->w0;
        Fs[c] = cm[c]->V;
        for (int64_t s = 0; c > 0 && s < NS; s++)
            m->w[s] += cm[c]->w[s];
    }
    int32_t r = m->k;
    if ((st = fct_fm_lowrank_merge(ctx, Fs, C, NS, m->k, m->k, m->params.seed ^ 0x3c6ef372fe94f82bull, &F,
                                   &r)) != FACTO_OK)
        return st;
    m->k = r;
    m->params.num_factors = r;
    m->w0 = (float)(w0 / C);
    for (int64_t s = 0; s < NS; s++)
        m->w[s] /= (float)C;
    fct_aligned_free(m->V);
    m->V = F;
    return FACTO_OK;
}

/* Pool chains 1..C-1 (cm[1..C-1]) into chain 0's model m (see above);
 * feature_summary: the run kept a feature-level summary (summary_rank > 0). */
static facto_status fct_fm_chains_merge(facto_ctx *ctx, fct_fm_model *m, fct_fm_model *const *cm, int C,
                                        int feature_summary)
{
    /* The chains ran the same iterations (fct_fm_chain_sync), so their
     * outputs have one shape; the merges below rely on it. */
    for (int c = 1; c < C; c++)
        if (cm[c]->k != m->k || !cm[c]->pair_q != !m->pair_q || (m->pair_q && m->params.summary_rank != 0 &&
                                                                   cm[c]->pair_k != m->pair_k) ||
            (m->n_samples > 0) != (cm[c]->n_samples > 0))
            return fct_fail(ctx, FACTO_ERR_INTERNAL, "MCMC chain %d ended with another shape than chain 0", c);
    if (m->pair_q)
        return fct_fm_merge_pairs(ctx, m, cm, C);
    if (m->n_samples > 0)
        return fct_fm_merge_samples(ctx, m, cm, C);
    if (feature_summary)
        return fct_fm_merge_summary(ctx, m, cm, C);
    return FACTO_OK; /* mcmc_samples 0: the last sample of chain 0 */
}

/* The pooled run's result: chain 0's, with the wall time of all chains,
 * their CPU time summed, the fewest iterations any ran, and the regressor's
 * test RMSE of the mean of the chains' averages tavg [C, nt] (clipped). */
static void fct_fm_chains_result(const fct_fm_model *m, const fct_fm_data *test, const fct_fm_cd_result *cres,
                                 int C, const double *tavg, size_t nt, double wall, fct_fm_cd_result *result)
{
    *result = cres[0];
    result->seconds = wall;
    result->cpu_seconds = 0.0;
    for (int c = 0; c < C; c++) {
        result->cpu_seconds += cres[c].cpu_seconds;
        if (cres[c].iterations < result->iterations)
            result->iterations = cres[c].iterations;
    }
    result->chains = C;
    result->test_rmse_avg = NAN;
    if (test && m->params.predictor_type != FACTO_FM_BINARY_CLASSIFIER && test->n_rows > 0) {
        double s2 = 0.0;
        for (int64_t n = 0; n < test->n_rows; n++) {
            double p = 0.0;
            for (int c = 0; c < C; c++)
                p += tavg[(size_t)c * nt + (size_t)n];
            p /= C;
            p = fct_fm_clip(m, p);
            double d = p - test->direct->labels[n];
            s2 += d * d;
        }
        result->test_rmse_avg = sqrt(s2 / (double)test->n_rows);
    }
}

/* fct_fm_cd_run with params.mcmc_chains > 1 (MCMC). */
facto_status fct_fm_cd_chains(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                                const fct_fm_data *train, const uint32_t *const *train_slots,
                                const fct_fm_data *test, const uint32_t *const *test_slots,
                                const fct_fm_callbacks *callbacks, int burnin, int summary_rank,
                                fct_fm_cd_result *result)
{
    const int C = m->params.mcmc_chains;
    if (C > 256)
        return fct_fail(ctx, FACTO_ERR_INVALID, "mcmc_chains %d: at most 256", C);
    if (test && (!test->direct || !test->direct->labels))
        test = NULL;
    const facto_fm_params P = m->params;
    const int S = P.mcmc_samples;
    fct_fm_model *cm[256] = {0};
    fct_fm_model *copies = fct_calloc_array((size_t)C, sizeof *copies);
    facto_ctx *cctx[256] = {0};
    fct_fm_cd_result cres[256];
    facto_status cst[256];
    double *tavg = NULL;
    size_t nt = test && test->n_rows ? (size_t)test->n_rows : 1;
    facto_status st = FACTO_OK;
    fct_fm_chain_sync sync;
    atomic_init(&sync.started, 0);
    atomic_init(&sync.done, 0);
    atomic_init(&sync.failed, 0);
    sync.lockstep = callbacks && callbacks->on_epoch;
    atomic_int next;
    atomic_init(&next, 1);
    if (!copies || (test && !(tavg = fct_calloc_array((size_t)C * nt, sizeof *tavg)))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d MCMC chains", C);
        goto done;
    }
    for (int c = 0; c < C && st == FACTO_OK; c++) {
        cm[c] = c == 0 ? m : &copies[c];
        if (c > 0)
            st = fct_fm_chain_model(ctx, m, cm[c]);
        if (st == FACTO_OK && !(cctx[c] = facto_ctx_new()))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d MCMC chains", C);
        if (st == FACTO_OK) /* threads within a chain: what the chains leave */
            facto_ctx_set_threads(cctx[c], fct_threads(ctx) / C > 1 ? fct_threads(ctx) / C : 1);
        if (st == FACTO_OK) {
            cm[c]->params.seed = fct_fm_chain_seed(P.seed, c);
            /* mcmc_samples split over the chains, at least one each */
            int share = S / C + (c < S % C);
            cm[c]->params.mcmc_samples = S > 0 && share < 1 ? 1 : share;
        }
    }
    if (st != FACTO_OK)
        goto done;
    int nthreads = fct_threads(ctx);
    if (nthreads > C)
        nthreads = C;
    double t0 = fct_fm_now();
    /* The first thread runs chain 0 from the start (chains c > 0 may wait
     * for it, see fct_fm_chain_sync), then every thread takes the next
     * chain not yet taken. */
#pragma omp parallel num_threads(nthreads)
    {
        int c = omp_get_thread_num() == 0 ? 0 : atomic_fetch_add(&next, 1);
        while (c < C) {
            memset(&cres[c], 0, sizeof cres[c]);
            cst[c] = fct_fm_cd_chain(cctx[c], cm[c], mode, train, train_slots, test, test_slots,
                                       c == 0 ? callbacks : NULL, burnin, summary_rank, &cres[c],
                                       tavg ? tavg + (size_t)c * nt : NULL, &sync, c);
            if (cst[c] != FACTO_OK)
                atomic_store(&sync.failed, 1);
            if (c == 0)
                atomic_store(&sync.done, 1);
            c = atomic_fetch_add(&next, 1);
        }
    }
    double wall = fct_fm_now() - t0;
    for (int c = 0; c < C; c++) {
        if (cst[c] != FACTO_OK) {
            st = fct_fail(ctx, cst[c], "%s", facto_errmsg(cctx[c]));
            goto done;
        }
    }
    m->params.seed = P.seed;
    m->params.mcmc_samples = S;
    if ((st = fct_fm_chains_merge(ctx, m, cm, C, summary_rank > 0)) != FACTO_OK)
        goto done;
    if (result)
        fct_fm_chains_result(m, test, cres, C, tavg, nt, wall, result);
    fct_log(ctx, FACTO_LOG_INFO, "mcmc: %d chains of %d iterations pooled, %.3f s", C, cres[0].iterations, wall);
    st = fct_ok(ctx);
done:
    for (int c = 0; c < C; c++) {
        if (c > 0 && copies)
            fct_fm_chain_model_free(&copies[c]);
        facto_ctx_free(cctx[c]);
    }
    if (st != FACTO_OK) {
        m->params.seed = P.seed;
        m->params.mcmc_samples = S;
    }
    free(copies);
    free(tavg);
    return st;
}
