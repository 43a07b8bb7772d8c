/* docgen.h - the key reference of docs/spec.md, printed from the option tables (options.c) so
 * the documentation and the checker cannot disagree. `pipec docs` prints it; `make docs`
 * splices it into docs/spec.md; a test fails when the two differ. */
#ifndef PIPEC_DOCGEN_H
#define PIPEC_DOCGEN_H
#include <stdio.h>

void docgen_options_markdown(FILE *out);

#endif
