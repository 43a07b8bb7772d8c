/* rt_postgres.c - PostgreSQL sinks and dead letters (kind PRT_SINK_POSTGRES, encoding
 * PRT_ENC_ROWS), through libpq. Generated encoders append typed rows to sink->buf, exactly as for
 * SQLite. The rows reach the server inside a transaction that only a commit of the pipeline ends,
 * so the rows, the dead letters of rows the server refused, and the checkpoint become durable
 * together:
 *
 *   push     after each batch: BEGIN, a savepoint and a COPY (into the table; for upsert and
 *            merge into a temporary staging table) are opened once, and the batch's rows are
 *            sent as COPY text, so the server loads them while the pipeline reads the next batch.
 *   prepare  the COPY is ended (or, when nothing was pushed or pushing broke, BEGIN and all the
 *            rows now). Upsert: INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE from the stage,
 *            with DISTINCT ON (key) when a key repeats (last write wins); merge: the same, each
 *            column combined with the stored one (added, least, greatest, avg from hidden sum and
 *            count). Rows the server refuses with a data error (SQLSTATE class 22 or 23: a
 *            constraint, a value too long, bad encoding) are found by bisection under savepoints
 *            and go to the dead letter with the server's message; the rest stays in.
 *   commit   the rows of a dead letter that shares this sink's DSN (it joins the transaction),
 *            the checkpoint text into table pipec_checkpoint, COMMIT.
 *
 * The driver prepares every PostgreSQL sink before it writes the file sinks and the dead letter,
 * so a refused row's dead letter is part of the same commit as the checkpoint that moves past it.
 *
 * Connection loss (and a server that is down) is retried with backoff, logging one line per
 * attempt, until the server is back or a stop signal arrives; the whole transaction is redone
 * from the rows kept in the buffer, minus the rows already refused. When COMMIT itself was cut
 * off, the checkpoint row tells whether it took effect. The DSN may hold a password: it is never
 * logged; messages name host, port and database.
 *
 * Invariants: identifiers are always double-quoted; values only travel in COPY data or as bound
 * parameters, never spliced into SQL. The buffer is emptied only after a COMMIT succeeded. */
#include "rt_internal.h"
#include "rt_ddl.h"
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { COPY_CHUNK = 1 << 20 };
#define RETRY_FIRST_US 100000
#define RETRY_MAX_US 5000000
#define OPEN_PATIENCE_US 30000000   /* at start, keep trying this long before giving up */

/* Where a buffered row came from (prt_sink_row_src): for its dead letter if the server refuses it. */
typedef struct row_src {
    uint32_t raw_n;
    uint64_t line;
    size_t pos_off;            /* its position's text (NUL-terminated) in prt_pg.raw */
    size_t raw_off;            /* its raw bytes in prt_pg.raw */
} row_src;

struct prt_pg {
    PGconn *conn;
    char *dsn;                 /* secret: never logged */
    char *where;               /* "host:port/db", for messages */
    char *name;                /* the sink's name */
    const prt_sink_desc *d;
    bool is_dead_letter;
    bool in_tx;                /* BEGIN sent, rows loaded, not yet committed */
    prt_buf sql, copy, text;
    size_t *line_off;          /* COPY text: row i is copy[line_off[i] .. line_off[i+1]) */
    size_t nrows, caprows;
    bool *refused;             /* rows the server refused (already in the dead letter) */
    bool dup_keys;             /* upsert: a key occurs twice among the rendered rows (or hashes collide) */
    size_t rendered_in;        /* bytes of sink->buf rendered into copy so far */
    bool streaming;            /* BEGIN, SAVEPOINT and COPY are open: rows are sent as batches come */
    bool stream_broken;        /* sending failed: prepare rolls back and loads the rows again */
    size_t streamed;           /* rows sent by the open COPY */
    uint64_t *key_hash;        /* upsert: per rendered row, a hash of its key columns' text */
    size_t *col_start;         /* per column of the row being rendered: where its text starts */
    size_t caprefused;
    prt_buf srcs;              /* row_src per row, when the rows came from records */
    prt_buf raw;               /* raw records and position texts of the rows since the last commit */
    size_t last_pos_off;       /* the last row's position text in raw: a file's rows share it */
    uint64_t committed_rows;   /* sink->rows at the last successful commit */
    char *lock_key;            /* the checkpoint key, held as a session advisory lock */
    bool shared;               /* instances share a kafka group: offsets, no checkpoint, no lock */
    const prt_kafka_offset *offs;   /* shared: what this commit stores (prt_pg_set_offsets) */
    int noffs;
};

/* ---- small helpers ----------------------------------------------------------------------- */



/* "host:port/dbname" from a conninfo string, without the password or anything else. */
char *prt_pg_describe(const char *dsn) {
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &err);
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || !o->val[0]) continue;
        if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host)) host = o->val;
        else if (strcmp(o->keyword, "port") == 0) port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0) db = o->val;
        else if (strcmp(o->keyword, "user") == 0) user = o->val;
    }
    char out[600];
    if (!opts) snprintf(out, sizeof out, "(unparsable connection string)");
    else snprintf(out, sizeof out, "%s:%s/%s", host ? host : "localhost", port ? port : "5432",
                  db ? db : user ? user : "(default)");
    PQconninfoFree(opts);
    PQfreemem(err);
    char *r = strdup(out);
    if (!r) abort();
    return r;
}


static void pg_error(const prt_pg *g, const char *what, const char *msg) {
    char m[1024];
    prt_sql_one_line(msg, m, sizeof m);
    prt_log_error("%s '%s': postgres %s, table %s: %s: %s", g->is_dead_letter ? "dead letter" : "sink",
                  g->name, g->where, g->d->table, what, m);
}

static void pg_warn(const prt_pg *g, const char *what, const char *msg) {
    char m[1024];
    prt_sql_one_line(msg, m, sizeof m);
    prt_log_warn("%s '%s': postgres %s: %s: %s", g->is_dead_letter ? "dead letter" : "sink", g->name,
                 g->where, what, m);
}

/* How a statement failed. */
typedef enum { R_OK = 0, R_CONN, R_DATA, R_FAIL } pg_rc;

static bool conn_lost(const prt_pg *g) { return !g->conn || PQstatus(g->conn) != CONNECTION_OK; }

/* Classifies a result (consumed): data errors (SQLSTATE classes 22, 23) can be bisected; a lost
 * connection is retried; anything else fails the commit. */
static pg_rc classify(prt_pg *g, PGresult *res, ExecStatusType want, const char *what, char *msg, size_t cap) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (res && st == want) {
        PQclear(res);
        return R_OK;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    prt_sql_one_line(res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(g->conn), msg, cap);
    pg_rc rc = R_FAIL;
    if (conn_lost(g) || (state && strncmp(state, "08", 2) == 0) ||
        (state && (strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)))
        rc = R_CONN;
    else if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
        rc = R_DATA;
    if (rc == R_FAIL) pg_error(g, what, msg);
    PQclear(res);
    return rc;
}

static pg_rc exec_cmd(prt_pg *g, const char *sql, const char *what) {
    char msg[1024];
    return classify(g, PQexec(g->conn, sql), PGRES_COMMAND_OK, what, msg, sizeof msg);
}

/* CREATE ... IF NOT EXISTS: two instances creating the same object at once make the loser fail
 * with a unique violation (or "already exists") instead of a notice; run it again, and it sees
 * the winner's object. Any other failure is reported: R_OK, R_CONN or R_FAIL. */
static pg_rc exec_ddl(prt_pg *g, const char *sql, const char *what) {
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexec(g->conn, sql);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (attempt < 3 && state && (strcmp(state, "23505") == 0 || strcmp(state, "42P07") == 0 ||
                                     strcmp(state, "42710") == 0)) {
            PQclear(res);
            continue;
        }
        char msg[1024];
        pg_rc rc = classify(g, res, PGRES_COMMAND_OK, what, msg, sizeof msg);
        if (rc != R_DATA) return rc;
        pg_error(g, what, msg);
        return R_FAIL;
    }
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void disconnect(prt_pg *g) {
    if (g->conn) PQfinish(g->conn);
    g->conn = NULL;
    g->in_tx = false;
    g->streaming = g->stream_broken = false;
    g->streamed = 0;
}

static int create_table(prt_pg *g) {
    prt_buf *b = &g->sql;
    b->len = 0;
    prt_ddl_pg_table(b, g->d);
    pg_rc rc = exec_ddl(g, prt_sql_cstr(b), "cannot create the table");
    return rc == R_OK ? 0 : rc == R_CONN ? 1 : -1;
}

/* The table must exist and have every column of the sink. 0 ok, 1 connection lost, -1 error. */
static int check_table(prt_pg *g) {
    const prt_sink_desc *d = g->d;
    prt_buf *b = &g->sql;
    b->len = 0;
    prt_sql_table(b, d->table);
    const char *params[1] = {prt_sql_cstr(b)};
    PGresult *res = PQexecParams(g->conn,
                                 "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1) "
                                 "AND a.attnum > 0 AND NOT a.attisdropped",
                                 1, NULL, params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        return classify(g, res, PGRES_TUPLES_OK, "cannot read the table's columns", msg, sizeof msg) == R_CONN ? 1 : -1;
    }
    int n = PQntuples(res), ret = 0;
    if (n == 0) {
        pg_error(g, "the table does not exist", g->d->nkey ? "create it, or set create: true (a primary "
                 "key on the key columns is made)" : "create it, or set create: true");
        ret = -1;
    }
    for (int i = 0; ret == 0 && i < d->ncolumns; i++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++) found = strcmp(PQgetvalue(res, j, 0), d->columns[i]) == 0;
        if (!found) {
            char msg[512];
            snprintf(msg, sizeof msg, "the existing table has no column \"%s\" (add it, or use another table)",
                     d->columns[i]);
            pg_error(g, "the table does not match the sink", msg);
            ret = -1;
        }
    }
    PQclear(res);
    return ret;
}

static const char *STAGE = "pipec_stage";

static pg_rc make_stage(prt_pg *g) {
    const prt_sink_desc *d = g->d;
    prt_buf *b = &g->sql;
    b->len = 0;
    prt_buf_lit(b, "CREATE TEMP TABLE IF NOT EXISTS ");
    prt_sql_ident(b, STAGE);
    prt_buf_lit(b, " (");
    for (int i = 0; i < d->ncolumns; i++) {
        prt_sql_ident(b, d->columns[i]);
        prt_buf_putc(b, ' ');
        const char *t = prt_ddl_pg_type(d->column_types ? d->column_types[i] : PRT_T_STRING);
        prt_buf_put(b, t, strlen(t));
        prt_buf_lit(b, ", ");
    }
    prt_buf_lit(b, "pipec_ord bigint)");
    return exec_cmd(g, prt_sql_cstr(b), "cannot create the staging table");
}

/* The fence: a session advisory lock on the checkpoint key. A stopped or killed instance may
 * have left a COMMIT in flight on the server; its session (and lock) ends only after that
 * transaction has committed or rolled back, so once the lock is ours, the stored checkpoint is
 * final and no other instance can write under this key. 0, 1 connection lost, -1 error. */
static int take_lock(prt_pg *g) {
    const char *vals[1] = {g->lock_key};
    for (int blocking = 0; blocking < 2; blocking++) {
        PGresult *res = PQexecParams(g->conn, blocking ? "SELECT pg_advisory_lock(hashtextextended($1, 0))::text"
                                                       : "SELECT pg_try_advisory_lock(hashtextextended($1, 0))::text",
                                     1, NULL, vals, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
            char msg[1024];
            return classify(g, res, PGRES_TUPLES_OK, "cannot take the pipeline's lock", msg, sizeof msg) == R_CONN ? 1 : -1;
        }
        bool got = blocking || strcmp(PQgetvalue(res, 0, 0), "true") == 0;   /* boolean::text */
        PQclear(res);
        if (got) return 0;
        prt_log_warn("sink '%s': postgres %s: waiting for another instance of this pipeline (or the last "
                     "transaction of one that was stopped) to finish", g->name, g->where);
    }
    return 0;
}

/* Connects and sets the session up. 0 ok, 1 could not connect (retry), -1 a setup error. */
static int connect_once(prt_pg *g, bool first) {
    disconnect(g);
    g->conn = PQconnectdb(g->dsn);
    if (PQstatus(g->conn) != CONNECTION_OK) {
        if (first) pg_warn(g, "cannot connect", PQerrorMessage(g->conn));
        disconnect(g);
        return 1;
    }
    PQsetNoticeProcessor(g->conn, NULL, NULL);
    PQsetNoticeReceiver(g->conn, NULL, NULL);
    static const char *const setup[] = {
        "SET client_encoding = 'UTF8'", "SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'",
        "SET client_min_messages = warning", NULL};
    for (int i = 0; setup[i]; i++) {
        pg_rc rc = exec_cmd(g, setup[i], "cannot set up the session");
        if (rc != R_OK) return rc == R_CONN ? 1 : -1;
    }
    int r = 0;
    if (g->d->create) r = create_table(g);
    if (r == 0) r = check_table(g);
    if (r == 0 && !g->is_dead_letter) {
        pg_rc rc = g->shared ? exec_ddl(g, prt_ddl_pg_kafka_offsets, "cannot create table pipec_kafka_offsets")
                             : exec_ddl(g, prt_ddl_pg_checkpoint, "cannot create table pipec_checkpoint");
        r = rc == R_OK ? 0 : rc == R_CONN ? 1 : -1;
    }
    if (r == 0 && g->d->mode == PRT_MODE_UPSERT) {   /* outside any transaction: a rollback keeps it */
        pg_rc rc = make_stage(g);
        r = rc == R_OK ? 0 : rc == R_CONN ? 1 : -1;
    }
    if (r == 0 && g->lock_key) r = take_lock(g);
    if (r != 0) disconnect(g);
    return r;
}

int64_t prt_pg_retry_delay_us(int attempt) {
    int64_t us = RETRY_FIRST_US;
    for (int i = 0; i < attempt && us < RETRY_MAX_US; i++) us *= 2;
    return us > RETRY_MAX_US ? RETRY_MAX_US : us;
}

bool prt_pg_backoff(int attempt) {
    prt_signal_sleep(prt_pg_retry_delay_us(attempt));
    return !prt_signal_stop_requested();
}

int64_t prt_pg_start_deadline_us(void) {
    const char *patience = getenv("PIPEC_PG_OPEN_PATIENCE_MS");   /* a test hook */
    return prt_now_us() + (patience ? strtoll(patience, NULL, 10) * 1000 : OPEN_PATIENCE_US);
}

/* Reconnects until it works (logging each failure), a setup error, or a stop. 0 or -1. */
static int reconnect(prt_pg *g, int *attempt) {
    for (;;) {
        if (*attempt > 0 && !prt_pg_backoff(*attempt - 1)) {
            prt_log_error("%s '%s': postgres %s: stopped while the server could not be reached; "
                          "nothing of this commit was written, the next start replays it",
                          g->is_dead_letter ? "dead letter" : "sink", g->name, g->where);
            return -1;
        }
        (*attempt)++;
        int r = connect_once(g, true);
        if (r == 0) {
            if (*attempt > 1) prt_log_info("%s '%s': postgres %s: connected again",
                                           g->is_dead_letter ? "dead letter" : "sink", g->name, g->where);
            return 0;
        }
        if (r < 0) return -1;
        prt_log_warn("%s '%s': postgres %s: not reachable; retrying in %.1f s (nothing is lost: "
                     "the rows wait in memory)", g->is_dead_letter ? "dead letter" : "sink", g->name,
                     g->where, (double)prt_pg_retry_delay_us(*attempt - 1) / 1e6);
    }
}

void prt_pg_close(prt_pg *g) {
    if (!g) return;
    disconnect(g);
    free(g->dsn);
    free(g->where);
    free(g->name);
    free(g->lock_key);
    free(g->line_off);
    free(g->refused);
    free(g->key_hash);
    free(g->col_start);
    prt_buf_free(&g->sql);
    prt_buf_free(&g->copy);
    prt_buf_free(&g->text);
    prt_buf_free(&g->srcs);
    prt_buf_free(&g->raw);
    free(g);
}

prt_pg *prt_pg_open(const prt_sink_desc *d, const char *dsn, bool is_dead_letter) {
    const char *name = d->name ? d->name : "?";
    const char *bad = NULL;
    if (d->ncolumns <= 0 || !d->columns) bad = "no columns";
    else if (!d->table || !d->table[0]) bad = "no table";
    else if (d->encoding != PRT_ENC_ROWS) bad = "encoding is not rows";
    else if (d->mode == PRT_MODE_UPSERT && d->nkey == 0) bad = "upsert without key columns";
    for (int k = 0; !bad && k < d->nkey; k++)
        if (d->key[k] < 0 || d->key[k] >= d->ncolumns) bad = "a key column index out of range";
    if (bad) {
        prt_log_error("sink '%s': bad postgres sink description: %s", name, bad);
        return NULL;
    }
    prt_pg *g = calloc(1, sizeof *g);
    if (!g) abort();
    g->d = d;
    g->is_dead_letter = is_dead_letter;
    g->dsn = strdup(dsn);
    g->name = strdup(name);
    if (!g->dsn || !g->name) abort();
    g->where = prt_pg_describe(dsn);
    int64_t give_up = prt_pg_start_deadline_us();
    for (int attempt = 0;; attempt++) {
        int r = connect_once(g, attempt == 0);
        if (r == 0) break;
        if (r < 0 || prt_now_us() > give_up || (attempt > 0 && !prt_pg_backoff(attempt - 1))) {
            if (r > 0) prt_log_error("%s '%s': postgres %s: cannot connect: %s", is_dead_letter ? "dead letter" : "sink",
                                     g->name, g->where, "gave up (the server did not answer at start-up)");
            prt_pg_close(g);
            return NULL;
        }
    }
    return g;
}

const char *prt_pg_where(const prt_pg *g) { return g->where; }
const char *prt_pg_dsn(const prt_pg *g) { return g->dsn; }

/* ---- rows -------------------------------------------------------------------------------- */

void prt_pg_row_src(prt_pg *g, const char *position, const prt_rec *rec) {
    if (!g->raw.len || strcmp(g->raw.data + g->last_pos_off, position) != 0) {   /* copied once per file */
        g->last_pos_off = g->raw.len;
        prt_buf_put(&g->raw, position, strlen(position) + 1);
    }
    row_src rs = {rec->n, rec->line, g->last_pos_off, g->raw.len};
    prt_buf_put(&g->raw, rec->p, rec->n);
    prt_buf_put(&g->srcs, &rs, sizeof rs);
}

static void put_copy_text(prt_buf *b, const char *p, size_t n) {
    prt_buf_reserve(b, n);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        switch (c) {
        case '\\': prt_buf_lit(b, "\\\\"); break;
        case '\t': prt_buf_lit(b, "\\t"); break;
        case '\n': prt_buf_lit(b, "\\n"); break;
        case '\r': prt_buf_lit(b, "\\r"); break;
        default: prt_buf_putc(b, c);
        }
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Upsert: whether two rendered rows have the same key (by hash: a collision only costs the
 * de-duplicating statement), so the plain INSERT ... SELECT serves when none do. */
static bool any_dup_key(prt_pg *g) {
    qsort(g->key_hash, g->nrows, sizeof *g->key_hash, cmp_u64);
    for (size_t i = 1; i < g->nrows; i++)
        if (g->key_hash[i] == g->key_hash[i - 1]) return true;
    return false;
}

/* Renders every buffered row as a line of COPY text (tab-separated, \N for NULL), noting where
 * each row starts; an upsert sink's lines end with the row's ordinal (the staging table's
 * pipec_ord, so the last of rows with one key wins). false on a malformed buffer (a bug). */
static bool render_rows(prt_pg *g, const prt_buf *rows) {
    if (g->rendered_in > rows->len) {   /* the buffer was cut (a catch-up replay): start again */
        g->rendered_in = 0;
        g->nrows = 0;
        g->copy.len = 0;
        g->stream_broken |= g->streaming;
    }
    const char *p = rows->data + g->rendered_in, *end = rows->data + rows->len;
    int ncols = g->d->ncolumns;
    bool upsert = g->d->mode == PRT_MODE_UPSERT;
    if (!g->line_off) {   /* line_off[nrows] is written even for no rows */
        g->caprows = 1024;
        g->line_off = malloc(sizeof *g->line_off * g->caprows);
        g->key_hash = malloc(sizeof *g->key_hash * g->caprows);
        g->col_start = malloc(sizeof *g->col_start * (size_t)(ncols + 1));
        if (!g->line_off || !g->key_hash || !g->col_start) abort();
    }
    while (p < end) {
        if (g->nrows + 2 > g->caprows) {
            g->caprows *= 2;
            g->line_off = realloc(g->line_off, sizeof *g->line_off * g->caprows);
            g->key_hash = realloc(g->key_hash, sizeof *g->key_hash * g->caprows);
            if (!g->line_off || !g->key_hash) abort();
        }
        g->line_off[g->nrows++] = g->copy.len;
        for (int c = 0; c < ncols; c++) {
            if (c) prt_buf_putc(&g->copy, '\t');
            g->col_start[c] = g->copy.len;
            prt_rowval v;
            if (!prt_row_value(&p, end, &v)) return false;
            switch (v.tag) {
            case PRT_V_BOOL: prt_buf_putc(&g->copy, v.b ? 't' : 'f'); break;
            case PRT_V_I64: prt_buf_put_i64(&g->copy, v.i); break;
            case PRT_V_F64:
                if (isfinite(v.f)) prt_buf_put_f64(&g->copy, v.f);
                else prt_buf_lit(&g->copy, "\\N");
                break;
            case PRT_V_STR: put_copy_text(&g->copy, v.s, v.n); break;
            case PRT_V_TS: prt_buf_put_timestamp(&g->copy, v.i); break;
            case PRT_V_DATE: prt_buf_put_date(&g->copy, v.days); break;
            default: prt_buf_lit(&g->copy, "\\N");
            }
        }
        if (upsert) {
            g->col_start[ncols] = g->copy.len + 1;   /* as if a tab followed the last column */
            uint64_t h = 0x51ed270b27b5f5a3ULL;
            for (int k = 0; k < g->d->nkey; k++) {
                int c = g->d->key[k];
                h = prt_hash_bytes(g->copy.data + g->col_start[c], g->col_start[c + 1] - 1 - g->col_start[c], h);
            }
            g->key_hash[g->nrows - 1] = h;
            prt_buf_putc(&g->copy, '\t');
            prt_buf_put_i64(&g->copy, (int64_t)g->nrows);
        }
        prt_buf_putc(&g->copy, '\n');
    }
    g->line_off[g->nrows] = g->copy.len;
    g->rendered_in = rows->len;
    if (g->nrows > g->caprefused) {
        bool *r = realloc(g->refused, sizeof *r * g->nrows);
        if (!r) abort();
        memset(r + g->caprefused, 0, sizeof *r * (g->nrows - g->caprefused));
        g->refused = r;
        g->caprefused = g->nrows;
    }
    return true;
}

/* COPY rows [a, b) (minus refused ones) into `target` (the table, or the staging table). */
static pg_rc copy_range(prt_pg *g, const char *target_sql, size_t a, size_t b, char *msg, size_t cap) {
    PGresult *res = PQexec(g->conn, target_sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN)
        return classify(g, res, PGRES_COPY_IN, "cannot start COPY", msg, cap);
    PQclear(res);
    size_t i = a;
    bool ok = true;
    while (i < b && ok) {
        while (i < b && g->refused[i]) i++;
        size_t j = i;   /* a run of rows to send, at most ~COPY_CHUNK bytes */
        while (j < b && !g->refused[j] && g->line_off[j + 1] - g->line_off[i] < COPY_CHUNK) j++;
        if (j == i && i < b && !g->refused[i]) j = i + 1;
        if (j > i) {
            size_t off = g->line_off[i], n = g->line_off[j] - off;
            ok = PQputCopyData(g->conn, g->copy.data + off, (int)n) == 1;
        }
        i = j;
    }
    if (PQputCopyEnd(g->conn, ok ? NULL : "pipec: sending failed") != 1) ok = false;
    pg_rc rc = R_OK;
    while ((res = PQgetResult(g->conn)) != NULL) {
        if (rc == R_OK) rc = classify(g, res, PGRES_COMMAND_OK, "COPY failed", msg, cap);
        else PQclear(res);
        if (conn_lost(g)) break;
    }
    if (!ok && rc == R_OK) {
        prt_sql_one_line(PQerrorMessage(g->conn), msg, cap);
        rc = R_CONN;
    }
    return rc;
}

static void put_columns(prt_buf *b, const prt_sink_desc *d) {
    for (int i = 0; i < d->ncolumns; i++) {
        if (i) prt_buf_lit(b, ", ");
        prt_sql_ident(b, d->columns[i]);
    }
}

static void put_keys(prt_buf *b, const prt_sink_desc *d) {
    for (int k = 0; k < d->nkey; k++) {
        if (k) prt_buf_lit(b, ", ");
        prt_sql_ident(b, d->columns[d->key[k]]);
    }
}

static void copy_sql(prt_pg *g, prt_buf *s) {
    s->len = 0;
    prt_buf_lit(s, "COPY ");
    if (g->d->mode == PRT_MODE_UPSERT) prt_sql_ident(s, STAGE);
    else prt_sql_table(s, g->d->table);
    prt_buf_lit(s, " (");
    put_columns(s, g->d);
    if (g->d->mode == PRT_MODE_UPSERT) prt_buf_lit(s, ", pipec_ord");
    prt_buf_lit(s, ") FROM STDIN");
}

/* old + new for an added column: NULL (an empty sum) is no value, not zero */
static void put_added(prt_buf *s, const char *col) {
    prt_buf_lit(s, "CASE WHEN pipec_t.");
    prt_sql_ident(s, col);
    prt_buf_lit(s, " IS NULL THEN EXCLUDED.");
    prt_sql_ident(s, col);
    prt_buf_lit(s, " WHEN EXCLUDED.");
    prt_sql_ident(s, col);
    prt_buf_lit(s, " IS NULL THEN pipec_t.");
    prt_sql_ident(s, col);
    prt_buf_lit(s, " ELSE pipec_t.");
    prt_sql_ident(s, col);
    prt_buf_lit(s, " + EXCLUDED.");
    prt_sql_ident(s, col);
    prt_buf_lit(s, " END");
}

/* "NAME__sum" or "NAME__count": the hidden columns behind a merged avg */
static void put_part(prt_buf *s, const char *prefix, const char *col, const char *part) {
    prt_buf_put(s, prefix, strlen(prefix));
    prt_buf t = {0};
    prt_buf_put(&t, col, strlen(col));
    prt_buf_put(&t, part, strlen(part));
    prt_buf_putc(&t, 0);
    prt_sql_ident(s, t.data);
    prt_buf_free(&t);
}

/* Merge: column i of the combined row. */
static void put_merged(prt_buf *s, const prt_sink_desc *d, int i) {
    const char *c = d->columns[i];
    switch (d->merge[i]) {
    case PRT_MERGE_ADD:
        put_added(s, c);
        break;
    case PRT_MERGE_MIN:
    case PRT_MERGE_MAX:
    {
        const char *fn = d->merge[i] == PRT_MERGE_MIN ? "LEAST(pipec_t." : "GREATEST(pipec_t.";
        prt_buf_put(s, fn, strlen(fn));
    }
        prt_sql_ident(s, c);
        prt_buf_lit(s, ", EXCLUDED.");
        prt_sql_ident(s, c);
        prt_buf_putc(s, ')');
        break;
    case PRT_MERGE_AVG:
        put_part(s, "(COALESCE(pipec_t.", c, "__sum");
        put_part(s, ", 0) + COALESCE(EXCLUDED.", c, "__sum");
        put_part(s, ", 0)) / NULLIF(COALESCE(pipec_t.", c, "__count");
        put_part(s, ", 0) + COALESCE(EXCLUDED.", c, "__count");
        prt_buf_lit(s, ", 0), 0)");
        break;
    default:
        prt_buf_lit(s, "EXCLUDED.");
        prt_sql_ident(s, c);
    }
}

/* Merge, a key more than once in the staging table: its rows combined first, as put_merged
 * combines them with the stored one. */
static void put_grouped(prt_buf *s, const prt_sink_desc *d, int i) {
    const char *c = d->columns[i];
    if (prt_sql_is_key(d, i)) {
        prt_sql_ident(s, c);
        return;
    }
    switch (d->merge[i]) {
    case PRT_MERGE_ADD: prt_buf_lit(s, "sum("); break;
    case PRT_MERGE_MIN: prt_buf_lit(s, "min("); break;
    case PRT_MERGE_MAX: prt_buf_lit(s, "max("); break;
    case PRT_MERGE_AVG:
        put_part(s, "sum(", c, "__sum");
        put_part(s, ") / NULLIF(sum(", c, "__count");
        prt_buf_lit(s, "), 0)");
        return;
    default:
        prt_buf_lit(s, "(array_agg(");
        prt_sql_ident(s, c);
        prt_buf_lit(s, " ORDER BY pipec_ord DESC))[1]");
        return;
    }
    prt_sql_ident(s, c);
    prt_buf_putc(s, ')');
}

/* Moves the staging table's rows into the table (upsert, merge), then empties it. */
static pg_rc stage_to_table(prt_pg *g, char *msg, size_t cap) {
    const prt_sink_desc *d = g->d;
    prt_buf *s = &g->sql;
    pg_rc rc;
    if (d->merge) {   /* INSERT ... ON CONFLICT DO UPDATE combining old and new */
        s->len = 0;
        prt_buf_lit(s, "INSERT INTO ");
        prt_sql_table(s, d->table);
        prt_buf_lit(s, " AS pipec_t (");
        put_columns(s, d);
        prt_buf_lit(s, ") SELECT ");
        for (int i = 0; i < d->ncolumns; i++) {
            if (i) prt_buf_lit(s, ", ");
            if (g->dup_keys) put_grouped(s, d, i);
            else prt_sql_ident(s, d->columns[i]);
        }
        prt_buf_lit(s, " FROM ");
        prt_sql_ident(s, STAGE);
        if (g->dup_keys) {
            prt_buf_lit(s, " GROUP BY ");
            put_keys(s, d);
        }
        prt_buf_lit(s, " ON CONFLICT (");
        put_keys(s, d);
        prt_buf_lit(s, ") DO UPDATE SET ");
        bool any = false;
        for (int i = 0; i < d->ncolumns; i++) {
            if (prt_sql_is_key(d, i)) continue;
            if (any) prt_buf_lit(s, ", ");
            any = true;
            prt_sql_ident(s, d->columns[i]);
            prt_buf_lit(s, " = ");
            put_merged(s, d, i);
        }
        if (!any) {   /* every column is a key: nothing to combine */
            s->len -= strlen(" DO UPDATE SET ");
            prt_buf_lit(s, " DO NOTHING");
        }
        rc = classify(g, PQexec(g->conn, prt_sql_cstr(s)), PGRES_COMMAND_OK, "cannot merge from the staging table", msg, cap);
        if (rc != R_OK) return rc;
        s->len = 0;
        prt_buf_lit(s, "TRUNCATE ");
        prt_sql_ident(s, STAGE);
        return classify(g, PQexec(g->conn, prt_sql_cstr(s)), PGRES_COMMAND_OK, "cannot empty the staging table", msg, cap);
    }
    s->len = 0;
    prt_buf_lit(s, "INSERT INTO ");
    prt_sql_table(s, d->table);
    prt_buf_lit(s, " (");
    put_columns(s, d);
    prt_buf_lit(s, ") SELECT ");
    if (g->dup_keys) {   /* a key twice: keep its last row (the sort costs: skipped when unneeded) */
        prt_buf_lit(s, "DISTINCT ON (");
        put_keys(s, d);
        prt_buf_lit(s, ") ");
    }
    put_columns(s, d);
    prt_buf_lit(s, " FROM ");
    prt_sql_ident(s, STAGE);
    if (g->dup_keys) {
        prt_buf_lit(s, " ORDER BY ");
        put_keys(s, d);
        prt_buf_lit(s, ", pipec_ord DESC");
    }
    prt_buf_lit(s, " ON CONFLICT (");
    put_keys(s, d);
    prt_buf_lit(s, ") ");
    prt_sql_upsert_action(s, d);
    rc = classify(g, PQexec(g->conn, prt_sql_cstr(s)), PGRES_COMMAND_OK, "cannot upsert from the staging table", msg, cap);
    if (rc != R_OK) return rc;
    s->len = 0;
    prt_buf_lit(s, "TRUNCATE ");
    prt_sql_ident(s, STAGE);
    return classify(g, PQexec(g->conn, prt_sql_cstr(s)), PGRES_COMMAND_OK, "cannot empty the staging table", msg, cap);
}


/* Sends rows [a, b): COPY into the table (insert), or through the staging table (upsert). */
static pg_rc send_range(prt_pg *g, size_t a, size_t b, char *msg, size_t cap) {
    copy_sql(g, &g->sql);
    pg_rc rc = copy_range(g, prt_sql_cstr(&g->sql), a, b, msg, cap);
    if (rc != R_OK || g->d->mode != PRT_MODE_UPSERT) return rc;
    return stage_to_table(g, msg, cap);
}

/* A refused row: to the dead letter as the record it came from (or as its COPY text for window
 * rows), with the server's message. Records move from `out` to `dead`. */
static void refuse(prt_pg *g, size_t i, const char *msg, prt_run *run, prt_deadq *dead) {
    g->refused[i] = true;
    char detail[1200];
    int dn = snprintf(detail, sizeof detail, "sink '%s': PostgreSQL refused the row: %s", g->name, msg);
    if (dn >= (int)sizeof detail) dn = (int)sizeof detail - 1;
    size_t nsrc = g->srcs.len / sizeof(row_src);
    if (nsrc == g->nrows) {
        row_src rs;
        memcpy(&rs, g->srcs.data + i * sizeof rs, sizeof rs);
        prt_deadq_put(dead, g->raw.data + rs.pos_off, rs.line, g->raw.data + rs.raw_off, rs.raw_n,
                      "rejected", detail, (size_t)dn);
        if (run) {
            run->stats.dead++;
            if (run->stats.out) run->stats.out--;
        }
    } else {
        size_t off = g->line_off[i], n = g->line_off[i + 1] - off - 1;
        if (g->d->mode == PRT_MODE_UPSERT)   /* without the ordinal that only the staging table has */
            while (n && g->copy.data[off + n] != '\t') n--;
        char pos[300];
        snprintf(pos, sizeof pos, "sink %s row", g->name);
        prt_deadq_put(dead, pos, (uint64_t)i + 1, g->copy.data + off, n, "rejected", detail, (size_t)dn);
    }
}

/* Loads rows [a, b) inside the open transaction; a data error is bisected down to single rows,
 * which are refused. */
static pg_rc load_range(prt_pg *g, size_t a, size_t b, prt_run *run, prt_deadq *dead) {
    size_t live = 0;
    for (size_t i = a; i < b; i++) live += !g->refused[i];
    if (live == 0) return R_OK;
    pg_rc rc = exec_cmd(g, "SAVEPOINT pipec_rows", "cannot make a savepoint");
    if (rc != R_OK) return rc;
    char msg[1024];
    rc = send_range(g, a, b, msg, sizeof msg);
    if (rc == R_OK) return exec_cmd(g, "RELEASE SAVEPOINT pipec_rows", "cannot release a savepoint");
    if (rc != R_DATA) return rc;
    if (!dead) {   /* the dead letter itself: nowhere to put a refused row */
        pg_error(g, "the server refused rows", msg);
        return R_FAIL;
    }
    if ((rc = exec_cmd(g, "ROLLBACK TO SAVEPOINT pipec_rows", "cannot roll back to a savepoint")) != R_OK) return rc;
    if ((rc = exec_cmd(g, "RELEASE SAVEPOINT pipec_rows", "cannot release a savepoint")) != R_OK) return rc;
    if (live == 1) {
        size_t i = a;
        while (g->refused[i]) i++;
        refuse(g, i, msg, run, dead);
        return R_OK;
    }
    size_t mid = a + (b - a) / 2;
    if ((rc = load_range(g, a, mid, run, dead)) != R_OK) return rc;
    return load_range(g, mid, b, run, dead);
}


/* Sends the rows rendered since the last push into the open COPY (opening the transaction, a
 * savepoint and the COPY first), so the server works on them while the next batch is read. A
 * failure only marks the stream broken: prepare then loads every row again. Never fails. */
int prt_pg_push(prt_sink *s, prt_pg *g) {
    if (g->stream_broken || conn_lost(g) || (g->in_tx && !g->streaming)) return 0;
    if (!render_rows(g, &s->buf)) return 0;   /* reported by prepare */
    if (g->nrows == g->streamed || g->stream_broken) return 0;
    char msg[1024];
    if (!g->streaming) {
        if (exec_cmd(g, "BEGIN", "cannot begin a transaction") != R_OK) goto broken;
        g->in_tx = true;
        g->streaming = true;
        g->streamed = 0;
        if (exec_cmd(g, "SAVEPOINT pipec_rows", "cannot make a savepoint") != R_OK) goto broken;
        copy_sql(g, &g->sql);
        PGresult *res = PQexec(g->conn, prt_sql_cstr(&g->sql));
        if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
            classify(g, res, PGRES_COPY_IN, "cannot start COPY", msg, sizeof msg);
            goto broken;
        }
        PQclear(res);
    }
    size_t off = g->line_off[g->streamed], n = g->line_off[g->nrows] - off;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < COPY_CHUNK ? n - done : COPY_CHUNK;
        if (PQputCopyData(g->conn, g->copy.data + off + done, (int)k) != 1) goto broken;
        done += k;
    }
    g->streamed = g->nrows;
    return 0;
broken:
    g->stream_broken = true;
    return 0;
}

/* BEGIN and the buffered rows; R_OK leaves the transaction open. */
static pg_rc begin_and_load(prt_pg *g, prt_sink *s, prt_run *run, prt_deadq *dead) {
    pg_rc rc = exec_cmd(g, "BEGIN", "cannot begin a transaction");
    if (rc != R_OK) return rc;
    g->in_tx = true;
    if (!render_rows(g, &s->buf)) {
        pg_error(g, "cannot decode the buffered rows", "malformed row buffer (a runtime bug)");
        return R_FAIL;
    }
    if (g->nrows == 0) return R_OK;
    g->dup_keys = g->d->mode == PRT_MODE_UPSERT && any_dup_key(g);
    rc = load_range(g, 0, g->nrows, run, dead);
    return rc == R_DATA ? R_FAIL : rc;
}

/* Ends a COPY that was fed by prt_pg_push: R_OK when every row is in (for upsert, moved from the
 * staging table into the table too); R_DATA when the server refused some (the savepoint is
 * rolled back, so the caller bisects), R_CONN when the connection went, R_FAIL otherwise. */
static pg_rc finish_stream(prt_pg *g, prt_sink *s, prt_run *run, prt_deadq *dead) {
    char msg[1024];
    g->streaming = false;
    if (g->stream_broken || !render_rows(g, &s->buf)) return R_CONN;   /* redo from the start */
    if (g->nrows > g->streamed) {   /* rows since the last push */
        size_t off = g->line_off[g->streamed], n = g->line_off[g->nrows] - off;
        for (size_t done = 0; done < n;) {
            size_t k = n - done < COPY_CHUNK ? n - done : COPY_CHUNK;
            if (PQputCopyData(g->conn, g->copy.data + off + done, (int)k) != 1) return R_CONN;
            done += k;
        }
    }
    if (PQputCopyEnd(g->conn, NULL) != 1) return R_CONN;
    pg_rc rc = R_OK;
    PGresult *res;
    while ((res = PQgetResult(g->conn)) != NULL) {
        if (rc == R_OK) rc = classify(g, res, PGRES_COMMAND_OK, "COPY failed", msg, sizeof msg);
        else PQclear(res);
        if (conn_lost(g)) break;
    }
    if (rc == R_OK && g->d->mode == PRT_MODE_UPSERT) {
        g->dup_keys = any_dup_key(g);
        rc = stage_to_table(g, msg, sizeof msg);
    }
    if (rc == R_OK) return exec_cmd(g, "RELEASE SAVEPOINT pipec_rows", "cannot release a savepoint");
    if (rc != R_DATA) return rc;
    if ((rc = exec_cmd(g, "ROLLBACK TO SAVEPOINT pipec_rows", "cannot roll back to a savepoint")) != R_OK) return rc;
    if ((rc = exec_cmd(g, "RELEASE SAVEPOINT pipec_rows", "cannot release a savepoint")) != R_OK) return rc;
    rc = load_range(g, 0, g->nrows, run, dead);   /* bisect down to the refused rows */
    return rc == R_DATA ? R_FAIL : rc;
}

int prt_pg_prepare(prt_sink *s, prt_pg *g, prt_run *run, prt_deadq *dead) {
    if (g->in_tx && !g->streaming) return 0;   /* prepared already */
    int attempt = 0;
    for (;;) {
        if (conn_lost(g) && reconnect(g, &attempt) != 0) return -1;
        pg_rc rc;
        if (g->streaming) {
            rc = finish_stream(g, s, run, dead);
            if (rc == R_CONN && !conn_lost(g)) {   /* a broken stream on a live connection: redo */
                PGresult *r = PQexec(g->conn, "ROLLBACK");
                PQclear(r);
                g->in_tx = g->stream_broken = false;
                rc = begin_and_load(g, s, run, dead);
            }
        } else {
            rc = begin_and_load(g, s, run, dead);
        }
        if (rc == R_OK) return 0;
        if (rc == R_FAIL) {
            PGresult *r = PQexec(g->conn, "ROLLBACK");
            PQclear(r);
            g->in_tx = false;
            return -1;
        }
        pg_warn(g, "the connection was lost during the commit; redoing it", PQerrorMessage(g->conn));
        disconnect(g);
    }
}

static const char *CKPT_PUT =
    "INSERT INTO pipec_checkpoint (key, value, seq) VALUES ($1, $2, 1) ON CONFLICT (key) DO "
    "UPDATE SET value = EXCLUDED.value, seq = pipec_checkpoint.seq + 1";

static pg_rc put_checkpoint(prt_pg *g, const char *key, const void *ck, size_t n) {
    const char *vals[2] = {key, ck ? (const char *)ck : ""};
    int lens[2] = {0, (int)n};
    int fmts[2] = {0, 1};
    char msg[1024];
    return classify(g, PQexecParams(g->conn, CKPT_PUT, 2, NULL, vals, lens, fmts, 0), PGRES_COMMAND_OK,
                    "cannot write the checkpoint", msg, sizeof msg);
}

/* Shared group: moves each partition's stored offset from what this instance found to where it
 * is, only if no other instance moved it since (then the partition was taken over while this
 * one held it, and nothing of this commit may land: R_FAIL after a message). */
static pg_rc put_offsets(prt_pg *g, const char *key) {
    char msg[1024];
    for (int i = 0; i < g->noffs; i++) {
        const prt_kafka_offset *o = &g->offs[i];
        char part[24], next[24], stored[24];
        snprintf(part, sizeof part, "%d", (int)o->partition);
        snprintf(next, sizeof next, "%lld", (long long)o->next);
        snprintf(stored, sizeof stored, "%lld", (long long)o->stored);
        const char *vals[5] = {key, o->topic, part, next, stored};
        PGresult *res = PQexecParams(g->conn,
            o->stored >= 0 ? "UPDATE pipec_kafka_offsets SET next_offset = $4 WHERE key = $1 AND topic = $2 "
                             "AND partition = $3::integer AND next_offset = $5::bigint"
                           : "INSERT INTO pipec_kafka_offsets (key, topic, partition, next_offset) "
                             "VALUES ($1, $2, $3::integer, $4::bigint) ON CONFLICT DO NOTHING",
            o->stored >= 0 ? 5 : 4, NULL, vals, NULL, NULL, 0);
        bool moved = res && PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "1") == 0;
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK && !moved) {
            PQclear(res);
            snprintf(msg, sizeof msg, "partition %s/%d was committed by another instance since this one was "
                     "assigned it (at offset %lld): a rebalance gave it away while this instance was stalled; "
                     "this commit is rolled back and the instance stops, so no row is written twice",
                     o->topic, (int)o->partition, (long long)o->stored);
            pg_error(g, "another instance owns a partition", msg);
            return R_FAIL;
        }
        pg_rc rc = classify(g, res, PGRES_COMMAND_OK, "cannot store the kafka offsets", msg, sizeof msg);
        if (rc != R_OK) return rc;
    }
    return R_OK;
}

/* The stored offset of one partition into *out (-1: none). */
static pg_rc select_offset(prt_pg *g, const char *key, const prt_kafka_offset *o, int64_t *out) {
    char part[24], msg[1024];
    snprintf(part, sizeof part, "%d", (int)o->partition);
    const char *vals[3] = {key, o->topic, part};
    PGresult *res = PQexecParams(g->conn, "SELECT next_offset::text FROM pipec_kafka_offsets WHERE key = $1 "
                                 "AND topic = $2 AND partition = $3::integer", 3, NULL, vals, NULL, NULL, 0);
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        *out = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    return classify(g, res, PGRES_TUPLES_OK, "cannot read the kafka offsets", msg, sizeof msg);
}

/* Shared group, after a COMMIT whose answer was lost: did it store the offsets? */
static int offsets_stored(prt_pg *g, const char *key) {
    for (int i = 0; i < g->noffs; i++) {
        int64_t at;
        if (select_offset(g, key, &g->offs[i], &at) != R_OK) return -1;
        if (at != g->offs[i].next) return 0;
    }
    return 1;
}

int prt_pg_share(prt_pg *g) {
    g->shared = true;   /* every connection from now on creates the table */
    return conn_lost(g) || exec_ddl(g, prt_ddl_pg_kafka_offsets, "cannot create table pipec_kafka_offsets") != R_FAIL ? 0 : -1;
}

void prt_pg_set_offsets(prt_pg *g, const prt_kafka_offset *offs, int n) {
    g->offs = offs;
    g->noffs = n;
}

int prt_pg_read_offsets(prt_pg *g, const char *key, prt_kafka_offset *offs, int n) {
    int attempt = 0;
    if (g->in_tx) {   /* the driver commits before an assignment: a bug */
        pg_error(g, "cannot read the kafka offsets", "a transaction is open");
        return -1;
    }
    for (;;) {
        if (conn_lost(g) && reconnect(g, &attempt) != 0) return -1;
        pg_rc rc = R_OK;
        for (int i = 0; i < n && rc == R_OK; i++) rc = select_offset(g, key, &offs[i], &offs[i].stored);
        if (rc == R_OK) return 0;
        if (rc != R_CONN) return -1;
        disconnect(g);
    }
}

/* After a COMMIT whose answer was lost: did it take effect? 1 yes, 0 no, -1 cannot tell. */
static int committed_anyway(prt_pg *g, const char *key, const void *ck, size_t n) {
    prt_buf got = {0};
    int r = prt_pg_read_checkpoint(g, key, &got);
    int ans = r < 0 ? -1 : (r == 1 && got.len == n && (n == 0 || memcmp(got.data, ck, n) == 0));
    prt_buf_free(&got);
    return ans;
}

/* Moves an attached dead letter's rows into this transaction (they are never refused: the dead
 * letter's text is made valid UTF-8 without NUL bytes). */
static pg_rc load_dead(prt_pg *g, prt_sink *ds, prt_pg *dg) {
    if (!ds || ds->buf.len == 0) return R_OK;
    if (!render_rows(dg, &ds->buf)) {
        pg_error(dg, "cannot decode the buffered rows", "malformed row buffer (a runtime bug)");
        return R_FAIL;
    }
    prt_buf *s = &g->sql;
    s->len = 0;
    prt_buf_lit(s, "COPY ");
    prt_sql_table(s, dg->d->table);
    prt_buf_lit(s, " (");
    put_columns(s, dg->d);
    prt_buf_lit(s, ") FROM STDIN");
    /* dg's rendered rows, sent on g's connection */
    char msg[1024];
    PGconn *saved = dg->conn;
    dg->conn = g->conn;
    pg_rc rc = copy_range(dg, prt_sql_cstr(s), 0, dg->nrows, msg, sizeof msg);
    dg->conn = saved;
    if (rc == R_DATA) {
        pg_error(dg, "the dead letter refused rows", msg);
        rc = R_FAIL;
    }
    return rc;
}

/* COMMIT, which must answer COMMIT: an aborted transaction answers ROLLBACK, and its rows are
 * not in (a statement failed unnoticed: a bug, never taken for success). */
static pg_rc commit_tx(prt_pg *g) {
    PGresult *res = PQexec(g->conn, "COMMIT");
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        PQclear(res);
        pg_error(g, "the server rolled the transaction back instead of committing it", "nothing of this commit was written");
        return R_FAIL;
    }
    char msg[1024];
    return classify(g, res, PGRES_COMMAND_OK, "cannot commit", msg, sizeof msg);
}

static void after_commit(prt_sink *s, prt_pg *g) {
    for (size_t i = 0; i < g->nrows; i++) s->rows -= g->refused[i];   /* refused rows are not the sink's */
    s->buf.len = 0;
    g->nrows = 0;
    g->copy.len = 0;
    g->rendered_in = 0;
    g->streamed = 0;
    g->streaming = g->stream_broken = false;
    if (g->caprefused) memset(g->refused, 0, sizeof *g->refused * g->caprefused);
    g->srcs.len = 0;
    g->raw.len = 0;
    g->committed_rows = s->rows;
}

int prt_pg_commit(prt_sink *s, prt_pg *g, const char *key, const void *ck, size_t n, prt_run *run,
                  prt_deadq *dead, prt_sink *attached, prt_pg *attached_g) {
    if (g->streaming && prt_pg_prepare(s, g, run, dead) != 0) return -1;
    int attempt = 0;
    bool redo = false;
    for (;;) {
        if (redo || !g->in_tx) {
            if (conn_lost(g) && reconnect(g, &attempt) != 0) return -1;
            pg_rc rc = begin_and_load(g, s, run, dead);
            if (rc == R_CONN) goto lost;
            if (rc != R_OK) goto fail;
        }
        pg_rc rc = load_dead(g, attached, attached_g);
        if (rc == R_CONN) goto lost;
        if (rc != R_OK) goto fail;
        if (ck || g->noffs) {
            rc = g->shared ? put_offsets(g, key) : put_checkpoint(g, key, ck, n);
            if (rc == R_CONN) goto lost;
            if (rc != R_OK) goto fail;
        }
        rc = commit_tx(g);
        g->in_tx = false;
        if (rc == R_OK) {
            after_commit(s, g);
            if (attached) after_commit(attached, attached_g);
            return 0;
        }
        if (rc != R_CONN) goto fail;
        /* the answer to COMMIT was lost: the checkpoint row tells whether it took effect */
        disconnect(g);
        if (ck || g->noffs) {
            for (;;) {
                if (reconnect(g, &attempt) != 0) return -1;
                int k = g->shared ? offsets_stored(g, key) : committed_anyway(g, key, ck, n);
                if (k == 1) {
                    after_commit(s, g);
                    if (attached) after_commit(attached, attached_g);
                    return 0;
                }
                if (k == 0) break;
                disconnect(g);
            }
        }
        pg_warn(g, "the connection was lost at COMMIT; redoing the transaction", "the rows wait in memory");
        redo = true;
        continue;
    lost:
        pg_warn(g, "the connection was lost during the commit; redoing it", PQerrorMessage(g->conn));
        disconnect(g);
        redo = true;
        continue;
    fail : {
        PGresult *r = PQexec(g->conn, "ROLLBACK");
        PQclear(r);
        g->in_tx = false;
        return -1;
    }
    }
}

int prt_pg_read_checkpoint(prt_pg *g, const char *key, prt_buf *out) {
    int attempt = 0;
    if (!g->lock_key) {   /* from now on every session of this sink holds the lock */
        if (!(g->lock_key = strdup(key))) abort();
        int r = conn_lost(g) ? 1 : take_lock(g);
        if (r < 0) return -1;
        if (r > 0) disconnect(g);   /* reconnect takes it */
    }
    for (;;) {
        if (conn_lost(g) && reconnect(g, &attempt) != 0) return -1;
        const char *vals[1] = {key};
        PGresult *res = PQexecParams(g->conn, "SELECT value FROM pipec_checkpoint WHERE key = $1", 1,
                                     NULL, vals, NULL, NULL, 1);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
            int found = PQntuples(res) > 0;
            if (found) prt_buf_put(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
            PQclear(res);
            return found;
        }
        char msg[1024];
        if (classify(g, res, PGRES_TUPLES_OK, "cannot read the checkpoint", msg, sizeof msg) != R_CONN) return -1;
        disconnect(g);
    }
}

uint64_t prt_pg_pending_rows(const prt_sink *s, const prt_pg *g) { return s->rows - g->committed_rows; }

/* Pulls this module and the two PostgreSQL sources out of the runtime archive (their marker
 * symbols are strong references): see prt_use_postgres in pipec_rt.h. */
extern const int prt_pgsource_linked, prt_cdc_linked;
void prt_use_postgres(void) {
    static volatile int keep;
    keep = prt_pgsource_linked + prt_cdc_linked;
    (void)keep;
}
