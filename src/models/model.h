/*
 * model.h — the one small interface every model implements. A concrete model
 * struct starts with `facto_model base;` so a facto_model* can be cast to it.
 * save/load go through the model file layer (src/io/modelfile.h): the file
 * header records the kind, and facto_model_load() dispatches on it.
 */
#ifndef FACTO_MODEL_H
#define FACTO_MODEL_H

#include "../core/internal.h"
#include "../io/modelfile.h"

typedef struct fct_model_ops {
    facto_model_kind kind;
    void (*free)(facto_model *model);
    /* Write the model's sections; the caller creates and commits the file. */
    facto_status (*save)(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w);
    /* Build a model from a verified file's sections. */
    facto_status (*load)(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out);
} fct_model_ops;

struct facto_model {
    const fct_model_ops *ops;
};

/* Registered model kinds (mf.c, fm.c define these). */
extern const fct_model_ops fct_mf_ops;
extern const fct_model_ops fct_fm_ops;

#endif /* FACTO_MODEL_H */
