/* sqlite_pipe_main.c - a test-only pipeline program (written like generated code, run by
 * prt_main) with one sqlite sink, for tests/suite_sqlite.py: CSV without a header, columns id
 * (int64), name (string), amount (float64, empty = NULL), at (timestamp); a record that does not
 * parse goes to the dead letter (stderr). Sink "ev": table `ev` in the database ${DB}, upsert on
 * id (MODE=insert: plain inserts), committed by the driver's generic commit. Environment: IN, DB,
 * MODE. */
#include "pipec_rt.h"
#include <stdlib.h>

static void process_batch(prt_run *run, const prt_batch *b) {
    prt_field f[8];
    prt_sink *ev = run->sinks[0];
    for (int i = 0; i < b->n; i++) {
        const prt_rec *rec = &b->recs[i];
        const char *err = NULL;
        int n = prt_csv_split(rec->p, rec->n, ',', '"', f, 8, &run->scratch, &err);
        if (n < 0) {
            prt_dead(run, rec, "parse", "%s", err);
            continue;
        }
        if (n != 4) {
            prt_dead(run, rec, "schema", "%d fields, want 4", n);
            continue;
        }
        int64_t id, at;
        double amount = 0;
        bool amount_null = f[2].n == 0;
        if (!prt_parse_i64(f[0].p, f[0].n, &id)) {
            prt_dead_parse(run, rec, "id", "int64", f[0].p, f[0].n);
            continue;
        }
        if (!amount_null && !prt_parse_f64(f[2].p, f[2].n, &amount)) {
            prt_dead_parse(run, rec, "amount", "float64", f[2].p, f[2].n);
            continue;
        }
        if (!prt_parse_timestamp(f[3].p, f[3].n, &at)) {
            prt_dead_parse(run, rec, "at", "timestamp", f[3].p, f[3].n);
            continue;
        }
        run->stats.out++;
        prt_row_i64(&ev->buf, id);
        prt_row_str(&ev->buf, f[1].p, f[1].n);
        if (amount_null) prt_row_null(&ev->buf);
        else prt_row_f64(&ev->buf, amount);
        prt_row_ts(&ev->buf, at);
        prt_sink_row_done(ev);
    }
}

int main(int argc, char **argv) {
    static const char *const cols[] = {"id", "name", "amount", "at"};
    static const prt_col_type types[] = {PRT_T_INT64, PRT_T_STRING, PRT_T_FLOAT64, PRT_T_TIMESTAMP};
    static const int key[] = {0};
    const char *mode = getenv("MODE");
    bool insert = mode && mode[0] == 'i';
    const prt_sink_desc sinks[1] = {
        {.name = "ev", .kind = PRT_SINK_SQLITE, .encoding = PRT_ENC_ROWS, .path = "${DB}",
         .ncolumns = 4, .columns = cols, .table = "ev",
         .mode = insert ? PRT_MODE_INSERT : PRT_MODE_UPSERT, .nkey = insert ? 0 : 1, .key = key,
         .column_types = types},
    };
    const prt_pipeline p = {
        .abi = PRT_ABI_VERSION,
        .name = "sqlitepipe",
        .spec_file = "tests/rt/sqlite_pipe_main.c",
        .help = "sqlitepipe: the sqlite sink's test pipeline (id, name, amount, at).\n",
        .fingerprint = 0x5e1173,
        .source = {.kind = PRT_SRC_FILE, .path = "${IN}", .format = PRT_FMT_CSV, .header = false,
                   .delimiter = ',', .quote = '"'},
        .sinks = sinks,
        .nsinks = 1,
        .process_batch = process_batch,
    };
    return prt_main(&p, argc, argv);
}
