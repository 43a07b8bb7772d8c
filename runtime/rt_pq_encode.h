/* rt_pq_encode.h - the byte-level encodings of Parquet pages (rt_pq_encode.c) used by the writer
 * (rt_parquet.c): the RLE/bit-packed hybrid of definition levels and dictionary indices, PLAIN
 * booleans, and page compression. */
#ifndef PIPEC_RT_PQ_ENCODE_H
#define PIPEC_RT_PQ_ENCODE_H
#include "pipec_rt.h"

/* Appends the RLE/bit-packed hybrid encoding (no length prefix) of v[0..n) at bit width
 * `width` (1..32; every value must fit): runs of 8 or more equal values as RLE runs, the rest
 * as bit-packed groups of 8 (the last group padded with zeros). */
void pq_put_hybrid(prt_buf *b, const uint32_t *v, size_t n, int width);
/* The same for bytes that are 0 or 1 (definition levels at bit width 1). */
void pq_put_hybrid_bits(prt_buf *b, const uint8_t *v, size_t n);
/* PLAIN booleans: bit-packed, LSB first, v[i] 0 or 1. */
void pq_put_bool_bits(prt_buf *b, const uint8_t *v, size_t n);
/* The bits needed for values 0..max (at least 1). */
int pq_bit_width(uint32_t max);

/* Compresses src[0..n) with codec (0 none, 1 snappy, 6 zstd: Parquet's CompressionCodec numbers)
 * at level (zstd only; 0 = 3) and appends it to out. -1 when the library fails. */
int pq_compress(prt_buf *out, int codec, int level, const char *src, size_t n);

#endif
