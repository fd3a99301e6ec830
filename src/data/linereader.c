/*
 * linereader.c — buffered line splitting over fct_gzsource, which reads
 * gzip files (found by their magic bytes; every member, trailing non-gzip
 * bytes refused) and plain files through the same calls. The buffer holds [start, end) unread bytes; memchr finds '\n'; when
 * a line does not fit, the rest moves to the front and the buffer doubles.
 * Each byte is copied about once, so reading costs O(file bytes).
 */
#include "linereader.h"

#include <errno.h>
#include <string.h>

#define FACTO_LR_CHUNK ((size_t)1 << 16)
/* No text line we read comes near this; a longer one is a binary file (or
 * an endless stream such as /dev/zero), refused before it eats the memory. */
#define FACTO_LR_MAX_LINE ((size_t)1 << 28)

facto_status fct_linereader_open(facto_ctx *ctx, fct_linereader *lr, const char *path)
{
    memset(lr, 0, sizeof *lr);
    lr->path = path;
    facto_status st = fct_gzsource_open(ctx, &lr->src, path);
    if (st != FACTO_OK)
        return st;
    lr->is_gzip = lr->src.is_gzip;
    lr->cap = FACTO_LR_CHUNK;
    lr->buf = malloc(lr->cap);
    if (!lr->buf) {
        fct_linereader_close(lr);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    return FACTO_OK;
}

void fct_linereader_close(fct_linereader *lr)
{
    fct_gzsource_close(&lr->src);
    free(lr->buf);
    lr->buf = NULL;
}

/* Report a failed read: about the whole file ("PATH: byte N: ..."), or at
 * the line being read ("PATH:LINE: ..."). */
static void fct_lr_fail(facto_ctx *ctx, const fct_linereader *lr)
{
    if (lr->src.whole_file)
        fct_fail(ctx, lr->src.err_status, "%s: %s", lr->path, lr->src.err);
    else
        fct_fail(ctx, lr->src.err_status, "%s:%lld: %s", lr->path, (long long)lr->lineno + 1, lr->src.err);
}

/* Read more bytes after `end`, making room first. Returns 0 or -1 (error set). */
static int fct_lr_fill(facto_ctx *ctx, fct_linereader *lr)
{
    if (lr->start > 0) {
        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->scan -= lr->start;
        lr->start = 0;
    }
    /* Keep one spare byte so the last line can always be NUL-terminated. */
    if (lr->end > FACTO_LR_MAX_LINE) {
        /* After the memmove the buffer holds one unfinished line. */
        fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the line is longer than %zu MiB; is this a text file?", lr->path,
                   (long long)lr->lineno + 1, FACTO_LR_MAX_LINE >> 20);
        return -1;
    }
    if (lr->cap - lr->end < FACTO_LR_CHUNK / 2) {
        /* Never more than the longest line allowed plus one chunk. */
        size_t cap = lr->cap * 2;
        if (cap > FACTO_LR_MAX_LINE + FACTO_LR_CHUNK)
            cap = FACTO_LR_MAX_LINE + FACTO_LR_CHUNK;
        char *b = realloc(lr->buf, cap);
        if (!b) {
            fct_fail(ctx, FACTO_ERR_NOMEM, "%s:%lld: out of memory for a line of %zu bytes", lr->path,
                       (long long)lr->lineno + 1, lr->end);
            return -1;
        }
        lr->buf = b;
        lr->cap = cap;
    }
    size_t want = lr->cap - lr->end - 1;
    if (want > (1u << 30))
        want = 1u << 30;
    int64_t got = fct_gzsource_read(&lr->src, lr->buf + lr->end, want);
    if (got < 0) {
        fct_lr_fail(ctx, lr);
        return -1;
    }
    if (got == 0)
        lr->eof = 1;
    lr->end += (size_t)got;
    return 0;
}

int fct_linereader_next(facto_ctx *ctx, fct_linereader *lr, char **line, size_t *len)
{
    for (;;) {
        char *nl = lr->scan < lr->end ? memchr(lr->buf + lr->scan, '\n', lr->end - lr->scan) : NULL;
        size_t stop;
        if (nl) {
            stop = (size_t)(nl - lr->buf);
        } else if (lr->eof) {
            if (lr->start == lr->end)
                return 0;
            stop = lr->end; /* last line without a line end */
        } else {
            lr->scan = lr->end;
            if (fct_lr_fill(ctx, lr) < 0)
                return -1;
            continue;
        }
        char *s = lr->buf + lr->start;
        size_t n = stop - lr->start;
        if (n > FACTO_LR_MAX_LINE) {
            fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the line is longer than %zu MiB; is this a text file?",
                       lr->path, (long long)lr->lineno + 1, FACTO_LR_MAX_LINE >> 20);
            return -1;
        }
        lr->start = lr->scan = nl ? stop + 1 : stop;
        s[n] = '\0'; /* replaces '\n', or the spare byte after the last line */
        if (n > 0 && s[n - 1] == '\r')
            s[--n] = '\0';
        lr->lineno++;
        if (lr->lineno == 1 && n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
            (unsigned char)s[2] == 0xBF) {
            s += 3;
            n -= 3;
        }
        *line = s;
        *len = n;
        return 1;
    }
}
