/* tz_driver.c - test-only driver for tests/suite_tz.py: exposes runtime/rt_tz.c on stdin/stdout.
 * Input lines: "Z NAME" loads a zone (prints "ok" or "error MESSAGE"); any other line is an
 * instant in microseconds, answered by one line
 *   offset_s local_date day_start day_end start3 end3 start7 end7
 * (day_start/day_end from prt_tz_day_start/_end, the others from prt_tz_days_start). Each instant
 * is also asked a second time (a cache hit) and the answers must agree, else the driver aborts. */
#include "pipec_rt.h"
#include "rt_tz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char line[512], err[256];
    prt_tz *z = NULL;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == 'Z' && line[1] == ' ') {
            prt_tz_free(z);
            z = prt_tz_load(line + 2, err, sizeof err);
            if (z) printf("ok\n");
            else printf("error %s\n", err);
            continue;
        }
        if (!z) {
            fprintf(stderr, "no zone loaded\n");
            return 2;
        }
        int64_t us = strtoll(line, NULL, 10), e3, e7, e3b, e7b;
        int32_t off = prt_tz_offset_s(z, us), date = prt_tz_local_date(z, us);
        int64_t s = prt_tz_day_start(z, us), e = prt_tz_day_end(z, us);
        int64_t s3 = prt_tz_days_start(z, us, 3, &e3), s7 = prt_tz_days_start(z, us, 7, &e7);
        if (prt_tz_offset_s(z, us) != off || prt_tz_local_date(z, us) != date ||
            prt_tz_day_start(z, us) != s || prt_tz_day_end(z, us) != e ||
            prt_tz_days_start(z, us, 7, &e7b) != s7 || e7b != e7 ||
            prt_tz_days_start(z, us, 3, &e3b) != s3 || e3b != e3) {
            fprintf(stderr, "cached answer differs at %lld\n", (long long)us);
            return 3;
        }
        printf("%d %d %lld %lld %lld %lld %lld %lld\n", off, date, (long long)s, (long long)e,
               (long long)s3, (long long)e3, (long long)s7, (long long)e7);
    }
    prt_tz_free(z);
    return 0;
}
