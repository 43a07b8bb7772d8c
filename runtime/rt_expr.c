/* rt_expr.c - functions called by generated expression code (see rt_expr.h): float helpers,
 * UTF-8 string functions, casts to and from text, date/time functions.
 *
 * Invariants: no function has undefined behaviour for any input (invalid UTF-8 is handled byte by
 * byte, float-to-int conversions are range-checked before converting); results that are new text
 * are allocated from the run's scratch arena, never malloc'd per record; parsing and formatting
 * of values is delegated to rt_text.c so a cast reads and writes exactly what decoders and sinks
 * do. */
#include "pipec_rt.h"
#include <math.h>
#include <stdio.h>

/* ---- floats ---- */

bool prt_mod_f64(prt_run *run, double a, double b, double *out) {
    if (b == 0) {
        run->stats.div_zero++;
        return false;
    }
    *out = fmod(a, b);
    return true;
}

double prt_f64_round(double x, int64_t digits) {
    if (!isfinite(x)) return x;
    if (digits > 308) return x;
    if (digits < -308) return 0 * x;
    double p = pow(10, (double)(digits < 0 ? -digits : digits));
    if (digits == 0) return round(x);
    if (digits > 0) {
        double y = round(x * p) / p;
        return isfinite(y) ? y : x;
    }
    return round(x / p) * p;
}

double prt_f64_floor(double x) { return floor(x); }
double prt_f64_ceil(double x) { return ceil(x); }
double prt_f64_abs(double x) { return fabs(x); }

bool prt_f64_to_i32(prt_run *run, double v, int32_t *out) {
    /* the comparisons are false for NaN */
    if (!(v > -2147483649.0 && v < 2147483648.0)) {
        run->stats.overflow++;
        return false;
    }
    *out = (int32_t)v;
    return true;
}

bool prt_f64_to_i64(prt_run *run, double v, int64_t *out) {
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
        run->stats.overflow++;
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* ---- strings ---- */

int prt_str_cmp(prt_str a, prt_str b) {
    uint32_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return a.n < b.n ? -1 : a.n > b.n;
}

prt_str prt_str_concat(prt_run *run, prt_str a, prt_str b) {
    if (!a.n) return b;
    if (!b.n) return a;
    char *p = prt_scratch(run, (size_t)a.n + b.n);
    memcpy(p, a.p, a.n);
    memcpy(p + a.n, b.p, b.n);
    return (prt_str){p, a.n + b.n};
}

static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* The length of the UTF-8 sequence at p[0..n): 1 for an invalid byte. */
static uint32_t seq_len(const unsigned char *p, uint32_t n) {
    uint32_t want = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] < 0xE0 ? 2 : p[0] >= 0xE0 && p[0] < 0xF0 ? 3
                  : p[0] >= 0xF0 && p[0] < 0xF5 ? 4 : 1;
    if (want > n) return 1;
    for (uint32_t i = 1; i < want; i++)
        if (!is_cont(p[i])) return 1;
    return want;
}

int32_t prt_str_length(prt_str s) {
    const unsigned char *p = (const unsigned char *)s.p;
    int32_t count = 0;
    for (uint32_t i = 0; i < s.n; count++) i += seq_len(p + i, s.n - i);
    return count;
}

/* Case pairs for two-byte code points: lower = upper + delta over [lo, hi], optionally only where
 * (cp - lo) is even (alternating blocks like Latin Extended-A). */
static const struct { uint32_t lo, hi; int32_t delta; bool alternating; } case_ranges[] = {
    {0xC0, 0xD6, 32, false}, {0xD8, 0xDE, 32, false},
    {0x100, 0x12F, 1, true}, {0x132, 0x137, 1, true}, {0x139, 0x148, 1, true},
    {0x14A, 0x177, 1, true}, {0x179, 0x17E, 1, true},
    {0x391, 0x3A1, 32, false}, {0x3A3, 0x3AB, 32, false},
    {0x400, 0x40F, 80, false}, {0x410, 0x42F, 32, false},
    {0x460, 0x481, 1, true}, {0x48A, 0x4BF, 1, true},
};

static uint32_t map_case(uint32_t cp, bool to_lower) {
    for (size_t i = 0; i < sizeof case_ranges / sizeof case_ranges[0]; i++) {
        uint32_t lo = case_ranges[i].lo, hi = case_ranges[i].hi;
        int32_t d = case_ranges[i].delta;
        if (case_ranges[i].alternating) {
            if (to_lower && cp >= lo && cp <= hi && (cp - lo) % 2 == 0) return cp + 1;
            if (!to_lower && cp >= lo + 1 && cp <= hi + 1 && (cp - lo) % 2 == 1) return cp - 1;
        } else {
            if (to_lower && cp >= lo && cp <= hi) return cp + (uint32_t)d;
            if (!to_lower && cp >= lo + (uint32_t)d && cp <= hi + (uint32_t)d) return cp - (uint32_t)d;
        }
    }
    return cp;
}

static prt_str change_case(prt_run *run, prt_str s, bool to_lower) {
    if (!s.n) return s;
    unsigned char *out = prt_scratch(run, s.n);
    const unsigned char *p = (const unsigned char *)s.p;
    /* every mapping keeps the byte length: ASCII to ASCII, two-byte to two-byte */
    for (uint32_t i = 0; i < s.n;) {
        uint32_t k = seq_len(p + i, s.n - i);
        if (k == 1) {
            unsigned char c = p[i];
            if (to_lower && c >= 'A' && c <= 'Z') c += 32;
            else if (!to_lower && c >= 'a' && c <= 'z') c -= 32;
            out[i] = c;
        } else if (k == 2) {
            uint32_t cp = ((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
            uint32_t m = map_case(cp, to_lower);
            if (m < 0x80 || m > 0x7FF) m = cp;
            out[i] = (unsigned char)(0xC0 | (m >> 6));
            out[i + 1] = (unsigned char)(0x80 | (m & 0x3F));
        } else {
            memcpy(out + i, p + i, k);
        }
        i += k;
    }
    return (prt_str){(const char *)out, s.n};
}

prt_str prt_str_lower(prt_run *run, prt_str s) { return change_case(run, s, true); }
prt_str prt_str_upper(prt_run *run, prt_str s) { return change_case(run, s, false); }

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

prt_str prt_str_trim(prt_str s) {
    while (s.n && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1])) s.n--;
    return s;
}

/* The byte offset of character `k` (0-based), or s.n when the string is shorter. */
static uint32_t char_offset(prt_str s, int64_t k) {
    const unsigned char *p = (const unsigned char *)s.p;
    uint32_t i = 0;
    for (int64_t c = 0; c < k && i < s.n; c++) i += seq_len(p + i, s.n - i);
    return i;
}

bool prt_str_substr(prt_str s, int64_t start, bool has_len, int64_t len, prt_str *out) {
    if (has_len && len < 0) return false;
    /* characters [start, end) counted from 1, clipped at 1; len >= 0 so only + can overflow */
    int64_t end;
    if (!has_len || __builtin_add_overflow(start, len, &end)) end = INT64_MAX;
    if (start < 1) start = 1;
    if (end <= start) {
        *out = (prt_str){s.p, 0};
        return true;
    }
    uint32_t b = char_offset(s, start - 1);
    prt_str rest = {s.p + b, s.n - b};
    uint32_t e = end == INT64_MAX ? rest.n : char_offset(rest, end - start);
    *out = (prt_str){rest.p, e};
    return true;
}

/* ---- casts to string ---- */

/* Formatting goes through rt_text.c's prt_buf writers into one reused buffer, then to scratch. */
static _Thread_local prt_buf fmt_buf;

static prt_str from_fmt_buf(prt_run *run) {
    char *p = prt_scratch(run, fmt_buf.len ? fmt_buf.len : 1);
    memcpy(p, fmt_buf.data, fmt_buf.len);
    return (prt_str){p, (uint32_t)fmt_buf.len};
}

prt_str prt_bool_to_str(bool v) { return v ? PRT_STR_LIT("true") : PRT_STR_LIT("false"); }

prt_str prt_i64_to_str(prt_run *run, int64_t v) {
    fmt_buf.len = 0;
    prt_buf_put_i64(&fmt_buf, v);
    return from_fmt_buf(run);
}

prt_str prt_f64_to_str(prt_run *run, double v) {
    if (isnan(v)) return PRT_STR_LIT("nan");
    if (isinf(v)) return v > 0 ? PRT_STR_LIT("inf") : PRT_STR_LIT("-inf");
    fmt_buf.len = 0;
    prt_buf_put_f64(&fmt_buf, v);
    return from_fmt_buf(run);
}

prt_str prt_ts_to_str(prt_run *run, int64_t us) {
    fmt_buf.len = 0;
    prt_buf_put_timestamp(&fmt_buf, us);
    return from_fmt_buf(run);
}

prt_str prt_date_to_str(prt_run *run, int32_t days) {
    fmt_buf.len = 0;
    prt_buf_put_date(&fmt_buf, days);
    return from_fmt_buf(run);
}

prt_str prt_interval_to_str(prt_run *run, int64_t us) {
    char tmp[64];
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    uint64_t days = a / UINT64_C(86400000000), rest = a % UINT64_C(86400000000);
    uint64_t secs = rest / 1000000, frac = rest % 1000000;
    int n = 0;
    if (days)
        n = snprintf(tmp, sizeof tmp, "%s%llu day%s ", us < 0 ? "-" : "", (unsigned long long)days,
                     days == 1 ? "" : "s");
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%s%02llu:%02llu:%02llu", us < 0 && !days ? "-" : "",
                  (unsigned long long)(secs / 3600), (unsigned long long)(secs / 60 % 60),
                  (unsigned long long)(secs % 60));
    if (frac) {
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%06llu", (unsigned long long)frac);
        while (tmp[n - 1] == '0') n--;
    }
    char *p = prt_scratch(run, (size_t)n);
    memcpy(p, tmp, (size_t)n);
    return (prt_str){p, (uint32_t)n};
}

/* ---- casts from string ---- */

bool prt_str_to_bool(prt_str s, bool *out) {
    s = prt_str_trim(s);
    return prt_parse_bool(s.p, s.n, out);
}
bool prt_str_to_i32(prt_str s, int32_t *out) {
    s = prt_str_trim(s);
    return prt_parse_i32(s.p, s.n, out);
}
bool prt_str_to_i64(prt_str s, int64_t *out) {
    s = prt_str_trim(s);
    return prt_parse_i64(s.p, s.n, out);
}
bool prt_str_to_f64(prt_str s, double *out) {
    s = prt_str_trim(s);
    return prt_parse_f64(s.p, s.n, out);
}
bool prt_str_to_ts(prt_str s, int64_t *out) {
    s = prt_str_trim(s);
    return prt_parse_timestamp(s.p, s.n, out);
}
bool prt_str_to_date(prt_str s, int32_t *out) {
    s = prt_str_trim(s);
    return prt_parse_date(s.p, s.n, out);
}

static bool ascii_ieq(const char *a, size_t n, const char *b) {
    if (strlen(b) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c += 32;
        if (c != b[i]) return false;
    }
    return true;
}

/* The same grammar as interval literals in the compiler (expr_lex.c): numbers with units. */
bool prt_str_to_interval(prt_str s, int64_t *out) {
    static const struct { const char *name; int64_t us; } units[] = {
        {"microseconds", 1}, {"microsecond", 1}, {"us", 1},
        {"milliseconds", 1000}, {"millisecond", 1000}, {"ms", 1000},
        {"seconds", 1000000}, {"second", 1000000}, {"secs", 1000000}, {"sec", 1000000}, {"s", 1000000},
        {"minutes", 60000000}, {"minute", 60000000}, {"mins", 60000000}, {"min", 60000000},
        {"m", 60000000},
        {"hours", INT64_C(3600000000)}, {"hour", INT64_C(3600000000)}, {"h", INT64_C(3600000000)},
        {"days", PRT_US_PER_DAY}, {"day", PRT_US_PER_DAY}, {"d", PRT_US_PER_DAY},
    };
    const char *p = s.p;
    size_t n = s.n, i = 0;
    int64_t total = 0;
    int parts = 0;
    for (;;) {
        while (i < n && is_space(p[i])) i++;
        if (i >= n) break;
        int sign = 1;
        if (p[i] == '-' || p[i] == '+') sign = p[i++] == '-' ? -1 : 1;
        size_t ns = i;
        while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.')) i++;
        double v;
        if (i == ns || !prt_parse_f64(p + ns, i - ns, &v)) return false;
        while (i < n && p[i] == ' ') i++;
        size_t us = i;
        while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))) i++;
        int64_t mult = 0;
        for (size_t k = 0; k < sizeof units / sizeof units[0] && !mult; k++)
            if (ascii_ieq(p + us, i - us, units[k].name)) mult = units[k].us;
        if (!mult) return false;
        double part = v * (double)mult;
        if (!(part < 9.2e18)) return false;
        if (__builtin_add_overflow(total, sign * (int64_t)(part + 0.5), &total)) return false;
        parts++;
    }
    if (!parts) return false;
    *out = total;
    return true;
}

/* ---- date and time ---- */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int32_t prt_ts_date(int64_t us) {
    int64_t d = floor_div(us, PRT_US_PER_DAY);
    return (int32_t)d;   /* |us| / 8.64e10 < 1.1e8: always fits */
}

int64_t prt_ts_epoch(int64_t us) { return floor_div(us, 1000000); }

int64_t prt_ts_trunc(int64_t us, int unit) {
    static const int64_t step[] = {1000000, 60000000, INT64_C(3600000000), PRT_US_PER_DAY};
    if (unit <= PRT_TRUNC_DAY) {
        int64_t q = floor_div(us, step[unit]), r;
        return __builtin_mul_overflow(q, step[unit], &r) ? INT64_MIN : r;
    }
    int32_t days = prt_ts_date(us);
    int64_t y;
    unsigned m, d;
    switch (unit) {
    case PRT_TRUNC_WEEK: {
        int64_t dow = ((int64_t)days + 3) % 7;   /* 1970-01-01 was a Thursday; Monday = 0 */
        if (dow < 0) dow += 7;
        return prt_date_ts((int32_t)(days - dow));
    }
    case PRT_TRUNC_MONTH:
        prt_civil_from_days(days, &y, &m, &d);
        return prt_date_ts(prt_days_from_civil(y, m, 1));
    default:
        prt_civil_from_days(days, &y, &m, &d);
        return prt_date_ts(prt_days_from_civil(y, 1, 1));
    }
}

int32_t prt_ts_part(int64_t us, int part) {
    int64_t y;
    unsigned m, d;
    int64_t in_day = us % PRT_US_PER_DAY;
    if (in_day < 0) in_day += PRT_US_PER_DAY;
    switch (part) {
    case PRT_PART_HOUR: return (int32_t)(in_day / INT64_C(3600000000));
    case PRT_PART_MINUTE: return (int32_t)(in_day / 60000000 % 60);
    default: break;
    }
    prt_civil_from_days(prt_ts_date(us), &y, &m, &d);
    if (part == PRT_PART_DAY) return (int32_t)d;
    if (part == PRT_PART_MONTH) return (int32_t)m;
    return (int32_t)y;
}
