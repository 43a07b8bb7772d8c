/* rt_dead.c - the dead letter: rejected records with pipeline, position ("path:line" of the
 * record's first line), raw (the exact bytes, no terminator), reason, detail and at (RFC 3339 UTC).
 * JSON lines add "raw_base64" (the exact bytes) when raw is not valid UTF-8, since a JSON string
 * cannot carry them. The dead letter is a sink like the others (so it commits and truncates with
 * them); without one configured it is JSON lines on stderr. Counts per reason feed the summary. */
#include "rt_internal.h"
#include "rt_ddl.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct prt_deadq {
    const char *pipeline;
    prt_sink_desc desc;        /* the configured one, with the six dead-letter columns */
    prt_sink *sink;
    char **reasons;
    uint64_t *counts;
    int nreasons, cap;
    prt_buf ts;                /* the "at" text, reused */
};

prt_deadq *prt_deadq_open(const char *pipeline, const prt_sink_desc *d, const char *path,
                          int64_t keep_len, const char *kafka_topic, char *const *kafka_props) {
    prt_deadq *q = calloc(1, sizeof *q);
    if (!q) abort();
    q->pipeline = pipeline;
    if (d) q->desc = *d;
    else
        q->desc = (prt_sink_desc){.name = "dead_letter", .kind = PRT_SINK_STDOUT,
                                  .encoding = PRT_ENC_JSONL};
    q->desc.ncolumns = PRT_DEAD_NCOLUMNS;
    q->desc.columns = prt_dead_columns;
    if (q->desc.kind == PRT_SINK_POSTGRES) prt_ddl_dead_letter_desc(&q->desc);   /* a table, appended to */
    q->sink = q->desc.kind == PRT_SINK_KAFKA ? prt_sink_open_kafka(&q->desc, pipeline, path, kafka_topic, kafka_props)
                                             : prt_sink_open(&q->desc, path, keep_len, d ? -1 : 2);
    if (!q->sink) {
        free(q);
        return NULL;
    }
    return q;
}

prt_sink *prt_deadq_sink(prt_deadq *q) { return q->sink; }

static void count_reason(prt_deadq *q, const char *reason) {
    for (int i = 0; i < q->nreasons; i++) {
        if (strcmp(q->reasons[i], reason) == 0) {
            q->counts[i]++;
            return;
        }
    }
    if (q->nreasons == q->cap) {   /* once per distinct reason, not per record */
        q->cap = q->cap ? q->cap * 2 : 8;
        q->reasons = realloc(q->reasons, sizeof *q->reasons * (size_t)q->cap);
        q->counts = realloc(q->counts, sizeof *q->counts * (size_t)q->cap);
        if (!q->reasons || !q->counts) abort();
    }
    q->reasons[q->nreasons] = strdup(reason);
    if (!q->reasons[q->nreasons]) abort();
    q->counts[q->nreasons++] = 1;
}

static void put_base64(prt_buf *b, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    prt_buf_reserve(b, (n + 2) / 3 * 4);
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[v >> 12 & 63];
        *o++ = tab[v >> 6 & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[v >> 12 & 63];
        *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
}

/* Text a database column can hold: invalid UTF-8 bytes and NUL become U+FFFD. */
static void put_text_cell(prt_buf *b, const char *p, size_t n) {
    if (prt_utf8_valid(p, n) && !memchr(p, 0, n)) {
        prt_row_str(b, p, (uint32_t)n);
        return;
    }
    prt_buf t = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c != 0 && i + k <= n && prt_utf8_valid(p + i, k)) {
            prt_buf_put(&t, p + i, k);
            i += k;
        } else {
            prt_buf_lit(&t, "\xEF\xBF\xBD");
            i++;
        }
    }
    prt_row_str(b, t.data, (uint32_t)t.len);
    prt_buf_free(&t);
}

void prt_deadq_put(prt_deadq *q, const char *position, uint64_t line, const char *raw, size_t n,
                   const char *reason, const char *detail, size_t detail_n) {
    count_reason(q, reason);
    prt_buf *b = &q->sink->buf;
    char pos[4200];
    /* line 0: the position is complete as it is (a postgres source's cursor value) */
    int pn = line ? snprintf(pos, sizeof pos, "%s:%" PRIu64, position, line) : snprintf(pos, sizeof pos, "%s", position);
    if (pn >= (int)sizeof pos) pn = (int)sizeof pos - 1;
    q->ts.len = 0;
    prt_buf_put_timestamp(&q->ts, prt_now_us());
    const char *fields[6] = {q->pipeline, pos, raw, reason, detail, q->ts.data};
    size_t lens[6] = {strlen(q->pipeline), (size_t)pn, n, strlen(reason), detail_n, q->ts.len};
    switch (q->desc.encoding) {
    case PRT_ENC_ROWS: {
        /* a database column holds text: not valid UTF-8, or a NUL byte, and raw is stored as
         * base64, which the detail says */
        bool text_ok = prt_utf8_valid(raw, n) && !memchr(raw, 0, n);
        for (int i = 0; i < 5; i++) {
            if (i == 2 && !text_ok) {
                prt_buf tmp = {0};
                put_base64(&tmp, (const unsigned char *)raw, n);
                prt_row_str(b, tmp.data ? tmp.data : "", (uint32_t)tmp.len);
                prt_buf_free(&tmp);
            } else if (i == 4 && !text_ok) {
                prt_buf tmp = {0};
                prt_buf_put(&tmp, detail, detail_n);
                prt_buf_lit(&tmp, " (raw is base64: the record is not UTF-8 text)");
                put_text_cell(b, tmp.data, tmp.len);
                prt_buf_free(&tmp);
            } else {
                put_text_cell(b, fields[i], lens[i]);
            }
        }
        prt_row_ts(b, prt_now_us());
        break;
    }
    case PRT_ENC_CSV:
        for (int i = 0; i < 6; i++) {
            if (i) prt_buf_putc(b, ',');
            prt_buf_put_csv_str(b, fields[i], lens[i], ',');
        }
        prt_buf_putc(b, '\n');
        break;
    case PRT_ENC_TABLE:
        for (int i = 0; i < 6; i++) prt_buf_put_cell_str(b, fields[i], lens[i]);
        break;
    default:
        for (int i = 0; i < 6; i++) {
            prt_buf_putc(b, i ? ',' : '{');
            prt_buf_putc(b, '"');
            prt_buf_put(b, prt_dead_columns[i], strlen(prt_dead_columns[i]));
            prt_buf_lit(b, "\":");
            prt_buf_put_json_str(b, fields[i], lens[i]);
            if (i == 2 && !prt_utf8_valid(raw, n)) {
                prt_buf_lit(b, ",\"raw_base64\":\"");
                put_base64(b, (const unsigned char *)raw, n);
                prt_buf_putc(b, '"');
            }
        }
        prt_buf_lit(b, "}\n");
        break;
    }
    prt_sink_row_done(q->sink);
    if (q->desc.kind == PRT_SINK_KAFKA) prt_sink_kafka_row_at(q->sink, pos);   /* one message, its position */
}

void prt_deadq_summary(const prt_deadq *q, prt_buf *b) {
    char t[40];
    for (int i = 0; i < q->nreasons; i++) {
        prt_buf_putc(b, ' ');
        prt_buf_put(b, q->reasons[i], strlen(q->reasons[i]));
        int n = snprintf(t, sizeof t, "=%" PRIu64, q->counts[i]);
        prt_buf_put(b, t, (size_t)n);
    }
}

int prt_deadq_reasons(const prt_deadq *q, char *const **reasons, const uint64_t **counts) {
    *reasons = q->reasons;
    *counts = q->counts;
    return q->nreasons;
}

void prt_deadq_close(prt_deadq *q) {
    if (!q) return;
    prt_sink_close(q->sink);
    for (int i = 0; i < q->nreasons; i++) free(q->reasons[i]);
    free(q->reasons);
    free(q->counts);
    prt_buf_free(&q->ts);
    free(q);
}

/* ---- the public entry points generated code calls ---- */

void prt_dead(prt_run *run, const prt_rec *rec, const char *reason, const char *detail_fmt, ...) {
    prt_run_impl *ri = run->impl;
    char small[512], *detail = small;
    va_list ap;
    va_start(ap, detail_fmt);
    int n = vsnprintf(small, sizeof small, detail_fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof small) {
        detail = prt_scratch(run, (size_t)n + 1);
        va_start(ap, detail_fmt);
        vsnprintf(detail, (size_t)n + 1, detail_fmt, ap);
        va_end(ap);
    }
    prt_deadq_put(ri->dead, prt_rec_position(ri, rec), rec->line, rec->p, rec->n, reason, detail, (size_t)n);
    run->stats.dead++;
}

enum { PARSE_TEXT_MAX = 64 };

void prt_dead_parse(prt_run *run, const prt_rec *rec, const char *field, const char *type,
                    const char *text, size_t n) {
    const char *more = "";
    if (n > PARSE_TEXT_MAX) {
        n = PARSE_TEXT_MAX;
        /* do not cut a UTF-8 sequence in two */
        size_t k = n;
        while (k > n - 3 && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
        n = k;
        more = "...";
    }
    prt_dead(run, rec, "parse", "field '%s': '%.*s%s' is not a valid %s", field, (int)n, text,
             more, type);
}
