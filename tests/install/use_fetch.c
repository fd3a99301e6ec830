/*
 * use_fetch.c — a program outside libfacto, built by test_install.sh with
 * `pkg-config facto-fetch` (shared and static). It runs facto_dataset_fetch
 * without touching the network: an unknown name must give
 * FACTO_ERR_NOT_FOUND, and ml-100k from the mirror in $FACTO_DATASETS_URL
 * (test_install.sh points it at an empty local folder, file://) must give
 * FACTO_ERR_NETWORK with a message naming the zip. Exit 0 when both do.
 */
#include <facto.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx)
        return 1;
    int ok = 1;
    facto_status st = facto_dataset_fetch(ctx, "no-such-data-set");
    if (st != FACTO_ERR_NOT_FOUND) {
        fprintf(stderr, "use_fetch: unknown name gave %s: %s\n", facto_status_str(st), facto_errmsg(ctx));
        ok = 0;
    }
    st = facto_dataset_fetch(ctx, "ml-100k");
    if (st != FACTO_ERR_NETWORK || !strstr(facto_errmsg(ctx), "ml-100k.zip")) {
        fprintf(stderr, "use_fetch: fetch from an empty mirror gave %s: %s\n", facto_status_str(st),
                facto_errmsg(ctx));
        ok = 0;
    }
    if (ok)
        printf("use_fetch: %s\n", facto_errmsg(ctx));
    facto_ctx_free(ctx);
    return ok ? 0 : 1;
}
