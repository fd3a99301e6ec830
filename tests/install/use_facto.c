/*
 * use_facto.c — a program outside libfacto, built by test_install.sh against
 * an installed copy through pkg-config (shared and static). Public API only:
 * writes a small ratings file into DIR, reads it, trains biased MF, saves and
 * loads the model, and predicts one pair with both. Exit 0 when the loaded
 * model predicts exactly what the trained one did, a finite rating inside the
 * data's range; 1 otherwise.
 * Usage: use_facto DIR
 */
#include <facto.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check(facto_ctx *ctx, facto_status st, const char *what)
{
    if (st == FACTO_OK)
        return 1;
    fprintf(stderr, "use_facto: %s: %s (%s)\n", what, facto_errmsg(ctx), facto_status_str(st));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: use_facto DIR\n");
        return 2;
    }
    char ratings[4096], model_path[4096];
    snprintf(ratings, sizeof ratings, "%s/ratings.tsv", argv[1]);
    snprintf(model_path, sizeof model_path, "%s/model.facto", argv[1]);

    /* 8 users x 6 items, every pair but the diagonal, ratings 1..5 by a fixed rule. */
    FILE *f = fopen(ratings, "w");
    if (!f) {
        perror(ratings);
        return 1;
    }
    for (int u = 0; u < 8; u++)
        for (int i = 0; i < 6; i++)
            if (u != i)
                fprintf(f, "u%d\ti%d\t%d\n", u, i, 1 + (u * 3 + i * 2) % 5);
    if (fclose(f) != 0) {
        perror(ratings);
        return 1;
    }

    int ok = 0;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = NULL;
    facto_model *model = NULL, *loaded = NULL;
    if (!ctx)
        return 1;
    facto_mf_params p = facto_mf_params_default();
    p.num_factors = 4;
    p.epochs = 5;
    p.seed = 7;
    float lo = 0, hi = 0, score = NAN, score_loaded = NAN;
    if (check(ctx, facto_dataset_read(ctx, ratings, NULL, &ds, NULL), "read") &&
        check(ctx, facto_mf_fit(ctx, ds, NULL, &p, NULL, &model), "fit") &&
        check(ctx, facto_model_save(ctx, model, model_path), "save") &&
        check(ctx, facto_model_load(ctx, model_path, &loaded), "load") &&
        check(ctx, facto_model_predict(ctx, model, "u1", "i1", &score, NULL), "predict") &&
        check(ctx, facto_model_predict(ctx, loaded, "u1", "i1", &score_loaded, NULL), "predict (loaded)")) {
        facto_dataset_rating_range(ds, &lo, &hi);
        ok = facto_dataset_n_ratings(ds) == 42 && isfinite(score) && score >= lo && score <= hi &&
             memcmp(&score, &score_loaded, sizeof score) == 0;
        printf("use_facto: %lld ratings in [%g, %g]; u1 i1 -> %.6f (loaded model: %.6f)\n",
               (long long)facto_dataset_n_ratings(ds), lo, hi, score, score_loaded);
        if (!ok)
            fprintf(stderr, "use_facto: wrong result\n");
    }
    facto_model_free(loaded);
    facto_model_free(model);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
    return ok ? 0 : 1;
}
