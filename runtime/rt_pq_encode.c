/* rt_pq_encode.c - Parquet's RLE/bit-packed hybrid (definition levels, dictionary indices), PLAIN
 * booleans and page compression (snappy's C API, zstd), declared in rt_pq_encode.h. */
#include "rt_pq_encode.h"

#include "rt_thrift.h"

#include <snappy-c.h>
#include <zstd.h>

/* The values are uint32_t (esize 4) or uint8_t (esize 1). */
static uint32_t value_at(const void *v, int esize, size_t i) {
    return esize == 4 ? ((const uint32_t *)v)[i] : ((const uint8_t *)v)[i];
}

/* n values from `from` as one bit-packed run: n/8 groups (n a multiple of 8, except at the end,
 * where the last group is padded with zeros). */
static void put_packed(prt_buf *b, const void *v, int esize, size_t from, size_t n, int width) {
    size_t groups = (n + 7) / 8;
    prt_th_varint(b, ((uint64_t)groups << 1) | 1);
    prt_buf_reserve(b, groups * (size_t)width);
    uint64_t acc = 0;
    int nbits = 0;
    for (size_t i = 0; i < groups * 8; i++) {
        uint64_t x = i < n ? value_at(v, esize, from + i) : 0;
        acc |= x << nbits;
        nbits += width;
        while (nbits >= 8) {
            b->data[b->len++] = (char)(acc & 0xff);
            acc >>= 8;
            nbits -= 8;
        }
    }
}

static void put_run(prt_buf *b, uint32_t value, size_t count, int width) {
    prt_th_varint(b, (uint64_t)count << 1);
    for (int i = 0; i < (width + 7) / 8; i++) prt_buf_putc(b, (char)(value >> (8 * i)));
}

static void put_hybrid(prt_buf *b, const void *v, int esize, size_t n, int width) {
    size_t literal_from = 0, i = 0;
    while (i < n) {
        uint32_t x = value_at(v, esize, i);
        size_t run = 1;
        while (i + run < n && value_at(v, esize, i + run) == x) run++;
        if (run < 8) {
            i += run;
            continue;
        }
        /* Bit-packed runs hold multiples of 8 values: the run lends the literals what they lack. */
        size_t lend = (8 - (i - literal_from) % 8) % 8;
        i += lend;
        run -= lend;
        if (i > literal_from) put_packed(b, v, esize, literal_from, i - literal_from, width);
        put_run(b, x, run, width);
        i += run;
        literal_from = i;
    }
    if (n > literal_from) put_packed(b, v, esize, literal_from, n - literal_from, width);
}

void pq_put_hybrid(prt_buf *b, const uint32_t *v, size_t n, int width) {
    put_hybrid(b, v, 4, n, width);
}

void pq_put_hybrid_bits(prt_buf *b, const uint8_t *v, size_t n) {
    put_hybrid(b, v, 1, n, 1);
}

void pq_put_bool_bits(prt_buf *b, const uint8_t *v, size_t n) {
    prt_buf_reserve(b, (n + 7) / 8);
    for (size_t i = 0; i < n; i += 8) {
        unsigned byte = 0;
        for (size_t k = 0; k < 8 && i + k < n; k++) byte |= (unsigned)v[i + k] << k;
        b->data[b->len++] = (char)byte;
    }
}

int pq_bit_width(uint32_t max) {
    int w = 1;
    while (w < 32 && (max >> w) != 0) w++;
    return w;
}

int pq_compress(prt_buf *out, int codec, int level, const char *src, size_t n) {
    if (codec == 1) {
        size_t cap = snappy_max_compressed_length(n);
        prt_buf_reserve(out, cap);
        if (snappy_compress(src, n, out->data + out->len, &cap) != SNAPPY_OK) return -1;
        out->len += cap;
    } else if (codec == 6) {
        size_t cap = ZSTD_compressBound(n);
        prt_buf_reserve(out, cap);
        size_t got = ZSTD_compress(out->data + out->len, cap, src, n, level ? level : 3);
        if (ZSTD_isError(got)) return -1;
        out->len += got;
    } else {
        prt_buf_put(out, src, n);
    }
    return 0;
}
