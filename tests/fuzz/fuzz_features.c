/* fuzz_features: the feature-table reader (facto_features_read: u.user,
 * u.item and attribute files, plain or gzip). A table that reads is walked
 * through: every row's columns must be in range and strictly ascending. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("features", data, size);
    facto_ctx *ctx = facto_ctx_new();
    facto_features *f = NULL;
    if (facto_features_read(ctx, path, &f) == FACTO_OK) {
        int32_t n_ids = facto_features_n_ids(f), n_cols = facto_features_n_columns(f);
        int32_t n_groups = facto_features_n_groups(f);
        for (int32_t c = 0; c < n_cols; c++) {
            const char *name = NULL;
            int32_t g = -1;
            if (facto_features_column(ctx, f, c, &name, &g) != FACTO_OK || !name || g < 0 || g >= n_groups)
                abort();
        }
        for (int32_t i = 0; i < n_ids; i++) {
            const uint32_t *cols = NULL;
            const float *vals = NULL;
            int32_t n = 0;
            if (facto_features_row(ctx, f, i, &cols, &vals, &n) != FACTO_OK || n < 0)
                abort();
            for (int32_t j = 0; j < n; j++)
                if (cols[j] >= (uint32_t)n_cols || (j && cols[j] <= cols[j - 1]))
                    abort();
        }
        facto_features_free(f);
    }
    facto_ctx_free(ctx);
    return 0;
}
