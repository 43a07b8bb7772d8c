/* test_rt_expr.c - unit tests of runtime/rt_expr.c and the inline helpers of rt_expr.h: UTF-8
 * string functions (length, substr, lower/upper, trim) including invalid bytes, casts to and from
 * text, float-to-int conversion at the edges, date_trunc and date parts around the epoch, and the
 * counting of overflow and division by zero. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "pipec_rt.h"

static prt_run run;

static prt_str S(const char *s) { return (prt_str){s, (uint32_t)strlen(s)}; }

static bool str_is(prt_str s, const char *want) {
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

#define CHECK_PSTR(got, want) do { \
    prt_str g_ = (got); \
    if (str_is(g_, want)) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: %s\n  got:  \"%.*s\"\n  want: \"%s\"\n", \
                                   __FILE__, __LINE__, #got, (int)g_.n, g_.p, want); } \
} while (0)

static prt_str substr(const char *s, int64_t start, bool has_len, int64_t len) {
    prt_str out = {0};
    if (!prt_str_substr(S(s), start, has_len, len, &out)) return S("<NULL>");
    return out;
}

static void test_utf8(void) {
    CHECK_INT(prt_str_length(S("")), 0);
    CHECK_INT(prt_str_length(S("abc")), 3);
    CHECK_INT(prt_str_length(S("h\xc3\xa9llo")), 5);                 /* héllo */
    CHECK_INT(prt_str_length(S("\xe2\x82\xac\xf0\x9f\x98\x80")), 2);  /* €😀 */
    CHECK_INT(prt_str_length(S("\xff\xfe")), 2);                      /* invalid bytes: one each */
    CHECK_INT(prt_str_length(S("a\xc3")), 2);                         /* truncated sequence */
    CHECK_INT(prt_str_length(S("\xc3\x28")), 2);                      /* bad continuation */

    CHECK_PSTR(substr("h\xc3\xa9llo", 2, true, 2), "\xc3\xa9l");
    CHECK_PSTR(substr("h\xc3\xa9llo", 2, false, 0), "\xc3\xa9llo");
    CHECK_PSTR(substr("\xe2\x82\xac\xf0\x9f\x98\x80x", 2, true, 1), "\xf0\x9f\x98\x80");
    CHECK_PSTR(substr("abc", 0, true, 2), "a");
    CHECK_PSTR(substr("abc", -1, true, 2), "");
    CHECK_PSTR(substr("abc", 4, true, 2), "");
    CHECK_PSTR(substr("abc", 1, true, 0), "");
    CHECK_PSTR(substr("abc", 2, true, INT64_MAX), "bc");
    CHECK_PSTR(substr("abc", INT64_MIN, true, INT64_MAX), "");
    CHECK_PSTR(substr("abc", INT64_MAX, false, 0), "");
    CHECK_PSTR(substr("abc", 1, true, -1), "<NULL>");

    CHECK_PSTR(prt_str_lower(&run, S("HeLLo \xc3\x80\xc3\x89\xc3\x8e")), "hello \xc3\xa0\xc3\xa9\xc3\xae");
    CHECK_PSTR(prt_str_upper(&run, S("stra\xc3\x9f" "e \xc3\xb6")), "STRA\xc3\x9f" "E \xc3\x96");   /* ß stays */
    CHECK_PSTR(prt_str_lower(&run, S("\xc5\x81\xc3\x93" "D\xc5\xb9")), "\xc5\x82\xc3\xb3" "d\xc5\xba");   /* ŁÓDŹ */
    CHECK_PSTR(prt_str_upper(&run, S("\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1")),
               "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91");   /* σοφια -> ΣΟΦΙΑ */
    CHECK_PSTR(prt_str_upper(&run, S("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd1\x91")),
               "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 \xd0\x81");   /* привет ё */
    CHECK_PSTR(prt_str_lower(&run, S("\xd0\x81\xd0\x96")), "\xd1\x91\xd0\xb6");   /* ЁЖ */
    CHECK_PSTR(prt_str_upper(&run, S("\xff" "a\xe2\x82\xac")), "\xff" "A\xe2\x82\xac");   /* invalid, € kept */
    CHECK_PSTR(prt_str_lower(&run, S("")), "");

    CHECK_PSTR(prt_str_trim(S("  a b \t\r\n")), "a b");
    CHECK_PSTR(prt_str_trim(S("   ")), "");
    CHECK_PSTR(prt_str_trim(S("x")), "x");

    CHECK(prt_str_cmp(S("a"), S("b")) < 0);
    CHECK(prt_str_cmp(S("ab"), S("a")) > 0);
    CHECK(prt_str_cmp(S(""), S("")) == 0);
    CHECK(prt_str_cmp(S("\xc3\xa9"), S("z")) > 0);   /* bytewise */
    CHECK_PSTR(prt_str_concat(&run, S("ab"), S("\xc3\xa9")), "ab\xc3\xa9");
    CHECK_PSTR(prt_str_concat(&run, S(""), S("x")), "x");
}

static void test_casts(void) {
    CHECK_PSTR(prt_i64_to_str(&run, INT64_MIN), "-9223372036854775808");
    CHECK_PSTR(prt_f64_to_str(&run, 0.1), "0.1");
    CHECK_PSTR(prt_f64_to_str(&run, NAN), "nan");
    CHECK_PSTR(prt_f64_to_str(&run, -INFINITY), "-inf");
    CHECK_PSTR(prt_bool_to_str(false), "false");
    CHECK_PSTR(prt_ts_to_str(&run, 0), "1970-01-01T00:00:00Z");
    CHECK_PSTR(prt_ts_to_str(&run, -1), "1969-12-31T23:59:59.999999Z");
    CHECK_PSTR(prt_date_to_str(&run, 19782), "2024-02-29");
    CHECK_PSTR(prt_interval_to_str(&run, 0), "00:00:00");
    CHECK_PSTR(prt_interval_to_str(&run, INT64_C(5400000000)), "01:30:00");
    CHECK_PSTR(prt_interval_to_str(&run, -1500000), "-00:00:01.5");
    CHECK_PSTR(prt_interval_to_str(&run, INT64_C(93784000000)), "1 day 02:03:04");
    CHECK_PSTR(prt_interval_to_str(&run, -INT64_C(2) * PRT_US_PER_DAY), "-2 days 00:00:00");
    CHECK(prt_interval_to_str(&run, INT64_MIN).n > 0);

    int32_t i32;
    int64_t i64;
    double f;
    bool b;
    CHECK(prt_str_to_i32(S(" 42 "), &i32) && i32 == 42);
    CHECK(!prt_str_to_i32(S("4 2"), &i32));
    CHECK(!prt_str_to_i32(S("2147483648"), &i32));
    CHECK(prt_str_to_i64(S("-9223372036854775808"), &i64) && i64 == INT64_MIN);
    CHECK(prt_str_to_f64(S("\t2.5e1"), &f) && f == 25.0);
    CHECK(!prt_str_to_f64(S("abc"), &f));
    CHECK(prt_str_to_bool(S("TRUE"), &b) && b);
    CHECK(!prt_str_to_bool(S("maybe"), &b));
    CHECK(prt_str_to_ts(S("2024-05-01T10:00:00Z"), &i64) && i64 == INT64_C(1714557600000000));
    CHECK(!prt_str_to_ts(S("2024-13-01T10:00:00Z"), &i64));
    CHECK(prt_str_to_date(S("1970-01-02"), &i32) && i32 == 1);
    CHECK(prt_str_to_interval(S("1 hour 30 minutes"), &i64) && i64 == INT64_C(5400000000));
    CHECK(prt_str_to_interval(S("500ms"), &i64) && i64 == 500000);
    CHECK(prt_str_to_interval(S("-2 Days"), &i64) && i64 == -2 * PRT_US_PER_DAY);
    CHECK(prt_str_to_interval(S("1.5 h"), &i64) && i64 == INT64_C(5400000000));
    CHECK(!prt_str_to_interval(S("10"), &i64));
    CHECK(!prt_str_to_interval(S("10 lightyears"), &i64));
    CHECK(!prt_str_to_interval(S(""), &i64));
    CHECK(!prt_str_to_interval(S("99999999999 days"), &i64));

    run.stats.overflow = 0;
    CHECK(prt_f64_to_i32(&run, 2147483647.9, &i32) && i32 == INT32_MAX);
    CHECK(prt_f64_to_i32(&run, -2147483648.9, &i32) && i32 == INT32_MIN);
    CHECK(prt_f64_to_i32(&run, -2.7, &i32) && i32 == -2);
    CHECK(!prt_f64_to_i32(&run, 2147483648.0, &i32));
    CHECK(!prt_f64_to_i32(&run, NAN, &i32));
    CHECK(!prt_f64_to_i64(&run, 9223372036854775808.0, &i64));
    CHECK(prt_f64_to_i64(&run, -9223372036854775808.0, &i64) && i64 == INT64_MIN);
    CHECK(!prt_f64_to_i64(&run, INFINITY, &i64));
    CHECK_INT(run.stats.overflow, 4);
    CHECK(!prt_i64_to_i32(&run, INT64_C(1) << 40, &i32));
    CHECK_INT(run.stats.overflow, 5);
}

static void test_arith(void) {
    run.stats.overflow = run.stats.div_zero = 0;
    int32_t a;
    int64_t l;
    double f;
    CHECK(prt_add_i32(&run, 1, 2, &a) && a == 3);
    CHECK(!prt_add_i32(&run, INT32_MAX, 1, &a));
    CHECK(!prt_mul_i64(&run, INT64_MAX, 2, &l));
    CHECK(!prt_sub_i64(&run, INT64_MIN, 1, &l));
    CHECK(!prt_neg_i32(&run, INT32_MIN, &a));
    CHECK(!prt_abs_i64(&run, INT64_MIN, &l));
    CHECK(!prt_div_i32(&run, INT32_MIN, -1, &a));
    CHECK(prt_mod_i32(&run, INT32_MIN, -1, &a) && a == 0);
    CHECK(prt_div_i32(&run, -7, 2, &a) && a == -3);
    CHECK(prt_mod_i32(&run, -7, 2, &a) && a == -1);
    CHECK_INT(run.stats.overflow, 6);
    CHECK_INT(run.stats.div_zero, 0);
    CHECK(!prt_div_i64(&run, 1, 0, &l));
    CHECK(!prt_mod_i64(&run, 1, 0, &l));
    CHECK(!prt_div_f64(&run, 1, 0, &f));
    CHECK(!prt_mod_f64(&run, 1, 0, &f));
    CHECK(prt_mod_f64(&run, -7.5, 2, &f) && f == -1.5);
    CHECK_INT(run.stats.div_zero, 4);
    int32_t d;
    CHECK(prt_date_add(&run, 0, -1, &d) && d == -1);
    CHECK(!prt_date_add(&run, INT32_MAX, 1, &d));
    CHECK(!prt_date_sub(&run, 0, INT64_MIN, &d));
    CHECK_INT(run.stats.overflow, 8);

    CHECK(prt_f64_round(2.5, 0) == 3.0);
    CHECK(prt_f64_round(-0.5, 0) == -1.0);
    CHECK(prt_f64_round(1.005, 1) == 1.0);
    CHECK(prt_f64_round(3.14159, 3) == 3.142);
    CHECK(prt_f64_round(1250, -2) == 1300);
    CHECK(prt_f64_round(1e308, 5) == 1e308);
    CHECK(prt_f64_round(5, -400) == 0);
    CHECK(isnan(prt_f64_round(NAN, 2)));
    CHECK(prt_f64_floor(-0.5) == -1 && prt_f64_ceil(-0.5) == 0 && prt_f64_abs(-2) == 2);
}

static int64_t ts(const char *s) {
    int64_t v = 0;
    prt_parse_timestamp(s, strlen(s), &v);
    return v;
}

static void test_time(void) {
    int64_t t = ts("2024-05-01T10:20:30.5Z");   /* a Wednesday */
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_SECOND), ts("2024-05-01T10:20:30Z"));
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_MINUTE), ts("2024-05-01T10:20:00Z"));
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_HOUR), ts("2024-05-01T10:00:00Z"));
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_DAY), ts("2024-05-01T00:00:00Z"));
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_WEEK), ts("2024-04-29T00:00:00Z"));
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_MONTH), ts("2024-05-01T00:00:00Z"));
    CHECK_INT(prt_ts_trunc(t, PRT_TRUNC_YEAR), ts("2024-01-01T00:00:00Z"));
    /* before the epoch: floor, not truncation toward zero */
    CHECK_INT(prt_ts_trunc(-1, PRT_TRUNC_SECOND), -1000000);
    CHECK_INT(prt_ts_trunc(-1, PRT_TRUNC_DAY), -PRT_US_PER_DAY);
    CHECK_INT(prt_ts_trunc(-1, PRT_TRUNC_WEEK), ts("1969-12-29T00:00:00Z"));
    CHECK_INT(prt_ts_trunc(ts("2024-04-28T23:59:59Z"), PRT_TRUNC_WEEK), ts("2024-04-22T00:00:00Z"));
    CHECK_INT(prt_ts_trunc(INT64_MIN, PRT_TRUNC_DAY), INT64_MIN);   /* no overflow */
    CHECK_INT(prt_ts_part(-1, PRT_PART_HOUR), 23);
    CHECK_INT(prt_ts_part(-1, PRT_PART_MINUTE), 59);
    CHECK_INT(prt_ts_part(-1, PRT_PART_DAY), 31);
    CHECK_INT(prt_ts_part(-1, PRT_PART_MONTH), 12);
    CHECK_INT(prt_ts_part(-1, PRT_PART_YEAR), 1969);
    CHECK_INT(prt_ts_part(t, PRT_PART_HOUR), 10);
    CHECK_INT(prt_ts_part(INT64_MIN, PRT_PART_HOUR) >= 0, 1);
    CHECK_INT(prt_ts_date(-1), -1);
    CHECK_INT(prt_ts_date(t), 19844);
    CHECK_INT(prt_ts_epoch(-1), -1);
    CHECK_INT(prt_ts_epoch(1999999), 1);
    CHECK_INT(prt_date_ts(1), PRT_US_PER_DAY);
    CHECK_INT(prt_date_ts(INT32_MAX), INT64_MAX);
    CHECK_INT(prt_date_ts(INT32_MIN), INT64_MIN);
}

int main(void) {
    test_utf8();
    test_casts();
    test_arith();
    test_time();
    prt_arena_free(&run.scratch);
    return check_report();
}
