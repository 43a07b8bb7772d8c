/* rt_sqlite.c - SQLite sinks (kind PRT_SINK_SQLITE, encoding PRT_ENC_ROWS). Generated encoders
 * append typed rows (prt_row_* in pipec_rt.h: desc->ncolumns tagged values per row) to
 * sink->buf; nothing is written until a commit, which inserts every buffered row and, when the
 * driver passes one, its checkpoint blob in ONE transaction (BEGIN IMMEDIATE ... COMMIT), so the
 * rows and the source position they came from become durable together: exactly once.
 *
 * Invariants:
 * - The database runs in WAL mode with synchronous=FULL: a COMMIT that returned is durable.
 * - Identifiers are always double-quoted (embedded quotes doubled); values are only ever bound.
 * - A failed commit is rolled back entirely (rows and checkpoint) and the buffer is left as it
 *   was; the driver then exits 1 and a restart replays from the last committed checkpoint.
 * - The table is created when missing (types from desc->column_types, PRIMARY KEY (keys) when
 *   nkey > 0); an existing table must have every column.
 * - Upsert is INSERT ... ON CONFLICT (keys) DO UPDATE SET col = excluded.col for the non-key
 *   columns (DO NOTHING when every column is a key); a key seen twice in one commit: the later
 *   row wins, as rows are applied in buffer order.
 * - The checkpoint lives in table pipec_checkpoint (key TEXT PRIMARY KEY, value BLOB, seq
 *   INTEGER: 1 on the first write of a key, +1 on each later one), created at the first commit
 *   that carries a checkpoint. */
#include "rt_internal.h"
#include "rt_ddl.h"
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct prt_sqlite {
    sqlite3 *db;
    char *path;                /* for messages */
    char *name;                /* the sink's name, for messages */
    char *table;
    sqlite3_stmt *ins;         /* the row statement (insert or upsert) */
    sqlite3_stmt *ck_put;      /* the checkpoint upsert, prepared at the first commit with one */
    prt_buf text;              /* a timestamp or date formatted for binding */
    prt_buf sql;
};

static const char *CKPT_TABLE = "pipec_checkpoint";




/* One error line naming the sink, the database, the table and SQLite's message. */
static void q_error(const prt_sqlite *q, const char *what, const char *msg) {
    prt_log_error("sink '%s': sqlite database %s, table \"%s\": %s: %s", q->name, q->path,
                  q->table, what, msg);
}

static int exec_sql(prt_sqlite *q, const char *sql, const char *what) {
    char *err = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        q_error(q, what, err ? err : sqlite3_errmsg(q->db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}


static int create_table(prt_sqlite *q, const prt_sink_desc *d) {
    prt_buf *b = &q->sql;
    b->len = 0;
    prt_ddl_sqlite_table(b, d);
    return exec_sql(q, prt_sql_cstr(b), "cannot create the table");
}

/* Every column of the sink must be in the table (SQLite compares names case-insensitively). */
static int check_columns(prt_sqlite *q, const prt_sink_desc *d) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->db, "SELECT name FROM pragma_table_info(?1)", -1, &st, NULL) != SQLITE_OK) {
        q_error(q, "cannot read the table's columns", sqlite3_errmsg(q->db));
        return -1;
    }
    sqlite3_bind_text(st, 1, q->table, -1, SQLITE_STATIC);
    int n = 0, rc;
    char **names = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        const char *nm = (const char *)sqlite3_column_text(st, 0);
        if (!names || !(names[n] = strdup(nm ? nm : ""))) abort();
        n++;
    }
    int ret = 0;
    if (rc != SQLITE_DONE) {
        q_error(q, "cannot read the table's columns", sqlite3_errmsg(q->db));
        ret = -1;
    }
    for (int i = 0; ret == 0 && i < d->ncolumns; i++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++) found = sqlite3_stricmp(names[j], d->columns[i]) == 0;
        if (!found) {
            char msg[512];
            snprintf(msg, sizeof msg, "the existing table has no column \"%s\" (add it, or use "
                     "another table)", d->columns[i]);
            q_error(q, "table does not match the sink", msg);
            ret = -1;
        }
    }
    for (int j = 0; j < n; j++) free(names[j]);
    free(names);
    sqlite3_finalize(st);
    return ret;
}

static int prepare_insert(prt_sqlite *q, const prt_sink_desc *d) {
    prt_buf *b = &q->sql;
    b->len = 0;
    prt_buf_lit(b, "INSERT INTO ");
    prt_sql_ident(b, q->table);
    prt_buf_lit(b, " (");
    for (int i = 0; i < d->ncolumns; i++) {
        if (i) prt_buf_lit(b, ", ");
        prt_sql_ident(b, d->columns[i]);
    }
    prt_buf_lit(b, ") VALUES (");
    for (int i = 0; i < d->ncolumns; i++) {
        if (i) prt_buf_lit(b, ", ");
        prt_buf_putc(b, '?');
    }
    prt_buf_putc(b, ')');
    if (d->mode == PRT_MODE_UPSERT) {
        prt_buf_lit(b, " ON CONFLICT (");
        for (int k = 0; k < d->nkey; k++) {
            if (k) prt_buf_lit(b, ", ");
            prt_sql_ident(b, d->columns[d->key[k]]);
        }
        prt_buf_lit(b, ") ");
        prt_sql_upsert_action(b, d);
    }
    if (sqlite3_prepare_v3(q->db, prt_sql_cstr(b), (int)b->len, SQLITE_PREPARE_PERSISTENT, &q->ins,
                           NULL) != SQLITE_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s%s", sqlite3_errmsg(q->db),
                 d->mode == PRT_MODE_UPSERT ? " (upsert needs a PRIMARY KEY or UNIQUE index on "
                                              "exactly the key columns)" : "");
        q_error(q, "cannot prepare the insert", msg);
        return -1;
    }
    return 0;
}

static int check_desc(const prt_sink_desc *d, const char *name) {
    const char *bad = NULL;
    if (d->ncolumns <= 0 || !d->columns) bad = "no columns";
    else if (!d->table || !d->table[0]) bad = "no table";
    else if (d->encoding != PRT_ENC_ROWS) bad = "encoding is not rows";
    else if (d->nkey < 0 || (d->nkey > 0 && !d->key)) bad = "bad key columns";
    else if (d->mode == PRT_MODE_UPSERT && d->nkey == 0) bad = "upsert without key columns";
    for (int k = 0; !bad && k < d->nkey; k++)
        if (d->key[k] < 0 || d->key[k] >= d->ncolumns) bad = "a key column index out of range";
    if (bad) prt_log_error("sink '%s': bad sqlite sink description: %s", name, bad);
    return bad ? -1 : 0;
}

void prt_sqlite_close(prt_sqlite *q) {
    if (!q) return;
    sqlite3_finalize(q->ins);
    sqlite3_finalize(q->ck_put);
    if (q->db) sqlite3_close_v2(q->db);   /* an open transaction is rolled back */
    free(q->path);
    free(q->name);
    free(q->table);
    prt_buf_free(&q->text);
    prt_buf_free(&q->sql);
    free(q);
}

prt_sqlite *prt_sqlite_open(const prt_sink_desc *d, const char *path) {
    const char *name = d->name ? d->name : "?";
    if (check_desc(d, name) != 0) return NULL;
    prt_sqlite *q = calloc(1, sizeof *q);
    if (!q) abort();
    q->path = strdup(path);
    q->name = strdup(name);
    q->table = strdup(d->table);
    if (!q->path || !q->name || !q->table) abort();
    int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        prt_log_error("sink '%s': cannot open sqlite database %s: %s", name, path,
                      q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, 5000);
    /* WAL: readers never block the commit; synchronous=FULL: a returned COMMIT is durable. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        q_error(q, "cannot set WAL journal mode", sqlite3_errmsg(q->db));
        sqlite3_finalize(st);
        goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || sqlite3_stricmp(mode, "wal") != 0) {
        if (strcmp(path, ":memory:") != 0)
            prt_log_warn("sink '%s': sqlite database %s stays in journal mode %s (not WAL)", name,
                         path, mode ? mode : "?");
    }
    sqlite3_finalize(st);
    if (exec_sql(q, "PRAGMA synchronous=FULL", "cannot set synchronous=FULL") != 0) goto fail;
    if (create_table(q, d) != 0 || check_columns(q, d) != 0 || prepare_insert(q, d) != 0) goto fail;
    return q;
fail:
    prt_sqlite_close(q);
    return NULL;
}

/* ---- commit -------------------------------------------------------------------------------- */

static void rollback(prt_sqlite *q) {
    if (!sqlite3_get_autocommit(q->db)) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A failure inside the transaction: log (SQLite's message is taken before the reset of the
 * failed statement `st` (may be NULL) and the rollback can replace it), roll back. Always -1. */
static int fail_tx(prt_sqlite *q, sqlite3_stmt *st, const char *what) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(q->db));
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    rollback(q);
    /* the checkpoint table may have been created by the rolled-back transaction: prepare again */
    sqlite3_finalize(q->ck_put);
    q->ck_put = NULL;
    char w[256];
    snprintf(w, sizeof w, "%s; rolled back, nothing of this commit was written", what);
    q_error(q, w, msg);
    return -1;
}

/* Binds the values of one row starting at *pp; false on a malformed buffer. */
static bool bind_row(prt_sqlite *q, int ncols, const char **pp, const char *end) {
    sqlite3_stmt *st = q->ins;
    prt_rowval v;
    for (int c = 1; c <= ncols; c++) {
        if (!prt_row_value(pp, end, &v)) return false;
        int rc;
        switch (v.tag) {
        case PRT_V_BOOL: rc = sqlite3_bind_int(st, c, v.b); break;
        case PRT_V_I64: rc = sqlite3_bind_int64(st, c, (sqlite3_int64)v.i); break;
        case PRT_V_F64: rc = isfinite(v.f) ? sqlite3_bind_double(st, c, v.f) : sqlite3_bind_null(st, c); break;
        case PRT_V_STR:   /* the buffer is not touched until the commit is over: no copy */
            rc = sqlite3_bind_text64(st, c, v.s, v.n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        case PRT_V_TS:
        case PRT_V_DATE:
            q->text.len = 0;
            if (v.tag == PRT_V_TS) prt_buf_put_timestamp(&q->text, v.i);
            else prt_buf_put_date(&q->text, v.days);
            rc = sqlite3_bind_text64(st, c, q->text.data, q->text.len, SQLITE_TRANSIENT, SQLITE_UTF8);
            break;
        default: rc = sqlite3_bind_null(st, c);
        }
        if (rc != SQLITE_OK) return false;
    }
    return true;
}

static int put_checkpoint(prt_sqlite *q, const char *key, const void *ckpt, size_t len) {
    if (!q->ck_put) {
        char sql[512];
        if (sqlite3_exec(q->db, prt_ddl_sqlite_checkpoint, NULL, NULL, NULL) != SQLITE_OK)
            return fail_tx(q, NULL, "cannot create table pipec_checkpoint");
        snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (key, value, seq) VALUES (?1, ?2, 1) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value, seq = seq + 1", CKPT_TABLE);
        if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->ck_put, NULL) != SQLITE_OK)
            return fail_tx(q, NULL, "cannot prepare the checkpoint write");
    }
    sqlite3_stmt *st = q->ck_put;
    /* a zero-length blob must not become NULL: zeroblob(0) for it */
    int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = len ? sqlite3_bind_blob64(st, 2, ckpt, len, SQLITE_STATIC) : sqlite3_bind_zeroblob(st, 2, 0);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        return fail_tx(q, st, "cannot write the checkpoint");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return 0;
}

int prt_sqlite_commit(prt_sink *s, const char *ckpt_key, const void *ckpt, size_t ckpt_len) {
    prt_sqlite *q = prt_sink_sqlite(s);
    if (!q) {
        prt_log_error("sink '%s': not a sqlite sink", s->desc && s->desc->name ? s->desc->name : "?");
        return -1;
    }
    if (ckpt && !ckpt_key) ckpt_key = "pipeline";
    if (s->buf.len == 0 && !ckpt) return 0;   /* nothing to make durable */
    if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail_tx(q, NULL, "cannot begin a transaction");
    const char *p = s->buf.data, *end = s->buf.data + s->buf.len;
    int ncols = s->desc->ncolumns;
    uint64_t row = 0;
    while (p < end) {
        row++;
        if (!bind_row(q, ncols, &p, end)) {
            rollback(q);
            sqlite3_clear_bindings(q->ins);
            char msg[128];
            snprintf(msg, sizeof msg, "row %" PRIu64 " of the commit is malformed (a runtime bug)", row);
            q_error(q, "cannot decode the buffered rows", msg);
            return -1;
        }
        if (sqlite3_step(q->ins) != SQLITE_DONE) {
            char what[128];
            snprintf(what, sizeof what, "cannot insert row %" PRIu64 " of the commit", row);
            return fail_tx(q, q->ins, what);
        }
        sqlite3_reset(q->ins);
    }
    sqlite3_clear_bindings(q->ins);
    if (ckpt && put_checkpoint(q, ckpt_key, ckpt, ckpt_len) != 0) return -1;
    if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return fail_tx(q, NULL, "cannot commit");
    s->buf.len = 0;
    return 0;
}

int prt_sqlite_read_checkpoint(prt_sink *s, const char *ckpt_key, prt_buf *out) {
    prt_sqlite *q = prt_sink_sqlite(s);
    if (!q) {
        prt_log_error("sink '%s': not a sqlite sink", s->desc && s->desc->name ? s->desc->name : "?");
        return -1;
    }
    if (!ckpt_key) ckpt_key = "pipeline";
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(q->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        goto err;
    sqlite3_bind_text(st, 1, CKPT_TABLE, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto err;
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_DONE) return 0;   /* no checkpoint table: nothing committed with one yet */
    if (sqlite3_prepare_v2(q->db, "SELECT value FROM \"pipec_checkpoint\" WHERE key = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto err;
    sqlite3_bind_text(st, 1, ckpt_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        if (v && n > 0) prt_buf_put(out, v, (size_t)n);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        goto err;
    }
    sqlite3_finalize(st);
    return found;
err:
    q_error(q, "cannot read the checkpoint", sqlite3_errmsg(q->db));
    sqlite3_finalize(st);
    return -1;
}
