/* fuzz_libsvm: the libsvm reader (facto_libsvm_read). Byte 0: bit 0 the
 * index base (0 or 1), bit 1 a feature_dim of 64 (else 0: taken from the
 * data); the rest is the file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int base = data[0] & 1;
    uint64_t dim = data[0] & 2 ? 64 : 0;
    const char *path = fuzz_file("libsvm", data + 1, size - 1);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *rows = NULL;
    if (facto_libsvm_read(ctx, path, dim, base, &rows) == FACTO_OK) {
        if (facto_rows_count(rows) < 1 || (dim && facto_rows_dim(rows) != dim))
            abort();
        facto_rows_free(rows);
    }
    facto_ctx_free(ctx);
    return 0;
}
