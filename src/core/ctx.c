/*
 * ctx.c — the context: last error (status + message, SQLite style), logger
 * and thread count; status names; checked allocation helpers.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *facto_status_str(facto_status status)
{
    switch (status) {
    case FACTO_OK: return "ok";
    case FACTO_ERR_INVALID: return "invalid argument";
    case FACTO_ERR_IO: return "I/O error";
    case FACTO_ERR_PARSE: return "parse error";
    case FACTO_ERR_NOMEM: return "out of memory";
    case FACTO_ERR_FORMAT: return "not a facto model file";
    case FACTO_ERR_VERSION: return "unsupported format version";
    case FACTO_ERR_CORRUPT: return "corrupt file";
    case FACTO_ERR_DIVERGED: return "training diverged";
    case FACTO_ERR_NOT_FOUND: return "not found";
    case FACTO_ERR_NETWORK: return "network error";
    case FACTO_ERR_INTERNAL: return "internal error";
    case FACTO_ERR_EMPTY: return "no data";
    }
    return "unknown status";
}

facto_ctx *facto_ctx_new(void)
{
    facto_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->n_threads = 1;
    ctx->log_max = FACTO_LOG_INFO;
    return ctx;
}

void fct_ctx_reset(facto_ctx *ctx)
{
    free(ctx->inputs);
    facto_log_fn fn = ctx->log_fn;
    void *ud = ctx->log_user_data;
    facto_log_level max = ctx->log_max;
    int threads = ctx->n_threads;
    ctx->inputs = NULL;
    ctx->n_inputs = ctx->cap_inputs = 0;
    ctx->code = FACTO_OK;
    ctx->msg[0] = '\0';
    ctx->log_fn = fn;
    ctx->log_user_data = ud;
    ctx->log_max = max;
    ctx->n_threads = threads;
}

void facto_ctx_free(facto_ctx *ctx)
{
    if (ctx)
        free(ctx->inputs); /* output.c's list of files read */
    free(ctx);
}

const char *facto_errmsg(const facto_ctx *ctx) { return ctx ? ctx->msg : ""; }

facto_status facto_errcode(const facto_ctx *ctx) { return ctx ? ctx->code : FACTO_OK; }

void facto_ctx_set_log(facto_ctx *ctx, facto_log_fn fn, void *user_data, facto_log_level max_level)
{
    if (!ctx)
        return;
    ctx->log_fn = fn;
    ctx->log_user_data = user_data;
    ctx->log_max = max_level;
}

void facto_ctx_set_threads(facto_ctx *ctx, int n_threads)
{
    if (ctx)
        ctx->n_threads = n_threads < 0 ? 1 : n_threads;
}

int fct_threads(const facto_ctx *ctx)
{
    int n = ctx ? ctx->n_threads : 1;
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    return n;
}

uint64_t fct_memory_total(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r"); /* "max" or a byte count */
    if (f) {
        unsigned long long lim = 0;
        if (fscanf(f, "%llu", &lim) == 1 && lim > 0 && (total == 0 || lim < total))
            total = (uint64_t)lim;
        fclose(f);
    }
    return total;
}

facto_status fct_fail(facto_ctx *ctx, facto_status status, const char *fmt, ...)
{
    if (!ctx)
        return status;
    ctx->code = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
    return status;
}

facto_status fct_ok(facto_ctx *ctx)
{
    if (ctx) {
        ctx->code = FACTO_OK;
        ctx->msg[0] = '\0';
    }
    return FACTO_OK;
}

void fct_log(facto_ctx *ctx, facto_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_max)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->log_fn(level, line, ctx->log_user_data);
}

void *fct_malloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    return malloc(bytes ? bytes : 1);
}

void *fct_calloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *fct_realloc_array(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    return realloc(p, bytes ? bytes : 1);
}

void *fct_aligned_alloc(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
        return NULL;
    return p;
}

void fct_aligned_free(void *p) { free(p); }
