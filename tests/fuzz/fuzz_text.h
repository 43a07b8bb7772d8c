/* fuzz_text.h - what the compiler-side fuzz targets share: diagnostics silenced (once) and
 * counted from zero, and the input as a NUL-terminated copy (the caller frees it). */
#ifndef PIPEC_FUZZ_TEXT_H
#define PIPEC_FUZZ_TEXT_H
#include "diag.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const uint8_t *data, size_t size) {
    static FILE *devnull;
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        diag_set_output(devnull);
    }
    diag_reset();
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    return text;
}

#endif
