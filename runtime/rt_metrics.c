/* rt_metrics.c - the metrics and health endpoint of a pipeline binary (spec key `metrics`), on
 * libmicrohttpd: GET /metrics in Prometheus' text format, /health (the process is alive) and
 * /ready (the run is open and has committed within three commit intervals); over HTTPS with
 * `tls` (GnuTLS inside libmicrohttpd), and with `basic_auth` /metrics and /ready need the user
 * and password (401 otherwise; /health stays open for container health checks). Credentials are
 * compared in constant time through their SHA-256 digests; the stored password may be a hash
 * (sha256:HEX, or bcrypt through crypt_r). No secret is ever logged.
 *
 * The server answers from its own thread. The driver hands it the run's counters now and then
 * (prt_metrics_publish, at most ten times a second); they are formatted at once, under a lock, so
 * a scrape reads a consistent set: in = out + dead + dropped holds in every answer. The
 * process's CPU, memory and open files are read at the scrape. Linked into a binary only by
 * prt_use_metrics() (weak references otherwise, as for PostgreSQL).
 *
 * Besides the counters: latency histograms of batches, commits and each sink's part of a commit
 * (kept by the driver), the source's lag, and per window its open entries, late records and
 * watermark (the delay to the clock is computed at the scrape). */
#include "rt_internal.h"
#include <arpa/inet.h>
#include <crypt.h>
#include <gnutls/crypto.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define PUBLISH_US 100000

typedef enum { PW_PLAIN, PW_SHA256, PW_BCRYPT } pw_kind;

struct prt_metrics {
    struct MHD_Daemon *daemon;
    char *tls_cert, *tls_key;  /* PEM text, or NULL */
    bool auth;
    uint8_t user_digest[32];
    pw_kind pw;
    uint8_t pw_digest[32];     /* PW_PLAIN: SHA-256 of the password; PW_SHA256: the given digest */
    char *pw_hash;             /* PW_BCRYPT: the hash */
    char *pipeline;
    pthread_mutex_t lock;
    prt_buf counters;          /* the counters' lines, as last published */
    int64_t last_commit_us;    /* wall clock of the last commit (or the start) */
    bool pending;              /* records wait for a commit: the checkpoint ages */
    int64_t ready_age_us;      /* /ready: a commit at most this old */
    bool open;
    bool locked;               /* the lock was initialised */
    int64_t published_us;
    int nwindows;              /* their watermarks, for the delay at a scrape */
    const char *const *window_names;
    int64_t *watermarks;
    char shown[300];           /* the address served, with the port bound */
};

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void put_label(prt_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') prt_buf_putc(b, '\\');
        if (*s == '\n') {
            prt_buf_lit(b, "\\n");
            continue;
        }
        prt_buf_putc(b, *s);
    }
}

static void put_head(prt_buf *b, const char *name, const char *type, const char *help) {
    prt_buf_lit(b, "# HELP ");
    prt_buf_put(b, name, strlen(name));
    prt_buf_putc(b, ' ');
    prt_buf_put(b, help, strlen(help));
    prt_buf_lit(b, "\n# TYPE ");
    prt_buf_put(b, name, strlen(name));
    prt_buf_putc(b, ' ');
    prt_buf_put(b, type, strlen(type));
    prt_buf_putc(b, '\n');
}

/* name{pipeline="..."[,key="value"][,le="bound"]} value */
static void put_sample_le(prt_buf *b, const prt_metrics *m, const char *name, const char *key, const char *value,
                          const char *le, const char *number) {
    prt_buf_put(b, name, strlen(name));
    prt_buf_lit(b, "{pipeline=\"");
    put_label(b, m->pipeline);
    if (key) {
        prt_buf_lit(b, "\",");
        prt_buf_put(b, key, strlen(key));
        prt_buf_lit(b, "=\"");
        put_label(b, value);
    }
    if (le) {
        prt_buf_lit(b, "\",le=\"");
        prt_buf_put(b, le, strlen(le));
    }
    prt_buf_lit(b, "\"} ");
    prt_buf_put(b, number, strlen(number));
    prt_buf_putc(b, '\n');
}

static void put_sample(prt_buf *b, const prt_metrics *m, const char *name, const char *key, const char *value,
                       const char *number) {
    put_sample_le(b, m, name, key, value, NULL, number);
}

static void put_u64(prt_buf *b, const prt_metrics *m, const char *name, const char *key, const char *value, uint64_t v) {
    char t[32];
    snprintf(t, sizeof t, "%" PRIu64, v);
    put_sample(b, m, name, key, value, t);
}

static void put_i64(prt_buf *b, const prt_metrics *m, const char *name, const char *key, const char *value, int64_t v) {
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    put_sample(b, m, name, key, value, t);
}

static void put_f64(prt_buf *b, const prt_metrics *m, const char *name, const char *key, const char *value, double v) {
    char t[40];
    snprintf(t, sizeof t, "%.6f", v);
    put_sample(b, m, name, key, value, t);
}

/* NAME_bucket (cumulative, le="+Inf" last), NAME_sum in seconds and NAME_count of one histogram. */
static void put_hist(prt_buf *b, const prt_metrics *m, const char *name, const char *key, const char *value,
                     const prt_hist *h) {
    char series[128], le[32], t[32];
    uint64_t cum = 0;
    snprintf(series, sizeof series, "%s_bucket", name);
    for (int i = 0; i < PRT_HIST_BUCKETS; i++) {
        cum += h->counts[i];
        if (i < PRT_HIST_BUCKETS - 1) snprintf(le, sizeof le, "%g", (double)prt_hist_bound_us(i) / 1e6);
        else snprintf(le, sizeof le, "+Inf");
        snprintf(t, sizeof t, "%" PRIu64, cum);
        put_sample_le(b, m, series, key, value, le, t);
    }
    snprintf(series, sizeof series, "%s_sum", name);
    snprintf(t, sizeof t, "%.6f", (double)h->sum_us / 1e6);
    put_sample(b, m, series, key, value, t);
    snprintf(series, sizeof series, "%s_count", name);
    put_u64(b, m, series, key, value, h->n);
}

void prt_metrics_publish(prt_metrics *m, const prt_metrics_snapshot *s, bool force) {
    if (!m) return;
    int64_t now = prt_now_us();
    if (!force && now - m->published_us < PUBLISH_US) return;
    m->published_us = now;
    pthread_mutex_lock(&m->lock);
    prt_buf *b = &m->counters;
    b->len = 0;
    put_head(b, "pipec_records_in_total", "counter", "Records read from the source.");
    put_u64(b, m, "pipec_records_in_total", NULL, NULL, s->in);
    put_head(b, "pipec_records_out_total", "counter", "Records that passed the rules and the filter.");
    put_u64(b, m, "pipec_records_out_total", NULL, NULL, s->out);
    put_head(b, "pipec_records_dead_total", "counter", "Records sent to the dead letter (in = out + dead + dropped).");
    put_u64(b, m, "pipec_records_dead_total", NULL, NULL, s->dead);
    put_head(b, "pipec_records_dropped_total", "counter", "Records dropped by the filter.");
    put_u64(b, m, "pipec_records_dropped_total", NULL, NULL, s->dropped);
    put_head(b, "pipec_sink_rows_total", "counter", "Rows handed to each sink (records or window rows).");
    for (int i = 0; i < s->nsinks; i++) put_u64(b, m, "pipec_sink_rows_total", "sink", s->sink_names[i], s->sink_rows[i]);
    put_head(b, "pipec_dead_letters_total", "counter", "Dead letters by reason (also window rows a sink refused).");
    for (int i = 0; i < s->nreasons; i++)
        put_u64(b, m, "pipec_dead_letters_total", "reason", s->reasons[i], s->reason_counts[i]);
    put_head(b, "pipec_source_errors_total", "counter", "Failed requests of the source (http: no connection, timeouts, non-2xx answers).");
    put_u64(b, m, "pipec_source_errors_total", NULL, NULL, s->source_errors);
    put_head(b, "pipec_batch_seconds", "histogram", "Time to decode, check and route one batch of records (windows included).");
    put_hist(b, m, "pipec_batch_seconds", NULL, NULL, s->batch);
    put_head(b, "pipec_commit_seconds", "histogram", "Time of one commit: every sink made durable, then the checkpoint.");
    put_hist(b, m, "pipec_commit_seconds", NULL, NULL, s->commit);
    put_head(b, "pipec_sink_flush_seconds", "histogram", "Time each sink takes to make its rows durable at a commit.");
    for (int i = 0; i < s->nsinks; i++) put_hist(b, m, "pipec_sink_flush_seconds", "sink", s->sink_names[i], &s->sink_flush[i]);
    if (s->lag_kind) {
        put_head(b, "pipec_source_lag", "gauge",
                 "How far the source is behind: kafka messages behind the high watermarks, folder files waiting, postgres_cdc WAL bytes.");
        put_i64(b, m, "pipec_source_lag", "kind", s->lag_kind, s->lag);
    }
    if (s->nwindows) {
        put_head(b, "pipec_open_windows", "gauge",
                 "Entries of a window's state: open (window, group) pairs when tumbling, groups when hopping or session.");
        for (int i = 0; i < s->nwindows; i++) put_u64(b, m, "pipec_open_windows", "window", s->window_names[i], s->windows[i].open);
        put_head(b, "pipec_late_records_total", "counter", "Records late for a window (to the dead letter, or dropped with late: drop).");
        for (int i = 0; i < s->nwindows; i++)
            put_u64(b, m, "pipec_late_records_total", "window", s->window_names[i], s->windows[i].late);
        if (!m->watermarks) {
            m->watermarks = calloc((size_t)s->nwindows + 1, sizeof *m->watermarks);
            if (!m->watermarks) abort();
        }
        m->nwindows = s->nwindows;
        m->window_names = s->window_names;
        for (int i = 0; i < s->nwindows; i++) m->watermarks[i] = s->windows[i].watermark_us;
    }
    m->last_commit_us = s->last_commit_us;
    m->pending = s->pending;
    m->open = true;
    pthread_mutex_unlock(&m->lock);
}

/* What the process uses now: CPU seconds, resident bytes, open descriptors. */
static void put_process(prt_buf *b, const prt_metrics *m) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    put_head(b, "pipec_process_cpu_seconds_total", "counter", "User and system CPU time of the process.");
    put_f64(b, m, "pipec_process_cpu_seconds_total", NULL, NULL, (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                                                         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6);
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%*s %ld", &pages) != 1) pages = 0;
        fclose(f);
    }
    put_head(b, "pipec_process_resident_memory_bytes", "gauge", "Resident memory of the process.");
    put_u64(b, m, "pipec_process_resident_memory_bytes", NULL, NULL, (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE));
    uint64_t fds = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        for (struct dirent *e; (e = readdir(dir));) fds += e->d_name[0] != '.';
        closedir(dir);
        fds--;   /* the directory's own */
    }
    put_head(b, "pipec_process_open_fds", "gauge", "Open file descriptors of the process.");
    put_u64(b, m, "pipec_process_open_fds", NULL, NULL, fds);
}

/* Per window with a record yet: how far its watermark is behind the clock now. Under the lock. */
static void put_watermark_delays(prt_buf *b, const prt_metrics *m) {
    bool head = false;
    int64_t now = prt_now_us();
    for (int i = 0; i < m->nwindows; i++) {
        if (m->watermarks[i] == INT64_MIN) continue;
        if (!head) put_head(b, "pipec_watermark_delay_seconds", "gauge", "Wall clock minus a window's watermark (event time).");
        head = true;
        put_f64(b, m, "pipec_watermark_delay_seconds", "window", m->window_names[i], (double)(now - m->watermarks[i]) / 1e6);
    }
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body, size_t n) {
    struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void sha256(const void *p, size_t n, uint8_t out[32]) {
    gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out);
}

/* Equal without a time that depends on where they differ. */
static bool same_digest(const uint8_t a[32], const uint8_t b[32]) {
    volatile uint8_t d = 0;
    for (int i = 0; i < 32; i++) d |= a[i] ^ b[i];
    return d == 0;
}

/* The request's basic-auth credentials are the configured ones. */
static bool authorized(const prt_metrics *m, struct MHD_Connection *c) {
    char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
    bool ok = false;
    if (user && pass) {
        uint8_t du[32], dp[32];
        sha256(user, strlen(user), du);
        bool user_ok = same_digest(du, m->user_digest), pass_ok;
        if (m->pw == PW_BCRYPT) {
            struct crypt_data cd;
            memset(&cd, 0, sizeof cd);
            const char *h = crypt_r(pass, m->pw_hash, &cd);
            uint8_t want[32];
            sha256(m->pw_hash, strlen(m->pw_hash), want);
            if (h) sha256(h, strlen(h), dp);
            pass_ok = h && same_digest(dp, want);
            explicit_bzero(&cd, sizeof cd);
        } else {
            sha256(pass, strlen(pass), dp);
            pass_ok = same_digest(dp, m->pw_digest);
        }
        ok = user_ok && pass_ok;
    }
    if (pass) {
        explicit_bzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user) MHD_free(user);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
    (void)version, (void)upload, (void)upload_size, (void)state;
    prt_metrics *m = cls;
    static const char text[] = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return reply(c, 405, text, "GET only\n", 9);
    if (strcmp(url, "/health") == 0) return reply(c, 200, text, "ok\n", 3);
    if (m->auth && !authorized(m, c)) {
        struct MHD_Response *r = MHD_create_response_from_buffer(13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "pipec", r);
        MHD_destroy_response(r);
        return ret;
    }
    pthread_mutex_lock(&m->lock);
    int64_t age = m->pending ? prt_now_us() - m->last_commit_us : 0;   /* all committed: fresh */
    bool open = m->open;
    prt_buf b = {0};
    if (strcmp(url, "/metrics") == 0) {
        prt_buf_put(&b, m->counters.data, m->counters.len);
        put_watermark_delays(&b, m);
    }
    pthread_mutex_unlock(&m->lock);
    enum MHD_Result ret;
    if (strcmp(url, "/metrics") == 0) {
        put_head(&b, "pipec_up", "gauge", "1 while the pipeline runs.");
        put_u64(&b, m, "pipec_up", NULL, NULL, 1);
        put_head(&b, "pipec_checkpoint_age_seconds", "gauge", "Seconds since the last commit while records wait for the next (0: all committed).");
        put_f64(&b, m, "pipec_checkpoint_age_seconds", NULL, NULL, (double)age / 1e6);
        put_process(&b, m);
        ret = reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    } else if (strcmp(url, "/ready") == 0) {
        bool ready = open && age <= m->ready_age_us;
        ret = ready ? reply(c, 200, text, "ready\n", 6) : reply(c, 503, text, "not ready\n", 10);
    } else {
        ret = reply(c, 404, text, "not found: /metrics, /health and /ready are\n", 44);
    }
    prt_buf_free(&b);
    return ret;
}

/* "host:port" or "[v6]:port" into an address; false with a message. */
static bool parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, const char **why) {
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1]) {
        *why = "expected HOST:PORT";
        return false;
    }
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') listen++, hl -= 2;
    if (hl >= sizeof host) {
        *why = "host name too long";
        return false;
    }
    memcpy(host, listen, hl);
    host[hl] = 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int e = getaddrinfo(host, colon + 1, &hints, &res);
    if (e != 0) {
        *why = gai_strerror(e);
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* A whole file as a string (what: for the message); NULL after logging. */
static char *read_text(const char *path, const char *what) {
    FILE *f = fopen(path, "rb");
    prt_buf b = {0};
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) prt_buf_put(&b, chunk, n);
        bool bad = ferror(f);
        fclose(f);
        if (!bad) {
            prt_buf_putc(&b, 0);
            return b.data;
        }
    }
    prt_log_error("metrics: cannot read %s %s: %s", what, path, strerror(errno));
    prt_buf_free(&b);
    return NULL;
}

/* The password as configured (or its hash): its kind and what requests are compared with. */
static bool set_password(prt_metrics *m, char *pw) {
    size_t n = strlen(pw);
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) pw[--n] = 0;   /* a file's last line end */
    if (n == 0) {
        prt_log_error("metrics: the basic_auth password is empty");
        return false;
    }
    if (strncmp(pw, "sha256:", 7) == 0) {
        if (n != 7 + 64) goto bad_hash;
        for (int i = 0; i < 32; i++) {
            unsigned v;
            if (sscanf(pw + 7 + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)pw[8 + 2 * i])) goto bad_hash;
            m->pw_digest[i] = (uint8_t)v;
        }
        m->pw = PW_SHA256;
    } else if (pw[0] == '$' && pw[1] == '2' && (pw[2] == 'a' || pw[2] == 'b' || pw[2] == 'y') && pw[3] == '$') {
        m->pw = PW_BCRYPT;
        m->pw_hash = strdup(pw);
        if (!m->pw_hash) abort();
    } else {
        m->pw = PW_PLAIN;
        sha256(pw, n, m->pw_digest);
    }
    return true;
bad_hash:
    prt_log_error("metrics: a sha256: password hash is 64 hexadecimal digits");
    return false;
}

static bool configure(prt_metrics *m, const prt_metrics_conf *conf) {
    if (conf->tls_cert) {
        m->tls_cert = read_text(conf->tls_cert, "the TLS certificate");
        m->tls_key = m->tls_cert ? read_text(conf->tls_key, "the TLS key") : NULL;
        if (!m->tls_key) return false;
    }
    if (!conf->user) return true;
    m->auth = true;
    sha256(conf->user, strlen(conf->user), m->user_digest);
    char *pw = conf->password_file ? read_text(conf->password_file, "the password file") : strdup(conf->password);
    if (!pw) return false;
    bool ok = set_password(m, pw);
    explicit_bzero(pw, strlen(pw));
    free(pw);
    return ok;
}

prt_metrics *prt_metrics_start(const prt_metrics_conf *conf, const char *pipeline, int64_t commit_every_us) {
    struct sockaddr_storage ss;
    socklen_t len;
    const char *why = NULL, *listen = conf->listen;
    if (!parse_listen(listen, &ss, &len, &why)) {
        prt_log_error("metrics: cannot listen on '%s': %s", listen, why);
        return NULL;
    }
    prt_metrics *m = calloc(1, sizeof *m);
    if (!m) abort();
    if (!configure(m, conf)) {
        prt_metrics_stop(m);
        return NULL;
    }
    m->pipeline = strdup(pipeline);
    if (!m->pipeline) abort();
    m->ready_age_us = 3 * commit_every_us + 1000000;
    pthread_mutex_init(&m->lock, NULL);
    m->locked = true;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                     (m->tls_cert ? MHD_USE_TLS : 0);
    m->daemon = m->tls_cert
                    ? MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                       MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_HTTPS_MEM_CERT, m->tls_cert,
                                       MHD_OPTION_HTTPS_MEM_KEY, m->tls_key, MHD_OPTION_END)
                    : MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                       MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!m->daemon) {
        prt_log_error("metrics: cannot listen on '%s' (the address is in use or not this machine's%s)", listen,
                      m->tls_cert ? ", or the TLS certificate and key do not load" : "");
        prt_metrics_stop(m);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(m->shown, sizeof m->shown, "%.*s:%u", (int)(strrchr(listen, ':') - listen), listen, info ? info->port : 0);
    return m;
}

void prt_metrics_announce(const prt_metrics *m) {
    prt_log_info("metrics: listening on %s://%s (/metrics, /health, /ready)%s", m->tls_cert ? "https" : "http", m->shown,
                 m->auth ? ", basic auth" : "");
}

void prt_metrics_stop(prt_metrics *m) {
    if (!m) return;
    if (m->daemon) MHD_stop_daemon(m->daemon);
    if (m->locked) pthread_mutex_destroy(&m->lock);
    if (m->tls_key) explicit_bzero(m->tls_key, strlen(m->tls_key));
    free(m->tls_cert);
    free(m->tls_key);
    free(m->pw_hash);
    prt_buf_free(&m->counters);
    free(m->watermarks);
    free(m->pipeline);
    free(m);
}

/* Pulls this module (and libmicrohttpd) into a binary whose pipeline has a metrics endpoint. */
void prt_use_metrics(void) {}
