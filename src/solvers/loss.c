/*
 * loss.c — the loss descriptors (loss.h): one entry per kind, pointing at
 * the inline formulas of loss.h, looked up by kind or by name. O(number of
 * losses) per lookup, static data only.
 */
#include "loss.h"

#include <string.h>

static const fct_loss fct_losses[] = {
    {FCT_LOSS_SQUARED, "squared", 0, fct_loss_squared, NULL},
    {FCT_LOSS_LOGISTIC, "logistic", 0, fct_loss_logistic, NULL},
    {FCT_LOSS_BPR, "bpr", 1, NULL, fct_loss_bpr},
    {FCT_LOSS_WARP, "warp", 1, NULL, fct_loss_warp},
};

const fct_loss *fct_loss_get(fct_loss_kind kind)
{
    for (size_t i = 0; i < sizeof fct_losses / sizeof *fct_losses; i++)
        if (fct_losses[i].kind == kind)
            return &fct_losses[i];
    return NULL;
}

const fct_loss *fct_loss_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof fct_losses / sizeof *fct_losses; i++)
        if (strcmp(fct_losses[i].name, name) == 0)
            return &fct_losses[i];
    return NULL;
}
