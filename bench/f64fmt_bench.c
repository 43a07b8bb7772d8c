/* f64fmt_bench.c - ns per value of prt_buf_put_f64 against the printer it replaced (copied
 * below as old_put_f64, the long-double and snprintf searches included), on four sets of a
 * million doubles: 2-decimal prices, averages of prices needing 16-17 digits, random bit patterns,
 * integers; then single values. It also counts the values the two print differently (the old
 * x87 path's 17-digit results were not always the closest: 52292.637419354854500852... came out
 * as ...854, not ...855). Not part of the suite; after `make all`:
 *
 *     cc -O2 -D_GNU_SOURCE -Iruntime bench/f64fmt_bench.c build/libpipec-rt.a \
 *        -lyaml -lsqlite3 -lpq -lzstd -lsnappy -lmicrohttpd -lgnutls -lcrypt -lm -o build/f64fmt_bench
 *     build/f64fmt_bench
 */
#include "pipec_rt.h"
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the former printer (rt_text.c before rt_f64fmt.c), unchanged but for the names ---- */
static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
#define TWO53 9007199254740992.0

/* x87 extended precision (64-bit significand) gives exact products m * 10^k for m < 2^64 and
 * k <= 27 up to one rounding, and a double rounding through it is wrong only when the extended
 * result lies exactly halfway between two doubles, which we detect (the low 11 significand bits
 * are 10000000000b) and hand to the slow path. That makes 17-19 digit inputs and outputs fast. */
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

/* Appends 0.<digits> * 10^point (digits without leading or trailing zeros) the way ECMAScript's
 * Number::toString does: plain decimal for 1e-6 <= |v| < 1e21, else d[.ddd]e(+|-)x. */
static void put_decimal(prt_buf *b, bool neg, const char *dig, int nd, int point) {
    prt_buf_reserve(b, 32 + (size_t)nd);
    char *o = b->data + b->len;
    if (neg) *o++ = '-';
    if (point >= nd && point <= 21) {            /* integer: digits then zeros */
        memcpy(o, dig, (size_t)nd);
        o += nd;
        memset(o, '0', (size_t)(point - nd));
        o += point - nd;
    } else if (point > 0 && point <= 21) {       /* ddd.ddd */
        memcpy(o, dig, (size_t)point);
        o += point;
        *o++ = '.';
        memcpy(o, dig + point, (size_t)(nd - point));
        o += nd - point;
    } else if (point > -6 && point <= 0) {       /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', (size_t)-point);
        o += -point;
        memcpy(o, dig, (size_t)nd);
        o += nd;
    } else {                                     /* d.ddde+x */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        int x = point - 1;
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        char tmp[8];
        char *end = tmp + sizeof tmp, *s = put_u64_rev(end, (uint64_t)(x < 0 ? -x : x));
        memcpy(o, s, (size_t)(end - s));
        o += end - s;
    }
    b->len = (size_t)(o - b->data);
}

/* Appends m * 10^-k (m > 0) in the common form. */
static void put_scaled(prt_buf *b, bool neg, uint64_t m, int k) {
    while (m % 10 == 0) { m /= 10; k--; }
    char tmp[24];
    char *end = tmp + sizeof tmp, *s = put_u64_rev(end, m);
    int nd = (int)(end - s);
    put_decimal(b, neg, s, nd, nd - k);
}

/* floor(log10(a)) for 1e-8 <= a < 1e21, from the binary exponent (log10(2) ~ 1233 / 4096) and
 * one comparison; the powers below 1 are rounded, so it may be off by one right at a power of
 * ten, where every use below is verified anyway. */
static int decimal_exponent(double a) {
    static const double pow10_from_m9[32] = {
        1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
        1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    uint64_t bits;
    memcpy(&bits, &a, 8);
    int e2 = (int)((bits >> 52) & 0x7FF) - 1023;
    int e = (e2 * 1233) >> 12;   /* floor(e2 * log10(2)): floor(log10(a)) or one less */
    if (e < -9) e = -9;
    if (e + 10 < 32 && a >= pow10_from_m9[e + 10]) e++;
    return e;
}

static void old_put_f64(prt_buf *b, double v) {
    bool neg = signbit(v);
    double a = fabs(v);
    if (a < TWO53 && a == (double)(int64_t)a) {   /* integral: exact as an integer */
        if (a == 0) {
            if (neg) prt_buf_lit(b, "-0");
            else prt_buf_putc(b, '0');
            return;
        }
        put_scaled(b, neg, (uint64_t)a, 0);
        return;
    }
    int e = a >= 1e-8 && a < 1e21 ? decimal_exponent(a) : 0;
    /* Up to 15 significant digits, in one step: if v is the double nearest a decimal m * 10^-j of
     * at most 15 digits, a * 10^k (k = 14 - e) rounds to m * 10^(k-j) exactly (both errors stay far
     * below 0.5 at this size), and r / 10^k is correctly rounded, so equality proves the digits read
     * back as v; 15-digit decimals are too far apart for two of them to read back as one double. */
    if (a >= 1e-8 && a < 1e14) {
        int k = 14 - e;
        if (k >= 1 && k <= 22) {
            double r = (double)llrint(a * pow10_exact[k]);
            if (r != 0 && r / pow10_exact[k] == a) {
                uint64_t m = (uint64_t)r;
                while (k > 0 && m % 10 == 0) m /= 10, k--;
                put_scaled(b, neg, m, k);
                return;
            }
        }
    }
#if PRT_HAVE_LD
    /* For 1e-7 <= |v| < 2^53 the shortest form now needs >= 16 digits (shorter ones fit
     * m < 2^53 above); larger values may need fewer. Binary search on the digit count with
     * extended precision, verified like the slow path; undecidable cases fall through.
     * llrintl rounds in the current mode (to nearest) without switching the x87 control word. */
    if (a >= 1e-7 && a < 1e21) {
        int lo = a < TWO53 ? 16 : 1, hi = 17, found = 0;
        uint64_t best = 0;
        while (lo <= hi) {
            int p = (lo + hi) / 2, s = p - 1 - e;
            if (s < -27 || s > 27) break;
            long double t = s < 0 ? (long double)a / pow10_ld[-s] : (long double)a * pow10_ld[s];
            uint64_t m = (uint64_t)llrintl(t);
            double back;
            if (!ld_to_double(m, -s, &back)) { best = 0; break; }
            if (back == a) { found = s; best = m; hi = p - 1; }
            else lo = p + 1;
        }
        if (best) {
            put_scaled(b, neg, best, found);
            return;
        }
    }
#endif
    /* General case: the fewest significant digits (1..17) that read back; %.*e rounds correctly
     * and a digit more never hurts, so binary search finds the shortest. */
    char buf[40], best[40];
    int lo = 1, hi = 17;
    snprintf(best, sizeof best, "%.16e", a);
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(buf, sizeof buf, "%.*e", mid - 1, a);
        if (strtod(buf, NULL) == a) {
            memcpy(best, buf, sizeof buf);
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    /* best = d[<point>ddd]e(+|-)xx in whatever locale: keep the digits and the exponent. */
    char dig[24];
    int nd = 0;
    const char *s = best;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') dig[nd++] = *s;
    int x = atoi(s + 1);
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    put_decimal(b, neg, dig, nd, x + 1);
}

/* ---- the benchmark ---- */

static uint64_t rng = 0x243F6A8885A308D3ULL;
static uint64_t next64(void) {   /* splitmix64 */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { N = 1000000 };

/* the best of 5 passes over the set, ns per value */
static double time_set(const double *v, void (*put)(prt_buf *, double)) {
    prt_buf b = {0};
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now_ns();
        for (int i = 0; i < N; i++) {
            b.len = 0;
            put(&b, v[i]);
        }
        double t = (now_ns() - t0) / N;
        if (t < best) best = t;
    }
    prt_buf_free(&b);
    return best;
}

static long differences(const double *v) {
    prt_buf a = {0}, b = {0};
    long n = 0;
    for (int i = 0; i < N; i++) {
        a.len = b.len = 0;
        old_put_f64(&a, v[i]);
        prt_buf_put_f64(&b, v[i]);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            if (n++ < 5) fprintf(stderr, "  %.17g: old %.*s new %.*s\n", v[i], (int)a.len, a.data, (int)b.len, b.data);
        }
    }
    prt_buf_free(&a);
    prt_buf_free(&b);
    return n;
}

/* mean significant digits of what the new printer writes for the set */
static double mean_digits(const double *v) {
    prt_buf b = {0};
    long total = 0;
    for (int i = 0; i < N; i++) {
        b.len = 0;
        prt_buf_put_f64(&b, v[i]);
        int nd = 0, lead = 1;
        size_t end = b.len;
        for (size_t j = 0; j < b.len; j++) if (b.data[j] == 'e') end = j;
        while (end > 0 && (b.data[end - 1] == '0' || b.data[end - 1] == '.')) end--;   /* trailing zeros */
        for (size_t j = 0; j < end; j++) {
            char c = b.data[j];
            if (c < '0' || c > '9') continue;
            if (lead && c == '0') continue;
            lead = 0, nd++;
        }
        total += nd ? nd : 1;
    }
    prt_buf_free(&b);
    return (double)total / N;
}

/* one value over and over, best of 5 runs of 2M, ns per call */
static double time_one(double x, void (*put)(prt_buf *, double)) {
    prt_buf b = {0};
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        volatile double vx = x;
        double t0 = now_ns();
        for (int i = 0; i < 2000000; i++) {
            b.len = 0;
            put(&b, vx);
        }
        double t = (now_ns() - t0) / 2000000;
        if (t < best) best = t;
    }
    prt_buf_free(&b);
    return best;
}

int main(void) {
    static double prices[N], avgs[N], randoms[N], ints[N];
    for (int i = 0; i < N; i++) {
        prices[i] = (double)(next64() % 10000000) / 100;   /* 0.00 .. 99999.99 */
        char tmp[32];
        do {   /* an average that needs 16 or 17 digits (most do) */
            int n = 2 + (int)(next64() % 30);
            double sum = 0;
            for (int j = 0; j < n; j++) sum += (double)(next64() % 10000000) / 100;
            avgs[i] = sum / n;
            snprintf(tmp, sizeof tmp, "%.15g", avgs[i]);
        } while (strtod(tmp, NULL) == avgs[i]);
        uint64_t u;
        do u = next64() & 0x7FFFFFFFFFFFFFFFULL; while (u >= 0x7FF0000000000000ULL);
        memcpy(&randoms[i], &u, 8);
        ints[i] = (double)(next64() % 1000000);
    }
    static const struct { const char *name; const double *v; } sets[] = {
        {"2-decimal prices (k/100)", prices}, {"averages, 16-17 digits", avgs},
        {"random bit patterns", randoms}, {"integers 0..999999", ints},
    };
    printf("%-26s %7s %8s %8s %8s\n", "set (1M values)", "digits", "old ns", "new ns", "diffs");
    for (size_t s = 0; s < sizeof sets / sizeof *sets; s++) {
        double t_old = time_set(sets[s].v, old_put_f64), t_new = time_set(sets[s].v, prt_buf_put_f64);
        printf("%-26s %7.2f %8.1f %8.1f %8ld\n", sets[s].name, mean_digits(sets[s].v), t_old, t_new,
               differences(sets[s].v));
    }
    static const double one[] = {942.45, 900.9, 12.34, 42, 0.30000000000000004, 1.0 / 3, 1e300, 5e-324};
    printf("\n%-26s %8s %8s\n", "one value, repeated", "old ns", "new ns");
    for (size_t i = 0; i < sizeof one / sizeof *one; i++) {
        char name[32];
        snprintf(name, sizeof name, "%.17g", one[i]);
        printf("%-26s %8.1f %8.1f\n", name, time_one(one[i], old_put_f64), time_one(one[i], prt_buf_put_f64));
    }
    return 0;
}
