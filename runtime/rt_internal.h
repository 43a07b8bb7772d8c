/* rt_internal.h - declarations shared by the runtime's I/O and driver modules (rt_reader.c,
 * rt_source.c, rt_sink.c, rt_dead.c, rt_checkpoint.c, rt_env.c, rt_log.c, rt_signal.c,
 * rt_main.c) and their unit tests. Never included by generated code: pipec_rt.h is the contract.
 * Convention: functions that can fail return 0 on success and -1 after logging one error line. */
#ifndef PIPEC_RT_INTERNAL_H
#define PIPEC_RT_INTERNAL_H
#include "pipec_rt.h"
#include <sys/types.h>

/* ---- rt_log.c ------------------------------------------------------------------------------ */
enum { PRT_LOG_TEXT = 0, PRT_LOG_JSON = 1 };
void prt_log_setup(const char *pipeline, int format);
void prt_log_teardown(void);

/* ---- rt_env.c ------------------------------------------------------------------------------ */
typedef enum { PRT_ENV_OK = 0, PRT_ENV_UNSET, PRT_ENV_SYNTAX } prt_env_status;
/* Expands ${VAR} and ${VAR:-default} (default also when VAR is empty, as in the shell); "$$" is
 * one "$", any other "$" is literal. On OK *out is a malloc'd string. On UNSET, the variable's
 * name is copied into name[namecap]; on SYNTAX (an unclosed "${", a bad name) name holds a short
 * description. A variable's value is never copied anywhere but *out. */
prt_env_status prt_env_expand(const char *in, char **out, char *name, size_t namecap);

/* ---- rt_signal.c --------------------------------------------------------------------------- */
/* SIGTERM/SIGINT set a stop flag (and wake prt_signal_sleep); SIGPIPE is ignored so a closed pipe
 * shows up as EPIPE from write(). Handlers are installed without SA_RESTART: a blocking read
 * returns EINTR when a stop arrives. */
int prt_signal_setup(void);
bool prt_signal_stop_requested(void);
void prt_signal_sleep(int64_t us);   /* returns early when a stop arrives */
int prt_signal_fd(void);   /* readable once a stop arrived (for poll loops of their own); -1 before setup */
void prt_signal_teardown(void);

/* ---- rt_reader.c --------------------------------------------------------------------------- */
enum { PRT_RD_REC, PRT_RD_REFILL, PRT_RD_EOF };
enum { PRT_RECF_UNTERMINATED = 1, PRT_RECF_TOO_LONG = 2 };
enum { PRT_READER_KEEP = 1024 };   /* bytes of a too-long record kept for the dead letter */

typedef struct prt_rd_rec {
    prt_rec rec;           /* for a too-long record: its first PRT_READER_KEEP bytes at most */
    int flags;             /* PRT_RECF_* */
    uint64_t full_len;     /* the record's length without terminator (== rec.n unless too long) */
} prt_rd_rec;

typedef struct prt_reader {
    bool csv;
    char delim, quote;
    size_t max_record, chunk;
    char *buf;
    size_t cap;
    size_t start, end, scan;   /* buf[start..end) unconsumed; scanned for the record end up to scan */
    uint64_t base;             /* file offset of buf[0] */
    uint64_t start_line;       /* line number of buf[start] */
    uint64_t scan_line;        /* line number of buf[scan] */
    int state;                 /* CSV framing state at buf[scan] */
    int fd;
    bool eof, bom_pending;
    bool skipping;             /* inside a too-long record whose head was discarded */
    uint64_t skip_total;
    uint64_t skip_line, skip_off;   /* where the skipped record started */
    char skip_last;
    size_t keep_n;
    char keep[PRT_READER_KEEP];
    int err;                   /* errno of the last failed read */
} prt_reader;

/* chunk 0 = 1 MiB; max_record 0 = 1 MiB. The buffer (max_record + chunk) is allocated once. */
void prt_reader_init(prt_reader *r, bool csv, char delim, char quote, size_t max_record,
                     size_t chunk);
/* Starts reading fd, which is positioned at byte `offset` whose line number is `line`. A UTF-8
 * BOM is removed when offset is 0. */
void prt_reader_start(prt_reader *r, int fd, uint64_t offset, uint64_t line);
/* Frames the next record. PRT_RD_REFILL: the buffer holds no complete record; the caller must be
 * done with every record returned so far (they point into the buffer), then call
 * prt_reader_fill. Blank lines are skipped silently. */
int prt_reader_next(prt_reader *r, prt_rd_rec *out);
/* Compacts the buffer and reads one chunk: 0, or -1 with r->err set (EINTR included). */
int prt_reader_fill(prt_reader *r);
/* The position just after the last record returned (and any blank lines after it); inside a
 * too-long record being skipped, the start of that record. */
static inline uint64_t prt_reader_offset(const prt_reader *r) {
    return r->skipping ? r->skip_off : r->base + r->start;
}
static inline uint64_t prt_reader_line(const prt_reader *r) {
    return r->skipping ? r->skip_line : r->start_line;
}
void prt_reader_free(prt_reader *r);

/* ---- rt_json.c ------------------------------------------------------------------------------ */
/* Whether extract may read a record by the shape of the last one (on by default); the tests
 * compare the two ways. Turning it off forgets the shape. */
void prt_json_plan_use_shape(prt_json_plan *plan, bool on);

/* ---- rt_checkpoint.c ----------------------------------------------------------------------- */
typedef struct prt_ckpt_sink {
    char *name;
    uint64_t len;
} prt_ckpt_sink;

typedef struct prt_ckpt_kafka {
    char *topic;
    int32_t partition;
    int64_t offset;
} prt_ckpt_kafka;

typedef struct prt_ckpt {
    char *pipeline;
    uint64_t fingerprint;
    bool has_source;
    char *src_path;            /* the input file's path as the source opened it */
    uint64_t src_offset, src_line, src_ino;
    bool src_finished;
    int nsinks;
    prt_ckpt_sink *sinks;
    bool has_state;            /* v2: window state in DIR/state.SEQ */
    uint64_t state_seq, state_len;
    uint32_t state_crc;
    uint64_t seq;              /* v3: 1, 2, ... one per commit (0: an older version, none) */
    bool run_finished;         /* v3: the source ended and this was the run's final commit */
    bool state_inline;         /* v3: the state bytes follow the end line (database copies) */
    char *state_data;          /* parse: a malloc'd copy of inline state (state_len bytes);
                                * format: the bytes to put inline when state_inline */
    /* a postgres source: the last committed cursor value (text) and the digests of the rows
     * already taken that carry exactly that value (ties; see rt_pgsource.c) */
    bool has_cursor;
    char *cursor;
    uint64_t *seen;
    int nseen;
    /* a postgres_cdc source (rt_cdc.c): the end LSN of the last transaction taken whole; inside
     * a transaction, its commit LSN and how many of its changes were taken; whether the initial
     * snapshot was still being read */
    bool has_cdc;
    uint64_t cdc_done, cdc_txn, cdc_taken;
    bool cdc_snapshot;
    /* a kafka source (rt_kafka.c): per partition, the offset after the last message committed */
    prt_ckpt_kafka *kafka;
    int nkafka;
    /* parquet sinks (rt_pqsink.c): the final paths of the files this commit makes visible (each
     * renamed from .NAME.tmp in its folder after the checkpoint is durable) */
    char **publish;
    int npublish;
} prt_ckpt;

/* The checkpoint text (format in rt_checkpoint.c), appended to b. The same text is stored in
 * DIR/checkpoint and, by the driver, in each sqlite sink's database. */
void prt_ckpt_format(const prt_ckpt *c, prt_buf *b);
/* Parses text[0..len) into *c (zeroed first): 1, or -1 after logging "malformed checkpoint
 * WHAT: why" (c left empty). */
int prt_ckpt_parse(const char *text, size_t len, prt_ckpt *c, const char *what);
/* 1 = read into *c, 0 = no checkpoint in dir, -1 = unreadable or malformed (logged). */
int prt_ckpt_read(const char *dir, prt_ckpt *c);
/* Writes dir/checkpoint atomically (temp file, fsync, rename, fsync dir). */
int prt_ckpt_write(const char *dir, const prt_ckpt *c);
void prt_ckpt_free(prt_ckpt *c);
const prt_ckpt_sink *prt_ckpt_find_sink(const prt_ckpt *c, const char *name);
int prt_mkdir_p(const char *dir);   /* creates dir and its parents (0755); logs on failure */
/* Window state files (format in rt_checkpoint.c): DIR/state.SEQ written atomically (temp,
 * fsync, rename, fsync DIR); read back into `out` and checked against the checkpoint's length and
 * CRC (-1 after logging: missing, unreadable or corrupt); cleanup deletes every state.N and
 * state.N.tmp in dir except state.KEEP_SEQ (when keep), logging a warning on failure. */
uint32_t prt_crc32(const void *p, size_t n);
int prt_state_file_write(const char *dir, uint64_t seq, const char *p, size_t n);
int prt_state_file_read(const char *dir, const prt_ckpt *c, prt_buf *out);
void prt_state_file_cleanup(const char *dir, uint64_t keep_seq, bool keep);

/* ---- rt_sink.c ----------------------------------------------------------------------------- */
/* Opens a sink. File sinks: parent dirs created; truncated to `keep_len` (which must not exceed
 * the file's length: that is an error) or to 0 when keep_len < 0. `fd_override` >= 0 makes a
 * non-file sink writing to that descriptor (the dead letter on stderr). NULL on error (logged). */
prt_sink *prt_sink_open(const prt_sink_desc *d, const char *path, int64_t keep_len, int fd_override);
int prt_sink_flush(prt_sink *s);                      /* write out the buffer (tables: render) */
int prt_sink_maybe_flush(prt_sink *s);                /* flush when the buffer is big */
int prt_sink_commit(prt_sink *s, uint64_t *len);      /* flush, fsync; *len = committed bytes */
bool prt_sink_is_file(const prt_sink *s);
int prt_sink_finish(prt_sink *s);                     /* end of run (an empty table's header) */
void prt_sink_close(prt_sink *s);

/* ---- rt_sqlite.c (sqlite sinks) ------------------------------------------------------------ */
/* SQLite sinks (kind PRT_SINK_SQLITE, encoding PRT_ENC_ROWS). prt_sink_open opens them (parent
 * directories created, WAL, synchronous=FULL, busy timeout 5 s; the table created when missing,
 * else checked to have every column). Rows stay in sink->buf until a commit: prt_sink_flush and
 * prt_sink_maybe_flush write nothing for them, prt_sink_is_file is false, and prt_sink_commit
 * is prt_sqlite_commit without a checkpoint (*len = 0). */
typedef struct prt_sqlite prt_sqlite;
/* d->kind must be PRT_SINK_SQLITE; path is the expanded database path. NULL on error (logged). */
prt_sqlite *prt_sqlite_open(const prt_sink_desc *d, const char *path);
void prt_sqlite_close(prt_sqlite *q);
prt_sqlite *prt_sink_sqlite(const prt_sink *s);   /* rt_sink.c: NULL unless a sqlite sink */
/* In ONE transaction (BEGIN IMMEDIATE ... COMMIT): every buffered row and, when ckpt is not
 * NULL, the upsert of (ckpt_key, ckpt) into table pipec_checkpoint (key TEXT PRIMARY KEY, value
 * BLOB, seq INTEGER: 1, then +1 per write; created when missing); then the buffer is emptied.
 * ckpt_key NULL = "pipeline". On error: rolled back, logged (database, table, SQLite's message),
 * the buffer left as it was, -1. */
int prt_sqlite_commit(prt_sink *s, const char *ckpt_key, const void *ckpt, size_t ckpt_len);
/* 1 = found (the value appended to out), 0 = none (no such key or no checkpoint table),
 * -1 = error (logged). ckpt_key NULL = "pipeline". */
int prt_sqlite_read_checkpoint(prt_sink *s, const char *ckpt_key, prt_buf *out);
/* ---- end of rt_sqlite.c ------------------------------------------------------------------- */

/* ---- rt_sqltext.c (SQL text for the database modules) -------------------------------------- */
void prt_sql_ident(prt_buf *b, const char *id);    /* "id", inner quotes doubled */
void prt_sql_table(prt_buf *b, const char *t);     /* "t" or "schema"."t" (one dot splits) */
void prt_sql_literal(prt_buf *b, const char *s);   /* 's', inner quotes doubled */
const char *prt_sql_cstr(prt_buf *b);              /* NUL-terminates without counting the NUL */
void prt_sql_one_line(const char *msg, char *out, size_t cap);   /* a server message as one line */
bool prt_sql_is_key(const prt_sink_desc *d, int col);            /* col is one of d's key columns */
/* An upsert's conflict action: "DO UPDATE SET c = EXCLUDED.c, ..." for every column that is not
 * a key, or "DO NOTHING" when every column is. */
void prt_sql_upsert_action(prt_buf *b, const prt_sink_desc *d);
/* One value of a typed row buffer (prt_row_* in pipec_rt.h): tag PRT_V_*, and by tag b, i (an
 * int64, or a timestamp's microseconds), f, days, or s and n (the string, in the buffer). */
typedef struct prt_rowval {
    char tag;
    bool b;
    int64_t i;
    double f;
    int32_t days;
    const char *s;
    uint32_t n;
} prt_rowval;
/* Decodes the value at *pp and moves past it; false on a malformed buffer (a runtime bug). */
bool prt_row_value(const char **pp, const char *end, prt_rowval *v);

/* ---- rt_postgres.c (postgres sinks and dead letters) ---------------------------------------- */
/* The PostgreSQL functions are weak references: a binary has them (and libpq) only when its
 * pipeline calls prt_use_postgres(); without it they are NULL, and the driver and sinks check. */
#define PRT_WEAK __attribute__((weak))
/* See the header of rt_postgres.c for the transaction design. All can fail only after logging;
 * lost connections are retried inside (with backoff, until a stop). */
/* Instances sharing the group (prt_pipeline.kafka_shared): a partition's offset lives in the
 * database. `stored` is the offset the database holds (-1: none), `next` where this instance is. */
typedef struct prt_kafka_offset {
    const char *topic;
    int32_t partition;
    int64_t stored, next;
} prt_kafka_offset;

typedef struct prt_pg prt_pg;
typedef struct prt_deadq prt_deadq;
/* dsn is the expanded connection string; connects (retrying for up to 30 s), sets the session to
 * UTF-8 and UTC, creates the table when d->create, checks its columns, creates pipec_checkpoint
 * (sinks only). NULL on error. */
prt_pg *prt_pg_open(const prt_sink_desc *d, const char *dsn, bool is_dead_letter) PRT_WEAK;
void prt_pg_close(prt_pg *g) PRT_WEAK;
const char *prt_pg_where(const prt_pg *g) PRT_WEAK;   /* "host:port/db": safe to log */
char *prt_pg_describe(const char *dsn);      /* malloc'd "host:port/db" of a connection string */
/* Reconnecting, for the sinks and both sources: the wait before retry `attempt` (0.1 s doubling
 * to 5 s); that wait, false when a stop arrived meanwhile; when start-up stops trying (30 s,
 * or PIPEC_PG_OPEN_PATIENCE_MS). */
int64_t prt_pg_retry_delay_us(int attempt);
bool prt_pg_backoff(int attempt);
int64_t prt_pg_start_deadline_us(void);
const char *prt_pg_dsn(const prt_pg *g);     /* the secret connection string */
prt_pg *prt_sink_pg(const prt_sink *s);      /* rt_sink.c: NULL unless a postgres sink */
void prt_pg_row_src(prt_pg *g, const char *position, const prt_rec *rec) PRT_WEAK;
/* Between commits: sends the rows buffered since the last push into an open COPY, so the server
 * loads them while the pipeline reads on (never fails: a problem is handled at prepare). */
int prt_pg_push(prt_sink *s, prt_pg *g) PRT_WEAK;
/* BEGIN (or the pushed COPY) and every buffered row; rows the server refuses go to `dead` (run's
 * counters moved from out to dead). The transaction stays open for prt_pg_commit. */
int prt_pg_prepare(prt_sink *s, prt_pg *g, prt_run *run, prt_deadq *dead) PRT_WEAK;
/* The rows (prepared, or now), the rows of `attached` (a postgres dead letter sharing the DSN),
 * the checkpoint (key, ckpt) when ckpt is not NULL, COMMIT; then the buffers are emptied. */
int prt_pg_commit(prt_sink *s, prt_pg *g, const char *key, const void *ckpt, size_t len,
                  prt_run *run, prt_deadq *dead, prt_sink *attached, prt_pg *attached_g) PRT_WEAK;
/* 1 found (value appended to out), 0 none, -1 error. */
int prt_pg_read_checkpoint(prt_pg *g, const char *key, prt_buf *out) PRT_WEAK;
/* Instances sharing a kafka group (rt_kafka.c): the sink keeps per-partition offsets in table
 * pipec_kafka_offsets under `key` instead of a checkpoint, and takes no lock. set_offsets names
 * what the next commit stores (borrowed until it returns); read_offsets fills `stored`. */
int prt_pg_share(prt_pg *g) PRT_WEAK;   /* 0, or -1 (cannot create the table) */
void prt_pg_set_offsets(prt_pg *g, const prt_kafka_offset *offs, int n) PRT_WEAK;
int prt_pg_read_offsets(prt_pg *g, const char *key, prt_kafka_offset *offs, int n) PRT_WEAK;
uint64_t prt_pg_pending_rows(const prt_sink *s, const prt_pg *g) PRT_WEAK;

/* ---- rt_pgsource.c (the postgres source) ---------------------------------------------------- */
typedef struct prt_pgsrc prt_pgsrc;
/* Connects (retrying up to 30 s) and takes the cursor and digests of a checkpoint (ck may be
 * NULL). NULL on error (logged). */
prt_pgsrc *prt_pgsrc_open(const prt_source_desc *d, const char *dsn, const prt_ckpt *ck) PRT_WEAK;
/* Up to max new rows as JSON records (valid until the next call), with each one's position in
 * *positions; 0 = caught up for now (or a stop), -1 = error (logged). */
int prt_pgsrc_next(prt_pgsrc *s, prt_rec *recs, int max, const char *const **positions) PRT_WEAK;
/* Puts the position after the rows handed out so far into c (cursor and seen). */
void prt_pgsrc_position(const prt_pgsrc *s, prt_ckpt *c) PRT_WEAK;
const char *prt_pgsrc_where(const prt_pgsrc *s) PRT_WEAK;
void prt_pgsrc_close(prt_pgsrc *s) PRT_WEAK;

/* ---- rt_cdc.c (the postgres_cdc source) --------------------------------------------------- */
typedef struct prt_cdc prt_cdc;
/* Connects (a normal and a replication session), creates the publication and the slot when
 * missing, takes the position of a checkpoint (ck may be NULL); with `once`, notes the WAL
 * position to catch up with. NULL on error (logged). */
prt_cdc *prt_cdc_open(const prt_source_desc *d, const char *dsn, const prt_ckpt *ck, bool once) PRT_WEAK;
/* Up to max changes as JSON records (valid until the next call) with their positions; 0 when
 * the stream was quiet for a moment (*caught_up: --once reached its target). -1 on an error. */
int prt_cdc_next(prt_cdc *c, prt_rec *recs, int max, const char *const **positions, bool *caught_up) PRT_WEAK;
void prt_cdc_position(const prt_cdc *c, prt_ckpt *k) PRT_WEAK;   /* the position after the changes taken */
int prt_cdc_committed(prt_cdc *c) PRT_WEAK;   /* a commit made the position durable: confirm it to the slot */
/* Bytes of WAL the server has written beyond what the sinks hold durably (the slot's lag); -1
 * while the server has not reported its position. */
int64_t prt_cdc_lag(const prt_cdc *c) PRT_WEAK;
void prt_cdc_close(prt_cdc *c) PRT_WEAK;

/* ---- rt_kafka.c (the kafka source; linked by prt_use_kafka) ------------------------------- */
typedef struct prt_kafka prt_kafka;
typedef int (*prt_kafka_revoke_fn)(void *ctx);   /* commit everything read; 0 or -1 */
/* Joins the group and subscribes to topics (d->ntopics, expanded); props: librdkafka settings as
 * key, value, ..., NULL (applied last, so they override ours). Offsets of ck (may be NULL) are
 * where assigned partitions start. NULL on error (logged). */
prt_kafka *prt_kafka_open(const prt_source_desc *d, const char *brokers, const char *group,
                          char *const *topics, char *const *props, const prt_ckpt *ck) PRT_WEAK;
/* Called before partitions are taken away in a rebalance. */
void prt_kafka_set_revoke_hook(prt_kafka *k, prt_kafka_revoke_fn fn, void *ctx) PRT_WEAK;
/* Called on assignment to fill in `stored` for the partitions (0, or -1: the source fails). */
typedef int (*prt_kafka_assign_fn)(void *ctx, prt_kafka_offset *offs, int n);
void prt_kafka_set_assign_hook(prt_kafka *k, prt_kafka_assign_fn fn, void *ctx) PRT_WEAK;
/* The assigned partitions read past their stored offset (malloc'd into *out; the count). */
int prt_kafka_unstored(const prt_kafka *k, prt_kafka_offset **out) PRT_WEAK;
/* A commit stored these offsets: they are the partitions' `stored` now. */
void prt_kafka_mark_stored(prt_kafka *k, const prt_kafka_offset *offs, int n) PRT_WEAK;
/* Up to max messages as records (valid until the next call), waiting up to wait_us for the
 * first; 0 when none came (*at_end: every assigned partition is at its end; said at once when the
 * ends came with the last batch, the next call waits). -1 on a fatal error (logged). */
int prt_kafka_next(prt_kafka *k, prt_rec *recs, int max, int64_t wait_us, bool *at_end) PRT_WEAK;
/* The position ("topic/partition/offset") of record i of the last batch, written when asked
 * (most records never need theirs); valid until the next call. k is a prt_kafka. */
const char *prt_kafka_rec_position(void *k, int i) PRT_WEAK;
void prt_kafka_position(const prt_kafka *k, prt_ckpt *c) PRT_WEAK;   /* per-partition offsets into c */
/* After a commit: the offsets go to the group too (synchronously unless durable_elsewhere: then
 * the checkpoint is the position and the group's copy is for monitoring). 0 or -1. */
int prt_kafka_committed(prt_kafka *k, bool durable_elsewhere) PRT_WEAK;
/* Messages behind the high watermarks of the assigned partitions (librdkafka's cached ones, no
 * request); -1 while none is known. */
int64_t prt_kafka_lag(const prt_kafka *k) PRT_WEAK;
const char *prt_kafka_where(const prt_kafka *k) PRT_WEAK;   /* the bootstrap brokers */
void prt_kafka_close(prt_kafka *k) PRT_WEAK;

/* ---- rt_http.c (the http source; linked by prt_use_http) ------------------------------------ */
typedef struct prt_http prt_http;
/* url, headers (name, value, ..., NULL) and the interval expanded. NULL after logging, with
 * *exit_code 2 for a URL that cannot be polled, else 1. */
prt_http *prt_http_open(const prt_source_desc *d, const char *url, char *const *headers, int64_t every_us,
                        bool once, int *exit_code) PRT_WEAK;
/* Up to max records of the current answer (valid until the next call) with their positions; when
 * it is handed out, 0 once (commit now), then the next poll when it is due (prt_http_wait_us):
 * its records, or 0 (a failed request, counted and retried; an empty answer; a stop). What is
 * not a record (a body that is not JSON, an element that is not an object, a body too long)
 * goes to `dead` at once, counted in *rejected (the caller counts them in and dead). -1: with
 * --once, the one request failed. */
int prt_http_next(prt_http *h, prt_rec *recs, int max, const char *const **positions, prt_deadq *dead,
                  uint64_t *rejected) PRT_WEAK;
int64_t prt_http_wait_us(const prt_http *h) PRT_WEAK;   /* until the next request is due */
uint64_t prt_http_errors(const prt_http *h) PRT_WEAK;   /* failed requests so far */
void prt_http_close(prt_http *h) PRT_WEAK;

/* ---- rt_pqsink.c (the parquet sink; linked by prt_use_parquet) ------------------------------ */
typedef struct prt_pqsink prt_pqsink;
/* Opens the sink's folder `root` (created): redoes the renames `ck` lists under it where the temp
 * file is still there, deletes every other temp file, and with ck NULL (no checkpoint) also the
 * files of earlier runs. New files are named after commit seq + 1 (seq: the checkpoint's). */
prt_pqsink *prt_pqsink_open(const prt_sink_desc *d, const char *pipeline, uint64_t fingerprint, const char *root,
                            const prt_ckpt *ck, uint64_t seq) PRT_WEAK;
int prt_pqsink_take(prt_pqsink *q, prt_buf *buf) PRT_WEAK;     /* rows of buf into their files; empties it */
int prt_pqsink_commit(prt_pqsink *q, prt_buf *buf) PRT_WEAK;   /* take, then finish every open file (fsync) */
/* The final paths of the files finished since the last publish, for the checkpoint. */
void prt_pqsink_ready(const prt_pqsink *q, char *const **paths, int *n) PRT_WEAK;
int prt_pqsink_publish(prt_pqsink *q) PRT_WEAK;   /* after the checkpoint: renames them, fsyncs their folders */
void prt_pqsink_close(prt_pqsink *q) PRT_WEAK;    /* open files are dropped (their temp files stay) */

/* ---- rt_kafka_sink.c (the kafka sink; linked by prt_use_kafka) ------------------------------ */
typedef struct prt_kprod prt_kprod;
/* An idempotent producer of `topic`; props as for the source. NULL on error (logged). */
prt_kprod *prt_kprod_open(const prt_sink_desc *d, const char *pipeline, const char *brokers, const char *topic,
                          char *const *props) PRT_WEAK;
prt_buf *prt_kprod_key(prt_kprod *k) PRT_WEAK;   /* emptied: the next row's key goes here */
/* The row that ends at buf->len is complete: its key (has_key: the key buffer holds it), its
 * source position (position[:line], or NULL). */
void prt_kprod_row(prt_kprod *k, const prt_buf *buf, bool has_key, const char *position, uint64_t line) PRT_WEAK;
int prt_kprod_send(prt_kprod *k, prt_buf *buf) PRT_WEAK;     /* produces the rows of buf; empties it */
int prt_kprod_commit(prt_kprod *k, prt_buf *buf) PRT_WEAK;   /* send, then wait: every message delivered */
void prt_kprod_close(prt_kprod *k) PRT_WEAK;
void prt_sink_kafka_row_at(prt_sink *s, const char *position);   /* a row of the kafka dead letter */
/* A kafka sink (rt_sink.c); brokers, topic, props expanded. */
/* Bounds what the sink's open files buffer together (limits.memory), 0 = no bound. */
void prt_pqsink_set_memory(prt_pqsink *q, int64_t bytes) PRT_WEAK;
/* ---- rt_limits.c (limits.memory) ---- */
/* The librdkafka settings derived from the limit, followed by `user` (taken over); malloc'd. */
char **prt_limits_kafka_props(int64_t limit, char **user);
/* After a batch: 0 while the resident memory is within p->memory_limit; else logs the windows'
 * open groups (scratch: p->nwindows entries) and returns -1. */
int prt_limits_check(const prt_pipeline *p, prt_window_stats *scratch);

/* A parquet sink writing into the folder root (expanded); see prt_pqsink_open. */
prt_sink *prt_sink_open_parquet(const prt_sink_desc *d, const char *pipeline, uint64_t fingerprint, const char *root,
                                const prt_ckpt *ck, uint64_t seq);
prt_pqsink *prt_sink_parquet(const prt_sink *s);   /* NULL unless a parquet sink */
prt_sink *prt_sink_open_kafka(const prt_sink_desc *d, const char *pipeline, const char *brokers, const char *topic,
                              char *const *props);

/* Database sinks (SQLite and PostgreSQL) as the driver sees them (rt_sink.c). */
bool prt_sink_is_db(const prt_sink *s);
const char *prt_sink_where(const prt_sink *s);   /* a path, or "host:port/db": for messages */
int prt_sink_db_prepare(prt_sink *s, prt_run *run, prt_deadq *dead);
void prt_sink_db_push(prt_sink *s);   /* postgres: stream the new rows to the server now */
int prt_sink_db_commit(prt_sink *s, const char *key, const void *ckpt, size_t len, prt_run *run,
                       prt_deadq *dead, prt_sink *attached);
int prt_sink_db_read_checkpoint(prt_sink *s, const char *key, prt_buf *out);
uint64_t prt_sink_pending_rows(const prt_sink *s);   /* rows waiting for a commit (postgres) */
/* ---- end of rt_postgres.c ------------------------------------------------------------------ */

/* ---- rt_dead.c ----------------------------------------------------------------------------- */
/* d NULL = JSON lines on stderr. A kafka dead letter: path is its brokers, kafka_topic and
 * kafka_props (NULL otherwise) the rest, expanded. */
prt_deadq *prt_deadq_open(const char *pipeline, const prt_sink_desc *d, const char *path,
                          int64_t keep_len, const char *kafka_topic, char *const *kafka_props);
prt_sink *prt_deadq_sink(prt_deadq *q);
/* Appends one dead letter and counts it under `reason` (not in prt_stats: callers do that). */
void prt_deadq_put(prt_deadq *q, const char *position, uint64_t line, const char *raw, size_t n,
                   const char *reason, const char *detail, size_t detail_n);
/* " parse=20 price_not_negative=10" (with a leading space), in first-seen order. */
void prt_deadq_summary(const prt_deadq *q, prt_buf *b);
/* The reasons seen so far and their counts, in order of first appearance. */
int prt_deadq_reasons(const prt_deadq *q, char *const **reasons, const uint64_t **counts);
void prt_deadq_close(prt_deadq *q);

/* ---- rt_source.c --------------------------------------------------------------------------- */
typedef enum { PRT_NEXT_FILE, PRT_NEXT_IDLE, PRT_NEXT_END, PRT_NEXT_ERROR } prt_next_status;

typedef struct prt_source {
    const prt_source_desc *d;
    char *path, *archive;      /* expanded */
    prt_reader rd;
    int fd;
    bool is_open, finished, ended;
    bool header_pending;       /* the next record is this file's CSV header */
    uint64_t resume_offset, resume_line;   /* after the header, jump here (resume) */
    char *cur_path;            /* the open file's path ("-" for stdin) */
    const char *cur_name;      /* its name in dead-letter positions: the path or "stdin" */
    uint64_t cur_ino;
    char **done;               /* folder without archive/delete: names already read */
    int ndone, capdone;
    uint64_t waiting;          /* folder: files waiting to be read, as of the last look */
} prt_source;

/* Opens the source (folder: archive dir created) and applies a checkpoint's position (ck may be
 * NULL): a folder file recorded as finished is archived/deleted now. */
int prt_source_open(prt_source *s, const prt_source_desc *d, const char *path,
                    const char *archive, const prt_ckpt *ck, size_t chunk);
/* Opens the next input file if none is open. IDLE: a folder with nothing to read now. */
prt_next_status prt_source_next_file(prt_source *s);
/* Called after the header record was handed to map_header: jumps to a resume offset. */
int prt_source_header_done(prt_source *s);
/* After the commit that covers a finished file: archive/delete it (folder), close it. */
int prt_source_retire(prt_source *s);
void prt_source_close(prt_source *s);

/* ---- rt_metrics.c (the metrics and health endpoint; weak, linked by prt_use_metrics) -------- */
typedef struct prt_metrics prt_metrics;
/* A latency histogram: counts per bucket (not cumulative; upper bounds in prt_hist_bound, the last
 * bucket is +Inf), the sum in microseconds. Kept by the driver, formatted by rt_metrics.c. */
enum { PRT_HIST_BUCKETS = 16 };
typedef struct prt_hist {
    uint64_t counts[PRT_HIST_BUCKETS];
    uint64_t n;
    int64_t sum_us;
} prt_hist;
/* Upper bound of bucket i < PRT_HIST_BUCKETS - 1, in microseconds: 100 us to 10 s. */
static inline int64_t prt_hist_bound_us(int i) {
    static const int64_t b[PRT_HIST_BUCKETS - 1] = {100,    250,    500,     1000,    2500,   5000,    10000, 25000,
                                                    50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};
    return b[i];
}
static inline void prt_hist_add(prt_hist *h, int64_t us) {
    int i = 0;
    while (i < PRT_HIST_BUCKETS - 1 && us > prt_hist_bound_us(i)) i++;
    h->counts[i]++;
    h->n++;
    h->sum_us += us;
}

/* The run's counters as the driver hands them over (copied at once). */
typedef struct prt_metrics_snapshot {
    uint64_t in, out, dead, dropped;
    int nsinks;
    const char *const *sink_names;
    const uint64_t *sink_rows;
    int nreasons;
    char *const *reasons;
    const uint64_t *reason_counts;
    int64_t last_commit_us;    /* wall clock of the last commit (or of the start) */
    bool pending;              /* records read since then wait for a commit */
    const prt_hist *batch;     /* time of process_batch and tick, per batch */
    const prt_hist *commit;    /* time of a whole commit */
    const prt_hist *sink_flush;   /* per sink: its share of each commit */
    const char *lag_kind;      /* "kafka", "folder", "postgres_cdc", or NULL: no lag known */
    int64_t lag;               /* messages, files or WAL bytes behind */
    int nwindows;
    const char *const *window_names;
    const prt_window_stats *windows;
    uint64_t source_errors;    /* failed source requests (http), shown as pipec_source_errors_total */
} prt_metrics_snapshot;
/* Where and how to serve, expanded: listen "host:port" (port 0: any free one, logged); PEM files
 * for HTTPS or NULL; basic auth (user and password, or a file holding it) or NULL. */
typedef struct prt_metrics_conf {
    const char *listen, *tls_cert, *tls_key, *user, *password, *password_file;
} prt_metrics_conf;
/* Starts the server; NULL after logging (never a secret). */
prt_metrics *prt_metrics_start(const prt_metrics_conf *conf, const char *pipeline, int64_t commit_every_us) PRT_WEAK;
/* Hands over the counters (at most ten times a second unless force). m may be NULL. */
void prt_metrics_publish(prt_metrics *m, const prt_metrics_snapshot *s, bool force) PRT_WEAK;
void prt_metrics_stop(prt_metrics *m) PRT_WEAK;
/* Logs where it serves; called after the first publish, so a scrape prompted by the line never
 * finds the counters missing. */
void prt_metrics_announce(const prt_metrics *m) PRT_WEAK;

/* ---- rt_progress.c (the progress line on a terminal) ----------------------------------------- */
/* bounded: the run ends by itself (a file, or --once); the line is drawn only on a terminal. */
void prt_progress_begin(const char *pipeline, bool bounded, bool json_log);
/* A new input file is open (fd); only_input: it is the whole input, so its size is the total. */
void prt_progress_file(int fd, bool only_input);
/* After a batch: redraws the line when it is due (file_offset: how far into the open file). */
void prt_progress_tick(uint64_t records, uint64_t file_offset);
void prt_progress_erase(void);   /* before a log line: the line is gone until the next tick */
void prt_progress_end(void);

/* ---- rt_main.c (what rt_dead.c needs of the run) -------------------------------------------- */
typedef struct prt_run_impl {
    prt_deadq *dead;
    const char *position_name;   /* current input for positions: a path or "stdin" */
    /* a source whose records carry positions of their own (postgres): rec_pos[i] is the
     * position of batch record rec_base + i, written without a line number */
    const prt_rec *rec_base;
    const char *const *rec_pos;
    /* or a source that writes a record's position only when one is asked for (kafka): that of
     * batch record rec_base + i, valid until the next call */
    const char *(*rec_pos_fn)(void *src, int i);
    void *rec_pos_src;
} prt_run_impl;

/* Where a record of the current batch came from: its own position, or the input's name. */
static inline const char *prt_rec_position(const prt_run_impl *ri, const prt_rec *rec) {
    if (ri->rec_pos_fn) return ri->rec_pos_fn(ri->rec_pos_src, (int)(rec - ri->rec_base));
    return ri->rec_pos ? ri->rec_pos[rec - ri->rec_base] : ri->position_name;
}

/* Test hook: the reader's chunk size for the whole run (0 = default); set from the environment
 * variable PIPEC_RT_CHUNK by prt_main so tests can use tiny chunks end to end. */
size_t prt_chunk_from_env(void);

#endif
