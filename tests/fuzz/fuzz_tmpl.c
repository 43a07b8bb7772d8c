/* fuzz_tmpl.c - libFuzzer target: the template engine (compiler/tmpl_*.c) on any template text,
 * rendered with a small model of every value kind (strings, ints, bools, none, a list of maps, a
 * nested map), as emit.c renders templates/pipeline.c.tmpl. Checks that a failed render reported
 * an error and a successful one did not. `make fuzz` runs it. */
#include "arena.h"
#include "diag.h"
#include "fuzz_text.h"
#include "sbuf.h"
#include "tmpl.h"
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static TVal *model(Arena *a) {
    TVal *m = tv_map(a);
    tv_set_str(a, m, "name", "orders \"quoted\"\n");
    tv_set_int(a, m, "n", 3);
    tv_set_int(a, m, "big", INT64_MAX);
    tv_set_bool(a, m, "yes", true);
    tv_set(a, m, "nothing", tv_none(a));
    TVal *items = tv_list(a);
    for (int i = 0; i < 3; i++) {
        TVal *it = tv_map(a);
        tv_set_int(a, it, "i", i);
        tv_set_str(a, it, "c", i == 1 ? "" : "x_y");
        tv_set_bool(a, it, "odd", i % 2);
        tv_push(a, items, it);
    }
    tv_set(a, m, "items", items);
    TVal *inner = tv_map(a);
    tv_set_str(a, inner, "p", "w0");
    tv_set(a, inner, "keys", tv_list(a));
    tv_set(a, m, "w", inner);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (memchr(data, 0, size)) return 0;   /* template files are text: a NUL ends the string */
    char *text = fuzz_text(data, size);
    Arena a = {0};
    SBuf out = {0};
    bool ok = tmpl_render_string(&a, "fuzz.tmpl", text, model(&a), &out);
    assert(ok == (diag_error_count() == 0));
    sbuf_free(&out);
    arena_free(&a);
    diag_clear_sources();
    free(text);
    return 0;
}
