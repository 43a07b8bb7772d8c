/* tmpl.h - a small Jinja-like template engine that renders the C program (and the other generated
 * files) from templates/ with the IR as the model.
 *
 * Syntax, a subset of Jinja2's with the same meaning (tests/tmpl checks our output against
 * python3-jinja2 on the same templates and models):
 *   {{ expr }}                   output; expr is a name, a.b attribute / a["k"] / a[0] lookup,
 *                                a string/int literal, `not`, `and`, `or`, `==`, `!=`, `<`, `>`,
 *                                `<=`, `>=`, `in`, `~` (concat), `+`, `-`, parentheses, and filters
 *                                `expr | name` or `expr | name(args)`.
 *   {% if e %} {% elif e %} {% else %} {% endif %}
 *   {% for x in e %} ... {% else %} ... {% endfor %}   (also `for k, v in map | items`)
 *                                with loop.index, loop.index0, loop.first, loop.last, loop.length
 *   {% set name = e %}
 *   {# comment #}
 *   {%- and -%} / {{- and -}} strip whitespace (including newlines) on that side.
 *   Like Jinja2 with trim_blocks and lstrip_blocks on: a block tag's own line does not leave a
 *   blank line behind.
 * Filters: upper, lower, length, join(sep), default(v), first, last, replace(a, b), trim,
 *   indent(n), items, c_string (a C string literal with quotes, escaping everything needed).
 * A name that is not defined is an error naming the template file and line (Jinja2's
 * StrictUndefined). Errors go through diag with the template's file:line:col. */
#ifndef PIPEC_TMPL_H
#define PIPEC_TMPL_H
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "sbuf.h"

typedef enum { TV_NONE, TV_BOOL, TV_INT, TV_STR, TV_LIST, TV_MAP } TValKind;

typedef struct TVal TVal;
typedef struct TPair { const char *key; TVal *val; } TPair;
struct TVal {
    TValKind kind;
    bool b;
    int64_t i;
    const char *s;
    TVal **items; int nitems, capitems;     /* TV_LIST */
    TPair *pairs; int npairs, cappairs;     /* TV_MAP, insertion-ordered */
};

TVal *tv_none(Arena *a);
TVal *tv_bool(Arena *a, bool b);
TVal *tv_int(Arena *a, int64_t i);
TVal *tv_str(Arena *a, const char *s);   /* copies s */
TVal *tv_list(Arena *a);
TVal *tv_map(Arena *a);
void tv_push(Arena *a, TVal *list, TVal *item);
void tv_set(Arena *a, TVal *map, const char *key, TVal *val);   /* replaces an existing key */
TVal *tv_get(const TVal *map, const char *key);                 /* NULL when absent */
/* Convenience for building models. */
void tv_set_str(Arena *a, TVal *map, const char *key, const char *s);
void tv_set_int(Arena *a, TVal *map, const char *key, int64_t i);
void tv_set_bool(Arena *a, TVal *map, const char *key, bool b);

/* Renders the template file `path` with `model` (a map whose keys are the top-level names),
 * appending to `out`. Returns false after reporting errors through diag. */
bool tmpl_render_file(Arena *a, const char *path, const TVal *model, SBuf *out);
/* The same for a template held in memory; `name` is used in error locations. */
bool tmpl_render_string(Arena *a, const char *name, const char *text, const TVal *model, SBuf *out);

#endif
