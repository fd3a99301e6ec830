/*
 * output.h — every file libfacto and the facto command write goes through
 * one atomic output (facto_output in facto.h): a temporary file
 * ".NAME.facto-tmp.PID.N" created with O_EXCL in the target's folder,
 * written, flushed and fsync'ed, then renamed over NAME and the folder
 * fsync'ed. A reader never sees half a file; a failed or interrupted
 * write leaves the old file as it was. Rules checked when the output is
 * opened and again just before the rename:
 *  - never replace a file named an input of the context
 *    (facto_ctx_add_input): compared by device and inode;
 *  - never replace an existing facto model unless the output is a model
 *    (FACTO_OUTPUT_MODEL), which in turn refuses to replace anything but
 *    an empty file or a model;
 *  - a symbolic link is followed (the file it names is replaced, the link
 *    kept); an existing device or FIFO (/dev/null, /dev/stdout) is written
 *    in place, as there is nothing to rename over; a folder is refused.
 * Temporary files are registered so SIGINT and SIGTERM unlink them (a
 * handler installed when the signal's action is the default; it re-raises
 * the signal), and after a successful rename the temporary files that a
 * dead process left for the same NAME are removed.
 */
#ifndef FACTO_CORE_OUTPUT_H
#define FACTO_CORE_OUTPUT_H

#include "internal.h"

#include <stdio.h>

/* Remember the file at `path` (or open descriptor `fd`) as an input of
 * ctx, so no output through ctx replaces it. Best effort: a file that
 * cannot be stat'ed is not noted. */
void fct_ctx_note_input(facto_ctx *ctx, const char *path);
void fct_ctx_note_fd(facto_ctx *ctx, int fd);
/* Free the list (facto_ctx_clear_inputs). */
void fct_ctx_inputs_free(facto_ctx *ctx);

/* 1 when the first 8 bytes of the regular file at path are a model's magic. */
int fct_output_is_model(const char *path);

/* The folder of `path` ("." when it has none) into dir[size]; 0 if too long. */
int fct_output_dirname(const char *path, char *dir, size_t size);

#endif /* FACTO_CORE_OUTPUT_H */
