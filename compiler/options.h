/* options.h - the option tables: every key a spec may hold, declared once with its kind, whether
 * it is required, its default and a one-line description. The checker validates maps against
 * them (unknown keys get a "did you mean"), and the key reference of docs/spec.md (`pipec docs`) is
 * generated from the same tables, so they cannot drift apart. */
#ifndef PIPEC_OPTIONS_H
#define PIPEC_OPTIONS_H
#include <stdbool.h>
#include <stddef.h>
#include "yaml.h"

typedef enum {
    OPT_STRING,     /* a scalar */
    OPT_BOOL,       /* true/false */
    OPT_INT,        /* a whole number */
    OPT_CHAR,       /* a one-character string */
    OPT_DURATION,   /* 5s, 1m, 500ms, ... */
    OPT_SIZE,       /* 1MiB, 4096, ... */
    OPT_EXPR,       /* an expression (a scalar, checked by the expression compiler) */
    OPT_ENUM,       /* one of `choices` */
    OPT_LIST,       /* a list of scalars */
    OPT_MAP,        /* a map, checked by its own code */
    OPT_ANY,        /* a scalar, list or map, checked by its own code */
} OptKind;

typedef struct OptDef {
    const char *name;
    OptKind kind;
    bool required;
    const char *def;          /* default as text, or NULL */
    const char *choices;      /* OPT_ENUM: "a|b|c" */
    const char *doc;
} OptDef;

/* A connector (source, sink, dead letter or format) and its keys. */
typedef struct ConnDef {
    const char *name;
    bool supported;           /* false: known to the spec format, not built yet */
    const OptDef *opts;
    const char *doc;
} ConnDef;

extern const OptDef top_level_opts[];
extern const OptDef field_opts[];
extern const OptDef test_opts[];           /* one entry of `tests:` */
extern const OptDef source_common_opts[];  /* format, beside the source's connector */
extern const OptDef sink_common_opts[];    /* from, where, columns */
extern const OptDef checkpoint_opts[];
extern const OptDef metrics_opts[];
extern const OptDef metrics_tls_opts[];
extern const OptDef limits_opts[];
extern const OptDef metrics_auth_opts[];
extern const OptDef window_opts[];
extern const OptDef hopping_opts[];
extern const OptDef session_opts[];
extern const OptDef pg_batch_opts[];   /* a postgres sink's batch: {rows, every} */
extern const OptDef pq_roll_opts[];    /* a parquet sink's roll: {rows, every} */
extern const ConnDef source_conns[];
extern const ConnDef format_conns[];
extern const ConnDef sink_conns[];
extern const ConnDef dead_letter_conns[];

const OptDef *opt_find(const OptDef *opts, const char *name);

/* Steps through the choices of an OPT_ENUM ("a|b|c"): start with *cursor = o->choices; each call
 * sets *start and *len to the next choice and returns true, or returns false after the last. */
bool opt_next_choice(const char **cursor, const char **start, size_t *len);
const ConnDef *conn_find(const ConnDef *conns, const char *name);

/* Checks a map against an option table: every key known (else "unknown key 'x' in WHAT (did you
 * mean 'y'?)"), every required key present, scalar kinds right. `extra` names keys handled by
 * the caller that are not in the table (NULL-terminated), or NULL. Returns false on any error. */
bool opts_check_map(const YNode *map, const OptDef *opts, const char *what, const char *const *extra);

#endif
