/* test_text.c - unit tests of rt_text.c: value parsers (bool, integers, floats, timestamps, dates,
 * patterns), formatters (integers, shortest floats, timestamps, JSON/CSV/cell strings) and UTF-8
 * validation. Includes a randomized float round trip against strtod/%.17g; `bench` as argv[1]
 * prints ns per call of the hot functions instead. */
#include "pipec_rt.h"
#include "check.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

static prt_buf B;

/* The bytes a formatter appended, as a NUL-terminated string (static storage). */
static const char *out(void) {
    static char s[8192];
    size_t n = B.len < sizeof s - 1 ? B.len : sizeof s - 1;
    memcpy(s, B.data, n);
    s[n] = 0;
    B.len = 0;
    return s;
}

static const char *f64s(double v) { prt_buf_put_f64(&B, v); return out(); }
static const char *i64s(int64_t v) { prt_buf_put_i64(&B, v); return out(); }
static const char *tss(int64_t v) { prt_buf_put_timestamp(&B, v); return out(); }
static const char *dates(int32_t v) { prt_buf_put_date(&B, v); return out(); }
static const char *jsons(const char *s, size_t n) { prt_buf_put_json_str(&B, s, n); return out(); }
static const char *csvs(const char *s, char d) { prt_buf_put_csv_str(&B, s, strlen(s), d); return out(); }

#define S(lit) lit, sizeof(lit) - 1

static bool ok_i32(const char *s, int32_t want) { int32_t v; return prt_parse_i32(s, strlen(s), &v) && v == want; }
static bool bad_i32(const char *s) { int32_t v; return !prt_parse_i32(s, strlen(s), &v); }
static bool ok_i64(const char *s, int64_t want) { int64_t v; return prt_parse_i64(s, strlen(s), &v) && v == want; }
static bool bad_i64(const char *s) { int64_t v; return !prt_parse_i64(s, strlen(s), &v); }
static bool ok_bool(const char *s, bool want) { bool v; return prt_parse_bool(s, strlen(s), &v) && v == want; }
static bool bad_bool(const char *s) { bool v; return !prt_parse_bool(s, strlen(s), &v); }

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* parse_f64 agrees bit for bit with strtod (the input is valid and finite). */
static bool f64_like_strtod(const char *s) {
    double v;
    if (!prt_parse_f64(s, strlen(s), &v)) return false;
    return same_bits(v, strtod(s, NULL));
}
static bool bad_f64(const char *s) { double v; return !prt_parse_f64(s, strlen(s), &v); }

static bool ok_ts(const char *s, int64_t want) { int64_t v; return prt_parse_timestamp(s, strlen(s), &v) && v == want; }
static bool bad_ts(const char *s) { int64_t v; return !prt_parse_timestamp(s, strlen(s), &v); }
static bool ok_unit(const char *s, int u, int64_t want) { int64_t v; return prt_parse_timestamp_unit(s, strlen(s), u, &v) && v == want; }
static bool bad_unit(const char *s, int u) { int64_t v; return !prt_parse_timestamp_unit(s, strlen(s), u, &v); }
static bool ok_fmt(const char *s, const char *f, int64_t want) { int64_t v; return prt_parse_timestamp_format(s, strlen(s), f, &v) && v == want; }
static bool bad_fmt(const char *s, const char *f) { int64_t v; return !prt_parse_timestamp_format(s, strlen(s), f, &v); }

/* Microseconds of a UTC civil time, computed independently of prt_days_from_civil via timegm. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s) {
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm) * 1000000;
}

static void test_bool_int(void) {
    CHECK(ok_bool("true", true)); CHECK(ok_bool("TRUE", true)); CHECK(ok_bool("True", true));
    CHECK(ok_bool("t", true)); CHECK(ok_bool("T", true)); CHECK(ok_bool("1", true));
    CHECK(ok_bool("yes", true)); CHECK(ok_bool("YeS", true));
    CHECK(ok_bool("false", false)); CHECK(ok_bool("FALSE", false)); CHECK(ok_bool("f", false));
    CHECK(ok_bool("F", false)); CHECK(ok_bool("0", false)); CHECK(ok_bool("no", false)); CHECK(ok_bool("NO", false));
    CHECK(bad_bool("")); CHECK(bad_bool(" true")); CHECK(bad_bool("true ")); CHECK(bad_bool("2"));
    CHECK(bad_bool("y")); CHECK(bad_bool("n")); CHECK(bad_bool("tru")); CHECK(bad_bool("falsey"));
    CHECK(bad_bool("on")); CHECK(bad_bool("ye")); CHECK(bad_bool("01"));

    CHECK(ok_i32("0", 0)); CHECK(ok_i32("-0", 0)); CHECK(ok_i32("+7", 7)); CHECK(ok_i32("-42", -42));
    CHECK(ok_i32("2147483647", INT32_MAX)); CHECK(ok_i32("-2147483648", INT32_MIN));
    CHECK(ok_i32("+2147483647", INT32_MAX)); CHECK(ok_i32("0000000000000000000002147483647", INT32_MAX));
    CHECK(bad_i32("2147483648")); CHECK(bad_i32("-2147483649")); CHECK(bad_i32("99999999999999999999"));
    CHECK(bad_i32("")); CHECK(bad_i32("-")); CHECK(bad_i32("+")); CHECK(bad_i32(" 1")); CHECK(bad_i32("1 "));
    CHECK(bad_i32("1e3")); CHECK(bad_i32("0x10")); CHECK(bad_i32("1.0")); CHECK(bad_i32("--1")); CHECK(bad_i32("1_000"));

    CHECK(ok_i64("9223372036854775807", INT64_MAX)); CHECK(ok_i64("-9223372036854775808", INT64_MIN));
    CHECK(ok_i64("9223372036854775806", INT64_MAX - 1)); CHECK(ok_i64("-9223372036854775807", INT64_MIN + 1));
    CHECK(ok_i64("-000009223372036854775808", INT64_MIN)); CHECK(ok_i64("1234567890123", 1234567890123LL));
    CHECK(bad_i64("9223372036854775808")); CHECK(bad_i64("-9223372036854775809"));
    CHECK(bad_i64("18446744073709551616")); CHECK(bad_i64("18446744073709551615"));
    CHECK(bad_i64("99999999999999999999")); CHECK(bad_i64("")); CHECK(bad_i64("1,5")); CHECK(bad_i64("+-1"));
    CHECK(bad_i64("12a")); CHECK(bad_i64("\xd9\xa1"));   /* Arabic-Indic digit one */

    CHECK_STR(i64s(0), "0"); CHECK_STR(i64s(7), "7"); CHECK_STR(i64s(-7), "-7"); CHECK_STR(i64s(10), "10");
    CHECK_STR(i64s(99), "99"); CHECK_STR(i64s(100), "100"); CHECK_STR(i64s(-1234567), "-1234567");
    CHECK_STR(i64s(INT64_MAX), "9223372036854775807"); CHECK_STR(i64s(INT64_MIN), "-9223372036854775808");
    char want[32];
    for (int i = 0; i < 100000; i++) {   /* against printf */
        int64_t v = (int64_t)((uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand()) >> (rand() % 64);
        if (rand() & 1) v = -v;
        snprintf(want, sizeof want, "%lld", (long long)v);
        const char *got = i64s(v);
        if (strcmp(got, want) != 0) { CHECK_STR(got, want); break; }
        int64_t back;
        if (!prt_parse_i64(want, strlen(want), &back) || back != v) { CHECK(!"i64 round trip"); break; }
    }
    CHECK(1);
}

static void test_parse_f64(void) {
    const char *good[] = {"1", "-1.5", ".5", "5.", "1e10", "1E-3", "+2", "0", "-0", "0.0", "00012.500",
                          "3.141592653589793", "2.2250738585072014e-308", "2.2250738585072011e-308",
                          "4.9406564584124654e-324", "2.4703282292062328e-324", "1e-400", "1.7976931348623157e308",
                          "1.7976931348623158e308", "9007199254740993", "9007199254740992", "123456789012345678901234567890",
                          "0.1", "0.3", "1e22", "1e23", "8.988465674311579e307", "1.0000000000000002",
                          "0.000000000000000000000000000000000000001", "12345678901234567890e-20", "5e-324",
                          "1e0000000000000000000000000000000001", "123e-2", "7.e2", ".7e-2", "1e+5"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        if (!f64_like_strtod(good[i])) fprintf(stderr, "  float: %s\n", good[i]);
        CHECK(f64_like_strtod(good[i]));
    }
    const char *bad[] = {"", "-", "+", ".", "e5", "1e", "1e+", "1.5.2", "1,5", " 1", "1 ", "nan", "NaN", "inf",
                         "-inf", "Infinity", "0x1p3", "0x10", "1e309", "-1e309", "1.8e308", "1e99999999999999999",
                         "--1", "1-", "1e5.5", "1d5", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (!bad_f64(bad[i])) fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(bad_f64(bad[i]));
    }
    double v;
    char mx[400];   /* DBL_MAX written out in full, and just past the rounding boundary */
    snprintf(mx, sizeof mx, "%.0f", DBL_MAX);
    CHECK(f64_like_strtod(mx));
    snprintf(mx, sizeof mx, "17976931348623158%0292d", 0);
    CHECK(f64_like_strtod(mx));
    snprintf(mx, sizeof mx, "17976931348623159%0292d", 0);
    CHECK(bad_f64(mx));
    CHECK(prt_parse_f64(S("-0"), &v) && v == 0 && signbit(v));
    CHECK(prt_parse_f64(S("1e-99999999999999"), &v) && v == 0);

    /* Long inputs: 2^53 + 1 is a tie that rounds to even; any non-zero digit far away breaks it. */
    static char big[5000];
    strcpy(big, "9007199254740993.");
    memset(big + 17, '0', 3000);
    strcpy(big + 3017, "1");
    CHECK(prt_parse_f64(big, strlen(big), &v) && v == 9007199254740994.0);
    big[3017] = 0;
    CHECK(prt_parse_f64(big, strlen(big), &v) && v == 9007199254740992.0);
    strcpy(big, "0.");   /* 0.000...0001 with 3000 zeros, scaled back up */
    memset(big + 2, '0', 3000);
    strcpy(big + 3002, "15e3001");
    CHECK(prt_parse_f64(big, strlen(big), &v) && v == 1.5);
    big[3004] = 0;   /* 1.5e-3001 underflows to 0: accepted as 0 */
    CHECK(prt_parse_f64(big, strlen(big), &v) && v == 0);
    memset(big, '9', 4000);   /* 4000 nines = 1e4000: overflow */
    big[4000] = 0;
    CHECK(bad_f64(big));
    strcpy(big + 4000, "e-3990");
    CHECK(f64_like_strtod(big));
    /* 4 MiB of digits: bounded work, no big copy. */
    size_t huge = 4u << 20;
    char *h = malloc(huge);
    memset(h, '1', huge);
    h[1] = '.';
    CHECK(prt_parse_f64(h, huge, &v) && v == strtod("1.11111111111111111111111", NULL));
    free(h);

    /* Random decimal strings against strtod. */
    char s[128];
    int bad_count = 0;
    for (int i = 0; i < 300000; i++) {
        int nd = 1 + rand() % 25, k = 0;
        if (rand() & 1) s[k++] = '-';
        int dot = rand() % (nd + 1);
        for (int d = 0; d < nd; d++) {
            if (d == dot) s[k++] = '.';
            s[k++] = (char)('0' + rand() % 10);
        }
        if (rand() % 3) k += sprintf(s + k, "e%d", rand() % 640 - 330);
        s[k] = 0;
        double w = strtod(s, NULL);
        if (isinf(w)) { CHECK(bad_f64(s)); continue; }
        if (!f64_like_strtod(s)) { if (bad_count++ < 5) fprintf(stderr, "  float mismatch: %s\n", s); }
    }
    CHECK_INT(bad_count, 0);
}

/* Significant digits of a formatted number ("-1.25e-7" -> 3; "100" -> 1). */
static int sig_digits(const char *s) {
    char d[64];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') d[n++] = *s;
    int a = 0;
    while (a < n - 1 && d[a] == '0') a++;
    while (n > a + 1 && d[n - 1] == '0') n--;
    return n - a;
}

static double rand_double(int i) {
    uint64_t bits = (uint64_t)rand() << 62 ^ (uint64_t)rand() << 31 ^ (uint64_t)rand();
    double v;
    switch (i % 4) {
    case 0: memcpy(&v, &bits, 8); break;                          /* any finite double */
    case 1: bits &= 0x800FFFFFFFFFFFFFULL; memcpy(&v, &bits, 8); break;   /* subnormals */
    case 2: v = (double)(rand() % 2000000 - 1000000) / pow(10, rand() % 9); break;   /* "prices" */
    default: v = (double)rand() / RAND_MAX * pow(10, rand() % 60 - 30); break;
    }
    return v;
}

static void test_put_f64(void) {
    CHECK_STR(f64s(0), "0"); CHECK_STR(f64s(-0.0), "-0"); CHECK_STR(f64s(1), "1"); CHECK_STR(f64s(-3), "-3");
    CHECK_STR(f64s(0.1), "0.1"); CHECK_STR(f64s(-1.5), "-1.5"); CHECK_STR(f64s(1.0 / 3), "0.3333333333333333");
    CHECK_STR(f64s(2.0 / 3), "0.6666666666666666"); CHECK_STR(f64s(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(f64s(1e21), "1e+21"); CHECK_STR(f64s(1e20), "100000000000000000000");
    CHECK_STR(f64s(123456789012345680000.0), "123456789012345680000");
    CHECK_STR(f64s(5e-324), "5e-324"); CHECK_STR(f64s(-5e-324), "-5e-324");
    CHECK_STR(f64s(1e300), "1e+300"); CHECK_STR(f64s(DBL_MAX), "1.7976931348623157e+308");
    CHECK_STR(f64s(DBL_MIN), "2.2250738585072014e-308");
    CHECK_STR(f64s(1.5e-8), "1.5e-8"); CHECK_STR(f64s(1e-7), "1e-7"); CHECK_STR(f64s(0.000001), "0.000001");
    CHECK_STR(f64s(1.25e-6), "0.00000125"); CHECK_STR(f64s(123.456), "123.456"); CHECK_STR(f64s(12.34), "12.34");
    CHECK_STR(f64s(9007199254740992.0), "9007199254740992"); CHECK_STR(f64s(9007199254740993.0 * 2), "18014398509481984");
    CHECK_STR(f64s(4503599627370495.5), "4503599627370495.5"); CHECK_STR(f64s(1e15 + 0.3), "1000000000000000.2");
    CHECK_STR(f64s(1.7e308), "1.7e+308"); CHECK_STR(f64s(-2.5e21), "-2.5e+21"); CHECK_STR(f64s(1e-5), "0.00001");
    CHECK_STR(f64s(0.5), "0.5"); CHECK_STR(f64s(100), "100"); CHECK_STR(f64s(1e16), "10000000000000000");

    /* Randomized: parse(print(x)) == x bitwise, and print uses the fewest digits %.Ng allows. */
    int fails = 0, longer = 0;
    for (int i = 0; i < 1000000; i++) {
        double x = rand_double(i);
        if (!isfinite(x)) continue;
        const char *s = f64s(x);
        double y;
        if (!prt_parse_f64(s, strlen(s), &y) || !same_bits(x, y) || strtod(s, NULL) != x) {
            if (fails++ < 5) fprintf(stderr, "  round trip: %.17g -> %s\n", x, s);
            continue;
        }
        if (i % 10 == 0 || sig_digits(s) > 15) {   /* the shortest %.Ng that reads back */
            char ref[40];
            int p;
            for (p = 1; p < 17; p++) {
                snprintf(ref, sizeof ref, "%.*g", p, x);
                if (strtod(ref, NULL) == x) break;
            }
            if (sig_digits(s) > p) { if (longer++ < 5) fprintf(stderr, "  not shortest: %.17g -> %s (%d)\n", x, s, p); }
        }
    }
    CHECK_INT(fails, 0);
    CHECK_INT(longer, 0);
}

static void test_calendar(void) {
    CHECK_INT(prt_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(prt_days_from_civil(1969, 12, 31), -1);
    CHECK_INT(prt_days_from_civil(2000, 3, 1), 11017);
    CHECK_INT(prt_days_from_civil(1, 1, 1), -719162);
    CHECK_INT(prt_days_from_civil(9999, 12, 31), 2932896);
    int bad = 0;
    for (int32_t d = -800000; d < 3000000; d += 1) {   /* civil_from_days inverts days_from_civil */
        int64_t y;
        unsigned m, dd;
        prt_civil_from_days(d, &y, &m, &dd);
        if (prt_days_from_civil(y, m, dd) != d || m < 1 || m > 12 || dd < 1 || dd > 31) bad++;
    }
    CHECK_INT(bad, 0);
    int64_t now = prt_now_us();
    CHECK(now > utc(2020, 1, 1, 0, 0, 0) && now < utc(2200, 1, 1, 0, 0, 0));
}

/* The head YYYY-MM-DD?HH:MM:SS checked a byte at a time, its value by timegm: the reference for
 * the parser's word-at-a-time head. */
static bool ref_head19(const char *s, int64_t *us) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    int v[19];
    for (int i = 0; i < 19; i++) {
        char c = s[i];
        if (shape[i] == 'd') {
            if (c < '0' || c > '9') return false;
            v[i] = c - '0';
        } else if (shape[i] == 'T') {
            if (c != 'T' && c != 't' && c != ' ') return false;
        } else if (c != shape[i]) {
            return false;
        }
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], mo = v[5] * 10 + v[6], d = v[8] * 10 + v[9];
    int hh = v[11] * 10 + v[12], mi = v[14] * 10 + v[15], ss = v[17] * 10 + v[18];
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > dim[mo] + (mo == 2 && leap) || hh > 23 || mi > 59 || ss > 59)
        return false;
    *us = utc(y, mo, d, hh, mi, ss);
    return true;
}

/* Valid timestamps with one or two bytes of the head replaced (by digits, separators, letters,
 * bytes near '0' and '9' and high bytes), with fractions and offsets of every kind after them:
 * the parser against ref_head19. Every other one is within three days of a date drawn anew every
 * 128, so that most dates repeat (the parser remembers the last date it read). */
static void test_timestamp_heads(void) {
    static const char repl[] = "0123456789-:Tt ZzX/;@\x7f\xff\xfa";
    static const char *const tails[] = {"Z", ".25Z", "+02:00", ".123456Z", ".1234567Z", ".000001+01:00",
                                        ".987654", ".12345Z", ".12a456Z", ".123456ZZ", ".123456-00:30",
                                        ".123456X", ".1234567", ".123456z", ".12345+1", ".123456Z"};
    static const int64_t tail_us[] = {0, 250000, -7200000000LL, 123456, 123456, 1 - 3600000000LL,
                                      987654, 123450, -1, -1, 123456 + 1800000000LL,
                                      -1, 123456, 123456, -1, 123456};   /* -1: rejected */
    int bad = 0;
    uint64_t x = 88172645463325252ULL;
    int64_t base = 0;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (i % 128 == 0) base = (int64_t)(x % (315537897600ULL - 259200)) - 62135596800LL;
        int64_t us = i & 1 ? (base + (int64_t)(x % 259200)) * 1000000
                           : (int64_t)(x % 315537897600ULL) * 1000000 - 62135596800000000LL;
        char s[40];
        memcpy(s, tss(us), 19);
        for (int k = 0; k < 1 + (int)(x >> 40 & 1); k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x >> 60 < 12) s[x % 19] = repl[(x >> 8) % (sizeof repl - 1)];
        }
        int t = (int)((x >> 20) % (sizeof tails / sizeof *tails));
        size_t n = 19 + strlen(tails[t]);
        memcpy(s + 19, tails[t], strlen(tails[t]));
        int64_t want, got;
        bool want_ok = ref_head19(s, &want) && tail_us[t] != -1, got_ok = prt_parse_timestamp(s, n, &got);
        if (want_ok != got_ok || (got_ok && got != want + tail_us[t])) {
            if (bad++ < 3) fprintf(stderr, "  head %.*s: %d against %d\n", (int)n, s, got_ok, want_ok);
        }
    }
    CHECK_INT(bad, 0);
}

static void test_timestamps(void) {
    CHECK(ok_ts("1970-01-01T00:00:00Z", 0));
    CHECK(ok_ts("2024-05-01T10:00:00Z", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01t10:00:00z", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01 10:00:00", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01T10:00", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01T10:00Z", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01", utc(2024, 5, 1, 0, 0, 0)));
    CHECK(ok_ts("2024-05-01T10:00:00.5Z", utc(2024, 5, 1, 10, 0, 0) + 500000));
    CHECK(ok_ts("2024-05-01T10:00:00.123456789Z", utc(2024, 5, 1, 10, 0, 0) + 123456));
    CHECK(ok_ts("2024-05-01T10:00:00.000001", utc(2024, 5, 1, 10, 0, 0) + 1));
    CHECK(ok_ts("2024-05-01T12:00:00+02:00", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01T12:00:00+0200", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01T12:00:00+02", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01T05:30:00-04:30", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_ts("2024-05-01T00:30:00.25+05:30", utc(2024, 4, 30, 19, 0, 0) + 250000));
    CHECK(ok_ts("1969-12-31T23:59:59Z", -1000000));
    CHECK(ok_ts("1969-12-31T23:59:59.999999Z", -1));
    CHECK(ok_ts("0001-01-01T00:00:00Z", utc(1, 1, 1, 0, 0, 0)));
    CHECK(ok_ts("9999-12-31T23:59:59.999999Z", utc(9999, 12, 31, 23, 59, 59) + 999999));
    CHECK(ok_ts("2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0)));
    CHECK(ok_ts("2000-02-29T00:00:00Z", utc(2000, 2, 29, 0, 0, 0)));
    CHECK(bad_ts("2023-02-29T00:00:00Z")); CHECK(bad_ts("1900-02-29T00:00:00Z")); CHECK(bad_ts("2100-02-29"));
    CHECK(bad_ts("2024-02-30")); CHECK(bad_ts("2024-04-31")); CHECK(bad_ts("2024-13-01")); CHECK(bad_ts("2024-00-01"));
    CHECK(bad_ts("2024-01-00")); CHECK(bad_ts("0000-01-01")); CHECK(bad_ts("10000-01-01")); CHECK(bad_ts("24-01-01"));
    CHECK(bad_ts("2024-05-01T24:00:00Z")); CHECK(bad_ts("2024-05-01T23:60:00Z")); CHECK(bad_ts("2024-05-01T23:59:60Z"));
    CHECK(bad_ts("2024-05-01T10:00:00.Z")); CHECK(bad_ts("2024-05-01T10:00:00.1234567890Z"));
    CHECK(bad_ts("2024-05-01T10:00:00+24:00")); CHECK(bad_ts("2024-05-01T10:00:00+02:60"));
    CHECK(bad_ts("2024-05-01T10:00:00+2")); CHECK(bad_ts("2024-05-01T10:00:00+02:0")); CHECK(bad_ts("2024-05-01T10:00:00+020"));
    CHECK(bad_ts("2024-05-01T10:00:00ZZ")); CHECK(bad_ts("2024-05-01T10:00:00 ")); CHECK(bad_ts(" 2024-05-01"));
    CHECK(bad_ts("2024-05-01T10")); CHECK(bad_ts("2024-05-01T10:0")); CHECK(bad_ts("2024-05-01T10:00:0"));
    CHECK(bad_ts("2024-05-01X10:00:00")); CHECK(bad_ts("2024/05/01")); CHECK(bad_ts("")); CHECK(bad_ts("2024-5-1"));
    CHECK(bad_ts("2024-05-01Z")); CHECK(bad_ts("2024-05-01T1a:00:00")); CHECK(bad_ts("2024-05-01T10:00:00,5Z"));

    int32_t d;
    CHECK(prt_parse_date(S("2024-05-01"), &d) && d == prt_days_from_civil(2024, 5, 1));
    CHECK(prt_parse_date(S("1969-12-31"), &d) && d == -1);
    CHECK(prt_parse_date(S("0001-01-01"), &d) && d == -719162);
    CHECK(!prt_parse_date(S("2024-05-01T00:00:00Z"), &d)); CHECK(!prt_parse_date(S("2024-02-30"), &d));
    CHECK(!prt_parse_date(S("2024-05-1"), &d)); CHECK(!prt_parse_date(S(""), &d));

    CHECK(ok_unit("0", PRT_UNIT_S, 0)); CHECK(ok_unit("1714557600", PRT_UNIT_S, utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_unit("1714557600.5", PRT_UNIT_S, utc(2024, 5, 1, 10, 0, 0) + 500000));
    CHECK(ok_unit("1714557600.1234567", PRT_UNIT_S, utc(2024, 5, 1, 10, 0, 0) + 123456));
    CHECK(ok_unit("-1.5", PRT_UNIT_S, -1500000)); CHECK(ok_unit("-0.0000019", PRT_UNIT_S, -1));
    CHECK(ok_unit("+5", PRT_UNIT_S, 5000000));
    CHECK(ok_unit("1714557600123", PRT_UNIT_MS, utc(2024, 5, 1, 10, 0, 0) + 123000));
    CHECK(ok_unit("1.5", PRT_UNIT_MS, 1500)); CHECK(ok_unit("1.5009", PRT_UNIT_MS, 1500));
    CHECK(ok_unit("-1", PRT_UNIT_MS, -1000)); CHECK(ok_unit("123", PRT_UNIT_US, 123));
    CHECK(ok_unit("9223372036854775807", PRT_UNIT_US, INT64_MAX));
    CHECK(ok_unit("-9223372036854775808", PRT_UNIT_US, INT64_MIN));
    CHECK(ok_unit("9223372036854.775807", PRT_UNIT_S, INT64_MAX));
    CHECK(bad_unit("9223372036854775808", PRT_UNIT_US)); CHECK(bad_unit("9223372036854.775808", PRT_UNIT_S));
    CHECK(bad_unit("9223372036855", PRT_UNIT_S)); CHECK(bad_unit("99999999999999999999999", PRT_UNIT_S));
    CHECK(bad_unit("1.5", PRT_UNIT_US)); CHECK(bad_unit("1.", PRT_UNIT_S)); CHECK(bad_unit(".5", PRT_UNIT_S));
    CHECK(bad_unit("", PRT_UNIT_S)); CHECK(bad_unit("-", PRT_UNIT_S)); CHECK(bad_unit("1e9", PRT_UNIT_S));
    CHECK(bad_unit(" 1", PRT_UNIT_S)); CHECK(bad_unit("1", 3)); CHECK(bad_unit("1.5x", PRT_UNIT_S));

    CHECK(ok_fmt("01.05.2024 10:07", "%d.%m.%Y %H:%M", utc(2024, 5, 1, 10, 7, 0)));
    CHECK(ok_fmt("1.5.2024 9:07", "%d.%m.%Y %H:%M", utc(2024, 5, 1, 9, 7, 0)));
    CHECK(ok_fmt("20240501103015", "%Y%m%d%H%M%S", utc(2024, 5, 1, 10, 30, 15)));
    CHECK(ok_fmt("01/May/2024:10:00:00 +0200", "%d/%b/%Y:%H:%M:%S %z", utc(2024, 5, 1, 8, 0, 0)));
    CHECK(ok_fmt("01-MAY-24", "%d-%b-%y", utc(2024, 5, 1, 0, 0, 0)));
    CHECK(ok_fmt("01-september-99", "%d-%b-%y", utc(1999, 9, 1, 0, 0, 0)));
    CHECK(ok_fmt("2024-001", "%Y-%j", utc(2024, 1, 1, 0, 0, 0)));
    CHECK(ok_fmt("2024-366", "%Y-%j", utc(2024, 12, 31, 0, 0, 0)));
    CHECK(ok_fmt("12:30 AM", "%I:%M %p", utc(1970, 1, 1, 0, 30, 0)));
    CHECK(ok_fmt("12:30 pm", "%I:%M %p", utc(1970, 1, 1, 12, 30, 0)));
    CHECK(ok_fmt("1:30 PM", "%I:%M %p", utc(1970, 1, 1, 13, 30, 0)));
    CHECK(ok_fmt("10:00:00.25", "%H:%M:%S.%f", utc(1970, 1, 1, 10, 0, 0) + 250000));
    CHECK(ok_fmt("10%", "%H%%", utc(1970, 1, 1, 10, 0, 0)));
    CHECK(ok_fmt("2024-05-01T10:00:00Z", "%Y-%m-%dT%H:%M:%S%z", utc(2024, 5, 1, 10, 0, 0)));
    CHECK(ok_fmt("2024-05-01T10:00:00-01:30", "%Y-%m-%dT%H:%M:%S%z", utc(2024, 5, 1, 11, 30, 0)));
    CHECK(ok_fmt("", "", 0));
    CHECK(bad_fmt("2023-366", "%Y-%j")); CHECK(bad_fmt("2024-367", "%Y-%j")); CHECK(bad_fmt("2024-000", "%Y-%j"));
    CHECK(bad_fmt("30.02.2024", "%d.%m.%Y")); CHECK(bad_fmt("01.05.2024x", "%d.%m.%Y"));
    CHECK(bad_fmt("01.05.2024", "%d.%m.%Y %H")); CHECK(bad_fmt("01-05-2024", "%d.%m.%Y"));
    CHECK(bad_fmt("01-Foo-24", "%d-%b-%y")); CHECK(bad_fmt("13:00 PM", "%I:%M %p")); CHECK(bad_fmt("00:00 AM", "%I:%M %p"));
    CHECK(bad_fmt("24:00", "%H:%M")); CHECK(bad_fmt("10:60", "%H:%M")); CHECK(bad_fmt("1", "%q"));
    CHECK(bad_fmt("1", "%")); CHECK(bad_fmt("10:00:00.", "%H:%M:%S.%f")); CHECK(bad_fmt("x", "%Y"));
    CHECK(prt_parse_date_format(S("01.05.2024"), "%d.%m.%Y", &d) && d == prt_days_from_civil(2024, 5, 1));
    CHECK(prt_parse_date_format(S("May 1, 2024"), "%b %d, %Y", &d) && d == prt_days_from_civil(2024, 5, 1));
    CHECK(!prt_parse_date_format(S("31.04.2024"), "%d.%m.%Y", &d));

    CHECK_STR(tss(0), "1970-01-01T00:00:00Z");
    CHECK_STR(tss(utc(2024, 5, 1, 10, 0, 0)), "2024-05-01T10:00:00Z");
    CHECK_STR(tss(utc(2024, 5, 1, 10, 0, 0) + 500000), "2024-05-01T10:00:00.5Z");
    CHECK_STR(tss(utc(2024, 5, 1, 10, 0, 0) + 123450), "2024-05-01T10:00:00.12345Z");
    CHECK_STR(tss(utc(2024, 5, 1, 10, 0, 0) + 1), "2024-05-01T10:00:00.000001Z");
    CHECK_STR(tss(-1), "1969-12-31T23:59:59.999999Z");
    CHECK_STR(tss(-1000000), "1969-12-31T23:59:59Z");
    CHECK_STR(tss(-86400000000LL), "1969-12-31T00:00:00Z");
    CHECK_STR(tss(utc(1, 1, 1, 0, 0, 0)), "0001-01-01T00:00:00Z");
    CHECK_STR(tss(utc(999, 12, 31, 23, 59, 59)), "0999-12-31T23:59:59Z");
    CHECK_STR(tss(utc(9999, 12, 31, 23, 59, 59) + 999999), "9999-12-31T23:59:59.999999Z");
    CHECK_STR(tss(utc(2024, 2, 29, 12, 34, 56)), "2024-02-29T12:34:56Z");
    CHECK_STR(dates(0), "1970-01-01"); CHECK_STR(dates(-1), "1969-12-31"); CHECK_STR(dates(-719162), "0001-01-01");
    CHECK_STR(dates(2932896), "9999-12-31"); CHECK_STR(dates(19844), "2024-05-01");
    /* Randomized: format then parse gives the same microsecond. */
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        int64_t us = (int64_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % 315537897600000000ULL) - 62135596800000000LL;
        if (i & 1) us -= us % 1000000;
        const char *s = tss(us);
        int64_t back;
        if (!prt_parse_timestamp(s, strlen(s), &back) || back != us) { if (bad++ < 3) fprintf(stderr, "  ts %lld %s\n", (long long)us, s); }
    }
    CHECK_INT(bad, 0);
}

static void test_utf8(void) {
    CHECK(prt_utf8_valid(S("")));
    CHECK(prt_utf8_valid(S("plain ascii text that is longer than eight bytes")));
    CHECK(prt_utf8_valid(S("a\0b")));
    CHECK(prt_utf8_valid(S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80")));
    CHECK(!prt_utf8_valid(S("\xc0\xaf")));           /* overlong '/' */
    CHECK(!prt_utf8_valid(S("\xc1\xbf")));
    CHECK(!prt_utf8_valid(S("\xe0\x80\xaf")));       /* overlong 3-byte */
    CHECK(!prt_utf8_valid(S("\xf0\x80\x80\xaf")));   /* overlong 4-byte */
    CHECK(!prt_utf8_valid(S("\xed\xa0\x80")));       /* U+D800 */
    CHECK(!prt_utf8_valid(S("\xed\xbf\xbf")));       /* U+DFFF */
    CHECK(!prt_utf8_valid(S("\xf4\x90\x80\x80")));   /* U+110000 */
    CHECK(!prt_utf8_valid(S("\xf5\x80\x80\x80")));
    CHECK(!prt_utf8_valid(S("\xff")));
    CHECK(!prt_utf8_valid(S("\x80")));
    CHECK(!prt_utf8_valid(S("abcdefgh\xc3")));       /* truncated at the end */
    CHECK(!prt_utf8_valid(S("\xe2\x82")));
    CHECK(!prt_utf8_valid(S("\xf0\x9f\x98")));
    CHECK(!prt_utf8_valid(S("\xe2\x82x")));
    CHECK(!prt_utf8_valid(S("0123456789abcdef\xe9t\xc3\xa9")));
}

static void test_put_strings(void) {
    CHECK_STR(jsons(S("")), "\"\"");
    CHECK_STR(jsons(S("hello")), "\"hello\"");
    CHECK_STR(jsons(S("a \"quoted\" \\ path/x")), "\"a \\\"quoted\\\" \\\\ path/x\"");
    CHECK_STR(jsons(S("\b\f\n\r\t\x01\x1f\x7f")), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
    CHECK_STR(jsons(S("nul\0byte")), "\"nul\\u0000byte\"");
    CHECK_STR(jsons(S("caf\xc3\xa9 \xf0\x9f\x98\x80 long enough for the word loop")),
              "\"caf\xc3\xa9 \xf0\x9f\x98\x80 long enough for the word loop\"");
    CHECK_STR(jsons(S("\xff")), "\"\xef\xbf\xbd\"");
    CHECK_STR(jsons(S("a\xc3")), "\"a\xef\xbf\xbd\"");
    CHECK_STR(jsons(S("\xe2\x82x")), "\"\xef\xbf\xbdx\"");             /* one U+FFFD per maximal subpart */
    CHECK_STR(jsons(S("\xf0\x9f\x98")), "\"\xef\xbf\xbd\"");
    CHECK_STR(jsons(S("\xed\xa0\x80")), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");   /* surrogate: 3 */
    CHECK_STR(jsons(S("\xc0\xaf")), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK_STR(jsons(S("\xf4\x90\x80\x80")), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK_STR(jsons(S("0123456789\xe0\xa0")), "\"0123456789\xef\xbf\xbd\"");
    /* Every output is valid UTF-8, for random bytes. */
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        char s[64];
        int n = rand() % 64;
        for (int k = 0; k < n; k++) s[k] = (char)(rand() % 4 ? rand() % 256 : 0x80 + rand() % 0x40);
        prt_buf_put_json_str(&B, s, (size_t)n);
        if (!prt_utf8_valid(B.data, B.len)) bad++;
        for (size_t k = 0; k < B.len; k++) if ((unsigned char)B.data[k] < 0x20) bad++;
        B.len = 0;
        prt_buf_put_cell_str(&B, s, (size_t)n);
        if (!prt_utf8_valid(B.data, B.len - 1) || B.data[B.len - 1] != 0) bad++;
        B.len = 0;
    }
    CHECK_INT(bad, 0);

    CHECK_STR(csvs("abc", ','), "abc");
    CHECK_STR(csvs("", ','), "\"\"");
    CHECK_STR(csvs("a,b", ','), "\"a,b\"");
    CHECK_STR(csvs("a,b", ';'), "a,b");
    CHECK_STR(csvs("a;b", ';'), "\"a;b\"");
    CHECK_STR(csvs("say \"hi\"", ','), "\"say \"\"hi\"\"\"");
    CHECK_STR(csvs("\"", ','), "\"\"\"\"");
    CHECK_STR(csvs("two\nlines", ','), "\"two\nlines\"");
    CHECK_STR(csvs("cr\r", ','), "\"cr\r\"");
    CHECK_STR(csvs(" lead", ','), "\" lead\"");
    CHECK_STR(csvs("trail ", ','), "\"trail \"");
    CHECK_STR(csvs("in side", ','), "in side");
    CHECK_STR(csvs("a\tb", '\t'), "\"a\tb\"");

    prt_buf_put_cell_str(&B, S("a\tb\nc\x01\x7f" "d \xc2\x85 \xc3\xa9 \xff!"));
    CHECK(B.len == 19 && memcmp(B.data, "a b c  d   \xc3\xa9 \xef\xbf\xbd!\0", 19) == 0);
    B.len = 0;
    prt_buf_put_cell_str(&B, S(""));
    CHECK(B.len == 1 && B.data[0] == 0);
    B.len = 0;
}

/* ------------------------------------------------------------------------------------------ */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define BENCH(name, iters, body) do { \
    double t0_ = now_ns(); \
    for (long it_ = 0; it_ < (iters); it_++) { body; } \
    printf("%-34s %7.1f ns\n", name, (now_ns() - t0_) / (iters)); \
} while (0)

static volatile int64_t sink_i;
static volatile double sink_d;

static void bench(void) {
    enum { N = 2000000 };
    static const char *ints[] = {"12", "-7", "1234567", "42", "1714557600", "0", "99", "-123456789012"};
    static const char *floats[] = {"12.34", "-0.5", "1234.5678", "3.14159", "100", "0.001", "99.99", "1e5"};
    static const char *longf[] = {"3.141592653589793", "0.30000000000000004", "2.718281828459045", "1.7976931348623157e308"};
    int64_t i64; int32_t i32; double d; bool bl;
    BENCH("prt_parse_i64", N, { prt_parse_i64(ints[it_ & 7], strlen(ints[it_ & 7]), &i64); sink_i += i64; });
    BENCH("prt_parse_i32", N, { prt_parse_i32(ints[it_ & 3], strlen(ints[it_ & 3]), &i32); sink_i += i32; });
    BENCH("prt_parse_bool", N, { prt_parse_bool("true", 4, &bl); sink_i += bl; });
    BENCH("prt_parse_f64 (short)", N, { prt_parse_f64(floats[it_ & 7], strlen(floats[it_ & 7]), &d); sink_d += d; });
    BENCH("prt_parse_f64 (17 digits)", N, { prt_parse_f64(longf[it_ & 3], strlen(longf[it_ & 3]), &d); sink_d += d; });
    BENCH("strtod (short, for reference)", N, { sink_d += strtod(floats[it_ & 7], NULL); });
    BENCH("prt_parse_timestamp (Z)", N, { prt_parse_timestamp("2024-05-01T10:00:00Z", 20, &i64); sink_i += i64; });
    BENCH("prt_parse_timestamp (.ffffff+hh:mm)", N, { prt_parse_timestamp("2024-05-01T10:00:00.123456+02:00", 32, &i64); sink_i += i64; });
    BENCH("prt_parse_timestamp_format", N, { prt_parse_timestamp_format("01.05.2024 10:07", 16, "%d.%m.%Y %H:%M", &i64); sink_i += i64; });
    BENCH("prt_parse_date", N, { prt_parse_date("2024-05-01", 10, &i32); sink_i += i32; });
    prt_buf b = {0};
    static const double fv[] = {12.34, -0.5, 1234.5678, 3.14159, 100, 0.001, 99.99, 1e5};
    BENCH("prt_buf_put_i64", N, { b.len = 0; prt_buf_put_i64(&b, 1714557600LL + it_); });
    BENCH("prt_buf_put_f64 (short)", N, { b.len = 0; prt_buf_put_f64(&b, fv[it_ & 7]); });
    BENCH("prt_buf_put_f64 (1/3)", N, { b.len = 0; prt_buf_put_f64(&b, 1.0 / 3); });
    BENCH("prt_buf_put_f64 (0.1+0.2, 17 digits)", N / 10, { b.len = 0; prt_buf_put_f64(&b, 0.1 + 0.2); });
    BENCH("prt_buf_put_timestamp", N, { b.len = 0; prt_buf_put_timestamp(&b, 1714557600000000LL + it_ * 1000000); });
    BENCH("prt_buf_put_json_str (24 B)", N, { b.len = 0; prt_buf_put_json_str(&b, "hello world, plain ascii", 24); });
    BENCH("prt_buf_put_csv_str (24 B)", N, { b.len = 0; prt_buf_put_csv_str(&b, "hello world, plain ascii", 24, ';'); });
    BENCH("prt_utf8_valid (64 B ascii)", N, { sink_i += prt_utf8_valid("0123456789012345678901234567890123456789012345678901234567890123", 64); });
    prt_buf_free(&b);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return 0;
    }
    srand(12345);
    test_bool_int();
    test_parse_f64();
    test_put_f64();
    test_calendar();
    test_timestamps();
    test_timestamp_heads();
    test_utf8();
    test_put_strings();
    prt_buf_free(&B);
    return check_report();
}
