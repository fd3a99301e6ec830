/*
 * dist.c — MPI start and end, the rank and size, the byte counter, a
 * rank's users of the training data (fct_dist_part: mf, ials), the
 * agreement on failures, the kinds with a distributed trainer
 * (facto_dist_check_kind) and facto_dist_fit's dispatch to them. Cost:
 * one small allreduce per agreement.
 */
#include "dist.h"

#include "data/dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t fct_dist_bytes = 0;
static int fct_dist_elsewhere = 0; /* the last failed agreement failed on other ranks only */
static int fct_dist_started = 0; /* facto_dist_init called MPI_Init_thread */

int facto_dist_init(int *argc, char ***argv)
{
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready)
        return 0;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "facto: MPI could not start\n");
        return -1;
    }
    fct_dist_started = 1;
    return 0;
}

void facto_dist_finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (fct_dist_started && !done)
        MPI_Finalize();
    fct_dist_started = 0;
}

int facto_dist_rank(void)
{
    int ready = 0, r = 0;
    MPI_Initialized(&ready);
    if (ready)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int facto_dist_size(void)
{
    int ready = 0, n = 1;
    MPI_Initialized(&ready);
    if (ready)
        MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

void fct_dist_count(int64_t n)
{
    if (facto_dist_size() > 1)
        fct_dist_bytes += n;
}

facto_status fct_dist_agree(facto_ctx *ctx, facto_status st)
{
    int mine = (int)st, worst = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    fct_dist_count((int64_t)sizeof mine);
    if (worst == 0)
        return FACTO_OK;
    fct_dist_elsewhere = st == FACTO_OK;
    if (st != FACTO_OK)
        return st;
    return fct_fail(ctx, FACTO_ERR_IO, "another rank failed (its message is on its standard error)");
}

facto_status facto_dist_agree(facto_ctx *ctx, facto_status status) { return fct_dist_agree(ctx, status); }

int facto_dist_failed_elsewhere(void) { return fct_dist_elsewhere; }

int facto_dist_all_same(const char *text, size_t n)
{
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready || facto_dist_size() == 1)
        return 1;
    const int rank = facto_dist_rank();
    int64_t len = (int64_t)n;
    if (MPI_Bcast(&len, 1, MPI_INT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    fct_dist_count(rank == 0 ? (int64_t)sizeof len : 0);
    /* mine: 1 same as rank 0's, 0 not, -1 no memory (every rank then takes
     * part in the broadcast, or none) */
    char *buf = len > 0 && len <= INT32_MAX ? malloc((size_t)len) : NULL;
    int mine = (size_t)len != n ? 0 : len == 0 ? 1 : buf ? 1 : -1, least = 0;
    if (len > 0) {
        int ok = buf != NULL, all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (all_ok) {
            if (rank == 0)
                memcpy(buf, text, (size_t)len);
            if (MPI_Bcast(buf, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
                mine = -1;
            else if (mine == 1)
                mine = memcmp(buf, text, n) == 0;
            fct_dist_count(rank == 0 ? len : 0);
        } else {
            mine = -1;
        }
    }
    free(buf);
    if (MPI_Allreduce(&mine, &least, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    return least;
}

int64_t fct_dist_bytes_all(int64_t since)
{
    int64_t mine = fct_dist_bytes - since, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return all;
}

facto_status fct_dist_part_read(facto_ctx *ctx, const facto_dist_data *d, const char *kind, const char *what,
                                int rank, int parts, fct_dist_part *j)
{
    memset(j, 0, sizeof *j);
    if ((d->train != NULL) + (d->train_fds != NULL) + (d->train_rows != NULL) != 1 || d->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "distributed %s trains on %s: give train or train_fds", kind, what);
    if (d->train_fds) {
        facto_status st = fct_fds_read_shard(ctx, d->train_fds, rank, parts, rank == 0, &j->shard);
        if (st != FACTO_OK)
            return st;
        j->n_users = j->shard.n_users;
        j->n_items = j->shard.n_items;
        j->n_ratings = j->shard.n_ratings;
        j->u0 = j->shard.u0;
        j->u1 = j->shard.u1;
        j->row_ptr = j->shard.row_ptr;
        j->items = j->shard.items;
        j->ratings = j->shard.ratings;
        j->users = j->shard.user_map;
        j->items_map = j->shard.item_map;
        return FACTO_OK;
    }
    const facto_dataset *t = d->train;
    if (t->weights)
        return fct_fail(ctx, FACTO_ERR_INVALID, "distributed %s does not take rating weights (IPS): train without "
                                                "facto_dataset_set_weights", kind);
    j->n_users = t->n_users;
    j->n_items = t->n_items;
    j->n_ratings = t->n_ratings;
    j->u0 = fct_dist_begin(t->n_users, rank, parts);
    j->u1 = fct_dist_begin(t->n_users, rank + 1, parts);
    int32_t nu = j->u1 - j->u0;
    if (!(j->own_rows = fct_malloc_array((size_t)nu + 1, sizeof *j->own_rows)))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    int64_t first = t->row_ptr[j->u0];
    for (int32_t u = 0; u <= nu; u++)
        j->own_rows[u] = t->row_ptr[j->u0 + u] - first;
    j->row_ptr = j->own_rows;
    j->items = t->items + first;
    j->ratings = t->ratings + first;
    j->users = t->user_map;
    j->items_map = t->item_map;
    return FACTO_OK;
}

void fct_dist_part_free(fct_dist_part *part)
{
    free(part->own_rows);
    part->own_rows = NULL;
    fct_fds_shard_free(&part->shard);
}

/* The kinds with a distributed trainer, in the order their names are listed. */
static const struct {
    const char *kind;
    facto_status (*fit)(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data, facto_model **out);
    facto_status (*check)(facto_ctx *ctx, const facto_params *params, int async, int n_ranks);
} fct_dist_trainers[] = {{"mf", fct_dist_fit_mf, fct_dist_check_mf},
                         {"fm", fct_dist_fit_fm, fct_dist_check_fm},
                         {"ials", fct_dist_fit_ials, fct_dist_check_ials}};
#define FCT_DIST_N_TRAINERS ((int)(sizeof fct_dist_trainers / sizeof fct_dist_trainers[0]))

static int fct_dist_trainer_of(const char *kind)
{
    for (int t = 0; kind && t < FCT_DIST_N_TRAINERS; t++)
        if (strcmp(kind, fct_dist_trainers[t].kind) == 0)
            return t;
    return -1;
}

facto_status facto_dist_check_kind(facto_ctx *ctx, const facto_params *params)
{
    if (!params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dist_check_kind: params must be given");
    const char *kind = facto_params_kind(params);
    if (fct_dist_trainer_of(kind) >= 0)
        return FACTO_OK;
    char names[128] = "";
    for (int t = 0; t < FCT_DIST_N_TRAINERS; t++) {
        const char *sep = t == 0 ? "" : t == FCT_DIST_N_TRAINERS - 1 ? " and " : ", ";
        size_t at = strlen(names);
        snprintf(names + at, sizeof names - at, "%s%s", sep, fct_dist_trainers[t].kind);
    }
    return fct_fail(ctx, FACTO_ERR_INVALID, "distributed training covers the kinds %s, not %s", names,
                    kind ? kind : "(none)");
}

facto_status facto_dist_check_settings(facto_ctx *ctx, const facto_params *params, int async, int n_ranks)
{
    facto_status st = facto_dist_check_kind(ctx, params);
    if (st != FACTO_OK)
        return st;
    return fct_dist_trainers[fct_dist_trainer_of(facto_params_kind(params))].check(ctx, params, async, n_ranks);
}

facto_status facto_dist_fit(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                            facto_model **out, int64_t *bytes_sent)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dist_fit: out must be given");
    *out = NULL;
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dist_fit: call facto_dist_init first");
    if (!params || !data)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dist_fit: params and data must be given");
    int parts = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &parts);
    facto_status kst = facto_dist_check_settings(ctx, params, data->async, parts);
    if (kst != FACTO_OK)
        return kst;
    {
        /* an in-memory training set read from .fds: its wide arrays (the ranks slice them) */
        facto_status wst = fct_dataset_wide(ctx, data->train);
        if (wst != FACTO_OK)
            return wst;
    }
    int64_t before = fct_dist_bytes;
    facto_status st = fct_dist_trainers[fct_dist_trainer_of(facto_params_kind(params))].fit(ctx, params, data, out);
    if (bytes_sent)
        *bytes_sent = fct_dist_bytes_all(before);
    return st;
}
