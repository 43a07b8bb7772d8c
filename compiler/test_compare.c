/* test_compare.c - the rows a test binary captured, read back from JSON lines, compared with the
 * test's expected rows, and the report of a difference: both lists of rows, the first row that
 * differs marked with '>' and its column underlined with '^'. The comparison rule (docs/spec.md,
 * "Inline tests"): the lists have the same length, and each expected row's keys equal the
 * actual row's values at the same place; columns an expected row leaves out are not compared. */
#include "test_compare.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"
#include "pipec_rt.h"
#include "test_input.h"

/* ---- reading JSON lines ---------------------------------------------------------------------- */

typedef struct { const char *p, *end; Arena *a; } JP;

static void skip_ws(JP *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

static void put_utf8(SBuf *b, unsigned cp) {
    if (cp < 0x80) sbuf_putc(b, (char)cp);
    else if (cp < 0x800) {
        sbuf_putc(b, (char)(0xC0 | (cp >> 6)));
        sbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sbuf_putc(b, (char)(0xE0 | (cp >> 12)));
        sbuf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        sbuf_putc(b, (char)(0xF0 | (cp >> 18)));
        sbuf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sbuf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static bool hex4(const char *p, const char *end, unsigned *out) {
    if (end - p < 4) return false;
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return false;
        *out = *out * 16 + (unsigned)d;
    }
    return true;
}

/* A JSON string at j->p (the opening quote), decoded. */
static bool read_string(JP *j, const char **out, size_t *len) {
    SBuf b = {0};
    j->p++;
    bool ok = false;
    while (j->p < j->end) {
        char c = *j->p++;
        if (c == '"') {
            ok = true;
            break;
        }
        if (c != '\\') {
            sbuf_putc(&b, c);
            continue;
        }
        if (j->p >= j->end) break;
        c = *j->p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (simple && c) {
            static const char repl[] = "\"\\/\b\f\n\r\t";
            sbuf_putc(&b, repl[simple - "\"\\/bfnrt"]);
            continue;
        }
        unsigned cp, lo;
        if (c != 'u' || !hex4(j->p, j->end, &cp)) break;
        j->p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' &&
            hex4(j->p + 2, j->end, &lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            j->p += 6;
        }
        put_utf8(&b, cp);
    }
    *len = b.len;
    *out = arena_strndup(j->a, sbuf_cstr(&b), b.len);
    sbuf_free(&b);
    return ok;
}

/* Skips any JSON value (nested arrays and objects included) for JV_OTHER. */
static bool skip_value(JP *j) {
    int depth = 0;
    do {
        skip_ws(j);
        if (j->p >= j->end) return false;
        char c = *j->p;
        if (c == '"') {
            const char *s;
            size_t n;
            if (!read_string(j, &s, &n)) return false;
        } else if (c == '{' || c == '[') {
            depth++;
            j->p++;
        } else if (c == '}' || c == ']') {
            depth--;
            j->p++;
        } else {
            j->p++;
        }
    } while (depth > 0);
    return true;
}

static bool read_value(JP *j, JVal *v) {
    skip_ws(j);
    if (j->p >= j->end) return false;
    const char *start = j->p;
    char c = *j->p;
    if (c == '"') {
        v->kind = JV_STR;
        return read_string(j, &v->text, &v->len);
    }
    if (c == '{' || c == '[') {
        if (!skip_value(j)) return false;
        v->kind = JV_OTHER;
    } else {
        while (j->p < j->end && !strchr(",}] \t\r\n", *j->p)) j->p++;
        size_t n = (size_t)(j->p - start);
        v->kind = n == 4 && memcmp(start, "null", 4) == 0 ? JV_NULL
                : (n == 4 && memcmp(start, "true", 4) == 0) || (n == 5 && memcmp(start, "false", 5) == 0) ? JV_BOOL : JV_NUM;
        if (n == 0) return false;
    }
    v->len = (size_t)(j->p - start);
    v->text = arena_strndup(j->a, start, v->len);
    return true;
}

static bool read_object(JP *j, JRow *row) {
    skip_ws(j);
    if (j->p >= j->end || *j->p != '{') return false;
    j->p++;
    int cap = 16;
    row->keys = arena_alloc(j->a, sizeof(char *) * (size_t)cap);
    row->vals = arena_alloc(j->a, sizeof(JVal) * (size_t)cap);
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') return false;
        if (row->n == cap) {
            const char **k = arena_alloc(j->a, sizeof(char *) * (size_t)cap * 2);
            JVal *v = arena_alloc(j->a, sizeof(JVal) * (size_t)cap * 2);
            memcpy(k, row->keys, sizeof(char *) * (size_t)cap);
            memcpy(v, row->vals, sizeof(JVal) * (size_t)cap);
            row->keys = k;
            row->vals = v;
            cap *= 2;
        }
        size_t klen;
        if (!read_string(j, &row->keys[row->n], &klen)) return false;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') return false;
        j->p++;
        if (!read_value(j, &row->vals[row->n])) return false;
        row->n++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return true;
        }
        return false;
    }
}

bool test_read_rows(Arena *a, const char *text, JRow **rows, int *nrows) {
    int n = 0, cap = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    cap = n + 1;
    *rows = arena_alloc(a, sizeof(JRow) * (size_t)cap);
    *nrows = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        JP j = {p, end, a};
        skip_ws(&j);
        if (j.p < end) {
            if (*nrows >= cap || !read_object(&j, &(*rows)[*nrows])) return false;
            skip_ws(&j);
            if (j.p != end) return false;
            (*nrows)++;
        }
        p = nl ? nl + 1 : end;
    }
    return true;
}

/* ---- comparing ------------------------------------------------------------------------------- */

static bool is_integer_text(const char *s) {
    if (*s == '-' || *s == '+') s++;
    return *s && strspn(s, "0123456789") == strlen(s);
}

bool test_value_equal(const YNode *e, const JVal *v) {
    bool plain = e->style == YS_PLAIN;
    switch (v->kind) {
    case JV_NULL:
        return yaml_is_null(e);
    case JV_BOOL:
        return plain && strcmp(e->text, v->text) == 0;
    case JV_NUM: {
        if (is_integer_text(e->text) && is_integer_text(v->text)) {
            int64_t x, y;
            if (prt_parse_i64(e->text, e->len, &x) && prt_parse_i64(v->text, v->len, &y)) return x == y;
        }
        double x, y;
        if (!prt_parse_f64(e->text, e->len, &x) || !prt_parse_f64(v->text, v->len, &y)) return false;
        return x == y || fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y));
    }
    case JV_STR: {
        if (e->len == v->len && memcmp(e->text, v->text, v->len) == 0) return !(plain && yaml_is_null(e) && e->len);
        int64_t x, y;   /* timestamps with a time of day compare by instant */
        return e->len > 10 && v->len > 10 && prt_parse_timestamp(e->text, e->len, &x) &&
               prt_parse_timestamp(v->text, v->len, &y) && x == y;
    }
    case JV_OTHER:
        return e->len == v->len && memcmp(e->text, v->text, v->len) == 0;
    }
    return false;
}

static const JVal *row_get(const JRow *r, const char *key) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->keys[i], key) == 0) return &r->vals[i];
    return NULL;
}

/* ---- the report ------------------------------------------------------------------------------ */

/* Text shown without quotes unless YAML would read it as something else (or it is empty). */
static void put_text(SBuf *b, const char *s, size_t n, bool quote_always) {
    bool q = quote_always || n == 0 || strpbrk(s, ",:{}[]\"'#\n\t") || s[0] == ' ' || s[n - 1] == ' ' ||
             strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
    double d;
    q |= prt_parse_f64(s, n, &d);
    if (q) jw_quote(b, s, n);
    else sbuf_put(b, s, n);
}

static void put_expected(SBuf *b, const YNode *e) {
    if (e->style == YS_PLAIN) sbuf_put(b, e->text, e->len);
    else put_text(b, e->text, e->len, false);
}

static void put_actual(SBuf *b, const JVal *v) {
    if (v->kind == JV_STR) put_text(b, v->text, v->len, false);
    else sbuf_put(b, v->text, v->len);
}

/* Renders row `r` ({k: v, ...}); the value of column `mark` goes to mark_at and mark_len. */
static void put_expected_row(SBuf *b, const YNode *row, const char *mark, size_t *mark_at, size_t *mark_len) {
    sbuf_putc(b, '{');
    for (int k = 0; k < row->npairs; k++) {
        if (k) sbuf_puts(b, ", ");
        sbuf_printf(b, "%s: ", row->pairs[k].key->text);
        size_t at = b->len;
        put_expected(b, row->pairs[k].value);
        if (mark && strcmp(mark, row->pairs[k].key->text) == 0) *mark_at = at, *mark_len = b->len - at;
    }
    sbuf_putc(b, '}');
}

/* The actual row shown by the columns the expected rows name (all of them when none do). */
static void put_actual_row(SBuf *b, const JRow *r, const char *const *keys, int nkeys, const char *mark, size_t *mark_at,
                           size_t *mark_len) {
    sbuf_putc(b, '{');
    int shown = 0;
    for (int i = 0; i < r->n; i++) {
        bool wanted = nkeys == 0;
        for (int k = 0; k < nkeys; k++) wanted |= strcmp(keys[k], r->keys[i]) == 0;
        if (!wanted) continue;
        if (shown++) sbuf_puts(b, ", ");
        sbuf_printf(b, "%s: ", r->keys[i]);
        size_t at = b->len;
        put_actual(b, &r->vals[i]);
        if (mark && strcmp(mark, r->keys[i]) == 0) *mark_at = at, *mark_len = b->len - at;
    }
    if (shown < r->n) sbuf_printf(b, "%s...", shown ? ", " : "");
    sbuf_putc(b, '}');
}

#define MAX_SHOWN 20

static void put_line(SBuf *diff, int ind, bool marked, int index, const char *row, size_t mark_at, size_t mark_len) {
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "%c %d: ", marked ? '>' : ' ', index + 1);
    sbuf_printf(diff, "%*s%s%s\n", ind, "", prefix, row);
    if (marked && mark_len) {
        sbuf_printf(diff, "%*s", ind + pl + (int)mark_at, "");
        for (size_t i = 0; i < mark_len; i++) sbuf_putc(diff, '^');
        sbuf_putc(diff, '\n');
    }
}

bool test_compare_rows(const char *what, const YNode *expected, const JRow *actual, int nactual, int ind, SBuf *diff) {
    int nexp = expected->nitems;
    int bad = -1;
    const char *col = NULL;
    const JVal *got = NULL;
    for (int i = 0; i < nexp && i < nactual && bad < 0; i++) {
        const YNode *row = expected->items[i];
        for (int k = 0; k < row->npairs && bad < 0; k++) {
            const JVal *v = row_get(&actual[i], row->pairs[k].key->text);
            if (!v || !test_value_equal(row->pairs[k].value, v)) {
                bad = i;
                col = row->pairs[k].key->text;
                got = v;
            }
        }
    }
    if (bad < 0 && nexp == nactual) return true;

    SBuf why = {0};
    if (bad >= 0) {
        const YNode *ev = yaml_get(expected->items[bad], col);
        sbuf_printf(&why, "row %d, column %s: expected ", bad + 1, col);
        put_expected(&why, ev);
        if (got) {
            sbuf_puts(&why, ", got ");
            put_actual(&why, got);
        } else {
            sbuf_puts(&why, ", but the row has no such column");
        }
    } else {
        bad = nexp < nactual ? nexp : nactual;
        sbuf_printf(&why, "expected %d row%s, got %d: row %d %s", nexp, nexp == 1 ? "" : "s", nactual, bad + 1,
                    nexp < nactual ? "was not expected" : "is missing");
    }
    sbuf_printf(diff, "%*s%s: %s\n", ind, "", what, sbuf_cstr(&why));
    sbuf_free(&why);

    const char **keys = calloc(64, sizeof *keys);
    int nkeys = 0;
    for (int i = 0; i < nexp; i++)
        for (int k = 0; k < expected->items[i]->npairs && nkeys < 64; k++) {
            const char *key = expected->items[i]->pairs[k].key->text;
            bool seen = false;
            for (int j = 0; j < nkeys; j++) seen |= strcmp(keys[j], key) == 0;
            if (!seen) keys[nkeys++] = key;
        }
    SBuf line = {0};
    sbuf_printf(diff, "%*sexpected %d row%s:\n", ind + 2, "", nexp, nexp == 1 ? "" : "s");
    for (int i = 0; i < nexp && i < MAX_SHOWN; i++) {
        size_t at = 0, len = 0;
        sbuf_reset(&line);
        put_expected_row(&line, expected->items[i], i == bad ? col : NULL, &at, &len);
        put_line(diff, ind + 4, i == bad, i, sbuf_cstr(&line), at, len);
    }
    if (nexp > MAX_SHOWN) sbuf_printf(diff, "%*s... %d more\n", ind + 4, "", nexp - MAX_SHOWN);
    sbuf_printf(diff, "%*sactual %d row%s:\n", ind + 2, "", nactual, nactual == 1 ? "" : "s");
    for (int i = 0; i < nactual && i < MAX_SHOWN; i++) {
        size_t at = 0, len = 0;
        sbuf_reset(&line);
        put_actual_row(&line, &actual[i], keys, nkeys, i == bad ? col : NULL, &at, &len);
        put_line(diff, ind + 4, i == bad, i, sbuf_cstr(&line), at, len);
    }
    if (nactual > MAX_SHOWN) sbuf_printf(diff, "%*s... %d more\n", ind + 4, "", nactual - MAX_SHOWN);
    sbuf_free(&line);
    free(keys);
    return false;
}
