/* fuzz_recordio: the recordIO-protobuf reader (facto_recordio_decode, the
 * code under facto_recordio_read and the recordIO inference requests).
 * Byte 0: bit 0 a feature_dim of 64 (else 0); the rest is the data. Rows
 * that decode are encoded again and must decode to the same bytes. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint64_t dim = data[0] & 1 ? 64 : 0;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *rows = NULL;
    if (facto_recordio_decode(ctx, data + 1, size - 1, "fuzz", dim, &rows) == FACTO_OK) {
        void *enc = NULL, *enc2 = NULL;
        size_t n = 0, n2 = 0;
        facto_rows *back = NULL;
        if (facto_recordio_encode(ctx, rows, &enc, &n) == FACTO_OK) {
            if (facto_recordio_decode(ctx, enc, n, "re-encoded", 0, &back) != FACTO_OK)
                abort();
            if (facto_recordio_encode(ctx, back, &enc2, &n2) != FACTO_OK || n2 != n || memcmp(enc, enc2, n) != 0)
                abort();
        }
        facto_rows_free(back);
        facto_buffer_free(enc);
        facto_buffer_free(enc2);
        facto_rows_free(rows);
    }
    facto_ctx_free(ctx);
    return 0;
}
