/* fuzz_json.c - libFuzzer target: prt_json_extract (rt_json.c) on any bytes with a plan of nested
 * and repeated paths, then prt_debezium_row on the values of a Debezium plan. Checks that a
 * string value is valid UTF-8 and every value's text has its stated length. `make fuzz` runs it. */
#include "rt_internal.h"
#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* three plain paths, then a Debezium plan of two fields (x, and the envelope's op) as emit.c's
 * json_paths_model lays it out: four variants of the fields, then the five objects */
static const char *const PATHS[] = {"a", "b.c", "b.d.e",
                                    "after.x", "op", "before.x", "op", "payload.after.x", "payload.op",
                                    "payload.before.x", "payload.op",
                                    "payload", "after", "before", "payload.after", "payload.before"};
enum { NPATHS = sizeof PATHS / sizeof *PATHS };

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
    return 0;
}
