/* expr_check.c - name resolution and static typing of expressions, plus the small queries on a
 * checked tree (expr_loc, expr_fields_used, expr_is_field, expr_is_constant).
 *
 * Invariants: every error is reported once, at the exact position of what is wrong (an operator,
 * an argument, a name), and the node gets T_ERROR; a parent with a T_ERROR child returns T_ERROR
 * without a message, so one mistake never cascades, while independent mistakes in one expression
 * are all reported. The checker fixes every implicit conversion (numeric promotion, date to
 * timestamp, string literals compared with timestamps/dates/enums) in the tree, so the emitter
 * only follows `optype`/`type` and never decides anything. */
#include "expr_internal.h"
#include <string.h>
#include <strings.h>
#include "suggest.h"

typedef struct Checker {
    Arena *a;
    const ExprScope *scope;
} Checker;

static const struct { const char *name; FnId id; int min, max; } functions[] = {
    {"coalesce", FN_COALESCE, 1, 1000}, {"abs", FN_ABS, 1, 1}, {"round", FN_ROUND, 1, 2},
    {"floor", FN_FLOOR, 1, 1}, {"ceil", FN_CEIL, 1, 1}, {"lower", FN_LOWER, 1, 1},
    {"upper", FN_UPPER, 1, 1}, {"length", FN_LENGTH, 1, 1}, {"substr", FN_SUBSTR, 2, 3},
    {"trim", FN_TRIM, 1, 1}, {"date_trunc", FN_DATE_TRUNC, 2, 2}, {"date", FN_DATE, 1, 1},
    {"hour", FN_HOUR, 1, 1}, {"minute", FN_MINUTE, 1, 1}, {"day", FN_DAY, 1, 1},
    {"month", FN_MONTH, 1, 1}, {"year", FN_YEAR, 1, 1}, {"epoch", FN_EPOCH, 1, 1},
    {"now", FN_NOW, 0, 0},
};
enum { NFUNCTIONS = sizeof functions / sizeof functions[0] };

static const char *const trunc_units[] = {"second", "minute", "hour", "day", "week", "month", "year"};

const char *expr_fn_name(FnId fn) {
    for (int i = 0; i < NFUNCTIONS; i++)
        if (functions[i].id == fn) return functions[i].name;
    return "?";
}

static const char *op_name(const Expr *e) {
    static const char *const names[] = {"+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">="};
    switch (e->kind) {
    case EX_BIN: {
        /* quote the operator as the user wrote it (== vs =, != vs <>) */
        const char *s = e->src->text + e->opoff;
        if (e->op == OP_EQ) return s[1] == '=' ? "==" : "=";
        if (e->op == OP_NE) return s[0] == '!' ? "!=" : "<>";
        return names[e->op];
    }
    case EX_AND: return "and";
    case EX_OR: return "or";
    case EX_NOT: return "not";
    case EX_NEG: return "-";
    case EX_IN: return e->negated ? "not in" : "in";
    case EX_BETWEEN: return e->negated ? "not between" : "between";
    default: return "?";
    }
}

static Type check(Checker *c, Expr *e);

static bool is_enum(const Expr *e) { return e->kind == EX_FIELD && e->field && e->field->nenum > 0; }
static bool is_str_lit(const Expr *e) { return e->kind == EX_LIT && e->lit == T_STRING; }
static bool is_temporal(Type t) { return t == T_TIMESTAMP || t == T_DATE || t == T_INTERVAL; }

static Type rank_max(Type a, Type b) { return a > b ? a : b; }   /* int32 < int64 < float64 */

/* The common type of two values that meet (case branches, coalesce, comparisons), or T_ERROR. */
static Type unify(Type a, Type b) {
    if (a == b) return a;
    if (a == T_NULL) return b;
    if (b == T_NULL) return a;
    if (type_is_numeric(a) && type_is_numeric(b)) return rank_max(a, b);
    if ((a == T_DATE && b == T_TIMESTAMP) || (a == T_TIMESTAMP && b == T_DATE)) return T_TIMESTAMP;
    return T_ERROR;
}

/* A string literal meeting a timestamp or date becomes a literal of that type (compile time). */
static bool convert_literal(Expr *lit, Type to) {
    if (!is_str_lit(lit) || (to != T_TIMESTAMP && to != T_DATE)) return true;
    bool ok;
    if (to == T_TIMESTAMP) {
        ok = expr_parse_timestamp_text(lit->sval, lit->slen, &lit->ival);
    } else {
        int32_t d = 0;
        ok = expr_parse_date_text(lit->sval, lit->slen, &d);
        lit->ival = d;
    }
    if (!ok) {
        diag_error(expr_pos(lit, lit->off), "'%s' is not a valid %s%s", lit->sval, type_name(to),
                   to == T_DATE ? " (YYYY-MM-DD)" : " (e.g. '2024-05-01T10:00:00Z')");
        lit->type = T_ERROR;
        return false;
    }
    lit->lit = lit->type = to;
    return true;
}

/* The index of an enum literal; reports it when it is not a value of the field. */
static bool enum_index(Checker *c, const ExprField *f, Expr *lit) {
    for (int i = 0; i < f->nenum; i++) {
        if (strlen(f->enum_values[i]) == lit->slen && memcmp(f->enum_values[i], lit->sval, lit->slen) == 0) {
            lit->ival = i;
            return true;
        }
    }
    SBuf list = {0};
    for (int i = 0; i < f->nenum; i++) sbuf_printf(&list, "%s%s", i ? ", " : "", f->enum_values[i]);
    const char *best = suggest_closest(lit->sval, f->enum_values, f->nenum);
    diag_error(expr_pos(lit, lit->off), "'%s' is not one of %s's values: %s%s", lit->sval, f->name,
               sbuf_cstr(&list), best ? arena_printf(c->a, " (did you mean '%s'?)", best) : "");
    sbuf_free(&list);
    lit->type = T_ERROR;
    return false;
}

/* Types of a comparison of `l` and `r` (already checked); converts literals; T_ERROR reported. */
static Type compare_type(Expr *e, Expr *l, Expr *r) {
    Type lt = l->type, rt = r->type;
    if ((lt == T_TIMESTAMP || lt == T_DATE) && is_str_lit(r)) {
        if (!convert_literal(r, lt)) return T_ERROR;
        rt = r->type;
    } else if ((rt == T_TIMESTAMP || rt == T_DATE) && is_str_lit(l)) {
        if (!convert_literal(l, rt)) return T_ERROR;
        lt = l->type;
    }
    Type t = unify(lt, rt);
    if (t == T_ERROR)
        diag_error(expr_pos(e, e->opoff), "operator '%s' cannot compare %s and %s", op_name(e),
                   type_name(lt), type_name(rt));
    return t;
}

static Type check_arith(Expr *e, Type a, Type b) {
    BinOp op = e->op;
    if (op == OP_CONCAT) {
        e->optype = T_STRING;
        return T_STRING;
    }
    if (a == T_NULL && b == T_NULL) return T_NULL;
    if (a == T_NULL || b == T_NULL) {
        Type o = a == T_NULL ? b : a;
        if (type_is_numeric(o) || is_temporal(o)) {
            e->optype = o;
            return o;
        }
    }
    if (type_is_numeric(a) && type_is_numeric(b)) {
        e->optype = rank_max(a, b);
        return e->optype;
    }
    /* time arithmetic: optype records the operand layout for the emitter */
    Type r = T_ERROR;
    if (op == OP_ADD || op == OP_SUB) {
        if ((a == T_TIMESTAMP || a == T_DATE) && b == T_INTERVAL) r = T_TIMESTAMP;
        else if (op == OP_ADD && a == T_INTERVAL && (b == T_TIMESTAMP || b == T_DATE)) r = T_TIMESTAMP;
        else if (a == T_INTERVAL && b == T_INTERVAL) r = T_INTERVAL;
        else if (a == T_DATE && type_is_integer(b)) r = T_DATE;
        else if (op == OP_ADD && type_is_integer(a) && b == T_DATE) r = T_DATE;
        else if (op == OP_SUB && a == T_DATE && b == T_DATE) r = T_INT32;
        else if (op == OP_SUB && (a == T_TIMESTAMP || a == T_DATE) && (b == T_TIMESTAMP || b == T_DATE))
            r = T_INTERVAL;
    } else if (op == OP_MUL) {
        if ((a == T_INTERVAL && type_is_integer(b)) || (type_is_integer(a) && b == T_INTERVAL))
            r = T_INTERVAL;
    } else if (op == OP_DIV) {
        if (a == T_INTERVAL && type_is_integer(b)) r = T_INTERVAL;
    }
    if (r != T_ERROR) {
        e->optype = r;   /* the emitter reads the operand types from the children */
        return r;
    }
    static const char *const names[] = {"+", "-", "*", "/", "%"};
    if (is_temporal(a) || is_temporal(b))
        diag_error(expr_pos(e, e->opoff), "operator '%s' cannot combine %s and %s", names[op],
                   type_name(a), type_name(b));
    else
        diag_error(expr_pos(e, e->opoff), "operator '%s' needs numbers, got %s and %s", names[op],
                   type_name(a), type_name(b));
    return T_ERROR;
}

static Type check_bin(Checker *c, Expr *e) {
    Expr *l = e->kids[0], *r = e->kids[1];
    Type a = check(c, l), b = check(c, r);
    if (a == T_ERROR || b == T_ERROR) return T_ERROR;
    if (e->op < OP_EQ) return check_arith(e, a, b);
    /* comparisons */
    if ((e->op == OP_EQ || e->op == OP_NE) && (is_enum(l) || is_enum(r)) &&
        (is_str_lit(l) || is_str_lit(r))) {
        Expr *f = is_enum(l) ? l : r, *lit = is_enum(l) ? r : l;
        if (!enum_index(c, f->field, lit)) return T_ERROR;
        e->enum_cmp = true;
        e->optype = T_INT32;
        return T_BOOL;
    }
    Type t = compare_type(e, l, r);
    if (t == T_ERROR) return T_ERROR;
    e->optype = t;
    return T_BOOL;
}

static Type check_in(Checker *c, Expr *e) {
    Expr *x = e->kids[0];
    bool bad = check(c, x) == T_ERROR;
    bool all_lits = is_enum(x);
    for (int i = 1; i < e->nkids; i++) {
        Expr *it = e->kids[i];
        if (check(c, it) == T_ERROR) bad = true;
        if (!is_str_lit(it) && !(it->kind == EX_LIT && it->lit == T_NULL)) all_lits = false;
    }
    if (bad) return T_ERROR;
    if (all_lits) {
        for (int i = 1; i < e->nkids; i++)
            if (is_str_lit(e->kids[i]) && !enum_index(c, x->field, e->kids[i])) bad = true;
        e->enum_cmp = true;
        e->optype = T_INT32;
        return bad ? T_ERROR : T_BOOL;
    }
    Type t = x->type;
    for (int i = 1; i < e->nkids && !bad; i++) {
        Type u = compare_type(e, x, e->kids[i]);
        if (u == T_ERROR) bad = true;
        else t = unify(t, u);
    }
    if (bad) return T_ERROR;
    e->optype = t;
    return T_BOOL;
}

static Type check_between(Checker *c, Expr *e) {
    bool bad = false;
    for (int i = 0; i < 3; i++)
        if (check(c, e->kids[i]) == T_ERROR) bad = true;
    if (bad) return T_ERROR;
    Type a = compare_type(e, e->kids[0], e->kids[1]);
    if (a == T_ERROR) return T_ERROR;
    Type b = compare_type(e, e->kids[0], e->kids[2]);
    if (b == T_ERROR) return T_ERROR;
    Type t = unify(a, b);
    if (t == T_ERROR) {
        diag_error(expr_pos(e, e->opoff), "operator '%s' cannot compare %s and %s", op_name(e),
                   type_name(e->kids[1]->type), type_name(e->kids[2]->type));
        return T_ERROR;
    }
    e->optype = t;
    return T_BOOL;
}

static bool need_bool(Expr *x, const char *what) {
    if (x->type == T_BOOL || x->type == T_NULL || x->type == T_ERROR) return x->type != T_ERROR;
    diag_error(expr_pos(x, x->off), "%s needs a bool, got %s", what, type_name(x->type));
    return false;
}

static Type check_case(Checker *c, Expr *e) {
    bool bad = false;
    Type t = T_NULL;
    const Expr *first = NULL;
    for (int i = 0; i < e->nkids; i++) {
        Expr *k = e->kids[i];
        bool is_cond = i % 2 == 0 && !(e->has_else && i == e->nkids - 1);
        if (check(c, k) == T_ERROR) {
            bad = true;
            continue;
        }
        if (is_cond) {
            if (!need_bool(k, "'when'")) bad = true;
            continue;
        }
        Type u = unify(t, k->type);
        if (u == T_ERROR) {
            diag_error(expr_pos(k, k->off), "case results have different types: %s (at %d:%d) and %s",
                       type_name(first->type), expr_pos(first, first->off).line,
                       expr_pos(first, first->off).col, type_name(k->type));
            bad = true;
            continue;
        }
        if (k->type != T_NULL && !first) first = k;
        t = u;
    }
    return bad ? T_ERROR : t;
}

static bool need_arg(Expr *call, Expr *x, bool ok, const char *what) {
    if (ok || x->type == T_NULL) return true;
    diag_error(expr_pos(x, x->off), "function '%s' needs %s, got %s", expr_fn_name(call->fn), what,
               type_name(x->type));
    return false;
}

static bool is_time(Type t) { return t == T_TIMESTAMP || t == T_DATE; }

static Type check_call(Checker *c, Expr *e) {
    int f = -1;
    for (int i = 0; i < NFUNCTIONS; i++)
        if (strcasecmp(e->fname, functions[i].name) == 0) f = i;
    bool bad = false;
    for (int i = 0; i < e->nkids; i++)
        if (check(c, e->kids[i]) == T_ERROR) bad = true;
    if (f < 0) {
        const char *names[NFUNCTIONS];
        for (int i = 0; i < NFUNCTIONS; i++) names[i] = functions[i].name;
        const char *best = suggest_closest(e->fname, names, NFUNCTIONS);
        bool is_field = false;
        for (int i = 0; i < c->scope->nfields; i++)
            if (strcmp(c->scope->fields[i].name, e->fname) == 0) is_field = true;
        diag_error(expr_pos(e, e->off), "unknown function '%s'%s", e->fname,
                   best ? arena_printf(c->a, " (did you mean '%s'?)", best)
                   : is_field ? " (a field cannot be called)" : "");
        return T_ERROR;
    }
    e->fn = functions[f].id;
    int min = functions[f].min, max = functions[f].max;
    if (e->nkids < min || e->nkids > max) {
        const char *want = min == max ? arena_printf(c->a, "%d argument%s", min, min == 1 ? "" : "s")
                         : max == 1000 ? arena_printf(c->a, "at least %d argument%s", min, min == 1 ? "" : "s")
                         : arena_printf(c->a, "%d or %d arguments", min, max);
        diag_error(expr_pos(e, e->off), "function '%s' takes %s, got %d", functions[f].name, want,
                   e->nkids);
        return T_ERROR;
    }
    if (bad) return T_ERROR;
    Expr **k = e->kids;
    Type a0 = e->nkids > 0 ? k[0]->type : T_NULL;
    switch (e->fn) {
    case FN_COALESCE: {
        Type t = T_NULL;
        for (int i = 0; i < e->nkids; i++) {
            Type u = unify(t, k[i]->type);
            if (u == T_ERROR) {
                diag_error(expr_pos(k[i], k[i]->off), "coalesce arguments have different types: %s and %s",
                           type_name(t), type_name(k[i]->type));
                return T_ERROR;
            }
            t = u;
        }
        return t;
    }
    case FN_ABS: case FN_FLOOR: case FN_CEIL:
        if (!need_arg(e, k[0], type_is_numeric(a0), "a number")) return T_ERROR;
        return a0;
    case FN_ROUND:
        if (!need_arg(e, k[0], type_is_numeric(a0), "a number")) bad = true;
        if (e->nkids == 2 && !need_arg(e, k[1], type_is_integer(k[1]->type), "an integer number of digits"))
            bad = true;
        if (bad) return T_ERROR;
        return e->nkids == 2 ? T_FLOAT64 : a0;
    case FN_LOWER: case FN_UPPER: case FN_TRIM: case FN_LENGTH:
        if (!need_arg(e, k[0], a0 == T_STRING, "a string")) return T_ERROR;
        return e->fn == FN_LENGTH ? T_INT32 : T_STRING;
    case FN_SUBSTR:
        if (!need_arg(e, k[0], a0 == T_STRING, "a string")) bad = true;
        for (int i = 1; i < e->nkids; i++)
            if (!need_arg(e, k[i], type_is_integer(k[i]->type), "an integer")) bad = true;
        return bad ? T_ERROR : T_STRING;
    case FN_DATE_TRUNC: {
        if (!is_str_lit(k[0])) {
            diag_error(expr_pos(k[0], k[0]->off),
                       "date_trunc needs a unit in quotes first, e.g. date_trunc('hour', t)");
            return T_ERROR;
        }
        int u = -1;
        for (int i = 0; i < 7; i++)
            if (strcasecmp(k[0]->sval, trunc_units[i]) == 0) u = i;
        if (u < 0) {
            const char *best = suggest_closest(k[0]->sval, trunc_units, 7);
            diag_error(expr_pos(k[0], k[0]->off), "unknown date_trunc unit '%s'%s", k[0]->sval,
                       best ? arena_printf(c->a, " (did you mean '%s'?)", best)
                            : " (use second, minute, hour, day, week, month or year)");
            return T_ERROR;
        }
        e->unit = u;
        if (!need_arg(e, k[1], is_time(k[1]->type), "a timestamp")) return T_ERROR;
        return T_TIMESTAMP;
    }
    case FN_DATE: case FN_HOUR: case FN_MINUTE: case FN_DAY: case FN_MONTH: case FN_YEAR:
    case FN_EPOCH:
        if (!need_arg(e, k[0], is_time(a0), "a timestamp or date")) return T_ERROR;
        return e->fn == FN_DATE ? T_DATE : e->fn == FN_EPOCH ? T_INT64 : T_INT32;
    case FN_NOW:
        return T_TIMESTAMP;
    case FN__COUNT:
        break;
    }
    return T_ERROR;
}

static bool cast_ok(Type from, Type to) {
    if (from == to || from == T_NULL || from == T_STRING || to == T_STRING) return true;
    if ((type_is_numeric(from) || from == T_BOOL) && (type_is_numeric(to) || to == T_BOOL)) return true;
    if (is_time(from) && is_time(to)) return true;
    return false;
}

static Type check_cast(Checker *c, Expr *e) {
    Type from = check(c, e->kids[0]);
    static const char *const tnames[] = {"bool", "int32", "int64", "float64", "string", "timestamp",
                                         "date", "interval"};
    Type to = T_ERROR;
    for (int i = 0; i < 8; i++)
        if (strcasecmp(e->fname, tnames[i]) == 0) to = (Type)(T_BOOL + i);
    if (to == T_ERROR) {
        const char *best = suggest_closest(e->fname, tnames, 8);
        diag_error(expr_pos(e, (size_t)e->unit), "unknown type '%s'%s", e->fname,
                   best ? arena_printf(c->a, " (did you mean '%s'?)", best)
                        : " (bool, int32, int64, float64, string, timestamp, date, interval)");
        return T_ERROR;
    }
    e->to = to;
    if (from == T_ERROR) return T_ERROR;
    if (!cast_ok(from, to)) {
        diag_error(expr_pos(e, e->off), "cannot cast %s to %s", type_name(from), type_name(to));
        return T_ERROR;
    }
    return to;
}

static Type check_node(Checker *c, Expr *e) {
    switch (e->kind) {
    case EX_LIT:
        return e->lit;
    case EX_FIELD: {
        const ExprScope *s = c->scope;
        for (int i = 0; i < s->nfields; i++) {
            if (strcmp(s->fields[i].name, e->name) == 0) {
                e->field = &s->fields[i];
                return s->fields[i].nenum > 0 ? T_STRING : s->fields[i].type;
            }
        }
        const char **names = arena_alloc(c->a, sizeof(char *) * (size_t)(s->nfields + 1));
        for (int i = 0; i < s->nfields; i++) names[i] = s->fields[i].name;
        const char *best = suggest_closest(e->name, names, s->nfields);
        diag_error(expr_pos(e, e->off), "unknown field '%s'%s", e->name,
                   best ? arena_printf(c->a, " (did you mean '%s'?)", best) : "");
        return T_ERROR;
    }
    case EX_NEG: {
        Type t = check(c, e->kids[0]);
        if (t == T_ERROR) return T_ERROR;
        if (type_is_numeric(t) || t == T_INTERVAL || t == T_NULL) return t;
        diag_error(expr_pos(e, e->opoff), "operator '-' needs a number, got %s", type_name(t));
        return T_ERROR;
    }
    case EX_NOT: {
        Type t = check(c, e->kids[0]);
        if (t == T_ERROR) return T_ERROR;
        if (t == T_BOOL || t == T_NULL) return T_BOOL;
        diag_error(expr_pos(e, e->opoff), "operator 'not' needs a bool, got %s", type_name(t));
        return T_ERROR;
    }
    case EX_AND: case EX_OR: {
        Type a = check(c, e->kids[0]), b = check(c, e->kids[1]);
        if (a == T_ERROR || b == T_ERROR) return T_ERROR;
        if ((a == T_BOOL || a == T_NULL) && (b == T_BOOL || b == T_NULL)) return T_BOOL;
        diag_error(expr_pos(e, e->opoff), "operator '%s' needs bools, got %s and %s", op_name(e),
                   type_name(a), type_name(b));
        return T_ERROR;
    }
    case EX_ISNULL:
        return check(c, e->kids[0]) == T_ERROR ? T_ERROR : T_BOOL;
    case EX_BIN: return check_bin(c, e);
    case EX_IN: return check_in(c, e);
    case EX_BETWEEN: return check_between(c, e);
    case EX_CASE: return check_case(c, e);
    case EX_CALL: return check_call(c, e);
    case EX_CAST: return check_cast(c, e);
    }
    return T_ERROR;
}

static Type check(Checker *c, Expr *e) {
    e->type = check_node(c, e);
    return e->type;
}

Type expr_check(Arena *a, Expr *e, const ExprScope *scope) {
    if (!e) return T_ERROR;
    Checker c = {.a = a, .scope = scope};
    return check(&c, e);
}

SrcLoc expr_loc(const Expr *e) { return e ? expr_pos(e, e->off) : (SrcLoc){0}; }

static void collect(const Expr *e, const char **out, int max, int *n) {
    if (e->kind == EX_FIELD && e->field) {
        for (int i = 0; i < *n && i < max; i++)
            if (strcmp(out[i], e->field->name) == 0) return;
        if (*n < max) out[*n] = e->field->name;
        (*n)++;
        return;
    }
    for (int i = 0; i < e->nkids; i++) collect(e->kids[i], out, max, n);
}

int expr_fields_used(const Expr *e, const char **out, int max) {
    int n = 0;
    if (e) collect(e, out, max, &n);
    return n < max ? n : max;
}

bool expr_is_field(const Expr *e, const char **name) {
    if (!e || e->kind != EX_FIELD) return false;
    if (name) *name = e->name;
    return true;
}

bool expr_is_constant(const Expr *e) {
    if (!e || e->type == T_ERROR) return false;
    if (e->kind == EX_FIELD) return false;
    if (e->kind == EX_CALL && e->fn == FN_NOW) return false;
    for (int i = 0; i < e->nkids; i++)
        if (!expr_is_constant(e->kids[i])) return false;
    return true;
}
