/* plan.h - pass 3: lowers a checked Spec into the IR the emitter renders and `pipec explain`
 * prints: the record layout (a C struct with fixed-width fields and a null bitmap), how each
 * field is decoded, the rules, derived fields, filter, and each sink's columns. The IR decides
 * layout and names; it never validates (check did) and never prints C (emit does). */
#ifndef PIPEC_PLAN_H
#define PIPEC_PLAN_H
#include <stdint.h>
#include <stdio.h>
#include "spec.h"

typedef struct IrField {
    const char *name;
    const char *c_name;          /* struct member: "f_<name>" (never a C keyword) */
    Type type;
    int null_bit;                /* bit in the record's null bitmap, or -1 = never NULL */
    const SchemaField *schema;   /* decoded from the input, or NULL */
    const DeriveSpec *derive;    /* computed, or NULL */
    const char *enum_array;      /* one_of: C name of the prt_str array of its values, or NULL */
} IrField;

typedef struct IrColumn {
    const char *name;
    Type type;
    int field;                   /* index into Ir.fields when the column is a plain field, else -1 */
    Expr *expr;                  /* otherwise the expression */
    const char *text;
    int avg_part;                /* merge sinks: 1 = the hidden sum, 2 = the hidden count of an avg */
    int avg_agg;                 /* ... of this aggregate of the window */
} IrColumn;

typedef struct IrSink {
    const SinkSpec *spec;
    IrColumn *cols;              /* `field` indexes Ir.fields, or the window's `out` for window sinks */
    int ncols;
    int npart;                   /* parquet: the last npart columns are the partition values */
} IrSink;

/* A window: its output row (window_start, window_end, group keys, aggregates) as fields of the
 * struct `o` that window sinks read, each with a null bit where it can be NULL. */
typedef struct IrWindow {
    const WindowSpec *spec;
    const char *prefix;          /* C names of this window's code: "w0_..." */
    IrField *out;
    int nout;
    int out_null_words;
    size_t entry_bytes;          /* estimated bytes per open group (state entry) */
    size_t pane_bytes;           /* hopping windows: estimated bytes per pane of a group */
} IrWindow;

typedef struct Ir {
    const Spec *spec;
    IrField *fields;             /* schema fields, then derived fields */
    int nfields;
    int nschema;
    int null_words;              /* uint64_t words of the null bitmap (at least 1) */
    int csv_min_fields;          /* csv without header: how many fields a record needs */
    IrSink *sinks;
    int nsinks;
    IrWindow *windows;
    int nwindows;
    size_t record_bytes;         /* sizeof the record struct on LP64, for explain */
    uint64_t fingerprint;        /* of the record layout and the sinks' columns */
} Ir;

/* Builds the IR; also fills spec->scope_fields' C access paths (c_value, c_null) so the
 * expression emitter reaches fields through the record struct `r`. */
Ir *plan_build(Arena *a, Spec *spec);
void plan_explain(const Ir *ir, FILE *out);
/* A sink column's type as the runtime's tables know it (a prt_col_type of pipec_rt.h). */
int plan_col_type(Type t);
/* A key column of the sink can be NULL (a nullable field, or an expression): its PostgreSQL
 * table gets UNIQUE NULLS NOT DISTINCT instead of a PRIMARY KEY. */
bool plan_sink_key_nullable(const Ir *ir, const IrSink *is);

#endif
