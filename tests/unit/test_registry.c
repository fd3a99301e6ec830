/*
 * test_registry.c — the data set registry and titles: data home resolution,
 * paths and official split files (in a fake data home), fetch failing
 * offline with FACTO_ERR_NETWORK and a message naming the address and the
 * folder, fetch of local zips (file:// URLs) with checksum, size, layout and
 * unsafe-name checks, and titles from u.item (ISO-8859-1), movies.dat and
 * movies.csv (quoted titles) converted to UTF-8; real ml-100k when present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zip.h>

#include "data/dataset.h"
#include "data/registry.h" /* fct_fetch_zip (src/data/fetch.c, in libfacto_fetch) */
#include "facto.h"
#include "testutil.h"

static char tmp_root[256];

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        char child[1024];
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                snprintf(child, sizeof child, "%s/%s", path, de->d_name);
                rm_rf(child);
            }
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/facto-test-registry-XXXXXX");
    if (!mkdtemp(tmp_root))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(tmp_root);
    return 0;
}

static void write_file(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void test_list(void **state)
{
    (void)state;
    const char *const *names = NULL;
    int n = facto_datasets_list(&names);
    assert_int_equal(n, 5);
    const char *want[] = {"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-latest-small"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(names[i], want[i]);
}

static void test_data_home(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char buf[512];
    char *saved = getenv("FACTO_DATA_HOME") ? strdup(getenv("FACTO_DATA_HOME")) : NULL;
    setenv("FACTO_DATA_HOME", "/some/where//", 1);
    assert_int_equal(facto_data_home(ctx, buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, "/some/where");
    char small[8];
    assert_int_equal(facto_data_home(ctx, small, sizeof small), FACTO_ERR_INVALID);
    unsetenv("FACTO_DATA_HOME");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    assert_int_equal(facto_data_home(ctx, buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, "/xdg/facto");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    assert_int_equal(facto_data_home(ctx, buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, "/home/u/.cache/facto");
    if (saved) {
        setenv("FACTO_DATA_HOME", saved, 1);
        free(saved);
    }
    facto_ctx_free(ctx);
}

static void test_paths_in_fake_home(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char *saved = getenv("FACTO_DATA_HOME") ? strdup(getenv("FACTO_DATA_HOME")) : NULL;
    char home[512], dir[600], path[1024], train[1024], test[1024];
    snprintf(home, sizeof home, "%s/home", tmp_root);
    mkdir(home, 0777);
    setenv("FACTO_DATA_HOME", home, 1);

    assert_int_equal(facto_dataset_path(ctx, "ml-5k", path, sizeof path), FACTO_ERR_NOT_FOUND);
    assert_non_null(strstr(facto_errmsg(ctx), "ml-5k"));
    /* Missing: the message says how to fetch and where the folder goes. */
    assert_int_equal(facto_dataset_path(ctx, "ml-10m", path, sizeof path), FACTO_ERR_NOT_FOUND);
    assert_non_null(strstr(facto_errmsg(ctx), "facto datasets fetch ml-10m"));
    assert_non_null(strstr(facto_errmsg(ctx), "https://files.grouplens.org/datasets/movielens/ml-10m.zip"));
    assert_non_null(strstr(facto_errmsg(ctx), "ml-10M100K"));

    snprintf(dir, sizeof dir, "%s/ml-100k", home);
    mkdir(dir, 0777);
    assert_int_equal(facto_dataset_path(ctx, "ml-100k", path, sizeof path), FACTO_OK);
    assert_string_equal(path, dir);

    /* Official split: both files must exist. */
    snprintf(path, sizeof path, "%s/u1.base", dir);
    write_file(path, "1\t1\t5\t0\n", 8);
    assert_int_equal(facto_dataset_split_files(ctx, "ml-100k", "u1", train, test, sizeof train),
                     FACTO_ERR_NOT_FOUND);
    assert_non_null(strstr(facto_errmsg(ctx), "u1.test"));
    snprintf(path, sizeof path, "%s/u1.test", dir);
    write_file(path, "1\t2\t4\t0\n", 8);
    assert_int_equal(facto_dataset_split_files(ctx, "ml-100k", "u1", train, test, sizeof train), FACTO_OK);
    snprintf(path, sizeof path, "%s/u1.base", dir);
    assert_string_equal(train, path);
    snprintf(path, sizeof path, "%s/u1.test", dir);
    assert_string_equal(test, path);
    assert_int_equal(facto_dataset_split_files(ctx, "ml-100k", "u9", train, test, sizeof train),
                     FACTO_ERR_NOT_FOUND);
    assert_non_null(strstr(facto_errmsg(ctx), "u9"));
    /* Whole data set: the ratings file, no test file. */
    assert_int_equal(facto_dataset_split_files(ctx, "ml-100k", NULL, train, test, sizeof train),
                     FACTO_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/u.data", dir);
    write_file(path, "1\t1\t5\t0\n", 8);
    assert_int_equal(facto_dataset_split_files(ctx, "ml-100k", NULL, train, test, sizeof train), FACTO_OK);
    assert_string_equal(train, path);
    assert_string_equal(test, "");
    /* ml-1m has no official splits. */
    snprintf(dir, sizeof dir, "%s/ml-1m", home);
    mkdir(dir, 0777);
    assert_int_equal(facto_dataset_split_files(ctx, "ml-1m", "u1", train, test, sizeof train), FACTO_ERR_NOT_FOUND);

    if (saved) {
        setenv("FACTO_DATA_HOME", saved, 1);
        free(saved);
    } else {
        unsetenv("FACTO_DATA_HOME");
    }
    facto_ctx_free(ctx);
}

static void test_fetch_offline(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char *saved = getenv("FACTO_DATA_HOME") ? strdup(getenv("FACTO_DATA_HOME")) : NULL;
    char home[512], dir[600];
    snprintf(home, sizeof home, "%s/offline", tmp_root);
    setenv("FACTO_DATA_HOME", home, 1);
    /* Port 1 on the loopback: refused at once, as any offline machine would. */
    setenv("FACTO_DATASETS_URL", "http://127.0.0.1:1/movielens", 1);
    setenv("FACTO_CONNECT_TIMEOUT", "2", 1);
    assert_int_equal(facto_dataset_fetch(ctx, "ml-latest-small"), FACTO_ERR_NETWORK);
    const char *msg = facto_errmsg(ctx);
    assert_non_null(strstr(msg, "http://127.0.0.1:1/movielens/ml-latest-small.zip"));
    assert_non_null(strstr(msg, home));
    assert_non_null(strstr(msg, "ml-latest-small"));
    snprintf(dir, sizeof dir, "%s/ml-latest-small", home);
    assert_false(is_dir(dir));
    assert_int_equal(count_entries(home), 0); /* no temporary file left behind */
    assert_int_equal(facto_dataset_fetch(ctx, "nope"), FACTO_ERR_NOT_FOUND);
    unsetenv("FACTO_DATASETS_URL");
    unsetenv("FACTO_CONNECT_TIMEOUT");
    if (saved) {
        setenv("FACTO_DATA_HOME", saved, 1);
        free(saved);
    } else {
        unsetenv("FACTO_DATA_HOME");
    }
    facto_ctx_free(ctx);
}

/* Build a zip with the given (name, content) entries; content NULL = folder. */
static void make_zip(const char *path, const char *const *names, const char *const *contents, int n)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(z);
    for (int i = 0; i < n; i++) {
        if (!contents[i]) {
            assert_true(zip_dir_add(z, names[i], ZIP_FL_ENC_UTF_8) >= 0);
            continue;
        }
        zip_source_t *src = zip_source_buffer(z, contents[i], strlen(contents[i]), 0);
        assert_non_null(src);
        assert_true(zip_file_add(z, names[i], src, ZIP_FL_ENC_UTF_8) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
}

static void file_sha256(const char *path, char hex[65], int64_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unsigned char md[32];
    unsigned len = 0;
    assert_int_equal(EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    *size = (int64_t)n;
}

static void read_back(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_fetch_local_zip(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char zip_path[512], url[600], dest[512], p[700], buf[128], sha[65];
    int64_t size = 0;
    snprintf(zip_path, sizeof zip_path, "%s/pack.zip", tmp_root);
    snprintf(url, sizeof url, "file://%s", zip_path);
    snprintf(dest, sizeof dest, "%s/dest", tmp_root);
    const char *names[] = {"pack/", "pack/a.txt", "pack/sub/b.txt"};
    const char *contents[] = {NULL, "alpha\n", "beta\n"};
    make_zip(zip_path, names, contents, 3);
    file_sha256(zip_path, sha, &size);

    /* Wrong checksum: refused, nothing unpacked, nothing left behind. */
    char bad[65];
    memcpy(bad, sha, 65);
    bad[0] = bad[0] == '0' ? '1' : '0';
    assert_int_equal(fct_fetch_zip(ctx, url, bad, NULL, size, dest, "pack"), FACTO_ERR_CORRUPT);
    assert_non_null(strstr(facto_errmsg(ctx), "SHA-256"));
    snprintf(p, sizeof p, "%s/pack", dest);
    assert_false(is_dir(p));
    assert_int_equal(count_entries(dest), 0);
    /* Wrong size. */
    assert_int_equal(fct_fetch_zip(ctx, url, sha, NULL, size + 1, dest, "pack"), FACTO_ERR_CORRUPT);
    /* Wrong MD5 (the MD5 of the empty string). */
    assert_int_equal(fct_fetch_zip(ctx, url, sha, "d41d8cd98f00b204e9800998ecf8427e", size, dest, "pack"),
                     FACTO_ERR_CORRUPT);
    assert_non_null(strstr(facto_errmsg(ctx), "MD5"));
    /* The zip does not make the folder we expect. */
    assert_int_equal(fct_fetch_zip(ctx, url, sha, NULL, size, dest, "other"), FACTO_ERR_CORRUPT);
    assert_int_equal(count_entries(dest), 0);
    /* Good: unpacked into place with its contents (checksum given in upper case). */
    for (char *c = sha; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    assert_int_equal(fct_fetch_zip(ctx, url, sha, NULL, size, dest, "pack"), FACTO_OK);
    snprintf(p, sizeof p, "%s/pack/a.txt", dest);
    read_back(p, buf, sizeof buf);
    assert_string_equal(buf, "alpha\n");
    snprintf(p, sizeof p, "%s/pack/sub/b.txt", dest);
    read_back(p, buf, sizeof buf);
    assert_string_equal(buf, "beta\n");
    assert_int_equal(count_entries(dest), 1); /* only pack/ */

    /* A zip whose entry climbs out of the folder is refused. */
    const char *evil_names[] = {"pack2/../../evil.txt"};
    const char *evil_contents[] = {"x"};
    make_zip(zip_path, evil_names, evil_contents, 1);
    assert_int_equal(fct_fetch_zip(ctx, url, NULL, NULL, -1, dest, "pack2"), FACTO_ERR_CORRUPT);
    snprintf(p, sizeof p, "%s/../evil.txt", dest);
    assert_int_not_equal(access(p, F_OK), 0);
    /* Not a zip at all. */
    write_file(zip_path, "not a zip", 9);
    assert_int_equal(fct_fetch_zip(ctx, url, NULL, NULL, -1, dest, "pack3"), FACTO_ERR_CORRUPT);
    /* Missing file: a download error. */
    snprintf(url, sizeof url, "file://%s/missing.zip", tmp_root);
    assert_int_equal(fct_fetch_zip(ctx, url, NULL, NULL, -1, dest, "pack4"), FACTO_ERR_NETWORK);
    assert_non_null(strstr(facto_errmsg(ctx), "missing.zip"));
    assert_int_equal(count_entries(dest), 1);
    facto_ctx_free(ctx);
}

static facto_idmap *make_items(const char *const *ids, int n)
{
    facto_idmap *m = fct_idmap_new();
    assert_non_null(m);
    for (int i = 0; i < n; i++)
        assert_int_equal(fct_idmap_intern(m, ids[i], strlen(ids[i])), i);
    return m;
}

static void test_titles_uitem_latin1(void **state)
{
    (void)state;
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/t100k", tmp_root);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/u.item", dir);
    const char data[] = "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                        "543|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
                        "7|Caf\xc3\xa9 (utf-8 already)|01-Jan-1995||\n";
    write_file(p, data, sizeof data - 1);
    const char *ids[] = {"543", "1", "999", "7"};
    facto_idmap *items = make_items(ids, 4);
    facto_ctx *ctx = facto_ctx_new();
    char **titles = NULL;
    int32_t n = 0;
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_OK);
    assert_int_equal(n, 4);
    assert_string_equal(titles[0], "Mis\xc3\xa9rables, Les (1995)"); /* U+00E9 as UTF-8 */
    assert_string_equal(titles[1], "Toy Story (1995)");
    assert_null(titles[2]);
    assert_string_equal(titles[3], "Caf\xc3\xa9 (utf-8 already)");
    facto_titles_free(titles, n);

    /* A line without a separator is a parse error naming file and line. */
    write_file(p, "1|A|x\nno separator here\n", 23);
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "u.item:2:"));
    assert_null(titles);
    fct_idmap_free(items);
    facto_ctx_free(ctx);
}

static void test_titles_dat_and_csv(void **state)
{
    (void)state;
    char dir[512], p[600];
    facto_ctx *ctx = facto_ctx_new();
    const char *ids[] = {"1", "2", "3", "4"};
    facto_idmap *items = make_items(ids, 4);
    char **titles = NULL;
    int32_t n = 0;

    snprintf(dir, sizeof dir, "%s/t1m", tmp_root);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/movies.dat", dir);
    const char dat[] = "1::Toy Story (1995)::Animation|Children's|Comedy\r\n"
                       "2::Cit\xe9 des enfants perdus, La (1995)::Adventure|Sci-Fi\r\n"
                       "3::Mus\xc3\xa9""e (1999)::Drama\r\n";
    write_file(p, dat, sizeof dat - 1);
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_OK);
    assert_string_equal(titles[0], "Toy Story (1995)");
    assert_string_equal(titles[1], "Cit\xc3\xa9 des enfants perdus, La (1995)");
    assert_string_equal(titles[2], "Mus\xc3\xa9""e (1999)");
    assert_null(titles[3]);
    facto_titles_free(titles, n);

    snprintf(dir, sizeof dir, "%s/t20m", tmp_root);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/movies.csv", dir);
    const char csv[] = "movieId,title,genres\n"
                       "1,Toy Story (1995),Adventure|Animation\n"
                       "2,\"American President, The (1995)\",Comedy|Drama|Romance\n"
                       "3,\"He Said \"\"Hi\"\", Twice (2001)\",Comedy\n"
                       "4,\"Broken \n";
    write_file(p, csv, sizeof csv - 1);
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "movies.csv:5:"));
    write_file(p, csv, sizeof csv - 1 - strlen("4,\"Broken \n"));
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_OK);
    assert_string_equal(titles[0], "Toy Story (1995)");
    assert_string_equal(titles[1], "American President, The (1995)");
    assert_string_equal(titles[2], "He Said \"Hi\", Twice (2001)");
    assert_null(titles[3]);
    facto_titles_free(titles, n);

    snprintf(dir, sizeof dir, "%s/none", tmp_root);
    mkdir(dir, 0777);
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_ERR_NOT_FOUND);
    fct_idmap_free(items);
    facto_ctx_free(ctx);
}

/* Real ml-100k: the registry finds it, and the titles match its README's facts. */
static void test_real_ml100k(void **state)
{
    (void)state;
    fct_test_need_data("ml-100k/u.item");
    char dir[1024];
    facto_ctx *ctx = facto_ctx_new();
    char train[1024], test[1024];
    assert_int_equal(facto_dataset_fetch(ctx, "ml-100k"), FACTO_OK); /* already there: no download */
    assert_int_equal(facto_dataset_path(ctx, "ml-100k", dir, sizeof dir), FACTO_OK);
    assert_int_equal(facto_dataset_split_files(ctx, "ml-100k", "ub", train, test, sizeof train), FACTO_OK);
    assert_non_null(strstr(train, "/ml-100k/ub.base"));
    assert_non_null(strstr(test, "/ml-100k/ub.test"));

    facto_idmap *items = fct_idmap_new();
    char id[16];
    for (int i = 1; i <= 1682; i++) {
        int len = snprintf(id, sizeof id, "%d", i);
        assert_int_equal(fct_idmap_intern(items, id, (size_t)len), i - 1);
    }
    char **titles = NULL;
    int32_t n = 0;
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_OK);
    assert_int_equal(n, 1682);
    for (int i = 0; i < n; i++)
        assert_non_null(titles[i]);
    assert_string_equal(titles[49], "Star Wars (1977)");
    assert_string_equal(titles[542], "Mis\xc3\xa9rables, Les (1995)");
    facto_titles_free(titles, n);
    fct_idmap_free(items);
    facto_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_data_home),
        cmocka_unit_test(test_paths_in_fake_home),
        cmocka_unit_test(test_fetch_offline),
        cmocka_unit_test(test_fetch_local_zip),
        cmocka_unit_test(test_titles_uitem_latin1),
        cmocka_unit_test(test_titles_dat_and_csv),
        fct_data_test(test_real_ml100k),
    };
    return fct_run_tests(tests, setup, teardown);
}
