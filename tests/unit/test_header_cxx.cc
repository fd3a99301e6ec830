// The public header compiles as C++ and its functions link from C++.
#include "facto.h"

#include <cstdio>
#include <cstring>

int main()
{
    facto_ctx *ctx = facto_ctx_new();
    if (!ctx)
        return 1;
    int ok = std::strcmp(facto_status_str(FACTO_ERR_PARSE), "parse error") == 0 && facto_errcode(ctx) == FACTO_OK;
    facto_mf_params p = facto_mf_params_default();
    ok = ok && p.num_factors > 0;
    facto_ctx_free(ctx);
    std::printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
