/*
 * params.h — the by-name parameter table every model kind describes its
 * hyperparameters with. A kind keeps its hyperparameters in a plain struct
 * (facto_mf_params, facto_fm_params, ...) and one static table of
 * fct_pdesc rows (name, aliases, type, field offset, range, help); this
 * engine walks the table to set a field from text (a CLI flag,
 * hyperparameters.json, a model file), check every range, print every value
 * ("name=value" lines that read back exactly) and describe the fields for
 * --help and `facto inspect`. A name is spelled once, in its table.
 * Cost O(number of fields) per call; no allocation except jansson's.
 */
#ifndef FACTO_CORE_PARAMS_H
#define FACTO_CORE_PARAMS_H

#include "numtext.h"
#include "internal.h"

#include <stddef.h>

typedef enum fct_ptype {
    FCT_PT_INT = 1, /* int */
    FCT_PT_U64 = 2, /* uint64_t */
    FCT_PT_FLOAT = 3, /* float */
    FCT_PT_ENUM = 4 /* an int-sized enum, named by `choices` */
} fct_ptype;

/* Field flags. */
enum {
    FCT_PF_REQUIRED = 1,  /* the unset value (0, or NAN for floats) is refused by fct_params_check */
    FCT_PF_UNSET_NAN = 2, /* float: NAN means "not set" (SageMaker's "Default value: None") */
    FCT_PF_UNSET_ZERO = 4, /* 0 means "not set" and is left out of dumps */
    FCT_PF_MIN_OPEN = 8,  /* the range excludes `min` */
    FCT_PF_ANY_FLOAT = 16, /* float: any finite value (no range) */
    FCT_PF_MAX_OPEN = 32  /* the range excludes `max` */
};

/* One named value of an enum field; a table ends with {NULL, 0}. */
typedef struct fct_penum {
    const char *name;
    int value;
} fct_penum;

typedef struct fct_pdesc {
    const char *name;          /* canonical name: SageMaker's, or the field's */
    const char *aliases;       /* other accepted names, comma-separated ("factors"), or NULL */
    fct_ptype type;
    size_t offset;             /* of the field in the kind's struct */
    const fct_penum *choices;  /* FCT_PT_ENUM: the names */
    double min, max;           /* FCT_PT_INT, U64, FLOAT: allowed range (inclusive unless FCT_PF_MIN_OPEN) */
    unsigned flags;            /* FCT_PF_* */
    const char *rule;          /* how an out-of-range value is described ("is not a positive integer");
                                  NULL: "is not in [min, max]" */
    const char *help;          /* one line for --help */
    const char *origin;        /* "sagemaker", "facto" or NULL: where the name comes from */
    const char *unset_text;    /* what "not set" means, for --help ("0.01"); NULL when it cannot be unset */
} fct_pdesc;

typedef struct fct_ptable {
    const char *kind;          /* model kind ("mf") */
    const fct_pdesc *desc;
    int n;
    size_t size;               /* sizeof the kind's struct */
    void (*defaults)(void *params);
    /* Rules between fields, run after every field's own rule; may be NULL. */
    facto_status (*validate)(facto_ctx *ctx, const void *params);
} fct_ptable;

/* The row of `name` or of one of its aliases ('-' and '_' are the same), or NULL. */
const fct_pdesc *fct_params_find(const fct_ptable *t, const char *name);

/*
 * Set field `name` of params (a struct the table describes) from `text`
 * (blanks around it ignored): integers in decimal, floats as C reads them
 * in any locale, enums by name. The field's own rule is checked; on error
 * *params is unchanged. FACTO_ERR_INVALID, the message naming the
 * hyperparameter ("hyperparameter num_factors: 0 is not a positive integer"),
 * also for an unknown name.
 */
facto_status fct_params_set(facto_ctx *ctx, const fct_ptable *t, void *params, const char *name, const char *text);

/* Check field d's rule on params. FACTO_ERR_INVALID naming it. */
facto_status fct_params_check_field(facto_ctx *ctx, const fct_pdesc *d, const void *params);

/* Every field's rule (required ones set), then the table's validate. */
facto_status fct_params_check(facto_ctx *ctx, const fct_ptable *t, const void *params);

/*
 * The text of field d into buf (size bytes): what fct_params_set reads back
 * to the same value (floats with 9 significant digits, locale-free).
 * Returns 0 when the field is not set (then buf is ""), else 1.
 */
int fct_params_value(const fct_pdesc *d, const void *params, char *buf, size_t size);

/* "name=value\n" for every field that is set, in table order, into buf;
 * returns the length needed without the NUL (like snprintf). */
size_t fct_params_dump(const fct_ptable *t, const void *params, char *buf, size_t size);

/*
 * Apply "name=value" lines (text [n] bytes, as fct_params_dump writes them)
 * to params, in order. Errors: FACTO_ERR_INVALID from the setter, or when a
 * line has no '='. `where` names the source in messages.
 */
facto_status fct_params_parse_lines(facto_ctx *ctx, const fct_ptable *t, void *params, const char *text, size_t n,
                                    const char *where);

/*
 * Read SageMaker's hyperparameters.json: one JSON object whose values are
 * strings (numbers accepted too), applied with fct_params_set in file order;
 * keys starting with "_" or "sagemaker_" are skipped. On error *params is
 * unchanged. Errors: FACTO_ERR_IO (cannot open; a folder), FACTO_ERR_PARSE
 * ("PATH:LINE: ..." for malformed JSON), FACTO_ERR_INVALID ("PATH:
 * hyperparameter ...").
 */
facto_status fct_params_load_json(facto_ctx *ctx, const fct_ptable *t, void *params, const char *path);

/* Name of enum value v of d, or NULL. */
const char *fct_params_enum_name(const fct_pdesc *d, int v);

/* Locale-free number text: numtext.h. */

#endif /* FACTO_CORE_PARAMS_H */
