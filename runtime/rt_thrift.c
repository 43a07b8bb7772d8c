/* rt_thrift.c - the Thrift compact protocol encoder of rt_thrift.h: field headers as deltas from
 * the previous field id (or the type byte and a zigzag id when the delta is not 1..15), integers
 * as zigzag varints (i8 as one raw byte), binary as a varint length and the bytes, lists as a
 * size/type header, bools in the field header's type nibble, structs ended by a 0 byte. */
#include "rt_thrift.h"

#include <stdlib.h>

void prt_th_varint(prt_buf *b, uint64_t v) {
    prt_buf_reserve(b, 10);
    while (v >= 0x80) {
        b->data[b->len++] = (char)((v & 0x7f) | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (char)v;
}

static uint64_t zigzag(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field_header(prt_thrift *t, int16_t id, int type) {
    int16_t *last = &t->last_id[t->depth - 1];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        prt_buf_putc(t->b, (char)((delta << 4) | type));
    } else {
        prt_buf_putc(t->b, (char)type);
        prt_th_varint(t->b, zigzag(id));
    }
    *last = id;
}

static void push(prt_thrift *t) {
    if (t->depth == PRT_TH_MAX_DEPTH) abort();   /* the Parquet structures nest 5 deep at most */
    t->last_id[t->depth++] = 0;
}

void prt_th_begin(prt_thrift *t, prt_buf *b) {
    t->b = b;
    t->depth = 0;
    push(t);
}

void prt_th_end(prt_thrift *t) {
    prt_buf_putc(t->b, 0);
    t->depth--;
}

void prt_th_i8(prt_thrift *t, int16_t id, int8_t v) {
    field_header(t, id, PRT_TH_I8);
    prt_buf_putc(t->b, (char)v);
}

void prt_th_i16(prt_thrift *t, int16_t id, int16_t v) {
    field_header(t, id, PRT_TH_I16);
    prt_th_varint(t->b, zigzag(v));
}

void prt_th_i32(prt_thrift *t, int16_t id, int32_t v) {
    field_header(t, id, PRT_TH_I32);
    prt_th_varint(t->b, zigzag(v));
}

void prt_th_i64(prt_thrift *t, int16_t id, int64_t v) {
    field_header(t, id, PRT_TH_I64);
    prt_th_varint(t->b, zigzag(v));
}

void prt_th_bool(prt_thrift *t, int16_t id, bool v) {
    field_header(t, id, v ? PRT_TH_TRUE : PRT_TH_FALSE);
}

void prt_th_binary(prt_thrift *t, int16_t id, const void *p, size_t n) {
    field_header(t, id, PRT_TH_BINARY);
    prt_th_elem_binary(t, p, n);
}

void prt_th_string(prt_thrift *t, int16_t id, const char *s) {
    prt_th_binary(t, id, s, strlen(s));
}

void prt_th_struct(prt_thrift *t, int16_t id) {
    field_header(t, id, PRT_TH_STRUCT);
    push(t);
}

void prt_th_list(prt_thrift *t, int16_t id, int elem, size_t n) {
    field_header(t, id, PRT_TH_LIST);
    if (n < 15) {
        prt_buf_putc(t->b, (char)((n << 4) | (size_t)elem));
    } else {
        prt_buf_putc(t->b, (char)(0xf0 | elem));
        prt_th_varint(t->b, n);
    }
}

void prt_th_elem_i32(prt_thrift *t, int32_t v) {
    prt_th_varint(t->b, zigzag(v));
}

void prt_th_elem_binary(prt_thrift *t, const void *p, size_t n) {
    prt_th_varint(t->b, n);
    prt_buf_put(t->b, p, n);
}

void prt_th_list_struct(prt_thrift *t) {
    push(t);
}
