/*
 * gzsource.h — a file read as plain bytes or, when it starts with the gzip
 * magic (1f 8b), as the concatenation of every gzip member in it (RFC 1952
 * 2.2: a gzip file is a series of members; `cat a.gz b.gz` is valid).
 * zlib's gzread stops silently at bytes after a member that are not another
 * member (plain text appended to a .gz file was dropped); this source
 * refuses them, naming the byte offset in the file. Used by the line reader
 * and the recordIO reader. Memory: one 128 KiB input buffer and zlib's
 * inflate state; cost O(file bytes).
 */
#ifndef FACTO_GZSOURCE_H
#define FACTO_GZSOURCE_H

#include "../core/internal.h"

#include <stdint.h>
#include <stdio.h>

typedef struct fct_gzsource {
    FILE *f;
    const char *path;      /* borrowed, for messages */
    void *zs;              /* z_stream, gzip files only */
    unsigned char *in;     /* input buffer [FCT_GZ_IN] */
    size_t in_pos, in_len; /* unread input: in[in_pos .. in_len) */
    uint64_t file_off;     /* bytes read from the file so far */
    int is_gzip;           /* the file starts with the gzip magic */
    int file_eof;          /* fread has reported the end */
    int member_end;        /* a member has just ended: another or the end must follow */
    int done;              /* no more output */
    /* after a failed read: the status, and a message without the path
     * (whole_file: about the file, "byte N: ..."; else about the data
     * being read, which the caller places, e.g. at a line) */
    facto_status err_status;
    int whole_file;
    char err[256];
} fct_gzsource;

/* Open `path` (borrowed). FACTO_ERR_IO "PATH: cannot open: ...",
 * FACTO_ERR_NOMEM. */
facto_status fct_gzsource_open(facto_ctx *ctx, fct_gzsource *s, const char *path);

/* Up to n bytes into dst; fewer only at the end. Returns the count (0 at
 * the end), or -1 on an error (s->err_status, s->err, s->whole_file). */
int64_t fct_gzsource_read(fct_gzsource *s, void *dst, size_t n);

/* Close and free; safe on a source that failed to open or a zeroed one. */
void fct_gzsource_close(fct_gzsource *s);

#endif /* FACTO_GZSOURCE_H */
