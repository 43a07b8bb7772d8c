/* rt_sqltext.c - SQL text shared by the PostgreSQL and SQLite modules: quoted identifiers, table
 * names with a schema, string literals (for replication commands, which take no parameters),
 * and server messages made into one log line. Values never pass through here: they travel as
 * bound parameters or COPY data. */
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
