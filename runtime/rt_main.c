/* rt_main.c - the driver: prt_main parses the command line, expands ${VAR}s, opens the checkpoint,
 * restores window state, opens sinks, dead letter and source, then loops: frame records into
 * batches (all from one file, at most BATCH_MAX), hand them to process_batch (then tick), write
 * sink buffers out, and commit. While the source is idle, tick runs at least every TICK_US.
 * Invariants: a commit happens only between batches, so each sink's bytes, the window state and
 * the source position in a checkpoint describe the same records; the order is file sinks (write +
 * fsync), then the state file, then each database sink's (SQLite, PostgreSQL) rows with the checkpoint text in one
 * transaction, then the checkpoint file (atomic), then archive/delete of finished folder files.
 * The highest checkpoint seq among the file and the databases wins at start; a database sink a
 * commit behind is caught up by a replay (see rt_checkpoint.c's header for the whole design). finish runs when the source ended (or on a stop with nothing to keep the
 * windows), before the final commit. Flagged records (unterminated quote, too long) never reach
 * process_batch; they go to the dead letter here. */
#include "rt_internal.h"
#include "rt_expr.h"
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { BATCH_MAX = 4096 };
#define DEFAULT_COMMIT_US 5000000
#define DEFAULT_POLL_US 1000000
#define TICK_US 100000         /* the longest an idle source goes without a tick */
#define DEFAULT_BATCH_ROWS 100000   /* a postgres sink commits at least every this many rows */

typedef struct driver {
    const prt_pipeline *p;
    prt_run run;
    prt_run_impl ri;
    bool once;
    char *src_path, *src_archive, *dead_path, *ckpt_dir;
    char **sink_paths;
    prt_ckpt ck;               /* loaded at start; its source part tracks the last commit */
    prt_source src;
    bool src_open;
    prt_deadq *dead;
    prt_rec *batch;
    int nbatch;
    prt_field *hdr;
    int hdr_cap;
    int64_t last_commit_us, every_us;
    bool dirty;                /* anything happened since the last commit */
    prt_buf state;             /* save_state's output, reused per commit */
    uint64_t seq;              /* the highest checkpoint seq written or seen (file or database) */
    int ndb;                   /* database sinks (SQLite, PostgreSQL): each stores the checkpoint with its rows */
    char *dead_dsn;            /* a postgres dead letter's expanded connection string */
    char *src_dsn;             /* a postgres source's expanded connection string */
    prt_pgsrc *pgsrc;          /* the postgres source, or NULL */
    prt_cdc *cdc;              /* the postgres_cdc source, or NULL */
    char *kafka_brokers, *kafka_group;
    char **kafka_props;        /* key, expanded value, ..., NULL */
    char **kafka_topics;       /* expanded */
    char **sink_brokers;       /* per sink: a kafka sink's expanded brokers, else NULL */
    char ***sink_props;        /* per sink: a kafka sink's settings, key, expanded value, ..., NULL */
    char *dead_kafka_brokers, *dead_kafka_topic;   /* a kafka dead letter, expanded */
    char **dead_kafka_props;
    prt_kafka *kafka;          /* the kafka source, or NULL */
    char *http_url;            /* the http source's expanded url */
    char **http_headers;       /* its headers: name, expanded value, ..., NULL */
    int64_t http_every_us;     /* its interval (expanded when it holds ${VAR}) */
    prt_http *http;            /* the http source, or NULL */
    int dead_host;             /* the postgres sink whose transaction the dead letter joins, or -1 */
    char *metrics_listen;      /* expanded, or NULL */
    char *metrics_tls_cert, *metrics_tls_key, *metrics_user, *metrics_password, *metrics_password_file;
    prt_metrics *metrics;      /* the metrics endpoint, or NULL */
    const char **metric_names; /* per sink, for its snapshots */
    uint64_t *metric_rows;
    prt_hist batch_hist, commit_hist;   /* latencies, kept only with a metrics endpoint */
    prt_hist *flush_hist;      /* per sink */
    int64_t *flush_took;       /* per sink: its time in the commit under way */
    prt_window_stats *window_stats;     /* per window, filled at each snapshot */
    int64_t committed_us;      /* wall clock of the last successful commit, 0 = none */
    int shared_sink;           /* instances share the kafka group: the postgres sink holding the
                                * offsets (no checkpoint, no window state), or -1 */
    uint64_t batch_rows;       /* commit when a postgres sink holds this many rows (0 = never early) */
    bool run_finished;         /* the next commit is the final one of a run whose source ended */
    /* Catch-up after a crash between two database sinks' commits (see rt_checkpoint.c): the run
     * resumes from the older checkpoint; until the source reaches the newer one's position
     * (records of file cu_path/cu_ino starting before line cu_line, or all of it when
     * cu_finished), rows for sinks already holding them (ahead[i]) are dropped, and nothing is
     * committed. */
    bool catching;
    bool *ahead;
    char *cu_path;
    uint64_t cu_ino, cu_line;
    bool cu_finished;
    uint64_t *ahead_rows;      /* rows counted for each ahead sink when the catch-up began */
    int rc;
} driver;

size_t prt_chunk_from_env(void) {
    const char *s = getenv("PIPEC_RT_CHUNK");
    return s ? (size_t)strtoull(s, NULL, 10) : 0;
}

static void usage(const prt_pipeline *p) {
    fprintf(stderr, "usage: %s [--once] [--log-format text|json] [--help] [--version]\n", p->name);
}

/* ${VAR} expansion of one configured string; 0, or 2 after the one-line error. */
static int expand(const prt_pipeline *p, const char *label, const char *in, char **out) {
    char name[300];
    *out = NULL;
    if (!in) return 0;
    switch (prt_env_expand(in, out, name, sizeof name)) {
    case PRT_ENV_OK:
        return 0;
    case PRT_ENV_UNSET:
        fprintf(stderr, "%s: error: environment variable %s is not set (used by %s)\n", p->name,
                name, label);
        return 2;
    default:
        fprintf(stderr, "%s: error: %s: %s\n", p->name, label, name);
        return 2;
    }
}

/* A path made comparable: its directory resolved (when it exists) plus its last component. */
static char *canonical_path(const char *path) {
    char *copy = strdup(path), *slash = strrchr(copy, '/');
    const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
    const char *base = slash ? slash + 1 : copy;
    if (slash) *slash = 0;
    char resolved[PATH_MAX];
    char *out;
    if (realpath(dir, resolved)) {
        size_t n = strlen(resolved) + strlen(base) + 2;
        out = malloc(n);
        if (!out) abort();
        snprintf(out, n, "%s/%s", resolved, base);
    } else {
        out = strdup(path);
    }
    free(copy);
    if (!out) abort();
    return out;
}

/* Two outputs writing one file, or an output that is the input, would lose records silently:
 * refuse to start (the spec's paths may differ as written and meet only after ${VAR}s). */
static int check_distinct_paths(driver *d) {
    const prt_pipeline *p = d->p;
    int n = 0;
    const char *label[260];
    char *canon[260];
    int kinds[260];   /* SQLite sinks may share a database (one table each) */
    for (int i = 0; i < p->nsinks && n < 256; i++) {
        if (!d->sink_paths[i] || p->sinks[i].kind == PRT_SINK_POSTGRES || p->sinks[i].kind == PRT_SINK_KAFKA) continue;
        kinds[n] = p->sinks[i].kind;
        label[n] = p->sinks[i].name;
        canon[n++] = canonical_path(d->sink_paths[i]);
    }
    if (d->dead_path) {
        kinds[n] = PRT_SINK_FILE;
        label[n] = "dead_letter";
        canon[n++] = canonical_path(d->dead_path);
    }
    int rc = 0;
    char *input = p->source.kind == PRT_SRC_FILE && strcmp(d->src_path, "-") != 0 ? canonical_path(d->src_path) : NULL;
    for (int i = 0; i < n && !rc; i++) {
        if (input && strcmp(canon[i], input) == 0) {
            fprintf(stderr, "%s: error: %s would write the input file %s\n", p->name, label[i], canon[i]);
            rc = 2;
        }
        for (int j = 0; j < i && !rc; j++)
            if (strcmp(canon[i], canon[j]) == 0 && !(kinds[i] == PRT_SINK_SQLITE && kinds[j] == PRT_SINK_SQLITE)) {
                fprintf(stderr, "%s: error: %s and %s would write the same file %s\n", p->name, label[j], label[i], canon[i]);
                rc = 2;
            }
    }
    for (int i = 0; i < n; i++) free(canon[i]);
    free(input);
    return rc;
}

/* Expands the values of librdkafka settings (key, value, ... as in the descriptors) into a
 * NULL-terminated key, value, ... array. 0, or 2 after the error. */
static int expand_props(const prt_pipeline *p, const char *where, const char *const *props, int n, char ***out) {
    char label[300];
    *out = calloc((size_t)n * 2 + 1, sizeof **out);
    if (!*out) abort();
    for (int i = 0; i < n; i++) {
        snprintf(label, sizeof label, "%s.properties.%s", where, props[2 * i]);
        if (expand(p, label, props[2 * i + 1], &(*out)[2 * i + 1])) return 2;
        (*out)[2 * i] = strdup(props[2 * i]);
        if (!(*out)[2 * i]) abort();
    }
    return 0;
}

static void free_props(char **props) {
    for (int i = 0; props && props[i]; i++) free(props[i]);
    free(props);
}

static int expand_all(driver *d) {
    const prt_pipeline *p = d->p;
    char label[300];
    if (expand(p, "source.path", p->source.path ? p->source.path : "-", &d->src_path)) return 2;
    if (expand(p, "source.archive", p->source.archive, &d->src_archive)) return 2;
    if (p->source.kind == PRT_SRC_POSTGRES || p->source.kind == PRT_SRC_POSTGRES_CDC) {
        if (expand(p, "source.dsn", p->source.dsn ? p->source.dsn : "", &d->src_dsn)) return 2;
        if (!d->src_dsn[0]) {
            fprintf(stderr, "%s: error: source.dsn is empty\n", p->name);
            return 2;
        }
    }
    if (p->source.kind == PRT_SRC_KAFKA) {
        if (expand(p, "source.brokers", p->source.brokers ? p->source.brokers : "", &d->kafka_brokers) ||
            expand(p, "source.group", p->source.group ? p->source.group : "", &d->kafka_group))
            return 2;
        if (!d->kafka_brokers[0] || !d->kafka_group[0]) {
            fprintf(stderr, "%s: error: source.%s is empty\n", p->name, d->kafka_brokers[0] ? "group" : "brokers");
            return 2;
        }
        d->kafka_topics = calloc((size_t)p->source.ntopics + 1, sizeof *d->kafka_topics);
        if (!d->kafka_topics) abort();
        for (int i = 0; i < p->source.ntopics; i++) {
            if (expand(p, "source.topic", p->source.topics[i], &d->kafka_topics[i])) return 2;
            if (!d->kafka_topics[i][0]) {
                fprintf(stderr, "%s: error: source.topic is empty\n", p->name);
                return 2;
            }
        }
        if (expand_props(p, "source", p->source.props, p->source.nprops, &d->kafka_props)) return 2;
        if (p->memory_limit) d->kafka_props = prt_limits_kafka_props(p->memory_limit, d->kafka_props);
    }
    if (p->source.kind == PRT_SRC_HTTP) {
        if (expand(p, "source.url", p->source.url ? p->source.url : "", &d->http_url)) return 2;
        d->http_every_us = p->source.poll_us;
        if (p->source.http_every) {
            char *every;
            if (expand(p, "source.every", p->source.http_every, &every)) return 2;
            bool ok = prt_str_to_interval((prt_str){every, (uint32_t)strlen(every)}, &d->http_every_us) && d->http_every_us > 0;
            if (!ok) fprintf(stderr, "%s: error: source.every: '%s' is not a positive duration such as 1s or 500ms\n", p->name, every);
            free(every);
            if (!ok) return 2;
        }
        d->http_headers = calloc((size_t)p->source.nheaders * 2 + 1, sizeof *d->http_headers);
        if (!d->http_headers) abort();
        for (int i = 0; i < p->source.nheaders; i++) {
            snprintf(label, sizeof label, "source.headers.%s", p->source.headers[2 * i]);
            if (expand(p, label, p->source.headers[2 * i + 1], &d->http_headers[2 * i + 1])) return 2;
            d->http_headers[2 * i] = strdup(p->source.headers[2 * i]);
            if (!d->http_headers[2 * i]) abort();
            if (strpbrk(d->http_headers[2 * i + 1], "\r\n")) {
                fprintf(stderr, "%s: error: %s holds a line break\n", p->name, label);
                return 2;
            }
        }
    }
    d->sink_paths = calloc((size_t)(p->nsinks > 0 ? p->nsinks : 1), sizeof *d->sink_paths);
    if (!d->sink_paths) abort();
    d->sink_brokers = calloc((size_t)(p->nsinks > 0 ? p->nsinks : 1), sizeof *d->sink_brokers);
    d->sink_props = calloc((size_t)(p->nsinks > 0 ? p->nsinks : 1), sizeof *d->sink_props);
    if (!d->sink_brokers || !d->sink_props) abort();
    for (int i = 0; i < p->nsinks; i++) {
        const prt_sink_desc *sd = &p->sinks[i];
        if (sd->kind != PRT_SINK_KAFKA) continue;
        snprintf(label, sizeof label, "sinks.%s.brokers", sd->name);
        if (expand(p, label, sd->brokers ? sd->brokers : "", &d->sink_brokers[i])) return 2;
        snprintf(label, sizeof label, "sinks.%s.topic", sd->name);
        if (expand(p, label, sd->topic ? sd->topic : "", &d->sink_paths[i])) return 2;
        if (!d->sink_brokers[i][0] || !d->sink_paths[i][0]) {
            fprintf(stderr, "%s: error: sinks.%s.%s is empty\n", p->name, sd->name, d->sink_brokers[i][0] ? "topic" : "brokers");
            return 2;
        }
        snprintf(label, sizeof label, "sinks.%s", sd->name);
        if (expand_props(p, label, sd->props, sd->nprops, &d->sink_props[i])) return 2;
    }
    for (int i = 0; i < p->nsinks; i++) {
        bool pg = p->sinks[i].kind == PRT_SINK_POSTGRES;
        if (p->sinks[i].kind != PRT_SINK_FILE && p->sinks[i].kind != PRT_SINK_SQLITE &&
            p->sinks[i].kind != PRT_SINK_PARQUET && !pg)
            continue;
        snprintf(label, sizeof label, "sinks.%s.%s", p->sinks[i].name, pg ? "dsn" : "path");
        const char *v = pg ? p->sinks[i].dsn : p->sinks[i].path;
        if (expand(p, label, v ? v : "", &d->sink_paths[i])) return 2;
        if (!d->sink_paths[i][0]) {
            fprintf(stderr, "%s: error: %s is empty\n", p->name, label);
            return 2;
        }
    }
    if (p->dead_letter && p->dead_letter->kind == PRT_SINK_FILE) {
        const char *dp = p->dead_letter->path ? p->dead_letter->path : "";
        if (expand(p, "dead_letter.path", dp, &d->dead_path)) return 2;
        if (!d->dead_path[0]) {
            fprintf(stderr, "%s: error: dead_letter.path is empty\n", p->name);
            return 2;
        }
    }
    if (p->dead_letter && p->dead_letter->kind == PRT_SINK_KAFKA) {
        const prt_sink_desc *dl = p->dead_letter;
        if (expand(p, "dead_letter.brokers", dl->brokers ? dl->brokers : "", &d->dead_kafka_brokers) ||
            expand(p, "dead_letter.topic", dl->topic ? dl->topic : "", &d->dead_kafka_topic) ||
            expand_props(p, "dead_letter", dl->props, dl->nprops, &d->dead_kafka_props))
            return 2;
        if (!d->dead_kafka_brokers[0] || !d->dead_kafka_topic[0]) {
            fprintf(stderr, "%s: error: dead_letter.%s is empty\n", p->name, d->dead_kafka_brokers[0] ? "topic" : "brokers");
            return 2;
        }
    }
    if (p->dead_letter && p->dead_letter->kind == PRT_SINK_POSTGRES) {
        if (expand(p, "dead_letter.dsn", p->dead_letter->dsn ? p->dead_letter->dsn : "", &d->dead_dsn)) return 2;
        if (!d->dead_dsn[0]) {
            fprintf(stderr, "%s: error: dead_letter.dsn is empty\n", p->name);
            return 2;
        }
    }
    if (expand(p, "checkpoint.path", p->checkpoint_path, &d->ckpt_dir)) return 2;
    if (d->ckpt_dir && !d->ckpt_dir[0]) {   /* "${CKPT:-}" unset: no checkpoint */
        free(d->ckpt_dir);
        d->ckpt_dir = NULL;
    }
    if (expand(p, "metrics.listen", p->metrics_listen, &d->metrics_listen) ||
        expand(p, "metrics.tls.cert", p->metrics_tls_cert, &d->metrics_tls_cert) ||
        expand(p, "metrics.tls.key", p->metrics_tls_key, &d->metrics_tls_key) ||
        expand(p, "metrics.basic_auth.user", p->metrics_user, &d->metrics_user) ||
        expand(p, "metrics.basic_auth.password", p->metrics_password, &d->metrics_password) ||
        expand(p, "metrics.basic_auth.password_file", p->metrics_password_file, &d->metrics_password_file))
        return 2;
    return check_distinct_paths(d);
}

static int64_t committed_len(const driver *d, const char *name, bool have_ck) {
    if (!have_ck) return -1;
    const prt_ckpt_sink *k = prt_ckpt_find_sink(&d->ck, name);
    return k ? (int64_t)k->len : 0;
}

/* The key of a database sink's row in its database's pipec_checkpoint table: "PIPELINE/SINK" (two
 * sinks may share a database; each must keep its own checkpoint). */
static void db_key(const driver *d, int i, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", d->p->name, d->p->sinks[i].name);
}

/* A database sink: SQLite or PostgreSQL, committing its rows and the checkpoint in one transaction. */
static bool is_db(const driver *d, int i) {
    return d->p->sinks[i].kind == PRT_SINK_SQLITE || d->p->sinks[i].kind == PRT_SINK_POSTGRES;
}

/* A loaded checkpoint must be this pipeline's: 0, or 2 after the message. */
static int check_foreign(const driver *d, const prt_ckpt *c, const char *where) {
    const prt_pipeline *p = d->p;
    if (c->fingerprint == p->fingerprint && c->pipeline && strcmp(c->pipeline, p->name) == 0) return 0;
    fprintf(stderr, "%s: error: checkpoint %s belongs to another pipeline layout (pipeline '%s', "
            "fingerprint %016" PRIx64 "; this program: '%s', fingerprint %016" PRIx64
            "); remove it or use another %s\n", p->name, where,
            c->pipeline ? c->pipeline : "?", c->fingerprint, p->name, p->fingerprint,
            d->ckpt_dir && !strstr(where, "database") ? "checkpoint path" : "database");
    return 2;
}

/* Loads the checkpoints: the file DIR/checkpoint (with a checkpoint dir) and the copy each
 * database sink stored in its database (the database sinks are open already). Picks the one to
 * resume from into d->ck and sets up a catch-up when database sinks disagree. 0 ok (none or
 * matching), 1 runtime failure, 2 mismatch. */
static int load_checkpoint(driver *d, bool *have) {
    const prt_pipeline *p = d->p;
    *have = false;
    int n = p->nsinks, rc = 0;
    prt_ckpt fc;               /* the file's */
    bool have_f = false;
    memset(&fc, 0, sizeof fc);
    prt_ckpt *sc = calloc((size_t)(n > 0 ? n : 1), sizeof *sc);
    bool *have_s = calloc((size_t)(n > 0 ? n : 1), sizeof *have_s);
    char where[4400], key[600];
    prt_buf blob = {0};
    if (!sc || !have_s) abort();
    if (d->ckpt_dir) {
        if (prt_mkdir_p(d->ckpt_dir) != 0) { rc = 1; goto out; }
        int r = prt_ckpt_read(d->ckpt_dir, &fc);
        if (r < 0) { rc = 1; goto out; }
        have_f = r == 1;
        if (have_f && (rc = check_foreign(d, &fc, d->ckpt_dir)) != 0) goto out;
    }
    uint64_t top = have_f ? fc.seq : 0;   /* the highest seq */
    int nhave = 0;
    for (int i = 0; i < n; i++) {
        if (!is_db(d, i)) continue;
        db_key(d, i, key, sizeof key);
        blob.len = 0;
        int r = prt_sink_db_read_checkpoint(d->run.sinks[i], key, &blob);
        if (r < 0) { rc = 1; goto out; }
        if (r == 0) continue;
        snprintf(where, sizeof where, "in database %s (table pipec_checkpoint, key '%s')",
                 prt_sink_where(d->run.sinks[i]), key);
        if (prt_ckpt_parse(blob.data, blob.len, &sc[i], where) < 0) { rc = 1; goto out; }
        have_s[i] = true;
        nhave++;
        if (sc[i].seq > top) top = sc[i].seq;
        if (sc[i].state_seq > d->seq) d->seq = sc[i].state_seq;
    }
    if (top > d->seq) d->seq = top;
    if (have_f && fc.state_seq > d->seq) d->seq = fc.state_seq;   /* v2: no seq line */
    /* Without a checkpoint dir, a database checkpoint of a run that completed is not resumed:
     * rerunning a bounded job runs it again (from the start), as without any checkpoint. */
    if (!d->ckpt_dir && nhave > 0) {
        bool all_done = true;
        for (int i = 0; i < n; i++)
            if (have_s[i] && !(sc[i].seq == top && sc[i].run_finished)) all_done = false;
        if (all_done) {
            prt_log_info("the last run completed (database checkpoint %" PRIu64 "); starting "
                         "from the beginning", top);
            goto out;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!have_s[i]) continue;
        snprintf(where, sizeof where, "in database %s (table pipec_checkpoint, key '%s/%s')",
                 prt_sink_where(d->run.sinks[i]), p->name, p->sinks[i].name);
        if ((rc = check_foreign(d, &sc[i], where)) != 0) goto out;
    }
    if (!have_f && nhave == 0) goto out;
    /* The newest (top) and the one to resume from: the oldest database sink's when one is a
     * commit behind (a crash between two sinks' commits), else the newest. The file is never
     * ahead of the databases (it is written after them). */
    const prt_ckpt *newest = have_f && fc.seq == top ? &fc : NULL;
    const prt_ckpt *from = NULL;
    for (int i = 0; i < n; i++) {
        if (!have_s[i]) continue;
        if (sc[i].seq == top && !newest) newest = &sc[i];
        if (top > 0 && sc[i].seq == top - 1) from = &sc[i];
    }
    /* a database sink without a checkpoint while the newest is the first: it crashed before its
     * first commit; it catches up from the beginning */
    bool from_start = false;
    for (int i = 0; i < n; i++)
        if (is_db(d, i) && !have_s[i] && top == 1) from_start = true;
    for (int i = 0; i < n; i++) {
        if (!is_db(d, i) || (have_s[i] && sc[i].seq + 1 >= top) || (!have_s[i] && top == 1)) continue;
        prt_log_warn("sink '%s': its database %s holds %s (the newest is %" PRIu64 "); it "
                     "receives the records from the resume point on, earlier ones are not "
                     "replayed for it", p->sinks[i].name, prt_sink_where(d->run.sinks[i]),
                     have_s[i] ? "an older checkpoint" : "no checkpoint of this pipeline", top);
    }
    if (from_start) from = NULL;
    else if (!from || !newest->has_source || !from->has_source) from = newest;
    if (from_start && !newest->has_source) from = newest, from_start = false;
    prt_ckpt *keep = !from ? NULL : from == &fc ? &fc : &sc[from - sc];
    if (from != newest) {
        /* catch up: sinks at `top` already hold the rows of the records up to newest's position */
        d->ahead = calloc((size_t)n, sizeof *d->ahead);
        d->ahead_rows = calloc((size_t)n, sizeof *d->ahead_rows);
        if (!d->ahead || !d->ahead_rows) abort();
        for (int i = 0; i < n; i++) d->ahead[i] = have_s[i] && sc[i].seq == top;
        d->catching = true;
        d->cu_path = strdup(newest->src_path);
        if (!d->cu_path) abort();
        d->cu_ino = newest->src_ino;
        d->cu_line = newest->src_line;
        d->cu_finished = newest->src_finished;
        if (keep && keep->src_finished && strcmp(keep->src_path, newest->src_path) != 0) {
            /* the older one finished a file (retired since); the newer is in the next file */
            free(keep->src_path);
            keep->src_path = strdup(newest->src_path);
            if (!keep->src_path) abort();
            keep->src_ino = newest->src_ino;
            keep->src_offset = 0;
            keep->src_line = 1;
            keep->src_finished = false;
        }
        prt_log_warn("%s sinks disagree (a crash between their commits): resuming from "
                     "checkpoint %" PRIu64 " and replaying up to checkpoint %" PRIu64 " (%s line %"
                     PRIu64 "%s) without writing to the sinks that already hold it",
                     p->sinks[0].kind == PRT_SINK_SQLITE ? "sqlite" : "database", from ? from->seq : 0,
                     top, d->cu_path, d->cu_line, d->cu_finished ? ", file finished" : "");
    }
    if (!keep) goto out;   /* catch-up from the beginning: no checkpoint to resume from */
    d->ck = *keep;
    memset(keep, 0, sizeof *keep);
    *have = true;
out:
    prt_ckpt_free(&fc);
    for (int i = 0; i < n; i++) prt_ckpt_free(&sc[i]);
    free(sc);
    free(have_s);
    prt_buf_free(&blob);
    return rc;
}

/* Hands the run's counters to the metrics endpoint (if any): at most ten times a second unless
 * force (after a commit). */
static void publish_metrics(driver *d, bool force) {
    if (!d->metrics) return;
    const prt_pipeline *p = d->p;
    for (int i = 0; i < p->nsinks; i++) d->metric_rows[i] = d->run.sinks[i]->rows;
    prt_metrics_snapshot s = {.in = d->run.stats.in, .out = d->run.stats.out, .dead = d->run.stats.dead,
                              .dropped = d->run.stats.dropped, .nsinks = p->nsinks, .sink_names = d->metric_names,
                              .sink_rows = d->metric_rows, .last_commit_us = d->committed_us, .pending = d->dirty,
                              .batch = &d->batch_hist, .commit = &d->commit_hist, .sink_flush = d->flush_hist,
                              .source_errors = d->http ? prt_http_errors(d->http) : 0};
    s.nreasons = prt_deadq_reasons(d->dead, &s.reasons, &s.reason_counts);
    if (d->kafka) s.lag_kind = "kafka", s.lag = prt_kafka_lag(d->kafka);
    else if (d->cdc) s.lag_kind = "postgres_cdc", s.lag = prt_cdc_lag(d->cdc);
    else if (p->source.kind == PRT_SRC_FOLDER) s.lag_kind = "folder", s.lag = (int64_t)d->src.waiting;
    if (s.lag < 0) s.lag_kind = NULL;   /* not known yet */
    if (p->window_stats) {
        p->window_stats(d->window_stats);
        s.nwindows = p->nwindows;
        s.window_names = p->window_names;
        s.windows = d->window_stats;
    }
    prt_metrics_publish(d->metrics, &s, force);
}

/* A monotonic clock for latencies, microseconds. */
static int64_t mono_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A commit (see the header comment of rt_checkpoint.c for why this order):
 * 1. file sinks and the dead letter: written out and fsynced, their lengths noted;
 * 2. the window state file (with a checkpoint dir; else the state goes inline, step 3);
 * 3. each database sink: its rows and the complete checkpoint text in one transaction;
 * 4. DIR/checkpoint (atomic), then the renames of the parquet files it lists (finished in step 1
 *    under temp names); 5. archive/delete a finished folder file.
 * A checkpoint is kept (steps 2-4) when there is a checkpoint dir or a database sink. */
static int commit(driver *d) {
    const prt_pipeline *p = d->p;
    prt_ckpt *c = &d->ck;
    prt_ckpt_sink *ks = calloc((size_t)p->nsinks + 1, sizeof *ks);   /* per commit, not per record */
    if (!ks) abort();
    int nk = 0, rc = 0;
    bool keep = d->ckpt_dir || d->ndb > 0;
    int64_t started = mono_us(), t;
    if (!d->flush_took) {
        d->flush_took = calloc((size_t)p->nsinks + 1, sizeof *d->flush_took);
        if (!d->flush_took) abort();
    }
    bool shared = d->shared_sink >= 0;
    /* shared group: the open windows hand in their partial rows, so the offsets below cover
     * every record read (there is no window state to keep) */
    if (shared && p->flush) {
        d->run.batch_now_us = prt_now_us();
        p->flush(&d->run);
        prt_arena_reset(&d->run.scratch);
    }
    /* 0. postgres sinks send their rows inside an open transaction; rows the server refuses go
     * to the dead letter now, so they are part of this commit */
    for (int i = 0; i < p->nsinks && rc == 0; i++)
        if (is_db(d, i)) {
            t = mono_us();
            rc = prt_sink_db_prepare(d->run.sinks[i], &d->run, d->dead);
            d->flush_took[i] += mono_us() - t;
        }
    for (int i = 0; i < p->nsinks && rc == 0; i++) {
        uint64_t len;
        if (is_db(d, i)) continue;   /* step 3 */
        t = mono_us();
        rc = prt_sink_commit(d->run.sinks[i], &len);
        d->flush_took[i] += mono_us() - t;
        if (rc == 0 && prt_sink_is_file(d->run.sinks[i]))
            ks[nk++] = (prt_ckpt_sink){(char *)p->sinks[i].name, len};
    }
    if (rc == 0 && d->dead_host < 0) {   /* else it joins its host's transaction, step 3 */
        uint64_t len;
        prt_sink *ds = prt_deadq_sink(d->dead);
        rc = prt_sink_commit(ds, &len);
        if (rc == 0 && prt_sink_is_file(ds)) ks[nk++] = (prt_ckpt_sink){(char *)"dead_letter", len};
    }
    /* the files parquet sinks finished (under temp names) in step 1: renamed after step 4 */
    char **publish = NULL;
    int npublish = 0;
    for (int i = 0; i < p->nsinks && rc == 0; i++) {
        prt_pqsink *q = prt_sink_parquet(d->run.sinks[i]);
        char *const *paths;
        int n;
        if (!q) continue;
        prt_pqsink_ready(q, &paths, &n);
        if (!n) continue;
        publish = realloc(publish, sizeof *publish * (size_t)(npublish + n + 1));
        if (!publish) abort();
        memcpy(publish + npublish, paths, sizeof *paths * (size_t)n);
        npublish += n;
    }
    prt_source *s = &d->src;
    uint64_t seq = d->seq + 1;
    if (rc == 0 && shared) {
        prt_kafka_offset *offs;
        int n = prt_kafka_unstored(d->kafka, &offs);
        char key[600];
        db_key(d, d->shared_sink, key, sizeof key);
        prt_pg *g = prt_sink_pg(d->run.sinks[d->shared_sink]);
        prt_pg_set_offsets(g, offs, n);
        t = mono_us();
        rc = prt_sink_db_commit(d->run.sinks[d->shared_sink], key, NULL, 0, &d->run, d->dead,
                                d->shared_sink == d->dead_host ? prt_deadq_sink(d->dead) : NULL);
        d->flush_took[d->shared_sink] += mono_us() - t;
        prt_pg_set_offsets(g, NULL, 0);
        if (rc == 0) prt_kafka_mark_stored(d->kafka, offs, n);
        free(offs);
    } else if (rc == 0 && keep) {
        if (d->pgsrc) prt_pgsrc_position(d->pgsrc, c);   /* the cursor after the rows taken */
        if (d->cdc) prt_cdc_position(d->cdc, c);         /* the LSN after the changes taken */
        if (d->kafka) prt_kafka_position(d->kafka, c);   /* per partition, the offset after them */
        if (s->is_open && s->cur_ino) {   /* stdin has no position worth keeping */
            free(c->src_path);
            c->src_path = strdup(s->cur_path);
            if (!c->src_path) abort();
            c->has_source = true;
            c->src_ino = s->cur_ino;
            c->src_finished = s->finished;
            if (s->resume_offset) {   /* the header of a resumed file is not read yet */
                c->src_offset = s->resume_offset;
                c->src_line = s->resume_line;
            } else {
                c->src_offset = prt_reader_offset(&s->rd);
                c->src_line = prt_reader_line(&s->rd);
            }
        }
        if (!c->pipeline) c->pipeline = strdup(p->name);
        c->fingerprint = p->fingerprint;
        c->seq = seq;
        c->run_finished = d->run_finished;
        free(c->state_data);
        c->state_data = NULL;
        c->state_inline = false;
        if (p->save_state) {
            d->state.len = 0;
            p->save_state(&d->run, &d->state);
            prt_arena_reset(&d->run.scratch);
            if (d->ckpt_dir) {
                rc = prt_state_file_write(d->ckpt_dir, seq, d->state.data, d->state.len);
            } else {
                c->state_inline = true;
                c->state_data = d->state.data;   /* borrowed until the text is made */
            }
            c->has_state = true;
            c->state_seq = seq;
            c->state_len = d->state.len;
            c->state_crc = prt_crc32(d->state.data, d->state.len);
        }
    }
    prt_ckpt_sink *old = c->sinks;
    int oldn = c->nsinks;
    char **old_publish = c->publish;
    int old_npublish = c->npublish;
    c->sinks = ks;
    c->nsinks = nk;
    c->publish = publish;   /* borrowed from the sinks */
    c->npublish = npublish;
    if (rc == 0 && keep && !shared && d->ndb > 0) {
        prt_buf text = {0};
        char key[600];
        prt_ckpt_format(c, &text);
        for (int i = 0; i < p->nsinks && rc == 0; i++) {
            if (!is_db(d, i)) continue;
            db_key(d, i, key, sizeof key);
            t = mono_us();
            rc = prt_sink_db_commit(d->run.sinks[i], key, text.data, text.len, &d->run, d->dead,
                                    i == d->dead_host ? prt_deadq_sink(d->dead) : NULL);
            d->flush_took[i] += mono_us() - t;
        }
        prt_buf_free(&text);
    }
    c->state_data = NULL;   /* borrowed (inline state) */
    if (rc == 0 && d->ckpt_dir) {
        rc = prt_ckpt_write(d->ckpt_dir, c);
        if (rc == 0 && c->has_state) prt_state_file_cleanup(d->ckpt_dir, c->state_seq, true);
    }
    c->sinks = old;
    c->nsinks = oldn;
    c->publish = old_publish;
    c->npublish = old_npublish;
    free(publish);
    /* the checkpoint lists the parquet files now: they may become visible */
    for (int i = 0; i < p->nsinks && rc == 0; i++)
        if (prt_sink_parquet(d->run.sinks[i])) {
            t = mono_us();
            rc = prt_pqsink_publish(prt_sink_parquet(d->run.sinks[i]));
            d->flush_took[i] += mono_us() - t;
        }
    if (rc == 0 && keep) d->seq = seq;
    if (rc == 0 && keep && d->cdc) rc = prt_cdc_committed(d->cdc);   /* now the slot may move on */
    if (rc == 0 && d->kafka) rc = prt_kafka_committed(d->kafka, keep);
    free(ks);
    if (rc == 0 && s->is_open && s->finished) rc = prt_source_retire(s);
    d->last_commit_us = prt_now_us();
    if (rc == 0) d->committed_us = d->last_commit_us;
    d->dirty = false;
    if (rc == 0 && d->metrics) {
        prt_hist_add(&d->commit_hist, mono_us() - started);
        for (int i = 0; i < p->nsinks; i++) prt_hist_add(&d->flush_hist[i], d->flush_took[i]);
    }
    memset(d->flush_took, 0, sizeof *d->flush_took * (size_t)p->nsinks);
    publish_metrics(d, true);
    return rc;
}

/* During a catch-up: drop what the hooks gave the sinks that already hold it. */
static void drop_ahead(driver *d) {
    if (!d->catching) return;
    for (int i = 0; i < d->p->nsinks; i++) {
        if (!d->ahead[i]) continue;
        d->run.sinks[i]->buf.len = 0;
        d->run.sinks[i]->rows = d->ahead_rows[i];
    }
}

/* Ends a catch-up (the source reached the newest checkpoint's position) with a commit that
 * brings every sink to the same new checkpoint. */
static int end_catchup(driver *d, bool reached) {
    d->catching = false;
    if (reached) prt_log_info("caught up with the newest checkpoint; every sink is in step again");
    else prt_log_warn("the replay did not reach the newest checkpoint's position (%s line %" PRIu64
                      "): the input changed; sinks that were a commit behind miss the rest of it",
                      d->cu_path, d->cu_line);
    return commit(d);
}

/* Before a record starting at `line` of the open file (line 0: at its end): 0 when the
 * catch-up goes on, else the result of ending it (first running the records before it). */
static void run_batch(driver *d);
static int catchup_before(driver *d, uint64_t line) {
    const prt_source *s = &d->src;
    bool ours = s->cur_ino == d->cu_ino && strcmp(s->cur_path, d->cu_path) == 0;
    if (ours && line && (d->cu_finished || line < d->cu_line)) return 0;
    run_batch(d);
    return end_catchup(d, ours && (line || d->cu_finished));
}

static void run_batch(driver *d) {
    if (d->nbatch == 0) return;
    prt_run *run = &d->run;
    prt_batch b = {d->batch, d->nbatch};
    run->batch_now_us = prt_now_us();
    run->stats.in += (uint64_t)d->nbatch;
    int64_t started = d->metrics ? mono_us() : 0;
    d->p->process_batch(run, &b);
    prt_arena_reset(&run->scratch);
    d->nbatch = 0;
    d->dirty = true;
    if (d->p->tick) {
        d->p->tick(run);
        prt_arena_reset(&run->scratch);
    }
    if (d->metrics) prt_hist_add(&d->batch_hist, mono_us() - started);
    drop_ahead(d);
}

/* What the sinks have received so far: changes when a hook emitted rows. */
static uint64_t sink_activity(const driver *d) {
    uint64_t a = 0;
    for (int i = 0; i < d->p->nsinks; i++) a += d->run.sinks[i]->rows + d->run.sinks[i]->buf.len;
    return a;
}

/* Calls tick or finish outside a batch; rows it emits make the run dirty. Returns the number of
 * rows emitted. */
static uint64_t call_hook(driver *d, void (*hook)(prt_run *)) {
    uint64_t rows0 = 0, rows1 = 0, a0 = sink_activity(d);
    for (int i = 0; i < d->p->nsinks; i++) rows0 += d->run.sinks[i]->rows;
    d->run.batch_now_us = prt_now_us();
    hook(&d->run);
    prt_arena_reset(&d->run.scratch);
    drop_ahead(d);
    for (int i = 0; i < d->p->nsinks; i++) rows1 += d->run.sinks[i]->rows;
    if (sink_activity(d) != a0) d->dirty = true;
    return rows1 - rows0;
}

/* An idle tick: tick, write out big buffers, commit when due and something was emitted. */
static int idle_tick(driver *d) {
    call_hook(d, d->p->tick);
    for (int i = 0; i < d->p->nsinks; i++)
        if (prt_sink_maybe_flush(d->run.sinks[i]) != 0) return -1;
    if (d->dirty && !d->catching && prt_now_us() - d->last_commit_us >= d->every_us)
        return commit(d);
    return 0;
}

/* Sleeps up to `us` (a stop ends it early), ticking at least every TICK_US. */
static int idle_sleep(driver *d, int64_t us) {
    if (!d->p->tick) {
        prt_signal_sleep(us);
        return 0;
    }
    int64_t until = prt_now_us() + us;
    for (;;) {
        int64_t left = until - prt_now_us();
        if (left <= 0 || prt_signal_stop_requested()) return 0;
        prt_signal_sleep(left < TICK_US ? left : TICK_US);
        if (prt_signal_stop_requested()) return 0;
        if (idle_tick(d) != 0) return -1;
    }
}

/* Before a refill: with a tick hook, waits until the source's fd has something (a regular file
 * always has), ticking every TICK_US meanwhile, so a quiet pipe does not stop the clock. */
static int wait_input(driver *d) {
    if (!d->p->tick) return 0;
    struct pollfd pfd = {.fd = d->src.rd.fd, .events = POLLIN};
    for (;;) {
        int r = poll(&pfd, 1, (int)(TICK_US / 1000));
        if (r != 0) return 0;   /* readable, hung up, an error or EINTR: read() tells which */
        if (prt_signal_stop_requested()) return 0;
        if (idle_tick(d) != 0) return -1;
    }
}

/* After a batch: write out big buffers; commit when due. */
static int after_batch(driver *d) {
    if (d->p->memory_limit && prt_limits_check(d->p, d->window_stats) != 0) return -1;   /* before any commit */
    for (int i = 0; i < d->p->nsinks; i++)
        if (prt_sink_maybe_flush(d->run.sinks[i]) != 0) return -1;
    if (prt_sink_maybe_flush(prt_deadq_sink(d->dead)) != 0) return -1;
    if (d->catching) return 0;
    for (int i = 0; i < d->p->nsinks; i++)   /* postgres: the server loads while we read on */
        if (is_db(d, i)) prt_sink_db_push(d->run.sinks[i]);
    prt_progress_tick(d->run.stats.in, d->src_open && d->src.is_open ? prt_reader_offset(&d->src.rd) : 0);
    publish_metrics(d, false);
    if (prt_now_us() - d->last_commit_us >= d->every_us) return commit(d);
    for (int i = 0; d->batch_rows && i < d->p->nsinks; i++)
        if (prt_sink_pending_rows(d->run.sinks[i]) >= d->batch_rows) return commit(d);
    return 0;
}

static void dead_flagged(driver *d, const prt_rd_rec *rr) {
    char detail[128];
    int n;
    if (rr->flags & PRT_RECF_TOO_LONG)
        n = snprintf(detail, sizeof detail,
                     "record of %" PRIu64 " bytes is longer than max_record (%zu)", rr->full_len,
                     d->src.rd.max_record);
    else
        n = snprintf(detail, sizeof detail, "unterminated quote at end of file");
    prt_deadq_put(d->dead, d->src.cur_name, rr->rec.line, rr->rec.p, rr->rec.n, "parse", detail,
                  (size_t)n);
    d->run.stats.in++;
    d->run.stats.dead++;
    d->dirty = true;
}

static int header(driver *d, const prt_rd_rec *rr) {
    const prt_source_desc *sd = &d->p->source;
    if (rr->flags) {
        prt_log_warn("source: %s: the header line is malformed; ignored", d->src.cur_name);
    } else {
        const char *err = NULL;
        int n;
        for (;;) {
            n = prt_csv_split(rr->rec.p, rr->rec.n, sd->delimiter ? sd->delimiter : ',', sd->quote,
                              d->hdr, d->hdr_cap, &d->run.scratch, &err);
            if (n <= d->hdr_cap) break;
            d->hdr_cap = n;   /* once per wider header, not per record */
            d->hdr = realloc(d->hdr, sizeof *d->hdr * (size_t)n);
            if (!d->hdr) abort();
        }
        if (n < 0) {
            prt_log_error("source: %s:%" PRIu64 ": malformed CSV header: %s", d->src.cur_name,
                          rr->rec.line, err ? err : "?");
            return -1;
        }
        if (d->p->map_header) d->p->map_header(&d->run, d->hdr, n);
        prt_arena_reset(&d->run.scratch);
    }
    return prt_source_header_done(&d->src);
}

enum { FILE_DONE, FILE_STOP, FILE_ERROR };

/* Reads the open file until its end (committed and retired), a stop, or an error. */
static int read_file(driver *d) {
    prt_source *s = &d->src;
    prt_rd_rec rr;
    for (;;) {
        int k = prt_reader_next(&s->rd, &rr);
        if (k == PRT_RD_REC) {
            if (s->header_pending) {
                if (header(d, &rr) != 0) return FILE_ERROR;
                continue;
            }
            if (d->catching && catchup_before(d, rr.rec.line) != 0) return FILE_ERROR;
            if (rr.flags) {
                run_batch(d);
                dead_flagged(d, &rr);
                continue;
            }
            d->batch[d->nbatch++] = rr.rec;
            if (d->nbatch < BATCH_MAX) continue;
            run_batch(d);
            if (after_batch(d) != 0) return FILE_ERROR;
            if (prt_signal_stop_requested()) return FILE_STOP;
        } else if (k == PRT_RD_REFILL) {
            run_batch(d);
            if (after_batch(d) != 0) return FILE_ERROR;
            if (prt_signal_stop_requested()) return FILE_STOP;
            if (wait_input(d) != 0) return FILE_ERROR;
            if (prt_signal_stop_requested()) return FILE_STOP;
            if (prt_reader_fill(&s->rd) != 0 && s->rd.err != EINTR) {
                prt_log_error("source: cannot read %s: %s", s->cur_name, strerror(s->rd.err));
                return FILE_ERROR;
            }
        } else {
            run_batch(d);
            s->finished = true;
            if (d->catching ? catchup_before(d, 0) != 0 : commit(d) != 0) return FILE_ERROR;
            return FILE_DONE;
        }
    }
}

static void summary(driver *d) {
    const prt_stats *st = &d->run.stats;
    prt_buf b = {0};
    char t[160];
    int n = snprintf(t, sizeof t,
                     "done: in=%" PRIu64 " out=%" PRIu64 " dead=%" PRIu64 " dropped=%" PRIu64,
                     st->in, st->out, st->dead, st->dropped);
    prt_buf_put(&b, t, (size_t)n);
    if (d->p->nsinks > 0) prt_buf_lit(&b, " sinks:");
    for (int i = 0; i < d->p->nsinks; i++) {
        n = snprintf(t, sizeof t, " %s=%" PRIu64, d->p->sinks[i].name, d->run.sinks[i]->rows);
        prt_buf_put(&b, t, (size_t)n);
    }
    size_t at = b.len;   /* by reason, also dead letters that are not records (refused window rows) */
    prt_buf_lit(&b, " dead:");
    prt_deadq_summary(d->dead, &b);
    if (b.len == at + 6) b.len = at;
    if (st->overflow) {
        n = snprintf(t, sizeof t, " overflow=%" PRIu64, st->overflow);
        prt_buf_put(&b, t, (size_t)n);
    }
    if (st->div_zero) {
        n = snprintf(t, sizeof t, " div_zero=%" PRIu64, st->div_zero);
        prt_buf_put(&b, t, (size_t)n);
    }
    if (d->http && prt_http_errors(d->http)) {
        n = snprintf(t, sizeof t, " http_errors=%" PRIu64, prt_http_errors(d->http));
        prt_buf_put(&b, t, (size_t)n);
    }
    prt_log_info("%.*s", (int)b.len, b.data);
    prt_buf_free(&b);
    if (st->in != st->out + st->dead + st->dropped) {
        prt_log_error("record counts do not add up: in=%" PRIu64 " but out+dead+dropped=%" PRIu64
                      " (a bug in pipec)", st->in, st->out + st->dead + st->dropped);
        d->rc = 1;
    }
}

/* Restores the window state a checkpoint names; 0, or -1 after logging. */
static int restore_state(driver *d) {
    const prt_pipeline *p = d->p;
    prt_ckpt *c = &d->ck;
    bool windows = p->save_state && p->load_state;
    const char *where = d->ckpt_dir ? d->ckpt_dir : "(stored in the database)";
    const char *fix = d->ckpt_dir ? "remove the checkpoint directory to start over"
                                  : "delete its row from table pipec_checkpoint to start over";
    if (!c->has_state) {
        if (!windows) return 0;
        prt_log_error("checkpoint %s has no window state, but this pipeline has windows: their "
                      "records before it would be missing (%s)", where, fix);
        return -1;
    }
    if (!windows) {
        prt_log_warn("checkpoint %s names window state (state.%" PRIu64 "), but this pipeline has "
                     "no windows; ignored", where, c->state_seq);
        c->has_state = false;   /* later checkpoints name none */
        return 0;
    }
    if (c->state_inline) {
        d->state.len = 0;
        prt_buf_put(&d->state, c->state_data ? c->state_data : "", (size_t)c->state_len);
        free(c->state_data);
        c->state_data = NULL;
    } else {
        if (!d->ckpt_dir) {
            prt_log_error("the database checkpoint names window state in a file (state.%" PRIu64
                          "), but this run has no checkpoint directory", c->state_seq);
            return -1;
        }
        if (prt_state_file_read(d->ckpt_dir, c, &d->state) != 0) return -1;
    }
    d->run.batch_now_us = prt_now_us();
    bool ok = p->load_state(&d->run, d->state.data ? d->state.data : "", d->state.len);
    prt_arena_reset(&d->run.scratch);
    if (!ok) {
        prt_log_error("window state %s/state.%" PRIu64 " is corrupt: the pipeline could not load "
                      "it (%s)", where, c->state_seq, fix);
        return -1;
    }
    prt_log_info("restored window state from state.%" PRIu64 " (%zu bytes)", c->state_seq,
                 d->state.len);
    return 0;
}

/* A rebalance is taking partitions away: commit what was read, so their next owner starts
 * after it. */
static int revoke_commit(void *ctx) {
    driver *d = ctx;
    return d->dirty ? commit(d) : 0;
}

/* Shared group: a partition was assigned; where its stored offset is. What this instance read
 * is committed first (the sink's connection must be outside a transaction). */
static int assign_offsets(void *ctx, prt_kafka_offset *offs, int n) {
    driver *d = ctx;
    if (d->dirty && commit(d) != 0) return -1;
    char key[600];
    db_key(d, d->shared_sink, key, sizeof key);
    return prt_pg_read_offsets(prt_sink_pg(d->run.sinks[d->shared_sink]), key, offs, n);
}

/* Opens everything; 0, or the exit code. */
/* limits.memory: the parquet sinks' open files buffer at most a quarter of it together. */
static void limit_parquet(driver *d) {
    int n = 0;
    if (!d->p->memory_limit) return;
    for (int i = 0; i < d->p->nsinks; i++) n += prt_sink_parquet(d->run.sinks[i]) != NULL;
    for (int i = 0; i < d->p->nsinks; i++)
        if (prt_sink_parquet(d->run.sinks[i])) prt_pqsink_set_memory(prt_sink_parquet(d->run.sinks[i]), d->p->memory_limit / 4 / n);
}

static int open_all(driver *d) {
    const prt_pipeline *p = d->p;
    d->run.p = p;
    d->run.impl = &d->ri;
    d->run.sinks = calloc((size_t)(p->nsinks > 0 ? p->nsinks : 1), sizeof *d->run.sinks);
    if (!d->run.sinks) abort();
    /* database sinks first: their databases hold checkpoints too */
    for (int i = 0; i < p->nsinks; i++) {
        if (!is_db(d, i)) continue;
        d->ndb++;
        d->run.sinks[i] = prt_sink_open(&p->sinks[i], d->sink_paths[i], -1, -1);
        if (!d->run.sinks[i]) return 1;
    }
    bool have_ck = false;
    for (int i = 0; p->kafka_shared && i < p->nsinks; i++)
        if (p->sinks[i].kind == PRT_SINK_POSTGRES) d->shared_sink = i;
    if (d->shared_sink >= 0) {   /* offsets per partition instead of a checkpoint: no lock to take */
        if (prt_pg_share(prt_sink_pg(d->run.sinks[d->shared_sink])) != 0) return 1;
    } else {
        int r = load_checkpoint(d, &have_ck);
        if (r) return r;
    }
    for (int i = 0; i < p->nsinks; i++) {
        if (is_db(d, i)) continue;
        if (p->sinks[i].kind == PRT_SINK_KAFKA)
            d->run.sinks[i] = prt_sink_open_kafka(&p->sinks[i], p->name, d->sink_brokers[i], d->sink_paths[i], d->sink_props[i]);
        else if (p->sinks[i].kind == PRT_SINK_PARQUET)   /* the checkpoint's renames redone first */
            d->run.sinks[i] = prt_sink_open_parquet(&p->sinks[i], p->name, p->fingerprint, d->sink_paths[i],
                                                    have_ck ? &d->ck : NULL, d->seq);
        else
            d->run.sinks[i] = prt_sink_open(&p->sinks[i], d->sink_paths[i], committed_len(d, p->sinks[i].name, have_ck), -1);
        if (!d->run.sinks[i]) return 1;
    }
    limit_parquet(d);
    d->dead = prt_deadq_open(p->name, p->dead_letter, d->dead_kafka_brokers ? d->dead_kafka_brokers : d->dead_dsn ? d->dead_dsn : d->dead_path,
                             committed_len(d, "dead_letter", have_ck), d->dead_kafka_topic, d->dead_kafka_props);
    if (!d->dead) return 1;
    /* a postgres dead letter on the DSN of a postgres sink joins that sink's transactions:
     * exactly once with the rows and the checkpoint */
    for (int i = 0; d->dead_dsn && d->dead_host < 0 && i < p->nsinks; i++)
        if (p->sinks[i].kind == PRT_SINK_POSTGRES && strcmp(d->sink_paths[i], d->dead_dsn) == 0)
            d->dead_host = i;
    d->ri.dead = d->dead;
    d->ri.position_name = "?";
    if (have_ck && restore_state(d) != 0) return 1;
    for (int i = 0; d->catching && i < p->nsinks; i++) d->ahead_rows[i] = d->run.sinks[i]->rows;
    d->batch = malloc(sizeof *d->batch * BATCH_MAX);
    if (!d->batch) abort();
    if (p->source.kind == PRT_SRC_POSTGRES || p->source.kind == PRT_SRC_POSTGRES_CDC) {
        if (!prt_pgsrc_open || !prt_cdc_open) {
            prt_log_error("source: this binary was built without PostgreSQL (its pipeline does not call "
                          "prt_use_postgres)");
            return 1;
        }
        if (d->catching) {   /* a replay up to a row position is for files only */
            prt_log_warn("a postgres source cannot replay up to the newer checkpoint: the sinks that "
                         "were ahead receive those rows again (an upsert sink replaces them)");
            d->catching = false;
        }
        if (p->source.kind == PRT_SRC_POSTGRES_CDC) {
            d->cdc = prt_cdc_open(&p->source, d->src_dsn, have_ck ? &d->ck : NULL, d->once);
            return d->cdc ? 0 : 1;
        }
        d->pgsrc = prt_pgsrc_open(&p->source, d->src_dsn, have_ck ? &d->ck : NULL);
        return d->pgsrc ? 0 : 1;
    }
    if (p->source.kind == PRT_SRC_HTTP) {
        if (!prt_http_open) {
            prt_log_error("source: this binary was built without HTTP (its pipeline does not call prt_use_http)");
            return 1;
        }
        int rc;
        d->http = prt_http_open(&p->source, d->http_url, d->http_headers, d->http_every_us, d->once, &rc);
        return d->http ? 0 : rc;
    }
    if (p->source.kind == PRT_SRC_KAFKA) {
        if (!prt_kafka_open) {
            prt_log_error("source: this binary was built without Kafka (its pipeline does not call prt_use_kafka)");
            return 1;
        }
        if (d->catching) {
            prt_log_warn("a kafka source cannot replay up to the newer checkpoint: the sinks that were "
                         "ahead receive those records again (an upsert sink replaces them)");
            d->catching = false;
        }
        d->kafka = prt_kafka_open(&p->source, d->kafka_brokers, d->kafka_group, d->kafka_topics, d->kafka_props,
                                  have_ck ? &d->ck : NULL);
        if (d->kafka) prt_kafka_set_revoke_hook(d->kafka, revoke_commit, d);
        if (d->kafka && d->shared_sink >= 0) prt_kafka_set_assign_hook(d->kafka, assign_offsets, d);
        return d->kafka ? 0 : 1;
    }
    d->src_open = true;   /* prt_source_open leaves it closable even when it fails */
    if (prt_source_open(&d->src, &p->source, d->src_path, d->src_archive, have_ck ? &d->ck : NULL,
                        prt_chunk_from_env()) != 0)
        return 1;
    if (have_ck && d->ck.has_source)
        prt_log_info("resuming from checkpoint: offset %" PRIu64 ", line %" PRIu64 "%s",
                     d->ck.src_offset, d->ck.src_line, d->ck.src_finished ? " (file finished)" : "");
    return 0;
}

/* The postgres, postgres_cdc, kafka and http sources: batches of new rows until a stop, or
 * (--once) until caught up; while quiet the run commits (a poll source also sleeps until its
 * next poll: an http source's own schedule). 0, or -1 on an error. */
static int read_rows(driver *d, bool *ended) {
    int64_t poll_us = d->p->source.poll_us > 0 ? d->p->source.poll_us : DEFAULT_POLL_US;
    while (!prt_signal_stop_requested()) {
        const char *const *pos = NULL;
        bool caught_up = false;
        uint64_t rejected = 0;
        int n = d->kafka ? prt_kafka_next(d->kafka, d->batch, BATCH_MAX, TICK_US, &caught_up)
              : d->cdc ? prt_cdc_next(d->cdc, d->batch, BATCH_MAX, &pos, &caught_up)
              : d->http ? prt_http_next(d->http, d->batch, BATCH_MAX, &pos, d->dead, &rejected)
                       : prt_pgsrc_next(d->pgsrc, d->batch, BATCH_MAX, &pos);
        if (n < 0) return -1;
        if (rejected) {   /* http: answers or elements that are no record went to the dead letter */
            d->run.stats.in += rejected;
            d->run.stats.dead += rejected;
            d->dirty = true;
        }
        if (n == 0) {
            if (prt_signal_stop_requested()) break;
            bool stream = d->cdc || d->kafka;
            if (d->once && (caught_up || !stream)) {
                *ended = true;
                break;
            }
            if (stream) {   /* the stream waited a moment already: tick, commit when due */
                if (d->p->tick && idle_tick(d) != 0) return -1;
                if (d->dirty && prt_now_us() - d->last_commit_us >= d->every_us && commit(d) != 0) return -1;
                publish_metrics(d, false);   /* the lag while quiet */
                continue;
            }
            if (d->dirty && commit(d) != 0) return -1;
            publish_metrics(d, false);
            if (idle_sleep(d, d->http ? prt_http_wait_us(d->http) : poll_us) != 0) return -1;
            continue;
        }
        d->ri.rec_base = d->batch;
        d->ri.rec_pos = pos;
        if (d->kafka) d->ri.rec_pos_fn = prt_kafka_rec_position, d->ri.rec_pos_src = d->kafka;
        d->nbatch = n;
        run_batch(d);
        d->ri.rec_pos = NULL;
        d->ri.rec_pos_fn = NULL;
        if (after_batch(d) != 0) return -1;
    }
    return 0;
}

static void run_loop(driver *d) {
    int64_t poll_us = d->p->source.poll_us > 0 ? d->p->source.poll_us : DEFAULT_POLL_US;
    bool ended = false;        /* the source ended (or --once drained it), not a stop */
    d->last_commit_us = prt_now_us();
    bool rows = d->pgsrc || d->cdc || d->kafka || d->http;   /* a database, kafka or http source, not files */
    if (rows && read_rows(d, &ended) != 0) {
        d->rc = 1;
        return;
    }
    while (!rows && !prt_signal_stop_requested()) {
        prt_next_status st = prt_source_next_file(&d->src);
        if (st == PRT_NEXT_ERROR) {
            d->rc = 1;
            return;
        }
        if (st == PRT_NEXT_END) {
            ended = true;
            break;
        }
        if (st == PRT_NEXT_IDLE) {
            if (d->once) {
                ended = true;
                break;
            }
            /* idle with a catch-up still on: the newest checkpoint was at the end of a file
             * (its rows beyond the older one's came from hooks, replayed by now) */
            if (d->catching ? end_catchup(d, d->cu_finished) != 0 : d->dirty && commit(d) != 0) {
                d->rc = 1;
                return;
            }
            publish_metrics(d, false);   /* the files waiting */
            if (idle_sleep(d, poll_us) != 0) {
                d->rc = 1;
                return;
            }
            continue;
        }
        d->ri.position_name = d->src.cur_name;
        prt_progress_file(d->src.fd, d->p->source.kind == PRT_SRC_FILE);   /* read_file reads it whole */
        int r = read_file(d);
        if (r == FILE_ERROR) {
            d->rc = 1;
            return;
        }
        if (r == FILE_STOP) break;
    }
    if (d->p->finish) {
        if (ended) {
            call_hook(d, d->p->finish);
        } else if (!((d->ckpt_dir || d->ndb > 0) && d->p->save_state)) {
            uint64_t n = call_hook(d, d->p->finish);
            prt_log_info("stopped without a checkpoint: the open windows were emitted now (%" PRIu64
                         " rows), as nothing could keep them for a restart", n);
        }
    }
    d->run_finished = ended && !rows;   /* a table keeps changing: a rerun resumes */
    if (d->catching && ended) {
        /* the source ended before the catch-up did: the newest checkpoint was at the end */
        if (end_catchup(d, d->cu_finished) != 0) {
            d->rc = 1;
            return;
        }
    } else if (d->catching) {
        /* stopped before the replay reached the newest checkpoint: commit nothing (the sinks
         * that are ahead must not get a checkpoint older than their rows); a restart replays */
        prt_log_info("stopped during the catch-up replay; nothing committed, the next start "
                     "replays it again");
    } else {
        if (commit(d) != 0) {
            d->rc = 1;
            return;
        }
    }
    for (int i = 0; i < d->p->nsinks; i++)
        if (prt_sink_finish(d->run.sinks[i]) != 0) d->rc = 1;
    prt_progress_end();
    if (prt_signal_stop_requested()) prt_log_info("stopped by signal; everything read is committed");
    summary(d);
}

/* The metrics endpoint, once everything is open; 0, or the exit code. */
static int start_metrics(driver *d) {
    if (!prt_metrics_start) {
        prt_log_error("metrics: this binary was built without the endpoint (its pipeline does not call prt_use_metrics)");
        return 1;
    }
    d->metric_names = calloc((size_t)d->p->nsinks + 1, sizeof *d->metric_names);
    d->metric_rows = calloc((size_t)d->p->nsinks + 1, sizeof *d->metric_rows);
    d->flush_hist = calloc((size_t)d->p->nsinks + 1, sizeof *d->flush_hist);
    if (!d->metric_names || !d->metric_rows || !d->flush_hist) abort();
    for (int i = 0; i < d->p->nsinks; i++) d->metric_names[i] = d->p->sinks[i].name;
    d->committed_us = prt_now_us();   /* nothing read yet: nothing waits for a commit */
    prt_metrics_conf conf = {d->metrics_listen, d->metrics_tls_cert, d->metrics_tls_key, d->metrics_user,
                             d->metrics_password, d->metrics_password_file};
    d->metrics = prt_metrics_start(&conf, d->p->name, d->every_us);
    if (d->metrics_password) explicit_bzero(d->metrics_password, strlen(d->metrics_password));   /* copied */
    if (!d->metrics) return 1;
    publish_metrics(d, true);
    prt_metrics_announce(d->metrics);
    return 0;
}

static void close_all(driver *d) {
    if (d->metrics) prt_metrics_stop(d->metrics);
    free(d->metric_names);
    free(d->metric_rows);
    free(d->flush_hist);
    free(d->window_stats);
    free(d->flush_took);
    free(d->metrics_listen);
    free(d->metrics_tls_cert);
    free(d->metrics_tls_key);
    free(d->metrics_user);
    free(d->metrics_password);
    free(d->metrics_password_file);
    if (d->src_open) prt_source_close(&d->src);
    if (d->pgsrc) prt_pgsrc_close(d->pgsrc);
    if (d->cdc) prt_cdc_close(d->cdc);
    if (d->kafka) prt_kafka_close(d->kafka);
    if (d->http) prt_http_close(d->http);
    free(d->http_url);
    for (int i = 0; d->http_headers && d->http_headers[i]; i++) {
        explicit_bzero(d->http_headers[i], strlen(d->http_headers[i]));   /* may hold a token */
        free(d->http_headers[i]);
    }
    free(d->http_headers);
    free(d->kafka_brokers);
    free(d->kafka_group);
    free_props(d->kafka_props);
    for (int i = 0; d->sink_brokers && i < d->p->nsinks; i++) free(d->sink_brokers[i]), free_props(d->sink_props[i]);
    free(d->sink_brokers);
    free(d->sink_props);
    free(d->dead_kafka_brokers);
    free(d->dead_kafka_topic);
    free_props(d->dead_kafka_props);
    for (int i = 0; d->kafka_topics && d->kafka_topics[i]; i++) free(d->kafka_topics[i]);
    free(d->kafka_topics);
    free(d->src_dsn);
    for (int i = 0; d->run.sinks && i < d->p->nsinks; i++) prt_sink_close(d->run.sinks[i]);
    free(d->run.sinks);
    prt_deadq_close(d->dead);
    prt_arena_free(&d->run.scratch);
    prt_ckpt_free(&d->ck);
    for (int i = 0; d->sink_paths && i < d->p->nsinks; i++) free(d->sink_paths[i]);
    free(d->sink_paths);
    free(d->src_path);
    free(d->src_archive);
    free(d->dead_path);
    free(d->dead_dsn);
    free(d->ckpt_dir);
    free(d->batch);
    free(d->hdr);
    free(d->ahead);
    free(d->ahead_rows);
    free(d->cu_path);
    prt_buf_free(&d->state);
}

int prt_main(const prt_pipeline *p, int argc, char **argv) {
    if (p->abi != PRT_ABI_VERSION) {
        fprintf(stderr, "%s: error: built for runtime ABI %d, but this runtime has ABI %d\n",
                p->name ? p->name : "pipeline", p->abi, PRT_ABI_VERSION);
        return 2;
    }
    driver d;
    memset(&d, 0, sizeof d);
    d.p = p;
    d.dead_host = -1;
    d.shared_sink = -1;
    int log_format = PRT_LOG_TEXT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *fmt = NULL;
        if (strcmp(a, "--once") == 0) {
            d.once = true;
        } else if (strcmp(a, "--help") == 0) {
            fputs(p->help ? p->help : "", stdout);
            if (p->help && *p->help && p->help[strlen(p->help) - 1] != '\n') fputc('\n', stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("%s (pipec %s)\n", p->name, PRT_VERSION);
            return 0;
        } else if (strcmp(a, "--log-format") == 0 && i + 1 < argc) {
            fmt = argv[++i];
        } else if (strncmp(a, "--log-format=", 13) == 0) {
            fmt = a + 13;
        } else {
            fprintf(stderr, "%s: error: unknown argument '%s'\n", p->name, a);
            usage(p);
            return 2;
        }
        if (fmt && strcmp(fmt, "text") == 0) log_format = PRT_LOG_TEXT;
        else if (fmt && strcmp(fmt, "json") == 0) log_format = PRT_LOG_JSON;
        else if (fmt) {
            fprintf(stderr, "%s: error: --log-format must be text or json, not '%s'\n", p->name, fmt);
            usage(p);
            return 2;
        }
    }
    prt_log_setup(p->name, log_format);
    prt_progress_begin(p->name, d.once || p->source.kind == PRT_SRC_FILE, log_format == PRT_LOG_JSON);
    d.every_us = p->checkpoint_every_us > 0 ? p->checkpoint_every_us : DEFAULT_COMMIT_US;
    d.window_stats = calloc((size_t)p->nwindows + 1, sizeof *d.window_stats);   /* metrics and limits */
    if (!d.window_stats) abort();
    for (int i = 0; i < p->nsinks; i++) {   /* postgres batch settings commit earlier */
        const prt_sink_desc *sd = &p->sinks[i];
        if (sd->kind == PRT_SINK_PARQUET && sd->roll_every_us > 0 && sd->roll_every_us < d.every_us)
            d.every_us = sd->roll_every_us;   /* every commit closes the parquet files */
        if (sd->kind != PRT_SINK_POSTGRES) continue;
        uint64_t rows = sd->batch_rows ? sd->batch_rows : DEFAULT_BATCH_ROWS;
        if (!d.batch_rows || rows < d.batch_rows) d.batch_rows = rows;
        if (sd->batch_every_us > 0 && sd->batch_every_us < d.every_us) d.every_us = sd->batch_every_us;
    }
    int rc = expand_all(&d);
    if (rc == 0 && prt_signal_setup() != 0) rc = 1;
    if (rc == 0) rc = open_all(&d);
    if (rc == 0 && d.metrics_listen) rc = start_metrics(&d);
    if (rc == 0) {
        run_loop(&d);
        rc = d.rc;
    }
    close_all(&d);
    prt_signal_teardown();
    prt_log_teardown();
    return rc;
}
