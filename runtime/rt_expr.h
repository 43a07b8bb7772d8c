/* rt_expr.h - runtime support for generated expressions (arithmetic with overflow checks, string
 * functions, casts, date/time functions), implemented in rt_expr.c and inline here. Included by
 * pipec_rt.h; generated code calls these, compiler/expr_emit.c is their only user.
 *
 * Conventions: a function that can yield NULL returns bool (true = a value in *out, false = NULL)
 * and counts the reason (run->stats.overflow / div_zero) itself, so generated code reads
 * `bool isnull = a_null || b_null || !prt_add_i64(run, a, b, &out);`. Strings made here live in
 * the run's scratch arena (until the end of the batch); slices of the input are returned as they
 * are where possible (trim, substr). Text is UTF-8; invalid bytes count as one character each.
 * Nothing here is undefined behaviour for any input. */
#ifndef PIPEC_RT_EXPR_H
#define PIPEC_RT_EXPR_H
#include <stdbool.h>
#include <stdint.h>

/* pipec_rt.h includes this file after declaring prt_run, prt_str and prt_stats. */

/* ---- integer arithmetic: false = NULL (overflow or division by zero, counted) ---- */
#define PRT_DEF_INT_OPS(T, SFX)                                                                   \
    static inline bool prt_add_##SFX(prt_run *run, T a, T b, T *out) {                          \
        if (__builtin_add_overflow(a, b, out)) { run->stats.overflow++; return false; }          \
        return true;                                                                              \
    }                                                                                             \
    static inline bool prt_sub_##SFX(prt_run *run, T a, T b, T *out) {                          \
        if (__builtin_sub_overflow(a, b, out)) { run->stats.overflow++; return false; }          \
        return true;                                                                              \
    }                                                                                             \
    static inline bool prt_mul_##SFX(prt_run *run, T a, T b, T *out) {                          \
        if (__builtin_mul_overflow(a, b, out)) { run->stats.overflow++; return false; }          \
        return true;                                                                              \
    }                                                                                             \
    /* truncating division; MIN / -1 overflows */                                                 \
    static inline bool prt_div_##SFX(prt_run *run, T a, T b, T *out) {                          \
        if (b == 0) { run->stats.div_zero++; return false; }                                     \
        if (b == -1) return prt_sub_##SFX(run, 0, a, out);                                       \
        *out = a / b;                                                                             \
        return true;                                                                              \
    }                                                                                             \
    /* the remainder has the sign of the dividend (C and SQL); MIN % -1 is 0 */                  \
    static inline bool prt_mod_##SFX(prt_run *run, T a, T b, T *out) {                          \
        if (b == 0) { run->stats.div_zero++; return false; }                                     \
        *out = b == -1 ? 0 : a % b;                                                               \
        return true;                                                                              \
    }                                                                                             \
    static inline bool prt_neg_##SFX(prt_run *run, T a, T *out) {                                \
        return prt_sub_##SFX(run, 0, a, out);                                                     \
    }                                                                                             \
    static inline bool prt_abs_##SFX(prt_run *run, T a, T *out) {                                \
        if (a >= 0) { *out = a; return true; }                                                    \
        return prt_sub_##SFX(run, 0, a, out);                                                     \
    }
PRT_DEF_INT_OPS(int32_t, i32)
PRT_DEF_INT_OPS(int64_t, i64)
#undef PRT_DEF_INT_OPS

/* int64 to int32 (casts, date + int64 days): out of range = NULL, counted as overflow */
static inline bool prt_i64_to_i32(prt_run *run, int64_t v, int32_t *out) {
    if (v < INT32_MIN || v > INT32_MAX) { run->stats.overflow++; return false; }
    *out = (int32_t)v;
    return true;
}

/* ---- float arithmetic ---- */
static inline bool prt_div_f64(prt_run *run, double a, double b, double *out) {
    if (b == 0) { run->stats.div_zero++; return false; }
    *out = a / b;
    return true;
}
bool prt_mod_f64(prt_run *run, double a, double b, double *out);     /* fmod; b == 0 = NULL */
double prt_f64_round(double x, int64_t digits);   /* half away from zero; digits may be negative */
double prt_f64_floor(double x);
double prt_f64_ceil(double x);
double prt_f64_abs(double x);
/* float to integer: rounds toward zero; NaN or out of range = NULL, counted as overflow */
bool prt_f64_to_i32(prt_run *run, double v, int32_t *out);
bool prt_f64_to_i64(prt_run *run, double v, int64_t *out);

/* ---- strings ---- */
int prt_str_cmp(prt_str a, prt_str b);            /* bytewise, like memcmp then length */
prt_str prt_str_concat(prt_run *run, prt_str a, prt_str b);
int32_t prt_str_length(prt_str s);                /* in characters */
prt_str prt_str_lower(prt_run *run, prt_str s);   /* ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic */
prt_str prt_str_upper(prt_run *run, prt_str s);
prt_str prt_str_trim(prt_str s);                  /* ASCII spaces, tabs, CR, LF at both ends */
/* substr(s, start[, len]) with SQL semantics: characters, 1-based; positions before 1 still use
 * up `len`; a negative len = NULL. Returns a slice of s. */
bool prt_str_substr(prt_str s, int64_t start, bool has_len, int64_t len, prt_str *out);

/* ---- casts to string (made in the scratch arena) ---- */
prt_str prt_bool_to_str(bool v);
prt_str prt_i64_to_str(prt_run *run, int64_t v);
prt_str prt_f64_to_str(prt_run *run, double v);   /* shortest round-trip form; nan, inf, -inf */
prt_str prt_ts_to_str(prt_run *run, int64_t us);  /* RFC 3339 UTC */
prt_str prt_date_to_str(prt_run *run, int32_t days);
prt_str prt_interval_to_str(prt_run *run, int64_t us);   /* "1 day 02:03:04.5", "-00:00:01" */

/* ---- casts from string: surrounding spaces are ignored; false = NULL (not counted) ---- */
bool prt_str_to_bool(prt_str s, bool *out);
bool prt_str_to_i32(prt_str s, int32_t *out);
bool prt_str_to_i64(prt_str s, int64_t *out);
bool prt_str_to_f64(prt_str s, double *out);
bool prt_str_to_ts(prt_str s, int64_t *out);
bool prt_str_to_date(prt_str s, int32_t *out);
bool prt_str_to_interval(prt_str s, int64_t *out);   /* "10 seconds", "1 hour 30 minutes", "500ms" */

/* ---- date and time ---- */
#define PRT_US_PER_DAY INT64_C(86400000000)
enum { PRT_TRUNC_SECOND, PRT_TRUNC_MINUTE, PRT_TRUNC_HOUR, PRT_TRUNC_DAY, PRT_TRUNC_WEEK,
       PRT_TRUNC_MONTH, PRT_TRUNC_YEAR };
enum { PRT_PART_HOUR, PRT_PART_MINUTE, PRT_PART_DAY, PRT_PART_MONTH, PRT_PART_YEAR };

int64_t prt_ts_trunc(int64_t us, int unit);       /* weeks start on Monday */
int32_t prt_ts_part(int64_t us, int part);
int32_t prt_ts_date(int64_t us);                  /* the day (floor) */
int64_t prt_ts_epoch(int64_t us);                 /* seconds, floor */
/* date to timestamp (midnight UTC); saturates at the int64 range (far beyond any real date) */
static inline int64_t prt_date_ts(int32_t days) {
    if (days > 106751991) return INT64_MAX;   /* INT64_MAX / PRT_US_PER_DAY */
    if (days < -106751991) return INT64_MIN;
    return (int64_t)days * PRT_US_PER_DAY;
}
/* date + n days: NULL (overflow) beyond the int32 range */
static inline bool prt_date_add(prt_run *run, int32_t d, int64_t n, int32_t *out) {
    int64_t r;
    if (__builtin_add_overflow((int64_t)d, n, &r)) { run->stats.overflow++; return false; }
    return prt_i64_to_i32(run, r, out);
}
static inline bool prt_date_sub(prt_run *run, int32_t d, int64_t n, int32_t *out) {
    int64_t r;
    if (__builtin_sub_overflow((int64_t)d, n, &r)) { run->stats.overflow++; return false; }
    return prt_i64_to_i32(run, r, out);
}

#endif
