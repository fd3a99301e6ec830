/*
 * rows_io.h — feature rows files and request bodies (rows_io.c), for the
 * commands that read them: train (--train / --test rows), eval (labelled
 * rows) and predict (SageMaker inference requests). An error about one row
 * names where that row is in its file ("FILE:LINE: ..." for text, "FILE:
 * record N at byte B: ..." for recordIO), not its number among the rows
 * read, through the origins facto_rows_read_origin keeps. Cost O(rows) for
 * the label check, O(size) to read a request; O(log rows) per message.
 */
#ifndef FACTO_CLI_ROWS_IO_H
#define FACTO_CLI_ROWS_IO_H

#include "cli.h"

/* Rows read from a file, with where each came from. */
typedef struct cli_rows_file {
    const char *prefix;               /* how the library names its rows: "training row ", "test row ", ... */
    const char *path;
    const facto_rows *rows;
    const facto_rows_origin *origin;
} cli_rows_file;

/*
 * Read `path` (format or AUTO) with its origins; `feature_dim` > 0 makes a
 * key >= feature_dim an error naming the line, and is set on the rows.
 * Prints the library's message on failure; returns an exit code.
 */
int cli_rows_read(facto_ctx *ctx, const char *path, facto_rows_format format, uint64_t feature_dim,
                  facto_rows **rows, facto_rows_origin **origin);

/*
 * The labels a model of `task` learns from or is scored on: finite, and a
 * binary classifier's 0 or 1 (or -1/+1). Checked before any work, so a bad
 * one is named by its line. Rows without labels and a task of 0 (unknown)
 * are left to the library. Returns 0, or FACTO_EXIT_DATA after the message.
 */
int cli_rows_check_labels(const cli_rows_file *file, facto_task task);

/*
 * A library message about one row ("training row 2: ...", 1-based among the
 * rows read) printed as "FILE:LINE: ..." when it is about one of files[n];
 * returns 1 when printed, 0 when the message is about no row of them.
 */
int cli_rows_report(const char *msg, const cli_rows_file *files, int n);

/* The largest request body read (256 MiB, as the longest text line;
 * SageMaker's own limits are 6 MB real-time and 100 MB batch). */
#define CLI_MAX_REQUEST (1 << 28)

/* Read the whole of `path` ("-" = stdin) into *data ([*size] bytes, owned
 * by the caller), at most CLI_MAX_REQUEST bytes. Returns an exit code. */
int cli_slurp(const char *path, char **data, size_t *size);

#endif /* FACTO_CLI_ROWS_IO_H */
