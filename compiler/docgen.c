/* docgen.c - markdown tables of every spec key, from the option tables (see docgen.h). */
#include "docgen.h"
#include "options.h"

static const char *kind_name(OptKind k) {
    switch (k) {
    case OPT_STRING: return "text";
    case OPT_BOOL: return "true/false";
    case OPT_INT: return "integer";
    case OPT_CHAR: return "one character";
    case OPT_DURATION: return "duration";
    case OPT_SIZE: return "size";
    case OPT_EXPR: return "expression";
    case OPT_ENUM: return "one of";
    case OPT_LIST: return "list";
    case OPT_MAP: return "map";
    default: return "any";
    }
}

static void table(FILE *out, const OptDef *opts) {
    fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
    for (const OptDef *o = opts; o->name; o++) {
        fprintf(out, "| `%s` | %s", o->name, kind_name(o->kind));
        if (o->kind == OPT_ENUM) {
            /* A bare | would end the table cell. */
            const char *cursor = o->choices, *choice;
            size_t len;
            fputs(" `", out);
            for (bool first = true; opt_next_choice(&cursor, &choice, &len); first = false)
                fprintf(out, "%s%.*s", first ? "" : "\\|", (int)len, choice);
            fputc('`', out);
        }
        if (o->required) fprintf(out, " | required");
        else if (o->def && o->def[0]) fprintf(out, " | `%s`", o->def);
        else if (o->def) fprintf(out, " | (empty)");
        else fprintf(out, " | ");
        fprintf(out, " | %s |\n", o->doc);
    }
}

static void conns(FILE *out, const char *title, const ConnDef *c) {
    for (; c->name; c++) {
        fprintf(out, "\n#### %s `%s`%s\n\n%s.\n\n", title, c->name, c->supported ? "" : " (not available yet)", c->doc);
        if (c->opts[0].name) table(out, c->opts);
        else fprintf(out, "No keys: write `%s: {}`.\n", c->name);
    }
}

void docgen_options_markdown(FILE *out) {
    fprintf(out, "### Top-level keys\n\n");
    table(out, top_level_opts);
    fprintf(out, "\n### Schema field keys\n\nA field is `name: TYPE` or `name: {type: TYPE, ...}` with these keys:\n\n");
    table(out, field_opts);
    fprintf(out, "\n### Sources\n");
    conns(out, "Source", source_conns);
    fprintf(out, "\n### Formats\n");
    conns(out, "Format", format_conns);
    fprintf(out, "\n### Sinks\n\nEvery sink takes these keys beside its connector:\n\n");
    table(out, sink_common_opts);
    conns(out, "Sink", sink_conns);
    fprintf(out, "\n### Dead letter\n");
    conns(out, "Dead letter", dead_letter_conns);
    fprintf(out, "\n### Checkpoint\n\n");
    table(out, checkpoint_opts);
    fprintf(out, "\n### Metrics\n\n");
    table(out, metrics_opts);
    fprintf(out, "\n#### `tls`\n\n");
    table(out, metrics_tls_opts);
    fprintf(out, "\n#### `basic_auth`\n\n");
    table(out, metrics_auth_opts);
    fprintf(out, "\n### Limits\n\n");
    table(out, limits_opts);
    fprintf(out, "\n### Windows\n\nA window is `name: {...}` under `windows:` with these keys:\n\n");
    table(out, window_opts);
    fprintf(out, "\n#### `hopping`\n\n");
    table(out, hopping_opts);
    fprintf(out, "\n#### `session`\n\n");
    table(out, session_opts);
    fprintf(out, "\n### Tests\n\nAn entry of `tests:` (run by `pipec test`, see Inline tests) has these keys:\n\n");
    table(out, test_opts);
}
