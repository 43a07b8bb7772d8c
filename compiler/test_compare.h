/* test_compare.h - captured rows read back and compared with a test's expected rows
 * (test_compare.c). */
#ifndef PIPEC_TEST_COMPARE_H
#define PIPEC_TEST_COMPARE_H
#include <stdbool.h>
#include "sbuf.h"
#include "yaml.h"

typedef enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_OTHER } JValKind;

typedef struct JVal {
    JValKind kind;
    const char *text;          /* number as written, string decoded, true/false, or other JSON as written */
    size_t len;
} JVal;

/* One captured row: a flat JSON object. */
typedef struct JRow {
    const char **keys;
    JVal *vals;
    int n;
} JRow;

/* Parses JSON lines (one object each) into rows; false when a line is not a JSON object. */
bool test_read_rows(Arena *a, const char *text, JRow **rows, int *nrows);

/* Compares the expected rows (a YAML list of maps of scalars) with the actual rows of `what`
 * (e.g. "sink events"): same count, and row i's expected keys equal to row i's values. On a
 * difference appends a readable report to `diff` (indented by `ind` spaces) and returns false. */
bool test_compare_rows(const char *what, const YNode *expected, const JRow *actual, int nactual, int ind, SBuf *diff);

/* Whether an expected YAML scalar equals a captured JSON value: null, booleans and strings as
 * written, numbers by value (3.5 = 3.50, within a relative 1e-9), timestamps by instant. */
bool test_value_equal(const YNode *e, const JVal *v);

#endif
