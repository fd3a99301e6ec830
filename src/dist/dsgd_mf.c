/*
 * dsgd_mf.c — distributed SGD for biased MF over rotating strata (Gemulla,
 * Nijkamp, Haas & Sismanis, KDD 2011, section 4, "DSGD"). With P ranks,
 * users [U_r, U_r+1) and items [I_b, I_b+1) are cut into P near-equal
 * blocks (U_r = n_users r / P). Rank r owns user block r: its ratings,
 * p_u and b_u. An epoch is P sub-epochs; in sub-epoch s rank r runs the SGD
 * kernel of sgd_mf.c (fct_mf_update) over the ratings of stratum
 * (r, (r + s) mod P) in a fresh random order, then sends the item block it
 * holds (q_i and b_i) to rank r - 1 and receives block (r + s + 1) mod P
 * from rank r + 1 (MPI_Sendrecv_replace). No two ranks ever touch the same
 * user or item row, so the P strata of a sub-epoch are interchangeable with
 * a serial run of them (the paper's condition for convergence). After P
 * sub-epochs every rank holds its own item block again; at the end rank 0
 * gathers P, Q, the biases and the training item lists into an ordinary mf
 * model.
 * The starting factors are those of fct_mf_init (every rank draws the same
 * N(0, init_std^2) sequence, P first, and keeps its rows) and with one rank
 * the shuffles are those of facto_mf_fit, so np 1 trains the single-process
 * model bit for bit. Traffic per epoch: P messages per rank of
 * ceil(n_items / P) (k + 1) floats, i.e. about n_items (k + 1) 4 bytes per
 * rank and P times that in all. Memory per rank: its shard, O(nnz / P), and
 * O((n_users + n_items) k / P) parameters; rank 0 also the whole model.
 */
#include "dist.h"

#include "data/dataset.h"
#include "data/fds.h"
#include "models/mf.h"
#include "solvers/mf_solvers.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* This rank's ratings, grouped by item block: stratum b is [bptr[b], bptr[b+1]). */
typedef struct dsgd_strata {
    int64_t *bptr;   /* [P + 1] */
    int32_t *users;  /* local user index (0 .. U_r+1 - U_r - 1) */
    int32_t *items;  /* index inside the item block */
    float *ratings;
    int64_t *order;  /* [n] a permutation of each stratum's positions */
} dsgd_strata;

static void dsgd_strata_free(dsgd_strata *s)
{
    free(s->bptr);
    free(s->users);
    free(s->items);
    free(s->ratings);
    free(s->order);
}

/* The rank's users' CSR (row_ptr from 0, global item indices) cut by item block. */
static facto_status dsgd_strata_build(facto_ctx *ctx, const int64_t *row_ptr, const int32_t *items,
                                      const float *ratings, int32_t nu, int32_t n_items, int parts, dsgd_strata *s)
{
    memset(s, 0, sizeof *s);
    int64_t n = row_ptr[nu];
    int32_t *blk = fct_malloc_array((size_t)n_items + 1, sizeof *blk);
    s->bptr = fct_calloc_array((size_t)parts + 2, sizeof *s->bptr);
    s->users = fct_malloc_array((size_t)n + 1, sizeof *s->users);
    s->items = fct_malloc_array((size_t)n + 1, sizeof *s->items);
    s->ratings = fct_malloc_array((size_t)n + 1, sizeof *s->ratings);
    s->order = fct_malloc_array((size_t)n + 1, sizeof *s->order);
    if (!blk || !s->bptr || !s->users || !s->items || !s->ratings || !s->order) {
        free(blk);
        dsgd_strata_free(s);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for a shard of %lld ratings", (long long)n);
    }
    for (int b = 0; b < parts; b++)
        for (int32_t i = fct_dist_begin(n_items, b, parts); i < fct_dist_begin(n_items, b + 1, parts); i++)
            blk[i] = b;
    for (int64_t x = 0; x < n; x++)
        s->bptr[blk[items[x]] + 2]++;
    for (int b = 0; b < parts; b++)
        s->bptr[b + 2] += s->bptr[b + 1];
    /* CSR order within a stratum: user by user, items ascending (with one
     * rank, the order of facto_mf_fit's triplets). */
    for (int32_t u = 0; u < nu; u++)
        for (int64_t x = row_ptr[u]; x < row_ptr[u + 1]; x++) {
            int b = blk[items[x]];
            int64_t at = s->bptr[b + 1]++;
            s->users[at] = u;
            s->items[at] = items[x] - fct_dist_begin(n_items, b, parts);
            s->ratings[at] = ratings[x];
        }
    free(blk);
    return FACTO_OK;
}

/* A gather to rank 0 of `count` elements of `type` per rank into `to` at displacements `displ`. */
static void dsgd_gather(const void *from, int count, void *to, const int *counts, const int *displ,
                        MPI_Datatype type, int size)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Gatherv(from, count, type, to, counts, displ, type, 0, MPI_COMM_WORLD);
    fct_dist_count(rank == 0 ? 0 : (int64_t)count * size); /* rank 0's own part stays */
}

typedef struct dsgd_job {
    int rank, parts;
    fct_dist_part p;        /* its users and ratings (dist.h) */
    int32_t i0, maxb;
} dsgd_job;

/* Rank 0: the whole model from every rank's user block and item block. */
static facto_status dsgd_gather_model(facto_ctx *ctx, const dsgd_job *j, const fct_mf_model *loc,
                                      const facto_mf_params *hp, double mu, float lo, float hi, fct_mf_model **out)
{
    const int P = j->parts, k = hp->num_factors;
    fct_mf_model *m = NULL;
    int *cnt = fct_malloc_array((size_t)P * 2, sizeof *cnt), *dsp = cnt ? cnt + P : NULL;
    int32_t nu = j->p.u1 - j->p.u0, nb = fct_dist_begin(j->p.n_items, j->rank + 1, P) - j->i0;
    facto_status st = FACTO_OK;
    if (!cnt)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    if (st == FACTO_OK && j->rank == 0) {
        m = fct_mf_model_alloc(j->p.n_users, j->p.n_items, k, j->p.n_ratings);
        if (!m || !(m->users = fct_idmap_clone(j->p.users)) || !(m->items = fct_idmap_clone(j->p.items_map)))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the gathered model");
    }
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK) {
        free(cnt);
        fct_mf_model_destroy(m);
        return st;
    }
    /* user factors and biases, item factors and biases (rank r holds item block r again) */
    for (int pass = 0; pass < 4; pass++) {
        int item = pass >= 2, width = pass % 2 == 0 ? k : 1;
        int32_t n = item ? j->p.n_items : j->p.n_users;
        for (int r = 0; r < P; r++) {
            cnt[r] = (fct_dist_begin(n, r + 1, P) - fct_dist_begin(n, r, P)) * width;
            dsp[r] = fct_dist_begin(n, r, P) * width;
        }
        const float *from = pass == 0 ? loc->P : pass == 1 ? loc->bu : pass == 2 ? loc->Q : loc->bi;
        float *to = !m ? NULL : pass == 0 ? m->P : pass == 1 ? m->bu : pass == 2 ? m->Q : m->bi;
        dsgd_gather(from, (item ? nb : nu) * width, to, cnt, dsp, MPI_FLOAT, 4);
    }
    /* the training item lists (recommend leaves them out): lengths, then items */
    int64_t *len = fct_malloc_array((size_t)nu + 1, sizeof *len);
    int ok = len != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        free(len);
        free(cnt);
        fct_mf_model_destroy(m);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    for (int32_t u = 0; u < nu; u++)
        len[u] = j->p.row_ptr[u + 1] - j->p.row_ptr[u];
    for (int r = 0; r < P; r++) {
        cnt[r] = fct_dist_begin(j->p.n_users, r + 1, P) - fct_dist_begin(j->p.n_users, r, P);
        dsp[r] = fct_dist_begin(j->p.n_users, r, P);
    }
    dsgd_gather(len, nu, m ? m->seen_ptr + 1 : NULL, cnt, dsp, MPI_INT64_T, 8);
    int mine = (int)j->p.row_ptr[nu];
    MPI_Gather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD);
    fct_dist_count(j->rank == 0 ? 0 : 4);
    if (m) {
        int64_t at = 0;
        for (int r = 0; r < P; r++) {
            dsp[r] = (int)at;
            at += cnt[r];
        }
        m->seen_ptr[0] = 0;
        for (int32_t u = 0; u < j->p.n_users; u++)
            m->seen_ptr[u + 1] += m->seen_ptr[u];
    }
    dsgd_gather(j->p.items, mine, m ? m->seen_items : NULL, cnt, dsp, MPI_INT32_T, 4);
    free(len);
    free(cnt);
    if (m) {
        m->params = *hp;
        m->mu = mu;
        m->min_rating = lo;
        m->max_rating = hi;
        *out = m;
    }
    return FACTO_OK;
}

facto_status fct_dist_check_mf(facto_ctx *ctx, const facto_params *params, int async, int n_ranks)
{
    (void)n_ranks;
    const facto_mf_params *hp = fct_params_struct(params);
    if (hp->optimizer != FACTO_OPT_SGD || hp->momentum != 0.0f)
        return fct_fail(ctx, FACTO_ERR_INVALID, "distributed mf trains with plain SGD (DSGD): use --optimizer sgd "
                                                "and --momentum 0");
    if (async)
        return fct_fail(ctx, FACTO_ERR_INVALID, "asynchronous training (--async) is fm's; mf trains by DSGD");
    return FACTO_OK;
}

facto_status fct_dist_fit_mf(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out)
{
    /* hr: the caller's hyperparameters, an unset reg_factors set from the data below */
    facto_mf_params hr = *(const facto_mf_params *)fct_params_struct(params);
    const facto_mf_params *hp = &hr;
    dsgd_job j;
    memset(&j, 0, sizeof j);
    MPI_Comm_rank(MPI_COMM_WORLD, &j.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &j.parts);
    const int P = j.parts, k = hp->num_factors;
    facto_status st = fct_mf_validate(ctx, hp);
    if (st == FACTO_OK)
        st = fct_dist_part_read(ctx, data, "mf", "ratings", j.rank, j.parts, &j.p);
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done_early;
    /* Every rank must see the same file (a shared folder) or the same data set. */
    int64_t shape[3] = {j.p.n_users, j.p.n_items, j.p.n_ratings}, lo3[3], hi3[3];
    MPI_Allreduce(shape, lo3, 3, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(shape, hi3, 3, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    fct_dist_count(2 * (int64_t)sizeof shape);
    if (memcmp(lo3, hi3, sizeof lo3) != 0)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "the ranks read different training data (users, items, ratings "
                                              "differ): every rank must read the same file");
    else if (j.p.n_ratings == 0)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "the training data set holds no ratings");
    else if ((int64_t)j.p.n_users * k > INT_MAX || (int64_t)j.p.n_items * k > INT_MAX || j.p.n_ratings > INT_MAX)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "distributed mf gathers the model with MPI counts of int: "
                                              "users x factors, items x factors and ratings must stay below 2^31");
    if (st != FACTO_OK)
        goto done_early;

    j.i0 = fct_dist_begin(j.p.n_items, j.rank, P);
    for (int b = 0; b < P; b++) {
        int32_t nb = fct_dist_begin(j.p.n_items, b + 1, P) - fct_dist_begin(j.p.n_items, b, P);
        j.maxb = nb > j.maxb ? nb : j.maxb;
    }
    const int32_t nu = j.p.u1 - j.p.u0;
    dsgd_strata s;
    memset(&s, 0, sizeof s);
    fct_mf_model *loc = NULL;
    fct_mf_solver *solver = NULL;
    st = dsgd_strata_build(ctx, j.p.row_ptr, j.p.items, j.p.ratings, nu, j.p.n_items, P, &s);
    if (st == FACTO_OK) {
        loc = fct_mf_model_alloc(nu, j.maxb, k, 1);
        if (!loc)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for a model block of %d users, %d items, %d factors",
                          (int)nu, (int)j.maxb, k);
    }
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;

    /* mu, rating range: over every rank's ratings */
    double sum = 0.0;
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t x = 0; x < j.p.row_ptr[nu]; x++) {
        sum += j.p.ratings[x];
        lo = j.p.ratings[x] < lo ? j.p.ratings[x] : lo;
        hi = j.p.ratings[x] > hi ? j.p.ratings[x] : hi;
    }
    double sum_all = 0.0;
    float lo_all = 0.0f, hi_all = 0.0f;
    MPI_Allreduce(&sum, &sum_all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&lo, &lo_all, 1, MPI_FLOAT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hi, &hi_all, 1, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
    fct_dist_count(16);
    const double mu = sum_all / (double)j.p.n_ratings;
    loc->mu = mu;
    if (isnan(hr.reg_factors)) { /* facto_mf_fit's rule over every rank's ratings */
        uint8_t *mark = fct_calloc_array((size_t)j.p.n_items, 1);
        double sq[2] = {0.0, 0.0}, sq_all[2] = {0.0, 0.0}; /* squared deviations, users with a rating */
        int ok = mark != NULL, all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (!all_ok) {
            free(mark);
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int32_t u = 0; u < nu; u++) {
            sq[1] += j.p.row_ptr[u + 1] > j.p.row_ptr[u];
            for (int64_t x = j.p.row_ptr[u]; x < j.p.row_ptr[u + 1]; x++) {
                sq[0] += ((double)j.p.ratings[x] - mu) * ((double)j.p.ratings[x] - mu);
                mark[j.p.items[x]] = 1;
            }
        }
        MPI_Allreduce(sq, sq_all, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, mark, j.p.n_items, MPI_UINT8_T, MPI_MAX, MPI_COMM_WORLD);
        fct_dist_count(16 + (int64_t)j.p.n_items);
        int32_t ni = 0;
        for (int32_t i = 0; i < j.p.n_items; i++)
            ni += mark[i];
        free(mark);
        hr.reg_factors = fct_mf_reg_from_data(sqrt(sq_all[0] / (double)j.p.n_ratings), j.p.n_ratings,
                                              (int32_t)sq_all[1], ni);
    }
    solver = fct_mf_solver_new(loc, hp);
    if ((st = fct_dist_agree(ctx, solver ? FACTO_OK : fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the solver")))
        != FACTO_OK)
        goto done;

    /* fct_mf_init's start: the same N(0, init_std^2) draws, P then Q; each rank keeps its rows */
    fct_rng rng;
    fct_rng_seed(&rng, hp->seed);
    for (int64_t x = 0; x < (int64_t)j.p.n_users * k; x++) {
        float v = (float)(hp->init_std * fct_rng_normal(&rng));
        if (x >= (int64_t)j.p.u0 * k && x < (int64_t)j.p.u1 * k)
            loc->P[x - (int64_t)j.p.u0 * k] = v;
    }
    const int32_t i1 = fct_dist_begin(j.p.n_items, j.rank + 1, P);
    for (int64_t x = 0; x < (int64_t)j.p.n_items * k; x++) {
        float v = (float)(hp->init_std * fct_rng_normal(&rng));
        if (x >= (int64_t)j.i0 * k && x < (int64_t)i1 * k)
            loc->Q[x - (int64_t)j.i0 * k] = v;
    }
    /* Rank 0 shuffles with the generator as facto_mf_fit does; the others with their own. */
    if (j.rank > 0)
        fct_rng_seed(&rng, hp->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(j.rank + 1)));

    /* each stratum's order holds positions relative to its start, reshuffled
     * every epoch from the last one (as facto_mf_fit's order) */
    for (int b = 0; b < P; b++)
        for (int64_t x = s.bptr[b]; x < s.bptr[b + 1]; x++)
            s.order[x] = x - s.bptr[b];
    float lr = hp->learning_rate;
    int stop = 0;
    const int up = (j.rank + P - 1) % P, down = (j.rank + 1) % P;
    for (int epoch = 1; epoch <= hp->epochs && !stop; epoch++) {
        double t0 = MPI_Wtime(), sse = 0.0;
        int64_t bytes0 = fct_dist_bytes;
        fct_optim_rate rf, rb;
        fct_mf_rates_at(solver, lr, 1, &rf, &rb);
        for (int sub = 0; sub < P; sub++) {
            int b = (j.rank + sub) % P;
            int64_t sb = s.bptr[b], se = s.bptr[b + 1];
            fct_rng_shuffle_i64(&rng, s.order + sb, se - sb);
            for (int64_t x = sb; x < se; x++) {
                int64_t y = sb + s.order[x];
                sse += fct_mf_update(solver, loc, (float)mu, s.users[y], s.items[y], s.ratings[y], &rf, &rb);
            }
            if (P > 1) {
                MPI_Sendrecv_replace(loc->Q, j.maxb * k, MPI_FLOAT, up, 1, down, 1, MPI_COMM_WORLD,
                                     MPI_STATUS_IGNORE);
                MPI_Sendrecv_replace(loc->bi, j.maxb, MPI_FLOAT, up, 2, down, 2, MPI_COMM_WORLD,
                                     MPI_STATUS_IGNORE);
                fct_dist_count((int64_t)j.maxb * (k + 1) * 4);
            }
        }
        double sse_all = 0.0;
        MPI_Allreduce(&sse, &sse_all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        fct_dist_count(8);
        double secs = MPI_Wtime() - t0;
        int64_t bytes = fct_dist_bytes_all(bytes0);
        int finite = isfinite(sse_all) && fct_mf_params_finite(loc), all_finite = 0;
        MPI_Allreduce(&finite, &all_finite, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (!all_finite) {
            st = fct_fail(ctx, FACTO_ERR_DIVERGED, "training diverged in epoch %d (the loss is not finite): lower "
                                                   "the learning rate (--lr, now %g)", epoch, (double)lr);
            goto done;
        }
        if (j.rank == 0 && data->on_epoch) {
            facto_dist_report rep = {epoch, hp->epochs, sqrt(sse_all / (double)j.p.n_ratings), secs,
                                     secs > 0.0 ? (double)j.p.n_ratings / secs : 0.0, bytes, NAN};
            stop = data->on_epoch(&rep, data->user_data) != 0;
        }
        MPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
        fct_dist_count(j.rank == 0 ? 4 * (P - 1) : 0);
        lr *= hp->lr_decay;
    }
    fct_mf_model *m = NULL;
    st = dsgd_gather_model(ctx, &j, loc, hp, mu, lo_all, hi_all, &m);
    if (st == FACTO_OK && m)
        *out = &m->base;
done:
    fct_mf_solver_free(solver);
    fct_mf_model_destroy(loc);
    dsgd_strata_free(&s);
done_early:
    fct_dist_part_free(&j.p);
    return st;
}
