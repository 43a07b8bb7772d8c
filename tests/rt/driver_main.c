/* driver_main.c - a test-only pipeline program written the way pipec's generated code is: a
 * prt_pipeline descriptor plus map_header/process_batch hooks, handed to prt_main. Schema: id int64,
 * name string, amount float64 (CSV with a header, columns found by name). Rules: name not empty.
 * Filter: amount >= 0. Sink 0 "events": JSON lines to ${OUT}. The source kind and a few knobs
 * come from the environment so tests/suite_runtime.py can drive every runtime path:
 *   SRC_KIND=file|folder, IN, ARCHIVE, DELETE=1, POLL_US, MAXREC, OUT, DEAD (file; DEAD_CSV=1 for
 *   CSV), CKPT, CKPT_EVERY_US, FP (fingerprint), SHOW=table|csv|jsonl (a second sink on stdout),
 *   SLOW_US (sleep per batch, to let tests kill it mid-run). */
#include "pipec_rt.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { COL_ID, COL_NAME, COL_AMOUNT, NCOLS };
static const char *const col_names[NCOLS] = {"id", "name", "amount"};
static int col_at[NCOLS] = {0, 1, 2};   /* field index of each column, from the header */
static int64_t slow_us;

static void map_header(prt_run *run, const prt_field *cols, int ncols) {
    (void)run;
    for (int c = 0; c < NCOLS; c++) {
        col_at[c] = -1;
        for (int i = 0; i < ncols; i++)
            if (cols[i].n == strlen(col_names[c]) && memcmp(cols[i].p, col_names[c], cols[i].n) == 0)
                col_at[c] = i;
    }
}

typedef struct row {
    int64_t id;
    prt_str name;
    double amount;
} row;

static void process_batch(prt_run *run, const prt_batch *b) {
    prt_field f[16];
    prt_sink *ev = run->sinks[0];
    prt_sink *show = run->p->nsinks > 1 ? run->sinks[1] : NULL;
    for (int i = 0; i < b->n; i++) {
        const prt_rec *rec = &b->recs[i];
        const char *err = NULL;
        int n = prt_csv_split(rec->p, rec->n, ',', '"', f, 16, &run->scratch, &err);
        if (n < 0) {
            prt_dead(run, rec, "parse", "%s", err);
            continue;
        }
        row r;
        static const prt_field none = {"", 0, false};
        const prt_field *col[NCOLS];
        for (int c = 0; c < NCOLS; c++)
            col[c] = col_at[c] >= 0 && col_at[c] < n && col_at[c] < 16 ? &f[col_at[c]] : &none;
        const prt_field *fid = col[COL_ID], *fname = col[COL_NAME], *famt = col[COL_AMOUNT];
        if (!prt_parse_i64(fid->p, fid->n, &r.id)) {
            prt_dead_parse(run, rec, "id", "int64", fid->p, fid->n);
            continue;
        }
        r.name = (prt_str){fname->p, fname->n};
        if (!prt_parse_f64(famt->p, famt->n, &r.amount)) {
            prt_dead_parse(run, rec, "amount", "float64", famt->p, famt->n);
            continue;
        }
        if (r.name.n == 0) {
            prt_dead(run, rec, "name_not_empty", "rule 'name_not_empty' failed");
            continue;
        }
        if (!(r.amount >= 0)) {
            run->stats.dropped++;
            continue;
        }
        run->stats.out++;
        prt_buf *o = &ev->buf;
        prt_buf_lit(o, "{\"id\":");
        prt_buf_put_i64(o, r.id);
        prt_buf_lit(o, ",\"name\":");
        prt_buf_put_json_str(o, r.name.p, r.name.n);
        prt_buf_lit(o, ",\"amount\":");
        prt_buf_put_f64(o, r.amount);
        prt_buf_lit(o, "}\n");
        prt_sink_row_done(ev);
        if (show) {
            prt_buf *s = &show->buf;
            switch (show->desc->encoding) {
            case PRT_ENC_TABLE:
                prt_buf_put_i64(s, r.id);
                prt_buf_putc(s, 0);
                prt_buf_put_cell_str(s, r.name.p, r.name.n);
                prt_buf_put_f64(s, r.amount);
                prt_buf_putc(s, 0);
                break;
            case PRT_ENC_CSV:
                prt_buf_put_i64(s, r.id);
                prt_buf_putc(s, ',');
                prt_buf_put_csv_str(s, r.name.p, r.name.n, ',');
                prt_buf_putc(s, ',');
                prt_buf_put_f64(s, r.amount);
                prt_buf_putc(s, '\n');
                break;
            default:
                prt_buf_lit(s, "{\"id\":");
                prt_buf_put_i64(s, r.id);
                prt_buf_lit(s, "}\n");
                break;
            }
            prt_sink_row_done(show);
        }
    }
    if (slow_us) usleep((useconds_t)slow_us);
}

static int64_t env_i64(const char *name, int64_t dflt) {
    const char *s = getenv(name);
    return s && *s ? strtoll(s, NULL, 0) : dflt;
}

int main(int argc, char **argv) {
    static prt_sink_desc sinks[2] = {
        {.name = "events", .kind = PRT_SINK_FILE, .encoding = PRT_ENC_JSONL, .path = "${OUT}",
         .ncolumns = NCOLS, .columns = col_names},
        {.name = "shown", .kind = PRT_SINK_STDOUT, .encoding = PRT_ENC_TABLE, .ncolumns = NCOLS,
         .columns = col_names},
    };
    static prt_sink_desc dead = {.name = "dead_letter", .kind = PRT_SINK_FILE,
                                 .encoding = PRT_ENC_JSONL, .path = "${DEAD}"};
    const char *show = getenv("SHOW");
    if (show) sinks[1].encoding = strcmp(show, "csv") == 0 ? PRT_ENC_CSV
                                  : strcmp(show, "jsonl") == 0 ? PRT_ENC_JSONL : PRT_ENC_TABLE;
    if (getenv("DEAD_CSV")) dead.encoding = PRT_ENC_CSV;
    const char *kind = getenv("SRC_KIND");
    slow_us = env_i64("SLOW_US", 0);
    const prt_pipeline p = {
        .abi = (int)env_i64("ABI", PRT_ABI_VERSION),
        .name = "rtdriver",
        .spec_file = "tests/rt/driver_main.c",
        .help = "rtdriver: the runtime's test pipeline (id, name, amount).\n",
        .fingerprint = (uint64_t)env_i64("FP", 0x1234abcd),
        .source = {
            .kind = kind && strcmp(kind, "folder") == 0 ? PRT_SRC_FOLDER : PRT_SRC_FILE,
            .path = "${IN}", .glob = "*.csv", .archive = "${ARCHIVE:-}",
            .delete_done = getenv("DELETE") != NULL, .poll_us = env_i64("POLL_US", 50000),
            .format = PRT_FMT_CSV, .header = true, .delimiter = ',', .quote = '"',
            .max_record = (size_t)env_i64("MAXREC", 0),
        },
        .sinks = sinks,
        .nsinks = show ? 2 : 1,
        .dead_letter = getenv("DEAD") ? &dead : NULL,
        .checkpoint_path = "${CKPT:-}",
        .checkpoint_every_us = env_i64("CKPT_EVERY_US", 0),
        .map_header = map_header,
        .process_batch = process_batch,
    };
    return prt_main(&p, argc, argv);
}
