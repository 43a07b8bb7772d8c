/* test_parquet.c - unit tests of the Parquet writer's pieces: Thrift compact bytes (rt_thrift.c),
 * the RLE/bit-packed hybrid and PLAIN booleans against parquet-format's examples
 * (rt_pq_encode.c), and what pq_append_rows refuses (all or nothing), write errors and calls
 * after pq_finish (rt_parquet.c). Whole files are read back by tests/suite_parquet.py. */
#include "check.h"
#include "rt_parquet.h"
#include "rt_pq_encode.h"
#include "rt_thrift.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The bytes of b as hex ("15 06 ..."), in a static buffer. */
static const char *hex(const prt_buf *b) {
    static char out[1024];
    size_t n = 0;
    for (size_t i = 0; i < b->len && n + 4 < sizeof out; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, i ? " %02x" : "%02x", (unsigned char)b->data[i]);
    out[n] = 0;
    return out;
}

static void test_thrift(void) {
    prt_buf b = {0};
    prt_thrift t;
    prt_th_begin(&t, &b);
    prt_th_i32(&t, 1, 3);        /* delta 1, i32: 0x15, zigzag 6 */
    prt_th_i64(&t, 2, -1);       /* delta 1, i64: 0x16, zigzag 1 */
    prt_th_bool(&t, 3, true);    /* 0x11: the value in the type nibble */
    prt_th_bool(&t, 4, false);   /* 0x12 */
    prt_th_i32(&t, 20, 300);     /* delta 16: type byte, zigzag id 40, zigzag 600 = d8 04 */
    prt_th_struct(&t, 21);       /* 0x1c, a nested struct starts from id 0 */
    prt_th_i8(&t, 1, -2);        /* 0x13, one raw byte */
    prt_th_end(&t);
    prt_th_list(&t, 22, PRT_TH_I32, 2);   /* 0x19, size 2 type 5 */
    prt_th_elem_i32(&t, -3);
    prt_th_elem_i32(&t, 64);              /* zigzag 128 = 80 01 */
    prt_th_binary(&t, 23, "ab", 2);       /* 0x18, length 2 */
    prt_th_end(&t);
    CHECK_STR(hex(&b), "15 06 16 01 11 12 05 28 d8 04 1c 13 fe 00 19 25 05 80 01 18 02 61 62 00");
    b.len = 0;
    prt_th_begin(&t, &b);
    prt_th_list(&t, 1, PRT_TH_STRUCT, 15);   /* 15 and more: 0xfc, then the size */
    for (int i = 0; i < 15; i++) {
        prt_th_list_struct(&t);
        prt_th_end(&t);
    }
    prt_th_i16(&t, 2, -64);                  /* field ids go on from the list's */
    prt_th_end(&t);
    CHECK_STR(hex(&b), "19 fc 0f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 7f 00");
    prt_buf_free(&b);
}

static void test_hybrid(void) {
    prt_buf b = {0};
    uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    pq_put_hybrid(&b, seq, 8, 3);   /* parquet-format's example: one group, 10001000 11000110 11111010 */
    CHECK_STR(hex(&b), "03 88 c6 fa");
    b.len = 0;
    uint32_t runs[20];
    for (int i = 0; i < 20; i++) runs[i] = i < 3 ? (uint32_t)i + 1 : 300;   /* 1 2 3, then 17 x 300 */
    pq_put_hybrid(&b, runs, 20, 9);
    /* 3 values + 5 lent by the run: one bit-packed group of 8 (9 bytes, LSB first), then a run of
     * 12 x 300 (header 24, the value in 2 bytes) */
    CHECK_STR(hex(&b), "03 01 04 0c 60 c9 92 25 4b 96 18 2c 01");
    b.len = 0;
    uint8_t defs[10] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 1};
    pq_put_hybrid_bits(&b, defs, 10);   /* two groups, the last padded: 00001101 00000010 */
    CHECK_STR(hex(&b), "05 0d 02");
    b.len = 0;
    pq_put_bool_bits(&b, defs, 10);
    CHECK_STR(hex(&b), "0d 02");
    CHECK_INT(pq_bit_width(0), 1);
    CHECK_INT(pq_bit_width(1), 1);
    CHECK_INT(pq_bit_width(2), 2);
    CHECK_INT(pq_bit_width(255), 8);
    CHECK_INT(pq_bit_width(256), 9);
    prt_buf_free(&b);
}

static void test_refusals(void) {
    pq_column cols[] = {{"n", PQ_INT32, false}, {"s", PQ_STRING, true}};
    pq_writer *w = pq_writer_new(cols, 2, PQ_ZSTD, 0, NULL, 0);
    prt_buf rows = {0};
    prt_row_i64(&rows, 1);
    prt_row_str(&rows, "a", 1);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), 0);
    CHECK_INT(pq_rows(w), 1);
    size_t held = pq_buffered_bytes(w);
    CHECK(held > 0);

    prt_row_i64(&rows, 2);   /* a good row, then a bad one: neither is taken */
    prt_row_null(&rows);
    prt_row_i64(&rows, (int64_t)INT32_MAX + 1);
    prt_row_null(&rows);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), -1);
    CHECK(strstr(pq_writer_error(w), "does not fit INT32") != NULL);
    CHECK_INT(pq_rows(w), 1);
    CHECK_INT(pq_buffered_bytes(w), held);

    rows.len = 0;
    prt_row_null(&rows);
    prt_row_null(&rows);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), -1);
    CHECK(strstr(pq_writer_error(w), "not nullable") != NULL);
    rows.len = 0;
    prt_row_i64(&rows, 5);
    prt_row_f64(&rows, 1.5);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), -1);
    CHECK(strstr(pq_writer_error(w), "STRING column") != NULL);
    rows.len = 0;
    prt_row_i64(&rows, 5);   /* half a row */
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), -1);
    CHECK(strstr(pq_writer_error(w), "partial row") != NULL);
    rows.len = 0;
    prt_row_i64(&rows, 5);
    prt_row_str(&rows, "abc", 3);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len - 1), -1);   /* a string cut short */
    CHECK_INT(pq_rows(w), 1);

    char path[] = "/tmp/test_parquet_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    int ro = open(path, O_RDONLY);
    CHECK_INT(pq_end_row_group(w, ro), -1);   /* a write error breaks the writer */
    CHECK(strstr(pq_writer_error(w), "write: ") != NULL);
    CHECK_INT(pq_finish(w, fd), -1);
    CHECK(strstr(pq_writer_error(w), "broken") != NULL);
    close(ro);
    pq_writer_free(w);

    w = pq_writer_new(cols, 2, PQ_SNAPPY, 0, NULL, 0);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), 0);
    CHECK_INT(pq_finish(w, fd), 0);
    CHECK_INT(pq_append_rows(w, rows.data, rows.len), -1);
    CHECK(strstr(pq_writer_error(w), "finished") != NULL);
    CHECK_INT(pq_rows(w), 1);
    char head[4], tail[4];
    off_t size = lseek(fd, 0, SEEK_END);
    CHECK(pread(fd, head, 4, 0) == 4 && pread(fd, tail, 4, size - 4) == 4);
    CHECK(memcmp(head, "PAR1", 4) == 0 && memcmp(tail, "PAR1", 4) == 0);
    close(fd);
    unlink(path);
    pq_writer_free(w);
    prt_buf_free(&rows);
}

int main(void) {
    test_thrift();
    test_hybrid();
    test_refusals();
    return check_report();
}
