/*
 * fm_params.c — hyperparameters of factorization machines under Amazon
 * SageMaker's names, defaults and validity rules, plus facto's extensions.
 * One table describes every hyperparameter (name, type, field offset); the
 * string setter, the hyperparameters.json reader (jansson; SageMaker writes
 * every value as a string), the validator and the text dump used by the
 * model file all walk it, so a name is spelled in one place only.
 * Cost: O(number of hyperparameters) per call; no allocation except jansson's.
 */
#include "fm.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

typedef enum {
    FM_T_U64 = 1, /* feature_dim, seed */
    FM_T_INT,
    FM_T_FLOAT,
    FM_T_PREDICTOR,
    FM_T_INIT,
    FM_T_SOLVER,
    FM_T_OPTIMIZER
} fct_fm_ptype;

typedef struct {
    const char *name;
    fct_fm_ptype type;
    size_t offset;
} fct_fm_pdesc;

#define P(name, type) {#name, type, offsetof(facto_fm_params, name)}
static const fct_fm_pdesc fct_fm_pdescs[] = {
    P(feature_dim, FM_T_U64),
    P(num_factors, FM_T_INT),
    P(predictor_type, FM_T_PREDICTOR),
    P(epochs, FM_T_INT),
    P(mini_batch_size, FM_T_INT),
    P(bias_lr, FM_T_FLOAT),
    P(linear_lr, FM_T_FLOAT),
    P(factors_lr, FM_T_FLOAT),
    P(bias_wd, FM_T_FLOAT),
    P(linear_wd, FM_T_FLOAT),
    P(factors_wd, FM_T_FLOAT),
    P(bias_init_method, FM_T_INIT),
    P(bias_init_scale, FM_T_FLOAT),
    P(bias_init_sigma, FM_T_FLOAT),
    P(bias_init_value, FM_T_FLOAT),
    P(linear_init_method, FM_T_INIT),
    P(linear_init_scale, FM_T_FLOAT),
    P(linear_init_sigma, FM_T_FLOAT),
    P(linear_init_value, FM_T_FLOAT),
    P(factors_init_method, FM_T_INIT),
    P(factors_init_scale, FM_T_FLOAT),
    P(factors_init_sigma, FM_T_FLOAT),
    P(factors_init_value, FM_T_FLOAT),
    P(clip_gradient, FM_T_FLOAT),
    P(eps, FM_T_FLOAT),
    P(rescale_grad, FM_T_FLOAT),
    P(solver, FM_T_SOLVER),
    P(optimizer, FM_T_OPTIMIZER),
    P(seed, FM_T_U64),
    P(num_iter, FM_T_INT),
    P(init_stdev, FM_T_FLOAT),
    P(mcmc_samples, FM_T_INT),
    P(log_interval, FM_T_INT),
    P(lr_decay, FM_T_FLOAT),
    P(average_epochs, FM_T_INT),
    P(burn_in, FM_T_INT),
    P(summary_rank, FM_T_INT),
    P(mcmc_chains, FM_T_INT),
    P(prior_groups, FM_T_INT),
};
#undef P
#define FACTO_FM_NPARAMS ((int)(sizeof fct_fm_pdescs / sizeof fct_fm_pdescs[0]))

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

/* Trimmed copy of value into buf; 0 when it does not fit or is empty. */
static int fct_fm_trim(const char *value, char *buf, size_t size)
{
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    if (n == 0 || n >= size)
        return 0;
    memcpy(buf, value, n);
    buf[n] = '\0';
    return 1;
}

static facto_status fct_fm_parse_u64(facto_ctx *ctx, const char *name, const char *text, uint64_t *out)
{
    char *end = NULL;
    if (text[0] == '-' || text[0] == '+')
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not a non-negative integer", name,
                          text);
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end != '\0')
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not an integer", name, text);
    if (errno == ERANGE)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is too large", name, text);
    *out = (uint64_t)v;
    return FACTO_OK;
}

static facto_status fct_fm_parse_int(facto_ctx *ctx, const char *name, const char *text, int *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0')
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not an integer", name, text);
    if (errno == ERANGE || v > INT32_MAX || v < INT32_MIN)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is out of the integer range", name,
                          text);
    *out = (int)v;
    return FACTO_OK;
}

static facto_status fct_fm_parse_float(facto_ctx *ctx, const char *name, const char *text, float *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not a number", name, text);
    if (!isfinite(v) || fabs(v) > 3.4e38)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not a finite float", name, text);
    *out = (float)v;
    return FACTO_OK;
}

static const fct_fm_pdesc *fct_fm_find(const char *name)
{
    for (int i = 0; i < FACTO_FM_NPARAMS; i++)
        if (strcmp(fct_fm_pdescs[i].name, name) == 0)
            return &fct_fm_pdescs[i];
    return NULL;
}

/* Per-value rules (ranges); cross-field rules are in validate. */
static facto_status fct_fm_check_one(facto_ctx *ctx, const fct_fm_pdesc *d, const facto_fm_params *p);

facto_status facto_fm_params_set(facto_ctx *ctx, facto_fm_params *params, const char *name, const char *value)
{
    if (!params || !name || !value)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_params_set: params, name and value must be given");
    const fct_fm_pdesc *d = fct_fm_find(name);
    if (!d)
        return fct_fail(ctx, FACTO_ERR_INVALID, "unknown hyperparameter '%s' for factorization machines", name);
    char text[128];
    if (!fct_fm_trim(value, text, sizeof text))
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: the value is empty or too long", name);
    facto_fm_params tmp = *params;
    char *field = (char *)&tmp + d->offset;
    facto_status st = FACTO_OK;
    switch (d->type) {
    case FM_T_U64: st = fct_fm_parse_u64(ctx, name, text, (uint64_t *)(void *)field); break;
    case FM_T_INT: st = fct_fm_parse_int(ctx, name, text, (int *)(void *)field); break;
    case FM_T_FLOAT: st = fct_fm_parse_float(ctx, name, text, (float *)(void *)field); break;
    case FM_T_PREDICTOR:
        if (strcmp(text, "regressor") == 0)
            tmp.predictor_type = FACTO_FM_REGRESSOR;
        else if (strcmp(text, "binary_classifier") == 0)
            tmp.predictor_type = FACTO_FM_BINARY_CLASSIFIER;
        else
            st = fct_fail(ctx, FACTO_ERR_INVALID,
                            "hyperparameter predictor_type: '%s' is not binary_classifier or regressor", text);
        break;
    case FM_T_INIT: {
        facto_fm_init_method m;
        if (strcmp(text, "normal") == 0)
            m = FACTO_FM_INIT_NORMAL;
        else if (strcmp(text, "uniform") == 0)
            m = FACTO_FM_INIT_UNIFORM;
        else if (strcmp(text, "constant") == 0)
            m = FACTO_FM_INIT_CONSTANT;
        else {
            st = fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not uniform, normal or constant",
                            name, text);
            break;
        }
        memcpy(field, &m, sizeof m);
        break;
    }
    case FM_T_SOLVER:
        if (strcmp(text, "sgd") == 0)
            tmp.solver = FACTO_FM_SOLVER_SGD;
        else if (strcmp(text, "als") == 0)
            tmp.solver = FACTO_FM_SOLVER_ALS;
        else if (strcmp(text, "mcmc") == 0)
            tmp.solver = FACTO_FM_SOLVER_MCMC;
        else
            st = fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter solver: '%s' is not sgd, als or mcmc", text);
        break;
    case FM_T_OPTIMIZER:
        if (strcmp(text, "sgd") == 0)
            tmp.optimizer = FACTO_OPT_SGD;
        else if (strcmp(text, "adagrad") == 0)
            tmp.optimizer = FACTO_OPT_ADAGRAD;
        else if (strcmp(text, "adam") == 0)
            tmp.optimizer = FACTO_OPT_ADAM;
        else if (strcmp(text, "ftrl") == 0)
            tmp.optimizer = FACTO_OPT_FTRL;
        else
            st = fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter optimizer: '%s' is not sgd, adagrad, adam or ftrl",
                            text);
        break;
    }
    if (st != FACTO_OK)
        return st;
    st = fct_fm_check_one(ctx, d, &tmp);
    if (st != FACTO_OK)
        return st;
    *params = tmp;
    return fct_ok(ctx);
}

static facto_status fct_fm_check_one(facto_ctx *ctx, const fct_fm_pdesc *d, const facto_fm_params *p)
{
    const char *name = d->name;
    const char *field = (const char *)p + d->offset;
    switch (d->type) {
    case FM_T_U64:
        if (strcmp(name, "feature_dim") == 0 && p->feature_dim == 0)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter feature_dim: 0 is not a positive integer");
        if (strcmp(name, "feature_dim") == 0 && p->feature_dim > ((uint64_t)1 << 32))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "hyperparameter feature_dim: %llu is larger than 2^32 (feature keys are 32-bit)",
                              (unsigned long long)p->feature_dim);
        return FACTO_OK;
    case FM_T_INT: {
        int v;
        memcpy(&v, field, sizeof v);
        int min = 1;
        if (strcmp(name, "mcmc_samples") == 0 || strcmp(name, "average_epochs") == 0 ||
            strcmp(name, "burn_in") == 0)
            min = 0;
        if (strcmp(name, "summary_rank") == 0) {
            if (v < -1 || v > 4096)
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "hyperparameter summary_rank: %d is not -1 (automatic), 0 (thinned samples) or a "
                                  "rank in 1..4096",
                                  v);
            return FACTO_OK;
        }
        if (strcmp(name, "prior_groups") == 0) {
            if (v != 0 && v != 1)
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "hyperparameter prior_groups: %d is not 0 (one group) or 1 (one per one-hot field)", v);
            return FACTO_OK;
        }
        if (strcmp(name, "mcmc_chains") == 0 && (v < 1 || v > 256))
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter mcmc_chains: %d is not in 1..256", v);
        if (v < min)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: %d is not a %s integer", name, v,
                              min == 1 ? "positive" : "non-negative");
        return FACTO_OK;
    }
    case FM_T_FLOAT: {
        float v;
        memcpy(&v, field, sizeof v);
        if (isnan(v))
            return FACTO_OK; /* not set */
        if (!isfinite(v))
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: the value is not finite", name);
        /* Any float: *_init_value (SageMaker: "Float"), clip_gradient ("Float";
         * <= 0 turns clipping off, as in MXNet). Every other one must be >= 0. */
        size_t n = strlen(name);
        int any_sign = strcmp(name, "clip_gradient") == 0 || (n > 11 && strcmp(name + n - 11, "_init_value") == 0);
        if (strcmp(name, "lr_decay") == 0 && !(v > 0.0f && v <= 1.0f))
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter lr_decay: %g is not in (0, 1]", (double)v);
        if (!any_sign && v < 0.0f)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: %g is negative; it must be a non-negative float",
                              name, (double)v);
        return FACTO_OK;
    }
    case FM_T_PREDICTOR:
        return FACTO_OK;
    case FM_T_INIT: {
        facto_fm_init_method m;
        memcpy(&m, field, sizeof m);
        if (m != FACTO_FM_INIT_NORMAL && m != FACTO_FM_INIT_UNIFORM && m != FACTO_FM_INIT_CONSTANT)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: %d is not uniform, normal or constant", name,
                              (int)m);
        return FACTO_OK;
    }
    case FM_T_SOLVER:
        if (p->solver != FACTO_FM_SOLVER_SGD && p->solver != FACTO_FM_SOLVER_ALS && p->solver != FACTO_FM_SOLVER_MCMC)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter solver: %d is not sgd, als or mcmc",
                              (int)p->solver);
        return FACTO_OK;
    case FM_T_OPTIMIZER:
        if (p->optimizer != FACTO_OPT_SGD && p->optimizer != FACTO_OPT_ADAGRAD && p->optimizer != FACTO_OPT_ADAM &&
            p->optimizer != FACTO_OPT_FTRL)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter optimizer: %d is not sgd, adagrad, adam or ftrl",
                              (int)p->optimizer);
        return FACTO_OK;
    }
    return FACTO_OK;
}

/* The init-method consistency rules for one of bias / linear / factors. */
static facto_status fct_fm_check_init(facto_ctx *ctx, const char *term, facto_fm_init_method m, float scale,
                                        float sigma, float value)
{
    const char *mname = fct_fm_init_name(m);
    if (!isnan(scale) && m != FACTO_FM_INIT_UNIFORM)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter %s_init_scale: it takes effect only with %s_init_method uniform, not %s",
                          term, term, mname);
    if (!isnan(sigma) && m != FACTO_FM_INIT_NORMAL)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter %s_init_sigma: it takes effect only with %s_init_method normal, not %s",
                          term, term, mname);
    if (!isnan(value) && m != FACTO_FM_INIT_CONSTANT)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter %s_init_value: it takes effect only with %s_init_method constant, not %s",
                          term, term, mname);
    if (m == FACTO_FM_INIT_UNIFORM && isnan(scale))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter %s_init_scale: %s_init_method uniform needs it (it has no default)", term,
                          term);
    if (m == FACTO_FM_INIT_CONSTANT && isnan(value))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter %s_init_value: %s_init_method constant needs it (it has no default)", term,
                          term);
    return FACTO_OK;
}

facto_status facto_fm_params_validate(facto_ctx *ctx, const facto_fm_params *p)
{
    if (!p)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_params_validate: params must be given");
    if (p->feature_dim == 0)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter feature_dim is required (a positive integer)");
    if (p->num_factors == 0)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter num_factors is required (a positive integer)");
    if (p->predictor_type == FACTO_FM_PREDICTOR_UNSET)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter predictor_type is required (binary_classifier or regressor)");
    if (p->predictor_type != FACTO_FM_REGRESSOR && p->predictor_type != FACTO_FM_BINARY_CLASSIFIER)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter predictor_type: %d is not binary_classifier or regressor",
                          (int)p->predictor_type);
    for (int i = 0; i < FACTO_FM_NPARAMS; i++) {
        facto_status st = fct_fm_check_one(ctx, &fct_fm_pdescs[i], p);
        if (st != FACTO_OK)
            return st;
    }
    facto_status st = fct_fm_check_init(ctx, "bias", p->bias_init_method, p->bias_init_scale, p->bias_init_sigma,
                                          p->bias_init_value);
    if (st == FACTO_OK)
        st = fct_fm_check_init(ctx, "linear", p->linear_init_method, p->linear_init_scale, p->linear_init_sigma,
                                 p->linear_init_value);
    if (st == FACTO_OK)
        st = fct_fm_check_init(ctx, "factors", p->factors_init_method, p->factors_init_scale,
                                 p->factors_init_sigma, p->factors_init_value);
    if (st != FACTO_OK)
        return st;
    if (p->solver == FACTO_FM_SOLVER_MCMC && p->burn_in >= p->num_iter)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter burn_in: %d leaves no sample of the %d MCMC iterations (num_iter); it "
                          "must be smaller than num_iter",
                          p->burn_in, p->num_iter);
    return fct_ok(ctx);
}

facto_status facto_fm_params_load_json(facto_ctx *ctx, facto_fm_params *params, const char *path)
{
    if (!params || !path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_params_load_json: params and path must be given");
    json_error_t err;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: is a folder, not a hyperparameters.json file", path);
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        fclose(f);
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%d: %s", path, err.line, err.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:1: hyperparameters must be a JSON object", path);
    }
    facto_fm_params tmp = *params;
    const char *key;
    json_t *val;
    facto_status st = FACTO_OK;
    json_object_foreach(root, key, val) {
        /* Keys SageMaker itself adds (hyperparameter tuning, SDK settings). */
        if (key[0] == '_' || strncmp(key, "sagemaker_", 10) == 0)
            continue;
        char num[64];
        const char *text;
        if (json_is_string(val)) {
            text = json_string_value(val);
        } else if (json_is_integer(val)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
            text = num;
        } else if (json_is_real(val)) {
            snprintf(num, sizeof num, "%.17g", json_real_value(val));
            text = num;
        } else {
            st = fct_fail(ctx, FACTO_ERR_INVALID, "%s: hyperparameter %s: the value must be a string or a number",
                            path, key);
            break;
        }
        st = facto_fm_params_set(ctx, &tmp, key, text);
        if (st != FACTO_OK) {
            char msg[FACTO_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
            st = fct_fail(ctx, st, "%s: %s", path, msg);
            break;
        }
    }
    json_decref(root);
    if (st != FACTO_OK)
        return st;
    *params = tmp;
    return fct_ok(ctx);
}

/* "name=value\n" for every hyperparameter that is set (NAN floats are left
 * out), in table order, into buf; returns the length it needs (like
 * snprintf). facto_fm_params_set() reads each line back exactly: floats are
 * printed with 9 significant digits. Used by the model file. */
size_t fct_fm_params_dump(const facto_fm_params *p, char *buf, size_t size)
{
    size_t len = 0;
    for (int i = 0; i < FACTO_FM_NPARAMS; i++) {
        const fct_fm_pdesc *d = &fct_fm_pdescs[i];
        const char *field = (const char *)p + d->offset;
        char val[64];
        switch (d->type) {
        case FM_T_U64: {
            uint64_t v;
            memcpy(&v, field, sizeof v);
            if (v == 0 && strcmp(d->name, "feature_dim") == 0)
                continue;
            snprintf(val, sizeof val, "%llu", (unsigned long long)v);
            break;
        }
        case FM_T_INT: {
            int v;
            memcpy(&v, field, sizeof v);
            if (v == 0 && strcmp(d->name, "num_factors") == 0)
                continue;
            snprintf(val, sizeof val, "%d", v);
            break;
        }
        case FM_T_FLOAT: {
            float v;
            memcpy(&v, field, sizeof v);
            if (isnan(v))
                continue;
            snprintf(val, sizeof val, "%.9g", (double)v);
            break;
        }
        case FM_T_PREDICTOR:
            if (p->predictor_type == FACTO_FM_PREDICTOR_UNSET)
                continue;
            snprintf(val, sizeof val, "%s", fct_fm_predictor_name(p->predictor_type));
            break;
        case FM_T_INIT: {
            facto_fm_init_method m;
            memcpy(&m, field, sizeof m);
            snprintf(val, sizeof val, "%s", fct_fm_init_name(m));
            break;
        }
        case FM_T_SOLVER: snprintf(val, sizeof val, "%s", fct_fm_solver_name(p->solver)); break;
        case FM_T_OPTIMIZER: snprintf(val, sizeof val, "%s", fct_fm_optimizer_name(p->optimizer)); break;
        }
        int n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0, "%s=%s\n", d->name, val);
        if (n > 0)
            len += (size_t)n;
    }
    return len;
}

size_t facto_fm_params_format(const facto_fm_params *params, char *buf, size_t size)
{
    if (!params) {
        if (buf && size > 0)
            buf[0] = '\0';
        return 0;
    }
    if (buf && size > 0)
        buf[0] = '\0';
    return fct_fm_params_dump(params, buf, size);
}
