/*
 * fds.h — the compact binary data set file (.fds; layout in docs/format.md):
 * CSR by user with item indices of 2 or 4 bytes, ratings as 1-byte codes
 * into a table of at most 256 values (half-stars, integer stars, binary
 * implicit) or float32, row offsets of 4 or 8 bytes, user and item ids as one
 * blob of NUL-terminated bytes plus 8-byte offsets, optional int64
 * timestamps. A sibling of the model file container (src/io/modelfile.c,
 * same conventions: 64-byte header, 24-byte directory entries, sections on
 * 64-byte boundaries, little-endian, a checksum of every byte before the
 * last 8: XXH3 64-bit in format 2, XXH64 in format 1), kept in data/
 * because a data set is built from it. Reading maps the file read-only and
 * verifies it before any use: the header and every size and offset
 * against the file, the checksum over every byte, every value.
 */
#ifndef FACTO_FDS_H
#define FACTO_FDS_H

#include "dataset.h"

#define FACTO_FDS_MAGIC "FACTOFDS"
#define FACTO_FDS_VERSION 2

typedef struct fct_fds fct_fds;

/* 1 when `path` is a regular file starting with the .fds magic, or a file of
 * 1..7 bytes that begin it (a truncated .fds: fct_fds_read says so); 0
 * otherwise (also when it cannot be read: the text reader then says why; a
 * pipe is never read here, so its bytes stay for the text reader). O(1). */
int fct_fds_sniff(const char *path);

/*
 * Map and verify `path`: magic (FACTO_ERR_FORMAT), header size and file
 * size field (FACTO_ERR_CORRUPT "truncated"), version (FACTO_ERR_VERSION),
 * checksum (FACTO_ERR_CORRUPT "checksum mismatch"), directory and section
 * bounds, alignment and sizes against the header's counts and widths
 * (FACTO_ERR_CORRUPT). FACTO_ERR_IO when it cannot be opened or mapped.
 * Messages start with the path. Cost: the mmap plus one checksum pass over
 * the file (XXH3 for format 2, XXH64 for format 1; dominated by the first
 * touch of each page). *out: free with fct_fds_close.
 */
facto_status fct_fds_open(facto_ctx *ctx, const char *path, fct_fds **out);
void fct_fds_close(fct_fds *f);

/*
 * A data set over an open file, which it takes over (closed on failure too).
 * Arrays whose stored width equals the data set's (8-byte row offsets,
 * 4-byte items, float32 ratings, timestamps) point into the mapping on a
 * little-endian host; narrower items (2 bytes) and ratings (1-byte codes)
 * stay in the mapping as ds->narrow, ds->items / ds->ratings NULL until
 * fct_dataset_wide decodes them on first use (then the narrow pages are
 * released); on other hosts everything is decoded here. Every value is
 * checked here either way. Id maps are views into the mapping (no
 * allocation per id). Every value is checked while decoding: offsets
 * non-decreasing from 0 to n_ratings, items in range and strictly ascending
 * within a user, codes below the table size, ratings finite, ids 1..255
 * bytes without NUL and distinct (FACTO_ERR_CORRUPT). When f came from
 * fct_fds_read (not fct_fds_open), the checksum is computed here, a piece
 * ahead of the item and rating checks, and compared before the id
 * sections are read ("checksum mismatch" also replaces the message of a
 * value that failed its check in a file whose checksum does not match).
 * O(file size).
 */
facto_status fct_fds_dataset(facto_ctx *ctx, fct_fds *f, facto_dataset **out);

/* facto_dataset_write_fds writing format `version` (1: XXH64 checksum, 2:
 * XXH3; 1..FACTO_FDS_VERSION, else FACTO_ERR_INVALID): the tests write
 * format 1 files through it to check they stay readable. */
facto_status fct_fds_write_version(facto_ctx *ctx, const facto_dataset *ds, const char *path, int version);

/*
 * facto_dataset_read_with_stats for a .fds file: the options' implicit flag
 * and threshold apply (a threshold builds a new data set of the kept pairs,
 * with weight 1, dropping users and items left with none); the text options
 * are ignored. Explicit data: stats count every rating as a line.
 */
facto_status fct_fds_read(facto_ctx *ctx, const char *path, const facto_read_options *opts, facto_dataset **out,
                          facto_read_stats *stats);

/*
 * A shard of a .fds file for distributed training (src/dist/): the ratings
 * of users [u0, u1), u0 = n_users * part / parts and u1 likewise for part
 * + 1, read with pread by offset (header, directory, the row offsets of the
 * shard, then its items and ratings; with `ids`, also both id sections), so
 * a rank reads its part of the file and nothing else. The file checksum
 * covers every byte and so is not verified here (a rank would have to read
 * the whole file); instead every value read is checked as fct_fds_dataset
 * checks it (FACTO_ERR_CORRUPT), and the header, directory and sizes as
 * fct_fds_open does. FACTO_ERR_IO, FACTO_ERR_FORMAT, FACTO_ERR_VERSION,
 * FACTO_ERR_NOMEM as fct_fds_open. Free with fct_fds_shard_free.
 * O(shard size) time and memory (+ O(ids) with `ids`).
 */
typedef struct fct_fds_shard {
    int32_t n_users, n_items;   /* the whole file's */
    int64_t n_ratings;          /* the whole file's */
    int32_t u0, u1;             /* this shard's users */
    int64_t *row_ptr;           /* [u1 - u0 + 1], from 0 */
    int32_t *items;             /* [row_ptr[u1 - u0]] */
    float *ratings;             /* [row_ptr[u1 - u0]] */
    facto_idmap *user_map, *item_map; /* with `ids`, else NULL */
} fct_fds_shard;

facto_status fct_fds_read_shard(facto_ctx *ctx, const char *path, int part, int parts, int ids, fct_fds_shard *out);
void fct_fds_shard_free(fct_fds_shard *s);

#endif /* FACTO_FDS_H */
