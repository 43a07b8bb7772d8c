/* test_input.c - the `input:` of an inline test as the text its source would deliver: a YAML
 * block scalar is taken as it is; a YAML list of maps is encoded into the source's format (CSV
 * rows in the schema's column order, with the header line when the csv format has
 * `header: true`; one JSON object per line for json, debezium and the sources whose records are
 * JSON objects). Shape errors are reported through diag at the offending node. */
#include "test_input.h"
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"
#include "sbuf.h"
#include "suggest.h"

/* A plain YAML scalar that JSON reads as a number: JSON's number grammar. */
static bool json_number(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return false;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == 0;
}

/* A YAML node as JSON: maps become objects, lists arrays; a plain scalar is null, true, false
 * or a number when it reads as one, and every other scalar (and every quoted one) a string. */
static void json_value(SBuf *b, const YNode *n) {
    if (n->kind == YN_MAP) {
        sbuf_putc(b, '{');
        for (int i = 0; i < n->npairs; i++) {
            if (i) sbuf_putc(b, ',');
            jw_quote(b, n->pairs[i].key->text, n->pairs[i].key->len);
            sbuf_putc(b, ':');
            json_value(b, n->pairs[i].value);
        }
        sbuf_putc(b, '}');
    } else if (n->kind == YN_SEQ) {
        sbuf_putc(b, '[');
        for (int i = 0; i < n->nitems; i++) {
            if (i) sbuf_putc(b, ',');
            json_value(b, n->items[i]);
        }
        sbuf_putc(b, ']');
    } else if (yaml_is_null(n)) {
        sbuf_puts(b, "null");
    } else if (n->style == YS_PLAIN && (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0 || json_number(n->text))) {
        sbuf_puts(b, n->text);
    } else {
        jw_quote(b, n->text, n->len);
    }
}

static void csv_cell(SBuf *b, const SourceSpec *so, const YNode *v) {
    if (!v || yaml_is_null(v)) {
        sbuf_puts(b, so->null_text ? so->null_text : "");
        return;
    }
    bool quote = v->len == 0 || strchr(v->text, so->delimiter) || strchr(v->text, so->quote) ||
                 strpbrk(v->text, "\r\n") || (so->null_text && strcmp(v->text, so->null_text) == 0 && v->style != YS_PLAIN);
    if (!quote) {
        sbuf_put(b, v->text, v->len);
        return;
    }
    sbuf_putc(b, so->quote);
    for (size_t i = 0; i < v->len; i++) {
        if (v->text[i] == so->quote) sbuf_putc(b, so->quote);
        sbuf_putc(b, v->text[i]);
    }
    sbuf_putc(b, so->quote);
}

/* The CSV column of each schema field: its fixed index, or its place in the schema. */
static int csv_position(const Spec *s, int i) {
    return s->fields[i].column_index >= 0 ? s->fields[i].column_index : i;
}

static const char *csv_name(const SchemaField *f) { return f->column && f->column_index < 0 ? f->column : f->name; }

static bool encode_csv(SBuf *b, const Spec *s, const YNode *list) {
    const SourceSpec *so = &s->source;
    int width = 0;
    for (int i = 0; i < s->nfields; i++)
        if (csv_position(s, i) >= width) width = csv_position(s, i) + 1;
    if (width > 4096 || width < 0) {
        diag_error(list->loc, "a list input cannot place a column beyond 4096; write this input as CSV text");
        return false;
    }
    int *field_at = calloc((size_t)width + 1, sizeof(int));   /* 1 + field index, 0 = none */
    for (int i = 0; i < s->nfields; i++) field_at[csv_position(s, i)] = i + 1;
    bool ok = true;
    if (so->header) {
        for (int c = 0; c < width; c++) {
            if (c) sbuf_putc(b, so->delimiter);
            if (field_at[c]) sbuf_puts(b, csv_name(&s->fields[field_at[c] - 1]));
        }
        sbuf_putc(b, '\n');
    }
    for (int r = 0; r < list->nitems; r++) {
        const YNode *row = list->items[r];
        if (row->kind != YN_MAP) {
            diag_error(row->loc, "a row of a test's input is a map of columns, not %s", yaml_kind_name(row->kind));
            ok = false;
            continue;
        }
        const YNode **cells = calloc((size_t)width + 1, sizeof *cells);
        for (int k = 0; k < row->npairs; k++) {
            const YNode *key = row->pairs[k].key, *v = row->pairs[k].value;
            int found = -1;
            for (int i = 0; i < s->nfields && found < 0; i++)
                if (strcmp(key->text, s->fields[i].name) == 0 || strcmp(key->text, csv_name(&s->fields[i])) == 0) found = i;
            if (found < 0) {
                const char **cands = calloc((size_t)s->nfields + 1, sizeof *cands);
                for (int i = 0; i < s->nfields; i++) cands[i] = csv_name(&s->fields[i]);
                const char *best = suggest_closest(key->text, cands, s->nfields);
                diag_error(key->loc, "the source has no column '%s'%s%s%s", key->text, best ? " (did you mean '" : "",
                           best ? best : "", best ? "'?)" : "");
                free(cands);
                ok = false;
            } else if (v->kind != YN_SCALAR) {
                diag_error(v->loc, "column '%s' of a CSV test input takes a single value, not %s", key->text, yaml_kind_name(v->kind));
                ok = false;
            } else {
                cells[csv_position(s, found)] = v;
            }
        }
        for (int c = 0; c < width; c++) {
            if (c) sbuf_putc(b, so->delimiter);
            if (field_at[c]) csv_cell(b, so, cells[c]);
        }
        sbuf_putc(b, '\n');
        free(cells);
    }
    free(field_at);
    return ok;
}

/* JSON objects may hold keys no field reads, but a key close to a field's (first path part)
 * that the row lacks is likely a typo: a warning. Debezium events are left alone (envelopes). */
static void warn_typos(const Spec *s, const YNode *row) {
    if (s->source.format != FMT_JSON) return;
    const char **heads = calloc((size_t)s->nfields + 1, sizeof *heads);
    int nheads = 0;
    for (int i = 0; i < s->nfields; i++) {
        const char *path = s->fields[i].path ? s->fields[i].path : s->fields[i].name;
        const char *dot = strchr(path, '.');
        char *head = strndup(path, dot ? (size_t)(dot - path) : strlen(path));
        if (!yaml_get(row, head)) heads[nheads++] = head;
        else free(head);
    }
    for (int k = 0; k < row->npairs; k++) {
        const YNode *key = row->pairs[k].key;
        bool read = false;
        for (int i = 0; i < s->nfields && !read; i++) {
            const char *path = s->fields[i].path ? s->fields[i].path : s->fields[i].name;
            size_t n = strlen(key->text);
            read = strncmp(path, key->text, n) == 0 && (path[n] == 0 || path[n] == '.');
        }
        const char *best = read ? NULL : suggest_closest(key->text, heads, nheads);
        if (best) diag_warning(key->loc, "no field reads key '%s' (did you mean '%s'?)", key->text, best);
    }
    for (int i = 0; i < nheads; i++) free((char *)heads[i]);
    free(heads);
}

static bool encode_json(SBuf *b, const Spec *s, const YNode *list) {
    bool ok = true;
    for (int r = 0; r < list->nitems; r++) {
        const YNode *row = list->items[r];
        if (row->kind != YN_MAP) {
            diag_error(row->loc, "a row of a test's input is a map (one JSON object), not %s", yaml_kind_name(row->kind));
            ok = false;
            continue;
        }
        warn_typos(s, row);
        json_value(b, row);
        sbuf_putc(b, '\n');
    }
    return ok;
}

const char *test_input_text(Arena *a, const Spec *s, const YNode *input) {
    if (input->kind == YN_SCALAR) {
        if (input->len == 0 || input->text[input->len - 1] == '\n') return input->text;
        return arena_printf(a, "%s\n", input->text);
    }
    if (input->kind != YN_SEQ) {
        diag_error(input->loc, "a test's input is the source's text (a block such as `input: |`) or a list of rows, not %s",
                   yaml_kind_name(input->kind));
        return NULL;
    }
    SBuf b = {0};
    bool ok = s->source.format == FMT_CSV ? encode_csv(&b, s, input) : encode_json(&b, s, input);
    const char *text = ok ? arena_strdup(a, sbuf_cstr(&b)) : NULL;
    sbuf_free(&b);
    return text;
}
