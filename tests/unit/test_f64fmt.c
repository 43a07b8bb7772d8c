/* test_f64fmt.c - prt_buf_put_f64 (and prt__f64_digits under it, rt_f64fmt.c) against a
 * reference: the fewest significant digits, found by a binary search over %.*e with strtod
 * reading each candidate back (the nearest decimal of each length and its neighbours), laid out by this file's own
 * reading of ECMAScript's Number::toString. Every value is checked with both signs (the counts
 * printed are of magnitudes).
 *
 *     build/tests/test_f64fmt            the suite's run: the special ranges and 200000 random
 *                                        values of each kind (1.1 million, 2.2 with signs)
 *     build/tests/test_f64fmt N [M [SEED]]   N random bit patterns, M of the decimal-looking kinds
 */
#include "pipec_rt.h"
#include "rt_f64fmt.h"
#include "check.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether m * 10^e reads back as a. */
static bool reads_back(double a, unsigned long long m, int e) {
    char buf[48];
    snprintf(buf, sizeof buf, "%llue%d", m, e);
    return strtod(buf, NULL) == a;
}

/* The decimal of p significant digits that reads back as a and is closest to it, if there is one:
 * the nearest (%.*e rounds correctly), else one of its two neighbours of that length (a's rounding
 * interval is convex and holds a; below a power of two it is half as wide, so the nearest may lie
 * outside while the one above lies inside). *m * 10^*e. */
static bool at_length(double a, int p, unsigned long long *m, int *e) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.*e", p - 1, a);
    unsigned long long d = 0;
    const char *s = buf;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') d = d * 10 + (unsigned long long)(*s - '0');
    int x = atoi(s + 1) - (p - 1);
    unsigned long long cand[3] = {d, d + 1, d - 1};
    for (int i = 0; i < 3; i++) {
        if (cand[i] == 0 || !reads_back(a, cand[i], x)) continue;
        *m = cand[i];
        *e = x;
        return true;
    }
    return false;
}

/* The reference: digits (no trailing zeros) and point, a = 0.<digits> * 10^point, of the fewest
 * significant digits that read back (a digit more never hurts: a binary search on the length). */
static int ref_digits(double a, char *dig, int *point) {
    unsigned long long m = 0, bm;
    int e = 0, be;
    int lo = 1, hi = 17;
    if (!at_length(a, 17, &bm, &be)) abort();
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (at_length(a, mid, &m, &e)) {
            bm = m, be = e;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    while (bm % 10 == 0) bm /= 10, be++;
    int nd = snprintf(dig, 24, "%llu", bm);
    *point = nd + be;
    return nd;
}

/* Number::toString(v) for v = (-)0.<dig> * 10^n, k = strlen(dig) digits (ECMA-262, 6.1.6.1.20). */
static void js_layout(char *o, bool neg, const char *dig, int k, int n) {
    if (neg) *o++ = '-';
    if (k <= n && n <= 21) {                 /* the k digits, n - k zeros */
        o += sprintf(o, "%s", dig);
        for (int i = k; i < n; i++) *o++ = '0';
        *o = 0;
    } else if (0 < n && n <= 21) {           /* the first n digits, '.', the other k - n */
        sprintf(o, "%.*s.%s", n, dig, dig + n);
    } else if (-6 < n && n <= 0) {           /* "0.", -n zeros, the k digits */
        o += sprintf(o, "0.");
        for (int i = 0; i < -n; i++) *o++ = '0';
        sprintf(o, "%s", dig);
    } else {                                 /* d[.ddd]e(+|-)(n - 1) */
        o += sprintf(o, "%c", dig[0]);
        if (k > 1) o += sprintf(o, ".%s", dig + 1);
        sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
}

static prt_buf B;
static long n_checked, n_failed;

static void check_sign(double v, const char *dig, int nd, int point) {
    char want[64];
    if (v == 0) strcpy(want, signbit(v) ? "-0" : "0");
    else js_layout(want, signbit(v), dig, nd, point);
    B.len = 0;
    prt_buf_put_f64(&B, v);
    if (B.len != strlen(want) || memcmp(B.data, want, B.len) != 0) {
        if (n_failed++ < 10) fprintf(stderr, "  %.17g: got \"%.*s\", want \"%s\"\n", v, (int)B.len, B.data, want);
    }
}

/* v and -v (v finite); the reference once for both */
static void check_pm(double v) {
    if (!isfinite(v)) return;
    char dig[24] = "";
    int point = 0, nd = 0;
    v = fabs(v);
    n_checked++;
    if (v != 0) {
        nd = ref_digits(v, dig, &point);
        /* the digits alone, also for the integers that prt_buf_put_f64 prints without them */
        char buf[24];
        int got_point, got_nd;
        const char *got = prt__f64_digits(v, buf, &got_nd, &got_point);
        if (got_nd != nd || memcmp(got, dig, (size_t)nd) != 0 || got_point != point) {
            if (n_failed++ < 10)
                fprintf(stderr, "  %.17g: digits %.*s point %d, want %s point %d\n", v, got_nd, got, got_point, dig, point);
        }
    }
    check_sign(v, dig, nd, point);
    check_sign(-v, dig, nd, point);
}

static double from_bits(uint64_t u) { double v; memcpy(&v, &u, 8); return v; }
static uint64_t to_bits(double v) { uint64_t u; memcpy(&u, &v, 8); return u; }

/* v and its neighbours up to r steps away (finite, positive) */
static void check_around(double v, int r) {
    uint64_t u = to_bits(fabs(v));
    for (int i = -r; i <= r; i++) {
        if (i < 0 && u < (uint64_t)-i) continue;
        uint64_t w = u + (uint64_t)(int64_t)i;
        if (w >= 0x7FF0000000000000ULL) continue;
        check_pm(from_bits(w));
    }
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next64(void) {   /* splitmix64 */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static long count_since(long *mark) { long n = n_checked - *mark; *mark = n_checked; return n; }

static void fixed_cases(void) {
    long mark = 0;
    check_pm(0.0);
    check_pm(0.1 + 0.2); check_pm(1.0 / 3); check_pm(942.45); check_pm(900.9); check_pm(5e-324);
    /* subnormals: single bits, runs of ones, the largest; DBL_MIN, DBL_MAX */
    for (int i = 0; i < 52; i++) {
        check_around(from_bits(1ULL << i), 3);
        check_around(from_bits((1ULL << i) - 1), 1);
        check_around(from_bits((1ULL << 52) - (1ULL << i)), 1);
    }
    check_around(DBL_MIN, 5); check_around(DBL_MAX, 5); check_around(DBL_TRUE_MIN, 5);
    for (uint64_t c = 1; c < 5000; c++) check_pm(from_bits(c));   /* the first subnormals */
    printf("subnormals, DBL_MIN, DBL_MAX: %ld values\n", count_since(&mark));
    /* every power of two (the significands 2^52, whose gap below is half the gap above) */
    for (int e = -1074; e <= 1023; e++) check_around(ldexp(1.0, e), 4);
    printf("powers of two and neighbours: %ld values\n", count_since(&mark));
    /* every power of ten a double reaches, their neighbours, and 1, 2, 5, 9.99.. times them */
    char s[64];
    for (int e = -324; e <= 308; e++) {
        static const char *m[] = {"1", "2", "5", "9", "9.5", "9.99", "9.999999999999999", "9.9999999999999999", "1.0000000000000001"};
        for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
            snprintf(s, sizeof s, "%se%d", m[i], e);
            check_around(strtod(s, NULL), i == 0 ? 8 : 2);
        }
    }
    printf("powers of ten and neighbours: %ld values\n", count_since(&mark));
    /* the ends of the plain-decimal range, 1e-7 .. 1e-6 and 1e21 */
    static const double edges[] = {1e-7, 1e-6, 9.999999999999999e-7, 1.5e-7, 1e21, 9.999999999999999e20,
                                   1e20, 123456789012345680000.0, 1.2345e-6, 1.0000000000000002e21};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) check_around(edges[i], 50);
    printf("1e-7 .. 1e-6 and 1e21 edges: %ld values\n", count_since(&mark));
    /* integers: all up to 100000, around 2^53, 2^54, 2^63, 2^64, 1e22, 1e23 */
    for (int i = 1; i <= 100000; i++) check_pm(i);
    static const double big[] = {9007199254740992.0, 18014398509481984.0, 9223372036854775808.0,
                                 18446744073709551616.0, 1e22, 1e23, 4503599627370496.0};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) check_around(big[i], 300);
    printf("integers: %ld values\n", count_since(&mark));
}

/* n random bit patterns, m random values of the decimal-looking kinds */
static void random_cases(long n, long m) {
    long mark = n_checked;
    char s[64];
    for (long i = 0; i < n; i++) {   /* any finite bit pattern */
        uint64_t u = next64() & 0x7FFFFFFFFFFFFFFFULL;
        if (u >= 0x7FF0000000000000ULL) continue;
        check_pm(from_bits(u));
    }
    printf("random bit patterns: %ld values\n", count_since(&mark));
    for (long i = 0; i < m / 4; i++) {   /* decimals of 1..17 digits at any exponent */
        uint64_t r = next64();
        int p = 1 + (int)(r % 17), e = (int)((r >> 8) % 640) - 330;
        static const uint64_t p10[18] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
            1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
            1000000000000000, 10000000000000000, 100000000000000000};
        snprintf(s, sizeof s, "%llue%d", (unsigned long long)(next64() % p10[p]), e);
        check_pm(strtod(s, NULL));
    }
    printf("decimals of 1..17 digits: %ld values\n", count_since(&mark));
    for (long i = 0; i < m / 4; i++) {   /* integers up to 2^64, any magnitude */
        uint64_t r = next64() >> (next64() % 64);
        check_pm((double)r);
    }
    printf("random integers: %ld values\n", count_since(&mark));
    for (long i = 0; i < m / 4; i++) {   /* few fractional bits near 2^53: exact ties of digits */
        uint64_t r = next64();
        check_pm(ldexp((double)((r >> 11) | 1ULL << 52), -(int)(r % 8) - 1));
    }
    printf("halves, quarters ... near 2^53: %ld values\n", count_since(&mark));
    /* "prices": k / 100, their running sums and averages, as a window aggregate makes them */
    double sum = 0;
    long cnt = 0;
    for (long i = 0; i < m; i++) {
        uint64_t r = next64();
        double price = (double)(r % 10000000) / 100;
        check_pm(price);
        sum += price, cnt++;
        check_pm(sum);
        check_pm(sum / (double)cnt);
        if (r >> 60 == 0) sum = 0, cnt = 0;   /* a new window now and then */
    }
    printf("prices k/100, sums, averages: %ld values\n", count_since(&mark));
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000, m = argc > 2 ? atol(argv[2]) : n;
    if (argc > 3) rng = strtoull(argv[3], NULL, 0);
    fixed_cases();
    random_cases(n, m);
    printf("%ld values compared, %ld mismatches\n", n_checked, n_failed);
    CHECK(n_failed == 0);
    prt_buf_free(&B);
    return check_report();
}
