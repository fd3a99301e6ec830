/*
 * idmap.c — external ids (byte strings) <-> dense 0-based indices, with a
 * uthash table (Troy D. Hanson's uthash, Debian uthash-dev). Lookup is O(1)
 * expected; names are kept in an array for index -> id.
 */
#include "dataset.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <uthash.h>

typedef struct fct_idmap_entry {
    int32_t index;
    UT_hash_handle hh;
    char key[]; /* NUL-terminated */
} fct_idmap_entry;

facto_idmap *fct_idmap_new(void)
{
    facto_idmap *m = calloc(1, sizeof(facto_idmap));
    if (m)
        m->dup = -1;
    return m;
}

static void fct_idmap_free_slots(int32_t *slots, size_t bytes)
{
    if (slots && bytes >= ((size_t)1 << 21))
        munmap(slots, bytes);
    else
        free(slots);
}

void fct_idmap_free(facto_idmap *map)
{
    if (!map)
        return;
    if (map->flat) {
        fct_idmap_free_slots(atomic_load_explicit(&map->slots, memory_order_relaxed), map->slots_bytes);
        free(map->own_blob);
        free(map->own_off64);
        free(map->off32);
        free(map);
        return;
    }
    fct_idmap_entry *e, *tmp;
    HASH_ITER(hh, map->hash, e, tmp)
    {
        HASH_DEL(map->hash, e);
        free(e);
    }
    /* names[i] point into the entries' keys: nothing more to free per name. */
    free(map->names);
    free(map);
}

/* FNV-1a, 64 bits: the flat maps' hash (ids are short). */
static uint64_t fct_idmap_fnv(const char *id, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static inline const char *fct_flat_name(const facto_idmap *map, int32_t i)
{
    return map->blob + (map->off64 ? map->off64[i] : (uint64_t)map->off32[i]);
}
static inline size_t fct_flat_len(const facto_idmap *map, int32_t i)
{
    return map->off64 ? (size_t)(map->off64[i + 1] - map->off64[i] - 1) : (size_t)(map->off32[i + 1] - map->off32[i] - 1);
}

/* One lock for every flat map's first indexing (rare, and short). */
static pthread_mutex_t fct_idmap_lock = PTHREAD_MUTEX_INITIALIZER;

/* A zeroed table: from 2 MB on in its own mapping marked for transparent
 * huge pages (on a VM each 4 KB page fault costs ~20 us, a 2 MB one the
 * same), else calloc. */
static int32_t *fct_idmap_alloc_slots(uint32_t n_slots, size_t *bytes)
{
    size_t b = (size_t)n_slots * sizeof(int32_t);
    *bytes = b;
    if (b < ((size_t)1 << 21))
        return calloc(n_slots, sizeof(int32_t));
    void *p = mmap(NULL, b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, b, MADV_HUGEPAGE);
#endif
    return p;
}

int fct_idmap_index(const facto_idmap *cmap, int32_t *dup)
{
    facto_idmap *map = (facto_idmap *)cmap; /* the table is a cache: building it does not change the map */
    if (!map || !map->flat)
        return 0;
    if (atomic_load_explicit(&map->slots, memory_order_acquire)) {
        if (dup)
            *dup = map->dup;
        return map->dup >= 0 ? -2 : 0;
    }
    pthread_mutex_lock(&fct_idmap_lock);
    int rc = 0;
    if (!atomic_load_explicit(&map->slots, memory_order_relaxed)) {
        uint32_t n_slots = 2;
        while (n_slots < (uint32_t)map->n + (uint32_t)map->n / 2 && n_slots < (1u << 31))
            n_slots *= 2;
        size_t bytes;
        int32_t *slots = fct_idmap_alloc_slots(n_slots, &bytes);
        if (!slots) {
            rc = -1;
        } else {
            uint32_t mask = n_slots - 1;
            for (int32_t i = 0; i < map->n; i++) {
                const char *name = fct_flat_name(map, i);
                size_t len = fct_flat_len(map, i);
                uint32_t s = (uint32_t)fct_idmap_fnv(name, len) & mask;
                int32_t v;
                for (; (v = slots[s]) != 0; s = (s + 1) & mask)
                    if (fct_flat_len(map, v - 1) == len && memcmp(fct_flat_name(map, v - 1), name, len) == 0)
                        break;
                if (v != 0) {
                    if (map->dup < 0)
                        map->dup = i; /* the earlier one keeps the id */
                    continue;
                }
                slots[s] = i + 1;
            }
            map->n_slots = n_slots;
            map->slots_bytes = bytes;
            atomic_store_explicit(&map->slots, slots, memory_order_release);
        }
    }
    if (rc == 0 && map->dup >= 0)
        rc = -2;
    if (dup)
        *dup = map->dup;
    pthread_mutex_unlock(&fct_idmap_lock);
    return rc;
}

static int32_t fct_idmap_flat_find(const facto_idmap *map, const char *id, size_t len)
{
    int32_t *slots = atomic_load_explicit(&((facto_idmap *)map)->slots, memory_order_acquire);
    if (!slots) {
        if (fct_idmap_index(map, NULL) == -1)
            return -1;
        slots = atomic_load_explicit(&((facto_idmap *)map)->slots, memory_order_acquire);
        if (!slots)
            return -1;
    }
    uint32_t mask = map->n_slots - 1, s = (uint32_t)fct_idmap_fnv(id, len) & mask;
    for (int32_t v; (v = slots[s]) != 0; s = (s + 1) & mask) {
        if (fct_flat_len(map, v - 1) == len && memcmp(fct_flat_name(map, v - 1), id, len) == 0)
            return v - 1;
    }
    return -1;
}

int fct_idmap_view(const char *blob, const uint64_t *off64, int own, int32_t n, facto_idmap **out)
{
    *out = NULL;
    facto_idmap *map = fct_idmap_new();
    if (!map) {
        if (own)
            free((void *)off64);
        return -1;
    }
    map->flat = 1;
    map->blob = blob;
    map->off64 = off64;
    map->own_off64 = own ? (uint64_t *)off64 : NULL;
    map->n = map->cap = n;
    *out = map;
    return 0;
}

int fct_idmap_flat(char *blob, uint32_t *off32, int32_t n, facto_idmap **out)
{
    *out = NULL;
    facto_idmap *map = fct_idmap_new();
    if (!map) {
        free(blob);
        free(off32);
        return -1;
    }
    map->flat = 1;
    map->blob = map->own_blob = blob;
    map->off32 = off32;
    map->n = map->cap = n;
    *out = map;
    return 0;
}

int fct_idmap_equal(const facto_idmap *a, const facto_idmap *b)
{
    if (a == b)
        return 1;
    if (!a || !b || a->n != b->n)
        return 0;
    if (a->flat && b->flat) {
        /* Both blobs hold their n ids back to back from offset 0 (a view's
         * offsets are checked to), each ending in its only NUL: equal blobs
         * are equal ids, unequal ones are not. */
        uint64_t na = a->off64 ? a->off64[a->n] : a->off32[a->n], nb = b->off64 ? b->off64[b->n] : b->off32[b->n];
        return na == nb && memcmp(a->blob, b->blob, (size_t)na) == 0;
    }
    for (int32_t i = 0; i < a->n; i++)
        if (strcmp(facto_idmap_name(a, i), facto_idmap_name(b, i)) != 0)
            return 0;
    return 1;
}

size_t fct_idmap_bytes(const facto_idmap *map)
{
    if (!map)
        return 0;
    size_t b = sizeof *map;
    if (map->flat) {
        if (map->own_blob)
            b += (size_t)map->off32[map->n];
        if (map->off32)
            b += ((size_t)map->n + 1) * sizeof *map->off32;
        if (map->own_off64)
            b += ((size_t)map->n + 1) * sizeof *map->own_off64;
        return b + map->slots_bytes;
    }
    fct_idmap_entry *e, *tmp;
    HASH_ITER(hh, map->hash, e, tmp)
    b += sizeof *e + strlen(e->key) + 1;
    b += (size_t)map->cap * sizeof *map->names;
    if (map->hash)
        b += map->hash->hh.tbl->num_buckets * sizeof(UT_hash_bucket) + sizeof(UT_hash_table);
    return b;
}

int32_t facto_idmap_size(const facto_idmap *map) { return map ? map->n : 0; }

int32_t fct_idmap_find_n(const facto_idmap *map, const char *id, size_t len)
{
    if (!map || !id || len == 0 || len > FACTO_MAX_ID_LEN)
        return -1;
    if (map->flat)
        return fct_idmap_flat_find(map, id, len);
    fct_idmap_entry *e = NULL;
    HASH_FIND(hh, map->hash, id, (unsigned)len, e);
    return e ? e->index : -1;
}

int32_t facto_idmap_find(const facto_idmap *map, const char *id)
{
    return id ? fct_idmap_find_n(map, id, strlen(id)) : -1;
}

const char *facto_idmap_name(const facto_idmap *map, int32_t index)
{
    if (!map || index < 0 || index >= map->n)
        return NULL;
    return map->flat ? fct_flat_name(map, index) : map->names[index];
}

int32_t fct_idmap_intern(facto_idmap *map, const char *id, size_t len)
{
    /* A NUL inside would make the stored name (a C string) differ from the key. */
    if (len == 0 || len > FACTO_MAX_ID_LEN || memchr(id, '\0', len))
        return -2;
    if (map->flat) {
        int32_t v = fct_idmap_flat_find(map, id, len);
        return v >= 0 ? v : -1; /* a flat map takes no new id */
    }
    fct_idmap_entry *e = NULL;
    HASH_FIND(hh, map->hash, id, (unsigned)len, e);
    if (e)
        return e->index;
    if (map->n == INT32_MAX)
        return -3;
    if (map->n == map->cap) {
        int32_t cap = map->cap ? (map->cap > INT32_MAX / 2 ? INT32_MAX : map->cap * 2) : 64;
        char **names = fct_realloc_array(map->names, (size_t)cap, sizeof *names);
        if (!names)
            return -1;
        map->names = names;
        map->cap = cap;
    }
    e = malloc(sizeof *e + len + 1);
    if (!e)
        return -1;
    memcpy(e->key, id, len);
    e->key[len] = '\0';
    e->index = map->n;
    HASH_ADD(hh, map->hash, key[0], (unsigned)len, e);
    map->names[map->n] = e->key;
    return map->n++;
}

facto_idmap *fct_idmap_clone_growable(const facto_idmap *map)
{
    if (!map)
        return NULL;
    facto_idmap *c = fct_idmap_new();
    if (!c)
        return NULL;
    for (int32_t i = 0; i < map->n; i++) {
        const char *name = facto_idmap_name(map, i);
        if (fct_idmap_intern(c, name, strlen(name)) != i) {
            fct_idmap_free(c);
            return NULL;
        }
    }
    return c;
}

facto_idmap *fct_idmap_clone(const facto_idmap *map)
{
    if (!map)
        return NULL;
    uint64_t total = 0;
    for (int32_t i = 0; i < map->n; i++)
        total += (map->flat ? fct_flat_len(map, i) : strlen(map->names[i])) + 1;
    if (total > UINT32_MAX)
        return fct_idmap_clone_growable(map); /* over 4 GB of ids: not worth a second flat layout */
    char *blob = malloc(total ? (size_t)total : 1);
    uint32_t *off = fct_malloc_array((size_t)map->n + 1, sizeof *off);
    if (!blob || !off) {
        free(blob);
        free(off);
        return NULL;
    }
    if (map->flat && map->off64 && map->n > 0 && map->off64[0] == 0 && map->off64[map->n] == total) {
        memcpy(blob, map->blob, (size_t)total); /* already back to back */
        for (int32_t i = 0; i <= map->n; i++)
            off[i] = (uint32_t)map->off64[i];
    } else {
        uint32_t at = 0;
        for (int32_t i = 0; i < map->n; i++) {
            const char *name = facto_idmap_name(map, i);
            size_t len = strlen(name) + 1;
            off[i] = at;
            memcpy(blob + at, name, len);
            at += (uint32_t)len;
        }
        off[map->n] = at;
    }
    facto_idmap *c = NULL;
    if (fct_idmap_flat(blob, off, map->n, &c) != 0)
        return NULL;
    /* No table: a model trained from the data set looks ids up only when it
     * serves or is evaluated (the first lookup builds it). */
    return c;
}
