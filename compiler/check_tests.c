/* check_tests.c - pass 2 for `tests:`, the inline tests `pipec test` runs (docs/spec.md, "Inline
 * tests"): each entry a map {name, input, expect} with a unique name; the input a text or a list
 * of rows the source's format can carry (test_input.c); expect's keys sinks of the spec or
 * dead_letter, each with a list of partial rows whose keys are columns that sink writes and
 * whose values are single values. Nothing here changes what a normal build generates. */
#include "check_tests.h"
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "suggest.h"
#include "test_input.h"
#include "test_variant.h"

static const char *const dead_letter_columns[] = {"pipeline", "position", "raw", "raw_base64", "reason", "detail", "at"};

int test_sink_columns(Arena *a, const Spec *s, int sink, const char ***out) {
    if (sink < 0) {
        *out = (const char **)dead_letter_columns;
        return (int)(sizeof dead_letter_columns / sizeof *dead_letter_columns);
    }
    const SinkSpec *sk = &s->sinks[sink];
    /* a sink that failed its own checks may name no window that exists: its rows' columns then */
    const WindowSpec *w = sk->from_window >= 0 && sk->from_window < s->nwindows ? &s->windows[sk->from_window] : NULL;
    int n = sk->ncolumns ? sk->ncolumns : w ? w->nout : s->nscope_fields;
    const char **cols = arena_alloc(a, sizeof(char *) * (size_t)(n + sk->npartitions + 2));
    for (int j = 0; j < n; j++)
        cols[j] = sk->ncolumns ? sk->columns[j].name : w ? w->out_fields[j].name : s->scope_fields[j].name;
    /* a parquet sink's partitions are columns too (plan.c's move_partitions puts them last) */
    for (int k = 0; k < sk->npartitions; k++) {
        bool dup = false;
        for (int j = 0; j < n; j++) dup |= strcmp(cols[j], sk->partitions[k].name) == 0;
        if (!dup) cols[n++] = sk->partitions[k].name;
    }
    if (sk->kind == SINK_KAFKA && sk->msg_key) {   /* test_variant.c captures the message key */
        bool dup = false;
        for (int j = 0; j < n; j++) dup |= strcmp(cols[j], TEST_KEY_COLUMN) == 0;
        if (!dup) cols[n++] = TEST_KEY_COLUMN;
    }
    *out = cols;
    return n;
}

static void check_rows(Arena *a, const Spec *s, const TestExpect *e, const YNode *rows) {
    if (rows->kind != YN_SEQ) {
        diag_error(rows->loc, "expected rows of '%s' are a list of maps (`[]` for none), not %s", e->sink, yaml_kind_name(rows->kind));
        return;
    }
    const char **cols;
    int ncols = test_sink_columns(a, s, e->sink_index, &cols);
    for (int r = 0; r < rows->nitems; r++) {
        const YNode *row = rows->items[r];
        if (row->kind != YN_MAP) {
            diag_error(row->loc, "an expected row of '%s' is a map of some of its columns, not %s", e->sink, yaml_kind_name(row->kind));
            continue;
        }
        for (int k = 0; k < row->npairs; k++) {
            const YNode *key = row->pairs[k].key, *v = row->pairs[k].value;
            bool known = false;
            for (int j = 0; j < ncols; j++) known |= strcmp(cols[j], key->text) == 0;
            if (!known) {
                const char *best = suggest_closest(key->text, cols, ncols);
                diag_error(key->loc, "%s%s has no column '%s'%s%s%s", e->sink_index < 0 ? "the dead letter" : "sink '",
                           e->sink_index < 0 ? "" : arena_printf(a, "%s'", e->sink), key->text,
                           best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
            } else if (v->kind != YN_SCALAR) {
                diag_error(v->loc, "expected value of column '%s' must be a single value, not %s", key->text, yaml_kind_name(v->kind));
            }
        }
    }
}

static void check_expect(Arena *a, const Spec *s, TestSpec *t, const YNode *expect) {
    t->expects = arena_alloc(a, sizeof(TestExpect) * (size_t)(expect->npairs + 1));
    for (int i = 0; i < expect->npairs; i++) {
        const YNode *k = expect->pairs[i].key;
        TestExpect *e = &t->expects[t->nexpects];
        e->sink = k->text;
        e->sink_index = -2;
        if (strcmp(k->text, "dead_letter") == 0) e->sink_index = -1;
        for (int j = 0; j < s->nsinks; j++)
            if (strcmp(s->sinks[j].name, k->text) == 0) e->sink_index = j;
        if (e->sink_index == -2) {
            const char **cands = arena_alloc(a, sizeof(char *) * (size_t)(s->nsinks + 1));
            cands[0] = "dead_letter";
            for (int j = 0; j < s->nsinks; j++) cands[j + 1] = s->sinks[j].name;
            const char *best = suggest_closest(k->text, cands, s->nsinks + 1);
            diag_error(k->loc, "test '%s' expects rows of '%s', which is neither a sink nor dead_letter%s%s%s", t->name, k->text,
                       best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
            continue;
        }
        e->rows = expect->pairs[i].value;
        check_rows(a, s, e, e->rows);
        if (e->rows->kind == YN_SEQ) t->nexpects++;
    }
}

void check_tests(Arena *a, Spec *s, const YNode *tests) {
    if (tests->kind != YN_SEQ) return;   /* the top-level option check reported it */
    s->tests = arena_alloc(a, sizeof(TestSpec) * (size_t)(tests->nitems + 1));
    for (int i = 0; i < tests->nitems; i++) {
        const YNode *item = tests->items[i];
        opts_check_map(item, test_opts, "a test", NULL);   /* reports; what can be checked still is */
        const YNode *name = yaml_get(item, "name"), *input = yaml_get(item, "input"), *expect = yaml_get(item, "expect");
        if (!name || name->kind != YN_SCALAR || !input || !expect || expect->kind != YN_MAP) continue;
        TestSpec *t = &s->tests[s->ntests];
        t->name = name->text;
        t->loc = name->loc;
        bool dup = false;
        for (int j = 0; j < s->ntests && !dup; j++) {
            if (strcmp(s->tests[j].name, t->name) != 0) continue;
            diag_error(name->loc, "test '%s' is defined twice", t->name);
            diag_note(s->tests[j].loc, "the first one is here");
            dup = true;
        }
        t->input = test_input_text(a, s, input);
        check_expect(a, s, t, expect);
        if (!dup && t->input) s->ntests++;
    }
}
