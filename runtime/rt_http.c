/* rt_http.c - the http source: an HTTP(S) API polled with GET (libcurl) every `every`, measured
 * from the start of each poll so the interval holds whatever the answer's latency. An answer's
 * body is JSON: one object is one record, an array is one record per element (handed out in
 * batches of at most `max`). Its dead-letter position is "URL#poll=N" or "URL#poll=N[I]" (URL
 * without user, password, query and fragment, which may carry secrets; N counts polls from 1 in
 * this run, I is the 0-based element); a body that is not JSON, an element that is not an
 * object and a body longer than max_record go to the dead letter from here, elements that are
 * objects are checked by the generated decoders like any record.
 *
 * A failed request (no connection, a timeout, a status other than 2xx) is no record: it is
 * counted (prt_http_errors), logged at most every ERROR_LOG_US, and retried after a backoff of
 * 0.1 s doubling up to `every` (at most BACKOFF_MAX_US). The transfer runs in a curl multi
 * handle that also waits on the stop self-pipe, so SIGTERM ends a slow request at once.
 * Requests: User-Agent pipec/VERSION, Accept: application/json (both unless the spec's headers
 * set them), every encoding libcurl decodes (gzip, deflate, ...), up to 10 redirects, http and https
 * only. Linked by prt_use_http() (weak references otherwise, as for PostgreSQL). */
#include "rt_internal.h"
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define BACKOFF_FIRST_US 100000
#define BACKOFF_MAX_US 60000000
#define ERROR_LOG_US 10000000   /* one log line per failure streak and then at most this often */
#define DEFAULT_TIMEOUT_US 10000000
#define DEFAULT_MAX_BODY (16u << 20)
enum { DEPTH_MAX = 2048 };

typedef struct { size_t off, len; int index; } span;   /* index: in the array, or -1 */

struct prt_http {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char *label;               /* the URL for logs and positions (nothing secret) */
    char errbuf[CURL_ERROR_SIZE];
    bool once;
    size_t max_body;
    int64_t every_us;
    int64_t due_us;            /* monotonic time of the next request */
    uint64_t polls;            /* requests started (the N of positions) */
    uint64_t errors;           /* failed requests */
    int failures;              /* failed in a row */
    int64_t logged_us;         /* when the last failure was logged */
    uint64_t unlogged;         /* failures since then */
    prt_buf body;
    bool too_long;
    /* the answer being handed out: its records (object spans in body), from next on */
    span *recs;
    int nrecs, caprecs, next;
    bool pending;              /* an answer was handed out: report "caught up" once before polling */
    prt_buf posbuf;            /* this batch's positions, NUL-separated */
    size_t *posoff;
    const char **pos;
    int cappos;
};

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
    prt_http *h = ctx;
    size_t len = size * n;
    if (h->body.len + len > h->max_body) {   /* keep the first KiB for the dead letter */
        if (h->body.len < PRT_READER_KEEP) prt_buf_put(&h->body, p, PRT_READER_KEEP - h->body.len < len ? PRT_READER_KEEP - h->body.len : len);
        h->too_long = true;
        return 0;   /* ends the transfer with CURLE_WRITE_ERROR */
    }
    prt_buf_put(&h->body, p, len);
    return len;
}

/* The URL without user, password, query and fragment; NULL when it is not an http(s) URL. */
static char *url_label(const char *url, const char **why) {
    CURLU *u = curl_url();
    char *scheme = NULL, *out = NULL, *copy = NULL;
    if (!u) abort();
    *why = "it is not a URL";
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) goto done;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto done;
    *why = "only http:// and https:// URLs can be polled";
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) goto done;
    curl_url_set(u, CURLUPART_USER, NULL, 0);
    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set(u, CURLUPART_QUERY, NULL, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        copy = strdup(out);
        if (!copy) abort();
    }
done:
    curl_free(scheme);
    curl_free(out);
    curl_url_cleanup(u);
    return copy;
}

static bool has_header(char *const *headers, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; headers && headers[i]; i += 2)
        if (strlen(headers[i]) == n && strncasecmp(headers[i], name, n) == 0) return true;
    return false;
}

prt_http *prt_http_open(const prt_source_desc *d, const char *url, char *const *headers, int64_t every_us, bool once,
                        int *exit_code) {
    *exit_code = 1;
    const char *why;
    char *label = url_label(url, &why);
    if (!label) {
        prt_log_error("source: http: the url (source.url) cannot be polled: %s", why);
        *exit_code = 2;
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        prt_log_error("source: http: libcurl cannot be initialized");
        free(label);
        return NULL;
    }
    prt_http *h = calloc(1, sizeof *h);
    if (!h) abort();
    h->label = label;
    h->once = once;
    h->max_body = d->max_record ? d->max_record : DEFAULT_MAX_BODY;
    h->every_us = every_us > 0 ? every_us : 1000000;
    h->due_us = mono_us();
    h->multi = curl_multi_init();
    h->easy = curl_easy_init();
    if (!h->multi || !h->easy) abort();
    /* the spec's headers, then our defaults where it has none of that name */
    for (int i = 0; headers && headers[i]; i += 2) {
        prt_buf line = {0};
        prt_buf_put(&line, headers[i], strlen(headers[i]));
        if (headers[i + 1][0]) {
            prt_buf_lit(&line, ": ");
            prt_buf_put(&line, headers[i + 1], strlen(headers[i + 1]));
        } else {
            prt_buf_putc(&line, ';');   /* curl's way of sending a header with an empty value */
        }
        prt_buf_putc(&line, 0);
        h->headers = curl_slist_append(h->headers, line.data);
        if (line.data) explicit_bzero(line.data, line.len);   /* may be a token */
        prt_buf_free(&line);
        if (!h->headers) abort();
    }
    if (!has_header(headers, "Accept")) h->headers = curl_slist_append(h->headers, "Accept: application/json");
    CURL *e = h->easy;
    int64_t timeout_us = d->http_timeout_us > 0 ? d->http_timeout_us : DEFAULT_TIMEOUT_US;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "pipec/" PRT_VERSION);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");   /* every encoding this libcurl decodes */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_us / 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_us / 1000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    prt_log_info("source: polling %s every %.3g s", h->label, (double)h->every_us / 1e6);
    *exit_code = 0;
    return h;
}

/* Runs the request; 1 done (*res, *status), 0 abandoned for a stop. */
static int transfer(prt_http *h, CURLcode *res, long *status) {
    h->body.len = 0;
    h->too_long = false;
    h->errbuf[0] = 0;
    curl_multi_add_handle(h->multi, h->easy);
    int running = 1, done = 0;
    while (!prt_signal_stop_requested()) {
        if (curl_multi_perform(h->multi, &running) != CURLM_OK) break;
        if (!running) break;
        struct curl_waitfd wfd = {prt_signal_fd(), CURL_WAIT_POLLIN, 0};
        curl_multi_poll(h->multi, &wfd, wfd.fd >= 0 ? 1 : 0, 1000, NULL);
    }
    *res = CURLE_RECV_ERROR;
    int left;
    for (CURLMsg *m; (m = curl_multi_info_read(h->multi, &left));)
        if (m->msg == CURLMSG_DONE && m->easy_handle == h->easy) *res = m->data.result, done = 1;
    if (!done && !prt_signal_stop_requested()) done = 1;   /* the multi handle failed: a failed request */
    *status = 0;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, status);
    curl_multi_remove_handle(h->multi, h->easy);
    return done;
}

static void failed(prt_http *h, const char *what) {
    h->errors++;
    h->failures++;
    int64_t delay = BACKOFF_FIRST_US;
    for (int i = 1; i < h->failures && delay < BACKOFF_MAX_US; i++) delay *= 2;
    if (delay > h->every_us) delay = h->every_us;
    if (delay > BACKOFF_MAX_US) delay = BACKOFF_MAX_US;
    int64_t now = mono_us();
    h->due_us = now + delay;
    if (h->failures == 1 || now - h->logged_us >= ERROR_LOG_US) {
        if (h->unlogged)
            prt_log_warn("source: http GET %s: %s (%d failed in a row, retrying in %.3g s; %" PRIu64 " more since the last message)",
                         h->label, what, h->failures, (double)delay / 1e6, h->unlogged);
        else
            prt_log_warn("source: http GET %s: %s (retrying in %.3g s)", h->label, what, (double)delay / 1e6);
        h->logged_us = now;
        h->unlogged = 0;
    } else {
        h->unlogged++;
    }
}

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *skip_string(const char *p, const char *e) {
    for (p++; p < e; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* The end of the JSON value at p, by its structure only (brackets matched, strings skipped); the
 * decoders validate the inside of objects. NULL when it does not end properly. */
static const char *skip_value(const char *p, const char *e) {
    if (p >= e) return NULL;
    if (*p == '"') return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        unsigned char stack[DEPTH_MAX / 8] = {0};   /* bit set: inside an object */
        int depth = 0;
        while (p < e) {
            char c = *p;
            if (c == '"') {
                if (!(p = skip_string(p, e))) return NULL;
                continue;
            }
            if (c == '{' || c == '[') {
                if (depth == DEPTH_MAX) return NULL;
                if (c == '{') stack[depth / 8] |= (unsigned char)(1u << depth % 8);
                else stack[depth / 8] &= (unsigned char)~(1u << depth % 8);
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0 || (c == '}') != ((stack[(depth - 1) / 8] >> (depth - 1) % 8) & 1)) return NULL;
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *b = p;
    while (p < e && !strchr(",]} \t\r\n", *p)) p++;
    return p > b ? p : NULL;
}

/* What an array element that is not an object is, for its dead letter; NULL: not JSON. */
static const char *kind_of(const char *v, size_t n) {
    if (*v == '"') return "a string";
    if (*v == '[') return "an array";
    if ((n == 4 && memcmp(v, "true", 4) == 0) || (n == 5 && memcmp(v, "false", 5) == 0)) return "a boolean";
    if (n == 4 && memcmp(v, "null", 4) == 0) return "null";
    return *v == '-' || (*v >= '0' && *v <= '9') ? "a number" : NULL;
}

static void position(prt_http *h, prt_buf *b, int index) {
    char t[48];
    prt_buf_put(b, h->label, strlen(h->label));
    int n = index < 0 ? snprintf(t, sizeof t, "#poll=%" PRIu64, h->polls) : snprintf(t, sizeof t, "#poll=%" PRIu64 "[%d]", h->polls, index);
    prt_buf_put(b, t, (size_t)n);
    prt_buf_putc(b, 0);
}

static void reject(prt_http *h, prt_deadq *dead, int index, const char *raw, size_t n, const char *detail, uint64_t *rejected) {
    prt_buf pos = {0};
    position(h, &pos, index);
    prt_deadq_put(dead, pos.data, 0, raw, n, "parse", detail, strlen(detail));
    prt_buf_free(&pos);
    (*rejected)++;
}

static void add_rec(prt_http *h, const char *b, const char *p, const char *q, int index) {
    if (h->nrecs == h->caprecs) {
        h->caprecs = h->caprecs ? 2 * h->caprecs : 64;
        h->recs = realloc(h->recs, sizeof *h->recs * (size_t)h->caprecs);
        if (!h->recs) abort();
    }
    h->recs[h->nrecs++] = (span){(size_t)(p - b), (size_t)(q - p), index};
}

/* Splits a 2xx answer's body into records; what is not a record goes to the dead letter. */
static void take_body(prt_http *h, prt_deadq *dead, uint64_t *rejected) {
    const char *b = h->body.data ? h->body.data : "", *e = b + h->body.len, *p = b;
    char detail[160];
    h->nrecs = h->next = 0;
    if (e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    p = skip_ws(p, e);
    if (p == e) return;   /* an empty answer (204, or nothing new): no record */
    if (*p == '{') {
        const char *q = skip_value(p, e);
        if (q && skip_ws(q, e) == e) {
            add_rec(h, b, p, q, -1);
            return;
        }
        snprintf(detail, sizeof detail, q ? "the answer is not valid JSON: text after the object at byte %zu" : "the answer is not valid JSON: the object does not end", (size_t)((q ? skip_ws(q, e) : e) - b));
        reject(h, dead, -1, b, h->body.len, detail, rejected);
        return;
    }
    if (*p != '[') {
        snprintf(detail, sizeof detail, "the answer is not a JSON object or array (it starts with '%c')", *p);
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) snprintf(detail, sizeof detail, "the answer is not a JSON object or array");
        reject(h, dead, -1, b, h->body.len, detail, rejected);
        return;
    }
    /* an array: first its structure, so a broken answer goes to the dead letter whole */
    p = skip_ws(p + 1, e);
    const char *bad = NULL;
    if (p < e && *p == ']') {
        p++;
    } else {
        for (;;) {
            const char *q = skip_value(p, e);
            if (!q) {
                bad = p;
                break;
            }
            add_rec(h, b, p, q, h->nrecs);
            p = skip_ws(q, e);
            if (p < e && *p == ',') {
                p = skip_ws(p + 1, e);
                continue;
            }
            if (p < e && *p == ']') {
                p++;
                break;
            }
            bad = p;
            break;
        }
    }
    if (!bad && skip_ws(p, e) != e) bad = skip_ws(p, e);
    if (bad) {
        h->nrecs = 0;
        snprintf(detail, sizeof detail, "the answer is not valid JSON: a malformed array at byte %zu", (size_t)(bad - b));
        reject(h, dead, -1, b, h->body.len, detail, rejected);
        return;
    }
    /* elements that are not objects: dead letters now; the objects stay records */
    int k = 0;
    for (int i = 0; i < h->nrecs; i++) {
        const char *v = b + h->recs[i].off;
        if (*v == '{') {
            h->recs[k++] = h->recs[i];
            continue;
        }
        const char *kind = kind_of(v, h->recs[i].len);
        if (kind) snprintf(detail, sizeof detail, "array element %d is %s, not an object", i, kind);
        else snprintf(detail, sizeof detail, "array element %d is not JSON", i);
        reject(h, dead, i, v, h->recs[i].len, detail, rejected);
    }
    h->nrecs = k;
}

int prt_http_next(prt_http *h, prt_rec *recs, int max, const char *const **positions, prt_deadq *dead, uint64_t *rejected) {
    *rejected = 0;
    *positions = NULL;
    if (h->next >= h->nrecs) {
        if (h->pending) {   /* the last answer is handed out: let the driver commit it first */
            h->pending = false;
            return 0;
        }
        if (h->once && h->polls > 0) return 0;
        int64_t start = mono_us();
        if (start < h->due_us || prt_signal_stop_requested()) return 0;
        h->polls++;
        CURLcode res;
        long status;
        if (!transfer(h, &res, &status)) return 0;   /* a stop */
        char what[CURL_ERROR_SIZE + 64];
        if (status && (status < 200 || status > 299)) {   /* also when its (error) body was too long */
            snprintf(what, sizeof what, "the server answered HTTP %ld", status);
        } else if (res == CURLE_WRITE_ERROR && h->too_long) {
            char detail[128];
            snprintf(detail, sizeof detail, "answer of more than %zu bytes is longer than max_record (the first %d bytes are kept)",
                     h->max_body, PRT_READER_KEEP);
            reject(h, dead, -1, h->body.data ? h->body.data : "", h->body.len, detail, rejected);
            what[0] = 0;
        } else if (res != CURLE_OK) {
            snprintf(what, sizeof what, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(res));
        } else {
            what[0] = 0;
            take_body(h, dead, rejected);
        }
        if (what[0]) {
            if (h->once) {
                prt_log_error("source: http GET %s: %s", h->label, what);
                h->errors++;
                return -1;
            }
            failed(h, what);
            return 0;
        }
        if (h->failures)
            prt_log_info("source: http GET %s answers again after %d failed request%s", h->label, h->failures, h->failures == 1 ? "" : "s");
        h->failures = 0;
        h->unlogged = 0;
        h->due_us = start + h->every_us;
        if (h->nrecs == 0) return 0;
        h->pending = true;
    }
    if (h->cappos < max) {
        h->cappos = max;
        h->posoff = realloc(h->posoff, sizeof *h->posoff * (size_t)max);
        h->pos = realloc(h->pos, sizeof *h->pos * (size_t)max);
        if (!h->posoff || !h->pos) abort();
    }
    h->posbuf.len = 0;
    int n = 0;
    for (; n < max && h->next < h->nrecs; n++) {
        const span *s = &h->recs[h->next++];
        recs[n] = (prt_rec){h->body.data + s->off, (uint32_t)s->len, 0};
        h->posoff[n] = h->posbuf.len;
        position(h, &h->posbuf, s->index);
    }
    for (int i = 0; i < n; i++) h->pos[i] = h->posbuf.data + h->posoff[i];
    *positions = h->pos;
    return n;
}

uint64_t prt_http_errors(const prt_http *h) { return h->errors; }

int64_t prt_http_wait_us(const prt_http *h) {
    int64_t w = h->due_us - mono_us();
    return w > 0 ? w : 0;
}

void prt_http_close(prt_http *h) {
    if (!h) return;
    curl_easy_cleanup(h->easy);
    curl_multi_cleanup(h->multi);
    curl_slist_free_all(h->headers);
    curl_global_cleanup();
    prt_buf_free(&h->body);
    prt_buf_free(&h->posbuf);
    free(h->recs);
    free(h->posoff);
    free(h->pos);
    free(h->label);
    free(h);
}

/* Pulls this module (and libcurl) into a pipeline binary: see pipec_rt.h. */
void prt_use_http(void) {}
