/* types.h - the value types of the spec language, shared by the checker, the expression compiler,
 * the planner and the emitter. `interval` exists only inside expressions (literals, timestamp
 * arithmetic); `null` is the type of the bare literal `null` and unifies with any type. */
#ifndef PIPEC_TYPES_H
#define PIPEC_TYPES_H
#include <stdbool.h>

typedef enum Type {
    T_ERROR = 0,   /* an expression that already failed to check: reported once, never again */
    T_NULL,
    T_BOOL,
    T_INT32,
    T_INT64,
    T_FLOAT64,
    T_STRING,
    T_TIMESTAMP,   /* int64 microseconds since 1970-01-01T00:00:00Z */
    T_DATE,        /* int32 days since 1970-01-01 */
    T_INTERVAL,    /* int64 microseconds */
} Type;

const char *type_name(Type t);          /* "int64", ... as users write them */
bool type_from_name(const char *s, Type *out);   /* the schema types only (not null/interval) */
const char *type_c_name(Type t);        /* "int64_t", "prt_str", ... */
bool type_is_numeric(Type t);           /* int32, int64, float64 */
bool type_is_integer(Type t);

#endif
