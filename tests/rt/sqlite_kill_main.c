/* sqlite_kill_main.c - a test-only program for tests/suite_sqlite.py: a sqlite sink fed the way
 * the driver will feed it, killed and restarted. It opens a PRT_SINK_SQLITE sink (table `ev`:
 * id int64, name string, amount float64, at timestamp, day date; insert mode without a key, so a
 * row written twice would show), reads its position from the checkpoint stored in the database
 * (key "kill_test", the next id as decimal text; none = 0), then emits rows id = position ..
 * TOTAL-1 and commits every BATCH rows with the new position as the checkpoint, in the same
 * transaction as the rows. Prints "resume N" at start and exits 0 when all TOTAL rows are
 * committed; a failure exits 1.
 *
 * Environment: DB (the database path), TOTAL, BATCH, and KILL to make the process SIGKILL
 * itself at a chosen point inside a commit (hooks registered on every new SQLite connection):
 *   KILL=row:N     inside the transaction, after the N-th row inserted by this process;
 *   KILL=commit:N  at the N-th COMMIT of this process, after every row and the checkpoint were
 *                  written to the transaction but before it is committed. */
#include "rt_internal.h"
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static long kill_rows = -1, kill_commits = -1;

static int on_commit(void *arg) {
    (void)arg;
    if (kill_commits > 0 && --kill_commits == 0) raise(SIGKILL);
    return 0;
}

static void on_update(void *arg, int op, const char *db, const char *table, sqlite3_int64 rowid) {
    (void)arg, (void)op, (void)db, (void)rowid;
    if (strcmp(table, "ev") == 0 && kill_rows > 0 && --kill_rows == 0) raise(SIGKILL);
}

static int hooks(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
    (void)err, (void)api;
    sqlite3_commit_hook(db, on_commit, NULL);
    sqlite3_update_hook(db, on_update, NULL);
    return SQLITE_OK;
}

static const char *const cols[] = {"id", "name", "amount", "at", "day"};
static const prt_col_type types[] = {PRT_T_INT64, PRT_T_STRING, PRT_T_FLOAT64, PRT_T_TIMESTAMP,
                                     PRT_T_DATE};

int main(void) {
    const char *db = getenv("DB"), *kill = getenv("KILL");
    long total = atol(getenv("TOTAL") ? getenv("TOTAL") : "1000");
    long batch = atol(getenv("BATCH") ? getenv("BATCH") : "100");
    if (!db || total < 0 || batch <= 0) return 2;
    if (kill && strncmp(kill, "row:", 4) == 0) kill_rows = atol(kill + 4);
    if (kill && strncmp(kill, "commit:", 7) == 0) kill_commits = atol(kill + 7);
    sqlite3_auto_extension((void (*)(void))hooks);
    prt_log_setup("sqlite_kill", PRT_LOG_TEXT);
    prt_sink_desc d = {.name = "ev", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS, .path = db,
                       .ncolumns = 5, .columns = cols, .table = "ev", .mode = PRT_MODE_INSERT,
                       .column_types = types};
    prt_sink *s = prt_sink_open(&d, db, -1, -1);
    if (!s) return 1;
    prt_buf ck = {0};
    int r = prt_sqlite_read_checkpoint(s, "kill_test", &ck);
    if (r < 0) return 1;
    long pos = 0;
    if (r == 1) {
        prt_buf_putc(&ck, 0);
        pos = atol(ck.data);
    }
    printf("resume %ld\n", pos);
    fflush(stdout);
    int rc = 0;
    char name[64], pb[32];
    for (long id = pos; id < total && rc == 0;) {
        int n = snprintf(name, sizeof name, "name \"%ld\" \xe2\x82\xac", id);
        prt_row_i64(&s->buf, id);
        prt_row_str(&s->buf, name, (uint32_t)n);
        prt_row_f64(&s->buf, (double)id / 4);
        prt_row_ts(&s->buf, 1714557600000000LL + id * 1000);
        prt_row_date(&s->buf, (int32_t)(19844 + id % 1000));
        prt_sink_row_done(s);
        if (prt_sink_maybe_flush(s) != 0) rc = 1;   /* must write nothing */
        id++;
        if (id % batch == 0 || id == total) {
            n = snprintf(pb, sizeof pb, "%ld", id);
            if (prt_sqlite_commit(s, "kill_test", pb, (size_t)n) != 0) rc = 1;
        }
    }
    prt_buf_free(&ck);
    prt_sink_close(s);
    prt_log_teardown();
    return rc;
}
