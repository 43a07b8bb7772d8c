/* fuzz_spec.c - libFuzzer target: the YAML loader and the spec checker (compiler/yaml.c,
 * check.c) on any text, as `pipec check` would read a file. Diagnostics go to /dev/null; the
 * target checks that a spec is returned exactly when no error was reported. `make fuzz` runs it. */
#include "arena.h"
#include "diag.h"
#include "fuzz_text.h"
#include "spec.h"
#include "yaml.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_text(data, size);
    Arena a = {0};
    YNode *root = yaml_load_string(&a, "fuzz.yaml", text);
    if (root) {
        Spec *s = check_spec(&a, root, "fuzz.yaml");
        assert((s != NULL) == (diag_error_count() == 0));
    }
    arena_free(&a);
    yaml_free_sources();
    free(text);
    return 0;
}
