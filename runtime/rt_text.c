/* rt_text.c - parsing values from text and formatting them back (the hot path of every decoder
 * and encoder). Invariants: parsers take exactly one value spanning the whole slice (no spaces,
 * no junk) and never allocate; formatters append to a prt_buf and never allocate elsewhere;
 * nothing depends on the C locale (the strtod fallback is fed digits and an exponent only).
 * Floats: parse is correctly rounded (Clinger's fast path, else strtod on a bounded normalized
 * copy); print is the shortest decimal that reads back bit-exactly. Dates are proleptic
 * Gregorian, years 0001..9999 on input. */
#include "pipec_rt.h"
#include "rt_text_internal.h"
#include "rt_f64fmt.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* Booleans and integers                                                                        */

static inline unsigned lower(unsigned c) { return c | 0x20; }
static inline bool is_digit(char c) { return (unsigned)((unsigned char)c - '0') <= 9; }

bool prt_parse_bool(const char *p, size_t n, bool *out) {
    switch (n) {
    case 1:
        switch (p[0]) {
        case 't': case 'T': case '1': *out = true; return true;
        case 'f': case 'F': case '0': *out = false; return true;
        }
        return false;
    case 2:
        if (lower((unsigned char)p[0]) == 'n' && lower((unsigned char)p[1]) == 'o') { *out = false; return true; }
        return false;
    case 3:
        if (lower((unsigned char)p[0]) == 'y' && lower((unsigned char)p[1]) == 'e' && lower((unsigned char)p[2]) == 's') {
            *out = true;
            return true;
        }
        return false;
    case 4:
        if (lower((unsigned char)p[0]) == 't' && lower((unsigned char)p[1]) == 'r' &&
            lower((unsigned char)p[2]) == 'u' && lower((unsigned char)p[3]) == 'e') {
            *out = true;
            return true;
        }
        return false;
    case 5:
        if (lower((unsigned char)p[0]) == 'f' && lower((unsigned char)p[1]) == 'a' &&
            lower((unsigned char)p[2]) == 'l' && lower((unsigned char)p[3]) == 's' &&
            lower((unsigned char)p[4]) == 'e') {
            *out = false;
            return true;
        }
        return false;
    }
    return false;
}

/* Parses [+-]digits into a magnitude; fails on no digits, junk, or a magnitude above `limit`. */
static inline bool parse_mag(const char *p, size_t n, bool *neg, uint64_t *mag, uint64_t limit_pos,
                             uint64_t limit_neg) {
    size_t i = 0;
    *neg = false;
    if (n - 1 < 18 && is_digit(p[0])) {   /* 1-18 digits, no sign: no overflow possible */
        uint64_t v = (unsigned char)p[0] - '0';
        for (i = 1; i < n; i++) {
            unsigned d = (unsigned char)p[i] - '0';
            if (d > 9) return false;
            v = v * 10 + d;
        }
        if (v > limit_pos) return false;
        *mag = v;
        return true;
    }
    if (n && (p[0] == '-' || p[0] == '+')) { *neg = p[0] == '-'; i = 1; }
    if (i == n) return false;
    while (i + 1 < n && p[i] == '0') i++;   /* leading zeros do not count toward the 19 digits */
    if (n - i > 19) return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) return false;
        v = v * 10 + d;   /* <= 19 digits: no wrap-around (1e19 - 1 < 2^64) */
    }
    if (v > (*neg ? limit_neg : limit_pos)) return false;
    *mag = v;
    return true;
}

bool prt_parse_i64(const char *p, size_t n, int64_t *out) {
    bool neg;
    uint64_t m;
    if (!parse_mag(p, n, &neg, &m, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1)) return false;
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;   /* two's complement: 0 - 2^63 -> INT64_MIN */
    return true;
}

bool prt_parse_i32(const char *p, size_t n, int32_t *out) {
    bool neg;
    uint64_t m;
    if (!parse_mag(p, n, &neg, &m, INT32_MAX, (uint64_t)INT32_MAX + 1)) return false;
    *out = neg ? (int32_t)(0 - (int64_t)m) : (int32_t)m;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Floats                                                                                       */

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
#define TWO53 9007199254740992.0

/* x87 extended precision (64-bit significand) gives exact products m * 10^k for m < 2^64 and
 * k <= 27 up to one rounding, and a double rounding through it is wrong only when the extended
 * result lies exactly halfway between two doubles, which we detect (the low 11 significand bits
 * are 10000000000b) and hand to the slow path. That makes 17-19 digit inputs fast. */
#if defined(__x86_64__) && LDBL_MANT_DIG == 64
#define PRT_HAVE_LD 1
static const long double pow10_ld[28] = {
    1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L,
    1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};
/* m * 10^e rounded to double, or false when that cannot be decided here (|e| <= 27). */
static inline bool ld_to_double(uint64_t m, int e, double *out) {
    long double x = e < 0 ? (long double)m / pow10_ld[-e] : (long double)m * pow10_ld[e];
    uint64_t sig;
    memcpy(&sig, &x, 8);   /* the significand, explicit integer bit at the top */
    if ((sig & 0x7FF) == 0x400) return false;
    *out = (double)x;
    return true;
}
#else
#define PRT_HAVE_LD 0
#endif

/* Enough significant digits to decide rounding of any double: halfway points between doubles
 * have at most 767 significant digits; what lies beyond is summarized by one sticky digit. */
enum { F64_MAX_SIG = 780 };

/* The slow path: rebuild the number as "<digits>e<exp>" (no '.', so no locale dependence), with
 * at most F64_MAX_SIG digits plus a sticky '1', and let strtod round it. */
static bool parse_f64_slow(const char *p, size_t n, bool neg, double *out) {
    char buf[F64_MAX_SIG + 32];
    size_t nd = 0, i = (p[0] == '+' || p[0] == '-');
    int64_t point = 0;   /* value = 0.<digits> * 10^(point + exp) */
    bool started = false, sticky = false, frac = false;
    int64_t exp = 0;
    for (; i < n; i++) {
        char c = p[i];
        if (c == '.') { frac = true; continue; }
        if (c == 'e' || c == 'E') break;
        if (!started) {
            if (c == '0') { if (frac) point--; continue; }
            started = true;
        }
        if (!frac) point++;
        if (nd < F64_MAX_SIG) buf[nd++] = c;
        else if (c != '0') sticky = true;
    }
    if (!started) { *out = neg ? -0.0 : 0.0; return true; }
    if (i < n) {   /* exponent, already validated */
        bool eneg = false;
        i++;
        if (p[i] == '+' || p[i] == '-') { eneg = p[i] == '-'; i++; }
        for (; i < n; i++)
            if (exp < 1000000000) exp = exp * 10 + (p[i] - '0');
        if (eneg) exp = -exp;
    }
    if (sticky) buf[nd++] = '1';
    int64_t e = point + exp - (int64_t)nd;   /* value = <digits> * 10^e */
    if (e > 99999) e = 99999;                /* beyond either end the result is 0 or inf anyway */
    if (e < -99999) e = -99999;
    snprintf(buf + nd, sizeof buf - nd, "e%lld", (long long)e);
    double v = strtod(buf, NULL);
    if (isinf(v)) return false;
    *out = neg ? -v : v;
    return true;
}

/* Plain decimals ([+-]digits[.digits], 1-19 digits in all, no exponent; most inputs), in one
 * pass: m / 10^k is correctly rounded when m <= 2^53 and k <= 22. False: the general parser. */
static inline bool parse_f64_plain(const char *p, size_t n, double *out) {
    size_t i = 0, point = SIZE_MAX;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) { neg = p[0] == '-'; i = 1; }
    size_t first = i;
    uint64_t m = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d <= 9) m = m * 10 + d;
        else if (p[i] == '.' && point == SIZE_MAX) point = i;
        else return false;
    }
    size_t ndig = n - first - (point != SIZE_MAX), k = point == SIZE_MAX ? 0 : n - point - 1;
    if (ndig == 0 || ndig > 19 || k > 22 || m > (uint64_t)1 << 53) return false;
    double v = (double)m / pow10_exact[k];
    *out = neg ? -v : v;
    return true;
}

bool prt_parse_f64(const char *p, size_t n, double *out) {
    if (parse_f64_plain(p, n, out)) return true;
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) { neg = p[0] == '-'; i = 1; }
    uint64_t m = 0;
    int nsig = 0;             /* significant digits seen (after leading zeros) */
    int64_t scale = 0;        /* value = m * 10^(scale + exp) while nsig <= 19 */
    size_t ndig = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) break;
        ndig++;
        if (m == 0 && d == 0) continue;
        if (nsig < 19) m = m * 10 + d;
        else scale++;
        nsig++;
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n; i++) {
            unsigned d = (unsigned char)p[i] - '0';
            if (d > 9) break;
            ndig++;
            if (m == 0 && d == 0) { scale--; continue; }
            if (nsig < 19) { m = m * 10 + d; scale--; }
            nsig++;
        }
    }
    if (ndig == 0) return false;
    int64_t exp = 0;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        bool eneg = false;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) { eneg = p[i] == '-'; i++; }
        size_t e0 = i;
        for (; i < n; i++) {
            unsigned d = (unsigned char)p[i] - '0';
            if (d > 9) break;
            if (exp < 1000000000) exp = exp * 10 + d;
        }
        if (i == e0) return false;
        if (eneg) exp = -exp;
    }
    if (i != n) return false;
    if (m == 0) { *out = neg ? -0.0 : 0.0; return true; }
    if (nsig <= 19 && m <= (uint64_t)1 << 53) {
        int64_t e = scale + exp;
        double v = (double)m;   /* exact */
        if (e >= -22 && e <= 22) {
            v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
            *out = neg ? -v : v;
            return true;
        }
        if (e > 22 && e <= 22 + 15) {   /* m * 10^(e-22) may still be exact */
            double w = v * pow10_exact[e - 22];
            if (w <= TWO53) {
                w *= 1e22;
                if (isinf(w)) return false;
                *out = neg ? -w : w;
                return true;
            }
        }
    }
#if PRT_HAVE_LD
    if (nsig <= 19 && scale + exp >= -27 && scale + exp <= 27) {
        double v;
        if (ld_to_double(m, (int)(scale + exp), &v)) {
            *out = neg ? -v : v;
            return true;
        }
    }
#endif
    return parse_f64_slow(p, n, neg, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Integer and float formatting                                                                 */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes the decimal digits of v ending just before `end`; returns the first digit. */
static inline char *put_u64_rev(char *end, uint64_t v) {
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        end -= 2;
        memcpy(end, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

static inline int count_digits(uint64_t v) {
    int n = 1;
    while (v >= 10000) { v /= 10000; n += 4; }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

void prt_buf_put_i64(prt_buf *b, int64_t v) {
    /* Written in place, back to front: no temporary and no variable-length copy. */
    prt_buf_reserve(b, 21);
    char *o = b->data + b->len;
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *o++ = '-';
    char *end = o + count_digits(mag);
    put_u64_rev(end, mag);
    b->len = (size_t)(end - b->data);
}

/* Appends 0.<digits> * 10^point (1 <= nd <= 17 digits without leading or trailing zeros) the
 * way ECMAScript's Number::toString does: plain decimal for 1e-6 <= |v| < 1e21, else
 * d[.ddd]e(+|-)x. The copies have fixed sizes (inline moves, no calls): dig is read up to
 * dig[31], and bytes past the end of the number are written and then left beyond b->len. */
static void put_decimal(prt_buf *b, bool neg, const char *dig, int nd, int point) {
    prt_buf_reserve(b, 64);
    char *o = b->data + b->len;
    if (neg) *o++ = '-';
    if (point >= nd && point <= 21) {            /* integer: digits then zeros */
        memcpy(o, dig, 32);
        memset(o + nd, '0', 24);                 /* point - nd <= 20 */
        o += point;
    } else if (point > 0 && point <= 21) {       /* ddd.ddd: point < nd <= 17 */
        memcpy(o, dig, 16);
        o[point] = '.';
        memcpy(o + point + 1, dig + point, 16);
        o += nd + 1;
    } else if (point > -6 && point <= 0) {       /* 0.000ddd */
        memcpy(o, "0.000000", 8);
        o += 2 - point;
        memcpy(o, dig, 32);
        o += nd;
    } else {                                     /* d.ddde+x */
        o[0] = dig[0];
        o[1] = '.';
        memcpy(o + 2, dig + 1, 16);
        o += nd > 1 ? nd + 1 : 1;
        int x = point - 1;
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);   /* <= 324 */
        if (ax >= 100) *o++ = (char)('0' + ax / 100), ax %= 100, memcpy(o, digit_pairs + 2 * ax, 2), o += 2;
        else if (ax >= 10) memcpy(o, digit_pairs + 2 * ax, 2), o += 2;
        else *o++ = (char)('0' + ax);
    }
    b->len = (size_t)(o - b->data);
}

/* The digits come from rt_f64fmt.c (Schubfach), the layout from put_decimal. */
void prt_buf_put_f64(prt_buf *b, double v) {
    bool neg = signbit(v);
    double a = fabs(v);
    if (a == 0) {
        if (neg) prt_buf_lit(b, "-0");
        else prt_buf_putc(b, '0');
        return;
    }
    char buf[64];   /* the digits land in buf[0..16]; put_decimal reads 32 bytes from the first */
    int nd, point;
    const char *dig = prt__f64_digits(a, buf, &nd, &point);
    put_decimal(b, neg, dig, nd, point);
}

/* ------------------------------------------------------------------------------------------ */
/* Calendar                                                                                     */

/* Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms), restated. */
int32_t prt_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                            /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;      /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                /* [0, 146096] */
    return (int32_t)(era * 146097 + (int64_t)doe - 719468);
}

void prt_civil_from_days(int32_t days, int64_t *y, unsigned *m, unsigned *d) {
    if (days >= -719468 && days <= 2932896) {
        /* 0000-03-01 .. 9999-12-31: Neri and Schneider's Euclidean affine form of the same
         * computation (2021), in 32-bit arithmetic: days since 0000-03-01, a year of March to
         * February, century, year of century and day of year by multiply-and-shift. */
        uint32_t n1 = 4 * (uint32_t)(days + 719468) + 3;
        uint32_t century = n1 / 146097, n2 = n1 % 146097 | 3;   /* 4 * day of century + 3 */
        uint64_t p2 = (uint64_t)2939745 * n2;
        uint32_t year_of_century = (uint32_t)(p2 >> 32), day_of_year = (uint32_t)p2 / 2939745 / 4;
        uint32_t n3 = 2141 * day_of_year + 197913;   /* month (from March = 3) and day, packed */
        uint32_t jan_feb = day_of_year >= 306;
        *y = (int64_t)(100 * century + year_of_century + jan_feb);
        *m = (n3 >> 16) - 12 * jan_feb;
        *d = (n3 & 0xFFFF) / 2141 + 1;
        return;
    }
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t prt_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static inline unsigned days_in_month(unsigned y, unsigned m) {
    static const unsigned char dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m];
}

/* Two ASCII digits at p, or a value > 99 when either is not a digit. */
static inline unsigned dig2(const char *p) {
    unsigned a = (unsigned char)p[0] - '0', b = (unsigned char)p[1] - '0';
    return a > 9 || b > 9 ? 1000 : a * 10 + b;
}

static inline bool parse_ymd(const char *p, unsigned *y, unsigned *m, unsigned *d) {
    unsigned y1 = dig2(p), y2 = dig2(p + 2);
    *m = dig2(p + 5);
    *d = dig2(p + 8);
    *y = y1 * 100 + y2;
    return y1 <= 99 && y2 <= 99 && p[4] == '-' && p[7] == '-' && *y >= 1 && *m >= 1 && *m <= 12 &&
           *d >= 1 && *d <= days_in_month(*y, *m);
}

/* days_from_civil for years 1..9999 in unsigned 32-bit arithmetic (the parsers' hot path). */
static inline int32_t days_fast(unsigned y, unsigned m, unsigned d) {
    y -= m <= 2;
    unsigned era = y / 400, yoe = y - era * 400;
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe) - 719468;
}

static inline bool is_tsep(char c) { return c == 'T' || c == 't' || c == ' '; }

bool prt_parse_date(const char *p, size_t n, int32_t *out_days) {
    unsigned y, m, d;
    if (n != 10 || !parse_ymd(p, &y, &m, &d)) return false;
    *out_days = days_fast(y, m, d);
    return true;
}

#define US_PER_DAY 86400000000LL

/* Eight bytes at p, the first one lowest. */
static inline uint64_t load_le64(const char *p) {
    uint64_t w = prt__load64(p);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#define ASCII_ZEROS 0x3030303030303030ULL

/* w's bytes minus '0' where mask is 0xFF (0 elsewhere), or ~0 when one of them is no digit. A
 * byte passes when its value and value + 6 both stay below 0x10; a carry out of a byte above 0xF9
 * only reaches a byte after one that already failed. */
static inline uint64_t digits_at(uint64_t w, uint64_t mask) {
    uint64_t x = (w ^ ASCII_ZEROS) & mask;
    return (x | (x + 0x0606060606060606ULL)) & 0xF0F0F0F0F0F0F0F0ULL ? ~(uint64_t)0 : x;
}

/* Two-digit numbers from digit bytes: byte k of the result is 10 * byte k + byte k + 1. */
static inline uint64_t digit_pairs_of(uint64_t x) { return x * 10 + (x >> 8); }

/* The microseconds of a word read at a six-digit fraction's '.' (x: digits_at of it with the
 * mask 0x00FFFFFFFFFFFF00, so bytes 1-6 are the digits' values). */
static inline int64_t micros_of(uint64_t x) {
    uint64_t pairs = digit_pairs_of(x >> 8);
    return (int64_t)(pairs & 0xFF) * 10000 + (int64_t)(pairs >> 16 & 0xFF) * 100 + (int64_t)(pairs >> 32 & 0xFF);
}

/* The date of the last head parse_head19 accepted (its bytes YYYY-MM- and DD) and its day number:
 * records arrive roughly in time order, so most share it, and comparing its ten bytes stands for
 * checking them and the calendar arithmetic. */
static _Thread_local uint64_t head_date_ym;
static _Thread_local uint16_t head_date_d;
static _Thread_local int64_t head_date_days;

/* The fixed head YYYY-MM-DD?HH:MM:SS of a timestamp (n >= 19; ? one of T, t, space), read as
 * three overlapping words; false when it has another shape or a field is out of range, which the
 * byte-wise parser then decides. */
static inline bool parse_head19(const char *p, int64_t *days, unsigned *secs) {
    const uint64_t date_digits = 0x00FFFF00FFFFFFFFULL, time_digits = 0xFFFF00FFFF00FFFFULL;
    uint64_t a = load_le64(p), b = load_le64(p + 8), c = load_le64(p + 11);   /* YYYY-MM- DD?..., HH:MM:SS */
    if ((c & ~time_digits) != ((uint64_t)':' << 16 | (uint64_t)':' << 40)) return false;
    if (!is_tsep(p[10])) return false;
    uint64_t dc = digits_at(c, time_digits);
    if (dc == ~(uint64_t)0) return false;
    uint64_t tc = digit_pairs_of(dc);
    unsigned hh = (unsigned)(tc & 0xFF), mm = (unsigned)(tc >> 24 & 0xFF), ss = (unsigned)(tc >> 48 & 0xFF);
    if (hh > 23 || mm > 59 || ss > 59) return false;
    *secs = (hh * 60 + mm) * 60 + ss;
    if (a == head_date_ym && (uint16_t)b == head_date_d) {   /* 0 never matches: no digits */
        *days = head_date_days;
        return true;
    }
    if ((a & ~date_digits) != ((uint64_t)'-' << 32 | (uint64_t)'-' << 56)) return false;
    uint64_t da = digits_at(a, date_digits), db = digits_at(b, 0xFFFF);
    if (da == ~(uint64_t)0 || db == ~(uint64_t)0) return false;
    uint64_t ya = digit_pairs_of(da);
    unsigned y = (unsigned)(ya & 0xFF) * 100 + (unsigned)(ya >> 16 & 0xFF), mo = (unsigned)(ya >> 40 & 0xFF);
    unsigned d = (unsigned)(digit_pairs_of(db) & 0xFF);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return false;
    *days = days_fast(y, mo, d);
    head_date_ym = a;
    head_date_d = (uint16_t)b;
    head_date_days = *days;
    return true;
}

/* What may follow the time of a timestamp from p[i] on: a fraction of 1-9 digits (only after
 * seconds), then Z or an offset [+-]HH[[:]MM], then nothing. Adds them to *us. */
static bool parse_ts_tail(const char *p, size_t n, size_t i, bool after_seconds, int64_t *us) {
    int64_t frac = 0;
    uint64_t x;
    if (after_seconds && n - i >= 8 && p[i] == '.' && !is_digit(p[i + 7]) &&
        (x = digits_at(load_le64(p + i), 0x00FFFFFFFFFFFF00ULL)) != ~(uint64_t)0) {
        frac = micros_of(x);   /* exactly six digits (microseconds), by the word */
        i += 7;
    } else if (after_seconds && i < n && p[i] == '.') {
        size_t f0 = ++i;
        for (; i < n && is_digit(p[i]); i++)
            if (i - f0 < 6) frac = frac * 10 + (p[i] - '0');
        size_t nf = i - f0;
        if (nf == 0 || nf > 9) return false;
        for (; nf < 6; nf++) frac *= 10;
    }
    int64_t off = 0;
    if (i < n) {
        char c = p[i];
        if ((c == 'Z' || c == 'z') && i + 1 == n) {
            i++;
        } else if (c == '+' || c == '-') {
            if (n - i < 3) return false;
            unsigned oh = dig2(p + i + 1), om = 0;
            i += 3;
            if (i < n) {
                if (p[i] == ':') i++;
                if (n - i != 2) return false;
                om = dig2(p + i);
                i += 2;
            }
            if (oh > 23 || om > 59) return false;
            off = ((int64_t)oh * 60 + om) * 60000000;
            if (c == '-') off = -off;
        } else {
            return false;
        }
    }
    if (i != n) return false;
    *us += frac - off;
    return true;
}

bool prt_parse_timestamp(const char *p, size_t n, int64_t *out_us) {
    int64_t days, us;
    unsigned secs;
    if (n >= 19 && parse_head19(p, &days, &secs)) {   /* the common shape, by words */
        us = days * US_PER_DAY + (int64_t)secs * 1000000;
        uint64_t w, x;
        if (n == 27 && ((w = load_le64(p + 19)) & 0xFF000000000000FFULL) == ((uint64_t)'Z' << 56 | '.') &&
            (x = digits_at(w, 0x00FFFFFFFFFFFF00ULL)) != ~(uint64_t)0) {
            *out_us = us + micros_of(x);   /* .ffffffZ, the most common tail, here without a call */
            return true;
        }
        if (!parse_ts_tail(p, n, 19, true, &us)) return false;
        *out_us = us;
        return true;
    }
    unsigned y, mo, d;
    if (n < 10 || !parse_ymd(p, &y, &mo, &d)) return false;
    days = days_fast(y, mo, d);
    if (n == 10) { *out_us = days * US_PER_DAY; return true; }
    if (n < 16 || !is_tsep(p[10]) || p[13] != ':') return false;
    unsigned hh = dig2(p + 11), mm = dig2(p + 14), ss = 0;
    if (hh > 23 || mm > 59) return false;
    size_t i = 16;
    bool after_seconds = i < n && p[i] == ':';
    if (after_seconds) {
        if (n < 19) return false;
        ss = dig2(p + 17);
        if (ss > 59) return false;   /* no leap seconds */
        i = 19;
    }
    us = days * US_PER_DAY + (int64_t)((hh * 60 + mm) * 60 + ss) * 1000000;
    if (!parse_ts_tail(p, n, i, after_seconds, &us)) return false;
    *out_us = us;
    return true;
}

bool prt_parse_timestamp_unit(const char *p, size_t n, int unit, int64_t *out_us) {
    static const int64_t mult[3] = {1000000, 1000, 1};
    static const int fdig[3] = {6, 3, 0};   /* fraction digits that are whole microseconds */
    if ((unsigned)unit > 2) return false;
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) { neg = p[0] == '-'; i = 1; }
    size_t i0 = i;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) break;
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + d;
    }
    if (i == i0) return false;
    uint64_t frac = 0;
    if (i < n && p[i] == '.' && unit != PRT_UNIT_US) {
        size_t f0 = ++i;
        for (; i < n; i++) {
            unsigned d = (unsigned char)p[i] - '0';
            if (d > 9) break;
            if ((int)(i - f0) < fdig[unit]) frac = frac * 10 + d;
        }
        if (i == f0) return false;
        for (int k = (int)(i - f0); k < fdig[unit]; k++) frac *= 10;   /* truncated to whole us */
    }
    if (i != n) return false;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t m = (uint64_t)mult[unit];
    if (v > lim / m) return false;
    uint64_t us = v * m;
    if (frac > lim - us) return false;
    us += frac;
    *out_us = neg ? (int64_t)(0 - us) : (int64_t)us;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* strptime-like patterns                                                                       */

typedef struct tfields {
    unsigned y, m, d, H, M, S, yday, I;
    int64_t us, off_us;
    bool has_yday, has_I, pm;
} tfields;

/* Reads 1..max digits at p[*i]; fails when there is none. */
static bool read_num(const char *p, size_t n, size_t *i, int max, unsigned *out) {
    unsigned v = 0;
    int k = 0;
    while (k < max && *i < n && is_digit(p[*i])) {
        v = v * 10 + (unsigned)(p[*i] - '0');
        (*i)++;
        k++;
    }
    *out = v;
    return k > 0;
}

static bool match_ci(const char *p, size_t n, size_t i, const char *word, size_t len) {
    if (n - i < len) return false;
    for (size_t k = 0; k < len; k++)
        if (lower((unsigned char)p[i + k]) != (unsigned char)word[k]) return false;
    return true;
}

static bool parse_fields(const char *p, size_t n, const char *fmt, tfields *t) {
    static const char *const months[12] = {"january", "february", "march", "april", "may", "june",
                                           "july", "august", "september", "october", "november",
                                           "december"};
    *t = (tfields){.y = 1970, .m = 1, .d = 1};
    size_t i = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (i >= n || p[i] != *f) return false;
            i++;
            continue;
        }
        unsigned v;
        switch (*++f) {
        case 'Y': if (!read_num(p, n, &i, 4, &t->y) || t->y < 1) return false; break;
        case 'y':
            if (!read_num(p, n, &i, 2, &v)) return false;
            t->y = v < 69 ? 2000 + v : 1900 + v;   /* POSIX */
            break;
        case 'm': if (!read_num(p, n, &i, 2, &t->m) || t->m < 1 || t->m > 12) return false; break;
        case 'd': if (!read_num(p, n, &i, 2, &t->d) || t->d < 1 || t->d > 31) return false; break;
        case 'H': if (!read_num(p, n, &i, 2, &t->H) || t->H > 23) return false; break;
        case 'I':
            if (!read_num(p, n, &i, 2, &t->I) || t->I < 1 || t->I > 12) return false;
            t->has_I = true;
            break;
        case 'M': if (!read_num(p, n, &i, 2, &t->M) || t->M > 59) return false; break;
        case 'S': if (!read_num(p, n, &i, 2, &t->S) || t->S > 59) return false; break;
        case 'j':
            if (!read_num(p, n, &i, 3, &t->yday) || t->yday < 1 || t->yday > 366) return false;
            t->has_yday = true;
            break;
        case 'f': {
            size_t f0 = i;
            int64_t us = 0;
            for (; i < n && is_digit(p[i]); i++)
                if (i - f0 < 6) us = us * 10 + (p[i] - '0');
            size_t nf = i - f0;
            if (nf == 0 || nf > 9) return false;
            for (; nf < 6; nf++) us *= 10;
            t->us = us;
            break;
        }
        case 'z': {
            if (i < n && (p[i] == 'Z' || p[i] == 'z')) { i++; t->off_us = 0; break; }
            if (i >= n || (p[i] != '+' && p[i] != '-')) return false;
            bool neg = p[i++] == '-';
            if (n - i < 2) return false;
            unsigned oh = dig2(p + i), om = 0;
            i += 2;
            if (i < n && p[i] == ':') {
                i++;
                if (n - i < 2) return false;
                om = dig2(p + i);
                i += 2;
            } else if (n - i >= 2 && is_digit(p[i])) {
                om = dig2(p + i);
                i += 2;
            }
            if (oh > 23 || om > 59) return false;
            t->off_us = ((int64_t)oh * 60 + om) * 60000000;
            if (neg) t->off_us = -t->off_us;
            break;
        }
        case 'b': {
            int k;
            for (k = 0; k < 12; k++) {
                size_t len = strlen(months[k]);
                if (match_ci(p, n, i, months[k], len)) { i += len; break; }
                if (match_ci(p, n, i, months[k], 3)) { i += 3; break; }
            }
            if (k == 12) return false;
            t->m = (unsigned)k + 1;
            break;
        }
        case 'p':
            if (match_ci(p, n, i, "am", 2)) t->pm = false;
            else if (match_ci(p, n, i, "pm", 2)) t->pm = true;
            else return false;
            i += 2;
            break;
        case '%':
            if (i >= n || p[i] != '%') return false;
            i++;
            break;
        default:
            return false;   /* unknown directive (or a '%' ending the pattern) */
        }
    }
    if (i != n) return false;
    if (t->has_I) t->H = t->I % 12 + (t->pm ? 12 : 0);
    if (t->y > 9999) return false;
    if (t->has_yday) {
        if (t->yday > (is_leap(t->y) ? 366u : 365u)) return false;
    } else if (t->d > days_in_month(t->y, t->m)) {
        return false;
    }
    return true;
}

static int32_t fields_days(const tfields *t) {
    if (t->has_yday) return prt_days_from_civil(t->y, 1, 1) + (int32_t)t->yday - 1;
    return prt_days_from_civil(t->y, t->m, t->d);
}

bool prt_parse_timestamp_format(const char *p, size_t n, const char *fmt, int64_t *out_us) {
    tfields t;
    if (!parse_fields(p, n, fmt, &t)) return false;
    *out_us = (int64_t)fields_days(&t) * US_PER_DAY +
              (int64_t)((t.H * 60 + t.M) * 60 + t.S) * 1000000 + t.us - t.off_us;
    return true;
}

bool prt_parse_date_format(const char *p, size_t n, const char *fmt, int32_t *out_days) {
    tfields t;
    if (!parse_fields(p, n, fmt, &t)) return false;
    *out_days = fields_days(&t);   /* time-of-day fields and offsets are read but ignored */
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Timestamp and date formatting                                                                */

/* Writes YYYY-MM-DD at o (years outside 0..9999 get a sign and more digits); returns the end. */
/* Records arrive roughly in time order, so consecutive timestamps mostly share their day: one
 * remembered day skips the calendar arithmetic for all but the first of each day. */
static _Thread_local int32_t ymd_cache_days = INT32_MIN;
static _Thread_local char ymd_cache[10];

static char *put_ymd_slow(char *o, int32_t days);

static char *put_ymd(char *o, int32_t days) {
    if (days == ymd_cache_days) {
        memcpy(o, ymd_cache, 10);
        return o + 10;
    }
    char *end = put_ymd_slow(o, days);
    if (end - o == 10) {
        memcpy(ymd_cache, o, 10);
        ymd_cache_days = days;
    }
    return end;
}

static char *put_ymd_slow(char *o, int32_t days) {
    int64_t y;
    unsigned m, d;
    prt_civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) {
        memcpy(o, digit_pairs + 2 * (y / 100), 2);
        memcpy(o + 2, digit_pairs + 2 * (y % 100), 2);
        o += 4;
    } else {
        o += sprintf(o, "%s%04lld", y < 0 ? "-" : "+", (long long)(y < 0 ? -y : y));
    }
    o[0] = '-';
    memcpy(o + 1, digit_pairs + 2 * m, 2);
    o[3] = '-';
    memcpy(o + 4, digit_pairs + 2 * d, 2);
    return o + 6;
}

void prt_buf_put_date(prt_buf *b, int32_t days) {
    prt_buf_reserve(b, 24);
    b->len = (size_t)(put_ymd(b->data + b->len, days) - b->data);
}

void prt_buf_put_timestamp(prt_buf *b, int64_t us) {
    int64_t days = us / US_PER_DAY, rem = us % US_PER_DAY;
    if (rem < 0) { rem += US_PER_DAY; days--; }   /* floor: before 1970 counts back from midnight */
    prt_buf_reserve(b, 48);
    char *o = put_ymd(b->data + b->len, (int32_t)days);
    unsigned secs = (unsigned)(rem / 1000000), frac = (unsigned)(rem % 1000000);
    o[0] = 'T';
    memcpy(o + 1, digit_pairs + 2 * (secs / 3600), 2);
    o[3] = ':';
    memcpy(o + 4, digit_pairs + 2 * (secs / 60 % 60), 2);
    o[6] = ':';
    memcpy(o + 7, digit_pairs + 2 * (secs % 60), 2);
    o += 9;
    if (frac) {
        *o++ = '.';
        int nd = 6;
        while (frac % 10 == 0) { frac /= 10; nd--; }
        for (int k = nd - 1; k >= 0; k--) { o[k] = (char)('0' + frac % 10); frac /= 10; }
        o += nd;
    }
    *o++ = 'Z';
    b->len = (size_t)(o - b->data);
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8 and string encoders                                                                    */

bool prt_utf8_valid(const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n && !(prt__load64(p + i) & PRT__HIGHS)) i += 8;   /* ASCII runs */
        while (i < n && s[i] < 0x80) i++;
        if (i >= n) break;
        int len = prt__utf8_seq(s + i, n - i);
        if (len < 0) return false;
        i += (size_t)len;
    }
    return true;
}

/* Needs a JSON escape or UTF-8 checking: a control char, '"', '\\' or a byte >= 0x80. */
static inline bool json_special(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

void prt_buf_put_json_str(prt_buf *b, const char *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)p;
    /* Worst case: every byte becomes \u00XX (6) or U+FFFD (3); reserve once for the common case. */
    prt_buf_reserve(b, n + 2);
    b->data[b->len++] = '"';
    if (n <= 16) {   /* short (most keys and codes): copy while checking, no memcpy call */
        char *o = b->data + b->len;
        size_t k = 0;
        while (k < n && !json_special(s[k])) o[k] = (char)s[k], k++;
        if (k == n) {
            o[n] = '"';
            b->len += n + 1;
            return;
        }
    }
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        for (;;) {
            uint64_t mask = 0;
            while (i + 8 <= n) {
                mask = PRT__JSON_SPECIAL(prt__load64(p + i));
                if (mask) {
                    i += (size_t)__builtin_ctzll(mask) >> 3;   /* the lowest flag is exact */
                    break;
                }
                i += 8;
            }
            if (!mask)
                while (i < n && !json_special(s[i])) i++;
            if (i < n && s[i] >= 0x80) {   /* valid UTF-8 stays in the run */
                int len = prt__utf8_seq(s + i, n - i);
                if (len > 0) { i += (size_t)len; continue; }
            }
            break;
        }
        if (i > run) prt_buf_put(b, p + run, i - run);
        if (i >= n) break;
        unsigned char c = s[i];
        prt_buf_reserve(b, 6);
        char *o = b->data + b->len;
        if (c >= 0x80) {   /* a maximal invalid subpart */
            memcpy(o, "\xEF\xBF\xBD", 3);
            b->len += 3;
            i += (size_t)-prt__utf8_seq(s + i, n - i);
            continue;
        }
        o[0] = '\\';
        switch (c) {
        case '"': o[1] = '"'; b->len += 2; break;
        case '\\': o[1] = '\\'; b->len += 2; break;
        case '\b': o[1] = 'b'; b->len += 2; break;
        case '\f': o[1] = 'f'; b->len += 2; break;
        case '\n': o[1] = 'n'; b->len += 2; break;
        case '\r': o[1] = 'r'; b->len += 2; break;
        case '\t': o[1] = 't'; b->len += 2; break;
        default:
            memcpy(o + 1, "u00", 3);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            b->len += 6;
        }
        i++;
    }
    prt_buf_putc(b, '"');
}

void prt_buf_put_csv_str(prt_buf *b, const char *p, size_t n, char delim) {
    bool quote = n == 0 || p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t' ||
                 memchr(p, delim, n) || memchr(p, '"', n) || memchr(p, '\n', n) || memchr(p, '\r', n);
    if (!quote) {
        prt_buf_put(b, p, n);
        return;
    }
    prt_buf_putc(b, '"');
    const char *end = p + n;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) {
            prt_buf_put(b, p, (size_t)(end - p));
            break;
        }
        prt_buf_put(b, p, (size_t)(q + 1 - p));   /* through the quote, then double it */
        prt_buf_putc(b, '"');
        p = q + 1;
    }
    prt_buf_putc(b, '"');
}

void prt_buf_put_cell_str(prt_buf *b, const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    prt_buf_reserve(b, n + 1);
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (i + 8 <= n) {
            uint64_t w = prt__load64(p + i);
            if ((w & PRT__HIGHS) || PRT__HAS_LESS(w, 0x20) || PRT__HAS_BYTE(w, 0x7F)) break;
            i += 8;
        }
        while (i < n && s[i] >= 0x20 && s[i] < 0x7F) i++;
        if (i > run) prt_buf_put(b, p + run, i - run);
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) {   /* C0 control or DEL */
            prt_buf_putc(b, ' ');
            i++;
            continue;
        }
        int len = prt__utf8_seq(s + i, n - i);
        if (len < 0) {
            prt_buf_put(b, "\xEF\xBF\xBD", 3);
            i += (size_t)-len;
        } else if (c == 0xC2 && s[i + 1] < 0xA0) {   /* C1 controls U+0080..U+009F */
            prt_buf_putc(b, ' ');
            i += 2;
        } else {
            prt_buf_put(b, p + i, (size_t)len);
            i += (size_t)len;
        }
    }
    prt_buf_putc(b, '\0');
}
