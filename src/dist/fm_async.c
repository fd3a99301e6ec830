/*
 * fm_async.c — asynchronous distributed SGD for factorization machines in
 * the manner of DiFacto (Li, Wang, Liu, Smola & Jordan, "DiFacto:
 * Distributed Factorization Machines", WSDM 2016, section 4: parameters
 * partitioned over servers by feature, workers pull the parameters of the
 * features in their mini-batch and push sparse gradients back, with no
 * barrier between workers). Here every rank is both a worker and a server:
 * slot s (w_s and v_s, k + 1 floats) lives on rank s mod P at row s / P of
 * an MPI window, the bias w0 is an extra slot n_slots. A worker takes its
 * rows (rank, rank + P, ...) in batches of ceil(mini_batch_size / P):
 *   1. pull: the rows of every slot the batch touches, from each owner, by
 *      MPI_Get_accumulate(MPI_NO_OP) (atomic per element against pushes)
 *      under a shared passive-target lock;
 *   2. gradients of the batch at the pulled values (fm_sgd.c's formulas);
 *   3. push: the SGD step -lr (g / mini_batch_size + wd / P x), clipped
 *      as clip_gradient says, added at the owner by MPI_Accumulate(SUM).
 * Other workers' pushes land in between (bounded staleness of one batch
 * per worker); the P pushes of a round add up to about one synchronous
 * step, which is why the gradient is scaled by the global batch and the
 * weight decay by 1 / P. Plain SGD only: owners keep no optimizer state.
 * Epochs end with a barrier; at the end rank 0 fetches every slot.
 * Traffic per batch and worker: 2 x (distinct slots of the batch) x (k + 1)
 * floats (pull + push), so it grows with the batch's features, not with
 * the model: the point of DiFacto's sparse exchange. Counted as fetched +
 * sent bytes, rows a rank owns itself left out.
 */
#include "dist.h"

#include "kernels/update.h"
#include "models/fm.h"
#include "solvers/loss.h"

#include <math.h>
#include <string.h>

typedef struct fmasync {
    fct_fm_model *m;
    uint32_t *slots;
    MPI_Win win;
    int have_win;
    float *mem;         /* this rank's window: its owned rows, [n_own, k + 1] */
    int64_t *order;
    float *sum, *pull, *push, *g;
    int32_t *local;     /* [n_slots + 1] index of a slot in this batch, -1 if absent */
    uint32_t *touched;  /* [cap] the batch's slots, grouped by owner after sorting */
    int *displ;         /* [cap] target row offsets (in floats) */
} fmasync;

static void fmasync_free(fmasync *a)
{
    if (a->have_win)
        MPI_Win_free(&a->win);
    else
        free(a->mem);
    if (a->m)
        facto_model_free(&a->m->base);
    free(a->slots);
    free(a->order);
    free(a->sum);
    free(a->pull);
    free(a->push);
    free(a->g);
    free(a->local);
    free(a->touched);
    free(a->displ);
}

static int fmasync_cmp_key(const void *x, const void *y)
{
    const uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Pull (push = 0) or push (push = 1) the rows of touched[0..nt) (sorted by
 * owner, then row) between buf [nt, k + 1] and their owners. */
static int64_t fmasync_exchange(fmasync *a, int rank, int P, int32_t k, int64_t nt, float *buf, int push)
{
    int64_t at = 0, bytes = 0;
    while (at < nt) {
        const int owner = (int)(a->touched[at] % (uint32_t)P);
        int64_t end = at;
        while (end < nt && (int)(a->touched[end] % (uint32_t)P) == owner) {
            a->displ[end - at] = (int)((a->touched[end] / (uint32_t)P) * (uint32_t)(k + 1));
            end++;
        }
        const int n = (int)(end - at);
        MPI_Datatype rows;
        MPI_Type_create_indexed_block(n, k + 1, a->displ, MPI_FLOAT, &rows);
        MPI_Type_commit(&rows);
        MPI_Win_lock(MPI_LOCK_SHARED, owner, 0, a->win);
        float *mine = buf + at * (k + 1);
        if (push)
            MPI_Accumulate(mine, n * (k + 1), MPI_FLOAT, owner, 0, 1, rows, MPI_SUM, a->win);
        else
            MPI_Get_accumulate(NULL, 0, MPI_FLOAT, mine, n * (k + 1), MPI_FLOAT, owner, 0, 1, rows, MPI_NO_OP,
                               a->win);
        MPI_Win_unlock(owner, a->win);
        MPI_Type_free(&rows);
        bytes += owner == rank ? 0 : (int64_t)n * (k + 1) * 4; /* one's own rows stay */
        at = end;
    }
    return bytes;
}

facto_status fct_dist_fit_fm_async(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                   facto_model **out)
{
    int rank = 0, P = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    const facto_rows *train = data->train_rows;
    fmasync a;
    memset(&a, 0, sizeof a);
    facto_fm_params q;
    facto_status st = fct_dist_fm_prepare(ctx, params, data, &q, &a.m, &a.slots);
    fct_fm_model *m = a.m;
    int64_t max_nnz = 0, S1 = 0, n_own = 0, bsz = 0, n_loc = 0, cap = 0;
    if (st == FACTO_OK) {
        S1 = m->n_slots + 1; /* + the bias */
        n_own = S1 > rank ? (S1 - rank + P - 1) / P : 0;
        bsz = (q.mini_batch_size + P - 1) / P;
        n_loc = (train->n_rows - rank + P - 1) / P;
        for (int64_t r = 0; r < train->n_rows; r++)
            if (train->row_ptr[r + 1] - train->row_ptr[r] > max_nnz)
                max_nnz = train->row_ptr[r + 1] - train->row_ptr[r];
        cap = bsz * max_nnz + 1 < S1 ? bsz * max_nnz + 1 : S1;
        const size_t row = (size_t)m->k + 1;
        a.order = fct_malloc_array((size_t)n_loc + 1, sizeof *a.order);
        a.sum = fct_malloc_array((size_t)m->k, sizeof *a.sum);
        a.pull = fct_malloc_array((size_t)cap * row, sizeof *a.pull);
        a.push = fct_malloc_array((size_t)cap * row, sizeof *a.push);
        a.g = fct_malloc_array((size_t)cap * row, sizeof *a.g);
        a.local = fct_malloc_array((size_t)S1, sizeof *a.local);
        a.touched = fct_malloc_array((size_t)cap, sizeof *a.touched);
        a.displ = fct_malloc_array((size_t)cap, sizeof *a.displ);
        if (!a.order || !a.sum || !a.pull || !a.push || !a.g || !a.local || !a.touched || !a.displ)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "factorization machine: out of memory for training buffers");
        else if (S1 > UINT32_MAX / 2 || (int64_t)(S1 / P + 1) * (int64_t)row > INT32_MAX)
            st = fct_fail(ctx, FACTO_ERR_INVALID, "asynchronous fm addresses window rows with int offsets: "
                                                  "n_slots / ranks x (k + 1) must stay below 2^31");
    }
    if ((st = fct_dist_agree(ctx, st)) != FACTO_OK) {
        fmasync_free(&a);
        return st;
    }
    const int32_t k = m->k;
    const int64_t row = k + 1;
    /* the window: this rank's owned rows, from the start every rank built alike */
    MPI_Win_allocate((MPI_Aint)((n_own ? n_own : 1) * row * (int64_t)sizeof(float)), sizeof(float), MPI_INFO_NULL,
                     MPI_COMM_WORLD, &a.mem, &a.win);
    a.have_win = 1;
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, a.win);
    for (int64_t j = 0; j < n_own; j++) {
        const int64_t s = j * P + rank;
        float *dst = a.mem + j * row;
        if (s == m->n_slots) {
            dst[0] = m->w0;
            memset(dst + 1, 0, (size_t)k * sizeof(float));
        } else {
            dst[0] = m->w[s];
            memcpy(dst + 1, m->V + s * k, (size_t)k * sizeof(float));
        }
    }
    MPI_Win_unlock(rank, a.win);
    MPI_Barrier(MPI_COMM_WORLD);

    const fct_loss_kind kind = q.predictor_type == FACTO_FM_BINARY_CLASSIFIER ? FCT_LOSS_LOGISTIC : FCT_LOSS_SQUARED;
    const float rescale = isnan(q.rescale_grad) ? 1.0f / (float)q.mini_batch_size : q.rescale_grad;
    const float clip = !isnan(q.clip_gradient) && q.clip_gradient > 0.0f ? q.clip_gradient : 0.0f;
    float lr[2] = {q.linear_lr, q.factors_lr}, lr0 = q.bias_lr;
    const float wd[2] = {q.linear_wd / (float)P, q.factors_wd / (float)P}, wd0 = q.bias_wd / (float)P;
    for (int64_t s = 0; s < S1; s++)
        a.local[s] = -1;
    for (int64_t x = 0; x < n_loc; x++)
        a.order[x] = rank + x * P;
    fct_rng rng;
    fct_rng_seed(&rng, q.seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(rank + 1)));
    const int64_t N = train->n_rows, nb_loc = (n_loc + bsz - 1) / bsz;
    int stop = 0;
    for (int epoch = 1; epoch <= q.epochs && !stop; epoch++) {
        fct_rng_shuffle_i64(&rng, a.order, n_loc);
        double t0 = MPI_Wtime(), se = 0.0;
        int64_t bytes0 = fct_dist_bytes;
        int bad = 0;
        for (int64_t bi = 0; bi < nb_loc && !bad; bi++) {
            const int64_t i0 = bi * bsz, i1 = i0 + bsz < n_loc ? i0 + bsz : n_loc;
            /* the batch's slots, the bias first, sorted by owner then row */
            int64_t nt = 0;
            a.touched[nt++] = (uint32_t)m->n_slots;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = train->row_ptr[a.order[i]]; j < train->row_ptr[a.order[i] + 1]; j++) {
                    const uint32_t s = a.slots[j];
                    if (s != FACTO_FM_NO_SLOT && a.local[s] < 0) {
                        a.local[s] = 0;
                        a.touched[nt++] = s;
                    }
                }
            for (int64_t t = 0; t < nt; t++) /* key: owner, then row (s mod P, s / P) */
                a.touched[t] = (a.touched[t] % (uint32_t)P) * (uint32_t)((S1 + P - 1) / P) + a.touched[t] / (uint32_t)P;
            qsort(a.touched, (size_t)nt, sizeof *a.touched, fmasync_cmp_key);
            for (int64_t t = 0; t < nt; t++) {
                const uint32_t key = a.touched[t], per = (uint32_t)((S1 + P - 1) / P);
                a.touched[t] = (key / per) + (key % per) * (uint32_t)P; /* back to the slot */
                a.local[a.touched[t]] = (int32_t)t;
            }
            fct_dist_count(fmasync_exchange(&a, rank, P, k, nt, a.pull, 0));
            /* the pulled values into the local copy, then the gradients there */
            for (int64_t t = 0; t < nt; t++) {
                const uint32_t s = a.touched[t];
                const float *v = a.pull + t * row;
                if (s == (uint32_t)m->n_slots) {
                    m->w0 = v[0];
                } else {
                    m->w[s] = v[0];
                    memcpy(m->V + (int64_t)s * k, v + 1, (size_t)k * sizeof(float));
                }
            }
            memset(a.g, 0, (size_t)(nt * row) * sizeof *a.g);
            for (int64_t i = i0; i < i1; i++) {
                const int64_t r = a.order[i], b = train->row_ptr[r], n = train->row_ptr[r + 1] - b;
                const uint32_t *sl = a.slots + b;
                const float *xs = train->values + b;
                const double y = fct_fm_row_raw(m, m->w, m->V, m->w0, sl, xs, n, a.sum);
                const float label = fct_fm_label(m, train->labels[r]);
                const fct_loss_value l = fct_loss_point(kind, y, label);
                if (!isfinite(l.loss) || !isfinite(l.dscore)) {
                    bad = 1;
                    break;
                }
                const float score = kind == FCT_LOSS_LOGISTIC ? (float)l.pred : (float)fct_fm_clip(m, y);
                se += (double)(score - label) * (score - label);
                const float gd = (float)l.dscore;
                a.g[(int64_t)a.local[m->n_slots] * row] += gd;
                for (int64_t j = 0; j < n; j++) {
                    const uint32_t s = sl[j];
                    if (s == FACTO_FM_NO_SLOT)
                        continue;
                    const float x = xs[j], gx = gd * x;
                    float *gs = a.g + (int64_t)a.local[s] * row;
                    const float *v = m->V + (int64_t)s * k;
                    gs[0] += gx;
                    for (int32_t c = 0; c < k; c++)
                        gs[1 + c] += gx * (a.sum[c] - v[c] * x);
                }
            }
            /* the SGD steps as differences, pushed to the owners */
            for (int64_t t = 0; t < nt; t++) {
                const int bias = a.touched[t] == (uint32_t)m->n_slots;
                const float *g = a.g + t * row, *x = a.pull + t * row;
                float *d = a.push + t * row;
                for (int64_t c = 0; c < (bias ? 1 : row); c++) {
                    float gc = g[c] * rescale;
                    if (clip > 0.0f)
                        gc = fct_clipf(gc, clip);
                    const float rate = bias ? lr0 : lr[c > 0], decay = bias ? wd0 : wd[c > 0];
                    d[c] = -rate * (gc + decay * x[c]);
                }
                if (bias)
                    memset(d + 1, 0, (size_t)k * sizeof(float));
            }
            for (int64_t t = 0; t < nt; t++)
                a.local[a.touched[t]] = -1;
            if (!bad)
                fct_dist_count(fmasync_exchange(&a, rank, P, k, nt, a.push, 1));
        }
        int any_bad = 0;
        MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        double se_all = 0.0;
        MPI_Allreduce(&se, &se_all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        fct_dist_count(12);
        if (any_bad) {
            st = fct_fail(ctx, FACTO_ERR_DIVERGED, "training diverged in epoch %d: the loss is not finite; lower "
                          "factors_lr (now %g), linear_lr (%g) or bias_lr (%g), or set clip_gradient", epoch,
                          (double)lr[1], (double)lr[0], (double)lr0);
            break;
        }
        double secs = MPI_Wtime() - t0;
        int64_t bytes = fct_dist_bytes_all(bytes0);
        if (rank == 0 && data->on_epoch) {
            facto_dist_report rep = {epoch, q.epochs, sqrt(se_all / (double)N), secs,
                                     secs > 0.0 ? (double)N / secs : 0.0, bytes, NAN};
            stop = data->on_epoch(&rep, data->user_data) != 0;
        }
        MPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
        fct_dist_count(rank == 0 ? 4 * (P - 1) : 0);
        lr0 *= q.lr_decay;
        lr[0] *= q.lr_decay;
        lr[1] *= q.lr_decay;
    }
    if (st == FACTO_OK) {
        MPI_Barrier(MPI_COMM_WORLD); /* every push has landed (each was completed by its unlock) */
        if (rank == 0) {
            /* fetch every slot from its owner into the model */
            for (int o = 0; o < P; o++) {
                const int64_t own = S1 > o ? (S1 - o + P - 1) / P : 0;
                float *buf = fct_malloc_array((size_t)(own ? own : 1) * (size_t)row, sizeof *buf);
                if (!buf) {
                    st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
                    break;
                }
                MPI_Win_lock(MPI_LOCK_SHARED, o, 0, a.win);
                MPI_Get(buf, (int)(own * row), MPI_FLOAT, o, 0, (int)(own * row), MPI_FLOAT, a.win);
                MPI_Win_unlock(o, a.win);
                fct_dist_count(o == 0 ? 0 : own * row * 4);
                for (int64_t j = 0; j < own; j++) {
                    const int64_t s = j * P + o;
                    if (s == m->n_slots) {
                        m->w0 = buf[j * row];
                    } else {
                        m->w[s] = buf[j * row];
                        memcpy(m->V + s * k, buf + j * row + 1, (size_t)k * sizeof(float));
                    }
                }
                free(buf);
            }
            if (st == FACTO_OK && !isfinite(m->w0))
                st = fct_fail(ctx, FACTO_ERR_DIVERGED, "training diverged: the bias is not finite; lower bias_lr");
            if (st == FACTO_OK)
                st = fct_fm_zero_unseen(ctx, m, train, a.slots);
        }
        MPI_Barrier(MPI_COMM_WORLD); /* rank 0 has read the windows before they are freed */
    }
    st = fct_dist_agree(ctx, st);
    if (st == FACTO_OK && rank == 0) {
        *out = &m->base;
        a.m = NULL;
    }
    fmasync_free(&a);
    return st;
}
