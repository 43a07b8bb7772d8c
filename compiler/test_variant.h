/* test_variant.h - the spec `pipec test` builds: the same records, sinks captured (test_variant.c). */
#ifndef PIPEC_TEST_VARIANT_H
#define PIPEC_TEST_VARIANT_H
#include "spec.h"

/* Where the test binary reads its input and writes what it captured, relative to the directory
 * it runs in: the input file, and TEST_OUT_DIR/NAME.jsonl per sink (NAME = dead_letter for the
 * dead letter, which no sink can be named). */
#define TEST_INPUT_FILE "input"
#define TEST_OUT_DIR "out"
/* The column holding a kafka sink's message key in its captured rows. */
#define TEST_KEY_COLUMN "_key"

/* A copy of the checked spec `s` whose source is the file TEST_INPUT_FILE in the same format,
 * whose sinks and dead letter are JSON-lines files under TEST_OUT_DIR (the same rows: columns,
 * where, windows and parquet partition values kept, a kafka sink's key as column TEST_KEY_COLUMN),
 * and which has no checkpoint and no metrics
 * endpoint. `s` itself is not changed, so a normal build never sees any of this. */
Spec *test_variant(Arena *a, const Spec *s);

#endif
