/*
 * fm_mcmc.c — the driver of MCMC and ALS for factorization machines (Rendle,
 * "Factorization Machines with libFM", ACM TIST 2012, Algorithm 2): one
 * chain runs num_iter iterations of the engine (fm_cd_sweep.c, O(k (nnz(direct)
 * + sum_B (nnz(B) + n))) each), averages the test predictions after burn-in
 * and keeps what the model stores (fm_mcmc_summary.c); fct_fm_cd_run runs one
 * chain or several (fm_mcmc_chains.c) and refuses a model that does not fit
 * floats; fct_fm_cd_run_rows takes flat feature rows (a prior group per
 * one-hot field, pair form for two fields).
 */
#include "fm_cd_engine.h"
#include "fm_solvers.h"

#include <math.h>
#include <string.h>

/* ---- one chain ----------------------------------------------------------- */

/* One chain's run: its inputs, the engine, what the model keeps and the
 * running sums over the post-burn-in iterations. */
typedef struct fct_fm_chain {
    facto_ctx *ctx;
    fct_fm_model *m;
    fct_fm_cd_mode mode;
    const fct_fm_data *train;
    const uint32_t *const *train_slots;
    const fct_fm_data *test; /* NULL when the test rows have no labels */
    const uint32_t *const *test_slots;
    const fct_fm_callbacks *callbacks;
    fct_fm_engine eng;
    int train_bidx[FACTO_FM_MAX_BLOCKS], test_bidx[FACTO_FM_MAX_BLOCKS]; /* each block's eng.brows */
    /* The plan (fct_fm_chain_plan). */
    int T;           /* iterations */
    int burnin;      /* iterations left out of every average */
    int keep, thin;  /* thinned samples in the model: the last `keep` post-burn-in iterations spaced `thin` */
    int sum_every;   /* the summaries take every sum_every-th post-burn-in iteration, about 100 in all */
    int pairs;       /* ratings data: the model keeps per-user / per-item sums (pr) */
    int track_means; /* posterior means of w0 and w are needed */
    fct_fm_summary sum; /* feature-level summary (summary_rank > 0) */
    fct_fm_pairs pr;
    /* Predictions. */
    double *pred_tr;              /* [n] y^ of the training rows (start, resync) */
    double *pred_te, *sum_te;     /* [test rows] y^ now; sum over post-burn-in samples (clipped / probit) */
    float *scores_tr, *scores_te; /* [n], [test rows] scores for the metrics */
    int n_avg;                    /* samples in sum_te */
    double test_rmse_avg;
    /* Posterior means of w0 and w: sums over n_lin post-burn-in samples. */
    double sum_w0, *sum_w; /* sum_w [n_slots] */
    int n_lin;
    double seconds, cpu_seconds; /* sweeps and sample keeping, not test scoring */
} fct_fm_chain;

static const char *fct_fm_mode_name(fct_fm_cd_mode mode)
{
    return mode == FACTO_FM_CD_ALS ? "als" : "mcmc";
}

/* The checks before anything is allocated. */
static facto_status fct_fm_chain_check(const fct_fm_chain *ch)
{
    const fct_fm_data *train = ch->train;
    if (!train->direct || !train->direct->labels)
        return fct_fail(ch->ctx, FACTO_ERR_INVALID, "training rows have no labels");
    if (train->n_rows < 1)
        return fct_fail(ch->ctx, FACTO_ERR_EMPTY, "no training rows");
    if (train->n_rows >= (int64_t)UINT32_MAX)
        return fct_fail(ch->ctx, FACTO_ERR_INVALID, "%lld training rows: the %s solver takes at most 2^32-2",
                        (long long)train->n_rows, fct_fm_mode_name(ch->mode));
    if (ch->m->n_slots >= (int64_t)UINT32_MAX)
        return fct_fail(ch->ctx, FACTO_ERR_INVALID, "too many parameter slots");
    return FACTO_OK;
}

/* Prediction buffers of the train and test rows. */
static facto_status fct_fm_chain_buffers(fct_fm_chain *ch)
{
    const size_t n = (size_t)ch->eng.n;
    ch->pred_tr = fct_malloc_array(n, sizeof *ch->pred_tr);
    ch->scores_tr = fct_malloc_array(n, sizeof *ch->scores_tr);
    if (!ch->pred_tr || !ch->scores_tr)
        return fct_fail(ch->ctx, FACTO_ERR_NOMEM, "out of memory for the %s solver state",
                        fct_fm_mode_name(ch->mode));
    if (ch->test) {
        size_t nt = ch->test->n_rows ? (size_t)ch->test->n_rows : 1;
        ch->pred_te = fct_malloc_array(nt, sizeof *ch->pred_te);
        ch->sum_te = fct_calloc_array(nt, sizeof *ch->sum_te);
        ch->scores_te = fct_malloc_array(nt, sizeof *ch->scores_te);
        if (!ch->pred_te || !ch->sum_te || !ch->scores_te)
            return fct_fail(ch->ctx, FACTO_ERR_NOMEM, "out of memory for test predictions");
    }
    return FACTO_OK;
}

/* Training targets (finite) and the regressor's prediction range. */
static facto_status fct_fm_chain_targets(fct_fm_chain *ch)
{
    const fct_fm_engine *eng = &ch->eng;
    float tmin = INFINITY, tmax = -INFINITY;
    for (int64_t n = 0; n < eng->n; n++) {
        float y = fct_fm_label(ch->m, eng->labels[n]);
        if (!isfinite(y))
            return fct_fail(ch->ctx, FACTO_ERR_INVALID, "training row %lld: label is not finite", (long long)n + 1);
        if (y < tmin)
            tmin = y;
        if (y > tmax)
            tmax = y;
    }
    if (!eng->classify) {
        ch->m->target_min = tmin;
        ch->m->target_max = tmax;
    }
    return FACTO_OK;
}

/* Room in the model for `keep` thinned samples of every parameter. */
static facto_status fct_fm_chain_sample_arrays(fct_fm_chain *ch)
{
    fct_fm_model *m = ch->m;
    const size_t ns = (size_t)ch->keep, NS = ch->eng.n_slots ? (size_t)ch->eng.n_slots : 1;
    float *sw0 = fct_calloc_array(ns, sizeof *sw0);
    float *sw = fct_aligned_alloc(ns * NS * sizeof(float));
    float *sv = fct_aligned_alloc(ns * NS * (size_t)ch->eng.k * sizeof(float));
    if (!sw0 || !sw || !sv) {
        free(sw0);
        fct_aligned_free(sw);
        fct_aligned_free(sv);
        return fct_fail(ch->ctx, FACTO_ERR_NOMEM, "out of memory for %d posterior samples", ch->keep);
    }
    free(m->sample_w0);
    fct_aligned_free(m->sample_w);
    fct_aligned_free(m->sample_V);
    m->sample_w0 = sw0;
    m->sample_w = sw;
    m->sample_V = sv;
    return FACTO_OK;
}

/* What the run keeps: burn-in, thinned samples, a summary, or the
 * per-user / per-item sums of ratings data. */
static facto_status fct_fm_chain_plan(fct_fm_chain *ch, int burnin_req, int summary_rank)
{
    const facto_fm_params *P = &ch->m->params;
    const int T = ch->T, mcmc = ch->mode == FACTO_FM_CD_MCMC;
    facto_status st;
    /* Samples to keep: the last S post-burn-in iterations spaced `thin`. */
    int burnin = !mcmc ? T - 1 : burnin_req >= 0 ? burnin_req : P->burn_in;
    if (burnin > T - 1)
        burnin = T - 1;
    int keep = mcmc ? P->mcmc_samples : 0;
    if (keep > T - burnin)
        keep = T - burnin;
    int thin = keep > 0 ? (T - burnin) / keep : 1;
    /* Low-rank summary (see fct_fm_summary_*): about 100 samples go into
     * Y = mean_s V_s V_s^T Omega. */
    ch->sum_every = (T - burnin) / 100 > 1 ? (T - burnin) / 100 : 1;
    if (mcmc && summary_rank > 0) {
        keep = 0;
        if ((st = fct_fm_summary_init(&ch->eng, &ch->sum, ch->eng.n_slots, summary_rank, P->seed)) != FACTO_OK)
            return st;
    }
    /* Ratings data: the model keeps per-user / per-item sums (see
     * fct_fm_pairs) instead of feature-level samples. */
    ch->pairs = ch->train->pairs && ch->train->n_blocks == 2;
    if (ch->pairs) {
        keep = 0;
        if ((st = fct_fm_pairs_init(&ch->eng, &ch->pr, ch->train, ch->train_bidx, T, burnin)) != FACTO_OK)
            return st;
    }
    ch->burnin = burnin;
    ch->keep = keep;
    ch->thin = thin < 1 ? 1 : thin;
    ch->track_means = keep > 0 || ch->sum.r > 0 || ch->pairs;
    if (keep > 0 && (st = fct_fm_chain_sample_arrays(ch)) != FACTO_OK)
        return st;
    ch->m->n_samples = 0;
    return FACTO_OK;
}

/* Everything before the first iteration: the engine, the buffers, the
 * plan and the exact errors of the starting point. */
static facto_status fct_fm_chain_setup(fct_fm_chain *ch, int burnin_req, int summary_rank)
{
    fct_fm_engine *eng = &ch->eng;
    facto_status st = fct_fm_engine_alloc(eng, ch->ctx, ch->m, ch->mode, ch->train);
    if (st == FACTO_OK)
        st = fct_fm_chain_buffers(ch);
    if (st == FACTO_OK)
        st = fct_fm_engine_build(eng, ch->train, ch->train_slots, ch->test, ch->test_slots, ch->train_bidx,
                                 ch->test_bidx);
    if (st == FACTO_OK)
        st = fct_fm_engine_threads(eng, fct_threads(ch->ctx));
    if (st == FACTO_OK)
        st = fct_fm_chain_targets(ch);
    if (st == FACTO_OK)
        st = fct_fm_chain_plan(ch, burnin_req, summary_rank);
    if (st != FACTO_OK)
        return st;
    const fct_fm_data *dd[1] = {ch->train};
    const uint32_t *const *ss[1] = {ch->train_slots};
    const int *bb[1] = {ch->train_bidx};
    double *oo[1] = {ch->pred_tr};
    fct_fm_predict_sets(eng, 1, dd, ss, bb, oo);
    for (int64_t n = 0; n < eng->n; n++)
        eng->eq[n].e = ch->pred_tr[n] - (eng->classify ? 0.0 : eng->labels[n]); /* probit: z starts at 0 */
    ch->sum_w = fct_calloc_array(eng->n_slots ? (size_t)eng->n_slots : 1, sizeof *ch->sum_w);
    if (!ch->sum_w)
        return fct_fail(ch->ctx, FACTO_ERR_NOMEM, "out of memory for posterior means");
    return FACTO_OK;
}

/* Test predictions of iteration `it`, and the train errors resynchronised
 * exactly every 8 iterations (bounds rounding drift of the incremental
 * updates); FACTO_ERR_DIVERGED when they are not finite. */
static facto_status fct_fm_chain_predict(fct_fm_chain *ch, int it)
{
    fct_fm_engine *eng = &ch->eng;
    const fct_fm_data *dd[2] = {ch->test, ch->train};
    const uint32_t *const *ss[2] = {ch->test_slots, ch->train_slots};
    const int *bb[2] = {ch->test_bidx, ch->train_bidx};
    double *oo[2] = {ch->pred_te, ch->pred_tr};
    int resync = it % 8 == 0 || it == ch->T;
    if (ch->test)
        fct_fm_predict_sets(eng, 1 + resync, dd, ss, bb, oo);
    else if (resync)
        fct_fm_predict_sets(eng, 1, dd + 1, ss + 1, bb + 1, oo + 1);
    if (resync) {
        for (int64_t n = 0; n < eng->n; n++) {
            double target = eng->classify ? eng->z[n] : eng->labels[n];
            eng->eq[n].e = ch->pred_tr[n] - target;
        }
    }
    double sse = 0.0;
    for (int64_t n = 0; n < eng->n; n++)
        sse += eng->eq[n].e * eng->eq[n].e;
    if (!isfinite(sse))
        return fct_fail(ch->ctx, FACTO_ERR_DIVERGED,
                        "%s iteration %d: the training error became non-finite; lower init_stdev%s",
                        fct_fm_mode_name(ch->mode), it,
                        ch->mode == FACTO_FM_CD_ALS ? " or raise linear_wd / factors_wd" : "");
    return FACTO_OK;
}

/* A post-burn-in iteration `it` into the averages and what the model keeps. */
static void fct_fm_chain_collect(fct_fm_chain *ch, int it)
{
    fct_fm_engine *eng = &ch->eng;
    fct_fm_model *m = ch->m;
    const int T = ch->T;
    if (ch->test) {
        /* Each sample's prediction clipped to the training range before
         * averaging, as libFM does (a saved model of thinned samples
         * scores the same way). ML-100K u1, side features, one chain of
         * 500, seeds 1-4: chain RMSE 0.8953-0.8963 (bench/fm_seeds.sh),
         * where libFM gives 0.8947-0.8965. */
        ch->n_avg++;
        for (int64_t n = 0; n < ch->test->n_rows; n++) {
            double p = ch->pred_te[n];
            ch->sum_te[n] += eng->classify ? fct_fm_probit(p) : fct_fm_clip(m, p);
        }
    }
    if (ch->track_means) {
        ch->n_lin++;
        ch->sum_w0 += eng->w0;
        for (int64_t s = 0; s < eng->n_slots; s++)
            ch->sum_w[s] += eng->w[s];
    }
    if (ch->pairs && ch->mode == FACTO_FM_CD_MCMC) {
        double s0 = fct_fm_now(), sc0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
        fct_fm_pairs_add(eng, &ch->pr, T, it, ch->burnin, ch->sum_every);
        ch->seconds += fct_fm_now() - s0;
        ch->cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - sc0;
    }
    if (ch->sum.r > 0 && (T - it) % ch->sum_every == 0) {
        double s0 = fct_fm_now(), sc0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
        fct_fm_summary_add(eng, &ch->sum, eng->V, eng->n_slots);
        ch->seconds += fct_fm_now() - s0; /* part of training: counted */
        ch->cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - sc0;
    }
    if (ch->keep > 0 && (T - it) % ch->thin == 0 && (T - it) / ch->thin < ch->keep) {
        const size_t NS = eng->n_slots ? (size_t)eng->n_slots : 1;
        int32_t si = m->n_samples++;
        fct_fm_store_params(eng, &m->sample_w0[si], m->sample_w + (size_t)si * NS,
                            m->sample_V + (size_t)si * NS * (size_t)eng->k);
    }
}

/* Scores of the test rows (the running average, clipped for the regressor)
 * and the regressor's test RMSE of that average. */
static void fct_fm_chain_test_scores(fct_fm_chain *ch)
{
    const fct_fm_engine *eng = &ch->eng;
    const fct_fm_model *m = ch->m;
    const fct_fm_data *test = ch->test;
    for (int64_t n = 0; n < test->n_rows; n++) {
        double p = ch->n_avg > 0 ? ch->sum_te[n] / ch->n_avg
                                 : (eng->classify ? fct_fm_probit(ch->pred_te[n]) : ch->pred_te[n]);
        if (!eng->classify)
            p = fct_fm_clip(m, p);
        ch->scores_te[n] = (float)p;
    }
    if (!eng->classify) {
        double s2 = 0.0;
        for (int64_t n = 0; n < test->n_rows; n++) {
            double d = ch->scores_te[n] - test->direct->labels[n];
            s2 += d * d;
        }
        ch->test_rmse_avg = test->n_rows ? sqrt(s2 / (double)test->n_rows) : NAN;
    }
}

/* Scores of the training rows from the current errors. */
static void fct_fm_chain_train_scores(fct_fm_chain *ch)
{
    const fct_fm_engine *eng = &ch->eng;
    const fct_fm_model *m = ch->m;
    for (int64_t n = 0; n < eng->n; n++) {
        double target = eng->classify ? eng->z[n] : eng->labels[n];
        double p = eng->eq[n].e + target;
        if (eng->classify)
            p = fct_fm_probit(p);
        else
            p = fct_fm_clip(m, p);
        ch->scores_tr[n] = (float)p;
    }
}

/* Test scores of iteration `it` (begun at t0), and the report to the
 * callbacks when there is one; *stop when it asks to stop. */
static facto_status fct_fm_chain_report(fct_fm_chain *ch, int it, double t0, int *stop)
{
    const fct_fm_callbacks *callbacks = ch->callbacks;
    facto_status st;
    fct_fm_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = it;
    rep.epochs = ch->T;
    rep.seconds = fct_fm_now() - t0;
    rep.samples_per_second = rep.seconds > 0 ? (double)ch->eng.n / rep.seconds : 0.0;
    int want_report = callbacks && callbacks->on_epoch;
    if (ch->test) {
        fct_fm_chain_test_scores(ch);
        if (want_report &&
            (st = fct_fm_metrics_from_scores(ch->ctx, ch->m, ch->test->direct, ch->scores_te, &rep.test)) != FACTO_OK)
            return st;
    }
    if (want_report) {
        fct_fm_chain_train_scores(ch);
        if ((st = fct_fm_metrics_from_scores(ch->ctx, ch->m, ch->train->direct, ch->scores_tr, &rep.train)) !=
            FACTO_OK)
            return st;
        if (callbacks->on_epoch(&rep, callbacks->user_data))
            *stop = 1;
    }
    return FACTO_OK;
}

/* The iterations; *iters gets how many ran. */
static facto_status fct_fm_chain_iterate(fct_fm_chain *ch, fct_fm_chain_sync *sync, int chain, int *iters)
{
    const int T = ch->T;
    facto_status st = FACTO_OK;
    int it, stop = 0;
    for (it = 1; it <= T; it++) {
        if (!fct_fm_chain_may_run(sync, chain, it)) {
            it--; /* chain 0 stopped before it, or a chain failed: iteration `it` does not run */
            break;
        }
        double t0 = fct_fm_now(), c0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
        fct_fm_update_targets(&ch->eng);
        fct_fm_cd_sweep(&ch->eng);
        ch->seconds += fct_fm_now() - t0;
        ch->cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
        if ((st = fct_fm_chain_predict(ch, it)) != FACTO_OK)
            break;
        if (it > ch->burnin)
            fct_fm_chain_collect(ch, it);
        if ((st = fct_fm_chain_report(ch, it, t0, &stop)) != FACTO_OK || stop)
            break;
    }
    *iters = it > T ? T : it;
    return st;
}

/* The model's parameters after the last iteration: the last sample (the
 * ALS solution) as its point estimate, then the posterior means, the
 * summaries and the samples' means as the plan says. */
static facto_status fct_fm_chain_store(fct_fm_chain *ch)
{
    fct_fm_engine *eng = &ch->eng;
    fct_fm_model *m = ch->m;
    const int n_lin = ch->n_lin;
    const double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    facto_status st;
    if (ch->pairs && (st = fct_fm_pairs_finish(eng, &ch->pr, m)) != FACTO_OK)
        return st;
    /* The last sample is the model's point estimate (and the ALS solution). */
    fct_fm_store_params(eng, &m->w0, m->w, m->V);
    if (ch->pairs && ch->mode == FACTO_FM_CD_MCMC && n_lin > 0) {
        /* ratings model: w0 and w as posterior means (V stays the last sample) */
        m->w0 = (float)(scale * ch->sum_w0 / n_lin);
        for (int64_t s = 0; s < eng->n_slots; s++)
            m->w[s] = (float)(scale * ch->sum_w[s] / n_lin);
    }
    if (ch->keep > 0 && m->n_samples == 0) {
        fct_fm_store_params(eng, &m->sample_w0[0], m->sample_w, m->sample_V);
        m->n_samples = 1;
    }
    if (ch->sum.r > 0 && ch->sum.n > 0 &&
        (st = fct_fm_summary_finish(eng, &ch->sum, m, ch->sum_w0 / n_lin, ch->sum_w, n_lin)) != FACTO_OK)
        return st;
    /* w0 and w enter y^ linearly, so the mean over all post-burn-in samples
     * of their contribution is exact with their posterior means: every
     * stored sample carries those means and keeps its own V. */
    if (ch->keep > 0 && n_lin > 0) {
        const size_t NS = eng->n_slots ? (size_t)eng->n_slots : 1;
        for (int32_t t = 0; t < m->n_samples; t++) {
            m->sample_w0[t] = (float)(scale * ch->sum_w0 / n_lin);
            float *w = m->sample_w + (size_t)t * NS;
            for (int64_t s = 0; s < eng->n_slots; s++)
                w[s] = (float)(scale * ch->sum_w[s] / n_lin);
        }
    }
    return FACTO_OK;
}

static void fct_fm_chain_free(fct_fm_chain *ch)
{
    fct_fm_summary_free(&ch->sum);
    fct_fm_pairs_free(&ch->pr);
    fct_fm_engine_free(&ch->eng);
    free(ch->pred_tr);
    free(ch->pred_te);
    free(ch->sum_te);
    free(ch->sum_w);
    free(ch->scores_tr);
    free(ch->scores_te);
}

/*
 * One chain (MCMC) or the ALS run. test_avg (may be NULL): [test rows] the
 * chain's running average of the test predictions (probabilities for the
 * classifier; not clipped). sync, chain: see fct_fm_chain_sync.
 */
facto_status fct_fm_cd_chain(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode, const fct_fm_data *train,
                             const uint32_t *const *train_slots, const fct_fm_data *test,
                             const uint32_t *const *test_slots, const fct_fm_callbacks *callbacks,
                             int burnin_req, int summary_rank, fct_fm_cd_result *result, double *test_avg,
                             fct_fm_chain_sync *sync, int chain)
{
    fct_fm_chain ch;
    memset(&ch, 0, sizeof ch);
    ch.ctx = ctx;
    ch.m = m;
    ch.mode = mode;
    ch.train = train;
    ch.train_slots = train_slots;
    ch.test = test && test->direct && test->direct->labels ? test : NULL;
    ch.test_slots = test_slots;
    ch.callbacks = callbacks;
    ch.T = m->params.num_iter > 0 ? m->params.num_iter : 1;
    ch.test_rmse_avg = NAN;
    int it = 0;
    facto_status st = fct_fm_chain_check(&ch);
    if (st != FACTO_OK)
        return st;
    if ((st = fct_fm_chain_setup(&ch, burnin_req, summary_rank)) != FACTO_OK ||
        (st = fct_fm_chain_iterate(&ch, sync, chain, &it)) != FACTO_OK)
        goto done;
    if (sync && chain == 0)
        atomic_store(&sync->done, 1); /* the other chains run no iteration past `it` */
    if (test_avg && ch.test) {
        for (int64_t n = 0; n < ch.test->n_rows; n++)
            test_avg[n] = ch.n_avg > 0 ? ch.sum_te[n] / ch.n_avg
                                       : (ch.eng.classify ? fct_fm_probit(ch.pred_te[n]) : ch.pred_te[n]);
    }
    if ((st = fct_fm_chain_store(&ch)) != FACTO_OK)
        goto done;
    if (result) {
        result->iterations = it;
        result->burnin = ch.burnin;
        result->alpha = ch.eng.alpha;
        result->test_rmse_avg = ch.test_rmse_avg;
        result->seconds = ch.seconds;
        result->cpu_seconds = ch.cpu_seconds;
        result->chains = 1;
    }
    fct_log(ctx, FACTO_LOG_INFO, "%s: %d iterations, %.3f s, %d samples kept", fct_fm_mode_name(mode), it,
              ch.seconds, (int)m->n_samples);
    st = fct_ok(ctx);
done:
    fct_fm_chain_free(&ch);
    return st;
}

/*
 * The sweeps run in double; the model keeps floats. Feature values near
 * FLT_MAX (libsvm allows up to 3.4e38) let a parameter pass FLT_MAX on the
 * way, and a model holding inf or NaN is one no load accepts (fm.c): refuse
 * it here, naming the first such parameter.
 */
static facto_status fct_fm_check_finite(facto_ctx *ctx, const fct_fm_model *m, fct_fm_cd_mode mode)
{
    const uint64_t NS = (uint64_t)m->n_slots, k = (uint64_t)m->k, S = (uint64_t)m->n_samples;
    const uint64_t pr = (uint64_t)m->n_users + (uint64_t)m->n_items;
    const struct {
        const char *name;
        const float *a;
        uint64_t n;
    } arrays[] = {
        {"w0", &m->w0, 1},
        {"w", m->w, NS},
        {"V", m->V, NS * k},
        {"a sample's w0", m->sample_w0, m->sample_w0 ? S : 0},
        {"a sample's w", m->sample_w, m->sample_w ? S * NS : 0},
        {"a sample's V", m->sample_V, m->sample_V ? S * NS * k : 0},
        {"the per-user / per-item w0", &m->pair_w0, m->pair_b ? 1 : 0},
        {"a per-user / per-item bias", m->pair_b, m->pair_b ? pr : 0},
        {"a per-user / per-item factor", m->pair_q, m->pair_q ? pr * (uint64_t)m->pair_k : 0},
    };
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++)
        for (uint64_t i = 0; i < arrays[a].n; i++)
            if (!isfinite(arrays[a].a[i]))
                return fct_fail(ctx, FACTO_ERR_DIVERGED,
                                  "%s: %s (element %llu) does not fit a float (%g): scale the feature values or "
                                  "labels down, or lower init_stdev (now %g)%s",
                                  mode == FACTO_FM_CD_ALS ? "als" : "mcmc", arrays[a].name, (unsigned long long)i,
                                  (double)arrays[a].a[i], (double)m->params.init_stdev,
                                  mode == FACTO_FM_CD_ALS ? " or raise linear_wd / factors_wd" : "");
    return FACTO_OK;
}

facto_status fct_fm_cd_run(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                             const fct_fm_data *train, const uint32_t *const *train_slots,
                             const fct_fm_data *test, const uint32_t *const *test_slots,
                             const fct_fm_callbacks *callbacks, int burnin, int summary_rank,
                             fct_fm_cd_result *result)
{
    const int C = mode == FACTO_FM_CD_MCMC && m->params.mcmc_chains > 1 ? m->params.mcmc_chains : 1;
    /* A starting point the sweeps cannot come back from: refused before any work. */
    facto_status sst = fct_fm_start_check(ctx, m, mode, train);
    if (sst != FACTO_OK)
        return sst;
    /* Ratings data with thinned samples (summary_rank 0): the model keeps
     * every chain's samples of q side by side, k columns each, and a model
     * file holds at most 2^20 per user / item (fm.c); refuse a run that
     * would end past it rather than save a model no load accepts. The
     * samples per chain as fct_fm_cd_chain keeps them. */
    if (mode == FACTO_FM_CD_MCMC && train->pairs && train->n_blocks == 2 && m->params.summary_rank == 0) {
        const int T = m->params.num_iter > 0 ? m->params.num_iter : 1, S = m->params.mcmc_samples;
        int b = burnin >= 0 ? burnin : m->params.burn_in;
        if (b > T - 1)
            b = T - 1;
        int64_t cols = 0;
        for (int c = 0; c < C; c++) {
            int keep = C == 1 ? S : S / C + (c < S % C);
            keep = keep > 0 ? keep : 1;
            cols += (int64_t)(keep < T - b ? keep : T - b) * m->k;
        }
        if (cols > ((int64_t)1 << 20))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "mcmc_samples %d with summary_rank 0: %lld samples of num_factors %d would keep %lld "
                              "columns per user and item, more than 2^20 (1048576) a model holds; keep fewer "
                              "samples, or a summary (summary_rank > 0)",
                              S, (long long)(cols / m->k), (int)m->k, (long long)cols);
    }
    facto_status st = C == 1 ? fct_fm_cd_chain(ctx, m, mode, train, train_slots, test, test_slots, callbacks,
                                                 burnin, summary_rank, result, NULL, NULL, 0)
                             : fct_fm_cd_chains(ctx, m, mode, train, train_slots, test, test_slots, callbacks,
                                                  burnin, summary_rank, result);
    if (st == FACTO_OK)
        st = fct_fm_check_finite(ctx, m, mode);
    return st;
}

/* ---- entry points ------------------------------------------------------- */

facto_status fct_fm_cd_run_rows(facto_ctx *ctx, fct_fm_model *model, fct_fm_cd_mode mode,
                                  const facto_rows *train, const uint32_t *train_slots, const facto_rows *test,
                                  const uint32_t *test_slots, const fct_fm_callbacks *callbacks,
                                  fct_fm_cd_result *result)
{
    fct_fm_data tr, te, pair;
    fct_fm_data_init(&tr, train, 0);
    memset(&pair, 0, sizeof pair);
    const uint32_t *trs[1] = {train_slots}, *tes[1] = {test_slots};
    if (test)
        fct_fm_data_init(&te, test, 0);
    /* Feature rows: summary_rank r > 0 asks for the rank-r summary of the
     * features' factors; -1 (automatic) and 0 keep thinned samples. */
    int rank = mode == FACTO_FM_CD_MCMC && model->params.summary_rank > 0 ? model->params.summary_rank : 0;
    /* One hyperprior group per one-hot field when the rows are laid out so
     * (prior_groups 1): ML-100K u1 as libsvm rows, one chain of 100
     * iterations, seeds 1-4, chain test RMSE 0.9107-0.9130 with a group each
     * for users and items, 0.9165-0.9201 with one group for all
     * (bench/fm_seeds.sh). Dense models only: a group per
     * key of a 2^32-key space would not fit. */
    int32_t *groups = NULL, ng = 1;
    facto_status st = FACTO_OK;
    if (!model->hashed) {
        uint64_t dim = tr.feature_dim > (uint64_t)model->n_slots ? tr.feature_dim : (uint64_t)model->n_slots;
        if ((st = fct_fm_infer_fields(ctx, train, dim, &groups, &ng)) != FACTO_OK)
            return st;
        int ok = 0;
        /* Two one-hot fields (user + item rows, SageMaker's layout): sweep
         * them as pair-form blocks, as ratings are (the same chain up to
         * rounding, about 25% less time an iteration). */
        if (groups && ng == 2 && (st = fct_fm_data_two_fields(ctx, train, groups, dim, &pair, &ok)) != FACTO_OK) {
            free(groups);
            return st;
        }
        /* summary_rank -1 (automatic) on rows of one-hot fields (every value
         * 1, fields found above): the rank-FACTO_FM_ROWS_AUTO_RANK summary,
         * which scores as the chain does where thinned samples fall short
         * (ML-100K u1 user + item rows, k 32, 250 iterations, 4 chains:
         * chain 0.9059, 16 samples 0.9129 at 5.9 MB, rank 128 0.9046 at
         * 1.4 MB). With other features a row's many pairs add up the rank
         * error (fm_mcmc_summary.c), so those keep thinned samples. The
         * model records the rank it got. */
        if (groups && mode == FACTO_FM_CD_MCMC && model->params.summary_rank < 0) {
            int one_hot = 1;
            for (int64_t e = 0; e < train->nnz && one_hot; e++)
                one_hot = train->values[e] == 1.0f;
            if (one_hot) {
                rank = FACTO_FM_ROWS_AUTO_RANK;
                model->params.summary_rank = rank;
            }
        }
        if (groups && mode == FACTO_FM_CD_MCMC && model->params.prior_groups) {
            tr.feature_group = groups;
            tr.n_groups = ng;
            fct_log(ctx, FACTO_LOG_INFO, "mcmc: %d one-hot fields in the training rows, a prior group each", (int)ng);
        }
        if (ok && !(mode == FACTO_FM_CD_MCMC && model->params.prior_groups)) {
            pair.feature_group = NULL; /* ALS, or MCMC with one group: no groups */
            pair.n_groups = 0;
        }
        if (ok) {
            uint32_t *ps[3] = {NULL, NULL, NULL};
            for (int b = 0; b < 2 && st == FACTO_OK; b++)
                st = fct_fm_map_rows(ctx, model, pair.block[b].rows, "feature block", &ps[1 + b]);
            if (st == FACTO_OK)
                st = fct_fm_cd_run(ctx, model, mode, &pair, (const uint32_t *const *)ps, test ? &te : NULL, tes,
                                     callbacks, -1, rank, result);
            free(ps[1]);
            free(ps[2]);
            fct_fm_data_release(&pair);
            free(groups);
            return st;
        }
    }
    st = fct_fm_cd_run(ctx, model, mode, &tr, trs, test ? &te : NULL, tes, callbacks, -1, rank, result);
    free(groups);
    return st;
}

facto_status fct_fm_fit_mcmc(facto_ctx *ctx, fct_fm_model *model, const facto_rows *train,
                               const uint32_t *train_slots, const facto_rows *test, const uint32_t *test_slots,
                               const fct_fm_callbacks *callbacks)
{
    return fct_fm_cd_run_rows(ctx, model, FACTO_FM_CD_MCMC, train, train_slots, test, test_slots, callbacks, NULL);
}
