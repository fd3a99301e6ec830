/*
 * output.c — the atomic output (output.h, facto_output in facto.h) and the
 * list of files a context read. Cost: O(bytes written) plus one scan of the
 * target's folder after each successful rename (stale temporary files).
 */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FCT_TMP_TAG ".facto-tmp."
#define FCT_MODEL_MAGIC "FACTOMDL"

/* ---- files a context read -------------------------------------------------- */

typedef struct fct_file_id {
    dev_t dev;
    ino_t ino;
} fct_file_id;

static void fct_ctx_note_stat(facto_ctx *ctx, const struct stat *st)
{
    if (!ctx || !S_ISREG(st->st_mode))
        return;
    fct_file_id *ids = ctx->inputs;
    for (int i = 0; i < ctx->n_inputs; i++)
        if (ids[i].dev == st->st_dev && ids[i].ino == st->st_ino)
            return;
    if (ctx->n_inputs == ctx->cap_inputs) {
        int cap = ctx->cap_inputs ? 2 * ctx->cap_inputs : 8;
        fct_file_id *grown = realloc(ids, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        ctx->inputs = ids = grown;
        ctx->cap_inputs = cap;
    }
    ids[ctx->n_inputs].dev = st->st_dev;
    ids[ctx->n_inputs].ino = st->st_ino;
    ctx->n_inputs++;
}

void fct_ctx_note_input(facto_ctx *ctx, const char *path)
{
    struct stat st;
    if (ctx && path && stat(path, &st) == 0)
        fct_ctx_note_stat(ctx, &st);
}

void fct_ctx_note_fd(facto_ctx *ctx, int fd)
{
    struct stat st;
    if (ctx && fd >= 0 && fstat(fd, &st) == 0)
        fct_ctx_note_stat(ctx, &st);
}

void fct_ctx_inputs_free(facto_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->inputs);
    ctx->inputs = NULL;
    ctx->n_inputs = ctx->cap_inputs = 0;
}

facto_status facto_ctx_add_input(facto_ctx *ctx, const char *path)
{
    if (!ctx || !path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_ctx_add_input: ctx and path must be given");
    struct stat st;
    if (stat(path, &st) != 0)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: %s", path, strerror(errno));
    fct_ctx_note_stat(ctx, &st);
    return fct_ok(ctx);
}

void facto_ctx_clear_inputs(facto_ctx *ctx) { fct_ctx_inputs_free(ctx); }

static int fct_ctx_has_input(const facto_ctx *ctx, const struct stat *st)
{
    const fct_file_id *ids = ctx ? ctx->inputs : NULL;
    for (int i = 0; ctx && i < ctx->n_inputs; i++)
        if (ids[i].dev == st->st_dev && ids[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* ---- temporary files removed on SIGINT / SIGTERM ----------------------------- */

#define FCT_TMP_SLOTS 64
static _Atomic(char *) fct_tmp_slots[FCT_TMP_SLOTS];
static pthread_once_t fct_sig_once = PTHREAD_ONCE_INIT;
static const int fct_sigs[] = {SIGINT, SIGTERM, SIGHUP};

static void fct_sig_cleanup(int sig)
{
    int saved = errno;
    for (int i = 0; i < FCT_TMP_SLOTS; i++) {
        char *p = atomic_load(&fct_tmp_slots[i]);
        if (p)
            unlink(p); /* async-signal-safe */
    }
    /* Die of the signal as if no handler were there. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved;
}

static void fct_sig_install(void)
{
    for (size_t i = 0; i < sizeof fct_sigs / sizeof fct_sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(fct_sigs[i], NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            continue; /* ignored, or the program's own handler: leave it */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = fct_sig_cleanup;
        sigemptyset(&sa.sa_mask);
        for (size_t j = 0; j < sizeof fct_sigs / sizeof fct_sigs[0]; j++)
            sigaddset(&sa.sa_mask, fct_sigs[j]);
        sigaction(fct_sigs[i], &sa, NULL);
    }
}

/* Register a temporary path (owned by the caller until unregistered);
 * returns its slot, or -1 when every slot is taken (then it is not
 * removed on a signal). */
static int fct_tmp_register(char *path)
{
    pthread_once(&fct_sig_once, fct_sig_install);
    for (int i = 0; i < FCT_TMP_SLOTS; i++) {
        char *expect = NULL;
        if (atomic_compare_exchange_strong(&fct_tmp_slots[i], &expect, path))
            return i;
    }
    return -1;
}

static void fct_tmp_unregister(int slot)
{
    if (slot >= 0)
        atomic_store(&fct_tmp_slots[slot], NULL);
}

/* ---- the output object ----------------------------------------------------- */

struct facto_output {
    facto_ctx *ctx; /* the context whose inputs are protected (borrowed) */
    char *path;     /* the file replaced (a symbolic link resolved) */
    char *shown;    /* the path as given, for messages */
    char *tmp;      /* NULL when writing a device or FIFO in place */
    FILE *f;
    unsigned flags;
    int slot;
};

int fct_output_dirname(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (!slash)
        n = snprintf(dir, size, ".");
    else if (slash == path)
        n = snprintf(dir, size, "/");
    else
        n = snprintf(dir, size, "%.*s", (int)(slash - path), path);
    return n > 0 && (size_t)n < size;
}

int fct_output_is_model(const char *path)
{
    unsigned char head[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    ssize_t got = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof head) : -1;
    close(fd);
    return got == (ssize_t)sizeof head && memcmp(head, FCT_MODEL_MAGIC, sizeof head) == 0;
}

/* What may be replaced at `path` (already resolved), given that it exists
 * with status *st. */
static facto_status fct_output_check_existing(facto_ctx *ctx, const char *shown, const char *path,
                                              const struct stat *st, unsigned flags)
{
    if (fct_ctx_has_input(ctx, st))
        return fct_fail(ctx, FACTO_ERR_IO,
                        "%s: is an input of this command; refusing to replace it (choose another output path)",
                        shown);
    if (S_ISDIR(st->st_mode))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: exists and is a folder; refusing to replace it", shown);
    if (flags & FACTO_OUTPUT_MODEL) {
        const char *what = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
                           : S_ISFIFO(st->st_mode)                      ? "a FIFO"
                           : S_ISSOCK(st->st_mode)                      ? "a socket"
                           : !S_ISREG(st->st_mode)                      ? "not a regular file"
                           : st->st_size > 0 && !fct_output_is_model(path) ? "a file that is not a facto model"
                                                                            : NULL;
        if (what)
            return fct_fail(ctx, FACTO_ERR_IO,
                            "%s: exists and is %s; refusing to replace it with a model (remove it or choose "
                            "another path)",
                            shown, what);
    } else if (S_ISREG(st->st_mode) && fct_output_is_model(path)) {
        return fct_fail(ctx, FACTO_ERR_IO,
                        "%s: is a facto model; refusing to replace it with this output (remove it or choose "
                        "another path)",
                        shown);
    }
    return FACTO_OK;
}

void facto_output_abort(facto_output *o)
{
    if (!o)
        return;
    if (o->f && o->f != stdout)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    fct_tmp_unregister(o->slot);
    free(o->tmp);
    free(o->path);
    free(o->shown);
    free(o);
}

facto_status facto_output_open(facto_ctx *ctx, const char *path, unsigned flags, facto_output **out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_output_open: out must be given");
    *out = NULL;
    if (!path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "the output path is empty");
    facto_output *o = calloc(1, sizeof *o);
    if (!o || !(o->shown = strdup(path)))
        goto nomem;
    o->ctx = ctx;
    o->flags = flags;
    o->slot = -1;
    struct stat ls, st;
    int exists = 0;
    if (lstat(path, &ls) == 0) {
        if (S_ISLNK(ls.st_mode)) {
            if (stat(path, &st) == 0) {
                exists = 1;
                o->path = realpath(path, NULL);
                if (!o->path) {
                    facto_status e = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot resolve the symbolic link: %s", path,
                                              strerror(errno));
                    facto_output_abort(o);
                    return e;
                }
            } else if (flags & FACTO_OUTPUT_MODEL) {
                facto_output_abort(o);
                return fct_fail(ctx, FACTO_ERR_IO,
                                "%s: a symbolic link to a missing file; refusing to replace it", path);
            }
        } else {
            st = ls;
            exists = 1;
        }
    }
    if (!o->path && !(o->path = strdup(path)))
        goto nomem;
    if (exists) {
        facto_status e = fct_output_check_existing(ctx, path, o->path, &st, flags);
        if (e != FACTO_OK) {
            facto_output_abort(o);
            return e;
        }
        if (!S_ISREG(st.st_mode)) { /* a device or FIFO: written in place */
            int fd = open(o->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
                facto_status e2 = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
                if (fd >= 0)
                    close(fd);
                facto_output_abort(o);
                return e2;
            }
            *out = o;
            return fct_ok(ctx);
        }
    }
    /* ".NAME.facto-tmp.PID.N" next to the target; N makes it unique. */
    const char *slash = strrchr(o->path, '/');
    size_t dlen = slash ? (size_t)(slash - o->path) + 1 : 0;
    const char *base = o->path + dlen;
    size_t cap = strlen(o->path) + 64;
    if (!(o->tmp = malloc(cap)))
        goto nomem;
    static atomic_uint fct_tmp_seq;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(o->tmp, cap, "%.*s.%s" FCT_TMP_TAG "%ld.%u", (int)dlen, o->path, base, (long)getpid(),
                 atomic_fetch_add(&fct_tmp_seq, 1));
        fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        facto_status e = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot write a file there: %s", path,
                                  strerror(errno));
        free(o->tmp);
        o->tmp = NULL; /* nothing was created */
        facto_output_abort(o);
        return e;
    }
    o->slot = fct_tmp_register(o->tmp);
    if (exists)
        (void)fchmod(fd, st.st_mode & 07777); /* the new file keeps the old one's permissions */
    if (!(o->f = fdopen(fd, "w+b"))) {
        close(fd);
        goto nomem;
    }
    *out = o;
    return fct_ok(ctx);
nomem:
    facto_output_abort(o);
    return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path ? path : "output");
}

FILE *facto_output_stream(facto_output *o) { return o ? o->f : NULL; }

const char *facto_output_path(const facto_output *o) { return o ? o->shown : NULL; }

/* Remove ".NAME.facto-tmp.PID.N" files of `o->path` whose process is gone. */
static void fct_output_remove_stale(const facto_output *o)
{
    char dir[PATH_MAX];
    if (!fct_output_dirname(o->path, dir, sizeof dir))
        return;
    const char *slash = strrchr(o->path, '/');
    const char *base = slash ? slash + 1 : o->path;
    char prefix[NAME_MAX + 32];
    int plen = snprintf(prefix, sizeof prefix, ".%s" FCT_TMP_TAG, base);
    if (plen <= 0 || (size_t)plen >= sizeof prefix)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
            continue;
        char *end = NULL;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (!end || *end != '.' || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its writer may still be running */
        char full[PATH_MAX];
        int n = snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (n > 0 && (size_t)n < sizeof full)
            unlink(full);
    }
    closedir(d);
}

static void fct_output_sync_dir(const char *path)
{
    char dir[PATH_MAX];
    if (!fct_output_dirname(path, dir, sizeof dir))
        return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

facto_status facto_output_commit(facto_ctx *ctx, facto_output *o)
{
    if (!o)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_output_commit: no output");
    facto_status st = FACTO_OK;
    int e = 0;
    FILE *f = o->f;
    o->f = NULL;
    if (ferror(f) || fflush(f) != 0)
        e = errno ? errno : EIO;
    if (!e && o->tmp && fsync(fileno(f)) != 0)
        e = errno;
    if (fclose(f) != 0 && !e)
        e = errno;
    if (e) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot write: %s%s", o->shown, strerror(e),
                      o->tmp ? " (nothing was written there; any old file is unchanged)" : "");
        facto_output_abort(o);
        return st;
    }
    if (!o->tmp) {
        facto_output_abort(o);
        return fct_ok(ctx);
    }
    /* Inputs read since the output was opened count too. */
    struct stat now;
    if (stat(o->path, &now) == 0 &&
        (st = fct_output_check_existing(ctx ? ctx : o->ctx, o->shown, o->path, &now, o->flags)) != FACTO_OK) {
        facto_output_abort(o);
        return st;
    }
    if (rename(o->tmp, o->path) != 0) {
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot rename %s over it: %s", o->shown, o->tmp, strerror(errno));
        facto_output_abort(o);
        return st;
    }
    fct_tmp_unregister(o->slot);
    o->slot = -1;
    free(o->tmp);
    o->tmp = NULL;
    fct_output_sync_dir(o->path);
    fct_output_remove_stale(o);
    facto_output_abort(o);
    return fct_ok(ctx);
}
