/* fuzz_ratings: the ratings reader (facto_dataset_read_with_stats), plain
 * and gzip. Byte 0 picks the options: bit 0 implicit, bit 1 a threshold of
 * 4 (implicit only); the rest is the file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    facto_read_options o = facto_read_options_default();
    o.implicit = data[0] & 1;
    o.implicit_threshold = (data[0] & 3) == 3 ? 4.0 : 0.0;
    const char *path = fuzz_file("ratings", data + 1, size - 1);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = NULL;
    facto_read_stats st;
    if (facto_dataset_read_with_stats(ctx, path, &o, &ds, &st) == FACTO_OK) {
        if (st.n_lines != facto_dataset_n_ratings(ds) + st.n_duplicates + st.n_below_threshold)
            abort();
        facto_dataset_free(ds);
    }
    facto_ctx_free(ctx);
    return 0;
}
