/* tmpl_eval.c - renders a parsed template: evaluates expressions with Python's (Jinja2's)
 * semantics for the model's values, and runs the statements into the output buffer.
 * Invariants: every function returning bool has reported its error through diag when it returns
 * false, and the caller just unwinds. An undefined value (a missing name, attribute or item) is
 * not an error until something uses it, as with Jinja2's StrictUndefined, so `default` works. */
#include "tmpl_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool tmpl_fail(TEval *ev, size_t pos, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(tsrc_loc(ev->src, pos), "%s", msg);
    return false;
}

Val tmpl_defined(const TVal *tv) { return (Val){tv, NULL, 0}; }
Val tmpl_undefined(size_t pos, const char *msg) { return (Val){NULL, msg, pos}; }

bool tmpl_require(TEval *ev, Val v) {
    return v.tv ? true : tmpl_fail(ev, v.undef_at, "%s", v.undef_msg);
}

/* ---- Python semantics of values ---- */

bool tmpl_truthy(const TVal *v) {
    switch (v->kind) {
    case TV_NONE: return false;
    case TV_BOOL: return v->b;
    case TV_INT: return v->i != 0;
    case TV_STR: return v->s[0] != 0;
    case TV_LIST: return v->nitems > 0;
    case TV_MAP: return v->npairs > 0;
    }
    return false;
}

const char *tmpl_kind_name(const TVal *v) {
    static const char *const names[] = {"NoneType", "bool", "int", "str", "list", "dict"};
    return names[v->kind];
}

static bool is_number(const TVal *v) { return v->kind == TV_INT || v->kind == TV_BOOL; }
static int64_t number_of(const TVal *v) { return v->kind == TV_BOOL ? v->b : v->i; }

/* Python's repr of a str: single quotes unless the text has ' and no ". */
static void repr_str(SBuf *b, const char *s) {
    char quote = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    sbuf_putc(b, quote);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == quote || *c == '\\') sbuf_printf(b, "\\%c", *c);
        else if (*c == '\n') sbuf_puts(b, "\\n");
        else if (*c == '\t') sbuf_puts(b, "\\t");
        else if (*c == '\r') sbuf_puts(b, "\\r");
        else if (*c < 0x20 || *c == 0x7f) sbuf_printf(b, "\\x%02x", *c);
        else sbuf_putc(b, (char)*c);
    }
    sbuf_putc(b, quote);
}

static void repr_value(SBuf *b, const TVal *v) {
    if (v->kind == TV_STR) repr_str(b, v->s);
    else tmpl_to_str(b, v);
}

void tmpl_to_str(SBuf *b, const TVal *v) {
    switch (v->kind) {
    case TV_NONE: sbuf_puts(b, "None"); break;
    case TV_BOOL: sbuf_puts(b, v->b ? "True" : "False"); break;
    case TV_INT: sbuf_printf(b, "%lld", (long long)v->i); break;
    case TV_STR: sbuf_puts(b, v->s); break;
    case TV_LIST:
        sbuf_putc(b, '[');
        for (int i = 0; i < v->nitems; i++) {
            if (i) sbuf_puts(b, ", ");
            repr_value(b, v->items[i]);
        }
        sbuf_putc(b, ']');
        break;
    case TV_MAP:
        sbuf_putc(b, '{');
        for (int i = 0; i < v->npairs; i++) {
            if (i) sbuf_puts(b, ", ");
            repr_str(b, v->pairs[i].key);
            sbuf_puts(b, ": ");
            repr_value(b, v->pairs[i].val);
        }
        sbuf_putc(b, '}');
        break;
    }
}

const char *tmpl_str(Arena *a, const TVal *v) {
    if (v->kind == TV_STR) return v->s;
    SBuf b = {0};
    tmpl_to_str(&b, v);
    const char *s = arena_strdup(a, sbuf_cstr(&b));
    sbuf_free(&b);
    return s;
}

bool tmpl_equal(const TVal *x, const TVal *y) {
    if (is_number(x) && is_number(y)) return number_of(x) == number_of(y);
    if (x->kind != y->kind) return false;
    switch (x->kind) {
    case TV_NONE: return true;
    case TV_STR: return strcmp(x->s, y->s) == 0;
    case TV_LIST:
        if (x->nitems != y->nitems) return false;
        for (int i = 0; i < x->nitems; i++)
            if (!tmpl_equal(x->items[i], y->items[i])) return false;
        return true;
    case TV_MAP:
        if (x->npairs != y->npairs) return false;
        for (int i = 0; i < x->npairs; i++) {
            const TVal *other = tv_get(y, x->pairs[i].key);
            if (!other || !tmpl_equal(x->pairs[i].val, other)) return false;
        }
        return true;
    default: return false;
    }
}

size_t tmpl_utf8_len(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

/* Byte length of the UTF-8 sequence starting at s (1 for stray continuation bytes). */
static size_t utf8_char_len(const char *s) {
    size_t k = 1;
    while (s[k] && ((unsigned char)s[k] & 0xc0) == 0x80) k++;
    return k;
}

/* The characters of s as strings, split as utf8_char_len steps (so stray continuation bytes at
 * the start join their run, and the count cannot disagree with the split). */
static TVal **string_chars(Arena *a, const char *s, int *n) {
    int count = 0;
    for (const char *c = s; *c; c += utf8_char_len(c)) count++;
    TVal **chars = arena_alloc(a, sizeof *chars * (size_t)(count ? count : 1));
    int i = 0;
    for (const char *c = s; *c; c += utf8_char_len(c)) {
        TVal *ch = arena_alloc(a, sizeof *ch);
        ch->kind = TV_STR;
        ch->s = arena_strndup(a, c, utf8_char_len(c));
        chars[i++] = ch;
    }
    *n = i;
    return chars;
}

bool tmpl_iter_items(TEval *ev, size_t pos, const TVal *v, TVal ***items, int *n) {
    switch (v->kind) {
    case TV_LIST:
        *items = v->items;
        *n = v->nitems;
        return true;
    case TV_MAP:
        *items = arena_alloc(ev->a, sizeof **items * (size_t)(v->npairs ? v->npairs : 1));
        for (int i = 0; i < v->npairs; i++) (*items)[i] = tv_str(ev->a, v->pairs[i].key);
        *n = v->npairs;
        return true;
    case TV_STR:
        *items = string_chars(ev->a, v->s, n);
        return true;
    default:
        return tmpl_fail(ev, pos, "'%s' object is not iterable", tmpl_kind_name(v));
    }
}

/* ---- expressions ---- */

static bool eval(TEval *ev, const TExpr *e, Val *out);

static bool eval_defined(TEval *ev, const TExpr *e, const TVal **out) {
    Val v;
    if (!eval(ev, e, &v) || !tmpl_require(ev, v)) return false;
    *out = v.tv;
    return true;
}

/* "item.name" for a chain of names and attributes, to name the culprit in messages. */
static const char *expr_path(Arena *a, const TExpr *e) {
    if (e->kind == EX_NAME) return e->name;
    if (e->kind != EX_ATTR) return NULL;
    const char *base = expr_path(a, e->lhs);
    return base ? arena_printf(a, "%s.%s", base, e->name) : NULL;
}

static const char *culprit(Arena *a, const TExpr *e, const TVal *v) {
    const char *path = expr_path(a, e);
    return path ? path : arena_printf(a, "%s object", tmpl_kind_name(v));
}

static const TVal *lookup_name(const TEval *ev, const char *name) {
    for (const TScope *s = ev->scope; s; s = s->parent) {
        const TVal *v = tv_get(s->vars, name);
        if (v) return v;
    }
    return tv_get(ev->model, name);
}

static bool eval_name(TEval *ev, const TExpr *e, Val *out) {
    const TVal *v = lookup_name(ev, e->name);
    *out = v ? tmpl_defined(v) : tmpl_undefined(e->pos, arena_printf(ev->a, "'%s' is undefined", e->name));
    return true;
}

static bool eval_attr(TEval *ev, const TExpr *e, Val *out) {
    const TVal *obj;
    if (!eval_defined(ev, e->lhs, &obj)) return false;
    const TVal *v = tv_get(obj, e->name);
    *out = v ? tmpl_defined(v)
             : tmpl_undefined(e->pos, arena_printf(ev->a, "'%s' has no attribute '%s'",
                                                   culprit(ev->a, e->lhs, obj), e->name));
    return true;
}

/* Python's index into n elements (negative counts from the end); -1 when out of range. */
static int64_t python_index(int64_t index, int64_t n) {
    if (index < 0) index += n;
    return index >= 0 && index < n ? index : -1;
}

static bool eval_item(TEval *ev, const TExpr *e, Val *out) {
    const TVal *obj, *key;
    if (!eval_defined(ev, e->lhs, &obj) || !eval_defined(ev, e->rhs, &key)) return false;
    const char *what = culprit(ev->a, e->lhs, obj);
    if (obj->kind == TV_MAP && key->kind == TV_STR) {
        const TVal *v = tv_get(obj, key->s);
        *out = v ? tmpl_defined(v)
                 : tmpl_undefined(e->pos, arena_printf(ev->a, "'%s' has no key '%s'", what, key->s));
        return true;
    }
    if ((obj->kind == TV_LIST || obj->kind == TV_STR) && is_number(key)) {
        TVal **items;
        int n;
        if (!tmpl_iter_items(ev, e->pos, obj, &items, &n)) return false;
        int64_t i = python_index(number_of(key), n);
        *out = i >= 0 ? tmpl_defined(items[i])
                      : tmpl_undefined(e->pos, arena_printf(ev->a, "'%s' has no element %lld", what,
                                                            (long long)number_of(key)));
        return true;
    }
    return tmpl_fail(ev, e->pos, "cannot index '%s' (%s) with a %s", what, tmpl_kind_name(obj),
                     tmpl_kind_name(key));
}

static bool eval_list(TEval *ev, const TExpr *e, Val *out) {
    TVal *list = tv_list(ev->a);
    for (int i = 0; i < e->nargs; i++) {
        const TVal *item;
        if (!eval_defined(ev, e->args[i], &item)) return false;
        tv_push(ev->a, list, (TVal *)item);   /* values are never mutated once built */
    }
    *out = tmpl_defined(list);
    return true;
}

static bool eval_neg(TEval *ev, const TExpr *e, Val *out) {
    const TVal *v;
    if (!eval_defined(ev, e->lhs, &v)) return false;
    if (!is_number(v)) return tmpl_fail(ev, e->pos, "bad operand type for unary -: '%s'", tmpl_kind_name(v));
    if (number_of(v) == INT64_MIN) return tmpl_fail(ev, e->pos, "integer overflow");
    *out = tmpl_defined(tv_int(ev->a, -number_of(v)));
    return true;
}

/* `and` / `or` return one of their operands, as in Python. */
static bool eval_logic(TEval *ev, const TExpr *e, Val *out) {
    const TVal *lhs;
    if (!eval_defined(ev, e->lhs, &lhs)) return false;
    bool decided = e->kind == EX_AND ? !tmpl_truthy(lhs) : tmpl_truthy(lhs);
    if (decided) {
        *out = tmpl_defined(lhs);
        return true;
    }
    return eval(ev, e->rhs, out);
}

static const char *const op_names[] = {"==", "!=", "<", ">", "<=", ">=", "in", "not in", "~", "+", "-"};

static bool type_error(TEval *ev, const TExpr *e, const TVal *x, const TVal *y) {
    if (e->op >= OP_LT && e->op <= OP_GE)
        return tmpl_fail(ev, e->pos, "'%s' not supported between instances of '%s' and '%s'",
                         op_names[e->op], tmpl_kind_name(x), tmpl_kind_name(y));
    return tmpl_fail(ev, e->pos, "unsupported operand type(s) for %s: '%s' and '%s'", op_names[e->op],
                     tmpl_kind_name(x), tmpl_kind_name(y));
}

/* Python's ordering: <0, 0, >0; false when x and y cannot be ordered. */
static bool order(const TVal *x, const TVal *y, int *cmp) {
    if (is_number(x) && is_number(y)) {
        *cmp = (number_of(x) > number_of(y)) - (number_of(x) < number_of(y));
        return true;
    }
    if (x->kind == TV_STR && y->kind == TV_STR) {
        int c = strcmp(x->s, y->s);
        *cmp = (c > 0) - (c < 0);
        return true;
    }
    if (x->kind != TV_LIST || y->kind != TV_LIST) return false;
    for (int i = 0; i < x->nitems && i < y->nitems; i++) {
        if (tmpl_equal(x->items[i], y->items[i])) continue;
        return order(x->items[i], y->items[i], cmp);
    }
    *cmp = (x->nitems > y->nitems) - (x->nitems < y->nitems);
    return true;
}

static bool compare(TEval *ev, const TExpr *e, const TVal *x, const TVal *y, bool *result) {
    int c;
    if (!order(x, y, &c)) return type_error(ev, e, x, y);
    switch (e->op) {
    case OP_LT: *result = c < 0; break;
    case OP_GT: *result = c > 0; break;
    case OP_LE: *result = c <= 0; break;
    default: *result = c >= 0; break;
    }
    return true;
}

static bool contains(TEval *ev, const TExpr *e, const TVal *needle, const TVal *hay, bool *result) {
    switch (hay->kind) {
    case TV_STR:
        if (needle->kind != TV_STR)
            return tmpl_fail(ev, e->pos, "'in <string>' requires string as left operand, not %s",
                             tmpl_kind_name(needle));
        *result = strstr(hay->s, needle->s) != NULL;
        return true;
    case TV_LIST:
        *result = false;
        for (int i = 0; i < hay->nitems && !*result; i++) *result = tmpl_equal(needle, hay->items[i]);
        return true;
    case TV_MAP:
        if (needle->kind == TV_LIST || needle->kind == TV_MAP)
            return tmpl_fail(ev, e->pos, "unhashable type: '%s'", tmpl_kind_name(needle));
        *result = needle->kind == TV_STR && tv_get(hay, needle->s) != NULL;
        return true;
    default:
        return tmpl_fail(ev, e->pos, "argument of type '%s' is not iterable", tmpl_kind_name(hay));
    }
}

static bool arithmetic(TEval *ev, const TExpr *e, const TVal *x, const TVal *y, Val *out) {
    if (is_number(x) && is_number(y)) {
        int64_t r;
        bool overflow = e->op == OP_ADD ? __builtin_add_overflow(number_of(x), number_of(y), &r)
                                        : __builtin_sub_overflow(number_of(x), number_of(y), &r);
        if (overflow) return tmpl_fail(ev, e->pos, "integer overflow");
        *out = tmpl_defined(tv_int(ev->a, r));
        return true;
    }
    if (e->op == OP_ADD && x->kind == TV_STR && y->kind == TV_STR) {
        *out = tmpl_defined(tv_str(ev->a, arena_printf(ev->a, "%s%s", x->s, y->s)));
        return true;
    }
    if (e->op == OP_ADD && x->kind == TV_LIST && y->kind == TV_LIST) {
        TVal *list = tv_list(ev->a);
        for (int i = 0; i < x->nitems; i++) tv_push(ev->a, list, x->items[i]);
        for (int i = 0; i < y->nitems; i++) tv_push(ev->a, list, y->items[i]);
        *out = tmpl_defined(list);
        return true;
    }
    return type_error(ev, e, x, y);
}

static bool eval_binop(TEval *ev, const TExpr *e, Val *out) {
    const TVal *x, *y;
    if (!eval_defined(ev, e->lhs, &x) || !eval_defined(ev, e->rhs, &y)) return false;
    bool result = false;
    switch (e->op) {
    case OP_EQ: result = tmpl_equal(x, y); break;
    case OP_NE: result = !tmpl_equal(x, y); break;
    case OP_LT: case OP_GT: case OP_LE: case OP_GE:
        if (!compare(ev, e, x, y, &result)) return false;
        break;
    case OP_IN: case OP_NOTIN:
        if (!contains(ev, e, x, y, &result)) return false;
        if (e->op == OP_NOTIN) result = !result;
        break;
    case OP_CONCAT:
        *out = tmpl_defined(tv_str(ev->a, arena_printf(ev->a, "%s%s", tmpl_str(ev->a, x), tmpl_str(ev->a, y))));
        return true;
    case OP_ADD: case OP_SUB:
        return arithmetic(ev, e, x, y, out);
    }
    *out = tmpl_defined(tv_bool(ev->a, result));
    return true;
}

static bool eval_filter(TEval *ev, const TExpr *e, Val *out) {
    Val in;
    if (!eval(ev, e->lhs, &in)) return false;
    if (!e->filter->accepts_undefined && !tmpl_require(ev, in)) return false;
    Val args[TMPL_MAX_FILTER_ARGS];   /* the parser checked nargs <= max_args <= this */
    for (int i = 0; i < e->nargs; i++) {
        if (!eval(ev, e->args[i], &args[i]) || !tmpl_require(ev, args[i])) return false;
    }
    return e->filter->fn(ev, e, in, args, e->nargs, out);
}

static bool eval(TEval *ev, const TExpr *e, Val *out) {
    switch (e->kind) {
    case EX_LIT: *out = tmpl_defined(e->lit); return true;
    case EX_NAME: return eval_name(ev, e, out);
    case EX_ATTR: return eval_attr(ev, e, out);
    case EX_ITEM: return eval_item(ev, e, out);
    case EX_LIST: return eval_list(ev, e, out);
    case EX_NOT: {
        const TVal *v;
        if (!eval_defined(ev, e->lhs, &v)) return false;
        *out = tmpl_defined(tv_bool(ev->a, !tmpl_truthy(v)));
        return true;
    }
    case EX_NEG: return eval_neg(ev, e, out);
    case EX_AND: case EX_OR: return eval_logic(ev, e, out);
    case EX_BINOP: return eval_binop(ev, e, out);
    case EX_FILTER: return eval_filter(ev, e, out);
    }
    return false;
}

/* ---- statements ---- */

static bool exec_block(TEval *ev, const TBlock *b);

static bool exec_output(TEval *ev, const TStmt *s) {
    const TVal *v;
    if (!eval_defined(ev, s->expr, &v)) return false;
    tmpl_to_str(ev->out, v);
    return true;
}

static bool exec_if(TEval *ev, const TStmt *s) {
    const TVal *cond;
    if (!eval_defined(ev, s->expr, &cond)) return false;
    return exec_block(ev, tmpl_truthy(cond) ? &s->body : &s->orelse);
}

static void set_loop_vars(TEval *ev, TVal *loop, int i, int n) {
    tv_set_int(ev->a, loop, "index", i + 1);
    tv_set_int(ev->a, loop, "index0", i);
    tv_set_int(ev->a, loop, "revindex", n - i);
    tv_set_int(ev->a, loop, "revindex0", n - i - 1);
    tv_set_bool(ev->a, loop, "first", i == 0);
    tv_set_bool(ev->a, loop, "last", i == n - 1);
    tv_set_int(ev->a, loop, "length", n);
}

static bool bind_targets(TEval *ev, const TStmt *s, TVal *vars, TVal *item) {
    if (s->nnames == 1) {
        tv_set(ev->a, vars, s->names[0], item);
        return true;
    }
    if (item->kind != TV_LIST || item->nitems != s->nnames)
        return tmpl_fail(ev, s->expr->pos, "cannot unpack a %s into %d loop variables", tmpl_kind_name(item),
                         s->nnames);
    for (int k = 0; k < s->nnames; k++) tv_set(ev->a, vars, s->names[k], item->items[k]);
    return true;
}

/* Each iteration gets a fresh scope: a `set` in the body lasts until the iteration ends. */
/* One more statement or loop iteration; false (reported) beyond TMPL_MAX_STEPS. */
static bool step(TEval *ev, size_t pos) {
    if (++ev->steps <= TMPL_MAX_STEPS) return true;
    return tmpl_fail(ev, pos, "the template runs more than %ld statements and loop iterations", TMPL_MAX_STEPS);
}

static bool exec_for(TEval *ev, const TStmt *s) {
    const TVal *seq;
    TVal **items;
    int n;
    if (!eval_defined(ev, s->expr, &seq) || !tmpl_iter_items(ev, s->expr->pos, seq, &items, &n)) return false;
    if (n == 0) return exec_block(ev, &s->orelse);
    TVal *loop = tv_map(ev->a);
    for (int i = 0; i < n; i++) {
        if (!step(ev, s->pos)) return false;
        TScope iteration = {ev->scope, tv_map(ev->a)};
        set_loop_vars(ev, loop, i, n);
        tv_set(ev->a, iteration.vars, "loop", loop);
        if (!bind_targets(ev, s, iteration.vars, items[i])) return false;
        ev->scope = &iteration;
        bool ok = exec_block(ev, &s->body);
        ev->scope = iteration.parent;
        if (!ok) return false;
    }
    return true;
}

static bool exec_set(TEval *ev, const TStmt *s) {
    const TVal *v;
    if (!eval_defined(ev, s->expr, &v)) return false;
    tv_set(ev->a, ev->scope->vars, s->names[0], (TVal *)v);   /* values are never mutated once built */
    return true;
}

static bool exec_stmt(TEval *ev, const TStmt *s) {
    if (!step(ev, s->pos)) return false;
    if (ev->out->len > TMPL_MAX_OUTPUT)
        return tmpl_fail(ev, s->pos, "the template's output passes %zu MiB", TMPL_MAX_OUTPUT >> 20);
    switch (s->kind) {
    case ST_TEXT: sbuf_put(ev->out, s->text, s->len); return true;
    case ST_OUTPUT: return exec_output(ev, s);
    case ST_IF: return exec_if(ev, s);
    case ST_FOR: return exec_for(ev, s);
    case ST_SET: return exec_set(ev, s);
    }
    return false;
}

static bool exec_block(TEval *ev, const TBlock *b) {
    for (int i = 0; i < b->len; i++)
        if (!exec_stmt(ev, b->items[i])) return false;
    return true;
}

bool tmpl_exec(TEval *ev, const TBlock *body) { return exec_block(ev, body); }
