/* test_sqlite.c - unit tests of rt_sqlite.c through rt_sink.c: rows encoded with prt_row_* into a
 * sink's buffer and committed; every type and NULL, strings with quotes, NUL bytes and non-ASCII
 * text, identifiers that need quoting, tables created with their primary key, WAL mode, insert
 * and upsert (last write wins within a commit, DO NOTHING when every column is a key), existing
 * tables (a missing column is an error; an upsert needs a key), the checkpoint blob committed with
 * the rows, and a failing commit (a UNIQUE violation) rolled back entirely. Results are read back
 * through a fresh connection. Needs -lsqlite3. */
#include "check.h"
#include "rt_internal.h"
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/test_sqlite_XXXXXX";

/* The first column of the first row of `sql` as text ("NULL" for NULL, "" for no row), in a
 * fresh connection so only committed data is seen. */
static const char *q1(const char *path, const char *sql) {
    static char out[4096];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    out[0] = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, sizeof out, "ERROR: %s", sqlite3_errmsg(db));
    } else if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(out, sizeof out, "%s", t ? t : "NULL");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static long long qi(const char *path, const char *sql) { return atoll(q1(path, sql)); }

static void make_path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static void exec_on(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    CHECK_INT(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* ---- every type, NULLs, quoting -------------------------------------------------------------- */

static const char *const all_cols[] = {"b", "i32", "i64", "f", "s", "ts", "d", "we\"ird col"};
static const prt_col_type all_types[] = {PRT_T_BOOL, PRT_T_INT32, PRT_T_INT64, PRT_T_FLOAT64,
                                         PRT_T_STRING, PRT_T_TIMESTAMP, PRT_T_DATE, PRT_T_STRING};

static void test_types(void) {
    char path[256];
    make_path(path, sizeof path, "sub/dir/types.db");   /* parents created */
    prt_sink_desc d = {.name = "all", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                       .path = path, .ncolumns = 8, .columns = all_cols,
                       .table = "t \"x\"; DROP TABLE y; --", .mode = PRT_MODE_INSERT,
                       .column_types = all_types};
    prt_sink *s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    CHECK(!prt_sink_is_file(s));
    CHECK(prt_sink_sqlite(s) != NULL);
    prt_buf *b = &s->buf;
    /* row 1: every type */
    prt_row_bool(b, true);
    prt_row_i64(b, -2147483648LL);
    prt_row_i64(b, INT64_MAX);
    prt_row_f64(b, 0.1);
    prt_row_str(b, "it's \"quoted\"", 13);
    prt_row_ts(b, 1714557609123400LL);   /* 2024-05-01T10:00:09.1234Z */
    prt_row_date(b, 19844);              /* 2024-05-01 */
    prt_row_str(b, "zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80", 13);
    prt_sink_row_done(s);
    /* row 2: NULLs, non-finite floats as NULL */
    prt_row_bool(b, false);
    prt_row_null(b);
    prt_row_null(b);
    prt_row_f64(b, NAN);
    prt_row_str(b, "a\0b", 3);   /* a NUL byte inside */
    prt_row_ts(b, -1);           /* 1969-12-31T23:59:59.999999Z */
    prt_row_date(b, -1);
    prt_row_str(b, "", 0);       /* empty, not NULL */
    prt_sink_row_done(s);
    /* row 3: infinity, NULL everywhere else */
    for (int c = 0; c < 3; c++) prt_row_null(b);
    prt_row_f64(b, -INFINITY);
    for (int c = 4; c < 8; c++) prt_row_null(b);
    prt_sink_row_done(s);
    /* flushes write nothing outside a commit */
    CHECK_INT(prt_sink_flush(s), 0);
    CHECK_INT(prt_sink_maybe_flush(s), 0);
    CHECK(b->len > 0);
    const char *tbl = "\"t \"\"x\"\"; DROP TABLE y; --\"";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tbl);
    CHECK_INT(qi(path, sql), 0);
    uint64_t len = 99;
    CHECK_INT(prt_sink_commit(s, &len), 0);
    CHECK_INT(len, 0);
    CHECK_INT(b->len, 0);
    CHECK_INT(qi(path, sql), 3);
    CHECK_STR(q1(path, "PRAGMA journal_mode"), "wal");
    /* declared types */
    snprintf(sql, sizeof sql, "SELECT group_concat(name || ':' || type || ':' || pk, ',') FROM "
             "pragma_table_info('t \"x\"; DROP TABLE y; --')");
    CHECK_STR(q1(path, sql), "b:BOOLEAN:0,i32:BIGINT:0,i64:BIGINT:0,f:DOUBLE:0,s:TEXT:0,ts:TEXT:0,"
                             "d:TEXT:0,we\"ird col:TEXT:0");
    /* row 1 */
    snprintf(sql, sizeof sql, "SELECT b || '|' || typeof(b) || '|' || i32 || '|' || i64 || '|' || "
             "(f = 0.1) || '|' || typeof(f) || '|' || s || '|' || ts || '|' || d || '|' || "
             "\"we\"\"ird col\" FROM %s WHERE rowid = 1", tbl);
    CHECK_STR(q1(path, sql), "1|integer|-2147483648|9223372036854775807|1|real|"
                             "it's \"quoted\"|2024-05-01T10:00:09.1234Z|2024-05-01|"
                             "zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80");
    /* row 2 */
    snprintf(sql, sizeof sql, "SELECT b || '|' || typeof(i32) || '|' || typeof(i64) || '|' || "
             "typeof(f) || '|' || hex(CAST(s AS BLOB)) || '|' || typeof(s) || '|' || ts || '|' || d "
             "|| '|' || typeof(\"we\"\"ird col\") || length(\"we\"\"ird col\") FROM %s WHERE rowid = 2", tbl);
    CHECK_STR(q1(path, sql), "0|null|null|null|610062|text|1969-12-31T23:59:59.999999Z|1969-12-31|text0");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE rowid = 3 AND b IS NULL AND f IS NULL "
             "AND s IS NULL AND ts IS NULL AND d IS NULL AND \"we\"\"ird col\" IS NULL", tbl);
    CHECK_INT(qi(path, sql), 1);
    /* nothing buffered: a commit is a no-op */
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    CHECK_INT(prt_sink_finish(s), 0);
    prt_sink_close(s);
    /* reopened: the table exists and matches; rows appended */
    s = prt_sink_open(&d, path, 1234, -1);
    CHECK(s != NULL);
    if (!s) return;
    for (int c = 0; c < 8; c++) prt_row_null(&s->buf);
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    prt_sink_close(s);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tbl);
    CHECK_INT(qi(path, sql), 4);
}

/* ---- upsert ------------------------------------------------------------------------------- */

static const char *const kv_cols[] = {"id", "name", "n"};
static const prt_col_type kv_types[] = {PRT_T_INT64, PRT_T_STRING, PRT_T_INT64};
static const int key0[] = {0};

static void kv_row(prt_sink *s, int64_t id, const char *name, int64_t n) {
    prt_row_i64(&s->buf, id);
    if (name) prt_row_str(&s->buf, name, (uint32_t)strlen(name));
    else prt_row_null(&s->buf);
    prt_row_i64(&s->buf, n);
    prt_sink_row_done(s);
}

static void test_upsert(void) {
    char path[256];
    make_path(path, sizeof path, "upsert.db");
    prt_sink_desc d = {.name = "kv", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                       .ncolumns = 3, .columns = kv_cols, .table = "kv", .mode = PRT_MODE_UPSERT,
                       .nkey = 1, .key = key0, .column_types = kv_types};
    prt_sink *s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    kv_row(s, 1, "a", 1);
    kv_row(s, 2, "b", 2);
    kv_row(s, 1, "c", 3);   /* the same key twice in one commit: the later wins */
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    CHECK_STR(q1(path, "SELECT group_concat(id || ':' || name || ':' || n, ',') FROM "
                       "(SELECT * FROM kv ORDER BY id)"), "1:c:3,2:b:2");
    CHECK_STR(q1(path, "SELECT group_concat(name || ':' || pk, ',') FROM pragma_table_info('kv')"),
              "id:1,name:0,n:0");
    kv_row(s, 2, NULL, 9);   /* NULL overwrites too */
    kv_row(s, 3, "d", 4);
    CHECK_INT(prt_sqlite_commit(s, NULL, NULL, 0), 0);
    CHECK_STR(q1(path, "SELECT group_concat(id || ':' || coalesce(name, 'NULL') || ':' || n, ',') "
                       "FROM (SELECT * FROM kv ORDER BY id)"), "1:c:3,2:NULL:9,3:d:4");
    prt_sink_close(s);

    /* a composite key */
    static const char *const c2[] = {"a", "b", "v"};
    static const int key2[] = {1, 0};
    d = (prt_sink_desc){.name = "kv2", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                        .ncolumns = 3, .columns = c2, .table = "kv2", .mode = PRT_MODE_UPSERT,
                        .nkey = 2, .key = key2, .column_types = kv_types};
    s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    kv_row(s, 1, "x", 1);
    kv_row(s, 1, "y", 2);
    kv_row(s, 1, "x", 3);
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    CHECK_STR(q1(path, "SELECT group_concat(a || b || v, ',') FROM (SELECT * FROM kv2 ORDER BY b)"),
              "1x3,1y2");
    CHECK_STR(q1(path, "SELECT group_concat(name || ':' || pk, ',') FROM pragma_table_info('kv2')"),
              "a:2,b:1,v:0");
    prt_sink_close(s);

    /* every column a key: DO NOTHING */
    static const char *const c1[] = {"k"};
    static const prt_col_type t1[] = {PRT_T_STRING};
    d = (prt_sink_desc){.name = "keys", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                        .ncolumns = 1, .columns = c1, .table = "keys", .mode = PRT_MODE_UPSERT,
                        .nkey = 1, .key = key0, .column_types = t1};
    s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    prt_row_str(&s->buf, "k1", 2);
    prt_row_str(&s->buf, "k1", 2);
    prt_row_str(&s->buf, "k2", 2);
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    CHECK_INT(qi(path, "SELECT count(*) FROM keys"), 2);
    prt_sink_close(s);
}

/* ---- existing tables, bad descriptions ----------------------------------------------------- */

static void test_existing(void) {
    char path[256];
    make_path(path, sizeof path, "existing.db");
    exec_on(path, "CREATE TABLE ex (ID INTEGER, Name TEXT, other TEXT DEFAULT 'dflt');"
                  "CREATE TABLE short (id INTEGER, name TEXT)");
    /* names match case-insensitively; extra columns of the table keep their defaults */
    prt_sink_desc d = {.name = "ex", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                       .ncolumns = 3, .columns = kv_cols, .table = "ex", .mode = PRT_MODE_INSERT,
                       .column_types = kv_types};
    static const char *const c2[] = {"id", "name"};
    d.ncolumns = 2;
    d.columns = c2;
    prt_sink *s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (s) {
        prt_row_i64(&s->buf, 5);
        prt_row_str(&s->buf, "five", 4);
        CHECK_INT(prt_sink_commit(s, NULL), 0);
        prt_sink_close(s);
        CHECK_STR(q1(path, "SELECT ID || Name || other FROM ex"), "5fivedflt");
    }
    /* a column missing from an existing table: an error naming it */
    d.table = "short";
    d.ncolumns = 3;
    d.columns = kv_cols;
    fprintf(stderr, "(one 'no column \"n\"' error expected below)\n");
    CHECK(prt_sink_open(&d, path, -1, -1) == NULL);
    CHECK_STR(q1(path, "SELECT group_concat(name) FROM pragma_table_info('short')"), "id,name");
    /* upsert into an existing table without a key on the key columns */
    d.table = "ex";
    d.ncolumns = 2;
    d.columns = c2;
    d.mode = PRT_MODE_UPSERT;
    d.nkey = 1;
    d.key = key0;
    fprintf(stderr, "(one 'ON CONFLICT clause' error expected below)\n");
    CHECK(prt_sink_open(&d, path, -1, -1) == NULL);
    /* bad descriptions */
    prt_sink_desc bad = {.name = "bad", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                         .ncolumns = 3, .columns = kv_cols, .table = "b", .mode = PRT_MODE_UPSERT};
    fprintf(stderr, "(three 'bad sqlite sink description' errors expected below)\n");
    CHECK(prt_sink_open(&bad, path, -1, -1) == NULL);   /* upsert without keys */
    static const int key9[] = {9};
    bad.nkey = 1;
    bad.key = key9;
    CHECK(prt_sink_open(&bad, path, -1, -1) == NULL);   /* key out of range */
    bad.key = key0;
    bad.table = NULL;
    CHECK(prt_sink_open(&bad, path, -1, -1) == NULL);   /* no table */
    /* a database that cannot be opened */
    char dpath[300];
    make_path(dpath, sizeof dpath, "sub");   /* a directory */
    bad.table = "b";
    fprintf(stderr, "(one 'cannot open' error expected below)\n");
    CHECK(prt_sink_open(&bad, dpath, -1, -1) == NULL);
    /* no path given: the descriptor's path is expanded */
    setenv("TEST_SQLITE_DIR", dir, 1);
    bad.path = "${TEST_SQLITE_DIR}/expanded/x.db";
    s = prt_sink_open(&bad, NULL, -1, -1);
    CHECK(s != NULL);
    prt_sink_close(s);
    make_path(dpath, sizeof dpath, "expanded/x.db");
    CHECK(access(dpath, F_OK) == 0);
    bad.path = "${TEST_SQLITE_UNSET_VAR}/x.db";
    fprintf(stderr, "(one 'unset variable' error expected below)\n");
    CHECK(prt_sink_open(&bad, NULL, -1, -1) == NULL);
}

/* ---- checkpoint with the rows, rollback ------------------------------------------------------ */

static void test_checkpoint(void) {
    char path[256];
    make_path(path, sizeof path, "ckpt.db");
    prt_sink_desc d = {.name = "ev", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                       .ncolumns = 3, .columns = kv_cols, .table = "ev", .mode = PRT_MODE_INSERT,
                       .nkey = 1, .key = key0, .column_types = kv_types};
    prt_sink *s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    prt_buf got = {0};
    CHECK_INT(prt_sqlite_read_checkpoint(s, "p1", &got), 0);   /* no table yet */
    CHECK_INT(got.len, 0);
    const char blob1[] = "pos\0one\xff";
    kv_row(s, 1, "a", 1);
    kv_row(s, 2, "b", 2);
    CHECK_INT(prt_sqlite_commit(s, "p1", blob1, sizeof blob1), 0);
    CHECK_INT(prt_sqlite_read_checkpoint(s, "p1", &got), 1);
    CHECK_INT(got.len, sizeof blob1);
    CHECK(got.len == sizeof blob1 && memcmp(got.data, blob1, sizeof blob1) == 0);
    got.len = 0;
    CHECK_INT(prt_sqlite_read_checkpoint(s, "other", &got), 0);
    CHECK_INT(qi(path, "SELECT seq FROM pipec_checkpoint WHERE key = 'p1'"), 1);
    CHECK_STR(q1(path, "SELECT group_concat(name || ':' || type || ':' || pk, ',') FROM "
                       "pragma_table_info('pipec_checkpoint')"),
              "key:TEXT:1,value:BLOB:0,seq:INTEGER:0");
    /* a checkpoint without rows */
    CHECK_INT(prt_sqlite_commit(s, "p1", "x", 1), 0);
    CHECK_INT(qi(path, "SELECT seq FROM pipec_checkpoint WHERE key = 'p1'"), 2);
    CHECK_STR(q1(path, "SELECT value FROM pipec_checkpoint WHERE key = 'p1'"), "x");
    /* an empty checkpoint is found, empty (not NULL) */
    CHECK_INT(prt_sqlite_commit(s, "empty", "", 0), 0);
    CHECK_INT(prt_sqlite_read_checkpoint(s, "empty", &got), 1);
    CHECK_INT(got.len, 0);
    CHECK_STR(q1(path, "SELECT typeof(value) FROM pipec_checkpoint WHERE key = 'empty'"), "blob");

    /* a UNIQUE violation: rows and checkpoint both rolled back, the buffer kept */
    kv_row(s, 3, "c", 3);
    kv_row(s, 1, "dup", 4);
    size_t buffered = s->buf.len;
    fprintf(stderr, "(one 'UNIQUE constraint failed' error expected below)\n");
    CHECK_INT(prt_sqlite_commit(s, "p1", "y", 1), -1);
    CHECK_INT(s->buf.len, buffered);
    CHECK_INT(qi(path, "SELECT count(*) FROM ev"), 2);
    CHECK_STR(q1(path, "SELECT value || seq FROM pipec_checkpoint WHERE key = 'p1'"), "x2");
    got.len = 0;
    CHECK_INT(prt_sqlite_read_checkpoint(s, "p1", &got), 1);
    CHECK(got.len == 1 && got.data[0] == 'x');
    /* the same through the generic commit */
    fprintf(stderr, "(one 'UNIQUE constraint failed' error expected below)\n");
    CHECK_INT(prt_sink_commit(s, NULL), -1);
    CHECK_INT(qi(path, "SELECT count(*) FROM ev"), 2);
    /* the connection is usable afterwards */
    s->buf.len = 0;
    kv_row(s, 3, "c", 3);
    CHECK_INT(prt_sqlite_commit(s, "p1", "z", 1), 0);
    CHECK_STR(q1(path, "SELECT group_concat(id, ',') FROM (SELECT id FROM ev ORDER BY id)"), "1,2,3");
    CHECK_STR(q1(path, "SELECT value || seq FROM pipec_checkpoint WHERE key = 'p1'"), "z3");

    /* a malformed buffer (a runtime bug) is refused, nothing written */
    prt_buf_putc(&s->buf, 77);
    fprintf(stderr, "(one 'malformed' error expected below)\n");
    CHECK_INT(prt_sqlite_commit(s, "p1", "w", 1), -1);
    s->buf.len = 0;
    kv_row(s, 4, "d", 4);
    s->buf.len -= 3;   /* a row cut short */
    fprintf(stderr, "(one 'malformed' error expected below)\n");
    CHECK_INT(prt_sqlite_commit(s, "p1", "w", 1), -1);
    CHECK_STR(q1(path, "SELECT value || seq FROM pipec_checkpoint WHERE key = 'p1'"), "z3");
    s->buf.len = 0;

    prt_sink_close(s);
    prt_buf_free(&got);

    /* not a sqlite sink */
    prt_sink_desc f = {.name = "file", .kind = PRT_SINK_FILE, .encoding = PRT_ENC_CSV,
                       .ncolumns = 3, .columns = kv_cols};
    char fpath[300];
    make_path(fpath, sizeof fpath, "f.csv");
    s = prt_sink_open(&f, fpath, -1, -1);
    CHECK(s != NULL && prt_sink_sqlite(s) == NULL);
    fprintf(stderr, "(two 'not a sqlite sink' errors expected below)\n");
    CHECK_INT(prt_sqlite_commit(s, "k", "x", 1), -1);
    CHECK_INT(prt_sqlite_read_checkpoint(s, "k", &got), -1);
    prt_sink_close(s);
}

/* ---- a lock held by another connection ------------------------------------------------------ */

static void test_locked(void) {
    char path[256];
    make_path(path, sizeof path, "locked.db");
    prt_sink_desc d = {.name = "ev", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                       .ncolumns = 3, .columns = kv_cols, .table = "ev", .mode = PRT_MODE_INSERT,
                       .column_types = kv_types};
    prt_sink *s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    /* a reader in WAL mode does not block the commit */
    sqlite3 *other = NULL;
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
    CHECK_INT(sqlite3_exec(other, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_prepare_v2(other, "SELECT count(*) FROM ev", -1, &st, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    kv_row(s, 1, "a", 1);
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    sqlite3_finalize(st);
    CHECK_INT(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    CHECK_INT(qi(path, "SELECT count(*) FROM ev"), 1);
    prt_sink_close(s);
}

/* ---- many rows in one commit ---------------------------------------------------------------- */

static void test_many(void) {
    char path[256];
    make_path(path, sizeof path, "many.db");
    prt_sink_desc d = {.name = "many", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS,
                       .ncolumns = 3, .columns = kv_cols, .table = "many", .mode = PRT_MODE_UPSERT,
                       .nkey = 1, .key = key0, .column_types = kv_types};
    prt_sink *s = prt_sink_open(&d, path, -1, -1);
    CHECK(s != NULL);
    if (!s) return;
    for (int64_t i = 0; i < 200000; i++) kv_row(s, i % 100000, "name", i);
    CHECK(s->buf.len > (1u << 20));   /* past the file sinks' flush size: still buffered */
    CHECK_INT(prt_sink_maybe_flush(s), 0);
    CHECK_INT(qi(path, "SELECT count(*) FROM many"), 0);
    CHECK_INT(prt_sqlite_commit(s, "k", "1", 1), 0);
    CHECK_INT(qi(path, "SELECT count(*) FROM many"), 100000);
    CHECK_INT(qi(path, "SELECT sum(n) FROM many"), 14999950000LL);   /* sum of 100000..199999 */
    prt_sink_close(s);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    test_types();
    test_upsert();
    test_existing();
    test_checkpoint();
    test_locked();
    test_many();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return check_report();
}
