/* tmpl_parse.c - recursive descent from tokens to the template AST (tmpl_internal.h).
 * Operator precedence follows Jinja2's parser, loosest first:
 *   or < and < not < comparisons and `in` < `+` `-` < `~` < unary `-` < postfix (`.`, `[]`) and `|` filters
 * so `a ~ b | upper` filters only b, and `not a == b` is `not (a == b)`. Chained comparisons
 * (`a < b < c`) mean `a < b and b < c` as in Python. Filters are resolved (and their argument
 * counts checked) here, so an unknown filter is a syntax error even in a branch never rendered.
 * The first syntax error stops the parse; it names the template's file:line:col.
 * Depth is bounded, so no template can exhaust the C stack of this parser or of the evaluator:
 * parentheses, unary `-`, `not` and blocks nest at most MAX_NESTING deep, and an expression's tree
 * (long operator chains included) is at most MAX_DEPTH deep. */
#include "tmpl_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_NESTING = 200, MAX_DEPTH = 1000 };

typedef struct Parser {
    Arena *a;
    const TSource *src;
    const Token *toks;
    int i;
    int nesting;                /* open expressions, unary operators and blocks around here */
} Parser;

static const Token *peek(const Parser *p) { return &p->toks[p->i]; }
static const Token *advance(Parser *p) { return &p->toks[p->i++]; }

static bool tok_is(const Token *t, TokKind kind, const char *text) {
    return t->kind == kind && (!text || (t->len == strlen(text) && memcmp(t->text, text, t->len) == 0));
}
static bool at_op(const Parser *p, const char *op) { return tok_is(peek(p), TK_OP, op); }
static bool at_name(const Parser *p, const char *name) { return tok_is(peek(p), TK_NAME, name); }

static const char *describe(Arena *a, const Token *t) {
    switch (t->kind) {
    case TK_VAR_END: return "end of tag '}}'";
    case TK_BLOCK_END: return "end of tag '%}'";
    case TK_EOF: return "end of template";
    case TK_STRING: return "a string";
    case TK_INT: return "an integer";
    case TK_NAME:
    case TK_OP: return arena_printf(a, "'%.*s'", (int)t->len, t->text);
    default: return "text";
    }
}

static void parse_error(Parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void parse_error(Parser *p, size_t pos, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(tsrc_loc(p->src, pos), "%s", msg);
}

/* Enters one level of nesting; false (reported) beyond MAX_NESTING. */
static bool nest(Parser *p, size_t pos) {
    if (++p->nesting <= MAX_NESTING) return true;
    parse_error(p, pos, "nested deeper than %d levels", MAX_NESTING);
    return false;
}

/* True when e's tree is deeper than MAX_DEPTH, counted without recursion. */
static bool too_deep(const TExpr *e) {
    typedef struct { const TExpr *e; int depth; } Item;
    size_t n = 0, cap = 64;
    Item *stack = malloc(sizeof *stack * cap);
    if (!stack) abort();
    stack[n++] = (Item){e, 1};
    bool deep = false;
    while (n && !deep) {
        Item it = stack[--n];
        deep = it.depth > MAX_DEPTH;
        const TExpr *kids[2] = {it.e->lhs, it.e->rhs};
        for (int k = 0; k < 2 + it.e->nargs && !deep; k++) {
            const TExpr *kid = k < 2 ? kids[k] : it.e->args[k - 2];
            if (!kid) continue;
            if (n == cap && !(stack = realloc(stack, sizeof *stack * (cap *= 2)))) abort();
            stack[n++] = (Item){kid, it.depth + 1};
        }
    }
    free(stack);
    return deep;
}

static bool expect(Parser *p, TokKind kind, const char *text, const char *what) {
    if (tok_is(peek(p), kind, text)) {
        p->i++;
        return true;
    }
    parse_error(p, peek(p)->pos, "expected %s, got %s", what, describe(p->a, peek(p)));
    return false;
}

static TExpr *new_expr(Parser *p, ExprKind kind, size_t pos) {
    TExpr *e = arena_alloc(p->a, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    return e;
}

static TExpr *new_binary(Parser *p, ExprKind kind, BinOp op, TExpr *lhs, TExpr *rhs) {
    TExpr *e = new_expr(p, kind, lhs->pos);
    e->op = op;
    e->lhs = lhs;
    e->rhs = rhs;
    return e;
}

/* ---- expressions ---- */

static TExpr *parse_expr(Parser *p);
static TExpr *parse_unary(Parser *p, bool with_filters);

/* Comma-separated expressions up to the closing `close`, which is consumed. */
static bool parse_expr_list(Parser *p, const char *close, TExpr ***items, int *n) {
    PtrVec v = {0};
    while (!at_op(p, close)) {
        TExpr *e = parse_expr(p);
        if (!e) return false;
        ptrvec_push(p->a, &v, e);
        if (!at_op(p, ",")) break;
        p->i++;
    }
    if (!expect(p, TK_OP, close, arena_printf(p->a, "',' or '%s'", close))) return false;
    *items = (TExpr **)v.items;
    *n = v.len;
    return true;
}

static TExpr *parse_literal_name(Parser *p, const Token *t) {
    TExpr *e = new_expr(p, EX_LIT, t->pos);
    if (tok_is(t, TK_NAME, "true") || tok_is(t, TK_NAME, "True")) e->lit = tv_bool(p->a, true);
    else if (tok_is(t, TK_NAME, "false") || tok_is(t, TK_NAME, "False")) e->lit = tv_bool(p->a, false);
    else if (tok_is(t, TK_NAME, "none") || tok_is(t, TK_NAME, "None")) e->lit = tv_none(p->a);
    else return NULL;
    return e;
}

/* Adjacent string literals concatenate, as in Python. */
static TExpr *parse_string(Parser *p) {
    size_t pos = peek(p)->pos;
    SBuf b = {0};
    while (peek(p)->kind == TK_STRING) {
        const Token *t = advance(p);
        sbuf_put(&b, t->text, t->len);
    }
    TExpr *e = new_expr(p, EX_LIT, pos);
    e->lit = tv_str(p->a, sbuf_cstr(&b));
    sbuf_free(&b);
    return e;
}

static TExpr *parse_primary(Parser *p) {
    const Token *t = peek(p);
    if (t->kind == TK_STRING) return parse_string(p);
    if (t->kind == TK_INT) {
        p->i++;
        TExpr *e = new_expr(p, EX_LIT, t->pos);
        e->lit = tv_int(p->a, t->ival);
        return e;
    }
    if (t->kind == TK_NAME) {
        p->i++;
        TExpr *lit = parse_literal_name(p, t);
        if (lit) return lit;
        TExpr *e = new_expr(p, EX_NAME, t->pos);
        e->name = t->text;
        return e;
    }
    if (tok_is(t, TK_OP, "(")) {
        p->i++;
        TExpr *e = parse_expr(p);
        return e && expect(p, TK_OP, ")", "')'") ? e : NULL;
    }
    if (tok_is(t, TK_OP, "[")) {
        p->i++;
        TExpr *e = new_expr(p, EX_LIST, t->pos);
        return parse_expr_list(p, "]", &e->args, &e->nargs) ? e : NULL;
    }
    parse_error(p, t->pos, "expected an expression, got %s", describe(p->a, t));
    return NULL;
}

/* `.name`, `.0` and `[expr]` after a primary expression. */
static TExpr *parse_postfix(Parser *p, TExpr *e) {
    while (e) {
        const Token *t = peek(p);
        if (tok_is(t, TK_OP, ".")) {
            p->i++;
            const Token *attr = advance(p);
            TExpr *x = new_expr(p, attr->kind == TK_INT ? EX_ITEM : EX_ATTR, t->pos);
            x->lhs = e;
            if (attr->kind == TK_INT) {
                x->rhs = new_expr(p, EX_LIT, attr->pos);
                x->rhs->lit = tv_int(p->a, attr->ival);
            } else if (attr->kind == TK_NAME) {
                x->name = attr->text;
            } else {
                parse_error(p, attr->pos, "expected an attribute name after '.', got %s", describe(p->a, attr));
                return NULL;
            }
            e = x;
        } else if (tok_is(t, TK_OP, "[")) {
            p->i++;
            TExpr *x = new_expr(p, EX_ITEM, t->pos);
            x->lhs = e;
            x->rhs = parse_expr(p);
            if (!x->rhs || !expect(p, TK_OP, "]", "']' (slices are not supported)")) return NULL;
            e = x;
        } else if (tok_is(t, TK_OP, "(")) {
            parse_error(p, t->pos, "calls are not supported in templates");
            return NULL;
        } else {
            return e;
        }
    }
    return NULL;
}

static TExpr *parse_filter(Parser *p, TExpr *obj) {
    const Token *t = advance(p);   /* the name */
    if (t->kind != TK_NAME) {
        parse_error(p, t->pos, "expected a filter name after '|', got %s", describe(p->a, t));
        return NULL;
    }
    TExpr *e = new_expr(p, EX_FILTER, t->pos);
    e->lhs = obj;
    e->name = t->text;
    e->filter = tmpl_find_filter(t->text);
    if (!e->filter) {
        parse_error(p, t->pos, "unknown filter '%s'", t->text);
        return NULL;
    }
    if (at_op(p, "(")) {
        p->i++;
        if (!parse_expr_list(p, ")", &e->args, &e->nargs)) return NULL;
    }
    if (e->nargs < e->filter->min_args || e->nargs > e->filter->max_args) {
        parse_error(p, t->pos, "filter '%s' takes %d to %d arguments, got %d", e->name,
                    e->filter->min_args, e->filter->max_args, e->nargs);
        return NULL;
    }
    return e;
}

static TExpr *parse_filters(Parser *p, TExpr *e) {
    while (e && at_op(p, "|")) {
        p->i++;
        e = parse_filter(p, e);
    }
    if (e && at_name(p, "is")) {
        parse_error(p, peek(p)->pos, "tests ('is') are not supported");
        return NULL;
    }
    return e;
}

static TExpr *parse_unary(Parser *p, bool with_filters) {
    TExpr *e;
    if (at_op(p, "-")) {
        size_t pos = advance(p)->pos;
        if (!nest(p, pos)) return NULL;
        e = new_expr(p, EX_NEG, pos);
        e->lhs = parse_unary(p, false);
        p->nesting--;
        if (!e->lhs) return NULL;
    } else {
        e = parse_primary(p);
    }
    e = parse_postfix(p, e);
    return with_filters ? parse_filters(p, e) : e;
}

static TExpr *parse_concat(Parser *p) {
    TExpr *e = parse_unary(p, true);
    while (e && at_op(p, "~")) {
        p->i++;
        TExpr *rhs = parse_unary(p, true);
        e = rhs ? new_binary(p, EX_BINOP, OP_CONCAT, e, rhs) : NULL;
    }
    static const char *const unsupported[] = {"*", "/", "//", "%", "**"};
    for (size_t k = 0; e && k < sizeof unsupported / sizeof *unsupported; k++) {
        if (at_op(p, unsupported[k])) {
            parse_error(p, peek(p)->pos, "operator '%s' is not supported", unsupported[k]);
            return NULL;
        }
    }
    return e;
}

static TExpr *parse_sum(Parser *p) {
    TExpr *e = parse_concat(p);
    while (e && (at_op(p, "+") || at_op(p, "-"))) {
        BinOp op = advance(p)->text[0] == '+' ? OP_ADD : OP_SUB;
        TExpr *rhs = parse_concat(p);
        e = rhs ? new_binary(p, EX_BINOP, op, e, rhs) : NULL;
    }
    return e;
}

/* Reads a comparison operator if one is next. */
static bool parse_compare_op(Parser *p, BinOp *op) {
    static const struct { const char *text; BinOp op; } ops[] = {
        {"==", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT}, {">", OP_GT}, {"<=", OP_LE}, {">=", OP_GE},
    };
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
        if (at_op(p, ops[k].text)) {
            p->i++;
            *op = ops[k].op;
            return true;
        }
    }
    if (at_name(p, "in")) {
        p->i++;
        *op = OP_IN;
        return true;
    }
    if (at_name(p, "not") && tok_is(&p->toks[p->i + 1], TK_NAME, "in")) {
        p->i += 2;
        *op = OP_NOTIN;
        return true;
    }
    return false;
}

static TExpr *parse_compare(Parser *p) {
    TExpr *first = parse_sum(p);
    TExpr *result = first, *prev = first;
    BinOp op;
    while (result && parse_compare_op(p, &op)) {
        TExpr *rhs = parse_sum(p);
        if (!rhs) return NULL;
        TExpr *cmp = new_binary(p, EX_BINOP, op, prev, rhs);
        result = result == first ? cmp : new_binary(p, EX_AND, OP_EQ, result, cmp);
        prev = rhs;
    }
    return result;
}

static TExpr *parse_not(Parser *p) {
    if (!at_name(p, "not")) return parse_compare(p);
    TExpr *e = new_expr(p, EX_NOT, advance(p)->pos);
    if (!nest(p, e->pos)) return NULL;
    e->lhs = parse_not(p);
    p->nesting--;
    return e->lhs ? e : NULL;
}

static TExpr *parse_and(Parser *p) {
    TExpr *e = parse_not(p);
    while (e && at_name(p, "and")) {
        p->i++;
        TExpr *rhs = parse_not(p);
        e = rhs ? new_binary(p, EX_AND, OP_EQ, e, rhs) : NULL;
    }
    return e;
}

static TExpr *parse_expr(Parser *p) {
    size_t pos = peek(p)->pos;
    if (!nest(p, pos)) return NULL;
    TExpr *e = parse_and(p);
    while (e && at_name(p, "or")) {
        p->i++;
        TExpr *rhs = parse_and(p);
        e = rhs ? new_binary(p, EX_OR, OP_EQ, e, rhs) : NULL;
    }
    p->nesting--;
    if (e && p->nesting == 0 && too_deep(e)) {   /* the outermost expression: its whole tree */
        parse_error(p, pos, "expression deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    return e;
}

/* ---- statements ---- */

typedef struct Ends {
    const char *names[2];   /* the tags that end the current block */
    const char *opener;     /* the statement they close, for "never closed" errors */
    size_t opener_pos;
} Ends;

static bool parse_block(Parser *p, const Ends *ends, TBlock *out);
static bool parse_block_items(Parser *p, const Ends *ends, TBlock *out);

static bool end_of_statement(Parser *p) {
    return expect(p, TK_BLOCK_END, NULL, "end of statement '%}'");
}

static TStmt *new_stmt(Parser *p, StmtKind kind, size_t pos) {
    TStmt *s = arena_alloc(p->a, sizeof *s);
    s->kind = kind;
    s->pos = pos;
    return s;
}

/* After `{% if`: the condition, the branches, up to and including `{% endif %}`. */
static TStmt *parse_if(Parser *p, size_t pos) {
    TStmt *s = new_stmt(p, ST_IF, pos);
    s->expr = parse_expr(p);
    if (!s->expr || !end_of_statement(p)) return NULL;
    Ends ends = {{"elif", "else"}, "if", pos};
    if (!parse_block(p, &ends, &s->body)) return NULL;
    const Token *end = advance(p);
    if (tok_is(end, TK_NAME, "elif")) {
        TStmt *elif = parse_if(p, pos);
        if (!elif) return NULL;
        s->orelse.items = arena_alloc(p->a, sizeof *s->orelse.items);
        s->orelse.items[0] = elif;
        s->orelse.len = 1;
        return s;   /* the nested if consumed the endif */
    }
    if (tok_is(end, TK_NAME, "else")) {
        Ends else_ends = {{NULL, NULL}, "if", pos};
        if (!end_of_statement(p) || !parse_block(p, &else_ends, &s->orelse)) return NULL;
        p->i++;   /* endif */
    }
    return end_of_statement(p) ? s : NULL;
}

/* After `{% for`: `a[, b...] in expr`, the body, an optional else, `{% endfor %}`. */
static TStmt *parse_for(Parser *p, size_t pos) {
    TStmt *s = new_stmt(p, ST_FOR, pos);
    PtrVec names = {0};
    for (;;) {
        const Token *t = advance(p);
        if (t->kind != TK_NAME) {
            parse_error(p, t->pos, "expected a loop variable name, got %s", describe(p->a, t));
            return NULL;
        }
        ptrvec_push(p->a, &names, (void *)t->text);
        if (!at_op(p, ",")) break;
        p->i++;
    }
    s->names = (const char **)names.items;
    s->nnames = names.len;
    if (!expect(p, TK_NAME, "in", "'in'")) return NULL;
    s->expr = parse_expr(p);
    if (!s->expr || !end_of_statement(p)) return NULL;
    Ends ends = {{"else", NULL}, "for", pos};
    if (!parse_block(p, &ends, &s->body)) return NULL;
    if (tok_is(advance(p), TK_NAME, "else")) {
        Ends else_ends = {{NULL, NULL}, "for", pos};
        if (!end_of_statement(p) || !parse_block(p, &else_ends, &s->orelse)) return NULL;
        p->i++;   /* endfor */
    }
    return end_of_statement(p) ? s : NULL;
}

/* After `{% set`: `name = expr`. */
static TStmt *parse_set(Parser *p, size_t pos) {
    TStmt *s = new_stmt(p, ST_SET, pos);
    const Token *t = advance(p);
    if (t->kind != TK_NAME) {
        parse_error(p, t->pos, "expected a variable name after 'set', got %s", describe(p->a, t));
        return NULL;
    }
    s->names = arena_alloc(p->a, sizeof *s->names);
    s->names[0] = t->text;
    s->nnames = 1;
    if (!at_op(p, "=")) {
        parse_error(p, peek(p)->pos, "expected '=' after 'set %s' (block set and multiple targets are not supported)", t->text);
        return NULL;
    }
    p->i++;
    s->expr = parse_expr(p);
    return s->expr && end_of_statement(p) ? s : NULL;
}

static const char *closer_of(const char *opener) {
    return strcmp(opener, "if") == 0 ? "endif" : "endfor";
}

static bool is_end_of(const Ends *ends, const Token *t) {
    if (!ends) return false;
    if (tok_is(t, TK_NAME, closer_of(ends->opener))) return true;
    for (int k = 0; k < 2; k++)
        if (ends->names[k] && tok_is(t, TK_NAME, ends->names[k])) return true;
    return false;
}

/* A closing or continuing tag (`endif`, `else`, ...) where it does not belong. */
static TStmt *misplaced_tag(Parser *p, const Token *t, const Ends *ends) {
    static const struct { const char *tag, *opener; } misplaced[] = {
        {"elif", "if"}, {"else", "if' or 'for"}, {"endif", "if"}, {"endfor", "for"},
    };
    for (size_t k = 0; k < sizeof misplaced / sizeof *misplaced; k++) {
        if (!tok_is(t, TK_NAME, misplaced[k].tag)) continue;
        if (ends) {
            parse_error(p, t->pos, "unexpected '%s': the '%s' at line %d is not closed yet (expected '{%% %s %%}')",
                        t->text, ends->opener, tsrc_loc(p->src, ends->opener_pos).line, closer_of(ends->opener));
        } else {
            parse_error(p, t->pos, "'%s' without matching '%s'", misplaced[k].tag, misplaced[k].opener);
        }
        return NULL;
    }
    parse_error(p, t->pos, "unknown statement '%s'", t->text);
    return NULL;
}

/* After `{%`: one statement, or NULL after an error. */
static TStmt *parse_statement(Parser *p, size_t pos, const Ends *ends) {
    const Token *t = advance(p);
    if (t->kind != TK_NAME) {
        parse_error(p, t->pos, "expected a statement name after '{%%', got %s", describe(p->a, t));
        return NULL;
    }
    if (tok_is(t, TK_NAME, "if")) return parse_if(p, pos);
    if (tok_is(t, TK_NAME, "for")) return parse_for(p, pos);
    if (tok_is(t, TK_NAME, "set")) return parse_set(p, pos);
    return misplaced_tag(p, t, ends);
}

static TStmt *parse_output(Parser *p, size_t pos) {
    TStmt *s = new_stmt(p, ST_OUTPUT, pos);
    s->expr = parse_expr(p);
    return s->expr && expect(p, TK_VAR_END, NULL, "end of tag '}}'") ? s : NULL;
}

static TStmt *parse_text(Parser *p) {
    const Token *t = advance(p);
    TStmt *s = new_stmt(p, ST_TEXT, t->pos);
    s->text = t->text;
    s->len = t->len;
    return s;
}

/* Statements up to one of ends' tags (left as the next token, just after its `{%`) or, when
 * ends is NULL, up to the end of the template. */
static bool parse_block(Parser *p, const Ends *ends, TBlock *out) {
    if (ends && !nest(p, ends->opener_pos)) return false;
    bool ok = parse_block_items(p, ends, out);
    if (ends) p->nesting--;
    return ok;
}

static bool parse_block_items(Parser *p, const Ends *ends, TBlock *out) {
    PtrVec items = {0};
    for (;;) {
        const Token *t = peek(p);
        TStmt *s;
        if (t->kind == TK_EOF) {
            if (!ends) break;
            parse_error(p, ends->opener_pos, "'%s' is never closed: expected '{%% %s %%}'", ends->opener,
                        closer_of(ends->opener));
            return false;
        }
        if (t->kind == TK_BLOCK_BEGIN && is_end_of(ends, &p->toks[p->i + 1])) {
            p->i++;
            break;
        }
        if (t->kind == TK_DATA) {
            s = parse_text(p);
        } else {
            p->i++;   /* the tag's opening */
            s = t->kind == TK_VAR_BEGIN ? parse_output(p, t->pos) : parse_statement(p, t->pos, ends);
        }
        if (!s) return false;
        ptrvec_push(p->a, &items, s);
    }
    out->items = (TStmt **)items.items;
    out->len = items.len;
    return true;
}

TBlock *tmpl_parse(Arena *a, const TSource *src, const TokVec *toks) {
    Parser p = {.a = a, .src = src, .toks = toks->items};
    TBlock *body = arena_alloc(a, sizeof *body);
    return parse_block(&p, NULL, body) ? body : NULL;
}
