/* test_csv.c - unit tests of prt_csv_split (rt_csv.c): plain and quoted fields, doubled quotes,
 * delimiters and newlines inside quotes, lenient inner quotes, errors, counting past `max`; random
 * records against a byte-by-byte reference (the sixteen-byte path and the general one).
 * `bench` as argv[1] prints ns per record instead. */
#include "pipec_rt.h"
#include "check.h"
#include <stdio.h>
#include <time.h>

static prt_arena A;
static prt_field F[16];
static const char *E;

static int split(const char *s, char delim) {
    E = NULL;
    return prt_csv_split(s, strlen(s), delim, '"', F, 16, &A, &E);
}

static bool field_is(int i, const char *want, bool quoted) {
    return F[i].n == strlen(want) && memcmp(F[i].p, want, F[i].n) == 0 && F[i].quoted == quoted;
}

static void test_split(void) {
    CHECK_INT(split("a,b,c", ','), 3);
    CHECK(field_is(0, "a", false) && field_is(1, "b", false) && field_is(2, "c", false));
    CHECK_INT(split("", ','), 1);
    CHECK(field_is(0, "", false));
    CHECK_INT(split(",", ','), 2);
    CHECK(field_is(0, "", false) && field_is(1, "", false));
    CHECK_INT(split("a,", ','), 2);
    CHECK(field_is(1, "", false));
    CHECK_INT(split("\"\",x", ','), 2);
    CHECK(field_is(0, "", true) && field_is(1, "x", false));
    CHECK_INT(split("\"a,b\",\"c\"", ','), 2);
    CHECK(field_is(0, "a,b", true) && field_is(1, "c", true));
    const char *rec = "x,\"plain quoted\",y";
    CHECK_INT(prt_csv_split(rec, strlen(rec), ',', '"', F, 16, &A, &E), 3);
    CHECK(F[1].p == rec + 3);   /* no copy without doubled quotes */
    CHECK_INT(split("\"say \"\"hi\"\"\",2", ','), 2);
    CHECK(field_is(0, "say \"hi\"", true) && field_is(1, "2", false));
    CHECK_INT(split("\"\"\"\"", ','), 1);
    CHECK(field_is(0, "\"", true));
    CHECK_INT(split("\"two\nlines\r\nhere\",z", ','), 2);
    CHECK(field_is(0, "two\nlines\r\nhere", true));
    CHECK_INT(split("ab\"c,d\"", ','), 2);   /* quotes inside unquoted fields are literal */
    CHECK(field_is(0, "ab\"c", false) && field_is(1, "d\"", false));
    CHECK_INT(split(" \"a\",b", ','), 2);   /* a leading space makes the field unquoted */
    CHECK(field_is(0, " \"a\"", false));
    CHECK_INT(split("a;b,c;\"d;e\"", ';'), 3);
    CHECK(field_is(0, "a", false) && field_is(1, "b,c", false) && field_is(2, "d;e", true));
    CHECK_INT(split("a\tb\t", '\t'), 3);
    CHECK(field_is(2, "", false));
    CHECK_INT(split("\"x\",", ','), 2);
    CHECK(field_is(0, "x", true) && field_is(1, "", false));
    CHECK_INT(prt_csv_split("'a''b',c", 8, ',', '\'', F, 16, &A, &E), 2);   /* another quote char */
    CHECK(field_is(0, "a'b", true));
    CHECK_INT(split("caf\xc3\xa9,\xff", ','), 2);   /* bytes pass through */

    CHECK_INT(split("\"abc", ','), -1);
    CHECK_STR(E, "unterminated quote");
    CHECK_INT(split("a,\"b\"\"", ','), -1);
    CHECK_STR(E, "unterminated quote");
    CHECK_INT(split("\"", ','), -1);
    CHECK_INT(split("\"a\"b,c", ','), -1);
    CHECK_STR(E, "text after closing quote");
    CHECK_INT(split("\"a\" ,c", ','), -1);
    CHECK_STR(E, "text after closing quote");

    /* More fields than max: all are counted, only max stored. */
    prt_field few[2];
    few[1].p = NULL;
    CHECK_INT(prt_csv_split("1,2,\"3\"\"\",4,5", 13, ',', '"', few, 2, &A, &E), 5);
    CHECK(few[0].n == 1 && few[1].n == 1 && few[1].p[0] == '2');
    CHECK_INT(prt_csv_split("1,2,\"3", 6, ',', '"', few, 2, &A, &E), -1);   /* errors still found */
    CHECK_INT(prt_csv_split("a,b", 3, ',', '"', NULL, 0, &A, &E), 2);

    /* Not NUL-terminated: the split stops at n. */
    CHECK_INT(prt_csv_split("a,b,c", 3, ',', '"', F, 16, &A, &E), 2);
    CHECK(field_is(1, "b", false));
    CHECK_INT(prt_csv_split("\"a\"\"", 3, ',', '"', F, 16, &A, &E), 1);   /* "a" then stop */
    CHECK(field_is(0, "a", true));
    prt_arena_reset(&A);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void bench(void) {
    static const char *recs[] = {
        "e1,2024-05-01T10:00:00Z,1,view,7,-3.5,1",
        "e2,2024-05-01T10:00:01Z,1,purchase,7,3.5,2",
        "e3,2024-05-01T10:00:02Z,42,\"add to cart, then leave\",7,12.25,3",
        "e4,2024-05-01T10:00:03Z,17,\"a \"\"quoted\"\" word\",9,0.99,1",
    };
    size_t len[4];
    for (int i = 0; i < 4; i++) len[i] = strlen(recs[i]);
    enum { N = 4000000 };
    volatile int sink = 0;
    double t0 = now_ns();
    for (long i = 0; i < N; i++) {
        sink += prt_csv_split(recs[i & 1], len[i & 1], ',', '"', F, 16, &A, &E);
    }
    printf("%-34s %7.1f ns/record\n", "prt_csv_split (7 plain fields)", (now_ns() - t0) / N);
    t0 = now_ns();
    for (long i = 0; i < N; i++) {
        sink += prt_csv_split(recs[2 + (i & 1)], len[2 + (i & 1)], ',', '"', F, 16, &A, &E);
        if ((i & 1023) == 0) prt_arena_reset(&A);
    }
    printf("%-34s %7.1f ns/record\n", "prt_csv_split (7 fields, quoted)", (now_ns() - t0) / N);
}

/* The splitter's rules restated byte by byte, as the reference for the random test: fields as
 * (bytes, quoted), -1 for malformed quoting. */
typedef struct ref_field {
    char text[96];
    uint32_t n;
    bool quoted;
} ref_field;

static int ref_split(const char *rec, size_t n, char delim, char quote, ref_field *out, int max) {
    size_t p = 0;
    int count = 0;
    for (;;) {
        ref_field f = {{0}, 0, false};
        bool last;
        size_t next = 0;
        if (p < n && rec[p] == quote) {
            size_t q = p + 1;
            f.quoted = true;
            for (;;) {
                while (q < n && rec[q] != quote) f.text[f.n++] = rec[q++];
                if (q == n) return -1;
                if (q + 1 < n && rec[q + 1] == quote) {
                    f.text[f.n++] = quote;
                    q += 2;
                    continue;
                }
                break;
            }
            if (q + 1 == n) last = true;
            else if (rec[q + 1] == delim) last = false, next = q + 2;
            else return -1;
        } else {
            size_t d = p;
            while (d < n && rec[d] != delim) f.text[f.n++] = rec[d++];
            last = d == n;
            next = d + 1;
        }
        if (count < max) out[count] = f;
        count++;
        if (last) return count;
        p = next;
    }
}

/* Random records over a small alphabet (delimiter, quote, NUL, letters; long runs without quotes
 * too, for the sixteen-byte path) against the reference, with every `max` from 0 to 9. */
static void test_split_random(void) {
    static const char delims[] = {',', ';', '\t', '|'};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    bool ok = true;
    for (int round = 0; round < 200000 && ok; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char delim = delims[x % 4], quote = (x >> 2) % 3 ? '"' : '\'';
        size_t n = (size_t)((x >> 8) % 90);
        bool quotes = (x >> 16) % 4 == 0;
        char rec[96];
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned r = (unsigned)(x % 16);
            rec[i] = r < 3 ? delim : r < 5 && quotes ? quote : r == 5 ? 0 : (char)('a' + r);
        }
        int max = (int)((x >> 24) % 10);
        ref_field want[10];
        prt_field got[10];
        prt_arena scratch = {0};
        const char *err = NULL;
        int nw = ref_split(rec, n, delim, quote, want, max);
        int ng = prt_csv_split(rec, n, delim, quote, got, max, &scratch, &err);
        ok = nw == ng && (ng >= 0 || err != NULL);
        for (int i = 0; ok && i < ng && i < max; i++)
            ok = got[i].n == want[i].n && got[i].quoted == want[i].quoted && memcmp(got[i].p, want[i].text, want[i].n) == 0;
        if (!ok) fprintf(stderr, "split mismatch: round %d, %zu bytes, %d against %d fields\n", round, n, ng, nw);
        prt_arena_free(&scratch);
    }
    CHECK(ok);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "bench") == 0) bench();
    else test_split(), test_split_random();
    prt_arena_free(&A);
    return argc > 1 ? 0 : check_report();
}
