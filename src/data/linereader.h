/*
 * linereader.h — one streaming line reader shared by every text reader, for
 * plain and gzip-compressed files alike (gzsource.h: the gzip magic is
 * detected, every member read, trailing non-gzip bytes refused). Lines up to 256 MiB (a longer one is an
 * error: binary data or an endless stream); "\n" or "\r\n" ends;
 * a UTF-8 byte order mark at the start of the file is dropped. Memory is one
 * buffer as long as the longest line (at least 64 KiB); cost O(file bytes).
 */
#ifndef FACTO_LINEREADER_H
#define FACTO_LINEREADER_H

#include "../core/internal.h"
#include "gzsource.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fct_linereader {
    fct_gzsource src;    /* the file, plain or gzip */
    const char *path;    /* borrowed, used in messages */
    char *buf;           /* [cap] bytes; data lives in buf[start .. end) */
    size_t cap, start, end, scan;
    int64_t lineno;      /* 1-based number of the line last returned */
    int eof;             /* the file has no more bytes to give */
    int is_gzip;         /* 1 when the file started with the gzip magic */
} fct_linereader;

/* Open `path` (borrowed: must outlive the reader). FACTO_ERR_IO names the
 * file when it cannot be opened; FACTO_ERR_NOMEM. */
facto_status fct_linereader_open(facto_ctx *ctx, fct_linereader *lr, const char *path);

/*
 * Next line, without its line end, NUL-terminated, into *line and *len. The bytes
 * are owned by the reader and may be modified by the caller; they stay valid
 * until the next call. Returns 1 for a line, 0 at the end of the file, -1 on
 * an error (the status and message "PATH:LINE: ..." are set in ctx).
 */
int fct_linereader_next(facto_ctx *ctx, fct_linereader *lr, char **line, size_t *len);

/* Close the file and free the buffer; safe on a reader that failed to open. */
void fct_linereader_close(fct_linereader *lr);

#endif /* FACTO_LINEREADER_H */
