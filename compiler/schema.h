/* schema.h - the JSON Schema (draft 2020-12) of the spec format, printed by `pipec schema` from
 * the option tables (options.c) the checker uses, for editors that validate and complete YAML.
 * `make docs` writes it to docs/pipec.schema.json; a test fails when that file is stale. */
#ifndef PIPEC_SCHEMA_H
#define PIPEC_SCHEMA_H
#include "sbuf.h"

void schema_json(SBuf *out);

#endif
