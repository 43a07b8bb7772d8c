/* emit.c - pass 4: renders the C program of a pipeline from templates/pipeline.c.tmpl with the
 * IR as the model.
 *
 * The template holds the program's shape and the per-field decoders; this file supplies what
 * the template should not spell: expressions compiled to C (expr_emit_c), the value encoders
 * of each sink (per column and type), C literals, and the --help text. Expression code starts
 * with `#line N "spec.yaml"` so compiler messages point at the spec; a marker line after it is
 * replaced, once the whole file is rendered, by a `#line` back to the generated file. The
 * output is byte-reproducible: no dates, no absolute paths beyond what the user passed. */
#include "emit.h"
#include <string.h>
#include "diag.h"
#include "json_writer.h"
#include "pipec_rt.h"
#include "tmpl.h"

#define RESTORE_MARKER "//@pipec-restore-line"

typedef struct Emitter {
    Arena *a;
    const Ir *ir;
    bool lines;          /* #line directives back to the spec */
    int tmp;             /* temporaries numbered across the whole function */
} Emitter;

static const char *c_str(Arena *a, const char *s) {
    SBuf b = {0};
    sbuf_put_c_string(&b, s, strlen(s));
    char *r = arena_strdup(a, sbuf_cstr(&b));
    sbuf_free(&b);
    return r;
}

/* Code blocks go into the model without their last newline: the template supplies it. */
static const char *code_text(Arena *a, SBuf *code) {
    size_t n = code->len;
    while (n > 0 && code->s[n - 1] == '\n') n--;
    return arena_strndup(a, sbuf_cstr(code), n);
}

static const char *c_str_or_null(Arena *a, const char *s) { return s ? c_str(a, s) : "NULL"; }

static void indent(SBuf *o, int n) {
    for (int i = 0; i < n; i++) sbuf_puts(o, "    ");
}

/* Compiles an expression into statements at `ind` levels of indentation. */
static CVal emit_expr(Emitter *em, SBuf *code, int ind, const Expr *e) {
    CEmitter ce = {code, ind, em->tmp, "run", em->lines};
    CVal v = expr_emit_c(em->a, &ce, e);
    em->tmp = ce.tmp;
    if (em->lines) sbuf_puts(code, RESTORE_MARKER "\n");
    return v;
}

static const char *emit_truth(Emitter *em, SBuf *code, int ind, const Expr *e) {
    CEmitter ce = {code, ind, em->tmp, "run", em->lines};
    const char *t = expr_emit_c_truth(em->a, &ce, e);
    em->tmp = ce.tmp;
    if (em->lines) sbuf_puts(code, RESTORE_MARKER "\n");
    return t;
}

/* ---- value encoders ---------------------------------------------------------------------- */

/* Appends C that writes one value in the sink's encoding to the prt_buf `buf`. */
static void encode_value(Arena *a, SBuf *o, int ind, Encoding enc, const char *buf, CVal v) {
    bool nullable = strcmp(v.isnull, "0") != 0;
    if (enc == ENC_ROWS) {
        static const char *const fns[] = {
            [T_BOOL] = "prt_row_bool", [T_INT32] = "prt_row_i64", [T_INT64] = "prt_row_i64",
            [T_FLOAT64] = "prt_row_f64", [T_TIMESTAMP] = "prt_row_ts", [T_DATE] = "prt_row_date",
        };
        indent(o, ind);
        if (nullable) sbuf_printf(o, "if (%s) prt_row_null(%s);\n", v.isnull, buf);
        if (nullable) {
            indent(o, ind);
            sbuf_puts(o, "else ");
        }
        if (v.type == T_STRING) sbuf_printf(o, "{ prt_str s_ = %s; prt_row_str(%s, s_.p, s_.n); }\n", v.val, buf);
        else sbuf_printf(o, "%s(%s, %s);\n", fns[v.type], buf, v.val);
        return;
    }
    if (nullable) {
        indent(o, ind);
        if (enc == ENC_JSONL) sbuf_printf(o, "if (%s) prt_buf_lit(%s, \"null\");\n", v.isnull, buf);
        else if (enc == ENC_TABLE) sbuf_printf(o, "if (%s) prt_buf_putc(%s, 0);\n", v.isnull, buf);
        else sbuf_printf(o, "if (%s) {}\n", v.isnull);
        indent(o, ind);
        sbuf_puts(o, "else ");
    } else {
        indent(o, ind);
    }
    /* A table cell ends with a NUL byte. */
    const char *term = enc == ENC_TABLE ? arena_printf(a, " prt_buf_putc(%s, 0);", buf) : "";
    const char *b = buf;
    switch (v.type) {
    case T_BOOL:
        sbuf_printf(o, "{ if (%s) prt_buf_lit(%s, \"true\"); else prt_buf_lit(%s, \"false\");%s }\n", v.val, b, b, term);
        break;
    case T_INT32:
    case T_INT64:
        sbuf_printf(o, "{ prt_buf_put_i64(%s, %s);%s }\n", b, v.val, term);
        break;
    case T_FLOAT64:
        if (enc == ENC_JSONL)
            sbuf_printf(o, "{ double x_ = %s; if (isfinite(x_)) prt_buf_put_f64(%s, x_); else prt_buf_lit(%s, \"null\"); }\n", v.val, b, b);
        else
            sbuf_printf(o, "{ double x_ = %s; if (isfinite(x_)) prt_buf_put_f64(%s, x_);%s }\n", v.val, b, term);
        break;
    case T_STRING:
        if (enc == ENC_JSONL && v.json) sbuf_printf(o, "{ prt_str s_ = %s; prt_buf_put(%s, s_.p, s_.n); }\n", v.json, b);
        else if (enc == ENC_JSONL) sbuf_printf(o, "{ prt_str s_ = %s; prt_buf_put_json_str(%s, s_.p, s_.n); }\n", v.val, b);
        else if (enc == ENC_CSV) sbuf_printf(o, "{ prt_str s_ = %s; prt_buf_put_csv_str(%s, s_.p, s_.n, ','); }\n", v.val, b);
        else sbuf_printf(o, "{ prt_str s_ = %s; prt_buf_put_cell_str(%s, s_.p, s_.n); }\n", v.val, b);
        break;
    case T_TIMESTAMP:
    case T_DATE: {
        const char *fn = v.type == T_DATE ? "prt_buf_put_date" : "prt_buf_put_timestamp";
        if (enc == ENC_JSONL)
            sbuf_printf(o, "{ prt_buf_putc(%s, '\"'); %s(%s, %s); prt_buf_putc(%s, '\"'); }\n", b, fn, b, v.val, b);
        else
            sbuf_printf(o, "{ %s(%s, %s);%s }\n", fn, b, v.val, term);
        break;
    }
    default:
        sbuf_puts(o, "{}\n");
        break;
    }
}

/* JSON-escapes a key at compile time (keys are identifiers or YAML strings). */
static void json_key(SBuf *o, const char *name) {
    sbuf_putc(o, '"');
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '"' || *p == '\\') sbuf_printf(o, "\\%c", *p);
        else if (*p < 0x20) sbuf_printf(o, "\\u%04x", *p);
        else sbuf_putc(o, (char)*p);
    }
    sbuf_putc(o, '"');
}

static void put_literal(SBuf *o, int ind, const char *buf, const char *text) {
    indent(o, ind);
    sbuf_printf(o, "prt_buf_lit(%s, ", buf);
    sbuf_put_c_string(o, text, strlen(text));
    sbuf_puts(o, ");\n");
}

/* The value of a plain field of the struct `var` (the record `r`, or a window row `o`) as a CVal
 * (enums converted to their string). */
static CVal field_value_in(Emitter *em, const IrField *f, const char *var) {
    CVal v;
    v.type = f->type;
    v.val = f->enum_array ? arena_printf(em->a, "%s[%s.%s]", f->enum_array, var, f->c_name)
                          : arena_printf(em->a, "%s.%s", var, f->c_name);
    v.json = f->enum_array ? arena_printf(em->a, "%s_json[%s.%s]", f->enum_array, var, f->c_name) : NULL;
    v.isnull = f->null_bit < 0 ? "0" : arena_printf(em->a, "((%s.nulls[%d] >> %d) & 1)", var, f->null_bit / 64, f->null_bit % 64);
    return v;
}

static CVal field_value(Emitter *em, const IrField *f) { return field_value_in(em, f, "r"); }

static const char *sink_code(Emitter *em, const IrSink *is, int ind) {
    SBuf o = {0};
    Encoding enc = is->spec->encoding;
    int w = is->spec->from_window;
    const IrField *fields = w >= 0 ? em->ir->windows[w].out : em->ir->fields;
    CVal *vals = arena_alloc(em->a, sizeof(CVal) * (size_t)is->ncols);
    for (int j = 0; j < is->ncols; j++) {
        const IrColumn *c = &is->cols[j];
        if (c->avg_part) {   /* a merge sink's hidden sum or count of an avg: the window's accumulator */
            const char *an = em->ir->spec->windows[w].aggs[c->avg_agg].name;
            vals[j] = (CVal){arena_printf(em->a, "a->a_%s%s", an, c->avg_part == 2 ? "_n" : ""), "0", c->type, NULL};
            continue;
        }
        vals[j] = c->field >= 0 ? field_value_in(em, &fields[c->field], w >= 0 ? "o" : "r") : emit_expr(em, &o, ind, c->expr);
    }
    for (int j = 0; j < is->ncols; j++) {
        const IrColumn *c = &is->cols[j];
        if (enc == ENC_JSONL) {
            SBuf key = {0};
            sbuf_puts(&key, j == 0 ? "{" : ",");
            json_key(&key, c->name);
            sbuf_putc(&key, ':');
            put_literal(&o, ind, "b", sbuf_cstr(&key));
            sbuf_free(&key);
        } else if (enc == ENC_CSV && j > 0) {
            indent(&o, ind);
            sbuf_puts(&o, "prt_buf_putc(b, ',');\n");
        }
        encode_value(em->a, &o, ind, enc, "b", vals[j]);
    }
    if (enc == ENC_JSONL) put_literal(&o, ind, "b", "}\n");
    else if (enc == ENC_CSV) put_literal(&o, ind, "b", "\n");
    const char *r = code_text(em->a, &o);
    sbuf_free(&o);
    return r;
}

/* ---- model ------------------------------------------------------------------------------- */

static const char *ts_parse_name(TsParse p) {
    return p == TS_UNIT ? "unit" : p == TS_FORMAT ? "format" : "rfc3339";
}

static const char *zero_of(Type t) {
    return t == T_STRING ? "(prt_str){0}" : t == T_BOOL ? "false" : "0";
}

static void field_parse_fn(Emitter *em, const SchemaField *sf, TVal *m) {
    const char *fn = "", *extra = "", *desc = type_name(sf->type);
    switch (sf->type) {
    case T_BOOL: fn = "prt_parse_bool"; break;
    case T_INT32: fn = "prt_parse_i32"; break;
    case T_INT64: fn = "prt_parse_i64"; break;
    case T_FLOAT64: fn = "prt_parse_f64"; break;
    case T_TIMESTAMP:
        if (sf->ts_parse == TS_UNIT) {
            fn = "prt_parse_timestamp_unit";
            extra = arena_printf(em->a, ", %d", sf->unit);
            desc = sf->unit == PRT_UNIT_S ? "timestamp (epoch seconds)" : sf->unit == PRT_UNIT_MS ? "timestamp (epoch milliseconds)" : "timestamp (epoch microseconds)";
        } else if (sf->ts_parse == TS_FORMAT) {
            fn = "prt_parse_timestamp_format";
            extra = arena_printf(em->a, ", %s", c_str(em->a, sf->format));
            desc = arena_printf(em->a, "timestamp (%s)", sf->format);
        } else {
            fn = "prt_parse_timestamp";
        }
        break;
    case T_DATE:
        if (sf->ts_parse == TS_FORMAT) {
            fn = "prt_parse_date_format";
            extra = arena_printf(em->a, ", %s", c_str(em->a, sf->format));
            desc = arena_printf(em->a, "date (%s)", sf->format);
        } else {
            fn = "prt_parse_date";
        }
        break;
    default: break;
    }
    tv_set_str(em->a, m, "parse_fn", fn);
    tv_set_str(em->a, m, "parse_extra", extra);
    /* The description goes inside a C string literal in the template: escape it here. */
    const char *lit = c_str(em->a, desc);
    tv_set_str(em->a, m, "type_desc", arena_strndup(em->a, lit + 1, strlen(lit) - 2));
}

/* C that stores the field's default (validated by check) into the record. */
static const char *default_code(Emitter *em, const IrField *f) {
    const SchemaField *sf = f->schema;
    const char *t = sf->default_text;
    if (sf->one_of) {
        for (int j = 0; j < sf->none_of; j++)
            if (strcmp(sf->one_of[j], t) == 0) return arena_printf(em->a, "r.%s = %d;", f->c_name, j);
    }
    if (sf->type == T_STRING) return arena_printf(em->a, "r.%s = (prt_str){%s, %zu};", f->c_name, c_str(em->a, t), strlen(t));
    SBuf b = {0};
    TVal *tmp = tv_map(em->a);
    field_parse_fn(em, sf, tmp);
    sbuf_printf(&b, "(void)%s(%s, %zu%s, &r.%s);", tv_get(tmp, "parse_fn")->s, c_str(em->a, t), strlen(t),
                tv_get(tmp, "parse_extra")->s, f->c_name);
    const char *r = arena_strdup(em->a, sbuf_cstr(&b));
    sbuf_free(&b);
    return r;
}

static const char *json_bad_kind(const SchemaField *sf) {
    switch (sf->type) {
    case T_BOOL: return "v->kind != PRT_JSON_TRUE && v->kind != PRT_JSON_FALSE";
    case T_INT32: case T_INT64: case T_FLOAT64: return "v->kind != PRT_JSON_NUMBER";
    case T_TIMESTAMP:
        if (sf->ts_parse == TS_UNIT) return "v->kind != PRT_JSON_NUMBER && v->kind != PRT_JSON_STRING";
        return "v->kind != PRT_JSON_STRING";
    default: return "v->kind != PRT_JSON_STRING";
    }
}

static const char *json_expect(const SchemaField *sf) {
    switch (sf->type) {
    case T_BOOL: return "true or false";
    case T_INT32: case T_INT64: case T_FLOAT64: return "a number";
    case T_TIMESTAMP: return sf->ts_parse == TS_UNIT ? "a number" : "a string";
    default: return "a string";
    }
}

static const char *format_title(const SourceSpec *so) {
    return so->format == FMT_CSV ? "csv" : so->format == FMT_DEBEZIUM ? "Debezium events" : so->kind == SRC_KAFKA || so->kind == SRC_HTTP ? "JSON" : "JSON lines";
}

/* The key paths the JSON decoder extracts, as C strings: each schema field's path in field
 * order; for Debezium events, four times (the row in `after`, in `before`, and both under the
 * `payload` of the schema/payload wrapper; envelope fields such as op at the event's top level),
 * then the objects the decoder checks: payload, after, before, payload.after, payload.before. */
static TVal *json_paths_model(Emitter *em) {
    Arena *a = em->a;
    const Ir *ir = em->ir;
    TVal *list = tv_list(a);
    bool dbz = ir->spec->source.format == FMT_DEBEZIUM;
    static const char *const row[] = {"after.", "before.", "payload.after.", "payload.before."};
    static const char *const envelope[] = {"", "", "payload.", "payload."};
    for (int v = 0; v < (dbz ? 4 : 1); v++)
        for (int i = 0; i < ir->nschema; i++) {
            const SchemaField *sf = ir->fields[i].schema;
            const char *path = sf->path ? sf->path : sf->name;
            if (dbz) path = arena_printf(a, "%s%s", sf->envelope ? envelope[v] : row[v], path);
            tv_push(a, list, tv_str(a, c_str(a, path)));
        }
    if (dbz) {
        static const char *const objects[] = {"payload", "after", "before", "payload.after", "payload.before"};
        for (int i = 0; i < 5; i++) tv_push(a, list, tv_str(a, c_str(a, objects[i])));
    }
    return list;
}

static TVal *field_model(Emitter *em, const IrField *f, int index) {
    Arena *a = em->a;
    const Spec *s = em->ir->spec;
    TVal *m = tv_map(a);
    tv_set_str(a, m, "name", f->name);
    tv_set_str(a, m, "c_name", f->c_name);
    tv_set_str(a, m, "type", type_name(f->type));
    tv_set_str(a, m, "ctype", f->enum_array ? "int32_t" : type_c_name(f->type));
    tv_set_str(a, m, "zero", f->enum_array ? "0" : zero_of(f->type));
    tv_set_int(a, m, "null_bit", f->null_bit);
    tv_set_int(a, m, "null_word", f->null_bit < 0 ? 0 : f->null_bit / 64);
    tv_set_int(a, m, "null_shift", f->null_bit < 0 ? 0 : f->null_bit % 64);
    tv_set_bool(a, m, "enum", f->enum_array != NULL);
    tv_set_str(a, m, "enum_array", f->enum_array ? f->enum_array : "");
    const SchemaField *sf = f->schema;
    if (!sf) return m;
    TVal *one_of = tv_list(a), *one_of_json = tv_list(a);
    SBuf text = {0};
    for (int j = 0; j < sf->none_of; j++) {
        tv_push(a, one_of, tv_str(a, sf->one_of[j]));
        SBuf quoted = {0};
        jw_quote(&quoted, sf->one_of[j], strlen(sf->one_of[j]));
        tv_push(a, one_of_json, tv_str(a, sbuf_cstr(&quoted)));
        sbuf_free(&quoted);
        if (j) sbuf_puts(&text, ", ");
        sbuf_puts(&text, sf->one_of[j]);
    }
    tv_set(a, m, "one_of", one_of);
    tv_set(a, m, "one_of_json", one_of_json);
    /* one_of_text lands inside a C string literal that is also a printf format. */
    const char *lit = c_str(a, sbuf_cstr(&text));
    SBuf fmt = {0};
    for (const char *p = lit + 1; p < lit + strlen(lit) - 1; p++) {
        if (*p == '%') sbuf_putc(&fmt, '%');
        sbuf_putc(&fmt, *p);
    }
    tv_set_str(a, m, "one_of_text", sbuf_cstr(&fmt));
    sbuf_free(&text);
    sbuf_free(&fmt);
    tv_set_str(a, m, "column", sf->column ? sf->column : sf->name);
    tv_set_int(a, m, "column_index", sf->column_index);
    tv_set_int(a, m, "default_column", s->source.header ? -1 : sf->column_index >= 0 ? sf->column_index : index);
    tv_set_bool(a, m, "required", !sf->nullable && !sf->default_text);
    tv_set_str(a, m, "path", sf->path ? sf->path : sf->name);
    tv_set_str(a, m, "ts_parse", ts_parse_name(sf->ts_parse));
    tv_set_bool(a, m, "default", sf->default_text != NULL);
    tv_set_str(a, m, "default_code", sf->default_text ? default_code(em, f) : "");
    tv_set_str(a, m, "json_bad_kind", json_bad_kind(sf));
    tv_set_str(a, m, "json_expect", json_expect(sf));
    /* CSV: the unquoted null text is NULL; so is an empty non-string field. */
    const char *nt = s->source.null_text ? s->source.null_text : "";
    const char *nt_test = arena_printf(a, "(v->n == %zu && memcmp(v->p, %s, %zu) == 0)", strlen(nt), c_str(a, nt), strlen(nt));
    if (strlen(nt) == 0) nt_test = "v->n == 0";
    else if (f->type != T_STRING) nt_test = arena_printf(a, "v->n == 0 || %s", nt_test);
    tv_set_str(a, m, "csv_null_test", nt_test);
    field_parse_fn(em, sf, m);
    return m;
}

static TVal *rule_model(Emitter *em, const RuleSpec *r) {
    Arena *a = em->a;
    TVal *m = tv_map(a);
    SBuf code = {0}, detail = {0};
    CVal v = emit_expr(em, &code, 3, r->expr);
    tv_set_str(a, m, "name", r->name);
    tv_set_str(a, m, "comment", r->node->text);
    tv_set_str(a, m, "code", code_text(a, &code));
    tv_set_str(a, m, "val", v.val);
    tv_set_str(a, m, "isnull", v.isnull);
    /* The detail names the values of the fields the rule reads. */
    const char *used[32];
    int n = expr_fields_used(r->expr, used, 32);
    for (int i = 0; i < n; i++) {
        const IrField *f = NULL;
        for (int k = 0; k < em->ir->nfields; k++)
            if (strcmp(em->ir->fields[k].name, used[i]) == 0) f = &em->ir->fields[k];
        if (!f) continue;
        put_literal(&detail, 4, "(&d)", arena_printf(a, "%s %s=", i ? "," : "", f->name));
        encode_value(a, &detail, 4, ENC_JSONL, "(&d)", field_value(em, f));
    }
    tv_set_str(a, m, "detail_code", code_text(a, &detail));
    tv_set_str(a, m, "detail_prefix", arena_printf(a, "%s is false for", r->node->text));
    sbuf_free(&code);
    sbuf_free(&detail);
    return m;
}

static TVal *derive_model(Emitter *em, const IrField *f) {
    Arena *a = em->a;
    TVal *m = tv_map(a);
    SBuf code = {0};
    CVal v = emit_expr(em, &code, 3, f->derive->expr);
    tv_set_str(a, m, "name", f->name);
    tv_set_str(a, m, "c_name", f->c_name);
    tv_set_str(a, m, "code", code_text(a, &code));
    tv_set_str(a, m, "val", v.val);
    tv_set_str(a, m, "isnull", v.isnull);
    tv_set_int(a, m, "null_word", f->null_bit / 64);
    tv_set_int(a, m, "null_shift", f->null_bit % 64);
    sbuf_free(&code);
    return m;
}

static TVal *condition_model(Emitter *em, const Expr *e, const char *text, int ind) {
    Arena *a = em->a;
    TVal *m = tv_map(a);
    SBuf code = {0};
    const char *truth = emit_truth(em, &code, ind, e);
    tv_set_str(a, m, "code", code_text(a, &code));
    tv_set_str(a, m, "truth", truth);
    tv_set_str(a, m, "comment", text ? text : "");
    sbuf_free(&code);
    return m;
}

static const char *encoding_c(Encoding e) {
    static const char *const names[] = {"PRT_ENC_CSV", "PRT_ENC_JSONL", "PRT_ENC_TABLE", "PRT_ENC_ROWS"};
    return names[e];
}

static const char *encoding_name(Encoding e) {
    static const char *const names[] = {"csv", "jsonl", "table", "rows"};
    return names[e];
}

static const char *sink_kind_c(SinkKind k) {
    static const char *const names[] = {"PRT_SINK_FILE", "PRT_SINK_STDOUT", "PRT_SINK_SQLITE", "PRT_SINK_POSTGRES", "PRT_SINK_KAFKA", "PRT_SINK_PARQUET"};
    return names[k];
}

static const char *col_type_c(Type t) {
    static const char *const names[] = {"PRT_T_BOOL", "PRT_T_INT32", "PRT_T_INT64", "PRT_T_FLOAT64",
                                        "PRT_T_STRING", "PRT_T_TIMESTAMP", "PRT_T_DATE"};
    return names[plan_col_type(t)];
}

/* Strings as a list of C string literals (librdkafka settings: key, value, key, value, ...). */
static TVal *c_string_list(Arena *a, const char *const *strs, int n) {
    TVal *l = tv_list(a);
    for (int i = 0; i < n; i++) tv_push(a, l, tv_str(a, c_str(a, strs[i])));
    return l;
}

/* C that writes a kafka sink's message key as text into `prt_buf *kb` and sets `bool has_key_`
 * (false for a NULL key, or without `key:`). */
static const char *kafka_key_code(Emitter *em, const SinkSpec *sk, int ind) {
    SBuf o = {0};
    indent(&o, ind);
    sbuf_puts(&o, "bool has_key_ = false;\n");
    if (sk->msg_key) {
        CVal v = emit_expr(em, &o, ind, sk->msg_key);
        indent(&o, ind);
        sbuf_printf(&o, "if (!(%s)) {\n", v.isnull);
        encode_value(em->a, &o, ind + 1, ENC_TABLE, "kb", v);   /* a table cell: the text and a NUL */
        indent(&o, ind + 1);
        sbuf_puts(&o, "kb->len--;\n");
        indent(&o, ind + 1);
        sbuf_puts(&o, "has_key_ = true;\n");
        indent(&o, ind);
        sbuf_puts(&o, "}\n");
    } else {
        indent(&o, ind);
        sbuf_puts(&o, "(void)kb;\n");
    }
    const char *r = code_text(em->a, &o);
    sbuf_free(&o);
    return r;
}

static TVal *sink_model(Emitter *em, const IrSink *is) {
    Arena *a = em->a;
    const SinkSpec *sk = is->spec;
    TVal *m = tv_map(a);
    tv_set_str(a, m, "name", sk->name);
    tv_set_str(a, m, "encoding", encoding_name(sk->encoding));
    tv_set_str(a, m, "encoding_c", encoding_c(sk->encoding));
    tv_set_str(a, m, "kind_c", sink_kind_c(sk->kind));
    tv_set_bool(a, m, "db", sk->kind == SINK_SQLITE || sk->kind == SINK_POSTGRES);
    tv_set_bool(a, m, "pg", sk->kind == SINK_POSTGRES);
    tv_set_str(a, m, "dsn_c", c_str_or_null(a, sk->dsn));
    tv_set_str(a, m, "create_c", sk->create ? "true" : "false");
    tv_set_int(a, m, "batch_rows", sk->batch_rows);
    tv_set_int(a, m, "batch_every_us", sk->batch_every_us);
    tv_set_str(a, m, "key_nullable_c", plan_sink_key_nullable(em->ir, is) ? "true" : "false");
    TVal *merge = tv_list(a);   /* PRT_MERGE_* per column; the hidden avg parts add */
    static const char *const merge_c[] = {"PRT_MERGE_KEEP", "PRT_MERGE_ADD", "PRT_MERGE_MIN", "PRT_MERGE_MAX", "PRT_MERGE_AVG"};
    for (int j = 0; sk->merge && j < is->ncols; j++)
        tv_push(a, merge, tv_str(a, is->cols[j].avg_part ? "PRT_MERGE_ADD" : merge_c[sk->merge_ops[j]]));
    tv_set(a, m, "merge", merge);
    tv_set_str(a, m, "table_c", c_str_or_null(a, sk->table));
    tv_set_str(a, m, "mode_c", sk->upsert ? "PRT_MODE_UPSERT" : "PRT_MODE_INSERT");
    TVal *key = tv_list(a), *types = tv_list(a);
    for (int j = 0; j < sk->nkey; j++) tv_push(a, key, tv_int(a, sk->key[j]));
    for (int j = 0; j < is->ncols; j++) tv_push(a, types, tv_str(a, col_type_c(is->cols[j].type)));
    tv_set(a, m, "key", key);
    tv_set(a, m, "column_types", types);
    TVal *nullable = tv_list(a);   /* parquet: OPTIONAL columns (a nullable field, or an expression) */
    const IrField *kf = sk->from_window >= 0 ? em->ir->windows[sk->from_window].out : em->ir->fields;
    for (int j = 0; j < is->ncols; j++)
        tv_push(a, nullable, tv_str(a, is->cols[j].field < 0 || kf[is->cols[j].field].null_bit >= 0 ? "1" : "0"));
    tv_set(a, m, "column_nullable", nullable);
    tv_set_bool(a, m, "parquet", sk->kind == SINK_PARQUET);
    tv_set_int(a, m, "npartition", is->npart);
    static const char *const compress_c[] = {"PRT_COMPRESS_ZSTD", "PRT_COMPRESS_SNAPPY", "PRT_COMPRESS_NONE"};
    tv_set_str(a, m, "compression_c", compress_c[sk->compression]);
    tv_set_int(a, m, "roll_rows", sk->roll_rows);
    tv_set_int(a, m, "roll_every_us", sk->roll_every_us);
    tv_set_str(a, m, "path_c", c_str_or_null(a, sk->path));
    tv_set_str(a, m, "columns_array", arena_printf(a, "columns_%s", sk->name));
    TVal *cols = tv_list(a);
    for (int j = 0; j < is->ncols; j++) tv_push(a, cols, tv_str(a, is->cols[j].name));
    tv_set(a, m, "columns", cols);
    int ind = sk->from_window >= 0 ? 2 : 3;
    if (sk->where) tv_set(a, m, "where", condition_model(em, sk->where, sk->where_text, ind));
    else tv_set_bool(a, m, "where", false);
    tv_set_str(a, m, "code", sink_code(em, is, ind + 1));
    tv_set_int(a, m, "index", is - em->ir->sinks);
    tv_set_bool(a, m, "rows", sk->from_window < 0);
    tv_set_bool(a, m, "kafka", sk->kind == SINK_KAFKA);
    tv_set_str(a, m, "brokers_c", c_str_or_null(a, sk->brokers));
    tv_set_str(a, m, "topic_c", c_str_or_null(a, sk->topic));
    tv_set(a, m, "props", c_string_list(a, sk->props, 2 * sk->nprops));
    tv_set_int(a, m, "nprops", sk->nprops);
    tv_set_str(a, m, "key_code", sk->kind == SINK_KAFKA ? kafka_key_code(em, sk, ind + 1) : "");
    return m;
}

/* ---- windows ----------------------------------------------------------------------------- */

static const char *agg_kind_id(AggKind k) {
    static const char *const ids[] = {"count_all", "count", "sum", "avg", "min", "max", "first", "last", "count_distinct"};
    return ids[k];
}

/* C that hashes a value into the running hash `h`. */
static const char *hash_code(Arena *a, Type t, const char *val) {
    switch (t) {
    case T_STRING: return arena_printf(a, "h = prt_hash_bytes(%s.p, %s.n, h);", val, val);
    case T_FLOAT64: return arena_printf(a, "{ double d_ = %s == 0 ? 0.0 : %s; uint64_t u_; memcpy(&u_, &d_, 8); h = prt_hash_u64(u_, h); }", val, val);
    default: return arena_printf(a, "h = prt_hash_u64((uint64_t)(int64_t)%s, h);", val);
    }
}

/* C that compares two values `x` and `y` of a type, giving <0, 0, >0 in `c`. */
static const char *cmp_code(Arena *a, Type t, const char *x, const char *y) {
    if (t == T_STRING) return arena_printf(a, "c = prt_str_cmp(%s, %s);", x, y);
    return arena_printf(a, "c = (%s > %s) - (%s < %s);", x, y, x, y);
}

/* C expression of a key's order prefix (prt_went_prefix: ordered like cmp_code wherever the
 * prefixes differ), or NULL for floats, whose comparison is not a total order. */
static const char *order_prefix_code(Arena *a, Type t, const char *val) {
    switch (t) {
    case T_STRING: return arena_printf(a, "prt_str_order_prefix(%s)", val);
    case T_FLOAT64: return NULL;
    case T_BOOL: return arena_printf(a, "(uint64_t)%s", val);
    default: return arena_printf(a, "(uint64_t)(int64_t)%s ^ 0x8000000000000000ULL", val);
    }
}

/* C that adds a value's bytes to a count_distinct set. */
static const char *dset_add_code(Arena *a, Type t, const char *set, const char *val) {
    switch (t) {
    case T_STRING: return arena_printf(a, "prt_dset_add(&%s, %s.p, %s.n);", set, val, val);
    case T_FLOAT64: return arena_printf(a, "{ double d_ = %s == 0 ? 0.0 : %s; prt_dset_add(&%s, &d_, 8); }", val, val, set);
    case T_BOOL: return arena_printf(a, "{ uint8_t b_ = %s; prt_dset_add(&%s, &b_, 1); }", val, set);
    default: return arena_printf(a, "{ int64_t i_ = %s; prt_dset_add(&%s, &i_, 8); }", val, set);
    }
}

/* `all_sinks` are the sink models already built, in spec order. */
/* Where serialization code reads and writes: the pointer it saves from ("e->") and the struct it
 * loads into ("e."). */
typedef struct SerVars {
    const char *save;
    const char *load;
} SerVars;

/* State serialization of one entry member of a C type. */
static void ser_member(SBuf *save, SBuf *load, SerVars v, const char *ctype, const char *name) {
    if (strcmp(ctype, "prt_str") == 0) {
        sbuf_printf(save, "        prt_state_put_bytes(b, %s%s.p, %s%s.n);\n", v.save, name, v.save, name);
        sbuf_printf(load, "        %s%s = prt_state_get_str(rd);\n", v.load, name);
    } else if (strcmp(ctype, "double") == 0) {
        sbuf_printf(save, "        prt_state_put_f64(b, %s%s);\n", v.save, name);
        sbuf_printf(load, "        %s%s = prt_state_get_f64(rd);\n", v.load, name);
    } else if (strcmp(ctype, "__int128") == 0) {   /* high then low word */
        sbuf_printf(save, "        prt_state_put_u64(b, (uint64_t)((unsigned __int128)%s%s >> 64));\n", v.save, name);
        sbuf_printf(save, "        prt_state_put_u64(b, (uint64_t)%s%s);\n", v.save, name);
        sbuf_printf(load, "        { uint64_t hi_ = prt_state_get_u64(rd); %s%s = (__int128)((unsigned __int128)hi_ << 64 | prt_state_get_u64(rd)); }\n",
                    v.load, name);
    } else if (strcmp(ctype, "prt_dset *") == 0) {
        sbuf_printf(save, "        prt_state_put_dset(b, %s%s);\n", v.save, name);
        sbuf_printf(load, "        %s%s = prt_state_get_dset(rd);\n", v.load, name);
    } else {
        sbuf_printf(save, "        prt_state_put_u64(b, (uint64_t)(int64_t)%s%s);\n", v.save, name);
        sbuf_printf(load, "        %s%s = (%s)(int64_t)prt_state_get_u64(rd);\n", v.load, name, ctype);
    }
}

/* The members of an aggregate's accumulator, as in the entry struct of the template. */
static void ser_aggregate(Arena *a, SBuf *save, SBuf *load, SerVars v, const AggSpec *ag, const char *c) {
    const char *vtype = ag->arg ? type_c_name(ag->arg_type) : "int64_t";
    switch (ag->kind) {
    case AGG_COUNT_ALL:
    case AGG_COUNT:
        ser_member(save, load, v, "int64_t", c);
        break;
    case AGG_SUM:
        ser_member(save, load, v, ag->type == T_INT64 ? "__int128" : type_c_name(ag->type), c);
        ser_member(save, load, v, "int64_t", arena_printf(a, "%s_n", c));
        break;
    case AGG_AVG:
        ser_member(save, load, v, "double", c);
        ser_member(save, load, v, "int64_t", arena_printf(a, "%s_n", c));
        break;
    case AGG_MIN:
    case AGG_MAX:
        ser_member(save, load, v, vtype, c);
        ser_member(save, load, v, "bool", arena_printf(a, "%s_has", c));
        break;
    case AGG_FIRST:
    case AGG_LAST:
        ser_member(save, load, v, vtype, c);
        ser_member(save, load, v, "bool", arena_printf(a, "%s_has", c));
        ser_member(save, load, v, "bool", arena_printf(a, "%s_null", c));
        ser_member(save, load, v, "int64_t", arena_printf(a, "%s_t", c));
        break;
    case AGG_COUNT_DISTINCT:
        ser_member(save, load, v, "prt_dset *", c);
        break;
    }
}

static TVal *window_model(Emitter *em, int wi, const TVal *all_sinks) {
    Arena *a = em->a;
    const Ir *ir = em->ir;
    const IrWindow *iw = &ir->windows[wi];
    const WindowSpec *w = iw->spec;
    const Spec *s = ir->spec;
    TVal *m = tv_map(a);
    const char *p = iw->prefix;
    tv_set_str(a, m, "p", p);
    tv_set_str(a, m, "name", w->name);
    tv_set_str(a, m, "kind", w->kind == WIN_TUMBLING ? "tumbling" : w->kind == WIN_HOPPING ? "hopping" : "session");
    tv_set_int(a, m, "size", w->size_us);
    tv_set_int(a, m, "every", w->kind == WIN_HOPPING ? w->every_us : w->size_us);
    tv_set_int(a, m, "gap", w->gap_us);
    tv_set_int(a, m, "lateness", w->lateness_us);
    tv_set_bool(a, m, "late_drop", w->late_drop);
    tv_set_bool(a, m, "tz", w->timezone != NULL);
    tv_set_str(a, m, "tz_name", w->timezone ? w->timezone : "UTC");
    tv_set_int(a, m, "ndays", w->size_us / 86400000000LL);
    tv_set_str(a, m, "time_c", w->time_field >= 0 ? s->scope_fields[w->time_field].c_value : "run->batch_now_us");
    tv_set_bool(a, m, "event_time", w->time_field >= 0);
    tv_set_int(a, m, "out_null_words", iw->out_null_words);
    if (w->where) tv_set(a, m, "where", condition_model(em, w->where, w->where_text, 3));
    else tv_set_bool(a, m, "where", false);

    TVal *keys = tv_list(a);
    tv_set_str(a, m, "order_prefix", "");
    for (int i = 0; i < w->ngroup; i++) {
        const IrField *src = &ir->fields[w->group_by[i]];
        const IrField *out = &iw->out[2 + i];
        TVal *k = tv_map(a);
        const char *kc = arena_printf(a, "k_%s", src->name);
        tv_set_str(a, k, "c", kc);
        tv_set_str(a, k, "out_c", out->c_name);
        tv_set_str(a, k, "ctype", src->enum_array ? "int32_t" : type_c_name(src->type));
        tv_set_bool(a, k, "is_str", src->type == T_STRING && !src->enum_array);
        tv_set_str(a, k, "val", arena_printf(a, "r.%s", src->c_name));
        tv_set_str(a, k, "isnull", src->null_bit < 0 ? "0" : arena_printf(a, "((r.nulls[%d] >> %d) & 1)", src->null_bit / 64, src->null_bit % 64));
        tv_set_int(a, k, "bit", i);
        tv_set_int(a, k, "out_bit", out->null_bit);
        tv_set_int(a, k, "out_word", out->null_bit < 0 ? 0 : out->null_bit / 64);
        tv_set_int(a, k, "out_shift", out->null_bit < 0 ? 0 : out->null_bit % 64);
        Type kt = src->enum_array ? T_INT32 : src->type;
        tv_set_str(a, k, "hash", hash_code(a, kt, arena_printf(a, "e->%s", kc)));
        tv_set_str(a, k, "cmp", cmp_code(a, kt, arena_printf(a, "x->%s", kc), arena_printf(a, "y->%s", kc)));
        if (i == 0) {
            const char *prefix = order_prefix_code(a, kt, arena_printf(a, "x->%s", kc));
            if (prefix) tv_set_str(a, m, "order_prefix", prefix);
        }
        tv_set_str(a, k, "eq", kt == T_STRING ? arena_printf(a, "prt_str_eq(e->%s, k->%s)", kc, kc)
                                             : arena_printf(a, "e->%s == k->%s", kc, kc));
        tv_push(a, keys, k);
    }
    tv_set(a, m, "keys", keys);

    TVal *aggs = tv_list(a);
    for (int i = 0; i < w->naggs; i++) {
        const AggSpec *ag = &w->aggs[i];
        const IrField *out = &iw->out[2 + w->ngroup + i];
        TVal *g = tv_map(a);
        const char *ac = arena_printf(a, "a_%s", ag->name);
        tv_set_str(a, g, "c", ac);
        tv_set_str(a, g, "kind", agg_kind_id(ag->kind));
        tv_set_str(a, g, "out_c", out->c_name);
        tv_set_int(a, g, "out_word", out->null_bit < 0 ? 0 : out->null_bit / 64);
        tv_set_int(a, g, "out_shift", out->null_bit < 0 ? 0 : out->null_bit % 64);
        tv_set_str(a, g, "vtype", ag->arg ? type_c_name(ag->arg_type) : "int64_t");
        tv_set_str(a, g, "otype", type_c_name(ag->type));
        tv_set_bool(a, g, "is_str", ag->arg && ag->arg_type == T_STRING);
        tv_set_bool(a, g, "int_sum", ag->kind == AGG_SUM && ag->type == T_INT64);
        if (ag->arg) {
            SBuf code = {0};
            CVal v = emit_expr(em, &code, 4, ag->arg);
            tv_set_str(a, g, "code", code_text(a, &code));
            tv_set_str(a, g, "val", v.val);
            tv_set_str(a, g, "isnull", v.isnull);
            tv_set_str(a, g, "cmp_new", cmp_code(a, ag->arg_type, "v_", arena_printf(a, "e->%s", ac)));
            tv_set_str(a, g, "cmp_merge", cmp_code(a, ag->arg_type, arena_printf(a, "s->%s", ac), arena_printf(a, "d->%s", ac)));
            tv_set_str(a, g, "dset_add", dset_add_code(a, ag->arg_type, arena_printf(a, "e->%s", ac), "v_"));
            sbuf_free(&code);
        } else {
            tv_set_str(a, g, "code", "");
        }
        tv_push(a, aggs, g);
    }
    tv_set(a, m, "aggs", aggs);

    /* Keys and accumulators are saved apart too: session and hopping windows keep them in a group
     * (e) and its sessions or panes (accumulators s, loaded into sa); a tumbling entry holds both
     * (e, its accumulators e->a). */
    SBuf save_keys = {0}, load_keys = {0}, save_aggs = {0}, load_aggs = {0}, save_part = {0}, load_part = {0};
    SerVars entry = {"e->", "e."}, entry_acc = {"e->a.", "e.a."}, part = {"s->", "sa."};
    for (int i = 0; i < w->ngroup; i++) {
        const IrField *src = &ir->fields[w->group_by[i]];
        ser_member(&save_keys, &load_keys, entry, src->enum_array ? "int32_t" : type_c_name(src->type), arena_printf(a, "k_%s", src->name));
    }
    for (int i = 0; i < w->naggs; i++) {
        const char *c = arena_printf(a, "a_%s", w->aggs[i].name);
        ser_aggregate(a, &save_aggs, &load_aggs, entry_acc, &w->aggs[i], c);
        ser_aggregate(a, &save_part, &load_part, part, &w->aggs[i], c);
    }
    tv_set_str(a, m, "save_keys_code", code_text(a, &save_keys));
    tv_set_str(a, m, "load_keys_code", code_text(a, &load_keys));
    tv_set_str(a, m, "save_aggs_code", code_text(a, &save_part));
    tv_set_str(a, m, "load_aggs_code", code_text(a, &load_part));
    sbuf_puts(&save_keys, sbuf_cstr(&save_aggs));
    sbuf_puts(&load_keys, sbuf_cstr(&load_aggs));
    tv_set_str(a, m, "save_code", code_text(a, &save_keys));
    tv_set_str(a, m, "load_code", code_text(a, &load_keys));
    SBuf *bufs[] = {&save_keys, &load_keys, &save_aggs, &load_aggs, &save_part, &load_part};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) sbuf_free(bufs[i]);

    /* The struct whose group keys are compared and emitted: entries (tumbling windows and
     * sessions) or a hopping window's groups. */
    tv_set_str(a, m, "keyed", arena_printf(a, w->kind == WIN_HOPPING ? "%s_group" : "%s_entry", p));

    TVal *sinks = tv_list(a);
    for (int i = 0; i < ir->nsinks; i++)
        if (ir->sinks[i].spec->from_window == wi) tv_push(a, sinks, all_sinks->items[i]);
    tv_set(a, m, "sinks", sinks);
    TVal *out = tv_list(a);
    for (int i = 0; i < iw->nout; i++) {
        TVal *f = tv_map(a);
        tv_set_str(a, f, "c_name", iw->out[i].c_name);
        tv_set_str(a, f, "ctype", iw->out[i].enum_array ? "int32_t" : type_c_name(iw->out[i].type));
        tv_push(a, out, f);
    }
    tv_set(a, m, "out", out);
    return m;
}

/* ---- --help ------------------------------------------------------------------------------ */

/* Appends each ${VAR} of `s` (once) to the environment list of the help text. */
static void collect_env(SBuf *env, const char *s) {
    if (!s) return;
    for (const char *p = strstr(s, "${"); p; p = strstr(p + 2, "${")) {
        const char *name = p + 2, *end = name;
        while (*end && *end != '}' && *end != ':') end++;
        char var[128];
        snprintf(var, sizeof var, "  %.*s", (int)(end - name), name);
        if (strstr(sbuf_cstr(env), var)) continue;
        sbuf_puts(env, var);
        if (end[0] == ':' && end[1] == '-') {
            const char *close = strchr(end, '}');
            if (close) sbuf_printf(env, " (default: %.*s)", (int)(close - end - 2), end + 2);
        } else {
            sbuf_puts(env, " (required)");
        }
        sbuf_putc(env, '\n');
    }
}

static const char *help_text(Emitter *em) {
    const Ir *ir = em->ir;
    const Spec *s = ir->spec;
    SBuf h = {0}, env = {0};
    sbuf_printf(&h, "%s: a pipeline built by pipec %s from %s\n", s->name, PRT_VERSION, s->file);
    if (s->description) sbuf_printf(&h, "%s\n", s->description);
    sbuf_printf(&h, "\nUsage: %s [--once] [--log-format text|json] [--help] [--version]\n", s->name);
    sbuf_puts(&h, "  --once        drain what the source has now, then exit\n");
    sbuf_puts(&h, "  --log-format  log lines as text (default) or JSON\n\n");
    if (s->source.kind == SRC_POSTGRES_CDC) sbuf_printf(&h, "Source: PostgreSQL changes of publication %s (slot %s)\n", s->source.publication, s->source.slot);
    else if (s->source.kind == SRC_POSTGRES) sbuf_printf(&h, "Source: PostgreSQL %s %s, by %s\n", s->source.table ? "table" : "query", s->source.table ? s->source.table : s->source.query, s->source.cursor);
    else if (s->source.kind == SRC_FILE) sbuf_printf(&h, "Source: file %s (%s)\n", s->source.path, format_title(&s->source));
    else if (s->source.kind == SRC_KAFKA) sbuf_printf(&h, "Source: kafka %s, %s%s, group %s (%s)\n", s->source.brokers, s->source.topics[0], s->source.ntopics > 1 ? " and more" : "", s->source.group, format_title(&s->source));
    else if (s->source.kind == SRC_HTTP)
        sbuf_printf(&h, "Source: http GET %s every %s (a JSON object or an array of objects per answer; runs until SIGTERM, --once polls once)\n",
                    s->source.url, s->source.every_text ? s->source.every_text : arena_printf(em->a, "%.3g s", (double)s->source.poll_us / 1e6));
    else sbuf_printf(&h, "Source: folder %s, files %s (%s)\n", s->source.path, s->source.glob, format_title(&s->source));
    sbuf_puts(&h, "Fields:");
    for (int i = 0; i < ir->nfields; i++) sbuf_printf(&h, "%s %s %s", i ? "," : "", ir->fields[i].name, type_name(ir->fields[i].type));
    sbuf_putc(&h, '\n');
    if (s->nrules) {
        sbuf_puts(&h, "Rules:");
        for (int i = 0; i < s->nrules; i++) sbuf_printf(&h, "%s %s", i ? "," : "", s->rules[i].name);
        sbuf_putc(&h, '\n');
    }
    if (s->filter_text) sbuf_printf(&h, "Filter: %s\n", s->filter_text);
    sbuf_puts(&h, "Sinks:\n");
    for (int i = 0; i < s->nsinks; i++) {
        const SinkSpec *sk = &s->sinks[i];
        if (sk->kind == SINK_FILE) sbuf_printf(&h, "  %s: file %s (%s)\n", sk->name, sk->path, encoding_name(sk->encoding));
        else if (sk->kind == SINK_SQLITE) sbuf_printf(&h, "  %s: SQLite %s, table %s (%s)\n", sk->name, sk->path, sk->table, sk->upsert ? "upsert" : "insert");
        else if (sk->kind == SINK_POSTGRES)
            sbuf_printf(&h, "  %s: PostgreSQL table %s (%s)\n", sk->name, sk->table, sk->merge ? "merge" : sk->upsert ? "upsert" : "insert");
        else if (sk->kind == SINK_PARQUET) {
            sbuf_printf(&h, "  %s: Parquet files in %s", sk->name, sk->path);
            for (int j = 0; j < sk->npartitions; j++) sbuf_printf(&h, "%s%s=", j ? "/" : ", folders ", sk->partitions[j].name);
            sbuf_puts(&h, " (each file published with the checkpoint of its commit)\n");
        }
        else if (sk->kind == SINK_KAFKA) sbuf_printf(&h, "  %s: kafka topic %s (%s)\n", sk->name, sk->topic, encoding_name(sk->encoding));
        else sbuf_printf(&h, "  %s: standard output (%s)\n", sk->name, encoding_name(sk->encoding));
        collect_env(&env, sk->path);
        collect_env(&env, sk->dsn);
    }
    if (s->dead_letter.present && s->dead_letter.kind == SINK_FILE) sbuf_printf(&h, "Dead letter: file %s (%s)\n", s->dead_letter.path, encoding_name(s->dead_letter.encoding));
    else if (s->dead_letter.present && s->dead_letter.kind == SINK_POSTGRES) sbuf_printf(&h, "Dead letter: PostgreSQL table %s\n", s->dead_letter.table);
    else if (s->dead_letter.present && s->dead_letter.kind == SINK_KAFKA) sbuf_printf(&h, "Dead letter: kafka topic %s\n", s->dead_letter.topic);
    else if (s->dead_letter.present) sbuf_puts(&h, "Dead letter: standard output\n");
    else sbuf_puts(&h, "Dead letter: standard error (JSON lines)\n");
    if (s->checkpoint_path) sbuf_printf(&h, "Checkpoint: %s\n", s->checkpoint_path);
    if (s->metrics_listen)
        sbuf_printf(&h, "Metrics: %s://%s (/metrics, /health, /ready)%s\n", s->metrics_tls_cert ? "https" : "http",
                    s->metrics_listen, s->metrics_user ? ", basic auth" : "");
    if (s->memory_limit)
        sbuf_printf(&h, "Memory: at most %lld MiB resident (limits.memory); beyond it the run stops before a commit\n",
                    (long long)(s->memory_limit >> 20));
    if (s->source.kind == SRC_HTTP) sbuf_puts(&h, "Guarantee: no replay (each poll is committed before the next; a crash loses the poll in hand)\n");
    else sbuf_printf(&h, "Guarantee: %s\n", s->guarantee == GUARANTEE_EXACTLY_ONCE ? "exactly once" : "at least once");
    collect_env(&env, s->source.path);
    collect_env(&env, s->source.dsn);
    collect_env(&env, s->source.archive);
    collect_env(&env, s->dead_letter.path);
    collect_env(&env, s->dead_letter.dsn);
    collect_env(&env, s->dead_letter.brokers);
    collect_env(&env, s->dead_letter.topic);
    collect_env(&env, s->source.brokers);
    collect_env(&env, s->source.group);
    for (int i = 0; i < s->source.ntopics; i++) collect_env(&env, s->source.topics[i]);
    collect_env(&env, s->source.url);
    collect_env(&env, s->source.every_text);
    for (int i = 0; i < s->source.nheaders; i++) collect_env(&env, s->source.headers[2 * i + 1]);
    for (int i = 0; i < s->nsinks; i++) {
        collect_env(&env, s->sinks[i].brokers);
        collect_env(&env, s->sinks[i].topic);
    }
    collect_env(&env, s->checkpoint_path);
    collect_env(&env, s->metrics_listen);
    collect_env(&env, s->metrics_tls_cert);
    collect_env(&env, s->metrics_tls_key);
    collect_env(&env, s->metrics_user);
    collect_env(&env, s->metrics_password);
    collect_env(&env, s->metrics_password_file);
    if (env.len) sbuf_printf(&h, "\nEnvironment (read at start-up):\n%s", sbuf_cstr(&env));
    const char *r = arena_strdup(em->a, sbuf_cstr(&h));
    sbuf_free(&h);
    sbuf_free(&env);
    return r;
}

/* ---- the program ------------------------------------------------------------------------- */

static TVal *build_model(Emitter *em) {
    Arena *a = em->a;
    const Ir *ir = em->ir;
    const Spec *s = ir->spec;
    TVal *m = tv_map(a);
    tv_set_str(a, m, "version", PRT_VERSION);
    tv_set_int(a, m, "abi", PRT_ABI_VERSION);
    tv_set_str(a, m, "spec_file", s->file);
    tv_set_str(a, m, "name", s->name);
    tv_set_str(a, m, "help", help_text(em));
    tv_set_str(a, m, "fingerprint", arena_printf(a, "0x%016llx", (unsigned long long)ir->fingerprint));
    tv_set_int(a, m, "null_words", ir->null_words);

    TVal *fields = tv_list(a), *schema_fields = tv_list(a);
    for (int i = 0; i < ir->nfields; i++) {
        TVal *f = field_model(em, &ir->fields[i], i);
        tv_push(a, fields, f);
        if (i < ir->nschema) tv_push(a, schema_fields, f);
    }
    tv_set(a, m, "fields", fields);
    tv_set(a, m, "schema_fields", schema_fields);
    tv_set(a, m, "json_paths", json_paths_model(em));

    const SourceSpec *so = &s->source;
    bool csv = so->format == FMT_CSV;
    tv_set_str(a, m, "format", csv ? "csv" : "json");
    tv_set_bool(a, m, "debezium", so->format == FMT_DEBEZIUM);
    tv_set_bool(a, m, "kafka_shared", s->kafka_shared);
    for (int i = 0; i < ir->nschema; i++)
        if (strcmp(ir->fields[i].name, "_op") == 0) tv_set_int(a, m, "debezium_op", i);
    tv_set_str(a, m, "format_c", csv ? "PRT_FMT_CSV" : "PRT_FMT_JSON");
    tv_set_bool(a, m, "header", csv && so->header);
    tv_set_str(a, m, "header_c", csv && so->header ? "true" : "false");
    bool any_index = false;
    for (int i = 0; i < s->nfields; i++) any_index |= s->fields[i].column_index >= 0;
    tv_set_str(a, m, "csv_exact", (csv && so->header) || !any_index ? "true" : "false");
    tv_set_int(a, m, "csv_min_fields", ir->csv_min_fields);
    char ch[8];
    snprintf(ch, sizeof ch, csv && so->delimiter == '\'' ? "'\\''" : csv && so->delimiter == '\\' ? "'\\\\'" : "'%c'", csv ? so->delimiter : ',');
    if (csv && (unsigned char)so->delimiter < 0x20) snprintf(ch, sizeof ch, "'\\%03o'", (unsigned char)so->delimiter);
    tv_set_str(a, m, "delimiter", ch);
    snprintf(ch, sizeof ch, csv && so->quote == '\'' ? "'\\''" : csv && so->quote == '\\' ? "'\\\\'" : "'%c'", csv ? so->quote : '"');
    tv_set_str(a, m, "quote", ch);
    tv_set_str(a, m, "null_text", so->null_text ? so->null_text : "");
    tv_set_int(a, m, "max_record", so->max_record);
    static const char *const kind_c[] = {"PRT_SRC_FILE", "PRT_SRC_FOLDER", "PRT_SRC_POSTGRES", "PRT_SRC_POSTGRES_CDC", "PRT_SRC_KAFKA", "PRT_SRC_HTTP"};
    tv_set_str(a, m, "source_kind_c", kind_c[so->kind]);
    TVal *src = tv_map(a);
    tv_set_str(a, src, "path", so->path);
    tv_set_bool(a, src, "folder", so->kind == SRC_FOLDER);
    tv_set_str(a, src, "glob", so->glob ? so->glob : "*");
    tv_set_str(a, src, "archive_c", c_str_or_null(a, so->archive));
    tv_set_str(a, src, "delete_done", so->delete_done ? "true" : "false");
    tv_set_int(a, src, "poll_us", so->poll_us);
    tv_set_bool(a, src, "pg", so->kind == SRC_POSTGRES);
    tv_set_bool(a, src, "cdc", so->kind == SRC_POSTGRES_CDC);
    tv_set_str(a, src, "publication_c", c_str_or_null(a, so->publication));
    tv_set_str(a, src, "slot_c", c_str_or_null(a, so->slot));
    tv_set_str(a, src, "snapshot_c", so->snapshot ? "true" : "false");
    tv_set(a, src, "tables", c_string_list(a, so->tables, so->ntables));
    tv_set_str(a, src, "dsn_c", c_str_or_null(a, so->dsn));
    tv_set_str(a, src, "table_c", c_str_or_null(a, so->table));
    tv_set_str(a, src, "query_c", c_str_or_null(a, so->query));
    tv_set_str(a, src, "cursor_c", c_str_or_null(a, so->cursor));
    tv_set_bool(a, src, "kafka", so->kind == SRC_KAFKA);
    tv_set_str(a, src, "brokers_c", c_str_or_null(a, so->brokers));
    tv_set_str(a, src, "group_c", c_str_or_null(a, so->group));
    tv_set_str(a, src, "latest_c", so->start_latest ? "true" : "false");
    tv_set(a, src, "topics", c_string_list(a, so->topics, so->ntopics));
    tv_set(a, src, "props", c_string_list(a, so->props, 2 * so->nprops));
    tv_set_int(a, src, "nprops", so->nprops);
    tv_set_bool(a, src, "http", so->kind == SRC_HTTP);
    tv_set_str(a, src, "url_c", c_str_or_null(a, so->url));
    tv_set(a, src, "headers", c_string_list(a, so->headers, 2 * so->nheaders));
    tv_set_int(a, src, "nheaders", so->nheaders);
    tv_set_int(a, src, "timeout_us", so->timeout_us);
    tv_set_str(a, src, "every_c", c_str_or_null(a, so->every_text));
    tv_set(a, m, "source", src);

    TVal *rules = tv_list(a);
    for (int i = 0; i < s->nrules; i++) tv_push(a, rules, rule_model(em, &s->rules[i]));
    tv_set(a, m, "rules", rules);
    TVal *derives = tv_list(a);
    for (int i = ir->nschema; i < ir->nfields; i++) tv_push(a, derives, derive_model(em, &ir->fields[i]));
    tv_set(a, m, "derives", derives);
    if (s->filter) tv_set(a, m, "filter", condition_model(em, s->filter, s->filter_text, 3));
    else tv_set_bool(a, m, "filter", false);
    TVal *sinks = tv_list(a);
    for (int i = 0; i < ir->nsinks; i++) tv_push(a, sinks, sink_model(em, &ir->sinks[i]));
    tv_set(a, m, "sinks", sinks);
    TVal *windows = tv_list(a);
    for (int i = 0; i < ir->nwindows; i++) tv_push(a, windows, window_model(em, i, sinks));
    tv_set(a, m, "windows", windows);

    if (s->dead_letter.present) {
        TVal *dl = tv_map(a);
        tv_set_str(a, dl, "kind_c", sink_kind_c(s->dead_letter.kind));
        tv_set_str(a, dl, "encoding_c", encoding_c(s->dead_letter.encoding));
        tv_set_str(a, dl, "path_c", c_str_or_null(a, s->dead_letter.path));
        tv_set_bool(a, dl, "pg", s->dead_letter.kind == SINK_POSTGRES);
        tv_set_str(a, dl, "dsn_c", c_str_or_null(a, s->dead_letter.dsn));
        tv_set_str(a, dl, "table_c", c_str_or_null(a, s->dead_letter.table));
        tv_set_str(a, dl, "create_c", s->dead_letter.create ? "true" : "false");
        tv_set_bool(a, dl, "kafka", s->dead_letter.kind == SINK_KAFKA);
        tv_set_str(a, dl, "brokers_c", c_str_or_null(a, s->dead_letter.brokers));
        tv_set_str(a, dl, "topic_c", c_str_or_null(a, s->dead_letter.topic));
        tv_set(a, dl, "props", c_string_list(a, s->dead_letter.props, 2 * s->dead_letter.nprops));
        tv_set_int(a, dl, "nprops", s->dead_letter.nprops);
        tv_set(a, m, "dead_letter", dl);
    } else {
        tv_set_bool(a, m, "dead_letter", false);
    }
    tv_set_str(a, m, "checkpoint_path_c", c_str_or_null(a, s->checkpoint_path));
    tv_set_bool(a, m, "postgres", s->uses_postgres);
    tv_set_bool(a, m, "kafka", s->uses_kafka);
    tv_set_bool(a, m, "http", s->uses_http);
    tv_set_bool(a, m, "metrics", s->metrics_listen != NULL);
    tv_set_str(a, m, "metrics_listen_c", c_str_or_null(a, s->metrics_listen));
    tv_set_str(a, m, "metrics_tls_cert_c", c_str_or_null(a, s->metrics_tls_cert));
    tv_set_str(a, m, "metrics_tls_key_c", c_str_or_null(a, s->metrics_tls_key));
    tv_set_str(a, m, "metrics_user_c", c_str_or_null(a, s->metrics_user));
    tv_set_str(a, m, "metrics_password_c", c_str_or_null(a, s->metrics_password));
    tv_set_str(a, m, "metrics_password_file_c", c_str_or_null(a, s->metrics_password_file));
    tv_set_bool(a, m, "parquet", s->uses_parquet);
    tv_set_int(a, m, "checkpoint_every_us", s->checkpoint_every_us);
    tv_set_int(a, m, "memory_limit", s->memory_limit);
    /* the windows' open groups and late records, for the metrics and the memory limit */
    tv_set_bool(a, m, "window_stats", ir->nwindows > 0 && (s->metrics_listen || s->memory_limit));
    return m;
}

/* Replaces each restore marker with a #line naming the generated file's own next line. */
static void restore_lines(const char *in, const char *c_name, SBuf *out) {
    int line = 1;
    const char *p = in;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, RESTORE_MARKER "\n", sizeof RESTORE_MARKER) == 0) {
            sbuf_printf(out, "#line %d ", line + 1);
            sbuf_put_c_string(out, c_name, strlen(c_name));
            sbuf_putc(out, '\n');
        } else {
            sbuf_put(out, p, len);
        }
        line++;
        p += len;
    }
}

bool emit_program(Arena *a, const Ir *ir, const char *templates_dir, const char *c_name, bool line_directives, SBuf *out) {
    Emitter em = {a, ir, line_directives, 0};
    TVal *model = build_model(&em);
    SBuf rendered = {0};
    const char *tmpl = arena_printf(a, "%s/pipeline.c.tmpl", templates_dir);
    bool ok = tmpl_render_file(a, tmpl, model, &rendered);
    if (ok) restore_lines(sbuf_cstr(&rendered), c_name, out);
    sbuf_free(&rendered);
    return ok;
}
