/* pq_write_main.c - writes a Parquet file with the runtime's writer (runtime/rt_parquet.h) from
 * tab-separated rows on stdin; the driver of tests/suite_parquet.py.
 *
 *   pq_write_main [-c none|snappy|zstd] [-l LEVEL] [-g GROUP_ROWS] [-G GROUP_BYTES]
 *                 [-b BATCH_ROWS] [-k KEY=VALUE]... OUT NAME:TYPE[?]...
 *
 * TYPE is bool, int32, int64, double, string, timestamp (integer microseconds since the epoch)
 * or date (integer days since the epoch); a trailing ? makes the column nullable. Each input line
 * is one row, one field per column: \N is NULL; in strings \t, \n, \r and \\ stand for a tab,
 * newline, carriage return and backslash; booleans are true/false; doubles are read by strtod
 * (nan, inf, -inf, hex). Rows go to the writer BATCH_ROWS at a time (default 1000) as typed row
 * buffers; a row group ends after every GROUP_ROWS rows, or after a batch that brings
 * pq_buffered_bytes to GROUP_BYTES (default: one row group). Prints `rows N` (pq_rows) at the
 * end. Exit 0, or 1 with the writer's error (or a bad input field) on stderr. */
#include "rt_parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "pq_write_main: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static pq_column parse_column(char *spec) {
    static const char *const names[] = {"bool", "int32", "int64", "double", "string", "timestamp", "date"};
    char *colon = strrchr(spec, ':');
    if (!colon) die("bad column %s (NAME:TYPE[?])", spec);
    *colon++ = 0;
    size_t n = strlen(colon);
    pq_column col = {spec, PQ_BOOLEAN, n > 0 && colon[n - 1] == '?'};
    if (col.nullable) colon[n - 1] = 0;
    for (int t = 0; t < 7; t++)
        if (strcmp(colon, names[t]) == 0) {
            col.type = (pq_type)t;
            return col;
        }
    die("unknown type %s", colon);
    return col;
}

static int64_t parse_int(const char *s) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) die("bad integer '%s'", s);
    return v;
}

/* Unescapes a string field in place; returns its length. */
static uint32_t unescape(char *s) {
    char *out = s;
    for (const char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *out++ = *p;
            continue;
        }
        p++;
        *out++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
    }
    return (uint32_t)(out - s);
}

static void put_field(prt_buf *rows, const pq_column *col, char *f) {
    if (strcmp(f, "\\N") == 0) {
        prt_row_null(rows);
        return;
    }
    switch (col->type) {
    case PQ_BOOLEAN:
        if (strcmp(f, "true") && strcmp(f, "false")) die("bad boolean '%s'", f);
        prt_row_bool(rows, f[0] == 't');
        break;
    case PQ_INT32:
    case PQ_INT64: prt_row_i64(rows, parse_int(f)); break;
    case PQ_DOUBLE: {
        char *end;
        double d = strtod(f, &end);
        if (end == f || *end) die("bad double '%s'", f);
        prt_row_f64(rows, d);
        break;
    }
    case PQ_STRING: prt_row_str(rows, f, unescape(f)); break;
    case PQ_TIMESTAMP_US: prt_row_ts(rows, parse_int(f)); break;
    case PQ_DATE: prt_row_date(rows, (int32_t)parse_int(f)); break;
    }
}

int main(int argc, char **argv) {
    pq_codec codec = PQ_UNCOMPRESSED;
    int level = 0, opt;
    long group_rows = 0, batch_rows = 1000, group_bytes = 0;
    const char *kv[64];
    int nkv = 0;
    while ((opt = getopt(argc, argv, "c:l:g:G:b:k:")) != -1) {
        switch (opt) {
        case 'c':
            if (strcmp(optarg, "snappy") == 0) codec = PQ_SNAPPY;
            else if (strcmp(optarg, "zstd") == 0) codec = PQ_ZSTD;
            else if (strcmp(optarg, "none") != 0) die("unknown codec %s", optarg);
            break;
        case 'l': level = atoi(optarg); break;
        case 'g': group_rows = atol(optarg); break;
        case 'G': group_bytes = atol(optarg); break;
        case 'b': batch_rows = atol(optarg); break;
        case 'k': {
            char *eq = strchr(optarg, '=');
            if (!eq || nkv == 32) die("bad -k %s (KEY=VALUE, 32 at most)", optarg);
            *eq = 0;
            kv[2 * nkv] = optarg;
            kv[2 * nkv + 1] = eq + 1;
            nkv++;
            break;
        }
        default: return 2;
        }
    }
    if (optind >= argc) die("usage: %s", "pq_write_main [options] OUT NAME:TYPE[?]...");
    const char *out = argv[optind++];
    int ncols = argc - optind;
    pq_column *cols = calloc((size_t)ncols + 1, sizeof *cols);
    for (int c = 0; c < ncols; c++) cols[c] = parse_column(argv[optind + c]);
    pq_writer *w = pq_writer_new(cols, ncols, codec, level, kv, nkv);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("cannot open %s", out);

    prt_buf rows = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long in_batch = 0, in_group = 0;
    bool more = true;
    while (more) {
        more = (n = getline(&line, &cap, stdin)) >= 0;
        if (more) {
            if (n > 0 && line[n - 1] == '\n') line[--n] = 0;
            char *field = line;
            for (int c = 0; c < ncols; c++) {
                char *tab = strchr(field, '\t');
                if (!tab && c + 1 < ncols) die("too few fields in '%s'", line);
                if (tab) *tab = 0;
                put_field(&rows, &cols[c], field);
                field = tab ? tab + 1 : field + strlen(field);
            }
            in_batch++;
            in_group++;
        }
        bool group_full = group_rows > 0 && in_group == group_rows;
        if (in_batch == batch_rows || group_full || (!more && in_batch > 0)) {
            if (pq_append_rows(w, rows.data, rows.len) < 0) die("%s", pq_writer_error(w));
            rows.len = 0;
            in_batch = 0;
            if (group_bytes > 0 && pq_buffered_bytes(w) >= (size_t)group_bytes) group_full = true;
        }
        if (group_full) {
            if (pq_end_row_group(w, fd) < 0) die("%s", pq_writer_error(w));
            in_group = 0;
        }
    }
    if (pq_finish(w, fd) < 0) die("%s", pq_writer_error(w));
    if (close(fd) < 0) die("close: %s", strerror(errno));
    printf("rows %lld\n", (long long)pq_rows(w));
    pq_writer_free(w);
    prt_buf_free(&rows);
    free(line);
    free(cols);
    return 0;
}
