/* fuzz_model: the model file loader (facto_model_load, every kind). The
 * harness seals the bytes with a fresh XXH64 checksum (the last 8 bytes) so
 * that mutations reach the directory checks and each kind's loader instead
 * of stopping at the checksum; a model that loads is asked to predict,
 * recommend and score a row. */
#include "fuzz.h"

#include <string.h>
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    if (size >= 72) {
        uint64_t h = XXH64(b, size - 8, 0);
        for (int i = 0; i < 8; i++)
            b[size - 8 + i] = (uint8_t)(h >> (8 * i));
    }
    const char *path = fuzz_file("model", b, size);
    free(b);
    facto_ctx *ctx = facto_ctx_new();
    facto_model *m = NULL;
    if (facto_model_load(ctx, path, &m) == FACTO_OK) {
        const facto_idmap *users = facto_model_users(m), *items = facto_model_items(m);
        if (users && items) {
            int32_t nu = facto_idmap_size(users), ni = facto_idmap_size(items);
            const char *u0 = nu > 0 ? facto_idmap_name(users, 0) : "nobody";
            const char *i0 = ni > 0 ? facto_idmap_name(items, ni - 1) : "nothing";
            float score;
            int flags;
            (void)facto_model_predict(ctx, m, u0, i0, &score, &flags);
            (void)facto_model_predict(ctx, m, "no such user", i0, &score, &flags);
            facto_recommendation rec[5];
            int n_out = 0;
            if (facto_model_recommend(ctx, m, u0, 5, 0, rec, &n_out) == FACTO_OK)
                for (int j = 0; j < n_out; j++)
                    if (rec[j].item < 0 || rec[j].item >= ni)
                        abort();
        }
        if (facto_model_inputs(m) & FACTO_INPUT_ROWS) {
            facto_rows *rows = facto_rows_new(2, 0);
            float s[1];
            if (rows && facto_rows_push(ctx, rows, 1, 1.0f) == FACTO_OK &&
                facto_rows_finish_row(ctx, rows, 0.0f) == FACTO_OK)
                (void)facto_model_predict_rows(ctx, m, rows, s, NULL);
            facto_rows_free(rows);
        }
        facto_model_free(m);
    }
    facto_ctx_free(ctx);
    return 0;
}
