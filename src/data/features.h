/*
 * features.h — internal layout of facto_features (features.c): a table of
 * side features per entity id (a user or an item), the input of the FM
 * encoder (fm_encode.c), of FM's block-form side tables (fct_fm_side_table)
 * and of future content-based and hybrid models. One CSR row per id, in the
 * id map's order; columns have names and a group (the kind of feature).
 * Memory O(ids + columns + entries).
 */
#ifndef FACTO_FEATURES_H
#define FACTO_FEATURES_H

#include "dataset.h"

struct facto_features {
    facto_idmap *ids;      /* entity ids; row r holds the features of id index r */
    facto_rows *rows;      /* [n_ids rows, n_columns]: keys = columns (ascending), no labels */
    facto_idmap *columns;  /* column names ("age=25-34", "genre=Comedy"), index = column */
    int32_t *column_group; /* [n_columns] group of each column, in [0, n_groups) */
    int32_t group_cap;     /* capacity of column_group */
    facto_idmap *groups;   /* group names ("age", "genre"), index = group */
};

/* Formats a reader may accept (a bit set). */
enum {
    FCT_FEATURES_ATTRIBUTES = 1, /* "id<TAB>name[:value] ..." */
    FCT_FEATURES_ML_USERS = 2,   /* MovieLens 100K u.user */
    FCT_FEATURES_ML_ITEMS = 4,   /* MovieLens 100K u.item */
    FCT_FEATURES_ANY = 7
};

/*
 * facto_features_read restricted to the formats in `accept`. With one format
 * the file is parsed as that format, unseen (so a u.item given for users fails
 * on its first line); with several, the first line that is neither blank nor
 * a '#' comment decides: no '|' is attributes, 5 '|'-separated fields u.user,
 * more u.item. Unlike facto_features_read, an attribute file without ids gives
 * an empty table (FACTO_OK). Errors and ownership as facto_features_read.
 */
facto_status fct_features_read(facto_ctx *ctx, const char *path, unsigned accept, facto_features **out);

#endif /* FACTO_FEATURES_H */
