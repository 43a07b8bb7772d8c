/* test_expr.c - unit tests of the expression compiler: parsing and type checking (types of valid
 * expressions; every kind of error with its exact file:line:col and message, captured through
 * diag_set_output), the queries (expr_loc, expr_fields_used, expr_is_field, expr_is_constant),
 * and the shape of emitted C. Behaviour of the emitted C is tested by tests/suite_expr.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "expr.h"

static Arena arena;

static const char *const ev_values[] = {"view", "cart", "purchase"};
static const ExprField fields[] = {
    {"price", T_FLOAT64, "r->price", NULL, NULL, 0, NULL},
    {"quantity", T_INT32, "r->quantity", "r->quantity_null", NULL, 0, NULL},
    {"name", T_STRING, "r->name", NULL, NULL, 0, NULL},
    {"event_type", T_STRING, "r->event_type", NULL, ev_values, 3, "EVENT_TYPE_NAMES"},
    {"event_time", T_TIMESTAMP, "r->event_time", NULL, NULL, 0, NULL},
    {"day", T_DATE, "r->day", NULL, NULL, 0, NULL},
    {"ok", T_BOOL, "r->ok", NULL, NULL, 0, NULL},
};
static const ExprScope scope = {fields, (int)(sizeof fields / sizeof fields[0]), "rule 'r'"};

/* A scalar at t.yaml:1:1 (not made by the YAML loader: positions are 1 + offset). */
static YNode *scalar(const char *text) {
    YNode *n = arena_alloc(&arena, sizeof *n);
    n->kind = YN_SCALAR;
    n->text = arena_strdup(&arena, text);
    n->len = strlen(text);
    n->style = YS_PLAIN;
    n->loc = (SrcLoc){"t.yaml", 1, 1};
    diag_add_source("t.yaml", n->text);
    return n;
}

static char *diag_text;
static size_t diag_len;
static FILE *diag_out;

static void capture(void) {
    diag_reset();
    free(diag_text);
    diag_text = NULL;
    diag_out = open_memstream(&diag_text, &diag_len);
    diag_set_output(diag_out);
}

static const char *captured(void) {
    fclose(diag_out);
    diag_out = NULL;
    diag_set_output(stderr);
    return diag_text ? diag_text : "";
}

/* Parses and checks; returns the type (T_ERROR on any error) and leaves diagnostics in *out. */
static Type compile(const char *text, const char **out, Expr **ep) {
    capture();
    Expr *e = expr_parse(&arena, scalar(text));
    Type t = e ? expr_check(&arena, e, &scope) : T_ERROR;
    *out = captured();
    if (ep) *ep = e;
    return t;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

#define CHECK_TYPE(text, want) do { \
    const char *d_; \
    Type t_ = compile(text, &d_, NULL); \
    if (t_ != (want)) fprintf(stderr, "  %s: %s\n", text, d_); \
    CHECK_STR(type_name(t_), type_name(want)); \
    CHECK_STR(d_, ""); \
} while (0)

/* The expression fails with exactly one error whose text contains `want`. */
#define CHECK_ERR(text, want) do { \
    const char *d_; \
    Type t_ = compile(text, &d_, NULL); \
    CHECK_INT(t_, T_ERROR); \
    if (!strstr(d_, want)) fprintf(stderr, "  for: %s\n", text); \
    CHECK_STR(strstr(d_, want) ? want : d_, want); \
    CHECK_INT(count(d_, ": error: "), 1); \
} while (0)

static void test_types(void) {
    CHECK_TYPE("price * quantity", T_FLOAT64);
    CHECK_TYPE("quantity + 1", T_INT32);
    CHECK_TYPE("quantity + 3000000000", T_INT64);
    CHECK_TYPE("quantity / 2.0", T_FLOAT64);
    CHECK_TYPE("event_type = 'cart'", T_BOOL);
    CHECK_TYPE("event_type IN ('cart', 'view')", T_BOOL);
    CHECK_TYPE("event_type", T_STRING);
    CHECK_TYPE("event_time + interval '1 hour'", T_TIMESTAMP);
    CHECK_TYPE("event_time - event_time", T_INTERVAL);
    CHECK_TYPE("event_time > '2024-01-01T00:00:00Z'", T_BOOL);
    CHECK_TYPE("day between '2024-01-01' and '2024-12-31'", T_BOOL);
    CHECK_TYPE("day + 1", T_DATE);
    CHECK_TYPE("day - day", T_INT32);
    CHECK_TYPE("date_trunc('day', event_time)", T_TIMESTAMP);
    CHECK_TYPE("epoch(event_time)", T_INT64);
    CHECK_TYPE("hour(event_time) + minute(event_time)", T_INT32);
    CHECK_TYPE("name || quantity", T_STRING);
    CHECK_TYPE("case when ok then 1 end", T_INT32);
    CHECK_TYPE("case when ok then 1 else 2.5 end", T_FLOAT64);
    CHECK_TYPE("coalesce(quantity, 0)", T_INT32);
    CHECK_TYPE("NOT ok AND quantity > 1 Or quantity IS NULL", T_BOOL);
    CHECK_TYPE("quantity is not null", T_BOOL);
    CHECK_TYPE("quantity not between 1 and 2", T_BOOL);
    CHECK_TYPE("round(price, 2)", T_FLOAT64);
    CHECK_TYPE("round(quantity)", T_INT32);
    CHECK_TYPE("substr(name, 1, 3)", T_STRING);
    CHECK_TYPE("length(upper(trim(name)))", T_INT32);
    CHECK_TYPE("now()", T_TIMESTAMP);
    CHECK_TYPE("cast(name as int64)", T_INT64);
    CHECK_TYPE("CAST(price AS string)", T_STRING);
    CHECK_TYPE("null", T_NULL);
    CHECK_TYPE("-quantity", T_INT32);
    CHECK_TYPE("\"price\" * 2", T_FLOAT64);
    CHECK_TYPE("'it''s' || name", T_STRING);
    CHECK_TYPE("1e3 + .5", T_FLOAT64);
    CHECK_TYPE("price >= 0 and price <> 1 and price != 2 and price == 3", T_BOOL);
}

static void test_errors(void) {
    CHECK_ERR("prize > 0", "t.yaml:1:1: error: unknown field 'prize' (did you mean 'price'?)");
    CHECK_ERR("zzz > 0", "t.yaml:1:1: error: unknown field 'zzz'\n");
    CHECK_ERR("price + name", "t.yaml:1:7: error: operator '+' needs numbers, got float64 and string");
    CHECK_ERR("quantity * 2 + name", "t.yaml:1:14: error: operator '+' needs numbers, got int32 and string");
    CHECK_ERR("event_type = 'teleport'",
              "t.yaml:1:14: error: 'teleport' is not one of event_type's values: view, cart, purchase\n");
    CHECK_ERR("event_type in ('view', 'crat')",
              "t.yaml:1:24: error: 'crat' is not one of event_type's values: view, cart, purchase (did you mean 'cart'?)");
    CHECK_ERR("lenght(name)", "t.yaml:1:1: error: unknown function 'lenght' (did you mean 'length'?)");
    CHECK_ERR("substr(name)", "t.yaml:1:1: error: function 'substr' takes 2 or 3 arguments, got 1");
    CHECK_ERR("abs(price, 1)", "t.yaml:1:1: error: function 'abs' takes 1 argument, got 2");
    CHECK_ERR("coalesce()", "t.yaml:1:1: error: function 'coalesce' takes at least 1 argument, got 0");
    CHECK_ERR("now(1)", "t.yaml:1:1: error: function 'now' takes 0 arguments, got 1");
    CHECK_ERR("lower(price)", "t.yaml:1:7: error: function 'lower' needs a string, got float64");
    CHECK_ERR("hour(price)", "t.yaml:1:6: error: function 'hour' needs a timestamp or date, got float64");
    CHECK_ERR("price > ", "t.yaml:1:9: error: expected an expression, found end of expression");
    CHECK_ERR("price > 'abc", "t.yaml:1:9: error: unterminated string literal");
    CHECK_ERR("price # 2", "t.yaml:1:7: error: unexpected character '#' in expression");
    CHECK_ERR("(price + 1", "t.yaml:1:11: error: expected ')', found end of expression");
    CHECK_ERR("price + 1)", "t.yaml:1:10: error: unmatched ')'");
    CHECK_ERR("price 1", "t.yaml:1:7: error: expected an operator or end of expression, found '1'");
    CHECK_ERR("price in ()", "t.yaml:1:11: error: expected an expression, found ')'");
    CHECK_ERR("case when ok then 1", "t.yaml:1:20: error: expected 'end', found end of expression");
    CHECK_ERR("case ok end", "t.yaml:1:6: error: expected 'when', found 'ok'");
    CHECK_ERR("price between 1", "t.yaml:1:16: error: expected 'and', found end of expression");
    CHECK_ERR("cast(price float64)", "t.yaml:1:12: error: expected 'as', found 'float64'");
    CHECK_ERR("event_time > 'yesterday'", "t.yaml:1:14: error: 'yesterday' is not a valid timestamp");
    CHECK_ERR("day = '2024-02-30'", "t.yaml:1:7: error: '2024-02-30' is not a valid date");
    CHECK_ERR("timestamp 'nope'", "t.yaml:1:11: error: 'nope' is not a valid timestamp");
    CHECK_ERR("interval '10 parsecs'", "t.yaml:1:10: error: '10 parsecs' is not a valid interval");
    CHECK_ERR("date_trunc('hours', event_time)",
              "t.yaml:1:12: error: unknown date_trunc unit 'hours' (did you mean 'hour'?)");
    CHECK_ERR("date_trunc(name, event_time)", "t.yaml:1:12: error: date_trunc needs a unit in quotes first");
    CHECK_ERR("cast(price as flaot64)", "t.yaml:1:15: error: unknown type 'flaot64' (did you mean 'float64'?)");
    CHECK_ERR("cast(event_time as float64)", "t.yaml:1:1: error: cannot cast timestamp to float64");
    CHECK_ERR("case when price then 1 end", "t.yaml:1:11: error: 'when' needs a bool, got float64");
    CHECK_ERR("case when ok then 1 else 'x' end",
              "t.yaml:1:26: error: case results have different types: int32 (at 1:19) and string");
    CHECK_ERR("not price", "t.yaml:1:1: error: operator 'not' needs a bool, got float64");
    CHECK_ERR("ok and price", "t.yaml:1:4: error: operator 'and' needs bools, got bool and float64");
    CHECK_ERR("ok or 1", "t.yaml:1:4: error: operator 'or' needs bools, got bool and int32");
    CHECK_ERR("-name", "t.yaml:1:1: error: operator '-' needs a number, got string");
    CHECK_ERR("event_time + 1", "t.yaml:1:12: error: operator '+' cannot combine timestamp and int32");
    CHECK_ERR("price = name", "t.yaml:1:7: error: operator '=' cannot compare float64 and string");
    CHECK_ERR("price <> ok", "t.yaml:1:7: error: operator '<>' cannot compare float64 and bool");
    CHECK_ERR("quantity in (1, 'a')", "t.yaml:1:10: error: operator 'in' cannot compare int32 and string");
    CHECK_ERR("99999999999999999999", "t.yaml:1:1: error: integer literal 99999999999999999999 is out of range");
    CHECK_ERR("12abc", "t.yaml:1:1: error: malformed number '12abc'");
    CHECK_ERR("", "t.yaml:1:1: error: empty expression");
    CHECK_ERR("coalesce(quantity, name)",
              "t.yaml:1:20: error: coalesce arguments have different types: int32 and string");
    CHECK_ERR("then + 1", "t.yaml:1:1: error: expected an expression, found 'then'");
    CHECK_ERR("price(1)", "t.yaml:1:1: error: unknown function 'price' (a field cannot be called)");
    CHECK_ERR("substr(name, 1.5)", "t.yaml:1:14: error: function 'substr' needs an integer, got float64");
}

static void test_several_errors_no_cascade(void) {
    const char *d;
    /* two independent errors in one expression: both reported, in order */
    CHECK_INT(compile("prize + 1 > 0 and nme = 'x'", &d, NULL), T_ERROR);
    CHECK_INT(count(d, ": error: "), 2);
    CHECK(strstr(d, "t.yaml:1:1: error: unknown field 'prize' (did you mean 'price'?)") != NULL);
    CHECK(strstr(d, "t.yaml:1:19: error: unknown field 'nme' (did you mean 'name'?)") != NULL);
    /* a poisoned operand makes no further noise */
    CHECK_INT(compile("(prize + 1) * name > 0 or not (prize)", &d, NULL), T_ERROR);
    CHECK_INT(count(d, ": error: "), 2);
    CHECK(strstr(d, "operator") == NULL);
    /* errors in function arguments and case branches are all found */
    CHECK_INT(compile("coalesce(lower(price), upper(quantity)) = case when price then 1 end", &d, NULL), T_ERROR);
    CHECK_INT(count(d, ": error: "), 3);
    /* the source line and a caret follow the message */
    CHECK_INT(compile("price + name", &d, NULL), T_ERROR);
    CHECK(strstr(d, "price + name\n") != NULL);
    CHECK(strstr(d, "\n      ^") != NULL);
}

static void test_yaml_positions(void) {
    /* through the real loader: a quoted scalar on line 3, and a block scalar */
    const char *text = "pipeline: p\nrules:\n  r1: \"prize > 0\"\n  r2: |\n    price > 0 and\n    nmae = 'x'\n";
    capture();
    YNode *root = yaml_load_string(&arena, "spec.yaml", text);
    CHECK(root != NULL);
    if (!root) {
        captured();
        return;
    }
    YNode *rules = yaml_get(root, "rules");
    Expr *e1 = expr_parse(&arena, yaml_get(rules, "r1"));
    Expr *e2 = expr_parse(&arena, yaml_get(rules, "r2"));
    CHECK(e1 && e2);
    if (e1) CHECK_INT(expr_check(&arena, e1, &scope), T_ERROR);
    if (e2) CHECK_INT(expr_check(&arena, e2, &scope), T_ERROR);
    const char *d = captured();
    CHECK(strstr(d, "spec.yaml:3:8: error: unknown field 'prize'") != NULL);
    CHECK(strstr(d, "spec.yaml:6:5: error: unknown field 'nmae' (did you mean 'name'?)") != NULL);
    if (e1) {
        SrcLoc l = expr_loc(e1);
        CHECK_INT(l.line, 3);
        CHECK_INT(l.col, 8);
    }
}

static void test_queries(void) {
    const char *d;
    Expr *e;
    compile("price * quantity + price > coalesce(quantity, 0)", &d, &e);
    const char *names[4];
    CHECK_INT(expr_fields_used(e, names, 4), 2);
    CHECK_STR(names[0], "price");
    CHECK_STR(names[1], "quantity");
    CHECK_INT(expr_fields_used(e, names, 1), 1);
    const char *name = NULL;
    compile("price", &d, &e);
    CHECK(expr_is_field(e, &name));
    CHECK_STR(name, "price");
    CHECK(!expr_is_constant(e));
    compile("\"price\"", &d, &e);
    CHECK(expr_is_field(e, &name));
    compile("price + 1", &d, &e);
    CHECK(!expr_is_field(e, &name));
    SrcLoc l = expr_loc(e);
    CHECK_INT(l.col, 1);
    compile("  quantity * 2", &d, &e);
    CHECK_INT(expr_loc(e).col, 3);
    compile("interval '10 seconds'", &d, &e);
    CHECK(expr_is_constant(e));
    compile("1 + 2 * 3", &d, &e);
    CHECK(expr_is_constant(e));
    compile("now()", &d, &e);
    CHECK(!expr_is_constant(e));
    compile("date_trunc('hour', timestamp '2024-01-01T00:00:00Z')", &d, &e);
    CHECK(expr_is_constant(e));
}

static const char *emit(const char *text, bool truth, bool lines, CVal *out) {
    static SBuf b;
    sbuf_reset(&b);
    const char *d;
    Expr *e;
    compile(text, &d, &e);
    CEmitter ce = {.out = &b, .indent = 1, .tmp = 0, .run = "run", .line_directives = lines};
    if (truth) {
        const char *c = expr_emit_c_truth(&arena, &ce, e);
        if (out) *out = (CVal){c, "0", T_BOOL, NULL};
    } else {
        CVal v = expr_emit_c(&arena, &ce, e);
        if (out) *out = v;
    }
    return sbuf_cstr(&b);
}

static void test_emit_shape(void) {
    CVal v;
    const char *c = emit("price", false, false, &v);
    CHECK_STR(c, "");
    CHECK_STR(v.val, "r->price");
    CHECK_STR(v.isnull, "0");
    CHECK_INT(v.type, T_FLOAT64);
    emit("quantity", false, false, &v);
    CHECK_STR(v.isnull, "(r->quantity_null)");
    emit("event_type", false, false, &v);
    CHECK_STR(v.val, "EVENT_TYPE_NAMES[r->event_type]");
    CHECK_INT(v.type, T_STRING);
    c = emit("event_type = 'purchase'", false, false, &v);
    CHECK_STR(c, "    bool _t0 = r->event_type == 2;\n");
    CHECK_STR(v.val, "_t0");
    CHECK_STR(v.isnull, "0");
    c = emit("quantity + 1", false, false, &v);
    CHECK_STR(c, "    int32_t _t0 = 0;\n    bool _t0n = (r->quantity_null) || !prt_add_i32(run, r->quantity, 1, &_t0);\n");
    CHECK_STR(v.isnull, "_t0n");
    CHECK_INT(v.type, T_INT32);
    emit("'a\"b\\\\c\n'", false, false, &v);
    CHECK_STR(v.val, "((prt_str){\"a\\\"b\\\\\\\\c\\012\", 7})");
    emit("ok", true, false, &v);
    CHECK_STR(v.val, "r->ok");
    emit("quantity > 1", true, false, &v);
    CHECK_STR(v.val, "(!_t0n && _t0)");
    emit("null", true, false, &v);
    CHECK_STR(v.val, "0");
    /* #line names the scalar's file, escaped as a C string */
    static const char fname[] = "dir/we\"ird.yaml";
    YNode *n = scalar("price > 1");
    n->loc = (SrcLoc){fname, 12, 9};
    Expr *e = expr_parse(&arena, n);
    expr_check(&arena, e, &scope);
    SBuf b = {0};
    CEmitter ce = {.out = &b, .indent = 0, .tmp = 5, .run = "rp", .line_directives = true};
    expr_emit_c(&arena, &ce, e);
    CHECK_STR(sbuf_cstr(&b), "#line 12 \"dir/we\\\"ird.yaml\"\nbool _t5 = r->price > (double)1;\n");
    CHECK_INT(ce.tmp, 6);
    sbuf_free(&b);
}

int main(void) {
    test_types();
    test_errors();
    test_several_errors_no_cascade();
    test_yaml_positions();
    test_queries();
    test_emit_shape();
    free(diag_text);
    arena_free(&arena);
    return check_report();
}
