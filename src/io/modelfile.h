/*
 * modelfile.h — the versioned binary model file (layout in docs/format.md):
 * a 64-byte header (magic "FACTOMDL", format version, model kind), then
 * tagged sections each starting on a 64-byte boundary so arrays can be used
 * in place after mmap, a section directory, and an xxHash64 checksum of all
 * bytes before it. Little-endian. Writers go to "PATH.tmp.PID", fsync, then
 * rename over PATH; a failed write unlinks the temporary file.
 */
#ifndef FACTO_MODELFILE_H
#define FACTO_MODELFILE_H

#include "../core/internal.h"

#define FACTO_MFILE_VERSION 1

/* Section tags: four ASCII bytes read as a little-endian u32. */
#define FACTO_TAG(a, b, c, d) ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

typedef struct facto_mfile_writer facto_mfile_writer;
typedef struct facto_mfile_reader facto_mfile_reader;

/* Start writing a model of `kind` to a temporary file next to `path`. */
facto_status facto_mfile_create(facto_ctx *ctx, const char *path, facto_model_kind kind, facto_mfile_writer **out);
/* Append a section of `nbytes` bytes (borrowed). A tag may appear once. */
facto_status facto_mfile_put(facto_ctx *ctx, facto_mfile_writer *w, uint32_t tag, const void *data, uint64_t nbytes);
/* Write directory + checksum, fsync, rename over the target, free w. On
 * failure the temporary file is removed and the old target is untouched. */
facto_status facto_mfile_commit(facto_ctx *ctx, facto_mfile_writer *w);
/* Give up: remove the temporary file and free w. NULL is a no-op. */
void facto_mfile_abort(facto_mfile_writer *w);

/* Read and verify a whole file (magic, version, sizes, checksum). */
facto_status facto_mfile_open(facto_ctx *ctx, const char *path, facto_mfile_reader **out);
void facto_mfile_close(facto_mfile_reader *r);
facto_model_kind facto_mfile_kind(const facto_mfile_reader *r);
/* Path the reader was opened from (for messages); borrowed. */
const char *facto_mfile_path(const facto_mfile_reader *r);
/* Find section `tag`: *data (64-byte aligned, borrowed from r) and *nbytes.
 * FACTO_ERR_CORRUPT with a message naming the tag when it is missing;
 * when `expect_bytes` >= 0 the size must match exactly. */
facto_status facto_mfile_get(facto_ctx *ctx, const facto_mfile_reader *r, uint32_t tag, int64_t expect_bytes,
                             const void **data, uint64_t *nbytes);

/* Id maps as a section: u32 count, then per id u8 length + bytes. */
facto_status facto_mfile_put_idmap(facto_ctx *ctx, facto_mfile_writer *w, uint32_t tag, const facto_idmap *map);
facto_status facto_mfile_get_idmap(facto_ctx *ctx, const facto_mfile_reader *r, uint32_t tag, facto_idmap **out);

#endif /* FACTO_MODELFILE_H */
