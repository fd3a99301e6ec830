/*
 * facto.h — the one public header of libfacto, a recommender engine.
 *
 * Data flows one way: read -> dataset -> model -> predictions / top-N -> output.
 * Every function that can fail returns a facto_status and leaves a message with
 * detail ("u1.base:1207: rating 'abc' is not a number") in its facto_ctx,
 * readable with facto_errmsg(). Objects come in create/free pairs; freeing
 * NULL is a no-op. Matrices are row-major; shapes are written [rows, cols].
 * Indices of users and items are 0-based and dense inside the library; the
 * data's own ids (strings up to 255 bytes) are kept in id maps, so every
 * function that talks to a person speaks those ids.
 *
 * This header compiles as C11 and as C++ (tests/unit/test_header_cxx.cc).
 */
#ifndef FACTO_H
#define FACTO_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's public functions. libfacto is built with
 * -fvisibility=hidden, so the shared library exports these and nothing else;
 * every internal function is named fct_* (src/) and never reaches a user. */
#if defined(__GNUC__) || defined(__clang__)
#define FACTO_API __attribute__((visibility("default")))
#else
#define FACTO_API
#endif

#define FACTO_VERSION_MAJOR 0
#define FACTO_VERSION_MINOR 1
#define FACTO_VERSION_PATCH 0
#define FACTO_VERSION_STRING "0.1.0"

/* Longest external user or item id, in bytes (without the terminating NUL). */
#define FACTO_MAX_ID_LEN 255

/* ======================================================================
 * Status codes and the context
 * ====================================================================== */

/* Status codes. The numbers never change; new codes are appended. */
typedef enum facto_status {
    FACTO_OK = 0,
    FACTO_ERR_INVALID = 1,   /* a bad argument or parameter value */
    FACTO_ERR_IO = 2,        /* a file could not be opened, read or written */
    FACTO_ERR_PARSE = 3,     /* input data is malformed (message names file:line) */
    FACTO_ERR_NOMEM = 4,     /* out of memory */
    FACTO_ERR_FORMAT = 5,    /* model file: not a facto model (bad magic) or wrong kind */
    FACTO_ERR_VERSION = 6,   /* model file written by a newer facto */
    FACTO_ERR_CORRUPT = 7,   /* model file: bad checksum, truncated, sizes inconsistent */
    FACTO_ERR_DIVERGED = 8,  /* training loss became non-finite */
    FACTO_ERR_NOT_FOUND = 9, /* unknown user, item, data set or file */
    FACTO_ERR_NETWORK = 10,  /* a download failed */
    FACTO_ERR_INTERNAL = 11, /* a broken internal invariant: a bug */
    FACTO_ERR_EMPTY = 12     /* input holds no data */
} facto_status;

/* Short English name of a status ("parse error"); never NULL, static storage. */
FACTO_API const char *facto_status_str(facto_status status);

/* Severity of a log line. */
typedef enum facto_log_level {
    FACTO_LOG_ERROR = 0,
    FACTO_LOG_WARN = 1,
    FACTO_LOG_INFO = 2,
    FACTO_LOG_DEBUG = 3
} facto_log_level;

/* Log sink: `message` is borrowed, valid during the call only, no newline. */
typedef void (*facto_log_fn)(facto_log_level level, const char *message, void *user_data);

/*
 * A context holds the last error (code + message), the logger and the thread
 * count. It is not thread-safe: use one context per thread.
 */
typedef struct facto_ctx facto_ctx;

/* Create a context; NULL when out of memory. Free with facto_ctx_free(). The
 * default logger drops every line; the default thread count is 1. */
FACTO_API facto_ctx *facto_ctx_new(void);
FACTO_API void facto_ctx_free(facto_ctx *ctx);

/* Last error message with detail, or "" when the last call succeeded.
 * Borrowed: valid until the next call that takes this context. */
FACTO_API const char *facto_errmsg(const facto_ctx *ctx);
/* Last status set on this context (FACTO_OK after a successful call). */
FACTO_API facto_status facto_errcode(const facto_ctx *ctx);

/* Route log lines at `max_level` and below to `fn` (NULL: drop them). */
FACTO_API void facto_ctx_set_log(facto_ctx *ctx, facto_log_fn fn, void *user_data, facto_log_level max_level);
/* Threads used by training and batch scoring; 0 means all cores. Default 1. */
FACTO_API void facto_ctx_set_threads(facto_ctx *ctx, int n_threads);

/* ======================================================================
 * Output files and number text
 * ====================================================================== */

/*
 * Every file libfacto and the facto command write goes through one atomic
 * output: a temporary file ".NAME.facto-tmp.PID.N" in NAME's folder
 * (created with O_EXCL), written through facto_output_stream(), then on
 * facto_output_commit() flushed, fsync'ed, renamed over NAME and the
 * folder fsync'ed. A reader never sees half a file; a failure (full disk,
 * EFBIG, a signal) leaves any old NAME unchanged and no temporary file.
 * The output refuses (FACTO_ERR_IO, message naming the path) to replace
 *  - a file named an input of the ctx with facto_ctx_add_input() (compared
 *    by device and inode; the facto command adds every file on its command
 *    line but the output's; libfacto's readers add nothing, so a program may
 *    load a model and save over it);
 *  - an existing facto model, unless flags hold FACTO_OUTPUT_MODEL (then
 *    anything but a missing or empty file or a model is refused instead);
 *  - a folder.
 * A symbolic link is followed (its target is replaced, the link kept); an
 * existing device or FIFO (/dev/null, /dev/stdout) is written in place.
 * Temporary files are unlinked on SIGINT, SIGTERM and SIGHUP by a handler
 * installed on first use where the signal's action is the default (it then
 * re-raises the signal); temporary files of NAME left by a process that no
 * longer runs are removed after the next successful commit of NAME.
 * Ownership: *out is the caller's until commit or abort frees it.
 */
typedef struct facto_output facto_output;
#define FACTO_OUTPUT_MODEL 1u /* the output is a facto model file */

/* Open an output for `path`. Errors: FACTO_ERR_INVALID (empty path),
 * FACTO_ERR_IO (refused as above; the folder takes no new file),
 * FACTO_ERR_NOMEM. */
FACTO_API facto_status facto_output_open(facto_ctx *ctx, const char *path, unsigned flags, facto_output **out);
/* The stream to write to (opened "w+b" for a regular file: it may be read
 * back). Borrowed; never fclose it. */
FACTO_API FILE *facto_output_stream(facto_output *o);
/* The path as given to facto_output_open (for messages). Borrowed. */
FACTO_API const char *facto_output_path(const facto_output *o);
/* Flush, fsync, check the rules again (files read since the open count),
 * rename over the target, fsync its folder, free o. Errors: FACTO_ERR_IO
 * "PATH: cannot write: REASON (...)" (a write error seen by the stream,
 * ENOSPC, EFBIG), the refusals above; the temporary file is removed. */
FACTO_API facto_status facto_output_commit(facto_ctx *ctx, facto_output *o);
/* Give up: remove the temporary file, free o. NULL is a no-op. */
FACTO_API void facto_output_abort(facto_output *o);
/* Protect the file at `path` from every output through ctx (a command's
 * inputs). FACTO_ERR_IO when it cannot be stat'ed; a folder or device is
 * accepted and not noted. facto_ctx_clear_inputs() forgets every file. */
FACTO_API facto_status facto_ctx_add_input(facto_ctx *ctx, const char *path);
FACTO_API void facto_ctx_clear_inputs(facto_ctx *ctx);

/*
 * Numbers as text in every process locale (libfacto never calls setlocale;
 * an application's decimal comma changes none of its input or output).
 * facto_format_float writes the shortest "%.{1..9}g" text that reads back
 * as exactly v ("0.1", "1e-05", "0.91486233"), facto_format_double the
 * shortest of up to 17 digits; "nan", "inf", "-inf" when not finite. buf
 * of 32 bytes always suffices; returns the length (snprintf's result).
 * facto_parse_number reads a whole text as strtod does in the C locale:
 * 1 on success, 0 when the text is not one number.
 */
/*
 * Ids as JSON text. Ids are the data's own bytes, in whatever encoding the
 * file used; a JSON string must be UTF-8. facto_id_escape keeps valid UTF-8
 * as it is, writes a backslash as two backslashes and every byte that is
 * not part of valid UTF-8 as the four characters \xHH (lowercase hex), so
 * the text is UTF-8 and two different ids never give the same text: the
 * Latin-1 id "jos\xe9" (bytes 6a 6f 73 e9) is "jos\xe9", its UTF-8
 * look-alike "jos\u00e9" stays "jos\u00e9". Reverse: "\\" -> one
 * backslash, "\xHH" -> byte HH. Writes at most size bytes including the
 * NUL into out (size 0: nothing) and returns the length of the whole
 * escaped text, as snprintf does; at most 4 x strlen(id). NULL id = "".
 */
FACTO_API size_t facto_id_escape(const char *id, char *out, size_t size);
/*
 * The reverse of facto_id_escape, for ids that arrive as text (the HTTP
 * server's query strings and JSON bodies, the event log): "\\" is one
 * backslash, "\xHH" (either case of hex) the byte HH, every other byte
 * itself. Writes at most size bytes including the NUL into out (size 0:
 * nothing) and returns the length of the whole id, as snprintf does; never
 * longer than strlen(text). FACTO_ID_BAD_ESCAPE when the text holds a
 * backslash followed by anything else, or "\x00" (an id holds no NUL).
 * NULL text = "".
 */
#define FACTO_ID_BAD_ESCAPE ((size_t)-1)
FACTO_API size_t facto_id_unescape(const char *text, char *out, size_t size);

FACTO_API int facto_format_float(char *buf, size_t size, float v);
FACTO_API int facto_format_double(char *buf, size_t size, double v);
FACTO_API int facto_parse_number(const char *text, double *out);

/* ======================================================================
 * Id maps: the data's own ids <-> dense 0-based indices
 * ====================================================================== */

/* An id map. Ids are byte strings of 1..FACTO_MAX_ID_LEN bytes; integer ids
 * are kept as their decimal text as it appears in the data. */
typedef struct facto_idmap facto_idmap;

/* Number of ids in the map. */
FACTO_API int32_t facto_idmap_size(const facto_idmap *map);
/* Index of `id`, or -1 when the map does not hold it. `id` is borrowed. */
FACTO_API int32_t facto_idmap_find(const facto_idmap *map, const char *id);
/* The id of `index` (0 <= index < size), or NULL when out of range.
 * Borrowed from the map: valid while the map lives. */
FACTO_API const char *facto_idmap_name(const facto_idmap *map, int32_t index);

/* ======================================================================
 * Rating data sets
 * ====================================================================== */

/* A file format for (user, item, rating) data. */
typedef enum facto_format {
    FACTO_FORMAT_AUTO = 0,     /* from the first data line: "::" -> ML1M, a header starting
                                  "userId,movieId,rating" -> ML_CSV, else DELIMITED (detected);
                                  AUTO with a delimiter, header or columns set means DELIMITED */
    FACTO_FORMAT_ML100K = 1,   /* user<TAB>item<TAB>rating<TAB>timestamp (u.data, u1.base) */
    FACTO_FORMAT_ML1M = 2,     /* user::item::rating::timestamp (ratings.dat) */
    FACTO_FORMAT_ML_CSV = 3,   /* CSV with header userId,movieId,rating,timestamp */
    FACTO_FORMAT_DELIMITED = 4 /* generic delimited text, see facto_read_options */
} facto_format;

/* Options for reading ratings. Start from facto_read_options_default(). */
typedef struct facto_read_options {
    facto_format format; /* default FACTO_FORMAT_AUTO */
    /* FACTO_FORMAT_DELIMITED only: */
    char delimiter;      /* '\t', ',', ';', ' ' (runs of blanks), any other printable ASCII byte
                            but '"' and '#', or 0 = detect from the first data line (default 0) */
    int header;          /* 1 = first line is a header, 0 = no header, -1 = detect (default -1) */
    /* Columns: "user,item,rating[,timestamp]" as header names, or as 1-based
     * positions ("1,2,3"). NULL = the first three (four) columns. Borrowed. */
    const char *columns;
    /* Detection, on the first line that is not blank or a comment: the
     * delimiter is "::" when the line holds it, else the first of tab, ','
     * and ';' that gives enough columns, else runs of blanks; that line is a
     * header when none of its fields is a number. Without `columns`, the 4th
     * column is the timestamp when the first data line has one (after a
     * header: when its name holds "time" or "date", or is "ts"). Fields are
     * trimmed of blanks and may be double-quoted ("a,b", "" for a quote).
     * Columns after those used are ignored. */

    /* Implicit feedback (plays, clicks, purchases), any format:
     *  implicit = 0 (default): explicit ratings, as described above; a
     *    repeated (user, item) keeps its last line's rating and timestamp.
     *  implicit = 1: the third column is a weight (a count of plays, clicks,
     *    ...), a finite number >= 0: a weight that is not a number, is
     *    negative or does not fit a float is FACTO_ERR_PARSE "PATH:LINE: ...".
     *    A repeated (user, item) is one pair whose weight is the sum of its
     *    lines' weights and whose timestamp is the latest of theirs. The
     *    weight column may be absent, every weight then being 1: with
     *    `columns` "user,item" or "user,item,,timestamp" (an empty third
     *    entry); without `columns`, in delimited text, when the first data
     *    line has two columns, or a header names the user and the item but no
     *    weight ("user,item,timestamp"; besides the rating names, "weight",
     *    "count", "plays", "clicks", "views", "quantity", ... name the weight).
     *    Then a first line of two fields is a header only when a field names
     *    a column. A third column that is not a weight (a timestamp) must be
     *    placed with `columns`. The MovieLens formats read their rating as the
     *    weight.
     *  implicit_threshold = T > 0 (implicit only; 0 = none, the default):
     *    keeps the pairs whose summed weight is >= T, each as a positive of
     *    weight 1, and drops the others (T = 4 on MovieLens ratings keeps
     *    4 and 5 stars); users and items left with no pair are not in the data
     *    set. facto_dataset_read_with_stats counts what was dropped. With a
     *    threshold, values may be negative (ratings on a signed scale, as
     *    -10..10: T = 1 keeps the positive ones); without one, a negative
     *    weight is an error.
     * Errors (FACTO_ERR_INVALID): implicit not 0 or 1, a threshold that is
     * negative or not finite, a threshold > 0 with implicit = 0. */
    int implicit;
    double implicit_threshold;
} facto_read_options;

FACTO_API facto_read_options facto_read_options_default(void);

/* Sparse feature rows (libsvm, recordIO, SageMaker requests): see the FM
 * data formats section. Opaque. */
typedef struct facto_rows facto_rows;

/*
 * A rating data set: n_ratings (user, item, rating[, timestamp]) held as CSR
 * by user, with the id maps of its users and items. Duplicate (user, item)
 * pairs are merged when read, keeping the last rating in file order (implicit
 * data: adding their weights, see facto_read_options); for implicit data the
 * "ratings" are the pairs' weights. Immutable once built.
 */
typedef struct facto_dataset facto_dataset;

/*
 * Read ratings from `path` (plain text, or gzip-compressed when the file
 * starts with the gzip magic). Streaming: memory is O(ratings), not O(file).
 * Accepts CRLF line ends, a UTF-8 BOM, blank lines and lines starting with '#'.
 * Errors: FACTO_ERR_IO (cannot open/read), FACTO_ERR_PARSE (bad line; the
 * message is "PATH:LINE: what is wrong"), FACTO_ERR_EMPTY (no ratings, or
 * none reaches the implicit threshold), FACTO_ERR_INVALID (bad options). On
 * success *out is owned by the caller: free with facto_dataset_free().
 * `n_duplicates` (may be NULL) receives the number of lines dropped because
 * a later line had the same (user, item), so lines read = n_ratings +
 * n_duplicates (implicit data: the lines added into an earlier line's pair;
 * with a threshold, the pairs it drops are counted by
 * facto_dataset_read_with_stats). Ids are the fields' bytes (1..255, no NUL);
 * ratings must be finite floats (implicit weights also >= 0), timestamps
 * int64 integers.
 * Cost O(file bytes + n_users + n_items); u.data (100K lines) takes ~10 ms.
 */
FACTO_API facto_status facto_dataset_read(facto_ctx *ctx, const char *path, const facto_read_options *opts,
                                          facto_dataset **out, int64_t *n_duplicates);

/* What facto_dataset_read_with_stats did with the lines of a file. Always
 * n_lines = n_ratings + n_duplicates + n_below_threshold. */
typedef struct facto_read_stats {
    int64_t n_lines;           /* data lines read (blank, comment and header lines not counted) */
    int64_t n_duplicates;      /* lines whose (user, item) came on another line: explicit data keeps the
                                  last one only; implicit data adds their weights into one pair */
    int64_t n_below_threshold; /* implicit with a threshold: pairs (after summing) dropped below it */
    int32_t n_users_dropped;   /* users whose every pair was dropped by the threshold */
    int32_t n_items_dropped;   /* items whose every pair was dropped by the threshold */
} facto_read_stats;

/*
 * facto_dataset_read, with the counts of *stats (may be NULL; zeroed first,
 * filled on success). Same inputs, outputs, errors and cost; and with a
 * threshold that drops every pair, FACTO_ERR_EMPTY "PATH: no pair reaches the
 * implicit threshold T (N pairs below it)"; when the weights of one pair add
 * up past the float range, FACTO_ERR_PARSE "PATH: the weights of user 'U' and
 * item 'I' add up to X, more than a float holds". On ml-100k's u.data with
 * implicit = 1 and threshold 4: 55,375 positives of 942 users and 1,447
 * items; 44,625 pairs, 1 user and 235 items dropped.
 */
FACTO_API facto_status facto_dataset_read_with_stats(facto_ctx *ctx, const char *path,
                                                     const facto_read_options *opts, facto_dataset **out,
                                                     facto_read_stats *stats);
FACTO_API void facto_dataset_free(facto_dataset *ds);

FACTO_API int32_t facto_dataset_n_users(const facto_dataset *ds);
FACTO_API int32_t facto_dataset_n_items(const facto_dataset *ds);
FACTO_API int64_t facto_dataset_n_ratings(const facto_dataset *ds);
/* Id maps, borrowed from the data set. */
FACTO_API const facto_idmap *facto_dataset_users(const facto_dataset *ds);
FACTO_API const facto_idmap *facto_dataset_items(const facto_dataset *ds);
/*
 * CSR arrays, borrowed from the data set:
 *   row_ptr   [n_users + 1] offsets into the next arrays; user u's ratings are
 *             row_ptr[u] .. row_ptr[u+1]-1, items sorted ascending;
 *   items     [n_ratings] item indices;
 *   ratings   [n_ratings] rating values;
 *   timestamps[n_ratings] seconds since the epoch, or NULL when the data has none.
 * A data set read from a .fds file holds its items and ratings narrow
 * (2-byte indices, 1-byte codes) until first asked for here: the first call
 * decodes them (O(n_ratings) time and 8 bytes per rating); when that runs
 * out of memory, *items and *ratings are set to NULL.
 */
FACTO_API void facto_dataset_csr(const facto_dataset *ds, const int64_t **row_ptr, const int32_t **items,
                                 const float **ratings, const int64_t **timestamps);
/* Smallest and largest rating in the data set. */
FACTO_API void facto_dataset_rating_range(const facto_dataset *ds, float *min_rating, float *max_rating);
/* The mean of the ratings (summed in double, in CSR order); NAN when there
 * are none. Reads a .fds data set's narrow ratings without widening them. O(n_ratings). */
FACTO_API double facto_dataset_mean_rating(const facto_dataset *ds);
/* The RMSE of predicting `value` for every rating, sqrt(sum (r - value)^2 / n)
 * summed in double in CSR order (the figure a regressor must beat, with
 * value the training mean); NAN when there are none. Reads a .fds data
 * set's narrow ratings without widening them. O(n_ratings). */
FACTO_API double facto_dataset_rmse_constant(const facto_dataset *ds, double value);

/*
 * Attach per-rating loss weights to a training data set: weights[n_ratings]
 * in ds's CSR order, finite, >= 0 and not all 0 (copied; NULL removes them),
 * e.g. inverse propensities from facto_propensity_weights (Schnabel et al.,
 * ICML 2016, section 4: the IPS-weighted empirical risk). Only mf trains on
 * them (facto_mf_fit, facto_model_fit): rating j's squared error counts w_j
 * times, its SGD / Adam step scales the error by w_j; the weights are scaled
 * to mean 1 first (loss sum w e^2 / sum w, the self-normalised form), so the
 * learning rate and regularisation keep their meaning and constant weights
 * give the unweighted model. facto_model_fit refuses a data set with
 * weights for every other kind (FACTO_ERR_INVALID). Splits, writers and evaluation do not carry
 * or use them. Errors: FACTO_ERR_INVALID (a bad weight: the message names
 * its index; NULL ds), FACTO_ERR_NOMEM. O(n_ratings).
 */
FACTO_API facto_status facto_dataset_set_weights(facto_ctx *ctx, facto_dataset *ds, const float *weights);
/* The weights attached by facto_dataset_set_weights ([n_ratings], borrowed), or NULL. */
FACTO_API const float *facto_dataset_weights(const facto_dataset *ds);

/*
 * Write a data set as a compact binary .fds file (layout in docs/format.md):
 * CSR by user, item indices of 2 bytes (up to 65,536 items) or 4, ratings
 * as 1-byte codes into a table when the data set holds at most 256 distinct
 * values (half-stars, integer stars, binary implicit) or float32, id maps as
 * one blob, timestamps when the data set has them; 64-byte aligned,
 * XXH64-checksummed. facto_dataset_read reads it back (by its magic bytes,
 * whatever the file name) by mapping it, with the same ids, pairs and values
 * bit for bit. Written through the atomic output (facto_output_open: a
 * temporary file, fsync, rename), so PATH is never half-written and the
 * output's refusals apply. MovieLens-20M's shape (20M half-star ratings,
 * 27K items) takes 3.1 bytes a rating. Errors: FACTO_ERR_INVALID (NULL
 * arguments), FACTO_ERR_IO (refused as facto_output_open says, or cannot be
 * written; the message names PATH), FACTO_ERR_NOMEM. O(n_ratings) time,
 * O(1) memory besides a 64 KB buffer.
 */
FACTO_API facto_status facto_dataset_write_fds(facto_ctx *ctx, const facto_dataset *ds, const char *path);
/*
 * Write a data set as text, one rating a line:
 * user<TAB>item<TAB>rating[<TAB>timestamp], users in index order, items
 * ascending; ratings as the shortest text that reads back to the same
 * float (facto_format_float). An id that facto_dataset_read would not read
 * back bare (a tab or double quote inside, "::", blanks at an end, a
 * leading '#') is written in double quotes with inner quotes doubled, so
 * reading the file gives the same ids. "-" writes to standard output;
 * otherwise as facto_dataset_write_fds (atomic output). Errors as
 * facto_dataset_write_fds, and FACTO_ERR_INVALID for an id holding a line
 * feed (the message names it, escaped, and its first row; nothing is
 * written). O(n_ratings).
 */
FACTO_API facto_status facto_dataset_write_tsv(facto_ctx *ctx, const facto_dataset *ds, const char *path);

/* What facto_dataset_synth generates. Start from facto_synth_options_default(). */
typedef struct facto_synth_options {
    int32_t n_users;   /* >= 1 (default 1000); every user has at least one rating */
    int32_t n_items;   /* >= 1 (default 500); items never drawn are left out of the data set */
    int64_t n_ratings; /* n_users .. n_users * n_items distinct (user, item) pairs (default 50000) */
    uint64_t seed;     /* default 0 */
    int implicit;      /* 1: every pair has weight 1 (binary interactions) (default 0) */
    int32_t rank;      /* rank of the hidden factor model, 1..256 (default 8) */
    double zipf;       /* item popularity exponent s: weight 1/rank^s, 0..10 (default 1) */
    double noise;      /* sd of the rating noise before rounding, 0..10 (default 0.5) */
} facto_synth_options;

FACTO_API facto_synth_options facto_synth_options_default(void);
/*
 * A synthetic data set with learnable structure: Zipf-like item popularity,
 * long-tailed (log-normal) user activity, distinct pairs, ratings
 * 3.5 + b_u + b_i + <p_u, q_i> + noise rounded to half-stars in 0.5..5
 * (biases sd 0.4 and 0.5, <p, q> sd 0.35); with implicit, weight 1 and
 * items also chosen by the factor model. Ids are "1".."N" and "1".."M".
 * Deterministic for the options (same seed, same data set). Errors:
 * FACTO_ERR_INVALID (counts or ranges; n_items above both 16 x n_ratings
 * and 2^20, a catalogue mostly never rated; or an estimated memory need
 * above the machine's physical memory: refused before anything is
 * allocated), FACTO_ERR_NOMEM. Cost about O(n_ratings log) time; memory 8
 * bytes a rating plus (48 + 4 rank) bytes an item and (24 + 4 rank) a
 * user while generating; 20M ratings take a few seconds. *out: free with
 * facto_dataset_free().
 */
FACTO_API facto_status facto_dataset_synth(facto_ctx *ctx, const facto_synth_options *o, facto_dataset **out);

/* The parts of facto_dataset_synth_mnar; free with facto_synth_mnar_free(). */
typedef struct facto_synth_mnar {
    facto_dataset *train;            /* observed ratings for training (MNAR) */
    facto_dataset *test;             /* observed ratings held out (same exposure); NULL when test_fraction is 0 */
    facto_dataset *uniform;          /* uniformly exposed pairs with their true ratings; NULL when n_uniform is 0 */
    facto_dataset *train_propensity; /* train's pairs, each "rating" the probability the pair is in train */
    facto_dataset *test_propensity;  /* test's pairs, each "rating" the probability the pair is in test */
    double propensity[5];            /* exposure propensity of a pair whose true rating is 1..5 */
} facto_synth_mnar;

/*
 * Ratings missing not at random with known propensities (Schnabel et al.,
 * "Recommendations as Treatments: Debiasing Learning and Evaluation", ICML
 * 2016, section 6.2; Steck, KDD 2010): every pair of o->n_users x
 * o->n_items has a true rating round(3 + b_u + b_i + <p_u, q_i> + noise) in
 * 1..5 (rank o->rank, noise sd o->noise; zipf is not used) and is observed
 * with propensity min(1, c alpha^max(0, 4 - r)): users rate what they like;
 * c makes about o->n_ratings pairs observed; alpha = 1 is missing at random.
 * An observed pair is held out to `test` with probability test_fraction;
 * n_uniform distinct pairs drawn uniformly form `uniform`. The propensity
 * data sets are written as `user item propensity` files by
 * facto_dataset_write_tsv. Ids "1".."N", "1".."M". Deterministic for the
 * options. Errors: FACTO_ERR_INVALID (users x items over 2^28, ratings or
 * n_uniform over half the pairs, alpha not in (0, 1], test_fraction not in
 * [0, 1), implicit), FACTO_ERR_EMPTY (a part came out empty),
 * FACTO_ERR_NOMEM. Cost O(users x items x rank) time, 1 byte a pair.
 */
FACTO_API facto_status facto_dataset_synth_mnar(facto_ctx *ctx, const facto_synth_options *o, double alpha,
                                                double test_fraction, int64_t n_uniform, facto_synth_mnar *out);
FACTO_API void facto_synth_mnar_free(facto_synth_mnar *s);

/*
 * The line of ratings file `path` (read with opts as facto_dataset_read
 * does; NULL = defaults) that holds the rating of (user, item), for messages
 * about a rating of a data set read from it: the last such line, as reading
 * keeps the last duplicate. *line = 0 when no line holds it (or the file is
 * a binary .fds). Errors: those of reading the file (FACTO_ERR_IO,
 * FACTO_ERR_PARSE naming PATH:LINE), FACTO_ERR_INVALID (a NULL argument).
 * Cost O(file bytes).
 */
FACTO_API facto_status facto_dataset_find_line(facto_ctx *ctx, const char *path, const facto_read_options *opts,
                                               const char *user, const char *item, int64_t *line);

/* What facto_propensity_weights read and did. */
typedef struct facto_propensity_stats {
    int64_t n_lines;   /* propensity lines read (not blank, comment or header lines) */
    int per_item;      /* 1: `item propensity` lines; 0: `user item propensity` lines */
    int64_t n_unused;  /* lines for a user, item or pair the data set does not hold (ignored) */
    int64_t n_clipped; /* ratings whose 1/p was above max_weight, so weigh max_weight */
    int64_t missing;   /* FACTO_ERR_NOT_FOUND: CSR index of the first rating without a propensity; else -1 */
} facto_propensity_stats;

/*
 * Inverse-propensity weights of ds's ratings (Schnabel et al., ICML 2016,
 * section 3.2: rating (u, i), observed with probability p_ui, counts
 * 1 / p_ui). `path` holds `user item propensity` lines (per pair) or `item
 * propensity` lines (per item), delimited as ratings files are (tab,
 * comma, semicolon, blanks, "::"; detected from the first line), with an
 * optional header line, blank and # comment lines; plain or gzip. Ids are
 * matched to ds's by string. *weights ([n_ratings] in ds's CSR order,
 * malloc'd, owned by the caller: free()) gets min(1 / p, max_weight), or
 * 1 / p when max_weight is 0. Errors: FACTO_ERR_PARSE "PATH:LINE: ..." (a
 * propensity that is not a number or not in (0, 1], a line with another
 * column count than the first, a pair or item given twice),
 * FACTO_ERR_NOT_FOUND (a rating of ds without a propensity: the message
 * names its user and item, stats->missing its index), FACTO_ERR_EMPTY (no
 * data line), FACTO_ERR_IO, FACTO_ERR_INVALID (max_weight not 0 or in [1,
 * 1e30], NULL arguments), FACTO_ERR_NOMEM. stats may be NULL. Cost
 * O(L log L + n_ratings) for L lines.
 */
FACTO_API facto_status facto_propensity_weights(facto_ctx *ctx, const char *path, const facto_dataset *ds,
                                                double max_weight, float **weights, facto_propensity_stats *stats);

/* How to split one data set into train and test. The last three are the
 * splits of ranking (implicit feedback); d is a user's number of ratings. */
typedef enum facto_split_kind {
    FACTO_SPLIT_RANDOM = 1,         /* each rating goes to test with probability `fraction` */
    FACTO_SPLIT_KFOLD = 2,          /* ratings shuffled into `k` folds; fold `fold` (1-based) is test */
    FACTO_SPLIT_TIME = 3,           /* each user's latest `fraction` of ratings (by timestamp) is test */
    FACTO_SPLIT_PER_USER = 4,       /* each user's round(fraction * d) ratings, at most d - 1, drawn at
                                       random, are test: every user keeps at least one in train */
    FACTO_SPLIT_LEAVE_LAST_OUT = 5, /* each user's latest rating (by timestamp) is test; a user with
                                       one rating keeps it in train */
    FACTO_SPLIT_USERS = 6           /* strong generalisation: round(fraction * n_users) users drawn at
                                       random are held out, all their ratings in test (see
                                       facto_dataset_split_users for fold-in history and target) */
} facto_split_kind;

typedef struct facto_split {
    facto_split_kind kind;
    double fraction; /* RANDOM, TIME, PER_USER: share of ratings; USERS: share of users; in (0, 1) */
    int k;           /* KFOLD: number of folds, >= 2 */
    int fold;        /* KFOLD: 1..k */
    uint64_t seed;   /* RANDOM, KFOLD, PER_USER, USERS: the seed of every random draw */
} facto_split;

/* The usual share of a held-out user's ratings folded in at evaluation, for
 * facto_dataset_split_users: 80% folded in, 20% scored. */
#define FACTO_SPLIT_HISTORY_FRACTION 0.8

/*
 * Parse "random:0.2", "kfold:5:3", "time:0.2", "per-user:0.2",
 * "leave-last-out" or "users:0.2" into *out. Every field but seed is set
 * (fraction 0 for leave-last-out, 1/k for kfold; k and fold 0 but for
 * kfold); seed is left as given. Errors: FACTO_ERR_INVALID with a message
 * saying what is wrong; *out is then untouched.
 */
FACTO_API facto_status facto_split_parse(facto_ctx *ctx, const char *text, facto_split *out);

/*
 * Split `all` into *train and *test; every rating goes to exactly one of
 * them. Each output has its own compact id maps (only the ids it holds).
 * RANDOM draws one uniform number per rating in CSR order; KFOLD shuffles the
 * ratings (Fisher-Yates) and deals them round-robin into k folds, so the k
 * folds of one seed partition the data; TIME holds out each user's latest
 * round(fraction * d) of d ratings (at most d - 1; ties broken by item index,
 * the later item in the data set's order counting as later).
 * PER_USER holds out, for each user in index order, round(fraction * d) of
 * their d ratings (half rounds up; at most d - 1), drawn without replacement
 * (a partial Fisher-Yates over the user's CSR positions) from one stream of
 * the seed: sizes depend only on the degrees, which ratings on the seed.
 * LEAVE_LAST_OUT holds out each user's latest rating, ties broken as TIME
 * (so it is TIME holding out exactly one); no randomness.
 * USERS draws round(fraction * n_users) users (a partial Fisher-Yates over
 * user indices) and puts all their ratings in test, the other users' in
 * train; test_history + test_target of facto_dataset_split_users with the
 * same fraction and seed are this test set, and its train this train.
 * O(n_ratings + n_users) time and memory (TIME, LEAVE_LAST_OUT: plus a sort
 * per user). Deterministic for a given seed (TIME, LEAVE_LAST_OUT need
 * none): the same data set, split and seed give the same outputs on every
 * platform. TIME and LEAVE_LAST_OUT need timestamps (FACTO_ERR_INVALID
 * otherwise); there a user with one rating keeps it in train.
 * Errors: FACTO_ERR_INVALID, FACTO_ERR_EMPTY (train or test would be empty),
 * FACTO_ERR_NOMEM. Outputs owned by the caller.
 * ml-100k u.data read with implicit = 1 and threshold 4 (55,375 positives),
 * per-user:0.2: 44,296 train and 11,079 test, every one of the 942 users in
 * both (for any seed: the sizes depend on the degrees only).
 */
FACTO_API facto_status facto_dataset_split(facto_ctx *ctx, const facto_dataset *all, const facto_split *split,
                                           facto_dataset **train, facto_dataset **test);

/*
 * Strong generalisation ("users:F"): the users of a test are not in
 * training, and are folded in at evaluation from part of their own history.
 * round(fraction * n_users) users are drawn as by facto_dataset_split with
 * FACTO_SPLIT_USERS (same fraction and seed: the same users, the same
 * *train). The ratings of the others go to *train. For each held-out user in
 * index order, a random h = round(history_fraction * d) of their d ratings
 * (half rounds up; at least 1, at most d) go to *test_history, the other
 * d - h, drawn without replacement from the seed's stream after the users'
 * draw, to *test_target, what is scored: with history_fraction
 * FACTO_SPLIT_HISTORY_FRACTION (0.8), a random 80% folded in and 20% scored. A held-out user with too few ratings for a
 * target (d = 1; d = 2 at 0.8) is in test_history only; evaluation skips a
 * user without target. Every rating is in exactly one of the three; the
 * users of test_history and test_target are the held-out ones; each output
 * has its own compact id maps, and items of the test sides may be missing
 * from train. fraction and history_fraction in (0, 1).
 * Errors: FACTO_ERR_INVALID (NULL arguments, a fraction out of range),
 * FACTO_ERR_EMPTY (no user held out, every user held out, or no held-out user
 * with a target), FACTO_ERR_NOMEM. On error the outputs are NULL; on success
 * all three are owned by the caller. O(n_ratings + n_users).
 * ml-100k u.data at threshold 4, users:0.2 seed 1, history 0.8: 188 users
 * held out; 45,124 train, 8,205 test history and 2,046 test target ratings.
 */
FACTO_API facto_status facto_dataset_split_users(facto_ctx *ctx, const facto_dataset *all, double fraction,
                                                 uint64_t seed, double history_fraction, facto_dataset **train,
                                                 facto_dataset **test_history, facto_dataset **test_target);

/* ======================================================================
 * Data set registry (MovieLens)
 * ====================================================================== */

/* Registered data set names: "ml-100k", "ml-1m", "ml-10m", "ml-20m",
 * "ml-latest-small". Returns the count; *names is static storage. */
FACTO_API int facto_datasets_list(const char *const **names);

/*
 * Folder where data sets live: $FACTO_DATA_HOME, else $XDG_CACHE_HOME/facto,
 * else $HOME/.cache/facto. Written into buf (size bytes); FACTO_ERR_INVALID
 * when it does not fit.
 */
FACTO_API facto_status facto_data_home(facto_ctx *ctx, char *buf, size_t size);

/*
 * Path of data set `name`'s folder (data home + the folder its official zip
 * unpacks to) into buf. FACTO_ERR_NOT_FOUND for an unknown name, or when the
 * folder is missing (the message says how to fetch it).
 */
FACTO_API facto_status facto_dataset_path(facto_ctx *ctx, const char *name, char *buf, size_t size);

/*
 * In libfacto_fetch, not libfacto: link with `pkg-config --libs facto-fetch`
 * (-lfacto_fetch -lfacto), which brings libcurl, libzip and OpenSSL's libcrypto.
 * Download data set `name`'s official zip with libcurl, check it and unpack it
 * with libzip into the data home; does nothing when the folder is already
 * there. Checks: SHA-256 as recorded by TensorFlow Datasets for the same URL
 * (all but ml-10m, for which none is published), GroupLens' published MD5
 * (all but ml-latest-small), and the size when known. The zip is streamed to
 * a temporary file (hashed on the way), unpacked into a temporary folder and
 * renamed into place: a failure leaves nothing behind. Environment:
 * FACTO_DATASETS_URL = a mirror holding the same zip names,
 * FACTO_CONNECT_TIMEOUT = connect timeout in seconds (default 30).
 * Errors: FACTO_ERR_NOT_FOUND (unknown name), FACTO_ERR_NETWORK (download
 * failed: the message names the address and the folder to put the files in
 * by hand), FACTO_ERR_CORRUPT (size or checksum mismatch, bad zip, unsafe
 * entry name), FACTO_ERR_IO.
 */
FACTO_API facto_status facto_dataset_fetch(facto_ctx *ctx, const char *name);

/*
 * Resolve a named data set and split into train/test file paths:
 * ("ml-100k", "u1") -> ".../ml-100k/u1.base", ".../ml-100k/u1.test". For a
 * data set with one ratings file and no official splits, *test_path is set to
 * "" and *train_path to the ratings file; split NULL, "" or "all" asks for
 * that (the whole ratings file) on any data set. Official splits: ml-100k's
 * u1..u5, ua, ub. Buffers of `size` bytes.
 * Errors: FACTO_ERR_NOT_FOUND (unknown data set or split, missing files).
 */
FACTO_API facto_status facto_dataset_split_files(facto_ctx *ctx, const char *name, const char *split, char *train_path,
                                                 char *test_path, size_t size);

/*
 * Read item titles of a MovieLens data set folder (u.item, movies.dat or
 * movies.csv), converted to UTF-8 (a line that is valid UTF-8 is kept as it
 * is, any other is read as ISO-8859-1, as in ml-100k and ml-1m); CSV titles
 * may be quoted with "" escapes. *titles is [n] strings indexed like
 * `items` (NULL where an item has no title); owned by the caller: free with
 * facto_titles_free(*titles, n). Errors: FACTO_ERR_NOT_FOUND (no titles file),
 * FACTO_ERR_PARSE, FACTO_ERR_IO.
 */
FACTO_API facto_status facto_titles_read(facto_ctx *ctx, const char *dataset_dir, const facto_idmap *items, char ***titles,
                                         int32_t *n);
FACTO_API void facto_titles_free(char **titles, int32_t n);

/* ======================================================================
 * Feature tables: side features of users or items
 *
 * A feature table gives each entity id (a user or an item, the data's own
 * id strings) a sparse row of (column, value). Every column has a name
 * ("age=25-34", "genre=Comedy", or an attribute's name) and a group, the
 * kind of feature ("age", "genre"), so a model can treat each kind apart
 * (MCMC gives each group its own prior). Factorization machines read their
 * side files through it (facto_fm_encoder_new, training from ratings).
 * Stored as CSR rows in the order the ids come in the file: memory
 * O(ids + columns + entries), whatever the number of columns.
 * ====================================================================== */

typedef struct facto_features facto_features;

/*
 * Read a feature table from `path` (plain or gzip; bytes kept as they are,
 * so ISO-8859-1 names stay ISO-8859-1). The first line that is neither blank
 * nor a '#' comment tells the format:
 *  - MovieLens 100K u.user when it holds 5 '|'-separated fields,
 *    "id|age|gender|occupation|zip". Columns, in this order: age=<18,
 *    age=18-24, age=25-34, age=35-44, age=45-49, age=50-55, age=56+ (group
 *    "age"); gender=M, gender=F ("gender"); occupation=NAME for each
 *    occupation of the file, sorted bytewise ("occupation"). A user's row is
 *    1 in its age bucket, its gender and its occupation.
 *  - MovieLens 100K u.item when it holds more '|'-separated fields,
 *    "id|title|release date|video date|url|19 genre flags" (the flags are the
 *    last 19 fields, so a title may hold '|'). Columns: genre=unknown,
 *    genre=Action, ..., genre=Western in u.item's order ("genre"), then
 *    decade=YYYY for each release decade of the file, ascending ("decade").
 *    An item's row has each of its n genres at 1/n (the group sums to 1) and
 *    its decade at 1 (none without a release date).
 *  - otherwise attributes, one id a line: "id<TAB>name[:value] name[:value]
 *    ..." (names separated by spaces or tabs; the value follows the last ':'
 *    and is 1 when there is none; a name given twice on a line sums its
 *    values). One column per distinct name, in first-seen order; its group is
 *    the name up to the first '=' (all of it when it has none), so
 *    "genre=Drama" and "genre=Comedy" share group "genre"; groups are numbered
 *    in first-seen order. An id with no names gets an empty row.
 * u.user / u.item skip blank lines; attribute files blank and '#' lines.
 * An id given twice is an error, not merged: two lines for one id come from
 * files joined by mistake more often than from a wish to add them up.
 * Errors: FACTO_ERR_IO (cannot open or read `path`); FACTO_ERR_PARSE with
 * "PATH:LINE: ..." for a wrong field count, an age that is not a whole number,
 * a gender other than M or F, an empty occupation, a genre flag other than 0
 * or 1, a release date without a year, a line without a TAB, a value that is
 * not a finite float, a name that is empty or longer than 255 bytes, an id
 * that is empty, longer than FACTO_MAX_ID_LEN or given twice; FACTO_ERR_EMPTY
 * (no ids: an empty file, or only blank and '#' lines); FACTO_ERR_INVALID
 * (path or out NULL); FACTO_ERR_NOMEM. *out owned by the caller: free with
 * facto_features_free(). Cost O(file bytes + entries).
 */
FACTO_API facto_status facto_features_read(facto_ctx *ctx, const char *path, facto_features **out);
FACTO_API void facto_features_free(facto_features *features);

/* Number of ids (rows), of columns and of groups; 0 for NULL. */
FACTO_API int32_t facto_features_n_ids(const facto_features *features);
FACTO_API int32_t facto_features_n_columns(const facto_features *features);
FACTO_API int32_t facto_features_n_groups(const facto_features *features);

/* The table's ids: row r belongs to facto_idmap_name(ids, r), and the row of
 * id s is facto_idmap_find(ids, s) (-1: no such id). Borrowed from the
 * table: valid while it lives. */
FACTO_API const facto_idmap *facto_features_ids(const facto_features *features);

/*
 * Column `column` (0 <= column < n_columns): *name (NUL-terminated,
 * borrowed from the table) and *group (0 <= group < n_groups); either
 * pointer may be NULL. FACTO_ERR_INVALID when column is out of range.
 */
FACTO_API facto_status facto_features_column(facto_ctx *ctx, const facto_features *features, int32_t column,
                                             const char **name, int32_t *group);
/* Name of group `group` (0 <= group < n_groups), borrowed from the table.
 * FACTO_ERR_INVALID when group is out of range. */
FACTO_API facto_status facto_features_group(facto_ctx *ctx, const facto_features *features, int32_t group,
                                            const char **name);

/*
 * Row of id index `index` (0 <= index < n_ids, from facto_idmap_find on
 * facto_features_ids): *n entries, *columns [*n] strictly ascending column
 * indices and *values [*n] their values (finite floats). Both arrays are
 * borrowed from the table (valid while it lives); any out-parameter may be
 * NULL. FACTO_ERR_INVALID when index is out of range (-1 for an unknown id).
 * O(1).
 */
FACTO_API facto_status facto_features_row(facto_ctx *ctx, const facto_features *features, int32_t index,
                                          const uint32_t **columns, const float **values, int32_t *n);

/* ======================================================================
 * Models: every kind behind one interface
 *
 * A model is trained by facto_model_fit() from a facto_params of its kind
 * and used through the functions of this section and the next, whatever its
 * kind: predict, evaluate and recommend are written once over the model
 * interface (src/models/model.h), so a program (the CLI, the server) never
 * needs to know which kind it holds. What a kind can do is asked, not
 * assumed: facto_model_task() says what it predicts, facto_model_inputs()
 * what it scores (ids or feature rows).
 * ====================================================================== */

/* Model kinds; the numbers are stored in model files and never change. */
typedef enum facto_model_kind {
    FACTO_MODEL_MF = 1,      /* "mf": biased matrix factorization */
    FACTO_MODEL_FM = 2,      /* "fm": factorization machine */
    FACTO_MODEL_POPULAR = 3, /* "popular": most interactions (implicit feedback baseline) */
    FACTO_MODEL_ITEMKNN = 4, /* "itemknn": item-item nearest neighbours, cosine or BM25 */
    FACTO_MODEL_EASE = 5,    /* "ease": closed-form item-item model (Steck, WWW 2019) */
    FACTO_MODEL_IALS = 6,    /* "ials": implicit alternating least squares (ranking) */
    FACTO_MODEL_BPR = 7,     /* "bpr": Bayesian personalized ranking (ranking) */
    FACTO_MODEL_WARP = 8,    /* "warp": WARP loss, LightFM's form (ranking) */
    FACTO_MODEL_SOFTMAX = 9  /* "softmax": multi-label softmax cross-entropy (ranking) */
} facto_model_kind;

/* What a model predicts. */
typedef enum facto_task {
    FACTO_TASK_REGRESSION = 1, /* a rating, clipped to the training range: RMSE, MAE */
    FACTO_TASK_BINARY = 2,     /* the probability of label 1: accuracy, cross-entropy, AUC, ... */
    FACTO_TASK_RANKING = 3     /* ranking scores only (implicit feedback) */
} facto_task;

/* What a kind trains on and a model scores (bits). */
enum {
    FACTO_INPUT_RATINGS = 1, /* (user, item[, rating]) by the data's own ids: facto_dataset */
    FACTO_INPUT_ROWS = 2     /* sparse feature rows: facto_rows (libsvm, recordIO, SageMaker requests) */
};

typedef struct facto_model facto_model;

/* Free a model of any kind and everything it owns; NULL is a no-op. */
FACTO_API void facto_model_free(facto_model *model);
/* Kind of a model; 0 for NULL. */
FACTO_API facto_model_kind facto_model_get_kind(const facto_model *model);
/* The kind's name ("mf", "fm", ..., "softmax"), or "unknown" for any other value. Static
 * storage. */
FACTO_API const char *facto_model_kind_name(facto_model_kind kind);
/* What the model predicts; 0 for NULL. */
FACTO_API facto_task facto_model_task(const facto_model *model);
/* FACTO_INPUT_* bits of what a trained model scores: RATINGS when it
 * predicts (user, item) ids (facto_model_predict, evaluate, recommend), ROWS
 * when it scores feature rows (facto_model_predict_rows); 0 for NULL. */
FACTO_API unsigned facto_model_inputs(const facto_model *model);
/* Id maps of the users and items the model was trained on; borrowed from the
 * model; NULL for a model without ids (an FM trained on feature rows). */
FACTO_API const facto_idmap *facto_model_users(const facto_model *model);
FACTO_API const facto_idmap *facto_model_items(const facto_model *model);

/* One registered kind. Strings are static storage. */
typedef struct facto_kind_info {
    const char *name;      /* "mf": the name facto_params_new() and `facto train --model` take */
    facto_model_kind kind;
    const char *summary;   /* one line: the model and its source */
    unsigned train_inputs; /* FACTO_INPUT_* bits it trains on (facto_fit_data) */
    int thread_invariant;  /* N > 0: a model is the same for any facto_ctx_set_threads() count from 1
                              to N, INT_MAX for any count (fm: MCMC chains, each with its own seed,
                              large SGD mini-batches and the MCMC / ALS sweeps of ratings run in
                              parallel, bit for bit as on one), so a program may use every core by
                              default (mf: blocked SGD, 16: its grid has 16 x 16 blocks up to 16
                              threads, more above); 0: more threads change the result (bpr: Hogwild
                              SGD), so 1 thread is the reproducible default */
} facto_kind_info;

/* Number of kinds this build knows; kind `index` (0-based) into *out.
 * facto_model_kind_find looks one up by name. Errors: FACTO_ERR_NOT_FOUND
 * (index out of range, unknown name: the message lists the known ones),
 * FACTO_ERR_INVALID (NULL out). */
FACTO_API int facto_model_kind_count(void);
FACTO_API facto_status facto_model_kind_info(facto_ctx *ctx, int index, facto_kind_info *out);
FACTO_API facto_status facto_model_kind_find(facto_ctx *ctx, const char *name, facto_kind_info *out);

/*
 * Save the model to `path`: written to a temporary file in the same folder,
 * fsync'ed, then renamed over `path`, so a crash never leaves a half-written
 * model and an older file at `path` survives any failure (a crash may leave
 * a stale ".NAME.facto-tmp.PID.N", removed by the next save of `path`;
 * see facto_output_open). Layout: docs/format.md (64-byte aligned sections,
 * little-endian, XXH64 checksum; the GGUF / Redis RDB style of versioned
 * binary). Errors: FACTO_ERR_IO (cannot create, write, fsync or rename; the
 * message names the path and the reason), FACTO_ERR_NOMEM, FACTO_ERR_INVALID
 * (NULL model or empty path). `model` is borrowed. Cost O(file size): the
 * file is written once and read back once to hash it.
 */
FACTO_API facto_status facto_model_save(facto_ctx *ctx, const facto_model *model, const char *path);

/*
 * Check before training that facto_model_save() could write `path`: it must
 * be missing, an empty file or a facto model file (a folder, device, FIFO or
 * any other file is refused, as save refuses it), and its folder must take a
 * new file (a probe file is created and removed). Lets a program fail before
 * a long fit rather than after it. Errors: FACTO_ERR_INVALID (empty path),
 * FACTO_ERR_IO (the message names the path and the reason).
 */
FACTO_API facto_status facto_model_save_check(facto_ctx *ctx, const char *path);

/*
 * Load a model saved by facto_model_save(). Checks the magic, the format
 * version, every size and the xxHash checksum. Errors: FACTO_ERR_IO (cannot
 * read), FACTO_ERR_FORMAT (not a facto model file), FACTO_ERR_VERSION (newer
 * format), FACTO_ERR_CORRUPT (truncated, checksum mismatch, bad sizes),
 * FACTO_ERR_FORMAT also for a model kind this build does not know,
 * FACTO_ERR_NOMEM. Every message starts with the path. Checks run in that
 * order, so a newer file is reported as newer even when it looks damaged.
 * *out owned by the caller: free with facto_model_free(); NULL on failure.
 * Memory: the whole file is read once (plus the model built from it).
 */
FACTO_API facto_status facto_model_load(facto_ctx *ctx, const char *path, facto_model **out);

/* ======================================================================
 * Hyperparameters by name (every kind)
 *
 * Each kind describes its hyperparameters in one table (name, type, range,
 * default, help); these functions walk it, so `facto train` flags,
 * SageMaker's hyperparameters.json, `facto inspect` and the model file all
 * use the same names. Names are SageMaker's where SageMaker has the
 * setting (num_factors, epochs, ...); '-' and '_' are interchangeable and a
 * few aliases are accepted (mf: factors = num_factors, lr = learning_rate).
 * ====================================================================== */

/* A kind's hyperparameter values: opaque, created with its defaults. */
typedef struct facto_params facto_params;

/* New hyperparameters of kind `kind` ("mf", "fm", "ials") at their defaults.
 * Errors: FACTO_ERR_NOT_FOUND (unknown kind, the message lists the known
 * ones), FACTO_ERR_NOMEM. *out owned by the caller: facto_params_free(). */
FACTO_API facto_status facto_params_new(facto_ctx *ctx, const char *kind, facto_params **out);
FACTO_API void facto_params_free(facto_params *params);
/* The kind the params are for ("mf"); static storage. */
FACTO_API const char *facto_params_kind(const facto_params *params);

/*
 * Set hyperparameter `name` (or an alias) from its text `value`, as a CLI
 * flag or SageMaker passes it ("64", "0.001", "adam"); blanks around the
 * value are ignored and numbers are read in the C locale whatever the
 * process locale. The value's own rule is checked here (rules between
 * fields at facto_params_validate). On error *params is unchanged.
 * Errors: FACTO_ERR_INVALID naming the hyperparameter and the rule
 * ("hyperparameter num_factors: 0 is not a positive integer"), also for an
 * unknown name. Both strings are borrowed.
 */
FACTO_API facto_status facto_params_set(facto_ctx *ctx, facto_params *params, const char *name, const char *value);

/* The value of `name` as text (what facto_params_set reads back to the
 * same value) into buf (size bytes); "" when it is not set. Errors:
 * FACTO_ERR_NOT_FOUND (unknown name), FACTO_ERR_INVALID (buf too small). */
FACTO_API facto_status facto_params_get(facto_ctx *ctx, const facto_params *params, const char *name, char *buf,
                                        size_t size);

/*
 * Apply SageMaker's hyperparameters.json (/opt/ml/input/config/): one JSON
 * object whose values are strings (numbers accepted too), in file order;
 * keys starting with "_" or "sagemaker_" (added by SageMaker's tuner and
 * SDK) are skipped. On error *params is unchanged. Errors: FACTO_ERR_IO
 * (cannot open; a folder), FACTO_ERR_PARSE ("PATH:LINE: ..." for malformed
 * JSON), FACTO_ERR_INVALID ("PATH: hyperparameter ...").
 */
FACTO_API facto_status facto_params_load_json(facto_ctx *ctx, facto_params *params, const char *path);

/* Every hyperparameter that is set as "name=value\n" lines, in table order,
 * into buf (size bytes; NUL-terminated when it fits; buf may be NULL when
 * size is 0). Returns the length needed without the NUL, like snprintf.
 * Each line reads back exactly through facto_params_set (floats carry 9
 * significant digits). */
FACTO_API size_t facto_params_format(const facto_params *params, char *buf, size_t size);

/* Check every rule: required ones set, each value in its range, and the
 * rules between fields. facto_model_fit() calls it too. Errors:
 * FACTO_ERR_INVALID naming the first hyperparameter that breaks a rule. */
FACTO_API facto_status facto_params_validate(facto_ctx *ctx, const facto_params *params);

/* FACTO_INPUT_* bits of what this configuration trains on: the kind's
 * train_inputs, narrowed by settings that need one form (fm with solver
 * sgd trains on feature rows only: one-hot encode ratings first,
 * facto_fm_encode). 0 for NULL. */
FACTO_API unsigned facto_params_inputs(const facto_params *params);

/* FACTO_TASK_* a model trained with this configuration will have (fm: its
 * predictor_type; mf: regression); 0 while a setting it depends on is not
 * set, or for NULL. Lets a program check its data before a fit. */
FACTO_API facto_task facto_params_task(const facto_params *params);

/* How this configuration will train, for a program to show before a fit,
 * into buf (size bytes; buf may be NULL when size is 0) as snprintf does
 * (returns the length needed without the NUL): a one-line summary ("regressor,
 * solver mcmc, num_factors 8, 20 iterations"), then a line for each note
 * worth showing ("mcmc: 4 chains of 20 iterations, pooled at the end; the
 * epoch reports follow chain 1"), each line ending in '\n'. "" for NULL. */
FACTO_API size_t facto_params_describe(const facto_params *params, char *buf, size_t size);

/* Whether hyperparameter `name` (or an alias) takes part in training the
 * configuration params holds: 1 when it does, 0 when the solver or
 * optimizer chosen ignores it (fm with solver als or mcmc: the learning
 * rates and the other sgd settings; mf with optimizer adam: momentum), -1
 * for NULL or a name the kind does not have. What `facto inspect` lists. */
FACTO_API int facto_params_used(const facto_params *params, const char *name);

/* One hyperparameter of the table. The pointers are static storage. */
typedef struct facto_param_info {
    const char *name;       /* canonical name ("num_factors") */
    const char *aliases;    /* other names, comma-separated ("factors"), or "" */
    const char *type;       /* "int", "float" or "choice" */
    char choices[256];      /* "sgd|adam" for a choice, else "" */
    const char *help;       /* one line */
    const char *origin;     /* "sagemaker" (SageMaker's name and default), "facto" or "" */
    const char *unset_text; /* what leaving it unset means ("1 / mini_batch_size"), or "" */
    int required;           /* 1: training refuses to start without it */
} facto_param_info;

/* Number of hyperparameters of the kind; entry `index` (0-based, table
 * order) into *out. Errors: FACTO_ERR_NOT_FOUND (index out of range). */
FACTO_API int facto_params_count(const facto_params *params);
FACTO_API facto_status facto_params_info(facto_ctx *ctx, const facto_params *params, int index,
                                         facto_param_info *out);

/* The hyperparameters a trained or loaded model was trained with (a copy,
 * owned by the caller: facto_params_free). Errors: FACTO_ERR_INVALID (NULL
 * model), FACTO_ERR_NOMEM. */
FACTO_API facto_status facto_model_params(facto_ctx *ctx, const facto_model *model, facto_params **out);

/* ======================================================================
 * Training (every kind)
 * ====================================================================== */

/* Metrics of a binary classifier (SageMaker's metric names in the comments). */
typedef struct facto_binary_metrics {
    int64_t n;             /* rows scored */
    int64_t n_positive;    /* rows with label > 0 */
    double accuracy;       /* binary_classification_accuracy: share with (score >= threshold) == label */
    double cross_entropy;  /* binary_classification_cross_entropy: mean -log p(label), nats, p clamped
                              to [1e-15, 1 - 1e-15] */
    double f_beta;         /* binary_f_beta: (1 + b^2) P R / (b^2 P + R); 0 when P = R = 0 */
    double precision;      /* P = TP / (TP + FP); 0 when nothing is predicted positive */
    double recall;         /* R = TP / (TP + FN); 0 when there are no positives */
    double auc;            /* area under the ROC curve, a tie between a positive and a negative
                              counting 1/2; NAN when only one class is present */
} facto_binary_metrics;

/* Most ranking metrics one evaluation computes. */
#define FACTO_METRICS_MAX_RANKING 16

/* One ranking metric: its name as asked ("ndcg@10", "recall@20", "mrr",
 * "auc", "coverage@10"; docs/metrics.md has every definition) and its value,
 * averaged over the users scored (coverage: over the catalogue). */
typedef struct facto_ranking_value {
    char name[24];
    double value;
} facto_ranking_value;

/* Accuracy of a model on a data set or on feature rows, whatever its kind.
 * Figures that do not apply are NAN (or absent, for ranking metrics). */
typedef struct facto_metrics {
    facto_task task;          /* the model's task: which figures below are set */
    int64_t n;                /* ratings or rows scored; 0 (and every figure NAN) when none */
    int64_t n_unknown_users;  /* ratings whose user the model never saw (predicted by its fallback) */
    int64_t n_unknown_items;  /* ratings whose item the model never saw */
    double rmse;              /* FACTO_TASK_REGRESSION: root mean squared error */
    double mae;               /* FACTO_TASK_REGRESSION: mean absolute error */
    facto_binary_metrics binary; /* FACTO_TASK_BINARY: threshold 0.5, beta 1 */
    /* Ranking (FACTO_TASK_RANKING, or any model with ids when asked):
     * full ranking over every item but each user's training items. */
    int64_t n_users;          /* test users scored */
    int64_t n_users_skipped;  /* test users left out: no test item, or unknown to the model with no
                                 history to fold in */
    int n_ranking;
    facto_ranking_value ranking[FACTO_METRICS_MAX_RANKING];
} facto_metrics;

/* The value of metric `name` in m: "rmse", "mae", a ranking metric as
 * computed ("ndcg@10"), or a classifier's "accuracy", "cross_entropy",
 * "f_beta", "precision", "recall", "auc" (a ranking "auc" first). NAN when
 * m does not hold it. */
FACTO_API double facto_metrics_get(const facto_metrics *m, const char *name);

/* Figures of one finished epoch (SGD), sweep (ALS) or iteration (MCMC). */
typedef struct facto_epoch_report {
    int epoch;                 /* 1-based */
    int epochs;                /* total */
    facto_metrics train;       /* on the training data; MF: with the parameters after the epoch; FM
                                  SGD: progressive (each row scored just before its update) */
    facto_metrics test;        /* after the epoch; n 0 and NAN figures without test data */
    double test_rmse_average;  /* MCMC regressor: RMSE of the running average of every sample's
                                  prediction so far (libFM's figure); NAN otherwise */
    double seconds;            /* wall time of this epoch's updates, seconds */
    double samples_per_second; /* training ratings or rows per second of update time */
    double train_loss;         /* the kind's training objective after the epoch divided by the training
                                  pairs (ials: the weighted squared error over every (user, item) pair
                                  plus L2; bpr: -log sigmoid of each pair's difference before its update,
                                  warp: its rank-weighted hinge, softmax: the cross-entropy of each positive
                                  before its batch's step, each averaged over the epoch's positives, without
                                  L2); NAN when the kind reports none */
} facto_epoch_report;

/* Callbacks during training; any may be NULL. Return non-zero to stop early
 * (fit then returns FACTO_OK with the model so far). */
typedef struct facto_fit_callbacks {
    int (*on_epoch)(const facto_epoch_report *report, void *user_data);
    /* Called about every 1% of an epoch: `done` of `total` samples this epoch
     * (kinds that train in passes over ratings; others never call it). */
    int (*on_progress)(int epoch, int64_t done, int64_t total, void *user_data);
    void *user_data;
} facto_fit_callbacks;

/* What a model is trained on. Which fields a kind reads is given by its
 * facto_kind_info.train_inputs; everything is borrowed for the call. */
typedef struct facto_fit_data {
    const facto_dataset *train;       /* FACTO_INPUT_RATINGS: ratings or interactions */
    const facto_dataset *test;        /* optional: scored after every epoch for the report only */
    const facto_rows *train_rows;     /* FACTO_INPUT_ROWS: labelled feature rows */
    const facto_rows *test_rows;      /* optional */
    const facto_features *user_features; /* optional side features, by user id (fm from ratings) */
    const facto_features *item_features; /* optional side features, by item id */
} facto_fit_data;

/*
 * Train a model of params' kind on `data`. Validates every hyperparameter
 * (facto_params_validate) once what comes from the data is filled in (fm:
 * feature_dim, when 0, is the rows' largest key + 1 or the ratings'
 * layout), then runs the kind's training driver (src/train/). Test data never influence training. With the same params,
 * data and one thread, the model bytes are the same (MCMC: for any thread
 * count). The source of each kind's algorithm is in its section below
 * (facto_mf_fit, facto_fm_fit, facto_fm_fit_ratings), which are the typed
 * forms of this call. Errors: FACTO_ERR_INVALID (a hyperparameter, data of a
 * form the kind does not take: the message says which), FACTO_ERR_EMPTY (no
 * training data), FACTO_ERR_DIVERGED (the loss became non-finite; the
 * message names the settings to lower), FACTO_ERR_IO / FACTO_ERR_PARSE
 * (side files), FACTO_ERR_NOMEM. *out owned by the caller
 * (facto_model_free); NULL on failure.
 */
FACTO_API facto_status facto_model_fit(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                                       const facto_fit_callbacks *callbacks, facto_model **out);

/* ======================================================================
 * Predict, evaluate, recommend (every kind)
 * ====================================================================== */

/* Flags of one prediction. */
enum {
    FACTO_PRED_UNKNOWN_USER = 1, /* the user was not in training: the model's fallback (MF: mu + item bias) */
    FACTO_PRED_UNKNOWN_ITEM = 2  /* the item was not in training: the model's fallback (MF: mu + user bias) */
};

/*
 * Prediction for (user, item), by the data's own ids (borrowed): a rating
 * clipped to the training range (FACTO_TASK_REGRESSION) or the probability
 * of label 1 (FACTO_TASK_BINARY). An unknown user or item falls back to
 * what the model knows (MF: mu plus the known bias) and sets *flags (may be
 * NULL; 0 when both are known). Cost O(num_factors). Errors:
 * FACTO_ERR_INVALID (a model without ids, NULL user, item or score).
 */
FACTO_API facto_status facto_model_predict(facto_ctx *ctx, const facto_model *model, const char *user,
                                           const char *item, float *score, int *flags);

/*
 * Predictions for every row of `rows` ([n_rows, feature_dim], labels
 * ignored) with a model that scores feature rows: scores [n_rows] receives
 * the prediction (regressor: clipped to the training label range;
 * classifier: the probability of label 1, for an MCMC model averaged over
 * its posterior samples); predicted_labels [n_rows] (may be NULL) receives 1
 * or 0 (score >= 0.5) for a classifier and the score again otherwise. Both
 * arrays are owned by the caller. Errors: FACTO_ERR_INVALID (a model that
 * does not score rows — one trained from ratings predicts by id; a key >=
 * feature_dim or a value that is not finite: the message names the row),
 * FACTO_ERR_NOMEM. Cost O(nnz * num_factors).
 */
FACTO_API facto_status facto_model_predict_rows(facto_ctx *ctx, const facto_model *model, const facto_rows *rows,
                                                float *scores, float *predicted_labels);

/* Options of facto_model_evaluate. Start from facto_eval_options_default(). */
typedef struct facto_eval_options {
    /* A binary classifier trained from ratings (FM --binarize T) is scored
     * against label = (rating >= binarize); give the threshold it was trained
     * with. 0 (default) = not a classifier's evaluation. */
    float binarize;
    /* Ranking metrics to compute, comma-separated ("ndcg@10,recall@20,mrr"):
     * precision@k, recall@k, ndcg@k, map@k, hr@k, mrr, auc, coverage@k
     * (docs/metrics.md). NULL (default): none for a rating model or a
     * classifier; for a FACTO_TASK_RANKING model "ndcg@10,recall@20,
     * precision@10,map@10,mrr,hr@10,auc,coverage@10". Every test pair of a
     * user is relevant; the user's training items (the model's, or the
     * history below) are not ranked. Borrowed. */
    const char *metrics;
    /* Users the model never saw, given by their items (a users:F split's
     * fold-in part): a test user missing from the model is scored from its
     * items here (the model's history query), which are then not ranked.
     * NULL: such users are skipped and counted. Borrowed. */
    const facto_dataset *history;
} facto_eval_options;

FACTO_API facto_eval_options facto_eval_options_default(void);

/* Check a list of ranking metrics as facto_eval_options.metrics reads it
 * ("ndcg@10,recall@20,mrr"), so a program can refuse a bad one before it
 * trains or reads data. Errors: FACTO_ERR_INVALID naming the bad entry (an
 * unknown name, a cut-off missing, given to mrr / auc or out of 1..100000,
 * a repeat, more than FACTO_METRICS_MAX_RANKING, an empty list or NULL). */
FACTO_API facto_status facto_ranking_metrics_check(facto_ctx *ctx, const char *metrics);

/*
 * Score every rating of `test` (ids matched to the model's by string) and
 * fill *out: RMSE and MAE of the predictions (facto_model_predict's, with
 * the unknown-id fallback) for a regressor; a classifier's metrics against
 * rating >= opts->binarize for a binary classifier; the ranking metrics of
 * opts->metrics (by default every one for a FACTO_TASK_RANKING model), each
 * test user's items ranked among all items but its training ones, users
 * scored in blocks as facto_model_recommend_batch does, on
 * facto_ctx_set_threads() threads. `scores` (may be NULL; owned by the
 * caller) receives [n_ratings] predictions in test's CSR order (not for a
 * ranking model). Sums are kept in double. Errors: FACTO_ERR_INVALID (a
 * model without ids; a classifier without opts->binarize, or binarize for a
 * regressor; a bad metrics list; NULL test or out), FACTO_ERR_EMPTY (test
 * holds no ratings), FACTO_ERR_NOMEM. Cost O(n_ratings num_factors) for
 * predictions, O(test users x n_items x num_factors) for ranking metrics.
 */
FACTO_API facto_status facto_model_evaluate(facto_ctx *ctx, const facto_model *model, const facto_dataset *test,
                                            const facto_eval_options *opts, facto_metrics *out, float *scores);

/*
 * Metrics of a model that scores feature rows on labelled `rows`: RMSE and
 * MAE for a regressor; accuracy, cross-entropy, F1, AUC, precision and
 * recall at threshold 0.5 for a classifier. Errors: FACTO_ERR_INVALID (a
 * model that does not score rows, rows without labels or with bad labels
 * or keys), FACTO_ERR_EMPTY (no rows), FACTO_ERR_NOMEM.
 * Cost O(nnz * k + n_rows log n_rows).
 */
FACTO_API facto_status facto_model_evaluate_rows(facto_ctx *ctx, const facto_model *model, const facto_rows *rows,
                                                 facto_metrics *out);

/* Inverse-propensity-scored errors of predictions (facto_ips_errors). */
typedef struct facto_ips_errors {
    int64_t n;         /* ratings scored */
    double n_pairs;    /* the pairs the plain estimate averages over (the n_pairs given, or test users x items) */
    double weight_sum; /* sum of the weights 1/p */
    double ips_rmse, ips_mae;     /* plain IPS: sqrt(sum w e^2 / n_pairs), sum w |e| / n_pairs */
    double snips_rmse, snips_mae; /* self-normalised: sqrt(sum w e^2 / sum w), sum w |e| / sum w */
} facto_ips_errors;

/*
 * IPS estimates of a model's RMSE and MAE over every (user, item) pair,
 * not only the observed ones (Schnabel et al., ICML 2016, section 3.2: the
 * IPS estimator, eq. (8) there, and the self-normalised SNIPS one, which
 * has lower variance and needs propensities only up to a common factor).
 * test: the observed ratings; scores: [n_ratings] predictions in test's CSR
 * order (facto_model_evaluate's `scores`); weights: [n_ratings] 1/p_ui
 * (facto_propensity_weights on test, with p the probability that the pair
 * is in test). The plain estimate divides by n_pairs, the number of
 * (user, item) pairs the estimate is over (Schnabel's U x I: e.g. the
 * model's users x items); 0 takes test users x test items. Errors:
 * FACTO_ERR_INVALID (NULL arguments, n_pairs < 0), FACTO_ERR_EMPTY (no
 * rating). Cost O(n_ratings).
 */
FACTO_API facto_status facto_ips_errors_of(facto_ctx *ctx, const facto_dataset *test, const float *scores,
                                           const float *weights, double n_pairs, facto_ips_errors *out);

/* One recommended item. */
typedef struct facto_recommendation {
    int32_t item;  /* item index in facto_model_items(model) */
    float score;   /* ranking score (raw: not clipped, so ties are rare): the model's own raw score of
                      the pair, the number facto_model_predict gives where it neither clips nor applies
                      a link function */
} facto_recommendation;

/*
 * Top-k items for `user` (the data's own id), best first, into
 * out[0..*n_out-1] (out has room for k). Items the user had in training are
 * left out unless include_seen. The list is the top k of the model's own
 * raw scores of the pairs (the scores it reports); equal scores rank the
 * lower item index first. *n_out is min(k, candidates). `out` is owned by the caller;
 * nothing is allocated but a few values per item, except that a dot-form
 * model (mf, the ranking kinds) with 64 factors or more on a CPU with
 * AVX-512 VNNI keeps an int8 copy of its item factors (n_items *
 * num_factors bytes, made on the first call, freed with the model) to
 * prefilter the items; the list is the same bit for bit. Any model with
 * ids. Reentrant: threads may share the model.
 * Errors: FACTO_ERR_NOT_FOUND (unknown user), FACTO_ERR_INVALID (a model
 * without ids, k < 0, NULL user/n_out, or NULL out with k > 0),
 * FACTO_ERR_NOMEM. Cost O(n_items * num_factors + n_items log k).
 */
FACTO_API facto_status facto_model_recommend(facto_ctx *ctx, const facto_model *model, const char *user, int k,
                                             int include_seen, facto_recommendation *out, int *n_out);

/*
 * Top-k items for each of users[n_users] (the data's own ids) at once, for
 * batch jobs and the server: out [n_users, k] row-major receives user j's
 * list in row j (best first) and n_out [n_users] its length (0 for a user
 * the model does not know). Models with a dot form (MF, FM from ratings)
 * score blocks of users against every item with cblas_sgemm on
 * facto_ctx_set_threads() threads; memory O(block x n_items + n_users x k).
 * Seen items and ties as facto_model_recommend; each user's list and
 * scores are exactly its facto_model_recommend's, bit for bit, whatever
 * the batch and thread count (the items near a list's cut-off are scored
 * again by the model's own score: BLAS rounds a row by its place in the
 * block).
 * Errors: as facto_model_recommend, but an unknown user is not an error.
 */
FACTO_API facto_status facto_model_recommend_batch(facto_ctx *ctx, const facto_model *model,
                                                   const char *const *users, int32_t n_users, int k,
                                                   int include_seen, facto_recommendation *out, int *n_out);

/*
 * Top-k items for a user not in training, given by the items it interacted
 * with (the data's own ids, borrowed; values [n] = weights or ratings, NULL
 * = 1 each; a repeated item's values add up): the model folds the user in
 * from them (factor models: one least-squares solve against the item
 * factors; item-item models: the product with their weights; popularity:
 * the same list for everyone) and ranks every other item. Items the model
 * never saw are ignored and counted in *n_unknown (may be NULL). Ties and
 * ownership as facto_model_recommend. Errors: FACTO_ERR_INVALID (a model
 * without ids, or a kind that cannot fold a user in, e.g. mf), as
 * facto_model_recommend otherwise. Cost: one score() call plus
 * O(n_items log k).
 */
FACTO_API facto_status facto_model_recommend_history(facto_ctx *ctx, const facto_model *model,
                                                     const char *const *items, const float *values, int32_t n, int k,
                                                     facto_recommendation *out, int *n_out, int32_t *n_unknown);

/*
 * The k items most similar to `item` (the data's own id), best first,
 * itself left out: by the model's item-item weights when it has them
 * (itemknn, ease), else by the cosine of its item factors (mf, fm from
 * ratings, factor models). out [k] owned by the caller; *n_out =
 * min(k, n_items - 1). Errors: FACTO_ERR_NOT_FOUND (unknown item),
 * FACTO_ERR_INVALID (a model without items or item vectors, k < 0),
 * FACTO_ERR_NOMEM. Cost O(n_items num_factors + n_items log k).
 */
FACTO_API facto_status facto_model_similar(facto_ctx *ctx, const facto_model *model, const char *item, int k,
                                           facto_recommendation *out, int *n_out);

/* ======================================================================
 * Implicit alternating least squares (kind "ials")
 *
 * Trained by facto_model_fit with facto_params_new(ctx, "ials", ...) on
 * interactions (facto_fit_data.train; weights >= 0, e.g. read with
 * facto_read_options.implicit). Minimises, over every (user, item) pair of
 * the training users and items,
 *   sum_observed (1 + alpha w)(1 - <U_u, V_i>)^2
 *     + unobserved_weight sum_unobserved <U_u, V_i>^2
 *     + reg sum_u (|I_u| + unobserved_weight n_items)^reg_exponent |U_u|^2
 *     + reg sum_i (|U_i| + unobserved_weight n_users)^reg_exponent |V_i|^2
 * (Hu, Koren & Volinsky, ICDM 2008; the unobserved weight and frequency-
 * scaled L2 of Rendle, Krichene, Zhang & Koren, RecSys 2022) by
 * alternating item and user solves, each row by cg_steps warm-started
 * conjugate gradient steps (Takacs, Pilaszy & Tikk, RecSys 2011; 0 = exact
 * Cholesky), on facto_ctx_set_threads() threads with the same result for
 * any thread count. Hyperparameters (facto train --model ials --help):
 * num_factors, epochs, reg, reg_exponent, alpha, unobserved_weight,
 * cg_steps, init_std, seed; the defaults were chosen on validation
 * carve-outs of ml-100k's training part (bench/ials_tune.sh). The model is
 * FACTO_TASK_RANKING: scores b_i + <U_u, V_i> rank items; a user given by
 * a history (facto_model_recommend_history) gets a vector from one exact
 * solve of the same objective against V. Each epoch report carries the
 * seconds of the iteration and train_loss (the objective per training
 * pair, computed apart from the timed part). Cost per iteration about
 * (cg_steps + 1)(8 nnz k + 2 (n_users + n_items) k^2) flops: 0.5-2 s at
 * MovieLens-20M size (10M pairs, k 64) on 2 cores (bench/ials.sh).
 * ====================================================================== */

/* ======================================================================
 * Factor models trained on a ranking loss (kinds "bpr", "warp", "softmax")
 *
 * Trained by facto_model_fit with facto_params_new(ctx, "bpr" | "warp" |
 * "softmax") on interactions (facto_fit_data.train, as for ials; every
 * pair is a positive). The model is the one ials has: s(u, i) = b_i +
 * <U_u, V_i>, U [n_users, num_factors], V [n_items, num_factors], an item
 * bias b when item_bias is 1; FACTO_TASK_RANKING. Objectives (L2 as
 * weight decay on the rows an update touches):
 *   bpr (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, UAI 2009): each
 *     training pair (u, i) once an epoch with one negative j (uniform or by
 *     training popularity: negative_sampling; a positive of u is drawn
 *     again), loss -log sigmoid(s(u, i) - s(u, j));
 *   warp (Weston, Bengio & Usunier, IJCAI 2011, LightFM's form): negatives
 *     are drawn until one violates the margin, s(u, j) > s(u, i) - 1, at
 *     most max_sampled trials; the one found at trial t updates the hinge
 *     1 - s(u, i) + s(u, j) weighted by log(max(1, floor((n_items - 1) / t)));
 *   softmax: multi-label cross-entropy, -sum_{i in I_u} log softmax(s_u)_i
 *     over the catalogue, mini-batches of batch_size users; the full
 *     softmax (every item, sgemm) for catalogues of at most
 *     full_softmax_max items, else num_sampled negatives a batch drawn by
 *     training popularity Q with the logQ correction s - log(num_sampled
 *     Q(j)) (Bengio & Senecal, IEEE TNN 2008; Yi et al., RecSys 2019).
 * bpr and warp update on facto_ctx_set_threads() threads without locks
 * (Hogwild: Recht et al., NIPS 2011), so only one thread is bit-
 * reproducible; softmax's products use OpenBLAS's threads. Optimizer sgd,
 * adagrad or adam; the defaults were chosen on validation carve-outs of
 * ml-100k's training part (bench/loss_tune.sh), as each --help line says.
 * A history (facto_model_recommend_history) folds in by one least-squares
 * solve against V (foldin_reg, foldin_unobserved). Epoch reports carry
 * train_loss. Cost per epoch: bpr O(nnz k), warp O(nnz k max_sampled) at
 * most, softmax O(n_users n_items k) full or O(n_users num_sampled k)
 * sampled; 1-5 s a fit on ml-100k (44k pairs, k 64, 2 cores).
 * ====================================================================== */

/* ======================================================================
 * Item-based ranking models for implicit feedback (popular, itemknn, ease)
 *
 * Trained by facto_model_fit() from facto_params_new(ctx, "popular" |
 * "itemknn" | "ease") on facto_fit_data.train: a data set whose rating
 * column is an interaction weight (1 for a click or a rating kept by a
 * threshold; plays, counts), every weight finite and >= 0 (a negative one
 * is FACTO_ERR_INVALID naming the user and item). facto_model_task() is
 * FACTO_TASK_RANKING: scores only rank items (higher is better) and are not
 * ratings. The model keeps each training user's items and weights, so
 * facto_model_recommend / _batch leave a user's own items out, and a user is
 * scored from those items exactly as a user given only by a history of
 * items would be (fold-in). An item the model never saw scores 0; a user
 * with no known item gets the item counts. Defaults were chosen on
 * validation carve-outs of training data only (bench/rank_tune.c; ml-100k,
 * ratings >= 4 and all ratings). Hyperparameters by name (facto_params_set):
 *
 * "popular": s(i) = the number of training users of item i (the same list
 *   for everyone). count = pairs (default: each (user, item) once, weights
 *   ignored) | weights (the sum of the weights). O(nnz) to train.
 *
 * "itemknn" (Sarwar et al., WWW 2001; Deshpande & Karypis, ACM TOIS 2004):
 *   sim(i, j) = cosine of items i and j's user columns of W, where W = X
 *   (similarity = cosine) or X after BM25 weighting with users as the
 *   documents (similarity = bm25, default; Robertson & Zaragoza 2009):
 *   w_ui = x_ui (bm25_k1 + 1) / (x_ui + bm25_k1 (1 - bm25_b + bm25_b
 *   len_u / avg_len)), len_u = sum of u's weights. Each item keeps its
 *   `neighbors` most similar items (default 500; bm25_k1 default 5,
 *   bm25_b 0.9), and a history h with weights v scores
 *   s(i) = sum_{j in h} v_j sim_kept(j, i). Training costs O(sum over users
 *   of |items|^2) on facto_ctx_set_threads() threads (the result does not
 *   depend on their number); memory O(n_items * neighbors).
 *
 * "ease" (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data",
 *   WWW 2019, eq. 8): P = (X^T X + reg I)^-1, B = I - P diag(1/diag(P))
 *   (zero diagonal), s = x_u B. reg (aliases lambda, l2; default 400) is
 *   the L2 weight; max_memory (bytes, default half of the memory the
 *   system gives the process) bounds the n_items x n_items float matrix:
 *   a larger catalogue is refused with FACTO_ERR_INVALID saying how many
 *   bytes it would need. Float Cholesky through LAPACK (spotrf, spotri);
 *   a matrix that is not positive definite in float is FACTO_ERR_DIVERGED
 *   (raise reg). Training costs O(sum over users of |items|^2 + n_items^3),
 *   scoring a user O(|history| n_items).
 *
 * On ml-100k ratings >= 4 with 20% of each user's interactions held out
 * (per-user:0.2, seeds 1..10, training items excluded, full ranking),
 * NDCG@10: popular 0.152, itemknn 0.293 (cosine 0.263), ease 0.319; each
 * trains in under 0.25 s on 2 cores.
 * ====================================================================== */

/* ======================================================================
 * Biased matrix factorization
 *
 * r^(u,i) = mu + b_u + b_i + p_u . q_i, squared loss with L2 on biases and
 * factors (Koren, Bell & Volinsky, "Matrix factorization techniques for
 * recommender systems", IEEE Computer 2009, eq. 4-5). Trained by per-rating
 * SGD with optional momentum, SGD with a per-row adaptive rate (AdaGrad's
 * form, Chin et al. PAKDD 2015), or Adam (Kingma & Ba, ICLR 2015).
 * ====================================================================== */

typedef enum facto_optimizer {
    FACTO_OPT_SGD = 1,     /* plain SGD; momentum > 0 adds heavy-ball momentum */
    FACTO_OPT_ADAM = 2,    /* Adam, Kingma & Ba 2015, Algorithm 1 */
    FACTO_OPT_ADAGRAD = 3, /* Duchi, Hazan & Singer 2011 (FM); MF: one rate per row */
    FACTO_OPT_FTRL = 4     /* FTRL-Proximal, McMahan et al. KDD 2013 (FM) */
} facto_optimizer;

/*
 * Hyperparameters of biased MF. The loss minimised is, over the training
 * ratings R (Koren et al. 2009 eq. 5, the regularizer inside the sum):
 *   J = sum_(u,i in R) 0.5 (r - r^)^2 + 0.5 reg_factors (|p_u|^2 + |q_i|^2)
 *                                    + 0.5 reg_bias (b_u^2 + b_i^2)
 * mu is the training mean (not learned); biases start at 0. Defaults (in
 * brackets) were tuned on validation parts of ml-100k u1..u5.base and on
 * ua/ub, never on the test files: over seeds 1..8 and 42 they give test RMSE
 * 0.9145-0.9153 on u1 (mean 0.9149; reg_factors from the data, 0.0762) and,
 * seed 42, 0.9046 mean over u1..u5 (0.9044-0.9048 over seeds with 0.08).
 */
typedef struct facto_mf_params {
    int num_factors;         /* k, length of p_u and q_i; 1..65536 [512] */
    int epochs;              /* passes over the training ratings; >= 1 [60] */
    facto_optimizer optimizer; /* FACTO_OPT_SGD, FACTO_OPT_ADAM or FACTO_OPT_ADAGRAD [SGD]; ADAGRAD is
                                  blocked SGD where each row of P and Q (its bias included) steps at
                                  learning_rate / sqrt(G_row), G_row = 1 + the sum over the row's updates
                                  of its mean squared gradient (Chin, Zhuang, Juan & Lin, "A learning-rate
                                  schedule for stochastic gradient methods to matrix factorization",
                                  PAKDD 2015); same model for any thread count, as plain SGD */
    float learning_rate;     /* step size of epoch 1; > 0 [0.02] (Adam: try 0.001; AdaGrad: 0.05-0.2) */
    float lr_decay;          /* learning rate is multiplied by this after each epoch; (0, 1] [0.96] */
    float momentum;          /* heavy-ball momentum, SGD only (ignored by Adam and AdaGrad); [0, 1) [0]; 0 = none */
    float reg_factors;       /* L2 weight on p_u, q_i per rating; >= 0; 0 = none. [NAN = unset: set at fit
                                time from the training data, 0.27 sd (1 / sqrt(n / users) + 1 / sqrt(n / items)),
                                at most 0.08, 0 when sd is 0; n the ratings, users and items those with a
                                rating, sd the ratings' standard deviation (0.076 on ml-100k u1.base, 0.029 on
                                18M ratings of MovieLens-20M's shape); the model keeps the value used.] Why: the per-rating
                                penalty sums to reg (sum_u n_u |p_u|^2 + sum_i n_i |q_i|^2), a trace norm
                                weighted by the rating counts (Srebro & Salakhutdinov, "Collaborative filtering
                                in a non-uniform world", NIPS 2010), which shrinks each singular value of the
                                fit by about reg per rating; the sampled noise's largest singular value, in the
                                same units, falls as 1 / sqrt(ratings per row) on each side, so denser data
                                needs less. 0.27 gives 0.08 on ml-100k's validation carve-outs, where 0.08 was
                                tuned; the cap keeps sparser data at 0.08, which validated no worse than more
                                (docs/benchmarks.md, "MF's L2 from the data") */
    float reg_bias;          /* L2 weight on b_u, b_i per rating; >= 0 [0.05]; 0 = none */
    float init_std;          /* factors start as N(0, init_std^2); >= 0 [0.007]; 0 = all zero
                                (then SGD never leaves the saddle: only biases are learned) */
    uint64_t seed;           /* seeds initialisation and shuffling [42] */
    int train_pass;          /* 1: the epoch report's train figures come from scoring the whole training
                                set after the epoch; 0 [default]: plain SGD reports the errors seen just
                                before each update during the epoch (no extra pass; momentum and Adam
                                always score the training set) */
} facto_mf_params;

/* The defaults above. Never fails. */
FACTO_API facto_mf_params facto_mf_params_default(void);

/*
 * Train a biased MF model on `train`. `test` (may be NULL) is scored after
 * every epoch for the report only; it never influences training.
 * Plain SGD (optimizer sgd, momentum 0; Funk 2006; Koren et al. 2009,
 * "Learning algorithms") runs blocked (FPSG: Chin, Zhuang, Juan & Lin, ACM
 * TIST 2015, with DSGD's strata, Gemulla et al. KDD 2011): users and items
 * are cut into g ranges of about equal rating counts (g = 16 for up to 16
 * threads, else 2 threads + 1; at most min(users, items)); an epoch visits the g strata
 * of g disjoint blocks in an order drawn from the seed, the blocks of a
 * stratum on facto_ctx_set_threads() threads, each block's users in a
 * seeded order and each user's ratings in item order; the same seed gives
 * the same model bytes for any thread count from 1 to 16 on the
 * same CPU path. Each update touches b_u, b_i, p_u, q_i through one fused
 * kernel (AVX-512, AVX2+FMA or scalar, chosen at start-up), with biases
 * kept beside the factors in padded rows while training. The epoch
 * report's train figures are then the errors seen just before each update
 * (no extra pass) unless train_pass = 1; on_progress is called after each
 * stratum. Momentum and Adam (lazy per row, beta1 0.9, beta2 0.999, eps
 * 1e-8) visit the ratings in a fresh random order each epoch (Fisher-Yates,
 * seeded) on one thread whatever the thread count, report train figures
 * from a pass over the training set and call on_progress about every 1%.
 * Errors: FACTO_ERR_INVALID (NULL train/params/out, or a parameter out of
 * range: the message names the field and its CLI flag), FACTO_ERR_EMPTY
 * (train holds no ratings), FACTO_ERR_DIVERGED (the loss became non-finite;
 * the message says to lower --lr; no nan epoch is ever reported),
 * FACTO_ERR_NOMEM. On success *out is owned by the caller (facto_model_free);
 * on failure *out is NULL. The model keeps copies of train's id maps and its
 * per-user item lists (for recommend). Memory O((n_users + n_items) k + nnz):
 * during plain SGD the padded copy of the parameters (rows of k + 1 floats
 * rounded up to 16) and 4 (g + 2) bytes per user, the item lists copied
 * after training; momentum keeps the parameters' size again, Adam twice,
 * plus 12 bytes per rating for the order. Cost O(n_ratings * num_factors)
 * per epoch; on_epoch adds one scoring pass over test (and over train with
 * train_pass or momentum / Adam).
 */
FACTO_API facto_status facto_mf_fit(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                    const facto_mf_params *params, const facto_fit_callbacks *callbacks,
                                    facto_model **out);

/* ======================================================================
 * Factorization machines (section filled by the FM work, issue 3)
 * ====================================================================== */

/*
 * Sparse feature rows (typedef above), the input of factorization machines:
 * a CSR matrix [n_rows, feature_dim] with an optional label per row. Keys are
 * feature indices < feature_dim (feature_dim <= 2^32), ascending within a
 * row after facto_rows_finish_row(); memory is O(nnz), never O(feature_dim).
 * Owned by its creator: free with facto_rows_free().
 */

/* Create empty rows; feature_dim 0 lets the data decide. NULL when out of memory. */
FACTO_API facto_rows *facto_rows_new(uint64_t feature_dim, int with_labels);
FACTO_API void facto_rows_free(facto_rows *rows);
/* Rows, stored entries, and the CSR arrays (borrowed from rows, valid until
 * it changes): row_ptr [n_rows + 1], keys [nnz], values [nnz], labels
 * [n_rows] or NULL when unlabelled. Any out-pointer may be NULL. */
FACTO_API int64_t facto_rows_count(const facto_rows *rows);
FACTO_API int64_t facto_rows_nnz(const facto_rows *rows);
FACTO_API void facto_rows_csr(const facto_rows *rows, const int64_t **row_ptr, const uint32_t **keys,
                              const float **values, const float **labels);
/* Set the number of columns. FACTO_ERR_INVALID when dim is 0 or above
 * 2^32, or a stored key is >= dim (the message names the row, 1-based). */
FACTO_API facto_status facto_rows_set_dim(facto_ctx *ctx, facto_rows *rows, uint64_t dim);
/* Append one entry to the row being built. FACTO_ERR_NOMEM, or
 * FACTO_ERR_INVALID when key >= feature_dim (feature_dim > 0). */
FACTO_API facto_status facto_rows_push(facto_ctx *ctx, facto_rows *rows, uint32_t key, float value);
/* Close the row being built with `label` (ignored without labels): sorts its
 * keys and sums duplicate keys. FACTO_ERR_NOMEM, or FACTO_ERR_INVALID when
 * finite values of one key sum past the float range ("feature key K: its
 * duplicate values sum past the float range (A + B)"; the row's entries are
 * dropped, the row is not added). */
FACTO_API facto_status facto_rows_finish_row(facto_ctx *ctx, facto_rows *rows, float label);

/*
 * Degree-2 factorization machine (Rendle, "Factorization Machines", ICDM 2010,
 * eq. 1, computed with Lemma 3.1 in O(num_factors * nnz(x))):
 *   y^(x) = w0 + sum_i w_i x_i + 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2]
 * with w0 the bias, w [feature_dim] the linear weights and V
 * [feature_dim, num_factors] the factors. predictor_type "regressor" scores
 * y^ (clipped to the range of the training labels, as libFM does, unless
 * clip_predictions is false: raw_predictions 1) and
 * trains on 1/2 (y^ - y)^2; "binary_classifier" scores p = sigmoid(y^), the
 * probability of label 1, trains on the log loss -log p(y), and predicts
 * label 1 iff p >= 0.5. Classifier labels are 0/1; -1/+1 are accepted too
 * (a label > 0 is class 1).
 *
 * Memory never grows with feature_dim beyond 2^22 / (num_factors + 1)
 * features (16 MiB of parameters): above that, parameters exist only for
 * the keys seen in training (a key first seen at prediction time
 * contributes nothing), so feature_dim = 2^32 or 10^7 sparse features cost
 * O(distinct training keys * k), never O(feature_dim).
 *
 * Hyperparameters carry Amazon SageMaker's Factorization Machines names,
 * defaults and validity rules (docs.aws.amazon.com/sagemaker/latest/dg/
 * fact-machines-hyperparameters.html, "Valid values" of each entry). Where
 * the documentation is silent facto infers, and says so below ([inferred]).
 * Names SageMaker does not have are facto extensions ([facto]).
 *
 * Update rule implied by the defaults: SageMaker's FM is built on MXNet and
 * documents `eps` ("to avoid division by 0"), which only adaptive
 * optimizers have; MXNet's own factorization machine example
 * (example/sparse/factorization_machine/train.py) trains with Adam,
 * epsilon 1e-8. So facto's default optimizer is Adam (Kingma & Ba, ICLR
 * 2015, Algorithm 1) with beta1 0.9, beta2 0.999, eps 1e-8; sgd, adagrad
 * (Duchi, Hazan & Singer, JMLR 2011) and ftrl (McMahan et al., KDD 2013,
 * Algorithm 1, lambda1 = 0, beta = 1) are offered too. Each mini-batch:
 *   g = clip(rescale_grad * sum over the batch of d loss / d theta, clip_gradient) + wd * theta
 * (ftrl: wd enters its closed form instead), then one optimizer step per
 * parameter, only for parameters the batch touches (lazy, like MXNet's
 * row_sparse updates; w0 is touched by every batch).
 */

typedef enum facto_fm_predictor {
    FACTO_FM_PREDICTOR_UNSET = 0,      /* required: validation refuses it */
    FACTO_FM_REGRESSOR = 1,            /* "regressor": squared loss, score = y^ */
    FACTO_FM_BINARY_CLASSIFIER = 2     /* "binary_classifier": log loss on sigmoid(y^), score = probability */
} facto_fm_predictor;

typedef enum facto_fm_init_method {
    FACTO_FM_INIT_NORMAL = 1,   /* "normal": N(0, sigma^2) */
    FACTO_FM_INIT_UNIFORM = 2,  /* "uniform": U[-scale, +scale] */
    FACTO_FM_INIT_CONSTANT = 3  /* "constant": every weight = value */
} facto_fm_init_method;

typedef enum facto_fm_solver {
    FACTO_FM_SOLVER_SGD = 1,  /* "sgd": mini-batch first-order updates (optimizer below) */
    FACTO_FM_SOLVER_ALS = 2,  /* "als": alternating least squares / coordinate descent (Rendle, ACM TIST 2012) */
    FACTO_FM_SOLVER_MCMC = 3  /* "mcmc": Gibbs sampling with hyperpriors (Rendle, ACM TIST 2012) */
} facto_fm_solver;

/*
 * Hyperparameters. Start from facto_fm_params_default(); set fields
 * directly or by name with facto_fm_params_set(). A float that is NAN is
 * "not set" (SageMaker's "Default value: None").
 */
typedef struct facto_fm_params {
    /* --- required (SageMaker) --- */
    uint64_t feature_dim;              /* columns of the input: positive integer; <= 2^32 [inferred: keys are
                                          32-bit]; 0 = not set */
    int num_factors;                   /* k, length of each v_i: positive integer; 0 = not set */
    facto_fm_predictor predictor_type; /* "binary_classifier" | "regressor"; UNSET = not set */
    /* --- optional (SageMaker) --- */
    int epochs;                        /* passes over the training rows: positive integer; default 1 */
    int mini_batch_size;               /* rows per update: positive integer; default 1000 */
    float bias_lr;                     /* learning rate of w0: non-negative float; default 0.1 */
    float linear_lr;                   /* learning rate of w: non-negative float; default 0.001 */
    float factors_lr;                  /* learning rate of V: non-negative float; default 0.0001 */
    float bias_wd;                     /* weight decay (L2, + wd * theta in the gradient) of w0: non-negative
                                          float; default 0.01 */
    float linear_wd;                   /* weight decay of w: non-negative float; default 0.001 */
    float factors_wd;                  /* weight decay of V: non-negative float; default 0.00001 */
    /* Init of each term: "normal" (default) uses *_init_sigma, "uniform"
     * *_init_scale, "constant" *_init_value. SageMaker: each "takes effect
     * if" its method is chosen. [inferred] Setting one for another method is
     * refused (it would be silently ignored), uniform needs a scale and
     * constant a value (neither has a default). */
    facto_fm_init_method bias_init_method;
    float bias_init_scale;             /* non-negative float; NAN */
    float bias_init_sigma;             /* non-negative float; NAN = 0.01 */
    float bias_init_value;             /* any float; NAN */
    facto_fm_init_method linear_init_method;
    float linear_init_scale;           /* non-negative float; NAN */
    float linear_init_sigma;           /* non-negative float; NAN = 0.01 */
    float linear_init_value;           /* any float; NAN */
    facto_fm_init_method factors_init_method;
    float factors_init_scale;          /* non-negative float; NAN */
    float factors_init_sigma;          /* non-negative float; NAN = 0.001 */
    float factors_init_value;          /* any float; NAN */
    float clip_gradient;               /* any float: each gradient element is clipped to [-c, c] after
                                          rescale_grad; c <= 0 or NAN = no clipping (MXNet's rule) */
    float eps;                         /* optimizer denominator epsilon (adagrad, adam); [inferred] >= 0;
                                          NAN = 1e-8 */
    float rescale_grad;                /* factor on the summed batch gradient; [inferred] >= 0;
                                          NAN = 1 / mini_batch_size (the batch mean, as MXNet's Module does) */
    /* --- facto extensions --- */
    facto_fm_solver solver;            /* [facto] "solver": sgd | als | mcmc; default sgd */
    facto_optimizer optimizer;         /* [facto] "optimizer" (sgd solver): sgd | adagrad | adam | ftrl;
                                          default adam */
    uint64_t seed;                     /* [facto] "seed": initialisation and per-epoch shuffling; default 0 */
    int num_iter;                      /* [facto] "num_iter": ALS sweeps / MCMC iterations; >= 1; default 100 */
    float init_stdev;                  /* [facto] "init_stdev": ALS/MCMC factor init N(0, s^2); >= 0; default 0.1 */
    int mcmc_samples;                  /* [facto] "mcmc_samples": posterior samples kept in the model for
                                          later prediction; >= 0; default 16 */
    int log_interval;                  /* [facto] "log_interval": a log line every N mini-batches; >= 1; default 100 */
    float lr_decay;                    /* [facto] "lr_decay": SGD learning rates are multiplied by this after
                                          each epoch; (0, 1]; default 1 (SageMaker has no decay) */
    int average_epochs;                /* [facto] "average_epochs": the SGD model is the mean of the parameters
                                          at the end of each of the last N epochs (stochastic weight averaging,
                                          Izmailov et al., UAI 2018); >= 0; 0 = off (default) */
    int burn_in;                       /* [facto] "burn_in": MCMC iterations left out of the prediction average
                                          and of what the model keeps; >= 0 and < num_iter; default 0 (libFM
                                          averages every sample from the first) */
    int summary_rank;                  /* [facto] "summary_rank": what an MCMC model keeps to predict later.
                                          -1 (default) = automatic: a rank-256 summary for a model trained from
                                          ratings (facto_fm_fit_ratings); on feature rows of one-hot fields
                                          (every value 1, e.g. user + item) the rank-128 summary of the
                                          features' factors (4 x 129 x feature_dim bytes; the model then
                                          records summary_rank 128), on other rows mcmc_samples thinned
                                          samples (4 x S x (k + 1) x feature_dim bytes); 0 = mcmc_samples thinned samples; r in
                                          1..4096 = the rank-r summary (see facto_fm_fit_ratings) */
    int mcmc_chains;                   /* [facto] "mcmc_chains": independent MCMC chains whose samples are
                                          pooled (other solvers ignore it); 1..256; default 4. num_iter is
                                          per chain, as libFM's -iter. Chain 0 uses seed, chain c > 0 a
                                          seed derived from (seed, c); they run on up to
                                          facto_ctx_set_threads() threads with the same result for any
                                          thread count. Several short chains beat one long one at the same
                                          CPU time (ML-100K u1, side + implicit, k 32, seeds 1-4: 1 x 500
                                          iterations 0.8939-0.8946 test RMSE, 4 x 250 0.8915-0.8919;
                                          bench/fm_seeds.sh).
                                          mcmc_samples is split over the chains, at least one each. Memory:
                                          the solver's state (about 40 bytes a training row, 8 (k + 1)
                                          bytes a feature and 8 bytes an entry of the transposed data) once
                                          per chain */
    int prior_groups;                  /* [facto] "prior_groups": MCMC on feature rows: 1 (default) = one
                                          hyperprior group (libFM's -meta group) per one-hot field when every
                                          training row holds one key from each of the same disjoint key
                                          ranges (e.g. user keys, then item keys), else one group; 0 = one
                                          group for all features (libFM without -meta). Dense feature_dim
                                          only. Ratings in block form: 1 one per block kind (ids, each side
                                          file, implicit), 2 one per kind of side feature too (0..2) */
    int implicit;                      /* [facto] "implicit": ratings in block form (als, mcmc): the
                                          FACTO_FM_IMPLICIT_* blocks, "none" | "user" | "item" | "both";
                                          default none */
    float binarize;                    /* [facto] "binarize": ratings: label = (rating >= binarize), for a
                                          binary_classifier; 0 (default) = the rating is the label */
    int raw_predictions;               /* [facto] "clip_predictions": a regressor's prediction is clipped to
                                          the range of the training labels, as libFM does ("true", 0, the
                                          default: a score never leaves [min label, max label]); "false" (1)
                                          gives the raw y^. Applies to predict, evaluate and the metrics
                                          reported while training (MCMC: each sample's prediction before
                                          averaging). No effect on a binary_classifier */
} facto_fm_params;

/* SageMaker's defaults, the required three unset (see facto_fm_params). */
FACTO_API facto_fm_params facto_fm_params_default(void);

/*
 * Set hyperparameter `name` (SageMaker's spelling, or a [facto] extension)
 * from its text `value` as SageMaker passes it ("64", "0.001", "normal");
 * spaces around the value are ignored. The value's own rule is checked here
 * (the rules between fields at validation). On error *params is unchanged.
 * Errors: FACTO_ERR_INVALID, the message naming the hyperparameter and the
 * rule ("hyperparameter num_factors: 0 is not a positive integer"), also for
 * an unknown name. Both strings are borrowed.
 */
FACTO_API facto_status facto_fm_params_set(facto_ctx *ctx, facto_fm_params *params, const char *name, const char *value);

/*
 * Read SageMaker's hyperparameters.json (/opt/ml/input/config/): one JSON
 * object whose values are strings (numbers are accepted too), applied with
 * facto_fm_params_set() in file order. Keys starting with "_" or
 * "sagemaker_" (added by SageMaker's tuner and SDK) are skipped. On error
 * *params is unchanged. Errors: FACTO_ERR_IO (cannot open), FACTO_ERR_PARSE
 * ("PATH:LINE: ..." for malformed JSON, or a value that is not a string or a
 * number), FACTO_ERR_INVALID ("PATH: hyperparameter ...").
 */
FACTO_API facto_status facto_fm_params_load_json(facto_ctx *ctx, facto_fm_params *params, const char *path);

/*
 * Every hyperparameter that is set, as "name=value\n" lines (SageMaker's
 * names first, then facto's; NAN floats, i.e. not set, are left out), into
 * buf (size bytes; NUL-terminated when it fits; buf may be NULL when size is
 * 0). Returns the length needed without the NUL, like snprintf. Each line
 * reads back exactly through facto_fm_params_set() (floats have 9
 * significant digits), so this is also how a CLI can print every default.
 */
FACTO_API size_t facto_fm_params_format(const facto_fm_params *params, char *buf, size_t size);

/*
 * Check every rule: the required three set, each value in its range, and the
 * init-method rules above. Called by facto_fm_fit() too. Errors:
 * FACTO_ERR_INVALID naming the first hyperparameter that breaks a rule.
 */
FACTO_API facto_status facto_fm_params_validate(facto_ctx *ctx, const facto_fm_params *params);

/*
 * Train a factorization machine on labelled rows `train` ([n_rows,
 * feature_dim]; keys must be < params->feature_dim). `test` (may be NULL)
 * is scored after every epoch for the report only. Dispatches on
 * params->solver: sgd is mini-batch training with params->optimizer (rows
 * shuffled each epoch with params->seed; mini_batch_size 1 takes a fused
 * path); als and mcmc are libFM's solvers (Rendle, ACM TIST 2012) when this
 * build has them. Logs (the context's logger, INFO) a line every log_interval
 * mini-batches with samples/s and the running train metric, and one line
 * per epoch. With the same seed and params the model is the same.
 * als and mcmc first check that they can learn from their starting point
 * (w = 0, V ~ N(0, init_stdev^2)): when feature values far off the scale of
 * the others (one value of 1e8 among one-hot rows, numeric features left
 * unscaled) or labels far below init_stdev make its predictions on the
 * training rows spread 300 or more times the labels' standard deviation
 * (classifier: of its +-1 targets), they learn nothing from there, and the
 * fit is refused (FACTO_ERR_INVALID, "training row N: feature key K = X ...
 * is far off the scale of the other feature values ...; scale that feature
 * ... or lower init_stdev to S or below"); from 30 on, the same text is a
 * warning through the context's logger. The spread is computed exactly
 * (k init_stdev^4 sum_{i<j} x_i^2 x_j^2 a row), not drawn.
 * Errors: FACTO_ERR_INVALID (a hyperparameter, a solver not in this build,
 * a row with a key >= feature_dim or, for a classifier, a label other than
 * 0/1/-1/+1 — the message names the row, 1-based; the starting point
 * above), FACTO_ERR_EMPTY (no training rows), FACTO_ERR_DIVERGED (the loss
 * became non-finite; the message names the learning rates to lower),
 * FACTO_ERR_NOMEM.
 * *out owned by the caller (facto_model_free). Cost O(epochs * nnz * k)
 * time; O(slots * k) memory, plus the optimizer's state (adam and ftrl two
 * copies, adagrad one).
 */
FACTO_API facto_status facto_fm_fit(facto_ctx *ctx, const facto_rows *train, const facto_rows *test,
                                    const facto_fm_params *params, const facto_fit_callbacks *callbacks, facto_model **out);

/* ---- FM from ratings, in block form ------------------------------------- */

/*
 * Training a factorization machine straight from ratings, with libFM's block
 * structure (Rendle, "Scaling Factorization Machines to Relational Data",
 * VLDB 2013; the MCMC and ALS solvers of Rendle, "Factorization Machines
 * with libFM", ACM TIST 2012). Each rating (u, i) is the row
 *   x = [user block of u] + [item block of i]
 * where the user block holds the one-hot user, the user's side features and
 * (FACTO_FM_IMPLICIT_USER) the items u rated in training, each valued
 * 1/sqrt(|N(u)|) (SVD++-style); the item block holds the one-hot item, its
 * side features and (FACTO_FM_IMPLICIT_ITEM) the users who rated it, each
 * 1/sqrt(|N(i)|). A block is stored once per user / item, never once per
 * rating, so memory is O(ratings + nnz(blocks)) and an MCMC iteration
 * O(k (nnz(blocks) + ratings)). Feature layout: [0, U) users, [U, U+I)
 * items, then user side columns, item side columns, implicit items (I),
 * implicit users (U); feature_dim is that total.
 *
 * Prior groups (libFM's -meta; MCMC draws one mean and precision per group
 * and factor): user ids, item ids, user side features, item side features,
 * implicit items, implicit users (prior_groups 1, the default); with
 * prior_groups 2 each kind of side feature gets its own (u.user: age,
 * gender, occupation; u.item: genres, decade; attribute files: the name up
 * to the first '='). On ML-100K u1 with side + user implicit features
 * (500 iterations, k 32) 1 gives test RMSE 0.8940 (chain), 2 gives 0.8968.
 *
 * The model is an ordinary FM model (save, load, free) that also keeps the
 * training ids and, per user and per item, the sums of its block:
 * b = sum w_j x_j + 1/2 (|q|^2 - sum_j |v_j x_j|^2) and q = sum v_j x_j, so
 *   y^(u, i) = w0 + b_u + b_i + <q_u, q_i>.
 * That is exact for FM (every interaction inside a block folds into b), and
 * smaller than the side tables and implicit lists when they are long: it
 * costs (U + I) (pair_k + 1) floats plus the id maps. For MCMC, b and w0 are
 * averaged over every post-burn-in sample (exact), and the pairwise mean
 * mean_s <q_u^s, q_i^s> is kept as a rank-r factor of the Gram matrix
 * G = mean_s Q_s Q_s^T (summary_rank r, default 256, Nystrom sketch over
 * about 100 samples) or, with summary_rank 0, as mcmc_samples thinned
 * samples of q concatenated (exact for those samples, mcmc_samples * k
 * floats a row). ML-100K u1 at k = 32: see docs/format.md for file sizes.
 * A user or item not in training contributes nothing (its b and q are 0)
 * and is flagged. The model's w and V hold the posterior mean of w and the
 * last sample's V (a point estimate, kept in the file); it predicts through
 * the pair scores only (facto_fm_predict_pair, facto_fm_evaluate_ratings):
 * facto_fm_predict refuses feature rows for it.
 */

/* Implicit-feedback blocks (bits of facto_fm_ratings_options.implicit). */
enum {
    FACTO_FM_IMPLICIT_USER = 1, /* the user block gets the user's rated items / sqrt(|N(u)|) */
    FACTO_FM_IMPLICIT_ITEM = 2  /* the item block gets the item's raters / sqrt(|N(i)|) */
};

/* Features a ratings model was trained with (facto_fm_ratings_features). */
enum {
    FACTO_FM_FEATURES_USER_SIDE = 1,
    FACTO_FM_FEATURES_ITEM_SIDE = 2,
    FACTO_FM_FEATURES_IMPLICIT_USER = 4,
    FACTO_FM_FEATURES_IMPLICIT_ITEM = 8
};

typedef struct facto_fm_ratings_options {
    /* Side features, looked up by the data's own ids (borrowed paths; NULL =
     * none): MovieLens 100K u.user / u.item (detected by the '|' in their
     * first line), or the attribute format, one line per id:
     *   id<TAB>name[:value] name[:value] ...
     * (value 1 when omitted; blank and '#' lines skipped; an id missing from
     * the file gets no side features; ids not in training are ignored). */
    const char *user_file;
    const char *item_file;
    int implicit;       /* FACTO_FM_IMPLICIT_* bits; 0 (default) = none */
    int prior_groups;   /* 1 (default): one hyperprior per block kind, 2: per kind of side feature too
                           (see above), 0: one for all features */
    float binarize;     /* 0 (default): label = rating; > 0: label = rating >= binarize (binary_classifier) */
} facto_fm_ratings_options;

FACTO_API facto_fm_ratings_options facto_fm_ratings_options_default(void);

/*
 * Train an FM on the ratings of `train` in block form (see above). `test`
 * (may be NULL; ids matched to train's by string) is scored after every
 * iteration for the report: for MCMC that is libFM's running average over
 * the chain, also returned in *test_rmse_chain (may be NULL; NAN without a
 * test set or for a classifier). params->solver must be mcmc or als;
 * params->feature_dim 0 takes the layout's (any other value must equal
 * it); num_iter, init_stdev, burn_in, mcmc_samples, summary_rank and seed
 * apply. Errors: FACTO_ERR_INVALID (a hyperparameter, solver sgd, a bad
 * option, a starting point the solver cannot learn from: see facto_fm_fit;
 * the message names the feature key of the layout), FACTO_ERR_EMPTY, FACTO_ERR_IO / FACTO_ERR_PARSE (side files,
 * "PATH:LINE: ..."), FACTO_ERR_DIVERGED, FACTO_ERR_NOMEM. *out owned by the
 * caller (facto_model_free). Same seed, same model bytes.
 */
FACTO_API facto_status facto_fm_fit_ratings(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                            const facto_fm_ratings_options *opts, const facto_fm_params *params,
                                            const facto_fit_callbacks *callbacks, facto_model **out, double *test_rmse_chain);

/*
 * Binary classification metrics of scores [n] (probabilities in [0, 1])
 * against labels [n] (> 0 is class 1, so 0/1 and -1/+1 both work), at
 * `threshold` (SageMaker: 0.5) with F-beta's `beta` (> 0; SageMaker: 1).
 * AUC is the Mann-Whitney statistic with average ranks for ties (Hanley &
 * McNeil, Radiology 1982). Arrays are borrowed. Errors: FACTO_ERR_INVALID
 * (NULL arrays, beta <= 0, a non-finite score), FACTO_ERR_NOMEM.
 * Cost O(n log n) time, O(n) memory.
 */
FACTO_API facto_status facto_binary_metrics_compute(facto_ctx *ctx, const float *labels, const float *scores, int64_t n,
                                                    double threshold, double beta, facto_binary_metrics *out);

/* ======================================================================
 * FM data formats
 *
 * Sparse feature rows (facto_rows, above) in and out of files and HTTP
 * bodies: libsvm / libFM text, Amazon SageMaker's recordIO-protobuf
 * (application/x-recordio-protobuf: RecordIO framing from MXNet's
 * dmlc-core around the aialgs.data.Record protobuf, src/data/proto/
 * record.proto), one-hot rows built from ratings, and SageMaker's inference
 * request and response bodies (application/json, application/jsonlines,
 * application/x-recordio-protobuf; SageMaker Developer Guide, "Common data
 * formats for inference" and "Factorization Machines Response Formats").
 * Every reader is O(nnz) in time and memory; none densifies a row.
 * ====================================================================== */

/* A file format for feature rows. */
typedef enum facto_rows_format {
    FACTO_ROWS_AUTO = 0,    /* recordIO when the file starts with its magic, else libsvm */
    FACTO_ROWS_LIBSVM = 1,  /* text, one row a line: "label key:value key:value ..." */
    FACTO_ROWS_RECORDIO = 2 /* SageMaker recordIO-protobuf */
} facto_rows_format;

/* Magic word opening every RecordIO record, stored little-endian. */
#define FACTO_RECORDIO_MAGIC 0xCED7230Au

/*
 * Tell the format of `path` by content: FACTO_ROWS_RECORDIO when its first
 * 4 bytes (after gzip decompression, if the file is gzip) are the RecordIO
 * magic, FACTO_ROWS_LIBSVM otherwise (also for an empty file).
 * Errors: FACTO_ERR_IO (cannot open or read).
 */
FACTO_API facto_status facto_rows_detect(facto_ctx *ctx, const char *path, facto_rows_format *out);

/*
 * Largest key + 1 over all entries when rows->feature_dim is 0, else
 * rows->feature_dim. O(nnz) in the first case.
 */
FACTO_API uint64_t facto_rows_dim(const facto_rows *rows);

/*
 * Read feature rows from `path` in `format` (FACTO_ROWS_AUTO: detect). Plain
 * or gzip-compressed. `feature_dim` > 0 (at most 2^32, else
 * FACTO_ERR_INVALID) makes every key >= feature_dim an error, and a recordIO
 * shape other than feature_dim too; 0 takes it from the data (recordIO: the
 * tensors' shape, the same in every record; libsvm: the largest key + 1).
 * Keys come out ascending within a row, duplicates summed (facto_rows).
 * libsvm keys are read as written (0-based, libFM style):
 * a 1-based LIBSVM file just leaves key 0 unused. libsvm rows always have
 * labels; recordIO rows have them when the records do (labels NULL otherwise).
 * Errors: FACTO_ERR_IO, FACTO_ERR_PARSE ("PATH:LINE: ..." for text,
 * "PATH: record N at byte B: ..." for recordIO, N from 1), FACTO_ERR_EMPTY (no rows),
 * FACTO_ERR_NOMEM. *out owned by the caller: free with facto_rows_free().
 */
FACTO_API facto_status facto_rows_read(facto_ctx *ctx, const char *path, facto_rows_format format, uint64_t feature_dim,
                                       facto_rows **out);

/*
 * Where each row read from a file came from, so an error found after
 * reading (a classifier's label, say) can name the file's line or record:
 * facto_rows_read_origin() is facto_rows_read() that also returns
 * *origin (NULL on error), owned by the caller: free with
 * facto_rows_origin_free(). Kept apart from the rows, so only a caller that
 * asks pays: libsvm text costs 16 bytes per run of blank or comment lines
 * (at most about 4 bytes a row), recordIO 4 bytes a row.
 * facto_rows_origin_where() writes the prefix the readers' own messages
 * use for row `row` (0-based) into buf[size]: "PATH:LINE" for text,
 * "PATH: record N at byte B" for recordIO (N counted from 1, B the offset of
 * its header), and returns its length as snprintf does; "" and 0 when
 * `origin` is NULL or has no such row. facto_rows_origin_pos() gives the
 * line or byte offset alone, -1 when unknown. O(log rows + 1024) a look-up.
 */
typedef struct facto_rows_origin facto_rows_origin;
FACTO_API facto_status facto_rows_read_origin(facto_ctx *ctx, const char *path, facto_rows_format format,
                                              uint64_t feature_dim, facto_rows **out, facto_rows_origin **origin);
FACTO_API size_t facto_rows_origin_where(const facto_rows_origin *origin, int64_t row, char *buf, size_t size);
FACTO_API int64_t facto_rows_origin_pos(const facto_rows_origin *origin, int64_t row);
FACTO_API void facto_rows_origin_free(facto_rows_origin *origin);

/*
 * Write `rows` to `path` ("-" = standard output) as libsvm text or
 * recordIO-protobuf (FACTO_ROWS_AUTO is refused with FACTO_ERR_INVALID).
 * Reading the file back gives identical keys, values and labels: libsvm
 * prints whole numbers as integers, short decimals as such (0.2f as "0.2")
 * and any other float with %.9g. Unlabelled rows get label 0 in libsvm and
 * no label in recordIO. Errors: FACTO_ERR_IO, FACTO_ERR_INVALID,
 * FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_rows_write(facto_ctx *ctx, const facto_rows *rows, const char *path, facto_rows_format format);

/*
 * libsvm / libFM text. Each line is "label key:value ..." separated by spaces
 * or tabs; keys are unsigned decimal integers below 2^32 (and below
 * feature_dim when it is > 0) and may come in any order (duplicates are
 * summed); a line with a label only is an all-zero row. Blank lines, lines
 * starting with '#', a trailing "# comment", CRLF ends and "qid:N" tokens
 * (ignored) are accepted. `index_base` 0 keeps keys as written; 1 reads a
 * 1-based LIBSVM file into 0-based keys (key 0 is then an error).
 * Same errors and ownership as facto_rows_read().
 */
FACTO_API facto_status facto_libsvm_read(facto_ctx *ctx, const char *path, uint64_t feature_dim, int index_base,
                                         facto_rows **out);
/* Write libsvm text with keys + index_base (0 or 1); see facto_rows_write().
 * Errors: FACTO_ERR_IO (cannot write `path`, named), FACTO_ERR_INVALID
 * (index_base not 0 or 1), FACTO_ERR_NOMEM. */
FACTO_API facto_status facto_libsvm_write(facto_ctx *ctx, const facto_rows *rows, const char *path, int index_base);

/*
 * SageMaker recordIO-protobuf, one Record per row. Each RecordIO record is:
 * u32 magic, u32 word = (cflag << 29) | length, `length` payload bytes, zero
 * padding to a multiple of 4 bytes; all little-endian. Multi-part records
 * (cflag 1 = first, 2 = middle, 3 = last part) are joined with the magic
 * between parts, as dmlc-core's RecordIOReader does. The payload is a Record
 * whose features["values"] is a Float32Tensor (Float64Tensor and Int32Tensor
 * are accepted too): sparse when it has keys (then shape [feature_dim] is
 * required), else dense (exact zeros are dropped); label["values"] holds one
 * number. Either every record has a label or none has. A record without
 * keys, values or shape is an all-zero row; a length word announcing more
 * bytes than the data holds is reported, not allocated.
 * Same errors and ownership as facto_rows_read().
 */
FACTO_API facto_status facto_recordio_read(facto_ctx *ctx, const char *path, uint64_t feature_dim, facto_rows **out);
/* Write single-part records with sparse features (keys, values, shape
 * [facto_rows_dim(rows)]) and label["values"] = [label] when rows has labels,
 * as SageMaker's Python SDK does (write_spmatrix_to_sparse_tensor). The
 * bytes depend only on the rows: write -> read -> write is byte-identical.
 * Errors: FACTO_ERR_IO, FACTO_ERR_NOMEM. */
FACTO_API facto_status facto_recordio_write(facto_ctx *ctx, const facto_rows *rows, const char *path);
/*
 * The same two in memory. decode: `data` [size] bytes is borrowed; `name`
 * (may be NULL) names the source in messages; errors as facto_recordio_read()
 * (FACTO_ERR_PARSE naming the record and byte offset, FACTO_ERR_EMPTY,
 * FACTO_ERR_NOMEM). encode: *data ([*size] bytes) is owned by the caller,
 * free with facto_buffer_free(); errors FACTO_ERR_INVALID (a record longer
 * than RecordIO's 29-bit length), FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_recordio_decode(facto_ctx *ctx, const void *data, size_t size, const char *name,
                                             uint64_t feature_dim, facto_rows **out);
FACTO_API facto_status facto_recordio_encode(facto_ctx *ctx, const facto_rows *rows, void **data, size_t *size);

/* Free a buffer returned by this section's functions; NULL is a no-op. */
FACTO_API void facto_buffer_free(void *buffer);

/* ---- ratings -> FM rows ------------------------------------------------- */

/*
 * Encodes (user, item, rating) as a feature row, like SageMaker's FM
 * MovieLens example and libFM's standard layout (Rendle, "Factorization
 * Machines with libFM", ACM TIST 2012, section 2): keys
 *   [0, n_users)                   one-hot user (the training set's users)
 *   [n_users, n_users + n_items)   one-hot item
 * then, when side files are given, groups taken from MovieLens 100K:
 *   u.user: age bucket (<18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+),
 *           gender (M, F), occupation (one key per occupation in the file);
 *   u.item: genres (19 flags, each 1/number-of-genres so the group sums
 *           to 1), release decade (one key per decade in the file).
 * The layout is fixed by the training set and the side files, so encoding a
 * test set with the same encoder gives the same meaning to every key; a test
 * user or item absent from training gets no one-hot key but keeps its side
 * features (they are looked up by the data's own id).
 */
typedef struct facto_fm_encoder facto_fm_encoder;

typedef struct facto_fm_encode_options {
    const char *user_file; /* MovieLens 100K u.user ("id|age|gender|occupation|zip"), or NULL */
    const char *item_file; /* MovieLens 100K u.item ("id|title|date|video date|url|19 genre flags"), or NULL */
    /* Label of a row: the rating when 0 (default); when > 0, 1 if the rating
     * is >= binarize, else 0 (for predictor_type binary_classifier). */
    float binarize;
    /* 0 (default): one-hot keys follow the training set's id maps (users in
     * first-seen order, then items). 1: SageMaker's FM MovieLens demo layout:
     * user key = user id - 1, item key = max_user_id + item id - 1, so
     * ml-100k gives feature_dim 943 + 1682 = 2625 whatever the split; every
     * training id must then be a positive integer (FACTO_ERR_INVALID). */
    int numeric_ids;
    /* numeric_ids only: the largest user / item id; 0 (default) = the largest
     * in the training set and the side files (ml-100k u1.base: 943, 1682). */
    int64_t max_user_id, max_item_id;
} facto_fm_encode_options;

FACTO_API facto_fm_encode_options facto_fm_encode_options_default(void);

/*
 * Build the layout from `train`'s users and items and the side files (read
 * as ISO-8859-1 text). Errors: FACTO_ERR_IO, FACTO_ERR_PARSE ("PATH:LINE:
 * ..."), FACTO_ERR_NOMEM. `train` is only read during the call. *out owned
 * by the caller: free with facto_fm_encoder_free().
 */
FACTO_API facto_status facto_fm_encoder_new(facto_ctx *ctx, const facto_dataset *train, const facto_fm_encode_options *opts,
                                            facto_fm_encoder **out);
FACTO_API void facto_fm_encoder_free(facto_fm_encoder *enc);
/* Number of keys of the layout: users + items (training set's counts, or
 * max ids for numeric_ids) + side feature keys. */
FACTO_API uint64_t facto_fm_encoder_dim(const facto_fm_encoder *enc);
/* Human-readable name of `key` ("user=196", "item=242", "age=25-34",
 * "gender=F", "occupation=writer", "genre=Comedy", "decade=1990") into buf.
 * FACTO_ERR_INVALID when key >= dim or buf is too small. */
FACTO_API facto_status facto_fm_encoder_key_name(facto_ctx *ctx, const facto_fm_encoder *enc, uint64_t key, char *buf,
                                                 size_t size);

/*
 * Encode every rating of `ds` (in its CSR order: by user, then item) as one
 * labelled row with feature_dim = facto_fm_encoder_dim(enc). Rows are built
 * O(ratings * row length). *n_unknown_users / *n_unknown_items (may be NULL)
 * receive how many ratings had a user / item the training set did not have,
 * in both layouts (with numeric_ids such an id in 1..max id still gets its
 * one-hot key, which training never updated; one outside gets none).
 * Errors: FACTO_ERR_NOMEM, FACTO_ERR_EMPTY. *out owned by the caller.
 */
FACTO_API facto_status facto_fm_encode(facto_ctx *ctx, const facto_fm_encoder *enc, const facto_dataset *ds,
                                       facto_rows **out, int64_t *n_unknown_users, int64_t *n_unknown_items);

/*
 * Append one row for (user, item) — the data's own ids, borrowed — to `rows`
 * (created with feature_dim = facto_fm_encoder_dim(enc)), with `label`;
 * for scoring single pairs. *flags (may be NULL) gets FACTO_PRED_UNKNOWN_USER
 * and/or FACTO_PRED_UNKNOWN_ITEM for ids the training set did not have (as
 * facto_fm_encode counts them).
 * Errors: FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_fm_encode_pair(facto_ctx *ctx, const facto_fm_encoder *enc, const char *user, const char *item,
                                            float label, facto_rows *rows, int *flags);

/* ---- SageMaker inference requests and responses ------------------------ */

typedef enum facto_content_type {
    FACTO_CONTENT_JSON = 1,      /* application/json */
    FACTO_CONTENT_JSONLINES = 2, /* application/jsonlines */
    FACTO_CONTENT_RECORDIO = 3   /* application/x-recordio-protobuf */
} facto_content_type;

/* Parse a Content-Type or Accept value: "application/json; charset=utf-8"
 * is JSON; "application/x-ndjson" and "application/json-lines" count as
 * JSON Lines; in a comma-separated Accept list the first supported type
 * wins, and the wildcards (star/star, application/star) mean JSON, the
 * default of SageMaker's FM.
 * FACTO_ERR_INVALID for anything else, naming it. */
FACTO_API facto_status facto_content_type_parse(facto_ctx *ctx, const char *text, facto_content_type *out);
/* The canonical MIME name of `type`; static storage. */
FACTO_API const char *facto_content_type_name(facto_content_type type);

/*
 * Parse an inference request body into unlabelled rows, one per instance:
 *   JSON:       {"instances": [INSTANCE, ...]}
 *   JSON Lines: one INSTANCE per non-blank line
 *   recordIO:   one Record per instance (as facto_recordio_decode)
 * where INSTANCE is {"features": [v0, v1, ...]} (dense), or
 * {"data": {"features": {"keys": [k...], "shape": [N], "values": [v...]}}}
 * (sparse; with no or empty "keys" the values are dense). Unsorted keys are accepted
 * and duplicate keys summed. With feature_dim > 0, a sparse shape or a dense
 * length other than feature_dim is refused. `body` [size] bytes is borrowed.
 * Errors: FACTO_ERR_PARSE with a message naming the instance (0-based, and
 * the line for JSON Lines): malformed JSON, a key >= feature_dim or >= 2^32,
 * keys and values of different lengths, a sparse tensor without shape, a
 * value that is not a finite number; FACTO_ERR_EMPTY (no instances);
 * FACTO_ERR_NOMEM. *out (feature_dim set) owned by the caller.
 */
FACTO_API facto_status facto_inference_request_parse(facto_ctx *ctx, facto_content_type type, const void *body, size_t size,
                                                     uint64_t feature_dim, facto_rows **out);

/*
 * Write SageMaker FM's response body for n predictions: scores [n];
 * predicted_labels [n] (0 or 1) for a binary classifier, NULL for a
 * regressor (then only "score" is written):
 *   JSON:       {"predictions": [{"score": 0.4, "predicted_label": 0}, ...]}
 *   JSON Lines: {"score": 0.4, "predicted_label": 0} one per line
 *   recordIO:   one Record per prediction with label["score"] and
 *               label["predicted_label"] Float32Tensors of one value.
 * Scores are printed with the fewest digits (at most 9) that read back to
 * the same float, so 0.4f prints as 0.4.
 * *body ([*size] bytes; JSON ones also NUL-terminated) owned by the caller:
 * free with facto_buffer_free(). Errors: FACTO_ERR_INVALID (a non-finite
 * score), FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_inference_response_write(facto_ctx *ctx, facto_content_type type, const float *scores,
                                                      const float *predicted_labels, int64_t n, void **body, size_t *size);

/* ======================================================================
 * Event logs (impressions and clicks; docs/serving.md, "Event log")
 *
 * `facto serve --events-dir D` appends events to JSON Lines files in D
 * (events-YYYYMMDD-HH-NNNNNN.jsonl, names sort by time); these calls read
 * such a folder back: click-through rate by position (the display-bias
 * curve) and by item popularity, the clicks and purchases as implicit
 * training data, and an offline CTR estimate of a model by inverse
 * propensity scoring (Joachims, Swaminathan & Schnabel, "Unbiased
 * Learning-to-Rank with Biased Feedback", WSDM 2017).
 * ====================================================================== */

typedef struct facto_events facto_events;

/* What a log holds and what the reader skipped. */
typedef struct facto_events_counts {
    int64_t files;        /* events-*.jsonl files read */
    int64_t lines;        /* events read (torn lines not counted) */
    int64_t impressions;  /* impression events (slates) */
    int64_t shown;        /* items shown in them, summed */
    int64_t clicks, purchases, ratings;
    int64_t torn_lines;   /* last lines of a file that are not a complete event (a crash mid-write): skipped */
    int64_t duplicate_impressions; /* impressions under a request_id already read (a client's retry): skipped,
                                      not in lines, impressions or shown */
} facto_events_counts;

/*
 * Read every events-*.jsonl file of folder `dir` in name order (that is,
 * time order). The last line of a file without its newline is read when
 * it is a complete event; otherwise it was torn by a crash while being
 * written: it is skipped and counted (torn_lines), never an error. An
 * impression whose request_id an earlier impression already had is a
 * repeat (at-least-once delivery retries a POST whose answer was lost):
 * the first is kept, the others skipped and counted
 * (duplicate_impressions); a folder or dangling link named like a log file is skipped
 * (a warning through the context's log). Errors: FACTO_ERR_IO (no such folder, a file that cannot be
 * read), FACTO_ERR_PARSE ("FILE:LINE: field: what is wrong" for a complete
 * line that is not an event), FACTO_ERR_EMPTY (no events at all),
 * FACTO_ERR_NOMEM. The caller frees *out with facto_events_free(). Cost:
 * O(log size) time, O(events) memory.
 */
FACTO_API facto_status facto_events_read(facto_ctx *ctx, const char *dir, facto_events **out);
FACTO_API void facto_events_free(facto_events *ev);
FACTO_API void facto_events_get_counts(const facto_events *ev, facto_events_counts *out);

/*
 * Clicks and purchases as implicit feedback: each (user, item) pair with
 * its number of clicks and purchases as the weight (timestamps: the
 * latest, whole seconds), the data set the implicit ratings readers make
 * (facto_read_options.implicit = 1). Impressions and ratings are not
 * interactions. Errors: FACTO_ERR_EMPTY (no click or purchase with a
 * user), FACTO_ERR_NOMEM. Free *out with facto_dataset_free().
 */
FACTO_API facto_status facto_events_interactions(facto_ctx *ctx, const facto_events *ev, facto_dataset **out);

/*
 * Click-through rate by position. shown[p] receives the number of items
 * shown at position p + 1 (0-based arrays of `max_positions`), clicked[p]
 * how many of them were clicked: a click whose request_id and item match
 * a slate's (each shown item counted clicked once however often it was
 * clicked; a click on an item the slate did not show is not counted).
 * *n_positions receives the longest slate, capped at max_positions.
 * Errors: FACTO_ERR_INVALID (max_positions < 1), FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_events_position_ctr(facto_ctx *ctx, const facto_events *ev, int max_positions,
                                                 int64_t *shown, int64_t *clicked, int *n_positions);

/*
 * Click-through rate by item popularity, popularity being the number of
 * times the log shows the item (impressions, not training counts). Items
 * shown at least once are sorted by it (least shown first) and cut into
 * n_bins groups of equal item count (n_bins = 10: deciles); arrays of
 * n_bins receive each group's items, items shown, items clicked (as in
 * facto_events_position_ctr) and its smallest and largest popularity.
 * Errors: FACTO_ERR_INVALID (n_bins < 1), FACTO_ERR_EMPTY (no
 * impression), FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_events_popularity_ctr(facto_ctx *ctx, const facto_events *ev, int n_bins,
                                                   int64_t *items, int64_t *shown, int64_t *clicked,
                                                   int64_t *min_popularity, int64_t *max_popularity);

/*
 * Position-based propensities (examination probabilities relative to
 * position 1) estimated from the log: prop[p] = CTR(p + 1) / CTR(1)
 * (Joachims et al. 2017, section 5, with the ratio of click-through rates
 * as the estimate). This is unbiased when the logging policy placed items
 * independently of their relevance (a randomized or shuffled slate); a
 * log of a ranked list confounds position with relevance and the ratios
 * then over-state the bias. A position with no item shown gets 0.
 * *n_positions as in facto_events_position_ctr. Errors: FACTO_ERR_INVALID
 * (max_positions < 1), FACTO_ERR_EMPTY (no click at position 1),
 * FACTO_ERR_NOMEM.
 */
FACTO_API facto_status facto_events_propensities(facto_ctx *ctx, const facto_events *ev, int max_positions,
                                                 double *prop, int *n_positions);

/* Settings of facto_events_ips. */
typedef struct facto_ips_options {
    int k;             /* the model's top k of each slate are scored (default 5) */
    double max_weight; /* the clipped estimate caps 1/propensity at this (default 10) */
} facto_ips_options;

FACTO_API facto_ips_options facto_ips_options_default(void);

/* What facto_events_ips estimated and used. */
typedef struct facto_ips_result {
    double ctr_ips;       /* IPS estimate: clicks weighted 1/propensity of the position they were shown at */
    double ctr_clipped;   /* the same with each weight capped at max_weight */
    double ctr_naive;     /* logged clicks, unweighted (every click of the top k, with or without a propensity) */
    int64_t slates_used, slots_used, clicks_used;
    int64_t slates_unknown_user, slates_unknown_item; /* skipped: a user (or none) or an item the model lacks */
    int64_t clicks_unknown_position;                  /* clicks beyond the propensities given: left out of
                                                         ctr_ips and ctr_clipped (not of ctr_naive) */
} facto_ips_result;

/*
 * Offline click-through rate of a model's ranking (Joachims et al. 2017,
 * the IPS estimator of section 4): each logged slate is re-ranked by the
 * model's scores for its user, and the estimate is, over the slots of
 * the re-ranked top k, the mean of click / propensity(position the item
 * was shown at). Under the position-based click model (P(click) =
 * propensity(position) * relevance) this is unbiased for the mean
 * relevance of the model's top k: the CTR its items would get at position
 * 1. The naive estimate counts the logged clicks as they are (biased
 * towards the items the logging policy put at the top). prop[0 ..
 * n_propensities) comes from facto_events_propensities. Slates whose user
 * the model does not know (or without a user) or that show an item it
 * does not know are skipped and counted. Errors: FACTO_ERR_INVALID (k < 1,
 * max_weight < 1, prop[0] != 1), FACTO_ERR_EMPTY (no slate could be
 * used), FACTO_ERR_NOMEM, those of facto_model_predict. Cost: one
 * prediction a shown item.
 */
FACTO_API facto_status facto_events_ips(facto_ctx *ctx, const facto_model *model, const facto_events *ev,
                                        const double *prop, int n_propensities, const facto_ips_options *opts,
                                        facto_ips_result *res);

/* ======================================================================
 * HTTP inference server (`facto serve`; library libfacto_serve)
 *
 * One model behind SageMaker's inference container contract and top-N
 * routes, on libmicrohttpd (epoll, a pool of worker threads):
 *   GET  /ping                      200 once the model is loaded (no key needed)
 *   POST /invocations               SageMaker bodies (facto_inference_request_parse;
 *                                   the answer's type from Accept), or, for a
 *                                   model with user and item ids,
 *                                   {"instances": [{"user": U, "item": I}, ...]}
 *   GET  /recommendations?user=ID&k=10[&include_seen=1]
 *   POST /recommendations           {"user": ID} or {"history": [items]} (fold-in)
 *   GET  /similar-items?item=ID&k=10
 *   GET  /metrics                   Prometheus text
 *   POST /admin/reload              load the model file again
 *   POST /events                    (with events_dir) impressions, clicks, purchases, ratings
 *   GET  /events/stats              (with events_dir) CTR by position and popularity, as JSON
 *   GET  /users?prefix=P&limit=20   training user ids (the page's suggestions)
 *   GET  /                          a page for people (embedded HTML; no key needed)
 * docs/serving.md gives every body, status and error. Answers come from
 * the model interface only (predict, predict_rows, recommend,
 * recommend_history, similar): the server never asks the kind. The model is
 * shared read-only by the workers; a reload builds a new one and swaps it
 * in (requests in flight finish on the old one, freed by the last of them).
 * ====================================================================== */

/* Settings of facto_serve_run. Start from facto_serve_options_default(). */
typedef struct facto_serve_options {
    /* Model file. NULL: the first facto model file (by name) in
     * $SM_MODEL_DIR, else /opt/ml/model (SageMaker's model folder). */
    const char *model_path;
    /* Address to listen on (an IPv4 or IPv6 literal). NULL: 127.0.0.1, or
     * 0.0.0.0 when SAGEMAKER_BIND_TO_PORT is set (inside a container). */
    const char *bind;
    /* TCP port; 0 picks a free one (on_ready tells which); -1 (default):
     * $SAGEMAKER_BIND_TO_PORT, else 8080. */
    int port;
    int threads;               /* worker threads; 0 (default) = cores */
    const char *api_key;       /* every route but /ping needs "Authorization: Bearer KEY"; NULL: none */
    size_t max_body_bytes;     /* larger bodies get 413; default 6 MiB (SageMaker's payload limit) */
    int max_instances;         /* instances of one /invocations request, else 413; default 100000 */
    int max_k;                 /* largest k of the top-N routes, else 400; default 1000 */
    unsigned timeout_seconds;  /* an idle or stalled connection is closed after this; default 30 */
    const char *titles_dir;    /* u.item, movies.dat or movies.csv for titles (facto_titles_read); NULL: none */
    /* Event log (POST /events): JSON Lines files in this folder (created if
     * missing); NULL (default): none, and POST /events answers 404. */
    const char *events_dir;
    /* 0 (default, "always"): every append is fdatasync'ed before its 2xx;
     * N > 0 ("interval"): a thread syncs every N ms. */
    int events_fsync_ms;
    uint64_t events_rotate_bytes; /* start a new file past this size; 0 (default): 64 MiB */
    int log_impressions;          /* 1: /recommendations and /similar-items log their answers as impressions */
    /* Called once the server listens (address and port, the chosen one
     * for port 0), from the calling thread; may be NULL. */
    void (*on_ready)(const char *bind, int port, void *user_data);
    void *user_data;
} facto_serve_options;

FACTO_API facto_serve_options facto_serve_options_default(void);

/*
 * Load the model and serve it until SIGTERM or SIGINT, then stop accepting,
 * let requests in flight finish (up to 30 s), and return FACTO_OK. SIGHUP
 * reloads the model file: a file that does not load is refused and logged,
 * and the old model keeps serving. The calling thread blocks SIGHUP,
 * SIGTERM and SIGINT (the workers inherit the mask) and waits for them with
 * sigwait; SIGPIPE is ignored. Log lines (start, reloads, refusals) go to
 * ctx's log function (facto_ctx_set_log) at FACTO_LOG_INFO / WARN.
 * Errors: FACTO_ERR_INVALID (bad options, an address that is not one),
 * FACTO_ERR_IO (cannot listen: the port is taken; no model file found),
 * those of facto_model_load for the first load. Strings are borrowed for
 * the call.
 */
FACTO_API facto_status facto_serve_run(facto_ctx *ctx, const facto_serve_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* FACTO_H */
