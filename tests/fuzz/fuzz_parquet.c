/* fuzz_parquet.c - libFuzzer target: round trips of the Parquet encoders (rt_pq_encode.c,
 * rt_parquet.c). The first byte picks one of four checks:
 *  0 the RLE/bit-packed hybrid of uint32 values (pq_put_hybrid) at an input-chosen width, decoded
 *    by the small decoder below (written from the Parquet spec) and compared value by value;
 *  1 the same for 0/1 bytes (pq_put_hybrid_bits), and PLAIN booleans (pq_put_bool_bits);
 *  2 pq_compress (none, snappy, zstd at a level) undone with libsnappy and libzstd and compared;
 *  3 the writer: a schema of 1..6 columns (types, nullability and codec from the input), typed
 *    row buffers built from the input appended (some corrupted on purpose: pq_append_rows must
 *    refuse them and change nothing), row groups ended at input-chosen points, the file written
 *    to a memfd; then pq_rows, the framing ("PAR1" at both ends, the footer length in range) and
 *    the footer, read by a tiny Thrift compact reader: num_rows, the schema's length, and the
 *    row groups (their count and the sum of their num_rows).
 * `make fuzz` runs it. */
#include "rt_internal.h"
#include "rt_parquet.h"
#include "rt_pq_encode.h"

#include <assert.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a stream: zeros once it is used up (callers stop on `left`). */
typedef struct input {
    const uint8_t *p;
    size_t n, at;
} input;
static uint8_t in_byte(input *in) { return in->at < in->n ? in->p[in->at++] : 0; }
static uint64_t in_bytes(input *in, int k) {
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v |= (uint64_t)in_byte(in) << (8 * i);
    return v;
}
static bool left(const input *in) { return in->at < in->n; }

/* ---- an independent decoder of the RLE/bit-packed hybrid ------------------------------------ */

static bool get_uleb(const uint8_t **p, const uint8_t *e, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= e) return false;
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Decodes all of buf into out (cap values); returns the number decoded or -1 when malformed.
 * Bit-packed groups decode all 8 values (padding included). */
static long hybrid_decode(const uint8_t *buf, size_t len, int width, uint32_t *out, size_t cap) {
    if (len == 0) return 0;
    const uint8_t *p = buf, *e = buf + len;
    size_t n = 0;
    while (p < e) {
        uint64_t h;
        if (!get_uleb(&p, e, &h)) return -1;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups * (uint64_t)width > (uint64_t)(e - p)) return -1;
            if (n + groups * 8 > cap) return -1;
            uint64_t bitpos = 0;
            for (uint64_t i = 0; i < groups * 8; i++) {
                uint32_t v = 0;
                for (int b = 0; b < width; b++, bitpos++)
                    v |= (uint32_t)((p[bitpos / 8] >> (bitpos % 8)) & 1) << b;
                out[n++] = v;
            }
            p += groups * (uint64_t)width;
        } else {
            uint64_t count = h >> 1;
            int vbytes = (width + 7) / 8;
            if (count == 0 || (size_t)(e - p) < (size_t)vbytes || n + count > cap) return -1;
            uint32_t v = 0;
            for (int i = 0; i < vbytes; i++) v |= (uint32_t)p[i] << (8 * i);
            p += vbytes;
            if (width < 32 && (v >> width) != 0) return -1;
            for (uint64_t i = 0; i < count; i++) out[n++] = v;
        }
    }
    return (long)n;
}

/* Checks that buf decodes to v[0..n): n values, then fewer than 8 zeros of padding. */
static void check_hybrid(const prt_buf *b, int width, const uint32_t *v, size_t n) {
    size_t cap = n + 8;
    uint32_t *got = malloc(cap * sizeof *got);
    long k = hybrid_decode((const uint8_t *)b->data, b->len, width, got, cap);
    assert(k >= 0);
    assert((size_t)k >= n && (size_t)k < n + 8);
    for (size_t i = 0; i < n; i++) assert(got[i] == v[i]);
    for (size_t i = n; i < (size_t)k; i++) assert(got[i] == 0);
    free(got);
}

/* Values with runs: a byte with the top bit set repeats the last value 1..128 times. */
static size_t make_values(input *in, uint32_t mask, uint32_t *v, size_t cap) {
    size_t n = 0;
    uint32_t last = 0;
    while (left(in) && n < cap) {
        uint8_t c = in_byte(in);
        if (c & 0x80) {
            for (int r = 0; r <= (c & 0x7f) && n < cap; r++) v[n++] = last;
        } else {
            last = (uint32_t)(in_bytes(in, 4) ^ c) & mask;
            v[n++] = last;
        }
    }
    return n;
}

static void fuzz_hybrid(input *in) {
    int width = 1 + in_byte(in) % 32;
    uint32_t mask = width == 32 ? UINT32_MAX : ((uint32_t)1 << width) - 1;
    enum { CAP = 1 << 16 };
    uint32_t *v = malloc(CAP * sizeof *v);
    size_t n = make_values(in, mask, v, CAP);
    prt_buf b = {0};
    pq_put_hybrid(&b, v, n, width);
    check_hybrid(&b, width, v, n);
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++) max = v[i] > max ? v[i] : max;
    int w = pq_bit_width(max);
    assert(w >= 1 && w <= 32 && (w == 32 || (max >> w) == 0) && (w == 1 || (max >> (w - 1)) != 0));
    prt_buf_free(&b);
    free(v);
}

static void fuzz_bits(input *in) {
    enum { CAP = 1 << 16 };
    uint32_t *v = malloc(CAP * sizeof *v);
    uint8_t *bits = malloc(CAP);
    size_t n = make_values(in, 1, v, CAP);
    for (size_t i = 0; i < n; i++) bits[i] = (uint8_t)v[i];
    prt_buf b = {0};
    pq_put_hybrid_bits(&b, bits, n);
    check_hybrid(&b, 1, v, n);
    b.len = 0;
    pq_put_bool_bits(&b, bits, n);
    assert(b.len == (n + 7) / 8);
    for (size_t i = 0; i < b.len * 8; i++) {
        unsigned bit = ((unsigned char)b.data[i / 8] >> (i % 8)) & 1;
        assert(bit == (i < n ? bits[i] : 0));
    }
    prt_buf_free(&b);
    free(bits);
    free(v);
}

static void fuzz_compress(input *in) {
    static const int codecs[] = {0, 1, 6};
    int codec = codecs[in_byte(in) % 3];
    int level = in_byte(in) % 23;
    const char *src = (const char *)in->p + in->at;
    size_t n = in->n - in->at;
    prt_buf out = {0};
    prt_buf_put(&out, "xy", 2);   /* pq_compress appends: what is there stays */
    assert(pq_compress(&out, codec, level, src, n) == 0);
    assert(memcmp(out.data, "xy", 2) == 0);
    const char *z = out.data + 2;
    size_t zn = out.len - 2;
    char *back = malloc(n + 1);
    if (codec == 0) {
        assert(zn == n && (n == 0 || memcmp(z, src, n) == 0));
    } else if (codec == 1) {
        size_t len;
        assert(snappy_uncompressed_length(z, zn, &len) == SNAPPY_OK && len == n);
        len = n + 1;
        assert(snappy_uncompress(z, zn, back, &len) == SNAPPY_OK && len == n);
        assert(n == 0 || memcmp(back, src, n) == 0);
    } else {
        assert(ZSTD_getFrameContentSize(z, zn) == n);
        size_t got = ZSTD_decompress(back, n + 1, z, zn);
        assert(!ZSTD_isError(got) && got == n);
        assert(n == 0 || memcmp(back, src, n) == 0);
    }
    free(back);
    prt_buf_free(&out);
}

/* ---- a tiny Thrift compact reader, enough for FileMetaData's counts -------------------------- */

typedef struct th_rd {
    const uint8_t *p, *e;
    bool bad;
} th_rd;

static uint64_t th_varint(th_rd *r) {
    uint64_t v;
    if (!get_uleb(&r->p, r->e, &v)) r->bad = true;
    return v;
}
static int64_t th_zigzag(th_rd *r) {
    uint64_t v = th_varint(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}
static uint8_t th_byte(th_rd *r) {
    if (r->p >= r->e) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}
static void th_skip_bytes(th_rd *r, uint64_t n) {
    if ((uint64_t)(r->e - r->p) < n) {
        r->bad = true;
        r->p = r->e;
    } else {
        r->p += n;
    }
}
/* A list header: its size and element type. */
static uint64_t th_list(th_rd *r, int *elem) {
    uint8_t h = th_byte(r);
    *elem = h & 15;
    uint64_t n = h >> 4;
    if (n == 15) n = th_varint(r);
    return n;
}
static void th_skip(th_rd *r, int type, int depth);
static void th_skip_struct(th_rd *r, int depth) {
    for (;;) {
        if (r->bad) return;
        uint8_t h = th_byte(r);
        if (h == 0) return;
        if ((h >> 4) == 0) th_zigzag(r);   /* a long-form field id */
        th_skip(r, h & 15, depth + 1);
    }
}
static void th_skip(th_rd *r, int type, int depth) {
    if (depth > 32) {
        r->bad = true;
        return;
    }
    switch (type) {
    case 1: case 2: break;                       /* bool in a field header */
    case 3: th_byte(r); break;
    case 4: case 5: case 6: th_varint(r); break;
    case 7: th_skip_bytes(r, 8); break;
    case 8: th_skip_bytes(r, th_varint(r)); break;
    case 9: case 10: {
        int elem;
        uint64_t n = th_list(r, &elem);
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (elem == 1 || elem == 2) th_byte(r);   /* bools in a list: one byte each */
            else th_skip(r, elem, depth + 1);
        }
        break;
    }
    case 12: th_skip_struct(r, depth); break;
    default: r->bad = true; break;
    }
}

/* Field headers of one struct: *id (short or long form) and the type; false at its stop. */
static bool th_field(th_rd *r, int *id, int *type) {
    uint8_t h = th_byte(r);
    if (h == 0 || r->bad) return false;
    *type = h & 15;
    *id = (h >> 4) ? *id + (h >> 4) : (int)th_zigzag(r);
    return true;
}

typedef struct footer_info {
    int64_t num_rows, groups_rows;
    uint64_t nschema, ngroups;
} footer_info;

static bool read_footer(const uint8_t *p, size_t n, footer_info *fi) {
    th_rd r = {p, p + n, false};
    *fi = (footer_info){-1, 0, 0, 0};
    int id = 0, type;
    while (th_field(&r, &id, &type)) {
        if (id == 3 && type == 6) {
            fi->num_rows = th_zigzag(&r);
        } else if ((id == 2 || id == 4) && type == 9) {
            int elem;
            uint64_t k = th_list(&r, &elem);
            if (elem != 12) return false;
            if (id == 2) fi->nschema = k;
            else fi->ngroups = k;
            for (uint64_t i = 0; i < k && !r.bad; i++) {
                if (id == 2) {
                    th_skip_struct(&r, 1);
                    continue;
                }
                int gid = 0, gtype;
                while (th_field(&r, &gid, &gtype)) {
                    if (gid == 3 && gtype == 6) fi->groups_rows += th_zigzag(&r);
                    else th_skip(&r, gtype, 2);
                }
            }
        } else {
            th_skip(&r, type, 1);
        }
    }
    return !r.bad && r.p == r.e;
}

/* ---- the writer -------------------------------------------------------------------------- */

/* One value of column type t from the input (or NULL when nullable and the input says so). */
static void put_value(input *in, prt_buf *b, pq_type t, bool nullable) {
    uint8_t sel = in_byte(in);
    if (nullable && (sel & 7) == 0) {
        prt_row_null(b);
        return;
    }
    switch (t) {
    case PQ_BOOLEAN: prt_row_bool(b, sel & 8); break;
    case PQ_INT32: prt_row_i64(b, (int32_t)(sel & 8 ? in_bytes(in, 4) : sel >> 4)); break;
    case PQ_INT64: prt_row_i64(b, (int64_t)(sel & 8 ? in_bytes(in, 8) : sel >> 4)); break;
    case PQ_TIMESTAMP_US: prt_row_ts(b, (int64_t)(sel & 8 ? in_bytes(in, 8) : sel >> 4)); break;
    case PQ_DATE: prt_row_date(b, (int32_t)(sel & 8 ? in_bytes(in, 4) : sel >> 4)); break;
    case PQ_DOUBLE: {
        uint64_t bits = sel & 8 ? in_bytes(in, 8) : 0;
        double d;
        memcpy(&d, &bits, 8);
        if (!(sel & 8)) d = (double)(sel >> 4) - 4;
        prt_row_f64(b, d);
        break;
    }
    case PQ_STRING: {
        uint32_t n = sel >> 4;
        char s[16];
        for (uint32_t i = 0; i < n; i++) s[i] = (char)in_byte(in);
        prt_row_str(b, s, n);
        break;
    }
    }
}

static void fuzz_writer(input *in) {
    uint8_t h = in_byte(in);
    int ncols = 1 + h % 6;
    pq_codec codec = (pq_codec)((h >> 3) % 3);
    int level = (h >> 5) * 3;
    pq_column cols[6];
    char names[6][8];
    for (int c = 0; c < ncols; c++) {
        uint8_t t = in_byte(in);
        snprintf(names[c], sizeof names[c], "c%d", c);
        cols[c] = (pq_column){names[c], (pq_type)(t % 7), (t & 8) != 0};
    }
    const char *kv[] = {"pipec.test", "fuzz"};
    pq_writer *w = pq_writer_new(cols, ncols, codec, level, kv, 1);
    int fd = memfd_create("fuzz_parquet", 0);
    assert(fd >= 0);
    prt_buf rows = {0}, last = {0};
    int64_t expect_rows = 0, pending = 0;
    uint64_t groups = 0;
    while (left(in)) {
        uint8_t op = in_byte(in);
        if (op % 8 == 0) {
            assert(pq_end_row_group(w, fd) == 0);
            if (pending) groups++;
            pending = 0;
            assert(pq_buffered_bytes(w) == 0);
            continue;
        }
        rows.len = 0;
        if (op % 8 == 1 && last.len) {   /* the last rows again: repeats make dictionaries pay */
            prt_buf_put(&rows, last.data, last.len);
        } else {
            int k = 1 + (op >> 3) % 16;
            for (int i = 0; i < k * ncols; i++) put_value(in, &rows, cols[i % ncols].type, cols[i % ncols].nullable);
            last.len = 0;
            prt_buf_put(&last, rows.data, rows.len);
        }
        size_t bytes = pq_buffered_bytes(w);
        int64_t nrows = 0;
        {   /* count the rows of the buffer */
            const char *p = rows.data, *e = p + rows.len;
            while (p < e) {
                for (int c = 0; c < ncols; c++) {
                    prt_rowval v;
                    assert(prt_row_value(&p, e, &v));
                }
                nrows++;
            }
        }
        if (op % 8 == 2) {
            /* corrupted on purpose: must be refused with nothing appended */
            uint8_t how = in_byte(in) % 4;
            size_t len = rows.len;
            char wrong = cols[0].type == PQ_BOOLEAN ? PRT_V_DATE : PRT_V_BOOL;
            if (how == 0) {                                            /* a string past the end */
                uint32_t n = 100;
                prt_row_tagged(&rows, PRT_V_STR, &n, 4);
                len = rows.len;
            }
            else if (how == 1) prt_buf_putc(&rows, PRT_V_I64), len++;  /* a value without payload */
            else if (how == 2) rows.data[0] = wrong;                   /* a value of another type */
            else rows.data[0] = 9;                                     /* no such tag */
            assert(pq_append_rows(w, rows.data, len) < 0);
            assert(*pq_writer_error(w));
            assert(pq_rows(w) == expect_rows);
            assert(pq_buffered_bytes(w) == bytes);
            continue;
        }
        if (pq_append_rows(w, rows.data, rows.len) != 0) {
            fprintf(stderr, "refused: %s\n", pq_writer_error(w));
            abort();
        }
        expect_rows += nrows;
        pending += nrows;
        assert(pq_rows(w) == expect_rows);
        assert(pq_buffered_bytes(w) > bytes || nrows == 0);
    }
    assert(pq_finish(w, fd) == 0);
    if (pending) groups++;
    assert(pq_rows(w) == expect_rows);
    assert(pq_append_rows(w, "", 0) < 0);   /* finished */

    off_t size = lseek(fd, 0, SEEK_END);
    assert(size >= 12);
    uint8_t *file = malloc((size_t)size);
    assert(pread(fd, file, (size_t)size, 0) == size);
    assert(memcmp(file, "PAR1", 4) == 0 && memcmp(file + size - 4, "PAR1", 4) == 0);
    uint32_t flen;
    memcpy(&flen, file + size - 8, 4);
    assert(flen > 0 && (off_t)flen <= size - 12);
    if (groups == 0) assert((off_t)flen == size - 12);
    footer_info fi;
    assert(read_footer(file + size - 8 - flen, flen, &fi));
    assert(fi.num_rows == expect_rows);
    assert(fi.nschema == (uint64_t)ncols + 1);
    assert(fi.ngroups == groups);
    assert(fi.groups_rows == expect_rows);
    free(file);
    close(fd);
    prt_buf_free(&rows);
    prt_buf_free(&last);
    pq_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    input in = {data + 1, size - 1, 0};
    switch (data[0] % 4) {
    case 0: fuzz_hybrid(&in); break;
    case 1: fuzz_bits(&in); break;
    case 2: fuzz_compress(&in); break;
    default: fuzz_writer(&in); break;
    }
    return 0;
}
