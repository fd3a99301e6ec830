/*
 * fm_sync.c — synchronous data-parallel mini-batch SGD for fm (placeholder).
 */
#include "dist.h"

facto_status fct_dist_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out)
{
    (void)params;
    (void)data;
    (void)out;
    return fct_fail(ctx, FACTO_ERR_INVALID, "distributed fm is not built yet");
}
