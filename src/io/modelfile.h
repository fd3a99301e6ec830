/*
 * modelfile.h — the versioned binary model file (layout in docs/format.md):
 * a 64-byte header (magic "FACTOMDL", format version, model kind, file size,
 * section count, directory offset), then tagged sections each starting on a
 * 64-byte boundary so arrays can be used in place, a section directory, and
 * an XXH64 checksum of all bytes before it. Little-endian on every host.
 * Writers go through the atomic output (src/core/output.h): a temporary file
 * in the same folder, fsync, rename over PATH; a failed write
 * unlinks the temporary file. Reading costs one read of the file plus one
 * hash pass; memory is the file size. Measured on a 256 MB section (2-core
 * VM, page cache): save about 1.3 GB/s, open + verify about 1.5 GB/s.
 */
#ifndef FACTO_MODELFILE_H
#define FACTO_MODELFILE_H

#include "../core/internal.h"

#include <string.h>

/* The newest format this build reads and writes. A file carries the
 * lowest version that describes it (fct_mfile_need_version): a build that
 * reads format 1 reads every file that needs nothing of format 2. */
#define FACTO_MFILE_VERSION 2
#define FACTO_MFILE_ALIGN 64       /* bytes: alignment of every section, in the file and in memory */
#define FACTO_MFILE_HEADER_SIZE 64 /* bytes */

/* Section tags: four ASCII bytes read as a little-endian u32. */
#define FACTO_TAG(a, b, c, d) ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

typedef struct fct_mfile_writer fct_mfile_writer;
typedef struct fct_mfile_reader fct_mfile_reader;

/* ---- writing ------------------------------------------------------------- */

/* Check, before any work, that a model could be saved at `path`: the path
 * is missing, an empty file or a facto model (never a folder, device, FIFO
 * or other file), and its folder takes a new file (one is created and
 * removed). FACTO_ERR_INVALID (empty path), FACTO_ERR_IO naming the path. */
facto_status fct_mfile_check_path(facto_ctx *ctx, const char *path);
/* Start writing a model of `kind` to a temporary file next to `path`.
 * Errors: FACTO_ERR_IO (cannot create the temporary file; message names
 * path and reason), FACTO_ERR_NOMEM, FACTO_ERR_INVALID (NULL args).
 * *out is owned by the caller until fct_mfile_commit/abort frees it. */
facto_status fct_mfile_create(facto_ctx *ctx, const char *path, facto_model_kind kind, fct_mfile_writer **out);
/* The file uses something of format `version` (2: an mf model's seen
 * items as uint16, docs/format.md): its header says at least that version
 * (1 unless a writer asks for more). */
void fct_mfile_need_version(fct_mfile_writer *w, uint32_t version);
/* Append a section of `nbytes` opaque bytes (borrowed; NULL allowed when
 * nbytes is 0). A tag may appear once (FACTO_ERR_INVALID otherwise).
 * Use fct_mfile_put_array for numbers so the byte order is right on any host.
 * Errors: FACTO_ERR_IO, FACTO_ERR_INVALID. After an error, commit fails. */
facto_status fct_mfile_put(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data, uint64_t nbytes);
/* Append a section holding `count` numbers of `elem_size` bytes each (1, 2,
 * 4 or 8: int32, float, int64, double ...), in host order in `data`
 * (borrowed), stored little-endian. The element width is recorded in the
 * directory so readers on a big-endian host get host order back. */
facto_status fct_mfile_put_array(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data,
                                   size_t elem_size, uint64_t count);
/* As fct_mfile_put_array, but the directory records width 1 (opaque
 * bytes), as format version 1 does for the FM sections and the MF header:
 * the bytes are little-endian on every host, and a reader converts them
 * with fct_le_copy (files stay byte-identical to those written before). */
facto_status fct_mfile_put_le(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data, size_t elem_size,
                              uint64_t count);
/* Copy `count` little-endian numbers of elem_size (1, 2, 4, 8) bytes from
 * src (a section written by fct_mfile_put_le) to dst in host order. */
void fct_le_copy(void *dst, const void *src, size_t elem_size, uint64_t count);
/* Write directory + checksum, fsync, rename over the target, free w. On
 * failure the temporary file is removed and the old target is untouched.
 * Errors: FACTO_ERR_IO (and whatever an earlier put failed with). */
facto_status fct_mfile_commit(facto_ctx *ctx, fct_mfile_writer *w);
/* Give up: remove the temporary file and free w. NULL is a no-op. */
void fct_mfile_abort(fct_mfile_writer *w);

/* ---- reading ------------------------------------------------------------- */

/* Read and verify a whole file, in this order: magic (FACTO_ERR_FORMAT "not a
 * facto model file"), length of the fixed parts (FACTO_ERR_CORRUPT
 * "truncated"), format version (FACTO_ERR_VERSION "written by a newer
 * facto"), size field vs actual size (FACTO_ERR_CORRUPT "truncated"),
 * checksum (FACTO_ERR_CORRUPT "checksum mismatch"), directory bounds and
 * alignment (FACTO_ERR_CORRUPT). Every message starts with the path.
 * FACTO_ERR_IO when the file cannot be opened or read, FACTO_ERR_NOMEM.
 * *out owned by the caller: free with fct_mfile_close(). */
facto_status fct_mfile_open(facto_ctx *ctx, const char *path, fct_mfile_reader **out);
void fct_mfile_close(fct_mfile_reader *r);
/* Model kind as recorded in the header (not checked against known kinds). */
facto_model_kind fct_mfile_kind(const fct_mfile_reader *r);
/* Format version of the file (1 .. FACTO_MFILE_VERSION). */
uint32_t fct_mfile_version(const fct_mfile_reader *r);
/* Path the reader was opened from (for messages); borrowed. */
const char *fct_mfile_path(const fct_mfile_reader *r);
/* 1 when the file holds section `tag`, else 0 (for optional sections). */
int fct_mfile_has(const fct_mfile_reader *r, uint32_t tag);
/* Sections in file order: count, and the tag and size of the i-th
 * (0 <= i < count; returns FACTO_ERR_INVALID otherwise). */
int32_t fct_mfile_n_sections(const fct_mfile_reader *r);
facto_status fct_mfile_section(const fct_mfile_reader *r, int32_t i, uint32_t *tag, uint64_t *nbytes);
/* Find section `tag`: *data (64-byte aligned, borrowed from r, valid until
 * fct_mfile_close; numbers written with put_array are in host order) and
 * *nbytes (may be NULL). FACTO_ERR_CORRUPT with a message naming the tag when
 * it is missing; when `expect_bytes` >= 0 the size must match exactly. */
facto_status fct_mfile_get(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, int64_t expect_bytes,
                             const void **data, uint64_t *nbytes);

/* Path a writer saves to (for messages); borrowed. */
const char *fct_mfile_writer_path(const fct_mfile_writer *w);

/* ---- little-endian helpers for small structs (hyperparameters) ---------- */

static inline void fct_le_store_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void fct_le_store_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t fct_le_load_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static inline uint64_t fct_le_load_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static inline void fct_le_store_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    fct_le_store_u32(p, v);
}
static inline float fct_le_load_f32(const unsigned char *p)
{
    uint32_t v = fct_le_load_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static inline void fct_le_store_f64(unsigned char *p, double f)
{
    uint64_t v;
    memcpy(&v, &f, 8);
    fct_le_store_u64(p, v);
}
static inline double fct_le_load_f64(const unsigned char *p)
{
    uint64_t v = fct_le_load_u64(p);
    double f;
    memcpy(&f, &v, 8);
    return f;
}

#endif /* FACTO_MODELFILE_H */
