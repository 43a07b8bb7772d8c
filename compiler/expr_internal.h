/* expr_internal.h - the expression AST and the helpers shared by expr_lex.c, expr_parse.c,
 * expr_check.c and expr_emit.c. Private to those files.
 *
 * Invariants: every node keeps the byte offset of its first character in the scalar (`off`) and,
 * for operators, the offset of the operator (`opoff`), so diagnostics point at the exact column.
 * After expr_check every node has a `type`; T_ERROR marks a subtree whose error was already
 * reported (parents stay silent). The checker may rewrite literals in place (a string literal
 * compared with a timestamp becomes a timestamp literal; one compared with an enum field becomes
 * the enum's index), so the emitter never has to parse anything. */
#ifndef PIPEC_EXPR_INTERNAL_H
#define PIPEC_EXPR_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "expr.h"

/* ---- tokens (expr_lex.c) ---- */
typedef enum {
    TK_EOF, TK_IDENT, TK_QIDENT, TK_INT, TK_FLOAT, TK_STRING,
    TK_LPAREN, TK_RPAREN, TK_COMMA, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_CONCAT,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
} TokKind;

typedef struct Token {
    TokKind kind;
    size_t off, len;     /* the token's bytes in the scalar */
    const char *text;    /* IDENT/QIDENT: the name; STRING: the unescaped value (NUL-terminated) */
    size_t tlen;         /* length of text (strings may hold any byte) */
    int64_t ival;        /* TK_INT */
    double fval;         /* TK_FLOAT */
    bool too_big;        /* TK_INT that does not fit int64 */
} Token;

/* Splits the scalar's text into tokens (last one TK_EOF). Reports lexical errors and returns -1. */
int expr_lex(Arena *a, const YNode *scalar, Token **out);

/* Compile-time value parsers (literals and literal conversions). */
bool expr_parse_timestamp_text(const char *s, size_t n, int64_t *out_us);
bool expr_parse_date_text(const char *s, size_t n, int32_t *out_days);
bool expr_parse_interval_text(const char *s, size_t n, int64_t *out_us);

/* ---- the tree ---- */
typedef enum {
    EX_LIT, EX_FIELD, EX_NEG, EX_NOT, EX_BIN, EX_AND, EX_OR, EX_ISNULL, EX_IN, EX_BETWEEN,
    EX_CASE, EX_CALL, EX_CAST,
} ExKind;

typedef enum {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_CONCAT, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
} BinOp;

typedef enum {
    FN_COALESCE, FN_ABS, FN_ROUND, FN_FLOOR, FN_CEIL, FN_LOWER, FN_UPPER, FN_LENGTH, FN_SUBSTR,
    FN_TRIM, FN_DATE_TRUNC, FN_DATE, FN_HOUR, FN_MINUTE, FN_DAY, FN_MONTH, FN_YEAR, FN_EPOCH,
    FN_NOW, FN__COUNT
} FnId;

/* date_trunc units, in the runtime's numbering (PRT_TRUNC_* in rt_expr.h). */
enum { TRUNC_SECOND, TRUNC_MINUTE, TRUNC_HOUR, TRUNC_DAY, TRUNC_WEEK, TRUNC_MONTH, TRUNC_YEAR };

struct Expr {
    ExKind kind;
    size_t off;            /* first byte of the node in the scalar */
    size_t opoff;          /* operator / function name / keyword position */
    size_t end;            /* one past the last byte (for messages quoting the source) */
    const YNode *src;
    Type type;             /* set by expr_check */

    /* EX_LIT: lit is the literal's type (T_NULL for null); T_INT32 also carries enum indexes */
    Type lit;
    int64_t ival;          /* ints, timestamps, dates, intervals, bools */
    double fval;
    const char *sval;      /* strings */
    size_t slen;

    /* EX_FIELD */
    const char *name;
    const ExprField *field;

    /* EX_BIN / EX_IN / EX_BETWEEN: operand type after promotion (what is compared or computed) */
    BinOp op;
    Type optype;
    bool enum_cmp;         /* compare an enum field's index with literal indexes */
    bool negated;          /* is NOT null, NOT in, NOT between */

    /* operands: NEG/NOT: 1; BIN/AND/OR: 2; ISNULL: 1; IN: subject then items; BETWEEN: 3;
     * CASE: when0, then0, when1, then1, ... [, else]; CALL: arguments; CAST: 1 */
    Expr **kids;
    int nkids;
    bool has_else;         /* EX_CASE */

    /* EX_CALL */
    const char *fname;
    FnId fn;
    int unit;              /* date_trunc: TRUNC_* */

    /* EX_CAST: fname is the type as written, unit its offset; `to` is set by the checker */
    Type to;
};

SrcLoc expr_pos(const Expr *e, size_t off);   /* yaml_scalar_loc of the node's scalar */
const char *expr_fn_name(FnId fn);

#endif
