/* plan.c - pass 3: the IR (see plan.h) and its printed form for `pipec explain`.
 * The record struct is laid out as the fields come (the C compiler pads; record_bytes is an
 * estimate for LP64 that explain shows), with one null bit per field that can be NULL. */
#include "plan.h"
#include <string.h>
#include "pipec_rt.h"

static size_t type_size(Type t) {
    switch (t) {
    case T_BOOL: return 1;
    case T_INT32: case T_DATE: return 4;
    case T_STRING: return 16;
    default: return 8;
    }
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
    return h;
}

static void set_access(Arena *a, ExprField *xf, const IrField *f) {
    xf->c_value = arena_printf(a, "r.%s", f->c_name);
    xf->c_null = f->null_bit < 0 ? NULL
                                 : arena_printf(a, "((r.nulls[%d] >> %d) & 1)", f->null_bit / 64, f->null_bit % 64);
    xf->enum_names_c = f->enum_array;
}

/* A merge sink keeps each avg as two hidden columns, NAME__sum and NAME__count, which merging
 * adds; the avg is their ratio. */
static void add_merge_parts(Arena *a, IrSink *is, const SinkSpec *sk) {
    int navg = 0;
    for (int j = 0; j < is->ncols; j++) navg += sk->merge_ops[j] == MERGE_AVG;
    if (!navg) return;
    IrColumn *cols = arena_alloc(a, sizeof(IrColumn) * (size_t)(is->ncols + 2 * navg));
    memcpy(cols, is->cols, sizeof(IrColumn) * (size_t)is->ncols);
    int n = is->ncols;
    for (int j = 0; j < is->ncols; j++) {
        if (sk->merge_ops[j] != MERGE_AVG) continue;
        for (int part = 1; part <= 2; part++) {
            IrColumn *c = &cols[n++];
            c->name = arena_printf(a, "%s__%s", is->cols[j].name, part == 1 ? "sum" : "count");
            c->type = part == 1 ? T_FLOAT64 : T_INT64;
            c->field = -1;
            c->avg_part = part;
            c->avg_agg = sk->merge_agg[j];
            c->text = arena_printf(a, "the %s behind %s", part == 1 ? "sum" : "count", is->cols[j].name);
        }
    }
    is->cols = cols;
    is->ncols = n;
}

/* A parquet sink's partitions go last, as columns the runtime turns into folders; a column of
 * the same name leaves the files' columns (hive convention). */
static void move_partitions(Arena *a, IrSink *is, const SinkSpec *sk, const IrField *fields, int nfields) {
    IrColumn *cols = arena_alloc(a, sizeof(IrColumn) * (size_t)(is->ncols + sk->npartitions));
    int n = 0;
    for (int j = 0; j < is->ncols; j++) {
        bool part = false;
        for (int k = 0; k < sk->npartitions; k++) part |= strcmp(sk->partitions[k].name, is->cols[j].name) == 0;
        if (!part) cols[n++] = is->cols[j];
    }
    for (int k = 0; k < sk->npartitions; k++) {
        const ColumnSpec *pc = &sk->partitions[k];
        IrColumn *c = &cols[n++];
        *c = (IrColumn){.name = pc->name, .type = pc->type, .field = -1, .expr = pc->expr, .text = pc->text};
        const char *fname;
        if (expr_is_field(c->expr, &fname))
            for (int f = 0; f < nfields; f++)
                if (strcmp(fields[f].name, fname) == 0) c->field = f;
    }
    is->cols = cols;
    is->ncols = n;
    is->npart = sk->npartitions;
}

static IrColumn *field_columns(Arena *a, const IrField *fields, int n) {
    IrColumn *cols = arena_alloc(a, sizeof(IrColumn) * (size_t)n);
    for (int i = 0; i < n; i++) {
        cols[i].name = fields[i].name;
        cols[i].type = fields[i].type;
        cols[i].field = i;
        cols[i].text = fields[i].name;
    }
    return cols;
}

/* Bytes of one aggregate's accumulator in a state entry (see templates/pipeline.c.tmpl). */
static size_t agg_bytes(const AggSpec *ag) {
    switch (ag->kind) {
    case AGG_COUNT_ALL: case AGG_COUNT: return 8;
    case AGG_SUM: case AGG_AVG: return 24;
    case AGG_COUNT_DISTINCT: return 8;
    case AGG_FIRST: case AGG_LAST: return type_size(ag->type) + 24;
    default: return type_size(ag->type) + 8;
    }
}

static void plan_window(Arena *a, Ir *ir, int wi, uint64_t *h) {
    const WindowSpec *w = &ir->spec->windows[wi];
    IrWindow *iw = &ir->windows[wi];
    iw->spec = w;
    iw->prefix = arena_printf(a, "w%d", wi);
    iw->nout = w->nout;
    iw->out = arena_alloc(a, sizeof(IrField) * (size_t)(w->nout + 1));
    int nbits = 0;
    size_t key_bytes = 0, acc_bytes = 0;
    for (int i = 0; i < w->nout; i++) {
        IrField *f = &iw->out[i];
        ExprField *xf = &w->out_fields[i];
        f->name = xf->name;
        f->type = xf->type;
        f->c_name = arena_printf(a, "f_%s", f->name);
        bool is_key = i >= 2 && i < 2 + w->ngroup;
        bool is_count = false;
        if (i >= 2 + w->ngroup) {
            AggKind k = w->aggs[i - 2 - w->ngroup].kind;
            is_count = k == AGG_COUNT_ALL || k == AGG_COUNT || k == AGG_COUNT_DISTINCT;
            acc_bytes += agg_bytes(&w->aggs[i - 2 - w->ngroup]);
        }
        if (is_key) {
            const IrField *src = &ir->fields[w->group_by[i - 2]];
            f->enum_array = src->enum_array;
            f->null_bit = src->null_bit < 0 ? -1 : nbits++;
            key_bytes += src->enum_array ? 4 : type_size(src->type);
        } else {
            f->null_bit = i < 2 || is_count ? -1 : nbits++;
        }
        xf->c_value = arena_printf(a, "o.%s", f->c_name);
        xf->c_null = f->null_bit < 0 ? NULL : arena_printf(a, "((o.nulls[%d] >> %d) & 1)", f->null_bit / 64, f->null_bit % 64);
        xf->enum_names_c = f->enum_array;
        *h = fnv1a(*h, f->name);
        *h = fnv1a(*h, type_name(f->type));
    }
    /* Everything that changes what the saved state means: a checkpoint of another layout or
     * semantics is refused rather than misread. */
    *h = fnv1a(*h, w->name);
    *h = fnv1a(*h, w->kind == WIN_TUMBLING ? "tumbling" : w->kind == WIN_HOPPING ? "hopping/2" : "session");   /* hopping/2: panes queued per group */
    char num[128];
    snprintf(num, sizeof num, "%lld/%lld/%lld/%lld/%d/%d", (long long)w->size_us, (long long)w->every_us,
             (long long)w->gap_us, (long long)w->lateness_us, w->time_field, w->late_drop);
    *h = fnv1a(*h, num);
    *h = fnv1a(*h, w->timezone ? w->timezone : "UTC");
    *h = fnv1a(*h, w->where_text ? w->where_text : "");
    for (int i = 0; i < w->naggs; i++) {
        *h = fnv1a(*h, w->aggs[i].text);
        if (w->aggs[i].kind == AGG_SUM) *h = fnv1a(*h, w->aggs[i].type == T_INT64 ? "sum/int128" : "sum/2");   /* the state's layout */
    }
    for (int i = 0; i < w->ngroup; i++) *h = fnv1a(*h, ir->spec->scope_fields[w->group_by[i]].name);
    iw->out_null_words = nbits / 64 + 1;
    /* An entry: header (24), key null bits, keys and accumulators. A hopping window keeps per
     * group the header, null bits, queue bookkeeping (32), keys and a running aggregate, and per
     * pane its start and two sets of accumulators (its own and the front stack's). */
    acc_bytes = (acc_bytes + 7) / 8 * 8;
    key_bytes = (key_bytes + 7) / 8 * 8;
    if (w->kind == WIN_HOPPING) {
        iw->entry_bytes = 24 + 8 + 32 + key_bytes + acc_bytes;
        iw->pane_bytes = 8 + 2 * acc_bytes;
    } else {
        iw->entry_bytes = 24 + 8 + key_bytes + acc_bytes;
    }
}

Ir *plan_build(Arena *a, Spec *spec) {
    Ir *ir = arena_alloc(a, sizeof(Ir));
    ir->spec = spec;
    ir->nschema = spec->nfields;
    ir->nfields = spec->nfields + spec->nderives;
    ir->fields = arena_alloc(a, sizeof(IrField) * (size_t)(ir->nfields + 1));
    int nbits = 0;
    size_t bytes = 0;
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, spec->source.format == FMT_CSV ? "csv" : "json");
    for (int i = 0; i < ir->nfields; i++) {
        IrField *f = &ir->fields[i];
        if (i < spec->nfields) {
            const SchemaField *sf = &spec->fields[i];
            f->name = sf->name;
            f->type = sf->type;
            f->schema = sf;
            /* A missing value of a non-nullable field is a parse error, and a default fills the
             * gap, so only nullable fields without a default can hold NULL. */
            f->null_bit = sf->nullable && !sf->default_text ? nbits++ : -1;
            if (sf->one_of) f->enum_array = arena_printf(a, "enum_%s", sf->name);
        } else {
            const DeriveSpec *d = &spec->derives[i - spec->nfields];
            f->name = d->name;
            f->type = d->type;
            f->derive = d;
            f->null_bit = nbits++;
        }
        f->c_name = arena_printf(a, "f_%s", f->name);
        bytes += f->enum_array ? 4 : type_size(f->type);
        set_access(a, &spec->scope_fields[i], f);
        h = fnv1a(h, f->name);
        h = fnv1a(h, type_name(f->type));
        h = fnv1a(h, f->null_bit < 0 ? "!" : "?");
    }
    ir->null_words = nbits / 64 + 1;
    ir->record_bytes = (bytes + 7) / 8 * 8 + 8 * (size_t)ir->null_words;

    int needed = 0;
    for (int i = 0; i < spec->nfields; i++) {
        int idx = spec->fields[i].column_index >= 0 ? spec->fields[i].column_index : i;
        if (idx + 1 > needed) needed = idx + 1;
    }
    ir->csv_min_fields = needed;

    ir->nwindows = spec->nwindows;
    ir->windows = arena_alloc(a, sizeof(IrWindow) * (size_t)(spec->nwindows + 1));
    for (int i = 0; i < spec->nwindows; i++) plan_window(a, ir, i, &h);

    ir->nsinks = spec->nsinks;
    ir->sinks = arena_alloc(a, sizeof(IrSink) * (size_t)(spec->nsinks + 1));
    for (int i = 0; i < spec->nsinks; i++) {
        const SinkSpec *sk = &spec->sinks[i];
        IrSink *is = &ir->sinks[i];
        is->spec = sk;
        h = fnv1a(h, sk->name);
        const IrField *fields = ir->fields;
        int nfields = ir->nfields;
        if (sk->from_window >= 0) {
            fields = ir->windows[sk->from_window].out;
            nfields = ir->windows[sk->from_window].nout;
        }
        if (sk->ncolumns == 0) {
            is->cols = field_columns(a, fields, nfields);
            is->ncols = nfields;
        } else {
            is->ncols = sk->ncolumns;
            is->cols = arena_alloc(a, sizeof(IrColumn) * (size_t)sk->ncolumns);
            for (int j = 0; j < sk->ncolumns; j++) {
                IrColumn *c = &is->cols[j];
                c->name = sk->columns[j].name;
                c->type = sk->columns[j].type;
                c->expr = sk->columns[j].expr;
                c->text = sk->columns[j].text;
                c->field = -1;
                const char *fname;
                if (expr_is_field(c->expr, &fname)) {
                    for (int k = 0; k < nfields; k++)
                        if (strcmp(fields[k].name, fname) == 0) c->field = k;
                }
            }
        }
        if (sk->merge) add_merge_parts(a, is, sk);
        if (sk->npartitions) move_partitions(a, is, sk, fields, nfields);
        for (int j = 0; j < is->ncols; j++) h = fnv1a(h, is->cols[j].name);
    }
    ir->fingerprint = h;
    return ir;
}

/* ---- explain ----------------------------------------------------------------------------- */

static const char *encoding_name(Encoding e) {
    return e == ENC_CSV ? "csv" : e == ENC_TABLE ? "table" : "jsonl";
}

static void explain_source(const Spec *s, FILE *out) {
    const SourceSpec *so = &s->source;
    if (so->kind == SRC_HTTP) {
        if (so->every_text) fprintf(out, "source: http GET %s every %s (read at start-up)", so->url, so->every_text);
        else fprintf(out, "source: http GET %s every %lld ms", so->url, (long long)(so->poll_us / 1000));
        fprintf(out, ", measured from the start of one request to the start of the next; timeout %lld ms", (long long)(so->timeout_us / 1000));
        for (int i = 0; i < so->nheaders; i++) fprintf(out, "%s%s", i ? ", " : ", headers ", so->headers[2 * i]);
        fprintf(out, "; a failed request (no connection, a timeout, an answer not 2xx) is counted and retried after 0.1 s, "
                     "doubling up to the interval; runs until SIGTERM, --once polls once\n");
        fprintf(out, "format: JSON answers of up to %lld bytes: an object is one record, an array one record per element; "
                     "an answer that is not JSON or an element that is not an object goes to the dead letter\n",
                (long long)so->max_record);
        return;
    }
    if (so->kind == SRC_POSTGRES_CDC) {
        fprintf(out, "source: PostgreSQL %s, logical replication (pgoutput) of publication %s through slot %s%s; "
                "the LSN is confirmed after each commit\n", so->dsn, so->publication, so->slot,
                so->snapshot ? ", after an initial snapshot when the slot is created" : "");
        fprintf(out, "format: changes as JSON objects, fields by column name, plus _op (c, u, d, r) and _lsn; every field may be NULL\n");
        return;
    }
    if (so->kind == SRC_POSTGRES) {
        fprintf(out, "source: PostgreSQL %s, %s %s, polled every %lld ms in order of %s (ties kept apart by a digest of "
                "each row)\n", so->dsn, so->table ? "table" : "query", so->table ? so->table : so->query,
                (long long)(so->poll_us / 1000), so->cursor);
        fprintf(out, "format: rows as JSON objects (row_to_json), fields by column name\n");
        return;
    }
    if (so->kind == SRC_KAFKA) {
        fprintf(out, "source: kafka %s, topic%s", so->brokers, so->ntopics == 1 ? "" : "s");
        for (int i = 0; i < so->ntopics; i++) fprintf(out, "%s %s", i ? "," : "", so->topics[i]);
        fprintf(out, ", group %s; a partition without an offset starts at its %s; offsets %s\n", so->group,
                so->start_latest ? "end" : "beginning",
                s->kafka_shared ? "are kept per partition in table pipec_kafka_offsets, in the PostgreSQL sink's transactions (and also committed to the group)"
                : s->checkpoint_path || s->db_checkpoint ? "are kept in the checkpoint (and also committed to the group)"
                                                         : "are committed to the group after the sinks");
        if (s->kafka_shared)
            fprintf(out, "instances: several may share the group; each commit %s\n",
                    s->nwindows ? "hands in the open windows' partial rows, which the merge sinks add up" : "writes the offsets of its own partitions");
        else
            fprintf(out, "instances: one at a time, because %s\n", s->unshared_why);
    } else if (so->kind == SRC_FILE)
        fprintf(out, "source: file %s%s\n", so->path, strcmp(so->path, "-") == 0 ? " (standard input)" : "");
    else
        fprintf(out, "source: folder %s, files matching '%s', polled every %lld ms, then %s%s\n", so->path,
                so->glob, (long long)(so->poll_us / 1000), so->delete_done ? "deleted" : "moved to ",
                so->delete_done ? "" : so->archive);
    if (so->format == FMT_CSV && so->kind == SRC_KAFKA)
        fprintf(out, "format: csv, one record per message, columns by position, delimiter '%c', quote '%c', NULL text \"%s\"\n",
                so->delimiter, so->quote, so->null_text);
    else if (so->format == FMT_DEBEZIUM)
        fprintf(out, "format: Debezium change events%s: the row from 'after' ('before' for deletes), "
                     "with or without the schema/payload wrapper; empty messages (tombstones) are dropped, "
                     "truncates go to the dead letter\n", so->kind == SRC_KAFKA ? ", one per message" : " in JSON lines");
    else if (so->kind == SRC_KAFKA)
        fprintf(out, "format: JSON, one object per message\n");
    else if (so->format == FMT_CSV)
        fprintf(out, "format: csv, %s, delimiter '%c', quote '%c', NULL text \"%s\", records up to %lld bytes\n",
                so->header ? "columns by header" : "columns by position", so->delimiter, so->quote,
                so->null_text, (long long)so->max_record);
    else
        fprintf(out, "format: JSON lines, one object per record, records up to %lld bytes\n", (long long)so->max_record);
}

static void explain_decode(const Ir *ir, const IrField *f, FILE *out) {
    const SchemaField *sf = f->schema;
    const Spec *s = ir->spec;
    if (s->source.format == FMT_CSV) {
        if (sf->column_index >= 0) fprintf(out, "column %d", sf->column_index);
        else if (s->source.header) fprintf(out, "column \"%s\"", sf->column ? sf->column : sf->name);
        else fprintf(out, "column %d", (int)(f - ir->fields));
    } else {
        const char *path = sf->path ? sf->path : sf->name;
        if (s->source.format != FMT_DEBEZIUM) fprintf(out, "key %s", path);
        else if (sf->envelope) fprintf(out, "event key %s", path);
        else fprintf(out, "row key %s", path);
    }
    if (sf->ts_parse == TS_UNIT) fprintf(out, ", epoch %s", sf->unit == PRT_UNIT_S ? "seconds" : sf->unit == PRT_UNIT_MS ? "milliseconds" : "microseconds");
    if (sf->ts_parse == TS_FORMAT) fprintf(out, ", format \"%s\"", sf->format);
    if (sf->type == T_TIMESTAMP && sf->ts_parse == TS_RFC3339) fprintf(out, ", RFC 3339");
    if (sf->one_of) {
        fprintf(out, ", one of [");
        for (int j = 0; j < sf->none_of; j++) fprintf(out, "%s%s", j ? ", " : "", sf->one_of[j]);
        fprintf(out, "] stored as a small integer");
    }
    if (sf->default_text) fprintf(out, ", default '%s'", sf->default_text);
    if (!sf->nullable && !sf->default_text) fprintf(out, ", required");
}

static void explain_duration(int64_t us, FILE *out) {
    if (us == 0) {
        fputs("0s", out);
        return;
    }
    static const struct { int64_t us; const char *unit; } units[] = {
        {86400000000LL, "d"}, {3600000000LL, "h"}, {60000000LL, "m"}, {1000000, "s"}, {1000, "ms"}, {1, "us"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (us % units[i].us == 0) {
            fprintf(out, "%lld%s", (long long)(us / units[i].us), units[i].unit);
            return;
        }
}

static void explain_window(const Ir *ir, const IrWindow *iw, FILE *out) {
    const WindowSpec *w = iw->spec;
    const Spec *s = ir->spec;
    fprintf(out, "window %s: ", w->name);
    if (w->kind == WIN_TUMBLING) {
        fprintf(out, "tumbling ");
        explain_duration(w->size_us, out);
    } else if (w->kind == WIN_HOPPING) {
        fprintf(out, "hopping ");
        explain_duration(w->size_us, out);
        fprintf(out, " every ");
        explain_duration(w->every_us, out);
        fprintf(out, " (%lld panes of ", (long long)(w->size_us / w->every_us));
        explain_duration(w->every_us, out);
        fprintf(out, ")");
    } else {
        fprintf(out, "session, gap ");
        explain_duration(w->gap_us, out);
    }
    if (w->time_field >= 0) fprintf(out, " over event time %s, lateness ", s->scope_fields[w->time_field].name);
    else fprintf(out, " over processing time, lateness ");
    explain_duration(w->lateness_us, out);
    fprintf(out, ", late records %s", w->late_drop ? "dropped (counted)" : "to the dead letter (reason late)");
    if (w->timezone) fprintf(out, ", days aligned to local midnight in %s", w->timezone);
    fputc('\n', out);
    if (w->ngroup) {
        fprintf(out, "  group by:");
        for (int i = 0; i < w->ngroup; i++) fprintf(out, "%s %s", i ? "," : "", s->scope_fields[w->group_by[i]].name);
        fputc('\n', out);
    }
    if (w->where_text) fprintf(out, "  where %s\n", w->where_text);
    fprintf(out, "  select:");
    for (int i = 0; i < w->naggs; i++) fprintf(out, "%s %s %s = %s", i ? "," : "", w->aggs[i].name, type_name(w->aggs[i].type), w->aggs[i].text);
    fprintf(out, "\n  state: about %zu bytes per open group", iw->entry_bytes);
    if (w->kind == WIN_HOPPING) fprintf(out, ", and %zu per pane of it (up to %lld panes)", iw->pane_bytes,
                                        (long long)((w->size_us + w->lateness_us) / w->every_us + 1));
    fputc('\n', out);
}

void plan_explain(const Ir *ir, FILE *out) {
    const Spec *s = ir->spec;
    fprintf(out, "pipeline %s (from %s)\n", s->name, s->file);
    if (s->description) fprintf(out, "  %s\n", s->description);
    explain_source(s, out);

    fprintf(out, "record: %d fields, about %zu bytes, %d null bitmap word%s\n", ir->nfields, ir->record_bytes,
            ir->null_words, ir->null_words == 1 ? "" : "s");
    for (int i = 0; i < ir->nfields; i++) {
        const IrField *f = &ir->fields[i];
        fprintf(out, "  %-3d %-20s %-9s %-9s ", i, f->name, type_name(f->type), f->null_bit < 0 ? "not null" : "nullable");
        if (f->schema) explain_decode(ir, f, out);
        else fprintf(out, "derived: %s", f->derive->node->text);
        fputc('\n', out);
    }
    fprintf(out, "rules (in order; the first that is false sends the record to the dead letter, NULL passes):\n");
    if (s->nrules == 0) fprintf(out, "  (none)\n");
    for (int i = 0; i < s->nrules; i++) fprintf(out, "  %s: %s\n", s->rules[i].name, s->rules[i].node->text);
    fprintf(out, "filter: %s\n", s->filter_text ? s->filter_text : "(none: every valid record goes on)");
    for (int i = 0; i < ir->nwindows; i++) explain_window(ir, &ir->windows[i], out);
    fprintf(out, "sinks:\n");
    for (int i = 0; i < ir->nsinks; i++) {
        const IrSink *is = &ir->sinks[i];
        const SinkSpec *sk = is->spec;
        if (sk->kind == SINK_FILE) fprintf(out, "  %s: file %s, %s\n", sk->name, sk->path, encoding_name(sk->encoding));
        else if (sk->kind == SINK_SQLITE) {
            fprintf(out, "  %s: SQLite %s, table %s, %s", sk->name, sk->path, sk->table, sk->upsert ? "upsert on" : sk->nkey ? "insert, key" : "insert");
            for (int j = 0; j < sk->nkey; j++) fprintf(out, "%s %s", j ? "," : "", is->cols[sk->key[j]].name);
            fputc('\n', out);
        }
        else if (sk->kind == SINK_POSTGRES) {
            fprintf(out, "  %s: PostgreSQL %s, table %s, %s", sk->name, sk->dsn, sk->table, sk->merge ? "merge (adds counts and sums, keeps min and max, avg from sum and count) on" : sk->upsert ? "upsert on" : sk->nkey ? "insert (COPY), key" : "insert (COPY)");
            for (int j = 0; j < sk->nkey; j++) fprintf(out, "%s %s", j ? "," : "", is->cols[sk->key[j]].name);
            fprintf(out, "%s; commits every %lld rows at most\n", sk->create ? ", created when missing" : "",
                    (long long)(sk->batch_rows ? sk->batch_rows : 100000));
        }
        else if (sk->kind == SINK_PARQUET) {
            fprintf(out, "  %s: Parquet files in %s, %s", sk->name, sk->path,
                    sk->compression == COMPRESS_SNAPPY ? "snappy" : sk->compression == COMPRESS_NONE ? "uncompressed" : "zstd");
            if (sk->npartitions) {
                fprintf(out, ", partitioned by");
                for (int j = is->ncols - is->npart; j < is->ncols; j++) {
                    const IrColumn *c = &is->cols[j];
                    fprintf(out, "%s %s %s", j > is->ncols - is->npart ? "," : "", c->name, type_name(c->type));
                    if (strcmp(c->name, c->text) != 0) fprintf(out, " = %s", c->text);
                }
                fprintf(out, " (hive folders; these are not columns of the files)");
            }
            if (sk->roll_rows) fprintf(out, ", at most %lld rows a file", (long long)sk->roll_rows);
            if (sk->roll_every_us) fprintf(out, ", a commit at least every %lld ms", (long long)(sk->roll_every_us / 1000));
            fprintf(out, "\n    each commit finishes its files under hidden temp names, lists them in the checkpoint, "
                         "then renames them to part-SEQ-N.parquet\n");
        }
        else if (sk->kind == SINK_KAFKA)
            fprintf(out, "  %s: Kafka topic %s at %s, %s, one message per row, %s; every delivery acknowledged before a commit\n",
                    sk->name, sk->topic, sk->brokers, encoding_name(sk->encoding),
                    sk->msg_key ? "keyed" : "no key (the partitioner spreads them)");
        else fprintf(out, "  %s: standard output, %s\n", sk->name, encoding_name(sk->encoding));
        const IrField *fields = ir->fields;
        if (sk->from_window >= 0) {
            fprintf(out, "    from window %s\n", s->windows[sk->from_window].name);
            fields = ir->windows[sk->from_window].out;
        }
        if (sk->where_text) fprintf(out, "    where %s\n", sk->where_text);
        fprintf(out, "    columns:");
        for (int j = 0; j < is->ncols - is->npart; j++) {
            const IrColumn *c = &is->cols[j];
            if (c->field >= 0 && strcmp(c->name, fields[c->field].name) == 0)
                fprintf(out, "%s %s %s", j ? "," : "", c->name, type_name(c->type));
            else
                fprintf(out, "%s %s %s = %s", j ? "," : "", c->name, type_name(c->type), c->text);
        }
        fputc('\n', out);
    }
    if (!s->dead_letter.present) fprintf(out, "dead letter: JSON lines on standard error\n");
    else if (s->dead_letter.kind == SINK_FILE) fprintf(out, "dead letter: file %s, %s\n", s->dead_letter.path, encoding_name(s->dead_letter.encoding));
    else if (s->dead_letter.kind == SINK_POSTGRES)
        fprintf(out, "dead letter: PostgreSQL %s, table %s%s\n", s->dead_letter.dsn, s->dead_letter.table,
                s->dead_letter.joins_sink ? " (in the transactions of the sink with the same DSN)" : " (its own transactions)");
    else if (s->dead_letter.kind == SINK_KAFKA)
        fprintf(out, "dead letter: Kafka topic %s at %s, one JSON message per record\n", s->dead_letter.topic, s->dead_letter.brokers);
    else fprintf(out, "dead letter: standard output, %s\n", encoding_name(s->dead_letter.encoding));
    if (s->kafka_shared)
        fprintf(out, "checkpoint: the offsets of each partition%s, in the PostgreSQL sink's transactions, at least every %lld ms\n",
                s->nwindows ? " with the window partials" : "", (long long)(s->checkpoint_every_us / 1000));
    else if (s->checkpoint_path)
        fprintf(out, "checkpoint: %s, at least every %lld ms\n", s->checkpoint_path, (long long)(s->checkpoint_every_us / 1000));
    else {
        if (s->checkpoint_postgres)
            fprintf(out, "checkpoint: in PostgreSQL (table pipec_checkpoint), in the same transaction as the rows, at least every %lld ms\n",
                    (long long)(s->checkpoint_every_us / 1000));
        else if (s->db_checkpoint)
            fprintf(out, "checkpoint: in the database sinks (table pipec_checkpoint), in the same transaction as the rows (a finished run starts over)\n");
        else
            fprintf(out, "checkpoint: none (a bounded run starts over and rewrites its files)\n");
    }
    if (s->metrics_listen)
        fprintf(out, "metrics: %s://%s: /metrics (Prometheus text), /health, /ready%s\n", s->metrics_tls_cert ? "https" : "http",
                s->metrics_listen, s->metrics_user ? "; basic auth for /metrics and /ready" : "");
    if (s->memory_limit)
        fprintf(out, "memory: at most %lld MiB resident; beyond it the run stops before a commit, naming the windows' open groups\n",
                (long long)(s->memory_limit >> 20));
    if (s->source.kind == SRC_HTTP)
        fprintf(out, "guarantee: no replay: each poll's records are committed before the next poll; a crash loses those of "
                     "the poll in hand (the server is not asked for them again)\n");
    else
        fprintf(out, "guarantee: %s%s\n", s->guarantee == GUARANTEE_EXACTLY_ONCE ? "exactly once" : "at least once",
                s->guarantee == GUARANTEE_EXACTLY_ONCE ? " (file sinks are truncated to the checkpoint's committed lengths on restart)" : "");
    fprintf(out, "fingerprint: %016llx\n", (unsigned long long)ir->fingerprint);
}

int plan_col_type(Type t) {
    switch (t) {
    case T_BOOL: return PRT_T_BOOL;
    case T_INT32: return PRT_T_INT32;
    case T_INT64: return PRT_T_INT64;
    case T_FLOAT64: return PRT_T_FLOAT64;
    case T_TIMESTAMP: return PRT_T_TIMESTAMP;
    case T_DATE: return PRT_T_DATE;
    default: return PRT_T_STRING;
    }
}

bool plan_sink_key_nullable(const Ir *ir, const IrSink *is) {
    const SinkSpec *sk = is->spec;
    const IrField *kf = sk->from_window >= 0 ? ir->windows[sk->from_window].out : ir->fields;
    for (int j = 0; j < sk->nkey; j++) {
        const IrColumn *c = &is->cols[sk->key[j]];
        if (c->field < 0 || kf[c->field].null_bit >= 0) return true;
    }
    return false;
}
