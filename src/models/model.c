/*
 * model.c — the generic side of the model interface (model.h): the table of
 * registered kinds, free / kind / task / id maps, save and load, the
 * hyperparameters by name (facto_params over each kind's table), and the
 * helpers every driver uses to score a data set through the ops. Load reads
 * the kind from the verified file header and looks it up in the table, so a
 * file of a kind this build does not know is refused with a message saying
 * so. Cost: that of the model's own ops plus one verified read of the file.
 */
#include "model.h"

#include "data/dataset.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

/* Every kind this build knows, in facto_model_kind order. A new kind adds
 * its ops here (and a fit driver in src/train/fit.c). */
static const fct_model_ops *const fct_model_kinds[] = {
    &fct_mf_ops,
    &fct_fm_ops,
    &fct_popular_ops,
    &fct_itemknn_ops,
    &fct_ease_ops,
    &fct_ials_ops,
    &fct_bpr_ops,
    &fct_warp_ops,
    &fct_softmax_ops,
};
#define FCT_N_KINDS ((int)(sizeof fct_model_kinds / sizeof fct_model_kinds[0]))

const fct_model_ops *fct_model_kind_by_name(const char *name)
{
    for (int i = 0; name && i < FCT_N_KINDS; i++)
        if (strcmp(fct_model_kinds[i]->name, name) == 0)
            return fct_model_kinds[i];
    return NULL;
}

const fct_model_ops *fct_model_kind_by_id(facto_model_kind kind)
{
    for (int i = 0; i < FCT_N_KINDS; i++)
        if (fct_model_kinds[i]->kind == kind)
            return fct_model_kinds[i];
    return NULL;
}

/* "mf, fm" into buf. */
static const char *fct_kind_list(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < FCT_N_KINDS && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", fct_model_kinds[i]->name);
    return buf;
}

static void fct_kind_fill(const fct_model_ops *ops, facto_kind_info *out)
{
    out->name = ops->name;
    out->kind = ops->kind;
    out->summary = ops->summary;
    out->train_inputs = ops->train_inputs;
    out->thread_invariant = ops->thread_invariant;
}

int facto_model_kind_count(void) { return FCT_N_KINDS; }

facto_status facto_model_kind_info(facto_ctx *ctx, int index, facto_kind_info *out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_kind_info: out must be given");
    if (index < 0 || index >= FCT_N_KINDS)
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "model kind %d: this build knows %d kinds", index, FCT_N_KINDS);
    fct_kind_fill(fct_model_kinds[index], out);
    return fct_ok(ctx);
}

facto_status facto_model_kind_find(facto_ctx *ctx, const char *name, facto_kind_info *out)
{
    if (!out || !name)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_kind_find: a name and out must be given");
    const fct_model_ops *ops = fct_model_kind_by_name(name);
    if (!ops) {
        char list[256];
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "unknown model kind '%s' (known: %s)", name,
                        fct_kind_list(list, sizeof list));
    }
    fct_kind_fill(ops, out);
    return fct_ok(ctx);
}

/* ---- a model of any kind ------------------------------------------------------ */

void facto_model_free(facto_model *model)
{
    if (model)
        free(atomic_load(&model->topn_quant));
    if (model && model->ops && model->ops->free)
        model->ops->free(model);
}

facto_model_kind facto_model_get_kind(const facto_model *model)
{
    return model && model->ops ? model->ops->kind : (facto_model_kind)0;
}

const char *facto_model_kind_name(facto_model_kind kind)
{
    const fct_model_ops *ops = fct_model_kind_by_id(kind);
    return ops ? ops->name : "unknown";
}

facto_task facto_model_task(const facto_model *model)
{
    return model && model->ops ? model->ops->task(model) : (facto_task)0;
}

unsigned facto_model_inputs(const facto_model *model)
{
    return model && model->ops ? model->ops->inputs(model) : 0u;
}

const facto_idmap *facto_model_users(const facto_model *model)
{
    return model && model->ops && model->ops->users ? model->ops->users(model) : NULL;
}

const facto_idmap *facto_model_items(const facto_model *model)
{
    return model && model->ops && model->ops->items ? model->ops->items(model) : NULL;
}

facto_status facto_model_save_check(facto_ctx *ctx, const char *path) { return fct_mfile_check_path(ctx, path); }

facto_status facto_model_save(facto_ctx *ctx, const facto_model *model, const char *path)
{
    if (!model || !model->ops || !model->ops->save || !path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_save: a model and a path must be given");
    fct_mfile_writer *w = NULL;
    facto_status st = fct_mfile_create(ctx, path, model->ops->kind, &w);
    if (st != FACTO_OK)
        return st;
    st = model->ops->save(ctx, model, w);
    if (st != FACTO_OK) {
        fct_mfile_abort(w);
        return st;
    }
    return fct_mfile_commit(ctx, w);
}

facto_status facto_model_load(facto_ctx *ctx, const char *path, facto_model **out)
{
    if (!path || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_load: a path and out must be given");
    *out = NULL;
    fct_mfile_reader *r = NULL;
    facto_status st = fct_mfile_open(ctx, path, &r);
    if (st != FACTO_OK)
        return st;
    uint32_t kind = (uint32_t)fct_mfile_kind(r);
    const fct_model_ops *ops = fct_model_kind_by_id((facto_model_kind)kind);
    if (!ops || !ops->load) {
        st = fct_fail(ctx, FACTO_ERR_FORMAT, "%s: model kind %u is unknown to this build of facto", path,
                      (unsigned)kind);
        fct_mfile_close(r);
        return st;
    }
    facto_model *m = NULL;
    st = ops->load(ctx, r, &m);
    fct_mfile_close(r);
    if (st != FACTO_OK)
        return st; /* a loader frees what it built when it fails */
    if (!m)
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "%s: the %s loader returned no model", path, ops->name);
    if (!m->ops)
        m->ops = ops;
    *out = m;
    return fct_ok(ctx);
}

/* ---- hyperparameters by name ------------------------------------------------------ */

struct facto_params {
    const fct_ptable *table;
    void *data; /* [table->size] bytes: the kind's struct */
};

static facto_status fct_params_alloc(facto_ctx *ctx, const fct_ptable *t, facto_params **out)
{
    facto_params *p = calloc(1, sizeof *p);
    void *data = p ? calloc(1, t->size) : NULL;
    if (!data) {
        free(p);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %s hyperparameters", t->kind);
    }
    p->table = t;
    p->data = data;
    *out = p;
    return FACTO_OK;
}

facto_status facto_params_new(facto_ctx *ctx, const char *kind, facto_params **out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_new: out must be given");
    *out = NULL;
    const fct_model_ops *ops = fct_model_kind_by_name(kind);
    if (!ops) {
        char list[256];
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "unknown model kind '%s' (known: %s)", kind ? kind : "(null)",
                        fct_kind_list(list, sizeof list));
    }
    facto_status st = fct_params_alloc(ctx, ops->params, out);
    if (st != FACTO_OK)
        return st;
    ops->params->defaults((*out)->data);
    return fct_ok(ctx);
}

void facto_params_free(facto_params *params)
{
    if (!params)
        return;
    free(params->data);
    free(params);
}

const char *facto_params_kind(const facto_params *params) { return params ? params->table->kind : "unknown"; }

const void *fct_params_struct(const facto_params *params) { return params ? params->data : NULL; }

const fct_ptable *fct_params_table(const facto_params *params) { return params ? params->table : NULL; }

/*
 * A name `t`'s kind does not have: FACTO_ERR_INVALID or _NOT_FOUND (`code`)
 * with a message that says which other kinds have it and under which
 * canonical name ("popular models have no hyperparameter 'factors'
 * (num_factors of mf, fm, ials, bpr, warp, softmax)"), so a SageMaker name
 * or alias given to the wrong kind reads as such, not as a typo.
 */
static facto_status fct_params_unknown(facto_ctx *ctx, const fct_ptable *t, const char *name, facto_status code)
{
    char where[512] = "";
    size_t len = 0;
    const char *done[FCT_N_KINDS];
    int n_done = 0;
    for (int i = 0; i < FCT_N_KINDS; i++) {
        const fct_pdesc *d = fct_model_kinds[i]->params ? fct_params_find(fct_model_kinds[i]->params, name) : NULL;
        int seen = 0;
        for (int j = 0; d && j < n_done; j++)
            seen |= strcmp(done[j], d->name) == 0;
        if (!d || seen || fct_model_kinds[i]->params == t)
            continue;
        /* one group a canonical name: "reg_factors of mf; reg of bpr, warp" */
        done[n_done++] = d->name;
        for (int j = i, first = 1; j < FCT_N_KINDS && len < sizeof where; j++) {
            const fct_ptable *o = fct_model_kinds[j]->params;
            const fct_pdesc *e = o && o != t ? fct_params_find(o, name) : NULL;
            if (!e || strcmp(e->name, d->name) != 0)
                continue;
            len += (size_t)snprintf(where + len, sizeof where - len, "%s%s%s", first ? (len ? "; " : "") : ", ",
                                    first ? d->name : "", first ? " of " : "");
            if (len < sizeof where)
                len += (size_t)snprintf(where + len, sizeof where - len, "%s", o->kind);
            first = 0;
        }
    }
    if (len == 0)
        return fct_fail(ctx, code, "unknown hyperparameter '%s' for %s models", name, t->kind);
    return fct_fail(ctx, code, "%s models have no hyperparameter '%s' (it is %s)", t->kind, name, where);
}

facto_status facto_params_set(facto_ctx *ctx, facto_params *params, const char *name, const char *value)
{
    if (!params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_set: params must be given");
    if (name && !fct_params_find(params->table, name))
        return fct_params_unknown(ctx, params->table, name, FACTO_ERR_INVALID);
    return fct_params_set(ctx, params->table, params->data, name, value);
}

facto_status facto_params_get(facto_ctx *ctx, const facto_params *params, const char *name, char *buf, size_t size)
{
    if (!params || !name || !buf || size == 0)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_get: params, a name and a buffer must be given");
    const fct_pdesc *d = fct_params_find(params->table, name);
    if (!d)
        return fct_params_unknown(ctx, params->table, name, FACTO_ERR_NOT_FOUND);
    char val[64];
    fct_params_value(d, params->data, val, sizeof val);
    if (strlen(val) >= size)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_get: %zu bytes are too few for %s", size, d->name);
    memcpy(buf, val, strlen(val) + 1);
    return fct_ok(ctx);
}

facto_status facto_params_load_json(facto_ctx *ctx, facto_params *params, const char *path)
{
    if (!params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_load_json: params must be given");
    return fct_params_load_json(ctx, params->table, params->data, path);
}

size_t facto_params_format(const facto_params *params, char *buf, size_t size)
{
    if (!params) {
        if (buf && size > 0)
            buf[0] = '\0';
        return 0;
    }
    return fct_params_dump(params->table, params->data, buf, size);
}

facto_status facto_params_validate(facto_ctx *ctx, const facto_params *params)
{
    if (!params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_validate: params must be given");
    return fct_params_check(ctx, params->table, params->data);
}

unsigned facto_params_inputs(const facto_params *params)
{
    if (!params)
        return 0;
    const fct_model_ops *ops = fct_model_kind_by_name(params->table->kind);
    if (!ops)
        return 0;
    return ops->inputs_of ? ops->inputs_of(params->data) : ops->train_inputs;
}

facto_task facto_params_task(const facto_params *params)
{
    if (!params)
        return 0;
    const fct_model_ops *ops = fct_model_kind_by_name(params->table->kind);
    if (!ops)
        return 0;
    return ops->task_of ? ops->task_of(params->data) : FACTO_TASK_REGRESSION;
}

size_t facto_params_describe(const facto_params *params, char *buf, size_t size)
{
    const fct_model_ops *ops = params ? fct_model_kind_by_name(params->table->kind) : NULL;
    if (ops && ops->describe)
        return ops->describe(params->data, buf, size);
    if (buf && size > 0)
        buf[0] = '\0';
    return 0;
}

int facto_params_used(const facto_params *params, const char *name)
{
    const fct_pdesc *d = params && name ? fct_params_find(params->table, name) : NULL;
    if (!d)
        return -1;
    const fct_model_ops *ops = fct_model_kind_by_name(params->table->kind);
    return ops && ops->param_used ? ops->param_used(params->data, d) != 0 : 1;
}

int facto_params_count(const facto_params *params) { return params ? params->table->n : 0; }

facto_status facto_params_info(facto_ctx *ctx, const facto_params *params, int index, facto_param_info *out)
{
    if (!params || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_params_info: params and out must be given");
    if (index < 0 || index >= params->table->n)
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "%s hyperparameter %d: there are %d", params->table->kind, index,
                        params->table->n);
    const fct_pdesc *d = &params->table->desc[index];
    out->choices[0] = '\0';
    if (d->type == FCT_PT_ENUM) {
        size_t len = 0, cap = sizeof out->choices;
        for (const fct_penum *c = d->choices; c && c->name && len < cap; c++)
            len += (size_t)snprintf(out->choices + len, cap - len, "%s%s", len ? "|" : "", c->name);
    }
    out->name = d->name;
    out->aliases = d->aliases ? d->aliases : "";
    out->type = d->type == FCT_PT_FLOAT ? "float" : d->type == FCT_PT_ENUM ? "choice" : "int";
    out->help = d->help ? d->help : "";
    out->origin = d->origin ? d->origin : "";
    out->unset_text = d->unset_text ? d->unset_text : "";
    out->required = (d->flags & FCT_PF_REQUIRED) != 0;
    return fct_ok(ctx);
}

facto_status facto_model_params(facto_ctx *ctx, const facto_model *model, facto_params **out)
{
    if (!model || !out || !model->ops->get_params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_params: a model and out must be given");
    *out = NULL;
    const fct_ptable *t = model->ops->params;
    facto_status st = fct_params_alloc(ctx, t, out);
    if (st != FACTO_OK)
        return st;
    memcpy((*out)->data, model->ops->get_params(model), t->size);
    return fct_ok(ctx);
}

/* ---- scoring helpers ------------------------------------------------------------ */

facto_status fct_model_map_ids(facto_ctx *ctx, const facto_idmap *from, const facto_idmap *to, int32_t **out)
{
    int32_t n = facto_idmap_size(from);
    int32_t *map = fct_malloc_array((size_t)(n > 0 ? n : 1), sizeof *map);
    if (!map)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory mapping %d ids", n);
    if (fct_idmap_equal(from, to)) {
        /* The same id table (a test .fds written with the training set's
         * ids): compared as one blob, no id hashed, no lookup table built. */
        for (int32_t x = 0; x < n; x++)
            map[x] = x;
    } else {
        for (int32_t x = 0; x < n; x++)
            map[x] = facto_idmap_find(to, facto_idmap_name(from, x));
    }
    *out = map;
    return FACTO_OK;
}

/* Users [u0, u1) of fct_model_score_dataset into scores / acc; counts added
 * to *unk_u, *unk_i. The mapped pages of a .fds data set are given back
 * once read (every 2^20 ratings, and at the end). */
static facto_status fct_score_users(facto_ctx *ctx, const facto_model *model, const facto_dataset *data,
                                    const int32_t *umap, const int32_t *imap, float *scores, fct_err_acc *acc,
                                    int32_t u0, int32_t u1, int64_t *unk_u, int64_t *unk_i)
{
    int64_t width = 0;
    for (int32_t tu = u0; tu < u1; tu++) {
        int64_t d = data->row_ptr[tu + 1] - data->row_ptr[tu];
        width = d > width ? d : width;
    }
    size_t cells = (size_t)(width > 0 ? width : 1);
    int32_t *items = fct_malloc_array(cells, sizeof *items);
    float *scratch = scores ? NULL : fct_malloc_array(cells, sizeof *scratch);
    if (!items || (!scores && !scratch)) {
        free(items);
        free(scratch);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory scoring %lld ratings", (long long)data->n_ratings);
    }
    facto_status st = FACTO_OK;
    int64_t released = data->row_ptr[u0];
    for (int32_t tu = u0; tu < u1 && st == FACTO_OK; tu++) {
        int64_t b = data->row_ptr[tu], n = data->row_ptr[tu + 1] - b;
        if (n == 0)
            continue;
        int32_t u = umap ? umap[tu] : tu;
        for (int64_t x = 0; x < n; x++) {
            int32_t i = fct_ds_item(data, b + x);
            items[x] = imap ? imap[i] : i;
            *unk_i += items[x] < 0;
        }
        *unk_u += u < 0 ? n : 0;
        fct_query q = fct_query_user(u);
        float *out = scores ? scores + b : scratch;
        st = model->ops->score(ctx, model, &q, items, n, FCT_SCORE_PREDICT, out);
        for (int64_t x = 0; acc && st == FACTO_OK && x < n; x++)
            fct_err_acc_add(acc, out[x], fct_ds_rating(data, b + x));
        if (b + n - released >= ((int64_t)1 << 20)) { /* a mapped .fds file's pages, once read */
            fct_dataset_release(data, released, b + n);
            released = b + n;
        }
    }
    if (st == FACTO_OK)
        fct_dataset_release(data, released, data->row_ptr[u1]);
    free(items);
    free(scratch);
    return st;
}

/* Ratings per piece of a parallel scoring pass: the pieces (and so the
 * order in which the error sums are added) depend on the data alone, not on
 * the thread count; a data set of at most this many ratings is one piece,
 * summed in CSR order as by one thread. */
#define FCT_SCORE_PIECE ((int64_t)1 << 18)

facto_status fct_model_score_dataset(facto_ctx *ctx, const facto_model *model, const facto_dataset *data,
                                     const int32_t *umap, const int32_t *imap, float *scores, fct_err_acc *acc,
                                     int64_t *n_unknown_users, int64_t *n_unknown_items)
{
    int64_t unk_u = 0, unk_i = 0;
    const int32_t nu = data->n_users;
    /* pieces: user ranges of about FCT_SCORE_PIECE ratings, cut[0] = 0 .. cut[np] = nu */
    int32_t np = (int32_t)((data->n_ratings + FCT_SCORE_PIECE - 1) / FCT_SCORE_PIECE);
    int n_threads = fct_threads(ctx);
    if (np < 2 || n_threads < 2 || nu < 2) {
        facto_status st = fct_score_users(ctx, model, data, umap, imap, scores, acc, 0, nu, &unk_u, &unk_i);
        if (n_unknown_users)
            *n_unknown_users = unk_u;
        if (n_unknown_items)
            *n_unknown_items = unk_i;
        return st;
    }
    int32_t *cut = fct_malloc_array((size_t)np + 1, sizeof *cut);
    fct_err_acc *pacc = fct_calloc_array((size_t)np, sizeof *pacc);
    int64_t *punk = fct_calloc_array(2 * (size_t)np, sizeof *punk);
    facto_status *pst = fct_malloc_array((size_t)np, sizeof *pst);
    if (!cut || !pacc || !punk || !pst) {
        free(cut);
        free(pacc);
        free(punk);
        free(pst);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory scoring %lld ratings", (long long)data->n_ratings);
    }
    cut[0] = 0;
    for (int32_t p = 1, u = 0; p < np; p++) {
        const int64_t want = FCT_SCORE_PIECE * p;
        while (u < nu && data->row_ptr[u] < want)
            u++;
        cut[p] = u;
    }
    cut[np] = nu;
    if (n_threads > np)
        n_threads = np;
    /* A piece that fails is scored again below with the caller's context,
     * so its message is written by one thread. */
#pragma omp parallel num_threads(n_threads)
    {
        facto_ctx *tctx = facto_ctx_new();
#pragma omp for schedule(dynamic, 1)
        for (int32_t p = 0; p < np; p++)
            pst[p] = tctx ? fct_score_users(tctx, model, data, umap, imap, scores, acc ? &pacc[p] : NULL, cut[p],
                                            cut[p + 1], &punk[2 * p], &punk[2 * p + 1])
                          : FACTO_ERR_NOMEM;
        facto_ctx_free(tctx);
    }
    facto_status st = FACTO_OK;
    for (int32_t p = 0; p < np && st == FACTO_OK; p++) {
        if (pst[p] != FACTO_OK) {
            int64_t a = 0, b = 0;
            fct_err_acc junk = {0.0, 0.0, 0};
            st = fct_score_users(ctx, model, data, umap, imap, scores, &junk, cut[p], cut[p + 1], &a, &b);
            if (st != FACTO_OK)
                break;
            pacc[p] = junk;
            punk[2 * p] = a;
            punk[2 * p + 1] = b;
        }
        if (acc)
            fct_err_acc_merge(acc, &pacc[p]);
        unk_u += punk[2 * p];
        unk_i += punk[2 * p + 1];
    }
    free(cut);
    free(pacc);
    free(punk);
    free(pst);
    if (n_unknown_users)
        *n_unknown_users = unk_u;
    if (n_unknown_items)
        *n_unknown_items = unk_i;
    return st;
}

/* ---- per-user training item lists in model files ------------------------------- */

const char *fct_model_check_seen_list(const int64_t *ptr, const fct_seen_list *items, int32_t n_users,
                                      int32_t n_items, int64_t n_seen)
{
    if (ptr[0] != 0 || ptr[n_users] != n_seen)
        return "seen list offsets do not span the seen list";
    for (int32_t u = 0; u < n_users; u++) {
        int64_t a = ptr[u], z = ptr[u + 1];
        if (a > z || a < 0 || z > n_seen)
            return "seen list offsets are not increasing";
        for (int64_t x = a; x < z; x++) {
            int32_t i = fct_seen_at(items, x);
            if (i < 0 || i >= n_items || (x > a && i <= fct_seen_at(items, x - 1)))
                return "seen list holds an item out of range or out of order";
        }
    }
    return NULL;
}

const char *fct_model_check_seen(const int64_t *ptr, const int32_t *items, int32_t n_users, int32_t n_items,
                                 int64_t n_seen)
{
    const fct_seen_list l = {items, NULL};
    return fct_model_check_seen_list(ptr, &l, n_users, n_items, n_seen);
}

facto_status fct_model_put_seen(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag_ptr, uint32_t tag_items,
                                int32_t n_users, const int64_t *ptr, const int32_t *items)
{
    facto_status st = fct_mfile_put_array(ctx, w, tag_ptr, ptr, sizeof(int64_t), (uint64_t)n_users + 1);
    if (st == FACTO_OK)
        st = fct_mfile_put_array(ctx, w, tag_items, items, sizeof(int32_t), (uint64_t)ptr[n_users]);
    return st;
}

facto_status fct_model_get_seen(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag_ptr, uint32_t tag_items,
                                int32_t n_users, int32_t n_items, int64_t **ptr, int32_t **items, int64_t *n_seen)
{
    *ptr = NULL;
    *items = NULL;
    const void *pd, *id;
    uint64_t pb, ib;
    facto_status st = fct_mfile_get(ctx, r, tag_ptr, (int64_t)(((uint64_t)n_users + 1) * sizeof(int64_t)), &pd, &pb);
    if (st == FACTO_OK)
        st = fct_mfile_get(ctx, r, tag_items, -1, &id, &ib);
    if (st != FACTO_OK)
        return st;
    if (ib % sizeof(int32_t) != 0)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: the seen list section has a partial item", fct_mfile_path(r));
    int64_t n = (int64_t)(ib / sizeof(int32_t));
    int64_t *p = fct_malloc_array((size_t)n_users + 1, sizeof *p);
    int32_t *it = fct_malloc_array((size_t)(n > 0 ? n : 1), sizeof *it);
    if (!p || !it) {
        free(p);
        free(it);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for %lld seen items", fct_mfile_path(r),
                        (long long)n);
    }
    memcpy(p, pd, ((size_t)n_users + 1) * sizeof *p);
    memcpy(it, id, (size_t)n * sizeof *it);
    const char *bad = fct_model_check_seen(p, it, n_users, n_items, n);
    if (bad) {
        free(p);
        free(it);
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: %s", fct_mfile_path(r), bad);
    }
    *ptr = p;
    *items = it;
    *n_seen = n;
    return FACTO_OK;
}

/* ---- id maps in model files: u32 count, then per id u8 length + bytes ---- */

facto_status fct_model_put_idmap(facto_ctx *ctx, fct_mfile_writer *w, uint32_t tag, const facto_idmap *map)
{
    if (!w || !map)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_model_put_idmap: writer and map must be given");
    uint64_t total = 4;
    for (int32_t i = 0; i < map->n; i++) {
        size_t len = strlen(facto_idmap_name(map, i));
        if (len == 0 || len > FACTO_MAX_ID_LEN)
            return fct_fail(ctx, FACTO_ERR_INTERNAL, "%s: id %d has length %zu", fct_mfile_writer_path(w), (int)i, len);
        total += 1 + len;
    }
    unsigned char *buf = malloc((size_t)total);
    if (!buf)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_writer_path(w));
    fct_le_store_u32(buf, (uint32_t)map->n);
    size_t at = 4;
    for (int32_t i = 0; i < map->n; i++) {
        size_t len = strlen(facto_idmap_name(map, i));
        buf[at++] = (unsigned char)len;
        memcpy(buf + at, facto_idmap_name(map, i), len);
        at += len;
    }
    facto_status st = fct_mfile_put(ctx, w, tag, buf, total);
    free(buf);
    return st;
}

facto_status fct_model_get_idmap(facto_ctx *ctx, const fct_mfile_reader *r, uint32_t tag, facto_idmap **out)
{
    if (!r || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fct_model_get_idmap: reader and out must be given");
    *out = NULL;
    const void *data;
    uint64_t nbytes;
    facto_status st = fct_mfile_get(ctx, r, tag, -1, &data, &nbytes);
    if (st != FACTO_OK)
        return st;
    char ts[5] = {(char)(tag & 0xff), (char)(tag >> 8 & 0xff), (char)(tag >> 16 & 0xff), (char)(tag >> 24), 0};
    const unsigned char *p = data;
    if (nbytes < 4)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: id map '%s' has %llu bytes, too few for its count",
                          fct_mfile_path(r), ts, (unsigned long long)nbytes);
    uint32_t count = fct_le_load_u32(p);
    if (count > INT32_MAX || count > (nbytes - 4) / 2)
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: id map '%s' claims %u ids in %llu bytes", fct_mfile_path(r), ts,
                          (unsigned)count, (unsigned long long)nbytes);
    /* A flat map: the ids back to back, NUL-terminated, and their offsets
     * (the section's bytes minus the count, plus nothing per id). */
    char *blob = malloc((size_t)(nbytes - 4) + 1);
    uint32_t *off = fct_malloc_array((size_t)count + 1, sizeof *off);
    if (!blob || !off || nbytes - 4 > UINT32_MAX) {
        free(blob);
        free(off);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    }
    uint64_t at = 4;
    uint32_t bat = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t len = at < nbytes ? p[at] : 0;
        const char *why = NULL;
        if (at >= nbytes)
            why = "runs past the end of the section";
        else if (len == 0)
            why = "is empty";
        else if (len > nbytes - at - 1)
            why = "runs past the end of the section";
        else if (memchr(p + at + 1, '\0', len))
            why = "holds a NUL byte";
        if (why) {
            free(blob);
            free(off);
            return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: id map '%s': id %u (byte %llu of the section) %s",
                              fct_mfile_path(r), ts, (unsigned)i, (unsigned long long)at, why);
        }
        off[i] = bat;
        memcpy(blob + bat, p + at + 1, len);
        bat += (uint32_t)len;
        blob[bat++] = '\0';
        at += 1 + len;
    }
    off[count] = bat;
    if (at != nbytes) {
        free(blob);
        free(off);
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: id map '%s': %llu bytes after its %u ids", fct_mfile_path(r), ts,
                          (unsigned long long)(nbytes - at), (unsigned)count);
    }
    facto_idmap *map = NULL;
    int32_t dup = -1;
    if (fct_idmap_flat(blob, off, (int32_t)count, &map) != 0)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
    int rc = fct_idmap_index(map, &dup);
    if (rc != 0) {
        uint64_t dat = 4;
        for (int32_t i = 0; i < dup; i++)
            dat += 1 + strlen(facto_idmap_name(map, i));
        fct_idmap_free(map);
        if (rc == -1)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", fct_mfile_path(r));
        return fct_fail(ctx, FACTO_ERR_CORRUPT, "%s: id map '%s': id %u (byte %llu of the section) repeats an "
                        "earlier id", fct_mfile_path(r), ts, (unsigned)dup, (unsigned long long)dat);
    }
    *out = map;
    return fct_ok(ctx);
}
