/*
 * modelfile.c — writer and verifying reader of the model file (layout in
 * docs/format.md). The writer streams sections into an atomic output (src/core/output.h) with
 * stdio, then writes the directory, patches the 64-byte header, hashes the
 * file once more from the start (XXH64, seed 0), appends the hash, fsyncs
 * and renames; any failure unlinks the temporary file. The reader checks the
 * fixed header before reading the rest, so a foreign or newer file is named
 * as such without reading it all, then reads the file into one 64-byte
 * aligned buffer and verifies checksum and directory. Cost: O(file size)
 * time and memory for both; the writer reads its file back once to hash it.
 */
#include "modelfile.h"

#include "../core/output.h"


#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MFILE_MAGIC "FACTOMDL"
#define MFILE_DIRENT_SIZE 24 /* bytes: u32 tag, u32 width, u64 offset, u64 size */
#define MFILE_HASH_SIZE 8
#define MFILE_IO_CHUNK ((size_t)1 << 20)

typedef struct fct_mfile_dirent {
    uint32_t tag;
    uint32_t width; /* element width in bytes: 1 (opaque), 2, 4 or 8 */
    uint64_t offset;
    uint64_t size;
} fct_mfile_dirent;

struct fct_mfile_writer {
    char *path;           /* as given, for messages */
    facto_output *out;    /* the atomic output (src/core/output.c) */
    FILE *f;              /* its stream */
    facto_model_kind kind;
    uint32_t version; /* format written in the header: the lowest that describes the file */
    uint64_t offset; /* bytes written so far */
    fct_mfile_dirent *dir;
    int32_t n, cap;
    facto_status failed;          /* first error of a put; commit repeats it */
    char failed_msg[FACTO_ERRMSG_MAX];
};

struct fct_mfile_reader {
    char *path;
    unsigned char *buf; /* whole file, 64-byte aligned */
    uint64_t size;
    uint32_t version;
    facto_model_kind kind;
    fct_mfile_dirent *dir;
    int32_t n;
};

static int fct_mfile_host_le(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

/* Reverse the bytes of each of `count` elements of `width` bytes, in place. */
static void fct_mfile_swap(unsigned char *p, size_t width, uint64_t count)
{
    for (uint64_t e = 0; e < count; e++, p += width)
        for (size_t i = 0; i < width / 2; i++) {
            unsigned char t = p[i];
            p[i] = p[width - 1 - i];
            p[width - 1 - i] = t;
        }
}

/* Printable form of a tag: "MFPQ", or "0x........" when not ASCII letters/digits. */
static const char *fct_mfile_tag_str(uint32_t tag, char out[16])
{
    int printable = 1;
    for (int i = 0; i < 4; i++) {
        unsigned c = (tag >> (8 * i)) & 0xffu;
        if (c < 0x21 || c > 0x7e || c == '\'')
            printable = 0;
        out[i] = (char)c;
    }
    if (printable)
        out[4] = '\0';
    else
        snprintf(out, 16, "0x%08x", (unsigned)tag);
    return out;
}

/* ======================================================================
 * Writer
 * ====================================================================== */

/* Record the first failure of a writer so commit can report it again. */
static facto_status fct_mfile_wfail(facto_ctx *ctx, fct_mfile_writer *w, facto_status st, const char *fmt, ...)
    FACTO_PRINTF(4, 5);
static facto_status fct_mfile_wfail(facto_ctx *ctx, fct_mfile_writer *w, facto_status st, const char *fmt, ...)
{
    char msg[FACTO_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w && w->failed == FACTO_OK) {
        w->failed = st;
        memcpy(w->failed_msg, msg, sizeof msg);
    }
    return fct_fail(ctx, st, "%s", msg);
}

static facto_status fct_mfile_write(facto_ctx *ctx, fct_mfile_writer *w, const void *data, size_t n)
{
    if (n == 0)
        return FACTO_OK;
    errno = 0;
    if (fwrite(data, 1, n, w->f) != n) {
        int e = errno ? errno : EIO;
        return fct_mfile_wfail(ctx, w, FACTO_ERR_IO, "%s: cannot write: %s", w->path, strerror(e));
    }
    w->offset += n;
    return FACTO_OK;
}

static facto_status fct_mfile_pad(facto_ctx *ctx, fct_mfile_writer *w)
{
    static const unsigned char zeros[FACTO_MFILE_ALIGN];
    size_t rem = (size_t)(w->offset % FACTO_MFILE_ALIGN);
    return rem ? fct_mfile_write(ctx, w, zeros, FACTO_MFILE_ALIGN - rem) : FACTO_OK;
}

static void fct_mfile_writer_free(fct_mfile_writer *w)
{
    if (!w)
        return;
    facto_output_abort(w->out);
    free(w->path);
    free(w->dir);
    free(w);
}

void fct_mfile_abort(fct_mfile_writer *w)
{
    if (!w)
        return;
    fct_mfile_writer_free(w);
}

facto_status fct_mfile_check_path(facto_ctx *ctx, const char *path)
{
    if (!path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "the model path is empty");
    /* The same checks as the save, and a temporary file created and removed. */
    facto_output *o = NULL;
    facto_status st = facto_output_open(ctx, path, FACTO_OUTPUT_MODEL, &o);
    if (st != FACTO_OK)
        return st;
    facto_output_abort(o);
    return fct_ok(ctx);
}

facto_status fct_mfile_create(facto_ctx *ctx, const char *path, facto_model_kind kind, fct_mfile_writer **out)
{
    if (!path || !*path || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_mfile_create: path and out must be given");
    *out = NULL;
    fct_mfile_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        fct_mfile_writer_free(w);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    w->kind = kind;
    w->version = 1;
    facto_status ost = facto_output_open(ctx, path, FACTO_OUTPUT_MODEL, &w->out);
    if (ost != FACTO_OK) {
        fct_mfile_writer_free(w);
        return ost;
    }
    w->f = facto_output_stream(w->out);
    /* Placeholder header; patched by commit once sizes are known. */
    unsigned char header[FACTO_MFILE_HEADER_SIZE] = {0};
    facto_status st = fct_mfile_write(ctx, w, header, sizeof header);
    if (st != FACTO_OK) {
        fct_mfile_abort(w);
        return st;
    }
    *out = w;
    return fct_ok(ctx);
}

void fct_mfile_need_version(fct_mfile_writer *w, uint32_t version)
{
    if (w && version > w->version && version <= FACTO_MFILE_VERSION)
        w->version = version;
}

/* Start a section: check the tag, align, add its directory entry. */
static facto_status fct_mfile_begin(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, uint32_t width,
                                      uint64_t nbytes)
{
    char ts[16];
    if (w->failed != FACTO_OK)
        return fct_fail(ctx, w->failed, "%s", w->failed_msg);
    for (int32_t i = 0; i < w->n; i++)
        if (w->dir[i].tag == tag)
            return fct_mfile_wfail(ctx, w, FACTO_ERR_INVALID, "%s: section '%s' written twice", w->path,
                                     fct_mfile_tag_str(tag, ts));
    if (w->n == w->cap) {
        int32_t cap = w->cap ? w->cap * 2 : 16;
        fct_mfile_dirent *d = fct_realloc_array(w->dir, (size_t)cap, sizeof *d);
        if (!d)
            return fct_mfile_wfail(ctx, w, FACTO_ERR_NOMEM, "%s: out of memory", w->path);
        w->dir = d;
        w->cap = cap;
    }
    facto_status st = fct_mfile_pad(ctx, w);
    if (st != FACTO_OK)
        return st;
    w->dir[w->n++] = (fct_mfile_dirent){tag, width, w->offset, nbytes};
    return FACTO_OK;
}

facto_status fct_mfile_put(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data, uint64_t nbytes)
{
    if (!w || (!data && nbytes))
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_mfile_put: writer and data must be given");
    if (nbytes > (uint64_t)SIZE_MAX)
        return fct_mfile_wfail(ctx, w, FACTO_ERR_INVALID, "%s: section too large", w->path);
    facto_status st = fct_mfile_begin(ctx, w, tag, 1, nbytes);
    if (st != FACTO_OK)
        return st;
    const unsigned char *p = data;
    for (uint64_t done = 0; done < nbytes;) {
        size_t n = nbytes - done < MFILE_IO_CHUNK ? (size_t)(nbytes - done) : MFILE_IO_CHUNK;
        if ((st = fct_mfile_write(ctx, w, p + done, n)) != FACTO_OK)
            return st;
        done += n;
    }
    return fct_ok(ctx);
}

/* Numbers stored little-endian, the directory recording `width` (elem_size,
 * or 1 for sections a format version records as opaque bytes). */
static facto_status fct_mfile_put_numbers(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data,
                                          size_t elem_size, uint64_t count, uint32_t width);

facto_status fct_mfile_put_array(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data,
                                   size_t elem_size, uint64_t count)
{
    return fct_mfile_put_numbers(ctx, w, tag, data, elem_size, count, (uint32_t)elem_size);
}

facto_status fct_mfile_put_le(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data, size_t elem_size,
                              uint64_t count)
{
    return fct_mfile_put_numbers(ctx, w, tag, data, elem_size, count, 1);
}

void fct_le_copy(void *dst, const void *src, size_t elem_size, uint64_t count)
{
    if (count == 0)
        return;
    memcpy(dst, src, (size_t)(elem_size * count));
    if (!fct_mfile_host_le() && elem_size > 1)
        fct_mfile_swap(dst, elem_size, count);
}

static facto_status fct_mfile_put_numbers(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const void *data,
                                          size_t elem_size, uint64_t count, uint32_t width)
{
    if (!w || (!data && count))
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_mfile_put_array: writer and data must be given");
    if (elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8)
        return fct_mfile_wfail(ctx, w, FACTO_ERR_INVALID, "%s: element size %zu is not 1, 2, 4 or 8", w->path,
                                 elem_size);
    if (count > (uint64_t)SIZE_MAX / elem_size)
        return fct_mfile_wfail(ctx, w, FACTO_ERR_INVALID, "%s: section too large", w->path);
    uint64_t nbytes = count * elem_size;
    facto_status st = fct_mfile_begin(ctx, w, tag, width, nbytes);
    if (st != FACTO_OK)
        return st;
    const unsigned char *p = data;
    if (fct_mfile_host_le() || elem_size == 1) {
        for (uint64_t done = 0; done < nbytes;) {
            size_t n = nbytes - done < MFILE_IO_CHUNK ? (size_t)(nbytes - done) : MFILE_IO_CHUNK;
            if ((st = fct_mfile_write(ctx, w, p + done, n)) != FACTO_OK)
                return st;
            done += n;
        }
    } else {
        unsigned char tmp[4096];
        for (uint64_t done = 0; done < nbytes;) {
            size_t n = nbytes - done < sizeof tmp ? (size_t)(nbytes - done) : sizeof tmp;
            memcpy(tmp, p + done, n);
            fct_mfile_swap(tmp, elem_size, n / elem_size);
            if ((st = fct_mfile_write(ctx, w, tmp, n)) != FACTO_OK)
                return st;
            done += n;
        }
    }
    return fct_ok(ctx);
}

/* Hash bytes [0, n) of w's file by reading it back. */
static facto_status fct_mfile_hash_back(facto_ctx *ctx, fct_mfile_writer *w, uint64_t n, uint64_t *hash)
{
    XXH64_state_t *state = XXH64_createState();
    unsigned char *chunk = malloc(MFILE_IO_CHUNK);
    facto_status st = FACTO_OK;
    if (!state || !chunk) {
        st = fct_mfile_wfail(ctx, w, FACTO_ERR_NOMEM, "%s: out of memory", w->path);
        goto done;
    }
    XXH64_reset(state, 0);
    if (fflush(w->f) != 0 || fseek(w->f, 0, SEEK_SET) != 0) {
        st = fct_mfile_wfail(ctx, w, FACTO_ERR_IO, "%s: cannot write: %s", w->path, strerror(errno));
        goto done;
    }
    for (uint64_t done = 0; done < n;) {
        size_t want = n - done < MFILE_IO_CHUNK ? (size_t)(n - done) : MFILE_IO_CHUNK;
        if (fread(chunk, 1, want, w->f) != want) {
            st = fct_mfile_wfail(ctx, w, FACTO_ERR_IO, "%s: cannot read back the temporary file", w->path);
            goto done;
        }
        XXH64_update(state, chunk, want);
        done += want;
    }
    *hash = XXH64_digest(state);
done:
    XXH64_freeState(state);
    free(chunk);
    return st;
}

facto_status fct_mfile_commit(facto_ctx *ctx, fct_mfile_writer *w)
{
    if (!w)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_mfile_commit: no writer");
    facto_status st = w->failed;
    if (st != FACTO_OK) {
        fct_fail(ctx, st, "%s", w->failed_msg);
        fct_mfile_abort(w);
        return st;
    }
    /* Directory on a 64-byte boundary, then the header, then the hash. */
    if ((st = fct_mfile_pad(ctx, w)) != FACTO_OK)
        goto fail;
    uint64_t dir_off = w->offset;
    for (int32_t i = 0; i < w->n; i++) {
        unsigned char e[MFILE_DIRENT_SIZE];
        fct_le_store_u32(e, w->dir[i].tag);
        fct_le_store_u32(e + 4, w->dir[i].width);
        fct_le_store_u64(e + 8, w->dir[i].offset);
        fct_le_store_u64(e + 16, w->dir[i].size);
        if ((st = fct_mfile_write(ctx, w, e, sizeof e)) != FACTO_OK)
            goto fail;
    }
    uint64_t hashed = w->offset;
    unsigned char h[FACTO_MFILE_HEADER_SIZE] = {0};
    memcpy(h, MFILE_MAGIC, 8);
    fct_le_store_u32(h + 8, w->version);
    fct_le_store_u32(h + 12, (uint32_t)w->kind);
    fct_le_store_u64(h + 16, hashed + MFILE_HASH_SIZE);
    fct_le_store_u32(h + 24, (uint32_t)w->n);
    fct_le_store_u64(h + 32, dir_off);
    if (fflush(w->f) != 0 || fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, w->f) != sizeof h) {
        st = fct_mfile_wfail(ctx, w, FACTO_ERR_IO, "%s: cannot write: %s", w->path, strerror(errno));
        goto fail;
    }
    uint64_t hash = 0;
    if ((st = fct_mfile_hash_back(ctx, w, hashed, &hash)) != FACTO_OK)
        goto fail;
    unsigned char hb[MFILE_HASH_SIZE];
    fct_le_store_u64(hb, hash);
    if (fseek(w->f, 0, SEEK_END) != 0 || fwrite(hb, 1, sizeof hb, w->f) != sizeof hb) {
        st = fct_mfile_wfail(ctx, w, FACTO_ERR_IO, "%s: cannot write: %s", w->path, strerror(errno));
        goto fail;
    }
    /* fflush, fsync, rename, fsync the folder: the output's commit */
    facto_output *o = w->out;
    w->out = NULL;
    w->f = NULL;
    st = facto_output_commit(ctx, o);
    fct_mfile_writer_free(w);
    return st == FACTO_OK ? fct_ok(ctx) : st;
fail:
    fct_mfile_abort(w);
    return st;
}

/* ======================================================================
 * Reader
 * ====================================================================== */

void fct_mfile_close(fct_mfile_reader *r)
{
    if (!r)
        return;
    free(r->path);
    fct_aligned_free(r->buf);
    free(r->dir);
    free(r);
}

facto_model_kind fct_mfile_kind(const fct_mfile_reader *r) { return r->kind; }
uint32_t fct_mfile_version(const fct_mfile_reader *r) { return r->version; }
const char *fct_mfile_path(const fct_mfile_reader *r) { return r->path; }

const char *fct_mfile_writer_path(const fct_mfile_writer *w) { return w ? w->path : ""; }
int32_t fct_mfile_n_sections(const fct_mfile_reader *r) { return r ? r->n : 0; }

facto_status fct_mfile_section(const fct_mfile_reader *r, int32_t i, uint32_t *tag, uint64_t *nbytes)
{
    if (!r || i < 0 || i >= r->n)
        return FACTO_ERR_INVALID;
    if (tag)
        *tag = r->dir[i].tag;
    if (nbytes)
        *nbytes = r->dir[i].size;
    return FACTO_OK;
}

static const fct_mfile_dirent *fct_mfile_find(const fct_mfile_reader *r, uint32_t tag)
{
    for (int32_t i = 0; r && i < r->n; i++)
        if (r->dir[i].tag == tag)
            return &r->dir[i];
    return NULL;
}

int fct_mfile_has(const fct_mfile_reader *r, uint32_t tag) { return fct_mfile_find(r, tag) != NULL; }

static int fct_mfile_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Read exactly n bytes at `off`; returns 0, or an errno value (EIO on a short read). */
static int fct_mfile_pread_all(int fd, unsigned char *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fd, buf + done, n - done, (off_t)(off + done));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (got == 0)
            return EIO;
        done += (size_t)got;
    }
    return 0;
}

/* Verify the directory of a checksummed file and fill r->dir. */
static facto_status fct_mfile_parse_dir(facto_ctx *ctx, fct_mfile_reader *r)
{
    const unsigned char *h = r->buf;
    const char *path = r->path;
    uint32_t count = fct_le_load_u32(h + 24);
    uint64_t dir_off = fct_le_load_u64(h + 32);
    for (int i = 28; i < FACTO_MFILE_HEADER_SIZE; i++)
        if (i >= 32 && i < 40)
            continue;
        else if (h[i] != 0)
            return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: reserved header byte %d is not zero", path, i);
    uint64_t body_end = r->size - MFILE_HASH_SIZE;
    if (dir_off < FACTO_MFILE_HEADER_SIZE || dir_off % FACTO_MFILE_ALIGN != 0 || dir_off > body_end ||
        (body_end - dir_off) % MFILE_DIRENT_SIZE != 0 || (body_end - dir_off) / MFILE_DIRENT_SIZE != count ||
        count > INT32_MAX)
        return fct_fail(ctx, FACTO_ERR_CORRUPT,
                          "%s: section directory at offset %llu with %u entries does not fit a %llu-byte file",
                          path, (unsigned long long)dir_off, (unsigned)count, (unsigned long long)r->size);
    r->dir = fct_malloc_array(count, sizeof *r->dir);
    uint32_t *tags = fct_malloc_array(count, sizeof *tags);
    if (!r->dir || !tags) {
        free(tags);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    uint64_t prev_end = FACTO_MFILE_HEADER_SIZE;
    char ts[16];
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = r->buf + dir_off + (uint64_t)i * MFILE_DIRENT_SIZE;
        fct_mfile_dirent d = {fct_le_load_u32(e), fct_le_load_u32(e + 4), fct_le_load_u64(e + 8),
                                fct_le_load_u64(e + 16)};
        fct_mfile_tag_str(d.tag, ts);
        const char *bad = NULL;
        if (d.width != 1 && d.width != 2 && d.width != 4 && d.width != 8)
            bad = "has an element width other than 1, 2, 4 or 8";
        else if (d.offset % FACTO_MFILE_ALIGN != 0)
            bad = "starts at an offset that is not a multiple of 64";
        else if (d.offset < prev_end || d.offset > dir_off || d.size > dir_off - d.offset)
            bad = "lies outside the data area or overlaps another section";
        else if (d.size % d.width != 0)
            bad = "has a size that is not a multiple of its element width";
        if (bad) {
            free(tags);
            return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: section %u ('%s', offset %llu, %llu bytes) %s", path,
                              (unsigned)i, ts, (unsigned long long)d.offset, (unsigned long long)d.size, bad);
        }
        prev_end = d.offset + d.size;
        r->dir[i] = d;
        tags[i] = d.tag;
    }
    qsort(tags, count, sizeof *tags, fct_mfile_cmp_u32);
    for (uint32_t i = 1; i < count; i++)
        if (tags[i] == tags[i - 1]) {
            fct_mfile_tag_str(tags[i], ts);
            free(tags);
            return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: section '%s' appears twice", path, ts);
        }
    free(tags);
    r->n = (int32_t)count;
    return FACTO_OK;
}

facto_status fct_mfile_open(facto_ctx *ctx, const char *path, fct_mfile_reader **out)
{
    if (!path || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_mfile_open: path and out must be given");
    *out = NULL;
    /* O_NONBLOCK: a FIFO (or a device) named as a model would block open()
     * until a writer appears; opened without waiting, it is refused by its
     * type below. A regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fct_fail(ctx, FACTO_ERR_IO, "%s: not a regular file%s; a model is read from a regular file", path,
                        S_ISDIR(sb.st_mode)    ? " (a folder)"
                        : S_ISFIFO(sb.st_mode) ? " (a FIFO)"
                        : S_ISSOCK(sb.st_mode) ? " (a socket)"
                        : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? " (a device)"
                                                                     : "");
    }
    uint64_t size = (uint64_t)sb.st_size;
    facto_status st = FACTO_OK;
    fct_mfile_reader *r = calloc(1, sizeof *r);
    if (r)
        r->path = strdup(path);
    if (!r || !r->path || size > (uint64_t)SIZE_MAX) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    r->size = size;

    /* 1. Magic (on whatever prefix exists), 2. fixed parts present. */
    unsigned char h[FACTO_MFILE_HEADER_SIZE] = {0};
    size_t head = size < sizeof h ? (size_t)size : sizeof h;
    int e = fct_mfile_pread_all(fd, h, head, 0);
    if (e) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot read: %s", path, strerror(e));
        goto fail;
    }
    if (memcmp(h, MFILE_MAGIC, head < 8 ? head : 8) != 0) {
        st = fct_fail(ctx, FACTO_ERR_FORMAT, "%s: not a facto model file (no FACTOMDL magic)", path);
        goto fail;
    }
    if (size < FACTO_MFILE_HEADER_SIZE + MFILE_HASH_SIZE) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: truncated: %llu bytes, a model file has at least %d", path,
                        (unsigned long long)size, FACTO_MFILE_HEADER_SIZE + MFILE_HASH_SIZE);
        goto fail;
    }
    /* 3. Version before anything that a newer format may have changed. */
    r->version = fct_le_load_u32(h + 8);
    if (r->version > FACTO_MFILE_VERSION) {
        st = fct_fail(ctx, FACTO_ERR_VERSION,
                        "%s: written by a newer facto (format %u, this build reads up to %d)", path,
                        (unsigned)r->version, FACTO_MFILE_VERSION);
        goto fail;
    }
    if (r->version == 0) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: format version 0 does not exist", path);
        goto fail;
    }
    /* 4. Size field. */
    uint64_t total = fct_le_load_u64(h + 16);
    if (total != size) {
        if (size < total)
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: truncated: %llu bytes, the header says %llu", path,
                            (unsigned long long)size, (unsigned long long)total);
        else
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: %llu bytes, the header says %llu: extra bytes at the end",
                            path, (unsigned long long)size, (unsigned long long)total);
        goto fail;
    }
    /* 5. Whole file, checksum. */
    r->buf = fct_aligned_alloc((size_t)size);
    if (!r->buf) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for %llu bytes", path, (unsigned long long)size);
        goto fail;
    }
    if ((e = fct_mfile_pread_all(fd, r->buf, (size_t)size, 0)) != 0) {
        st = fct_fail(ctx, e == EIO ? FACTO_ERR_CORRUPT : FACTO_ERR_IO, "%s: cannot read: %s", path,
                        e == EIO ? "truncated while reading" : strerror(e));
        goto fail;
    }
    close(fd);
    fd = -1;
    uint64_t stored = fct_le_load_u64(r->buf + size - MFILE_HASH_SIZE);
    uint64_t computed = XXH64(r->buf, (size_t)(size - MFILE_HASH_SIZE), 0);
    if (stored != computed) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: checksum mismatch (stored %016llx, computed %016llx)", path,
                        (unsigned long long)stored, (unsigned long long)computed);
        goto fail;
    }
    /* 6. Directory. */
    if ((st = fct_mfile_parse_dir(ctx, r)) != FACTO_OK)
        goto fail;
    r->kind = (facto_model_kind)fct_le_load_u32(r->buf + 12);
    if (!fct_mfile_host_le())
        for (int32_t i = 0; i < r->n; i++)
            if (r->dir[i].width > 1)
                fct_mfile_swap(r->buf + r->dir[i].offset, r->dir[i].width, r->dir[i].size / r->dir[i].width);
    *out = r;
    return fct_ok(ctx);
fail:
    if (fd >= 0)
        close(fd);
    fct_mfile_close(r);
    return st;
}

facto_status fct_mfile_get(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, int64_t expect_bytes,
                             const void **data, uint64_t *nbytes)
{
    if (!r || !data)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_mfile_get: reader and data must be given");
    char ts[16];
    const fct_mfile_dirent *d = fct_mfile_find(r, tag);
    if (!d)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: section '%s' is missing", r->path,
                          fct_mfile_tag_str(tag, ts));
    if (expect_bytes >= 0 && d->size != (uint64_t)expect_bytes)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: section '%s' has %llu bytes, expected %lld", r->path,
                          fct_mfile_tag_str(tag, ts), (unsigned long long)d->size, (long long)expect_bytes);
    *data = r->buf + d->offset;
    if (nbytes)
        *nbytes = d->size;
    return fct_ok(ctx);
}

