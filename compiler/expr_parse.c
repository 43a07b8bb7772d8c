/* expr_parse.c - recursive-descent parser of the expression language into the tree of
 * expr_internal.h.
 *
 * Precedence, lowest first: or; and; not; comparison (= == != <> < <= > >=, is [not] null,
 * [not] in (...), [not] between a and b); ||; + -; * / %; unary - +; primary.
 * Invariants: keywords are matched case-insensitively and are reserved except `timestamp`,
 * `date` and `interval`, which are literal prefixes only when a string follows (so fields may
 * carry those common names). The first syntax error is reported and parsing stops (NULL):
 * later syntax errors would mostly be echoes of the first. A unary minus on a number literal is
 * folded into the literal, so -2147483648 is an int32 and -9223372036854775808 an int64.
 * Depth is bounded, so no expression can exhaust the C stack of this parser or of the checker
 * and emitter that recurse over the tree: parentheses, `not` and unary signs nest at most
 * MAX_NESTING deep, and the whole tree (long operator chains included) at most MAX_DEPTH. */
#include "expr_internal.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { MAX_NESTING = 200, MAX_DEPTH = 1000 };

typedef struct Parser {
    Arena *a;
    const YNode *sc;
    Token *t;
    int pos;
    int nesting;               /* open parentheses, `not`s and unary signs around this point */
} Parser;

/* Enters one level of nesting; false (reported) beyond MAX_NESTING. */
static bool nest(Parser *p, const Token *t) {
    if (++p->nesting <= MAX_NESTING) return true;
    diag_error(yaml_scalar_loc(p->sc, t->off), "expression nested deeper than %d levels", MAX_NESTING);
    return false;
}

static const char *const reserved[] = {
    "and", "or", "not", "is", "null", "in", "between", "case", "when", "then", "else", "end",
    "true", "false", "cast", "as",
};

static Token *peek(Parser *p) { return &p->t[p->pos]; }
static Token *next(Parser *p) {
    Token *t = &p->t[p->pos];
    if (t->kind != TK_EOF) p->pos++;
    return t;
}

static bool is_kw(const Token *t, const char *kw) {
    return t->kind == TK_IDENT && strcasecmp(t->text, kw) == 0;
}
static bool accept_kw(Parser *p, const char *kw) {
    if (!is_kw(peek(p), kw)) return false;
    p->pos++;
    return true;
}
static bool is_reserved(const Token *t) {
    if (t->kind != TK_IDENT) return false;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(t->text, reserved[i]) == 0) return true;
    return false;
}

static const char *describe(Parser *p, const Token *t) {
    if (t->kind == TK_EOF) return "end of expression";
    return arena_printf(p->a, "'%.*s'", (int)t->len, p->sc->text + t->off);
}

static void *fail(Parser *p, const Token *t, const char *what) {
    diag_error(yaml_scalar_loc(p->sc, t->off), "expected %s, found %s", what, describe(p, t));
    return NULL;
}

static bool expect(Parser *p, TokKind k, const char *what) {
    if (peek(p)->kind == k) {
        p->pos++;
        return true;
    }
    fail(p, peek(p), what);
    return false;
}

static bool expect_kw(Parser *p, const char *kw) {
    if (accept_kw(p, kw)) return true;
    fail(p, peek(p), arena_printf(p->a, "'%s'", kw));
    return false;
}

static Expr *node(Parser *p, ExKind k, size_t off, int nkids) {
    Expr *e = arena_alloc(p->a, sizeof *e);
    e->kind = k;
    e->off = e->opoff = off;
    e->src = p->sc;
    e->nkids = nkids;
    if (nkids) e->kids = arena_alloc(p->a, sizeof(Expr *) * (size_t)nkids);
    return e;
}

static size_t prev_end(Parser *p) {
    const Token *t = &p->t[p->pos > 0 ? p->pos - 1 : 0];
    return t->off + t->len;
}

static Expr *binary(Parser *p, ExKind k, BinOp op, size_t opoff, Expr *l, Expr *r) {
    Expr *e = node(p, k, l->off, 2);
    e->op = op;
    e->opoff = opoff;
    e->kids[0] = l;
    e->kids[1] = r;
    e->end = r->end;
    return e;
}

static Expr *parse_expr(Parser *p);
static Expr *parse_concat(Parser *p);

static void int_literal_type(Expr *e) {
    e->lit = (e->ival >= INT32_MIN && e->ival <= INT32_MAX) ? T_INT32 : T_INT64;
}

/* A list of expressions after '(' up to ')': *out and *n get them; false after a syntax error. */
static bool parse_list(Parser *p, Expr ***out, int *n, bool allow_empty) {
    PtrVec v = {0};
    if (!(allow_empty && peek(p)->kind == TK_RPAREN)) {
        for (;;) {
            Expr *e = parse_expr(p);
            if (!e) return false;
            ptrvec_push(p->a, &v, e);
            if (peek(p)->kind == TK_COMMA) {
                p->pos++;
                continue;
            }
            break;
        }
    }
    if (!expect(p, TK_RPAREN, v.len ? "',' or ')'" : "an expression or ')'")) return false;
    *n = v.len;
    *out = (Expr **)v.items;
    return true;
}

static Expr *parse_case(Parser *p, const Token *kw) {
    PtrVec v = {0};
    bool has_else = false;
    while (accept_kw(p, "when")) {
        Expr *c = parse_expr(p);
        if (!c || !expect_kw(p, "then")) return NULL;
        Expr *r = parse_expr(p);
        if (!r) return NULL;
        ptrvec_push(p->a, &v, c);
        ptrvec_push(p->a, &v, r);
    }
    if (!v.len) return fail(p, peek(p), "'when'");
    if (accept_kw(p, "else")) {
        Expr *r = parse_expr(p);
        if (!r) return NULL;
        ptrvec_push(p->a, &v, r);
        has_else = true;
    }
    if (!expect_kw(p, "end")) return NULL;
    Expr *e = node(p, EX_CASE, kw->off, 0);
    e->kids = (Expr **)v.items;
    e->nkids = v.len;
    e->has_else = has_else;
    e->end = prev_end(p);
    return e;
}

static Expr *parse_primary(Parser *p) {
    Token *t = next(p);
    Expr *e;
    switch (t->kind) {
    case TK_INT:
        if (t->too_big) {
            diag_error(yaml_scalar_loc(p->sc, t->off), "integer literal %.*s is out of range",
                       (int)t->len, p->sc->text + t->off);
            return NULL;
        }
        e = node(p, EX_LIT, t->off, 0);
        e->ival = t->ival;
        int_literal_type(e);
        e->end = t->off + t->len;
        return e;
    case TK_FLOAT:
        e = node(p, EX_LIT, t->off, 0);
        e->lit = T_FLOAT64;
        e->fval = t->fval;
        e->end = t->off + t->len;
        return e;
    case TK_STRING:
        e = node(p, EX_LIT, t->off, 0);
        e->lit = T_STRING;
        e->sval = t->text;
        e->slen = t->tlen;
        e->end = t->off + t->len;
        return e;
    case TK_LPAREN:
        e = parse_expr(p);
        if (!e || !expect(p, TK_RPAREN, "')'")) return NULL;
        return e;
    case TK_QIDENT:
        e = node(p, EX_FIELD, t->off, 0);
        e->name = t->text;
        e->end = t->off + t->len;
        return e;
    case TK_IDENT:
        break;
    default:
        p->pos--;
        return fail(p, t, "an expression");
    }
    /* identifiers: literals, keywords, functions, fields */
    if (is_kw(t, "true") || is_kw(t, "false") || is_kw(t, "null")) {
        e = node(p, EX_LIT, t->off, 0);
        e->lit = is_kw(t, "null") ? T_NULL : T_BOOL;
        e->ival = is_kw(t, "true");
        e->end = t->off + t->len;
        return e;
    }
    if ((is_kw(t, "timestamp") || is_kw(t, "date") || is_kw(t, "interval")) &&
        peek(p)->kind == TK_STRING) {
        Token *s = next(p);
        e = node(p, EX_LIT, t->off, 0);
        e->end = s->off + s->len;
        bool ok;
        if (is_kw(t, "timestamp")) {
            e->lit = T_TIMESTAMP;
            ok = expr_parse_timestamp_text(s->text, s->tlen, &e->ival);
        } else if (is_kw(t, "date")) {
            int32_t d = 0;
            e->lit = T_DATE;
            ok = expr_parse_date_text(s->text, s->tlen, &d);
            e->ival = d;
        } else {
            e->lit = T_INTERVAL;
            ok = expr_parse_interval_text(s->text, s->tlen, &e->ival);
        }
        if (!ok) {
            diag_error(yaml_scalar_loc(p->sc, s->off), "'%s' is not a valid %s%s", s->text,
                       type_name(e->lit),
                       e->lit == T_INTERVAL ? " (e.g. '10 seconds', '1 hour 30 minutes', '500 ms')"
                       : e->lit == T_DATE ? " (YYYY-MM-DD)" : " (e.g. '2024-05-01T10:00:00Z')");
            return NULL;
        }
        return e;
    }
    if (is_kw(t, "case")) return parse_case(p, t);
    if (is_kw(t, "cast")) {
        if (!expect(p, TK_LPAREN, "'(' after cast")) return NULL;
        Expr *x = parse_expr(p);
        if (!x || !expect_kw(p, "as")) return NULL;
        Token *ty = peek(p);
        if (ty->kind != TK_IDENT) return fail(p, ty, "a type name");
        p->pos++;
        if (!expect(p, TK_RPAREN, "')'")) return NULL;
        e = node(p, EX_CAST, t->off, 1);
        e->kids[0] = x;
        e->fname = ty->text;          /* resolved by the checker (to report unknown types there) */
        e->unit = (int)ty->off;
        e->end = prev_end(p);
        return e;
    }
    if (is_reserved(t)) {
        p->pos--;
        return fail(p, t, "an expression");
    }
    if (peek(p)->kind == TK_LPAREN) {
        p->pos++;
        int n = 0;
        Expr **args = NULL;
        if (!parse_list(p, &args, &n, true)) return NULL;
        e = node(p, EX_CALL, t->off, 0);
        e->kids = args;
        e->nkids = n;
        e->fname = t->text;
        e->end = prev_end(p);
        return e;
    }
    e = node(p, EX_FIELD, t->off, 0);
    e->name = t->text;
    e->end = t->off + t->len;
    return e;
}

static Expr *parse_unary(Parser *p) {
    Token *t = peek(p);
    if (t->kind == TK_MINUS || t->kind == TK_PLUS) {
        p->pos++;
        if (t->kind == TK_MINUS && peek(p)->kind == TK_INT && peek(p)->too_big &&
            peek(p)->ival == INT64_MIN) {
            Token *n = next(p);
            Expr *e = node(p, EX_LIT, t->off, 0);
            e->lit = T_INT64;
            e->ival = INT64_MIN;
            e->end = n->off + n->len;
            return e;
        }
        if (!nest(p, t)) return NULL;
        Expr *x = parse_unary(p);
        p->nesting--;
        if (!x) return NULL;
        if (t->kind == TK_PLUS) return x;
        if (x->kind == EX_LIT && (x->lit == T_INT32 || x->lit == T_INT64) && x->ival != INT64_MIN) {
            x->ival = -x->ival;
            int_literal_type(x);
            x->off = t->off;
            return x;
        }
        if (x->kind == EX_LIT && x->lit == T_FLOAT64) {
            x->fval = -x->fval;
            x->off = t->off;
            return x;
        }
        Expr *e = node(p, EX_NEG, t->off, 1);
        e->kids[0] = x;
        e->end = x->end;
        return e;
    }
    return parse_primary(p);
}

static Expr *parse_mul(Parser *p) {
    Expr *l = parse_unary(p);
    while (l) {
        Token *t = peek(p);
        BinOp op;
        if (t->kind == TK_STAR) op = OP_MUL;
        else if (t->kind == TK_SLASH) op = OP_DIV;
        else if (t->kind == TK_PERCENT) op = OP_MOD;
        else break;
        p->pos++;
        Expr *r = parse_unary(p);
        if (!r) return NULL;
        l = binary(p, EX_BIN, op, t->off, l, r);
    }
    return l;
}

static Expr *parse_add(Parser *p) {
    Expr *l = parse_mul(p);
    while (l) {
        Token *t = peek(p);
        if (t->kind != TK_PLUS && t->kind != TK_MINUS) break;
        p->pos++;
        Expr *r = parse_mul(p);
        if (!r) return NULL;
        l = binary(p, EX_BIN, t->kind == TK_PLUS ? OP_ADD : OP_SUB, t->off, l, r);
    }
    return l;
}

static Expr *parse_concat(Parser *p) {
    Expr *l = parse_add(p);
    while (l && peek(p)->kind == TK_CONCAT) {
        Token *t = next(p);
        Expr *r = parse_add(p);
        if (!r) return NULL;
        l = binary(p, EX_BIN, OP_CONCAT, t->off, l, r);
    }
    return l;
}

static Expr *parse_cmp(Parser *p) {
    Expr *l = parse_concat(p);
    if (!l) return NULL;
    Token *t = peek(p);
    BinOp op;
    switch (t->kind) {
    case TK_EQ: op = OP_EQ; break;
    case TK_NE: op = OP_NE; break;
    case TK_LT: op = OP_LT; break;
    case TK_LE: op = OP_LE; break;
    case TK_GT: op = OP_GT; break;
    case TK_GE: op = OP_GE; break;
    default: goto keywords;
    }
    p->pos++;
    Expr *r = parse_concat(p);
    return r ? binary(p, EX_BIN, op, t->off, l, r) : NULL;
keywords:
    if (is_kw(t, "is")) {
        p->pos++;
        Expr *e = node(p, EX_ISNULL, l->off, 1);
        e->opoff = t->off;
        e->negated = accept_kw(p, "not");
        if (!expect_kw(p, "null")) return NULL;
        e->kids[0] = l;
        e->end = prev_end(p);
        return e;
    }
    bool neg = false;
    if (is_kw(t, "not") && (is_kw(&p->t[p->pos + 1], "in") || is_kw(&p->t[p->pos + 1], "between"))) {
        neg = true;
        p->pos++;
    }
    if (accept_kw(p, "in")) {
        if (!expect(p, TK_LPAREN, "'(' after in")) return NULL;
        int n = 0;
        Expr **items = NULL;
        if (!parse_list(p, &items, &n, false)) return NULL;
        Expr *e = node(p, EX_IN, l->off, 0);
        e->opoff = t->off;
        e->negated = neg;
        e->nkids = n + 1;
        e->kids = arena_alloc(p->a, sizeof(Expr *) * (size_t)(n + 1));
        e->kids[0] = l;
        memcpy(e->kids + 1, items, sizeof(Expr *) * (size_t)n);
        e->end = prev_end(p);
        return e;
    }
    if (accept_kw(p, "between")) {
        Expr *lo = parse_concat(p);
        if (!lo || !expect_kw(p, "and")) return NULL;
        Expr *hi = parse_concat(p);
        if (!hi) return NULL;
        Expr *e = node(p, EX_BETWEEN, l->off, 3);
        e->opoff = t->off;
        e->negated = neg;
        e->kids[0] = l;
        e->kids[1] = lo;
        e->kids[2] = hi;
        e->end = hi->end;
        return e;
    }
    return l;
}

static Expr *parse_not(Parser *p) {
    Token *t = peek(p);
    if (is_kw(t, "not")) {
        p->pos++;
        if (!nest(p, t)) return NULL;
        Expr *x = parse_not(p);
        p->nesting--;
        if (!x) return NULL;
        Expr *e = node(p, EX_NOT, t->off, 1);
        e->kids[0] = x;
        e->end = x->end;
        return e;
    }
    return parse_cmp(p);
}

static Expr *parse_and(Parser *p) {
    Expr *l = parse_not(p);
    while (l && is_kw(peek(p), "and")) {
        Token *t = next(p);
        Expr *r = parse_not(p);
        if (!r) return NULL;
        l = binary(p, EX_AND, OP_EQ, t->off, l, r);
    }
    return l;
}

static Expr *parse_expr(Parser *p) {
    if (!nest(p, peek(p))) return NULL;
    Expr *l = parse_and(p);
    while (l && is_kw(peek(p), "or")) {
        Token *t = next(p);
        Expr *r = parse_and(p);
        if (!r) return NULL;
        l = binary(p, EX_OR, OP_EQ, t->off, l, r);
    }
    p->nesting--;
    return l;
}

/* The deepest node below e, counted without recursion; NULL when within MAX_DEPTH. */
static const Expr *too_deep(const Expr *e) {
    typedef struct { const Expr *e; int depth; } Item;
    size_t n = 0, cap = 64;
    Item *stack = malloc(sizeof *stack * cap);
    if (!stack) abort();
    stack[n++] = (Item){e, 1};
    const Expr *deep = NULL;
    while (n && !deep) {
        Item it = stack[--n];
        if (it.depth > MAX_DEPTH) deep = it.e;
        for (int i = 0; i < it.e->nkids && !deep; i++) {
            if (!it.e->kids[i]) continue;
            if (n == cap && !(stack = realloc(stack, sizeof *stack * (cap *= 2)))) abort();
            stack[n++] = (Item){it.e->kids[i], it.depth + 1};
        }
    }
    free(stack);
    return deep;
}

Expr *expr_parse(Arena *a, const YNode *scalar) {
    if (!scalar || scalar->kind != YN_SCALAR) return NULL;
    Parser p = {.a = a, .sc = scalar};
    if (expr_lex(a, scalar, &p.t) < 0) return NULL;
    if (peek(&p)->kind == TK_EOF) {
        diag_error(yaml_scalar_loc(scalar, 0), "empty expression");
        return NULL;
    }
    Expr *e = parse_expr(&p);
    if (!e) return NULL;
    if (peek(&p)->kind != TK_EOF) {
        const Token *t = peek(&p);
        if (t->kind == TK_RPAREN)
            diag_error(yaml_scalar_loc(scalar, t->off), "unmatched ')'");
        else
            fail(&p, t, "an operator or end of expression");
        return NULL;
    }
    const Expr *deep = too_deep(e);
    if (deep) {
        diag_error(yaml_scalar_loc(scalar, deep->off), "expression deeper than %d levels (split it with derive)", MAX_DEPTH);
        return NULL;
    }
    return e;
}
