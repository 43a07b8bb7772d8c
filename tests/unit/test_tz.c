/* test_tz.c - unit tests of rt_tz.c: known offsets, local dates and day windows of real zones from
 * the system tz database (DST days of 23/25 hours, 30-minute DST, +05:45, a skipped date, midnight
 * in a DST gap, far past and far future through the footer rule and its 400-year repetition), and
 * hand-built TZif files in a temporary $TZDIR for the reader (v1, v3 footers with negative, >24h,
 * Jn and n rules, permanent DST, corrupt files). `bench` as argv[1] prints ns per call instead. */
#include "pipec_rt.h"
#include "rt_tz.h"
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define H (INT64_C(3600) * 1000000)
#define DAY (24 * H)

/* An RFC 3339 instant in microseconds (the test's own strings are always valid). */
static int64_t T(const char *s) {
    int64_t us = 0;
    if (!prt_parse_timestamp(s, strlen(s), &us)) {
        fprintf(stderr, "bad test timestamp %s\n", s);
        abort();
    }
    return us;
}

static prt_tz *load(const char *name) {
    char err[256];
    prt_tz *z = prt_tz_load(name, err, sizeof err);
    if (!z) fprintf(stderr, "load %s: %s\n", name, err);
    return z;
}

/* Checks the day window of `at` is [start, end) and its properties. */
#define CHECK_DAY(z, at, start, end) do { \
    int64_t u_ = T(at); \
    CHECK_INT(prt_tz_day_start((z), u_), T(start)); \
    CHECK_INT(prt_tz_day_end((z), u_), T(end)); \
    CHECK_INT(prt_tz_days_start((z), u_, 1, NULL), T(start)); \
    CHECK_INT(prt_tz_day_start((z), T(start)), T(start)); \
    CHECK_INT(prt_tz_day_end((z), T(end) - 1), T(end)); \
    CHECK_INT(prt_tz_day_start((z), T(end)), T(end)); \
} while (0)

static void test_new_york(void) {
    prt_tz *z = load("America/New_York");
    CHECK(z != NULL);
    if (!z) return;
    CHECK_STR(prt_tz_name(z), "America/New_York");
    /* 2024-03-10: 23 hours; 2024-11-03: 25 hours */
    CHECK_DAY(z, "2024-03-10T12:00:00Z", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z");
    CHECK_INT(prt_tz_day_end(z, T("2024-03-10T12:00:00Z")) - prt_tz_day_start(z, T("2024-03-10T12:00:00Z")), 23 * H);
    CHECK_DAY(z, "2024-11-03T12:00:00Z", "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z");
    CHECK_INT(prt_tz_day_end(z, T("2024-11-03T05:59:59Z")) - prt_tz_day_start(z, T("2024-11-03T05:59:59Z")), 25 * H);
    /* the transitions themselves, to the microsecond */
    CHECK_INT(prt_tz_offset_s(z, T("2024-03-10T06:59:59.999999Z")), -5 * 3600);
    CHECK_INT(prt_tz_offset_s(z, T("2024-03-10T07:00:00Z")), -4 * 3600);
    CHECK_INT(prt_tz_offset_s(z, T("2024-11-03T05:59:59.999999Z")), -4 * 3600);
    CHECK_INT(prt_tz_offset_s(z, T("2024-11-03T06:00:00Z")), -5 * 3600);
    CHECK_INT(prt_tz_local_date(z, T("2024-03-10T04:59:59.999999Z")), prt_days_from_civil(2024, 3, 9));
    CHECK_INT(prt_tz_local_date(z, T("2024-03-10T05:00:00Z")), prt_days_from_civil(2024, 3, 10));
    /* 7-day blocks from local 1970-01-01 (a Thursday) */
    int64_t end = 0;
    CHECK_INT(prt_tz_days_start(z, T("2024-03-10T12:00:00Z"), 7, &end), T("2024-03-07T05:00:00Z"));
    CHECK_INT(end, T("2024-03-14T04:00:00Z"));
    CHECK_INT(prt_tz_days_start(z, T("2024-03-14T03:59:59Z"), 7, &end), T("2024-03-07T05:00:00Z"));
    CHECK_INT(prt_tz_days_start(z, T("2024-03-14T04:00:00Z"), 7, &end), T("2024-03-14T04:00:00Z"));
    CHECK_INT(end, T("2024-03-21T04:00:00Z"));
    CHECK_INT(prt_tz_days_start(z, T("2024-03-10T12:00:00Z"), 0, &end), T("2024-03-10T05:00:00Z"));
    CHECK_INT(end, T("2024-03-11T04:00:00Z"));
    /* far past: local mean time -4:56:02 before 1883 */
    CHECK_INT(prt_tz_offset_s(z, T("1800-01-01T12:00:00Z")), -17762);
    CHECK_DAY(z, "1800-01-01T12:00:00Z", "1800-01-01T04:56:02Z", "1800-01-02T04:56:02Z");
    /* far future through the footer rule (M3.2.0, M11.1.0) */
    CHECK_DAY(z, "2100-03-14T12:00:00Z", "2100-03-14T05:00:00Z", "2100-03-15T04:00:00Z");
    CHECK_DAY(z, "2100-11-07T12:00:00Z", "2100-11-07T04:00:00Z", "2100-11-08T05:00:00Z");
    CHECK_INT(prt_tz_offset_s(z, T("9000-07-01T12:00:00Z")), -4 * 3600);
    CHECK_DAY(z, "9000-07-01T12:00:00Z", "9000-07-01T04:00:00Z", "9000-07-02T04:00:00Z");
    /* 2500-03-14 is the second Sunday of March 2500; 400 years on, 2900-03-14 is too */
    CHECK_DAY(z, "2500-03-14T12:00:00Z", "2500-03-14T05:00:00Z", "2500-03-15T04:00:00Z");
    CHECK_DAY(z, "2900-03-14T12:00:00Z", "2900-03-14T05:00:00Z", "2900-03-15T04:00:00Z");
    /* the ends of the int64 range do not crash or wrap */
    CHECK(prt_tz_day_start(z, INT64_MAX) <= INT64_MAX);
    CHECK(prt_tz_day_start(z, INT64_MIN) == INT64_MIN);
    CHECK(prt_tz_day_end(z, INT64_MIN) > INT64_MIN);
    CHECK(prt_tz_local_date(z, INT64_MAX) > 0 && prt_tz_local_date(z, INT64_MIN) < 0);
    prt_tz_free(z);
}

static void test_europe_and_odd_offsets(void) {
    prt_tz *z = load("Europe/Berlin");
    CHECK(z != NULL);
    if (z) {
        CHECK_DAY(z, "2024-03-31T12:00:00Z", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z");
        CHECK_DAY(z, "2024-10-27T12:00:00Z", "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z");
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-27T00:59:59Z")), 7200);
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-27T01:00:00Z")), 3600);
        CHECK_INT(prt_tz_local_date(z, T("2024-10-26T22:00:00Z")), prt_days_from_civil(2024, 10, 27));
        prt_tz_free(z);
    }
    z = load("Australia/Lord_Howe");   /* +10:30, DST +11:00 */
    CHECK(z != NULL);
    if (z) {
        CHECK_DAY(z, "2024-10-06T00:00:00Z", "2024-10-05T13:30:00Z", "2024-10-06T13:00:00Z");   /* 23.5 h */
        CHECK_DAY(z, "2024-04-07T00:00:00Z", "2024-04-06T13:00:00Z", "2024-04-07T13:30:00Z");   /* 24.5 h */
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-06T00:00:00Z")), 39600);
        CHECK_INT(prt_tz_offset_s(z, T("2024-04-07T00:00:00Z")), 37800);
        prt_tz_free(z);
    }
    z = load("Asia/Kathmandu");   /* +05:30, then +05:45 from 1986 */
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, T("2024-05-01T00:00:00Z")), 20700);
        CHECK_INT(prt_tz_offset_s(z, T("1980-05-01T00:00:00Z")), 19800);
        CHECK_DAY(z, "2024-05-01T00:00:00Z", "2024-04-30T18:15:00Z", "2024-05-01T18:15:00Z");
        CHECK_DAY(z, "1980-05-01T00:00:00Z", "1980-04-30T18:30:00Z", "1980-05-01T18:30:00Z");
        prt_tz_free(z);
    }
}

static void test_missing_midnights(void) {
    /* Pacific/Apia skipped 2011-12-30: Thursday 29th 23:59:59 (-10) was followed by Saturday 31st
     * 00:00 (+14). The 29th ends at the jump, the 31st starts there; the 30th is empty. */
    prt_tz *z = load("Pacific/Apia");
    CHECK(z != NULL);
    if (z) {
        CHECK_DAY(z, "2011-12-29T12:00:00Z", "2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z");
        CHECK_DAY(z, "2011-12-30T10:00:00Z", "2011-12-30T10:00:00Z", "2011-12-31T10:00:00Z");
        CHECK_INT(prt_tz_local_date(z, T("2011-12-30T09:59:59Z")), prt_days_from_civil(2011, 12, 29));
        CHECK_INT(prt_tz_local_date(z, T("2011-12-30T10:00:00Z")), prt_days_from_civil(2011, 12, 31));
        CHECK_INT(prt_tz_offset_s(z, T("2011-12-30T10:00:00Z")), 14 * 3600);
        int64_t end = 0;   /* 3-day blocks: 15336..15338 (Dec 28-30), 15339.. (Dec 31-) */
        CHECK_INT(prt_tz_days_start(z, T("2011-12-30T09:00:00Z"), 3, &end), T("2011-12-28T10:00:00Z"));
        CHECK_INT(end, T("2011-12-30T10:00:00Z"));
        CHECK_INT(prt_tz_days_start(z, T("2011-12-30T10:00:00Z"), 3, &end), T("2011-12-30T10:00:00Z"));
        prt_tz_free(z);
    }
    /* America/Santiago: clocks go from 00:00 to 01:00 (footer M9.1.6/24), so the day starts at
     * 01:00 -03 */
    z = load("America/Santiago");
    CHECK(z != NULL);
    if (z) {
        CHECK_DAY(z, "2024-09-08T12:00:00Z", "2024-09-08T04:00:00Z", "2024-09-09T03:00:00Z");
        CHECK_DAY(z, "2124-09-03T12:00:00Z", "2124-09-03T04:00:00Z", "2124-09-04T03:00:00Z");
        prt_tz_free(z);
    }
    z = load("America/Havana");   /* CST5CDT,M3.2.0/0,M11.1.0/1 */
    CHECK(z != NULL);
    if (z) {
        CHECK_DAY(z, "2024-03-10T12:00:00Z", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z");
        prt_tz_free(z);
    }
    z = load("Asia/Beirut");   /* DST from 00:00 on the last Sunday of March */
    CHECK(z != NULL);
    if (z) {
        CHECK_DAY(z, "2010-03-28T12:00:00Z", "2010-03-27T22:00:00Z", "2010-03-28T21:00:00Z");
        prt_tz_free(z);
    }
}

static void test_utc(void) {
    const char *names[] = {"UTC", "Etc/UTC", "Z"};
    for (int i = 0; i < 3; i++) {
        prt_tz *z = load(names[i]);
        CHECK(z != NULL);
        if (!z) continue;
        CHECK_INT(prt_tz_offset_s(z, 0), 0);
        CHECK_INT(prt_tz_day_start(z, 0), 0);
        CHECK_INT(prt_tz_day_end(z, 0), DAY);
        CHECK_INT(prt_tz_day_start(z, -1), -DAY);
        CHECK_INT(prt_tz_day_end(z, -1), 0);
        CHECK_INT(prt_tz_local_date(z, -1), -1);
        CHECK_DAY(z, "2024-02-29T23:59:59.999999Z", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z");
        int64_t end = 0;
        CHECK_INT(prt_tz_days_start(z, 0, 7, &end), 0);
        CHECK_INT(end, 7 * DAY);
        CHECK_INT(prt_tz_days_start(z, -1, 7, &end), -7 * DAY);
        CHECK_INT(end, 0);
        CHECK_INT(prt_tz_days_start(z, T("2024-05-01T10:00:00Z"), 10, &end), 19840 * DAY);
        CHECK_INT(end, 19850 * DAY);
        prt_tz_free(z);
    }
}

static void test_errors(void) {
    char err[256];
    CHECK(prt_tz_load("Mars/Base", err, sizeof err) == NULL);
    CHECK_STR(err, "unknown time zone 'Mars/Base'");
    const char *bad[] = {"../etc/passwd", "/etc/localtime", "America/../Europe/Berlin", "",
                         "America/New York", "Europe/Berlin\n", "America/", "a//b", "zone.tab"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        CHECK(prt_tz_load(bad[i], err, sizeof err) == NULL);
        CHECK(strncmp(err, "invalid time zone name", 22) == 0);
    }
    CHECK(prt_tz_load("America", err, sizeof err) == NULL);   /* a directory */
    CHECK_STR(err, "unknown time zone 'America'");
    CHECK(prt_tz_load(NULL, err, sizeof err) == NULL);
    CHECK(prt_tz_load("Mars/Base", NULL, 0) == NULL);   /* no message buffer */
    char tiny[8];
    CHECK(prt_tz_load("Mars/Base", tiny, sizeof tiny) == NULL);
    CHECK_STR(tiny, "unknown");
    prt_tz_free(NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Hand-built TZif files                                                                        */

static char tzdir[64];

static void put32(uint8_t **p, uint32_t v) {
    (*p)[0] = (uint8_t)(v >> 24); (*p)[1] = (uint8_t)(v >> 16); (*p)[2] = (uint8_t)(v >> 8); (*p)[3] = (uint8_t)v;
    *p += 4;
}

/* Writes TZDIR/name: version 0 (v1 only) or '2'/'3'; transitions, types (offsets), footer. */
static void write_tzif(const char *name, char ver, int n, const int64_t *times, const uint8_t *idx,
                       int ntypes, const int32_t *offs, const char *footer) {
    static uint8_t buf[8192];
    uint8_t *p = buf;
    for (int pass = 0; pass < (ver ? 2 : 1); pass++) {
        int w = pass ? 8 : 4;
        memcpy(p, "TZif", 4);
        p[4] = (uint8_t)ver;
        memset(p + 5, 0, 15);
        p += 20;
        put32(&p, 0); put32(&p, 0); put32(&p, 0);
        put32(&p, (uint32_t)n); put32(&p, (uint32_t)ntypes); put32(&p, 2);
        for (int i = 0; i < n; i++) {
            if (w == 8) { put32(&p, (uint32_t)((uint64_t)times[i] >> 32)); }
            put32(&p, (uint32_t)times[i]);
        }
        for (int i = 0; i < n; i++) *p++ = idx[i];
        for (int i = 0; i < ntypes; i++) {
            put32(&p, (uint32_t)offs[i]);
            *p++ = 0;
            *p++ = 0;
        }
        *p++ = 'X';
        *p++ = 0;
    }
    if (ver) p += sprintf((char *)p, "\n%s\n", footer);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tzdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(buf, 1, (size_t)(p - buf), f);
    fclose(f);
}

static void write_raw(const char *name, const void *data, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tzdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data, 1, n, f);
    fclose(f);
}

static void test_tzif_files(void) {
    snprintf(tzdir, sizeof tzdir, "/tmp/pipec-tz-XXXXXX");
    if (!mkdtemp(tzdir)) {
        CHECK(!"mkdtemp");
        return;
    }
    setenv("TZDIR", tzdir, 1);   /* test process only */
    char err[256];
    prt_tz *z;

    /* v1: +01:00, +02:00 from 1e9 s, back to +01:00 at 1.01e9 s; the last type then holds */
    int64_t t1[] = {1000000000, 1010000000};
    uint8_t i1[] = {1, 0};
    int32_t o1[] = {3600, 7200};
    write_tzif("V1", 0, 2, t1, i1, 2, o1, NULL);
    z = prt_tz_load("V1", err, sizeof err);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, 999999999 * INT64_C(1000000) + 999999), 3600);
        CHECK_INT(prt_tz_offset_s(z, 1000000000 * INT64_C(1000000)), 7200);
        CHECK_INT(prt_tz_offset_s(z, 1010000000 * INT64_C(1000000) - 1), 7200);
        CHECK_INT(prt_tz_offset_s(z, 1010000000 * INT64_C(1000000)), 3600);
        CHECK_INT(prt_tz_offset_s(z, T("2400-01-01T00:00:00Z")), 3600);
        CHECK_INT(prt_tz_offset_s(z, T("1000-01-01T00:00:00Z")), 3600);
        prt_tz_free(z);
    }

    /* v3, no transitions, footer with a negative rule time (America/Nuuk): DST starts on the
     * Saturday before the last Sunday of March at 23:00 -02 and ends on the last Sunday of
     * October at 00:00 -01; all instants, past and future, follow the rule */
    int32_t o2[] = {-7200};
    write_tzif("Neg", '3', 0, NULL, NULL, 1, o2, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    z = prt_tz_load("Neg", err, sizeof err);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, T("2024-03-31T00:59:59Z")), -7200);
        CHECK_INT(prt_tz_offset_s(z, T("2024-03-31T01:00:00Z")), -3600);
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-27T00:59:59Z")), -3600);
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-27T01:00:00Z")), -7200);
        /* 2024-03-30 (Saturday) is 23 h long, its end at 2024-03-31 00:00 -01 */
        CHECK_DAY(z, "2024-03-30T12:00:00Z", "2024-03-30T02:00:00Z", "2024-03-31T01:00:00Z");
        /* 1624 and 2424 repeat 2024's calendar */
        CHECK_INT(prt_tz_offset_s(z, T("1624-03-31T01:00:00Z")), -3600);
        CHECK_INT(prt_tz_offset_s(z, T("1624-03-31T00:59:59Z")), -7200);
        CHECK_INT(prt_tz_offset_s(z, T("2424-03-31T01:00:00Z")), -3600);
        CHECK_INT(prt_tz_offset_s(z, T("2424-03-31T00:59:59Z")), -7200);
        CHECK_DAY(z, "1624-03-30T12:00:00Z", "1624-03-30T02:00:00Z", "1624-03-31T01:00:00Z");
        prt_tz_free(z);
    }

    /* Jn never counts Feb 29, n does; times above 24 h. "A" is +01, "B" +02 from J60 (Mar 1)
     * at 25:00 (Mar 2 01:00 +01 = 00:00Z) to day 300 (0-based) at 02:00 +02 */
    int32_t o3[] = {3600};
    write_tzif("Jul", '3', 0, NULL, NULL, 1, o3, "AAA-1BBB,J60/25,300");
    z = prt_tz_load("Jul", err, sizeof err);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, T("2024-03-01T23:59:59Z")), 3600);
        CHECK_INT(prt_tz_offset_s(z, T("2024-03-02T00:00:00Z")), 7200);
        CHECK_INT(prt_tz_offset_s(z, T("2023-03-01T23:59:59Z")), 3600);
        CHECK_INT(prt_tz_offset_s(z, T("2023-03-02T00:00:00Z")), 7200);
        /* day 300: 2024-10-27 (leap year), 2023-10-28 */
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-26T23:59:59Z")), 7200);
        CHECK_INT(prt_tz_offset_s(z, T("2024-10-27T00:00:00Z")), 3600);
        CHECK_INT(prt_tz_offset_s(z, T("2023-10-27T23:59:59Z")), 7200);
        CHECK_INT(prt_tz_offset_s(z, T("2023-10-28T00:00:00Z")), 3600);
        /* on Mar 2, 01:00 +01 became 02:00 +02: a 23-hour day */
        CHECK_DAY(z, "2024-03-02T12:00:00Z", "2024-03-01T23:00:00Z", "2024-03-02T22:00:00Z");
        prt_tz_free(z);
    }

    /* permanent DST as tzcode writes it: DST all year, also across New Year */
    int32_t o4[] = {-18000, -14400};
    int64_t t4[] = {0};
    uint8_t i4[] = {1};
    write_tzif("Perm", '3', 1, t4, i4, 2, o4, "EST5EDT4,0/0,J365/25");
    z = prt_tz_load("Perm", err, sizeof err);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, -1), -18000);
        const char *at[] = {"1970-06-01T00:00:00Z", "2023-12-31T23:59:59Z", "2024-01-01T04:00:00Z",
                            "2024-01-01T05:00:00Z", "2024-12-31T23:00:00Z", "2100-01-01T04:30:00Z",
                            "3000-01-01T05:00:00Z"};
        for (size_t i = 0; i < sizeof at / sizeof *at; i++) CHECK_INT(prt_tz_offset_s(z, T(at[i])), -14400);
        CHECK_DAY(z, "2024-01-01T12:00:00Z", "2024-01-01T04:00:00Z", "2024-01-02T04:00:00Z");
        prt_tz_free(z);
    }

    /* footer without DST after explicit transitions; <+0545>-5:45 syntax */
    int32_t o5[] = {19800, 20700};
    int64_t t5[] = {504901800};
    uint8_t i5[] = {1};
    write_tzif("Npt", '2', 1, t5, i5, 2, o5, "<+0545>-5:45");
    z = prt_tz_load("Npt", err, sizeof err);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, 504901799 * INT64_C(1000000)), 19800);
        CHECK_INT(prt_tz_offset_s(z, 504901800 * INT64_C(1000000)), 20700);
        CHECK_INT(prt_tz_offset_s(z, T("5000-01-01T00:00:00Z")), 20700);
        prt_tz_free(z);
    }

    /* corrupt and unusual files */
    write_raw("Text", "hello, world\n", 13);
    CHECK(prt_tz_load("Text", err, sizeof err) == NULL);
    CHECK(strstr(err, "not a TZif file") != NULL);
    write_raw("Empty", "", 0);
    CHECK(prt_tz_load("Empty", err, sizeof err) == NULL);
    CHECK(strstr(err, "not a TZif file") != NULL);
    uint8_t i6[] = {3};
    write_tzif("BadIdx", '2', 1, t5, i6, 2, o5, "<+0545>-5:45");
    CHECK(prt_tz_load("BadIdx", err, sizeof err) == NULL);
    CHECK(strstr(err, "bad type index") != NULL);
    int64_t t7[] = {10, 5};
    uint8_t i7[] = {1, 0};
    write_tzif("Order", '2', 2, t7, i7, 2, o5, "");
    CHECK(prt_tz_load("Order", err, sizeof err) == NULL);
    CHECK(strstr(err, "out of order") != NULL);
    write_tzif("BadFoot", '2', 1, t5, i5, 2, o5, "EST5EDT,M13.1.0,M11.1.0");
    CHECK(prt_tz_load("BadFoot", err, sizeof err) == NULL);
    CHECK(strstr(err, "bad footer") != NULL);
    write_tzif("BadFoot2", '2', 1, t5, i5, 2, o5, "EST5EDT,M3.2.0/168,M11.1.0");
    CHECK(prt_tz_load("BadFoot2", err, sizeof err) == NULL);
    int32_t o8[] = {100000};
    write_tzif("BigOff", '2', 0, NULL, NULL, 1, o8, "");
    CHECK(prt_tz_load("BigOff", err, sizeof err) == NULL);
    CHECK(strstr(err, "out of range") != NULL);
    /* every truncation of a valid file is rejected, never read past its end */
    write_tzif("Whole", '3', 1, t4, i4, 2, o4, "EST5EDT4,0/0,J365/25");
    char path[256];
    snprintf(path, sizeof path, "%s/Whole", tzdir);
    FILE *f = fopen(path, "rb");
    static uint8_t whole[8192];
    size_t wn = f ? fread(whole, 1, sizeof whole, f) : 0;
    if (f) fclose(f);
    int rejected = 0;
    for (size_t k = 0; k < wn; k++) {
        write_raw("Cut", whole, k);
        prt_tz *c = prt_tz_load("Cut", err, sizeof err);
        rejected += c == NULL;
        prt_tz_free(c);
    }
    CHECK_INT(rejected, (long long)wn);
    /* an empty footer: the last type holds after the last transition */
    write_tzif("NoFoot", '2', 1, t5, i5, 2, o5, "");
    z = prt_tz_load("NoFoot", err, sizeof err);
    CHECK(z != NULL);
    if (z) {
        CHECK_INT(prt_tz_offset_s(z, T("3000-01-01T00:00:00Z")), 20700);
        prt_tz_free(z);
    }

    /* clean up */
    const char *files[] = {"V1", "Neg", "Jul", "Perm", "Npt", "Text", "Empty", "BadIdx", "Order",
                           "BadFoot", "BadFoot2", "BigOff", "Whole", "Cut", "NoFoot"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", tzdir, files[i]);
        unlink(path);
    }
    rmdir(tzdir);
    unsetenv("TZDIR");
}

/* ------------------------------------------------------------------------------------------ */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bench(void) {
    const char *zones[] = {"America/New_York", "Europe/Berlin", "America/Santiago", "UTC"};
    enum { N = 1 << 22 };
    static int64_t xs[1 << 16];
    uint64_t r = 88172645463325252u;
    for (int i = 0; i < (1 << 16); i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        xs[i] = T("1990-01-01T00:00:00Z") + (int64_t)(r % (uint64_t)(60 * 365 * DAY));
    }
    for (size_t zi = 0; zi < sizeof zones / sizeof *zones; zi++) {
        prt_tz *z = load(zones[zi]);
        if (!z) return 1;
        int64_t sink = 0, base = T("2024-03-10T12:00:00Z");
        double t0 = now_ns();
        for (int i = 0; i < N; i++) sink += prt_tz_day_start(z, base + (i & 1023) * 1000);   /* same day */
        double t1 = now_ns();
        for (int i = 0; i < N; i++) sink += prt_tz_day_start(z, xs[i & 0xffff]);   /* a new day each call */
        double t2 = now_ns();
        for (int i = 0; i < N; i++) sink += prt_tz_offset_s(z, xs[i & 0xffff]);
        double t3 = now_ns();
        for (int i = 0; i < N; i++) sink += prt_tz_days_start(z, xs[i & 0xffff], 7, NULL);
        double t4 = now_ns();
        /* a sorted stream: one record every 10 s */
        for (int i = 0; i < N; i++) sink += prt_tz_day_start(z, base + (int64_t)i * 10000000);
        double t5 = now_ns();
        printf("%-18s day_start cached %5.1f ns, uncached %5.1f ns, offset uncached %5.1f ns, "
               "7-day uncached %5.1f ns, stream %5.1f ns (%lld)\n", zones[zi], (t1 - t0) / N,
               (t2 - t1) / N, (t3 - t2) / N, (t4 - t3) / N, (t5 - t4) / N, (long long)(sink & 1));
        prt_tz_free(z);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "bench") == 0) return bench();
    test_new_york();
    test_europe_and_odd_offsets();
    test_missing_midnights();
    test_utc();
    test_errors();
    test_tzif_files();
    return check_report();
}
