/* pipec_rt.h - the one public header of the pipec runtime (libpipec-rt.a).
 *
 * A generated pipeline program includes only this header. It describes its pipeline in a constant
 * `prt_pipeline` (connectors, sinks, hooks) and hands it to prt_main(), which owns the run: command
 * line, environment substitution, logging, signals, the source loop, sink commits, checkpoints and
 * the exit summary. The runtime calls back into generated code only through the hooks in that
 * descriptor. The runtime knows nothing of any one pipeline.
 *
 * Invariants:
 * - No allocation per record: records are slices of the source's read buffer; text the program
 *   makes while processing a batch (unescaped strings, expression results) comes from the run's
 *   scratch arena, reset after every batch.
 * - Every record the source yields ends in exactly one of: a sink (counted `out`), the dead letter
 *   (`dead`), or a filter drop (`dropped`); prt_main checks in = out + dead + dropped at exit.
 *
 * Module map (one .c per concern): rt_core.c (arena, buffers, run state), rt_text.c (parsing and
 * formatting of values; rt_f64fmt.c the digits of floats), rt_csv.c, rt_json.c (decoding
 * helpers), rt_reader.c (chunked reading and record framing), rt_source.c (file and folder
 * sources), rt_sink.c (file and stdout sinks), rt_dead.c (dead letter), rt_checkpoint.c,
 * rt_env.c, rt_log.c, rt_signal.c, rt_main.c (the driver), rt_expr.c (support for generated
 * expressions, declared in rt_expr.h). */
#ifndef PIPEC_RT_H
#define PIPEC_RT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bumped whenever the descriptor layout or a function generated code calls changes;
 * generated files refuse to compile against a runtime of another ABI. */
#define PRT_ABI_VERSION 8
#define PRT_VERSION "0.1.0"

/* ------------------------------------------------------------------------------------------ */
/* Strings, scratch memory, output buffers (rt_core.c)                                          */

/* A string slice: not NUL-terminated, not owned. */
typedef struct prt_str {
    const char *p;
    uint32_t n;
} prt_str;

/* The first 8 bytes of s as a big-endian number, zero-padded: where two of these differ, they
 * order the strings as prt_str_cmp does (window output order, prt_went_sort). */
static inline uint64_t prt_str_order_prefix(prt_str s) {
    unsigned char b[8] = {0};
    memcpy(b, s.p, s.n < 8 ? s.n : 8);
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
           (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 | (uint64_t)b[6] << 8 | b[7];
}

#define PRT_STR_LIT(s) ((prt_str){(s), (uint32_t)(sizeof(s) - 1)})

static inline bool prt_str_eq(prt_str a, prt_str b) {
    if (a.n != b.n) return false;
    if (a.n >= 8 && a.n <= 16) {   /* group keys mostly: two words each, the second overlapping */
        uint64_t x0, x1, y0, y1;
        memcpy(&x0, a.p, 8), memcpy(&x1, a.p + a.n - 8, 8), memcpy(&y0, b.p, 8), memcpy(&y1, b.p + b.n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return a.n == 0 || memcmp(a.p, b.p, a.n) == 0;
}

/* A bump allocator for per-batch scratch memory. */
typedef struct prt_arena {
    char *base;
    size_t used, cap;
    struct prt_arena_chunk *extra;   /* overflow chunks, freed on reset */
} prt_arena;

void *prt_arena_alloc(prt_arena *a, size_t n);   /* 8-byte aligned, not zeroed; aborts on OOM */
void prt_arena_reset(prt_arena *a);
void prt_arena_free(prt_arena *a);

/* A growable byte buffer; sinks expose one per sink that generated encoders append to. */
typedef struct prt_buf {
    char *data;
    size_t len, cap;
} prt_buf;

void prt_buf_grow(prt_buf *b, size_t need);   /* ensure cap - len >= need */
void prt_buf_free(prt_buf *b);

static inline void prt_buf_reserve(prt_buf *b, size_t need) {
    if (b->cap - b->len < need) prt_buf_grow(b, need);
}
static inline void prt_buf_put(prt_buf *b, const void *p, size_t n) {
    if (n == 0) return;   /* memcpy with a NULL buffer is undefined even for 0 bytes */
    prt_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void prt_buf_putc(prt_buf *b, char c) {
    prt_buf_reserve(b, 1);
    b->data[b->len++] = c;
}
/* s must be a string literal ("" s does not compile otherwise: sizeof a pointer would be wrong) */
#define prt_buf_lit(b, s) prt_buf_put((b), "" s, sizeof(s) - 1)

/* ------------------------------------------------------------------------------------------ */
/* Parsing values from text (rt_text.c). All take a slice (not NUL-terminated) and return false
 * when the whole slice is not exactly one value of the type (no leading/trailing junk; surrounding
 * ASCII spaces are NOT accepted: the decoders pass fields as they are). */

bool prt_parse_bool(const char *p, size_t n, bool *out);      /* true/false, t/f, 1/0, yes/no (any case) */
bool prt_parse_i32(const char *p, size_t n, int32_t *out);    /* decimal, optional sign, range-checked */
bool prt_parse_i64(const char *p, size_t n, int64_t *out);
bool prt_parse_f64(const char *p, size_t n, double *out);     /* decimal/exponent; rejects nan, inf and overflow to inf */
/* RFC 3339 / ISO 8601: YYYY-MM-DD[(T| )hh:mm[:ss[.ffffff]]][Z|(+|-)hh[:]mm]; no offset = UTC;
 * calendar-checked (Feb 30 is rejected); fractions beyond microseconds are truncated. */
bool prt_parse_timestamp(const char *p, size_t n, int64_t *out_us);
/* Epoch numbers: unit 0 = s, 1 = ms, 2 = us; integers, or decimals with a fraction for s and ms. */
enum { PRT_UNIT_S = 0, PRT_UNIT_MS = 1, PRT_UNIT_US = 2 };
bool prt_parse_timestamp_unit(const char *p, size_t n, int unit, int64_t *out_us);
/* A strptime-like pattern: %Y %m %d %H %M %S %f (fraction) %z (offset) %b (Jan..) %y %j %p %I %%,
 * and literal characters. The whole slice must match. */
bool prt_parse_timestamp_format(const char *p, size_t n, const char *fmt, int64_t *out_us);
bool prt_parse_date(const char *p, size_t n, int32_t *out_days);   /* YYYY-MM-DD */
bool prt_parse_date_format(const char *p, size_t n, const char *fmt, int32_t *out_days);

/* Valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). NUL bytes are valid UTF-8. */
bool prt_utf8_valid(const char *p, size_t n);

/* Calendar arithmetic (proleptic Gregorian, UTC). */
int32_t prt_days_from_civil(int64_t y, unsigned m, unsigned d);
void prt_civil_from_days(int32_t days, int64_t *y, unsigned *m, unsigned *d);
int64_t prt_now_us(void);   /* wall clock, microseconds since the epoch */

/* ------------------------------------------------------------------------------------------ */
/* Formatting values (rt_text.c). Output forms are those of docs/spec.md "Output encoding". */

void prt_buf_put_i64(prt_buf *b, int64_t v);
/* The shortest decimal that reads back to the same double ("1", "0.1", "1e+300", "-0");
 * callers handle non-finite values (JSON writes null). */
void prt_buf_put_f64(prt_buf *b, double v);
/* RFC 3339 UTC: 2024-05-01T10:00:00Z, with .ffffff (trailing zeros trimmed) only when non-zero. */
void prt_buf_put_timestamp(prt_buf *b, int64_t us);
void prt_buf_put_date(prt_buf *b, int32_t days);   /* 2024-05-01 */
/* A JSON string with its quotes. Escapes ", \ and control characters; invalid UTF-8 bytes become
 * U+FFFD so the output is always valid UTF-8 and valid JSON. */
void prt_buf_put_json_str(prt_buf *b, const char *p, size_t n);
/* A CSV field: quoted (with doubled quotes) when it holds the delimiter, a quote, CR or LF, or
 * leading/trailing spaces, or is empty (so "" = empty string, nothing = NULL). */
void prt_buf_put_csv_str(prt_buf *b, const char *p, size_t n, char delim);
/* A table cell: the text with control characters shown as spaces, then a NUL terminator. */
void prt_buf_put_cell_str(prt_buf *b, const char *p, size_t n);

/* ------------------------------------------------------------------------------------------ */
/* CSV and JSON decoding helpers (rt_csv.c, rt_json.c), called by generated decoders.           */

typedef struct prt_field {
    const char *p;
    uint32_t n;
    bool quoted;     /* was quoted in the input: "" is an empty string, not NULL */
} prt_field;

/* Splits one framed record (no line terminator) into fields per RFC 4180 with the given delimiter
 * and quote. Unquoted fields point into the record; quoted fields with doubled quotes are
 * unescaped into `scratch`. Returns the number of fields in the record (which may be more than
 * `max`: only the first `max` are stored), or -1 for malformed quoting with *err set to a static
 * description ("unterminated quote", "text after closing quote"). */
int prt_csv_split(const char *rec, size_t n, char delim, char quote, prt_field *fields, int max,
                  prt_arena *scratch, const char **err);

typedef enum prt_json_kind {
    PRT_JSON_MISSING = 0, PRT_JSON_NULL, PRT_JSON_FALSE, PRT_JSON_TRUE, PRT_JSON_NUMBER,
    PRT_JSON_STRING, PRT_JSON_OBJECT, PRT_JSON_ARRAY
} prt_json_kind;

typedef struct prt_json_val {
    prt_json_kind kind;
    prt_str text;   /* NUMBER: the literal; STRING: unescaped content (scratch or in place);
                       OBJECT/ARRAY: the raw JSON text */
} prt_json_val;

/* "a string", "a number", ... for decoder messages. */
static inline const char *prt_json_kind_name(prt_json_kind k) {
    static const char *const names[] = {"nothing", "null", "false", "true", "a number", "a string", "an object", "an array"};
    return names[k];
}

/* The wanted key paths of one schema, compiled once: paths[i] is a dotted path ("a.b.c"). */
typedef struct prt_json_plan prt_json_plan;
prt_json_plan *prt_json_plan_new(const char *const *paths, int npaths);
/* Parses one JSON object (a whole record) and fills out[i] for each path (MISSING when absent).
 * Validates the entire text (one object, nothing after it but whitespace, nesting <= 64,
 * strings valid UTF-8 after unescaping). Returns false with *err set (a static string or one in
 * scratch) for malformed JSON, a non-object, or a duplicate key at a wanted path. The plan keeps
 * the shape of the last record (its keys and the bytes between its values), so it is one
 * thread's: the next record of the same shape is read without parsing its keys again. */
bool prt_json_extract(prt_json_plan *plan, const char *rec, size_t n, prt_json_val *out,
                      prt_arena *scratch, const char **err);
/* Debezium change events: `jv` holds the 4 * nfields + 5 values of the plan the compiler built
 * (see json_paths_model in emit.c). Returns the index of the row's first field in jv (the after
 * or, for a delete, the before variant, under payload when wrapped); or -1 with *reason and *why
 * set (a record for the dead letter), or -1 with *reason NULL (a null payload: a tombstone). */
int prt_debezium_row(const prt_json_val *jv, int nfields, int op_field, prt_arena *scratch,
                     const char **reason, const char **why);

/* ------------------------------------------------------------------------------------------ */
/* Descriptors: what a generated program declares about its pipeline.                           */

typedef enum { PRT_SRC_FILE, PRT_SRC_FOLDER, PRT_SRC_POSTGRES, PRT_SRC_POSTGRES_CDC, PRT_SRC_KAFKA, PRT_SRC_HTTP } prt_source_kind;
typedef enum { PRT_FMT_CSV, PRT_FMT_JSON } prt_format_kind;
typedef enum { PRT_SINK_FILE, PRT_SINK_STDOUT, PRT_SINK_SQLITE, PRT_SINK_POSTGRES, PRT_SINK_KAFKA, PRT_SINK_PARQUET } prt_sink_kind;
/* PRT_ENC_ROWS: typed binary rows (prt_row_* below) for database sinks. */
typedef enum { PRT_ENC_CSV, PRT_ENC_JSONL, PRT_ENC_TABLE, PRT_ENC_ROWS } prt_encoding;
/* Column types of a sink, for the tables database sinks create. */
typedef enum { PRT_T_BOOL, PRT_T_INT32, PRT_T_INT64, PRT_T_FLOAT64, PRT_T_STRING, PRT_T_TIMESTAMP, PRT_T_DATE } prt_col_type;
typedef enum { PRT_MODE_INSERT, PRT_MODE_UPSERT } prt_write_mode;
/* A parquet sink's page compression. */
typedef enum { PRT_COMPRESS_ZSTD, PRT_COMPRESS_SNAPPY, PRT_COMPRESS_NONE } prt_compression;
/* How a merge sink (a window's rows, mode: merge) combines a row with the one already stored
 * under its key: keep the new value, add, keep the smaller or larger, or (an avg) divide the
 * added hidden columns NAME__sum and NAME__count. */
enum { PRT_MERGE_KEEP = 0, PRT_MERGE_ADD, PRT_MERGE_MIN, PRT_MERGE_MAX, PRT_MERGE_AVG };

typedef struct prt_source_desc {
    prt_source_kind kind;
    const char *path;          /* may hold ${VAR}: expanded at start-up; "-" = stdin (file) */
    const char *glob;          /* folder: file name pattern (fnmatch), default "*" */
    const char *archive;       /* folder: move finished files here (may hold ${VAR}), or NULL */
    bool delete_done;          /* folder: delete finished files */
    int64_t poll_us;           /* folder: how often to look for new files */
    prt_format_kind format;
    bool header;               /* csv: the first record of each file names the columns */
    char delimiter, quote;     /* csv */
    size_t max_record;         /* longer records go to the dead letter; 0 = 1 MiB */
    /* postgres (ABI 3): rows of `table` or `query` in order of column `cursor`, polled every
     * poll_us, handed to process_batch as JSON objects (format json) */
    const char *dsn;           /* may hold ${VAR}; never logged */
    const char *table, *query, *cursor;
    /* postgres_cdc (ABI 3): logical replication of `publication` through `slot`; changes are
     * JSON objects with the columns plus _op and _lsn */
    const char *publication, *slot;
    const char *const *tables;   /* for creating the publication when it is missing */
    int ntables;
    bool snapshot;             /* a new slot: first every row as it is (_op r) */
    /* kafka (ABI 4): a consumer of `topics` in `group` (both may hold ${VAR}); each message's
     * value is one record in `format`; props are librdkafka settings as key, value, ... (values
     * may hold ${VAR}), nprops pairs */
    const char *brokers, *group;
    const char *const *topics;
    int ntopics;
    bool kafka_latest;         /* a partition without a committed offset starts at its end */
    const char *const *props;
    int nprops;
    /* http (ABI 7): GET `url` every poll_us, or every http_every (a duration holding ${VAR},
     * expanded at start-up) when it is not NULL; url and header values may hold ${VAR}; headers
     * are name, value, ... (nheaders pairs); a request fails after http_timeout_us (0 = 10 s);
     * max_record bounds an answer's body */
    const char *url;
    const char *const *headers;
    int nheaders;
    int64_t http_timeout_us;
    const char *http_every;
} prt_source_desc;

typedef struct prt_sink_desc {
    const char *name;          /* the sink's name in the spec; "dead_letter" for the dead letter */
    prt_sink_kind kind;
    prt_encoding encoding;
    const char *path;          /* file: may hold ${VAR} */
    int ncolumns;
    const char *const *columns;   /* column names: the CSV header, the table header */
    /* Database sinks (sqlite): the table, how rows are written, the key columns (indices into
     * columns; the table's primary key when created), and each column's type. */
    const char *table;
    prt_write_mode mode;
    int nkey;
    const int *key;
    const prt_col_type *column_types;
    /* PostgreSQL sinks and dead letters (ABI 3): the libpq connection string (may hold ${VAR};
     * never logged), whether to create the table when missing, and when to commit early: after
     * batch_rows buffered rows (0 = the runtime's default) or batch_every_us (0 = the checkpoint
     * interval). */
    const char *dsn;
    bool create;
    uint64_t batch_rows;
    int64_t batch_every_us;
    bool key_nullable;         /* a key column can be NULL: UNIQUE NULLS NOT DISTINCT, not PRIMARY KEY */
    const unsigned char *merge;   /* mode merge (with mode PRT_MODE_UPSERT): PRT_MERGE_* per column */
    /* kafka sinks (ABI 4): brokers and topic (may hold ${VAR}), librdkafka settings as key,
     * value, ... (nprops pairs); rows are encoded as JSON objects or CSV records, one a message */
    const char *brokers, *topic;
    const char *const *props;
    int nprops;
    /* parquet sinks (rt_pqsink.c): path is the folder; column_types as for database sinks and
     * per column whether it can be NULL; the last npartition columns are the partition values
     * (folders NAME=VALUE, not columns of the files); a file is closed after roll_rows rows
     * (0 = at commits only), and the pipeline commits (closing every file) at least every
     * roll_every_us (0 = the checkpoint interval). */
    const unsigned char *column_nullable;
    int npartition;
    prt_compression compression;
    uint64_t roll_rows;
    int64_t roll_every_us;
} prt_sink_desc;

/* Typed rows (PRT_ENC_ROWS): each value is a tag byte and its payload in host byte order; a row
 * is desc->ncolumns values. The sink decodes them at commit. */
enum { PRT_V_NULL = 0, PRT_V_BOOL, PRT_V_I64, PRT_V_F64, PRT_V_STR, PRT_V_TS, PRT_V_DATE };
static inline void prt_row_tagged(prt_buf *b, char tag, const void *p, size_t n) {
    prt_buf_reserve(b, 1 + n);
    b->data[b->len++] = tag;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void prt_row_null(prt_buf *b) { prt_buf_putc(b, PRT_V_NULL); }
static inline void prt_row_bool(prt_buf *b, bool v) { char c = v; prt_row_tagged(b, PRT_V_BOOL, &c, 1); }
static inline void prt_row_i64(prt_buf *b, int64_t v) { prt_row_tagged(b, PRT_V_I64, &v, 8); }
static inline void prt_row_f64(prt_buf *b, double v) { prt_row_tagged(b, PRT_V_F64, &v, 8); }
static inline void prt_row_ts(prt_buf *b, int64_t us) { prt_row_tagged(b, PRT_V_TS, &us, 8); }
static inline void prt_row_date(prt_buf *b, int32_t days) { prt_row_tagged(b, PRT_V_DATE, &days, 4); }
static inline void prt_row_str(prt_buf *b, const char *p, uint32_t n) {
    prt_row_tagged(b, PRT_V_STR, &n, 4);
    prt_buf_put(b, p, n);
}

typedef struct prt_run prt_run;
typedef struct prt_sink prt_sink;

/* One framed record of the source. */
typedef struct prt_rec {
    const char *p;             /* the raw bytes, without the line terminator */
    uint32_t n;
    uint64_t line;             /* 1-based line number of the record's first line in its file */
} prt_rec;

/* Records handed to process_batch: all from one input file, in input order. */
typedef struct prt_batch {
    const prt_rec *recs;
    int n;
} prt_batch;

/* What the metrics endpoint shows of a window (ABI 7). */
typedef struct prt_window_stats {
    uint64_t open;             /* entries of its state: (window, group) pairs, or groups (hopping, session) */
    int64_t watermark_us;      /* INT64_MIN: no record yet */
    uint64_t late;             /* records late for it (dead letter or dropped) */
} prt_window_stats;

typedef struct prt_pipeline {
    int abi;                   /* PRT_ABI_VERSION */
    const char *name;
    const char *spec_file;
    const char *help;          /* the --help text describing this pipeline */
    uint64_t fingerprint;      /* of the record and state layout: checkpoints of another are refused */
    prt_source_desc source;
    const prt_sink_desc *sinks;
    int nsinks;
    const prt_sink_desc *dead_letter;   /* NULL = dead letters to stderr as JSON lines */
    const char *checkpoint_path;        /* a directory (may hold ${VAR}); NULL = no checkpoint */
    int64_t checkpoint_every_us;        /* commit at least this often (default 5 s) */
    /* Hooks. map_header is called with the header record of each CSV file (when header: true)
     * before any of that file's records; process_batch decodes, checks and routes a batch. */
    void (*map_header)(prt_run *run, const prt_field *cols, int ncols);
    void (*process_batch)(prt_run *run, const prt_batch *batch);
    /* Window hooks (ABI 2); all may be NULL. See "Window state" below; the state file and the
     * checkpoint's `state` line are described in rt_checkpoint.c.
     * tick: called after every batch and at least every 100 ms while the source is idle (a folder
     * with nothing new, a pipe with nothing to read), so processing-time windows close without
     * new records. finish: the source ended (bounded input, or --once drained it): emit every
     * open window; called before the final commit, so its rows are committed with it; also on
     * SIGTERM/SIGINT when there is no checkpoint (nothing else would keep the windows). Rows go
     * to sink buffers as in process_batch; prt_dead must not be called from tick or finish.
     * save_state: append everything (the watermark included) to `out`, called at every commit
     * when there is a checkpoint; load_state: restore it at start (false = corrupt). */
    void (*tick)(prt_run *run);
    void (*finish)(prt_run *run);
    void (*save_state)(prt_run *run, prt_buf *out);
    bool (*load_state)(prt_run *run, const char *p, size_t n);
    /* ABI 5. kafka_shared: instances may share the kafka source's group; the offsets live per
     * partition in the PostgreSQL sink's table pipec_kafka_offsets, and at every commit flush
     * emits each open (tumbling) window's partial row to its merge sink and forgets it, keeping
     * the watermark; no window state is kept. flush may be NULL (no windows). */
    bool kafka_shared;
    void (*flush)(prt_run *run);
    /* ABI 6. The metrics endpoint: "host:port", or NULL (none); PEM files for HTTPS (or NULL);
     * basic auth: user and password (from ${VAR}, or a hash) or a file holding it. All may hold
     * ${VAR}. */
    const char *metrics_listen;
    const char *metrics_tls_cert, *metrics_tls_key;
    const char *metrics_user, *metrics_password, *metrics_password_file;
    /* ABI 7. Windows seen from outside (pipelines with windows and a metrics endpoint or a
     * memory limit, else 0 and NULL): window_stats fills one entry per window, in the order of
     * window_names; called by the driver between batches. memory_limit: limits.memory in bytes
     * (0 = none). */
    int nwindows;
    const char *const *window_names;
    void (*window_stats)(prt_window_stats *out);
    int64_t memory_limit;
} prt_pipeline;

/* Runs the pipeline: parses argv (--once, --log-format text|json, --help, --version), expands
 * ${VAR}s (an unset one without default: exit 2 naming it), opens everything, loops, and returns
 * the process exit code (0 done, 1 runtime failure, 2 bad configuration). */
int prt_main(const prt_pipeline *p, int argc, char **argv);
/* Called by pipelines that use PostgreSQL (ABI 3), before prt_main: links the PostgreSQL sink,
 * source and change stream (rt_postgres.c, rt_pgsource.c, rt_cdc.c) and so libpq into the
 * binary; other binaries stay without them. */
void prt_use_postgres(void);
/* The same for pipelines with a kafka source (ABI 4): links rt_kafka.c and librdkafka. */
void prt_use_kafka(void);
/* The same for pipelines with a metrics endpoint (ABI 6): links rt_metrics.c and libmicrohttpd. */
void prt_use_metrics(void);
/* The same for pipelines with a parquet sink: links rt_pqsink.c, the Parquet writer and libzstd,
 * libsnappy. */
void prt_use_parquet(void);
/* The same for pipelines with an http source (ABI 7): links rt_http.c and libcurl. */
void prt_use_http(void);

/* ------------------------------------------------------------------------------------------ */
/* The run, as generated code sees it (rt_main.c owns it).                                      */

typedef struct prt_stats {
    uint64_t in;          /* records read from the source (headers and blank lines excluded) */
    uint64_t out;         /* records that passed rules and filter (reached the sinks stage) */
    uint64_t dead;        /* records sent to the dead letter */
    uint64_t dropped;     /* records the filter dropped */
    uint64_t overflow;    /* integer overflows in expressions (each gave NULL) */
    uint64_t div_zero;    /* divisions by zero in expressions (each gave NULL) */
} prt_stats;

/* A sink as generated encoders see it: append one row's bytes to `buf`, then call
 * prt_sink_row_done. The runtime writes the buffer out as it fills and at commits. */
struct prt_sink {
    prt_buf buf;
    uint64_t rows;
    const prt_sink_desc *desc;
    void *impl;                /* private to rt_sink.c */
};

struct prt_run {
    const prt_pipeline *p;
    prt_stats stats;
    prt_arena scratch;         /* reset after every batch */
    prt_sink **sinks;          /* one per p->sinks entry, same order */
    int64_t batch_now_us;      /* now() for the records of this batch */
    void *impl;                /* private to rt_main.c */
};

static inline void *prt_scratch(prt_run *run, size_t n) { return prt_arena_alloc(&run->scratch, n); }
static inline void prt_sink_row_done(prt_sink *s) { s->rows++; }
/* For a PostgreSQL sink of records (ABI 3), after prt_sink_row_done: remembers which record the
 * row came from (its position and raw bytes), so a row the server rejects goes to the dead letter
 * as that record. */
void prt_sink_row_src(prt_run *run, prt_sink *s, const prt_rec *rec);
/* For a kafka sink (ABI 4): the key buffer of the next row (emptied), then, after
 * prt_sink_row_done, the row's end with whether it has a key and the record it came from (NULL
 * for a window's row): its position goes into the message's pipec.position header. */
prt_buf *prt_sink_kafka_key(prt_sink *s);
void prt_sink_kafka_row(prt_run *run, prt_sink *s, const prt_rec *rec, bool has_key);

/* Sends the record to the dead letter with its position (file:line), raw text, reason
 * ("parse", "schema", a rule's name) and a detail made from the printf-style format; counts it. */
void prt_dead(prt_run *run, const prt_rec *rec, const char *reason, const char *detail_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The common parse failure: detail "field 'NAME': 'TEXT' is not a valid TYPE" (TEXT shortened). */
void prt_dead_parse(prt_run *run, const prt_rec *rec, const char *field, const char *type,
                    const char *text, size_t n);

/* Logging to stderr, one line each, as text or JSON lines (--log-format). */
void prt_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void prt_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void prt_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------------------------ */
/* Window state (rt_window.c), ABI 2. The generated program keeps, per window, a table of entries
 * (one per window start and group keys); each entry is a generated struct whose first member is a
 * prt_went. The runtime never looks past the header: hashing the keys, probing, comparing keys and
 * updating accumulators are generated code; moving entries, growing, taking closed windows out and
 * serializing primitives are here.
 *
 * Probing is linear: the home slot of hash h is prt_wtab_home(t, h) == h & (cap - 1) (cap is a
 * power of two), then i = (i + 1) & (cap - 1) until a slot with the same hash and keys (found)
 * or an empty slot (insert there: write the whole entry, hash last or first, then count++).
 * Lookups stop at the first empty slot, so the runtime keeps every entry reachable from its home
 * without an empty slot in between whenever it moves entries (growth, take_closed).
 *
 * Ownership: an entry owns what it points to (kept strings, dsets). prt_wtab_take_* move entries
 * (bytes) to `out`: the copies own them from then on and the caller releases them after emitting;
 * prt_wtab_free frees only the slots, so release what entries own first. */

/* Every entry of a window table starts with this header; hash == 0 marks an empty slot
 * (generated code ORs 1 into every hash). end is exclusive: the window is [start, end). */
typedef struct prt_went {
    uint64_t hash;
    int64_t start, end;
} prt_went;

typedef struct prt_wtab {
    char *slots;               /* cap entries of esize bytes */
    size_t esize, cap, count;
} prt_wtab;

/* esize: sizeof the generated entry struct (>= sizeof(prt_went), a multiple of 8). Cap 1024,
 * all slots empty. */
void prt_wtab_init(prt_wtab *t, size_t esize);
void prt_wtab_free(prt_wtab *t);
static inline prt_went *prt_wtab_at(const prt_wtab *t, size_t i) {
    return (prt_went *)(t->slots + i * t->esize);
}
static inline size_t prt_wtab_home(const prt_wtab *t, uint64_t hash) {
    return (size_t)hash & (t->cap - 1);
}
/* Call before inserting: grows (x2, rehash by stored hash) when count + 1 > cap * 0.7. Slot
 * indexes found before a reserve are stale after it. */
void prt_wtab_reserve(prt_wtab *t);
/* The output order of a window's rows (generated: by start, then group keys), and an optional
 * order prefix of the keys: a function of an entry's keys alone such that prefix(x) < prefix(y)
 * implies cmp(x, y) < 0 whenever x and y have the same start (the first key's leading bytes). */
typedef int (*prt_went_cmp)(const void *, const void *);
typedef uint64_t (*prt_went_prefix)(const void *);
/* Sorts n contiguous entries of esize bytes by cmp (NULL: leaves them). With a prefix, cmp must
 * order by start first: rows are radix-sorted by start and prefix, and only ties call cmp (a
 * merge sort, as without a prefix). The sort orders (start, prefix, index) triples, then moves
 * the rows in place, a cycle at a time; not reentrant. */
void prt_went_sort(void *rows, size_t n, size_t esize, prt_went_cmp cmp, prt_went_prefix prefix);
/* Removes every entry with end <= watermark from the table (the rest are re-placed so probing
 * stays correct) and appends copies of them to `out` at out->len (keep out->len a multiple of 8,
 * normally 0; entries contiguous, esize bytes each), sorted by `cmp` (prt_went_sort without a
 * prefix; NULL = table order). Returns how many; *next_end (unless NULL) gets the smallest end
 * of the entries left, INT64_MAX for none (what prt_wtab_min_end would say). One walk over the
 * slots; leaves the table untouched when nothing is closed. */
size_t prt_wtab_take_closed(prt_wtab *t, int64_t watermark, prt_went_cmp cmp, prt_buf *out,
                            int64_t *next_end);
/* The same for every entry (end of a bounded source); the table is left empty. */
size_t prt_wtab_take_all(prt_wtab *t, prt_went_cmp cmp, prt_buf *out);
/* The smallest end of any entry; INT64_MAX when empty (O(cap)). */
int64_t prt_wtab_min_end(const prt_wtab *t);

/* A fast 64-bit hash of bytes with good distribution in every bit (64x64->128 multiply mixing);
 * chain keys by passing the previous hash as seed. Up to 16 bytes inline (two words read, which
 * overlap below 16), longer ones in rt_window.c. Only ever kept in memory: it may change. */
uint64_t prt__hash_bytes_long(const void *p, size_t n, uint64_t seed);
static inline uint64_t prt__mum(uint64_t a, uint64_t b) {   /* 64x64 -> 128 multiply, folded */
    __extension__ unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
#define PRT__HK0 0xa0761d6478bd642fULL
#define PRT__HK1 0xe7037ed1a0b428dbULL
#define PRT__HK2 0x8ebc6af09c88c6e3ULL
static inline uint64_t prt_hash_bytes(const void *pv, size_t n, uint64_t seed) {
    if (n > 16) return prt__hash_bytes_long(pv, n, seed);
    const unsigned char *p = pv;
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, p, 8), memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4), memcpy(&y, p + n - 4, 4);
        a = (uint64_t)x << 32 | y;
    } else if (n > 0) {
        a = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
    }
    uint64_t h = prt__mum(seed ^ PRT__HK0, (uint64_t)n ^ PRT__HK1);
    h = prt__mum(a ^ PRT__HK1 ^ h, b ^ PRT__HK2);
    return prt__mum(h ^ PRT__HK0, h ^ PRT__HK2);
}
/* One 64-bit value (an integer key, a window start, a double's bits) mixed with a seed
 * (splitmix64's finalizer): every output bit depends on every input bit. */
static inline uint64_t prt_hash_u64(uint64_t v, uint64_t seed) {
    uint64_t x = (v ^ (seed * 0x9e3779b97f4a7c15ULL)) + (seed >> 29) + 0x632be59bd9b4e019ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* String group keys and first/last/min/max string values outlive the batch: a heap copy (up to
 * 64 bytes from the runtime's slabs, so never free() one: release it, once). n == 0: no
 * allocation (p points at a static ""); release accepts every kept string. */
prt_str prt_str_keep(prt_str s);
void prt_str_release(prt_str s);

/* count_distinct: an exact set of byte strings (values encoded by the generated code, e.g. an
 * int64's 8 bytes or a string's bytes; NULLs are not added). NULL is the empty set. */
typedef struct prt_dset prt_dset;
void prt_dset_add(prt_dset **s, const void *p, size_t n);   /* creates on first add */
void prt_dset_merge(prt_dset **into, const prt_dset *from);  /* into |= from */
int64_t prt_dset_count(const prt_dset *s);                   /* 0 for NULL */
void prt_dset_free(prt_dset *s);                             /* NULL is fine */

/* count_distinct of a hopping window: for each item, how many of a group's queued panes hold it.
 * Adding a pane's set counts its items up, evicting the pane counts them down (each item of s
 * must have been added); count is the number of items held by at least one pane. NULL is empty. */
typedef struct prt_dcount prt_dcount;
void prt_dcount_add(prt_dcount **c, const prt_dset *s);   /* creates on first add */
void prt_dcount_sub(prt_dcount *c, const prt_dset *s);
int64_t prt_dcount_count(const prt_dcount *c);
void prt_dcount_free(prt_dcount *c);

/* State serialization for save_state/load_state: little-endian, length-prefixed. Readers set
 * `bad` on underrun (or a length beyond the data) and then return zeros/empty values; check
 * `bad` (and pos == n) once at the end. */
void prt_state_put_u64(prt_buf *b, uint64_t v);
void prt_state_put_f64(prt_buf *b, double v);                    /* the exact bits */
void prt_state_put_bytes(prt_buf *b, const void *p, size_t n);   /* u64 length + bytes */
void prt_state_put_dset(prt_buf *b, const prt_dset *s);          /* u64 count + each as bytes */
typedef struct prt_state_reader {
    const char *p;
    size_t n, pos;
    bool bad;
} prt_state_reader;
uint64_t prt_state_get_u64(prt_state_reader *r);
double prt_state_get_f64(prt_state_reader *r);
prt_str prt_state_get_str(prt_state_reader *r);    /* a kept (heap) copy, see prt_str_keep */
prt_dset *prt_state_get_dset(prt_state_reader *r); /* NULL for an empty set (or when bad) */

#include "rt_expr.h"
#include "rt_tz.h"

#endif
