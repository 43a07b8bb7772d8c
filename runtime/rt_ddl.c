/* rt_ddl.c - the CREATE TABLE text of the tables the runtime makes (see rt_ddl.h): sink tables in
 * PostgreSQL and SQLite types, the dead letter's columns, the bookkeeping tables. Linked into the
 * runtime's database modules and into pipec (`pipec gen` writes the same text). */
#include "rt_ddl.h"
#include "rt_internal.h"

const char *const prt_dead_columns[PRT_DEAD_NCOLUMNS] = {"pipeline", "position", "raw", "reason", "detail", "at"};
const prt_col_type prt_dead_types[PRT_DEAD_NCOLUMNS] = {PRT_T_STRING, PRT_T_STRING, PRT_T_STRING,
                                                        PRT_T_STRING, PRT_T_STRING, PRT_T_TIMESTAMP};

void prt_ddl_dead_letter_desc(prt_sink_desc *d) {
    d->ncolumns = PRT_DEAD_NCOLUMNS;
    d->columns = prt_dead_columns;
    d->encoding = PRT_ENC_ROWS;
    d->column_types = prt_dead_types;
    d->mode = PRT_MODE_INSERT;
    d->nkey = 0;
}

const char prt_ddl_pg_checkpoint[] =
    "CREATE TABLE IF NOT EXISTS pipec_checkpoint (key text PRIMARY KEY, value bytea NOT NULL, "
    "seq bigint NOT NULL)";
const char prt_ddl_pg_kafka_offsets[] =
    "CREATE TABLE IF NOT EXISTS pipec_kafka_offsets (key text NOT NULL, topic text NOT NULL, "
    "partition integer NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (key, topic, partition))";
const char prt_ddl_sqlite_checkpoint[] =
    "CREATE TABLE IF NOT EXISTS \"pipec_checkpoint\" (key TEXT PRIMARY KEY, value BLOB, seq INTEGER)";

const char *prt_ddl_pg_type(prt_col_type t) {
    switch (t) {
    case PRT_T_BOOL: return "boolean";
    case PRT_T_INT32: return "integer";
    case PRT_T_INT64: return "bigint";
    case PRT_T_FLOAT64: return "double precision";
    case PRT_T_TIMESTAMP: return "timestamptz";
    case PRT_T_DATE: return "date";
    case PRT_T_STRING: return "text";
    }
    return "text";
}

static const char *sqlite_type(prt_col_type t) {
    switch (t) {
    case PRT_T_BOOL: return "BOOLEAN";
    case PRT_T_INT32:
    case PRT_T_INT64: return "BIGINT";
    case PRT_T_FLOAT64: return "DOUBLE";
    case PRT_T_STRING:
    case PRT_T_TIMESTAMP:   /* RFC 3339 UTC as pipec prints it */
    case PRT_T_DATE: return "TEXT";   /* YYYY-MM-DD */
    }
    return "TEXT";
}

static void put_key(prt_buf *b, const prt_sink_desc *d, const char *head) {
    prt_buf_put(b, head, strlen(head));
    for (int k = 0; k < d->nkey; k++) {
        if (k) prt_buf_lit(b, ", ");
        prt_sql_ident(b, d->columns[d->key[k]]);
    }
    prt_buf_putc(b, ')');
}

void prt_ddl_pg_table(prt_buf *b, const prt_sink_desc *d) {
    prt_buf_lit(b, "CREATE TABLE IF NOT EXISTS ");
    prt_sql_table(b, d->table);
    prt_buf_lit(b, " (");
    for (int i = 0; i < d->ncolumns; i++) {
        if (i) prt_buf_lit(b, ", ");
        prt_sql_ident(b, d->columns[i]);
        prt_buf_putc(b, ' ');
        const char *t = prt_ddl_pg_type(d->column_types ? d->column_types[i] : PRT_T_STRING);
        prt_buf_put(b, t, strlen(t));
    }
    /* a primary key forbids NULLs; a NULL group key is a value like any other here */
    if (d->nkey > 0) put_key(b, d, d->key_nullable ? ", UNIQUE NULLS NOT DISTINCT (" : ", PRIMARY KEY (");
    prt_buf_putc(b, ')');
}

void prt_ddl_sqlite_table(prt_buf *b, const prt_sink_desc *d) {
    prt_buf_lit(b, "CREATE TABLE IF NOT EXISTS ");
    prt_sql_ident(b, d->table);
    prt_buf_lit(b, " (");
    for (int i = 0; i < d->ncolumns; i++) {
        if (i) prt_buf_lit(b, ", ");
        prt_sql_ident(b, d->columns[i]);
        if (d->column_types) {
            const char *t = sqlite_type(d->column_types[i]);
            prt_buf_putc(b, ' ');
            prt_buf_put(b, t, strlen(t));
        }
    }
    if (d->nkey > 0) put_key(b, d, ", PRIMARY KEY (");
    prt_buf_putc(b, ')');
}
