/*
 * exclude.h — `facto recommend --exclude FILE` (exclude.c): per-user items
 * to leave out of the lists, read as `user item` pairs (pairs.h) and kept
 * as model indices, sorted per user. A top list is asked for k + the
 * user's excluded items and filtered, so the k kept are the best that are
 * not excluded. Memory O(n_users + pairs); O(log pairs of the user) a check.
 */
#ifndef FACTO_CLI_EXCLUDE_H
#define FACTO_CLI_EXCLUDE_H

#include "cli.h"

typedef struct cli_excl {
    int64_t *ptr;       /* [n_users + 1]: user u's items are items[ptr[u] .. ptr[u+1]) */
    int32_t *items;     /* model item indices, ascending per user, no repeats */
    int32_t n_users;
    long long n_pairs;  /* pairs read */
    long long n_unknown; /* pairs whose user or item the model does not know (ignored) */
} cli_excl;

/* Read `path` against the model's users and items; with `only_user`, keep
 * that user's pairs alone. Prints its own errors ("PATH:LINE: ..."); returns
 * an exit code. */
int cli_excl_read(const char *path, const facto_model *model, const char *only_user, cli_excl *out);
void cli_excl_free(cli_excl *e);
/* How many items user u (a model index) has excluded. 0 for an empty set. */
int64_t cli_excl_count(const cli_excl *e, int32_t u);
/* Drop user u's excluded items from recs [n], keeping the order; returns
 * how many are left, at most k. */
int cli_excl_filter(const cli_excl *e, int32_t u, facto_recommendation *recs, int n, int k);

#endif /* FACTO_CLI_EXCLUDE_H */
