/*
 * idmap.c — external ids (byte strings) <-> dense 0-based indices, with a
 * uthash table (Troy D. Hanson's uthash, Debian uthash-dev). Lookup is O(1)
 * expected; names are kept in an array for index -> id.
 */
#include "dataset.h"

#include <string.h>
#include <uthash.h>

typedef struct fct_idmap_entry {
    int32_t index;
    UT_hash_handle hh;
    char key[]; /* NUL-terminated */
} fct_idmap_entry;

facto_idmap *fct_idmap_new(void) { return calloc(1, sizeof(facto_idmap)); }

void fct_idmap_free(facto_idmap *map)
{
    if (!map)
        return;
    if (map->n_slots) {
        free(map->slots);
        free(map->names);
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

/* FNV-1a, 64 bits: the view's hash (ids are short). */
static uint64_t fct_idmap_fnv(const char *id, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int32_t fct_idmap_view_find(const facto_idmap *map, const char *id, size_t len)
{
    uint32_t mask = map->n_slots - 1, s = (uint32_t)fct_idmap_fnv(id, len) & mask;
    for (int32_t v; (v = map->slots[s]) != 0; s = (s + 1) & mask) {
        const char *name = map->names[v - 1];
        if (memcmp(name, id, len) == 0 && name[len] == '\0')
            return v - 1;
    }
    return -1;
}

int fct_idmap_view(char **names, int32_t n, facto_idmap **out, int32_t *dup)
{
    *out = NULL;
    uint32_t n_slots = 2;
    while (n_slots < 2u * (uint32_t)n && n_slots < (1u << 31))
        n_slots *= 2;
    facto_idmap *map = calloc(1, sizeof *map);
    int32_t *slots = fct_calloc_array(n_slots, sizeof *slots);
    if (!map || !slots) {
        free(map);
        free(slots);
        free(names);
        return -1;
    }
    uint32_t mask = n_slots - 1;
    for (int32_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        uint32_t s = (uint32_t)fct_idmap_fnv(names[i], len) & mask;
        for (int32_t v; (v = slots[s]) != 0; s = (s + 1) & mask)
            if (strcmp(names[v - 1], names[i]) == 0) {
                if (dup)
                    *dup = i;
                free(map);
                free(slots);
                free(names);
                return -2;
            }
        slots[s] = i + 1;
    }
    map->names = names;
    map->n = map->cap = n;
    map->slots = slots;
    map->n_slots = n_slots;
    *out = map;
    return 0;
}

int32_t facto_idmap_size(const facto_idmap *map) { return map ? map->n : 0; }

int32_t fct_idmap_find_n(const facto_idmap *map, const char *id, size_t len)
{
    if (!map || !id || len == 0 || len > FACTO_MAX_ID_LEN)
        return -1;
    if (map->n_slots)
        return fct_idmap_view_find(map, id, len);
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
    return map->names[index];
}

int32_t fct_idmap_intern(facto_idmap *map, const char *id, size_t len)
{
    /* A NUL inside would make the stored name (a C string) differ from the key. */
    if (len == 0 || len > FACTO_MAX_ID_LEN || memchr(id, '\0', len))
        return -2;
    if (map->n_slots) {
        int32_t v = fct_idmap_view_find(map, id, len);
        return v >= 0 ? v : -1; /* a view takes no new id */
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

facto_idmap *fct_idmap_clone(const facto_idmap *map)
{
    if (!map)
        return NULL;
    facto_idmap *c = fct_idmap_new();
    if (!c)
        return NULL;
    for (int32_t i = 0; i < map->n; i++) {
        if (fct_idmap_intern(c, map->names[i], strlen(map->names[i])) != i) {
            fct_idmap_free(c);
            return NULL;
        }
    }
    return c;
}
