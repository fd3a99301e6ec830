/*
 * fm_mcmc.c — Gibbs sampling (MCMC) and ALS for factorization machines
 * (Rendle, "Factorization Machines with libFM", ACM TIST 2012, sec. 4.3-4.4
 * and Algorithm 2), the driver: one chain runs num_iter iterations of the
 * engine (fm_cd_sweep.c; per iteration O(k (nnz(direct) + sum_B (nnz(B) +
 * n)))), averages the test predictions after burn-in and keeps what the
 * model stores (fm_mcmc_summary.c: thinned samples, a Nystrom summary, or
 * per-user / per-item sums on ratings data); fct_fm_cd_run runs one chain or
 * several (fm_mcmc_chains.c) and refuses a model that does not fit floats;
 * fct_fm_cd_run_rows takes flat feature rows (prior groups per one-hot
 * field, pair form for two fields).
 */
#include "fm_cd_engine.h"
#include "fm_solvers.h"

#include <math.h>
#include <string.h>

/*
 * One chain (MCMC) or the ALS run. test_avg (may be NULL): [test rows] the
 * chain's running average of the test predictions (probabilities for the
 * classifier; not clipped). sync, chain: see fct_fm_chain_sync.
 */
facto_status fct_fm_cd_chain(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                               const fct_fm_data *train, const uint32_t *const *train_slots,
                               const fct_fm_data *test, const uint32_t *const *test_slots,
                               const facto_fm_callbacks *callbacks, int burnin_req, int summary_rank,
                               fct_fm_cd_result *result, double *test_avg, fct_fm_chain_sync *sync,
                               int chain)
{
    fct_fm_engine eng;
    memset(&eng, 0, sizeof eng);
    fct_fm_summary sum; /* before any goto done */
    memset(&sum, 0, sizeof sum);
    fct_fm_pairs pr;
    memset(&pr, 0, sizeof pr);
    eng.ctx = ctx;
    eng.m = m;
    eng.mode = mode;
    eng.classify = m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    eng.k = m->k;
    eng.n_slots = m->n_slots;
    eng.n = train->n_rows;
    const facto_fm_params *P = &m->params;
    const int T = P->num_iter > 0 ? P->num_iter : 1;
    facto_status st = FACTO_OK;
    uint8_t *seen = NULL;
    int64_t *count = NULL;
    double *pred_tr = NULL, *pred_te = NULL, *sum_te = NULL, *sum_w = NULL;
    float *scores_tr = NULL, *scores_te = NULL;
    int train_bidx[FACTO_FM_MAX_BLOCKS], test_bidx[FACTO_FM_MAX_BLOCKS];

    if (!train->direct || !train->direct->labels)
        return fct_fail(ctx, FACTO_ERR_INVALID, "training rows have no labels");
    if (eng.n < 1)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "no training rows");
    if (eng.n >= (int64_t)UINT32_MAX)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%lld training rows: the %s solver takes at most 2^32-2",
                          (long long)eng.n, mode == FACTO_FM_CD_ALS ? "als" : "mcmc");
    if (eng.n_slots >= (int64_t)UINT32_MAX)
        return fct_fail(ctx, FACTO_ERR_INVALID, "too many parameter slots");
    if (test && (!test->direct || !test->direct->labels))
        test = NULL;
    eng.labels = train->direct->labels;
    fct_rng_seed(&eng.rng, P->seed);

    const size_t NS = eng.n_slots ? (size_t)eng.n_slots : 1;
    eng.eq = fct_calloc_array((size_t)eng.n, sizeof *eng.eq);
    eng.w = fct_calloc_array(NS, sizeof *eng.w);
    eng.V = fct_malloc_array(NS * (size_t)eng.k, sizeof *eng.V);
    eng.group = fct_calloc_array(NS, sizeof *eng.group);
    seen = fct_calloc_array(NS, 1);
    count = fct_malloc_array(NS, sizeof *count);
    pred_tr = fct_malloc_array((size_t)eng.n, sizeof *pred_tr);
    scores_tr = fct_malloc_array((size_t)eng.n, sizeof *scores_tr);
    if (eng.classify)
        eng.z = fct_calloc_array((size_t)eng.n, sizeof *eng.z);
    if (!eng.eq || !eng.w || !eng.V || !eng.group || !seen || !count || !pred_tr || !scores_tr ||
        (eng.classify && !eng.z)) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the %s solver state",
                        mode == FACTO_FM_CD_ALS ? "als" : "mcmc");
        goto done;
    }
    if (test) {
        size_t nt = test->n_rows ? (size_t)test->n_rows : 1;
        pred_te = fct_malloc_array(nt, sizeof *pred_te);
        sum_te = fct_calloc_array(nt, sizeof *sum_te);
        scores_te = fct_malloc_array(nt, sizeof *scores_te);
        if (!pred_te || !sum_te || !scores_te) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for test predictions");
            goto done;
        }
    }

    /* Prior groups per slot. */
    eng.n_groups = train->feature_group && train->n_groups > 0 ? train->n_groups : 1;
    if (eng.n_groups > 256) {
        st = fct_fail(ctx, FACTO_ERR_INVALID, "%ld prior groups: at most 256", (long)eng.n_groups);
        goto done;
    }
    if (train->feature_group) {
        for (int64_t s = 0; s < eng.n_slots; s++) {
            uint64_t key = m->hashed ? m->slot_keys[s] : (uint64_t)s;
            int32_t g = key < train->feature_dim ? train->feature_group[key] : 0;
            if (g < 0 || g >= eng.n_groups) {
                st = fct_fail(ctx, FACTO_ERR_INVALID, "feature %llu: prior group %ld is not in [0, %ld)",
                                (unsigned long long)key, (long)g, (long)eng.n_groups);
                goto done;
            }
            eng.group[s] = g;
        }
    }

    /* Sources and their transposes. */
    eng.n_src = 1 + train->n_blocks;
    for (int i = 0; i < eng.n_src; i++) {
        fct_fm_src *s = &eng.src[i];
        if (i == 0) {
            s->n_rows = eng.n;
            s->row_ptr = train->direct->row_ptr;
            s->val = train->direct->values;
            s->brows = -1;
        } else {
            const fct_fm_block *b = &train->block[i - 1];
            s->n_rows = b->rows->n_rows;
            s->row_ptr = b->rows->row_ptr;
            s->val = b->rows->values;
            s->ref = b->ref;
            s->brows = fct_fm_brows_get(&eng, b->rows, train_slots[i]);
            train_bidx[i - 1] = s->brows;
            if (s->brows < 0) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for block caches");
                goto done;
            }
        }
        s->slot = train_slots[i];
        if ((st = fct_fm_src_build(&eng, s, seen, count)) != FACTO_OK)
            goto done;
    }
    for (int b = 0; test && b < test->n_blocks; b++) {
        test_bidx[b] = fct_fm_brows_get(&eng, test->block[b].rows, test_slots[1 + b]);
        if (test_bidx[b] < 0) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for block caches");
            goto done;
        }
    }
    if (eng.n_src > 1) {
        size_t nr = eng.src[eng.n_src - 1].n_rows ? (size_t)eng.src[eng.n_src - 1].n_rows : 1;
        eng.pend_a = fct_calloc_array(nr, sizeof *eng.pend_a);
        eng.pend_b = fct_calloc_array(nr, sizeof *eng.pend_b);
        eng.pend_q1 = fct_calloc_array(eng.src[1].n_rows ? (size_t)eng.src[1].n_rows : 1, sizeof *eng.pend_q1);
        if (!eng.pend_a || !eng.pend_b || !eng.pend_q1) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for block sums");
            goto done;
        }
    }
    if (eng.n_src == 1 && !(eng.qn = fct_calloc_array((size_t)eng.n, sizeof *eng.qn))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the rows' q");
        goto done;
    }
    eng.group_size = fct_calloc_array((size_t)eng.n_groups, sizeof *eng.group_size);
    int64_t n_unseen = 0;
    for (int64_t s = 0; s < eng.n_slots; s++)
        n_unseen += !seen[s];
    eng.unseen = fct_malloc_array(n_unseen ? (size_t)n_unseen : 1, sizeof *eng.unseen);
    eng.mu_w = fct_calloc_array((size_t)eng.n_groups, sizeof *eng.mu_w);
    eng.lambda_w = fct_calloc_array((size_t)eng.n_groups, sizeof *eng.lambda_w);
    eng.mu_v = fct_calloc_array((size_t)eng.n_groups * (size_t)eng.k, sizeof *eng.mu_v);
    eng.lambda_v = fct_calloc_array((size_t)eng.n_groups * (size_t)eng.k, sizeof *eng.lambda_v);
    if (!eng.group_size || !eng.unseen || !eng.mu_w || !eng.lambda_w || !eng.mu_v || !eng.lambda_v) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for hyperparameters");
        goto done;
    }
    for (int64_t s = 0; s < eng.n_slots; s++) {
        if (seen[s])
            eng.group_size[eng.group[s]]++;
        else
            eng.unseen[eng.n_unseen++] = (uint32_t)s;
    }

    /* Start as libFM does: w0 = w = 0, V ~ N(0, init_stdev^2); fixed
     * precisions from the *_wd settings for ALS. */
    eng.alpha = 1.0;
    if (mode == FACTO_FM_CD_ALS) {
        eng.lambda0 = P->bias_wd;
        for (int32_t g = 0; g < eng.n_groups; g++) {
            eng.lambda_w[g] = P->linear_wd;
            for (int32_t f = 0; f < eng.k; f++)
                eng.lambda_v[g * eng.k + f] = P->factors_wd;
        }
    } else {
        eng.lambda0 = 0.0;
        for (int32_t g = 0; g < eng.n_groups; g++) {
            eng.lambda_w[g] = 1.0;
            for (int32_t f = 0; f < eng.k; f++)
                eng.lambda_v[g * eng.k + f] = 1.0;
        }
    }
    for (int32_t f = 0; f < eng.k; f++)
        for (int64_t s = 0; s < eng.n_slots; s++)
            eng.V[(int64_t)f * eng.n_slots + s] = seen[s] ? P->init_stdev * fct_rng_normal(&eng.rng) : 0.0;

    /* Training targets and the running prediction range. */
    float tmin = INFINITY, tmax = -INFINITY;
    for (int64_t n = 0; n < eng.n; n++) {
        float y = fct_fm_label(m, eng.labels[n]);
        if (!isfinite(y)) {
            st = fct_fail(ctx, FACTO_ERR_INVALID, "training row %lld: label is not finite", (long long)n + 1);
            goto done;
        }
        if (y < tmin)
            tmin = y;
        if (y > tmax)
            tmax = y;
    }
    if (!eng.classify) {
        m->target_min = tmin;
        m->target_max = tmax;
    }

    /* Samples to keep: the last S post-burn-in iterations spaced `thin`. */
    int burnin = mode != FACTO_FM_CD_MCMC ? T - 1 : burnin_req >= 0 ? burnin_req : P->burn_in;
    if (burnin > T - 1)
        burnin = T - 1;
    int keep = mode == FACTO_FM_CD_MCMC ? P->mcmc_samples : 0;
    if (keep > T - burnin)
        keep = T - burnin;
    int thin = keep > 0 ? (T - burnin) / keep : 1;
    /* Low-rank summary (see fct_fm_summary_*): about 100 samples go into
     * Y = mean_s V_s V_s^T Omega. */
    int sum_every = (T - burnin) / 100 > 1 ? (T - burnin) / 100 : 1;
    if (mode == FACTO_FM_CD_MCMC && summary_rank > 0) {
        keep = 0;
        if ((st = fct_fm_summary_init(&eng, &sum, eng.n_slots, summary_rank, P->seed)) != FACTO_OK)
            goto done;
    }
    /* Ratings data: the model keeps per-user / per-item sums (see
     * fct_fm_pairs) instead of feature-level samples. */
    const int pairs = train->pairs && train->n_blocks == 2;
    if (pairs) {
        keep = 0;
        pr.off1 = train->block[0].rows->n_rows;
        pr.nb = pr.off1 + train->block[1].rows->n_rows;
        pr.bidx[0] = train_bidx[0];
        pr.bidx[1] = train_bidx[1];
        pr.q = fct_malloc_array((size_t)pr.nb * (size_t)eng.k, sizeof *pr.q);
        pr.b = fct_malloc_array((size_t)pr.nb, sizeof *pr.b);
        pr.sum_b = fct_calloc_array((size_t)pr.nb, sizeof *pr.sum_b);
        if (!pr.q || !pr.b || !pr.sum_b) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for per-user and per-item sums");
            goto done;
        }
        int rank = P->summary_rank < 0 ? 256 : P->summary_rank;
        if (mode == FACTO_FM_CD_MCMC && rank > 0) {
            if (rank > pr.nb)
                rank = (int)pr.nb;
            if ((st = fct_fm_summary_init(&eng, &pr.sum, pr.nb, rank, P->seed)) != FACTO_OK)
                goto done;
        } else if (mode == FACTO_FM_CD_MCMC) {
            pr.keep = P->mcmc_samples > 0 ? P->mcmc_samples : 1;
            if (pr.keep > T - burnin)
                pr.keep = T - burnin;
            pr.kept = fct_malloc_array((size_t)pr.keep * (size_t)pr.nb * (size_t)eng.k, sizeof *pr.kept);
            if (!pr.kept) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d posterior samples", pr.keep);
                goto done;
            }
        }
    }
    const int track_means = keep > 0 || sum.r > 0 || pairs;
    if (thin < 1)
        thin = 1;
    if (keep > 0) {
        size_t ns = (size_t)keep;
        float *sw0 = fct_calloc_array(ns, sizeof *sw0);
        float *sw = fct_aligned_alloc(ns * NS * sizeof(float));
        float *sv = fct_aligned_alloc(ns * NS * (size_t)eng.k * sizeof(float));
        if (!sw0 || !sw || !sv) {
            free(sw0);
            fct_aligned_free(sw);
            fct_aligned_free(sv);
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d posterior samples", keep);
            goto done;
        }
        free(m->sample_w0);
        fct_aligned_free(m->sample_w);
        fct_aligned_free(m->sample_V);
        m->sample_w0 = sw0;
        m->sample_w = sw;
        m->sample_V = sv;
    }
    m->n_samples = 0;

    /* Exact errors of the starting point. */
    {
        const fct_fm_data *dd[1] = {train};
        const uint32_t *const *ss[1] = {train_slots};
        const int *bb[1] = {train_bidx};
        double *oo[1] = {pred_tr};
        fct_fm_predict_sets(&eng, 1, dd, ss, bb, oo);
        for (int64_t n = 0; n < eng.n; n++)
            eng.eq[n].e = pred_tr[n] - (eng.classify ? 0.0 : eng.labels[n]); /* probit: z starts at 0 */
    }

    double seconds = 0.0, cpu_seconds = 0.0, sum_w0 = 0.0;
    int n_avg = 0, n_lin = 0, it;
    sum_w = fct_calloc_array(NS, sizeof *sum_w);
    if (!sum_w) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for posterior means");
        goto done;
    }
    double test_rmse_avg = NAN;
    for (it = 1; it <= T; it++) {
        if (!fct_fm_chain_may_run(sync, chain, it)) {
            it--; /* chain 0 stopped before it, or a chain failed: iteration `it` does not run */
            break;
        }
        double t0 = fct_fm_now(), c0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
        if (eng.classify && mode == FACTO_FM_CD_MCMC) {
            for (int64_t n = 0; n < eng.n; n++) {
                double yhat = eng.eq[n].e + eng.z[n];
                eng.z[n] = (float)fct_fm_trunc_normal(&eng.rng, yhat, eng.labels[n] > 0.0f);
                eng.eq[n].e = yhat - eng.z[n];
            }
        } else if (eng.classify) {
            /* ALS classifier: least squares on +-1 targets. */
            for (int64_t n = 0; n < eng.n; n++) {
                double yhat = eng.eq[n].e + eng.z[n];
                eng.z[n] = eng.labels[n] > 0.0f ? 1.0f : -1.0f;
                eng.eq[n].e = yhat - eng.z[n];
            }
        }
        fct_fm_draw_alpha(&eng);
        fct_fm_sweep_w0(&eng);
        if (mode == FACTO_FM_CD_MCMC)
            fct_fm_draw_hyper(&eng, eng.w, eng.mu_w, eng.lambda_w, 1);
        fct_fm_sweep_w(&eng);
        if (mode == FACTO_FM_CD_MCMC) {
            for (int32_t f = 0; f < eng.k; f++)
                fct_fm_draw_hyper(&eng, eng.V + (int64_t)f * eng.n_slots, eng.mu_v + f, eng.lambda_v + f,
                                    eng.k);
        }
        for (int32_t f = 0; f < eng.k; f++)
            fct_fm_sweep_v(&eng, f);
        fct_fm_flush_pending(&eng);
        seconds += fct_fm_now() - t0;
        cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - c0;

        /* Train errors: resynchronised exactly every 8 iterations (bounds
         * rounding drift of the incremental updates). Test: every iteration. */
        {
            const fct_fm_data *dd[2] = {test, train};
            const uint32_t *const *ss[2] = {test_slots, train_slots};
            const int *bb[2] = {test_bidx, train_bidx};
            double *oo[2] = {pred_te, pred_tr};
            int resync = it % 8 == 0 || it == T;
            if (test)
                fct_fm_predict_sets(&eng, 1 + resync, dd, ss, bb, oo);
            else if (resync)
                fct_fm_predict_sets(&eng, 1, dd + 1, ss + 1, bb + 1, oo + 1);
            if (resync) {
                for (int64_t n = 0; n < eng.n; n++) {
                    double target = eng.classify ? eng.z[n] : eng.labels[n];
                    eng.eq[n].e = pred_tr[n] - target;
                }
            }
        }
        double sse = 0.0;
        for (int64_t n = 0; n < eng.n; n++)
            sse += eng.eq[n].e * eng.eq[n].e;
        if (!isfinite(sse)) {
            st = fct_fail(ctx, FACTO_ERR_DIVERGED,
                            "%s iteration %d: the training error became non-finite; lower init_stdev%s", 
                            mode == FACTO_FM_CD_ALS ? "als" : "mcmc", it,
                            mode == FACTO_FM_CD_ALS ? " or raise linear_wd / factors_wd" : "");
            goto done;
        }
        if (test && it > burnin) {
            /* Each sample's prediction clipped to the training range before
             * averaging, as libFM does (a saved model of thinned samples
             * scores the same way). ML-100K u1, side features, one chain of
             * 500, seeds 1-4: chain RMSE 0.8953-0.8963 (bench/fm_seeds.sh),
             * where libFM gives 0.8947-0.8965. */
            const double lo = m->target_min, hi = m->target_max;
            n_avg++;
            for (int64_t n = 0; n < test->n_rows; n++) {
                double p = pred_te[n];
                sum_te[n] += eng.classify ? fct_fm_probit(p) : p < lo ? lo : p > hi ? hi : p;
            }
        }
        if (track_means && it > burnin) {
            n_lin++;
            sum_w0 += eng.w0;
            for (int64_t s = 0; s < eng.n_slots; s++)
                sum_w[s] += eng.w[s];
        }
        if (pairs && mode == FACTO_FM_CD_MCMC && it > burnin) {
            double s0 = fct_fm_now(), sc0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
            fct_fm_pairs_compute(&eng, &pr);
            for (int64_t j = 0; j < pr.nb; j++)
                pr.sum_b[j] += pr.b[j];
            pr.sum_w0 += eng.w0;
            pr.n++;
            /* about 100 samples spread over the chain: each add costs
             * O(nb k r) (~4 ms on ML-100K at r 256, k 32, AVX2); fewer samples
             * lose accuracy on short chains (100 iterations, every 5th:
             * saved 0.9116 against the chain's 0.9093; every one: 0.9098) */
            if (pr.sum.r > 0 && (T - it) % sum_every == 0)
                fct_fm_summary_add(&eng, &pr.sum, pr.q, pr.nb);
            int pthin = pr.keep > 0 ? (T - burnin) / pr.keep : 1;
            if (pthin < 1)
                pthin = 1;
            if (pr.keep > 0 && (T - it) % pthin == 0 && (T - it) / pthin < pr.keep && pr.n_kept < pr.keep) {
                float *dst = pr.kept + (size_t)pr.n_kept++ * (size_t)pr.nb * (size_t)eng.k;
                for (int64_t j = 0; j < pr.nb; j++)
                    for (int32_t f = 0; f < eng.k; f++)
                        dst[j * eng.k + f] = (float)pr.q[(int64_t)f * pr.nb + j];
            }
            seconds += fct_fm_now() - s0;
            cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - sc0;
        }
        if (sum.r > 0 && it > burnin && (T - it) % sum_every == 0) {
            double s0 = fct_fm_now(), sc0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
            fct_fm_summary_add(&eng, &sum, eng.V, eng.n_slots);
            seconds += fct_fm_now() - s0; /* part of training: counted */
            cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - sc0;
        }
        if (keep > 0 && it > burnin && (T - it) % thin == 0 && (T - it) / thin < keep) {
            int32_t si = m->n_samples++;
            fct_fm_store_params(&eng, &m->sample_w0[si], m->sample_w + (size_t)si * NS,
                                  m->sample_V + (size_t)si * NS * (size_t)eng.k);
        }

        facto_fm_epoch_report rep;
        memset(&rep, 0, sizeof rep);
        rep.epoch = it;
        rep.epochs = T;
        rep.seconds = fct_fm_now() - t0;
        rep.samples_per_second = rep.seconds > 0 ? (double)eng.n / rep.seconds : 0.0;
        int want_report = callbacks && callbacks->on_epoch;
        if (test) {
            for (int64_t n = 0; n < test->n_rows; n++) {
                double p = n_avg > 0 ? sum_te[n] / n_avg
                                     : (eng.classify ? fct_fm_probit(pred_te[n]) : pred_te[n]);
                if (!eng.classify)
                    p = p < m->target_min ? m->target_min : p > m->target_max ? m->target_max : p;
                scores_te[n] = (float)p;
            }
            if (!eng.classify) {
                double s2 = 0.0;
                for (int64_t n = 0; n < test->n_rows; n++) {
                    double d = scores_te[n] - test->direct->labels[n];
                    s2 += d * d;
                }
                test_rmse_avg = test->n_rows ? sqrt(s2 / (double)test->n_rows) : NAN;
            }
            if (want_report &&
                (st = fct_fm_metrics_from_scores(ctx, m, test->direct, scores_te, &rep.test)) != FACTO_OK)
                goto done;
        }
        if (want_report) {
            for (int64_t n = 0; n < eng.n; n++) {
                double target = eng.classify ? eng.z[n] : eng.labels[n];
                double p = eng.eq[n].e + target;
                if (eng.classify)
                    p = fct_fm_probit(p);
                else
                    p = p < m->target_min ? m->target_min : p > m->target_max ? m->target_max : p;
                scores_tr[n] = (float)p;
            }
            if ((st = fct_fm_metrics_from_scores(ctx, m, train->direct, scores_tr, &rep.train)) != FACTO_OK)
                goto done;
            if (callbacks->on_epoch(&rep, callbacks->user_data))
                break;
        }
    }
    if (it > T)
        it = T;
    if (sync && chain == 0)
        atomic_store(&sync->done, 1); /* the other chains run no iteration past `it` */
    if (test_avg && test) {
        for (int64_t n = 0; n < test->n_rows; n++)
            test_avg[n] = n_avg > 0 ? sum_te[n] / n_avg
                                    : (eng.classify ? fct_fm_probit(pred_te[n]) : pred_te[n]);
    }
    if (pairs && (st = fct_fm_pairs_finish(&eng, &pr, m)) != FACTO_OK)
        goto done;
    /* The last sample is the model's point estimate (and the ALS solution). */
    {
        float *w = m->w, *V = m->V;
        fct_fm_store_params(&eng, &m->w0, w, V);
    }
    if (pairs && mode == FACTO_FM_CD_MCMC && n_lin > 0) {
        /* ratings model: w0 and w as posterior means (V stays the last sample) */
        double scale = eng.classify ? FACTO_FM_PROBIT_SCALE : 1.0;
        m->w0 = (float)(scale * sum_w0 / n_lin);
        for (int64_t s = 0; s < eng.n_slots; s++)
            m->w[s] = (float)(scale * sum_w[s] / n_lin);
    }
    if (keep > 0 && m->n_samples == 0) {
        fct_fm_store_params(&eng, &m->sample_w0[0], m->sample_w, m->sample_V);
        m->n_samples = 1;
    }
    if (sum.r > 0 && sum.n > 0) {
        if ((st = fct_fm_summary_finish(&eng, &sum, m, sum_w0 / n_lin, sum_w, n_lin)) != FACTO_OK)
            goto done;
    }
    /* w0 and w enter y^ linearly, so the mean over all post-burn-in samples
     * of their contribution is exact with their posterior means: every
     * stored sample carries those means and keeps its own V. */
    if (keep > 0 && n_lin > 0) {
        double scale = eng.classify ? FACTO_FM_PROBIT_SCALE : 1.0;
        for (int32_t t = 0; t < m->n_samples; t++) {
            m->sample_w0[t] = (float)(scale * sum_w0 / n_lin);
            float *w = m->sample_w + (size_t)t * NS;
            for (int64_t s = 0; s < eng.n_slots; s++)
                w[s] = (float)(scale * sum_w[s] / n_lin);
        }
    }
    if (result) {
        result->iterations = it;
        result->burnin = burnin;
        result->alpha = eng.alpha;
        result->test_rmse_avg = test_rmse_avg;
        result->seconds = seconds;
        result->cpu_seconds = cpu_seconds;
        result->chains = 1;
    }
    facto_log(ctx, FACTO_LOG_INFO, "%s: %d iterations, %.3f s, %d samples kept", mode == FACTO_FM_CD_ALS ? "als" : "mcmc",
              it, seconds, (int)m->n_samples);
    st = fct_ok(ctx);

done:
    fct_fm_summary_free(&sum);
    fct_fm_pairs_free(&pr);
    fct_fm_engine_free(&eng);
    free(seen);
    free(count);
    free(pred_tr);
    free(pred_te);
    free(sum_te);
    free(sum_w);
    free(scores_tr);
    free(scores_te);
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
                             const facto_fm_callbacks *callbacks, int burnin, int summary_rank,
                             fct_fm_cd_result *result)
{
    const int C = mode == FACTO_FM_CD_MCMC && m->params.mcmc_chains > 1 ? m->params.mcmc_chains : 1;
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
                                  const uint32_t *test_slots, const facto_fm_callbacks *callbacks,
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
        if (groups && mode == FACTO_FM_CD_MCMC && model->params.prior_groups) {
            tr.feature_group = groups;
            tr.n_groups = ng;
            facto_log(ctx, FACTO_LOG_INFO, "mcmc: %d one-hot fields in the training rows, a prior group each", (int)ng);
        }
        if (ok && !(mode == FACTO_FM_CD_MCMC && model->params.prior_groups)) {
            pair.feature_group = NULL; /* ALS, or MCMC with one group: no groups */
            pair.n_groups = 0;
        }
        if (ok) {
            uint32_t *ps[3] = {NULL, NULL, NULL};
            for (int b = 0; b < 2 && st == FACTO_OK; b++)
                st = fct_fm_map_rows(ctx, model, pair.block[b].rows, &ps[1 + b]);
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
                               const facto_fm_callbacks *callbacks)
{
    return fct_fm_cd_run_rows(ctx, model, FACTO_FM_CD_MCMC, train, train_slots, test, test_slots, callbacks, NULL);
}
