/* yaml.c - pass 1 (load): libyaml's event parser into a YNode tree (see yaml.h).
 * Invariants: every node's loc is 1-based, counted in bytes (libyaml counts columns in characters,
 * so marks are converted through the source text); a node with an anchor or a tag is located at
 * its value, not at the "&name"/"!tag" in front of it. Each loaded text, with its name and a table
 * of line starts, is kept (malloc'd, never freed) in a registry private to this file and also
 * registered with diag, so locations stay valid after the caller's arena is gone and
 * yaml_scalar_loc can walk the source. The tree is built with an explicit stack (no recursion,
 * so deep nesting cannot overflow the C stack); an alias is the anchored node itself, so the
 * result is a DAG, never a cycle, and the size it expands to is bounded (billion laughs). */
#include "yaml.h"   /* ours: quotes search this directory first */
#include <yaml.h>   /* libyaml's */
#ifndef YAML_H
#error "<yaml.h> found compiler/yaml.h instead of libyaml's: compile yaml.c without -Icompiler (use -iquote)"
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* More nodes than this once aliases are expanded is an attack or a mistake, not a pipeline. */
enum { YAML_MAX_EXPANDED = 1000000 };

/* ---- loaded sources ---------------------------------------------------------------------- */

typedef struct Src {
    char *name;          /* nodes' loc.file point at this copy */
    char *text;          /* NUL-terminated; len bytes (may hold NULs, which libyaml rejects) */
    size_t len;
    size_t *line_start;  /* byte offset of the first byte of each line */
    int nlines;
} Src;

static Src **srcs;
static int nsrcs, capsrcs;

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "pipec: out of memory\n");
        abort();
    }
    return p;
}

/* Takes ownership of `text` (malloc'd, len bytes plus a NUL). */
static Src *src_add(const char *name, char *text, size_t len) {
    Src *s = xrealloc(NULL, sizeof *s);
    size_t n = strlen(name);
    s->name = memcpy(xrealloc(NULL, n + 1), name, n + 1);
    s->text = text;
    s->len = len;
    int cap = 64;
    s->line_start = xrealloc(NULL, sizeof(size_t) * (size_t)cap);
    s->nlines = 0;
    s->line_start[s->nlines++] = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n') continue;
        if (s->nlines == cap) {
            cap *= 2;
            s->line_start = xrealloc(s->line_start, sizeof(size_t) * (size_t)cap);
        }
        s->line_start[s->nlines++] = i + 1;
    }
    if (nsrcs == capsrcs) {
        capsrcs = capsrcs ? capsrcs * 2 : 8;
        srcs = xrealloc(srcs, sizeof *srcs * (size_t)capsrcs);
    }
    srcs[nsrcs++] = s;
    diag_add_source(s->name, s->text);
    return s;
}

static const Src *src_find(const char *file) {
    for (int i = nsrcs - 1; i >= 0; i--)
        if (srcs[i]->name == file) return srcs[i];
    for (int i = nsrcs - 1; i >= 0; i--)
        if (strcmp(srcs[i]->name, file) == 0) return srcs[i];
    return NULL;
}

/* The end of line `l` (0-based): the offset of its '\n', or the text's end. */
static size_t line_end(const Src *s, int l) {
    return l + 1 < s->nlines ? s->line_start[l + 1] - 1 : s->len;
}

static SrcLoc offset_loc(const Src *s, size_t off) {
    if (off > s->len) off = s->len;
    int lo = 0, hi = s->nlines - 1;   /* the last line starting at or before off */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (s->line_start[mid] <= off) lo = mid;
        else hi = mid - 1;
    }
    return (SrcLoc){s->name, lo + 1, (int)(off - s->line_start[lo]) + 1};
}

static size_t loc_offset(const Src *s, SrcLoc loc) {
    if (loc.line < 1) return 0;
    if (loc.line > s->nlines) return s->len;
    size_t off = s->line_start[loc.line - 1] + (size_t)(loc.col > 0 ? loc.col - 1 : 0);
    return off > s->len ? s->len : off;
}

/* libyaml's marks count characters; ours count bytes. A BOM is not counted by libyaml. */
static size_t mark_offset(const Src *s, yaml_mark_t m) {
    if (m.line >= (size_t)s->nlines) return s->len;
    int l = (int)m.line;
    size_t p = s->line_start[l], end = line_end(s, l);
    if (l == 0 && s->len >= 3 && memcmp(s->text, "\xEF\xBB\xBF", 3) == 0) p = 3;
    for (size_t c = 0; c < m.column && p < end; c++) {
        p++;
        while (p < end && ((unsigned char)s->text[p] & 0xC0) == 0x80) p++;
    }
    return p;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* From a node's start mark, past its properties ("&anchor", "!tag") and the blanks and comments
 * after them, to the value itself; `off` unchanged when nothing follows before `bound`. */
static size_t skip_properties(const Src *s, size_t off, size_t bound) {
    const char *t = s->text;
    size_t p = off;
    if (p >= bound || (t[p] != '&' && t[p] != '!')) return off;
    while (p < bound) {
        if (t[p] == '&' || t[p] == '!') {
            while (p < bound && !is_ws(t[p])) p++;
        } else if (is_ws(t[p])) {
            p++;
        } else if (t[p] == '#') {
            while (p < bound && t[p] != '\n') p++;
        } else {
            return p;
        }
    }
    return off;
}

/* ---- building the tree ------------------------------------------------------------------- */

typedef struct Frame {
    YNode *node;      /* YN_SEQ or YN_MAP being filled */
    PtrVec kids;      /* seq: items; map: key, value, key, value, ... */
    YNode *key;       /* map: the key waiting for its value */
    bool has_key, bad_key;
    int anchor;       /* index in Loader.anchors, or -1 */
    size_t size;      /* nodes below, aliases expanded (saturating) */
} Frame;

typedef struct Anchor {
    char *name;
    YNode *node;
    size_t size;
    bool done;        /* false while the anchored collection is still open */
} Anchor;

typedef struct Loader {
    Arena *a;
    const Src *src;
    Frame *stack;
    int depth, cap;
    Anchor *anchors;
    int nanchors, capanchors;
    YNode *root;
    bool failed;
} Loader;

static size_t sat_add(size_t x, size_t y) { return x > SIZE_MAX - y ? SIZE_MAX : x + y; }

static int anchor_add(Loader *L, const unsigned char *name, YNode *n, bool done) {
    if (!name) return -1;
    if (L->nanchors == L->capanchors) {
        L->capanchors = L->capanchors ? L->capanchors * 2 : 16;
        L->anchors = xrealloc(L->anchors, sizeof *L->anchors * (size_t)L->capanchors);
    }
    L->anchors[L->nanchors] = (Anchor){arena_strdup(L->a, (const char *)name), n, 1, done};
    return L->nanchors++;
}

static YNode *new_node(Loader *L, YNodeKind kind, const yaml_event_t *ev) {
    YNode *n = arena_alloc(L->a, sizeof *n);
    n->kind = kind;
    size_t start = mark_offset(L->src, ev->start_mark);
    size_t bound = kind == YN_SCALAR ? mark_offset(L->src, ev->end_mark) : L->src->len;
    n->loc = offset_loc(L->src, skip_properties(L->src, start, bound));
    return n;
}

/* Hands a finished node to its parent (or makes it the root). False: stop parsing. */
static bool add_node(Loader *L, YNode *n, size_t size) {
    if (L->depth == 0) {
        L->root = n;
        return true;
    }
    Frame *f = &L->stack[L->depth - 1];
    f->size = sat_add(f->size, size);
    if (f->size > YAML_MAX_EXPANDED) {
        diag_error(n->loc, "aliases expand the spec beyond %d nodes", YAML_MAX_EXPANDED);
        L->failed = true;
        return false;
    }
    if (f->node->kind == YN_SEQ) {
        ptrvec_push(L->a, &f->kids, n);
        return true;
    }
    if (!f->has_key) {
        f->key = n;
        f->has_key = true;
        f->bad_key = n->kind != YN_SCALAR;
        if (f->bad_key) {
            diag_error(n->loc, "a map key must be a scalar, not %s", yaml_kind_name(n->kind));
            L->failed = true;
        }
        return true;
    }
    f->has_key = false;
    if (f->bad_key) return true;
    YNode *key = f->key;
    for (int i = 0; i < f->kids.len; i += 2) {
        YNode *k = f->kids.items[i];
        if (k->len == key->len && memcmp(k->text, key->text, key->len) == 0) {
            diag_error(key->loc, "duplicate key '%s'", key->text);
            diag_note(k->loc, "'%s' first appears here", k->text);
            L->failed = true;
            return true;
        }
    }
    ptrvec_push(L->a, &f->kids, key);
    ptrvec_push(L->a, &f->kids, n);
    return true;
}

static void push_frame(Loader *L, YNode *n, int anchor) {
    if (L->depth == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 32;
        L->stack = xrealloc(L->stack, sizeof *L->stack * (size_t)L->cap);
    }
    L->stack[L->depth++] = (Frame){.node = n, .anchor = anchor};
}

static bool pop_frame(Loader *L) {
    Frame f = L->stack[--L->depth];
    YNode *n = f.node;
    if (n->kind == YN_SEQ) {
        n->nitems = f.kids.len;
        n->items = arena_alloc(L->a, sizeof(YNode *) * (size_t)(f.kids.len ? f.kids.len : 1));
        for (int i = 0; i < f.kids.len; i++) n->items[i] = f.kids.items[i];
    } else {
        n->npairs = f.kids.len / 2;
        n->pairs = arena_alloc(L->a, sizeof(YPair) * (size_t)(n->npairs ? n->npairs : 1));
        for (int i = 0; i < n->npairs; i++)
            n->pairs[i] = (YPair){f.kids.items[2 * i], f.kids.items[2 * i + 1]};
    }
    size_t size = sat_add(f.size, 1);
    if (f.anchor >= 0) {
        L->anchors[f.anchor].done = true;
        L->anchors[f.anchor].size = size;
    }
    return add_node(L, n, size);
}

static bool on_alias(Loader *L, const yaml_event_t *ev) {
    const char *name = (const char *)ev->data.alias.anchor;
    SrcLoc loc = offset_loc(L->src, mark_offset(L->src, ev->start_mark));
    for (int i = L->nanchors - 1; i >= 0; i--) {
        Anchor *an = &L->anchors[i];
        if (strcmp(an->name, name) != 0) continue;
        if (an->done) return add_node(L, an->node, an->size);
        diag_error(loc, "alias '*%s' refers to a node that contains it", name);
        diag_note(an->node->loc, "'&%s' is defined here", name);
        goto placeholder;
    }
    diag_error(loc, "unknown alias '*%s'", name);
placeholder:
    L->failed = true;
    YNode *n = arena_alloc(L->a, sizeof *n);   /* an empty plain scalar keeps the tree whole */
    n->kind = YN_SCALAR;
    n->loc = loc;
    n->text = "";
    return add_node(L, n, 1);
}

static YScalarStyle style_of(yaml_scalar_style_t s) {
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: return YS_SINGLE_QUOTED;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return YS_DOUBLE_QUOTED;
    case YAML_LITERAL_SCALAR_STYLE: return YS_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE: return YS_FOLDED;
    default: return YS_PLAIN;
    }
}

static void report_parse_error(const Loader *L, const yaml_parser_t *p) {
    const char *problem = p->problem ? p->problem : "cannot parse the YAML";
    if (p->error == YAML_MEMORY_ERROR) {
        diag_error((SrcLoc){L->src->name, 0, 0}, "out of memory while parsing");
    } else if (p->error == YAML_READER_ERROR) {
        SrcLoc loc = offset_loc(L->src, p->problem_offset);
        if (p->problem_value != -1) diag_error(loc, "%s (0x%X)", problem, (unsigned)p->problem_value);
        else diag_error(loc, "%s", problem);
    } else {
        SrcLoc loc = offset_loc(L->src, mark_offset(L->src, p->problem_mark));
        diag_error(loc, "%s", problem);
        if (p->context) {
            SrcLoc cloc = offset_loc(L->src, mark_offset(L->src, p->context_mark));
            if (cloc.line != loc.line || cloc.col != loc.col) diag_note(cloc, "%s", p->context);
        }
    }
}

static YNode *load(Arena *a, const Src *src) {
    Loader L = {.a = a, .src = src};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        diag_error((SrcLoc){src->name, 0, 0}, "out of memory while parsing");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)src->text, src->len);
    int ndocs = 0;
    bool done = false;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            report_parse_error(&L, &parser);
            L.failed = true;
            break;
        }
        bool ok = true;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1) {
                diag_error(offset_loc(src, mark_offset(src, ev.start_mark)), "a spec holds one document");
                L.failed = true;
                ok = false;
            }
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_SCALAR_EVENT: {
            YNode *n = new_node(&L, YN_SCALAR, &ev);
            n->text = arena_strndup(a, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            n->len = ev.data.scalar.length;
            n->style = style_of(ev.data.scalar.style);
            anchor_add(&L, ev.data.scalar.anchor, n, true);
            ok = add_node(&L, n, 1);
            break;
        }
        case YAML_SEQUENCE_START_EVENT: {
            YNode *n = new_node(&L, YN_SEQ, &ev);
            push_frame(&L, n, anchor_add(&L, ev.data.sequence_start.anchor, n, false));
            break;
        }
        case YAML_MAPPING_START_EVENT: {
            YNode *n = new_node(&L, YN_MAP, &ev);
            push_frame(&L, n, anchor_add(&L, ev.data.mapping_start.anchor, n, false));
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            ok = pop_frame(&L);
            break;
        case YAML_ALIAS_EVENT:
            ok = on_alias(&L, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!ok) break;
    }
    yaml_parser_delete(&parser);
    free(L.stack);
    free(L.anchors);
    if (L.failed) return NULL;
    if (!L.root || yaml_is_null(L.root)) {
        diag_error((SrcLoc){src->name, 0, 0}, "empty spec");
        return NULL;
    }
    return L.root;
}

YNode *yaml_load_file(Arena *a, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_error((SrcLoc){0}, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = xrealloc(NULL, cap);
    for (;;) {
        if (cap - len < 2) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int err = errno;
        fclose(f);
        free(buf);
        diag_error((SrcLoc){0}, "cannot read '%s': %s", path, strerror(err));
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    return load(a, src_add(path, buf, len));
}

YNode *yaml_load_string(Arena *a, const char *name, const char *text) {
    size_t len = strlen(text);
    char *copy = memcpy(xrealloc(NULL, len + 1), text, len + 1);
    return load(a, src_add(name, copy, len));
}

void yaml_free_sources(void) {
    diag_clear_sources();
    for (int i = 0; i < nsrcs; i++) {
        free(srcs[i]->name);
        free(srcs[i]->text);
        free(srcs[i]->line_start);
        free(srcs[i]);
    }
    nsrcs = 0;
}

/* ---- queries ----------------------------------------------------------------------------- */

YNode *yaml_get(const YNode *map, const char *key) {
    if (!map || map->kind != YN_MAP || !key) return NULL;
    size_t n = strlen(key);
    for (int i = 0; i < map->npairs; i++) {
        const YNode *k = map->pairs[i].key;
        if (k->len == n && memcmp(k->text, key, n) == 0) return map->pairs[i].value;
    }
    return NULL;
}

bool yaml_is_null(const YNode *n) {
    if (!n || n->kind != YN_SCALAR || n->style != YS_PLAIN) return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

const char *yaml_kind_name(YNodeKind k) {
    switch (k) {
    case YN_SCALAR: return "a scalar";
    case YN_MAP: return "a map";
    case YN_SEQ: return "a list";
    }
    return "a node";
}

/* ---- positions inside scalars ------------------------------------------------------------ */

/* Where value byte k lies in the source, for styles whose value is the source with whitespace
 * folded: the value's non-blank bytes appear in the source in the same order (a "''" in a
 * single-quoted scalar being one quote; double-quoted escapes are taken literally). `p` is where
 * the value's first byte may start. */
static size_t walk_folded(const Src *s, size_t p, const char *v, size_t vlen, size_t k, bool squote) {
    const char *t = s->text;
    size_t need = 0, last = 0;   /* non-blank bytes before k; index after the last of them */
    for (size_t i = 0; i < k; i++)
        if (!is_ws(v[i])) need++, last = i + 1;
    for (size_t got = 0; got < need && p < s->len; p++) {
        if (is_ws(t[p])) continue;
        if (squote && t[p] == '\'' && p + 1 < s->len && t[p + 1] == '\'') p++;
        got++;
    }
    if (k < vlen && !is_ws(v[k])) {
        while (p < s->len && is_ws(t[p])) p++;
        return p;
    }
    /* At a blank (or the end): step over as many blanks as the value has, but stay on the line. */
    for (size_t i = last; i < k && p < s->len && t[p] != '\n' && t[p] != '\r'; i++) p++;
    return p;
}

SrcLoc yaml_scalar_loc(const YNode *n, size_t offset) {
    if (!n) return (SrcLoc){0};
    SrcLoc loc = n->loc;
    if (n->kind != YN_SCALAR || !loc.file || loc.line < 1 || loc.col < 1) return loc;
    if (offset > n->len) offset = n->len;
    bool quoted = n->style == YS_SINGLE_QUOTED || n->style == YS_DOUBLE_QUOTED;
    bool block = n->style == YS_LITERAL || n->style == YS_FOLDED;
    const Src *s = src_find(loc.file);
    if (!s) {   /* a node not made by this loader: assume one line */
        if (!block) loc.col += (int)offset + quoted;
        return loc;
    }
    size_t p = loc_offset(s, loc);
    if (!block) return offset_loc(s, walk_folded(s, p + quoted, n->text, n->len, offset,
                                                 n->style == YS_SINGLE_QUOTED));

    /* Block scalar: loc is its indicator; the content starts on the next line. */
    int hdr = loc.line - 1;
    size_t hdr_end = line_end(s, hdr);
    int first = hdr + 1;
    if (first >= s->nlines) return loc;
    int indent = -1;
    for (size_t q = p + 1; q < hdr_end && s->text[q] != ' ' && s->text[q] != '#'; q++) {
        if (s->text[q] >= '1' && s->text[q] <= '9') {   /* explicit indentation indicator */
            int base = 0;
            while (s->text[s->line_start[hdr] + (size_t)base] == ' ') base++;
            indent = base + (s->text[q] - '0');
        }
    }
    for (int l = first; indent < 0 && l < s->nlines; l++) {
        size_t q = s->line_start[l], e = line_end(s, l);
        int sp = 0;
        while (q + (size_t)sp < e && s->text[q + (size_t)sp] == ' ') sp++;
        if (q + (size_t)sp < e && s->text[q + (size_t)sp] != '\r') indent = sp;
    }
    if (indent < 0) indent = 0;
    if (n->style == YS_FOLDED)
        return offset_loc(s, walk_folded(s, s->line_start[first], n->text, n->len, offset, false));

    /* Literal: value line j is source line first + j, shifted right by the indentation. */
    int j = 0;
    size_t line_begin = 0;
    for (size_t i = 0; i < offset; i++)
        if (n->text[i] == '\n') j++, line_begin = i + 1;
    int l = first + j;
    if (l >= s->nlines) l = s->nlines - 1;
    return (SrcLoc){s->name, l + 1, indent + (int)(offset - line_begin) + 1};
}
