/* test_input.h - an inline test's `input:` as the text its source would deliver (test_input.c). */
#ifndef PIPEC_TEST_INPUT_H
#define PIPEC_TEST_INPUT_H
#include "sbuf.h"
#include "spec.h"

/* The text of `input` (a block scalar as is, a list of maps encoded into the source's format),
 * or NULL after reporting its shape errors. */
const char *test_input_text(Arena *a, const Spec *s, const YNode *input);

#endif
