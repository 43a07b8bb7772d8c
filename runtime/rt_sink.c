/* rt_sink.c - file and stdout sinks, and the generic entry points of database sinks, SQLite
 * and PostgreSQL (the database work is in rt_sqlite.c and rt_postgres.c: rows stay buffered until
 * a commit's transaction), and of kafka sinks (rt_kafka_sink.c: each row a message, sent when
 * the buffer is big and at commits, acknowledged before a commit ends), and of parquet sinks
 * (rt_pqsink.c: typed rows into Parquet files, finished at commits). Generated encoders
 * append rows to sink->buf; this module
 * writes the buffer out (when big, and at commits) and makes it durable (fsync) at commits.
 * Invariants: a file sink's bytes up to the last commit are exactly what the checkpoint records;
 * on open a file sink is cut back to that length (or emptied when there is no checkpoint), so
 * bytes written after the last commit never survive a crash-restart. CSV sinks write their
 * header line into an empty file. Table sinks buffer NUL-terminated cells and print them
 * psql-style at each flush. */
#include "rt_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FLUSH_BYTES = 1 << 20, TABLE_ROWS = 1000, WRITEBACK_BYTES = 8 << 20 };

typedef struct sink_impl {
    int fd;
    bool is_file;              /* a regular file: truncated on open, fsynced at commits */
    bool owns_fd;
    char *path;                /* for messages: the file path, "stdout" or "stderr" */
    uint64_t file_len;         /* bytes written to the file so far */
    uint64_t writeback_from;   /* where the file's bytes not yet sent to writeback start */
    uint64_t rows_flushed;     /* sink->rows at the last flush */
    bool table_printed;
    int64_t table_pending_since;   /* table: when rows started waiting for a commit to print them */
    size_t *widths;            /* table: one per column */
    prt_buf out;               /* table: the rendered text */
    prt_sqlite *sq;            /* a sqlite sink (rt_sqlite.c), else NULL */
    prt_pg *pg;                /* a postgres sink or dead letter (rt_postgres.c), else NULL */
    prt_kprod *kp;             /* a kafka sink (rt_kafka_sink.c), else NULL */
    prt_pqsink *pq;            /* a parquet sink (rt_pqsink.c), else NULL */
} sink_impl;

static const char *sink_name(const prt_sink *s) {
    return s->desc && s->desc->name ? s->desc->name : "?";
}

static int write_all(prt_sink *s, const char *p, size_t n) {
    sink_impl *im = s->impl;
    while (n) {
        ssize_t w = write(im->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            prt_log_error("sink '%s': cannot write %s: %s", sink_name(s), im->path, strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
        im->file_len += (uint64_t)w;
    }
    return 0;
}

/* Between commits, a big file's bytes go to the disk as they are written (a request to start
 * writing back, not to wait for it), so that the commit's fsync waits for the last few MiB
 * instead of the whole file, and the dirty page cache stays small. Linux only; elsewhere the
 * fsync does all of it. */
static void start_writeback(sink_impl *im) {
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    if (!im->is_file || im->file_len - im->writeback_from < WRITEBACK_BYTES) return;
    (void)sync_file_range(im->fd, (off_t)im->writeback_from, (off_t)(im->file_len - im->writeback_from),
                          SYNC_FILE_RANGE_WRITE);
    im->writeback_from = im->file_len;
#else
    (void)im;
#endif
}

static int mkdir_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return 0;
    memcpy(dir, path, n);
    dir[n] = 0;
    return prt_mkdir_p(dir);
}

static prt_sink *sink_new(const prt_sink_desc *d) {
    prt_sink *s = calloc(1, sizeof *s);
    sink_impl *im = calloc(1, sizeof *im);
    if (!s || !im) abort();
    s->desc = d;
    s->impl = im;
    im->fd = -1;
    return s;
}

prt_sink *prt_sink_open(const prt_sink_desc *d, const char *path, int64_t keep_len, int fd_override) {
    prt_sink *s = sink_new(d);
    sink_impl *im = s->impl;
    if (fd_override >= 0) {
        im->fd = fd_override;
        im->path = strdup(fd_override == 2 ? "stderr" : "stdout");
    } else if (d->kind == PRT_SINK_SQLITE) {
        /* keep_len does not apply: what is committed is in the database (and its checkpoint) */
        char *expanded = NULL;
        if (!path) {   /* not expanded by the caller: do it here */
            char name[256];
            prt_env_status st = prt_env_expand(d->path ? d->path : "", &expanded, name, sizeof name);
            if (st != PRT_ENV_OK) {
                prt_log_error("sink '%s': database path %s: %s%s", sink_name(s),
                              d->path ? d->path : "", st == PRT_ENV_UNSET ? "unset variable " : "",
                              name);
                goto fail;
            }
            path = expanded;
        }
        im->path = strdup(path);
        if (!im->path) abort();
        free(expanded);
        if (!im->path[0]) {
            prt_log_error("sink '%s': the database path is empty", sink_name(s));
            goto fail;
        }
        if (mkdir_parent(im->path) != 0) goto fail;
        im->sq = prt_sqlite_open(d, im->path);
        if (!im->sq) goto fail;
        return s;
    } else if (d->kind == PRT_SINK_POSTGRES) {
        /* path is the expanded connection string: never copied into messages */
        if (!prt_pg_open) {
            prt_log_error("sink '%s': this binary was built without PostgreSQL (its pipeline does not "
                          "call prt_use_postgres)", sink_name(s));
            goto fail;
        }
        im->pg = prt_pg_open(d, path ? path : "", strcmp(sink_name(s), "dead_letter") == 0);
        if (!im->pg) goto fail;
        im->path = strdup(prt_pg_where(im->pg));
        if (!im->path) abort();
        return s;
    } else if (d->kind == PRT_SINK_STDOUT) {
        im->fd = 1;
        im->path = strdup("stdout");
    } else {
        im->is_file = true;
        im->path = strdup(path);
        if (mkdir_parent(path) != 0) goto fail;
        im->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        im->owns_fd = im->fd >= 0;
        struct stat st;
        if (im->fd < 0 || fstat(im->fd, &st) != 0) {
            prt_log_error("sink '%s': cannot open %s: %s", sink_name(s), path, strerror(errno));
            goto fail;
        }
        if (!S_ISREG(st.st_mode)) {   /* a device or a FIFO: written to, never cut back */
            im->is_file = false;
            goto opened;
        }
        uint64_t len = keep_len < 0 ? 0 : (uint64_t)keep_len;
        if ((uint64_t)st.st_size < len) {
            prt_log_error("sink '%s': %s has %" PRIu64 " bytes, fewer than the %" PRIu64
                          " its checkpoint records as committed", sink_name(s), path,
                          (uint64_t)st.st_size, len);
            goto fail;
        }
        if (ftruncate(im->fd, (off_t)len) != 0 || lseek(im->fd, (off_t)len, SEEK_SET) < 0) {
            prt_log_error("sink '%s': cannot truncate %s: %s", sink_name(s), path, strerror(errno));
            goto fail;
        }
        im->file_len = im->writeback_from = len;
    }
opened:
    if (d->encoding == PRT_ENC_CSV && (!im->is_file || im->file_len == 0)) {
        for (int i = 0; i < d->ncolumns; i++) {
            if (i) prt_buf_putc(&s->buf, ',');
            prt_buf_put_csv_str(&s->buf, d->columns[i], strlen(d->columns[i]), ',');
        }
        prt_buf_putc(&s->buf, '\n');
    }
    if (d->encoding == PRT_ENC_TABLE) {
        im->widths = calloc((size_t)(d->ncolumns > 0 ? d->ncolumns : 1), sizeof *im->widths);
        if (!im->widths) abort();
    }
    return s;
fail:
    prt_sink_close(s);
    return NULL;
}

prt_sink *prt_sink_open_kafka(const prt_sink_desc *d, const char *pipeline, const char *brokers, const char *topic,
                              char *const *props) {
    prt_sink *s = sink_new(d);
    sink_impl *im = s->impl;
    if (!prt_kprod_open) {
        prt_log_error("sink '%s': this binary was built without Kafka (its pipeline does not call prt_use_kafka)", sink_name(s));
        prt_sink_close(s);
        return NULL;
    }
    char where[600];
    snprintf(where, sizeof where, "kafka topic %s", topic);
    im->path = strdup(where);
    im->kp = prt_kprod_open(d, pipeline, brokers, topic, props);
    if (!im->path || !im->kp) {
        prt_sink_close(s);
        return NULL;
    }
    return s;
}

prt_sink *prt_sink_open_parquet(const prt_sink_desc *d, const char *pipeline, uint64_t fingerprint, const char *root,
                                const prt_ckpt *ck, uint64_t seq) {
    prt_sink *s = sink_new(d);
    sink_impl *im = s->impl;
    if (!prt_pqsink_open) {
        prt_log_error("sink '%s': this binary was built without Parquet (its pipeline does not call prt_use_parquet)", sink_name(s));
        prt_sink_close(s);
        return NULL;
    }
    im->path = strdup(root);
    im->pq = prt_pqsink_open(d, pipeline, fingerprint, root, ck, seq);
    if (!im->path || !im->pq) {
        prt_sink_close(s);
        return NULL;
    }
    return s;
}

prt_pqsink *prt_sink_parquet(const prt_sink *s) {
    return s && s->impl ? ((const sink_impl *)s->impl)->pq : NULL;
}

prt_buf *prt_sink_kafka_key(prt_sink *s) { return prt_kprod_key(((sink_impl *)s->impl)->kp); }

void prt_sink_kafka_row(prt_run *run, prt_sink *s, const prt_rec *rec, bool has_key) {
    prt_kprod_row(((sink_impl *)s->impl)->kp, &s->buf, has_key, rec ? prt_rec_position(run->impl, rec) : NULL,
                  rec ? rec->line : 0);
}

void prt_sink_kafka_row_at(prt_sink *s, const char *position) {
    prt_kprod_row(((sink_impl *)s->impl)->kp, &s->buf, false, position, 0);
}

bool prt_sink_is_file(const prt_sink *s) { return ((const sink_impl *)s->impl)->is_file; }

prt_sqlite *prt_sink_sqlite(const prt_sink *s) {
    return s && s->impl ? ((const sink_impl *)s->impl)->sq : NULL;
}

prt_pg *prt_sink_pg(const prt_sink *s) {
    return s && s->impl ? ((const sink_impl *)s->impl)->pg : NULL;
}

/* ---- database sinks: the driver's view of SQLite and PostgreSQL alike ---- */

bool prt_sink_is_db(const prt_sink *s) {
    const sink_impl *im = s->impl;
    return im->sq || im->pg;
}

const char *prt_sink_where(const prt_sink *s) { return ((const sink_impl *)s->impl)->path; }

int prt_sink_db_prepare(prt_sink *s, prt_run *run, prt_deadq *dead) {
    sink_impl *im = s->impl;
    return im->pg ? prt_pg_prepare(s, im->pg, run, dead) : 0;
}

void prt_sink_db_push(prt_sink *s) {
    sink_impl *im = s->impl;
    if (im->pg) prt_pg_push(s, im->pg);
}

int prt_sink_db_commit(prt_sink *s, const char *key, const void *ckpt, size_t len, prt_run *run,
                       prt_deadq *dead, prt_sink *attached) {
    sink_impl *im = s->impl;
    if (im->sq) return prt_sqlite_commit(s, key, ckpt, len);
    return prt_pg_commit(s, im->pg, key, ckpt, len, run, dead, attached, prt_sink_pg(attached));
}

int prt_sink_db_read_checkpoint(prt_sink *s, const char *key, prt_buf *out) {
    sink_impl *im = s->impl;
    if (im->sq) return prt_sqlite_read_checkpoint(s, key, out);
    return prt_pg_read_checkpoint(im->pg, key, out);
}

uint64_t prt_sink_pending_rows(const prt_sink *s) {
    const sink_impl *im = s->impl;
    return im->pg ? prt_pg_pending_rows(s, im->pg) : 0;
}

void prt_sink_row_src(prt_run *run, prt_sink *s, const prt_rec *rec) {
    sink_impl *im = s->impl;
    if (im->pg) prt_pg_row_src(im->pg, prt_rec_position(run->impl, rec), rec);
}

/* ---- tables ---- */

static size_t utf8_width(const char *p) {
    size_t w = 0;
    for (; *p; p++) w += ((unsigned char)*p & 0xC0) != 0x80;
    return w;
}

static bool numeric_looking(const char *p) {
    if (*p == '-' || *p == '+') p++;
    bool digits = false;
    while (*p >= '0' && *p <= '9') p++, digits = true;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, digits = true;
    }
    if (!digits) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == 0;
}

static void pad(prt_buf *b, size_t n) {
    while (n--) prt_buf_putc(b, ' ');
}

static void end_line(prt_buf *b) {
    while (b->len && b->data[b->len - 1] == ' ') b->len--;   /* like psql: no trailing blanks */
    prt_buf_putc(b, '\n');
}

static void render_table(prt_sink *s, prt_buf *o) {
    sink_impl *im = s->impl;
    const prt_sink_desc *d = s->desc;
    int nc = d->ncolumns;
    if (nc <= 0) return;
    for (int c = 0; c < nc; c++) im->widths[c] = utf8_width(d->columns[c]);
    size_t ncells = 0;
    for (size_t i = 0; i < s->buf.len; i += strlen(s->buf.data + i) + 1) {
        size_t w = utf8_width(s->buf.data + i);
        size_t c = ncells++ % (size_t)nc;
        if (w > im->widths[c]) im->widths[c] = w;
    }
    size_t nrows = ncells / (size_t)nc;
    for (int c = 0; c < nc; c++) {
        size_t w = utf8_width(d->columns[c]), left = (im->widths[c] - w) / 2;
        if (c) prt_buf_putc(o, '|');
        pad(o, 1 + left);
        prt_buf_put(o, d->columns[c], strlen(d->columns[c]));
        pad(o, im->widths[c] - w - left + 1);
    }
    end_line(o);
    for (int c = 0; c < nc; c++) {
        if (c) prt_buf_putc(o, '+');
        for (size_t k = 0; k < im->widths[c] + 2; k++) prt_buf_putc(o, '-');
    }
    prt_buf_putc(o, '\n');
    size_t i = 0;
    for (size_t r = 0; r < nrows; r++) {
        for (int c = 0; c < nc; c++) {
            const char *cell = s->buf.data + i;
            size_t n = strlen(cell), w = utf8_width(cell);
            i += n + 1;
            if (c) prt_buf_putc(o, '|');
            if (numeric_looking(cell)) {
                pad(o, 1 + im->widths[c] - w);
                prt_buf_put(o, cell, n);
                prt_buf_putc(o, ' ');
            } else {
                prt_buf_putc(o, ' ');
                prt_buf_put(o, cell, n);
                pad(o, im->widths[c] - w + 1);
            }
        }
        end_line(o);
    }
    char t[48];
    int n = snprintf(t, sizeof t, "(%zu row%s)\n\n", nrows, nrows == 1 ? "" : "s");
    prt_buf_put(o, t, (size_t)n);
    im->table_printed = true;
}

int prt_sink_flush(prt_sink *s) {
    sink_impl *im = s->impl;
    int rc = 0;
    if (im->sq || im->pg) return 0;   /* databases: rows are written only inside a commit's transaction */
    if (im->kp) {
        im->rows_flushed = s->rows;
        return prt_kprod_send(im->kp, &s->buf);
    }
    if (im->pq) {
        im->rows_flushed = s->rows;
        return prt_pqsink_take(im->pq, &s->buf);
    }
    if (s->desc->encoding == PRT_ENC_TABLE) {
        if (s->buf.len) {
            im->out.len = 0;
            render_table(s, &im->out);
            rc = write_all(s, im->out.data, im->out.len);
        }
    } else if (s->buf.len) {
        rc = write_all(s, s->buf.data, s->buf.len);
    }
    s->buf.len = 0;
    im->rows_flushed = s->rows;
    if (rc == 0) start_writeback(im);
    return rc;
}

int prt_sink_maybe_flush(prt_sink *s) {
    sink_impl *im = s->impl;
    if (im->sq || im->pg) return 0;
    if (s->buf.len >= FLUSH_BYTES ||
        (s->desc->encoding == PRT_ENC_TABLE && s->rows - im->rows_flushed >= TABLE_ROWS))
        return prt_sink_flush(s);
    return 0;
}

int prt_sink_commit(prt_sink *s, uint64_t *len) {
    sink_impl *im = s->impl;
    if (im->sq) {   /* one transaction with every buffered row, no checkpoint */
        if (len) *len = 0;
        return prt_sqlite_commit(s, NULL, NULL, 0);
    }
    if (im->pg) {   /* one transaction with every buffered row, no checkpoint (at least once) */
        if (len) *len = 0;
        return prt_pg_commit(s, im->pg, NULL, NULL, 0, NULL, NULL, NULL, NULL);
    }
    if (im->kp) {   /* every row produced and acknowledged */
        if (len) *len = 0;
        return prt_kprod_commit(im->kp, &s->buf);
    }
    if (im->pq) {   /* every open file finished under its temp name; the driver publishes them */
        if (len) *len = 0;
        return prt_pqsink_commit(im->pq, &s->buf);
    }
    /* A table on the terminal is not split at every commit: its rows wait (up to 2 s, or
     * TABLE_ROWS rows, or the end of the run) so that one table shows them together. */
    if (s->desc->encoding == PRT_ENC_TABLE && s->buf.len) {
        int64_t now = prt_now_us();
        if (!im->table_pending_since) im->table_pending_since = now;
        if (now - im->table_pending_since < 2000000) {
            if (len) *len = 0;
            return 0;
        }
    }
    im->table_pending_since = 0;
    if (prt_sink_flush(s) != 0) return -1;
    if (im->is_file && fsync(im->fd) != 0) {
        prt_log_error("sink '%s': cannot fsync %s: %s", sink_name(s), im->path, strerror(errno));
        return -1;
    }
    if (len) *len = im->file_len;
    return 0;
}

int prt_sink_finish(prt_sink *s) {
    sink_impl *im = s->impl;
    if (im->sq || im->pg || im->kp || im->pq) return 0;
    if (s->desc->encoding == PRT_ENC_TABLE && s->buf.len) return prt_sink_flush(s);
    if (s->desc->encoding == PRT_ENC_TABLE && !im->table_printed) {
        im->out.len = 0;
        render_table(s, &im->out);
        return write_all(s, im->out.data, im->out.len);
    }
    return 0;
}

void prt_sink_close(prt_sink *s) {
    if (!s) return;
    sink_impl *im = s->impl;
    prt_sqlite_close(im->sq);   /* rows not committed are dropped */
    if (im->pg) prt_pg_close(im->pg);
    if (im->kp) prt_kprod_close(im->kp);
    if (im->pq) prt_pqsink_close(im->pq);
    if (im->owns_fd) close(im->fd);
    free(im->path);
    free(im->widths);
    prt_buf_free(&im->out);
    free(im);
    prt_buf_free(&s->buf);
    free(s);
}
