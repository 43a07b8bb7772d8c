/* rt_parquet.h - a Parquet file writer (rt_parquet.c): flat schemas of the pipeline's value types,
 * rows appended from typed row buffers (PRT_ENC_ROWS), row groups written as they are ended, then
 * the footer. See docs/internals.md "Parquet files" for what is written.
 *
 * Usage: w = pq_writer_new(...); then any number of pq_append_rows, with pq_end_row_group(w, fd)
 * whenever pq_buffered_bytes(w) is large enough; then pq_finish(w, fd) and pq_writer_free(w).
 * The caller owns the fd (opened at the file's start: offsets in the file are counted from the
 * first byte this writer writes) and makes it durable. Every function that can fail returns -1
 * with a message in pq_writer_error(w); after a failed write the writer refuses further work. */
#ifndef PIPEC_RT_PARQUET_H
#define PIPEC_RT_PARQUET_H
#include "pipec_rt.h"

/* Column types and what they are in the file: BOOLEAN; INT32 and INT64 (signed integers);
 * DOUBLE; STRING (BYTE_ARRAY, UTF-8 as given); TIMESTAMP_US (INT64 microseconds since the epoch,
 * adjusted to UTC); DATE (INT32 days since the epoch). */
typedef enum { PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_DOUBLE, PQ_STRING, PQ_TIMESTAMP_US, PQ_DATE } pq_type;
typedef enum { PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_ZSTD } pq_codec;
typedef struct {
    const char *name;
    pq_type type;
    bool nullable;             /* OPTIONAL; otherwise REQUIRED and a NULL is refused */
} pq_column;

typedef struct pq_writer pq_writer;

/* A writer of ncols columns (names copied) whose pages are compressed with codec at level (zstd:
 * 1..22, 0 = the codec's default; ignored by the others). kv: key-value metadata for the footer
 * as key, value, key, value..., nkv pairs (copied). Never NULL (aborts on OOM). */
pq_writer *pq_writer_new(const pq_column *cols, int ncols, pq_codec codec, int level,
                         const char *const *kv, int nkv);
/* Appends the rows of a typed row buffer (prt_row_* in pipec_rt.h): each row ncols values, one
 * per column in order, tagged by column type: BOOLEAN PRT_V_BOOL, INT32 and INT64 PRT_V_I64 (an
 * INT32 value must fit), DOUBLE PRT_V_F64, STRING PRT_V_STR, TIMESTAMP_US PRT_V_TS, DATE
 * PRT_V_DATE, or PRT_V_NULL in a nullable column. All or nothing: -1 (nothing appended) on a
 * malformed buffer, a partial row, a value of another type, an INT32 out of range or a NULL in a
 * column that is not nullable. */
int pq_append_rows(pq_writer *w, const char *buf, size_t len);
/* The bytes held for the current row group (about its uncompressed size): end a row group when
 * this is large enough. */
size_t pq_buffered_bytes(const pq_writer *w);
/* Rows appended so far, over all row groups. */
int64_t pq_rows(const pq_writer *w);
/* Encodes the rows appended since the last row group as one row group and writes it to fd (the
 * first write of a file starts with "PAR1"). Nothing when no row is buffered. */
int pq_end_row_group(pq_writer *w, int fd);
/* Ends the last row group and writes the footer (FileMetaData), its length and "PAR1". A file of
 * 0 rows has no row group. After it the writer only answers pq_rows and pq_writer_error. */
int pq_finish(pq_writer *w, int fd);
/* The last error ("" when none). */
const char *pq_writer_error(const pq_writer *w);
void pq_writer_free(pq_writer *w);

#endif
