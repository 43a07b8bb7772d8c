/* check_tests.h - pass 2 for the spec's inline `tests:` (check_tests.c). */
#ifndef PIPEC_CHECK_TESTS_H
#define PIPEC_CHECK_TESTS_H
#include "spec.h"

/* Checks the `tests:` node and fills s->tests; errors go through diag. Call after the sinks,
 * windows and dead letter are checked. */
void check_tests(Arena *a, Spec *s, const YNode *tests);
/* The columns of sink `sink`'s rows (-1: the dead letter's), as `pipec test` captures them. */
int test_sink_columns(Arena *a, const Spec *s, int sink, const char ***out);

#endif
