/*
 * fds.c — reader and writer of the .fds data set file (layout in
 * docs/format.md, conventions of the model file container). The writer
 * knows every section's size before it starts, so it writes header,
 * directory and sections in one pass through the atomic output
 * (core/output.c: temporary file, fsync, rename), hashing as it goes (format
 * 2: XXH3 64-bit; format 1, still read and written for tests: XXH64 seed 0),
 * and appends the hash; any failure leaves the old file. The reader maps the
 * file read-only, checks the header and directory, then decodes or borrows
 * each array while checking every value a later index could trip over,
 * hashing the file a 64 KB piece ahead of those checks so they read cached
 * bytes; the checksum is compared before the id sections are read and
 * before the data set is returned. Cost: O(file size) time for both; the
 * writer holds a 64 KB encoding buffer besides the data set, the reader the
 * narrow arrays it widens and one lookup table an id map (see fds.h).
 */
#include "fds.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define FDS_HEADER 64
#define FDS_ALIGN 64
#define FDS_DIRENT 24
#define FDS_HASH 8
#define FDS_MAX_SECTIONS 64
#define FDS_MAX_CODES 256

#define FDS_TAG(a, b, c, d) ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define TAG_ROWS FDS_TAG('R', 'O', 'W', 'S')
#define TAG_ITEM FDS_TAG('I', 'T', 'E', 'M')
#define TAG_RATE FDS_TAG('R', 'A', 'T', 'E')
#define TAG_CODE FDS_TAG('C', 'O', 'D', 'E')
#define TAG_TIME FDS_TAG('T', 'I', 'M', 'E')
#define TAG_UOFF FDS_TAG('U', 'O', 'F', 'F')
#define TAG_UIDS FDS_TAG('U', 'I', 'D', 'S')
#define TAG_IOFF FDS_TAG('I', 'O', 'F', 'F')
#define TAG_IIDS FDS_TAG('I', 'I', 'D', 'S')

enum { S_ROWS, S_ITEM, S_RATE, S_CODE, S_TIME, S_UOFF, S_UIDS, S_IOFF, S_IIDS, S_COUNT };
static const uint32_t fds_tags[S_COUNT] = {TAG_ROWS, TAG_ITEM, TAG_RATE, TAG_CODE, TAG_TIME,
                                           TAG_UOFF, TAG_UIDS, TAG_IOFF, TAG_IIDS};

/* ---- little-endian helpers ---------------------------------------------- */

static void le_put(unsigned char *p, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t le_get(const unsigned char *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static int host_le(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

/* ======================================================================
 * Reader
 * ====================================================================== */

typedef struct fds_sec {
    const unsigned char *p; /* NULL when absent (always NULL in a shard read: no mapping) */
    uint64_t off;           /* file offset */
    int present;
    uint64_t size;
    uint32_t width;
} fds_sec;

struct fct_fds {
    char *path;
    unsigned char *base;
    size_t size;
    int32_t n_users, n_items;
    int64_t n_ratings;
    int item_w, row_w, rate_w;
    uint32_t n_codes;
    fds_sec sec[S_COUNT];
    const unsigned char *dir; /* a shard read: the directory read into memory (else it is read in the mapping) */
    uint32_t version;
    int verified;             /* 1 once the checksum has been checked (fct_fds_open), 0: fct_fds_dataset checks it */
};

/* The checksum of the bytes before the last 8, computed in file order in
 * pieces (so a check can read each piece while it is in cache). */
typedef struct fds_hasher {
    const fct_fds *f;
    XXH64_state_t *s64;
    XXH3_state_t *s3;
    uint64_t at; /* bytes hashed */
} fds_hasher;

#define FDS_HASH_PIECE ((uint64_t)1 << 16)

static void fds_hash_to(fds_hasher *h, uint64_t end)
{
    uint64_t body = h->f->size - FDS_HASH;
    end = end < body ? end : body;
    if (end <= h->at)
        return;
    if (h->s64)
        XXH64_update(h->s64, h->f->base + h->at, (size_t)(end - h->at));
    else
        XXH3_64bits_update(h->s3, h->f->base + h->at, (size_t)(end - h->at));
    h->at = end;
}

/* Hash up to byte `need`, a piece ahead, so the caller then reads bytes in cache. */
static inline void fds_hash_ahead(fds_hasher *h, uint64_t need)
{
    if (need > h->at)
        fds_hash_to(h, need + FDS_HASH_PIECE);
}

static uint64_t fds_hash_digest(fds_hasher *h)
{
    fds_hash_to(h, h->f->size - FDS_HASH);
    return h->s64 ? XXH64_digest(h->s64) : XXH3_64bits_digest(h->s3);
}

static int fds_hasher_init(fds_hasher *h, const fct_fds *f)
{
    memset(h, 0, sizeof *h);
    h->f = f;
    if (f->version == 1) {
        if (!(h->s64 = XXH64_createState()))
            return -1;
        XXH64_reset(h->s64, 0);
    } else {
        if (!(h->s3 = XXH3_createState()))
            return -1;
        XXH3_64bits_reset(h->s3);
    }
    return 0;
}

static void fds_hasher_free(fds_hasher *h)
{
    if (h->s64)
        XXH64_freeState(h->s64);
    if (h->s3)
        XXH3_freeState(h->s3);
    h->s64 = NULL;
    h->s3 = NULL;
}

/* The whole file's checksum against the stored one: FACTO_OK or "checksum mismatch". */
static facto_status fds_check_sum(facto_ctx *ctx, const fct_fds *f, uint64_t computed)
{
    uint64_t stored = le_get(f->base + f->size - FDS_HASH, 8);
    if (stored == computed)
        return FACTO_OK;
    return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: checksum mismatch (stored %016llx, "
                    "computed %016llx)", f->path, (unsigned long long)stored, (unsigned long long)computed);
}

/* Format 1: XXH64 (seed 0); format 2: XXH3 64-bit (cheaper per byte). */
static uint64_t fds_sum(const fct_fds *f)
{
    return f->version == 1 ? XXH64(f->base, f->size - FDS_HASH, 0) : XXH3_64bits(f->base, f->size - FDS_HASH);
}

/* 1 when the n (1..8) bytes at head are the magic's first n. */
static int fds_magic_prefix(const unsigned char *head, size_t n)
{
    return n >= 1 && n <= 8 && memcmp(head, FACTO_FDS_MAGIC, n) == 0;
}

int fct_fds_sniff(const char *path)
{
    unsigned char head[8];
    struct stat sb;
    /* Only a regular file: reading from a pipe would eat the text's first bytes. */
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    /* a whole file of 1..7 bytes that begin the magic: a truncated .fds (fds_open says so), not text */
    return got > 0 && fds_magic_prefix(head, (size_t)got);
}

void fct_fds_close(fct_fds *f)
{
    if (!f)
        return;
    if (f->base)
        munmap(f->base, f->size);
    free(f->path);
    free(f);
}

/* An array the data set frees with free(): large ones 2 MB aligned and
 * marked for transparent huge pages, so filling them takes 1/512 of the
 * page faults (on a VM a fault costs microseconds: 160 MB of 4 KB pages
 * cost 0.3-0.4 s, the whole decode of MovieLens-20M's shape). */
static void *fds_alloc(size_t n, size_t size)
{
    if (n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    const size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge)
        return malloc(bytes ? bytes : 1);
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, (bytes + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
#endif
    return p;
}


static facto_status fds_corrupt(facto_ctx *ctx, const char *path, const char *what)
{
    return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s", path, what);
}

/* The code table (n little-endian float32 bit patterns at p) into table:
 * every value finite and the bit patterns strictly ascending, as the
 * writer makes them (docs/format.md), so no two codes stand for one value
 * and a crafted table cannot hide a NaN behind a code that is never used. */
static facto_status fds_code_table(facto_ctx *ctx, const char *path, const unsigned char *p, uint32_t n,
                                   float *table)
{
    uint32_t prev = 0;
    for (uint32_t c = 0; c < n; c++) {
        uint32_t b = (uint32_t)le_get(p + 4 * c, 4);
        memcpy(&table[c], &b, 4);
        if (!isfinite(table[c]))
            return fds_corrupt(ctx, path, "a rating code stands for a value that is not a finite number");
        if (c > 0 && b <= prev)
            return fds_corrupt(ctx, path, "the rating code table is not in ascending order of its values' bits");
        prev = b;
    }
    return FACTO_OK;
}

/* The directory and the sections' sizes against the header. */
static facto_status fds_check_dir(facto_ctx *ctx, fct_fds *f, uint32_t n_sec, uint64_t dir_off)
{
    const char *path = f->path;
    uint64_t body = f->size - FDS_HASH;
    if (n_sec > FDS_MAX_SECTIONS)
        return fds_corrupt(ctx, path, "the header counts more than 64 sections");
    if (dir_off % 8 != 0 || dir_off < FDS_HEADER || dir_off > body || (uint64_t)n_sec * FDS_DIRENT > body - dir_off)
        return fds_corrupt(ctx, path, "the section directory lies outside the file");
    for (uint32_t i = 0; i < n_sec; i++) {
        const unsigned char *e = (f->dir ? f->dir : f->base + dir_off) + (uint64_t)i * FDS_DIRENT;
        uint32_t tag = (uint32_t)le_get(e, 4), width = (uint32_t)le_get(e + 4, 4);
        uint64_t off = le_get(e + 8, 8), size = le_get(e + 16, 8);
        if (off % FDS_ALIGN != 0 || off > body || size > body - off)
            return fds_corrupt(ctx, path, "a section lies outside the file or off its 64-byte boundary");
        if (width != 1 && width != 2 && width != 4 && width != 8)
            return fds_corrupt(ctx, path, "a section has an element width other than 1, 2, 4 or 8");
        for (int s = 0; s < S_COUNT; s++)
            if (fds_tags[s] == tag) {
                if (f->sec[s].present)
                    return fds_corrupt(ctx, path, "a section appears twice");
                f->sec[s].p = f->base ? f->base + off : NULL;
                f->sec[s].off = off;
                f->sec[s].present = 1;
                f->sec[s].size = size;
                f->sec[s].width = width;
            }
        /* Unknown tags are skipped: a later minor addition stays readable. */
    }
    struct {
        int s;
        uint64_t count;
        uint32_t width;
        int required;
    } want[] = {
        {S_ROWS, (uint64_t)f->n_users + 1, (uint32_t)f->row_w, 1},
        {S_ITEM, (uint64_t)f->n_ratings, (uint32_t)f->item_w, 1},
        {S_RATE, (uint64_t)f->n_ratings, (uint32_t)f->rate_w, 1},
        {S_CODE, f->n_codes, 4, f->rate_w == 1},
        {S_TIME, (uint64_t)f->n_ratings, 8, 0},
        {S_UOFF, (uint64_t)f->n_users + 1, 8, 1},
        {S_IOFF, (uint64_t)f->n_items + 1, 8, 1},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const fds_sec *s = &f->sec[want[k].s];
        if (!s->present) {
            if (want[k].required)
                return fds_corrupt(ctx, path, "a required section is missing");
            continue;
        }
        if (s->width != want[k].width || s->size / want[k].width != want[k].count || s->size % want[k].width != 0)
            return fds_corrupt(ctx, path, "a section's size does not match the header's counts and widths");
    }
    if (!f->sec[S_UIDS].present || !f->sec[S_IIDS].present || f->sec[S_UIDS].width != 1 || f->sec[S_IIDS].width != 1)
        return fds_corrupt(ctx, path, "an id section is missing");
    return FACTO_OK;
}

/* fct_fds_open; with verify 0 the checksum is left to fct_fds_dataset (which
 * computes it in step with its checks), except that a header or directory
 * that fails its checks is reported as a checksum mismatch when it is one. */
static facto_status fds_open(facto_ctx *ctx, const char *path, fct_fds **out, int verify)
{
    *out = NULL;
    fct_fds *f = calloc(1, sizeof *f);
    size_t plen = strlen(path);
    if (!f || !(f->path = malloc(plen + 1))) {
        free(f);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(f->path, path, plen + 1);
    facto_status st = FACTO_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    if (sb.st_size < FDS_HEADER + FDS_HASH) {
        unsigned char head[8];
        ssize_t got = read(fd, head, sb.st_size < 8 ? (size_t)sb.st_size : 8);
        if (got <= 0 || got != (sb.st_size < 8 ? sb.st_size : 8) || !fds_magic_prefix(head, (size_t)got))
            st = fct_fail(ctx, FACTO_ERR_FORMAT, "%s: not a facto data set file", path);
        else if (got < 8)
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: truncated to %d byte%s (the start "
                                                  "of the magic " FACTO_FDS_MAGIC ")", path, (int)got,
                          got == 1 ? "" : "s");
        else
            st = fds_corrupt(ctx, path, "truncated (shorter than its header)");
        goto fail;
    }
    f->size = (size_t)sb.st_size;
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    f->base = m;
    const unsigned char *h = f->base;
    if (memcmp(h, FACTO_FDS_MAGIC, 8) != 0) {
        st = fct_fail(ctx, FACTO_ERR_FORMAT, "%s: not a facto data set file", path);
        goto fail;
    }
    uint32_t version = (uint32_t)le_get(h + 8, 4);
    if (version == 0 || version > FACTO_FDS_VERSION) {
        st = fct_fail(ctx, version ? FACTO_ERR_VERSION : FACTO_ERR_CORRUPT,
                      "%s: data set file format %u (this facto reads 1..%d)%s", path, (unsigned)version,
                      FACTO_FDS_VERSION, version ? ": written by a newer facto" : "");
        goto fail;
    }
    uint64_t fsize = le_get(h + 16, 8);
    if (fsize != (uint64_t)f->size) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: truncated or extended (%llu bytes, the "
                      "header says %llu)", path, (unsigned long long)f->size, (unsigned long long)fsize);
        goto fail;
    }
    f->version = version;
    if (verify) {
        if ((st = fds_check_sum(ctx, f, fds_sum(f))) != FACTO_OK)
            goto fail;
        f->verified = 1;
    }
    f->item_w = h[12];
    f->row_w = h[13];
    f->rate_w = h[14];
    uint32_t n_sec = (uint32_t)le_get(h + 24, 4);
    f->n_codes = (uint32_t)le_get(h + 28, 4);
    uint64_t dir_off = le_get(h + 32, 8);
    uint64_t nu = le_get(h + 40, 4), ni = le_get(h + 44, 4), nr = le_get(h + 48, 8);
    if ((f->item_w != 2 && f->item_w != 4) || (f->row_w != 4 && f->row_w != 8) || (f->rate_w != 1 && f->rate_w != 4) ||
        (f->rate_w == 1 && (f->n_codes == 0 || f->n_codes > FDS_MAX_CODES)) || (f->rate_w == 4 && f->n_codes != 0) ||
        nu > INT32_MAX || ni > INT32_MAX || nr > (uint64_t)INT64_MAX / 8 || (f->item_w == 2 && ni > 65536) ||
        (f->row_w == 4 && nr > UINT32_MAX)) {
        st = fds_corrupt(ctx, path, "bad widths or counts in the header");
        goto fail_sum;
    }
    f->n_users = (int32_t)nu;
    f->n_items = (int32_t)ni;
    f->n_ratings = (int64_t)nr;
    if ((st = fds_check_dir(ctx, f, n_sec, dir_off)) != FACTO_OK)
        goto fail_sum;
    *out = f;
    return fct_ok(ctx);
fail_sum:
    if (!f->verified && fds_check_sum(ctx, f, fds_sum(f)) != FACTO_OK)
        st = FACTO_ERR_CORRUPT;
fail:
    if (fd >= 0)
        close(fd);
    fct_fds_close(f);
    return st;
}

facto_status fct_fds_open(facto_ctx *ctx, const char *path, fct_fds **out)
{
    return fds_open(ctx, path, out, 1);
}

/* Id i of a map (user or item) holds a line feed. */
static facto_status fds_lf_id(facto_ctx *ctx, const char *path, const char *what, int32_t i)
{
    return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id %d holds a line feed, "
                    "which no ratings file can give and no text output can carry", path, what, (int)i);
}

/* An id map viewing section ids/offs: n ids. Every offset and id is
 * checked here in one pass over the offsets and one over the blob (a NUL
 * ends each id and no other byte is NUL; no line feed); on a little-endian
 * host the offsets are used in the mapping, else decoded. */
static facto_status fds_ids(facto_ctx *ctx, const fct_fds *f, int s_off, int s_ids, int32_t n, const char *what,
                            facto_idmap **out)
{
    const unsigned char *offs = f->sec[s_off].p;
    const char *blob = (const char *)f->sec[s_ids].p;
    uint64_t blob_n = f->sec[s_ids].size;
    uint64_t *own = NULL;
    const uint64_t *off = (const uint64_t *)(const void *)offs; /* a 64-byte aligned section */
    if (!host_le()) {
        if (!(own = fct_malloc_array((size_t)n + 1, sizeof *own)))
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", f->path);
        for (int64_t i = 0; i <= n; i++)
            own[i] = le_get(offs + 8 * i, 8);
        off = own;
    }
    if (off[0] != 0 || off[n] != blob_n) {
        free(own);
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id offsets do not span their ids",
                        f->path, what);
    }
    for (int32_t i = 0; i < n; i++) {
        uint64_t prev = off[i], next = off[i + 1];
        if (next <= prev + 1 || next - prev - 1 > FACTO_MAX_ID_LEN || next > blob_n || blob[next - 1] != '\0') {
            free(own);
            return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id %d is not 1..%d bytes ending "
                            "in NUL", f->path, what, (int)i, FACTO_MAX_ID_LEN);
        }
    }
    /* n terminators found at distinct places: any further NUL is inside an id. */
    uint64_t nuls = 0;
    for (uint64_t k = 0; k < blob_n; k++)
        nuls += blob[k] == '\0';
    if (nuls != (uint64_t)n) {
        int32_t i = 0;
        while (i < n && !memchr(blob + off[i], '\0', off[i + 1] - off[i] - 1))
            i++;
        free(own);
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id %d is not 1..%d bytes ending "
                        "in NUL", f->path, what, (int)i, FACTO_MAX_ID_LEN);
    }
    const char *lf = blob_n ? memchr(blob, '\n', blob_n) : NULL;
    if (lf) {
        int32_t i = 0;
        while (i < n && off[i + 1] <= (uint64_t)(lf - blob))
            i++;
        free(own);
        return fds_lf_id(ctx, f->path, what, i);
    }
    if (fct_idmap_view(blob, off, own != NULL, n, out) != 0)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", f->path);
    int32_t dup = -1;
    int r = fct_idmap_index(*out, &dup);
    if (r == -1)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", f->path);
    if (r == -2)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id %d repeats an earlier one",
                        f->path, what, (int)dup);
    return FACTO_OK;
}

facto_status fct_fds_dataset(facto_ctx *ctx, fct_fds *f, facto_dataset **out)
{
    *out = NULL;
    const char *path = f->path;
    facto_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        fct_fds_close(f);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    ds->fds = f;
    ds->n_users = f->n_users;
    ds->n_items = f->n_items;
    ds->n_ratings = f->n_ratings;
    int le = host_le();
    int64_t n = f->n_ratings;
    facto_status st = FACTO_OK;
    /* The checksum, when fct_fds_open left it: computed a piece ahead of
     * the item and rating checks, so they read bytes in cache (on a
     * big-endian host, where the arrays are decoded, all at once here). */
    fds_hasher hh, *hp = NULL;
    if (!f->verified) {
        if (fds_hasher_init(&hh, f) != 0) {
            fds_hasher_free(&hh);
            facto_dataset_free(ds);
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        }
        hp = &hh;
        fds_hash_to(hp, le ? f->sec[S_ITEM].off : f->size);
    }

    /* Row offsets: non-decreasing, from 0 to n. */
    const unsigned char *rows = f->sec[S_ROWS].p;
    if (le && f->row_w == 8) {
        ds->row_ptr = (int64_t *)(void *)rows; /* 64-byte aligned section */
        ds->borrowed |= FCT_DS_BORROW_ROWS;
    } else if (!(ds->row_ptr = fds_alloc((size_t)f->n_users + 1, sizeof *ds->row_ptr))) {
        goto nomem;
    } else {
        for (int64_t u = 0; u <= f->n_users; u++)
            ds->row_ptr[u] = (int64_t)le_get(rows + u * f->row_w, f->row_w);
    }
    if (ds->row_ptr[0] != 0 || ds->row_ptr[f->n_users] != n) {
        st = fds_corrupt(ctx, path, "the row offsets do not run from 0 to the number of ratings");
        goto fail;
    }
    for (int32_t u = 0; u < f->n_users; u++)
        if (ds->row_ptr[u + 1] < ds->row_ptr[u]) {
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: row offset of user %d decreases", path,
                          (int)u + 1);
            goto fail;
        }

    /* Items: in range, strictly ascending within a user. On a little-endian
     * host they stay in the mapping (narrow; widened on first use by
     * fct_dataset_wide), else they are decoded here. */
    const unsigned char *it = f->sec[S_ITEM].p;
    if (le) {
        ds->narrow.item_w = f->item_w;
        ds->narrow.items = it;
        ds->narrow.items_bytes = f->sec[S_ITEM].size;
        if (f->item_w == 4) {
            ds->items = (int32_t *)(void *)it;
            ds->borrowed |= FCT_DS_BORROW_ITEMS;
        }
    } else {
        if (!(ds->items = fds_alloc((size_t)n + 1, sizeof *ds->items)))
            goto nomem;
        for (int64_t k = 0; k < n; k++)
            ds->items[k] = (int32_t)le_get(it + k * f->item_w, f->item_w);
        fct_release_mapped(it, f->sec[S_ITEM].size); /* decoded: give the pages back */
    }
/* Per user: the last item below n_items and each one above the one before
 * it (an OR over the comparisons, which the compiler vectorizes); a user
 * that fails is walked again to name the item. */
#define FDS_CHECK_ITEMS(T, A)                                                                                          \
    for (int32_t u = 0; u < f->n_users; u++) {                                                                         \
        const T *a = (const T *)(const void *)(A);                                                                     \
        int64_t b = ds->row_ptr[u], e = ds->row_ptr[u + 1];                                                            \
        if (hp)                                                                                                        \
            fds_hash_ahead(hp, f->sec[S_ITEM].off + (uint64_t)e * sizeof(T));                                          \
        if (e == b)                                                                                                    \
            continue;                                                                                                  \
        int bad = (int64_t)a[e - 1] >= (int64_t)f->n_items || (int64_t)a[b] < 0;                                       \
        for (int64_t k = b + 1; k < e; k++)                                                                            \
            bad |= a[k] <= a[k - 1];                                                                                   \
        if (!bad)                                                                                                      \
            continue;                                                                                                  \
        int64_t prev = -1;                                                                                             \
        for (int64_t k = b; k < e; k++) {                                                                              \
            int64_t i = (int64_t)a[k];                                                                                 \
            if (i <= prev || i >= f->n_items) {                                                                        \
                st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: user %d's item %lld is out of "      \
                              "range or out of order", path, (int)u, (long long)i);                                    \
                goto fail;                                                                                             \
            }                                                                                                          \
            prev = i;                                                                                                  \
        }                                                                                                              \
    }
    if (le && f->item_w == 2) {
        FDS_CHECK_ITEMS(uint16_t, it)
    } else if (le) {
        FDS_CHECK_ITEMS(uint32_t, it)
    } else {
        FDS_CHECK_ITEMS(int32_t, ds->items)
    }
#undef FDS_CHECK_ITEMS

    /* Ratings: codes below the table size, values finite. */
    const unsigned char *rt = f->sec[S_RATE].p;
    float lo = INFINITY, hi = -INFINITY;
    if (f->rate_w == 4 && le) {
        ds->ratings = (float *)(void *)rt;
        ds->borrowed |= FCT_DS_BORROW_RATINGS;
        ds->narrow.rates = ds->ratings;
        ds->narrow.rates_bytes = f->sec[S_RATE].size;
        for (int64_t k = 0; k < n; k++) {
            if (hp && (k & 4095) == 0)
                fds_hash_ahead(hp, f->sec[S_RATE].off + 4 * (uint64_t)(k + 4096));
            float r = ds->ratings[k];
            if (!isfinite(r)) {
                st = fds_corrupt(ctx, path, "a rating is not a finite number");
                goto fail;
            }
            lo = r < lo ? r : lo;
            hi = r > hi ? r : hi;
        }
    } else if (f->rate_w == 1) {
        float *table = ds->narrow.table;
        int used[FDS_MAX_CODES] = {0};
        if ((st = fds_code_table(ctx, path, f->sec[S_CODE].p, f->n_codes, table)) != FACTO_OK)
            goto fail;
        /* Which codes occur (for the range of values) until every code of
         * the table has been seen, which in a file facto wrote comes soon;
         * from then on only the largest code matters (a vectorized max). */
        uint32_t n_used = 0;
        unsigned top = 0;
        for (int64_t k0 = 0; k0 < n; k0 += 16384) {
            int64_t k1 = k0 + 16384 < n ? k0 + 16384 : n;
            if (hp)
                fds_hash_ahead(hp, f->sec[S_RATE].off + (uint64_t)k1);
            if (n_used < f->n_codes) {
                for (int64_t k = k0; k < k1; k++) {
                    n_used += !used[rt[k]] && rt[k] < f->n_codes;
                    used[rt[k]] = 1;
                }
            } else {
                uint8_t mx = 0;
                for (int64_t k = k0; k < k1; k++)
                    mx = rt[k] > mx ? rt[k] : mx;
                top = mx > top ? mx : top;
            }
        }
        if (top >= f->n_codes)
            used[top] = 1;
        for (uint32_t c = f->n_codes; c < FDS_MAX_CODES; c++)
            if (used[c]) {
                st = fds_corrupt(ctx, path, "a rating code is outside the code table");
                goto fail;
            }
        for (uint32_t c = 0; c < f->n_codes; c++)
            if (used[c]) {
                lo = table[c] < lo ? table[c] : lo;
                hi = table[c] > hi ? table[c] : hi;
            }
        if (le) { /* codes stay in the mapping, decoded on first use */
            ds->narrow.codes = rt;
            ds->narrow.rates_bytes = f->sec[S_RATE].size;
        } else {
            if (!(ds->ratings = fds_alloc((size_t)n + 1, sizeof *ds->ratings)))
                goto nomem;
            for (int64_t k = 0; k < n; k++)
                ds->ratings[k] = table[rt[k]];
            fct_release_mapped(rt, f->sec[S_RATE].size);
        }
    } else {
        if (!(ds->ratings = fds_alloc((size_t)n + 1, sizeof *ds->ratings)))
            goto nomem;
        for (int64_t k = 0; k < n; k++) {
            uint32_t b = (uint32_t)le_get(rt + 4 * k, 4);
            float r;
            memcpy(&r, &b, 4);
            if (!isfinite(r)) {
                st = fds_corrupt(ctx, path, "a rating is not a finite number");
                goto fail;
            }
            ds->ratings[k] = r;
            lo = r < lo ? r : lo;
            hi = r > hi ? r : hi;
        }
        fct_release_mapped(rt, f->sec[S_RATE].size);
    }
    if (!le)
        ds->narrow.item_w = 0;
    ds->min_rating = n ? lo : 0.0f;
    ds->max_rating = n ? hi : 0.0f;

    if (f->sec[S_TIME].p) {
        const unsigned char *tp = f->sec[S_TIME].p;
        if (le) {
            ds->timestamps = (int64_t *)(void *)tp;
            ds->borrowed |= FCT_DS_BORROW_TIMES;
        } else {
            if (!(ds->timestamps = fds_alloc((size_t)n + 1, sizeof *ds->timestamps)))
                goto nomem;
            for (int64_t k = 0; k < n; k++)
                ds->timestamps[k] = (int64_t)le_get(tp + 8 * k, 8);
        }
    }
    if (hp) {
        st = fds_check_sum(ctx, f, fds_hash_digest(hp));
        fds_hasher_free(hp);
        hp = NULL;
        if (st != FACTO_OK)
            goto fail;
        f->verified = 1;
    }
    if ((st = fds_ids(ctx, f, S_UOFF, S_UIDS, f->n_users, "user", &ds->user_map)) != FACTO_OK ||
        (st = fds_ids(ctx, f, S_IOFF, S_IIDS, f->n_items, "item", &ds->item_map)) != FACTO_OK)
        goto fail;
    *out = ds;
    return fct_ok(ctx);
nomem:
    st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
fail:
    if (hp) {
        /* A value failed its check before the whole file was hashed: a
         * corrupted file is named as such, whatever its first bad value. */
        if (st == FACTO_ERR_CORRUPT && fds_check_sum(ctx, f, fds_hash_digest(hp)) != FACTO_OK)
            st = FACTO_ERR_CORRUPT;
        fds_hasher_free(hp);
    }
    facto_dataset_free(ds);
    return st;
}

facto_status fct_fds_read(facto_ctx *ctx, const char *path, const facto_read_options *opts, facto_dataset **out,
                          facto_read_stats *stats)
{
    *out = NULL;
    fct_fds *f = NULL;
    facto_dataset *ds = NULL;
    facto_status st = fds_open(ctx, path, &f, 0); /* the checksum in step with fct_fds_dataset's checks */
    if (st != FACTO_OK)
        return st;
    if ((st = fct_fds_dataset(ctx, f, &ds)) != FACTO_OK)
        return st;
    if (ds->n_ratings == 0) {
        facto_dataset_free(ds);
        return fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no ratings: the data set file is empty", path);
    }
    int implicit = opts && opts->implicit;
    if (implicit && ds->min_rating < 0 && !(opts->implicit_threshold > 0)) {
        double lowest = ds->min_rating; /* read before ds is freed */
        facto_dataset_free(ds);
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s: a weight is negative (%g): implicit weights must be >= 0 (or read with a threshold)", path,
                        lowest);
    }
    facto_read_stats s = {ds->n_ratings, 0, 0, 0, 0};
    if (implicit && opts->implicit_threshold > 0) {
        /* The thresholded copy: the pairs are distinct already, so the
         * builder only drops pairs and compacts the id maps. */
        fct_coo coo;
        fct_coo_init(&coo);
        if ((st = fct_dataset_wide(ctx, ds)) != FACTO_OK) {
            facto_dataset_free(ds);
            return st;
        }
        coo.n = coo.cap = ds->n_ratings;
        coo.users = fct_malloc_array((size_t)coo.n, sizeof *coo.users);
        coo.items = ds->items;
        coo.ratings = ds->ratings;
        coo.timestamps = ds->timestamps;
        coo.has_time = ds->timestamps != NULL;
        facto_idmap *um = fct_idmap_clone(ds->user_map), *im = fct_idmap_clone(ds->item_map);
        if (!coo.users || !um || !im) {
            free(coo.users);
            fct_idmap_free(um);
            fct_idmap_free(im);
            facto_dataset_free(ds);
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        }
        for (int32_t u = 0; u < ds->n_users; u++)
            for (int64_t k = ds->row_ptr[u]; k < ds->row_ptr[u + 1]; k++)
                coo.users[k] = u;
        fct_merge merge = {1, opts->implicit_threshold};
        fct_merge_counts c;
        facto_dataset *kept = NULL;
        st = fct_dataset_build(ctx, &coo, um, im, &merge, &kept, &c);
        free(coo.users);
        facto_dataset_free(ds);
        if (st == FACTO_ERR_PARSE || st == FACTO_ERR_EMPTY) {
            char msg[FACTO_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", ctx ? facto_errmsg(ctx) : "");
            return fct_fail(ctx, st, "%s: %s", path, msg);
        }
        if (st != FACTO_OK)
            return st;
        ds = kept;
        s.n_below_threshold = c.n_below;
        s.n_users_dropped = c.n_users_dropped;
        s.n_items_dropped = c.n_items_dropped;
    }
    if (stats)
        *stats = s;
    *out = ds;
    return fct_ok(ctx);
}

/* ======================================================================
 * Writer
 * ====================================================================== */

typedef struct fds_writer {
    const char *path;
    facto_output *out;
    FILE *f;
    int version;            /* 1: XXH64, 2: XXH3 */
    XXH64_state_t *hash;
    XXH3_state_t *hash3;
    uint64_t off;
    int failed;
    unsigned char buf[65536];
} fds_writer;

static void fds_w(fds_writer *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (fwrite(p, 1, n, w->f) != n) {
        w->failed = errno ? errno : EIO;
        return;
    }
    if (w->version == 1)
        XXH64_update(w->hash, p, n);
    else
        XXH3_64bits_update(w->hash3, p, n);
    w->off += n;
}

static void fds_pad(fds_writer *w)
{
    static const unsigned char zeros[FDS_ALIGN];
    fds_w(w, zeros, (size_t)((FDS_ALIGN - w->off % FDS_ALIGN) % FDS_ALIGN));
}

/* n integers of `width` bytes each, from get(k). */
#define FDS_PUT_INTS(w, n, width, expr)                                                                              \
    do {                                                                                                             \
        size_t fill_ = 0;                                                                                            \
        for (int64_t k = 0; k < (int64_t)(n); k++) {                                                                 \
            le_put((w)->buf + fill_, (uint64_t)(expr), (width));                                                     \
            fill_ += (size_t)(width);                                                                                \
            if (fill_ + 8 > sizeof (w)->buf) {                                                                       \
                fds_w((w), (w)->buf, fill_);                                                                         \
                fill_ = 0;                                                                                           \
            }                                                                                                        \
        }                                                                                                            \
        fds_w((w), (w)->buf, fill_);                                                                                 \
    } while (0)

static uint32_t f32_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    return b;
}

/* Index of bits in the sorted table, or -1. */
static int code_find(const uint32_t *table, int n, uint32_t bits)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (table[mid] == bits)
            return mid;
        if (table[mid] < bits)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The distinct rating values (bit patterns, sorted) when at most 256, else 0. */
static int code_table(const facto_dataset *ds, uint32_t *table)
{
    int n = 0;
    uint32_t last = 0;
    int have_last = 0;
    for (int64_t k = 0; k < ds->n_ratings; k++) {
        uint32_t b = f32_bits(ds->ratings[k]);
        if (have_last && b == last)
            continue;
        if (code_find(table, n, b) < 0) {
            if (n == FDS_MAX_CODES)
                return 0;
            int j = n++;
            while (j > 0 && table[j - 1] > b) {
                table[j] = table[j - 1];
                j--;
            }
            table[j] = b;
        }
        last = b;
        have_last = 1;
    }
    return n;
}

static uint64_t ids_bytes(const facto_idmap *m)
{
    uint64_t n = 0;
    for (int32_t i = 0; i < m->n; i++)
        n += strlen(facto_idmap_name(m, i)) + 1;
    return n;
}

facto_status facto_dataset_write_fds(facto_ctx *ctx, const facto_dataset *ds, const char *path)
{
    return fct_fds_write_version(ctx, ds, path, FACTO_FDS_VERSION);
}

facto_status fct_fds_write_version(facto_ctx *ctx, const facto_dataset *ds, const char *path, int version)
{
    if (version < 1 || version > FACTO_FDS_VERSION)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_fds_write_version: format %d (1..%d)", version, FACTO_FDS_VERSION);
    if (!ds || !path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_write_fds: data set and path must be given");
    {
        facto_status wst = fct_dataset_wide(ctx, ds);
        if (wst != FACTO_OK)
            return wst;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: exists and is not a regular file; refusing to replace it", path);
    uint32_t table[FDS_MAX_CODES];
    int n_codes = code_table(ds, table);
    int item_w = ds->n_items <= 65536 ? 2 : 4, row_w = ds->n_ratings <= (int64_t)UINT32_MAX ? 4 : 8;
    int rate_w = n_codes > 0 ? 1 : 4;
    uint64_t n = (uint64_t)ds->n_ratings;

    struct {
        uint32_t tag, width;
        uint64_t size, off;
    } sec[S_COUNT];
    int ns = 0;
#define FDS_SEC(t, w, s) (sec[ns].tag = (t), sec[ns].width = (w), sec[ns].size = (s), ns++)
    FDS_SEC(TAG_ROWS, (uint32_t)row_w, ((uint64_t)ds->n_users + 1) * (uint64_t)row_w);
    FDS_SEC(TAG_ITEM, (uint32_t)item_w, n * (uint64_t)item_w);
    FDS_SEC(TAG_RATE, (uint32_t)rate_w, n * (uint64_t)rate_w);
    if (n_codes)
        FDS_SEC(TAG_CODE, 4, 4 * (uint64_t)n_codes);
    if (ds->timestamps)
        FDS_SEC(TAG_TIME, 8, 8 * n);
    FDS_SEC(TAG_UOFF, 8, 8 * ((uint64_t)ds->n_users + 1));
    FDS_SEC(TAG_UIDS, 1, ids_bytes(ds->user_map));
    FDS_SEC(TAG_IOFF, 8, 8 * ((uint64_t)ds->n_items + 1));
    FDS_SEC(TAG_IIDS, 1, ids_bytes(ds->item_map));
#undef FDS_SEC
    uint64_t at = FDS_HEADER + (uint64_t)ns * FDS_DIRENT;
    for (int s = 0; s < ns; s++) {
        at = (at + FDS_ALIGN - 1) / FDS_ALIGN * FDS_ALIGN;
        sec[s].off = at;
        at += sec[s].size;
    }
    at = (at + FDS_ALIGN - 1) / FDS_ALIGN * FDS_ALIGN;
    uint64_t file_size = at + FDS_HASH;

    fds_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->hash = XXH64_createState()) || !(w->hash3 = XXH3_createState())) {
        if (w)
            XXH64_freeState(w->hash);
        free(w);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    w->path = path;
    w->version = version;
    XXH64_reset(w->hash, 0);
    XXH3_64bits_reset(w->hash3);
    facto_status st = facto_output_open(ctx, path, 0, &w->out);
    if (st != FACTO_OK) {
        XXH64_freeState(w->hash);
        XXH3_freeState(w->hash3);
        free(w);
        return st;
    }
    w->f = facto_output_stream(w->out);

    unsigned char h[FDS_HEADER] = {0};
    memcpy(h, FACTO_FDS_MAGIC, 8);
    le_put(h + 8, (uint64_t)version, 4);
    h[12] = (unsigned char)item_w;
    h[13] = (unsigned char)row_w;
    h[14] = (unsigned char)rate_w;
    le_put(h + 16, file_size, 8);
    le_put(h + 24, (uint64_t)ns, 4);
    le_put(h + 28, (uint64_t)n_codes, 4);
    le_put(h + 32, FDS_HEADER, 8);
    le_put(h + 40, (uint64_t)ds->n_users, 4);
    le_put(h + 44, (uint64_t)ds->n_items, 4);
    le_put(h + 48, n, 8);
    fds_w(w, h, sizeof h);
    for (int s = 0; s < ns; s++) {
        unsigned char e[FDS_DIRENT];
        le_put(e, sec[s].tag, 4);
        le_put(e + 4, sec[s].width, 4);
        le_put(e + 8, sec[s].off, 8);
        le_put(e + 16, sec[s].size, 8);
        fds_w(w, e, sizeof e);
    }
    for (int s = 0; s < ns && !w->failed; s++) {
        fds_pad(w);
        switch (sec[s].tag) {
        case TAG_ROWS: FDS_PUT_INTS(w, ds->n_users + 1, row_w, ds->row_ptr[k]); break;
        case TAG_ITEM: FDS_PUT_INTS(w, n, item_w, ds->items[k]); break;
        case TAG_RATE:
            if (rate_w == 1)
                FDS_PUT_INTS(w, n, 1, code_find(table, n_codes, f32_bits(ds->ratings[k])));
            else
                FDS_PUT_INTS(w, n, 4, f32_bits(ds->ratings[k]));
            break;
        case TAG_CODE: FDS_PUT_INTS(w, n_codes, 4, table[k]); break;
        case TAG_TIME: FDS_PUT_INTS(w, n, 8, ds->timestamps[k]); break;
        case TAG_UOFF:
        case TAG_IOFF: {
            const facto_idmap *m = sec[s].tag == TAG_UOFF ? ds->user_map : ds->item_map;
            uint64_t o = 0;
            FDS_PUT_INTS(w, m->n + 1, 8, k == 0 ? 0 : (o += strlen(facto_idmap_name(m, (int32_t)k - 1)) + 1));
            break;
        }
        case TAG_UIDS:
        case TAG_IIDS: {
            const facto_idmap *m = sec[s].tag == TAG_UIDS ? ds->user_map : ds->item_map;
            for (int32_t i = 0; i < m->n; i++)
                fds_w(w, facto_idmap_name(m, i), strlen(facto_idmap_name(m, i)) + 1);
            break;
        }
        default: break;
        }
    }
    fds_pad(w);
    if (!w->failed && w->off != file_size - FDS_HASH)
        w->failed = EIO; /* a bug: the layout and the bytes disagree */
    unsigned char hb[FDS_HASH];
    le_put(hb, version == 1 ? XXH64_digest(w->hash) : XXH3_64bits_digest(w->hash3), 8);
    if (!w->failed && fwrite(hb, 1, sizeof hb, w->f) != sizeof hb)
        w->failed = errno ? errno : EIO;
    if (w->failed) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot write: %s", path, strerror(w->failed));
        facto_output_abort(w->out);
    } else {
        st = facto_output_commit(ctx, w->out);
    }
    XXH64_freeState(w->hash);
    XXH3_freeState(w->hash3);
    free(w);
    return st;
}

/* ======================================================================
 * Shard reader (distributed training): pread by offset, no mapping
 * ====================================================================== */

/* Read exactly n bytes at off. */
static facto_status fds_pread(facto_ctx *ctx, int fd, const char *path, void *buf, uint64_t n, uint64_t off)
{
    unsigned char *p = buf;
    while (n > 0) {
        size_t want = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)n;
        ssize_t got = pread(fd, p, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        if (got == 0)
            return fds_corrupt(ctx, path, "truncated");
        p += got;
        n -= (uint64_t)got;
        off += (uint64_t)got;
    }
    return FACTO_OK;
}

void fct_fds_shard_free(fct_fds_shard *s)
{
    if (!s)
        return;
    free(s->row_ptr);
    free(s->items);
    free(s->ratings);
    fct_idmap_free(s->user_map);
    fct_idmap_free(s->item_map);
    memset(s, 0, sizeof *s);
}

/* An id map of n ids read from the offset and blob sections (every id interned, in order). */
static facto_status fds_shard_ids(facto_ctx *ctx, int fd, const fct_fds *f, int s_off, int s_ids, int32_t n,
                                  const char *what, facto_idmap **out)
{
    const char *path = f->path;
    uint64_t off_at = f->sec[s_off].off;
    uint64_t ids_at = f->sec[s_ids].off, blob_n = f->sec[s_ids].size;
    unsigned char *offs = fct_malloc_array((size_t)n + 1, 8);
    char *blob = malloc(blob_n ? (size_t)blob_n : 1);
    facto_idmap *map = fct_idmap_new();
    facto_status st = FACTO_OK;
    if (!offs || !blob || !map) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = fds_pread(ctx, fd, path, offs, 8 * ((uint64_t)n + 1), off_at)) != FACTO_OK ||
        (st = fds_pread(ctx, fd, path, blob, blob_n, ids_at)) != FACTO_OK)
        goto done;
    uint64_t prev = le_get(offs, 8);
    if (prev != 0 || le_get(offs + 8 * (uint64_t)n, 8) != blob_n) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id offsets do not span their ids",
                      path, what);
        goto done;
    }
    for (int32_t i = 0; i < n; i++) {
        uint64_t next = le_get(offs + 8 * ((uint64_t)i + 1), 8);
        if (next <= prev || next > blob_n || next - prev - 1 < 1 || next - prev - 1 > FACTO_MAX_ID_LEN ||
            blob[next - 1] != '\0' || memchr(blob + prev, '\0', next - prev - 1)) {
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id %d is not 1..%d bytes ending "
                          "in NUL", path, what, (int)i, FACTO_MAX_ID_LEN);
            goto done;
        }
        if (memchr(blob + prev, '\n', next - prev - 1)) {
            st = fds_lf_id(ctx, path, what, i);
            goto done;
        }
        int32_t got = fct_idmap_intern(map, blob + prev, (size_t)(next - prev - 1));
        if (got == -1) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        if (got != i) {
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: %s id %d repeats an earlier one",
                          path, what, (int)i);
            goto done;
        }
        prev = next;
    }
done:
    free(offs);
    free(blob);
    if (st != FACTO_OK)
        fct_idmap_free(map);
    else
        *out = map;
    return st;
}

facto_status fct_fds_read_shard(facto_ctx *ctx, const char *path, int part, int parts, int ids, fct_fds_shard *out)
{
    memset(out, 0, sizeof *out);
    if (parts < 1 || part < 0 || part >= parts)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_fds_read_shard: part %d of %d", part, parts);
    /* The header and the directory are checked by the same code as a mapped
     * file's: f.base stays NULL, f.dir holds the directory, sections get offsets. */
    fct_fds f;
    memset(&f, 0, sizeof f);
    f.path = (char *)path;
    unsigned char h[FDS_HEADER];
    unsigned char *dir = NULL, *buf = NULL;
    facto_status st = FACTO_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 8 || pread(fd, h, 8, 0) != 8 || memcmp(h, FACTO_FDS_MAGIC, 8) != 0) {
        st = fct_fail(ctx, FACTO_ERR_FORMAT, "%s: not a facto data set file", path);
        goto done;
    }
    if (sb.st_size < FDS_HEADER + FDS_HASH || pread(fd, h, FDS_HEADER, 0) != FDS_HEADER) {
        st = fds_corrupt(ctx, path, "truncated (shorter than its header)"); /* as fds_open says it */
        goto done;
    }
    f.size = (size_t)sb.st_size;
    uint32_t version = (uint32_t)le_get(h + 8, 4);
    if (version == 0 || version > FACTO_FDS_VERSION) {
        st = fct_fail(ctx, version ? FACTO_ERR_VERSION : FACTO_ERR_CORRUPT,
                      "%s: data set file format %u (this facto reads 1..%d)", path, (unsigned)version,
                      FACTO_FDS_VERSION);
        goto done;
    }
    if (le_get(h + 16, 8) != (uint64_t)f.size) {
        st = fds_corrupt(ctx, path, "truncated or extended (the size differs from the header's)");
        goto done;
    }
    f.item_w = h[12];
    f.row_w = h[13];
    f.rate_w = h[14];
    uint32_t n_sec = (uint32_t)le_get(h + 24, 4);
    f.n_codes = (uint32_t)le_get(h + 28, 4);
    uint64_t dir_off = le_get(h + 32, 8);
    uint64_t nu = le_get(h + 40, 4), ni = le_get(h + 44, 4), nr = le_get(h + 48, 8);
    if ((f.item_w != 2 && f.item_w != 4) || (f.row_w != 4 && f.row_w != 8) || (f.rate_w != 1 && f.rate_w != 4) ||
        (f.rate_w == 1 && (f.n_codes == 0 || f.n_codes > FDS_MAX_CODES)) || (f.rate_w == 4 && f.n_codes != 0) ||
        nu > INT32_MAX || ni > INT32_MAX || nr > (uint64_t)INT64_MAX / 8 || (f.item_w == 2 && ni > 65536) ||
        (f.row_w == 4 && nr > UINT32_MAX) || n_sec > FDS_MAX_SECTIONS || dir_off > f.size) {
        st = fds_corrupt(ctx, path, "bad widths or counts in the header");
        goto done;
    }
    f.n_users = (int32_t)nu;
    f.n_items = (int32_t)ni;
    f.n_ratings = (int64_t)nr;
    /* fds_check_dir reads the directory at base + dir_off: give it a buffer
     * laid out the same way (only the directory bytes are filled). */
    size_t dir_bytes = (size_t)n_sec * FDS_DIRENT;
    if ((uint64_t)dir_bytes > f.size - dir_off) {
        st = fds_corrupt(ctx, path, "the section directory lies outside the file");
        goto done;
    }
    if (!(dir = malloc(dir_bytes ? dir_bytes : 1))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = fds_pread(ctx, fd, path, dir, dir_bytes, dir_off)) != FACTO_OK)
        goto done;
    f.dir = dir;
    if ((st = fds_check_dir(ctx, &f, n_sec, dir_off)) != FACTO_OK)
        goto done;

    out->n_users = f.n_users;
    out->n_items = f.n_items;
    out->n_ratings = f.n_ratings;
    out->u0 = (int32_t)((int64_t)f.n_users * part / parts);
    out->u1 = (int32_t)((int64_t)f.n_users * (part + 1) / parts);
    int32_t nu_s = out->u1 - out->u0;
    uint64_t rows_at = f.sec[S_ROWS].off;
    if (!(out->row_ptr = fct_malloc_array((size_t)nu_s + 1, sizeof *out->row_ptr)) ||
        !(buf = fct_malloc_array((size_t)nu_s + 1, (size_t)f.row_w))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = fds_pread(ctx, fd, path, buf, ((uint64_t)nu_s + 1) * (uint64_t)f.row_w,
                        rows_at + (uint64_t)out->u0 * (uint64_t)f.row_w)) != FACTO_OK)
        goto done;
    int64_t first = (int64_t)le_get(buf, f.row_w);
    for (int32_t u = 0; u <= nu_s; u++) {
        int64_t v = (int64_t)le_get(buf + (size_t)u * (size_t)f.row_w, f.row_w);
        if (v < first || v > f.n_ratings || (u > 0 && v < out->row_ptr[u - 1] + first) ||
            (out->u0 == 0 && u == 0 && v != 0) || (out->u1 == f.n_users && u == nu_s && v != f.n_ratings)) {
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: row offset of user %d is out of order "
                          "or out of range", path, (int)(out->u0 + u));
            goto done;
        }
        out->row_ptr[u] = v - first;
    }
    free(buf);
    buf = NULL;
    int64_t n = out->row_ptr[nu_s];
    if (!(out->items = fct_malloc_array((size_t)n + 1, sizeof *out->items)) ||
        !(out->ratings = fct_malloc_array((size_t)n + 1, sizeof *out->ratings)) ||
        !(buf = fct_malloc_array((size_t)n + 1, 4))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for a shard of %lld ratings", path, (long long)n);
        goto done;
    }
    uint64_t item_at = f.sec[S_ITEM].off;
    if ((st = fds_pread(ctx, fd, path, buf, (uint64_t)n * (uint64_t)f.item_w,
                        item_at + (uint64_t)first * (uint64_t)f.item_w)) != FACTO_OK)
        goto done;
    for (int64_t k = 0; k < n; k++)
        out->items[k] = (int32_t)le_get(buf + (size_t)k * (size_t)f.item_w, f.item_w);
    for (int32_t u = 0; u < nu_s; u++) {
        int32_t prev = -1;
        for (int64_t k = out->row_ptr[u]; k < out->row_ptr[u + 1]; k++) {
            int32_t i = out->items[k];
            if (i <= prev || i >= f.n_items) {
                st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: corrupt data set file: user %d's item %d is out of range "
                              "or out of order", path, (int)(out->u0 + u), (int)i);
                goto done;
            }
            prev = i;
        }
    }
    uint64_t rate_at = f.sec[S_RATE].off;
    if ((st = fds_pread(ctx, fd, path, buf, (uint64_t)n * (uint64_t)f.rate_w,
                        rate_at + (uint64_t)first * (uint64_t)f.rate_w)) != FACTO_OK)
        goto done;
    float table[FDS_MAX_CODES];
    if (f.rate_w == 1) {
        unsigned char codes[4 * FDS_MAX_CODES];
        uint64_t code_at = f.sec[S_CODE].off;
        if ((st = fds_pread(ctx, fd, path, codes, 4 * (uint64_t)f.n_codes, code_at)) != FACTO_OK)
            goto done;
        if ((st = fds_code_table(ctx, path, codes, f.n_codes, table)) != FACTO_OK)
            goto done;
    }
    for (int64_t k = 0; k < n; k++) {
        float r;
        if (f.rate_w == 1) {
            unsigned c = buf[k];
            if (c >= f.n_codes) {
                st = fds_corrupt(ctx, path, "a rating code is outside the code table");
                goto done;
            }
            r = table[c];
        } else {
            uint32_t b = (uint32_t)le_get(buf + 4 * (size_t)k, 4);
            memcpy(&r, &b, 4);
        }
        if (!isfinite(r)) {
            st = fds_corrupt(ctx, path, "a rating is not a finite number");
            goto done;
        }
        out->ratings[k] = r;
    }
    if (ids && ((st = fds_shard_ids(ctx, fd, &f, S_UOFF, S_UIDS, f.n_users, "user", &out->user_map)) != FACTO_OK ||
                (st = fds_shard_ids(ctx, fd, &f, S_IOFF, S_IIDS, f.n_items, "item", &out->item_map)) != FACTO_OK))
        goto done;
done:
    if (fd >= 0)
        close(fd);
    free(dir);
    free(buf);
    if (st != FACTO_OK)
        fct_fds_shard_free(out);
    return st;
}
