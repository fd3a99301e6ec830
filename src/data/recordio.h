/*
 * recordio.h — internal helpers of the recordIO-protobuf code shared by the
 * file reader/writer (src/data/recordio.c) and the inference formats
 * (src/serve/formats.c): a growable byte buffer, RecordIO framing of one
 * payload, and decoding a whole in-memory RecordIO stream into rows.
 * Cost: framing is O(payload bytes); decoding is O(bytes + nnz).
 */
#ifndef FACTO_RECORDIO_H
#define FACTO_RECORDIO_H

#include "../core/internal.h"
#include "rows.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fct_bytebuf {
    uint8_t *data;
    size_t len, cap;
} fct_bytebuf;

/* Make room for `extra` more bytes. FACTO_ERR_NOMEM. */
facto_status fct_bytebuf_reserve(facto_ctx *ctx, fct_bytebuf *b, size_t extra);
/* Append bytes. FACTO_ERR_NOMEM. */
facto_status fct_bytebuf_append(facto_ctx *ctx, fct_bytebuf *b, const void *data, size_t n);

/* Append one single-part RecordIO record (magic, length word with cflag 0,
 * payload, zero padding to 4 bytes). FACTO_ERR_INVALID if len >= 2^29. */
facto_status fct_recordio_frame(facto_ctx *ctx, fct_bytebuf *b, const void *payload, size_t len);

/*
 * Decode recordIO rows from memory. `keep_labels` 0 drops any labels (for
 * inference requests); `what` names a record in messages ("record" or
 * "instance"). Same rules and errors as facto_recordio_decode().
 */
facto_status fct_recordio_decode_ex(facto_ctx *ctx, const void *data, size_t size, const char *name,
                                      uint64_t feature_dim, int keep_labels, const char *what, facto_rows **out);

#endif /* FACTO_RECORDIO_H */
