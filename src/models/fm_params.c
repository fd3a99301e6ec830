/*
 * fm_params.c — hyperparameters of factorization machines under Amazon
 * SageMaker's names, defaults and validity rules, plus facto's extensions.
 * One table (fct_pdesc rows for the engine of src/core/params.c) describes
 * every hyperparameter: name, type, field offset, range and help; the
 * string setter, the hyperparameters.json reader (SageMaker writes every
 * value as a string), the validator, --help and the text dump the model
 * file stores all walk it, so a name is spelled in one place only. The
 * rules between fields (init methods, burn_in < num_iter) are below.
 * Cost: O(number of hyperparameters) per call.
 */
#include "fm.h"

#include <float.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const fct_penum fct_fm_predictors[] = {
    {"binary_classifier", FACTO_FM_BINARY_CLASSIFIER}, {"regressor", FACTO_FM_REGRESSOR}, {NULL, 0}};
static const fct_penum fct_fm_inits[] = {
    {"uniform", FACTO_FM_INIT_UNIFORM}, {"normal", FACTO_FM_INIT_NORMAL}, {"constant", FACTO_FM_INIT_CONSTANT}, {NULL, 0}};
static const fct_penum fct_fm_solvers[] = {
    {"sgd", FACTO_FM_SOLVER_SGD}, {"als", FACTO_FM_SOLVER_ALS}, {"mcmc", FACTO_FM_SOLVER_MCMC}, {NULL, 0}};
static const fct_penum fct_fm_optimizers[] = {
    {"sgd", FACTO_OPT_SGD}, {"adagrad", FACTO_OPT_ADAGRAD}, {"adam", FACTO_OPT_ADAM}, {"ftrl", FACTO_OPT_FTRL}, {NULL, 0}};
static const fct_penum fct_fm_implicits[] = {
    {"none", 0}, {"user", FACTO_FM_IMPLICIT_USER}, {"item", FACTO_FM_IMPLICIT_ITEM},
    {"both", FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM}, {NULL, 0}};

/* clip_predictions: true (0, the default, left out of model files) or false */
static const fct_penum fct_fm_clips[] = {{"true", 0}, {"false", 1}, {NULL, 0}};

#define F(field) offsetof(facto_fm_params, field)
#define INT_MAXD 2147483647.0
#define POS "is not a positive integer"
#define NONNEG "is not a non-negative integer"
#define NONNEG_F "is negative; it must be a non-negative float"
#define SM "sagemaker"
#define FX "facto"
/* SageMaker's names first (their documentation's order), then facto's. The
 * order is also the order of the "name=value" lines in model files. */
static const fct_pdesc fct_fm_pdescs[] = {
    {"feature_dim", NULL, FCT_PT_U64, F(feature_dim), NULL, 1, 4294967296.0, FCT_PF_REQUIRED,
     "is not in 1..2^32 (feature keys are 32-bit)", "columns of the input; SageMaker requires it", SM,
     "taken from the data"},
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, INT_MAXD, FCT_PF_REQUIRED, POS,
     "length of each factor vector v_i", SM, NULL},
    {"predictor_type", NULL, FCT_PT_ENUM, F(predictor_type), fct_fm_predictors, 0, 0, FCT_PF_REQUIRED, NULL,
     "regressor (squared loss) or binary_classifier (log loss)", SM, NULL},
    {"epochs", NULL, FCT_PT_INT, F(epochs), NULL, 1, INT_MAXD, 0, POS, "passes over the training rows (sgd)", SM, NULL},
    {"mini_batch_size", NULL, FCT_PT_INT, F(mini_batch_size), NULL, 1, INT_MAXD, 0, POS,
     "rows per update (sgd; 1 takes the fused per-row path)", SM, NULL},
    {"bias_lr", NULL, FCT_PT_FLOAT, F(bias_lr), NULL, 0, FLT_MAX, 0, NONNEG_F, "learning rate of w0", SM, NULL},
    {"linear_lr", NULL, FCT_PT_FLOAT, F(linear_lr), NULL, 0, FLT_MAX, 0, NONNEG_F, "learning rate of w", SM, NULL},
    {"factors_lr", NULL, FCT_PT_FLOAT, F(factors_lr), NULL, 0, FLT_MAX, 0, NONNEG_F, "learning rate of V", SM, NULL},
    {"bias_wd", NULL, FCT_PT_FLOAT, F(bias_wd), NULL, 0, FLT_MAX, 0, NONNEG_F,
     "weight decay of w0 (ALS: its L2, libFM -regular; SageMaker's tiny defaults overfit, try 10)", SM, NULL},
    {"linear_wd", NULL, FCT_PT_FLOAT, F(linear_wd), NULL, 0, FLT_MAX, 0, NONNEG_F,
     "weight decay of w (ALS: its L2, as bias_wd)", SM, NULL},
    {"factors_wd", NULL, FCT_PT_FLOAT, F(factors_wd), NULL, 0, FLT_MAX, 0, NONNEG_F,
     "weight decay of V (ALS: its L2, as linear_wd)", SM, NULL},
    {"bias_init_method", NULL, FCT_PT_ENUM, F(bias_init_method), fct_fm_inits, 0, 0, 0, NULL,
     "normal|uniform|constant", SM, NULL},
    {"bias_init_scale", NULL, FCT_PT_FLOAT, F(bias_init_scale), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "U[-s, s] scale of w0 (uniform init)", SM, "no default: uniform needs it"},
    {"bias_init_sigma", NULL, FCT_PT_FLOAT, F(bias_init_sigma), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "N(0, s^2) sigma of w0 (normal init)", SM, "0.01"},
    {"bias_init_value", NULL, FCT_PT_FLOAT, F(bias_init_value), NULL, 0, 0, FCT_PF_UNSET_NAN | FCT_PF_ANY_FLOAT, NULL,
     "value of w0 (constant init)", SM, "no default: constant needs it"},
    {"linear_init_method", NULL, FCT_PT_ENUM, F(linear_init_method), fct_fm_inits, 0, 0, 0, NULL,
     "normal|uniform|constant", SM, NULL},
    {"linear_init_scale", NULL, FCT_PT_FLOAT, F(linear_init_scale), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "uniform init scale of w", SM, "no default: uniform needs it"},
    {"linear_init_sigma", NULL, FCT_PT_FLOAT, F(linear_init_sigma), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "normal init sigma of w", SM, "0.01"},
    {"linear_init_value", NULL, FCT_PT_FLOAT, F(linear_init_value), NULL, 0, 0, FCT_PF_UNSET_NAN | FCT_PF_ANY_FLOAT,
     NULL, "constant init value of w", SM, "no default: constant needs it"},
    {"factors_init_method", NULL, FCT_PT_ENUM, F(factors_init_method), fct_fm_inits, 0, 0, 0, NULL,
     "normal|uniform|constant", SM, NULL},
    {"factors_init_scale", NULL, FCT_PT_FLOAT, F(factors_init_scale), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "uniform init scale of V", SM, "no default: uniform needs it"},
    {"factors_init_sigma", NULL, FCT_PT_FLOAT, F(factors_init_sigma), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "normal init sigma of V", SM, "0.001"},
    {"factors_init_value", NULL, FCT_PT_FLOAT, F(factors_init_value), NULL, 0, 0, FCT_PF_UNSET_NAN | FCT_PF_ANY_FLOAT,
     NULL, "constant init value of V", SM, "no default: constant needs it"},
    {"clip_gradient", NULL, FCT_PT_FLOAT, F(clip_gradient), NULL, 0, 0, FCT_PF_UNSET_NAN | FCT_PF_ANY_FLOAT, NULL,
     "clip each gradient element to [-c, c]; <= 0 = no clipping", SM, "no clipping"},
    {"eps", NULL, FCT_PT_FLOAT, F(eps), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "optimizer epsilon (adagrad, adam)", SM, "1e-8"},
    {"rescale_grad", NULL, FCT_PT_FLOAT, F(rescale_grad), NULL, 0, FLT_MAX, FCT_PF_UNSET_NAN, NONNEG_F,
     "factor on the summed batch gradient", SM, "1 / mini_batch_size"},
    {"solver", NULL, FCT_PT_ENUM, F(solver), fct_fm_solvers, 0, 0, 0, NULL,
     "sgd (mini-batch first-order), als or mcmc (libFM's, Rendle 2012)", FX, NULL},
    {"optimizer", NULL, FCT_PT_ENUM, F(optimizer), fct_fm_optimizers, 0, 0, 0, NULL,
     "update rule of solver sgd", FX, NULL},
    {"seed", NULL, FCT_PT_U64, F(seed), NULL, 0, 18446744073709551615.0, 0, NULL, "initialisation and shuffling", FX,
     NULL},
    {"num_iter", NULL, FCT_PT_INT, F(num_iter), NULL, 1, INT_MAXD, 0, POS, "ALS sweeps / MCMC iterations (per chain)",
     FX, NULL},
    {"init_stdev", NULL, FCT_PT_FLOAT, F(init_stdev), NULL, 0, FLT_MAX, 0, NONNEG_F,
     "ALS/MCMC factor init N(0, s^2)", FX, NULL},
    {"mcmc_samples", NULL, FCT_PT_INT, F(mcmc_samples), NULL, 0, INT_MAXD, 0, NONNEG,
     "posterior samples kept in an MCMC model", FX, NULL},
    {"log_interval", NULL, FCT_PT_INT, F(log_interval), NULL, 1, INT_MAXD, 0, POS,
     "a log line every N mini-batches", FX, NULL},
    {"lr_decay", NULL, FCT_PT_FLOAT, F(lr_decay), NULL, 0, 1, FCT_PF_MIN_OPEN, "is not in (0, 1]",
     "learning rates multiplied by this after each epoch", FX, NULL},
    {"average_epochs", NULL, FCT_PT_INT, F(average_epochs), NULL, 0, INT_MAXD, 0, NONNEG,
     "model = mean of the last N epochs' parameters, 0 = off", FX, NULL},
    {"burn_in", NULL, FCT_PT_INT, F(burn_in), NULL, 0, INT_MAXD, 0, NONNEG,
     "MCMC iterations left out of the average and of the model", FX, NULL},
    {"summary_rank", NULL, FCT_PT_INT, F(summary_rank), NULL, -1, 4096, 0,
     "is not -1 (automatic), 0 (thinned samples) or a rank in 1..4096",
     "MCMC model: -1 auto (ratings: rank 256; one-hot rows: rank 128, 516 bytes a feature; other rows: "
     "samples, 4 (k + 1) bytes a feature each), 0 samples, r rank", FX, NULL},
    {"mcmc_chains", NULL, FCT_PT_INT, F(mcmc_chains), NULL, 1, 256, 0, "is not in 1..256",
     "independent MCMC chains pooled; they run on the context's threads", FX, NULL},
    {"prior_groups", NULL, FCT_PT_INT, F(prior_groups), NULL, 0, 2, 0,
     "is not 0 (one group), 1 (one per one-hot field or block kind) or 2 (ratings: one per kind of side feature)",
     "MCMC hyperprior groups: 0 one for all, 1 one per one-hot field (rows) or block kind (ratings), 2 also "
     "one per kind of side feature (ratings)",
     FX, NULL},
    {"implicit", NULL, FCT_PT_ENUM, F(implicit), fct_fm_implicits, 0, 0, FCT_PF_UNSET_ZERO, NULL,
     "ratings in block form (als, mcmc): implicit-feedback blocks, none|user|item|both", FX, "none"},
    {"clip_predictions", NULL, FCT_PT_ENUM, F(raw_predictions), fct_fm_clips, 0, 0, FCT_PF_UNSET_ZERO, NULL,
     "regressor: clip predictions to the training label range as libFM does (false: raw scores)", FX, "true"},
    {"binarize", NULL, FCT_PT_FLOAT, F(binarize), NULL, 0, FLT_MAX, FCT_PF_UNSET_ZERO, NONNEG_F,
     "ratings: label = rating >= T (binary_classifier on ratings)", FX, "off"},
};
#undef F
#define FACTO_FM_NPARAMS ((int)(sizeof fct_fm_pdescs / sizeof fct_fm_pdescs[0]))

static void fct_fm_defaults(void *p) { *(facto_fm_params *)p = facto_fm_params_default(); }
static facto_status fct_fm_validate_rules(facto_ctx *ctx, const void *params);

const fct_ptable fct_fm_ptable = {"fm", fct_fm_pdescs, FACTO_FM_NPARAMS, sizeof(facto_fm_params), fct_fm_defaults,
                                  fct_fm_validate_rules};

facto_fm_params facto_fm_params_default(void)
{
    facto_fm_params p;
    memset(&p, 0, sizeof p);
    p.feature_dim = 0;
    p.num_factors = 0;
    p.predictor_type = FACTO_FM_PREDICTOR_UNSET;
    p.epochs = 1;
    p.mini_batch_size = 1000;
    p.bias_lr = 0.1f;
    p.linear_lr = 0.001f;
    p.factors_lr = 0.0001f;
    p.bias_wd = 0.01f;
    p.linear_wd = 0.001f;
    p.factors_wd = 0.00001f;
    p.bias_init_method = p.linear_init_method = p.factors_init_method = FACTO_FM_INIT_NORMAL;
    p.bias_init_scale = p.linear_init_scale = p.factors_init_scale = NAN;
    p.bias_init_sigma = p.linear_init_sigma = p.factors_init_sigma = NAN;
    p.bias_init_value = p.linear_init_value = p.factors_init_value = NAN;
    p.clip_gradient = NAN;
    p.eps = NAN;
    p.rescale_grad = NAN;
    p.solver = FACTO_FM_SOLVER_SGD;
    p.optimizer = FACTO_OPT_ADAM;
    p.seed = 0;
    p.num_iter = 100;
    p.init_stdev = 0.1f;
    p.mcmc_samples = 16;
    p.log_interval = 100;
    p.lr_decay = 1.0f;
    p.average_epochs = 0;
    p.burn_in = 0;
    p.summary_rank = -1;
    p.mcmc_chains = 4;
    p.prior_groups = 1;
    return p;
}

const char *fct_fm_predictor_name(facto_fm_predictor p)
{
    switch (p) {
    case FACTO_FM_REGRESSOR: return "regressor";
    case FACTO_FM_BINARY_CLASSIFIER: return "binary_classifier";
    case FACTO_FM_PREDICTOR_UNSET: break;
    }
    return "unset";
}

const char *fct_fm_solver_name(facto_fm_solver s)
{
    switch (s) {
    case FACTO_FM_SOLVER_SGD: return "sgd";
    case FACTO_FM_SOLVER_ALS: return "als";
    case FACTO_FM_SOLVER_MCMC: return "mcmc";
    }
    return "unknown";
}

const char *fct_fm_optimizer_name(facto_optimizer o)
{
    switch (o) {
    case FACTO_OPT_SGD: return "sgd";
    case FACTO_OPT_ADAM: return "adam";
    case FACTO_OPT_ADAGRAD: return "adagrad";
    case FACTO_OPT_FTRL: return "ftrl";
    }
    return "unknown";
}

const char *fct_fm_init_name(facto_fm_init_method m)
{
    switch (m) {
    case FACTO_FM_INIT_NORMAL: return "normal";
    case FACTO_FM_INIT_UNIFORM: return "uniform";
    case FACTO_FM_INIT_CONSTANT: return "constant";
    }
    return "unknown";
}

facto_status facto_fm_params_set(facto_ctx *ctx, facto_fm_params *params, const char *name, const char *value)
{
    return fct_params_set(ctx, &fct_fm_ptable, params, name, value);
}

/* The init-method consistency rules for one of bias / linear / factors. */
static facto_status fct_fm_check_init(facto_ctx *ctx, const char *term, facto_fm_init_method m, float scale,
                                      float sigma, float value)
{
    const char *mname = fct_fm_init_name(m);
    if (!isnan(scale) && m != FACTO_FM_INIT_UNIFORM)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter %s_init_scale: it takes effect only with %s_init_method uniform, not %s", term,
                        term, mname);
    if (!isnan(sigma) && m != FACTO_FM_INIT_NORMAL)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter %s_init_sigma: it takes effect only with %s_init_method normal, not %s", term,
                        term, mname);
    if (!isnan(value) && m != FACTO_FM_INIT_CONSTANT)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter %s_init_value: it takes effect only with %s_init_method constant, not %s",
                        term, term, mname);
    if (m == FACTO_FM_INIT_UNIFORM && isnan(scale))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter %s_init_scale: %s_init_method uniform needs it (it has no default)", term, term);
    if (m == FACTO_FM_INIT_CONSTANT && isnan(value))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter %s_init_value: %s_init_method constant needs it (it has no default)", term,
                        term);
    return FACTO_OK;
}

/* Rules between fields (each field's own range is the table's). */
static facto_status fct_fm_validate_rules(facto_ctx *ctx, const void *params)
{
    const facto_fm_params *p = params;
    facto_status st = fct_fm_check_init(ctx, "bias", p->bias_init_method, p->bias_init_scale, p->bias_init_sigma,
                                        p->bias_init_value);
    if (st == FACTO_OK)
        st = fct_fm_check_init(ctx, "linear", p->linear_init_method, p->linear_init_scale, p->linear_init_sigma,
                               p->linear_init_value);
    if (st == FACTO_OK)
        st = fct_fm_check_init(ctx, "factors", p->factors_init_method, p->factors_init_scale, p->factors_init_sigma,
                               p->factors_init_value);
    if (st != FACTO_OK)
        return st;
    if (p->implicit && p->solver == FACTO_FM_SOLVER_SGD)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter implicit: implicit-feedback blocks are part of training from ratings in "
                        "block form, with solver als or mcmc, not sgd");
    if (p->solver == FACTO_FM_SOLVER_MCMC && p->burn_in >= p->num_iter)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter burn_in: %d leaves no sample of the %d MCMC iterations (num_iter); it "
                        "must be smaller than num_iter",
                        p->burn_in, p->num_iter);
    return FACTO_OK;
}

facto_status facto_fm_params_validate(facto_ctx *ctx, const facto_fm_params *p)
{
    return fct_params_check(ctx, &fct_fm_ptable, p);
}

facto_status facto_fm_params_load_json(facto_ctx *ctx, facto_fm_params *params, const char *path)
{
    return fct_params_load_json(ctx, &fct_fm_ptable, params, path);
}

size_t fct_fm_params_dump(const facto_fm_params *p, char *buf, size_t size)
{
    return fct_params_dump(&fct_fm_ptable, p, buf, size);
}

size_t facto_fm_params_format(const facto_fm_params *params, char *buf, size_t size)
{
    if (!params) {
        if (buf && size > 0)
            buf[0] = '\0';
        return 0;
    }
    return fct_params_dump(&fct_fm_ptable, params, buf, size);
}

facto_task fct_fm_params_task(const void *params)
{
    const facto_fm_params *p = params;
    switch (p->predictor_type) {
    case FACTO_FM_REGRESSOR: return FACTO_TASK_REGRESSION;
    case FACTO_FM_BINARY_CLASSIFIER: return FACTO_TASK_BINARY;
    case FACTO_FM_PREDICTOR_UNSET: break;
    }
    return 0;
}

/* "regressor, solver sgd (adam, mini_batch_size 1000), num_factors 16, 3
 * epochs", then the chains note of MCMC: its epoch reports are chain 1's. */
/* Which solvers read each hyperparameter that not all of them read: sgd
 * takes the learning rates, initialisers and optimizer settings, als the
 * weight decays as its L2, als and mcmc the sweep count, init_stdev and the
 * implicit blocks, mcmc its sampling settings; any other is used by all. */
#define FCT_FM_SGD (1u << FACTO_FM_SOLVER_SGD)
#define FCT_FM_ALS (1u << FACTO_FM_SOLVER_ALS)
#define FCT_FM_MCMC (1u << FACTO_FM_SOLVER_MCMC)
static unsigned fct_fm_param_solvers(const char *name)
{
    static const struct {
        const char *name;
        unsigned solvers;
    } by_name[] = {
        {"epochs", FCT_FM_SGD}, {"mini_batch_size", FCT_FM_SGD}, {"bias_lr", FCT_FM_SGD},
        {"linear_lr", FCT_FM_SGD}, {"factors_lr", FCT_FM_SGD}, {"clip_gradient", FCT_FM_SGD},
        {"eps", FCT_FM_SGD}, {"rescale_grad", FCT_FM_SGD}, {"optimizer", FCT_FM_SGD},
        {"log_interval", FCT_FM_SGD}, {"lr_decay", FCT_FM_SGD}, {"average_epochs", FCT_FM_SGD},
        {"bias_wd", FCT_FM_SGD | FCT_FM_ALS}, {"linear_wd", FCT_FM_SGD | FCT_FM_ALS},
        {"factors_wd", FCT_FM_SGD | FCT_FM_ALS}, {"num_iter", FCT_FM_ALS | FCT_FM_MCMC},
        {"init_stdev", FCT_FM_ALS | FCT_FM_MCMC}, {"implicit", FCT_FM_ALS | FCT_FM_MCMC},
        {"mcmc_samples", FCT_FM_MCMC}, {"burn_in", FCT_FM_MCMC}, {"summary_rank", FCT_FM_MCMC},
        {"mcmc_chains", FCT_FM_MCMC}, {"prior_groups", FCT_FM_MCMC},
    };
    for (size_t i = 0; i < sizeof by_name / sizeof by_name[0]; i++)
        if (strcmp(by_name[i].name, name) == 0)
            return by_name[i].solvers;
    /* the three initialisers of w0, w and V: sgd's (als and mcmc start from init_stdev) */
    if (strstr(name, "_init_"))
        return FCT_FM_SGD;
    return FCT_FM_SGD | FCT_FM_ALS | FCT_FM_MCMC;
}

int fct_fm_param_used(const void *params, const fct_pdesc *d)
{
    const facto_fm_params *p = params;
    return (fct_fm_param_solvers(d->name) & (1u << p->solver)) != 0;
}

size_t fct_fm_params_describe(const void *params, char *buf, size_t size)
{
    const facto_fm_params *p = params;
    char solver[96], k[32] = "num_factors not set";
    if (p->solver == FACTO_FM_SOLVER_SGD)
        snprintf(solver, sizeof solver, "sgd (%s, mini_batch_size %d)", fct_fm_optimizer_name(p->optimizer),
                 p->mini_batch_size);
    else
        snprintf(solver, sizeof solver, "%s", fct_fm_solver_name(p->solver));
    if (p->num_factors > 0)
        snprintf(k, sizeof k, "num_factors %d", p->num_factors);
    int sgd = p->solver == FACTO_FM_SOLVER_SGD;
    char extra[96] = "";
    for (const fct_penum *c = fct_fm_implicits; p->implicit && c->name; c++)
        if (c->value == p->implicit)
            snprintf(extra, sizeof extra, ", implicit %s", c->name);
    if (p->binarize > 0.0f)
    {
        char t[32];
        fct_format_float_short(t, sizeof t, p->binarize);
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ", label = rating >= %s", t);
    }
    const int count = sgd ? p->epochs : p->num_iter;
    int n = snprintf(buf, size, "%s, solver %s, %s, %d %s%s%s\n",
                     p->predictor_type ? fct_fm_predictor_name(p->predictor_type) : "predictor_type not set", solver,
                     k, count, sgd ? "epoch" : "iteration", count == 1 ? "" : "s", extra);
    size_t len = n > 0 ? (size_t)n : 0;
    if (p->solver == FACTO_FM_SOLVER_MCMC && p->mcmc_chains > 1) {
        n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
                     "mcmc: %d chains of %d iteration%s, pooled at the end; the epoch reports follow chain 1\n",
                     p->mcmc_chains, p->num_iter, p->num_iter == 1 ? "" : "s");
        len += n > 0 ? (size_t)n : 0;
    }
    return len;
}
