/*
 * recommend.h — what `facto recommend`'s two files share: the parsed
 * command line (cmd_recommend.c) and offline top-N for every user
 * (recommend_all.c).
 */
#ifndef FACTO_CLI_RECOMMEND_H
#define FACTO_CLI_RECOMMEND_H

#include "exclude.h"
#include "topn_out.h"

/* How lists are printed. */
typedef enum { CLI_REC_TABLE = 0, CLI_REC_TSV, CLI_REC_JSONL } cli_rec_format;

typedef struct cli_rec_args {
    const char *model, *user, *history, *exclude, *out, *dataset, *titles;
    int k, include_seen, json, all_users, threads;
    int raw_scores; /* --raw-scores: the ranking score only, no rating column */
    cli_rec_format format;
    int format_set;
} cli_rec_args;

/*
 * --all-users: the top k of every user of the model, users in id order
 * (numerically when every id is an integer, else bytewise), through
 * facto_model_recommend_batch in chunks of at most CLI_REC_CHUNK users, each
 * chunk's lists written before the next is scored, to a->out (or stdout)
 * as TSV or JSON lines; `ex` (may be empty) is left out. Memory O(n_users +
 * chunk x (k + excluded)) besides the library's block. Returns an exit code.
 */
#define CLI_REC_CHUNK 4096
/* 1 when lists show the rating predict prints next to the ranking score:
 * a model with a rating (not a ranking task) and no --raw-scores. */
int cli_rec_with_rating(const facto_model *model, const cli_rec_args *a);
int cli_recommend_all(facto_ctx *ctx, const facto_model *model, const cli_rec_args *a, const cli_excl *ex,
                      const cli_titles *t);

#endif /* FACTO_CLI_RECOMMEND_H */
