/*
 * registry.h — the data set registry as registry.c (names, paths, split
 * files; in libfacto) and fetch.c (downloads; in libfacto_fetch) share it.
 */
#ifndef FACTO_REGISTRY_H
#define FACTO_REGISTRY_H

#include "../core/internal.h"

#define FACTO_REGISTRY_PATH_MAX 4096

#define FACTO_ML_BASE_URL "https://files.grouplens.org/datasets/movielens/"

/* One data set: where its zip is, what it unpacks to, how to check it. */
typedef struct fct_registry_entry {
    const char *name;
    const char *zip;      /* file name under FACTO_ML_BASE_URL */
    const char *folder;   /* folder the zip unpacks to */
    const char *ratings;  /* ratings file inside the folder */
    const char *titles;   /* titles file inside the folder */
    const char *sha256;   /* hex, or NULL when unknown */
    const char *md5;      /* hex, or NULL when unknown */
    int64_t zip_bytes;    /* expected size in bytes, or -1 */
    int official_splits;  /* 1: u1..u5, ua, ub as NAME.base / NAME.test */
} fct_registry_entry;

/* The entry named `name`; NULL (and FACTO_ERR_NOT_FOUND in ctx) when unknown. */
const fct_registry_entry *fct_registry_find(facto_ctx *ctx, const char *name);
/* buf = "a/b"; FACTO_ERR_INVALID when it does not fit in `size` bytes. */
facto_status fct_path_join(facto_ctx *ctx, char *buf, size_t size, const char *a, const char *b);
/* 1 when `path` is a folder (symlinks followed), else 0. */
int fct_path_is_dir(const char *path);

/*
 * In fetch.c (libfacto_fetch): download `url` into dest_dir/FOLDER, checking
 * the size (when expect_bytes >= 0) and each checksum given (hex; NULL skips
 * it). Used by facto_dataset_fetch and by the tests (with file:// URLs).
 */
facto_status fct_fetch_zip(facto_ctx *ctx, const char *url, const char *sha256, const char *md5,
                           int64_t expect_bytes, const char *dest_dir, const char *folder);

#endif /* FACTO_REGISTRY_H */
