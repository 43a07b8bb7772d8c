/* types.c - names of the spec language's value types (see types.h). */
#include "types.h"
#include <string.h>

static const char *const names[] = {
    [T_ERROR] = "<error>", [T_NULL] = "null", [T_BOOL] = "bool", [T_INT32] = "int32",
    [T_INT64] = "int64", [T_FLOAT64] = "float64", [T_STRING] = "string",
    [T_TIMESTAMP] = "timestamp", [T_DATE] = "date", [T_INTERVAL] = "interval",
};

static const char *const c_names[] = {
    [T_ERROR] = "int", [T_NULL] = "int", [T_BOOL] = "bool", [T_INT32] = "int32_t",
    [T_INT64] = "int64_t", [T_FLOAT64] = "double", [T_STRING] = "prt_str",
    [T_TIMESTAMP] = "int64_t", [T_DATE] = "int32_t", [T_INTERVAL] = "int64_t",
};

const char *type_name(Type t) { return names[t]; }
const char *type_c_name(Type t) { return c_names[t]; }

bool type_from_name(const char *s, Type *out) {
    for (Type t = T_BOOL; t <= T_DATE; t++) {
        if (strcmp(s, names[t]) == 0) {
            *out = t;
            return true;
        }
    }
    return false;
}

bool type_is_numeric(Type t) { return t == T_INT32 || t == T_INT64 || t == T_FLOAT64; }
bool type_is_integer(Type t) { return t == T_INT32 || t == T_INT64; }
