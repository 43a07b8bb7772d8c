/* json_writer.h - a small streaming JSON writer (two-space indentation) used by `pipec schema`.
 * Keys and values come out in call order, so the output is as deterministic as the caller. */
#ifndef PIPEC_JSON_WRITER_H
#define PIPEC_JSON_WRITER_H
#include <stdbool.h>
#include <stddef.h>
#include "sbuf.h"

enum { JSON_MAX_DEPTH = 64 };

typedef struct JsonWriter {
    SBuf *out;
    int depth;
    bool after_key;                      /* the next value belongs to the key just written */
    bool has_items[JSON_MAX_DEPTH + 1];  /* per open object or array: something was written */
    bool inline_items[JSON_MAX_DEPTH + 1];  /* per open array: items on one line */
} JsonWriter;

void jw_object_begin(JsonWriter *w);
void jw_object_end(JsonWriter *w);
void jw_array_begin(JsonWriter *w);
void jw_inline_array_begin(JsonWriter *w);   /* for short scalars: [1, 2, 3] on one line */
void jw_array_end(JsonWriter *w);
void jw_key(JsonWriter *w, const char *key);
/* Appends s[0..n) as a JSON string literal (quotes, backslashes and control characters escaped). */
void jw_quote(SBuf *b, const char *s, size_t n);
void jw_string(JsonWriter *w, const char *s);
void jw_string_n(JsonWriter *w, const char *s, size_t n);
void jw_int(JsonWriter *w, long long v);
void jw_bool(JsonWriter *w, bool v);

/* "key": "value" */
void jw_key_string(JsonWriter *w, const char *key, const char *value);

#endif
