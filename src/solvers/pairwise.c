/*
 * pairwise.c — BPR and WARP epochs over the shared factor model
 * (pairwise.h): the epoch's shuffled order of training pairs, each
 * thread's chunk of it with its own random stream, the negative draws, the
 * pairwise loss (loss.h) and one lazy optimizer step (optim.h) on the
 * three rows and two biases a triple touches. O(k) per update.
 */
#include "pairwise.h"

#include <math.h>
#include <omp.h>
#include <string.h>

struct fct_pair_solver {
    fct_pair_cfg cfg;
    fct_factors_model *m;
    const int64_t *row_ptr;  /* the training CSR (borrowed) */
    const int32_t *items;
    int64_t nnz;
    int32_t *pair_user;      /* [nnz] the user of each training pair */
    int64_t *order;          /* [nnz] the epoch's order */
    fct_optim opt;
    fct_optim_param U, V, b; /* b: rows 0 when the model has no item bias */
    fct_negsampler neg;
    float *scratch;          /* [n_threads, 3 k] gradient rows */
    fct_pair_stats *part;    /* [n_threads] each thread's figures */
    int64_t step_base;       /* updates before this epoch (Adam's clock) */
};

void fct_pair_grads(const float *u, const float *vi, const float *vj, int k, float d, float *gu, float *gi, float *gj)
{
    for (int f = 0; f < k; f++) {
        gu[f] = d * (vi[f] - vj[f]);
        gi[f] = d * u[f];
        gj[f] = -d * u[f];
    }
}

void fct_pair_solver_free(fct_pair_solver *s)
{
    if (!s)
        return;
    free(s->pair_user);
    free(s->order);
    fct_optim_param_free(&s->U);
    fct_optim_param_free(&s->V);
    fct_optim_param_free(&s->b);
    fct_negsampler_free(&s->neg);
    fct_aligned_free(s->scratch);
    free(s->part);
    free(s);
}

facto_status fct_pair_solver_new(facto_ctx *ctx, const fct_pair_cfg *cfg, fct_factors_model *m,
                                 const facto_dataset *train, fct_pair_solver **out)
{
    *out = NULL;
    if ((cfg->loss != FCT_LOSS_BPR && cfg->loss != FCT_LOSS_WARP) || cfg->n_threads < 1 ||
        (cfg->loss == FCT_LOSS_WARP && cfg->max_sampled < 1) || train->n_users != m->n_users ||
        train->n_items != m->n_items)
        return fct_fail(ctx, FACTO_ERR_INVALID, "pairwise solver: bad configuration or data");
    fct_pair_solver *s = calloc(1, sizeof *s);
    if (!s)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", m->base.ops->name);
    s->cfg = *cfg;
    s->m = m;
    s->row_ptr = train->row_ptr;
    s->items = train->items;
    s->nnz = train->n_ratings;
    const size_t nnz = (size_t)(s->nnz > 0 ? s->nnz : 1), k = (size_t)m->k;
    fct_optim_init(&s->opt, cfg->optimizer);
    s->pair_user = fct_malloc_array(nnz, sizeof *s->pair_user);
    s->order = fct_malloc_array(nnz, sizeof *s->order);
    s->scratch = fct_aligned_alloc((size_t)cfg->n_threads * 3 * k * sizeof(float));
    s->part = fct_calloc_array((size_t)cfg->n_threads, sizeof *s->part);
    int ok = s->pair_user && s->order && s->scratch && s->part &&
             fct_optim_param_init(&s->U, &s->opt, m->U, m->n_users, m->k) == 0 &&
             fct_optim_param_init(&s->V, &s->opt, m->V, m->n_items, m->k) == 0 &&
             fct_optim_param_init(&s->b, &s->opt, m->item_bias, m->item_bias ? m->n_items : 0, 1) == 0 &&
             fct_negsampler_init(&s->neg, cfg->negatives, m->n_items, train->items, train->n_ratings) == 0;
    if (!ok) {
        fct_pair_solver_free(s);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for the solver (%lld pairs, %d factors)",
                        m->base.ops->name, (long long)train->n_ratings, m->k);
    }
    for (int32_t u = 0; u < train->n_users; u++)
        for (int64_t x = train->row_ptr[u]; x < train->row_ptr[u + 1]; x++)
            s->pair_user[x] = u;
    *out = s;
    return FACTO_OK;
}

/* s(u, i) for the row pu of u. */
static inline float fct_pair_score(const fct_factors_model *m, const float *pu, int32_t i)
{
    const float d = fct_dot(pu, m->V + (size_t)i * (size_t)m->k, m->k);
    return m->item_bias ? m->item_bias[i] + d : d;
}

/* One optimizer step on the rows of (u, i, j) for loss derivative d. */
static inline void fct_pair_step(const fct_pair_solver *s, int32_t u, int32_t i, int32_t j, float d,
                                 const fct_optim_rate *rf, const fct_optim_rate *rb, float *g)
{
    const fct_factors_model *m = s->m;
    const int k = m->k;
    float *gu = g, *gi = g + k, *gj = g + 2 * k;
    fct_pair_grads(m->U + (size_t)u * (size_t)k, m->V + (size_t)i * (size_t)k, m->V + (size_t)j * (size_t)k, k, d,
                   gu, gi, gj);
    fct_optim_step(&s->opt, rf, &s->U, u, gu);
    fct_optim_step(&s->opt, rf, &s->V, i, gi);
    fct_optim_step(&s->opt, rf, &s->V, j, gj);
    if (m->item_bias) {
        fct_optim_step1(&s->opt, rb, &s->b, i, d);
        fct_optim_step1(&s->opt, rb, &s->b, j, -d);
    }
}

/* The positions [begin, end) of the epoch's order, one random stream. */
static void fct_pair_chunk(const fct_pair_solver *s, int64_t begin, int64_t end, fct_rng *rng, float *g,
                           fct_pair_stats *st)
{
    const fct_pair_cfg *c = &s->cfg;
    const fct_factors_model *m = s->m;
    const int k = m->k;
    const int per_step = s->opt.kind == FCT_OPTIM_ADAM;
    fct_optim_rate rf = fct_optim_rate_of(&s->opt, fct_optim_clock_at(&s->opt, 1), c->lr, c->reg), rb = rf;
    rb.wd = c->reg_bias;
    const int warp = c->loss == FCT_LOSS_WARP;
    for (int64_t x = begin; x < end; x++) {
        const int64_t at = s->order[x];
        const int32_t u = s->pair_user[at], i = s->items[at];
        const int32_t *pos = s->items + s->row_ptr[u];
        const int64_t n_pos = s->row_ptr[u + 1] - s->row_ptr[u];
        const float *pu = m->U + (size_t)u * (size_t)k;
        const float sp = fct_pair_score(m, pu, i);
        int32_t j = -1;
        double weight = 1.0;
        fct_loss_value l = {0.0, 0.0, 0.0};
        st->n++;
        if (!warp) {
            for (int t = 0; t < FCT_PAIR_NEG_TRIES && j < 0; t++) {
                int32_t cand = fct_negsampler_draw(&s->neg, rng);
                st->trials++;
                if (fct_sorted_find(pos, n_pos, cand) < 0)
                    j = cand;
            }
            if (j < 0)
                continue;
            l = fct_loss_bpr((double)sp, (double)fct_pair_score(m, pu, j));
        } else {
            for (int32_t t = 1; t <= c->max_sampled; t++) {
                const int32_t cand = fct_negsampler_draw(&s->neg, rng);
                st->trials++;
                const float sn = fct_pair_score(m, pu, cand);
                if (sn > sp - 1.0f && fct_sorted_find(pos, n_pos, cand) < 0) {
                    j = cand;
                    weight = fct_warp_weight(m->n_items, t);
                    l = fct_loss_warp((double)sp, (double)sn);
                    break;
                }
            }
            if (j < 0 || l.dscore == 0.0 || weight == 0.0)
                continue; /* weight 0: a violation only after (n_items - 1) / 2 trials */
        }
        st->loss += weight * l.loss;
        st->updates++;
        if (per_step) {
            rf = fct_optim_rate_of(&s->opt, fct_optim_clock_at(&s->opt, s->step_base + x + 1), c->lr, c->reg);
            rb = rf;
            rb.wd = c->reg_bias;
        }
        fct_pair_step(s, u, i, j, (float)(weight * l.dscore), &rf, &rb, g);
    }
}

/* The stream of thread t in epoch e: its own seed through splitmix64. */
static void fct_pair_stream(fct_rng *rng, uint64_t seed, int epoch, int t)
{
    fct_rng_seed(rng, seed ^ (0x9e3779b97f4a7c15ull * ((uint64_t)epoch * 4096u + (uint64_t)t + 1u)));
}

void fct_pair_epoch(fct_pair_solver *s, int epoch, fct_pair_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    const int64_t n = s->nnz;
    fct_rng rng;
    fct_pair_stream(&rng, s->cfg.seed, epoch, 4095);
    for (int64_t x = 0; x < n; x++)
        s->order[x] = x;
    fct_rng_shuffle_i64(&rng, s->order, n);
    const int nt = s->cfg.n_threads;
    const size_t k3 = 3 * (size_t)s->m->k;
    if (nt <= 1) {
        fct_pair_stream(&rng, s->cfg.seed, epoch, 0);
        fct_pair_chunk(s, 0, n, &rng, s->scratch, stats);
    } else {
        fct_pair_stats *part = s->part;
        memset(part, 0, (size_t)nt * sizeof *part);
        /* Hogwild: static chunks of the order, rows shared without locks. */
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            fct_rng r;
            fct_pair_stream(&r, s->cfg.seed, epoch, t);
            const int64_t b = n * t / T, e = n * (t + 1) / T;
            fct_pair_chunk(s, b, e, &r, s->scratch + (size_t)t * k3, &part[t]);
        }
        for (int t = 0; t < nt; t++) {
            stats->loss += part[t].loss;
            stats->n += part[t].n;
            stats->updates += part[t].updates;
            stats->trials += part[t].trials;
        }
    }
    s->step_base += n;
}
