/* rt_cdc.c - the postgres_cdc source: logical replication through libpq's replication protocol
 * with the pgoutput plugin (protocol version 1). At start it creates the publication (for
 * `tables`) and the slot when they are missing, then streams changes in commit order; each
 * insert, update and delete becomes one JSON object (the columns by name, plus "_op": c, u or d,
 * and "_lsn") that the generated JSON decoders read. A delete carries the replica identity's
 * columns (the primary key by default); the other fields are absent, so NULL. Unchanged TOASTed
 * values of an update are absent too. With `snapshot: true` a newly created slot first yields
 * every row of the publication's tables as it was at the slot's consistent point (_op r).
 *
 * Position and exactly once: the position is the end LSN of the last transaction taken whole,
 * plus, inside a transaction split across batches, that transaction's commit LSN and how many
 * of its changes were taken. It goes into the checkpoint (line `cdc`); a restart streams from the
 * last whole transaction and skips the changes already taken of the next. The slot's position
 * is confirmed to the server (standby status update, flush LSN) only after a commit of the
 * pipeline made that position durable, so the server keeps every change not yet committed.
 *
 * --once: the WAL position current at start is the target; once every transaction before it is
 * taken (the server's keepalive, asked for when the stream is quiet, says it has sent that far)
 * the source reports that it caught up. A crash during the initial snapshot (or a start without
 * a checkpoint while the slot exists) makes the start drop the slot and take the snapshot again:
 * the rows already delivered arrive again (at least once), as the table is now. */
#include "rt_internal.h"
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

enum { FETCH_ROWS = 4096, MAX_COLS = 1600 };
#define FEEDBACK_US 10000000   /* confirm at least this often while streaming */
#define QUIET_US 100000        /* no message for this long: return to the driver */
#define PG_EPOCH_OFFSET_US 946684800000000LL   /* 2000-01-01 in Unix microseconds */

typedef struct cdc_col {
    char *name;
    uint32_t type;
} cdc_col;

typedef struct cdc_rel {
    uint32_t id;
    char *name;                /* "schema.table" */
    int ncols;
    cdc_col *cols;
} cdc_rel;

struct prt_cdc {
    const prt_source_desc *d;
    char *dsn, *where;
    PGconn *sql;               /* a normal session: publication, slot checks, snapshot, WAL position */
    PGconn *repl;              /* the replication session */
    bool streaming;
    /* position */
    uint64_t done_lsn;         /* end LSN of the last transaction taken whole */
    uint64_t txn_lsn;          /* the open transaction's commit LSN (from its BEGIN), 0 = none */
    uint64_t txn_taken;        /* changes of the open transaction handed out */
    uint64_t skip_lsn, skip_n; /* after a restart: skip this many changes of that transaction */
    uint64_t committed_lsn;    /* durable in the pipeline's sinks: what the slot may forget */
    uint64_t target;           /* --once: the WAL position at start */
    uint64_t sent_lsn;         /* the server's last reported position (keepalive walEnd) */
    uint64_t server_lsn;       /* the latest walEnd of a keepalive or XLogData: the lag's end */
    bool in_txn;
    struct {                   /* the position when this batch began (a lost stream goes back to it) */
        uint64_t done_lsn, txn_lsn, txn_taken, skip_lsn, skip_n;
        bool in_txn;
    } at_batch;
    int64_t last_feedback_us;
    bool asked;                /* a keepalive reply was requested and not yet seen */
    /* snapshot */
    bool snapshot_pending;
    char *snapshot_name;
    uint64_t snapshot_lsn;
    int snap_table;            /* next table of the publication to read */
    char **snap_tables;
    int nsnap_tables;
    bool snap_open;
    PGresult *snap_res;
    int snap_row;
    /* relations seen in the stream */
    cdc_rel *rels;
    int nrels;
    /* this batch */
    char *msg;                 /* the replication message whose record is in flight */
    prt_buf json;              /* records, NUL-separated */
    size_t *off;
    uint32_t *len;
    const char **pos;
    size_t *posoff;
    prt_buf posbuf;
    int cap;
    prt_buf sqlb;
};

/* ---- small helpers ----------------------------------------------------------------------- */


static void fmt_lsn(uint64_t lsn, char *out, size_t cap) {
    snprintf(out, cap, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

static bool parse_lsn(const char *s, uint64_t *out) {
    unsigned hi, lo;
    char tail;
    if (!s || sscanf(s, "%X/%X%c", &hi, &lo, &tail) != 2) return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

static uint64_t get_u64(const char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (unsigned char)p[i];
    return v;
}
static uint32_t get_u32(const char *p) {
    return (uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 |
           (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3];
}
static uint16_t get_u16(const char *p) { return (uint16_t)((unsigned char)p[0] << 8 | (unsigned char)p[1]); }
static void put_u64(char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (char)(v & 0xff);
}




static int check_res(prt_cdc *c, PGconn *conn, PGresult *res, ExecStatusType want, const char *what) {
    if (res && PQresultStatus(res) == want) return 0;
    char m[1024];
    prt_sql_one_line(res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(conn), m, sizeof m);
    prt_log_error("source: postgres %s: %s: %s", c->where, what, m);
    PQclear(res);
    return -1;
}

/* ---- start-up: publication, slot, WAL position -------------------------------------------- */

static int exec_ok(prt_cdc *c, PGconn *conn, const char *sql, const char *what) {
    PGresult *r = PQexec(conn, sql);
    if (check_res(c, conn, r, PGRES_COMMAND_OK, what) != 0) return -1;
    PQclear(r);
    return 0;
}

static int ensure_publication(prt_cdc *c) {
    const char *vals[1] = {c->d->publication};
    PGresult *r = PQexecParams(c->sql, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, NULL, vals, NULL, NULL, 0);
    if (check_res(c, c->sql, r, PGRES_TUPLES_OK, "cannot look up the publication") != 0) return -1;
    bool have = PQntuples(r) > 0;
    PQclear(r);
    if (have) return 0;
    if (c->d->ntables == 0) {
        prt_log_error("source: postgres %s: publication %s does not exist; name the tables (tables: [...]) "
                      "so it can be created, or create it", c->where, c->d->publication);
        return -1;
    }
    prt_buf *b = &c->sqlb;
    b->len = 0;
    prt_buf_lit(b, "CREATE PUBLICATION ");
    prt_sql_ident(b, c->d->publication);
    prt_buf_lit(b, " FOR TABLE ");
    for (int i = 0; i < c->d->ntables; i++) {
        if (i) prt_buf_lit(b, ", ");
        prt_sql_table(b, c->d->tables[i]);
    }
    if (exec_ok(c, c->sql, prt_sql_cstr(b), "cannot create the publication") != 0) return -1;
    prt_log_info("source: created publication %s", c->d->publication);
    return 0;
}

/* 1 the slot exists, 0 not, -1 error. */
static int slot_exists(prt_cdc *c) {
    const char *vals[1] = {c->d->slot};
    PGresult *r = PQexecParams(c->sql, "SELECT plugin FROM pg_replication_slots WHERE slot_name = $1", 1, NULL,
                               vals, NULL, NULL, 0);
    if (check_res(c, c->sql, r, PGRES_TUPLES_OK, "cannot look up the replication slot") != 0) return -1;
    int n = PQntuples(r);
    if (n && strcmp(PQgetvalue(r, 0, 0), "pgoutput") != 0) {
        prt_log_error("source: postgres %s: replication slot %s uses plugin %s, not pgoutput", c->where,
                      c->d->slot, PQgetvalue(r, 0, 0));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return n > 0;
}

static int create_slot(prt_cdc *c, bool export_snapshot) {
    prt_buf *b = &c->sqlb;
    b->len = 0;
    prt_buf_lit(b, "CREATE_REPLICATION_SLOT ");
    prt_sql_ident(b, c->d->slot);
    prt_buf_lit(b, " LOGICAL pgoutput");
    if (export_snapshot) prt_buf_lit(b, " EXPORT_SNAPSHOT");
    else prt_buf_lit(b, " NOEXPORT_SNAPSHOT");
    PGresult *r = PQexec(c->repl, prt_sql_cstr(b));
    if (check_res(c, c->repl, r, PGRES_TUPLES_OK, "cannot create the replication slot") != 0) return -1;
    uint64_t lsn = 0;
    parse_lsn(PQgetvalue(r, 0, 1), &lsn);
    if (export_snapshot) {
        c->snapshot_name = strdup(PQgetvalue(r, 0, 2));
        if (!c->snapshot_name) abort();
        c->snapshot_lsn = lsn;
        c->snapshot_pending = true;
    }
    PQclear(r);
    char t[40];
    fmt_lsn(lsn, t, sizeof t);
    prt_log_info("source: created replication slot %s at %s%s (drop it with SELECT pg_drop_replication_slot('%s') "
                 "when the pipeline is retired: a slot keeps WAL until it is read)", c->d->slot, t,
                 export_snapshot ? ", with an initial snapshot" : "", c->d->slot);
    return 0;
}

static int drop_slot(prt_cdc *c) {
    prt_buf *b = &c->sqlb;
    b->len = 0;
    prt_buf_lit(b, "SELECT pg_drop_replication_slot(");
    prt_sql_literal(b, c->d->slot);
    prt_buf_putc(b, ')');
    PGresult *r = PQexec(c->sql, prt_sql_cstr(b));
    if (check_res(c, c->sql, r, PGRES_TUPLES_OK, "cannot drop the replication slot") != 0) return -1;
    PQclear(r);
    return 0;
}

static int read_target(prt_cdc *c) {
    PGresult *r = PQexec(c->sql, "SELECT pg_current_wal_flush_lsn()::text");
    if (check_res(c, c->sql, r, PGRES_TUPLES_OK, "cannot read the WAL position") != 0) return -1;
    parse_lsn(PQgetvalue(r, 0, 0), &c->target);
    PQclear(r);
    return 0;
}

static PGconn *connect_as(prt_cdc *c, bool replication) {
    prt_buf b = {0};
    prt_buf_put(&b, c->dsn, strlen(c->dsn));
    /* a URI or a key=value string: both take more keywords after a space only in the second
     * form, so the options go through PQconnectdbParams' expand_dbname instead */
    prt_buf_putc(&b, 0);
    const char *keys[] = {"dbname", "replication", "options", NULL};
    const char *vals[] = {b.data, replication ? "database" : NULL,
                          "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3", NULL};
    if (!replication) {
        keys[1] = "options";
        vals[1] = vals[2];
        keys[2] = NULL;
    }
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    prt_buf_free(&b);
    if (PQstatus(conn) != CONNECTION_OK) {
        char m[1024];
        prt_sql_one_line(PQerrorMessage(conn), m, sizeof m);
        prt_log_warn("source: postgres %s: cannot connect%s: %s", c->where, replication ? " for replication" : "", m);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, NULL, NULL);
    return conn;
}

/* The tables of the publication, for the snapshot. */
static int publication_tables(prt_cdc *c) {
    const char *vals[1] = {c->d->publication};
    PGresult *r = PQexecParams(c->sql, "SELECT schemaname || '.' || tablename FROM pg_publication_tables "
                               "WHERE pubname = $1 ORDER BY 1", 1, NULL, vals, NULL, NULL, 0);
    if (check_res(c, c->sql, r, PGRES_TUPLES_OK, "cannot list the publication's tables") != 0) return -1;
    c->nsnap_tables = PQntuples(r);
    c->snap_tables = calloc((size_t)(c->nsnap_tables + 1), sizeof *c->snap_tables);
    if (!c->snap_tables) abort();
    for (int i = 0; i < c->nsnap_tables; i++)
        if (!(c->snap_tables[i] = strdup(PQgetvalue(r, i, 0)))) abort();
    PQclear(r);
    return 0;
}

/* ---- the batch's records ----------------------------------------------------------------- */

static void grow(prt_cdc *c, int n) {
    if (n < c->cap) return;
    c->cap = c->cap ? c->cap * 2 : 1024;
    c->off = realloc(c->off, sizeof *c->off * (size_t)c->cap);
    c->len = realloc(c->len, sizeof *c->len * (size_t)c->cap);
    c->posoff = realloc(c->posoff, sizeof *c->posoff * (size_t)c->cap);
    c->pos = realloc(c->pos, sizeof *c->pos * (size_t)c->cap);
    if (!c->off || !c->len || !c->posoff || !c->pos) abort();
}

/* Starts record n: the object is opened; the caller adds members, then end_record. */
static void begin_record(prt_cdc *c, int n) {
    grow(c, n);
    c->off[n] = c->json.len;
    prt_buf_putc(&c->json, '{');
}

static void end_record(prt_cdc *c, int n, const char *op, uint64_t lsn, const char *table) {
    char t[40];
    fmt_lsn(lsn, t, sizeof t);
    if (c->json.len > c->off[n] + 1) prt_buf_putc(&c->json, ',');
    prt_buf_lit(&c->json, "\"_op\":\"");
    prt_buf_put(&c->json, op, strlen(op));
    prt_buf_lit(&c->json, "\",\"_lsn\":\"");
    prt_buf_put(&c->json, t, strlen(t));
    prt_buf_lit(&c->json, "\"}");
    c->len[n] = (uint32_t)(c->json.len - c->off[n]);
    prt_buf_putc(&c->json, 0);
    c->posoff[n] = c->posbuf.len;
    prt_buf_put(&c->posbuf, table, strlen(table));
    prt_buf_lit(&c->posbuf, " lsn ");
    prt_buf_put(&c->posbuf, t, strlen(t));
    prt_buf_putc(&c->posbuf, 0);
}

static bool numeric_type(uint32_t oid) {
    /* int2, int4, int8, oid, float4, float8, numeric */
    return oid == 21 || oid == 23 || oid == 20 || oid == 26 || oid == 700 || oid == 701 || oid == 1700;
}

/* A column value in PostgreSQL's text output as a JSON member value. */
static void put_value(prt_buf *b, uint32_t type, const char *p, size_t n) {
    if (numeric_type(type) && n && strspn(p, "0123456789.-+eE") >= n) {
        prt_buf_put(b, p, n);
        return;
    }
    if (type == 16) {   /* bool: t / f */
        if (n == 1 && *p == 't') prt_buf_lit(b, "true");
        else prt_buf_lit(b, "false");
        return;
    }
    if (type == 1184 && n >= 3 && (p[n - 3] == '+' || p[n - 3] == '-')) {
        /* timestamptz prints "+00"; RFC 3339 wants "+00:00" */
        prt_buf t = {0};
        prt_buf_put(&t, p, n);
        prt_buf_lit(&t, ":00");
        prt_buf_put_json_str(b, t.data, t.len);
        prt_buf_free(&t);
        return;
    }
    prt_buf_put_json_str(b, p, n);
}

/* ---- pgoutput ------------------------------------------------------------------------------ */

static cdc_rel *find_rel(prt_cdc *c, uint32_t id) {
    for (int i = 0; i < c->nrels; i++)
        if (c->rels[i].id == id) return &c->rels[i];
    return NULL;
}

static void free_rel(cdc_rel *r) {
    for (int i = 0; i < r->ncols; i++) free(r->cols[i].name);
    free(r->cols);
    free(r->name);
}

/* 'R': the columns of a relation, sent before its first change (and after it changes). */
static bool relation_msg(prt_cdc *c, const char *p, const char *end) {
    if (end - p < 4) return false;
    uint32_t id = get_u32(p);
    p += 4;
    const char *ns = p, *nse = memchr(p, 0, (size_t)(end - p));
    if (!nse) return false;
    const char *rn = nse + 1, *rne = memchr(rn, 0, (size_t)(end - rn));
    if (!rne || end - rne < 4) return false;
    p = rne + 2;   /* the replica identity byte */
    int ncols = get_u16(p);
    p += 2;
    cdc_rel *r = find_rel(c, id);
    if (!r) {
        c->rels = realloc(c->rels, sizeof *c->rels * (size_t)(c->nrels + 1));
        if (!c->rels) abort();
        r = &c->rels[c->nrels++];
    } else {
        free_rel(r);
    }
    memset(r, 0, sizeof *r);
    r->id = id;
    size_t nl = strlen(ns) + strlen(rn) + 2;
    r->name = malloc(nl);
    r->cols = calloc((size_t)(ncols ? ncols : 1), sizeof *r->cols);
    if (!r->name || !r->cols) abort();
    snprintf(r->name, nl, "%s.%s", ns, rn);
    for (int i = 0; i < ncols; i++) {
        if (end - p < 1) return false;
        p++;   /* flags */
        const char *ce = memchr(p, 0, (size_t)(end - p));
        if (!ce || end - ce < 9) return false;
        if (!(r->cols[i].name = strdup(p))) abort();
        r->cols[i].type = get_u32(ce + 1);
        p = ce + 9;
        r->ncols = i + 1;
    }
    return true;
}

/* TupleData into the open record: every column sent (NULLs as null, unchanged TOAST left out). */
static const char *tuple(prt_cdc *c, const cdc_rel *r, const char *p, const char *end, int n) {
    if (end - p < 2) return NULL;
    int ncols = get_u16(p);
    p += 2;
    for (int i = 0; i < ncols; i++) {
        if (end - p < 1) return NULL;
        char kind = *p++;
        const char *name = i < r->ncols ? r->cols[i].name : "?";
        uint32_t type = i < r->ncols ? r->cols[i].type : 25;
        if (kind == 'u') continue;
        if (c->json.len > c->off[n] + 1) prt_buf_putc(&c->json, ',');
        prt_buf_put_json_str(&c->json, name, strlen(name));
        prt_buf_putc(&c->json, ':');
        if (kind == 'n') {
            prt_buf_lit(&c->json, "null");
        } else if (kind == 't' || kind == 'b') {
            if (end - p < 4) return NULL;
            uint32_t len = get_u32(p);
            p += 4;
            if ((size_t)(end - p) < len) return NULL;
            put_value(&c->json, type, p, len);
            p += len;
        } else {
            return NULL;
        }
    }
    return p;
}

/* One pgoutput message (of the XLogData at `lsn`). Returns 1 when it made record n, 0 when not,
 * -1 when malformed. */
static int pgoutput_msg(prt_cdc *c, const char *p, size_t n_bytes, uint64_t lsn, int n) {
    const char *end = p + n_bytes;
    if (n_bytes < 1) return -1;
    char tag = *p++;
    switch (tag) {
    case 'B':
        if (end - p < 20) return -1;
        c->in_txn = true;
        c->txn_lsn = get_u64(p);
        c->txn_taken = 0;
        return 0;
    case 'C':
        if (end - p < 25) return -1;
        c->in_txn = false;
        c->done_lsn = get_u64(p + 9);   /* end_lsn */
        c->txn_lsn = 0;
        c->txn_taken = 0;
        c->skip_lsn = c->skip_n = 0;
        return 0;
    case 'R':
        return relation_msg(c, p, end) ? 0 : -1;
    case 'I':
    case 'U':
    case 'D': {
        if (end - p < 5) return -1;
        const cdc_rel *r = find_rel(c, get_u32(p));
        p += 4;
        if (!r) return -1;
        /* a change of a transaction split across a restart: the first skip_n were taken */
        if (c->skip_lsn && c->txn_lsn == c->skip_lsn && c->txn_taken < c->skip_n) {
            c->txn_taken++;
            return 0;
        }
        begin_record(c, n);
        char k = *p++;
        if (tag == 'U' && (k == 'K' || k == 'O')) {   /* the old key or row: skip it */
            size_t save = c->json.len;
            p = tuple(c, r, p, end, n);
            c->json.len = save;
            if (!p || end - p < 1) return -1;
            k = *p++;
        }
        p = tuple(c, r, p, end, n);
        if (!p) return -1;
        end_record(c, n, tag == 'I' ? "c" : tag == 'U' ? "u" : "d", lsn, r->name);
        c->txn_taken++;
        return 1;
    }
    case 'T':
        prt_log_warn("source: postgres %s: a TRUNCATE of %u table(s) was replicated; it is not passed on",
                     c->where, end - p >= 4 ? get_u32(p) : 0);
        return 0;
    default:   /* 'Y' type, 'O' origin, 'M' message: nothing to pass on */
        return 0;
    }
}

/* ---- streaming ---------------------------------------------------------------------------- */

static int64_t pg_now(void) { return prt_now_us() - PG_EPOCH_OFFSET_US; }

static int send_feedback(prt_cdc *c, bool ask) {
    char m[34];
    m[0] = 'r';
    uint64_t lsn = c->committed_lsn;
    put_u64(m + 1, lsn);
    put_u64(m + 9, lsn);
    put_u64(m + 17, lsn);
    put_u64(m + 25, (uint64_t)pg_now());
    m[33] = ask ? 1 : 0;
    if (PQputCopyData(c->repl, m, sizeof m) != 1 || PQflush(c->repl) != 0) {
        char e[1024];
        prt_sql_one_line(PQerrorMessage(c->repl), e, sizeof e);
        prt_log_error("source: postgres %s: cannot confirm the replication position: %s", c->where, e);
        return -1;
    }
    c->last_feedback_us = prt_now_us();
    if (ask) c->asked = true;
    return 0;
}

static int start_streaming(prt_cdc *c) {
    uint64_t from = c->done_lsn ? c->done_lsn : 0;
    char t[40];
    fmt_lsn(from, t, sizeof t);
    prt_buf *b = &c->sqlb;
    b->len = 0;
    prt_buf_lit(b, "START_REPLICATION SLOT ");
    prt_sql_ident(b, c->d->slot);
    prt_buf_lit(b, " LOGICAL ");
    prt_buf_put(b, t, strlen(t));
    prt_buf_lit(b, " (proto_version '1', publication_names ");
    prt_buf t2 = {0};
    prt_sql_ident(&t2, c->d->publication);
    prt_buf_putc(&t2, 0);
    prt_sql_literal(b, t2.data);
    prt_buf_free(&t2);
    prt_buf_putc(b, ')');
    PGresult *r = PQexec(c->repl, prt_sql_cstr(b));
    if (check_res(c, c->repl, r, PGRES_COPY_BOTH, "cannot start replication") != 0) return -1;
    PQclear(r);
    c->streaming = true;
    c->last_feedback_us = prt_now_us();
    return 0;
}

/* Waits up to `us` for the replication socket to be readable. */
static void wait_socket(prt_cdc *c, int64_t us) {
    struct pollfd pfd = {.fd = PQsocket(c->repl), .events = POLLIN};
    poll(&pfd, 1, (int)(us / 1000));
}

/* After the replication connection ended: connect again (with backoff, until a stop) and
 * stream from the position after the changes handed out so far. 0, or -1. */
static int reconnect_stream(prt_cdc *c) {
    char e[1024];
    prt_sql_one_line(PQerrorMessage(c->repl), e, sizeof e);
    prt_log_warn("source: postgres %s: the replication connection ended (%s); reconnecting", c->where, e);
    /* this batch's changes are dropped: back to where it began */
    c->done_lsn = c->at_batch.done_lsn;
    c->txn_lsn = c->at_batch.txn_lsn;
    c->txn_taken = c->at_batch.txn_taken;
    c->skip_lsn = c->at_batch.skip_lsn;
    c->skip_n = c->at_batch.skip_n;
    if (c->at_batch.in_txn) {   /* that transaction comes again from its start: skip what was taken */
        if (c->skip_lsn != c->txn_lsn || c->skip_n < c->txn_taken) c->skip_n = c->txn_taken;
        c->skip_lsn = c->txn_lsn;
    }
    c->in_txn = false;
    c->streaming = false;
    c->asked = false;
    for (int attempt = 0;; attempt++) {
        PQfinish(c->repl);
        c->repl = connect_as(c, true);
        if (c->repl && start_streaming(c) == 0) {
            prt_log_info("source: postgres %s: replication resumed", c->where);
            return 0;
        }
        if (!prt_pg_backoff(attempt)) {
            prt_log_error("source: postgres %s: stopped while the server could not be reached; the next "
                          "start resumes from the last commit", c->where);
            return -1;
        }
    }
}

/* ---- the snapshot -------------------------------------------------------------------------- */

static int snapshot_next(prt_cdc *c, int max, int *n) {
    for (;;) {
        if (c->snap_res && c->snap_row < PQntuples(c->snap_res)) {
            while (*n < max && c->snap_row < PQntuples(c->snap_res)) {
                int i = c->snap_row++;
                const char *row = PQgetvalue(c->snap_res, i, 0);
                size_t len = (size_t)PQgetlength(c->snap_res, i, 0);
                begin_record(c, *n);
                c->json.len--;   /* row_to_json made the object: reopen it for _op and _lsn */
                prt_buf_put(&c->json, row, len > 0 ? len - 1 : 0);   /* without its closing brace */
                end_record(c, *n, "r", c->snapshot_lsn, c->snap_tables[c->snap_table - 1]);
                (*n)++;
            }
            return 0;
        }
        PQclear(c->snap_res);
        c->snap_res = NULL;
        if (c->snap_open) {
            PGresult *r = PQexec(c->sql, "FETCH 4096 FROM pipec_snap");
            if (check_res(c, c->sql, r, PGRES_TUPLES_OK, "cannot read the snapshot") != 0) return -1;
            if (PQntuples(r) > 0) {
                c->snap_res = r;
                c->snap_row = 0;
                continue;
            }
            PQclear(r);
            if (exec_ok(c, c->sql, "CLOSE pipec_snap", "cannot read the snapshot") != 0) return -1;
            c->snap_open = false;
        }
        if (c->snap_table == c->nsnap_tables) {   /* done: the stream starts at the consistent point */
            if (exec_ok(c, c->sql, "COMMIT", "cannot end the snapshot") != 0) return -1;
            c->snapshot_pending = false;
            c->done_lsn = c->snapshot_lsn;
            prt_log_info("source: initial snapshot taken (%d table%s)", c->nsnap_tables, c->nsnap_tables == 1 ? "" : "s");
            return 0;
        }
        const char *t = c->snap_tables[c->snap_table++];
        prt_buf *b = &c->sqlb;
        b->len = 0;
        prt_buf_lit(b, "DECLARE pipec_snap NO SCROLL CURSOR FOR SELECT row_to_json(t)::text FROM ");
        prt_sql_table(b, t);
        prt_buf_lit(b, " t");
        if (exec_ok(c, c->sql, prt_sql_cstr(b), "cannot read the snapshot") != 0) return -1;
        c->snap_open = true;
        if (*n) return 0;
    }
}

/* ---- the interface --------------------------------------------------------------------------- */

int prt_cdc_next(prt_cdc *c, prt_rec *recs, int max, const char *const **positions, bool *caught_up) {
    int n = 0;
    *caught_up = false;
    c->json.len = 0;
    c->posbuf.len = 0;
    if (c->snapshot_pending) {
        if (snapshot_next(c, max, &n) != 0) return -1;
        if (!c->snapshot_pending && !c->streaming && start_streaming(c) != 0) return -1;
    } else if (!c->streaming && start_streaming(c) != 0) {
        return -1;
    }
    c->at_batch.done_lsn = c->done_lsn;
    c->at_batch.txn_lsn = c->txn_lsn;
    c->at_batch.txn_taken = c->txn_taken;
    c->at_batch.skip_lsn = c->skip_lsn;
    c->at_batch.skip_n = c->skip_n;
    c->at_batch.in_txn = c->in_txn;
    int64_t quiet_since = prt_now_us();
    while (n < max && !c->snapshot_pending) {
        if (prt_now_us() - c->last_feedback_us >= FEEDBACK_US && send_feedback(c, false) != 0) return -1;
        char *buf = NULL;
        int len = PQgetCopyData(c->repl, &buf, 1);
        if (len == 0) {   /* nothing buffered: wait a little, then give the driver a turn */
            if (n > 0 && !c->in_txn) break;
            if (prt_now_us() - quiet_since >= QUIET_US) {
                if (n > 0) break;
                /* everything committed before the target has arrived once a transaction ending
                 * at or after it did, or the server says it has sent that far */
                if (!c->in_txn && c->target && (c->done_lsn >= c->target || (c->sent_lsn >= c->target && !c->asked)))
                    *caught_up = true;
                if (!*caught_up && !c->asked && send_feedback(c, true) != 0) return -1;
                break;
            }
            wait_socket(c, QUIET_US / 4);
            if (PQconsumeInput(c->repl) == 0) goto lost;
            if (prt_signal_stop_requested()) break;
            continue;
        }
        if (len == -1) goto lost;
        if (len < 0) goto lost;
        quiet_since = prt_now_us();
        if (buf[0] == 'k' && len >= 18) {
            c->sent_lsn = get_u64(buf + 1);
            if (c->sent_lsn > c->server_lsn) c->server_lsn = c->sent_lsn;
            if (c->asked) c->asked = false;
            if (buf[17] && send_feedback(c, false) != 0) {
                PQfreemem(buf);
                return -1;
            }
        } else if (buf[0] == 'w' && len >= 25) {
            uint64_t at = get_u64(buf + 1), wal_end = get_u64(buf + 9);
            if (wal_end > c->server_lsn) c->server_lsn = wal_end;
            int r = pgoutput_msg(c, buf + 25, (size_t)len - 25, at, n);
            if (r < 0) {
                prt_log_error("source: postgres %s: a malformed replication message ('%c')", c->where,
                              len > 25 ? buf[25] : '?');
                PQfreemem(buf);
                return -1;
            }
            n += r;
        }
        PQfreemem(buf);
    }
    for (int i = 0; i < n; i++) {
        recs[i] = (prt_rec){c->json.data + c->off[i], c->len[i], 0};
        c->pos[i] = c->posbuf.data + c->posoff[i];
    }
    *positions = c->pos;
    return n;
lost:
    /* The changes of this batch are not handed out: streaming again from the position after
     * the ones that were (the last whole transaction, minus what was taken of the next) sends
     * them again. The slot was confirmed only up to a commit, so the server still has them. */
    if (reconnect_stream(c) != 0) return -1;
    return 0;
}

void prt_cdc_position(const prt_cdc *c, prt_ckpt *k) {
    k->has_cdc = true;
    k->cdc_done = c->done_lsn;
    k->cdc_txn = c->in_txn ? c->txn_lsn : 0;
    k->cdc_taken = c->in_txn ? c->txn_taken : 0;
    k->cdc_snapshot = c->snapshot_pending;
}

int prt_cdc_committed(prt_cdc *c) {
    c->committed_lsn = c->done_lsn;
    if (!c->streaming) return 0;
    return send_feedback(c, false);
}

int64_t prt_cdc_lag(const prt_cdc *c) {
    uint64_t base = c->committed_lsn ? c->committed_lsn : c->done_lsn;
    if (!c->server_lsn || !base) return -1;
    return c->server_lsn > base ? (int64_t)(c->server_lsn - base) : 0;
}

void prt_cdc_close(prt_cdc *c) {
    if (!c) return;
    if (c->repl && c->streaming) {
        send_feedback(c, false);
        PQputCopyEnd(c->repl, NULL);
    }
    if (c->sql && c->streaming) {   /* how far behind the slot is, for the log */
        const char *vals[1] = {c->d->slot};
        PGresult *r = PQexecParams(c->sql, "SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM "
                                   "pg_replication_slots WHERE slot_name = $1", 1, NULL, vals, NULL, NULL, 0);
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            prt_log_info("source: replication slot %s lags %s bytes of WAL behind the server", c->d->slot,
                         PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    PQclear(c->snap_res);
    if (c->repl) PQfinish(c->repl);
    if (c->sql) PQfinish(c->sql);
    for (int i = 0; i < c->nrels; i++) free_rel(&c->rels[i]);
    free(c->rels);
    for (int i = 0; i < c->nsnap_tables; i++) free(c->snap_tables[i]);
    free(c->snap_tables);
    free(c->snapshot_name);
    free(c->dsn);
    free(c->where);
    free(c->off);
    free(c->len);
    free(c->pos);
    free(c->posoff);
    prt_buf_free(&c->json);
    prt_buf_free(&c->posbuf);
    prt_buf_free(&c->sqlb);
    free(c);
}

prt_cdc *prt_cdc_open(const prt_source_desc *d, const char *dsn, const prt_ckpt *ck, bool once) {
    if (!d->publication || !d->slot) {
        prt_log_error("source: bad postgres_cdc source description (a publication and a slot)");
        return NULL;
    }
    prt_cdc *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->d = d;
    c->dsn = strdup(dsn);
    c->where = prt_pg_describe(dsn);
    if (!c->dsn) abort();
    int64_t give_up = prt_pg_start_deadline_us();
    for (int attempt = 0; !(c->sql = connect_as(c, false)); attempt++)
        if (prt_now_us() > give_up || !prt_pg_backoff(attempt)) goto fail;
    if (!(c->repl = connect_as(c, true))) goto fail;
    if (ensure_publication(c) != 0) goto fail;
    int have = slot_exists(c);
    if (have < 0) goto fail;
    bool resume = ck && ck->has_cdc;
    if (have && d->snapshot && (!resume || ck->cdc_snapshot)) {
        /* the snapshot the slot exported is gone with the run that read it: start over */
        prt_log_warn("source: the initial snapshot of slot %s did not finish (or there is no checkpoint): dropping "
                     "the slot and taking the snapshot again (rows already delivered arrive again)", d->slot);
        if (drop_slot(c) != 0) goto fail;
        have = 0;
        resume = false;
    }
    if (!have) {
        if (resume && ck->cdc_done)
            prt_log_warn("source: replication slot %s is gone: changes after the checkpoint until now are lost; "
                         "creating it again", d->slot);
        if (create_slot(c, d->snapshot && !(resume && ck->cdc_done)) != 0) goto fail;
    }
    if (resume && !c->snapshot_pending) {
        c->done_lsn = ck->cdc_done;
        c->skip_lsn = ck->cdc_txn;
        c->skip_n = ck->cdc_taken;
        c->committed_lsn = c->done_lsn;
        char t[40];
        fmt_lsn(c->done_lsn, t, sizeof t);
        prt_log_info("source: resuming replication after %s%s", t, c->skip_n ? " (inside a transaction)" : "");
    }
    if (c->snapshot_pending) {
        if (publication_tables(c) != 0) goto fail;
        if (exec_ok(c, c->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot begin the snapshot") != 0) goto fail;
        prt_buf *b = &c->sqlb;
        b->len = 0;
        prt_buf_lit(b, "SET TRANSACTION SNAPSHOT ");
        prt_sql_literal(b, c->snapshot_name);
        if (exec_ok(c, c->sql, prt_sql_cstr(b), "cannot use the slot's snapshot") != 0) goto fail;
    }
    if (once && read_target(c) != 0) goto fail;
    return c;
fail:
    prt_log_error("source: postgres %s: cannot start the change stream", c->where);
    prt_cdc_close(c);
    return NULL;
}

const int prt_cdc_linked = 1;   /* referenced by prt_use_postgres (rt_postgres.c) */
