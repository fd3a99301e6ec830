/*
 * dataset.h — internal layout of id maps and rating data sets, and the COO
 * builder that every reader fills. Readers push (user, item, rating, time)
 * triplets as they stream a file; fct_dataset_from_coo() sorts them into
 * CSR by user, merges duplicate pairs (the last one in file order wins, or,
 * for implicit data, fct_dataset_build() adds their weights) and hands over
 * the id maps. Cost O(n + n_users + n_items) for n ratings.
 */
#ifndef FACTO_DATASET_H
#define FACTO_DATASET_H

#include "../core/internal.h"

#include <stdatomic.h>

struct fct_idmap_entry;

/*
 * Two layouts. A growable map (fct_idmap_new + fct_idmap_intern: the text
 * readers) keeps a uthash entry per id and `names`. A flat map is read-only
 * and allocates nothing per id: the ids lie NUL-terminated in one blob, id
 * i at blob + off(i), with the offsets either 8-byte little-endian values
 * in a mapped .fds file (off64) or an owned 4-byte array (off32); its
 * open-addressing table (slots) is built on the first lookup by id (or by
 * fct_idmap_index), once, under a lock. Read it through facto_idmap_name.
 */
struct facto_idmap {
    struct fct_idmap_entry *hash; /* uthash head: id -> index (growable maps) */
    char **names;                   /* growable maps: [n] NUL-terminated ids owned by the entries; NULL when flat */
    int32_t n, cap;
    int flat;                       /* 1: a flat map */
    int dup;                        /* flat: index of an id equal to an earlier one, found when indexing, else -1 */
    const char *blob;               /* flat: the ids */
    const uint64_t *off64;          /* flat: [n + 1] offsets into blob (a view of a mapping, or own_off64) */
    uint32_t *off32;                /* flat: [n + 1] offsets into blob (owned), when off64 is NULL */
    char *own_blob;                 /* flat: blob when owned, else NULL */
    uint64_t *own_off64;            /* flat: off64 when owned (decoded on a big-endian host), else NULL */
    int32_t *_Atomic slots;         /* flat: [n_slots] index + 1 (0 = empty), NULL until indexed */
    uint32_t n_slots;               /* flat: a power of two >= 1.5 n, set with slots */
    size_t slots_bytes;             /* flat: bytes allocated for slots */
};

facto_idmap *fct_idmap_new(void);
void fct_idmap_free(facto_idmap *map);
/* Index of the id (len bytes, need not be NUL-terminated), adding it when
 * missing. Returns -1 when out of memory, -2 when len is 0 or > FACTO_MAX_ID_LEN
 * or the id holds a NUL byte, -3 when the map is full (2^31-1 ids). A flat
 * map takes no new id: -1 for an id it does not hold. */
int32_t fct_idmap_intern(facto_idmap *map, const char *id, size_t len);
/* Like facto_idmap_find with a length. */
int32_t fct_idmap_find_n(const facto_idmap *map, const char *id, size_t len);
/* A flat copy with the same ids at the same indices (one blob, one offset
 * array: about (id bytes + 5) a map entry, against ~90 for a growable one;
 * the lookup table comes on the first lookup); NULL when out of memory or
 * map is NULL. O(id bytes). */
facto_idmap *fct_idmap_clone(const facto_idmap *map);
/* A growable copy (fct_idmap_intern adds to it). */
facto_idmap *fct_idmap_clone_growable(const facto_idmap *map);
/*
 * A flat map over n ids that live elsewhere (a mapped .fds file): id i is
 * the NUL-terminated string at blob + off64[i] (off64: [n + 1] native
 * integers, kept by reference when `own` is 0, else taken over and freed
 * with the map); the caller has checked that every id is 1..FACTO_MAX_ID_LEN
 * bytes and NUL-terminated. Returns 0 or -1 when out of memory. O(1): no
 * per-id work until the first lookup.
 */
int fct_idmap_view(const char *blob, const uint64_t *off64, int own, int32_t n, facto_idmap **out);
/* A flat map that takes over blob (n NUL-terminated ids, back to back) and
 * off32 ([n + 1], off32[n] = blob bytes). -1 when out of memory (both freed). */
int fct_idmap_flat(char *blob, uint32_t *off32, int32_t n, facto_idmap **out);
/* Build a flat map's lookup table now, if not yet (a no-op for a growable
 * map). Returns 0, -1 when out of memory, -2 when two ids are equal (*dup =
 * the later index). Thread-safe. O(id bytes) the first time. */
int fct_idmap_index(const facto_idmap *map, int32_t *dup);
/* 1 when both maps hold the same ids at the same indices. O(id bytes). */
int fct_idmap_equal(const facto_idmap *a, const facto_idmap *b);
/* Bytes a map holds (blob, offsets, table, entries): for reports and tests. */
size_t fct_idmap_bytes(const facto_idmap *map);

/* The narrow arrays of a data set read from a .fds file, inside its mapping
 * (little-endian hosts): item indices of item_w bytes, ratings as 1-byte
 * codes into table (codes non-NULL) or float32 (rates). Checked at read time
 * like the wide ones. item_w 0: the data set has no narrow form. */
typedef struct fct_narrow {
    int item_w;                  /* 2 or 4 (uint16 / uint32 indices), 0: none */
    const void *items;           /* [n_ratings] */
    const uint8_t *codes;        /* [n_ratings] codes, or NULL: rates */
    const float *rates;          /* [n_ratings] float ratings when codes is NULL */
    uint64_t items_bytes, rates_bytes; /* section sizes (released after widening) */
    float table[256];            /* codes' values */
} fct_narrow;

struct facto_dataset {
    int32_t n_users, n_items;
    int64_t n_ratings;
    int64_t *row_ptr;    /* [n_users + 1] */
    int32_t *items;      /* [n_ratings], ascending within a user */
    float *ratings;      /* [n_ratings] */
    int64_t *timestamps; /* [n_ratings] or NULL */
    facto_idmap *user_map, *item_map; /* owned */
    float min_rating, max_rating;
    struct fct_fds *fds; /* the mapped .fds file the arrays or id maps point into (owned), or NULL */
    unsigned borrowed;   /* FCT_DS_BORROW_* bits: arrays inside the mapping, not freed */
    float *weights;      /* [n_ratings] per-rating loss weights (facto_dataset_set_weights), or NULL; owned */
    fct_narrow narrow;   /* a .fds data set's narrow arrays; items / ratings stay NULL until
                            fct_dataset_wide (MF's blocked SGD trains from the narrow form) */
};

/*
 * Make ds->items and ds->ratings available (decoded from the narrow arrays
 * of a .fds data set on first use; a no-op otherwise). Every entry point
 * that reads them calls this first; thread-safe. FACTO_ERR_NOMEM.
 * O(n_ratings) the first time.
 */
facto_status fct_dataset_wide(facto_ctx *ctx, const facto_dataset *ds);
/* Item index and rating x of a data set, from the wide arrays when present,
 * else from the narrow ones (for passes that read each rating once). */
static inline int32_t fct_ds_item(const facto_dataset *ds, int64_t x)
{
    if (ds->items)
        return ds->items[x];
    return ds->narrow.item_w == 2 ? (int32_t)((const uint16_t *)ds->narrow.items)[x]
                                  : ((const int32_t *)ds->narrow.items)[x];
}
static inline float fct_ds_rating(const facto_dataset *ds, int64_t x)
{
    if (ds->ratings)
        return ds->ratings[x];
    return ds->narrow.codes ? ds->narrow.table[ds->narrow.codes[x]] : ds->narrow.rates[x];
}

/* Give back the pages of a .fds data set's narrow arrays holding ratings
 * [x0, x1) (a pass that reads each rating once, over a file larger than
 * what it keeps); a no-op for other data sets. */
void fct_dataset_release(const facto_dataset *ds, int64_t x0, int64_t x1);
/* Give back the whole pages inside [p, p + n) of a read-only file mapping
 * (they are read again from the file if touched). */
void fct_release_mapped(const void *p, uint64_t n);

/* The sum of the ratings in double with the bits of adding them one by one
 * in CSR order (facto_dataset_mean_rating's sum), a .fds data set's narrow
 * ratings read as stored. When every partial sum is exact in double (the
 * ratings multiples of 2^L, n * max |r| < 2^(52 + L): half stars, integer
 * stars, codes or floats alike) the order does not matter and pieces are
 * summed over n_threads; otherwise one thread adds them in order.
 * O(n_ratings). */
double fct_dataset_rating_sum(const facto_dataset *ds, int n_threads);

/* How the ratings spread around `mean` and how many users and items hold
 * at least one: *sd = sqrt(sum (r - mean)^2 / n_ratings), summed in double
 * over fixed pieces added in order (the same bits for any n_threads),
 * *users_rated and *items_rated the users and items with a rating (a map
 * may name more, e.g. a split's parent's). A .fds data set's narrow arrays
 * are read as stored. FACTO_ERR_NOMEM (one byte an item for the marks).
 * O(n_ratings + n_users + n_items) over n_threads. */
facto_status fct_dataset_spread(facto_ctx *ctx, const facto_dataset *ds, double mean, int n_threads, double *sd,
                                int32_t *users_rated, int32_t *items_rated);

#define FCT_DS_BORROW_ROWS 1u
#define FCT_DS_BORROW_ITEMS 2u
#define FCT_DS_BORROW_RATINGS 4u
#define FCT_DS_BORROW_TIMES 8u

/* Growable triplet list filled by readers. */
typedef struct fct_coo {
    int32_t *users;
    int32_t *items;
    float *ratings;
    int64_t *timestamps; /* NULL until the first push with has_time */
    int64_t n, cap;
    int has_time;
} fct_coo;

void fct_coo_init(fct_coo *coo);
void fct_coo_free(fct_coo *coo);
/* Append one triplet; timestamp is kept when has_time. FACTO_ERR_NOMEM on failure. */
facto_status fct_coo_push(facto_ctx *ctx, fct_coo *coo, int32_t user, int32_t item, float rating,
                            int has_time, int64_t timestamp);

/*
 * Build a data set from triplets. Takes ownership of `users` and `items` maps
 * (freed on failure too); `coo` is left untouched (caller frees it). n_users
 * and n_items are the map sizes. *n_duplicates (may be NULL) receives how many
 * triplets were dropped because a later one had the same (user, item).
 * FACTO_ERR_INTERNAL when a triplet's index is outside the maps; FACTO_ERR_NOMEM.
 */
facto_status fct_dataset_from_coo(facto_ctx *ctx, const fct_coo *coo, facto_idmap *users, facto_idmap *items,
                                    facto_dataset **out, int64_t *n_duplicates);

/* How fct_dataset_build merges the triplets of one (user, item) pair. */
typedef struct fct_merge {
    int sum;          /* 0: the last triplet in push order wins, with its timestamp (explicit
                         ratings); 1: the weights add up (in double, stored as float) and the
                         latest timestamp is kept (implicit interactions) */
    double threshold; /* sum only: > 0 keeps the pairs whose summed weight is >= threshold,
                         each with weight 1, and drops the others; 0 keeps every pair */
} fct_merge;

/* What fct_dataset_build did besides building: every count may be NULL. */
typedef struct fct_merge_counts {
    int64_t n_duplicates; /* triplets merged into a pair that came before them */
    int64_t n_below;      /* pairs dropped by the threshold */
    int32_t n_users_dropped, n_items_dropped; /* ids left with no pair: not in the data set */
} fct_merge_counts;

/*
 * fct_dataset_from_coo with a merge rule (NULL: the last wins, as
 * fct_dataset_from_coo). When the threshold drops pairs, users and items left
 * with none are removed from the id maps (the others keep their relative
 * order), so the data set's maps stay compact. *counts (may be NULL) is
 * filled on success. Errors as fct_dataset_from_coo, plus FACTO_ERR_PARSE
 * when a pair's weights add up to more than a float holds (the message names
 * the user and the item, not the file) and FACTO_ERR_EMPTY when the threshold
 * drops every pair.
 */
facto_status fct_dataset_build(facto_ctx *ctx, const fct_coo *coo, facto_idmap *users, facto_idmap *items,
                               const fct_merge *merge, facto_dataset **out, fct_merge_counts *counts);

#endif /* FACTO_DATASET_H */
