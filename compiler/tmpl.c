/* tmpl.c - the template engine's entry points (see tmpl.h for the syntax) and its model values.
 * A render is lex (tmpl_lex.c) -> parse (tmpl_parse.c) -> exec (tmpl_eval.c, tmpl_filter.c), all
 * allocating from the caller's arena. Invariants: a template is parsed once per render call; on
 * failure `out` is left exactly as it was (partial output is discarded) and every problem has
 * been reported through diag with the template's file:line:col. diag keeps a pointer to the
 * template text, which lives in the caller's arena: keep the arena until diagnostics are done.
 *
 * Beyond tmpl.h's summary, these Jinja2 forms work the same way: `{%+` (no lstrip) and `+%}` (keep
 * the newline), loop.revindex/revindex0, list literals `[a, b]`, unary minus, chained comparisons,
 * adjacent string literals, and the optional Jinja2 arguments default(v, boolean),
 * replace(a, b, count), trim(chars), indent(width or prefix, first, blank). Not supported (a
 * syntax error, never silently different): `*` `/` `%`, `x if c else y`, `is` tests, calls,
 * slices, dict literals, macros, include/extends, raw, block set, `for ... if`.
 *
 * Where we knowingly differ from Jinja2 (with StrictUndefined): `set` of an undefined value and
 * `items` of an undefined value are errors at once (Jinja2 defers or ignores them); `a.b` on a
 * map only looks up the key (Jinja2 would find dict methods such as `items` first); upper, lower
 * and trim know only ASCII letters and spaces; a name read in a nested loop and set later in the
 * outer loop's body resolves to the outer value (Jinja2's scoping makes it undefined there). */
#include "tmpl_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- model values ---- */

static TVal *tv_new(Arena *a, TValKind kind) {
    TVal *v = arena_alloc(a, sizeof *v);
    v->kind = kind;
    return v;
}

TVal *tv_none(Arena *a) { return tv_new(a, TV_NONE); }
TVal *tv_list(Arena *a) { return tv_new(a, TV_LIST); }
TVal *tv_map(Arena *a) { return tv_new(a, TV_MAP); }

TVal *tv_bool(Arena *a, bool b) {
    TVal *v = tv_new(a, TV_BOOL);
    v->b = b;
    return v;
}

TVal *tv_int(Arena *a, int64_t i) {
    TVal *v = tv_new(a, TV_INT);
    v->i = i;
    return v;
}

TVal *tv_str(Arena *a, const char *s) {
    TVal *v = tv_new(a, TV_STR);
    v->s = arena_strdup(a, s);
    return v;
}

void tv_push(Arena *a, TVal *list, TVal *item) {
    if (list->nitems == list->capitems) {
        int cap = list->capitems ? list->capitems * 2 : 8;
        TVal **items = arena_alloc(a, sizeof *items * (size_t)cap);
        if (list->nitems) memcpy(items, list->items, sizeof *items * (size_t)list->nitems);
        list->items = items;
        list->capitems = cap;
    }
    list->items[list->nitems++] = item;
}

static TPair *tv_find_pair(const TVal *map, const char *key) {
    for (int i = 0; i < map->npairs; i++)
        if (strcmp(map->pairs[i].key, key) == 0) return &map->pairs[i];
    return NULL;
}

void tv_set(Arena *a, TVal *map, const char *key, TVal *val) {
    TPair *p = tv_find_pair(map, key);
    if (p) {
        p->val = val;
        return;
    }
    if (map->npairs == map->cappairs) {
        int cap = map->cappairs ? map->cappairs * 2 : 8;
        TPair *pairs = arena_alloc(a, sizeof *pairs * (size_t)cap);
        if (map->npairs) memcpy(pairs, map->pairs, sizeof *pairs * (size_t)map->npairs);
        map->pairs = pairs;
        map->cappairs = cap;
    }
    map->pairs[map->npairs++] = (TPair){arena_strdup(a, key), val};
}

TVal *tv_get(const TVal *map, const char *key) {
    if (!map || map->kind != TV_MAP) return NULL;
    TPair *p = tv_find_pair(map, key);
    return p ? p->val : NULL;
}

void tv_set_str(Arena *a, TVal *map, const char *key, const char *s) { tv_set(a, map, key, tv_str(a, s)); }
void tv_set_int(Arena *a, TVal *map, const char *key, int64_t i) { tv_set(a, map, key, tv_int(a, i)); }
void tv_set_bool(Arena *a, TVal *map, const char *key, bool b) { tv_set(a, map, key, tv_bool(a, b)); }

/* ---- source text and locations ---- */

/* Copies text with "\r\n" and lone "\r" turned into "\n" (Jinja2 does the same before lexing). */
static char *normalize_newlines(Arena *a, const char *text, size_t *len) {
    size_t n = strlen(text);
    char *s = arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\r') {
            s[j++] = '\n';
            if (text[i + 1] == '\n') i++;
        } else {
            s[j++] = text[i];
        }
    }
    s[j] = 0;
    *len = j;
    return s;
}

void tsrc_init(Arena *a, TSource *src, const char *name, const char *text) {
    src->name = arena_strdup(a, name);
    src->text = normalize_newlines(a, text, &src->len);
    int nlines = 1;
    for (size_t i = 0; i < src->len; i++) nlines += src->text[i] == '\n';
    src->line_starts = arena_alloc(a, sizeof *src->line_starts * (size_t)nlines);
    src->nlines = 0;
    src->line_starts[src->nlines++] = 0;
    for (size_t i = 0; i < src->len; i++)
        if (src->text[i] == '\n') src->line_starts[src->nlines++] = i + 1;
}

SrcLoc tsrc_loc(const TSource *src, size_t pos) {
    int lo = 0, hi = src->nlines - 1;
    while (lo < hi) {   /* the last line starting at or before pos */
        int mid = (lo + hi + 1) / 2;
        if (src->line_starts[mid] <= pos) lo = mid;
        else hi = mid - 1;
    }
    return (SrcLoc){src->name, lo + 1, (int)(pos - src->line_starts[lo]) + 1};
}

bool tmpl_is_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* ---- rendering ---- */

static bool render_source(Arena *a, const TSource *src, const TVal *model, SBuf *out) {
    diag_add_source(src->name, src->text);
    TokVec toks = {0};
    if (!tmpl_lex(a, src, &toks)) return false;
    TBlock *body = tmpl_parse(a, src, &toks);
    if (!body) return false;
    TScope top = {NULL, tv_map(a)};
    TEval ev = {.a = a, .src = src, .model = model, .scope = &top, .out = out};
    return tmpl_exec(&ev, body);
}

bool tmpl_render_string(Arena *a, const char *name, const char *text, const TVal *model, SBuf *out) {
    TSource src;
    tsrc_init(a, &src, name, text);
    size_t start = out->len;
    if (render_source(a, &src, model, out)) return true;
    if (out->s) {   /* drop partial output */
        out->len = start;
        out->s[start] = 0;
    }
    return false;
}

static char *read_file(Arena *a, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    SBuf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sbuf_put(&b, chunk, n);
    bool ok = !ferror(f);
    fclose(f);
    char *text = ok ? arena_strndup(a, sbuf_cstr(&b), b.len) : NULL;
    sbuf_free(&b);
    return text;
}

bool tmpl_render_file(Arena *a, const char *path, const TVal *model, SBuf *out) {
    errno = 0;
    char *text = read_file(a, path);
    if (!text) {
        diag_error((SrcLoc){NULL, 0, 0}, "cannot read template '%s': %s", path,
                   strerror(errno ? errno : EIO));
        return false;
    }
    return tmpl_render_string(a, path, text, model, out);
}
