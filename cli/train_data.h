/*
 * train_data.h — where training data comes from (train_data.c), for `facto
 * train` and the ratings side of `facto convert`: a named data set and
 * split, ratings files, feature rows files, side feature files, and ratings
 * one-hot encoded into feature rows when a configuration trains on rows
 * only. What form the data takes is decided from capabilities: the kind's
 * train_inputs (is --train rows?) and facto_params_inputs (ratings as they
 * are, or encoded?), never from the kind's name. Cost: the readers' and the
 * encoder's, O(ratings * row length) at most.
 */
#ifndef FACTO_CLI_TRAIN_DATA_H
#define FACTO_CLI_TRAIN_DATA_H

#include "readdata.h"
#include "rows_io.h"

/* Where ratings come from. */
typedef struct cli_ratings_source {
    const char *dataset;       /* --dataset NAME, or NULL */
    const char *split;         /* --split: an official name, or random:F / kfold:K:I / time:F */
    const char *ratings;       /* a ratings file (--train, --from-ratings), or NULL */
    const char *test_ratings;  /* its test file, or NULL */
    const char *user_file;     /* --user-features FILE, or NULL */
    const char *item_file;     /* --item-features FILE, or NULL */
    int side_features;         /* --side-features: u.user / u.item next to the ratings */
    const cli_readopts *read;  /* how to read ratings files (NULL: auto) */
    uint64_t seed;             /* the splits made on the fly */
    double history_fraction;   /* users:F read with a history: the share of a held-out user's ratings
                                  folded in (0: FACTO_SPLIT_HISTORY_FRACTION) */
} cli_ratings_source;

/* The splits made on the fly, for help texts and messages. */
#define CLI_SPLIT_SPECS "random:F, kfold:K:I, time:F, per-user:F, leave-last-out or users:F"

/* 1 when `split` is a split made on the fly (facto_split_parse reads it, or
 * it has a ':' and is a bad one), 0 for a data set's official split name. */
int cli_split_is_spec(const char *split);

/* 1 when `split` is users:F, the split whose test users are held out whole. */
int cli_split_is_users(const char *split);

/* The file the training ratings of src are read from (a data set's split
 * file, or the ratings file) into path; an exit code (errors printed). */
int cli_ratings_train_path(facto_ctx *ctx, const cli_ratings_source *src, char *path, size_t size);

/*
 * Read the train (and test: *test NULL when there is none) ratings `src`
 * names; *stats (may be NULL) gets what the reader counted in the training
 * file (the whole file when it is split here), and user_file / item_file
 * (`size` bytes each) the side files to use ("" = none; --side-features:
 * u.user / u.item in the data set's or the ratings file's folder). With
 * `history` (may be NULL) and a users:F split, *test is the held-out users'
 * scored part and *history the part folded in (facto_dataset_split_users);
 * *history is NULL otherwise. Prints its own errors; returns an exit code.
 */
int cli_ratings_read(facto_ctx *ctx, const char *verb, const cli_ratings_source *src, facto_dataset **train,
                     facto_dataset **test, facto_dataset **history, facto_read_stats *stats, char *user_file,
                     char *item_file, size_t size);

/*
 * One-hot encode train (and test, with train's layout) into feature rows
 * with `enc` (side files, numeric ids, binarize); `name` names the ratings
 * in messages. Notes (rows, unknown ids, feature_dim) go to `info`. *test
 * is NULL without test ratings. With `key_map` (may be NULL) the layout is
 * written there as "key<TAB>field<TAB>id" lines after a "key<TAB>field<TAB>id"
 * header ("0<TAB>user<TAB>196"; a side feature: "2625<TAB>genre<TAB>Comedy"),
 * so a SageMaker request can be built for string ids. users_split: the
 * test users are held out of training by design (--split users:F), so their
 * being unknown is no cause for the warning that most test ratings have an
 * unknown user or item. Returns an exit code.
 */
int cli_ratings_encode(facto_ctx *ctx, const char *name, const facto_dataset *train, const facto_dataset *test,
                       const facto_fm_encode_options *enc, const char *key_map, int users_split, FILE *info,
                       facto_rows **train_rows, facto_rows **test_rows);

/* The data options of `facto train`. */
typedef struct cli_data_opts {
    const char *train, *test;                /* --train, --test: rows or ratings, as the kind trains */
    const char *from_ratings, *test_ratings; /* --from-ratings, --test-ratings: ratings for any kind */
    const char *events_dir;                  /* --events-dir: clicks and purchases of an event log */
    cli_ratings_source src;    /* ratings: --dataset, --split, the ratings files, side files (cli_data_check) */
    const char *train_rows;    /* --train FILE for a kind that trains on feature rows (cli_data_check) */
    const char *test_rows;     /* --test FILE with it */
    const char *format;        /* --format, read as the data's form says */
    facto_rows_format rows_format;
    cli_readopts read;         /* --format (ratings), --columns, --delimiter, --implicit[-threshold] */
    int numeric_ids;           /* --numeric-ids: SageMaker's demo layout when ratings are encoded */
    const char *key_map;       /* --key-map FILE: the encoded layout written there, or NULL */
    int seed_set;              /* --seed given as the split's seed (a kind without a seed hyperparameter) */
    int fold_in_set;           /* --fold-in-fraction given (src.history_fraction) */
} cli_data_opts;

/* What the model is trained on. Free with cli_data_free(). */
typedef struct cli_train_data {
    facto_dataset *train, *test;               /* ratings read (also when encoded) */
    facto_dataset *history;                    /* users:F: the held-out users' part folded in, else NULL */
    facto_read_stats stats;                    /* what the reader counted in the training file */
    facto_read_options read;                   /* how the ratings were read (implicit, threshold) */
    int64_t duplicates;
    char user_file[4200], item_file[4200];     /* side files ("" = none) */
    facto_features *user_features, *item_features;
    facto_rows *train_rows, *test_rows;        /* feature rows: read, or encoded from ratings */
    facto_rows_origin *train_origin, *test_origin;
    int on_rows;                               /* the fit takes rows (else ratings) */
    int encoded;                               /* the rows were encoded from ratings */
} cli_train_data;

/* The checks that need no hyperparameters: one source, options that go
 * together, --format read as the data's form; `rows_kind`: the kind trains
 * on feature rows, so --train is a rows file (else ratings). Fills src,
 * train_rows and test_rows. Usage error or 0. */
int cli_data_check(const char *verb, cli_data_opts *o, int rows_kind);

/*
 * Read the data for hyperparameters `p`: rows as they are, ratings as they
 * are, or ratings encoded into rows when p trains on rows only; fills what
 * the data decides (feature_dim, SageMaker's convention) into p, checks
 * labels against facto_params_task(p), reads the side feature tables.
 * Notes go to `info`. Prints its own errors; returns an exit code.
 */
int cli_data_load(facto_ctx *ctx, const char *verb, const cli_data_opts *o, facto_params *p, FILE *info,
                  cli_train_data *d);
void cli_data_free(cli_train_data *d);

#endif /* FACTO_CLI_TRAIN_DATA_H */
