/*
 * model.c — the generic model interface: free, kind, save and load, all
 * dispatched through the fct_model_ops of each model kind. Load reads the
 * kind from the verified file header and looks it up in a small table, so a
 * file of a kind this build does not know is refused with a message saying
 * so. Cost: that of the model's own
 * save/load plus one verified read of the file (src/io/modelfile.c).
 */
#include "model.h"

#include <string.h>

/* The ops tables live in mf.c and fm.c (declared in model.h). */
static const fct_model_ops *fct_model_ops_of(facto_model_kind kind)
{
    switch (kind) {
    case FACTO_MODEL_MF: return &fct_mf_ops;
    case FACTO_MODEL_FM: return &fct_fm_ops;
    }
    return NULL;
}

void facto_model_free(facto_model *model)
{
    if (model && model->ops && model->ops->free)
        model->ops->free(model);
}

facto_model_kind facto_model_get_kind(const facto_model *model)
{
    return model && model->ops ? model->ops->kind : (facto_model_kind)0;
}

const char *facto_model_kind_name(facto_model_kind kind)
{
    switch (kind) {
    case FACTO_MODEL_MF: return "mf";
    case FACTO_MODEL_FM: return "fm";
    }
    return "unknown";
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
    const fct_model_ops *ops = fct_model_ops_of((facto_model_kind)kind);
    if (!ops || !ops->load) {
        if (kind == FACTO_MODEL_MF || kind == FACTO_MODEL_FM)
            st = fct_fail(ctx, FACTO_ERR_FORMAT, "%s: a %s model, and this build of facto has no %s models",
                            path, facto_model_kind_name((facto_model_kind)kind),
                            facto_model_kind_name((facto_model_kind)kind));
        else
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
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "%s: the %s loader returned no model", path,
                          facto_model_kind_name((facto_model_kind)kind));
    if (!m->ops)
        m->ops = ops;
    *out = m;
    return fct_ok(ctx);
}
