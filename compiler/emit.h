/* emit.h - pass 4: the C program of a pipeline, rendered from templates/ with the IR as model. */
#ifndef PIPEC_EMIT_H
#define PIPEC_EMIT_H
#include <stdbool.h>
#include "plan.h"
#include "sbuf.h"

/* Renders templates_dir/pipeline.c.tmpl into `out`. `c_name` is the generated file's name as the
 * #line directives should call it; `line_directives` maps expression code back to the spec.
 * Returns false after reporting template errors. */
bool emit_program(Arena *a, const Ir *ir, const char *templates_dir, const char *c_name,
                  bool line_directives, SBuf *out);

#endif
