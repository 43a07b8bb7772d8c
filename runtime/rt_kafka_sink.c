/* rt_kafka_sink.c - the kafka sink: every row the generated encoder appends (a JSON object or a
 * CSV record, without its line end) becomes one message of the topic, with the row's key and the
 * headers pipec.pipeline and pipec.position (the source record's position, when the row came
 * from one). Messages go out through librdkafka's idempotent producer (no duplicates from its
 * own retries, order kept per partition); a commit waits until every message produced so far is
 * acknowledged, and fails when one was not, so the checkpoint never moves past an undelivered
 * row. A crash between producing and that commit sends those rows again: at least once. */
#include "rt_internal.h"
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct krow {
    size_t end;                /* the row is buf[previous end, end) */
    size_t key_off, key_len;   /* in keys */
    size_t pos_off;            /* NUL-terminated in keys; SIZE_MAX = none */
    bool has_key;
} krow;

struct prt_kprod {
    rd_kafka_t *rk;
    char *topic;
    const char *pipeline;
    krow *rows;
    size_t nrows, caprows;
    prt_buf keys;              /* the rows' keys and positions */
    prt_buf key;               /* the key being made by the generated code */
    uint64_t failed;           /* delivery reports with an error since the last commit */
    char first_error[512];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    prt_kprod *k = opaque;
    if (!m->err) return;
    if (!k->failed++)
        snprintf(k->first_error, sizeof k->first_error, "%s", rd_kafka_err2str(m->err));
}

prt_kprod *prt_kprod_open(const prt_sink_desc *d, const char *pipeline, const char *brokers, const char *topic,
                          char *const *props) {
    prt_kprod *k = calloc(1, sizeof *k);
    if (!k) abort();
    k->pipeline = pipeline;
    k->topic = strdup(topic);
    if (!k->topic) abort();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    /* defaults first, the spec's properties after them (they win) */
    const char *defaults[] = {"bootstrap.servers", brokers, "enable.idempotence", "true", "linger.ms", "5",
                              "compression.type", "lz4", NULL};
    for (int i = 0; defaults[i]; i += 2)
        if (rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], err, sizeof err) != RD_KAFKA_CONF_OK) goto bad;
    for (int i = 0; props && props[i]; i += 2)
        if (rd_kafka_conf_set(conf, props[i], props[i + 1], err, sizeof err) != RD_KAFKA_CONF_OK) goto bad;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, k);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!k->rk) {
        prt_log_error("sink '%s': kafka: %s", d->name, err);
        prt_kprod_close(k);
        return NULL;
    }
    return k;
bad:
    prt_log_error("sink '%s': kafka: %s", d->name, err);
    rd_kafka_conf_destroy(conf);
    prt_kprod_close(k);
    return NULL;
}

prt_buf *prt_kprod_key(prt_kprod *k) {
    k->key.len = 0;
    return &k->key;
}

void prt_kprod_row(prt_kprod *k, const prt_buf *buf, bool has_key, const char *position, uint64_t line) {
    if (k->nrows == k->caprows) {
        k->caprows = k->caprows ? k->caprows * 2 : 1024;
        k->rows = realloc(k->rows, sizeof *k->rows * k->caprows);
        if (!k->rows) abort();
    }
    krow *r = &k->rows[k->nrows++];
    r->end = buf->len;
    r->has_key = has_key;
    r->key_off = k->keys.len;
    r->key_len = has_key ? k->key.len : 0;
    if (has_key) prt_buf_put(&k->keys, k->key.data, k->key.len);
    r->pos_off = SIZE_MAX;
    if (position) {   /* position[:line], NUL-terminated */
        r->pos_off = k->keys.len;
        prt_buf_put(&k->keys, position, strlen(position));
        if (line) {
            prt_buf_putc(&k->keys, ':');
            prt_buf_put_i64(&k->keys, (int64_t)line);
        }
        prt_buf_putc(&k->keys, 0);
    }
}

int prt_kprod_send(prt_kprod *k, prt_buf *buf) {
    size_t start = 0;
    for (size_t i = 0; i < k->nrows; i++) {
        krow *r = &k->rows[i];
        size_t n = r->end - start;
        if (n && buf->data[start + n - 1] == '\n') n--;   /* the encoder's line end */
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "pipec.pipeline", -1, k->pipeline, -1);
        if (r->pos_off != SIZE_MAX) rd_kafka_header_add(h, "pipec.position", -1, k->keys.data + r->pos_off, -1);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                k->rk, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(buf->data + start, n),
                RD_KAFKA_V_KEY(r->has_key ? k->keys.data + r->key_off : NULL, r->key_len),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {   /* wait for the broker to take some */
                rd_kafka_poll(k->rk, 50);
                continue;
            }
            if (e) {   /* the headers are still ours */
                rd_kafka_headers_destroy(h);
                prt_log_error("kafka sink (topic %s): %s", k->topic, rd_kafka_err2str(e));
                return -1;
            }
            break;
        }
        start = r->end;
    }
    k->nrows = 0;
    k->keys.len = 0;
    buf->len = 0;
    rd_kafka_poll(k->rk, 0);   /* delivery reports */
    return 0;
}

int prt_kprod_commit(prt_kprod *k, prt_buf *buf) {
    if (prt_kprod_send(k, buf) != 0) return -1;
    /* Every message produced so far acknowledged (or failed for good) before the checkpoint. */
    while (rd_kafka_outq_len(k->rk) > 0) {
        rd_kafka_resp_err_t e = rd_kafka_flush(k->rk, 10000);
        if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
            prt_log_warn("kafka sink (topic %s): %d messages still waiting for the broker", k->topic,
                         rd_kafka_outq_len(k->rk));
    }
    if (k->failed) {
        prt_log_error("kafka sink (topic %s): %" PRIu64 " message%s not delivered (%s); nothing is committed",
                      k->topic, k->failed, k->failed == 1 ? "" : "s", k->first_error);
        return -1;
    }
    return 0;
}

void prt_kprod_close(prt_kprod *k) {
    if (!k) return;
    if (k->rk) {
        rd_kafka_flush(k->rk, 5000);   /* what was committed is delivered already */
        rd_kafka_destroy(k->rk);
    }
    free(k->topic);
    free(k->rows);
    prt_buf_free(&k->keys);
    prt_buf_free(&k->key);
    free(k);
}

const int prt_kafka_sink_linked = 1;   /* referenced by prt_use_kafka (rt_kafka.c) */
