/*
 * topn_out.h — how `facto recommend` and `facto similar` print a list of
 * items (topn_out.c): item titles read from a data set's folder, the text
 * table, `user<TAB>item<TAB>score` lines, the JSON object, and a file
 * written whole or not at all (a temporary file in the same folder,
 * fsync'ed and renamed). O(size of the output).
 */
#ifndef FACTO_CLI_TOPN_OUT_H
#define FACTO_CLI_TOPN_OUT_H

#include "cli.h"

/* Item titles, indexed like the model's items (NULL where none). */
typedef struct cli_titles {
    char **titles;
    int32_t n;
} cli_titles;

/* Titles of `items` from --dataset NAME's folder or --titles DIR (both NULL:
 * none). Prints its own error; returns an exit code. */
int cli_titles_load(facto_ctx *ctx, const char *dataset, const char *dir, const facto_idmap *items, cli_titles *t);
void cli_titles_free(cli_titles *t);
/* The title of model item `item`, or NULL. */
const char *cli_title(const cli_titles *t, int32_t item);

/* The table: "rank  item  [rating]  score  [title]" and one row per item,
 * each column as wide as its longest entry (long ids stay aligned), the
 * rating column only when `rating` [n] is given, the title column only when
 * some item has a title; no trailing blanks. */
void cli_recs_table(FILE *out, const facto_idmap *items, const facto_recommendation *recs, int n,
                    const cli_titles *t, const float *rating);
/* `id<TAB>item<TAB>score` lines (`id<TAB>item<TAB>rating<TAB>score` when
 * `rating` [n] is given), numbers as cli_num. */
void cli_recs_tsv(FILE *out, const char *id, const facto_idmap *items, const facto_recommendation *recs, int n,
                  const float *rating);
/* [{"item"[, "rating"], "score"[, "title"]}, ...]; NULL when out of memory. */
json_t *cli_recs_items(const facto_idmap *items, const facto_recommendation *recs, int n, const cli_titles *t,
                       const float *rating);
/* {"<key>": id, "items": [{"item"[, "rating"], "score"[, "title"]}, ...]};
 * NULL when out of memory. */
json_t *cli_recs_json(const char *key, const char *id, const facto_idmap *items, const facto_recommendation *recs,
                      int n, const cli_titles *t, const float *rating);
/* What `facto predict` prints for (user, item) of each of recs [n] into
 * rating [n] (facto_model_predict: a rating clipped to the training range,
 * or a classifier's probability), so a list and predict show the same
 * number for a pair. Prints its own error; returns an exit code. */
int cli_recs_ratings(facto_ctx *ctx, const facto_model *model, const char *user, const facto_recommendation *recs,
                     int n, float *rating);
/* Print `root` on one line of `out` as cli_json_print does, then free it.
 * Returns an exit code (3 when root is NULL). */
int cli_json_line(FILE *out, json_t *root);

/* An output file written whole or not at all (facto_output). */
typedef struct cli_outfile {
    const char *path;  /* the file asked for; NULL or "-" = stdout */
    facto_ctx *ctx;    /* its inputs are never replaced */
    facto_output *out; /* NULL for stdout */
    FILE *f;
} cli_outfile;

/* Open `path` (NULL or "-": stdout) through facto_output_open. Prints its
 * own error; returns an exit code. */
int cli_outfile_open(cli_outfile *o, facto_ctx *ctx, const char *path);
/* Flush, fsync, close and rename into place; on any error (or when `ok` is
 * 0) the temporary file is removed and `path` is left as it was. Prints
 * its own error; returns an exit code (0 when ok and written). */
int cli_outfile_close(cli_outfile *o, int ok);

#endif /* FACTO_CLI_TOPN_OUT_H */
