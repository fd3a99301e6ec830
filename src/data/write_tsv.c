/*
 * write_tsv.c — a data set back to text: one line a rating,
 * user<TAB>item<TAB>rating[<TAB>timestamp], users in index order and items
 * ascending within a user. A rating is written as the shortest text that
 * reads back to the same float (core/numtext.c, locale-free), so reading the
 * file gives the same values bit for bit. Written through the atomic output
 * (core/output.c: temporary file, fsync, rename; "-": standard output).
 * O(n_ratings) time, O(1) memory besides the data set.
 */
#include "dataset.h"

#include "../core/numtext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

facto_status facto_dataset_write_tsv(facto_ctx *ctx, const facto_dataset *ds, const char *path)
{
    if (!ds || !path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_write_tsv: data set and path must be given");
    int to_stdout = strcmp(path, "-") == 0;
    facto_output *out = NULL;
    FILE *f = stdout;
    if (!to_stdout) {
        facto_status st = facto_output_open(ctx, path, 0, &out);
        if (st != FACTO_OK)
            return st;
        f = facto_output_stream(out);
    }
    int err = 0;
    char num[64];
    /* A value that repeats (every half-star) is formatted once. */
    float last = 0.0f;
    int have_last = 0;
    char last_text[64];
    for (int32_t u = 0; u < ds->n_users && !err; u++) {
        const char *uid = ds->user_map->names[u];
        for (int64_t k = ds->row_ptr[u]; k < ds->row_ptr[u + 1]; k++) {
            float r = ds->ratings[k];
            if (!have_last || memcmp(&r, &last, sizeof r) != 0) {
                fct_format_float_short(last_text, sizeof last_text, r);
                last = r;
                have_last = 1;
            }
            int n;
            if (ds->timestamps) {
                snprintf(num, sizeof num, "%lld", (long long)ds->timestamps[k]);
                n = fprintf(f, "%s\t%s\t%s\t%s\n", uid, ds->item_map->names[ds->items[k]], last_text, num);
            } else {
                n = fprintf(f, "%s\t%s\t%s\n", uid, ds->item_map->names[ds->items[k]], last_text);
            }
            if (n < 0) {
                err = errno ? errno : EIO;
                break;
            }
        }
    }
    if (to_stdout) {
        if (!err && fflush(f) != 0)
            err = errno ? errno : EIO;
        return err ? fct_fail(ctx, FACTO_ERR_IO, "standard output: cannot write: %s", strerror(err)) : fct_ok(ctx);
    }
    if (err) {
        facto_status st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot write: %s", path, strerror(err));
        facto_output_abort(out);
        return st;
    }
    return facto_output_commit(ctx, out);
}
