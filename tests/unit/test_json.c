/* test_json.c - unit tests of the JSON plan and extractor (rt_json.c): wanted paths (flat,
 * nested, repeated), every value kind, escapes and surrogate pairs, UTF-8 checks, duplicates,
 * nesting depth, malformed text and trailing garbage; reading by the last record's shape against
 * the long way, on streams of mutated records. `bench` as argv[1] prints ns per record. */
#include "rt_internal.h"
#include "check.h"
#include <stdlib.h>
#include <time.h>

static prt_arena A;
static prt_json_plan *plans[8];   /* plans live for the program, like a pipeline's */
static prt_json_val V[8];
static const char *E;

static bool ex(int plan, const char *s) {
    E = NULL;
    return prt_json_extract(plans[plan], s, strlen(s), V, &A, &E);
}

static bool val_is(int i, prt_json_kind k, const char *text) {
    return V[i].kind == k && (!text || (V[i].text.n == strlen(text) && memcmp(V[i].text.p, text, V[i].text.n) == 0));
}

static bool err_has(const char *part) { return E && strstr(E, part); }

static void test_plan(void) {
    const char *bad1[] = {"a..b"}, *bad2[] = {""}, *bad3[] = {"a."}, *bad4[] = {".a"};
    CHECK(prt_json_plan_new(bad1, 1) == NULL);
    CHECK(prt_json_plan_new(bad2, 1) == NULL);
    CHECK(prt_json_plan_new(bad3, 1) == NULL);
    CHECK(prt_json_plan_new(bad4, 1) == NULL);
    static const char *p0[] = {"id", "name", "price", "tags", "meta", "ok", "none", "missing"};
    static const char *p1[] = {"a.b", "a.c.d", "x", "a.b"};   /* a repeated path fills both slots */
    static const char *p2[] = {"a", "a.b"};
    plans[0] = prt_json_plan_new(p0, 8);
    plans[1] = prt_json_plan_new(p1, 4);
    plans[2] = prt_json_plan_new(p2, 2);
    plans[3] = prt_json_plan_new(NULL, 0);
    CHECK(plans[0] && plans[1] && plans[2] && plans[3]);
}

static void test_values(void) {
    CHECK(ex(0, "{\"id\": 42, \"name\": \"Ann\", \"price\": -1.5e+3, \"tags\": [1, \"x\", {}],"
                " \"meta\": {\"k\": [true]}, \"ok\": true, \"none\": null, \"other\": false}"));
    CHECK(val_is(0, PRT_JSON_NUMBER, "42"));
    CHECK(val_is(1, PRT_JSON_STRING, "Ann"));
    CHECK(val_is(2, PRT_JSON_NUMBER, "-1.5e+3"));
    CHECK(val_is(3, PRT_JSON_ARRAY, "[1, \"x\", {}]"));
    CHECK(val_is(4, PRT_JSON_OBJECT, "{\"k\": [true]}"));
    CHECK(val_is(5, PRT_JSON_TRUE, "true"));
    CHECK(val_is(6, PRT_JSON_NULL, "null"));
    CHECK(val_is(7, PRT_JSON_MISSING, NULL));
    CHECK(ex(0, "{}"));
    CHECK(val_is(0, PRT_JSON_MISSING, NULL) && val_is(5, PRT_JSON_MISSING, NULL));
    CHECK(ex(0, " \t\r\n{ \"ok\" : false } \n"));
    CHECK(val_is(5, PRT_JSON_FALSE, "false"));
    const char *rec = "{\"name\":\"in place\"}";
    CHECK(prt_json_extract(plans[0], rec, strlen(rec), V, &A, &E));
    CHECK(V[1].text.p == rec + 9);   /* no copy without escapes */
    CHECK(ex(0, "{\"id\":0,\"price\":0.5}") && val_is(0, PRT_JSON_NUMBER, "0") && val_is(2, PRT_JSON_NUMBER, "0.5"));
    CHECK(ex(0, "{\"id\":-0,\"price\":1E-2}") && val_is(2, PRT_JSON_NUMBER, "1E-2"));

    /* Nested paths. */
    CHECK(ex(1, "{\"x\": 1, \"a\": {\"c\": {\"d\": \"deep\", \"e\": 2}, \"b\": [1]}}"));
    CHECK(val_is(0, PRT_JSON_ARRAY, "[1]") && val_is(3, PRT_JSON_ARRAY, "[1]"));
    CHECK(val_is(1, PRT_JSON_STRING, "deep") && val_is(2, PRT_JSON_NUMBER, "1"));
    CHECK(ex(1, "{\"a\": 5, \"b\": 1}") && val_is(0, PRT_JSON_MISSING, NULL));
    CHECK(ex(1, "{\"b\": {\"a\": {\"b\": 1}}}") && val_is(0, PRT_JSON_MISSING, NULL));   /* only from the root */
    CHECK(ex(2, "{\"a\": {\"b\": \"x\", \"c\": 1}}"));
    CHECK(val_is(0, PRT_JSON_OBJECT, "{\"b\": \"x\", \"c\": 1}") && val_is(1, PRT_JSON_STRING, "x"));
    CHECK(ex(3, "{\"a\": [1, {\"b\": null}]}"));   /* nothing wanted: still validated */
    CHECK(!ex(3, "{\"a\": [1, {\"b\": nul}]}"));
}

static void test_strings(void) {
    CHECK(ex(0, "{\"name\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}"));
    CHECK(val_is(1, PRT_JSON_STRING, "a\"b\\c/d\b\f\n\r\t"));
    CHECK(ex(0, "{\"name\": \"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"}"));
    CHECK(val_is(1, PRT_JSON_STRING, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
    CHECK(ex(0, "{\"name\": \"nul\\u0000!\"}"));
    CHECK(V[1].text.n == 5 && memcmp(V[1].text.p, "nul\0!", 5) == 0);
    CHECK(ex(0, "{\"name\": \"caf\xc3\xa9 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf raw utf-8\"}"));
    CHECK(ex(0, "{\"n\\u0061me\": \"escaped key\"}") && val_is(1, PRT_JSON_STRING, "escaped key"));
    CHECK(ex(0, "{\"name\": \"\x7f\"}"));   /* DEL is fine */

    CHECK(!ex(0, "{\"name\": \"\\ud83d\"}")); CHECK(err_has("lone surrogate"));
    CHECK(!ex(0, "{\"name\": \"\\ude00\\ud83d\"}")); CHECK(err_has("lone surrogate"));
    CHECK(!ex(0, "{\"name\": \"\\ud83d\\u0041\"}")); CHECK(err_has("lone surrogate"));
    CHECK(!ex(0, "{\"x\": \"\\ud83dx\"}"));   /* also where nothing is wanted */
    CHECK(!ex(0, "{\"name\": \"\\u12\"}")); CHECK(err_has("\\u escape"));
    CHECK(!ex(0, "{\"name\": \"\\u12g4\"}"));
    CHECK(!ex(0, "{\"name\": \"\\x41\"}")); CHECK(err_has("bad escape"));
    CHECK(!ex(0, "{\"name\": \"\\'\"}"));
    CHECK(!ex(0, "{\"name\": \"tab\there\"}")); CHECK(err_has("control character"));
    CHECK(!ex(0, "{\"name\": \"nl\nhere\"}"));
    CHECK(!ex(0, "{\"name\": \"\xc0\xaf\"}")); CHECK(err_has("invalid UTF-8"));   /* overlong */
    CHECK(!ex(0, "{\"name\": \"\xed\xa0\x80\"}"));     /* surrogate in UTF-8 */
    CHECK(!ex(0, "{\"name\": \"\xf4\x90\x80\x80\"}")); /* above U+10FFFF */
    CHECK(!ex(0, "{\"name\": \"\xe2\x82\"}"));         /* truncated */
    CHECK(!ex(0, "{\"name\": \"\xff\"}"));
    CHECK(!ex(0, "{\"k\xff\": 1}"));                   /* in keys too */
    CHECK(!ex(0, "{\"name\": \"abc")); CHECK(err_has("unterminated string"));
    CHECK(!ex(0, "{\"name\": \"abc\\"));
    CHECK(!ex(0, "{\"name\": \"abc\\u00"));
}

/* {"x":[[...{}...]]} with `depth` nested containers in all. */
static const char *nested(int depth) {
    static char s[400];
    int k = sprintf(s, "{\"x\":");
    for (int i = 0; i < depth - 2; i++) s[k++] = '[';
    k += sprintf(s + k, "{}");
    for (int i = 0; i < depth - 2; i++) s[k++] = ']';
    s[k++] = '}';
    s[k] = 0;
    return s;
}

static void test_errors(void) {
    CHECK(!ex(0, "")); CHECK_STR(E, "empty record");
    CHECK(!ex(0, "   ")); CHECK(!ex(0, "[1]")); CHECK(err_has("not a JSON object"));
    CHECK(!ex(0, "42")); CHECK(!ex(0, "\"s\"")); CHECK(!ex(0, "null"));
    CHECK(!ex(0, "{")); CHECK(!ex(0, "{\"a\"")); CHECK(!ex(0, "{\"a\":")); CHECK(!ex(0, "{\"a\":1"));
    CHECK(!ex(0, "{\"a\" 1}")); CHECK_STR(E, "expected ':' at byte 5");
    CHECK(!ex(0, "{\"a\":1,}")); CHECK(err_has("expected string key"));
    CHECK(!ex(0, "{a:1}")); CHECK(!ex(0, "{'a':1}"));
    CHECK(!ex(0, "{\"a\":1 \"b\":2}")); CHECK(err_has("expected ',' or '}'"));
    CHECK(!ex(0, "{\"a\":[1,]}")); CHECK(!ex(0, "{\"a\":[1 2]}")); CHECK(err_has("expected ',' or ']'"));
    CHECK(!ex(0, "{\"a\":[}")); CHECK(!ex(0, "{\"a\":tru}")); CHECK(!ex(0, "{\"a\":True}"));
    CHECK(!ex(0, "{\"a\":nulll}")); CHECK(!ex(0, "{\"a\":undefined}"));
    CHECK(!ex(0, "{} x")); CHECK(err_has("trailing characters"));
    CHECK(!ex(0, "{}{}")); CHECK(!ex(0, "{},"));
    /* Numbers per the JSON grammar. */
    const char *badnum[] = {"01", "-", "+1", ".5", "1.", "1.e3", "1e", "1e+", "0x1", "NaN", "Infinity", "-Infinity",
                            "--1", "1.5.5", "00", "-01"};
    for (size_t i = 0; i < sizeof badnum / sizeof *badnum; i++) {
        char rec[64];
        snprintf(rec, sizeof rec, "{\"price\": %s}", badnum[i]);
        if (ex(0, rec)) fprintf(stderr, "  accepted number %s\n", badnum[i]);
        CHECK(!ex(0, rec));
    }
    const char *goodnum[] = {"0", "-0", "1", "-1", "10", "0.0", "1.25", "1e5", "1E+5", "1e-05", "-0.5e0", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof goodnum / sizeof *goodnum; i++) {
        char rec[80];
        snprintf(rec, sizeof rec, "{\"price\": %s}", goodnum[i]);
        CHECK(ex(0, rec) && val_is(2, PRT_JSON_NUMBER, goodnum[i]));
    }

    /* Duplicates at wanted paths are errors; elsewhere they are allowed. */
    CHECK(!ex(0, "{\"id\": 1, \"id\": 2}")); CHECK_STR(E, "duplicate key 'id'");
    CHECK(!ex(0, "{\"name\": \"a\", \"n\\u0061me\": \"b\"}")); CHECK_STR(E, "duplicate key 'name'");
    CHECK(ex(0, "{\"zz\": 1, \"zz\": 2}"));
    CHECK(ex(0, "{\"meta\": {\"k\": 1, \"k\": 2}}"));
    CHECK(!ex(1, "{\"a\": {\"c\": {\"d\": 1, \"d\": 2}}}")); CHECK_STR(E, "duplicate key 'a.c.d'");
    CHECK(!ex(1, "{\"a\": {\"b\": 1}, \"a\": {\"b\": 2}}")); CHECK(err_has("duplicate key 'a"));
    CHECK(!ex(1, "{\"a\": {\"c\": {}}, \"a\": {}}")); CHECK_STR(E, "duplicate key 'a'");

    /* Depth: 64 nested levels (the record object included) are fine, 65 are not. */
    CHECK(ex(0, nested(64)));
    CHECK(!ex(0, nested(65))); CHECK(err_has("nesting deeper than 64"));
    /* Very deep input does not recurse without bound. */
    static char deeper[100000];
    memset(deeper, '[', sizeof deeper - 1);
    deeper[0] = '{';
    CHECK(!prt_json_extract(plans[0], deeper, sizeof deeper - 1, V, &A, &E));
    prt_arena_reset(&A);
}

/* The same result both ways: accepted or not, the same message, the same values. */
static bool same_result(bool ok1, const char *e1, const prt_json_val *v1, bool ok2, const char *e2,
                        const prt_json_val *v2, int n) {
    if (ok1 != ok2) return false;
    if (!ok1) return strcmp(e1, e2) == 0;
    for (int i = 0; i < n; i++) {
        if (v1[i].kind != v2[i].kind || v1[i].text.n != v2[i].text.n) return false;
        if (v1[i].kind != PRT_JSON_MISSING && memcmp(v1[i].text.p, v2[i].text.p, v1[i].text.n) != 0) return false;
    }
    return true;
}

/* Streams of records mostly of one shape, some mutated (a byte changed, inserted or dropped,
 * members swapped or repeated): a plan that reads by shape and one that never does agree on each. */
static void test_shape(void) {
    static const char *paths[] = {"ts", "device", "value", "m.k", "m", "ts"};
    enum { NP = 6 };
    static prt_json_plan *shaped, *plain;   /* plans live for the program, like a pipeline's */
    shaped = prt_json_plan_new(paths, NP);
    plain = prt_json_plan_new(paths, NP);
    prt_json_plan_use_shape(plain, false);
    static const char *const bases[] = {
        "{\"ts\": \"2024-05-01T00:00:01.306319Z\", \"device\": \"device-0261\", \"value\": 972.27, \"seq\": 0}",
        "{\"ts\":\"x\",\"device\":\"d\\u00e9\",\"value\":-1e5,\"m\":{\"k\":[1,{\"a\":null}],\"j\":true}}",
        "{\"t\\u0073\": 1, \"value\": \"v\" , \"x\" : false ,\"device\":{}}",
        "{}",
        " {\"m\": {\"k\": \"deep\"}, \"value\": 0.5}\n",
        "{\"device\"  :  \"d\", \"a_rather_long_unwanted_key_name\": [1, 2], \"value\": 1}",
    };
    static const char alphabet[] = "\"\\{}[],: 0123456789.eE-+tfnulaxz\n\t\x80\xc3\xa9\x01";
    prt_arena a1 = {0}, a2 = {0};
    prt_json_val v1[NP], v2[NP];
    char rec[512];
    long mismatches = 0, accepted = 0, rejected = 0;
    srand(7);
    for (int round = 0; round < 200000; round++) {
        const char *base = bases[(round / 500) % 6];   /* a stream of one base, then the next */
        size_t n = strlen(base);
        memcpy(rec, base, n);
        int r = rand() % 8;
        if (r == 0 && n > 0) {                       /* change a byte */
            rec[rand() % n] = alphabet[rand() % (sizeof alphabet - 1)];
        } else if (r == 1 && n < sizeof rec - 1) {   /* insert one */
            size_t at = (size_t)rand() % (n + 1);
            memmove(rec + at + 1, rec + at, n - at);
            rec[at] = alphabet[rand() % (sizeof alphabet - 1)];
            n++;
        } else if (r == 2 && n > 0) {                /* drop one */
            size_t at = (size_t)rand() % n;
            memmove(rec + at, rec + at + 1, n - at - 1);
            n--;
        } else if (r == 3 && n > 2 && n * 2 < sizeof rec) {   /* the inside twice: members repeated */
            memcpy(rec + n - 1, ",", 1);
            memcpy(rec + n, base + 1, n - 1);
            n = n * 2 - 1;
        } else if (r == 4) {                         /* a value of another length */
            char *colon = memchr(rec, ':', n);
            if (colon && (size_t)(colon - rec) + 2 < n && n < sizeof rec - 4) {
                size_t at = (size_t)(colon - rec) + 2;
                memmove(rec + at + 3, rec + at, n - at);
                memcpy(rec + at, "123", 3);
                n += 3;
            }
        }
        E = NULL;
        bool ok1 = prt_json_extract(shaped, rec, n, v1, &a1, &E);
        const char *e1 = E;
        E = NULL;
        bool ok2 = prt_json_extract(plain, rec, n, v2, &a2, &E);
        if (!same_result(ok1, e1, v1, ok2, E, v2, NP)) {
            if (mismatches++ < 5)
                fprintf(stderr, "shape and long way differ on %.*s (%s / %s)\n", (int)n, rec,
                        ok1 ? "ok" : e1, ok2 ? "ok" : E);
        }
        if (ok2) accepted++;
        else rejected++;
        if (round % 64 == 0) prt_arena_reset(&a1), prt_arena_reset(&a2);
    }
    CHECK_INT(mismatches, 0);
    CHECK(accepted > 50000 && rejected > 20000);   /* both kinds of record were met */
    prt_arena_free(&a1);
    prt_arena_free(&a2);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void bench(void) {
    static const char *paths[] = {"event_id", "ts", "user_id", "type", "product", "price", "qty", "country", "device", "session"};
    prt_json_plan *pl = prt_json_plan_new(paths, 10);
    const char *rec = "{\"event_id\":\"e1\",\"ts\":\"2024-05-01T10:00:00Z\",\"user_id\":1,\"type\":\"view\","
                      "\"product\":7,\"price\":-3.5,\"qty\":1,\"country\":\"DE\",\"device\":\"mobile\",\"session\":\"s-12345\"}";
    size_t n = strlen(rec);
    prt_json_val out[10];
    enum { N = 2000000 };
    volatile int sink = 0;
    double t0 = now_ns();
    for (long i = 0; i < N; i++) sink += prt_json_extract(pl, rec, n, out, &A, &E);
    double ns = (now_ns() - t0) / N;
    printf("%-34s %7.1f ns/record (%zu B, %.0f MB/s)\n", "prt_json_extract (10 keys)", ns, n, n / ns * 1e3);
    plans[7] = pl;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        prt_arena_free(&A);
        return 0;
    }
    test_plan();
    test_values();
    test_strings();
    test_errors();
    test_shape();
    prt_arena_free(&A);
    return check_report();
}
