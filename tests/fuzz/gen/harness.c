/* harness.c - the libFuzzer harness of the generated-decoder targets (gen_NAME, one per spec in
 * tests/fuzz/specs/NAME.yaml). The Makefile generates the spec's program with `pipec gen` and
 * compiles this file with -DGEN_C='"path/to/NAME.c"' -Dmain=pipeline_main, so the generated
 * `pipeline` descriptor and its hooks are visible here.
 *
 * Per input, as the driver (rt_main.c) would: the bytes are split into records at "\n" (a
 * trailing "\r" stripped, blank lines skipped, line numbers kept); for a CSV source with a header
 * the first record is the header (map_header); then batches of 1..64 records (the sizes taken
 * from the input's first byte) go through process_batch and tick, and the input ends with finish.
 * Window state is reset to the initial one (load_state) before every input, and at the end saved,
 * finished, loaded and finished again: both finishes must emit the same bytes.
 * What it bypasses: the reader (BOM removal, max_record, chunking), checkpoints, commits and
 * writing the sink buffers out: each sink (the dead letter too) is a prt_sink whose buffer is
 * checked and emptied after every batch; the dead letter's is opened by the runtime on
 * /dev/null. map_header's warnings (once per input) go to /dev/null, not to the fuzzer's log.
 * Checks: in = out + dead + dropped for every batch; every sink buffer is valid UTF-8; a
 * JSON-lines buffer holds exactly one line per row and every line is one valid JSON value (no
 * NaN or Infinity: the validator is strict RFC 8259). */
#include "rt_internal.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include GEN_C

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a strict JSON validator -------------------------------------------------------------- */

static void ws(const char **p, const char *e) {
    while (*p < e && (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')) (*p)++;
}

static bool lit(const char **p, const char *e, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(e - *p) < n || memcmp(*p, w, n) != 0) return false;
    *p += n;
    return true;
}

static bool digits(const char **p, const char *e) {
    const char *s = *p;
    while (*p < e && **p >= '0' && **p <= '9') (*p)++;
    return *p > s;
}

static bool jstring(const char **p, const char *e) {
    if (*p >= e || **p != '"') return false;
    for ((*p)++; *p < e; (*p)++) {
        unsigned char c = (unsigned char)**p;
        if (c == '"') {
            (*p)++;
            return true;
        }
        if (c < 0x20) return false;
        if (c == '\\') {
            if (++*p >= e) return false;
            if (**p == 'u') {
                for (int i = 0; i < 4; i++) {
                    if (++*p >= e) return false;
                    char h = **p;
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return false;
                }
            } else if (!strchr("\"\\/bfnrt", **p) || **p == 0) {
                return false;
            }
        }
    }
    return false;
}

static bool jvalue(const char **p, const char *e, int depth) {
    if (depth > 100) return false;
    ws(p, e);
    if (*p >= e) return false;
    char c = **p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        (*p)++;
        ws(p, e);
        if (*p < e && **p == close) {
            (*p)++;
            return true;
        }
        for (;;) {
            if (c == '{') {
                ws(p, e);
                if (!jstring(p, e)) return false;
                ws(p, e);
                if (*p >= e || **p != ':') return false;
                (*p)++;
            }
            if (!jvalue(p, e, depth + 1)) return false;
            ws(p, e);
            if (*p >= e) return false;
            if (**p == close) {
                (*p)++;
                return true;
            }
            if (**p != ',') return false;
            (*p)++;
        }
    }
    if (c == '"') return jstring(p, e);
    if (lit(p, e, "true") || lit(p, e, "false") || lit(p, e, "null")) return true;
    if (c == '-') (*p)++;
    if (*p < e && **p == '0') (*p)++;
    else if (!digits(p, e)) return false;
    if (*p < e && **p == '.') {
        (*p)++;
        if (!digits(p, e)) return false;
    }
    if (*p < e && (**p == 'e' || **p == 'E')) {
        (*p)++;
        if (*p < e && (**p == '+' || **p == '-')) (*p)++;
        if (!digits(p, e)) return false;
    }
    return true;
}

static bool json_line_valid(const char *s, size_t n) {
    const char *p = s, *e = s + n;
    if (!jvalue(&p, e, 0)) return false;
    ws(&p, e);
    return p == e;
}

/* ---- the run ------------------------------------------------------------------------------ */

static prt_run run;
static prt_run_impl run_impl;
static prt_sink *dead_sink;
static uint64_t dead_rows_seen;
static int stderr_fd, devnull_fd;
static uint64_t *rows_before;   /* each sink's rows at the last check */

static void setup(void) {
    run.p = &pipeline;
    run.sinks = calloc((size_t)pipeline.nsinks + 1, sizeof *run.sinks);
    for (int i = 0; i < pipeline.nsinks; i++) {
        run.sinks[i] = calloc(1, sizeof **run.sinks);
        run.sinks[i]->desc = &pipeline.sinks[i];
    }
    run_impl.dead = prt_deadq_open(pipeline.name, pipeline.dead_letter, "/dev/null", 0, NULL, NULL);
    assert(run_impl.dead);
    dead_sink = prt_deadq_sink(run_impl.dead);
    run_impl.position_name = "fuzz.input";
    run.impl = &run_impl;
    rows_before = calloc((size_t)pipeline.nsinks + 1, sizeof *rows_before);
    /* a fixed clock, so a crash replays */
    run.batch_now_us = 1714557600000000LL;
    stderr_fd = dup(2);
    devnull_fd = open("/dev/null", O_WRONLY);
    assert(stderr_fd >= 0 && devnull_fd >= 0);
}

/* Checks and empties one sink's buffer; rows: the rows it received since the last check. */
static void check_sink(prt_sink *s, uint64_t rows) {
    if (s->buf.len == 0) {
        assert(rows == 0 || s->desc->encoding != PRT_ENC_JSONL);
        return;
    }
    static int print = -1;   /* FUZZ_GEN_PRINT=1: show what the sinks received (for seeds) */
    if (print < 0) print = getenv("FUZZ_GEN_PRINT") != NULL;
    if (print) fprintf(stderr, "== %s (%llu rows)\n%.*s\n", s->desc->name, (unsigned long long)rows, (int)s->buf.len, s->buf.data);
    assert(prt_utf8_valid(s->buf.data, s->buf.len));
    if (s->desc->encoding == PRT_ENC_JSONL) {
        uint64_t lines = 0;
        const char *p = s->buf.data, *e = p + s->buf.len;
        while (p < e) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            assert(nl);   /* every row ends with a newline */
            if (!json_line_valid(p, (size_t)(nl - p))) {
                fprintf(stderr, "sink %s: not valid JSON: %.*s\n", s->desc->name, (int)(nl - p), p);
                abort();
            }
            lines++;
            p = nl + 1;
        }
        assert(lines == rows);
    }
    s->buf.len = 0;
}

static void mark(void) {
    for (int i = 0; i < pipeline.nsinks; i++) rows_before[i] = run.sinks[i]->rows;
    dead_rows_seen = dead_sink->rows;
}

static void check_all(void) {
    for (int i = 0; i < pipeline.nsinks; i++) check_sink(run.sinks[i], run.sinks[i]->rows - rows_before[i]);
    check_sink(dead_sink, dead_sink->rows - dead_rows_seen);
    prt_arena_reset(&run.scratch);
    mark();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!run.p) setup();
    if (size == 0) return 0;
    /* every input starts from the initial window state (watermarks included), so an input
     * replays alone as it ran */
    static prt_buf initial;
    static bool saved;
    if (pipeline.save_state && !saved) {
        pipeline.save_state(&run, &initial);
        saved = true;
    }
    if (pipeline.load_state) assert(pipeline.load_state(&run, initial.data ? initial.data : "", initial.len));
    unsigned batch_max = 1 + data[0] % 64;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;

    /* records, as the reader frames them */
    prt_rec *recs = malloc(sizeof *recs * (n + 1));
    int nrec = 0;
    uint64_t line = 0;
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(text + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - text) : n, len = end - at;
        line++;
        if (len && text[at + len - 1] == '\r') len--;
        if (len) recs[nrec++] = (prt_rec){text + at, (uint32_t)len, line};
        at = end + 1;
    }
    mark();
    int first = 0;
    if (pipeline.map_header && nrec > 0) {
        prt_field cols[256];
        const char *err = NULL;
        int nc = prt_csv_split(recs[0].p, recs[0].n, pipeline.source.delimiter, pipeline.source.quote,
                               cols, 256, &run.scratch, &err);
        first = 1;
        if (nc < 0 || nc > 256) {   /* the driver sends the file to the dead letter */
            prt_arena_reset(&run.scratch);
            free(recs);
            return 0;
        }
        /* a header without some columns warns once per file: not to the fuzzer's log */
        fflush(stderr);
        dup2(devnull_fd, 2);
        pipeline.map_header(&run, cols, nc);
        dup2(stderr_fd, 2);
        prt_arena_reset(&run.scratch);
    }
    for (int i = first; i < nrec;) {
        int k = nrec - i < (int)batch_max ? nrec - i : (int)batch_max;
        prt_batch b = {recs + i, k};
        prt_stats before = run.stats;
        run.stats.in += (uint64_t)k;
        pipeline.process_batch(&run, &b);
        assert(run.stats.in - before.in ==
               (run.stats.out - before.out) + (run.stats.dead - before.dead) + (run.stats.dropped - before.dropped));
        prt_arena_reset(&run.scratch);
        if (pipeline.tick) pipeline.tick(&run);
        check_all();
        i += k;
    }
    if (pipeline.save_state && pipeline.finish) {
        /* the window state round trip: what finish emits from the state is what it emits from
         * the state saved and loaded again */
        prt_buf st = {0}, first_rows = {0}, again = {0};
        pipeline.save_state(&run, &st);
        pipeline.finish(&run);
        for (int i = 0; i < pipeline.nsinks; i++) prt_buf_put(&first_rows, run.sinks[i]->buf.data, run.sinks[i]->buf.len);
        check_all();
        assert(pipeline.load_state(&run, st.data, st.len));
        pipeline.finish(&run);
        for (int i = 0; i < pipeline.nsinks; i++) prt_buf_put(&again, run.sinks[i]->buf.data, run.sinks[i]->buf.len);
        check_all();
        assert(again.len == first_rows.len && (again.len == 0 || memcmp(again.data, first_rows.data, again.len) == 0));
        prt_buf_free(&st);
        prt_buf_free(&first_rows);
        prt_buf_free(&again);
    } else if (pipeline.finish) {
        pipeline.finish(&run);
        check_all();
    }
    free(recs);
    return 0;
}
