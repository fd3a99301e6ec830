/*
 * ials_dist.c — iALS across the ranks of an MPI job, users and items both
 * sharded, the Gram matrix all-reduced. With P ranks, users [U_r, U_r+1)
 * and items [I_r, I_r+1) are cut into P near-equal blocks (U_r = n_users r
 * / P, as the .fds shard reader cuts them). Rank r reads the interactions
 * of its users (a view of the whole data set, or its shard of the .fds
 * file by offset), then the ranks exchange them once (MPI_Alltoallv of
 * (user, item, weight) triples, each to the owner of its item) so rank r
 * also holds the item-major view of items [I_r, I_r+1), users ascending
 * within an item as fit_ials.c's transpose has them. Every rank keeps the
 * whole U and V. An iteration is fit_ials.c's two half-steps; in each,
 * every rank computes the Gram matrix of its own rows of the fixed side
 * (fct_gram_tn, k x k), MPI_Allreduce sums it, the rank re-solves its own
 * rows (fct_ials_solve_side_gram: the same CG steps or Cholesky solve as
 * one process), and MPI_Allgatherv gives every rank the updated side.
 * After the user step the ranks sum the objective (each its users' share
 * with V's Gram matrix, plus its items' L2) for the epoch report. At the
 * end rank 0 holds U and V already; it gathers the training item lists
 * (the seen lists of the model) and builds an ordinary ials model.
 *
 * The start is fit_ials.c's (every rank draws the same N(0, init_std^2 /
 * k) sequence, U then V). With one rank every sum is in the single
 * process's order, so the model has the same bytes. With more ranks only
 * the Gram matrices (and the reported loss) are summed in another order.
 *
 * Traffic per iteration, all ranks: 2 P k^2 4 bytes for the two
 * all-reductions of G, (P - 1) (n_users + n_items) k 4 for the two
 * all-gathers, plus 20 P bytes of failure flags and the loss. Once before the
 * first iteration: 12 bytes per interaction that changes rank in the
 * exchange (about nnz (P - 1) / P of them); once after the last: the seen
 * lists (4 nnz + 8 n_users bytes, less rank 0's own). Memory per rank:
 * (n_users + n_items) k floats, its users' and its items' interactions.
 */
#include "dist.h"

#include "data/dataset.h"
#include "data/fds.h"
#include "kernels/blas.h"
#include "models/ials.h"
#include "solvers/ials_cg.h"

#include <limits.h>
#include <math.h>
#include <string.h>

typedef struct ials_job {
    int rank, parts;
    fct_dist_part p;        /* its users and ratings (dist.h) */
    int32_t i0, i1;
    /* items [i0, i1), item-major: */
    int64_t *iptr;          /* [i1 - i0 + 1] */
    int32_t *iusers;        /* global user indices, ascending within an item */
    float *ival;
} ials_job;

static void ials_job_free(ials_job *j)
{
    fct_dist_part_free(&j->p);
    free(j->iptr);
    free(j->iusers);
    free(j->ival);
}


/* Weights must be finite and >= 0 (fit_ials.c's rule), so every confidence is >= 1. */
static facto_status ials_check_weights(facto_ctx *ctx, const ials_job *j)
{
    for (int32_t u = 0; u < j->p.u1 - j->p.u0; u++)
        for (int64_t x = j->p.row_ptr[u]; x < j->p.row_ptr[u + 1]; x++) {
            float w = j->p.ratings[x];
            if (isfinite(w) && w >= 0.0f)
                continue;
            if (j->p.users && j->p.items_map)
                return fct_fail(ctx, FACTO_ERR_INVALID, "ials: the weight of user '%s', item '%s' is %g; interaction "
                                "weights must be finite and >= 0", facto_idmap_name(j->p.users, j->p.u0 + u),
                                facto_idmap_name(j->p.items_map, j->p.items[x]), (double)w);
            return fct_fail(ctx, FACTO_ERR_INVALID, "ials: the weight of user %d, item %d (0-based) is %g; "
                            "interaction weights must be finite and >= 0", (int)(j->p.u0 + u), (int)j->p.items[x],
                            (double)w);
        }
    return FACTO_OK;
}

/* One interaction on its way to the owner of its item. */
typedef struct ials_triple {
    int32_t user, item;
    float w;
} ials_triple;

/*
 * The item-major view of items [i0, i1): every rank sends each of its
 * interactions to the rank that owns the item (MPI_Alltoallv), in user
 * order; received in rank order, the users arrive ascending, and a stable
 * counting sort by item keeps them so. Collective; every rank returns the
 * same status.
 */
static facto_status ials_exchange(facto_ctx *ctx, ials_job *j)
{
    const int P = j->parts;
    const int32_t nu = j->p.u1 - j->p.u0, ni = j->i1 - j->i0;
    const int64_t n = j->p.row_ptr[nu];
    int *cnt = fct_calloc_array((size_t)P * 4, sizeof *cnt);
    int32_t *owner = fct_malloc_array((size_t)j->p.n_items + 1, sizeof *owner);
    int64_t *pos = fct_malloc_array((size_t)P + 1, sizeof *pos);
    ials_triple *send = fct_malloc_array((size_t)n + 1, sizeof *send), *recv = NULL;
    MPI_Datatype triple = MPI_DATATYPE_NULL;
    facto_status st = FACTO_OK;
    if (!cnt || !owner || !pos || !send)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the exchange of %lld interactions", (long long)n);
    else if (n > INT_MAX)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "distributed ials: a rank holds %lld interactions; MPI counts of int "
                      "allow below 2^31 (use more ranks)", (long long)n);
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;
    int *scnt = cnt, *sdsp = cnt + P, *rcnt = cnt + 2 * P, *rdsp = cnt + 3 * P;
    for (int b = 0; b < P; b++)
        for (int32_t i = fct_dist_begin(j->p.n_items, b, P); i < fct_dist_begin(j->p.n_items, b + 1, P); i++)
            owner[i] = b;
    for (int64_t x = 0; x < n; x++)
        scnt[owner[j->p.items[x]]]++;
    int64_t at = 0;
    for (int b = 0; b < P; b++) {
        sdsp[b] = (int)at;
        pos[b] = at;
        at += scnt[b];
    }
    for (int32_t u = 0; u < nu; u++)
        for (int64_t x = j->p.row_ptr[u]; x < j->p.row_ptr[u + 1]; x++) {
            ials_triple t = {j->p.u0 + u, j->p.items[x], j->p.ratings[x]};
            send[pos[owner[t.item]]++] = t;
        }
    MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, MPI_COMM_WORLD);
    fct_dist_count((int64_t)(P - 1) * (int64_t)sizeof(int));
    int64_t total = 0;
    for (int b = 0; b < P; b++) {
        rdsp[b] = total <= INT_MAX ? (int)total : 0;
        total += rcnt[b];
    }
    if (total > INT_MAX)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "distributed ials: a rank's items hold %lld interactions; MPI counts "
                      "of int allow below 2^31 (use more ranks)", (long long)total);
    else if (!(recv = fct_malloc_array((size_t)total + 1, sizeof *recv)) ||
             !(j->iptr = fct_calloc_array((size_t)ni + 1, sizeof *j->iptr)) ||
             !(j->iusers = fct_malloc_array((size_t)total + 1, sizeof *j->iusers)) ||
             !(j->ival = fct_malloc_array((size_t)total + 1, sizeof *j->ival)))
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld interactions of a rank's items",
                      (long long)total);
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;
    MPI_Type_contiguous((int)sizeof(ials_triple), MPI_BYTE, &triple);
    MPI_Type_commit(&triple);
    MPI_Alltoallv(send, scnt, sdsp, triple, recv, rcnt, rdsp, triple, MPI_COMM_WORLD);
    MPI_Type_free(&triple);
    fct_dist_count((n - scnt[j->rank]) * (int64_t)sizeof(ials_triple));
    /* stable counting sort by item (users stay ascending within an item) */
    for (int64_t x = 0; x < total; x++)
        j->iptr[recv[x].item - j->i0 + 1]++;
    for (int32_t i = 0; i < ni; i++)
        j->iptr[i + 1] += j->iptr[i];
    int64_t *fill = fct_malloc_array((size_t)ni + 1, sizeof *fill);
    if (fill) {
        memcpy(fill, j->iptr, ((size_t)ni + 1) * sizeof *fill);
        for (int64_t x = 0; x < total; x++) {
            int64_t y = fill[recv[x].item - j->i0]++;
            j->iusers[y] = recv[x].user;
            j->ival[y] = recv[x].w;
        }
    } else {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    free(fill);
    st = fct_dist_agree(ctx, st);
done:
    free(cnt);
    free(owner);
    free(pos);
    free(send);
    free(recv);
    return st;
}

/* G = the sum over ranks of X_own^T X_own: [k, k], on every rank. */
static void ials_gram(const float *X_own, int32_t n_own, int k, float *G)
{
    fct_blas_set_threads(1);
    fct_gram_tn(n_own, k, X_own, k, G);
    MPI_Allreduce(MPI_IN_PLACE, G, k * k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    fct_dist_count((int64_t)k * k * (int64_t)sizeof(float));
}

/* Every rank's block of X [n, k] (rank r's rows n r / P .. n (r + 1) / P) to every rank. */
static void ials_allgather(float *X, int32_t n, int k, int *cnt, int *dsp, int rank, int parts)
{
    for (int r = 0; r < parts; r++) {
        cnt[r] = (fct_dist_begin(n, r + 1, parts) - fct_dist_begin(n, r, parts)) * k;
        dsp[r] = fct_dist_begin(n, r, parts) * k;
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, X, cnt, dsp, MPI_FLOAT, MPI_COMM_WORLD);
    fct_dist_count((int64_t)cnt[rank] * (int64_t)sizeof(float) * (parts - 1));
}

/* Rank 0: the whole model (id maps, seen lists gathered from every rank, U, V). */
static facto_status ials_build_model(facto_ctx *ctx, const ials_job *j, const fct_ials_params *p, const float *U,
                                     const float *V, facto_model **out)
{
    const int P = j->parts;
    const int32_t nu = j->p.u1 - j->p.u0;
    int *cnt = fct_malloc_array((size_t)P * 2, sizeof *cnt), *dsp = cnt ? cnt + P : NULL;
    int64_t *len = fct_malloc_array((size_t)nu + 1, sizeof *len);
    int64_t *seen_ptr = NULL;
    int32_t *seen_items = NULL;
    facto_status st = FACTO_OK;
    if (!cnt || !len)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    if (st == FACTO_OK && j->rank == 0) {
        seen_ptr = fct_calloc_array((size_t)j->p.n_users + 1, sizeof *seen_ptr);
        seen_items = fct_malloc_array((size_t)j->p.n_ratings + 1, sizeof *seen_items);
        if (!seen_ptr || !seen_items)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the seen lists of %lld interactions",
                          (long long)j->p.n_ratings);
    }
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;
    for (int32_t u = 0; u < nu; u++)
        len[u] = j->p.row_ptr[u + 1] - j->p.row_ptr[u];
    for (int r = 0; r < P; r++) {
        cnt[r] = fct_dist_begin(j->p.n_users, r + 1, P) - fct_dist_begin(j->p.n_users, r, P);
        dsp[r] = fct_dist_begin(j->p.n_users, r, P);
    }
    MPI_Gatherv(len, nu, MPI_INT64_T, seen_ptr ? seen_ptr + 1 : NULL, cnt, dsp, MPI_INT64_T, 0, MPI_COMM_WORLD);
    fct_dist_count(j->rank == 0 ? 0 : (int64_t)nu * 8);
    int mine = (int)j->p.row_ptr[nu];
    MPI_Gather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD);
    fct_dist_count(j->rank == 0 ? 0 : 4);
    if (j->rank == 0) {
        int64_t at = 0;
        for (int r = 0; r < P; r++) {
            dsp[r] = (int)at;
            at += cnt[r];
        }
        for (int32_t u = 0; u < j->p.n_users; u++)
            seen_ptr[u + 1] += seen_ptr[u];
    }
    MPI_Gatherv(j->p.items, mine, MPI_INT32_T, seen_items, cnt, dsp, MPI_INT32_T, 0, MPI_COMM_WORLD);
    fct_dist_count(j->rank == 0 ? 0 : (int64_t)mine * 4);
    if (j->rank == 0) {
        /* fct_factors_create reads the sizes, the CSR's offsets and items, and the id maps */
        facto_dataset view;
        memset(&view, 0, sizeof view);
        view.n_users = j->p.n_users;
        view.n_items = j->p.n_items;
        view.n_ratings = j->p.n_ratings;
        view.row_ptr = seen_ptr;
        view.items = seen_items;
        view.user_map = (facto_idmap *)j->p.users;
        view.item_map = (facto_idmap *)j->p.items_map;
        const fct_factors_foldin foldin = {p->alpha, p->unobserved_weight, p->reg, p->reg_exponent};
        fct_factors_model *m = NULL;
        st = fct_factors_create(ctx, &fct_ials_ops, p, &view, p->num_factors, 0, &foldin, &m);
        if (st == FACTO_OK) {
            memcpy(m->U, U, (size_t)j->p.n_users * (size_t)p->num_factors * sizeof *U);
            memcpy(m->V, V, (size_t)j->p.n_items * (size_t)p->num_factors * sizeof *V);
            st = fct_factors_ready(ctx, m);
        }
        if (st == FACTO_OK)
            *out = &m->base;
        else
            fct_factors_destroy(m);
    }
done:
    free(cnt);
    free(len);
    free(seen_ptr);
    free(seen_items);
    return st;
}

facto_status fct_dist_check_ials(facto_ctx *ctx, const facto_params *params, int async, int n_ranks)
{
    (void)params;
    (void)n_ranks;
    if (async)
        return fct_fail(ctx, FACTO_ERR_INVALID, "asynchronous training (--async) is fm's; ials alternates exact "
                                                "half-steps");
    return FACTO_OK;
}

facto_status fct_dist_fit_ials(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                               facto_model **out)
{
    const fct_ials_params *p = fct_params_struct(params);
    ials_job j;
    memset(&j, 0, sizeof j);
    MPI_Comm_rank(MPI_COMM_WORLD, &j.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &j.parts);
    const int P = j.parts, k = p->num_factors;
    float *U = NULL, *V = NULL, *G = NULL;
    int *cnt = NULL;
    facto_status st = fct_params_check(ctx, &fct_ials_ptable, p);
    if (st == FACTO_OK)
        st = fct_dist_part_read(ctx, data, "ials", "interactions", j.rank, j.parts, &j.p);
    if (st == FACTO_OK)
        st = ials_check_weights(ctx, &j);
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;
    /* Every rank must see the same file (a shared folder) or the same data set. */
    int64_t shape[3] = {j.p.n_users, j.p.n_items, j.p.n_ratings}, lo3[3], hi3[3];
    MPI_Allreduce(shape, lo3, 3, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(shape, hi3, 3, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    fct_dist_count(2 * (int64_t)sizeof shape);
    if (memcmp(lo3, hi3, sizeof lo3) != 0)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "the ranks read different training data (users, items, interactions "
                                              "differ): every rank must read the same file");
    else if (j.p.n_ratings == 0)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "the training data set holds no interactions");
    else if ((int64_t)j.p.n_users * k > INT_MAX || (int64_t)j.p.n_items * k > INT_MAX || j.p.n_ratings > INT_MAX)
        st = fct_fail(ctx, FACTO_ERR_INVALID, "distributed ials exchanges the factors with MPI counts of int: "
                                              "users x factors, items x factors and interactions must stay below "
                                              "2^31");
    if (st != FACTO_OK)
        goto done;
    j.i0 = fct_dist_begin(j.p.n_items, j.rank, P);
    j.i1 = fct_dist_begin(j.p.n_items, j.rank + 1, P);
    if ((st = ials_exchange(ctx, &j)) != FACTO_OK)
        goto done;

    U = fct_aligned_alloc(((size_t)j.p.n_users * (size_t)k + 1) * sizeof *U);
    V = fct_aligned_alloc(((size_t)j.p.n_items * (size_t)k + 1) * sizeof *V);
    G = fct_aligned_alloc((size_t)k * (size_t)k * sizeof *G);
    cnt = fct_malloc_array((size_t)P * 2, sizeof *cnt);
    if (!U || !V || !G || !cnt)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d x %d user and %d x %d item factors",
                      (int)j.p.n_users, k, (int)j.p.n_items, k);
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
        goto done;
    /* fit_ials.c's start: U then V from N(0, init_std^2 / k), on every rank alike */
    fct_rng rng;
    fct_rng_seed(&rng, p->seed);
    const double std = (double)p->init_std / sqrt((double)k);
    for (size_t x = 0; x < (size_t)j.p.n_users * (size_t)k; x++)
        U[x] = (float)(std * fct_rng_normal(&rng));
    for (size_t x = 0; x < (size_t)j.p.n_items * (size_t)k; x++)
        V[x] = (float)(std * fct_rng_normal(&rng));
    /* the same checks as fit_ials.c, on a view of the factors (every rank holds the same) */
    fct_factors_model look;
    memset(&look, 0, sizeof look);
    look.n_users = j.p.n_users;
    look.n_items = j.p.n_items;
    look.k = k;
    look.U = U;
    look.V = V;
    const char *bad = fct_factors_unusable(&look);
    if (bad) {
        st = fct_fail(ctx, FACTO_ERR_DIVERGED, "ials: the initial factors, drawn with standard deviation init_std / "
                      "sqrt(num_factors), are unusable (%s): lower --init_std (now %g)", bad, (double)p->init_std);
        goto done;
    }

    const int32_t nu = j.p.u1 - j.p.u0, ni = j.i1 - j.i0;
    const fct_ials_cfg cfg = {k, p->alpha, p->unobserved_weight, p->reg, p->reg_exponent, p->cg_steps, 1};
    const fct_ials_side items = {V + (size_t)j.i0 * (size_t)k, ni, j.iptr, j.iusers, j.ival, U, j.p.n_users};
    const fct_ials_side users = {U + (size_t)j.p.u0 * (size_t)k, nu, j.p.row_ptr, j.p.items, j.p.ratings, V, j.p.n_items};
    int stop = 0;
    for (int it = 1; it <= p->epochs && !stop; it++) {
        double t0 = MPI_Wtime();
        int64_t bytes0 = fct_dist_bytes;
        ials_gram(U + (size_t)j.p.u0 * (size_t)k, nu, k, G);
        st = fct_ials_solve_side_gram(ctx, &cfg, &items, G, NULL);
        if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
            goto done;
        ials_allgather(V, j.p.n_items, k, cnt, cnt + P, j.rank, P);
        ials_gram(V + (size_t)j.i0 * (size_t)k, ni, k, G);
        st = fct_ials_solve_side_gram(ctx, &cfg, &users, G, NULL);
        if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
            goto done;
        ials_allgather(U, j.p.n_users, k, cnt, cnt + P, j.rank, P);
        double secs = MPI_Wtime() - t0;
        bad = fct_factors_unusable(&look);
        if (bad) {
            st = fct_ials_diverged(ctx, &cfg, it, bad);
            goto done;
        }
        /* The objective (fit_ials.c's report): each rank's users with V
         * fixed (G is still V's Gram matrix) plus its items' L2, summed. */
        double part = 0.0, loss = 0.0;
        st = fct_ials_objective_gram(ctx, &cfg, &users, G, &part);
        if (st == FACTO_OK)
            part += fct_ials_reg_term(&cfg, V + (size_t)j.i0 * (size_t)k, ni, j.iptr, j.p.n_users);
        if ((st = fct_dist_agree(ctx, st)) != FACTO_OK)
            goto done;
        MPI_Allreduce(&part, &loss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        fct_dist_count(8);
        int64_t bytes = fct_dist_bytes_all(bytes0);
        if (j.rank == 0 && data->on_epoch) {
            facto_dist_report rep = {it, p->epochs, NAN, secs, secs > 0.0 ? (double)j.p.n_ratings / secs : 0.0,
                                     bytes, loss / (double)j.p.n_ratings};
            stop = data->on_epoch(&rep, data->user_data) != 0;
        }
        MPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
        fct_dist_count(j.rank == 0 ? 4 * (P - 1) : 0);
    }
    st = ials_build_model(ctx, &j, p, U, V, out);
done:
    fct_aligned_free(U);
    fct_aligned_free(V);
    fct_aligned_free(G);
    free(cnt);
    ials_job_free(&j);
    return st;
}
