/* fuzz_expr.c - libFuzzer target: the expression front end and emitter (compiler/expr_*.c) on
 * any text, as the value of a rule, derive, filter or column: parse, type-check against a record
 * with a field of every type (nullable and not, an enum), then emit C for a checked one, as a
 * value and as a truth condition. Checks that a parse or check failure was reported and a
 * success was not. `make fuzz` runs it. */
#include "arena.h"
#include "diag.h"
#include "fuzz_text.h"
#include "expr.h"
#include "sbuf.h"
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const colours[] = {"red", "green", "blue"};

static const ExprField fields[] = {
    {"i", T_INT32, "r.i", NULL, NULL, 0, NULL},
    {"l", T_INT64, "r.l", NULL, NULL, 0, NULL},
    {"f", T_FLOAT64, "r.f", NULL, NULL, 0, NULL},
    {"s", T_STRING, "r.s", NULL, NULL, 0, NULL},
    {"b", T_BOOL, "r.b", NULL, NULL, 0, NULL},
    {"t", T_TIMESTAMP, "r.t", NULL, NULL, 0, NULL},
    {"d", T_DATE, "r.d", NULL, NULL, 0, NULL},
    {"c", T_STRING, "r.c", NULL, colours, 3, "COLOURS"},
    {"nc", T_STRING, "r.nc", "r.nc_null", colours, 3, "COLOURS"},
    {"ni", T_INT32, "r.ni", "r.ni_null", NULL, 0, NULL},
    {"nl", T_INT64, "r.nl", "r.nl_null", NULL, 0, NULL},
    {"nf", T_FLOAT64, "r.nf", "r.nf_null", NULL, 0, NULL},
    {"ns", T_STRING, "r.ns", "r.ns_null", NULL, 0, NULL},
    {"nb", T_BOOL, "r.nb", "r.nb_null", NULL, 0, NULL},
    {"nt", T_TIMESTAMP, "r.nt", "r.nt_null", NULL, 0, NULL},
    {"nd", T_DATE, "r.nd", "r.nd_null", NULL, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_text(data, size);
    diag_add_source("fuzz.yaml", text);
    Arena a = {0};
    YNode node = {.kind = YN_SCALAR, .loc = {"fuzz.yaml", 1, 1}, .text = text, .len = size};
    Expr *e = expr_parse(&a, &node);
    assert((e == NULL) == (diag_error_count() > 0));
    if (e) {
        ExprScope scope = {fields, (int)(sizeof fields / sizeof fields[0]), "fuzz"};
        Type t = expr_check(&a, e, &scope);
        assert((t == T_ERROR) == (diag_error_count() > 0));
        if (t != T_ERROR) {
            const char *used[32];
            assert(expr_fields_used(e, used, 32) >= 0);
            SBuf out = {0};
            CEmitter ce = {&out, 1, 0, "run", false};
            CVal v = expr_emit_c(&a, &ce, e);
            assert(v.val && v.isnull);
            if (t == T_BOOL || t == T_NULL) assert(expr_emit_c_truth(&a, &ce, e));
            sbuf_free(&out);
        }
    }
    arena_free(&a);
    diag_clear_sources();
    free(text);
    return 0;
}
