/* expr_emit.c - C code generation for checked expressions.
 *
 * Every operator node becomes a pair of fresh temporaries `T _tN` (the value) and `bool _tNn`
 * (NULL), declared in the current C block, so a result stays visible to the rest of the block.
 * Leaves (fields, literals) become plain C expressions without temporaries.
 * Invariants:
 * - A value expression is always safe to evaluate, also when its null expression is true: values of
 *   NULL results are zero, and anything that reads an operand (a string, a division) is guarded by
 *   the operands' null tests, so a NULL operand never reaches a runtime function.
 * - Operands that must not be evaluated unless needed (the right side of and/or, case branches,
 *   later coalesce arguments) are emitted inside if/else blocks, so a branch not taken can never
 *   count an overflow or a division by zero.
 * - Nothing emitted is unused, so the output compiles warning-free under -Wall -Wextra.
 * Arithmetic, casts and functions that can fail go through rt_expr.h, which counts overflow and
 * division by zero in run->stats. */
#include "expr_internal.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct Em {
    Arena *a;
    CEmitter *ce;
} Em;

static CVal emit(Em *m, const Expr *e);

static void line(Em *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(Em *m, const char *fmt, ...) {
    for (int i = 0; i < m->ce->indent; i++) sbuf_puts(m->ce->out, "    ");
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(m->ce->out, fmt, ap);
    va_end(ap);
    sbuf_putc(m->ce->out, '\n');
}

static const char *fmt(Em *m, const char *f, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt(Em *m, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    SBuf b = {0};
    sbuf_vprintf(&b, f, ap);
    va_end(ap);
    const char *s = arena_strdup(m->a, sbuf_cstr(&b));
    sbuf_free(&b);
    return s;
}

static const char *new_tmp(Em *m) { return fmt(m, "_t%d", m->ce->tmp++); }
static const char *RUN(Em *m) { return m->ce->run; }

static const char *zero(Type t) {
    return t == T_STRING ? "((prt_str){0, 0})" : t == T_BOOL ? "false" : "0";
}

static CVal cval(const char *v, const char *n, Type t) { return (CVal){v, n, t, NULL}; }
static CVal null_of(Type t) { return cval(zero(t), "1", t); }

static bool never_null(const char *n) { return strcmp(n, "0") == 0; }

/* "a || b" for null expressions, simplified where one side is statically non-null */
static const char *or_null(Em *m, const char *a, const char *b) {
    if (never_null(a)) return b;
    if (never_null(b)) return a;
    return fmt(m, "%s || %s", a, b);
}

/* The value of v as C type of `to` (numeric promotion, date to timestamp). */
static const char *conv(Em *m, CVal v, Type to) {
    if (v.type == to || v.type == T_NULL) return v.type == T_NULL ? zero(to) : v.val;
    if (v.type == T_DATE && to == T_TIMESTAMP) return fmt(m, "prt_date_ts(%s)", v.val);
    if (to == T_FLOAT64) return fmt(m, "(double)%s", v.val);
    if (to == T_INT64 || to == T_TIMESTAMP || to == T_INTERVAL) return fmt(m, "(int64_t)%s", v.val);
    return v.val;
}

static const char *sfx(Type t) { return t == T_INT32 || t == T_DATE ? "i32" : "i64"; }

/* Declares `T _tN = val; bool _tNn = isnull;` and returns the pair. */
static CVal decl(Em *m, Type t, const char *val, const char *isnull) {
    const char *tn = new_tmp(m);
    if (never_null(isnull)) {
        line(m, "%s %s = %s;", type_c_name(t), tn, val);
        return cval(tn, "0", t);
    }
    line(m, "bool %sn = %s;", tn, isnull);
    line(m, "%s %s = %sn ? %s : %s;", type_c_name(t), tn, tn, zero(t), val);
    return cval(tn, fmt(m, "%sn", tn), t);
}

/* Declares `T _tN = 0; bool _tNn = <isnull> || !CALL(..., &_tN);` for functions that may fail. */
static CVal decl_fail(Em *m, Type t, const char *isnull, const char *call_fmt, ...)
    __attribute__((format(printf, 4, 5)));
static CVal decl_fail(Em *m, Type t, const char *isnull, const char *call_fmt, ...) {
    const char *tn = new_tmp(m);
    va_list ap;
    va_start(ap, call_fmt);
    SBuf b = {0};
    sbuf_vprintf(&b, call_fmt, ap);
    va_end(ap);
    line(m, "%s %s = %s;", type_c_name(t), tn, zero(t));
    if (never_null(isnull))
        line(m, "bool %sn = !%s, &%s);", tn, sbuf_cstr(&b), tn);
    else
        line(m, "bool %sn = %s || !%s, &%s);", tn, isnull, sbuf_cstr(&b), tn);
    sbuf_free(&b);
    return cval(tn, fmt(m, "%sn", tn), t);
}

/* A C expression true only when the bool v is TRUE. */
static const char *truth(Em *m, CVal v) {
    if (v.type == T_NULL) return "0";
    if (never_null(v.isnull)) return v.val;
    return fmt(m, "(!%s && %s)", v.isnull, v.val);
}

static void c_string(SBuf *b, const char *s, size_t n) {
    sbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') sbuf_printf(b, "\\%c", c);
        else if (c == '?' && i + 1 < n && s[i + 1] == '?') sbuf_puts(b, "\\?");   /* trigraphs */
        else if (c < 0x20 || c >= 0x7F) sbuf_printf(b, "\\%03o", c);
        else sbuf_putc(b, (char)c);
    }
    sbuf_putc(b, '"');
}

static const char *int_lit(Em *m, int64_t v, Type t) {
    if (t == T_INT32 || t == T_DATE) {
        if (v == INT32_MIN) return "(-2147483647 - 1)";
        return v < 0 ? fmt(m, "(%" PRId64 ")", v) : fmt(m, "%" PRId64, v);
    }
    if (v == INT64_MIN) return "(-INT64_C(9223372036854775807) - 1)";
    return v < 0 ? fmt(m, "(-INT64_C(%" PRId64 "))", -v) : fmt(m, "INT64_C(%" PRId64 ")", v);
}

static CVal emit_lit(Em *m, const Expr *e) {
    switch (e->lit) {
    case T_NULL: return null_of(T_NULL);
    case T_BOOL: return cval(e->ival ? "true" : "false", "0", T_BOOL);
    case T_FLOAT64: {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", e->fval);
        if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
        return cval(e->fval < 0 || buf[0] == '-' ? fmt(m, "(%s)", buf) : fmt(m, "%s", buf), "0", T_FLOAT64);
    }
    case T_STRING: {
        SBuf b = {0};
        sbuf_puts(&b, "((prt_str){");
        c_string(&b, e->sval, e->slen);
        sbuf_printf(&b, ", %zu})", e->slen);
        const char *s = arena_strdup(m->a, sbuf_cstr(&b));
        sbuf_free(&b);
        return cval(s, "0", T_STRING);
    }
    default:
        return cval(int_lit(m, e->ival, e->lit), "0", e->lit);
    }
}

static CVal emit_field(Em *m, const Expr *e, bool enum_index) {
    const ExprField *f = e->field;
    const char *isnull = f->c_null ? fmt(m, "(%s)", f->c_null) : "0";
    if (f->nenum > 0 && !enum_index) {
        const char *v = f->c_null ? fmt(m, "(%s ? %s : %s[%s])", isnull, zero(T_STRING), f->enum_names_c, f->c_value)
                                  : fmt(m, "%s[%s]", f->enum_names_c, f->c_value);
        return cval(v, isnull, T_STRING);
    }
    return cval(f->c_value, isnull, f->nenum > 0 ? T_INT32 : f->type);
}

/* A value as text, for || and casts (v known not NULL where this is evaluated). */
static const char *to_str(Em *m, CVal v) {
    switch (v.type) {
    case T_STRING: return v.val;
    case T_BOOL: return fmt(m, "prt_bool_to_str(%s)", v.val);
    case T_INT32: case T_INT64: return fmt(m, "prt_i64_to_str(%s, %s)", RUN(m), v.val);
    case T_FLOAT64: return fmt(m, "prt_f64_to_str(%s, %s)", RUN(m), v.val);
    case T_TIMESTAMP: return fmt(m, "prt_ts_to_str(%s, %s)", RUN(m), v.val);
    case T_DATE: return fmt(m, "prt_date_to_str(%s, %s)", RUN(m), v.val);
    case T_INTERVAL: return fmt(m, "prt_interval_to_str(%s, %s)", RUN(m), v.val);
    default: return zero(T_STRING);
    }
}

static bool has_null_kid(const Expr *e) {
    for (int i = 0; i < e->nkids; i++)
        if (e->kids[i]->type == T_NULL) return true;
    return false;
}

static CVal emit_arith(Em *m, const Expr *e) {
    const Expr *l = e->kids[0], *r = e->kids[1];
    CVal a = emit(m, l), b = emit(m, r);
    const char *nul = or_null(m, a.isnull, b.isnull);
    const char *R = RUN(m);
    static const char *const opfn[] = {"add", "sub", "mul", "div", "mod"};
    static const char *const opc[] = {"+", "-", "*", "/", "%"};
    BinOp op = e->op;
    Type lt = l->type, rt = r->type, t = e->type;
    if (op == OP_CONCAT)
        return decl(m, T_STRING, fmt(m, "prt_str_concat(%s, %s, %s)", R, to_str(m, a), to_str(m, b)), nul);
    if (type_is_numeric(lt) && type_is_numeric(rt)) {
        const char *x = conv(m, a, t), *y = conv(m, b, t);
        if (t == T_FLOAT64) {
            if (op == OP_DIV || op == OP_MOD)
                return decl_fail(m, t, nul, "prt_%s_f64(%s, %s, %s", opfn[op], R, x, y);
            return decl(m, t, fmt(m, "%s %s %s", x, opc[op], y), nul);
        }
        return decl_fail(m, t, nul, "prt_%s_%s(%s, %s, %s", opfn[op], sfx(t), R, x, y);
    }
    /* time arithmetic */
    if (t == T_DATE) {
        const Expr *dn = lt == T_DATE ? l : r;
        CVal d = dn == l ? a : b, n = dn == l ? b : a;
        return decl_fail(m, T_DATE, nul, "prt_date_%s(%s, %s, %s", op == OP_ADD ? "add" : "sub", R,
                         d.val, conv(m, n, T_INT64));
    }
    if (t == T_INT32)   /* date - date */
        return decl_fail(m, T_INT32, nul, "prt_sub_i32(%s, %s, %s", R, a.val, b.val);
    if (op == OP_MUL || op == OP_DIV)   /* interval * int, int * interval, interval / int */
        return decl_fail(m, T_INTERVAL, nul, "prt_%s_i64(%s, %s, %s", opfn[op], R,
                         conv(m, a, T_INT64), conv(m, b, T_INT64));
    /* timestamp/interval +- : every operand as int64 microseconds; interval + ts swaps nothing
     * since addition commutes */
    const char *x = conv(m, a, lt == T_DATE ? T_TIMESTAMP : lt);
    const char *y = conv(m, b, rt == T_DATE ? T_TIMESTAMP : rt);
    return decl_fail(m, t, nul, "prt_%s_i64(%s, %s, %s", opfn[op], R, x, y);
}

/* The C condition of `a OP b` compared as type t (both known not NULL where evaluated). */
static const char *cmp_expr(Em *m, BinOp op, CVal a, CVal b, Type t) {
    static const char *const opc[] = {"", "", "", "", "", "", "==", "!=", "<", "<=", ">", ">="};
    if (t == T_STRING) {
        if (op == OP_EQ) return fmt(m, "prt_str_eq(%s, %s)", a.val, b.val);
        if (op == OP_NE) return fmt(m, "!prt_str_eq(%s, %s)", a.val, b.val);
        return fmt(m, "prt_str_cmp(%s, %s) %s 0", a.val, b.val, opc[op]);
    }
    const char *x = conv(m, a, t), *y = conv(m, b, t);
    if (strcmp(x, y) == 0) {
        /* `price = price` is legal (false only for NaN); a copy keeps gcc's self-comparison
         * warning out of the generated code */
        const char *tn = new_tmp(m);
        line(m, "%s %s = %s;", type_c_name(t), tn, y);
        y = tn;
    }
    return fmt(m, "%s %s %s", x, opc[op], y);
}

/* Marks a value that the parent does not read as used (it was computed for its NULL only). */
static void consume(Em *m, CVal v) {
    if (strncmp(v.val, "_t", 2) == 0) line(m, "(void)%s;", v.val);
}

/* An operand of a comparison: an enum field as its index when the node compares indexes. */
static CVal emit_operand(Em *m, const Expr *e, bool enum_cmp) {
    if (enum_cmp && e->kind == EX_FIELD && e->field && e->field->nenum > 0) return emit_field(m, e, true);
    if (enum_cmp && e->kind == EX_LIT && e->lit == T_STRING) return cval(int_lit(m, e->ival, T_INT32), "0", T_INT32);
    return emit(m, e);
}

static CVal emit_cmp(Em *m, const Expr *e) {
    CVal a = emit_operand(m, e->kids[0], e->enum_cmp), b = emit_operand(m, e->kids[1], e->enum_cmp);
    const char *nul = or_null(m, a.isnull, b.isnull);
    const char *c = cmp_expr(m, e->op, a, b, e->optype);
    return decl(m, T_BOOL, never_null(nul) ? c : fmt(m, "(%s)", c), nul);
}

static CVal emit_and_or(Em *m, const Expr *e) {
    bool is_and = e->kind == EX_AND;
    CVal a = emit(m, e->kids[0]);
    const char *tn = new_tmp(m);
    line(m, "bool %s = %s, %sn = 0;", tn, is_and ? "false" : "true", tn);
    /* the left side decides alone when it is FALSE (and) or TRUE (or) */
    const char *decides = is_and ? (never_null(a.isnull) ? fmt(m, "!%s", a.val) : fmt(m, "(!%s && !%s)", a.isnull, a.val))
                                 : truth(m, a);
    line(m, "if (!(%s)) {", decides);
    m->ce->indent++;
    CVal b = emit(m, e->kids[1]);
    const char *b_decides = is_and ? (never_null(b.isnull) ? fmt(m, "!%s", b.val) : fmt(m, "(!%s && !%s)", b.isnull, b.val))
                                   : truth(m, b);
    line(m, "if (%s) %s = %s;", b_decides, tn, is_and ? "false" : "true");
    const char *either = or_null(m, a.isnull, b.isnull);
    if (never_null(either)) {
        line(m, "else %s = %s;", tn, is_and ? "true" : "false");
    } else {
        line(m, "else if (%s) %sn = 1;", either, tn);
        line(m, "else %s = %s;", tn, is_and ? "true" : "false");
    }
    m->ce->indent--;
    line(m, "}");
    return cval(tn, fmt(m, "%sn", tn), T_BOOL);
}

static CVal emit_in(Em *m, const Expr *e) {
    CVal x = emit_operand(m, e->kids[0], e->enum_cmp);
    const char *tn = new_tmp(m);
    bool nullable_items = false;
    for (int i = 1; i < e->nkids; i++)
        if (e->kids[i]->type == T_NULL) nullable_items = true;
    line(m, "bool %s = false, %sn = %s;", tn, tn, x.isnull);
    line(m, "if (!%sn) {", tn);
    m->ce->indent++;
    const char *saw = fmt(m, "%ss", tn);
    size_t saw_pos = m->ce->out->len;
    for (int i = 1; i < e->nkids; i++) {
        const Expr *it = e->kids[i];
        if (it->type == T_NULL) {
            line(m, "%s = 1;", saw);
            continue;
        }
        CVal v = emit_operand(m, it, e->enum_cmp);
        const char *c = cmp_expr(m, OP_EQ, x, v, e->optype);
        if (never_null(v.isnull)) {
            line(m, "if (%s) %s = true;", c, tn);
        } else {
            nullable_items = true;
            line(m, "if (%s) %s = 1;", v.isnull, saw);
            line(m, "else if (%s) %s = true;", c, tn);
        }
    }
    bool compared = false;
    for (int i = 1; i < e->nkids; i++)
        if (e->kids[i]->type != T_NULL) compared = true;
    if (!compared) consume(m, x);
    if (nullable_items) {
        /* declare the "saw a NULL" flag at the top of the block, now that it is known to be needed */
        SBuf d = {0};
        for (int i = 0; i < m->ce->indent; i++) sbuf_puts(&d, "    ");
        sbuf_printf(&d, "bool %s = 0;\n", saw);
        SBuf *o = m->ce->out;
        SBuf rest = {0};
        sbuf_put(&rest, o->s + saw_pos, o->len - saw_pos);
        o->len = saw_pos;
        sbuf_put(o, d.s, d.len);
        sbuf_put(o, rest.s ? rest.s : "", rest.len);
        sbuf_free(&d);
        sbuf_free(&rest);
        line(m, "if (!%s && %s) %sn = 1;", tn, saw, tn);
    }
    if (e->negated) line(m, "if (!%sn) %s = !%s;", tn, tn, tn);
    m->ce->indent--;
    line(m, "}");
    return cval(tn, fmt(m, "%sn", tn), T_BOOL);
}

static CVal emit_between(Em *m, const Expr *e) {
    CVal x = emit(m, e->kids[0]), lo = emit(m, e->kids[1]), hi = emit(m, e->kids[2]);
    const char *n1 = or_null(m, x.isnull, lo.isnull), *n2 = or_null(m, x.isnull, hi.isnull);
    const char *c1 = cmp_expr(m, OP_GE, x, lo, e->optype), *c2 = cmp_expr(m, OP_LE, x, hi, e->optype);
    const char *tn = new_tmp(m);
    line(m, "bool %s = false, %sn = 0;", tn, tn);
    const char *f1 = never_null(n1) ? fmt(m, "!(%s)", c1) : fmt(m, "(!%s && !(%s))", n1, c1);
    const char *f2 = never_null(n2) ? fmt(m, "!(%s)", c2) : fmt(m, "(!%s && !(%s))", n2, c2);
    const char *either = or_null(m, n1, n2);
    line(m, "if (%s || %s) %s = false;", f1, f2, tn);
    if (!never_null(either)) line(m, "else if (%s) %sn = 1;", either, tn);
    line(m, "else %s = true;", tn);
    if (e->negated) line(m, "if (!%sn) %s = !%s;", tn, tn, tn);
    return cval(tn, fmt(m, "%sn", tn), T_BOOL);
}

static CVal emit_case(Em *m, const Expr *e) {
    Type t = e->type;
    const char *tn = new_tmp(m);
    line(m, "%s %s = %s;", type_c_name(t), tn, zero(t));
    line(m, "bool %sn = 1;", tn);
    int npairs = e->nkids / 2, opened = 0;
    for (int i = 0; i < npairs; i++) {
        CVal c = emit(m, e->kids[2 * i]);
        line(m, "if (%s) {", truth(m, c));
        m->ce->indent++;
        const Expr *r = e->kids[2 * i + 1];
        if (r->type != T_NULL) {
            CVal v = emit(m, r);
            line(m, "%s = %s;", tn, conv(m, v, t));
            line(m, "%sn = %s;", tn, v.isnull);
        }
        m->ce->indent--;
        line(m, "} else {");
        m->ce->indent++;
        opened++;
    }
    if (e->has_else && e->kids[e->nkids - 1]->type != T_NULL) {
        CVal v = emit(m, e->kids[e->nkids - 1]);
        line(m, "%s = %s;", tn, conv(m, v, t));
        line(m, "%sn = %s;", tn, v.isnull);
    }
    while (opened--) {
        m->ce->indent--;
        line(m, "}");
    }
    return cval(tn, fmt(m, "%sn", tn), t);
}

static CVal emit_coalesce(Em *m, const Expr *e) {
    Type t = e->type;
    const char *tn = new_tmp(m);
    line(m, "%s %s = %s;", type_c_name(t), tn, zero(t));
    line(m, "bool %sn = 1;", tn);
    bool first = true;
    for (int i = 0; i < e->nkids; i++) {
        const Expr *k = e->kids[i];
        if (k->type == T_NULL) continue;
        if (!first) {
            line(m, "if (%sn) {", tn);
            m->ce->indent++;
        }
        CVal v = emit(m, k);
        bool stop = never_null(v.isnull);
        if (stop) {
            line(m, "%s = %s;", tn, conv(m, v, t));
            line(m, "%sn = 0;", tn);
        } else {
            line(m, "if (!%s) {", v.isnull);
            line(m, "    %s = %s;", tn, conv(m, v, t));
            line(m, "    %sn = 0;", tn);
            line(m, "}");
        }
        if (!first) {
            m->ce->indent--;
            line(m, "}");
        }
        first = false;
        if (stop) break;
    }
    return cval(tn, fmt(m, "%sn", tn), t);
}

static CVal emit_call(Em *m, const Expr *e) {
    if (e->fn == FN_COALESCE) return emit_coalesce(m, e);
    if (e->fn == FN_NOW) return cval(fmt(m, "%s->batch_now_us", RUN(m)), "0", T_TIMESTAMP);
    if (has_null_kid(e)) return null_of(e->type);
    const char *R = RUN(m);
    int n = e->nkids;
    CVal a[3] = {{"0", "1", T_NULL, NULL}, {"0", "1", T_NULL, NULL}, {"0", "1", T_NULL, NULL}};
    for (int i = 0; i < n && i < 3; i++) a[i] = emit(m, e->kids[i]);
    Type at = n ? a[0].type : T_NULL, t = e->type;
    switch (e->fn) {
    case FN_ABS:
        if (at == T_FLOAT64) return decl(m, t, fmt(m, "prt_f64_abs(%s)", a[0].val), a[0].isnull);
        return decl_fail(m, t, a[0].isnull, "prt_abs_%s(%s, %s", sfx(at), R, a[0].val);
    case FN_ROUND:
        if (n == 2)
            return decl(m, T_FLOAT64, fmt(m, "prt_f64_round(%s, %s)", conv(m, a[0], T_FLOAT64),
                                          conv(m, a[1], T_INT64)),
                        or_null(m, a[0].isnull, a[1].isnull));
        /* fall through */
    case FN_FLOOR: case FN_CEIL:
        if (at != T_FLOAT64) return a[0];
        return decl(m, t, fmt(m, "prt_f64_%s(%s%s)", e->fn == FN_ROUND ? "round" : e->fn == FN_FLOOR ? "floor" : "ceil",
                              a[0].val, e->fn == FN_ROUND ? ", 0" : ""), a[0].isnull);
    case FN_LOWER: case FN_UPPER:
        return decl(m, t, fmt(m, "prt_str_%s(%s, %s)", e->fn == FN_LOWER ? "lower" : "upper", R, a[0].val), a[0].isnull);
    case FN_TRIM:
        return decl(m, t, fmt(m, "prt_str_trim(%s)", a[0].val), a[0].isnull);
    case FN_LENGTH:
        return decl(m, t, fmt(m, "prt_str_length(%s)", a[0].val), a[0].isnull);
    case FN_SUBSTR: {
        const char *nul = or_null(m, a[0].isnull, a[1].isnull);
        if (n == 3) nul = or_null(m, nul, a[2].isnull);
        return decl_fail(m, t, nul, "prt_str_substr(%s, %s, %s, %s", a[0].val, conv(m, a[1], T_INT64),
                         n == 3 ? "true" : "false", n == 3 ? conv(m, a[2], T_INT64) : "0");
    }
    case FN_DATE_TRUNC: {
        static const char *const units[] = {"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"};
        return decl(m, t, fmt(m, "prt_ts_trunc(%s, PRT_TRUNC_%s)", conv(m, a[1], T_TIMESTAMP), units[e->unit]),
                    a[1].isnull);
    }
    case FN_DATE:
        if (at == T_DATE) return a[0];
        return decl(m, t, fmt(m, "prt_ts_date(%s)", a[0].val), a[0].isnull);
    case FN_HOUR: case FN_MINUTE: case FN_DAY: case FN_MONTH: case FN_YEAR: {
        static const char *const parts[] = {"HOUR", "MINUTE", "DAY", "MONTH", "YEAR"};
        int p = e->fn - FN_HOUR;
        if (at == T_DATE && (e->fn == FN_HOUR || e->fn == FN_MINUTE)) {
            consume(m, a[0]);
            return cval("0", a[0].isnull, T_INT32);
        }
        return decl(m, t, fmt(m, "prt_ts_part(%s, PRT_PART_%s)", conv(m, a[0], T_TIMESTAMP), parts[p]), a[0].isnull);
    }
    case FN_EPOCH:
        return decl(m, t, fmt(m, "prt_ts_epoch(%s)", conv(m, a[0], T_TIMESTAMP)), a[0].isnull);
    default:
        return null_of(t);
    }
}

static CVal emit_cast(Em *m, const Expr *e) {
    const Expr *k = e->kids[0];
    Type from = k->type, to = e->to;
    if (from == T_NULL) return null_of(to);
    CVal v = emit(m, k);
    if (from == to) return v;
    const char *R = RUN(m);
    static const char *const parse_fn[] = {
        [T_BOOL] = "bool", [T_INT32] = "i32", [T_INT64] = "i64", [T_FLOAT64] = "f64",
        [T_TIMESTAMP] = "ts", [T_DATE] = "date", [T_INTERVAL] = "interval",
    };
    if (to == T_STRING) return decl(m, to, to_str(m, v), v.isnull);
    if (from == T_STRING) return decl_fail(m, to, v.isnull, "prt_str_to_%s(%s", parse_fn[to], v.val);
    if (to == T_BOOL) return decl(m, to, fmt(m, "%s != 0", v.val), v.isnull);
    if (from == T_BOOL) return decl(m, to, fmt(m, "(%s)%s", type_c_name(to), v.val), v.isnull);
    if (from == T_FLOAT64 && type_is_integer(to))
        return decl_fail(m, to, v.isnull, "prt_f64_to_%s(%s, %s", sfx(to), R, v.val);
    if (from == T_INT64 && to == T_INT32)
        return decl_fail(m, to, v.isnull, "prt_i64_to_i32(%s, %s", R, v.val);
    if (from == T_TIMESTAMP && to == T_DATE)
        return decl(m, to, fmt(m, "prt_ts_date(%s)", v.val), v.isnull);
    /* widening: int32 -> int64/float64, int64 -> float64, date -> timestamp */
    return decl(m, to, conv(m, v, to), v.isnull);
}

static CVal emit(Em *m, const Expr *e) {
    switch (e->kind) {
    case EX_LIT: return emit_lit(m, e);
    case EX_FIELD: return emit_field(m, e, false);
    default: break;
    }
    if (e->type == T_NULL) return null_of(T_NULL);
    switch (e->kind) {
    case EX_NEG: {
        CVal a = emit(m, e->kids[0]);
        if (a.type == T_FLOAT64) return decl(m, T_FLOAT64, fmt(m, "-%s", a.val), a.isnull);
        return decl_fail(m, a.type, a.isnull, "prt_neg_%s(%s, %s", sfx(a.type), RUN(m), a.val);
    }
    case EX_NOT: {
        CVal a = emit(m, e->kids[0]);
        if (a.type == T_NULL) return null_of(T_BOOL);
        return decl(m, T_BOOL, fmt(m, "!%s", a.val), a.isnull);
    }
    case EX_ISNULL: {
        CVal a = emit(m, e->kids[0]);
        consume(m, a);
        if (never_null(a.isnull)) return cval(e->negated ? "true" : "false", "0", T_BOOL);
        return cval(fmt(m, e->negated ? "!%s" : "%s", a.isnull), "0", T_BOOL);
    }
    case EX_AND: case EX_OR: return emit_and_or(m, e);
    case EX_BIN:
        if (has_null_kid(e)) return null_of(e->type);
        return e->op < OP_EQ ? emit_arith(m, e) : emit_cmp(m, e);
    case EX_IN:
        if (e->kids[0]->type == T_NULL) return null_of(T_BOOL);
        return emit_in(m, e);
    case EX_BETWEEN:
        if (has_null_kid(e)) return null_of(T_BOOL);
        return emit_between(m, e);
    case EX_CASE: return emit_case(m, e);
    case EX_CALL: return emit_call(m, e);
    case EX_CAST: return emit_cast(m, e);
    default: return null_of(e->type);
    }
}

CVal expr_emit_c(Arena *a, CEmitter *ce, const Expr *e) {
    Em m = {.a = a, .ce = ce};
    if (ce->line_directives) {
        SrcLoc loc = yaml_scalar_loc(e->src, 0);
        SBuf b = {0};
        c_string(&b, loc.file ? loc.file : "", loc.file ? strlen(loc.file) : 0);
        sbuf_printf(ce->out, "#line %d %s\n", loc.line > 0 ? loc.line : 1, sbuf_cstr(&b));
        sbuf_free(&b);
    }
    CVal v = emit(&m, e);
    if (v.type == T_NULL) v.type = e->type;
    return v;
}

const char *expr_emit_c_truth(Arena *a, CEmitter *ce, const Expr *e) {
    CVal v = expr_emit_c(a, ce, e);
    Em m = {.a = a, .ce = ce};
    if (strcmp(v.isnull, "1") == 0) return "0";
    return truth(&m, v);
}
