/* check.c - pass 2: turns the YAML tree of a spec into a checked Spec (spec.h).
 *
 * Every key is validated against the option tables (options.c), every name resolved, every
 * expression parsed and type-checked against the fields visible at its place: rules see the
 * schema; derive entry i sees the schema and the derived fields before it; the filter and the
 * sinks see everything. The checker keeps going after an error so one run reports up to ten
 * problems; it returns NULL if there was any. Nothing later re-validates what is checked here. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "check_tests.h"
#include <strings.h>
#include "diag.h"
#include "options.h"
#include "pipec_rt.h"
#include "spec.h"
#include "suggest.h"

typedef struct Checker {
    Arena *a;
    Spec *spec;
    const char *file;
} Checker;

/* ---- small value helpers ---------------------------------------------------------------- */

/* Durations use the grammar of interval literals (the runtime's prt_str_to_interval). */
bool parse_duration(const char *text, int64_t *out_us) {
    return prt_str_to_interval((prt_str){text, (uint32_t)strlen(text)}, out_us);
}

static bool parse_size(const char *text, int64_t *out) {
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (errno || end == text || n < 0) return false;
    while (*end == ' ') end++;
    int64_t mul = 1;
    if (!*end || strcmp(end, "B") == 0) mul = 1;
    else if (strcmp(end, "KiB") == 0 || strcmp(end, "K") == 0 || strcmp(end, "KB") == 0) mul = 1024;
    else if (strcmp(end, "MiB") == 0 || strcmp(end, "M") == 0 || strcmp(end, "MB") == 0) mul = 1024 * 1024;
    else if (strcmp(end, "GiB") == 0 || strcmp(end, "G") == 0 || strcmp(end, "GB") == 0) mul = 1024LL * 1024 * 1024;
    else return false;
    if (n > INT64_MAX / mul) return false;
    *out = n * mul;
    return true;
}

static const char *opt_text(const YNode *map, const char *key, const OptDef *opts) {
    const YNode *v = yaml_get(map, key);
    if (v && v->kind == YN_SCALAR) return v->text;
    const OptDef *o = opt_find(opts, key);
    return o ? o->def : NULL;
}

static bool opt_bool(const YNode *map, const char *key, const OptDef *opts) {
    const char *t = opt_text(map, key, opts);
    return t && strcmp(t, "true") == 0;
}

static int64_t opt_duration(const YNode *map, const char *key, const OptDef *opts) {
    int64_t us = 0;
    const char *t = opt_text(map, key, opts);
    if (t) parse_duration(t, &us);
    return us;
}

/* Checks that a ${...} reference in a connection string is well formed, so a typo shows at
 * compile time rather than as a missing variable in production. */
static void check_env_refs(const YNode *v) {
    if (!v || v->kind != YN_SCALAR) return;
    const char *p = v->text;
    while ((p = strstr(p, "${")) != NULL) {
        const char *start = p + 2, *q = start;
        if (!(isalpha((unsigned char)*q) || *q == '_')) {
            diag_error(yaml_scalar_loc(v, (size_t)(p - v->text)), "'${' must be followed by a variable name");
            return;
        }
        while (isalnum((unsigned char)*q) || *q == '_') q++;
        if (*q == '}') {
            p = q + 1;
            continue;
        }
        if (q[0] == ':' && q[1] == '-') {
            const char *close = strchr(q, '}');
            if (close) {
                p = close + 1;
                continue;
            }
        }
        diag_error(yaml_scalar_loc(v, (size_t)(p - v->text)),
                   "malformed variable reference: use ${NAME} or ${NAME:-default}");
        return;
    }
}

/* Finds the single connector key of a map (source, sink, dead letter), ignoring `ignore` keys.
 * Reports zero, several, unknown and not-yet-supported connectors. */
static const ConnDef *find_connector(const YNode *map, const ConnDef *conns, const char *what,
                                     const char *const *ignore, const YNode **node_out) {
    const ConnDef *found = NULL;
    const YNode *found_key = NULL;
    bool bad = false;
    for (int i = 0; i < map->npairs; i++) {
        const YNode *k = map->pairs[i].key;
        bool skip = false;
        for (const char *const *ig = ignore; ig && *ig; ig++)
            if (strcmp(*ig, k->text) == 0) skip = true;
        if (skip) continue;
        const ConnDef *c = conn_find(conns, k->text);
        if (!c) {
            const char *cands[32];
            int n = 0;
            for (const ConnDef *d = conns; d->name; d++) cands[n++] = d->name;
            for (const char *const *ig = ignore; ig && *ig; ig++) cands[n++] = *ig;
            const char *best = suggest_closest(k->text, cands, n);
            if (best)
                diag_error(k->loc, "unknown key '%s' in %s (did you mean '%s'?)", k->text, what, best);
            else
                diag_error(k->loc, "unknown key '%s' in %s", k->text, what);
            bad = true;
            continue;
        }
        if (found) {
            diag_error(k->loc, "%s has a second connector '%s'", what, k->text);
            diag_note(found_key->loc, "the first is '%s'", found->name);
            bad = true;
            continue;
        }
        found = c;
        found_key = k;
    }
    if (bad) return NULL;
    if (!found) {
        SBuf names = {0};
        for (const ConnDef *d = conns; d->name; d++) {
            if (!d->supported) continue;
            if (names.len) sbuf_puts(&names, ", ");
            sbuf_puts(&names, d->name);
        }
        diag_error(map->loc, "%s needs a connector (one of: %s)", what, sbuf_cstr(&names));
        sbuf_free(&names);
        return NULL;
    }
    if (!found->supported) {
        diag_error(found_key->loc, "the '%s' connector of %s is not available in this version of pipec", found->name, what);
        return NULL;
    }
    *node_out = yaml_get(map, found->name);
    if ((*node_out)->kind != YN_MAP && !yaml_is_null(*node_out)) {
        diag_error((*node_out)->loc, "'%s' of %s must be a map of its settings", found->name, what);
        return NULL;
    }
    return found;
}

/* A connector's settings map; `stdout:` with nothing after it is an empty map. */
static bool check_conn_opts(const YNode *node, const ConnDef *c, const char *what) {
    if (yaml_is_null(node)) {
        for (const OptDef *o = c->opts; o->name; o++)
            if (o->required) {
                diag_error(node->loc, "%s needs '%s' (%s)", what, o->name, o->doc);
                return false;
            }
        return true;
    }
    return opts_check_map(node, c->opts, what, NULL);
}

/* ---- source ------------------------------------------------------------------------------ */

/* Kafka `properties`: librdkafka settings, kept as key, value pairs (values may hold ${VAR}). */
static void check_kafka_props(Checker *ck, const YNode *props, const char ***out, int *n) {
    *n = 0;
    if (!props || props->kind != YN_MAP) return;
    *out = arena_alloc(ck->a, sizeof(char *) * (size_t)(2 * props->npairs + 1));
    for (int i = 0; i < props->npairs; i++) {
        const YNode *v = props->pairs[i].value;
        if (v->kind != YN_SCALAR) {
            diag_error(v->loc, "a kafka property's value must be a string, a number or a boolean");
            continue;
        }
        check_env_refs(v);
        (*out)[2 * *n] = props->pairs[i].key->text;
        (*out)[2 * *n + 1] = v->text;
        (*n)++;
    }
}

/* The kafka source's connection: brokers, group, one topic or a list, start, properties. */
static void check_kafka_source(Checker *ck, SourceSpec *so, const YNode *conn_node, const ConnDef *c, bool opts_ok) {
    so->path = "";
    so->brokers = opt_text(conn_node, "brokers", c->opts);
    so->group = opt_text(conn_node, "group", c->opts);
    check_env_refs(yaml_get(conn_node, "brokers"));
    check_env_refs(yaml_get(conn_node, "group"));
    so->start_latest = opts_ok && strcmp(opt_text(conn_node, "start", c->opts), "latest") == 0;
    const YNode *one = yaml_get(conn_node, "topic"), *list = yaml_get(conn_node, "topics");
    if (opts_ok && !one == !list) {
        diag_error(conn_node->loc, "the kafka source takes one of 'topic' and 'topics'");
        return;
    }
    so->topics = arena_alloc(ck->a, sizeof(char *) * (size_t)(list && list->kind == YN_SEQ ? list->nitems + 1 : 2));
    if (one && one->kind == YN_SCALAR) so->topics[so->ntopics++] = one->text, check_env_refs(one);
    for (int i = 0; list && list->kind == YN_SEQ && i < list->nitems; i++) {
        const YNode *t = list->items[i];
        if (t->kind != YN_SCALAR || !t->text[0]) diag_error(t->loc, "a topic name must be a non-empty string");
        else so->topics[so->ntopics++] = t->text, check_env_refs(t);
    }
    if (list && list->kind == YN_SEQ && list->nitems == 0) diag_error(list->loc, "'topics' needs at least one topic");
    check_kafka_props(ck, yaml_get(conn_node, "properties"), &so->props, &so->nprops);
}

/* The http source: url, every, timeout, headers (a name is an HTTP token, a value has no line
 * break), max_record; answers are JSON, so `format` may only say json. */
static void check_http_source(Checker *ck, SourceSpec *so, const YNode *src, const YNode *conn_node, const ConnDef *c) {
    so->path = "";
    so->format = FMT_JSON;
    const YNode *u = yaml_get(conn_node, "url");
    so->url = opt_text(conn_node, "url", c->opts);
    check_env_refs(u);
    if (u && u->kind == YN_SCALAR && strncmp(u->text, "${", 2) != 0 && strncasecmp(u->text, "http://", 7) != 0 &&
        strncasecmp(u->text, "https://", 8) != 0)
        diag_error(u->loc, "the http source's url must start with http:// or https://");
    const YNode *ev = yaml_get(conn_node, "every");
    const char *every = opt_text(conn_node, "every", c->opts);
    if (every && strstr(every, "${")) {   /* read at start-up; a default must be a duration */
        so->every_text = every;
        check_env_refs(ev);
        const char *dflt = strstr(every, ":-"), *close = dflt ? strchr(dflt, '}') : NULL;
        char *text = close ? arena_printf(ck->a, "%.*s", (int)(close - dflt - 2), dflt + 2) : NULL;
        if (text && (!parse_duration(text, &so->poll_us) || so->poll_us <= 0))
            diag_error(yaml_scalar_loc(ev, (size_t)(dflt + 2 - every)), "the default of 'every' must be a positive duration such as 1s or 500ms");
    } else if (every && (!parse_duration(every, &so->poll_us) || so->poll_us <= 0)) {
        diag_error(ev->loc, "'every' of the http source must be a positive duration such as 1s or 500ms, or ${VAR:-1s}");
    }
    so->timeout_us = opt_duration(conn_node, "timeout", c->opts);
    so->max_record = 16 << 20;
    const YNode *mr = yaml_get(conn_node, "max_record");
    if (mr && mr->kind == YN_SCALAR && (!parse_size(mr->text, &so->max_record) || so->max_record <= 0 || so->max_record > (1 << 30)))
        diag_error(mr->loc, "max_record must be a size from 1 byte to 1GiB, such as 16MiB");
    const YNode *h = yaml_get(conn_node, "headers");
    if (h && h->kind == YN_MAP) {
        so->headers = arena_alloc(ck->a, sizeof(char *) * (size_t)(2 * h->npairs + 1));
        for (int i = 0; i < h->npairs; i++) {
            const YNode *k = h->pairs[i].key, *v = h->pairs[i].value;
            bool ok = k->text[0] != 0;
            for (const char *p = k->text; *p; p++) ok &= isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p);
            if (!ok) {
                diag_error(k->loc, "'%s' is not an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)", k->text);
                continue;
            }
            if (v->kind != YN_SCALAR) {
                diag_error(v->loc, "the value of header '%s' must be a string", k->text);
                continue;
            }
            if (strpbrk(v->text, "\r\n")) {
                diag_error(v->loc, "the value of header '%s' cannot hold a line break", k->text);
                continue;
            }
            /* a credential written in the spec would be in the generated C and the binary */
            if (!strstr(v->text, "${") && (strcasecmp(k->text, "Authorization") == 0 ||
                                           strcasecmp(k->text, "Proxy-Authorization") == 0 || strcasecmp(k->text, "Cookie") == 0))
                diag_error(v->loc, "the value of header '%s' must not be written in the spec (it would be in the binary): "
                                   "take it from the environment, such as \"Bearer ${API_TOKEN}\"", k->text);
            check_env_refs(v);
            so->headers[2 * so->nheaders] = k->text;
            so->headers[2 * so->nheaders + 1] = v->text;
            so->nheaders++;
        }
    } else if (h) {
        diag_error(h->loc, "headers is a map of header name -> value");
    }
    const YNode *fmt = yaml_get(src, "format");
    if (!fmt) return;
    const YNode *fmt_node = NULL;
    if (fmt->kind != YN_MAP || fmt->npairs != 1 || strcmp(fmt->pairs[0].key->text, "json") != 0) {
        diag_error(fmt->loc, "the http source reads JSON answers: its format is 'json: {}' (or leave it out)");
        return;
    }
    const ConnDef *f = find_connector(fmt, format_conns, "the source format", NULL, &fmt_node);
    if (f) check_conn_opts(fmt_node, f, "the json format");
}

static void check_source(Checker *ck, const YNode *src) {
    Spec *s = ck->spec;
    SourceSpec *so = &s->source;
    so->loc = src->loc;
    static const char *const ignore[] = {"format", NULL};
    const YNode *conn_node = NULL;
    const ConnDef *c = find_connector(src, source_conns, "the source", ignore, &conn_node);
    if (!c) return;
    char *what = arena_printf(ck->a, "the %s source", c->name);
    bool opts_ok = check_conn_opts(conn_node, c, what);
    so->kind = strcmp(c->name, "folder") == 0 ? SRC_FOLDER : strcmp(c->name, "postgres") == 0 ? SRC_POSTGRES
             : strcmp(c->name, "postgres_cdc") == 0 ? SRC_POSTGRES_CDC : strcmp(c->name, "kafka") == 0 ? SRC_KAFKA
             : strcmp(c->name, "http") == 0 ? SRC_HTTP : SRC_FILE;
    if (so->kind == SRC_HTTP) {
        check_http_source(ck, so, src, conn_node, c);
        return;
    }
    if (so->kind == SRC_POSTGRES || so->kind == SRC_POSTGRES_CDC) {
        /* rows (row_to_json) and changes arrive as JSON objects: the JSON decoders read the
         * fields by column name, so there is no format to choose */
        so->dsn = opt_text(conn_node, "dsn", c->opts);
        check_env_refs(yaml_get(conn_node, "dsn"));
        so->format = FMT_JSON;
        so->max_record = 1 << 20;
        so->path = "";
        if (yaml_get(src, "format"))
            diag_error(yaml_get(src, "format")->loc, "the %s source has no 'format': its %s are read by column name",
                       c->name, so->kind == SRC_POSTGRES ? "rows" : "changes");
        if (so->kind == SRC_POSTGRES) {
            so->table = opt_text(conn_node, "table", c->opts);
            so->query = opt_text(conn_node, "query", c->opts);
            so->cursor = opt_text(conn_node, "cursor", c->opts);
            so->poll_us = opt_duration(conn_node, "every", c->opts);
            if (opts_ok && !so->table == !so->query)
                diag_error(conn_node->loc, "the postgres source takes one of 'table' and 'query'");
            return;
        }
        so->publication = opt_text(conn_node, "publication", c->opts);
        so->slot = opt_text(conn_node, "slot", c->opts);
        so->snapshot = opt_bool(conn_node, "snapshot", c->opts);
        const YNode *t = yaml_get(conn_node, "tables");
        if (t && t->kind == YN_SEQ) {
            so->tables = arena_alloc(ck->a, sizeof(char *) * (size_t)(t->nitems + 1));
            for (int i = 0; i < t->nitems; i++)
                if (t->items[i]->kind == YN_SCALAR) so->tables[so->ntables++] = t->items[i]->text;
        }
        if (opts_ok && so->slot) {
            bool ok = so->slot[0] != 0;
            for (const char *p = so->slot; *p; p++) ok &= islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
            if (!ok) diag_error(yaml_get(conn_node, "slot")->loc, "a replication slot name is [a-z0-9_]+");
        }
        return;
    }
    if (so->kind == SRC_KAFKA) {
        check_kafka_source(ck, so, conn_node, c, opts_ok);
    } else {
        so->path = opt_text(conn_node, "path", c->opts);
        check_env_refs(yaml_get(conn_node, "path"));
    }
    so->max_record = 1 << 20;
    const char *mr = opt_text(conn_node, "max_record", c->opts);
    if (mr && !parse_size(mr, &so->max_record)) {
        diag_error(yaml_get(conn_node, "max_record")->loc, "max_record must be a size such as 1MiB or 65536");
    }
    if (so->kind == SRC_FOLDER) {
        so->glob = opt_text(conn_node, "glob", c->opts);
        so->archive = opt_text(conn_node, "archive", c->opts);
        check_env_refs(yaml_get(conn_node, "archive"));
        so->delete_done = opt_bool(conn_node, "delete", c->opts);
        so->poll_us = opt_duration(conn_node, "poll", c->opts);
        if (opts_ok && !so->archive && !so->delete_done)
            diag_error(conn_node->loc, "the folder source needs 'archive: DIR' or 'delete: true' (what happens to a file once its records are committed)");
        if (opts_ok && so->archive && so->delete_done)
            diag_error(yaml_get(conn_node, "delete")->loc, "the folder source takes 'archive' or 'delete', not both");
    }

    const YNode *fmt = yaml_get(src, "format");
    if (!fmt) {
        diag_error(src->loc, "the source needs a 'format' (csv: {} or json: {})");
        return;
    }
    if (fmt->kind != YN_MAP) {
        diag_error(fmt->loc, "'format' must be a map with one key, such as 'csv: {header: true}'");
        return;
    }
    const YNode *fmt_node = NULL;
    const ConnDef *f = find_connector(fmt, format_conns, "the source format", NULL, &fmt_node);
    if (!f) return;
    char *fwhat = arena_printf(ck->a, "the %s format", f->name);
    if (!check_conn_opts(fmt_node, f, fwhat)) return;
    if (strcmp(f->name, "csv") == 0) {
        so->format = FMT_CSV;
        so->header = opt_bool(fmt_node, "header", f->opts);
        if (so->kind == SRC_KAFKA) {   /* a message is one record: no header line to name columns */
            if (yaml_get(fmt_node, "header") && so->header)
                diag_error(yaml_get(fmt_node, "header")->loc, "a kafka message is one csv record without a header: fields are the columns in schema order (or column: N)");
            so->header = false;
        }
        so->delimiter = opt_text(fmt_node, "delimiter", f->opts)[0];
        so->quote = opt_text(fmt_node, "quote", f->opts)[0];
        so->null_text = opt_text(fmt_node, "null", f->opts);
        if (so->delimiter == so->quote)
            diag_error(fmt_node->loc, "the csv delimiter and quote must differ");
        if (so->delimiter == '\n' || so->delimiter == '\r' || so->quote == '\n' || so->quote == '\r')
            diag_error(fmt_node->loc, "the csv delimiter and quote cannot be line breaks");
    } else {
        so->format = strcmp(f->name, "debezium") == 0 ? FMT_DEBEZIUM : FMT_JSON;
    }
}

/* ---- schema ------------------------------------------------------------------------------ */

static bool default_parses(const SchemaField *f) {
    const char *t = f->default_text;
    size_t n = strlen(t);
    bool b;
    int32_t i32;
    int64_t i64;
    double d;
    switch (f->type) {
    case T_BOOL: return prt_parse_bool(t, n, &b);
    case T_INT32: return prt_parse_i32(t, n, &i32);
    case T_INT64: return prt_parse_i64(t, n, &i64);
    case T_FLOAT64: return prt_parse_f64(t, n, &d);
    case T_STRING: return prt_utf8_valid(t, n);
    case T_TIMESTAMP:
        if (f->ts_parse == TS_UNIT) return prt_parse_timestamp_unit(t, n, f->unit, &i64);
        if (f->ts_parse == TS_FORMAT) return prt_parse_timestamp_format(t, n, f->format, &i64);
        return prt_parse_timestamp(t, n, &i64);
    case T_DATE:
        if (f->ts_parse == TS_FORMAT) return prt_parse_date_format(t, n, f->format, &i32);
        return prt_parse_date(t, n, &i32);
    default: return false;
    }
}

static bool valid_field_name(const char *s) {
    if (!(isalpha((unsigned char)*s) || *s == '_')) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
    return true;
}

static const char *const reserved_names[] = {
    "and", "or", "not", "is", "null", "true", "false", "in", "between", "case", "when", "then",
    "else", "end", "cast", "as", NULL,
};

static bool check_new_name(const YNode *k, const char *what) {
    if (!valid_field_name(k->text)) {
        diag_error(k->loc, "%s name '%s' must be letters, digits and underscores, not starting with a digit", what, k->text);
        return false;
    }
    for (const char *const *r = reserved_names; *r; r++)
        if (strcasecmp(*r, k->text) == 0) {
            diag_error(k->loc, "'%s' is a keyword of the expression language and cannot name a %s", k->text, what);
            return false;
        }
    return true;
}

static void check_field(Checker *ck, const YNode *k, const YNode *v, SchemaField *f) {
    f->name = k->text;
    f->loc = k->loc;
    f->column_index = -1;
    const YNode *type_node = v;
    if (v->kind == YN_MAP) {
        char *what = arena_printf(ck->a, "field '%s'", k->text);
        if (!opts_check_map(v, field_opts, what, NULL)) {
            f->type = T_ERROR;
            return;
        }
        type_node = yaml_get(v, "type");
    } else if (v->kind != YN_SCALAR) {
        diag_error(v->loc, "field '%s' needs a type or a map {type: ..., ...}", k->text);
        f->type = T_ERROR;
        return;
    }
    if (!type_from_name(type_node->text, &f->type)) {
        static const char *const tnames[] = {"bool", "int32", "int64", "float64", "string", "timestamp", "date"};
        const char *best = suggest_closest(type_node->text, tnames, 7);
        if (best)
            diag_error(type_node->loc, "unknown type '%s' (did you mean '%s'?)", type_node->text, best);
        else
            diag_error(type_node->loc, "unknown type '%s' (types: bool, int32, int64, float64, string, timestamp, date)", type_node->text);
        f->type = T_ERROR;
        return;
    }
    if (v->kind != YN_MAP) return;

    f->nullable = opt_bool(v, "nullable", field_opts);
    const YNode *n;
    if ((n = yaml_get(v, "one_of"))) {
        if (f->type != T_STRING) {
            diag_error(n->loc, "one_of is for string fields; '%s' is %s", f->name, type_name(f->type));
        } else if (n->nitems == 0) {
            diag_error(n->loc, "one_of needs at least one value");
        } else {
            f->one_of = arena_alloc(ck->a, sizeof(char *) * (size_t)n->nitems);
            for (int i = 0; i < n->nitems; i++) {
                const YNode *it = n->items[i];
                if (it->kind != YN_SCALAR) {
                    diag_error(it->loc, "one_of values must be strings");
                    continue;
                }
                for (int j = 0; j < f->none_of; j++)
                    if (strcmp(f->one_of[j], it->text) == 0) diag_error(it->loc, "'%s' is listed twice in one_of", it->text);
                f->one_of[f->none_of++] = it->text;
            }
        }
    }
    if ((n = yaml_get(v, "unit"))) {
        if (f->type != T_TIMESTAMP) diag_error(n->loc, "unit is for timestamp fields; '%s' is %s", f->name, type_name(f->type));
        f->ts_parse = TS_UNIT;
        f->unit = strcmp(n->text, "s") == 0 ? PRT_UNIT_S : strcmp(n->text, "ms") == 0 ? PRT_UNIT_MS : PRT_UNIT_US;
    }
    if ((n = yaml_get(v, "format"))) {
        if (f->type != T_TIMESTAMP && f->type != T_DATE)
            diag_error(n->loc, "format is for timestamp and date fields; '%s' is %s", f->name, type_name(f->type));
        if (f->ts_parse == TS_UNIT) diag_error(n->loc, "a field takes 'unit' or 'format', not both");
        f->ts_parse = TS_FORMAT;
        f->format = n->text;
        for (const char *p = f->format; *p; p++) {
            if (*p != '%') continue;
            p++;
            if (!*p || !strchr("YmdHMSfzbyjpI%", *p)) {
                diag_error(yaml_scalar_loc(n, (size_t)(p - f->format) - 1),
                           "unsupported conversion '%%%c' in format (supported: %%Y %%m %%d %%H %%M %%S %%f %%z %%b %%y %%j %%p %%I %%%%)", *p ? *p : ' ');
                break;
            }
        }
    }
    if ((n = yaml_get(v, "path"))) {
        if (ck->spec->source.format == FMT_CSV) diag_error(n->loc, "path is for JSON sources; this source reads CSV (use 'column')");
        f->path = n->text;
    }
    if ((n = yaml_get(v, "column"))) {
        if (ck->spec->source.format != FMT_CSV) diag_error(n->loc, "column is for CSV sources; this source reads JSON (use 'path')");
        if (n->style == YS_PLAIN && n->text[0] && strspn(n->text, "0123456789") == strlen(n->text))
            f->column_index = atoi(n->text);
        else
            f->column = n->text;
    }
    if ((n = yaml_get(v, "default"))) {
        f->default_text = n->text;
        if (f->type != T_ERROR && !default_parses(f))
            diag_error(n->loc, "default '%s' is not a valid %s", n->text, type_name(f->type));
        if (f->default_text && f->one_of) {
            bool in = false;
            for (int j = 0; j < f->none_of; j++) in |= strcmp(f->one_of[j], f->default_text) == 0;
            if (!in) diag_error(n->loc, "default '%s' is not one of the field's one_of values", n->text);
        }
    }
}

enum { N_IMPLIED_MAX = 3 };   /* fields a source adds to the schema: _op, _lsn, _ts */

/* Declares a field the source adds (unless the schema declares it itself); NULL if it does.
 * `path` is where a JSON-shaped source finds it. */
static SchemaField *add_implied_field(Spec *s, const YNode *schema, const char *name, Type type, bool nullable, const char *path) {
    for (int i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0) {   /* declared: typed by the schema, read from the source */
            if (path && !s->fields[i].path) s->fields[i].path = path;
            s->fields[i].envelope = path != NULL;
            return NULL;
        }
    SchemaField *f = &s->fields[s->nfields++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->loc = schema->loc;
    f->type = type;
    f->nullable = nullable;
    f->column_index = -1;
    f->path = path;
    f->envelope = path != NULL;
    return f;
}

static void check_schema(Checker *ck, const YNode *schema) {
    Spec *s = ck->spec;
    if (schema->kind != YN_MAP || schema->npairs == 0) {
        diag_error(schema->loc, "schema must be a map of at least one field: name -> type");
        return;
    }
    s->fields = arena_alloc(ck->a, sizeof(SchemaField) * (size_t)(schema->npairs + N_IMPLIED_MAX));
    for (int i = 0; i < schema->npairs; i++) {
        const YNode *k = schema->pairs[i].key;
        check_new_name(k, "field");
        check_field(ck, k, schema->pairs[i].value, &s->fields[s->nfields++]);
    }
    if (s->source.kind == SRC_POSTGRES_CDC) {
        /* A delete carries only the key columns, so every field may be NULL; each change
         * carries _op (c, u, d, r) and _lsn (the LSN's text), declared here unless the schema does. */
        for (int i = 0; i < s->nfields; i++) s->fields[i].nullable = true;
        add_implied_field(s, schema, "_op", T_STRING, false, NULL);
        add_implied_field(s, schema, "_lsn", T_STRING, false, NULL);
    } else if (s->source.format == FMT_DEBEZIUM) {
        /* The same for Debezium events: a delete's `before` may hold only the key. _op is the
         * event's op, _lsn its source.lsn (a number, absent for some databases), _ts its ts_ms. */
        for (int i = 0; i < s->nfields; i++) s->fields[i].nullable = true;
        add_implied_field(s, schema, "_op", T_STRING, false, "op");
        add_implied_field(s, schema, "_lsn", T_INT64, true, "source.lsn");
        SchemaField *ts = add_implied_field(s, schema, "_ts", T_TIMESTAMP, true, "ts_ms");
        if (ts) {
            ts->ts_parse = TS_UNIT;
            ts->unit = PRT_UNIT_MS;
        }
    }
    if (s->source.format == FMT_CSV && !s->source.header) {
        for (int i = 0; i < s->nfields; i++)
            if (s->fields[i].column)
                diag_error(s->fields[i].loc, "field '%s' names a column by header, but the csv source has header: false (use a column number)", s->fields[i].name);
    }
}

/* ---- expressions ------------------------------------------------------------------------- */

static void add_scope_field(Checker *ck, const char *name, Type type, const char *const *enum_values, int nenum) {
    Spec *s = ck->spec;
    ExprField *f = &s->scope_fields[s->nscope_fields++];
    f->name = name;
    f->type = type;
    f->enum_values = enum_values;
    f->nenum = nenum;
}

/* Parses and checks an expression against `nvisible` fields of `fields`. */
static Expr *check_expr_in(Checker *ck, const YNode *node, const ExprField *fields, int nvisible, const char *what, Type *type_out) {
    if (node->kind != YN_SCALAR) {
        diag_error(node->loc, "%s must be an expression, not %s", what, yaml_kind_name(node->kind));
        return NULL;
    }
    Expr *e = expr_parse(ck->a, node);
    if (!e) return NULL;
    ExprScope scope = {fields, nvisible, what};
    Type t = expr_check(ck->a, e, &scope);
    if (t == T_ERROR) return NULL;
    *type_out = t;
    return e;
}

/* The same over the record's fields (schema first, then derived). */
static Expr *check_expr(Checker *ck, const YNode *node, int nvisible, const char *what, Type *type_out) {
    return check_expr_in(ck, node, ck->spec->scope_fields, nvisible, what, type_out);
}

static Expr *check_bool_expr_in(Checker *ck, const YNode *node, const ExprField *fields, int nvisible, const char *what) {
    Type t;
    Expr *e = check_expr_in(ck, node, fields, nvisible, what, &t);
    if (!e) return NULL;
    if (t != T_BOOL && t != T_NULL) {
        diag_error(expr_loc(e), "%s must be true or false, but this expression is %s", what, type_name(t));
        return NULL;
    }
    return e;
}

static Expr *check_bool_expr(Checker *ck, const YNode *node, int nvisible, const char *what) {
    return check_bool_expr_in(ck, node, ck->spec->scope_fields, nvisible, what);
}

static void check_rules(Checker *ck, const YNode *rules) {
    Spec *s = ck->spec;
    s->rules = arena_alloc(ck->a, sizeof(RuleSpec) * (size_t)rules->npairs);
    for (int i = 0; i < rules->npairs; i++) {
        const YNode *k = rules->pairs[i].key, *v = rules->pairs[i].value;
        if (!check_new_name(k, "rule")) continue;
        if (strcmp(k->text, "parse") == 0 || strcmp(k->text, "schema") == 0 || strcmp(k->text, "late") == 0) {
            diag_error(k->loc, "'%s' is a dead-letter reason of its own and cannot name a rule", k->text);
            continue;
        }
        RuleSpec *r = &s->rules[s->nrules];
        r->name = k->text;
        r->loc = k->loc;
        r->node = v;
        r->expr = check_bool_expr(ck, v, s->nfields, arena_printf(ck->a, "rule '%s'", k->text));
        if (r->expr) s->nrules++;
    }
}

static int scope_index(const Spec *s, const char *name) {
    for (int i = 0; i < s->nscope_fields; i++)
        if (strcmp(s->scope_fields[i].name, name) == 0) return i;
    return -1;
}

static void check_derive(Checker *ck, const YNode *derive) {
    Spec *s = ck->spec;
    s->derives = arena_alloc(ck->a, sizeof(DeriveSpec) * (size_t)derive->npairs);
    for (int i = 0; i < derive->npairs; i++) {
        const YNode *k = derive->pairs[i].key, *v = derive->pairs[i].value;
        if (!check_new_name(k, "derived field")) continue;
        if (scope_index(s, k->text) >= 0) {
            diag_error(k->loc, "derived field '%s' has the name of an existing field", k->text);
            continue;
        }
        Type t;
        Expr *e = check_expr(ck, v, s->nscope_fields, arena_printf(ck->a, "derive '%s'", k->text), &t);
        if (!e) continue;
        if (t == T_NULL) {
            diag_error(expr_loc(e), "the type of derive '%s' is unknown (it is always null); write cast(null as TYPE)", k->text);
            continue;
        }
        if (t == T_INTERVAL) {
            diag_error(expr_loc(e), "derive '%s' is an interval, which no sink can store; use epoch() or a timestamp", k->text);
            continue;
        }
        DeriveSpec *d = &s->derives[s->nderives++];
        d->name = k->text;
        d->loc = k->loc;
        d->node = v;
        d->expr = e;
        d->type = t;
        add_scope_field(ck, d->name, t, NULL, 0);
    }
}

/* ---- windows ----------------------------------------------------------------------------- */

static const char *const agg_names[] = {"count", "sum", "avg", "min", "max", "first", "last", "count_distinct"};

/* Finds a field visible to windows (schema and derived) by name, with "did you mean". */
static int find_scope_field(Checker *ck, const YNode *name_node, const char *what) {
    const Spec *s = ck->spec;
    if (name_node->kind != YN_SCALAR) {
        diag_error(name_node->loc, "%s must name a field", what);
        return -1;
    }
    int i = scope_index(s, name_node->text);
    if (i >= 0) return i;
    const char *cands[256];
    int n = 0;
    for (int j = 0; j < s->nscope_fields && n < 256; j++) cands[n++] = s->scope_fields[j].name;
    const char *best = suggest_closest(name_node->text, cands, n);
    if (best) diag_error(name_node->loc, "unknown field '%s' in %s (did you mean '%s'?)", name_node->text, what, best);
    else diag_error(name_node->loc, "unknown field '%s' in %s", name_node->text, what);
    return -1;
}

/* Parses `NAME(ARG)` of a select entry. The argument is checked as an expression over the record;
 * its positions are those of the argument inside the YAML scalar. */
static bool check_aggregate(Checker *ck, const YNode *v, AggSpec *ag, const char *what) {
    if (v->kind != YN_SCALAR) {
        diag_error(v->loc, "%s must be an aggregate such as count(), sum(x) or avg(x)", what);
        return false;
    }
    const char *t = v->text;
    size_t i = 0;
    while (t[i] == ' ') i++;
    size_t name_start = i;
    while (isalnum((unsigned char)t[i]) || t[i] == '_') i++;
    size_t name_len = i - name_start;
    while (t[i] == ' ') i++;
    size_t close = strlen(t);
    while (close > 0 && t[close - 1] == ' ') close--;
    if (name_len == 0 || t[i] != '(' || close == 0 || t[close - 1] != ')') {
        diag_error(yaml_scalar_loc(v, name_start), "%s must be an aggregate call such as count(), sum(x) or avg(x)", what);
        return false;
    }
    char *name = arena_strndup(ck->a, t + name_start, name_len);
    for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    static const AggKind kinds[] = {AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX, AGG_FIRST, AGG_LAST, AGG_COUNT_DISTINCT};
    int which = -1;
    for (int k = 0; k < 8; k++)
        if (strcmp(name, agg_names[k]) == 0) which = k;
    if (which < 0) {
        const char *best = suggest_closest(name, agg_names, 8);
        diag_error(yaml_scalar_loc(v, name_start), "unknown aggregate '%s'%s%s%s (aggregates: count, sum, avg, min, max, first, last, count_distinct)",
                   name, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
        return false;
    }
    ag->kind = kinds[which];
    ag->text = t;
    size_t arg_start = i + 1, arg_end = close - 1;
    while (arg_start < arg_end && t[arg_start] == ' ') arg_start++;
    while (arg_end > arg_start && t[arg_end - 1] == ' ') arg_end--;
    if (arg_start == arg_end) {
        if (ag->kind != AGG_COUNT) {
            diag_error(yaml_scalar_loc(v, i), "%s() needs an argument", name);
            return false;
        }
        ag->kind = AGG_COUNT_ALL;
        ag->type = T_INT64;
        return true;
    }
    if (arg_end - arg_start == 1 && t[arg_start] == '*' && ag->kind == AGG_COUNT) {
        ag->kind = AGG_COUNT_ALL;
        ag->type = T_INT64;
        return true;
    }
    /* A scalar node of its own for the argument, placed where the argument starts. */
    YNode *arg = arena_alloc(ck->a, sizeof(YNode));
    arg->kind = YN_SCALAR;
    arg->loc = yaml_scalar_loc(v, arg_start);
    arg->text = arena_strndup(ck->a, t + arg_start, arg_end - arg_start);
    arg->len = arg_end - arg_start;
    arg->style = YS_PLAIN;
    Type at;
    ag->arg = check_expr(ck, arg, ck->spec->nscope_fields, what, &at);
    if (!ag->arg) return false;
    ag->arg_type = at;
    switch (ag->kind) {
    case AGG_COUNT:
    case AGG_COUNT_DISTINCT:
        ag->type = T_INT64;
        break;
    case AGG_SUM:
    case AGG_AVG:
        if (!type_is_numeric(at)) {
            diag_error(arg->loc, "%s() needs a number, but this is %s", name, type_name(at));
            return false;
        }
        ag->type = ag->kind == AGG_AVG || at == T_FLOAT64 ? T_FLOAT64 : T_INT64;
        break;
    default:
        if (at == T_NULL || at == T_INTERVAL) {
            diag_error(arg->loc, "%s() of %s is not supported", name, type_name(at));
            return false;
        }
        ag->type = at;
        break;
    }
    if (at == T_NULL) {
        diag_error(arg->loc, "the argument of %s() is always null", name);
        return false;
    }
    return true;
}

static void add_out_field(Checker *ck, WindowSpec *w, const char *name, Type type, const ExprField *like) {
    ExprField *f = &w->out_fields[w->nout++];
    f->name = name;
    f->type = type;
    if (like) {
        f->enum_values = like->enum_values;
        f->nenum = like->nenum;
    }
    (void)ck;
}

static bool is_whole_days(int64_t us) { return us > 0 && us % 86400000000LL == 0; }

static void check_window(Checker *ck, const YNode *k, const YNode *v, WindowSpec *w) {
    Spec *s = ck->spec;
    w->name = k->text;
    w->loc = k->loc;
    w->time_field = -1;
    char *what = arena_printf(ck->a, "window '%s'", k->text);
    if (!opts_check_map(v, window_opts, what, NULL)) return;
    const YNode *tum = yaml_get(v, "tumbling"), *hop = yaml_get(v, "hopping"), *ses = yaml_get(v, "session");
    int kinds = (tum != NULL) + (hop != NULL) + (ses != NULL);
    if (kinds != 1) {
        diag_error(v->loc, "%s needs exactly one of tumbling, hopping or session", what);
        return;
    }
    if (tum) {
        w->kind = WIN_TUMBLING;
        parse_duration(tum->text, &w->size_us);
    } else if (hop) {
        w->kind = WIN_HOPPING;
        if (!opts_check_map(hop, hopping_opts, arena_printf(ck->a, "hopping of %s", what), NULL)) return;
        parse_duration(yaml_get(hop, "size")->text, &w->size_us);
        parse_duration(yaml_get(hop, "every")->text, &w->every_us);
        if (w->size_us % w->every_us != 0 || w->size_us < w->every_us) {
            diag_error(yaml_get(hop, "size")->loc, "the size of a hopping window must be a multiple of its 'every'");
            return;
        }
        if (w->size_us / w->every_us > 10000) {
            diag_error(yaml_get(hop, "every")->loc, "a hopping window of more than 10000 steps (size / every) is not supported");
            return;
        }
    } else {
        w->kind = WIN_SESSION;
        if (!opts_check_map(ses, session_opts, arena_printf(ck->a, "session of %s", what), NULL)) return;
        parse_duration(yaml_get(ses, "gap")->text, &w->gap_us);
    }
    const YNode *n;
    if ((n = yaml_get(v, "time"))) {
        w->time_field = find_scope_field(ck, n, what);
        if (w->time_field >= 0 && s->scope_fields[w->time_field].type != T_TIMESTAMP) {
            diag_error(n->loc, "the time of %s must be a timestamp field; '%s' is %s", what, n->text,
                       type_name(s->scope_fields[w->time_field].type));
            w->time_field = -1;
            return;
        }
    }
    if ((n = yaml_get(v, "lateness")) && (!parse_duration(n->text, &w->lateness_us) || w->lateness_us < 0)) {
        diag_error(n->loc, "lateness must be a duration such as 0s, 10s or 1h");
        return;
    }
    if ((n = yaml_get(v, "late"))) w->late_drop = strcmp(n->text, "drop") == 0;
    if ((n = yaml_get(v, "timezone"))) {
        if (strcmp(n->text, "UTC") != 0 && strcmp(n->text, "Etc/UTC") != 0) {
            if (w->kind != WIN_TUMBLING || !is_whole_days(w->size_us)) {
                diag_error(n->loc, "timezone applies to tumbling windows of whole days (1d, 7d, ...)");
                return;
            }
            char err[256];
            prt_tz *tz = prt_tz_load(n->text, err, sizeof err);
            if (!tz) {
                diag_error(n->loc, "%s", err);
                return;
            }
            prt_tz_free(tz);
            w->timezone = n->text;
        }
    }
    if ((n = yaml_get(v, "group_by"))) {
        w->group_by = arena_alloc(ck->a, sizeof(int) * (size_t)(n->nitems + 1));
        for (int i = 0; i < n->nitems; i++) {
            int f = find_scope_field(ck, n->items[i], arena_printf(ck->a, "group_by of %s", what));
            if (f < 0) continue;
            for (int j = 0; j < w->ngroup; j++)
                if (w->group_by[j] == f) diag_error(n->items[i]->loc, "'%s' is listed twice in group_by", n->items[i]->text);
            w->group_by[w->ngroup++] = f;
        }
    }
    if ((n = yaml_get(v, "where"))) {
        w->where = check_bool_expr(ck, n, s->nscope_fields, arena_printf(ck->a, "where of %s", what));
        w->where_text = n->text;
    }
    const YNode *sel = yaml_get(v, "select");
    if (!sel) return;
    if (sel->npairs == 0) {
        diag_error(sel->loc, "select of %s needs at least one aggregate", what);
        return;
    }
    w->aggs = arena_alloc(ck->a, sizeof(AggSpec) * (size_t)sel->npairs);
    w->out_fields = arena_alloc(ck->a, sizeof(ExprField) * (size_t)(2 + w->ngroup + sel->npairs));
    add_out_field(ck, w, "window_start", T_TIMESTAMP, NULL);
    add_out_field(ck, w, "window_end", T_TIMESTAMP, NULL);
    for (int i = 0; i < w->ngroup; i++) {
        const ExprField *g = &s->scope_fields[w->group_by[i]];
        add_out_field(ck, w, g->name, g->type, g);
    }
    for (int i = 0; i < sel->npairs; i++) {
        const YNode *ak = sel->pairs[i].key;
        if (!check_new_name(ak, "window output")) continue;
        bool clash = false;
        for (int j = 0; j < w->nout; j++)
            if (strcmp(w->out_fields[j].name, ak->text) == 0) clash = true;
        if (clash) {
            diag_error(ak->loc, "'%s' is already an output field of %s", ak->text, what);
            continue;
        }
        AggSpec *ag = &w->aggs[w->naggs];
        ag->name = ak->text;
        ag->loc = ak->loc;
        if (!check_aggregate(ck, sel->pairs[i].value, ag, arena_printf(ck->a, "'%s' of %s", ak->text, what))) continue;
        w->naggs++;
        add_out_field(ck, w, ag->name, ag->type, NULL);
    }
}

static void check_windows(Checker *ck, const YNode *windows) {
    Spec *s = ck->spec;
    s->windows = arena_alloc(ck->a, sizeof(WindowSpec) * (size_t)(windows->npairs + 1));
    for (int i = 0; i < windows->npairs; i++) {
        const YNode *k = windows->pairs[i].key;
        if (!check_new_name(k, "window")) continue;
        if (strcmp(k->text, "rows") == 0) {
            diag_error(k->loc, "'rows' names the records themselves and cannot name a window");
            continue;
        }
        check_window(ck, k, windows->pairs[i].value, &s->windows[s->nwindows++]);
    }
}

/* ---- sinks and dead letter --------------------------------------------------------------- */

static Encoding encoding_of(const char *fmt) {
    if (strcmp(fmt, "csv") == 0) return ENC_CSV;
    if (strcmp(fmt, "table") == 0) return ENC_TABLE;
    return ENC_JSONL;
}

static void check_columns(Checker *ck, SinkSpec *sk, const YNode *cols, ExprField *scope, int nscope) {
    if (cols->npairs == 0) {
        diag_error(cols->loc, "columns of sink '%s' is empty", sk->name);
        return;
    }
    sk->columns = arena_alloc(ck->a, sizeof(ColumnSpec) * (size_t)cols->npairs);
    for (int i = 0; i < cols->npairs; i++) {
        const YNode *k = cols->pairs[i].key, *v = cols->pairs[i].value;
        for (int j = 0; j < sk->ncolumns; j++)
            if (strcmp(sk->columns[j].name, k->text) == 0) diag_error(k->loc, "column '%s' is listed twice", k->text);
        Type t;
        Expr *e = check_expr_in(ck, v, scope, nscope, arena_printf(ck->a, "column '%s' of sink '%s'", k->text, sk->name), &t);
        if (!e) continue;
        if (t == T_NULL || t == T_INTERVAL) {
            diag_error(expr_loc(e), "column '%s' of sink '%s' is %s, which a sink cannot store%s", k->text, sk->name,
                       t == T_NULL ? "always null" : "an interval", t == T_NULL ? "; write cast(null as TYPE)" : "");
            continue;
        }
        ColumnSpec *c = &sk->columns[sk->ncolumns++];
        c->name = k->text;
        c->loc = k->loc;
        c->text = v->text;
        c->expr = e;
        c->type = t;
    }
}

/* Resolves `key: [...]` against the sink's columns (its explicit columns, or every field). */
static void check_sink_key(Checker *ck, SinkSpec *sk, const ExprField *scope, int nscope) {
    const YNode *kn = sk->key_node;
    int ncols = sk->ncolumns ? sk->ncolumns : nscope;
    const char **names = arena_alloc(ck->a, sizeof(char *) * (size_t)(ncols + 1));
    for (int i = 0; i < ncols; i++) names[i] = sk->ncolumns ? sk->columns[i].name : scope[i].name;
    if (kn->nitems == 0) {
        diag_error(kn->loc, "the key of sink '%s' needs at least one column", sk->name);
        return;
    }
    sk->key = arena_alloc(ck->a, sizeof(int) * (size_t)kn->nitems);
    for (int i = 0; i < kn->nitems; i++) {
        const YNode *it = kn->items[i];
        int found = -1;
        for (int j = 0; it->kind == YN_SCALAR && j < ncols; j++)
            if (strcmp(names[j], it->text) == 0) found = j;
        if (found < 0) {
            const char *best = it->kind == YN_SCALAR ? suggest_closest(it->text, names, ncols) : NULL;
            diag_error(it->loc, "key column '%s' is not a column of sink '%s'%s%s%s", it->kind == YN_SCALAR ? it->text : "?",
                       sk->name, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
            continue;
        }
        for (int j = 0; j < sk->nkey; j++)
            if (sk->key[j] == found) diag_error(it->loc, "key column '%s' is listed twice", it->text);
        sk->key[sk->nkey++] = found;
    }
}

/* The name of a partition folder for an expression that is not a plain field: its text with
 * every run of characters other than letters, digits and '_' made one '_' ("date(updated_at)"
 * is date_updated_at). */
static const char *partition_name(Checker *ck, const char *text) {
    char *out = arena_alloc(ck->a, strlen(text) + 1);
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        bool word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (word) out[n++] = *p;
        else if (n && out[n - 1] != '_') out[n++] = '_';
    }
    while (n && out[n - 1] == '_') n--;
    out[n] = 0;
    return n ? out : "partition";
}

/* Resolves a parquet sink's `partition_by`: each item names one of the sink's columns (which
 * then becomes a folder instead of a column of the files) or is an expression over what the sink
 * reads (a field keeps its name; another expression is named after its text). */
static void check_partitions(Checker *ck, SinkSpec *sk, ExprField *scope, int nscope) {
    const YNode *pn = sk->partition_node;
    if (pn->kind != YN_SEQ || pn->nitems == 0) {
        diag_error(pn->loc, "partition_by of sink '%s' must be a list of fields or expressions", sk->name);
        return;
    }
    sk->partitions = arena_alloc(ck->a, sizeof(ColumnSpec) * (size_t)pn->nitems);
    for (int i = 0; i < pn->nitems; i++) {
        const YNode *it = pn->items[i];
        ColumnSpec *pc = &sk->partitions[sk->npartitions];
        bool found = false;
        for (int j = 0; it->kind == YN_SCALAR && j < sk->ncolumns; j++)
            if (strcmp(sk->columns[j].name, it->text) == 0) {
                *pc = sk->columns[j];
                pc->loc = it->loc;
                found = true;
            }
        if (!found) {
            Type t;
            Expr *e = check_expr_in(ck, it, scope, nscope, arena_printf(ck->a, "partition_by of sink '%s'", sk->name), &t);
            if (!e) continue;
            if (t == T_NULL || t == T_INTERVAL) {
                diag_error(expr_loc(e), "a partition of sink '%s' is %s: it must be a value", sk->name,
                           t == T_NULL ? "always null" : "an interval");
                continue;
            }
            const char *fname;
            *pc = (ColumnSpec){expr_is_field(e, &fname) ? fname : partition_name(ck, it->text), it->loc, it->text, e, t};
        }
        bool twice = false;
        for (int j = 0; j < sk->npartitions; j++) twice |= strcmp(sk->partitions[j].name, pc->name) == 0;
        if (twice) diag_error(it->loc, "partition '%s' of sink '%s' is listed twice", pc->name, sk->name);
        else sk->npartitions++;
    }
    int ncols = sk->ncolumns ? sk->ncolumns : nscope, left = 0;
    for (int j = 0; j < ncols; j++) {
        const char *name = sk->ncolumns ? sk->columns[j].name : scope[j].name;
        bool part = false;
        for (int k = 0; k < sk->npartitions; k++) part |= strcmp(sk->partitions[k].name, name) == 0;
        left += !part;
    }
    if (left == 0) diag_error(pn->loc, "sink '%s' partitions by every column: its files would have none left", sk->name);
}

/* mode: merge combines a window's rows with the ones stored under their key (partial windows of
 * restarts or of several instances): each column must be a field of the window that combines. */
static void check_merge(Checker *ck, SinkSpec *sk, const YNode *v) {
    if (sk->from_window < 0) {
        diag_error(sk->loc, "sink '%s' merges, which combines the rows of a window: it needs 'from: WINDOW'", sk->name);
        return;
    }
    const WindowSpec *w = &ck->spec->windows[sk->from_window];
    int ncols = sk->ncolumns ? sk->ncolumns : w->nout;
    sk->merge_ops = arena_alloc(ck->a, sizeof(MergeOp) * (size_t)(ncols + 1));
    sk->merge_agg = arena_alloc(ck->a, sizeof(int) * (size_t)(ncols + 1));
    for (int j = 0; j < ncols; j++) {
        bool key = false;
        for (int k = 0; k < sk->nkey; k++) key |= sk->key[k] == j;
        int fi = sk->ncolumns ? -1 : j;
        const char *fname;
        if (sk->ncolumns && expr_is_field(sk->columns[j].expr, &fname))
            for (int i = 0; i < w->nout; i++)
                if (strcmp(w->out_fields[i].name, fname) == 0) fi = i;
        SrcLoc loc = sk->ncolumns ? sk->columns[j].loc : sk->loc;
        const char *cname = sk->ncolumns ? sk->columns[j].name : w->out_fields[j].name;
        if (key || (fi >= 0 && fi < 2 + w->ngroup)) {
            sk->merge_ops[j] = MERGE_KEEP;
            continue;
        }
        if (fi < 0) {
            diag_error(loc, "column '%s' of merge sink '%s' must be a field of window '%s' (merge combines the "
                            "window's own aggregates)", cname, sk->name, w->name);
            continue;
        }
        const AggSpec *ag = &w->aggs[fi - 2 - w->ngroup];
        switch (ag->kind) {
        case AGG_COUNT_ALL: case AGG_COUNT: case AGG_SUM: sk->merge_ops[j] = MERGE_ADD; break;
        case AGG_MIN: sk->merge_ops[j] = MERGE_MIN; break;
        case AGG_MAX: sk->merge_ops[j] = MERGE_MAX; break;
        case AGG_AVG:
            sk->merge_ops[j] = MERGE_AVG;
            sk->merge_agg[j] = fi - 2 - w->ngroup;
            break;
        default:
            diag_error(loc, "column '%s' of merge sink '%s' is %s, which partial windows cannot combine (merge "
                            "takes count, sum, min, max and avg)", cname, sk->name, ag->text);
        }
    }
    (void)v;
}

static void check_sink(Checker *ck, const YNode *k, const YNode *v, SinkSpec *sk) {
    Spec *s = ck->spec;
    sk->name = k->text;
    sk->loc = k->loc;
    char *what = arena_printf(ck->a, "sink '%s'", k->text);
    if (v->kind != YN_MAP) {
        diag_error(v->loc, "%s must be a map: {from, where, columns, <connector>: {...}}", what);
        return;
    }
    static const char *const ignore[] = {"from", "where", "columns", NULL};
    const YNode *conn_node = NULL;
    const ConnDef *c = find_connector(v, sink_conns, what, ignore, &conn_node);
    if (c && check_conn_opts(conn_node, c, what)) {
        sk->kind = strcmp(c->name, "file") == 0 ? SINK_FILE : strcmp(c->name, "sqlite") == 0 ? SINK_SQLITE
                 : strcmp(c->name, "postgres") == 0 ? SINK_POSTGRES : strcmp(c->name, "kafka") == 0 ? SINK_KAFKA
                 : strcmp(c->name, "parquet") == 0 ? SINK_PARQUET : SINK_STDOUT;
        if (sk->kind == SINK_KAFKA) {
            sk->encoding = strcmp(opt_text(conn_node, "format", c->opts), "csv") == 0 ? ENC_CSV : ENC_JSONL;
            sk->brokers = opt_text(conn_node, "brokers", c->opts);
            sk->topic = opt_text(conn_node, "topic", c->opts);
            check_env_refs(yaml_get(conn_node, "brokers"));
            check_env_refs(yaml_get(conn_node, "topic"));
            check_kafka_props(ck, yaml_get(conn_node, "properties"), &sk->props, &sk->nprops);
        } else if (sk->kind == SINK_PARQUET) {
            sk->encoding = ENC_ROWS;
            const char *comp = opt_text(conn_node, "compression", c->opts);
            sk->compression = strcmp(comp, "snappy") == 0 ? COMPRESS_SNAPPY : strcmp(comp, "none") == 0 ? COMPRESS_NONE : COMPRESS_ZSTD;
            sk->partition_node = yaml_get(conn_node, "partition_by");
            const YNode *roll = yaml_get(conn_node, "roll");
            if (roll && opts_check_map(roll, pq_roll_opts, arena_printf(ck->a, "the roll of sink '%s'", sk->name), NULL)) {
                if (yaml_get(roll, "rows")) {
                    sk->roll_rows = strtoll(opt_text(roll, "rows", pq_roll_opts), NULL, 10);
                    if (sk->roll_rows <= 0) diag_error(yaml_get(roll, "rows")->loc, "roll rows must be at least 1");
                }
                sk->roll_every_us = opt_duration(roll, "every", pq_roll_opts);
            }
        } else if (sk->kind == SINK_SQLITE || sk->kind == SINK_POSTGRES) {
            sk->encoding = ENC_ROWS;
            sk->table = opt_text(conn_node, "table", c->opts);
            const char *mode = opt_text(conn_node, "mode", c->opts);
            sk->merge = strcmp(mode, "merge") == 0;
            sk->upsert = sk->merge || strcmp(mode, "upsert") == 0;
            sk->key_node = yaml_get(conn_node, "key");
            if (sk->upsert && !sk->key_node)
                diag_error(conn_node->loc, "sink '%s' %s, so it needs 'key: [columns]'", sk->name, sk->merge ? "merges" : "upserts");
        } else {
            sk->encoding = encoding_of(opt_text(conn_node, "format", c->opts));
        }
        if (sk->kind == SINK_FILE || sk->kind == SINK_SQLITE || sk->kind == SINK_PARQUET) {
            sk->path = opt_text(conn_node, "path", c->opts);
            check_env_refs(yaml_get(conn_node, "path"));
        }
        if (sk->kind == SINK_POSTGRES) {
            sk->dsn = opt_text(conn_node, "dsn", c->opts);
            check_env_refs(yaml_get(conn_node, "dsn"));
            sk->create = opt_bool(conn_node, "create", c->opts);
            const YNode *b = yaml_get(conn_node, "batch");
            if (b && opts_check_map(b, pg_batch_opts, arena_printf(ck->a, "the batch of sink '%s'", sk->name), NULL)) {
                const char *rows = opt_text(b, "rows", pg_batch_opts);
                sk->batch_rows = strtoll(rows, NULL, 10);
                if (sk->batch_rows <= 0) diag_error(yaml_get(b, "rows") ? yaml_get(b, "rows")->loc : b->loc, "batch rows must be at least 1");
                sk->batch_every_us = opt_duration(b, "every", pg_batch_opts);
            }
        }
    }
    const YNode *n;
    sk->from_window = -1;
    if ((n = yaml_get(v, "from")) && n->kind == YN_SCALAR && strcmp(n->text, "rows") != 0) {
        for (int i = 0; i < s->nwindows; i++)
            if (strcmp(s->windows[i].name, n->text) == 0) sk->from_window = i;
        if (sk->from_window < 0) {
            const char *cands[65] = {"rows"};
            int nc = 1;
            for (int i = 0; i < s->nwindows && nc < 65; i++) cands[nc++] = s->windows[i].name;
            const char *best = suggest_closest(n->text, cands, nc);
            diag_error(n->loc, "sink '%s' reads from '%s', which is neither 'rows' nor a window%s%s%s", sk->name, n->text,
                       best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
            return;
        }
    }
    /* A sink's expressions see the records, or the rows of its window. */
    ExprField *scope = s->scope_fields;
    int nscope = s->nscope_fields;
    if (sk->from_window >= 0) {
        scope = s->windows[sk->from_window].out_fields;
        nscope = s->windows[sk->from_window].nout;
    }
    if ((n = yaml_get(v, "where"))) {
        sk->where = check_bool_expr_in(ck, n, scope, nscope, arena_printf(ck->a, "where of sink '%s'", sk->name));
        sk->where_text = n->text;
    }
    if ((n = yaml_get(v, "columns"))) {
        if (n->kind != YN_MAP)
            diag_error(n->loc, "columns of sink '%s' must be a map: output column -> expression", sk->name);
        else
            check_columns(ck, sk, n, scope, nscope);
    }
    if (sk->key_node) check_sink_key(ck, sk, scope, nscope);
    if (sk->partition_node) check_partitions(ck, sk, scope, nscope);
    if (sk->merge) check_merge(ck, sk, v);
    const YNode *key = sk->kind == SINK_KAFKA && conn_node ? yaml_get(conn_node, "key") : NULL;
    if (key) {
        sk->msg_key = check_expr_in(ck, key, scope, nscope, arena_printf(ck->a, "key of sink '%s'", sk->name), &sk->msg_key_type);
        if (sk->msg_key && (sk->msg_key_type == T_NULL || sk->msg_key_type == T_INTERVAL)) {
            diag_error(expr_loc(sk->msg_key), "the key of sink '%s' is %s: it must be a value", sk->name,
                       sk->msg_key_type == T_NULL ? "always null" : "an interval");
            sk->msg_key = NULL;
        }
    }
}

static void check_sinks(Checker *ck, const YNode *sinks) {
    Spec *s = ck->spec;
    if (sinks->npairs == 0) {
        diag_error(sinks->loc, "sinks must name at least one sink");
        return;
    }
    s->sinks = arena_alloc(ck->a, sizeof(SinkSpec) * (size_t)sinks->npairs);
    for (int i = 0; i < sinks->npairs; i++) {
        const YNode *k = sinks->pairs[i].key;
        if (!check_new_name(k, "sink")) continue;
        if (strcmp(k->text, "dead_letter") == 0) {
            diag_error(k->loc, "'dead_letter' is configured at the top level, not as a sink");
            continue;
        }
        check_sink(ck, k, sinks->pairs[i].value, &s->sinks[s->nsinks++]);
    }
    for (int i = 0; i < s->nsinks; i++)
        for (int j = 0; j < i; j++)
            if (s->sinks[i].kind == SINK_FILE && s->sinks[j].kind == SINK_FILE && s->sinks[i].path &&
                s->sinks[j].path && strcmp(s->sinks[i].path, s->sinks[j].path) == 0) {
                diag_error(s->sinks[i].loc, "sinks '%s' and '%s' write the same file", s->sinks[j].name, s->sinks[i].name);
            }
}

static void check_dead_letter(Checker *ck, const YNode *dl) {
    DeadLetterSpec *d = &ck->spec->dead_letter;
    d->loc = dl->loc;
    const YNode *conn_node = NULL;
    const ConnDef *c = find_connector(dl, dead_letter_conns, "the dead letter", NULL, &conn_node);
    if (!c || !check_conn_opts(conn_node, c, "the dead letter")) return;
    d->present = true;
    if (strcmp(c->name, "postgres") == 0) {
        d->kind = SINK_POSTGRES;
        d->encoding = ENC_ROWS;
        d->dsn = opt_text(conn_node, "dsn", c->opts);
        check_env_refs(yaml_get(conn_node, "dsn"));
        d->table = opt_text(conn_node, "table", c->opts);
        d->create = opt_bool(conn_node, "create", c->opts);
        return;
    }
    if (strcmp(c->name, "kafka") == 0) {
        d->kind = SINK_KAFKA;
        d->encoding = ENC_JSONL;
        d->brokers = opt_text(conn_node, "brokers", c->opts);
        d->topic = opt_text(conn_node, "topic", c->opts);
        check_env_refs(yaml_get(conn_node, "brokers"));
        check_env_refs(yaml_get(conn_node, "topic"));
        check_kafka_props(ck, yaml_get(conn_node, "properties"), &d->props, &d->nprops);
        return;
    }
    d->kind = strcmp(c->name, "file") == 0 ? SINK_FILE : SINK_STDOUT;
    const char *fmt = opt_text(conn_node, "format", c->opts);
    d->encoding = encoding_of(fmt);
    if (d->encoding == ENC_TABLE) {
        diag_error(yaml_get(conn_node, "format")->loc, "the dead letter is written as jsonl or csv, not as a table");
        d->present = false;
    }
    if (d->kind == SINK_FILE) {
        d->path = opt_text(conn_node, "path", c->opts);
        check_env_refs(yaml_get(conn_node, "path"));
    }
}

static void check_distinct_files(Checker *ck) {
    const Spec *s = ck->spec;
    if (!s->dead_letter.present || s->dead_letter.kind != SINK_FILE || !s->dead_letter.path) return;
    for (int i = 0; i < s->nsinks; i++)
        if (s->sinks[i].kind == SINK_FILE && s->sinks[i].path && strcmp(s->sinks[i].path, s->dead_letter.path) == 0)
            diag_error(s->dead_letter.loc, "the dead letter writes the same file as sink '%s'", s->sinks[i].name);
}

/* limits: {memory: SIZE}; at least 16 MiB, the most a small pipeline holds anyway. */
static void check_limits(Checker *ck, const YNode *ln) {
    if (ln->kind != YN_MAP) {
        diag_error(ln->loc, "limits is a map: {memory: SIZE}");
        return;
    }
    if (!opts_check_map(ln, limits_opts, "limits", NULL)) return;
    const YNode *m = yaml_get(ln, "memory");
    if (!m) return;
    if (m->kind != YN_SCALAR || !parse_size(m->text, &ck->spec->memory_limit)) {
        diag_error(m->loc, "memory must be a size such as 512MiB or 2GiB");
        return;
    }
    if (ck->spec->memory_limit < (16 << 20)) {
        diag_error(m->loc, "memory must be at least 16MiB (the runtime, its buffers and libraries need about that)");
        ck->spec->memory_limit = 0;
    }
}

static void check_metrics(Checker *ck, const YNode *mn) {
    if (mn->kind != YN_MAP) {
        diag_error(mn->loc, "metrics is a map: {listen: HOST:PORT}");
        return;
    }
    if (!opts_check_map(mn, metrics_opts, "metrics", NULL)) return;
    Spec *s = ck->spec;
    const YNode *l = yaml_get(mn, "listen"), *tls = yaml_get(mn, "tls"), *auth = yaml_get(mn, "basic_auth");
    s->metrics_listen = l && l->kind == YN_SCALAR ? l->text : metrics_opts[0].def;
    if (tls && opts_check_map(tls, metrics_tls_opts, "metrics.tls", NULL)) {
        s->metrics_tls_cert = yaml_get(tls, "cert")->text;
        s->metrics_tls_key = yaml_get(tls, "key")->text;
    }
    if (!auth || !opts_check_map(auth, metrics_auth_opts, "metrics.basic_auth", NULL)) return;
    const YNode *pw = yaml_get(auth, "password"), *pf = yaml_get(auth, "password_file");
    if (!pw == !pf) {
        diag_error(auth->loc, "basic_auth takes one of 'password' and 'password_file'");
        return;
    }
    /* a password written in the spec would be in the generated C and the binary */
    if (pw && !strstr(pw->text, "${") && strncmp(pw->text, "sha256:", 7) != 0 && strncmp(pw->text, "$2", 2) != 0) {
        diag_error(pw->loc, "the password must not be written in the spec (it would be in the binary): take it from "
                            "the environment (\"${METRICS_PASSWORD}\"), use password_file, or give its hash "
                            "(sha256:HEX, or a bcrypt hash)");
        return;
    }
    s->metrics_user = yaml_get(auth, "user")->text;
    s->metrics_password = pw ? pw->text : NULL;
    s->metrics_password_file = pf ? pf->text : NULL;
}

static void check_checkpoint(Checker *ck, const YNode *cp) {
    Spec *s = ck->spec;
    if (!opts_check_map(cp, checkpoint_opts, "checkpoint", NULL)) return;
    const YNode *path = yaml_get(cp, "path"), *pg = yaml_get(cp, "postgres");
    if (pg && path) {
        diag_error(pg->loc, "checkpoint takes one of 'path: DIR' and 'postgres: DSN', not both");
        return;
    }
    if (pg) {
        /* the checkpoint lives in the PostgreSQL sinks' own transactions */
        const SinkSpec *host = NULL;
        for (int i = 0; i < s->nsinks && !host; i++)
            if (s->sinks[i].kind == SINK_POSTGRES) host = &s->sinks[i];
        if (!host) {
            diag_error(pg->loc, "checkpoint.postgres keeps the checkpoint in the transactions of the PostgreSQL sinks, "
                                "and this pipeline has none (use path: DIR)");
            return;
        }
        bool same = false;
        for (int i = 0; i < s->nsinks; i++)
            same |= s->sinks[i].kind == SINK_POSTGRES && s->sinks[i].dsn && strcmp(s->sinks[i].dsn, pg->text) == 0;
        if (!same) {
            diag_error(pg->loc, "checkpoint.postgres must be the DSN of a PostgreSQL sink (the checkpoint is written in "
                                "that sink's transaction)");
            diag_note(host->loc, "sink '%s' is declared here", host->name);
            return;
        }
        check_env_refs(pg);
        s->checkpoint_postgres = pg->text;
        s->checkpoint_every_us = opt_duration(cp, "every", checkpoint_opts);
        return;
    }
    if (!path) {
        diag_error(cp->loc, "checkpoint needs 'path: DIR' or 'postgres: DSN'");
        return;
    }
    check_env_refs(path);
    s->checkpoint_path = path->text;
    s->checkpoint_every_us = opt_duration(cp, "every", checkpoint_opts);
}

/* Exactly once holds when every sink (and the dead letter) is a file committed with the
 * checkpoint, and the source can resume (not stdin). */
static void check_guarantee(Checker *ck, const YNode *root) {
    Spec *s = ck->spec;
    const char *weak = NULL;
    SrcLoc weak_loc = {0};
    /* SQLite and PostgreSQL sinks keep the checkpoint in their own transactions: they are a
     * checkpoint store. */
    for (int i = 0; i < s->nsinks; i++)
        s->db_checkpoint |= s->sinks[i].kind == SINK_SQLITE || s->sinks[i].kind == SINK_POSTGRES;
    DeadLetterSpec *dl = &s->dead_letter;
    for (int i = 0; dl->present && dl->kind == SINK_POSTGRES && i < s->nsinks; i++)
        dl->joins_sink |= s->sinks[i].kind == SINK_POSTGRES && s->sinks[i].dsn && dl->dsn && strcmp(s->sinks[i].dsn, dl->dsn) == 0;
    if (s->source.kind == SRC_HTTP)
        weak = "the http source cannot be replayed: after a crash, an answer whose records were not committed yet is "
               "not asked for again";
    else if (!s->checkpoint_path && !s->db_checkpoint)
        weak = s->source.kind == SRC_KAFKA ? "there is no checkpoint: the offsets are committed to the consumer group after "
                                             "the sinks, so a crash reads again what came since the last commit"
                                           : "there is no checkpoint, so a restart begins again";
    else if (s->source.kind == SRC_FILE && s->source.path && strcmp(s->source.path, "-") == 0)
        weak = "standard input cannot be replayed";
    for (int i = 0; !weak && i < s->nsinks; i++)
        if (s->sinks[i].kind == SINK_KAFKA) {
            weak = arena_printf(ck->a, "sink '%s' writes to Kafka, whose messages cannot be taken back when a crash cuts a "
                                "commit short (they are sent again)", s->sinks[i].name);
            weak_loc = s->sinks[i].loc;
        }
    for (int i = 0; !weak && i < s->nsinks; i++)
        if (s->sinks[i].kind == SINK_STDOUT) {
            weak = arena_printf(ck->a, "sink '%s' writes to standard output, which cannot be rolled back", s->sinks[i].name);
            weak_loc = s->sinks[i].loc;
        }
    if (!weak && !s->dead_letter.present)
        weak = "rejected records go to standard error, which cannot be rolled back (configure a dead_letter file)";
    if (!weak && s->dead_letter.present && s->dead_letter.kind == SINK_KAFKA) {
        weak = "the dead letter writes to Kafka, whose messages cannot be taken back when a crash cuts a commit short";
        weak_loc = s->dead_letter.loc;
    }
    if (!weak && s->dead_letter.present && s->dead_letter.kind == SINK_STDOUT) {
        weak = "the dead letter writes to standard output, which cannot be rolled back";
        weak_loc = s->dead_letter.loc;
    }
    if (!weak && dl->present && dl->kind == SINK_POSTGRES && !dl->joins_sink) {
        weak = "the PostgreSQL dead letter has a DSN of its own, so it commits in a transaction of its own (give it a "
               "PostgreSQL sink's DSN to join that sink's transactions)";
        weak_loc = dl->loc;
    }
    s->guarantee = weak ? GUARANTEE_AT_LEAST_ONCE : GUARANTEE_EXACTLY_ONCE;
    const YNode *g = yaml_get(root, "guarantee");
    if (!g || g->kind != YN_SCALAR) return;
    s->guarantee_explicit = true;
    if (strcmp(g->text, "exactly_once") == 0 && weak) {
        diag_error(g->loc, "exactly_once is not possible here: %s", weak);
        if (weak_loc.file) diag_note(weak_loc, "declared here");
    }
    if (strcmp(g->text, "at_least_once") == 0) s->guarantee = GUARANTEE_AT_LEAST_ONCE;
}

/* Whether several instances of the binary may share the consumer group (Spec.kafka_shared):
 * a kafka source whose progress lives in one PostgreSQL sink's transactions, as per-partition
 * offsets that any instance can take over; windows that can hand in partial rows at each
 * commit (tumbling, into merge sinks, which add them up); and no sink two instances would both
 * write (files, SQLite). Otherwise a second instance waits for the first (Spec.unshared_why). */
static void check_sharing(Checker *ck) {
    Spec *s = ck->spec;
    if (s->source.kind != SRC_KAFKA) return;
    const char *why = NULL;
    int npg = 0;
    for (int i = 0; i < s->nsinks; i++) npg += s->sinks[i].kind == SINK_POSTGRES;
    if (s->checkpoint_path)
        why = "the checkpoint is a directory of this machine";
    else if (npg != 1)
        why = npg ? "more than one PostgreSQL sink (the offsets live in one sink's transactions)"
                  : "no PostgreSQL sink keeps the offsets";
    for (int i = 0; !why && i < s->nsinks; i++) {
        const SinkSpec *k = &s->sinks[i];
        if (k->kind == SINK_FILE || k->kind == SINK_SQLITE || k->kind == SINK_PARQUET)
            why = arena_printf(ck->a, "sink '%s' writes %s of this machine", k->name,
                               k->kind == SINK_FILE ? "a file" : k->kind == SINK_PARQUET ? "Parquet files" : "an SQLite database");
        else if (k->from_window >= 0 && s->windows[k->from_window].kind != WIN_TUMBLING)
            why = arena_printf(ck->a, "window '%s' is not tumbling (only tumbling windows hand in partial rows)", s->windows[k->from_window].name);
        else if (k->from_window >= 0 && !k->merge)
            why = arena_printf(ck->a, "sink '%s' takes window rows but is not mode: merge (partial rows of several instances must add up)", k->name);
    }
    if (!why && s->dead_letter.present && s->dead_letter.kind == SINK_FILE)
        why = "the dead letter is a file of this machine";
    s->kafka_shared = !why;
    s->unshared_why = why;
}

/* ---- the whole spec ---------------------------------------------------------------------- */

Spec *check_spec(Arena *a, const YNode *root, const char *file) {
    int errors_before = diag_error_count();
    Checker ck = {a, arena_alloc(a, sizeof(Spec)), file};
    Spec *s = ck.spec;
    s->file = file;
    if (!root || root->kind != YN_MAP) {
        diag_error(root ? root->loc : (SrcLoc){file, 1, 1}, "a spec is a map of keys such as pipeline, source, schema and sinks");
        return NULL;
    }
    opts_check_map(root, top_level_opts, "the spec", NULL);

    const YNode *n;
    if ((n = yaml_get(root, "pipeline")) && n->kind == YN_SCALAR) {
        s->name = n->text;
        bool ok = islower((unsigned char)n->text[0]);
        for (const char *p = n->text; *p; p++)
            ok &= islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
        if (!ok) diag_error(n->loc, "pipeline name '%s' must match [a-z][a-z0-9_]*", n->text);
    }
    if ((n = yaml_get(root, "description")) && n->kind == YN_SCALAR) s->description = n->text;
    if ((n = yaml_get(root, "source")) && n->kind == YN_MAP) check_source(&ck, n);

    const YNode *schema = yaml_get(root, "schema");
    const YNode *derive = yaml_get(root, "derive");
    int nscope_max = (schema && schema->kind == YN_MAP ? schema->npairs : 0) +
                     (derive && derive->kind == YN_MAP ? derive->npairs : 0);
    s->scope_fields = arena_alloc(a, sizeof(ExprField) * (size_t)(nscope_max + N_IMPLIED_MAX + 1));
    if (schema) check_schema(&ck, schema);
    for (int i = 0; i < s->nfields; i++)
        add_scope_field(&ck, s->fields[i].name, s->fields[i].type == T_ERROR ? T_ERROR : s->fields[i].type,
                        s->fields[i].one_of, s->fields[i].none_of);
    for (int i = 0; i < s->nfields; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(s->fields[i].name, s->fields[j].name) == 0) diag_error(s->fields[i].loc, "field '%s' is defined twice", s->fields[i].name);

    if ((n = yaml_get(root, "rules")) && n->kind == YN_MAP) check_rules(&ck, n);
    if (derive && derive->kind == YN_MAP) check_derive(&ck, derive);
    if ((n = yaml_get(root, "filter"))) {
        s->filter = check_bool_expr(&ck, n, s->nscope_fields, "the filter");
        s->filter_text = n->text;
    }
    if ((n = yaml_get(root, "windows")) && n->kind == YN_MAP) check_windows(&ck, n);
    if ((n = yaml_get(root, "sinks")) && n->kind == YN_MAP) check_sinks(&ck, n);
    if ((n = yaml_get(root, "dead_letter")) && n->kind == YN_MAP) check_dead_letter(&ck, n);
    check_distinct_files(&ck);
    if ((n = yaml_get(root, "checkpoint")) && n->kind == YN_MAP) check_checkpoint(&ck, n);
    if ((n = yaml_get(root, "metrics"))) check_metrics(&ck, n);
    if ((n = yaml_get(root, "limits"))) check_limits(&ck, n);
    if ((n = yaml_get(root, "tests"))) check_tests(a, s, n);

    if (s->source.kind == SRC_FOLDER && !s->checkpoint_path && !s->checkpoint_postgres) {
        /* A hot folder must remember what it has committed; default to a local state dir. */
        s->checkpoint_path = arena_printf(a, "${PIPEC_STATE_DIR:-.pipec}/%s", s->name ? s->name : "pipeline");
    }
    if (!s->checkpoint_every_us) s->checkpoint_every_us = 5000000;
    check_guarantee(&ck, root);
    check_sharing(&ck);
    s->uses_postgres = s->source.kind == SRC_POSTGRES || s->source.kind == SRC_POSTGRES_CDC ||
                       (s->dead_letter.present && s->dead_letter.kind == SINK_POSTGRES);
    for (int i = 0; i < s->nsinks; i++) s->uses_postgres |= s->sinks[i].kind == SINK_POSTGRES;
    s->uses_kafka = s->source.kind == SRC_KAFKA;
    s->uses_http = s->source.kind == SRC_HTTP;
    for (int i = 0; i < s->nsinks; i++) s->uses_kafka |= s->sinks[i].kind == SINK_KAFKA;
    for (int i = 0; i < s->nsinks; i++) s->uses_parquet |= s->sinks[i].kind == SINK_PARQUET;
    s->uses_kafka |= s->dead_letter.present && s->dead_letter.kind == SINK_KAFKA;

    return diag_error_count() > errors_before ? NULL : s;
}
