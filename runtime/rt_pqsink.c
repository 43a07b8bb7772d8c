/* rt_pqsink.c - the parquet sink: typed rows (PRT_ENC_ROWS) become Parquet files in a folder,
 * one open file per partition value (hive-style folders NAME=VALUE/, from the last npartition
 * columns of each row, which the files themselves leave out). A file is written under a hidden
 * temp name (.part-SEQ-N.parquet.tmp) and finished, fsynced, at the commit (or earlier, when
 * roll_rows is reached); the driver lists the final names in the commit's checkpoint and renames
 * the files only after that checkpoint is durable (prt_pqsink_publish). On open, the renames of
 * the checkpoint the run resumes from are redone where the temp file is still there, and every
 * other temp file of the folder is deleted: that work was not committed and the replay writes it
 * again. See docs/delivery.md "Parquet sinks". */
#include "rt_internal.h"
#include "rt_parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ROW_GROUP_BYTES = 16 << 20 };   /* a row group is ended when its values hold this much */

/* One open file: a partition's rows since its last roll or commit. */
typedef struct pq_file {
    char *part;                /* the partition's folder, relative ("" without partitions) */
    char *tmp, *final;         /* full paths */
    int fd;
    pq_writer *w;
    prt_buf pend;              /* rows taken but not yet appended to w */
    uint64_t pend_rows;
} pq_file;

struct prt_pqsink {
    const prt_sink_desc *d;
    char *root;
    int ndata;                 /* columns in the files: the first ndata of each row */
    pq_column *cols;
    const char *kv[4];         /* pipec.pipeline, pipec.spec */
    char fingerprint[17];
    pq_file **open;
    int nopen, capopen;
    char **ready;              /* final paths of the files finished for the next commit */
    int nready, capready;
    uint64_t seq;              /* the commit the files being written belong to */
    int counter;               /* files named in this commit so far */
    prt_buf key;               /* the current row's partition folder */
    int64_t memory;            /* what all open files may buffer (limits.memory), 0 = no bound */
};

static pq_type column_type(prt_col_type t) {
    switch (t) {
    case PRT_T_BOOL: return PQ_BOOLEAN;
    case PRT_T_INT32: return PQ_INT32;
    case PRT_T_INT64: return PQ_INT64;
    case PRT_T_FLOAT64: return PQ_DOUBLE;
    case PRT_T_TIMESTAMP: return PQ_TIMESTAMP_US;
    case PRT_T_DATE: return PQ_DATE;
    default: return PQ_STRING;
    }
}

static char *path_join(const char *a, const char *b) {
    char *p;
    if (asprintf(&p, "%s%s%s", a, *b ? "/" : "", b) < 0) abort();
    return p;
}

/* The temp name of a final path: ".BASE.tmp" in the same folder. */
static char *temp_of(const char *final) {
    const char *slash = strrchr(final, '/');
    size_t dn = slash ? (size_t)(slash - final + 1) : 0;
    char *p;
    if (asprintf(&p, "%.*s.%s.tmp", (int)dn, final, final + dn) < 0) abort();
    return p;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        prt_log_error("parquet sink: cannot fsync folder %s: %s", dir, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* The folder of a path (a copy). */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    char *p = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!p) abort();
    return p;
}

/* fsyncs the folders from `dir` up to and including the sink's root, so new partition folders
 * and the entries in them are durable. */
static int fsync_up_to_root(const prt_pqsink *q, const char *dir) {
    char *cur = strdup(dir);
    if (!cur) abort();
    int rc = 0;
    size_t rootlen = strlen(q->root);
    for (;;) {
        if (fsync_dir(cur) != 0) { rc = -1; break; }
        if (strlen(cur) <= rootlen) break;
        char *up = dir_of(cur);
        free(cur);
        cur = up;
    }
    free(cur);
    return rc;
}

/* ---- recovery at open ---- */

static bool fresh_start;       /* nftw has no context pointer: the walk's mode */

static int clean_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    const char *base = path + ftw->base;
    if (type != FTW_F) return 0;
    bool temp = fnmatch(".part-*.parquet.tmp", base, 0) == 0;
    bool done = fresh_start && fnmatch("part-*.parquet", base, 0) == 0;
    if ((temp || done) && unlink(path) != 0 && errno != ENOENT) {
        prt_log_error("parquet sink: cannot delete %s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

/* Redoes the renames of the checkpoint that fall in this sink's folder, then deletes every other
 * temp file (and, without a checkpoint, the files of earlier runs). */
static int recover(prt_pqsink *q, const prt_ckpt *ck) {
    size_t rootlen = strlen(q->root);
    for (int i = 0; ck && i < ck->npublish; i++) {
        const char *final = ck->publish[i];
        if (strncmp(final, q->root, rootlen) != 0 || final[rootlen] != '/') continue;
        char *tmp = temp_of(final);
        int rc = 0;
        if (access(tmp, F_OK) == 0) {
            char *dir = dir_of(final);
            if (rename(tmp, final) != 0) {
                prt_log_error("sink '%s': cannot rename %s: %s", q->d->name, tmp, strerror(errno));
                rc = -1;
            } else {
                rc = fsync_dir(dir);
            }
            free(dir);
        }
        free(tmp);
        if (rc) return -1;
    }
    fresh_start = !ck;
    if (nftw(q->root, clean_entry, 16, FTW_PHYS) != 0) {
        prt_log_error("sink '%s': cannot clean up folder %s", q->d->name, q->root);
        return -1;
    }
    return 0;
}

prt_pqsink *prt_pqsink_open(const prt_sink_desc *d, const char *pipeline, uint64_t fingerprint, const char *root,
                            const prt_ckpt *ck, uint64_t seq) {
    prt_pqsink *q = calloc(1, sizeof *q);
    if (!q) abort();
    q->d = d;
    q->root = strdup(root);
    if (!q->root) abort();
    size_t n = strlen(q->root);
    while (n > 1 && q->root[n - 1] == '/') q->root[--n] = 0;
    q->ndata = d->ncolumns - d->npartition;
    q->cols = calloc((size_t)(q->ndata > 0 ? q->ndata : 1), sizeof *q->cols);
    if (!q->cols) abort();
    for (int i = 0; i < q->ndata; i++)
        q->cols[i] = (pq_column){d->columns[i], column_type(d->column_types[i]), d->column_nullable[i] != 0};
    snprintf(q->fingerprint, sizeof q->fingerprint, "%016" PRIx64, fingerprint);
    q->kv[0] = "pipec.pipeline";
    q->kv[1] = pipeline;
    q->kv[2] = "pipec.spec";
    q->kv[3] = q->fingerprint;
    q->seq = seq + 1;
    if (prt_mkdir_p(q->root) != 0 || recover(q, ck) != 0) {
        prt_pqsink_close(q);
        return NULL;
    }
    return q;
}

/* ---- rows ---- */

/* The size of the value at p (its tag and payload), or 0 when the buffer is malformed. */
static size_t value_size(const char *p, const char *end) {
    if (p >= end) return 0;
    size_t n;
    switch (*p) {
    case PRT_V_NULL: n = 1; break;
    case PRT_V_BOOL: n = 2; break;
    case PRT_V_DATE: n = 5; break;
    case PRT_V_STR: {
        uint32_t len;
        if (end - p < 5) return 0;
        memcpy(&len, p + 1, 4);
        n = 5 + (size_t)len;
        break;
    }
    default: n = 9;
    }
    return (size_t)(end - p) >= n ? n : 0;
}

/* Hive's text of a partition value, percent-escaping '/', '=', '%' and control bytes. */
static void put_escaped(prt_buf *b, const char *p, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '/' || c == '=' || c == '%' || c < 0x20 || c == 0x7f) {
            prt_buf_putc(b, '%');
            prt_buf_putc(b, hex[c >> 4]);
            prt_buf_putc(b, hex[c & 15]);
        } else {
            prt_buf_putc(b, (char)c);
        }
    }
}

/* Appends NAME=VALUE of the partition value at p to q->key. */
static void put_partition(prt_pqsink *q, const char *name, const char *p) {
    prt_buf *b = &q->key;
    prt_buf text = {0};
    if (b->len) prt_buf_putc(b, '/');
    put_escaped(b, name, strlen(name));
    prt_buf_putc(b, '=');
    int64_t i64;
    double f64;
    int32_t days;
    uint32_t n;
    switch (*p) {
    case PRT_V_NULL: prt_buf_lit(b, "__HIVE_DEFAULT_PARTITION__"); return;
    case PRT_V_BOOL: prt_buf_put(&text, p[1] ? "true" : "false", p[1] ? 4 : 5); break;
    case PRT_V_I64: memcpy(&i64, p + 1, 8); prt_buf_put_i64(&text, i64); break;
    case PRT_V_F64: memcpy(&f64, p + 1, 8); prt_buf_put_f64(&text, f64); break;
    case PRT_V_TS: memcpy(&i64, p + 1, 8); prt_buf_put_timestamp(&text, i64); break;
    case PRT_V_DATE: memcpy(&days, p + 1, 4); prt_buf_put_date(&text, days); break;
    default: memcpy(&n, p + 1, 4); prt_buf_put(&text, p + 5, n);
    }
    put_escaped(b, text.data, text.len);
    prt_buf_free(&text);
}

static pq_file *open_file(prt_pqsink *q, const char *part) {
    pq_file *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->part = strdup(part);
    if (!f->part) abort();
    char *dir = path_join(q->root, part), *name;
    if (asprintf(&name, "part-%06" PRIu64 "-%04d.parquet", q->seq, q->counter++) < 0) abort();
    f->final = path_join(dir, name);
    f->tmp = temp_of(f->final);
    free(name);
    f->fd = -1;
    if (prt_mkdir_p(dir) == 0) {
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (f->fd < 0) prt_log_error("sink '%s': cannot create %s: %s", q->d->name, f->tmp, strerror(errno));
    }
    free(dir);
    f->w = pq_writer_new(q->cols, q->ndata, q->d->compression == PRT_COMPRESS_NONE ? PQ_UNCOMPRESSED
                                            : q->d->compression == PRT_COMPRESS_SNAPPY ? PQ_SNAPPY : PQ_ZSTD,
                         0, q->kv, 2);
    return f;
}

static void free_file(pq_file *f) {
    if (f->fd >= 0) close(f->fd);
    pq_writer_free(f->w);
    prt_buf_free(&f->pend);
    free(f->part);
    free(f->tmp);
    free(f->final);
    free(f);
}

/* How much a file's row group may hold: ROW_GROUP_BYTES, or under a memory bound its share of
 * it (at least 1 MiB, so a row group never gets tiny). */
static size_t row_group_bytes(const prt_pqsink *q) {
    if (!q->memory) return ROW_GROUP_BYTES;
    int64_t share = q->memory / (q->nopen > 0 ? q->nopen : 1);
    return share >= ROW_GROUP_BYTES ? ROW_GROUP_BYTES : share < (1 << 20) ? (size_t)1 << 20 : (size_t)share;
}

void prt_pqsink_set_memory(prt_pqsink *q, int64_t bytes) { q->memory = bytes; }

/* Hands the taken rows to the writer; ends a row group when it holds enough. */
static int append_pending(prt_pqsink *q, pq_file *f) {
    if (f->fd < 0) return -1;
    if (f->pend.len && pq_append_rows(f->w, f->pend.data, f->pend.len) != 0) goto bad;
    f->pend.len = 0;
    f->pend_rows = 0;
    if (pq_buffered_bytes(f->w) >= row_group_bytes(q) && pq_end_row_group(f->w, f->fd) != 0) goto bad;
    return 0;
bad:
    prt_log_error("sink '%s': %s: %s", q->d->name, f->tmp, pq_writer_error(f->w));
    return -1;
}

/* Finishes a file (footer, fsync; its folders fsynced) and moves it to the ready list. */
static int finish_file(prt_pqsink *q, int i) {
    pq_file *f = q->open[i];
    q->open[i] = q->open[--q->nopen];
    int rc = append_pending(q, f);
    if (rc == 0 && pq_finish(f->w, f->fd) != 0) {
        prt_log_error("sink '%s': %s: %s", q->d->name, f->tmp, pq_writer_error(f->w));
        rc = -1;
    }
    if (rc == 0 && fsync(f->fd) != 0) {
        prt_log_error("sink '%s': cannot fsync %s: %s", q->d->name, f->tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        char *dir = dir_of(f->tmp);
        rc = fsync_up_to_root(q, dir);
        free(dir);
    }
    if (rc == 0) {
        if (q->nready == q->capready) {
            q->capready = q->capready ? 2 * q->capready : 16;
            q->ready = realloc(q->ready, sizeof *q->ready * (size_t)q->capready);
            if (!q->ready) abort();
        }
        q->ready[q->nready++] = f->final;
        f->final = NULL;
    }
    free_file(f);
    return rc;
}

static int find_file(prt_pqsink *q, const char *part) {
    for (int i = q->nopen - 1; i >= 0; i--)
        if (strcmp(q->open[i]->part, part) == 0) return i;
    if (q->nopen == q->capopen) {
        q->capopen = q->capopen ? 2 * q->capopen : 16;
        q->open = realloc(q->open, sizeof *q->open * (size_t)q->capopen);
        if (!q->open) abort();
    }
    q->open[q->nopen] = open_file(q, part);
    return q->nopen++;
}

int prt_pqsink_take(prt_pqsink *q, prt_buf *buf) {
    const char *p = buf->data, *end = buf->data + buf->len;
    const prt_sink_desc *d = q->d;
    int last = -1, rc = 0;
    while (p < end && rc == 0) {
        const char *row = p;
        for (int c = 0; c < q->ndata; c++) {
            size_t n = value_size(p, end);
            if (!n) goto malformed;
            p += n;
        }
        const char *data_end = p;
        q->key.len = 0;
        for (int c = q->ndata; c < d->ncolumns; c++) {
            size_t n = value_size(p, end);
            if (!n) goto malformed;
            put_partition(q, d->columns[c], p);
            p += n;
        }
        prt_buf_putc(&q->key, 0);
        if (last < 0 || last >= q->nopen || strcmp(q->open[last]->part, q->key.data) != 0)
            last = find_file(q, q->key.data);
        pq_file *f = q->open[last];
        prt_buf_put(&f->pend, row, (size_t)(data_end - row));
        f->pend_rows++;
        if (d->roll_rows && (uint64_t)pq_rows(f->w) + f->pend_rows >= d->roll_rows) {
            rc = finish_file(q, last);
            last = -1;
        }
    }
    for (int i = 0; i < q->nopen && rc == 0; i++) rc = append_pending(q, q->open[i]);
    buf->len = 0;
    return rc;
malformed:
    prt_log_error("sink '%s': a malformed row (a bug in the generated code)", d->name);
    buf->len = 0;
    return -1;
}

int prt_pqsink_commit(prt_pqsink *q, prt_buf *buf) {
    if (prt_pqsink_take(q, buf) != 0) return -1;
    while (q->nopen)
        if (finish_file(q, q->nopen - 1) != 0) return -1;
    return 0;
}

void prt_pqsink_ready(const prt_pqsink *q, char *const **paths, int *n) {
    *paths = q->ready;
    *n = q->nready;
}

int prt_pqsink_publish(prt_pqsink *q) {
    int rc = 0;
    for (int i = 0; i < q->nready; i++) {
        char *tmp = temp_of(q->ready[i]);
        if (rc == 0 && rename(tmp, q->ready[i]) != 0) {
            prt_log_error("sink '%s': cannot rename %s: %s", q->d->name, tmp, strerror(errno));
            rc = -1;
        }
        free(tmp);
    }
    for (int i = 0; i < q->nready && rc == 0; i++) {
        char *dir = dir_of(q->ready[i]);
        bool seen = false;   /* each folder once */
        for (int j = 0; j < i && !seen; j++) {
            char *other = dir_of(q->ready[j]);
            seen = strcmp(other, dir) == 0;
            free(other);
        }
        if (!seen) rc = fsync_dir(dir);
        free(dir);
    }
    for (int i = 0; i < q->nready; i++) free(q->ready[i]);
    q->nready = 0;
    q->seq++;
    q->counter = 0;
    return rc;
}

void prt_pqsink_close(prt_pqsink *q) {
    if (!q) return;
    for (int i = 0; i < q->nopen; i++) free_file(q->open[i]);   /* uncommitted: temp files stay, deleted at the next start */
    for (int i = 0; i < q->nready; i++) free(q->ready[i]);
    free(q->open);
    free(q->ready);
    free(q->cols);
    free(q->root);
    prt_buf_free(&q->key);
    free(q);
}

void prt_use_parquet(void) {}   /* a strong reference: links this file (and libzstd, libsnappy) */
