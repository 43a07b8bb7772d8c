/* tmpl_internal.h - what the template engine's files share (private to compiler/tmpl*.c).
 * The engine runs in three steps: tmpl_lex.c turns the text into tokens (whitespace control is
 * applied there, so DATA tokens are exactly the text to output), tmpl_parse.c builds a small AST,
 * tmpl_eval.c (with the filters in tmpl_filter.c) walks it to render. Every token and node keeps
 * the byte offset it starts at; tsrc_loc turns that into file:line:col for diagnostics.
 * All memory comes from the caller's arena; nothing here is freed separately. */
#ifndef PIPEC_TMPL_INTERNAL_H
#define PIPEC_TMPL_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "diag.h"
#include "sbuf.h"
#include "tmpl.h"

/* ---- source text ---- */
typedef struct TSource {
    const char *name;
    const char *text;       /* newlines normalized to "\n", as Jinja2 does */
    size_t len;
    size_t *line_starts;    /* offset of each line's first byte */
    int nlines;
} TSource;

void tsrc_init(Arena *a, TSource *src, const char *name, const char *text);
SrcLoc tsrc_loc(const TSource *src, size_t pos);

/* Python's str.isspace() for one byte (ASCII only). */
bool tmpl_is_space(unsigned char c);

/* ---- tokens ---- */
typedef enum {
    TK_DATA, TK_VAR_BEGIN, TK_VAR_END, TK_BLOCK_BEGIN, TK_BLOCK_END,
    TK_NAME, TK_STRING, TK_INT, TK_OP, TK_EOF
} TokKind;

typedef struct Token {
    TokKind kind;
    size_t pos;            /* byte offset of the token's start */
    const char *text;      /* DATA: text to output; NAME/OP: spelling; STRING: decoded value */
    size_t len;
    int64_t ival;          /* TK_INT */
} Token;

typedef struct TokVec {
    Token *items;
    int len, cap;
} TokVec;

/* Returns false after reporting a malformed tag through diag. Ends with one TK_EOF. */
bool tmpl_lex(Arena *a, const TSource *src, TokVec *out);

/* ---- AST ---- */
typedef struct TFilter TFilter;

typedef enum {
    EX_LIT, EX_NAME, EX_ATTR, EX_ITEM, EX_LIST, EX_NOT, EX_NEG, EX_AND, EX_OR, EX_BINOP, EX_FILTER
} ExprKind;

typedef enum {
    OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_IN, OP_NOTIN, OP_CONCAT, OP_ADD, OP_SUB
} BinOp;

typedef struct TExpr TExpr;
struct TExpr {
    ExprKind kind;
    size_t pos;
    const TVal *lit;            /* EX_LIT */
    const char *name;           /* EX_NAME variable, EX_ATTR attribute, EX_FILTER filter name */
    BinOp op;                   /* EX_BINOP */
    TExpr *lhs, *rhs;           /* operands; EX_ATTR/EX_ITEM/EX_FILTER: lhs is the object */
    TExpr **args;               /* EX_FILTER arguments, EX_LIST items */
    int nargs;
    const TFilter *filter;      /* EX_FILTER */
};

typedef enum { ST_TEXT, ST_OUTPUT, ST_IF, ST_FOR, ST_SET } StmtKind;

typedef struct TStmt TStmt;
typedef struct TBlock {
    TStmt **items;
    int len;
} TBlock;

struct TStmt {
    StmtKind kind;
    size_t pos;
    const char *text;           /* ST_TEXT */
    size_t len;
    TExpr *expr;                /* ST_OUTPUT value, ST_IF condition, ST_FOR iterable, ST_SET value */
    const char **names;         /* ST_FOR targets (unpacked when more than one), ST_SET name */
    int nnames;
    TBlock body;                /* ST_IF then-branch, ST_FOR body */
    TBlock orelse;              /* ST_IF else-branch (an elif is an ST_IF inside it), ST_FOR else */
};

/* Returns NULL after reporting a syntax error through diag. */
TBlock *tmpl_parse(Arena *a, const TSource *src, const TokVec *toks);

/* ---- evaluation ---- */
/* A value during evaluation: tv == NULL means undefined (Jinja2's StrictUndefined): it may be
 * passed around (to `default`), and using it reports `undef_msg` at `undef_at`. */
typedef struct Val {
    const TVal *tv;
    const char *undef_msg;
    size_t undef_at;
} Val;

/* Variables set by the template: one scope for the template, one per loop iteration (Jinja2
 * forgets a loop body's `set` at the end of each iteration). Lookup goes inward-out, then the model. */
typedef struct TScope {
    struct TScope *parent;
    TVal *vars;                 /* a map */
} TScope;

typedef struct TEval {
    Arena *a;
    const TSource *src;
    const TVal *model;
    TScope *scope;              /* innermost */
    SBuf *out;
    long steps;                 /* statements run and loop iterations, against TMPL_MAX_STEPS */
} TEval;

/* Bounds on one render, so no template can exhaust memory: pipeline.c.tmpl needs a small fraction
 * of either (nested loops over long strings could otherwise grow without end). */
#define TMPL_MAX_STEPS 1000000L
#define TMPL_MAX_OUTPUT ((size_t)64 << 20)

/* Reports an error at byte offset `pos` of the template; always returns false. */
bool tmpl_fail(TEval *ev, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Returns false (after reporting) when v is undefined. */
bool tmpl_require(TEval *ev, Val v);
Val tmpl_defined(const TVal *tv);
Val tmpl_undefined(size_t pos, const char *msg);

bool tmpl_truthy(const TVal *v);
/* str(v) as Python prints it: the text of a str, True/False/None, Python's repr inside lists/maps. */
void tmpl_to_str(SBuf *b, const TVal *v);
const char *tmpl_str(Arena *a, const TVal *v);          /* tmpl_to_str into the arena */
const char *tmpl_kind_name(const TVal *v);              /* "str", "int", ... as Python names them */
bool tmpl_equal(const TVal *x, const TVal *y);
/* The elements `for` iterates: list items, map keys, a string's characters (UTF-8 code points).
 * Returns false (after reporting at pos) for values that are not iterable. */
bool tmpl_iter_items(TEval *ev, size_t pos, const TVal *v, TVal ***items, int *n);
size_t tmpl_utf8_len(const char *s, size_t n);          /* code points in s[0..n) */

/* ---- filters ---- */
#define TMPL_MAX_FILTER_ARGS 4
typedef bool (*TFilterFn)(TEval *ev, const TExpr *at, Val in, const Val *args, int nargs, Val *out);
struct TFilter {
    const char *name;
    int min_args, max_args;
    bool accepts_undefined;     /* only `default`: every other filter needs a defined input */
    TFilterFn fn;
};
const TFilter *tmpl_find_filter(const char *name);

/* Renders a parsed template; false after reporting an error through diag. */
bool tmpl_exec(TEval *ev, const TBlock *body);

#endif
