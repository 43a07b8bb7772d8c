/* expr.h - the expression language of the spec (rules, derive, filter, where, columns, keys):
 * lexer, parser, static type checker and the C code generator, in compiler/expr_*.c.
 *
 * Semantics are SQL's: three-valued logic (a NULL operand makes arithmetic and comparisons NULL;
 * `and`/`or` follow Kleene logic), integer overflow and division by zero give NULL and are counted
 * at run time (never undefined behaviour in C), `/` on integers truncates, string concatenation
 * with `||`, `in (...)`, `between`, `case when`, `is [not] null`, casts, and the functions of
 * docs/spec.md. Keywords are case-insensitive; identifiers are field names. */
#ifndef PIPEC_EXPR_H
#define PIPEC_EXPR_H
#include <stdbool.h>
#include "arena.h"
#include "diag.h"
#include "sbuf.h"
#include "types.h"
#include "yaml.h"

typedef struct Expr Expr;   /* opaque outside expr_*.c */

/* A field an expression may name, with how generated C reaches it. */
typedef struct ExprField {
    const char *name;
    Type type;
    const char *c_value;     /* C lvalue of the value, e.g. "r->price" (an int index for enums) */
    const char *c_null;      /* C expression that is true when the value is NULL, or NULL = never */
    const char *const *enum_values;   /* one_of strings: the value is an index into this list */
    int nenum;               /* 0 = not an enum */
    const char *enum_names_c;         /* C name of a `static const prt_str NAME[]` with those strings */
} ExprField;

typedef struct ExprScope {
    const ExprField *fields;
    int nfields;
    const char *what;        /* for messages: "rule 'x'", "derive 'y'", "filter" */
} ExprScope;

/* Parses the text of a scalar node. Reports syntax errors (with the exact column) and returns NULL. */
Expr *expr_parse(Arena *a, const YNode *scalar);

/* Resolves names and types. Reports every error it finds (unknown field with "did you mean",
 * operand type mismatches, wrong argument counts, ...). Returns the type, or T_ERROR. */
Type expr_check(Arena *a, Expr *e, const ExprScope *scope);

/* The location of an expression (for messages of the caller, e.g. "rule must be bool"). */
SrcLoc expr_loc(const Expr *e);
/* The names of fields the expression reads (after expr_check), each once, in first-use order. */
int expr_fields_used(const Expr *e, const char **out, int max);
/* True for a bare field reference; *name gets the field name. */
bool expr_is_field(const Expr *e, const char **name);

/* How emitted code refers to things of the run. */
typedef struct CEmitter {
    SBuf *out;               /* statements are appended here */
    int indent;              /* in units of 4 spaces */
    int tmp;                 /* next temporary number; temporaries are named _tN */
    const char *run;         /* C expression of the prt_run pointer, e.g. "run" */
    bool line_directives;    /* emit `#line N "file"` before each expression's statements */
} CEmitter;

/* The C results of an emitted expression: `val` is a C expression of type type_c_name(type)
 * (prt_str for strings: enums are converted), `isnull` a C expression that is nonzero when NULL
 * ("0" when it cannot be). Both stay valid for the rest of the enclosing C block. */
typedef struct CVal {
    const char *val;
    const char *isnull;
    Type type;
    const char *json;   /* a prt_str of the value already JSON-quoted (enum fields), or NULL */
} CVal;

/* Emits C statements computing `e` (checked) into ce->out and returns where the result is. */
CVal expr_emit_c(Arena *a, CEmitter *ce, const Expr *e);

/* Emits a boolean condition under SQL semantics: the C expression returned is nonzero only when
 * `e` is TRUE (NULL and FALSE both give 0). For rules (which pass on NULL) use expr_emit_c. */
const char *expr_emit_c_truth(Arena *a, CEmitter *ce, const Expr *e);

/* A constant expression (literals and operators on them only) evaluated at compile time, as used
 * by keys like `interval` sizes; false when not constant. Only what later issues need. */
bool expr_is_constant(const Expr *e);

#endif
