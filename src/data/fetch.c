/*
 * fetch.c — facto_dataset_fetch, built into libfacto_fetch (not libfacto):
 * libcurl streams a data set's zip to a temporary file while OpenSSL's EVP
 * hashes it (SHA-256, plus MD5 where GroupLens publishes one), then libzip
 * unpacks it into a temporary folder that is renamed into place, so a failed
 * fetch never leaves a half data set. Names, folders and checksums come from
 * the registry (registry.c). Cost: one pass over the download; memory O(1)
 * besides libzip's directory.
 */
#include "registry.h"

#include "../core/output.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <zip.h>

/* Remove a file tree (no symlinks followed). Best effort: used for clean-up. */
static void fct_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            char child[FACTO_REGISTRY_PATH_MAX];
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                    continue;
                int n = snprintf(child, sizeof child, "%s/%s", path, de->d_name);
                if (n > 0 && (size_t)n < sizeof child)
                    fct_rmtree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* mkdir -p */
static facto_status fct_mkdirs(facto_ctx *ctx, const char *path)
{
    char buf[FACTO_REGISTRY_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return fct_fail(ctx, FACTO_ERR_INVALID, "bad folder path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    if (!fct_path_is_dir(path))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: not a folder", path);
    return FACTO_OK;
}

typedef struct fct_download {
    FILE *out;
    EVP_MD_CTX *sha256;
    EVP_MD_CTX *md5;
    int64_t bytes;
    int write_failed;
    int64_t limit;   /* stop after this many bytes (the expected size), or -1 */
    int too_big;     /* the server sent more than `limit` */
} fct_download;

static size_t fct_download_write(char *data, size_t size, size_t nmemb, void *user)
{
    fct_download *d = user;
    size_t n = size * nmemb;
    /* A mirror that sends more than the known size of the zip (or without
     * end) is cut off here, before it can fill the disk. */
    if (d->limit >= 0 && (uint64_t)n > (uint64_t)(d->limit - d->bytes)) {
        d->too_big = 1;
        return 0;
    }
    if (fwrite(data, 1, n, d->out) != n) {
        d->write_failed = 1;
        return 0;
    }
    EVP_DigestUpdate(d->sha256, data, n);
    EVP_DigestUpdate(d->md5, data, n);
    d->bytes += (int64_t)n;
    return n;
}

static void fct_hex(const unsigned char *bytes, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static int fct_hex_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

static long fct_env_seconds(const char *name, long fallback)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end;
    long s = strtol(v, &end, 10);
    return (*end == '\0' && s > 0) ? s : fallback;
}

/* Download `url` into the open file `out`, hashing as it goes. */
static facto_status fct_download_url(facto_ctx *ctx, const char *url, FILE *out, const char *dest_dir,
                                       const char *folder, int64_t limit, char *sha256_hex, char *md5_hex,
                                       int64_t *bytes)
{
    fct_download d = {out, EVP_MD_CTX_new(), EVP_MD_CTX_new(), 0, 0, limit, 0};
    facto_status st = FACTO_OK;
    CURL *curl = NULL;
    if (!d.sha256 || !d.md5 || !EVP_DigestInit_ex(d.sha256, EVP_sha256(), NULL) ||
        !EVP_DigestInit_ex(d.md5, EVP_md5(), NULL)) {
        st = fct_fail(ctx, FACTO_ERR_INTERNAL, "OpenSSL: cannot set up SHA-256/MD5");
        goto done;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(curl = curl_easy_init())) {
        st = fct_fail(ctx, FACTO_ERR_NETWORK, "cannot start libcurl to download %s", url);
        goto done;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fct_download_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, fct_env_seconds("FACTO_CONNECT_TIMEOUT", 30));
    /* Give up on a stalled transfer: under 1 byte/s for 60 s. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "facto/" FACTO_VERSION_STRING);
    CURLcode rc = curl_easy_perform(curl);
    if (d.too_big) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the download is larger than the expected %lld bytes; stopped",
                        url, (long long)limit);
        goto done;
    }
    if (d.write_failed) {
        st = fct_fail(ctx, FACTO_ERR_IO, "cannot write the download of %s into %s: %s", url, dest_dir,
                        strerror(errno));
        goto done;
    }
    if (rc != CURLE_OK) {
        st = fct_fail(ctx, FACTO_ERR_NETWORK,
                        "cannot download %s: %s; download it by hand and unzip it into %s (it makes the folder "
                        "%s/%s), or set FACTO_DATA_HOME to the folder that holds your copy of %s/",
                        url, curl_err[0] ? curl_err : curl_easy_strerror(rc), dest_dir, dest_dir, folder, folder);
        goto done;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(d.sha256, digest, &n);
    fct_hex(digest, n, sha256_hex);
    EVP_DigestFinal_ex(d.md5, digest, &n);
    fct_hex(digest, n, md5_hex);
    *bytes = d.bytes;
done:
    if (curl)
        curl_easy_cleanup(curl);
    EVP_MD_CTX_free(d.sha256);
    EVP_MD_CTX_free(d.md5);
    return st;
}

/* Is a zip entry name safe to unpack (relative, no "..")? */
static int fct_safe_entry(const char *name)
{
    if (!*name || name[0] == '/')
        return 0;
    for (const char *p = name; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 1;
}

/* Unpack every entry of `zip_path` under `dir`. */
static facto_status fct_unzip(facto_ctx *ctx, const char *zip_path, const char *dir)
{
    int zerr = 0;
    zip_t *za = zip_open(zip_path, ZIP_RDONLY, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        facto_status st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: not a readable zip file: %s", zip_path,
                                     zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return st;
    }
    facto_status st = FACTO_OK;
    zip_int64_t n = zip_get_num_entries(za, 0);
    char path[FACTO_REGISTRY_PATH_MAX];
    char buf[65536];
    for (zip_int64_t i = 0; i < n && st == FACTO_OK; i++) {
        const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
        if (!name || !fct_safe_entry(name)) {
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: entry %lld has an unsafe name '%s'", zip_path, (long long)i,
                            name ? name : "");
            break;
        }
        if ((st = fct_path_join(ctx, path, sizeof path, dir, name)) != FACTO_OK)
            break;
        size_t len = strlen(path);
        if (path[len - 1] == '/') {
            path[len - 1] = '\0';
            st = fct_mkdirs(ctx, path);
            continue;
        }
        char *slash = strrchr(path, '/');
        *slash = '\0';
        st = fct_mkdirs(ctx, path);
        *slash = '/';
        if (st != FACTO_OK)
            break;
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        facto_output *o = NULL;
        if (!zf) {
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: cannot read entry '%s': %s", zip_path, name,
                          zip_strerror(za));
            break;
        }
        if ((st = facto_output_open(ctx, path, 0, &o)) != FACTO_OK) {
            zip_fclose(zf);
            break;
        }
        FILE *out = facto_output_stream(o);
        zip_int64_t got;
        while ((got = zip_fread(zf, buf, sizeof buf)) > 0) {
            if (fwrite(buf, 1, (size_t)got, out) != (size_t)got) {
                st = fct_fail(ctx, FACTO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
                break;
            }
        }
        if (got < 0 && st == FACTO_OK)
            st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: entry '%s' is damaged: %s", zip_path, name,
                            zip_file_strerror(zf));
        zip_fclose(zf);
        if (st == FACTO_OK)
            st = facto_output_commit(ctx, o);
        else
            facto_output_abort(o);
    }
    zip_discard(za);
    return st;
}

/*
 * Download `url` into dest_dir/FOLDER: check the size (when expect_bytes >= 0)
 * and each checksum given (hex; NULL skips it), unzip into a temporary folder
 * in dest_dir and rename its `folder` into place. Shared by
 * facto_dataset_fetch and the tests (which point it at file:// URLs).
 */
facto_status fct_fetch_zip(facto_ctx *ctx, const char *url, const char *sha256, const char *md5,
                             int64_t expect_bytes, const char *dest_dir, const char *folder)
{
    facto_status st = fct_mkdirs(ctx, dest_dir);
    if (st != FACTO_OK)
        return st;
    char target[FACTO_REGISTRY_PATH_MAX], zip_path[FACTO_REGISTRY_PATH_MAX], tmp_dir[FACTO_REGISTRY_PATH_MAX];
    char unpacked[FACTO_REGISTRY_PATH_MAX];
    if ((st = fct_path_join(ctx, target, sizeof target, dest_dir, folder)) != FACTO_OK)
        return st;
    int n1 = snprintf(zip_path, sizeof zip_path, "%s/.facto-fetch-%s-%ld.zip", dest_dir, folder, (long)getpid());
    int n2 = snprintf(tmp_dir, sizeof tmp_dir, "%s/.facto-unpack-%s-XXXXXX", dest_dir, folder);
    if (n1 < 0 || (size_t)n1 >= sizeof zip_path || n2 < 0 || (size_t)n2 >= sizeof tmp_dir)
        return fct_fail(ctx, FACTO_ERR_INVALID, "data home path '%s' is too long", dest_dir);

    facto_output *o = NULL;
    if ((st = facto_output_open(ctx, zip_path, 0, &o)) != FACTO_OK)
        return st;
    char got_sha[2 * EVP_MAX_MD_SIZE + 1] = "", got_md5[2 * EVP_MAX_MD_SIZE + 1] = "";
    int64_t bytes = 0;
    st = fct_download_url(ctx, url, facto_output_stream(o), dest_dir, folder, expect_bytes, got_sha, got_md5,
                          &bytes);
    if (st == FACTO_OK)
        st = facto_output_commit(ctx, o); /* a complete zip or none */
    else
        facto_output_abort(o);
    if (st != FACTO_OK)
        goto fail;
    if (expect_bytes >= 0 && bytes != expect_bytes) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: downloaded %lld bytes, expected %lld", url, (long long)bytes,
                        (long long)expect_bytes);
        goto fail;
    }
    if (sha256 && !fct_hex_equal(sha256, got_sha)) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: SHA-256 is %s, expected %s", url, got_sha, sha256);
        goto fail;
    }
    if (md5 && !fct_hex_equal(md5, got_md5)) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: MD5 is %s, expected %s", url, got_md5, md5);
        goto fail;
    }
    if (!mkdtemp(tmp_dir)) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot create a temporary folder: %s", dest_dir, strerror(errno));
        goto fail;
    }
    if ((st = fct_unzip(ctx, zip_path, tmp_dir)) != FACTO_OK)
        goto fail_dir;
    if ((st = fct_path_join(ctx, unpacked, sizeof unpacked, tmp_dir, folder)) != FACTO_OK)
        goto fail_dir;
    if (!fct_path_is_dir(unpacked)) {
        st = fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the zip holds no folder '%s'", url, folder);
        goto fail_dir;
    }
    if (rename(unpacked, target) != 0) {
        st = fct_path_is_dir(target) ? FACTO_OK
                                  : fct_fail(ctx, FACTO_ERR_IO, "cannot move %s to %s: %s", unpacked, target,
                                               strerror(errno));
        if (st != FACTO_OK)
            goto fail_dir;
    }
    fct_rmtree(tmp_dir);
    unlink(zip_path);
    return fct_ok(ctx);
fail_dir:
    fct_rmtree(tmp_dir);
fail:
    unlink(zip_path);
    return st;
}

facto_status facto_dataset_fetch(facto_ctx *ctx, const char *name)
{
    const fct_registry_entry *e = fct_registry_find(ctx, name);
    if (!e)
        return FACTO_ERR_NOT_FOUND;
    char home[FACTO_REGISTRY_PATH_MAX], target[FACTO_REGISTRY_PATH_MAX], url[1024];
    facto_status st = facto_data_home(ctx, home, sizeof home);
    if (st != FACTO_OK)
        return st;
    if ((st = fct_path_join(ctx, target, sizeof target, home, e->folder)) != FACTO_OK)
        return st;
    if (fct_path_is_dir(target)) {
        fct_log(ctx, FACTO_LOG_INFO, "%s is already in %s", e->name, target);
        return fct_ok(ctx);
    }
    /* FACTO_DATASETS_URL points at a mirror holding the same zips. */
    const char *base = getenv("FACTO_DATASETS_URL");
    if (!base || !*base)
        base = FACTO_ML_BASE_URL;
    size_t blen = strlen(base);
    int n = snprintf(url, sizeof url, "%s%s%s", base, base[blen - 1] == '/' ? "" : "/", e->zip);
    if (n < 0 || (size_t)n >= sizeof url)
        return fct_fail(ctx, FACTO_ERR_INVALID, "FACTO_DATASETS_URL is too long");
    fct_log(ctx, FACTO_LOG_INFO, "downloading %s into %s", url, home);
    return fct_fetch_zip(ctx, url, e->sha256, e->md5, e->zip_bytes, home, e->folder);
}
