/*
 * events_log.c — the server's event log: POST /events (one event object or
 * an array of them, checked by the reader's own checker, fct_event_check in
 * src/data/events.c), the impressions the top-N routes log themselves
 * (--log-impressions), and the writer: append-only JSON Lines files
 * events-YYYYMMDD-HH-NNNNNN.jsonl in --events-dir, a new file at start, on
 * the hour (UTC) and when the next write would pass rotate_bytes.
 *
 * One writer: a mutex guards the file; a request's events are one write()
 * of whole lines, so lines of two requests never interleave. Durability:
 * fsync_ms = 0 ("always") fdatasync's before the request is answered, so a
 * 2xx event survives kill -9 and a machine crash (group commit: one
 * fdatasync covers every append made before it, so concurrent requests
 * share it); fsync_ms > 0
 * ("interval") leaves that to a flusher thread every fsync_ms (an
 * acknowledged event survives kill -9, as the kernel holds it, but up to
 * fsync_ms of them may be lost to a machine crash). A write that fails
 * half-way is cut back (ftruncate) so no torn line stays mid-file; a crash
 * mid-write leaves at most one torn last line, which the reader skips and
 * counts. Closing (SIGTERM) syncs and closes the file.
 */
#include "data/events.h"
#include "serve/serve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct srv_events {
    char dir[4096];
    int fd;
    char name[4200];
    uint64_t bytes;       /* of the current file */
    long hour;            /* the current file's UTC hour (Unix time / 3600) */
    unsigned long seq;    /* the current file's sequence number */
    uint64_t rotate_bytes;
    int fsync_ms;         /* 0: always */
    int dirty;            /* written since the last sync */
    int stop;
    uint64_t appended;    /* appends so far (under lock) */
    uint64_t synced;      /* appends known durable (under sync_lock) */
    pthread_mutex_t lock;
    pthread_mutex_t sync_lock; /* "always": one fdatasync at a time, covering every append before it */
    pthread_cond_t wake;
    pthread_t flusher;
    int has_flusher;
    atomic_ullong written, rejected, files, syncs, write_errors, bytes_total;
};

static double srv_ev_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int srv_ev_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* The largest sequence number among the folder's log files, 0 if none. */
static unsigned long srv_ev_last_seq(const char *dir)
{
    DIR *d = opendir(dir);
    unsigned long best = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        unsigned y, h;
        unsigned long seq;
        char tail[16];
        if (sscanf(e->d_name, FCT_EV_PREFIX "%8u-%2u-%lu%15s", &y, &h, &seq, tail) == 4 &&
            strcmp(tail, FCT_EV_SUFFIX) == 0 && seq > best)
            best = seq;
    }
    if (d)
        closedir(d);
    return best;
}

/* Open the next file (lock held). 0, or -1 with errno. */
static int srv_ev_open_next(srv_events *e)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H", &tm);
    e->seq++;
    snprintf(e->name, sizeof e->name, "%s/" FCT_EV_PREFIX "%s-%06lu" FCT_EV_SUFFIX, e->dir, stamp, e->seq);
    int fd = open(e->name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    e->fd = fd;
    e->bytes = 0;
    e->hour = (long)(now / 3600);
    atomic_fetch_add(&e->files, 1);
    if (e->fsync_ms == 0)
        srv_ev_sync_dir(e->dir); /* the new name survives a crash too */
    return 0;
}

static void srv_ev_sync(srv_events *e)
{
    if (e->fd >= 0 && e->dirty) {
        fdatasync(e->fd);
        e->dirty = 0;
        atomic_fetch_add(&e->syncs, 1);
    }
}

static void *srv_ev_flusher(void *arg)
{
    srv_events *e = arg;
    pthread_mutex_lock(&e->lock);
    while (!e->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += e->fsync_ms / 1000;
        ts.tv_nsec += (long)(e->fsync_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&e->wake, &e->lock, &ts);
        srv_ev_sync(e);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

facto_status srv_events_open(facto_ctx *ctx, const char *dir, int fsync_ms, uint64_t rotate_bytes,
                             srv_events **out)
{
    *out = NULL;
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return fct_fail(ctx, FACTO_ERR_IO, "--events-dir %s: cannot create it: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fct_fail(ctx, FACTO_ERR_IO, "--events-dir %s is not a folder", dir);
    if (strlen(dir) >= 4000)
        return fct_fail(ctx, FACTO_ERR_INVALID, "--events-dir: path too long");
    srv_events *e = calloc(1, sizeof *e);
    if (!e)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    snprintf(e->dir, sizeof e->dir, "%s", dir);
    e->fd = -1;
    e->fsync_ms = fsync_ms;
    e->rotate_bytes = rotate_bytes ? rotate_bytes : ((uint64_t)64 << 20);
    e->seq = srv_ev_last_seq(dir);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->sync_lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    if (srv_ev_open_next(e) != 0) {
        int err = errno;
        pthread_mutex_destroy(&e->sync_lock);
        pthread_mutex_destroy(&e->lock);
        pthread_cond_destroy(&e->wake);
        free(e);
        return fct_fail(ctx, FACTO_ERR_IO, "--events-dir %s: cannot create a log file: %s", dir, strerror(err));
    }
    if (fsync_ms > 0) {
        if (pthread_create(&e->flusher, NULL, srv_ev_flusher, e) != 0) {
            srv_events_close(e);
            return fct_fail(ctx, FACTO_ERR_INTERNAL, "cannot start the event log's flusher thread");
        }
        e->has_flusher = 1;
    }
    *out = e;
    return fct_ok(ctx);
}

void srv_events_close(srv_events *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stop = 1;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    if (e->has_flusher)
        pthread_join(e->flusher, NULL);
    if (e->fd >= 0) {
        e->dirty = 1;
        srv_ev_sync(e);
        close(e->fd);
    }
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->sync_lock);
    pthread_cond_destroy(&e->wake);
    free(e);
}

const char *srv_events_file(const srv_events *e) { return e->name; }

/* Append whole lines (n_events of them) as one write; durable as the policy
 * says when this returns 0. -1 with errno on failure (nothing appended). */
static int srv_events_append(srv_events *e, const char *data, size_t len, uint64_t n_events)
{
    int rc = 0, err = 0;
    pthread_mutex_lock(&e->lock);
    long hour = (long)(time(NULL) / 3600);
    if (e->fd < 0 || hour != e->hour || (e->bytes > 0 && e->bytes + len > e->rotate_bytes)) {
        if (e->fd >= 0) {
            e->dirty = 1;
            srv_ev_sync(e);
            close(e->fd);
            e->fd = -1;
        }
        if (srv_ev_open_next(e) != 0) {
            err = errno;
            rc = -1;
        }
    }
    size_t done = 0;
    while (rc == 0 && done < len) {
        ssize_t w = write(e->fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err = w < 0 ? errno : EIO;
            rc = -1;
            if (done > 0 && ftruncate(e->fd, (off_t)e->bytes) != 0) {
                /* cannot cut the partial line back: start a new file so it stays the last line of its own */
                close(e->fd);
                e->fd = -1;
            }
            break;
        }
        done += (size_t)w;
    }
    uint64_t mine = 0;
    if (rc == 0) {
        e->bytes += len;
        e->dirty = 1;
        mine = ++e->appended;
    }
    pthread_mutex_unlock(&e->lock);
    if (rc == 0 && e->fsync_ms == 0) {
        /* group commit: whoever syncs covers every append before it, so
         * concurrent requests share one fdatasync; a rotation in between
         * synced the old file before closing it */
        pthread_mutex_lock(&e->sync_lock);
        if (e->synced < mine) {
            pthread_mutex_lock(&e->lock);
            uint64_t upto = e->appended;
            int fd = e->fd >= 0 ? dup(e->fd) : -1;
            e->dirty = 0;
            pthread_mutex_unlock(&e->lock);
            if (fd < 0 || fdatasync(fd) != 0) {
                err = fd < 0 ? EBADF : errno;
                rc = -1; /* written, but not known durable: not acknowledged */
                pthread_mutex_lock(&e->lock);
                e->dirty = 1;
                pthread_mutex_unlock(&e->lock);
            } else {
                e->synced = upto;
                atomic_fetch_add(&e->syncs, 1);
            }
            if (fd >= 0)
                close(fd);
        }
        pthread_mutex_unlock(&e->sync_lock);
    }
    if (rc == 0) {
        atomic_fetch_add(&e->written, n_events);
        atomic_fetch_add(&e->bytes_total, len);
    } else {
        atomic_fetch_add(&e->write_errors, 1);
        errno = err;
    }
    return rc;
}

void srv_events_metrics(srv_events *e, srv_buf *b)
{
    srv_buf_printf(b,
                   "# HELP facto_events_written_total Events appended to the event log (acknowledged).\n"
                   "# TYPE facto_events_written_total counter\nfacto_events_written_total %llu\n"
                   "# HELP facto_events_rejected_total Events refused by POST /events (bad input) or not written.\n"
                   "# TYPE facto_events_rejected_total counter\nfacto_events_rejected_total %llu\n"
                   "# HELP facto_events_bytes_total Bytes appended to the event log.\n"
                   "# TYPE facto_events_bytes_total counter\nfacto_events_bytes_total %llu\n"
                   "# HELP facto_events_files_total Event log files opened (start and rotations).\n"
                   "# TYPE facto_events_files_total counter\nfacto_events_files_total %llu\n"
                   "# HELP facto_events_fsyncs_total fdatasync calls on the event log.\n"
                   "# TYPE facto_events_fsyncs_total counter\nfacto_events_fsyncs_total %llu\n"
                   "# HELP facto_events_write_errors_total Appends to the event log that failed.\n"
                   "# TYPE facto_events_write_errors_total counter\nfacto_events_write_errors_total %llu\n",
                   atomic_load(&e->written), atomic_load(&e->rejected), atomic_load(&e->bytes_total),
                   atomic_load(&e->files), atomic_load(&e->syncs), atomic_load(&e->write_errors));
}

/* ---- POST /events ------------------------------------------------------------------ */

/* Lines to append, newline-terminated. */
typedef struct srv_ev_lines {
    char *p;
    size_t len, cap;
} srv_ev_lines;

static int srv_ev_lines_add(srv_ev_lines *l, char *line)
{
    if (!line)
        return 0;
    size_t n = strlen(line);
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *p = realloc(l->p, cap);
        if (!p) {
            free(line);
            return 0;
        }
        l->p = p;
        l->cap = cap;
    }
    memcpy(l->p + l->len, line, n);
    l->p[l->len + n] = '\n';
    l->len += n + 1;
    free(line);
    return 1;
}

static void srv_ev_reject(const srv_call *c, uint64_t n)
{
    atomic_fetch_add(&c->events->rejected, n);
}

void srv_route_events(const srv_call *c, srv_answer *a)
{
    if (!c->events) {
        srv_error(a, c, 404, "no_event_log", "this server keeps no event log: start it with --events-dir DIR");
        return;
    }
    if (c->content_type && *c->content_type) {
        facto_content_type t;
        if (facto_content_type_parse(c->ctx, c->content_type, &t) != FACTO_OK || t != FACTO_CONTENT_JSON) {
            srv_ev_reject(c, 1);
            srv_error(a, c, 415, "unsupported_media_type", "Content-Type '%.200s' is not application/json",
                      c->content_type);
            return;
        }
    }
    json_error_t err;
    json_t *root = json_loadb(c->body ? c->body : "", c->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        srv_ev_reject(c, 1);
        srv_error(a, c, 400, "malformed_json", "JSON error at line %d column %d: %s", err.line, err.column, err.text);
        return;
    }
    int array = json_is_array(root);
    size_t n = array ? json_array_size(root) : 1;
    if (array && n == 0) {
        srv_ev_reject(c, 1);
        srv_error(a, c, 400, "no_events", "the array holds no event");
        json_decref(root);
        return;
    }
    if (n > (size_t)c->max_instances) {
        srv_ev_reject(c, n);
        srv_error(a, c, 413, "too_many_events", "the request holds %zu events; the limit is %d (--max-instances)", n,
                  c->max_instances);
        json_decref(root);
        return;
    }
    srv_ev_lines lines = {0};
    double now = srv_ev_now();
    int ok = 1;
    for (size_t x = 0; ok && x < n; x++) {
        const json_t *j = array ? json_array_get(root, x) : root;
        fct_event e;
        char field[48], detail[256], where[80];
        if (!fct_event_check(j, &e, field, sizeof field, detail, sizeof detail) ||
            !fct_event_items_distinct(&e, field, sizeof field, detail, sizeof detail)) {
            if (array)
                snprintf(where, sizeof where, "events[%zu]%s%s", x, field[0] ? "." : "", field);
            else
                snprintf(where, sizeof where, "%s", field[0] ? field : "event");
            srv_ev_reject(c, n);
            srv_error(a, c, 400, "bad_event", "%s: %s", where, detail);
            ok = 0;
        } else if (!srv_ev_lines_add(&lines, fct_event_line(&e, now))) {
            srv_ev_reject(c, n);
            srv_error(a, c, 503, "out_of_memory", "no memory for %zu events", n);
            ok = 0;
        }
    }
    json_decref(root);
    if (ok && srv_events_append(c->events, lines.p, lines.len, n) != 0) {
        srv_ev_reject(c, n);
        srv_error(a, c, 503, "event_log_failed", "the events were not written: %s", strerror(errno));
        ok = 0;
    }
    free(lines.p);
    if (!ok)
        return;
    a->status = 200;
    a->content_type = "application/json";
    srv_buf_printf(&a->body, "{\"accepted\": %zu, \"request_id\": ", n);
    srv_buf_json_str(&a->body, c->request_id);
    srv_buf_str(&a->body, "}\n");
}

/* A jansson string of an id in facto_id_escape's form; NULL when out of memory. */
static json_t *srv_json_id_value(const char *id)
{
    char small[4 * 32];
    size_t n = facto_id_escape(id, small, sizeof small);
    if (n < sizeof small)
        return json_string(small);
    char *big = malloc(n + 1);
    if (!big)
        return NULL;
    facto_id_escape(id, big, n + 1);
    json_t *j = json_string(big);
    free(big);
    return j;
}

int srv_log_impression(const srv_call *c, srv_answer *a, const char *user, const facto_recommendation *rec, int n,
                       const char *route)
{
    if (!c->events || !c->log_impressions || n <= 0)
        return 1;
    const facto_idmap *items = facto_model_items(c->m->model);
    json_t *o = json_object(), *arr = json_array();
    int bad = !o || !arr;
    if (!bad) {
        /* ids in facto_id_escape's form, as POST /events takes them (always UTF-8); any failure
         * (out of memory) leaves the impression out rather than log a shifted list */
        bad |= json_object_set_new(o, "type", json_string("impression"));
        if (user)
            bad |= json_object_set_new(o, "user", srv_json_id_value(user));
        bad |= json_object_set(o, "items", arr);
        for (int x = 0; x < n; x++)
            bad |= json_array_append_new(arr, srv_json_id_value(facto_idmap_name(items, rec[x].item)));
        bad |= json_object_set_new(o, "request_id", json_string(c->request_id));
        bad |= json_object_set_new(o, "ts", json_real(srv_ev_now()));
        bad |= json_object_set_new(o, "route", json_string(route));
    }
    json_decref(arr);
    if (bad) {
        json_decref(o);
        atomic_fetch_add(&c->events->rejected, 1);
        return 1;
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    srv_ev_lines l = {0};
    if (!srv_ev_lines_add(&l, line)) {
        srv_error(a, c, 503, "out_of_memory", "no memory to log the impression");
        return 0;
    }
    int rc = srv_events_append(c->events, l.p, l.len, 1);
    int err = errno;
    free(l.p);
    if (rc != 0) {
        srv_error(a, c, 503, "event_log_failed", "the impression was not logged: %s", strerror(err));
        return 0;
    }
    return 1;
}
