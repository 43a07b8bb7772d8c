/* fuzz_json.c - libFuzzer target: prt_json_extract (rt_json.c) on any bytes with a plan of nested
 * and repeated paths, then prt_debezium_row on the values of a Debezium plan. Checks that a
 * string value is valid UTF-8 and every value's text has its stated length. Then the input as two
 * records (split at its first newline): read after the first, by its shape, the second gives what
 * a plan that never uses shapes gives. `make fuzz` runs it. */
#include "rt_internal.h"
#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* three plain paths, then a Debezium plan of two fields (x, and the envelope's op) as emit.c's
 * json_paths_model lays it out: four variants of the fields, then the five objects */
static const char *const PATHS[] = {"a", "b.c", "b.d.e",
                                    "after.x", "op", "before.x", "op", "payload.after.x", "payload.op",
                                    "payload.before.x", "payload.op",
                                    "payload", "after", "before", "payload.after", "payload.before"};
enum { NPATHS = sizeof PATHS / sizeof *PATHS };

/* rec read by a plan primed with `first` (its shape kept) and by one without shapes: the same */
static void check_shape(const char *first, size_t nfirst, const char *rec, size_t n) {
    static prt_json_plan *shaped, *plain;
    if (!shaped) {
        shaped = prt_json_plan_new(PATHS, NPATHS);
        plain = prt_json_plan_new(PATHS, NPATHS);
        prt_json_plan_use_shape(plain, false);
    }
    prt_json_plan_use_shape(shaped, true);   /* forgets the last input's shape */
    prt_json_val v1[NPATHS], v2[NPATHS];
    prt_arena a1 = {0}, a2 = {0};
    const char *e1 = NULL, *e2 = NULL;
    prt_json_extract(shaped, first, nfirst, v1, &a1, &e1);
    e1 = NULL;
    bool ok1 = prt_json_extract(shaped, rec, n, v1, &a1, &e1);
    bool ok2 = prt_json_extract(plain, rec, n, v2, &a2, &e2);
    assert(ok1 == ok2);
    if (!ok1) assert(strcmp(e1, e2) == 0);
    for (int i = 0; ok1 && i < NPATHS; i++) {
        assert(v1[i].kind == v2[i].kind && v1[i].text.n == v2[i].text.n);
        assert(v1[i].kind == PRT_JSON_MISSING || memcmp(v1[i].text.p, v2[i].text.p, v1[i].text.n) == 0);
    }
    prt_arena_free(&a1);
    prt_arena_free(&a2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static prt_json_plan *plan;
    if (!plan) plan = prt_json_plan_new(PATHS, NPATHS);
    prt_json_val out[NPATHS];
    prt_arena scratch = {0};
    const char *err = NULL;
    if (prt_json_extract(plan, (const char *)data, size, out, &scratch, &err)) {
        for (int i = 0; i < NPATHS; i++) {
            if (out[i].kind == PRT_JSON_MISSING) continue;
            assert(out[i].text.p != NULL || out[i].text.n == 0);
            if (out[i].kind == PRT_JSON_STRING) assert(prt_utf8_valid(out[i].text.p, out[i].text.n));
        }
        const char *reason = NULL, *why = NULL;
        int row = prt_debezium_row(out + 3, 2, 1, &scratch, &reason, &why);
        assert(row >= 0 ? reason == NULL && row % 2 == 0 && row < 8 : reason == NULL || why != NULL);
    } else {
        assert(err != NULL);
    }
    prt_arena_free(&scratch);
    const char *nl = size ? memchr(data, '\n', size) : NULL;
    if (nl) check_shape((const char *)data, (size_t)(nl - (const char *)data), nl + 1,
                        size - (size_t)(nl - (const char *)data) - 1);
    else check_shape((const char *)data, size, (const char *)data, size);
    return 0;
}
