/* tmpl_filter.c - the filters `expr | name(args)`, each with Jinja2's behaviour for the values a
 * model holds (c_string is ours: tests/suite_tmpl.py registers the same one in Jinja2).
 * Invariants: the input is defined unless the filter accepts undefined (only `default`); the
 * parser has checked the argument count against min_args/max_args; results are new arena values. */
#include "tmpl_internal.h"
#include <ctype.h>
#include <string.h>

static bool put_str(TEval *ev, const char *s, Val *out) {
    *out = tmpl_defined(tv_str(ev->a, s));
    return true;
}

static bool require_kind(TEval *ev, const TExpr *at, const TVal *v, TValKind kind, const char *what) {
    if (v->kind == kind) return true;
    return tmpl_fail(ev, at->pos, "filter '%s' needs %s, got a %s", at->name, what, tmpl_kind_name(v));
}

static bool map_ascii(TEval *ev, Val in, int (*conv)(int), Val *out) {
    char *s = arena_strdup(ev->a, tmpl_str(ev->a, in.tv));
    for (char *c = s; *c; c++)
        if (!((unsigned char)*c & 0x80)) *c = (char)conv((unsigned char)*c);
    return put_str(ev, s, out);
}

static bool f_upper(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)at, (void)args, (void)nargs;
    return map_ascii(ev, in, toupper, out);
}

static bool f_lower(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)at, (void)args, (void)nargs;
    return map_ascii(ev, in, tolower, out);
}

static bool f_length(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)args, (void)nargs;
    const TVal *v = in.tv;
    int64_t n;
    if (v->kind == TV_STR) n = (int64_t)tmpl_utf8_len(v->s, strlen(v->s));
    else if (v->kind == TV_LIST) n = v->nitems;
    else if (v->kind == TV_MAP) n = v->npairs;
    else return tmpl_fail(ev, at->pos, "object of type '%s' has no len()", tmpl_kind_name(v));
    *out = tmpl_defined(tv_int(ev->a, n));
    return true;
}

static bool f_join(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    TVal **items;
    int n;
    if (!tmpl_iter_items(ev, at->pos, in.tv, &items, &n)) return false;
    const char *sep = nargs > 0 ? tmpl_str(ev->a, args[0].tv) : "";
    SBuf b = {0};
    for (int i = 0; i < n; i++) {
        if (i) sbuf_puts(&b, sep);
        tmpl_to_str(&b, items[i]);
    }
    put_str(ev, sbuf_cstr(&b), out);
    sbuf_free(&b);
    return true;
}

/* default(value="", boolean=false): the value when the input is undefined (or falsy, with
 * boolean true). */
static bool f_default(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)at;
    bool use_default = !in.tv || (nargs > 1 && tmpl_truthy(args[1].tv) && !tmpl_truthy(in.tv));
    if (!use_default) *out = in;
    else if (nargs > 0) *out = args[0];
    else *out = tmpl_defined(tv_str(ev->a, ""));
    return true;
}

static bool first_or_last(TEval *ev, const TExpr *at, Val in, bool last, Val *out) {
    TVal **items;
    int n;
    if (!tmpl_iter_items(ev, at->pos, in.tv, &items, &n)) return false;
    if (n > 0) *out = tmpl_defined(items[last ? n - 1 : 0]);
    else *out = tmpl_undefined(at->pos, last ? "No last item, sequence was empty." : "No first item, sequence was empty.");
    return true;
}

static bool f_first(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)args, (void)nargs;
    return first_or_last(ev, at, in, false, out);
}

static bool f_last(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)args, (void)nargs;
    return first_or_last(ev, at, in, true, out);
}

/* Python's str.replace: an empty `old` matches before every character and at the end. */
static void replace_into(SBuf *b, const char *s, const char *old, const char *new, int64_t count) {
    size_t old_len = strlen(old);
    while (count != 0) {
        const char *hit = old_len ? strstr(s, old) : s;
        if (!hit) break;
        sbuf_put(b, s, (size_t)(hit - s));
        sbuf_puts(b, new);
        count--;
        if (old_len) {
            s = hit + old_len;
            continue;
        }
        if (!*s) return;   /* the match at the very end */
        size_t k = 1;
        while (((unsigned char)s[k] & 0xc0) == 0x80) k++;   /* one UTF-8 character */
        sbuf_put(b, s, k);
        s += k;
    }
    sbuf_puts(b, s);
}

static bool f_replace(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    int64_t count = -1;
    if (nargs > 2) {
        if (!require_kind(ev, at, args[2].tv, TV_INT, "an int count")) return false;
        count = args[2].tv->i < 0 ? -1 : args[2].tv->i;
    }
    SBuf b = {0};
    replace_into(&b, tmpl_str(ev->a, in.tv), tmpl_str(ev->a, args[0].tv), tmpl_str(ev->a, args[1].tv), count);
    put_str(ev, sbuf_cstr(&b), out);
    sbuf_free(&b);
    return true;
}

/* trim(chars=None): Python's str.strip. */
static bool f_trim(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)at;
    const char *s = tmpl_str(ev->a, in.tv);
    const char *chars = nargs > 0 && args[0].tv->kind != TV_NONE ? tmpl_str(ev->a, args[0].tv) : NULL;
    size_t start = 0, end = strlen(s);
#define STRIPPED(c) (chars ? (c) != 0 && strchr(chars, (c)) != NULL : tmpl_is_space((unsigned char)(c)))
    while (start < end && STRIPPED(s[start])) start++;
    while (end > start && STRIPPED(s[end - 1])) end--;
#undef STRIPPED
    *out = tmpl_defined(tv_str(ev->a, arena_strndup(ev->a, s + start, end - start)));
    return true;
}

/* Length of the line break at s (Python's str.splitlines, ASCII breaks), 0 if none. */
static size_t line_break_len(const char *s) {
    if (s[0] == '\r' && s[1] == '\n') return 2;
    return strchr("\n\r\v\f\x1c\x1d\x1e", s[0]) && s[0] ? 1 : 0;
}

/* Jinja2's do_indent: s + "\n" split into lines, rejoined with "\n"; lines after the first are
 * indented unless blank (blank=true indents them too); first=true indents the first line. */
static void indent_into(Arena *a, SBuf *b, const char *s, const char *pad, bool first, bool blank) {
    const char *text = arena_printf(a, "%s\n", s);
    if (first) sbuf_puts(b, pad);
    bool first_line = true;
    for (const char *line = text; *line;) {
        size_t n = 0;
        while (line[n] && !line_break_len(line + n)) n++;
        if (!first_line) {
            sbuf_putc(b, '\n');
            if (n > 0 || blank) sbuf_puts(b, pad);
        }
        sbuf_put(b, line, n);
        first_line = false;
        line += n;
        line += line_break_len(line);
    }
}

static bool f_indent(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    if (!require_kind(ev, at, in.tv, TV_STR, "a str")) return false;
    const char *pad = "    ";
    if (nargs > 0 && args[0].tv->kind == TV_STR) {
        pad = args[0].tv->s;
    } else if (nargs > 0) {
        if (!require_kind(ev, at, args[0].tv, TV_INT, "an int or str width")) return false;
        int64_t width = args[0].tv->i < 0 ? 0 : args[0].tv->i;
        char *spaces = arena_alloc(ev->a, (size_t)width + 1);
        memset(spaces, ' ', (size_t)width);
        pad = spaces;
    }
    bool first = nargs > 1 && tmpl_truthy(args[1].tv), blank = nargs > 2 && tmpl_truthy(args[2].tv);
    SBuf b = {0};
    indent_into(ev->a, &b, in.tv->s, pad, first, blank);
    put_str(ev, sbuf_cstr(&b), out);
    sbuf_free(&b);
    return true;
}

/* items: a map's [key, value] pairs, for `for k, v in m | items`. */
static bool f_items(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)args, (void)nargs;
    if (!require_kind(ev, at, in.tv, TV_MAP, "a map")) return false;
    TVal *list = tv_list(ev->a);
    for (int i = 0; i < in.tv->npairs; i++) {
        TVal *pair = tv_list(ev->a);
        tv_push(ev->a, pair, tv_str(ev->a, in.tv->pairs[i].key));
        tv_push(ev->a, pair, in.tv->pairs[i].val);
        tv_push(ev->a, list, pair);
    }
    *out = tmpl_defined(list);
    return true;
}

/* c_string: a C string literal of str(value), pure ASCII: \\ \" \n \t, other control and
 * non-ASCII bytes as three-digit octal, and `?` after `?` escaped so no trigraph can form. */
static bool f_c_string(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out) {
    (void)at, (void)args, (void)nargs;
    SBuf b = {0};
    const char *s = tmpl_str(ev->a, in.tv);
    sbuf_put_c_string(&b, s, strlen(s));
    put_str(ev, sbuf_cstr(&b), out);
    sbuf_free(&b);
    return true;
}

static const TFilter filters[] = {
    {"upper", 0, 0, false, f_upper},
    {"lower", 0, 0, false, f_lower},
    {"length", 0, 0, false, f_length},
    {"join", 0, 1, false, f_join},
    {"default", 0, 2, true, f_default},
    {"first", 0, 0, false, f_first},
    {"last", 0, 0, false, f_last},
    {"replace", 2, 3, false, f_replace},
    {"trim", 0, 1, false, f_trim},
    {"indent", 0, 3, false, f_indent},
    {"items", 0, 0, false, f_items},
    {"c_string", 0, 0, false, f_c_string},
};

const TFilter *tmpl_find_filter(const char *name) {
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (strcmp(filters[i].name, name) == 0) return &filters[i];
    return NULL;
}
