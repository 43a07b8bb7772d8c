/* sqlite_drv_main.c - a test-only pipeline program (written like generated code, run by prt_main)
 * for the exactly-once tests of tests/suite_sqlite.py: CSV without a header, "id,name" (id int64).
 * Sinks, all insert mode (a row written twice would show):
 *   "ev"   sqlite, table ev (id, name) in ${DB}: every record;
 *   "ev2"  sqlite, table ev2 (id) in ${DB2}: records with id % 3 == 0 (only when DB2 is set);
 *   "out"  JSON lines {"id":N} to ${OUT}: records with id % 2 == 0 (only when OUT is set).
 * A record whose id does not parse goes to the dead letter ${DEAD} (when set; else stderr).
 * Environment: IN, SRC_KIND=file|folder, ARCHIVE, CKPT (checkpoint dir, empty/unset: none),
 * CKPT_EVERY_US, SLOW_US (sleep per batch), and KILL=commit:N with KILL_DB=SUBSTR: SIGKILL
 * itself at the N-th COMMIT of the database whose file name contains SUBSTR (after the rows and
 * the checkpoint were written into the transaction, before it commits). */
#include "pipec_rt.h"
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int64_t slow_us;
static long kill_commits = -1;
static const char *kill_db;

static int on_commit(void *arg) {
    sqlite3 *db = arg;
    const char *fn = sqlite3_db_filename(db, "main");
    if (kill_commits > 0 && fn && kill_db && strstr(fn, kill_db) && --kill_commits == 0)
        raise(SIGKILL);
    return 0;
}

static int hooks(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
    (void)err, (void)api;
    sqlite3_commit_hook(db, on_commit, db);
    return SQLITE_OK;
}

static void process_batch(prt_run *run, const prt_batch *b) {
    prt_field f[4];
    int n2 = run->p->nsinks;
    prt_sink *ev = run->sinks[0];
    prt_sink *ev2 = NULL, *out = NULL;
    for (int i = 1; i < n2; i++) {
        if (strcmp(run->p->sinks[i].name, "ev2") == 0) ev2 = run->sinks[i];
        if (strcmp(run->p->sinks[i].name, "out") == 0) out = run->sinks[i];
    }
    for (int i = 0; i < b->n; i++) {
        const prt_rec *rec = &b->recs[i];
        const char *err = NULL;
        int n = prt_csv_split(rec->p, rec->n, ',', '"', f, 4, &run->scratch, &err);
        int64_t id;
        if (n != 2 || !prt_parse_i64(f[0].p, f[0].n, &id)) {
            prt_dead(run, rec, "parse", "bad record");
            continue;
        }
        run->stats.out++;
        prt_row_i64(&ev->buf, id);
        prt_row_str(&ev->buf, f[1].p, f[1].n);
        prt_sink_row_done(ev);
        if (ev2 && id % 3 == 0) {
            prt_row_i64(&ev2->buf, id);
            prt_sink_row_done(ev2);
        }
        if (out && id % 2 == 0) {
            prt_buf_lit(&out->buf, "{\"id\":");
            prt_buf_put_i64(&out->buf, id);
            prt_buf_lit(&out->buf, "}\n");
            prt_sink_row_done(out);
        }
    }
    if (slow_us) usleep((useconds_t)slow_us);
}

static int64_t env_i64(const char *name, int64_t dflt) {
    const char *s = getenv(name);
    return s && *s ? strtoll(s, NULL, 0) : dflt;
}

int main(int argc, char **argv) {
    static const char *const cols[] = {"id", "name"};
    static const prt_col_type types[] = {PRT_T_INT64, PRT_T_STRING};
    static const char *const cols2[] = {"id"};
    static const char *const cols_out[] = {"id"};
    static const prt_col_type types2[] = {PRT_T_INT64};
    prt_sink_desc sinks[3] = {
        {.name = "ev", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS, .path = "${DB}",
         .ncolumns = 2, .columns = cols, .table = "ev", .mode = PRT_MODE_INSERT,
         .column_types = types},
    };
    int ns = 1;
    if (getenv("DB2"))
        sinks[ns++] = (prt_sink_desc){.name = "ev2", .kind = PRT_SINK_SQLITE,
                                      .encoding = PRT_ENC_ROWS, .path = "${DB2}", .ncolumns = 1,
                                      .columns = cols2, .table = "ev2", .mode = PRT_MODE_INSERT,
                                      .column_types = types2};
    if (getenv("OUT"))
        sinks[ns++] = (prt_sink_desc){.name = "out", .kind = PRT_SINK_FILE,
                                      .encoding = PRT_ENC_JSONL, .path = "${OUT}", .ncolumns = 1,
                                      .columns = cols_out};
    static prt_sink_desc dead = {.name = "dead_letter", .kind = PRT_SINK_FILE,
                                 .encoding = PRT_ENC_JSONL, .path = "${DEAD}"};
    const char *kill = getenv("KILL");
    if (kill && strncmp(kill, "commit:", 7) == 0) kill_commits = atol(kill + 7);
    kill_db = getenv("KILL_DB");
    if (kill_commits > 0) sqlite3_auto_extension((void (*)(void))hooks);
    slow_us = env_i64("SLOW_US", 0);
    const char *kind = getenv("SRC_KIND");
    const prt_pipeline p = {
        .abi = PRT_ABI_VERSION,
        .name = "sqlitedrv",
        .spec_file = "tests/rt/sqlite_drv_main.c",
        .help = "sqlitedrv: exactly-once test pipeline (id, name) into sqlite.\n",
        .fingerprint = 0x5e11d7 + (uint64_t)ns,
        .source = {.kind = kind && strcmp(kind, "folder") == 0 ? PRT_SRC_FOLDER : PRT_SRC_FILE,
                   .path = "${IN}", .glob = "*.csv", .archive = "${ARCHIVE:-}",
                   .poll_us = 20000, .format = PRT_FMT_CSV, .header = false, .delimiter = ',',
                   .quote = '"'},
        .sinks = sinks,
        .nsinks = ns,
        .dead_letter = getenv("DEAD") ? &dead : NULL,
        .checkpoint_path = "${CKPT:-}",
        .checkpoint_every_us = env_i64("CKPT_EVERY_US", 0),
        .process_batch = process_batch,
    };
    return prt_main(&p, argc, argv);
}
