/* rt_pgsource.c - the postgres source: incremental polling of a table or a query in order of a
 * cursor column. Each poll reads, in one REPEATABLE READ snapshot through a server-side cursor
 * (FETCH of BATCH rows at a time, so memory stays bounded),
 *
 *   SELECT row_to_json(q)::text, (q.CURSOR)::text FROM (TABLE or QUERY) q
 *   WHERE q.CURSOR IS NOT NULL [AND q.CURSOR >= $last] ORDER BY q.CURSOR
 *
 * and hands each row to the pipeline as one JSON object (the generated JSON decoders read the
 * fields by column name). Its dead-letter position is "TABLE CURSOR=VALUE".
 *
 * Ties: several rows may share the last cursor value, and more rows with that value may commit
 * after a poll. So the source keeps, besides the last value, the digests (64-bit hashes of the
 * row's JSON text) of the rows it already took with exactly that value; the next poll asks for
 * cursor >= last and skips those rows. A row changed in place without a new cursor value is
 * therefore taken again (it is a change), and a row that is byte-for-byte the same as one taken
 * is not. Both parts go into the checkpoint (lines `cursor` and `seen`), so a restart resumes
 * exactly after the last committed row. Rows whose cursor is NULL are never taken.
 *
 * A lost connection is retried with backoff until the server is back (or a stop); the poll then
 * starts again from the rows already handed out. */
#include "rt_internal.h"
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

enum { FETCH_ROWS = 4096 };

struct prt_pgsrc {
    const prt_source_desc *d;
    PGconn *conn;
    char *dsn, *where;
    char *label;               /* "TABLE CURSOR" or "query CURSOR", for positions */
    /* the position after the rows handed out so far */
    char *cursor;
    uint64_t *seen;
    int nseen, capseen;
    /* the poll in progress */
    bool polling;
    char *poll_cursor;         /* the last value when the poll began (NULL: the first poll) */
    uint64_t *poll_seen;       /* its digests, sorted */
    int npoll_seen;
    PGresult *res;
    int row, nrows;
    prt_buf posbuf;            /* this batch's position strings, NUL-separated */
    size_t *posoff;
    const char **pos;
    int cappos;
    prt_buf sql;
};




static bool lost(const prt_pgsrc *s) { return !s->conn || PQstatus(s->conn) != CONNECTION_OK; }

static void disconnect(prt_pgsrc *s) {
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
    if (s->conn) PQfinish(s->conn);
    s->conn = NULL;
    s->polling = false;
}

/* Runs a command; 0 ok, 1 connection lost, -1 another error (logged). */
static int run_cmd(prt_pgsrc *s, PGresult *res, ExecStatusType want, const char *what) {
    if (res && PQresultStatus(res) == want) {
        PQclear(res);
        return 0;
    }
    char m[1024];
    prt_sql_one_line(res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(s->conn), m, sizeof m);
    PQclear(res);
    if (lost(s)) return 1;
    prt_log_error("source: postgres %s: %s: %s", s->where, what, m);
    return -1;
}

static int connect_once(prt_pgsrc *s, bool loud) {
    disconnect(s);
    s->conn = PQconnectdb(s->dsn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char m[1024];
        prt_sql_one_line(PQerrorMessage(s->conn), m, sizeof m);
        if (loud) prt_log_warn("source: postgres %s: not reachable; retrying: %s", s->where, m);
        disconnect(s);
        return 1;
    }
    PQsetNoticeProcessor(s->conn, NULL, NULL);
    static const char *const setup[] = {"SET client_encoding = 'UTF8'", "SET TIME ZONE 'UTC'",
                                        "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'iso_8601'",
                                        "SET extra_float_digits = 3", NULL};
    for (int i = 0; setup[i]; i++) {
        int r = run_cmd(s, PQexec(s->conn, setup[i]), PGRES_COMMAND_OK, "cannot set up the session");
        if (r) return r;
    }
    return 0;
}

/* Connects, retrying with backoff (a log line per attempt) until it works, an error that is not
 * about reaching the server, or a stop. 0, or -1. */
static int reconnect(prt_pgsrc *s, int64_t give_up_us) {
    for (int attempt = 0;; attempt++) {
        int r = connect_once(s, true);
        if (r == 0) {
            if (attempt) prt_log_info("source: postgres %s: connected again", s->where);
            return 0;
        }
        if (r < 0) return -1;
        if (give_up_us && prt_now_us() > give_up_us) {
            prt_log_error("source: postgres %s: cannot connect (gave up at start-up)", s->where);
            return -1;
        }
        if (!prt_pg_backoff(attempt)) return -1;
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool poll_seen_has(const prt_pgsrc *s, uint64_t h) {
    return s->npoll_seen && bsearch(&h, s->poll_seen, (size_t)s->npoll_seen, sizeof h, cmp_u64);
}

static void add_seen(prt_pgsrc *s, uint64_t h) {
    if (s->nseen == s->capseen) {
        s->capseen = s->capseen ? s->capseen * 2 : 64;
        s->seen = realloc(s->seen, sizeof *s->seen * (size_t)s->capseen);
        if (!s->seen) abort();
    }
    s->seen[s->nseen++] = h;
}

/* BEGIN a snapshot and DECLARE the poll's cursor. 0, 1 lost, -1 error. */
static int start_poll(prt_pgsrc *s) {
    const prt_source_desc *d = s->d;
    free(s->poll_cursor);
    free(s->poll_seen);
    s->poll_cursor = s->cursor ? strdup(s->cursor) : NULL;
    s->npoll_seen = s->nseen;
    s->poll_seen = malloc(sizeof *s->poll_seen * (size_t)(s->nseen ? s->nseen : 1));
    if (!s->poll_seen || (s->cursor && !s->poll_cursor)) abort();
    if (s->nseen) memcpy(s->poll_seen, s->seen, sizeof *s->seen * (size_t)s->nseen);
    qsort(s->poll_seen, (size_t)s->npoll_seen, sizeof *s->poll_seen, cmp_u64);
    int r = run_cmd(s, PQexec(s->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"), PGRES_COMMAND_OK,
                    "cannot begin the poll");
    if (r) return r;
    prt_buf *b = &s->sql;
    b->len = 0;
    prt_buf_lit(b, "DECLARE pipec_poll NO SCROLL CURSOR FOR SELECT row_to_json(q)::text, (q.");
    prt_sql_ident(b, d->cursor);
    prt_buf_lit(b, ")::text FROM (");
    if (d->table) {
        prt_buf_lit(b, "SELECT * FROM ");
        prt_sql_table(b, d->table);
    } else {
        prt_buf_put(b, d->query, strlen(d->query));   /* the user's own SQL, as written in the spec */
    }
    prt_buf_lit(b, ") q WHERE q.");
    prt_sql_ident(b, d->cursor);
    prt_buf_lit(b, " IS NOT NULL");
    if (s->cursor) {
        prt_buf_lit(b, " AND q.");
        prt_sql_ident(b, d->cursor);
        prt_buf_lit(b, " >= $1");
    }
    prt_buf_lit(b, " ORDER BY q.");
    prt_sql_ident(b, d->cursor);
    prt_buf_putc(b, 0);
    const char *vals[1] = {s->cursor};
    r = run_cmd(s, PQexecParams(s->conn, b->data, s->cursor ? 1 : 0, NULL, vals, NULL, NULL, 0),
                PGRES_COMMAND_OK, "cannot start the poll");
    if (r) return r;
    s->polling = true;
    return 0;
}

/* The next FETCH into s->res. 0 (s->nrows may be 0: the poll is over), 1 lost, -1 error. */
static int fetch(prt_pgsrc *s) {
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH %d FROM pipec_poll", FETCH_ROWS);
    PGresult *res = PQexec(s->conn, sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) return run_cmd(s, res, PGRES_TUPLES_OK, "cannot read the rows");
    s->res = res;
    s->nrows = PQntuples(res);
    return 0;
}

static int end_poll(prt_pgsrc *s) {
    s->polling = false;
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
    return run_cmd(s, PQexec(s->conn, "COMMIT"), PGRES_COMMAND_OK, "cannot end the poll");
}

int prt_pgsrc_next(prt_pgsrc *s, prt_rec *recs, int max, const char *const **positions) {
    int n = 0;
    s->posbuf.len = 0;
    for (;;) {
        if (prt_signal_stop_requested()) return 0;
        int r = 0;
        if (lost(s)) {
            if (reconnect(s, 0) != 0) return prt_signal_stop_requested() ? 0 : -1;
        }
        if (!s->polling) r = start_poll(s);
        if (r == 0 && s->row >= s->nrows) r = fetch(s);
        if (r < 0) return -1;
        if (r > 0) {   /* lost: the rows handed out are kept; start again after them */
            prt_log_warn("source: postgres %s: the connection was lost; reconnecting", s->where);
            if (n) break;   /* the rows handed out point into s->res: reconnect next time */
            disconnect(s);
            continue;
        }
        if (s->nrows == 0) {   /* caught up */
            r = end_poll(s);
            if (r < 0) return -1;
            if (r > 0) disconnect(s);
            break;
        }
        while (s->row < s->nrows && n < max) {
            int i = s->row++;
            const char *json = PQgetvalue(s->res, i, 0);
            size_t len = (size_t)PQgetlength(s->res, i, 0);
            const char *cur = PQgetvalue(s->res, i, 1);
            uint64_t h = prt_hash_bytes(json, len, 0x9e3779b97f4a7c15ULL);
            if (s->poll_cursor && strcmp(cur, s->poll_cursor) == 0 && poll_seen_has(s, h)) continue;
            if (!s->cursor || strcmp(cur, s->cursor) != 0) {
                free(s->cursor);
                s->cursor = strdup(cur);
                if (!s->cursor) abort();
                s->nseen = 0;
            }
            add_seen(s, h);
            if (n == s->cappos) {
                s->cappos = s->cappos ? s->cappos * 2 : 256;
                s->posoff = realloc(s->posoff, sizeof *s->posoff * (size_t)s->cappos);
                s->pos = realloc(s->pos, sizeof *s->pos * (size_t)s->cappos);
                if (!s->posoff || !s->pos) abort();
            }
            s->posoff[n] = s->posbuf.len;
            prt_buf_put(&s->posbuf, s->label, strlen(s->label));
            prt_buf_putc(&s->posbuf, '=');
            prt_buf_put(&s->posbuf, cur, strlen(cur));
            prt_buf_putc(&s->posbuf, 0);
            recs[n++] = (prt_rec){json, (uint32_t)len, 0};
        }
        if (n == max || (n > 0 && s->row >= s->nrows)) break;
    }
    for (int i = 0; i < n; i++) s->pos[i] = s->posbuf.data + s->posoff[i];
    *positions = s->pos;
    return n;
}

void prt_pgsrc_position(const prt_pgsrc *s, prt_ckpt *c) {
    if (!s->cursor) return;
    free(c->cursor);
    free(c->seen);
    c->has_cursor = true;
    c->cursor = strdup(s->cursor);
    c->nseen = s->nseen;
    c->seen = malloc(sizeof *c->seen * (size_t)(s->nseen ? s->nseen : 1));
    if (!c->cursor || !c->seen) abort();
    if (s->nseen) memcpy(c->seen, s->seen, sizeof *s->seen * (size_t)s->nseen);
}

const char *prt_pgsrc_where(const prt_pgsrc *s) { return s->where; }

void prt_pgsrc_close(prt_pgsrc *s) {
    if (!s) return;
    disconnect(s);
    free(s->dsn);
    free(s->where);
    free(s->label);
    free(s->cursor);
    free(s->seen);
    free(s->poll_cursor);
    free(s->poll_seen);
    free(s->posoff);
    free(s->pos);
    prt_buf_free(&s->posbuf);
    prt_buf_free(&s->sql);
    free(s);
}

prt_pgsrc *prt_pgsrc_open(const prt_source_desc *d, const char *dsn, const prt_ckpt *ck) {
    if (!d->cursor || !d->cursor[0] || (!d->table == !d->query)) {
        prt_log_error("source: bad postgres source description (a cursor and one of table and query)");
        return NULL;
    }
    prt_pgsrc *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->d = d;
    s->dsn = strdup(dsn);
    s->where = prt_pg_describe(dsn);
    size_t n = strlen(d->table ? d->table : "query") + strlen(d->cursor) + 2;
    s->label = malloc(n);
    if (!s->dsn || !s->label) abort();
    snprintf(s->label, n, "%s %s", d->table ? d->table : "query", d->cursor);
    if (ck && ck->has_cursor) {
        s->cursor = strdup(ck->cursor ? ck->cursor : "");
        if (!s->cursor) abort();
        for (int i = 0; i < ck->nseen; i++) add_seen(s, ck->seen[i]);
        prt_log_info("source: resuming after %s = %s (%d row%s with that value already taken)", d->cursor,
                     s->cursor, s->nseen, s->nseen == 1 ? "" : "s");
    }
    if (reconnect(s, prt_pg_start_deadline_us()) != 0) {
        prt_pgsrc_close(s);
        return NULL;
    }
    return s;
}

const int prt_pgsource_linked = 1;   /* referenced by prt_use_postgres (rt_postgres.c) */
