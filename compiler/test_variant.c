/* test_variant.c - the spec `pipec test` compiles instead of the user's: every decoder, rule,
 * derived field, filter, window and sink column as written (and a kafka sink's message key as
 * one more column), but the source is a local file in the source's format (a kafka, postgres,
 * postgres_cdc or folder source reads the JSON objects or CSV lines it would have received) and
 * every sink and the dead letter writes JSON lines into a file of the test's directory, so no
 * server or database is needed and pipec can read the rows back. The file source is bounded,
 * so windows close at the end of the input. */
#include "test_variant.h"
#include <string.h>

static const char *out_path(Arena *a, const char *name) { return arena_printf(a, TEST_OUT_DIR "/%s.jsonl", name); }

/* A kafka sink's columns plus TEST_KEY_COLUMN, its message key; a sink without `columns:` first
 * gets one column per field (or window output) as a bare field reference, which plan.c treats
 * as the field itself, so the row is the same. */
static void add_key_column(Arena *a, const Spec *s, const SinkSpec *orig, SinkSpec *k) {
    for (int j = 0; j < orig->ncolumns; j++)
        if (strcmp(orig->columns[j].name, TEST_KEY_COLUMN) == 0) return;
    const ExprField *scope = orig->from_window >= 0 ? s->windows[orig->from_window].out_fields : s->scope_fields;
    int nscope = orig->from_window >= 0 ? s->windows[orig->from_window].nout : s->nscope_fields;
    int n = orig->ncolumns ? orig->ncolumns : nscope;
    ColumnSpec *cols = arena_alloc(a, sizeof(ColumnSpec) * (size_t)(n + 1));
    if (orig->ncolumns) {
        memcpy(cols, orig->columns, sizeof(ColumnSpec) * (size_t)n);
    } else {
        ExprScope sc = {scope, nscope, "a test's key column"};
        for (int j = 0; j < n; j++) {
            YNode *name = arena_alloc(a, sizeof *name);
            *name = (YNode){.kind = YN_SCALAR, .loc = orig->loc, .text = scope[j].name, .len = strlen(scope[j].name)};
            cols[j] = (ColumnSpec){.name = scope[j].name, .loc = orig->loc, .text = scope[j].name, .expr = expr_parse(a, name)};
            cols[j].type = expr_check(a, cols[j].expr, &sc);
        }
    }
    cols[n] = (ColumnSpec){.name = TEST_KEY_COLUMN, .loc = orig->loc, .text = "key", .expr = orig->msg_key, .type = orig->msg_key_type};
    k->columns = cols;
    k->ncolumns = n + 1;
}

Spec *test_variant(Arena *a, const Spec *orig) {
    Spec *s = arena_alloc(a, sizeof *s);
    *s = *orig;

    const SourceSpec *os = &orig->source;
    SourceSpec *so = &s->source;
    memset(so, 0, sizeof *so);
    so->kind = SRC_FILE;
    so->loc = os->loc;
    so->path = TEST_INPUT_FILE;
    so->poll_us = os->poll_us;
    so->format = os->format;
    so->header = os->header;
    so->delimiter = os->delimiter;
    so->quote = os->quote;
    so->null_text = os->null_text;
    so->max_record = os->max_record > 0 ? os->max_record : 1 << 20;

    s->sinks = arena_alloc(a, sizeof(SinkSpec) * (size_t)(orig->nsinks + 1));
    for (int i = 0; i < orig->nsinks; i++) {
        const SinkSpec *ok = &orig->sinks[i];
        SinkSpec *k = &s->sinks[i];
        memset(k, 0, sizeof *k);
        k->name = ok->name;
        k->loc = ok->loc;
        k->kind = SINK_FILE;
        k->encoding = ENC_JSONL;
        k->path = out_path(a, ok->name);
        k->from_window = ok->from_window;
        k->where = ok->where;
        k->where_text = ok->where_text;
        k->columns = ok->columns;
        k->ncolumns = ok->ncolumns;
        k->partitions = ok->partitions;     /* parquet: the partition values become columns */
        k->npartitions = ok->npartitions;
        if (ok->kind == SINK_KAFKA && ok->msg_key) add_key_column(a, orig, ok, k);
    }

    DeadLetterSpec *d = &s->dead_letter;
    memset(d, 0, sizeof *d);
    d->present = true;
    d->loc = orig->dead_letter.loc;
    d->kind = SINK_FILE;
    d->encoding = ENC_JSONL;
    d->path = out_path(a, "dead_letter");

    s->checkpoint_path = NULL;
    s->checkpoint_postgres = NULL;
    s->db_checkpoint = false;
    s->kafka_shared = false;
    s->unshared_why = "it runs a test";
    s->uses_parquet = s->uses_postgres = s->uses_kafka = s->uses_http = false;
    s->metrics_listen = s->metrics_tls_cert = s->metrics_tls_key = NULL;
    s->metrics_user = s->metrics_password = s->metrics_password_file = NULL;
    s->guarantee = GUARANTEE_AT_LEAST_ONCE;
    s->guarantee_explicit = false;
    return s;
}
