/* spec.h - the checked pipeline spec: what pass 2 (check) makes of the YAML tree, with every name
 * resolved, every type known and every expression type-checked. Later passes (plan, emit) trust
 * it completely: nothing here needs validating again. Locations are kept for `explain`. */
#ifndef PIPEC_SPEC_H
#define PIPEC_SPEC_H
#include <stdbool.h>
#include <stdint.h>
#include "expr.h"
#include "types.h"
#include "yaml.h"

typedef enum { SRC_FILE, SRC_FOLDER, SRC_POSTGRES, SRC_POSTGRES_CDC, SRC_KAFKA, SRC_HTTP } SourceKind;
typedef enum { FMT_CSV, FMT_JSON, FMT_DEBEZIUM } FormatKind;   /* debezium: JSON change events */
typedef enum { SINK_FILE, SINK_STDOUT, SINK_SQLITE, SINK_POSTGRES, SINK_KAFKA, SINK_PARQUET } SinkKind;
/* A parquet sink's page compression (the runtime's PRT_COMPRESS_* in this order). */
typedef enum { COMPRESS_ZSTD, COMPRESS_SNAPPY, COMPRESS_NONE } Compression;
typedef enum { ENC_CSV, ENC_JSONL, ENC_TABLE, ENC_ROWS } Encoding;
typedef enum { TS_RFC3339, TS_UNIT, TS_FORMAT } TsParse;

typedef struct SourceSpec {
    SourceKind kind;
    SrcLoc loc;
    const char *path;          /* as written: may hold ${VAR} */
    const char *glob;          /* folder */
    const char *archive;       /* folder; NULL when delete */
    bool delete_done;
    int64_t poll_us;
    FormatKind format;
    bool header;               /* csv */
    char delimiter, quote;
    const char *null_text;     /* csv: this exact unquoted text is NULL ("" by default) */
    int64_t max_record;
    const char *dsn;           /* postgres: the connection string as written */
    const char *table;         /* postgres: the table to poll, or NULL */
    const char *query;         /* postgres: the query to poll, or NULL */
    const char *cursor;        /* postgres: the column whose last value marks progress */
    const char *publication;   /* postgres_cdc */
    const char *slot;          /* postgres_cdc */
    const char **tables;       /* postgres_cdc: the publication's tables when it is created */
    int ntables;
    bool snapshot;             /* postgres_cdc: first the tables' rows as they are (op r) */
    const char *brokers;       /* kafka: bootstrap servers as written */
    const char *group;         /* kafka: the consumer group as written */
    const char **topics;       /* kafka: `topic`, or the `topics` list */
    int ntopics;
    bool start_latest;         /* kafka: start: latest */
    const char **props;        /* kafka: librdkafka settings, key and value as written, in pairs */
    int nprops;
    const char *url;           /* http: as written (may hold ${VAR}); poll_us is `every` */
    const char **headers;      /* http: name and value as written, in pairs */
    int nheaders;
    int64_t timeout_us;        /* http: a request's time limit */
    const char *every_text;    /* http: `every` when it holds ${VAR} (poll_us is then its default, or 0) */
} SourceSpec;

typedef struct SchemaField {
    const char *name;
    SrcLoc loc;
    Type type;
    bool nullable;
    const char *column;        /* csv header name to read (default: the field name) */
    int column_index;          /* csv: fixed 0-based column, or -1 */
    const char *path;          /* json: dotted key path (default: the field name) */
    bool envelope;             /* debezium: the path is in the event (op, ts_ms), not in its row */
    TsParse ts_parse;          /* timestamp/date fields */
    int unit;                  /* PRT_UNIT_* for TS_UNIT */
    const char *format;        /* strptime pattern for TS_FORMAT */
    const char **one_of;       /* string fields: allowed values */
    int none_of;               /* count of one_of */
    const char *default_text;  /* value used when the input has none (parsed like input), or NULL */
} SchemaField;

typedef struct RuleSpec {
    const char *name;
    SrcLoc loc;
    const YNode *node;
    Expr *expr;
} RuleSpec;

typedef struct DeriveSpec {
    const char *name;
    SrcLoc loc;
    const YNode *node;
    Expr *expr;
    Type type;
} DeriveSpec;

typedef struct ColumnSpec {
    const char *name;
    SrcLoc loc;
    const char *text;          /* the expression as written */
    Expr *expr;
    Type type;
} ColumnSpec;

typedef enum { WIN_TUMBLING, WIN_HOPPING, WIN_SESSION } WindowKind;

typedef enum {
    AGG_COUNT_ALL, AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX, AGG_FIRST, AGG_LAST,
    AGG_COUNT_DISTINCT
} AggKind;

typedef struct AggSpec {
    const char *name;          /* the output field */
    SrcLoc loc;
    AggKind kind;
    const char *text;          /* as written, for explain */
    Expr *arg;                 /* NULL for count() */
    Type arg_type;
    Type type;                 /* of the output field */
} AggSpec;

typedef struct WindowSpec {
    const char *name;
    SrcLoc loc;
    WindowKind kind;
    int64_t size_us;           /* tumbling, hopping */
    int64_t every_us;          /* hopping: the pane width */
    int64_t gap_us;            /* session */
    int time_field;            /* scope index of the event-time field; -1 = processing time */
    int64_t lateness_us;
    bool late_drop;            /* late: drop (else dead letter, reason late) */
    const char *timezone;      /* NULL = UTC */
    int *group_by;             /* scope indices */
    int ngroup;
    Expr *where;
    const char *where_text;
    AggSpec *aggs;
    int naggs;
    /* The window's output rows as sinks see them: window_start, window_end, the group keys and
     * the aggregates, in that order. */
    ExprField *out_fields;
    int nout;
} WindowSpec;

/* How a merge sink combines a window's row with the stored one, per column. */
typedef enum { MERGE_KEEP, MERGE_ADD, MERGE_MIN, MERGE_MAX, MERGE_AVG } MergeOp;

typedef struct SinkSpec {
    const char *name;
    SrcLoc loc;
    SinkKind kind;
    Encoding encoding;
    const char *path;          /* file, sqlite */
    const char *table;         /* sqlite, postgres */
    bool upsert;               /* sqlite, postgres: mode upsert (else insert) */
    const YNode *key_node;     /* sqlite, postgres: the `key` list as written */
    int *key;                  /* sqlite, postgres: key columns, as indices into the sink's columns */
    int nkey;
    const char *dsn;           /* postgres: the connection string as written (may hold ${VAR}) */
    bool create;               /* postgres: create the table when missing */
    int64_t batch_rows;        /* postgres: commit after this many rows (0 = default) */
    int64_t batch_every_us;    /* postgres: commit at least this often (0 = checkpoint.every) */
    bool merge;                /* postgres: mode merge (upsert is set too) */
    MergeOp *merge_ops;        /* merge: per column of the sink */
    int *merge_agg;            /* merge: per column, the window aggregate of an avg column */
    int from_window;           /* index into Spec.windows, or -1 = rows */
    Expr *where;               /* or NULL */
    const char *where_text;
    ColumnSpec *columns;       /* explicit columns, or all fields when `columns:` is absent */
    int ncolumns;
    const char *brokers;       /* kafka: bootstrap servers as written */
    const char *topic;         /* kafka: as written */
    const char **props;        /* kafka: librdkafka settings, key and value as written, in pairs */
    int nprops;
    Expr *msg_key;             /* kafka: the message key, or NULL */
    Type msg_key_type;
    const YNode *partition_node;   /* parquet: the `partition_by` list as written */
    ColumnSpec *partitions;    /* parquet: the partition folders' names and values */
    int npartitions;
    Compression compression;   /* parquet */
    int64_t roll_rows;         /* parquet: close a file after this many rows (0 = at commits) */
    int64_t roll_every_us;     /* parquet: commit at least this often (0 = checkpoint.every) */
} SinkSpec;

typedef struct DeadLetterSpec {
    bool present;
    SrcLoc loc;
    SinkKind kind;
    Encoding encoding;
    const char *path;
    const char *dsn;           /* postgres */
    const char *table;         /* postgres */
    bool create;               /* postgres */
    bool joins_sink;           /* postgres: a sink has the same DSN, so it shares its transactions */
    const char *brokers, *topic;   /* kafka, as written */
    const char **props;        /* kafka: librdkafka settings in pairs */
    int nprops;
} DeadLetterSpec;

typedef enum { GUARANTEE_EXACTLY_ONCE, GUARANTEE_AT_LEAST_ONCE } Guarantee;

/* One inline test (`tests:`, run by `pipec test`): its input as the source's text (a YAML list
 * of maps already encoded into the source's format) and, per sink or the dead letter, the
 * expected partial rows as written (a list of maps of scalars; check_tests validated them). */
typedef struct TestExpect {
    const char *sink;          /* a sink's name, or "dead_letter" */
    int sink_index;            /* index into Spec.sinks, or -1 for the dead letter */
    const YNode *rows;         /* the YN_SEQ of expected rows */
} TestExpect;

typedef struct TestSpec {
    const char *name;
    SrcLoc loc;
    const char *input;         /* the input text, ending in a newline unless empty */
    TestExpect *expects;
    int nexpects;
} TestSpec;

typedef struct Spec {
    const char *file;          /* the spec's path as given */
    const char *name;
    const char *description;
    SourceSpec source;
    SchemaField *fields;
    int nfields;
    RuleSpec *rules;
    int nrules;
    DeriveSpec *derives;
    int nderives;
    Expr *filter;
    const char *filter_text;
    WindowSpec *windows;
    int nwindows;
    SinkSpec *sinks;
    int nsinks;
    DeadLetterSpec dead_letter;
    const char *checkpoint_path;   /* NULL = none */
    bool db_checkpoint;            /* SQLite and PostgreSQL sinks keep the checkpoint in their transactions */
    bool kafka_shared;             /* instances may share the kafka source's group (check_sharing) */
    const char *unshared_why;      /* a kafka source that one instance reads at a time: why */
    const char *checkpoint_postgres;   /* checkpoint: {postgres: DSN}: the PostgreSQL sinks hold it */
    bool uses_parquet;             /* a parquet sink: the binary links libzstd and libsnappy */
    bool uses_postgres;            /* a postgres source, sink or dead letter: the binary links libpq */
    bool uses_kafka;               /* a kafka source: the binary links librdkafka */
    bool uses_http;                /* an http source: the binary links libcurl */
    const char *metrics_listen;    /* the metrics endpoint's host:port as written, or NULL (none) */
    const char *metrics_tls_cert, *metrics_tls_key;   /* PEM files, or NULL (plain HTTP) */
    const char *metrics_user, *metrics_password, *metrics_password_file;   /* basic auth, or NULL */
    int64_t memory_limit;          /* limits.memory in bytes, 0 = none */
    int64_t checkpoint_every_us;
    Guarantee guarantee;
    bool guarantee_explicit;
    /* The expression scope of records after derive (schema fields then derived ones), used by
     * the emitter to reach fields from generated C. */
    ExprField *scope_fields;
    int nscope_fields;
    TestSpec *tests;               /* inline tests: checked always, used by `pipec test` only */
    int ntests;
} Spec;

/* Pass 2: checks the YAML tree of one spec file, reporting every error it finds (up to diag's
 * limit). Returns NULL when there were errors. */
Spec *check_spec(Arena *a, const YNode *root, const char *file);

/* Durations as written in specs: "5s", "500ms", "1m", "2h", "1d", "10 seconds", "1 minute". */
bool parse_duration(const char *text, int64_t *out_us);

#endif
