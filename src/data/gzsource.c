/*
 * gzsource.c — plain or multi-member gzip input with trailing bytes refused
 * (gzsource.h). Design: inflate with a gzip wrapper (windowBits 16 + 15)
 * over a 128 KiB input buffer; at each member's end the next two input
 * bytes decide: the end of the file (done), the gzip magic (inflateReset,
 * next member), or anything else (an error at that byte offset).
 */
#include "gzsource.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <zlib.h>

#define FCT_GZ_IN ((size_t)1 << 17)

static int64_t fct_gz_fail(fct_gzsource *s, facto_status st, int whole_file, const char *fmt, ...)
    FACTO_PRINTF(4, 5);
static int64_t fct_gz_fail(fct_gzsource *s, facto_status st, int whole_file, const char *fmt, ...)
{
    s->err_status = st;
    s->whole_file = whole_file;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Append more file bytes after the unread ones (moved to the front).
 * 0, or -1 on a read error. */
static int fct_gz_refill(fct_gzsource *s)
{
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    if (s->file_eof || s->in_len == FCT_GZ_IN)
        return 0;
    size_t got = fread(s->in + s->in_len, 1, FCT_GZ_IN - s->in_len, s->f);
    s->in_len += got;
    s->file_off += got;
    if (got == 0) {
        if (ferror(s->f)) {
            fct_gz_fail(s, FACTO_ERR_IO, 0, "cannot read: %s", strerror(errno));
            return -1;
        }
        s->file_eof = 1;
    }
    return 0;
}

facto_status fct_gzsource_open(facto_ctx *ctx, fct_gzsource *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    errno = 0;
    s->f = fopen(path, "rb");
    if (!s->f)
        return fct_fail(ctx, errno == ENOMEM ? FACTO_ERR_NOMEM : FACTO_ERR_IO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "unknown error");
    s->in = malloc(FCT_GZ_IN);
    if (!s->in) {
        fct_gzsource_close(s);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    /* the first two bytes tell gzip from plain (a pipe may give one at a time) */
    while (s->in_len < 2 && !s->file_eof)
        if (fct_gz_refill(s) < 0) {
            facto_status st = fct_fail(ctx, s->err_status, "%s: %s", path, s->err);
            fct_gzsource_close(s);
            return st;
        }
    s->is_gzip = s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
    if (s->is_gzip) {
        z_stream *zs = calloc(1, sizeof *zs);
        if (!zs || inflateInit2(zs, 16 + MAX_WBITS) != Z_OK) {
            free(zs);
            fct_gzsource_close(s);
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for gzip decompression", path);
        }
        s->zs = zs;
    }
    return FACTO_OK;
}

static int64_t fct_gz_read_plain(fct_gzsource *s, unsigned char *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (s->in_pos == s->in_len) {
            if (s->file_eof)
                break;
            s->in_pos = s->in_len = 0;
            if (fct_gz_refill(s) < 0)
                return -1;
            continue;
        }
        size_t take = s->in_len - s->in_pos < n - got ? s->in_len - s->in_pos : n - got;
        memcpy(dst + got, s->in + s->in_pos, take);
        s->in_pos += take;
        got += take;
    }
    return (int64_t)got;
}

int64_t fct_gzsource_read(fct_gzsource *s, void *dst, size_t n)
{
    if (!s->is_gzip)
        return fct_gz_read_plain(s, dst, n);
    z_stream *zs = s->zs;
    unsigned char *out = dst;
    size_t got = 0;
    while (got < n && !s->done) {
        if (s->member_end) {
            /* the end of the file, another member, or bytes that are neither */
            if (s->in_len - s->in_pos < 2 && !s->file_eof && fct_gz_refill(s) < 0)
                return -1;
            size_t left = s->in_len - s->in_pos;
            if (left == 0 && s->file_eof) {
                s->done = 1;
                break;
            }
            if (left < 2 && !s->file_eof)
                continue;
            if (left < 2 || s->in[s->in_pos] != 0x1f || s->in[s->in_pos + 1] != 0x8b)
                return fct_gz_fail(s, FACTO_ERR_PARSE, 1,
                                   "byte %llu: data after the end of the gzip stream that is not another gzip "
                                   "member (plain text appended to a compressed file? decompress it, append, "
                                   "and compress again)",
                                   (unsigned long long)(s->file_off - left));
            inflateReset(zs);
            s->member_end = 0;
        }
        if (s->in_pos == s->in_len && !s->file_eof) {
            if (fct_gz_refill(s) < 0)
                return -1;
            continue;
        }
        /* inflate is called with no input too: it may hold output not yet given */
        size_t chunk_out = n - got > (1u << 30) ? (1u << 30) : n - got;
        size_t chunk_in = s->in_len - s->in_pos;
        zs->next_in = s->in + s->in_pos;
        zs->avail_in = (uInt)chunk_in;
        zs->next_out = out + got;
        zs->avail_out = (uInt)chunk_out;
        int r = inflate(zs, Z_NO_FLUSH);
        s->in_pos += chunk_in - zs->avail_in;
        got += chunk_out - zs->avail_out;
        if (r == Z_STREAM_END) {
            s->member_end = 1;
        } else if (r == Z_BUF_ERROR || (r == Z_OK && s->file_eof && s->in_pos == s->in_len && zs->avail_out > 0)) {
            /* no progress: the file ended inside a member */
            if (s->file_eof && s->in_pos == s->in_len)
                return fct_gz_fail(s, FACTO_ERR_IO, 0, "bad gzip data (truncated or corrupt): unexpected end of file");
        } else if (r != Z_OK) {
            return fct_gz_fail(s, r == Z_MEM_ERROR ? FACTO_ERR_NOMEM : FACTO_ERR_IO, 0,
                               "bad gzip data (truncated or corrupt): %s", zs->msg ? zs->msg : "inflate failed");
        }
    }
    return (int64_t)got;
}

void fct_gzsource_close(fct_gzsource *s)
{
    if (s->zs) {
        inflateEnd(s->zs);
        free(s->zs);
    }
    if (s->f)
        fclose(s->f);
    free(s->in);
    memset(s, 0, sizeof *s);
}
