/* rt_sqltext.c - what the PostgreSQL and SQLite modules share: SQL text (quoted identifiers,
 * table names with a schema, string literals for replication commands, which take no
 * parameters, an upsert's conflict action), server messages made into one log line, and the
 * decoder of the typed rows (prt_row_* in pipec_rt.h) that both turn into their own values.
 * Values never pass through the SQL text: they travel as bound parameters or COPY data. */
#include "rt_internal.h"
#include <stdio.h>

void prt_sql_ident(prt_buf *b, const char *id) {
    prt_buf_putc(b, '"');
    for (const char *p = id; *p; p++) {
        if (*p == '"') prt_buf_putc(b, '"');
        prt_buf_putc(b, *p);
    }
    prt_buf_putc(b, '"');
}

void prt_sql_table(prt_buf *b, const char *t) {
    const char *dot = strchr(t, '.');
    if (!dot) {
        prt_sql_ident(b, t);
        return;
    }
    char schema[256];
    size_t n = (size_t)(dot - t) < sizeof schema - 1 ? (size_t)(dot - t) : sizeof schema - 1;
    memcpy(schema, t, n);
    schema[n] = 0;
    prt_sql_ident(b, schema);
    prt_buf_putc(b, '.');
    prt_sql_ident(b, dot + 1);
}

void prt_sql_literal(prt_buf *b, const char *s) {
    prt_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') prt_buf_putc(b, '\'');
        prt_buf_putc(b, *s);
    }
    prt_buf_putc(b, '\'');
}

const char *prt_sql_cstr(prt_buf *b) {
    prt_buf_putc(b, 0);
    b->len--;
    return b->data;
}

void prt_sql_one_line(const char *msg, char *out, size_t cap) {
    snprintf(out, cap, "%s", msg ? msg : "?");
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = 0;
    for (char *p = out; *p; p++)
        if (*p == '\n') *p = ' ';
}

bool prt_sql_is_key(const prt_sink_desc *d, int col) {
    for (int k = 0; k < d->nkey; k++)
        if (d->key[k] == col) return true;
    return false;
}

void prt_sql_upsert_action(prt_buf *b, const prt_sink_desc *d) {
    bool any = false;
    for (int i = 0; i < d->ncolumns; i++) {
        if (prt_sql_is_key(d, i)) continue;
        if (any) prt_buf_lit(b, ", ");
        else prt_buf_lit(b, "DO UPDATE SET ");
        any = true;
        prt_sql_ident(b, d->columns[i]);
        prt_buf_lit(b, " = EXCLUDED.");
        prt_sql_ident(b, d->columns[i]);
    }
    if (!any) prt_buf_lit(b, "DO NOTHING");
}

bool prt_row_value(const char **pp, const char *end, prt_rowval *v) {
    const char *p = *pp;
    if (p >= end) return false;
    v->tag = *p++;
    size_t need = v->tag == PRT_V_NULL ? 0 : v->tag == PRT_V_BOOL ? 1 : v->tag == PRT_V_DATE ? 4 : 8;
    if (v->tag == PRT_V_STR) need = 4;
    else if (v->tag < PRT_V_NULL || v->tag > PRT_V_DATE) return false;
    if ((size_t)(end - p) < need) return false;
    switch (v->tag) {
    case PRT_V_BOOL: v->b = *p != 0; break;
    case PRT_V_I64:
    case PRT_V_TS: memcpy(&v->i, p, 8); break;
    case PRT_V_F64: memcpy(&v->f, p, 8); break;
    case PRT_V_DATE: memcpy(&v->days, p, 4); break;
    case PRT_V_STR:
        memcpy(&v->n, p, 4);
        if ((size_t)(end - p - 4) < v->n) return false;
        v->s = p + 4;
        need += v->n;
        break;
    default: break;
    }
    *pp = p + need;
    return true;
}
