/*
 * registry.c — the MovieLens data set registry: names, where each data set
 * lives on disk (the data home + the folder its official zip unpacks to) and
 * its official split files. Downloading is in fetch.c (libfacto_fetch), so
 * libfacto itself needs no network, zip or crypto library.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Checksums: SHA-256 values are the ones TensorFlow Datasets records for these
 * exact URLs (tensorflow_datasets/url_checksums/movielens.txt, with the zip
 * sizes); MD5 values are the ones GroupLens publishes next to each zip
 * (NAME.zip.md5). ml-10m has no published SHA-256 we could find, so only its
 * MD5 is checked; ml-latest-small has no published MD5. Every fetch checks
 * every value it has and the size when known.
 */
static const fct_registry_entry fct_registry[] = {
    {"ml-100k", "ml-100k.zip", "ml-100k", "u.data", "u.item",
     "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", "0e33842e24a9c977be4e0107933c0723",
     4924029, 1},
    {"ml-1m", "ml-1m.zip", "ml-1m", "ratings.dat", "movies.dat",
     "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", "c4d9eecfca2ab87c1945afe126590906",
     5917549, 0},
    {"ml-10m", "ml-10m.zip", "ml-10M100K", "ratings.dat", "movies.dat", NULL, "ce571fd55effeba0271552578f2648bd",
     -1, 0},
    {"ml-20m", "ml-20m.zip", "ml-20m", "ratings.csv", "movies.csv",
     "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3", "cd245b17a1ae2cc31bb14903e1204af3",
     198702078, 0},
    {"ml-latest-small", "ml-latest-small.zip", "ml-latest-small", "ratings.csv", "movies.csv",
     "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", NULL, 978202, 0},
};
#define FACTO_N_REGISTRY ((int)(sizeof fct_registry / sizeof fct_registry[0]))

static const char *const fct_registry_names[] = {"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-latest-small"};
static const char *const fct_official_splits[] = {"u1", "u2", "u3", "u4", "u5", "ua", "ub"};

int facto_datasets_list(const char *const **names)
{
    if (names)
        *names = fct_registry_names;
    return FACTO_N_REGISTRY;
}

const fct_registry_entry *fct_registry_find(facto_ctx *ctx, const char *name)
{
    for (int i = 0; name && i < FACTO_N_REGISTRY; i++)
        if (strcmp(fct_registry[i].name, name) == 0)
            return &fct_registry[i];
    fct_fail(ctx, FACTO_ERR_NOT_FOUND,
               "unknown data set '%s' (known: ml-100k, ml-1m, ml-10m, ml-20m, ml-latest-small)", name ? name : "");
    return NULL;
}

facto_status fct_path_join(facto_ctx *ctx, char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size)
        return fct_fail(ctx, FACTO_ERR_INVALID, "path '%s/%s' is longer than %zu bytes", a, b, size ? size - 1 : 0);
    return FACTO_OK;
}

facto_status facto_data_home(facto_ctx *ctx, char *buf, size_t size)
{
    const char *env = getenv("FACTO_DATA_HOME");
    int n;
    if (env && *env) {
        n = snprintf(buf, size, "%s", env);
    } else if ((env = getenv("XDG_CACHE_HOME")) && *env) {
        n = snprintf(buf, size, "%s/facto", env);
    } else if ((env = getenv("HOME")) && *env) {
        n = snprintf(buf, size, "%s/.cache/facto", env);
    } else {
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "no data home: set FACTO_DATA_HOME (or XDG_CACHE_HOME or HOME) to a folder for data sets");
    }
    if (n < 0 || (size_t)n >= size)
        return fct_fail(ctx, FACTO_ERR_INVALID, "data home path is longer than %zu bytes", size ? size - 1 : 0);
    /* Drop trailing slashes (but keep "/"). */
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    return fct_ok(ctx);
}

int fct_path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int fct_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static facto_status fct_missing(facto_ctx *ctx, const fct_registry_entry *e, const char *home, const char *what)
{
    struct stat hs;
    if (stat(home, &hs) == 0 && !S_ISDIR(hs.st_mode))
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND,
                          "data set %s: the data home %s is not a folder; point FACTO_DATA_HOME at a folder", e->name,
                          home);
    return fct_fail(ctx, FACTO_ERR_NOT_FOUND,
                      "data set %s: %s is missing; run `facto datasets fetch %s`, or download %s%s and unzip it "
                      "into %s (it makes the folder %s/%s), or set FACTO_DATA_HOME to the folder that holds your "
                      "copy of %s/",
                      e->name, what, e->name, FACTO_ML_BASE_URL, e->zip, home, home, e->folder, e->folder);
}

facto_status facto_dataset_path(facto_ctx *ctx, const char *name, char *buf, size_t size)
{
    const fct_registry_entry *e = fct_registry_find(ctx, name);
    if (!e)
        return FACTO_ERR_NOT_FOUND;
    char home[FACTO_REGISTRY_PATH_MAX];
    facto_status st = facto_data_home(ctx, home, sizeof home);
    if (st != FACTO_OK)
        return st;
    if ((st = fct_path_join(ctx, buf, size, home, e->folder)) != FACTO_OK)
        return st;
    if (!fct_path_is_dir(buf))
        return fct_missing(ctx, e, home, buf);
    return fct_ok(ctx);
}

facto_status facto_dataset_split_files(facto_ctx *ctx, const char *name, const char *split, char *train_path,
                                       char *test_path, size_t size)
{
    char dir[FACTO_REGISTRY_PATH_MAX];
    facto_status st = facto_dataset_path(ctx, name, dir, sizeof dir);
    if (st != FACTO_OK)
        return st;
    const fct_registry_entry *e = fct_registry_find(ctx, name);
    char home[FACTO_REGISTRY_PATH_MAX];
    if ((st = facto_data_home(ctx, home, sizeof home)) != FACTO_OK)
        return st;
    if (size > 0)
        test_path[0] = '\0';
    if (!split || !*split || strcmp(split, "all") == 0) {
        if ((st = fct_path_join(ctx, train_path, size, dir, e->ratings)) != FACTO_OK)
            return st;
        if (!fct_is_file(train_path))
            return fct_missing(ctx, e, home, train_path);
        return fct_ok(ctx);
    }
    int known = 0;
    for (size_t i = 0; e->official_splits && i < sizeof fct_official_splits / sizeof *fct_official_splits; i++)
        known |= strcmp(split, fct_official_splits[i]) == 0;
    if (!known) {
        if (e->official_splits)
            return fct_fail(ctx, FACTO_ERR_NOT_FOUND,
                              "data set %s has no official split '%s' (it has u1..u5, ua, ub; or use "
                              "random:F, kfold:K:I, time:F)",
                              name, split);
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND,
                          "data set %s has no official split '%s' (use random:F, kfold:K:I or time:F)", name, split);
    }
    char file[64];
    snprintf(file, sizeof file, "%s.base", split);
    if ((st = fct_path_join(ctx, train_path, size, dir, file)) != FACTO_OK)
        return st;
    snprintf(file, sizeof file, "%s.test", split);
    if ((st = fct_path_join(ctx, test_path, size, dir, file)) != FACTO_OK)
        return st;
    if (!fct_is_file(train_path))
        return fct_missing(ctx, e, home, train_path);
    if (!fct_is_file(test_path))
        return fct_missing(ctx, e, home, test_path);
    return fct_ok(ctx);
}
