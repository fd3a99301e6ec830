/*
 * exclude.c — the items `facto recommend --exclude FILE` leaves out
 * (exclude.h): the pairs file streamed once, each known (user, item) kept as
 * a pair of model indices, then sorted and packed into per-user lists.
 * O(pairs log pairs) to build, O(log d) to check one item of a user with d.
 */
#include "exclude.h"

#include "pairs.h"

#include <stdlib.h>
#include <string.h>

typedef struct cli_upair {
    int32_t u, i;
} cli_upair;

static int cli_upair_cmp(const void *a, const void *b)
{
    const cli_upair *x = a, *y = b;
    if (x->u != y->u)
        return x->u < y->u ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Pack sorted pairs [n] into per-user lists (repeats dropped). */
static int cli_excl_pack(cli_upair *pairs, size_t n, cli_excl *e)
{
    if (n > 1) /* qsort wants a valid pointer even for nothing */
        qsort(pairs, n, sizeof *pairs, cli_upair_cmp);
    e->ptr = calloc((size_t)e->n_users + 1, sizeof *e->ptr);
    e->items = malloc((n ? n : 1) * sizeof *e->items);
    if (!e->ptr || !e->items) {
        cli_error("out of memory for %zu excluded pairs", n);
        return FACTO_EXIT_INTERNAL;
    }
    size_t m = 0;
    for (size_t x = 0; x < n; x++) {
        if (x > 0 && pairs[x].u == pairs[x - 1].u && pairs[x].i == pairs[x - 1].i)
            continue;
        e->items[m++] = pairs[x].i;
        e->ptr[pairs[x].u + 1]++;
    }
    for (int32_t u = 0; u < e->n_users; u++)
        e->ptr[u + 1] += e->ptr[u];
    return 0;
}

int cli_excl_read(const char *path, const facto_model *model, const char *only_user, cli_excl *out)
{
    memset(out, 0, sizeof *out);
    const facto_idmap *users = facto_model_users(model), *items = facto_model_items(model);
    out->n_users = facto_idmap_size(users);
    cli_pairs_reader r;
    int rc = cli_pairs_open(&r, path);
    if (rc)
        return rc;
    cli_upair *pairs = NULL;
    size_t n = 0, cap = 0;
    char *user, *item;
    int got;
    while (rc == 0 && (got = cli_pairs_next(&r, &user, &item)) != 0) {
        if (got < 0) {
            rc = -got;
            break;
        }
        out->n_pairs++;
        if (only_user && strcmp(user, only_user) != 0)
            continue;
        int32_t u = facto_idmap_find(users, user), i = facto_idmap_find(items, item);
        if (u < 0 || i < 0) {
            out->n_unknown++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            cli_upair *np = realloc(pairs, ncap * sizeof *np);
            if (!np) {
                cli_error("%s: out of memory for %zu pairs", r.name, ncap);
                rc = FACTO_EXIT_INTERNAL;
                break;
            }
            pairs = np;
            cap = ncap;
        }
        pairs[n].u = u;
        pairs[n++].i = i;
    }
    cli_pairs_close(&r);
    if (rc == 0)
        rc = cli_excl_pack(pairs, n, out);
    free(pairs);
    if (rc)
        cli_excl_free(out);
    return rc;
}

void cli_excl_free(cli_excl *e)
{
    free(e->ptr);
    free(e->items);
    memset(e, 0, sizeof *e);
}

int64_t cli_excl_count(const cli_excl *e, int32_t u)
{
    if (!e || !e->ptr || u < 0 || u >= e->n_users)
        return 0;
    return e->ptr[u + 1] - e->ptr[u];
}

int cli_excl_filter(const cli_excl *e, int32_t u, facto_recommendation *recs, int n, int k)
{
    int64_t d = cli_excl_count(e, u);
    const int32_t *ex = d > 0 ? e->items + e->ptr[u] : NULL;
    int m = 0;
    for (int x = 0; x < n && m < k; x++) {
        int64_t lo = 0, hi = d;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (ex[mid] < recs[x].item)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!(lo < d && ex[lo] == recs[x].item))
            recs[m++] = recs[x];
    }
    return m;
}
