/*
 * recommend_all.c — `facto recommend --all-users` (recommend.h): offline
 * batch top-N. Users are put in id order once (O(U log U)), then scored a
 * chunk at a time by facto_model_recommend_batch (the library scores blocks
 * of users against every item with one sgemm each), and each chunk's lists
 * are streamed out before the next chunk, so memory never holds every
 * user's list. A chunk asks for k + the most items any of its users
 * excludes, then filters, so the lists equal the one-user command's.
 */
#include "recommend.h"

#include <stdlib.h>
#include <string.h>

/* Most recommendations held at once (32 MiB): bounds chunk x (k + excluded). */
#define CLI_REC_MAX_HELD ((int64_t)1 << 22)

typedef struct cli_user_key {
    const char *id;
    long long num; /* the id as an integer, when it is one */
    int32_t u;
} cli_user_key;

/* 1 when `id` is a decimal integer short enough to hold in a long long. */
static int cli_id_number(const char *id, long long *out)
{
    const char *p = id + (id[0] == '-');
    size_t n = strlen(p);
    if (n == 0 || n > 18 || strspn(p, "0123456789") != n)
        return 0;
    *out = strtoll(id, NULL, 10);
    return 1;
}

static int cli_key_cmp_num(const void *a, const void *b)
{
    const cli_user_key *x = a, *y = b;
    if (x->num != y->num)
        return x->num < y->num ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int cli_key_cmp_bytes(const void *a, const void *b)
{
    return strcmp(((const cli_user_key *)a)->id, ((const cli_user_key *)b)->id);
}

/* The model's users in id order; NULL when out of memory. */
static cli_user_key *cli_users_sorted(const facto_idmap *users, int32_t n)
{
    cli_user_key *keys = malloc((size_t)(n > 0 ? n : 1) * sizeof *keys);
    if (!keys)
        return NULL;
    int numeric = 1;
    for (int32_t u = 0; u < n; u++) {
        keys[u].id = facto_idmap_name(users, u);
        keys[u].u = u;
        keys[u].num = 0;
        numeric = numeric && cli_id_number(keys[u].id, &keys[u].num);
    }
    qsort(keys, (size_t)n, sizeof *keys, numeric ? cli_key_cmp_num : cli_key_cmp_bytes);
    return keys;
}

/* One user's list in the chosen format. Exit code. */
static int cli_rec_write(FILE *out, const cli_rec_args *a, const char *id, const facto_idmap *items,
                         const facto_recommendation *recs, int n, const cli_titles *t, const float *rating)
{
    if (a->format == CLI_REC_JSONL)
        return cli_json_line(out, cli_recs_json("user", id, items, recs, n, t, rating));
    cli_recs_tsv(out, id, items, recs, n, rating);
    return 0;
}

/* Score users keys[0..nc) and write their lists. Exit code. */
static int cli_rec_chunk(facto_ctx *ctx, const facto_model *model, const cli_rec_args *a, const cli_excl *ex,
                         const cli_titles *t, const cli_user_key *keys, int nc, int kq, FILE *out,
                         facto_recommendation *recs, int *n_out, const char **ids)
{
    const facto_idmap *items = facto_model_items(model);
    for (int j = 0; j < nc; j++)
        ids[j] = keys[j].id;
    facto_status st = facto_model_recommend_batch(ctx, model, ids, nc, kq, a->include_seen, recs, n_out);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    int rc = 0, with_rating = cli_rec_with_rating(model, a);
    float *rating = with_rating ? malloc((size_t)(a->k > 0 ? a->k : 1) * sizeof *rating) : NULL;
    if (with_rating && !rating) {
        cli_error("out of memory for %d ratings", a->k);
        return FACTO_EXIT_INTERNAL;
    }
    for (int j = 0; j < nc && rc == 0; j++) {
        facto_recommendation *r = recs + (int64_t)j * kq;
        int n = cli_excl_filter(ex, keys[j].u, r, n_out[j], a->k);
        if (rating)
            rc = cli_recs_ratings(ctx, model, keys[j].id, r, n, rating);
        if (rc == 0)
            rc = cli_rec_write(out, a, keys[j].id, items, r, n, t, rating);
    }
    free(rating);
    return rc;
}

/* Users [from, *to) that fit one chunk, and the list length kq they need. */
static int cli_rec_plan(const cli_excl *ex, const cli_user_key *keys, int32_t from, int32_t n_users, int k,
                        int32_t n_items, int32_t *to)
{
    int64_t kq = k;
    int32_t j = from;
    for (; j < n_users && j - from < CLI_REC_CHUNK; j++) {
        int64_t need = (int64_t)k + cli_excl_count(ex, keys[j].u);
        need = need < n_items ? need : n_items > k ? n_items : k;
        int64_t kn = need > kq ? need : kq;
        if (j > from && (int64_t)(j - from + 1) * kn > CLI_REC_MAX_HELD)
            break;
        kq = kn;
    }
    *to = j;
    return (int)kq;
}

int cli_recommend_all(facto_ctx *ctx, const facto_model *model, const cli_rec_args *a, const cli_excl *ex,
                      const cli_titles *t)
{
    const facto_idmap *users = facto_model_users(model);
    int32_t n_users = facto_idmap_size(users), n_items = facto_idmap_size(facto_model_items(model));
    cli_user_key *keys = cli_users_sorted(users, n_users);
    facto_recommendation *recs = NULL;
    int *n_out = malloc(CLI_REC_CHUNK * sizeof *n_out);
    const char **ids = malloc(CLI_REC_CHUNK * sizeof *ids);
    int64_t held = 0;
    cli_outfile of;
    int rc = 0;
    if (!keys || !n_out || !ids) {
        cli_error("out of memory for %d users", (int)n_users);
        rc = FACTO_EXIT_INTERNAL;
    } else {
        rc = cli_outfile_open(&of, ctx, a->out);
    }
    if (rc) {
        free(keys);
        free(n_out);
        free(ids);
        return rc;
    }
    for (int32_t j = 0, to; rc == 0 && j < n_users; j = to) {
        int kq = cli_rec_plan(ex, keys, j, n_users, a->k, n_items, &to);
        if ((int64_t)(to - j) * kq > held) {
            held = (int64_t)(to - j) * kq;
            free(recs);
            if (!(recs = malloc((size_t)held * sizeof *recs))) {
                cli_error("out of memory for %lld recommendations", (long long)held);
                rc = FACTO_EXIT_INTERNAL;
                break;
            }
        }
        rc = cli_rec_chunk(ctx, model, a, ex, t, keys + j, (int)(to - j), kq, of.f, recs, n_out, ids);
    }
    int rc2 = cli_outfile_close(&of, rc == 0);
    if (rc == 0)
        rc = rc2;
    free(recs);
    free(keys);
    free(n_out);
    free(ids);
    return rc;
}
