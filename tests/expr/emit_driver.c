/* emit_driver.c - test-only: turns a file of expression cases into ONE C program that evaluates
 * them all with the code expr_emit_c generates, so tests/suite_expr.py can compile it against the
 * runtime, run it and compare every printed result with the expected one.
 *
 * Usage: emit_driver CASES OUT.c
 * A case line is `EXPR => EXPECTED` (blank lines and lines starting with # are skipped); an EXPR
 * starting with `?` is emitted with expr_emit_c_truth instead. The program prints one line per
 * case, `TYPE VALUE` (VALUE is NULL, true/false, a number, 'text', or the timestamp/date text;
 * intervals as microseconds), followed by ` overflow=N` / ` div_zero=N` when the case counted any.
 * Truth cases print `truth 1` or `truth 0`. The record's fields are fixed here (see `fields`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr.h"

static const char *const ev_values[] = {"view", "cart", "purchase"};

static const ExprField fields[] = {
    {"i", T_INT32, "r->i", NULL, NULL, 0, NULL},
    {"k", T_INT32, "r->k", NULL, NULL, 0, NULL},
    {"z", T_INT32, "r->z", NULL, NULL, 0, NULL},
    {"imax", T_INT32, "r->imax", NULL, NULL, 0, NULL},
    {"imin", T_INT32, "r->imin", NULL, NULL, 0, NULL},
    {"l", T_INT64, "r->l", NULL, NULL, 0, NULL},
    {"big", T_INT64, "r->big", NULL, NULL, 0, NULL},
    {"lmin", T_INT64, "r->lmin", NULL, NULL, 0, NULL},
    {"f", T_FLOAT64, "r->f", NULL, NULL, 0, NULL},
    {"fz", T_FLOAT64, "r->fz", NULL, NULL, 0, NULL},
    {"s", T_STRING, "r->s", NULL, NULL, 0, NULL},
    {"g", T_STRING, "r->g", NULL, NULL, 0, NULL},
    {"pad", T_STRING, "r->pad", NULL, NULL, 0, NULL},
    {"num", T_STRING, "r->num", NULL, NULL, 0, NULL},
    {"b", T_BOOL, "r->b", NULL, NULL, 0, NULL},
    {"bf", T_BOOL, "r->bf", NULL, NULL, 0, NULL},
    {"t", T_TIMESTAMP, "r->t", NULL, NULL, 0, NULL},
    {"d", T_DATE, "r->d", NULL, NULL, 0, NULL},
    {"ev", T_STRING, "r->ev", NULL, ev_values, 3, "EV_NAMES"},
    {"evn", T_STRING, "r->evn", "r->evn_null", ev_values, 3, "EV_NAMES"},
    {"ni", T_INT32, "r->ni", "r->ni_null", NULL, 0, NULL},
    {"nl", T_INT64, "r->nl", "r->nl_null", NULL, 0, NULL},
    {"nb", T_BOOL, "r->nb", "r->nb_null", NULL, 0, NULL},
    {"ns", T_STRING, "r->ns", "r->ns_null", NULL, 0, NULL},
    {"nt", T_TIMESTAMP, "r->nt", "r->nt_null", NULL, 0, NULL},
    {"nf", T_FLOAT64, "r->nf", "r->nf_null", NULL, 0, NULL},
    {"order id", T_INT32, "r->order_id", NULL, NULL, 0, NULL},
};

static const char *prelude =
    "#include \"pipec_rt.h\"\n"
    "#include <stdio.h>\n"
    "#include <inttypes.h>\n"
    "\n"
    "static const prt_str EV_NAMES[] = {PRT_STR_LIT(\"view\"), PRT_STR_LIT(\"cart\"), PRT_STR_LIT(\"purchase\")};\n"
    "typedef struct Rec {\n"
    "    int32_t i, k, z, imax, imin, order_id, ni, ev, evn, d;\n"
    "    int64_t l, big, lmin, nl, t, nt;\n"
    "    double f, fz, nf;\n"
    "    prt_str s, g, pad, num, ns;\n"
    "    bool b, bf, nb, evn_null, ni_null, nl_null, nb_null, ns_null, nt_null, nf_null;\n"
    "} Rec;\n"
    "\n"
    "static prt_buf out;\n"
    "static void put(const char *s) { prt_buf_put(&out, s, strlen(s)); }\n"
    "static void show_null(const char *ty) { put(ty); put(\" NULL\"); }\n"
    "static void show_bool(bool v, int n) { if (n) show_null(\"bool\"); else put(v ? \"bool true\" : \"bool false\"); }\n"
    "static void show_int(const char *ty, int64_t v, int n) {\n"
    "    if (n) { show_null(ty); return; }\n"
    "    put(ty); put(\" \"); prt_buf_put_i64(&out, v);\n"
    "}\n"
    "static void show_f64(double v, int n) {\n"
    "    if (n) { show_null(\"float64\"); return; }\n"
    "    put(\"float64 \"); prt_buf_put_f64(&out, v);\n"
    "}\n"
    "static void show_str(prt_str v, int n) {\n"
    "    if (n) { show_null(\"string\"); return; }\n"
    "    put(\"string '\"); prt_buf_put(&out, v.p, v.n); put(\"'\");\n"
    "}\n"
    "static void show_ts(int64_t v, int n) {\n"
    "    if (n) { show_null(\"timestamp\"); return; }\n"
    "    put(\"timestamp \"); prt_buf_put_timestamp(&out, v);\n"
    "}\n"
    "static void show_date(int32_t v, int n) {\n"
    "    if (n) { show_null(\"date\"); return; }\n"
    "    put(\"date \"); prt_buf_put_date(&out, v);\n"
    "}\n"
    "static void counters(prt_run *run, uint64_t ov, uint64_t dz) {\n"
    "    char b[64];\n"
    "    if (run->stats.overflow != ov) { snprintf(b, sizeof b, \" overflow=%\" PRIu64, run->stats.overflow - ov); put(b); }\n"
    "    if (run->stats.div_zero != dz) { snprintf(b, sizeof b, \" div_zero=%\" PRIu64, run->stats.div_zero - dz); put(b); }\n"
    "    put(\"\\n\");\n"
    "}\n"
    "\n"
    "int main(void) {\n"
    "    static prt_run R;\n"
    "    prt_run *run = &R;\n"
    "    run->batch_now_us = INT64_C(1717200000000000); /* 2024-06-01T00:00:00Z */\n"
    "    Rec rec = {0};\n"
    "    Rec *r = &rec;\n"
    "    r->i = 7; r->k = -3; r->z = 0; r->imax = INT32_MAX; r->imin = INT32_MIN; r->order_id = 42;\n"
    "    r->l = INT64_C(10000000000); r->big = INT64_MAX; r->lmin = INT64_MIN;\n"
    "    r->f = 2.5; r->fz = 0.0;\n"
    "    r->s = PRT_STR_LIT(\"h\\xc3\\xa9llo W\\xc3\\xb6rld\");            /* héllo Wörld */\n"
    "    r->g = PRT_STR_LIT(\"\\xce\\x91\\xce\\x92\\xce\\x93 \\xd0\\x96\\xd1\\x83\\xd0\\xba\"); /* ΑΒΓ Жук */\n"
    "    r->pad = PRT_STR_LIT(\"  hi there \\t\");\n"
    "    r->num = PRT_STR_LIT(\" 42 \");\n"
    "    r->b = true; r->bf = false;\n"
    "    r->t = INT64_C(1714558830500000);   /* 2024-05-01T10:20:30.5Z */\n"
    "    r->d = 19782;                        /* 2024-02-29 */\n"
    "    r->ev = 1; r->evn = 7;               /* cart; evn is NULL (and its index out of range) */\n"
    "    r->evn_null = r->ni_null = r->nl_null = r->nb_null = r->ns_null = r->nt_null = r->nf_null = true;\n"
    "    r->ni = 99; r->nl = INT64_MAX; r->nb = true; r->nt = 5; r->nf = 1.0;\n"
    "    r->ns = (prt_str){(const char *)16, 100};   /* garbage: reading it would crash */\n";

static void show(SBuf *o, CVal v, Type t) {
    const char *n = v.isnull;
    switch (t) {
    case T_NULL: sbuf_printf(o, "    (void)%s; show_null(\"null\");\n", v.val); break;
    case T_BOOL: sbuf_printf(o, "    show_bool(%s, %s);\n", v.val, n); break;
    case T_INT32: case T_INT64: case T_INTERVAL:
        sbuf_printf(o, "    show_int(\"%s\", %s, %s);\n", type_name(t), v.val, n); break;
    case T_FLOAT64: sbuf_printf(o, "    show_f64(%s, %s);\n", v.val, n); break;
    case T_STRING: sbuf_printf(o, "    show_str(%s, %s);\n", v.val, n); break;
    case T_TIMESTAMP: sbuf_printf(o, "    show_ts(%s, %s);\n", v.val, n); break;
    case T_DATE: sbuf_printf(o, "    show_date(%s, %s);\n", v.val, n); break;
    default: sbuf_printf(o, "    put(\"error\");\n"); break;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: emit_driver CASES OUT.c\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    Arena a = {0};
    SBuf o = {0};
    sbuf_puts(&o, prelude);
    ExprScope scope = {fields, (int)(sizeof fields / sizeof fields[0]), "test"};
    CEmitter ce = {.out = &o, .indent = 1, .tmp = 0, .run = "run", .line_directives = true};
    char buf[4096];
    int lineno = 0, ncases = 0, bad = 0;
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        buf[strcspn(buf, "\n")] = 0;
        if (!buf[0] || buf[0] == '#') continue;
        char *arrow = strstr(buf, " => ");
        if (!arrow) {
            fprintf(stderr, "%s:%d: no ' => ' in case\n", argv[1], lineno);
            bad++;
            continue;
        }
        *arrow = 0;
        bool truth = buf[0] == '?';
        YNode *sc = arena_alloc(&a, sizeof *sc);
        sc->kind = YN_SCALAR;
        sc->text = arena_strdup(&a, buf + truth);
        sc->len = strlen(sc->text);
        sc->style = YS_PLAIN;
        sc->loc = (SrcLoc){argv[1], lineno, 1 + truth};
        Expr *e = expr_parse(&a, sc);
        if (!e || expr_check(&a, e, &scope) == T_ERROR) {
            bad++;
            continue;
        }
        ncases++;
        sbuf_printf(&o, "    { /* %s:%d */\n", argv[1], lineno);
        sbuf_puts(&o, "    uint64_t ov = run->stats.overflow, dz = run->stats.div_zero;\n");
        if (truth) {
            const char *c = expr_emit_c_truth(&a, &ce, e);
            sbuf_printf(&o, "#line %d \"expr_cases.c\"\n", 9999);
            sbuf_printf(&o, "    put((%s) ? \"truth 1\" : \"truth 0\");\n", c);
        } else {
            CVal v = expr_emit_c(&a, &ce, e);
            sbuf_printf(&o, "#line %d \"expr_cases.c\"\n", 9999);
            show(&o, v, v.type);
        }
        sbuf_puts(&o, "    counters(run, ov, dz);\n    }\n");
    }
    fclose(f);
    sbuf_puts(&o, "    fwrite(out.data, 1, out.len, stdout);\n"
                  "    prt_buf_free(&out);\n    prt_arena_free(&run->scratch);\n    return 0;\n}\n");
    FILE *w = fopen(argv[2], "w");
    if (!w) {
        perror(argv[2]);
        return 2;
    }
    fputs(sbuf_cstr(&o), w);
    fclose(w);
    sbuf_free(&o);
    arena_free(&a);
    fprintf(stderr, "emit_driver: %d cases\n", ncases);
    return bad ? 1 : 0;
}
