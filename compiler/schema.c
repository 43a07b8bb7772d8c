/* schema.c - the JSON Schema of the spec format, from the option tables (see schema.h).
 *
 * Every map the checker validates key by key (opts_check_map, find_connector) gets
 * additionalProperties: false and its required keys; a connector map (source, format, sink, dead
 * letter) takes exactly one connector key (oneOf). The schema is never stricter than `pipec
 * check`: a YAML scalar reaches JSON as a string, number, boolean or null, so a text option
 * accepts any of them. What only the checker's code knows (expressions, field references, rules
 * across keys such as "file sources need a format") is left open, and the description says so. */
#include "schema.h"
#include <string.h>
#include "json_writer.h"
#include "options.h"

/* Names of fields, rules, derived fields, windows, sinks and window outputs (check.c's
 * valid_field_name); that a name is no keyword of the expression language is left to the checker. */
static const char name_pattern[] = "^[A-Za-z_][A-Za-z0-9_]*$";

/* The grammar of durations (prt_str_to_interval) loosely: numbers with unit words. */
static const char duration_pattern[] = "^\\s*[-+]?[0-9.]+ *[A-Za-z]+(\\s*[-+]?[0-9.]+ *[A-Za-z]+)*\\s*$";

/* The grammar of sizes (check.c's parse_size). */
static const char size_pattern[] = "^\\s*[-+]?[0-9]+ *(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?$";

static const char not_checked_here[] = "checked by `pipec check`, not by this schema";

static void describe(JsonWriter *w, const char *doc, const char *def, const char *note) {
    SBuf b = {0};
    sbuf_puts(&b, doc);
    if (def) sbuf_printf(&b, " (default: %s)", def[0] ? def : "empty");
    if (note) sbuf_printf(&b, "; %s", note);
    jw_key_string(w, "description", sbuf_cstr(&b));
    sbuf_free(&b);
}

/* Any YAML scalar: text, a number, true/false or nothing. */
static void scalar_types(JsonWriter *w) {
    jw_key(w, "type");
    jw_inline_array_begin(w);
    jw_string(w, "string");
    jw_string(w, "number");
    jw_string(w, "boolean");
    jw_string(w, "null");
    jw_array_end(w);
}

static void scalar_object(JsonWriter *w) {
    jw_object_begin(w);
    scalar_types(w);
    jw_object_end(w);
}

static void typed(JsonWriter *w, const char *type) {
    jw_object_begin(w);
    jw_key_string(w, "type", type);
    jw_object_end(w);
}

static void pattern_string(JsonWriter *w, const char *pattern) {
    jw_object_begin(w);
    jw_key_string(w, "type", "string");
    jw_key_string(w, "pattern", pattern);
    jw_object_end(w);
}

static void required_keys(JsonWriter *w, const char *const *keys) {
    jw_key(w, "required");
    jw_inline_array_begin(w);
    for (; *keys; keys++) jw_string(w, *keys);
    jw_array_end(w);
}

/* "oneOf": exactly one of `keys` is present. */
static void exactly_one_of(JsonWriter *w, const char *const *keys) {
    jw_key(w, "oneOf");
    jw_array_begin(w);
    for (; *keys; keys++) {
        jw_object_begin(w);
        required_keys(w, (const char *const[]){*keys, NULL});
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void option_properties(JsonWriter *w, const OptDef *opts);

/* The keys of one option table, as the checker's opts_check_map sees them. */
static void options_object(JsonWriter *w, const OptDef *opts, bool or_null) {
    jw_key(w, "type");
    if (or_null) {
        jw_inline_array_begin(w);
        jw_string(w, "object");
        jw_string(w, "null");
        jw_array_end(w);
    } else {
        jw_string(w, "object");
    }
    jw_key(w, "properties");
    jw_object_begin(w);
    option_properties(w, opts);
    jw_object_end(w);
    const char *req[64];
    int n = 0;
    for (const OptDef *o = opts; o->name && n < 63; o++)
        if (o->required) req[n++] = o->name;
    req[n] = NULL;
    if (n) required_keys(w, req);
    jw_key(w, "additionalProperties");
    jw_bool(w, false);
}

/* A connector's settings: a map, or nothing (`stdout:`) when no key is required. */
static void connector_value(JsonWriter *w, const ConnDef *c) {
    bool required = false;
    for (const OptDef *o = c->opts; o->name; o++) required |= o->required;
    jw_key(w, c->name);
    jw_object_begin(w);
    describe(w, c->doc, NULL, c->supported ? NULL : "not available in this version of pipec");
    options_object(w, c->opts, !required);
    jw_object_end(w);
}

/* A map of the `common` keys and exactly one connector key. */
static void connector_map(JsonWriter *w, const ConnDef *conns, const OptDef *common) {
    jw_key_string(w, "type", "object");
    jw_key(w, "properties");
    jw_object_begin(w);
    if (common) option_properties(w, common);
    for (const ConnDef *c = conns; c->name; c++) connector_value(w, c);
    jw_object_end(w);
    jw_key(w, "additionalProperties");
    jw_bool(w, false);
    const char *names[32];
    int n = 0;
    for (const ConnDef *c = conns; c->name && n < 31; c++) names[n++] = c->name;
    names[n] = NULL;
    exactly_one_of(w, names);
}

/* A map of names (fields, rules, ...) to values written by `value`. */
static void named_map(JsonWriter *w, bool checked_names, int min, void (*value)(JsonWriter *w)) {
    jw_key_string(w, "type", "object");
    if (min) {
        jw_key(w, "minProperties");
        jw_int(w, min);
    }
    if (checked_names) {
        jw_key(w, "propertyNames");
        jw_object_begin(w);
        jw_key_string(w, "pattern", name_pattern);
        jw_object_end(w);
    }
    jw_key(w, "additionalProperties");
    value(w);
}

/* ---- the shapes of map options, by key ----------------------------------------------------- */

static void source_shape(JsonWriter *w) { connector_map(w, source_conns, source_common_opts); }
static void format_shape(JsonWriter *w) { connector_map(w, format_conns, NULL); }
static void dead_letter_shape(JsonWriter *w) { connector_map(w, dead_letter_conns, NULL); }
static void hopping_shape(JsonWriter *w) { options_object(w, hopping_opts, false); }
static void session_shape(JsonWriter *w) { options_object(w, session_opts, false); }
static void batch_shape(JsonWriter *w) { options_object(w, pg_batch_opts, false); }

static void checkpoint_shape(JsonWriter *w) {
    options_object(w, checkpoint_opts, false);
    exactly_one_of(w, (const char *const[]){"path", "postgres", NULL});
}

static void metrics_shape(JsonWriter *w) { options_object(w, metrics_opts, false); }
static void metrics_tls_shape(JsonWriter *w) { options_object(w, metrics_tls_opts, false); }
static void limits_shape(JsonWriter *w) { options_object(w, limits_opts, false); }

static void metrics_auth_shape(JsonWriter *w) {
    options_object(w, metrics_auth_opts, false);
    exactly_one_of(w, (const char *const[]){"password", "password_file", NULL});
}

static void field_value(JsonWriter *w) {
    const OptDef *type = opt_find(field_opts, "type");
    jw_object_begin(w);
    jw_key_string(w, "description", "a type name, or a map {type, ...}");
    jw_key(w, "anyOf");
    jw_array_begin(w);
    jw_object_begin(w);
    jw_key(w, "enum");
    jw_inline_array_begin(w);
    const char *cursor = type->choices, *choice;
    size_t len;
    while (opt_next_choice(&cursor, &choice, &len)) jw_string_n(w, choice, len);
    jw_array_end(w);
    jw_object_end(w);
    jw_object_begin(w);
    options_object(w, field_opts, false);
    jw_object_end(w);
    jw_array_end(w);
    jw_object_end(w);
}

static void schema_shape(JsonWriter *w) { named_map(w, true, 1, field_value); }

static void expression_value(JsonWriter *w) {
    jw_object_begin(w);
    jw_key_string(w, "description", "an expression, checked by `pipec check`");
    scalar_types(w);
    jw_object_end(w);
}

static void expressions_shape(JsonWriter *w) { named_map(w, true, 0, expression_value); }
static void columns_shape(JsonWriter *w) { named_map(w, false, 1, expression_value); }

static void aggregate_value(JsonWriter *w) {
    jw_object_begin(w);
    jw_key_string(w, "description", "an aggregate such as count(), sum(x) or avg(x), checked by `pipec check`");
    scalar_types(w);
    jw_object_end(w);
}

static void select_shape(JsonWriter *w) { named_map(w, true, 1, aggregate_value); }
static void properties_shape(JsonWriter *w) { named_map(w, false, 0, scalar_object); }

static void window_value(JsonWriter *w) {
    jw_object_begin(w);
    options_object(w, window_opts, false);
    exactly_one_of(w, (const char *const[]){"tumbling", "hopping", "session", NULL});
    jw_object_end(w);
}

static void windows_shape(JsonWriter *w) { named_map(w, true, 0, window_value); }

static void sink_value(JsonWriter *w) {
    jw_object_begin(w);
    connector_map(w, sink_conns, sink_common_opts);
    jw_object_end(w);
}

static void sinks_shape(JsonWriter *w) { named_map(w, true, 1, sink_value); }

/* A test's expected rows of one sink (or the dead letter): a list of maps. */
static void expected_rows_value(JsonWriter *w) {
    jw_object_begin(w);
    jw_key_string(w, "type", "array");
    jw_key(w, "items");
    typed(w, "object");
    jw_object_end(w);
}

static void expect_shape(JsonWriter *w) { named_map(w, false, 0, expected_rows_value); }

static const struct MapShape {
    const char *key;
    void (*write)(JsonWriter *w);
} map_shapes[] = {
    {"source", source_shape},       {"format", format_shape},     {"schema", schema_shape},
    {"rules", expressions_shape},   {"derive", expressions_shape}, {"windows", windows_shape},
    {"sinks", sinks_shape},         {"dead_letter", dead_letter_shape}, {"checkpoint", checkpoint_shape},
    {"hopping", hopping_shape},     {"session", session_shape},   {"select", select_shape},
    {"columns", columns_shape},     {"batch", batch_shape},       {"properties", properties_shape},
    {"metrics", metrics_shape},     {"tls", metrics_tls_shape},   {"basic_auth", metrics_auth_shape},
    {"expect", expect_shape},       {"limits", limits_shape},     {NULL, NULL},
};

/* ---- one option ----------------------------------------------------------------------------- */

static void option_value(JsonWriter *w, const OptDef *o) {
    const struct MapShape *shape = NULL;
    for (const struct MapShape *m = map_shapes; o->kind == OPT_MAP && m->key; m++)
        if (strcmp(m->key, o->name) == 0) shape = m;
    const char *note = o->kind == OPT_EXPR ? "an expression, checked by `pipec check`"
                     : o->kind == OPT_ANY || (o->kind == OPT_MAP && !shape) ? not_checked_here : NULL;
    jw_object_begin(w);
    describe(w, o->doc, o->def, note);
    switch (o->kind) {
    case OPT_STRING:
    case OPT_EXPR:
        scalar_types(w);
        break;
    case OPT_BOOL:
        jw_key(w, "anyOf");
        jw_array_begin(w);
        typed(w, "boolean");
        jw_object_begin(w);
        jw_key(w, "enum");
        jw_inline_array_begin(w);
        jw_string(w, "true");
        jw_string(w, "false");
        jw_array_end(w);
        jw_object_end(w);
        jw_array_end(w);
        break;
    case OPT_INT:
        jw_key(w, "anyOf");
        jw_array_begin(w);
        typed(w, "integer");
        pattern_string(w, "^-?[0-9]+$");
        jw_array_end(w);
        break;
    case OPT_CHAR:
        /* one character of text; a digit arrives as a number, `~` as null */
        jw_key(w, "anyOf");
        jw_array_begin(w);
        jw_object_begin(w);
        jw_key_string(w, "type", "string");
        jw_key(w, "minLength");
        jw_int(w, 1);
        jw_key(w, "maxLength");
        jw_int(w, 1);
        jw_object_end(w);
        jw_object_begin(w);
        jw_key_string(w, "type", "integer");
        jw_key(w, "minimum");
        jw_int(w, 0);
        jw_key(w, "maximum");
        jw_int(w, 9);
        jw_object_end(w);
        typed(w, "null");
        jw_array_end(w);
        break;
    case OPT_DURATION:
        jw_key_string(w, "type", "string");
        jw_key_string(w, "pattern", duration_pattern);
        break;
    case OPT_SIZE:
        jw_key(w, "anyOf");
        jw_array_begin(w);
        jw_object_begin(w);
        jw_key_string(w, "type", "integer");
        jw_key(w, "minimum");
        jw_int(w, 0);
        jw_object_end(w);
        pattern_string(w, size_pattern);
        jw_array_end(w);
        break;
    case OPT_ENUM: {
        const char *cursor = o->choices, *choice;
        size_t len;
        jw_key(w, "enum");
        jw_inline_array_begin(w);
        while (opt_next_choice(&cursor, &choice, &len)) jw_string_n(w, choice, len);
        jw_array_end(w);
        break;
    }
    case OPT_LIST:
        jw_key_string(w, "type", "array");
        if (strcmp(o->name, "tests") == 0) {   /* the one list of maps */
            jw_key(w, "items");
            jw_object_begin(w);
            options_object(w, test_opts, false);
            jw_object_end(w);
        }
        break;
    case OPT_MAP:
        if (shape) shape->write(w);
        else jw_key_string(w, "type", "object");
        break;
    case OPT_ANY:
        break;
    }
    jw_object_end(w);
}

static void option_properties(JsonWriter *w, const OptDef *opts) {
    for (const OptDef *o = opts; o->name; o++) {
        jw_key(w, o->name);
        option_value(w, o);
    }
}

void schema_json(SBuf *out) {
    JsonWriter w = {.out = out};
    jw_object_begin(&w);
    jw_key_string(&w, "$schema", "https://json-schema.org/draft/2020-12/schema");
    jw_key_string(&w, "$id", "urn:pipec:spec-schema");
    jw_key_string(&w, "title", "pipec pipeline spec");
    jw_key_string(&w, "description",
                  "A pipeline spec compiled by pipec (docs/spec.md), generated by `pipec schema` from the option tables "
                  "the checker uses. Never stricter than `pipec check`; expressions, field references and rules "
                  "across keys are checked by `pipec check` only.");
    options_object(&w, top_level_opts, false);
    jw_object_end(&w);
}
