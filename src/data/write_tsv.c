/*
 * write_tsv.c — a data set back to text: one line a rating,
 * user<TAB>item<TAB>rating[<TAB>timestamp], users in index order and items
 * ascending within a user. A rating is written with the fewest significant
 * digits (6 to 9) that read back to the same float, in the C locale, so
 * reading the file gives the same values bit for bit. Written to
 * "PATH.tmp.PID", fsynced and renamed over PATH ("-": standard output).
 * O(n_ratings) time, O(1) memory besides the data set.
 */
#include "dataset.h"

#include "../core/params.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The shortest "%.Ng" (N = 6..9) of v that reads back as v. */
static int fct_float_text(char *buf, size_t size, float v)
{
    for (int digits = 6; digits < 9; digits++) {
        int n = fct_format_double(buf, size, digits, (double)v);
        double back;
        if (fct_parse_double(buf, &back) && (float)back == v)
            return n;
    }
    return fct_format_double(buf, size, 9, (double)v);
}

facto_status facto_dataset_write_tsv(facto_ctx *ctx, const facto_dataset *ds, const char *path)
{
    if (!ds || !path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_write_tsv: data set and path must be given");
    int to_stdout = strcmp(path, "-") == 0;
    struct stat sb;
    if (!to_stdout && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: exists and is not a regular file; refusing to replace it", path);
    size_t plen = strlen(path);
    char *tmp = NULL;
    FILE *f = stdout;
    if (!to_stdout) {
        if (!(tmp = malloc(plen + 32)))
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
            facto_status st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            free(tmp);
            return st;
        }
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
                fct_float_text(last_text, sizeof last_text, r);
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
    if (!err && fflush(f) != 0)
        err = errno ? errno : EIO;
    if (!to_stdout) {
        if (!err && fsync(fileno(f)) != 0)
            err = errno ? errno : EIO;
        if (fclose(f) != 0 && !err)
            err = errno ? errno : EIO;
        if (!err && rename(tmp, path) != 0)
            err = errno ? errno : EIO;
        if (err)
            unlink(tmp);
    }
    facto_status st = err ? fct_fail(ctx, FACTO_ERR_IO, "%s: cannot write: %s", path, strerror(err)) : fct_ok(ctx);
    free(tmp);
    return st;
}
