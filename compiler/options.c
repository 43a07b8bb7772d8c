/* options.c - the option tables of the spec format (see options.h) and the generic map check.
 * Keep every user-visible key here: the checker and `pipec docs` (docs/spec.md) read these. */
#include "options.h"
#include <stdio.h>
#include <string.h>
#include "diag.h"
#include "spec.h"
#include "suggest.h"

const OptDef top_level_opts[] = {
    {"pipeline", OPT_STRING, true, NULL, NULL, "the pipeline's name, [a-z][a-z0-9_]*; the binary's default name"},
    {"description", OPT_STRING, false, NULL, NULL, "free text shown by --help and `pipec explain`"},
    {"source", OPT_MAP, true, NULL, NULL, "where records come from: one connector key plus `format`"},
    {"schema", OPT_MAP, true, NULL, NULL, "the record's fields, in order: name -> type or {type, ...}"},
    {"rules", OPT_MAP, false, NULL, NULL, "rule name -> boolean expression; a record for which one is false goes to the dead letter"},
    {"derive", OPT_MAP, false, NULL, NULL, "new field -> expression, in order; later ones may use earlier ones"},
    {"filter", OPT_EXPR, false, NULL, NULL, "records for which this is not true are dropped (and counted)"},
    {"windows", OPT_MAP, false, NULL, NULL, "window name -> event-time window with aggregates"},
    {"sinks", OPT_MAP, true, NULL, NULL, "sink name -> {from, where, columns, <connector>: {...}}"},
    {"dead_letter", OPT_MAP, false, NULL, NULL, "one connector receiving rejected records (default: JSON lines on stderr)"},
    {"checkpoint", OPT_MAP, false, NULL, NULL, "where the source position and state are kept between runs"},
    {"metrics", OPT_MAP, false, NULL, NULL, "the metrics and health HTTP endpoint"},
    {"guarantee", OPT_ENUM, false, NULL, "exactly_once|at_least_once", "delivery guarantee; the default is the strongest the sinks allow"},
    {"limits", OPT_MAP, false, NULL, NULL, "resource limits: {memory: SIZE}"},
    {"tests", OPT_LIST, false, NULL, NULL, "inline test cases run by `pipec test`: a list of {name, input, expect}"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef test_opts[] = {
    {"name", OPT_STRING, true, NULL, NULL, "the test's name, unique in the spec; `pipec test` prints it"},
    {"input", OPT_ANY, true, NULL, NULL, "the records as the source would deliver them: text in the source's format (CSV lines, JSON lines), or a list of maps encoded into it"},
    {"expect", OPT_MAP, true, NULL, NULL, "sink name or `dead_letter` -> the list of rows it must get, each a map of some of its columns; sinks not named are not checked"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef field_opts[] = {
    {"type", OPT_ENUM, true, NULL, "bool|int32|int64|float64|string|timestamp|date", "the field's type"},
    {"nullable", OPT_BOOL, false, "false", NULL, "whether the value may be missing (NULL); a missing non-nullable value is a parse error"},
    {"default", OPT_STRING, false, NULL, NULL, "the value to use when the input has none (written as the input would write it)"},
    {"one_of", OPT_LIST, false, NULL, NULL, "string fields: the allowed values; others go to the dead letter (reason schema)"},
    {"unit", OPT_ENUM, false, NULL, "s|ms|us", "timestamp fields: read epoch numbers in this unit"},
    {"format", OPT_STRING, false, NULL, NULL, "timestamp and date fields: a strptime pattern such as \"%d.%m.%Y %H:%M\""},
    {"path", OPT_STRING, false, NULL, NULL, "JSON: the dotted key path to read (default: the field name)"},
    {"column", OPT_STRING, false, NULL, NULL, "CSV: the header name to read, or a 0-based column number (default: the field name)"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef sink_common_opts[] = {
    {"from", OPT_STRING, false, "rows", NULL, "`rows` (validated, derived, filtered records) or a window's name"},
    {"where", OPT_EXPR, false, NULL, NULL, "only rows for which this is true reach the sink"},
    {"columns", OPT_MAP, false, NULL, NULL, "output column -> expression; default: every field"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef source_common_opts[] = {
    {"format", OPT_MAP, false, NULL, NULL, "how records are encoded: one format key, such as `csv: {header: true}` or `json: {}` (file, folder and kafka sources; http answers are json)"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef checkpoint_opts[] = {
    {"path", OPT_STRING, false, NULL, NULL, "a directory holding the checkpoint file"},
    {"postgres", OPT_STRING, false, NULL, NULL, "a PostgreSQL DSN: the checkpoint lives in table pipec_checkpoint"},
    {"every", OPT_DURATION, false, "5s", NULL, "commit sinks and write the checkpoint at least this often"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef metrics_opts[] = {
    {"listen", OPT_STRING, false, "127.0.0.1:9464", NULL, "HOST:PORT of the HTTP endpoint (/metrics, /health, /ready); port 0 takes a free one (logged at start); may hold ${VAR}"},
    {"tls", OPT_MAP, false, NULL, NULL, "serve HTTPS: {cert: PEM file, key: PEM file}"},
    {"basic_auth", OPT_MAP, false, NULL, NULL, "require HTTP basic authentication for /metrics and /ready: {user, password or password_file}"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef limits_opts[] = {
    {"memory", OPT_SIZE, false, NULL, NULL, "the memory the run may hold (resident): the kafka source's prefetch queue, Parquet row groups and window state are kept within it; beyond it the run stops with exit 1, naming the windows' open groups, and nothing after the last commit is lost"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef metrics_tls_opts[] = {
    {"cert", OPT_STRING, true, NULL, NULL, "the certificate (chain) in a PEM file; may hold ${VAR}"},
    {"key", OPT_STRING, true, NULL, NULL, "its private key in a PEM file; may hold ${VAR}"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef metrics_auth_opts[] = {
    {"user", OPT_STRING, true, NULL, NULL, "the user name; may hold ${VAR}"},
    {"password", OPT_STRING, false, NULL, NULL, "the password from the environment (${VAR}, never written in the spec), or its hash: sha256:HEX or a bcrypt hash ($2b$...)"},
    {"password_file", OPT_STRING, false, NULL, NULL, "a file holding the password or its hash (one line); may hold ${VAR}"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef hopping_opts[] = {
    {"size", OPT_DURATION, true, NULL, NULL, "the window's length"},
    {"every", OPT_DURATION, true, NULL, NULL, "how far each window starts after the previous; size must be a multiple"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef session_opts[] = {
    {"gap", OPT_DURATION, true, NULL, NULL, "a session ends after this long without a record of its group"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef window_opts[] = {
    {"tumbling", OPT_DURATION, false, NULL, NULL, "fixed, non-overlapping windows of this size"},
    {"hopping", OPT_MAP, false, NULL, NULL, "{size, every}: overlapping windows"},
    {"session", OPT_MAP, false, NULL, NULL, "{gap}: windows closed by a gap of inactivity"},
    {"time", OPT_STRING, false, NULL, NULL, "the timestamp field giving event time; omit for processing time"},
    {"lateness", OPT_STRING, false, "0s", NULL, "watermark = max event time seen - lateness (a duration, 0s allowed)"},
    {"late", OPT_ENUM, false, "dead_letter", "dead_letter|drop", "what happens to a record for a closed window"},
    {"timezone", OPT_STRING, false, "UTC", NULL, "tumbling windows of whole days align to local midnight of this IANA zone"},
    {"group_by", OPT_LIST, false, NULL, NULL, "fields to group by"},
    {"where", OPT_EXPR, false, NULL, NULL, "only records for which this is true are aggregated"},
    {"select", OPT_MAP, true, NULL, NULL, "output field -> aggregate"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef file_source_opts[] = {
    {"path", OPT_STRING, true, NULL, NULL, "the file to read; `-` reads standard input"},
    {"max_record", OPT_SIZE, false, "1MiB", NULL, "a longer record goes to the dead letter"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef folder_source_opts[] = {
    {"path", OPT_STRING, true, NULL, NULL, "the hot folder; writers must rename finished files into it"},
    {"glob", OPT_STRING, false, "*", NULL, "which file names to take"},
    {"archive", OPT_STRING, false, NULL, NULL, "move each file here once all its records are committed"},
    {"delete", OPT_BOOL, false, "false", NULL, "delete each file once all its records are committed"},
    {"poll", OPT_DURATION, false, "1s", NULL, "how often to look for new files"},
    {"max_record", OPT_SIZE, false, "1MiB", NULL, "a longer record goes to the dead letter"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef kafka_source_opts[] = {
    {"brokers", OPT_STRING, true, NULL, NULL, "bootstrap servers"},
    {"topic", OPT_STRING, false, NULL, NULL, "the topic to read"},
    {"topics", OPT_LIST, false, NULL, NULL, "several topics to read"},
    {"group", OPT_STRING, true, NULL, NULL, "the consumer group"},
    {"start", OPT_ENUM, false, "earliest", "earliest|latest", "where a new group starts"},
    {"properties", OPT_MAP, false, NULL, NULL, "librdkafka settings"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef postgres_source_opts[] = {
    {"dsn", OPT_STRING, true, NULL, NULL, "libpq connection string"},
    {"table", OPT_STRING, false, NULL, NULL, "the table to poll"},
    {"query", OPT_STRING, false, NULL, NULL, "a query to poll instead of a table"},
    {"cursor", OPT_STRING, true, NULL, NULL, "the column whose last value marks progress"},
    {"every", OPT_DURATION, false, "5s", NULL, "poll interval"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef cdc_source_opts[] = {
    {"dsn", OPT_STRING, true, NULL, NULL, "libpq connection string"},
    {"publication", OPT_STRING, true, NULL, NULL, "publication name"},
    {"slot", OPT_STRING, true, NULL, NULL, "replication slot name"},
    {"tables", OPT_LIST, false, NULL, NULL, "tables to capture (the publication is created for them when missing)"},
    {"snapshot", OPT_BOOL, false, "false", NULL, "when the slot is created: first every row of the tables as it is (_op r)"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef http_source_opts[] = {
    {"url", OPT_STRING, true, NULL, NULL, "the http:// or https:// URL to GET; may hold ${VAR}"},
    {"every", OPT_STRING, false, "1s", NULL, "poll interval, from the start of one request to the start of the next: a duration such as 1s or 500ms, or ${VAR:-1s} read at start-up"},
    {"headers", OPT_MAP, false, NULL, NULL, "request headers: name -> value (values may hold ${VAR}, such as a token)"},
    {"timeout", OPT_DURATION, false, "10s", NULL, "a request that takes longer fails (and is retried)"},
    {"max_record", OPT_SIZE, false, "16MiB", NULL, "a longer answer body goes to the dead letter"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const ConnDef source_conns[] = {
    {"file", true, file_source_opts, "a file (or standard input); the pipeline ends at its end"},
    {"folder", true, folder_source_opts, "a hot folder: each file is read once, then archived or deleted"},
    {"kafka", true, kafka_source_opts, "a Kafka consumer group: each message's value is one record; offsets are kept in the checkpoint"},
    {"postgres", true, postgres_source_opts, "incremental polling of a PostgreSQL table or query, in cursor order"},
    {"postgres_cdc", true, cdc_source_opts, "PostgreSQL logical replication (pgoutput): inserts, updates and deletes in commit order, with _op and _lsn"},
    {"http", true, http_source_opts, "an HTTP API polled with GET every `every`: an answer that is a JSON object is one record, an array one record per element"},
    {NULL, false, NULL, NULL},
};

static const OptDef csv_format_opts[] = {
    {"header", OPT_BOOL, false, "true", NULL, "the first record of each file names the columns"},
    {"delimiter", OPT_CHAR, false, ",", NULL, "the field separator"},
    {"quote", OPT_CHAR, false, "\"", NULL, "the quote character"},
    {"null", OPT_STRING, false, "", NULL, "this exact unquoted text means NULL (an empty non-string field is always NULL)"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef empty_opts[] = {
    {NULL, 0, false, NULL, NULL, NULL},
};

const ConnDef format_conns[] = {
    {"csv", true, csv_format_opts, "comma-separated values, RFC 4180"},
    {"json", true, empty_opts, "one JSON object per record (JSON lines in files)"},
    {"debezium", true, empty_opts, "Debezium JSON change events: fields from `after` (`before` for deletes), plus _op, _lsn, _ts"},
    {NULL, false, NULL, NULL},
};

static const OptDef file_sink_opts[] = {
    {"path", OPT_STRING, true, NULL, NULL, "the output file"},
    {"format", OPT_ENUM, false, "jsonl", "csv|jsonl", "the encoding"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef stdout_sink_opts[] = {
    {"format", OPT_ENUM, false, "jsonl", "csv|jsonl|table", "the encoding"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef postgres_sink_opts[] = {
    {"dsn", OPT_STRING, true, NULL, NULL, "libpq connection string"},
    {"table", OPT_STRING, true, NULL, NULL, "the target table"},
    {"mode", OPT_ENUM, false, "insert", "insert|upsert|merge", "how rows are written"},
    {"key", OPT_LIST, false, NULL, NULL, "key columns for upsert and merge"},
    {"create", OPT_BOOL, false, "false", NULL, "create the table when missing"},
    {"batch", OPT_MAP, false, NULL, NULL, "{rows, every}: commit after this many rows, or at least this often"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef pg_batch_opts[] = {
    {"rows", OPT_INT, false, "100000", NULL, "commit when this many rows wait"},
    {"every", OPT_DURATION, false, NULL, NULL, "commit at least this often (default: checkpoint.every)"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef kafka_sink_opts[] = {
    {"brokers", OPT_STRING, true, NULL, NULL, "bootstrap servers"},
    {"topic", OPT_STRING, true, NULL, NULL, "the topic to write"},
    {"key", OPT_EXPR, false, NULL, NULL, "the message key"},
    {"format", OPT_ENUM, false, "json", "json|csv", "the value encoding"},
    {"properties", OPT_MAP, false, NULL, NULL, "librdkafka settings"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef parquet_sink_opts[] = {
    {"path", OPT_STRING, true, NULL, NULL, "the lake folder, created when missing"},
    {"partition_by", OPT_LIST, false, NULL, NULL, "field names or expressions: hive-style partition folders NAME=VALUE/"},
    {"roll", OPT_MAP, false, NULL, NULL, "{rows, every}: close a file after this many rows, or at least this often"},
    {"compression", OPT_ENUM, false, "zstd", "zstd|snappy|none", "page compression"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const OptDef pq_roll_opts[] = {
    {"rows", OPT_INT, false, NULL, NULL, "rows per file at most (a closed file is published at the next commit)"},
    {"every", OPT_DURATION, false, NULL, NULL, "commit, and so close every file, at least this often (default: checkpoint.every)"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef sqlite_sink_opts[] = {
    {"path", OPT_STRING, true, NULL, NULL, "the database file"},
    {"table", OPT_STRING, true, NULL, NULL, "the target table"},
    {"mode", OPT_ENUM, false, "insert", "insert|upsert", "how rows are written"},
    {"key", OPT_LIST, false, NULL, NULL, "key columns for upsert"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const ConnDef sink_conns[] = {
    {"file", true, file_sink_opts, "a file, CSV or JSON lines; committed atomically with the checkpoint"},
    {"stdout", true, stdout_sink_opts, "standard output: CSV, JSON lines or an aligned table"},
    {"postgres", true, postgres_sink_opts, "a PostgreSQL table, written by COPY in one transaction per commit together with the checkpoint"},
    {"kafka", true, kafka_sink_opts, "a Kafka topic, one message per row, through an idempotent producer; at least once"},
    {"parquet", true, parquet_sink_opts, "Parquet files in a folder, partitioned hive-style; each file published (renamed) with the checkpoint"},
    {"sqlite", true, sqlite_sink_opts, "an SQLite table, written in one transaction per commit together with the checkpoint"},
    {NULL, false, NULL, NULL},
};

static const OptDef dl_postgres_opts[] = {
    {"dsn", OPT_STRING, true, NULL, NULL, "libpq connection string"},
    {"table", OPT_STRING, true, NULL, NULL, "the dead-letter table"},
    {"create", OPT_BOOL, false, "false", NULL, "create the table when missing"},
    {NULL, 0, false, NULL, NULL, NULL},
};

static const OptDef dl_kafka_opts[] = {
    {"brokers", OPT_STRING, true, NULL, NULL, "bootstrap servers"},
    {"topic", OPT_STRING, true, NULL, NULL, "the dead-letter topic"},
    {"properties", OPT_MAP, false, NULL, NULL, "librdkafka settings"},
    {NULL, 0, false, NULL, NULL, NULL},
};

const ConnDef dead_letter_conns[] = {
    {"file", true, file_sink_opts, "a file of rejected records, JSON lines or CSV"},
    {"stdout", true, stdout_sink_opts, "rejected records on standard output"},
    {"postgres", true, dl_postgres_opts, "a PostgreSQL table of rejected records; with a sink's DSN it joins that sink's transactions"},
    {"kafka", true, dl_kafka_opts, "a Kafka topic of rejected records, one JSON object each (at least once)"},
    {NULL, false, NULL, NULL},
};

const OptDef *opt_find(const OptDef *opts, const char *name) {
    for (const OptDef *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

const ConnDef *conn_find(const ConnDef *conns, const char *name) {
    for (const ConnDef *c = conns; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

bool opt_next_choice(const char **cursor, const char **start, size_t *len) {
    const char *p = *cursor;
    if (!p || !*p) return false;
    const char *bar = strchr(p, '|');
    *start = p;
    *len = bar ? (size_t)(bar - p) : strlen(p);
    *cursor = bar ? bar + 1 : p + *len;
    return true;
}

static bool check_enum(const YNode *v, const OptDef *o, const char *what) {
    const char *cursor = o->choices, *choice;
    size_t len, n = strlen(v->text);
    while (opt_next_choice(&cursor, &choice, &len))
        if (len == n && strncmp(choice, v->text, n) == 0) return true;
    diag_error(v->loc, "'%s' is not a valid %s for %s (expected one of: %s)", v->text, o->name, what, o->choices);
    return false;
}

static bool check_scalar_kind(const YNode *v, const OptDef *o, const char *what) {
    switch (o->kind) {
    case OPT_MAP:
        if (v->kind != YN_MAP) {
            diag_error(v->loc, "'%s' of %s must be a map, not %s", o->name, what, yaml_kind_name(v->kind));
            return false;
        }
        return true;
    case OPT_LIST:
        if (v->kind != YN_SEQ) {
            diag_error(v->loc, "'%s' of %s must be a list, not %s", o->name, what, yaml_kind_name(v->kind));
            return false;
        }
        return true;
    case OPT_ANY:
        return true;
    default:
        break;
    }
    if (v->kind != YN_SCALAR) {
        diag_error(v->loc, "'%s' of %s must be a single value, not %s", o->name, what, yaml_kind_name(v->kind));
        return false;
    }
    switch (o->kind) {
    case OPT_BOOL:
        if (strcmp(v->text, "true") != 0 && strcmp(v->text, "false") != 0) {
            diag_error(v->loc, "'%s' of %s must be true or false", o->name, what);
            return false;
        }
        return true;
    case OPT_INT: {
        const char *p = v->text;
        if (*p == '-') p++;
        if (!*p || strspn(p, "0123456789") != strlen(p)) {
            diag_error(v->loc, "'%s' of %s must be a whole number", o->name, what);
            return false;
        }
        return true;
    }
    case OPT_CHAR:
        if (strlen(v->text) != 1) {
            diag_error(v->loc, "'%s' of %s must be a single character", o->name, what);
            return false;
        }
        return true;
    case OPT_DURATION: {
        int64_t us;
        if (!parse_duration(v->text, &us) || us <= 0) {
            diag_error(v->loc, "'%s' of %s must be a positive duration such as 5s, 500ms, 1m, 2h or 1d", o->name, what);
            return false;
        }
        return true;
    }
    case OPT_ENUM:
        return check_enum(v, o, what);
    default:
        return true;
    }
}

static bool in_extra(const char *const *extra, const char *key) {
    for (; extra && *extra; extra++)
        if (strcmp(*extra, key) == 0) return true;
    return false;
}

bool opts_check_map(const YNode *map, const OptDef *opts, const char *what, const char *const *extra) {
    bool ok = true;
    if (!map || map->kind != YN_MAP) {
        diag_error(map ? map->loc : (SrcLoc){0}, "%s must be a map, not %s", what,
                   map ? yaml_kind_name(map->kind) : "nothing");
        return false;
    }
    for (int i = 0; i < map->npairs; i++) {
        const YNode *k = map->pairs[i].key, *v = map->pairs[i].value;
        const OptDef *o = opt_find(opts, k->text);
        if (!o) {
            if (in_extra(extra, k->text)) continue;
            const char *cands[64];
            int n = 0;
            for (const OptDef *d = opts; d->name && n < 60; d++) cands[n++] = d->name;
            for (const char *const *e = extra; e && *e && n < 64; e++) cands[n++] = *e;
            const char *best = suggest_closest(k->text, cands, n);
            if (best)
                diag_error(k->loc, "unknown key '%s' in %s (did you mean '%s'?)", k->text, what, best);
            else
                diag_error(k->loc, "unknown key '%s' in %s", k->text, what);
            ok = false;
            continue;
        }
        if (!check_scalar_kind(v, o, what)) ok = false;
    }
    for (const OptDef *o = opts; o->name; o++) {
        if (o->required && !yaml_get(map, o->name)) {
            diag_error(map->loc, "%s needs '%s' (%s)", what, o->name, o->doc);
            ok = false;
        }
    }
    return ok;
}
