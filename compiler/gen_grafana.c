/* gen_grafana.c - `pipec gen`'s Grafana dashboard, NAME.dashboard.json: the classic dashboard
 * JSON model as Grafana exports it for sharing, so it imports as is. Import asks for the
 * Prometheus datasource (`__inputs` DS_PROMETHEUS); the uid is "pipec-NAME", so a re-import
 * replaces the dashboard. Every query selects pipeline="NAME" and the chosen instances, from the
 * metrics rt_metrics.c exports: throughput in and out, rows per sink, dead letters by reason,
 * drops, latency (batch and sink flush histograms), source lag, checkpoint age, and for pipelines
 * with windows the watermark delay, open windows and late records. Written only for a pipeline
 * with a metrics endpoint. */
#include <string.h>
#include "deploy.h"
#include "json_writer.h"
#include "sbuf.h"

#define DS "${DS_PROMETHEUS}"

typedef struct Dash {
    Arena *a;
    JsonWriter w;
    const char *sel;   /* the label selector of every query */
    int id;            /* the next panel id */
} Dash;

typedef struct Query {
    const char *expr, *legend;
} Query;

static void datasource(JsonWriter *w) {
    jw_key(w, "datasource");
    jw_object_begin(w);
    jw_key_string(w, "type", "prometheus");
    jw_key_string(w, "uid", DS);
    jw_object_end(w);
}

/* A panel at (x, y) of size wd x h; each query's expr has %s where the selector goes (at most four). */
static void panel(Dash *d, const char *type, const char *title, const char *desc, const char *unit, int x, int y,
                  int wd, int h, const Query *qs, int nq) {
    JsonWriter *w = &d->w;
    jw_object_begin(w);
    jw_key_string(w, "type", type);
    jw_key_string(w, "title", title);
    jw_key_string(w, "description", desc);
    jw_key(w, "id");
    jw_int(w, d->id++);
    datasource(w);
    jw_key(w, "gridPos");
    jw_object_begin(w);
    jw_key(w, "h");
    jw_int(w, h);
    jw_key(w, "w");
    jw_int(w, wd);
    jw_key(w, "x");
    jw_int(w, x);
    jw_key(w, "y");
    jw_int(w, y);
    jw_object_end(w);
    jw_key(w, "fieldConfig");
    jw_object_begin(w);
    jw_key(w, "defaults");
    jw_object_begin(w);
    jw_key_string(w, "unit", unit);
    jw_object_end(w);
    jw_key(w, "overrides");
    jw_array_begin(w);
    jw_array_end(w);
    jw_object_end(w);
    jw_key(w, "options");
    jw_object_begin(w);
    if (strcmp(type, "stat") == 0) {
        jw_key(w, "reduceOptions");
        jw_object_begin(w);
        jw_key(w, "calcs");
        jw_inline_array_begin(w);
        jw_string(w, "lastNotNull");
        jw_array_end(w);
        jw_key(w, "fields");
        jw_string(w, "");
        jw_key(w, "values");
        jw_bool(w, false);
        jw_object_end(w);
        jw_key_string(w, "colorMode", "value");
        jw_key_string(w, "graphMode", "area");
    } else {
        jw_key(w, "legend");
        jw_object_begin(w);
        jw_key_string(w, "displayMode", "list");
        jw_key_string(w, "placement", "bottom");
        jw_key(w, "showLegend");
        jw_bool(w, true);
        jw_object_end(w);
        jw_key(w, "tooltip");
        jw_object_begin(w);
        jw_key_string(w, "mode", "multi");
        jw_key_string(w, "sort", "none");
        jw_object_end(w);
    }
    jw_object_end(w);
    jw_key(w, "targets");
    jw_array_begin(w);
    for (int i = 0; i < nq; i++) {
        jw_object_begin(w);
        datasource(w);
        jw_key_string(w, "expr", arena_printf(d->a, qs[i].expr, d->sel, d->sel, d->sel, d->sel));
        jw_key_string(w, "legendFormat", qs[i].legend);
        jw_key(w, "range");
        jw_bool(w, true);
        char ref[2] = {(char)('A' + i), 0};
        jw_key_string(w, "refId", ref);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

static void requires(JsonWriter *w, const char *type, const char *id, const char *name, const char *version) {
    jw_object_begin(w);
    jw_key_string(w, "type", type);
    jw_key_string(w, "id", id);
    jw_key_string(w, "name", name);
    jw_key_string(w, "version", version);
    jw_object_end(w);
}

/* The dashboard's uid: pipec-NAME, at most 40 characters (Grafana's limit). */
static const char *dash_uid(Arena *a, const char *name) {
    if (strlen(name) <= 34) return arena_printf(a, "pipec-%s", name);
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return arena_printf(a, "pipec-%.25s-%08llx", name, h & 0xffffffffULL);
}

#define RATE(m) "rate(" m "{%s}[$__rate_interval])"

bool gen_grafana(Arena *a, const Ir *ir, const char *dir) {
    const Spec *s = ir->spec;
    const char *path = arena_printf(a, "%s/%s.dashboard.json", dir, s->name);
    if (!s->metrics_listen) return remove_stale(path);   /* nothing to show without the endpoint */
    SBuf out = {0};
    Dash d = {a, {.out = &out}, arena_printf(a, "pipeline=\"%s\", instance=~\"$instance\"", s->name), 1};
    JsonWriter *w = &d.w;
    jw_object_begin(w);
    jw_key(w, "__inputs");
    jw_array_begin(w);
    jw_object_begin(w);
    jw_key_string(w, "name", "DS_PROMETHEUS");
    jw_key_string(w, "label", "Prometheus");
    jw_key_string(w, "description", "the Prometheus that scrapes the pipeline's /metrics");
    jw_key_string(w, "type", "datasource");
    jw_key_string(w, "pluginId", "prometheus");
    jw_key_string(w, "pluginName", "Prometheus");
    jw_object_end(w);
    jw_array_end(w);
    jw_key(w, "__requires");
    jw_array_begin(w);
    requires(w, "grafana", "grafana", "Grafana", "10.4.0");
    requires(w, "datasource", "prometheus", "Prometheus", "1.0.0");
    requires(w, "panel", "stat", "Stat", "");
    requires(w, "panel", "timeseries", "Time series", "");
    jw_array_end(w);
    jw_key(w, "annotations");
    jw_object_begin(w);
    jw_key(w, "list");
    jw_array_begin(w);
    jw_array_end(w);
    jw_object_end(w);
    jw_key_string(w, "description", s->description ? s->description : arena_printf(a, "pipec pipeline %s", s->name));
    jw_key(w, "editable");
    jw_bool(w, true);
    jw_key(w, "graphTooltip");
    jw_int(w, 1);
    jw_key(w, "links");
    jw_array_begin(w);
    jw_array_end(w);

    jw_key(w, "panels");
    jw_array_begin(w);
    int y = 0;
    panel(&d, "stat", "Instances up", "Instances of the pipeline answering scrapes (pipec_up).", "short", 0, y, 6, 4,
          (Query[]){{"sum(pipec_up{%s})", "up"}}, 1);
    panel(&d, "stat", "Records in", "Records read per second (pipec_records_in_total).", "ops", 6, y, 6, 4,
          (Query[]){{"sum(" RATE("pipec_records_in_total") ")", "in"}}, 1);
    panel(&d, "stat", "Unaccounted records",
          "in - out - dead - dropped over every instance: 0 unless a record was lost (each record ends in a sink, "
          "the dead letter or a counted drop).",
          "short", 12, y, 6, 4,
          (Query[]){{"sum(pipec_records_in_total{%s}) - sum(pipec_records_out_total{%s}) - "
                     "sum(pipec_records_dead_total{%s}) - sum(pipec_records_dropped_total{%s})",
                     "unaccounted"}},
          1);
    panel(&d, "stat", "Checkpoint age", "Seconds since the last commit while records wait for the next (0: all committed).",
          "s", 18, y, 6, 4, (Query[]){{"max(pipec_checkpoint_age_seconds{%s})", "age"}}, 1);
    y += 4;
    panel(&d, "timeseries", "Throughput", "Records per second: read, passed to the sinks, dead letters, dropped by the filter.",
          "ops", 0, y, 12, 8,
          (Query[]){{"sum(" RATE("pipec_records_in_total") ")", "in"},
                    {"sum(" RATE("pipec_records_out_total") ")", "out"},
                    {"sum(" RATE("pipec_records_dead_total") ")", "dead"},
                    {"sum(" RATE("pipec_records_dropped_total") ")", "dropped"}},
          4);
    panel(&d, "timeseries", "Rows per sink", "Rows handed to each sink per second (records or window rows).", "ops", 12, y,
          12, 8, (Query[]){{"sum by (sink) (" RATE("pipec_sink_rows_total") ")", "{{sink}}"}}, 1);
    y += 8;
    panel(&d, "timeseries", "Dead letters by reason", "Rejected records per second: parse, schema, late or a rule's name.",
          "ops", 0, y, 12, 8, (Query[]){{"sum by (reason) (" RATE("pipec_dead_letters_total") ")", "{{reason}}"}}, 1);
    panel(&d, "timeseries", "Records dropped", "Records per second the filter dropped (counted, never lost).", "ops", 12, y,
          12, 8, (Query[]){{"sum(" RATE("pipec_records_dropped_total") ")", "dropped"}}, 1);
    y += 8;
    panel(&d, "timeseries", "Batch latency", "Time to process one batch of up to 4096 records.", "s", 0, y, 12, 8,
          (Query[]){{"histogram_quantile(0.5, sum by (le) (" RATE("pipec_batch_seconds_bucket") "))", "p50"},
                    {"histogram_quantile(0.99, sum by (le) (" RATE("pipec_batch_seconds_bucket") "))", "p99"}},
          2);
    panel(&d, "timeseries", "Sink flush latency", "Time to flush or commit a sink's buffered rows (p99 per sink).", "s", 12,
          y, 12, 8,
          (Query[]){{"histogram_quantile(0.99, sum by (sink, le) (" RATE("pipec_sink_flush_seconds_bucket") "))",
                     "{{sink}} p99"}},
          1);
    y += 8;
    panel(&d, "timeseries", "Source lag",
          "How far the source is behind: Kafka consumer lag, files pending, replication slot lag (by kind).", "short", 0,
          y, 12, 8, (Query[]){{"max by (kind) (pipec_source_lag{%s})", "{{kind}}"}}, 1);
    panel(&d, "timeseries", "Checkpoint age", "Seconds since the last commit while records wait for the next.", "s", 12, y,
          12, 8, (Query[]){{"max by (instance) (pipec_checkpoint_age_seconds{%s})", "{{instance}}"}}, 1);
    y += 8;
    if (s->nwindows > 0) {
        panel(&d, "timeseries", "Watermark delay", "How far the watermark is behind the wall clock.", "s", 0, y, 8, 8,
              (Query[]){{"max(pipec_watermark_delay_seconds{%s})", "delay"}}, 1);
        panel(&d, "timeseries", "Open windows", "Windows (with their groups) held open, per window.", "short", 8, y, 8, 8,
              (Query[]){{"sum by (window) (pipec_open_windows{%s})", "{{window}}"}}, 1);
        panel(&d, "timeseries", "Late records", "Records per second that arrived after their window closed.", "ops", 16, y,
              8, 8, (Query[]){{"sum by (window) (" RATE("pipec_late_records_total") ")", "{{window}}"}}, 1);
        y += 8;
    }
    panel(&d, "timeseries", "CPU", "CPU seconds per second of each instance.", "percentunit", 0, y, 8, 8,
          (Query[]){{"sum by (instance) (" RATE("pipec_process_cpu_seconds_total") ")", "{{instance}}"}}, 1);
    panel(&d, "timeseries", "Memory", "Resident memory of each instance.", "bytes", 8, y, 8, 8,
          (Query[]){{"max by (instance) (pipec_process_resident_memory_bytes{%s})", "{{instance}}"}}, 1);
    panel(&d, "timeseries", "Open files", "Open file descriptors of each instance.", "short", 16, y, 8, 8,
          (Query[]){{"max by (instance) (pipec_process_open_fds{%s})", "{{instance}}"}}, 1);
    jw_array_end(w);

    jw_key_string(w, "refresh", "30s");
    jw_key(w, "schemaVersion");
    jw_int(w, 39);
    jw_key(w, "tags");
    jw_inline_array_begin(w);
    jw_string(w, "pipec");
    jw_string(w, s->name);
    jw_array_end(w);
    jw_key(w, "templating");
    jw_object_begin(w);
    jw_key(w, "list");
    jw_array_begin(w);
    jw_object_begin(w);
    jw_key_string(w, "name", "instance");
    jw_key_string(w, "label", "Instance");
    jw_key_string(w, "type", "query");
    datasource(w);
    const char *q = arena_printf(a, "label_values(pipec_up{pipeline=\"%s\"}, instance)", s->name);
    jw_key_string(w, "definition", q);
    jw_key(w, "query");
    jw_object_begin(w);
    jw_key_string(w, "query", q);
    jw_key_string(w, "refId", "PrometheusVariableQueryEditor-VariableQuery");
    jw_object_end(w);
    jw_key(w, "refresh");
    jw_int(w, 2);
    jw_key(w, "includeAll");
    jw_bool(w, true);
    jw_key(w, "multi");
    jw_bool(w, true);
    jw_key_string(w, "allValue", ".*");
    jw_key(w, "current");
    jw_object_begin(w);
    jw_object_end(w);
    jw_key(w, "options");
    jw_array_begin(w);
    jw_array_end(w);
    jw_key(w, "sort");
    jw_int(w, 1);
    jw_object_end(w);
    jw_array_end(w);
    jw_object_end(w);
    jw_key(w, "time");
    jw_object_begin(w);
    jw_key_string(w, "from", "now-1h");
    jw_key_string(w, "to", "now");
    jw_object_end(w);
    jw_key(w, "timepicker");
    jw_object_begin(w);
    jw_object_end(w);
    jw_key_string(w, "timezone", "utc");
    jw_key_string(w, "title", arena_printf(a, "pipec: %s", s->name));
    jw_key_string(w, "uid", dash_uid(a, s->name));
    jw_key(w, "version");
    jw_int(w, 1);
    jw_object_end(w);
    sbuf_putc(&out, '\n');
    bool ok = write_file_atomic(path, sbuf_cstr(&out), out.len);
    sbuf_free(&out);
    return ok;
}
