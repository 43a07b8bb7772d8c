/* rt_parquet.c - the Parquet writer of rt_parquet.h. Rows are kept per column as PLAIN-encoded
 * values, definition levels and statistics; pq_end_row_group encodes each column chunk (a
 * dictionary page when a dictionary pays, then data pages v1 of about PQ_PAGE_BYTES), writes the
 * row group and keeps its RowGroup metadata (Thrift compact, rt_thrift.h) for the footer. */
#include "rt_parquet.h"

#include "rt_internal.h"
#include "rt_pq_encode.h"
#include "rt_thrift.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Parquet's PLAIN encoding is little-endian; values are copied in host order"
#endif

enum {
    PQ_PAGE_BYTES = 1 << 20,    /* a data page's values, before compression, about this much */
    PQ_PAGE_ROWS = 20000,       /* and at most this many rows */
    PQ_DICT_MAX_BYTES = 1 << 20 /* a dictionary page's values at most this much */
};

/* parquet.thrift's enum values */
enum { T_BOOLEAN = 0, T_INT32 = 1, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { CT_UTF8 = 0, CT_DATE = 6, CT_TIMESTAMP_MICROS = 10, CT_INT_32 = 17, CT_INT_64 = 18 };
enum { CODEC_UNCOMPRESSED = 0, CODEC_SNAPPY = 1, CODEC_ZSTD = 6 };

/* One column of the row group being collected. */
typedef struct pq_col {
    char *name;
    pq_type type;
    bool nullable;
    prt_buf plain;        /* the non-null values, PLAIN (strings with their 4-byte length);
                             booleans one byte each, packed when a page is made */
    prt_buf value_off;    /* strings: size_t offset of each value in plain */
    prt_buf defs;         /* nullable: one byte per row, 1 = a value, 0 = NULL */
    size_t nvalues;       /* non-null values */
    int64_t nulls;
    bool has_minmax;      /* min/max of the non-null values (NaN skipped) */
    int64_t min_i, max_i;
    double min_f, max_f;
    size_t min_s, max_s;  /* strings: offsets in plain */
} pq_col;

/* What the footer needs of one written column chunk. */
typedef struct pq_chunk_meta {
    int64_t start, data_page_offset, dictionary_page_offset;   /* dictionary: -1 when none */
    int64_t uncompressed, compressed;                           /* headers included */
} pq_chunk_meta;

struct pq_writer {
    pq_col *cols;
    int ncols;
    int codec;            /* CODEC_* */
    int level;
    char **kv;
    int nkv;
    int64_t rows_total, rows_group;
    int64_t offset;       /* bytes written to the file */
    bool finished, broken;
    prt_buf group;        /* the row group being encoded (and "PAR1" before the first) */
    prt_buf page, zpage, header;
    prt_buf row_groups;   /* RowGroup structs of the groups written, back to back */
    int nrow_groups;
    pq_chunk_meta *meta;  /* per column, of the row group being encoded */
    char err[256];
};

static int fail(pq_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(pq_writer *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return -1;
}

static char *copy_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (!c) abort();
    return memcpy(c, s, n);
}

static void *alloc_zeroed(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

pq_writer *pq_writer_new(const pq_column *cols, int ncols, pq_codec codec, int level,
                         const char *const *kv, int nkv) {
    pq_writer *w = alloc_zeroed(1, sizeof *w);
    w->cols = alloc_zeroed((size_t)ncols, sizeof *w->cols);
    w->meta = alloc_zeroed((size_t)ncols, sizeof *w->meta);
    w->ncols = ncols;
    for (int c = 0; c < ncols; c++) {
        w->cols[c].name = copy_str(cols[c].name);
        w->cols[c].type = cols[c].type;
        w->cols[c].nullable = cols[c].nullable;
    }
    w->codec = codec == PQ_SNAPPY ? CODEC_SNAPPY : codec == PQ_ZSTD ? CODEC_ZSTD : CODEC_UNCOMPRESSED;
    w->level = level;
    w->kv = alloc_zeroed((size_t)nkv * 2, sizeof *w->kv);
    w->nkv = nkv;
    for (int i = 0; i < 2 * nkv; i++) w->kv[i] = copy_str(kv[i]);
    return w;
}

void pq_writer_free(pq_writer *w) {
    if (!w) return;
    for (int c = 0; c < w->ncols; c++) {
        free(w->cols[c].name);
        prt_buf_free(&w->cols[c].plain);
        prt_buf_free(&w->cols[c].value_off);
        prt_buf_free(&w->cols[c].defs);
    }
    for (int i = 0; i < 2 * w->nkv; i++) free(w->kv[i]);
    free(w->kv);
    free(w->cols);
    free(w->meta);
    prt_buf_free(&w->group);
    prt_buf_free(&w->page);
    prt_buf_free(&w->zpage);
    prt_buf_free(&w->header);
    prt_buf_free(&w->row_groups);
    free(w);
}

const char *pq_writer_error(const pq_writer *w) { return w->err; }
int64_t pq_rows(const pq_writer *w) { return w->rows_total; }

size_t pq_buffered_bytes(const pq_writer *w) {
    size_t n = 0;
    for (int c = 0; c < w->ncols; c++)
        n += w->cols[c].plain.len + w->cols[c].value_off.len + w->cols[c].defs.len;
    return n;
}

/* ---- appending rows --------------------------------------------------------------------- */

static const char *type_name(pq_type t) {
    static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "DOUBLE", "STRING", "TIMESTAMP_US", "DATE"};
    return names[t];
}

static char tag_of(pq_type t) {
    static const char tags[] = {PRT_V_BOOL, PRT_V_I64, PRT_V_I64, PRT_V_F64, PRT_V_STR, PRT_V_TS, PRT_V_DATE};
    return tags[t];
}

/* Memory order of two strings' bytes (unsigned), a prefix first. */
static int cmp_bytes(const char *a, uint32_t na, const char *b, uint32_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static const char *plain_str(const pq_col *col, size_t off, uint32_t *n) {
    memcpy(n, col->plain.data + off, 4);
    return col->plain.data + off + 4;
}

static void add_minmax_int(pq_col *col, int64_t v) {
    if (!col->has_minmax || v < col->min_i) col->min_i = v;
    if (!col->has_minmax || v > col->max_i) col->max_i = v;
    col->has_minmax = true;
}

static void add_value(pq_col *col, const prt_rowval *v) {
    switch (col->type) {
    case PQ_BOOLEAN:
        prt_buf_putc(&col->plain, v->b);
        add_minmax_int(col, v->b);
        break;
    case PQ_INT32: {
        int32_t x = (int32_t)v->i;
        prt_buf_put(&col->plain, &x, 4);
        add_minmax_int(col, x);
        break;
    }
    case PQ_DATE:
        prt_buf_put(&col->plain, &v->days, 4);
        add_minmax_int(col, v->days);
        break;
    case PQ_INT64:
    case PQ_TIMESTAMP_US:
        prt_buf_put(&col->plain, &v->i, 8);
        add_minmax_int(col, v->i);
        break;
    case PQ_DOUBLE:
        prt_buf_put(&col->plain, &v->f, 8);
        if (isnan(v->f)) break;
        if (!col->has_minmax || v->f < col->min_f) col->min_f = v->f;
        if (!col->has_minmax || v->f > col->max_f) col->max_f = v->f;
        col->has_minmax = true;
        break;
    case PQ_STRING: {
        size_t off = col->plain.len;
        prt_buf_put(&col->value_off, &off, sizeof off);
        prt_buf_put(&col->plain, &v->n, 4);
        prt_buf_put(&col->plain, v->s, v->n);
        uint32_t n;
        const char *s;
        if (!col->has_minmax || (s = plain_str(col, col->min_s, &n), cmp_bytes(v->s, v->n, s, n) < 0))
            col->min_s = off;
        if (!col->has_minmax || (s = plain_str(col, col->max_s, &n), cmp_bytes(v->s, v->n, s, n) > 0))
            col->max_s = off;
        col->has_minmax = true;
        break;
    }
    }
    col->nvalues++;
}

/* Walks the rows of buf: checks every value (apply false) or appends them (apply true, after a
 * check passed). */
static int walk_rows(pq_writer *w, const char *buf, size_t len, bool apply) {
    const char *p = buf, *end = buf + len;
    int64_t row = 0;
    while (p < end) {
        for (int c = 0; c < w->ncols; c++) {
            pq_col *col = &w->cols[c];
            prt_rowval v;
            if (!prt_row_value(&p, end, &v))
                return fail(w, "row %lld, column %s: malformed or partial row", (long long)row, col->name);
            if (v.tag == PRT_V_NULL) {
                if (!col->nullable)
                    return fail(w, "row %lld, column %s: NULL in a column that is not nullable", (long long)row, col->name);
            } else if (v.tag != tag_of(col->type)) {
                return fail(w, "row %lld, column %s: a value of tag %d in a %s column", (long long)row, col->name, v.tag, type_name(col->type));
            } else if (col->type == PQ_INT32 && (v.i < INT32_MIN || v.i > INT32_MAX)) {
                return fail(w, "row %lld, column %s: %lld does not fit INT32", (long long)row, col->name, (long long)v.i);
            }
            if (!apply) continue;
            if (col->nullable) prt_buf_putc(&col->defs, v.tag != PRT_V_NULL);
            if (v.tag == PRT_V_NULL) col->nulls++;
            else add_value(col, &v);
        }
        row++;
    }
    if (apply) {
        w->rows_group += row;
        w->rows_total += row;
    }
    return 0;
}

int pq_append_rows(pq_writer *w, const char *buf, size_t len) {
    if (w->finished || w->broken) return fail(w, "the writer is %s", w->finished ? "finished" : "broken by a failed write");
    if (w->ncols == 0) return len ? fail(w, "rows for a writer without columns") : 0;
    if (walk_rows(w, buf, len, false) < 0) return -1;
    return walk_rows(w, buf, len, true);
}

/* ---- encoding a row group ---------------------------------------------------------------- */

static int physical_type(pq_type t) {
    static const int types[] = {T_BOOLEAN, T_INT32, T_INT64, T_DOUBLE, T_BYTE_ARRAY, T_INT64, T_INT32};
    return types[t];
}

/* Where value v (0..nvalues) starts in col->plain. */
static size_t value_start(const pq_col *col, size_t v) {
    if (v == col->nvalues) return col->plain.len;
    switch (col->type) {
    case PQ_BOOLEAN: return v;
    case PQ_INT32:
    case PQ_DATE: return 4 * v;
    case PQ_STRING: return ((const size_t *)col->value_off.data)[v];
    default: return 8 * v;
    }
}

/* Dictionary-encodes a column (not BOOLEAN) when it pays: fewer distinct values than half the
 * values and at most PQ_DICT_MAX_BYTES of them. Then dict holds the distinct values (PLAIN, in order of first
 * appearance), index[v] each value's entry and *nentries their count; otherwise false. */
static bool build_dictionary(const pq_col *col, uint32_t *index, prt_buf *dict, size_t *nentries) {
    if (col->nvalues < 3) return false;
    size_t limit = (col->nvalues - 1) / 2;
    size_t cap = 16;
    while (cap < 2 * limit + 2) cap <<= 1;
    uint32_t *slots = alloc_zeroed(cap, sizeof *slots);       /* entry + 1; 0 = empty */
    size_t *entry_off = alloc_zeroed(limit + 1, sizeof *entry_off);
    size_t n = 0;
    bool ok = true;
    for (size_t v = 0; v < col->nvalues; v++) {
        size_t from = value_start(col, v), len = value_start(col, v + 1) - from;
        const char *p = col->plain.data + from;
        size_t i = prt_hash_bytes(p, len, 0) & (cap - 1);
        for (; slots[i]; i = (i + 1) & (cap - 1)) {
            size_t e = slots[i] - 1, elen = (e + 1 < n ? entry_off[e + 1] : dict->len) - entry_off[e];
            if (elen == len && memcmp(dict->data + entry_off[e], p, len) == 0) break;
        }
        if (!slots[i]) {
            if (n == limit || dict->len + len > PQ_DICT_MAX_BYTES) {
                ok = false;
                break;
            }
            entry_off[n] = dict->len;
            prt_buf_put(dict, p, len);
            slots[i] = (uint32_t)++n;
        }
        index[v] = slots[i] - 1;
    }
    free(slots);
    free(entry_off);
    *nentries = n;
    return ok;
}

/* Compresses w->page and appends its header and body to the row group. */
static int put_page(pq_writer *w, pq_chunk_meta *m, int type, size_t num_values, int encoding) {
    if (w->page.len > INT32_MAX) return fail(w, "a page of %zu bytes is too large", w->page.len);
    w->zpage.len = 0;
    if (pq_compress(&w->zpage, w->codec, w->level, w->page.data, w->page.len) < 0)
        return fail(w, "compressing a page failed");
    if (w->zpage.len > INT32_MAX) return fail(w, "a compressed page of %zu bytes is too large", w->zpage.len);
    prt_thrift t;
    w->header.len = 0;
    prt_th_begin(&t, &w->header);
    prt_th_i32(&t, 1, type);
    prt_th_i32(&t, 2, (int32_t)w->page.len);
    prt_th_i32(&t, 3, (int32_t)w->zpage.len);
    if (type == PAGE_DICTIONARY) {
        prt_th_struct(&t, 7);
        prt_th_i32(&t, 1, (int32_t)num_values);
        prt_th_i32(&t, 2, ENC_PLAIN);
    } else {
        prt_th_struct(&t, 5);
        prt_th_i32(&t, 1, (int32_t)num_values);
        prt_th_i32(&t, 2, encoding);
        prt_th_i32(&t, 3, ENC_RLE);
        prt_th_i32(&t, 4, ENC_RLE);
    }
    prt_th_end(&t);
    prt_th_end(&t);
    prt_buf_put(&w->group, w->header.data, w->header.len);
    prt_buf_put(&w->group, w->zpage.data, w->zpage.len);
    m->uncompressed += (int64_t)(w->header.len + w->page.len);
    m->compressed += (int64_t)(w->header.len + w->zpage.len);
    return 0;
}

/* One data page of rows [row, row_end) holding values [v, v_end): definition levels (nullable
 * columns, with their 4-byte length), then PLAIN values or the dictionary indices. */
static int put_data_page(pq_writer *w, pq_chunk_meta *m, const pq_col *col, size_t row, size_t row_end,
                         size_t v, size_t v_end, const uint32_t *index, int width) {
    w->page.len = 0;
    if (col->nullable) {
        prt_buf_put(&w->page, "\0\0\0\0", 4);
        pq_put_hybrid_bits(&w->page, (const uint8_t *)col->defs.data + row, row_end - row);
        uint32_t n = (uint32_t)(w->page.len - 4);
        memcpy(w->page.data, &n, 4);
    }
    if (index) {
        prt_buf_putc(&w->page, (char)width);
        pq_put_hybrid(&w->page, index + v, v_end - v, width);
    } else if (v_end == v) {
        /* a page of NULLs only: no values (and plain.data may be NULL: no pointer arithmetic) */
    } else if (col->type == PQ_BOOLEAN) {
        pq_put_bool_bits(&w->page, (const uint8_t *)col->plain.data + v, v_end - v);
    } else {
        size_t from = value_start(col, v);
        prt_buf_put(&w->page, col->plain.data + from, value_start(col, v_end) - from);
    }
    return put_page(w, m, PAGE_DATA, row_end - row, index ? ENC_RLE_DICTIONARY : ENC_PLAIN);
}

/* A column chunk: a dictionary page when the dictionary pays, then the data pages, each of at
 * most PQ_PAGE_ROWS rows and about PQ_PAGE_BYTES of values. */
static int put_chunk(pq_writer *w, int c) {
    pq_col *col = &w->cols[c];
    pq_chunk_meta *m = &w->meta[c];
    *m = (pq_chunk_meta){.start = w->offset + (int64_t)w->group.len, .dictionary_page_offset = -1};
    uint32_t *index = col->type == PQ_BOOLEAN ? NULL : alloc_zeroed(col->nvalues, sizeof *index);
    size_t nentries = 0;
    w->page.len = 0;
    bool dict = index && build_dictionary(col, index, &w->page, &nentries);
    int width = dict ? pq_bit_width((uint32_t)(nentries - 1)) : 0;
    int rc = 0;
    if (dict) {
        m->dictionary_page_offset = m->start;
        rc = put_page(w, m, PAGE_DICTIONARY, nentries, ENC_PLAIN);
    }
    m->data_page_offset = w->offset + (int64_t)w->group.len;
    size_t rows = (size_t)w->rows_group, row = 0, v = 0;
    while (rc == 0 && row < rows) {
        size_t row_end = row, v_end = v;
        uint64_t bits = 0;
        while (row_end < rows && row_end - row < PQ_PAGE_ROWS && bits < (uint64_t)PQ_PAGE_BYTES * 8) {
            if (!col->nullable || col->defs.data[row_end]) {
                bits += dict ? (uint64_t)width
                        : col->type == PQ_BOOLEAN ? 1 : 8 * (uint64_t)(value_start(col, v_end + 1) - value_start(col, v_end));
                v_end++;
            }
            row_end++;
        }
        rc = put_data_page(w, m, col, row, row_end, v, v_end, dict ? index : NULL, width);
        row = row_end;
        v = v_end;
    }
    free(index);
    return rc;
}

/* ---- metadata ------------------------------------------------------------------------------ */

/* A statistics bound in the physical type's PLAIN bytes (strings: the bytes alone). Doubles
 * follow parquet.thrift: a zero minimum is -0.0 and a zero maximum +0.0. */
static void bound_bytes(const pq_col *col, bool max, char tmp[8], const char **p, size_t *n) {
    int64_t i = max ? col->max_i : col->min_i;
    int32_t i32 = (int32_t)i;
    double f = max ? col->max_f : col->min_f;
    *p = tmp;
    switch (col->type) {
    case PQ_BOOLEAN: tmp[0] = (char)i; *n = 1; break;
    case PQ_INT32:
    case PQ_DATE: memcpy(tmp, &i32, 4); *n = 4; break;
    case PQ_INT64:
    case PQ_TIMESTAMP_US: memcpy(tmp, &i, 8); *n = 8; break;
    case PQ_DOUBLE:
        if (f == 0) f = max ? 0.0 : -0.0;
        memcpy(tmp, &f, 8);
        *n = 8;
        break;
    case PQ_STRING: {
        uint32_t len;
        *p = plain_str(col, max ? col->max_s : col->min_s, &len);
        *n = len;
        break;
    }
    }
}

/* Statistics: null_count, and min_value/max_value (with the legacy min/max, the same bytes) when
 * the chunk has a value that is not NaN. */
static void put_statistics(prt_thrift *t, const pq_col *col) {
    char tmin[8], tmax[8];
    const char *pmin = NULL, *pmax = NULL;
    size_t nmin = 0, nmax = 0;
    if (col->has_minmax) {
        bound_bytes(col, false, tmin, &pmin, &nmin);
        bound_bytes(col, true, tmax, &pmax, &nmax);
    }
    prt_th_struct(t, 12);
    if (pmax) {
        prt_th_binary(t, 1, pmax, nmax);
        prt_th_binary(t, 2, pmin, nmin);
    }
    prt_th_i64(t, 3, col->nulls);
    if (pmax) {
        prt_th_binary(t, 5, pmax, nmax);
        prt_th_binary(t, 6, pmin, nmin);
    }
    prt_th_end(t);
}

/* The RowGroup struct of the row group just encoded, for the footer. */
static void put_row_group_meta(pq_writer *w) {
    prt_thrift t;
    prt_th_begin(&t, &w->row_groups);
    prt_th_list(&t, 1, PRT_TH_STRUCT, (size_t)w->ncols);
    int64_t uncompressed = 0, compressed = 0;
    for (int c = 0; c < w->ncols; c++) {
        const pq_col *col = &w->cols[c];
        const pq_chunk_meta *m = &w->meta[c];
        bool dict = m->dictionary_page_offset >= 0;
        prt_th_list_struct(&t);
        prt_th_i64(&t, 2, m->start);
        prt_th_struct(&t, 3);
        prt_th_i32(&t, 1, physical_type(col->type));
        prt_th_list(&t, 2, PRT_TH_I32, 1 + col->nullable + dict);
        prt_th_elem_i32(&t, ENC_PLAIN);
        if (col->nullable) prt_th_elem_i32(&t, ENC_RLE);
        if (dict) prt_th_elem_i32(&t, ENC_RLE_DICTIONARY);
        prt_th_list(&t, 3, PRT_TH_BINARY, 1);
        prt_th_elem_binary(&t, col->name, strlen(col->name));
        prt_th_i32(&t, 4, w->codec);
        prt_th_i64(&t, 5, w->rows_group);
        prt_th_i64(&t, 6, m->uncompressed);
        prt_th_i64(&t, 7, m->compressed);
        prt_th_i64(&t, 9, m->data_page_offset);
        if (dict) prt_th_i64(&t, 11, m->dictionary_page_offset);
        put_statistics(&t, col);
        prt_th_end(&t);
        prt_th_end(&t);
        uncompressed += m->uncompressed;
        compressed += m->compressed;
    }
    prt_th_i64(&t, 2, uncompressed);
    prt_th_i64(&t, 3, w->rows_group);
    prt_th_i64(&t, 5, w->meta[0].start);
    prt_th_i64(&t, 6, compressed);
    prt_th_i16(&t, 7, (int16_t)w->nrow_groups);
    prt_th_end(&t);
    w->nrow_groups++;
}

/* A leaf SchemaElement: physical type, repetition, name, converted type and logical type. */
static void put_schema_leaf(prt_thrift *t, const pq_col *col) {
    static const int converted[] = {-1, CT_INT_32, CT_INT_64, -1, CT_UTF8, CT_TIMESTAMP_MICROS, CT_DATE};
    prt_th_list_struct(t);
    prt_th_i32(t, 1, physical_type(col->type));
    prt_th_i32(t, 3, col->nullable ? REP_OPTIONAL : REP_REQUIRED);
    prt_th_string(t, 4, col->name);
    if (converted[col->type] >= 0) {
        prt_th_i32(t, 6, converted[col->type]);
        prt_th_struct(t, 10);   /* LogicalType, a union */
        switch (col->type) {
        case PQ_STRING: prt_th_struct(t, 1); break;
        case PQ_DATE: prt_th_struct(t, 6); break;
        case PQ_TIMESTAMP_US:
            prt_th_struct(t, 8);
            prt_th_bool(t, 1, true);   /* isAdjustedToUTC */
            prt_th_struct(t, 2);       /* unit: TimeUnit, a union */
            prt_th_struct(t, 2);       /* MICROS */
            prt_th_end(t);
            prt_th_end(t);
            break;
        default:
            prt_th_struct(t, 10);      /* INTEGER */
            prt_th_i8(t, 1, col->type == PQ_INT32 ? 32 : 64);
            prt_th_bool(t, 2, true);   /* isSigned */
            break;
        }
        prt_th_end(t);
        prt_th_end(t);
    }
    prt_th_end(t);
}

/* FileMetaData: the schema (a root group, then the columns), the rows, the row groups, the
 * key-value metadata, created_by and a type-defined column order for each column. */
static void put_footer(pq_writer *w, prt_buf *b) {
    prt_thrift t;
    prt_th_begin(&t, b);
    prt_th_i32(&t, 1, 2);
    prt_th_list(&t, 2, PRT_TH_STRUCT, (size_t)w->ncols + 1);
    prt_th_list_struct(&t);
    prt_th_string(&t, 4, "schema");
    prt_th_i32(&t, 5, w->ncols);
    prt_th_end(&t);
    for (int c = 0; c < w->ncols; c++) put_schema_leaf(&t, &w->cols[c]);
    prt_th_i64(&t, 3, w->rows_total);
    prt_th_list(&t, 4, PRT_TH_STRUCT, (size_t)w->nrow_groups);
    prt_buf_put(b, w->row_groups.data, w->row_groups.len);
    if (w->nkv) {
        prt_th_list(&t, 5, PRT_TH_STRUCT, (size_t)w->nkv);
        for (int i = 0; i < w->nkv; i++) {
            prt_th_list_struct(&t);
            prt_th_string(&t, 1, w->kv[2 * i]);
            prt_th_string(&t, 2, w->kv[2 * i + 1]);
            prt_th_end(&t);
        }
    }
    prt_th_string(&t, 6, "pipec version " PRT_VERSION);
    prt_th_list(&t, 7, PRT_TH_STRUCT, (size_t)w->ncols);
    for (int c = 0; c < w->ncols; c++) {
        prt_th_list_struct(&t);
        prt_th_struct(&t, 1);   /* TYPE_ORDER */
        prt_th_end(&t);
        prt_th_end(&t);
    }
    prt_th_end(&t);
}

/* ---- writing --------------------------------------------------------------------------------- */

static int write_group(pq_writer *w, int fd) {
    const char *p = w->group.data;
    size_t left = w->group.len;
    while (left > 0) {
        ssize_t got = write(fd, p, left);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            w->broken = true;
            return fail(w, "write: %s", strerror(errno));
        }
        p += got;
        left -= (size_t)got;
        w->offset += got;
    }
    w->group.len = 0;
    return 0;
}

static void reset_columns(pq_writer *w) {
    for (int c = 0; c < w->ncols; c++) {
        pq_col *col = &w->cols[c];
        col->plain.len = col->value_off.len = col->defs.len = 0;
        col->nvalues = 0;
        col->nulls = 0;
        col->has_minmax = false;
    }
    w->rows_group = 0;
}

int pq_end_row_group(pq_writer *w, int fd) {
    if (w->finished || w->broken) return fail(w, "the writer is %s", w->finished ? "finished" : "broken by a failed write");
    w->group.len = 0;
    if (w->offset == 0) prt_buf_lit(&w->group, "PAR1");   /* nothing written yet */
    if (w->rows_group > 0) {
        for (int c = 0; c < w->ncols; c++)
            if (put_chunk(w, c) < 0) return -1;
        put_row_group_meta(w);
        reset_columns(w);
    }
    return write_group(w, fd);
}

int pq_finish(pq_writer *w, int fd) {
    if (pq_end_row_group(w, fd) < 0) return -1;
    size_t before = w->group.len;
    put_footer(w, &w->group);
    uint32_t footer_len = (uint32_t)(w->group.len - before);
    prt_buf_put(&w->group, &footer_len, 4);
    prt_buf_lit(&w->group, "PAR1");
    if (write_group(w, fd) < 0) return -1;
    w->finished = true;
    return 0;
}
