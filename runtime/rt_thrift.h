/* rt_thrift.h - a Thrift compact protocol encoder into a prt_buf, enough for Parquet's page headers
 * and footer (rt_parquet.c): structs, i8/i16/i32/i64, bool, binary, lists of i32, binary or
 * structs. Unions are structs with one field set.
 *
 * Usage: prt_th_begin(&t, buf) opens the outermost struct; each field is written with its id
 * (ids must increase within a struct); prt_th_struct/prt_th_list_struct open a nested struct and
 * prt_th_end closes the innermost one (its stop byte), the outermost one included. */
#ifndef PIPEC_RT_THRIFT_H
#define PIPEC_RT_THRIFT_H
#include "pipec_rt.h"

/* Compact protocol type codes (field headers and list element types). */
enum {
    PRT_TH_TRUE = 1, PRT_TH_FALSE = 2, PRT_TH_I8 = 3, PRT_TH_I16 = 4, PRT_TH_I32 = 5,
    PRT_TH_I64 = 6, PRT_TH_DOUBLE = 7, PRT_TH_BINARY = 8, PRT_TH_LIST = 9, PRT_TH_STRUCT = 12
};
enum { PRT_TH_MAX_DEPTH = 16 };

typedef struct prt_thrift {
    prt_buf *b;
    int depth;                             /* open structs */
    int16_t last_id[PRT_TH_MAX_DEPTH];     /* the last field id written in each open struct */
} prt_thrift;

void prt_th_begin(prt_thrift *t, prt_buf *b);
void prt_th_end(prt_thrift *t);
void prt_th_i8(prt_thrift *t, int16_t id, int8_t v);
void prt_th_i16(prt_thrift *t, int16_t id, int16_t v);
void prt_th_i32(prt_thrift *t, int16_t id, int32_t v);
void prt_th_i64(prt_thrift *t, int16_t id, int64_t v);
void prt_th_bool(prt_thrift *t, int16_t id, bool v);
void prt_th_binary(prt_thrift *t, int16_t id, const void *p, size_t n);
void prt_th_string(prt_thrift *t, int16_t id, const char *s);   /* NUL-terminated */
void prt_th_struct(prt_thrift *t, int16_t id);                   /* a struct-valued field */
/* A list-valued field of n elements of type elem (PRT_TH_*); then write exactly n elements with
 * prt_th_elem_i32, prt_th_elem_binary or prt_th_list_struct ... prt_th_end. */
void prt_th_list(prt_thrift *t, int16_t id, int elem, size_t n);
void prt_th_elem_i32(prt_thrift *t, int32_t v);
void prt_th_elem_binary(prt_thrift *t, const void *p, size_t n);
void prt_th_list_struct(prt_thrift *t);

/* The raw pieces, also used for Parquet's RLE/bit-packed run headers: ULEB128 varints. */
void prt_th_varint(prt_buf *b, uint64_t v);

#endif
