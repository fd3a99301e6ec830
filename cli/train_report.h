/*
 * train_report.h — what `facto train` prints (train_report.c): the line
 * saying what is trained on what, one line per epoch whose figures follow
 * the task (regression: RMSE and MAE; binary: accuracy, cross-entropy,
 * AUC), a progress bar on a terminal, and the end: SageMaker's
 * #train_score / #test_score lines and the saved model, or one JSON object.
 * Nothing here depends on the model's kind. O(1) per callback.
 */
#ifndef FACTO_CLI_TRAIN_REPORT_H
#define FACTO_CLI_TRAIN_REPORT_H

#include "train_data.h"

/* State of the callbacks during a fit. */
typedef struct cli_train_report {
    FILE *info;            /* header, epoch lines, notes: stdout, or stderr with --json */
    int tty;               /* progress bar on stderr */
    int bar_shown;
    double t_start, last_bar;
    const char *unit;      /* "ratings" or "samples", for the rates */
    int64_t n_train;       /* ratings or rows per epoch */
    facto_epoch_report last;
    int have_last;
    double update_seconds; /* sum of the epochs' update times */
} cli_train_report;

/* Start a report (the clock too); the callbacks to hand facto_model_fit. */
facto_fit_callbacks cli_report_begin(cli_train_report *r, FILE *info, const cli_train_data *d);
/* Clear the progress bar, if one is shown. */
void cli_report_bar_clear(cli_train_report *r);

/* "training KIND (summary) on N ratings (U users, I items), ..., testing on
 * M ratings", then the configuration's notes (facto_params_describe). */
void cli_report_header(FILE *info, const facto_params *p, const cli_train_data *d);

/* The end of a fit: what the command prints after the model is saved. */
typedef struct cli_train_result {
    const char *kind;
    facto_metrics train, test; /* the saved model's, scored after the fit */
    int have_test;
    double seconds;            /* wall time of the fit */
    const char *out;           /* --out, or NULL */
    long long model_bytes;
} cli_train_result;

/* Text: SageMaker's score lines (and rmse_chain for an MCMC regressor) and
 * the speed; with `json` one object instead (params from p). Returns an
 * exit code. */
int cli_report_final(facto_ctx *ctx, const cli_train_report *r, const cli_train_result *res, const facto_params *p,
                     const cli_train_data *d, int json);

#endif /* FACTO_CLI_TRAIN_REPORT_H */
