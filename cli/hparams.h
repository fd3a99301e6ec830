/*
 * hparams.h — hyperparameters by name in the CLI (hparams.c). A kind's one
 * table (facto_params_*) drives `facto train`'s flags and its --help,
 * SageMaker's hyperparameters.json, the "params" of train's JSON and
 * `facto inspect`: no hyperparameter is named in cli/ except the few whose
 * name means the same thing for every kind that has one (SageMaker's and
 * facto's conventions, below). Cost O(table size) per call.
 */
#ifndef FACTO_CLI_HPARAMS_H
#define FACTO_CLI_HPARAMS_H

#include "cli.h"

/*
 * Names with one meaning across kinds, used by the CLI when a kind has them:
 *   feature_dim  the width of the feature rows a model reads (SageMaker's
 *                name in every algorithm on rows): rows files are read
 *                against it, and it is filled from the data when not given;
 *   seed         also seeds the random / kfold splits of the data;
 *   binarize     the rating threshold of a classifier trained from ratings
 *                (label = rating >= T): the CLI applies it itself when it
 *                encodes ratings into feature rows.
 */
#define CLI_HP_FEATURE_DIM "feature_dim"
#define CLI_HP_SEED "seed"
#define CLI_HP_BINARIZE "binarize"

/* Hyperparameter flags of a command line, in the order given. */
typedef struct cli_hp_flags {
    char **flags;         /* the option as typed, without any "=VALUE" ("--num-factors"); owned */
    const char **values;  /* borrowed from argv */
    int n;
} cli_hp_flags;

/* Room for every argument of argv as a flag; FACTO_EXIT_INTERNAL when out of memory. */
int cli_hp_flags_alloc(cli_hp_flags *f, int argc);
/* Add "--" + name[0..len) = value. FACTO_EXIT_INTERNAL when out of memory. */
int cli_hp_flags_add(cli_hp_flags *f, const char *name, size_t len, const char *value);
void cli_hp_flags_free(cli_hp_flags *f);

/* A flag's value is its whole text: no blanks around it, no '+' in front
 * (the library is lenient, as hyperparameters.json needs). Usage error. */
int cli_hp_value_check(const char *verb, const char *flag, const char *value);

/* 1 when `name` (or an alias) is in p's table. */
int cli_param_known(facto_ctx *ctx, const facto_params *p, const char *name);
/* The value of `name` as text into buf; 1 when it is set, 0 when it is not
 * set or the kind has no such name. */
int cli_param_get(facto_ctx *ctx, const facto_params *p, const char *name, char *buf, size_t size);
/* "0.100000001" (a float written with 9 digits) -> "0.1": the fewest digits
 * that read back to the same float; any other text is copied. */
void cli_short_number(const char *text, char *buf, size_t size);
/* A number-valued hyperparameter, `fallback` when unset or unknown. */
double cli_param_number(facto_ctx *ctx, const facto_params *p, const char *name, double fallback);

/*
 * On p (created at the kind's defaults): SageMaker's hyperparameters.json
 * (`json_path`, may be NULL), then the flags, which override it. A bad
 * value or name is a usage error naming it (exit 1); an unreadable or
 * malformed file exit 2. Prints its own message; returns an exit code.
 */
int cli_params_apply(facto_ctx *ctx, const char *verb, facto_params *p, const char *json_path,
                     const cli_hp_flags *flags);

/* Every rule that does not wait for the data (required ones the data fills,
 * such as feature_dim, are left for the fit). Usage error naming the
 * hyperparameter. */
int cli_params_check_early(facto_ctx *ctx, const char *verb, const facto_params *p);

/* --help lines of every hyperparameter of fresh params: name, aliases,
 * help, SageMaker's mark, and the default (facto_params_get) or what
 * leaving it unset means. */
void cli_params_help(FILE *out, facto_ctx *ctx, const facto_params *fresh);

/* Every hyperparameter that is set, as a JSON object in table order:
 * numbers as JSON numbers, choices as strings. NULL when out of memory. */
json_t *cli_params_json(facto_ctx *ctx, const facto_params *p);

/* Every hyperparameter that is set and that the configuration uses
 * (facto_params_used: not the settings of another solver) as
 * "INDENTname=value" lines (facto_params_format; a float with the fewest
 * digits that read back to it). Returns an exit code. */
int cli_params_print(FILE *out, const facto_params *p, const char *indent);

/* The width of the rows a model reads (its feature_dim), 0 for a model
 * without one. Returns an exit code after printing a message. */
int cli_model_feature_dim(facto_ctx *ctx, const facto_model *model, uint64_t *dim);

#endif /* FACTO_CLI_HPARAMS_H */
