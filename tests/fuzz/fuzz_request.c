/* fuzz_request: the JSON and JSON Lines inference request parser
 * (facto_inference_request_parse). Byte 0: bit 0 JSON Lines (else JSON),
 * bit 1 a feature_dim of 8 (else 0); the rest is the body. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    facto_content_type type = data[0] & 1 ? FACTO_CONTENT_JSONLINES : FACTO_CONTENT_JSON;
    uint64_t dim = data[0] & 2 ? 8 : 0;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *rows = NULL;
    if (facto_inference_request_parse(ctx, type, data + 1, size - 1, dim, &rows) == FACTO_OK) {
        if (facto_rows_count(rows) < 1 || (dim && facto_rows_dim(rows) != dim))
            abort();
        facto_rows_free(rows);
    }
    facto_ctx_free(ctx);
    return 0;
}
