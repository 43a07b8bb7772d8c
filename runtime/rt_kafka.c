/* rt_kafka.c - the kafka source: a librdkafka consumer in a consumer group, handing each
 * message's value to process_batch as one record (csv line or JSON object), in batches.
 *
 * Positions are per partition: the offset after the last message handed out. They go into the
 * checkpoint ("kafka PARTITION OFFSET TOPIC" lines, rt_checkpoint.c) with the rows they produced,
 * and on assignment the consumer starts each partition at its checkpointed offset: exactly once
 * with a checkpoint (a database sink's transaction or the checkpoint dir). Partitions the
 * checkpoint does not name start at the group's committed offset, else at `start` (both looked
 * up when the assignment comes: start_offsets). A record's position, "topic/partition/offset" for
 * the dead letter, is written only when asked for (prt_kafka_rec_position). After each
 * durable commit the offsets are also committed to the group (what monitoring sees as lag);
 * without a checkpoint that is the only record of progress, so the run is at least once.
 *
 * A rebalance that takes partitions away calls the driver's revoke hook first (it commits what
 * was read), so the next owner starts after it. With --once the source ends when every assigned
 * partition has reached its end (partition EOF events).
 *
 * When instances share the group (prt_pipeline.kafka_shared) the database sink holds each
 * partition's offset instead of the checkpoint: on assignment the assign hook looks them up
 * (partitions without one start at the group's committed offset, else at `start`), and each
 * commit stores the offsets of the partitions read since (prt_kafka_unstored), in the sink's
 * transaction, only if they are still what this instance found (rt_postgres.c).
 *
 * librdkafka 2.0 stops fetching a partition while the consumer queue holds queued.min.messages
 * (or queued.max.messages.kbytes), and nothing wakes its broker thread when the queue drains
 * but its one-second idle timer: a pipeline slower than the fetches read in bursts, a second
 * apart (fetch.queue.backoff.ms fixed that in later versions). So once the queue was half full,
 * the source wakes the broker threads when it has drained below that: any request to a broker
 * makes its thread look at its partitions again, and a watermark query is the cheapest one. The
 * query waits for its answer (2-10 ms while the broker thread works through a fetch), so a
 * thread of its own sends it (the waker, started at the first wake): the source goes on. */
#include "rt_internal.h"
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct kpart {
    char *topic;
    const rd_kafka_topic_t *rkt;   /* the handle its messages carry, once one came; NULL before */
    int32_t partition;
    int64_t next;              /* the offset after the last message handed out; -1 = none yet */
    int64_t committed;         /* the offset last committed to the group */
    int64_t stored;            /* shared group: the offset the database holds, -1 = none */
    int64_t kept;              /* the offset the pipeline's own checkpoint holds after its last
                                * commit, -1 = none: where a partition revoked and assigned again
                                * to this process resumes (the group's offset may lag behind) */
    bool eof;                  /* at its end since the last message */
    bool assigned;
} kpart;

struct prt_kafka {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    const prt_source_desc *d;
    kpart *parts;
    int nparts, capparts;
    const prt_ckpt *ck;        /* the checkpoint resumed from (offsets to seek to), or NULL */
    rd_kafka_message_t **msgs; /* the batch handed out (msgs[i]: record i), destroyed at the next call */
    int nmsgs;
    prt_buf posbuf;            /* the last position asked for */
    int last;                  /* the partition of the last message: the next one is usually its */
    prt_kafka_revoke_fn revoke;
    void *revoke_ctx;
    prt_kafka_assign_fn assign;   /* shared group: looks the stored offsets up */
    void *assign_ctx;
    bool failed;               /* a fatal error or a failed revoke commit */
    bool end_told;             /* at_end was said without waiting, and nothing came since */
    char brokers[256];         /* for messages */
    /* waking the fetcher (see the top): queue levels in messages and bytes, the mean value size
     * seen, whether the queue was full enough since the last wake, the partition to ask next */
    size_t low_msgs, low_bytes, mean_len;
    bool fetch_may_stall;
    int wake_next;
    /* the waker thread: the partition to ask about (its topic is a kpart's, kept until close) */
    pthread_t waker;
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    bool waker_on, wake_pending, wake_stop;
    const char *wake_topic;
    int32_t wake_partition;
};

/* Messages handed out per call, at most. Each batch's messages are destroyed at the next call:
 * 512 of librdkafka's message structures are still in the cache then, 4096 were not (case 5 of
 * bench/run.py: 0.86 s instead of 0.91 s for its 2M messages; 256 and 1024 were slower too). */
enum { KAFKA_BATCH_MAX = 512 };

static kpart *part_of(prt_kafka *k, const char *topic, int32_t partition, bool add) {
    if (k->last < k->nparts && k->parts[k->last].partition == partition && strcmp(k->parts[k->last].topic, topic) == 0)
        return &k->parts[k->last];
    for (int i = 0; i < k->nparts; i++)
        if (k->parts[i].partition == partition && strcmp(k->parts[i].topic, topic) == 0) return &k->parts[k->last = i];
    if (!add) return NULL;
    if (k->nparts == k->capparts) {
        k->capparts = k->capparts ? k->capparts * 2 : 16;
        k->parts = realloc(k->parts, sizeof *k->parts * (size_t)k->capparts);
        if (!k->parts) abort();
    }
    kpart *p = &k->parts[k->nparts++];
    memset(p, 0, sizeof *p);
    p->topic = strdup(topic);
    if (!p->topic) abort();
    p->partition = partition;
    p->next = -1;
    p->committed = -1;
    p->stored = -1;
    p->kept = -1;
    return p;
}

/* The checkpointed offset of a partition, or -1. */
static int64_t checkpointed(const prt_kafka *k, const char *topic, int32_t partition) {
    for (int i = 0; k->ck && i < k->ck->nkafka; i++) {
        const prt_ckpt_kafka *o = &k->ck->kafka[i];
        if (o->partition == partition && strcmp(o->topic, topic) == 0) return o->offset;
    }
    return -1;
}

static void release_batch(prt_kafka *k) {
    for (int i = 0; i < k->nmsgs; i++) rd_kafka_message_destroy(k->msgs[i]);
    k->nmsgs = 0;
}

/* The partitions of an assignment that start at the group's committed offset (RD_KAFKA_OFFSET_STORED)
 * get it now, and those without one the offset `start` means (the partition's first or next
 * offset, asked for as a timestamp of -2 or -1: one request per leader). Assigned with a logical
 * offset, librdkafka asks the same, but waits first: 100 ms (its offset-query backoff) when the
 * group has no offset, 500 ms when the partition's leader is not known yet ("no current leader"),
 * which is every partition of a topic the process had not used before. Whatever is not found
 * stays as it was (OFFSET_STORED, or the logical offset of `start`): librdkafka resolves it. */
static void start_offsets(prt_kafka *k, rd_kafka_topic_partition_list_t *list) {
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(list->cnt);
    rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_new(list->cnt);
    for (int i = 0; i < list->cnt; i++)
        if (list->elems[i].offset == RD_KAFKA_OFFSET_STORED)
            rd_kafka_topic_partition_list_add(q, list->elems[i].topic, list->elems[i].partition);
    int64_t start = k->d->kafka_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_committed(k->rk, q, 5000);
    for (int i = 0; !e && i < q->cnt; i++) {
        const rd_kafka_topic_partition_t *c = &q->elems[i];
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(list, c->topic, c->partition);
        if (c->err || !tp) continue;
        tp->offset = c->offset >= 0 ? c->offset : start;
        if (c->offset < 0) rd_kafka_topic_partition_list_add(ends, c->topic, c->partition)->offset = start;
    }
    /* BEGINNING and END are also the timestamps that ask for the first and the next offset */
    if (ends->cnt && rd_kafka_offsets_for_times(k->rk, ends, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < ends->cnt; i++) {
            const rd_kafka_topic_partition_t *c = &ends->elems[i];
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(list, c->topic, c->partition);
            if (!c->err && c->offset >= 0 && tp) tp->offset = c->offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(ends);
    rd_kafka_topic_partition_list_destroy(q);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *list, void *opaque) {
    prt_kafka *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        prt_kafka_offset *offs = NULL;
        if (k->assign) {   /* shared group: where the database says each partition is */
            offs = calloc((size_t)list->cnt + 1, sizeof *offs);
            if (!offs) abort();
            for (int i = 0; i < list->cnt; i++)
                offs[i] = (prt_kafka_offset){list->elems[i].topic, list->elems[i].partition, -1, -1};
            if (k->assign(k->assign_ctx, offs, list->cnt) != 0) k->failed = true;
        }
        int unknown = 0;   /* partitions to start at the group's committed offset, else at `start` */
        for (int i = 0; i < list->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &list->elems[i];
            kpart *p = part_of(k, tp->topic, tp->partition, true);
            int64_t at = offs ? offs[i].stored : p->next >= 0 ? p->next : p->kept >= 0 ? p->kept
                       : checkpointed(k, tp->topic, tp->partition);
            if (offs) p->stored = offs[i].stored;
            tp->offset = at >= 0 ? at : RD_KAFKA_OFFSET_STORED;
            unknown += at < 0;
            p->assigned = true;
            p->eof = false;
            p->rkt = NULL;   /* learnt again from its first message */
            if (at >= 0) p->next = at;
        }
        free(offs);
        prt_log_info("kafka: assigned %d partition%s", list->cnt, list->cnt == 1 ? "" : "s");
        if (unknown) start_offsets(k, list);
        rd_kafka_assign(rk, list);
        return;
    }
    /* Revoked: what was read from these partitions is committed before another member reads
     * them (the hook commits everything, which includes them). */
    if (k->revoke && k->revoke(k->revoke_ctx) != 0) k->failed = true;
    for (int i = 0; i < list->cnt; i++) {
        kpart *p = part_of(k, list->elems[i].topic, list->elems[i].partition, false);
        if (p) p->assigned = false, p->next = -1, p->stored = -1;
    }
    prt_log_info("kafka: %d partition%s revoked", list->cnt, list->cnt == 1 ? "" : "s");
    rd_kafka_assign(rk, NULL);
}

static bool conf_set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) == RD_KAFKA_CONF_OK) return true;
    prt_log_error("kafka source: property %s: %s", key, err);
    return false;
}

/* A number from the consumer's configuration, or `dflt`. */
static long long conf_number(rd_kafka_t *rk, const char *key, long long dflt) {
    char v[64];
    size_t n = sizeof v;
    return rd_kafka_conf_get(rd_kafka_conf(rk), key, v, &n) == RD_KAFKA_CONF_OK ? atoll(v) : dflt;
}

/* After a batch: if the queue had filled to half the fetch thresholds and has drained below
 * them, a watermark query to the next assigned partition's leader wakes its broker thread (one
 * partition a time: with several brokers each is reached in turn). */
static void *waker_main(void *arg) {
    prt_kafka *k = arg;
    pthread_mutex_lock(&k->wake_mu);
    for (;;) {
        while (!k->wake_pending && !k->wake_stop) pthread_cond_wait(&k->wake_cv, &k->wake_mu);
        if (k->wake_stop) break;
        const char *topic = k->wake_topic;
        int32_t partition = k->wake_partition;
        k->wake_pending = false;
        pthread_mutex_unlock(&k->wake_mu);
        int64_t lo, hi;
        rd_kafka_query_watermark_offsets(k->rk, topic, partition, &lo, &hi, 1000);
        pthread_mutex_lock(&k->wake_mu);
    }
    pthread_mutex_unlock(&k->wake_mu);
    return NULL;
}

/* Starts the waker (signals blocked in it: they are the main thread's); false when it cannot. */
static bool start_waker(prt_kafka *k) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    k->waker_on = pthread_create(&k->waker, NULL, waker_main, k) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return k->waker_on;
}

static void wake_fetcher(prt_kafka *k, size_t queued_before) {
    size_t queued = rd_kafka_queue_length(k->queue);
    if (queued_before >= k->low_msgs || queued_before * k->mean_len >= k->low_bytes) k->fetch_may_stall = true;
    if (!k->fetch_may_stall || queued >= k->low_msgs || queued * k->mean_len >= k->low_bytes) return;
    for (int tries = 0; tries < k->nparts; tries++) {
        const kpart *p = &k->parts[k->wake_next++ % k->nparts];
        if (!p->assigned || p->eof) continue;
        if (k->waker_on || start_waker(k)) {
            pthread_mutex_lock(&k->wake_mu);
            k->wake_topic = p->topic;
            k->wake_partition = p->partition;
            k->wake_pending = true;
            pthread_cond_signal(&k->wake_cv);
            pthread_mutex_unlock(&k->wake_mu);
        } else {
            int64_t lo, hi;
            rd_kafka_query_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi, 1000);
        }
        break;
    }
    k->fetch_may_stall = false;
}

prt_kafka *prt_kafka_open(const prt_source_desc *d, const char *brokers, const char *group,
                          char *const *topic_names, char *const *props, const prt_ckpt *ck) {
    prt_kafka *k = calloc(1, sizeof *k);
    if (!k) abort();
    k->d = d;
    k->ck = ck && ck->nkafka ? ck : NULL;
    snprintf(k->brokers, sizeof k->brokers, "%s", brokers);
    k->msgs = malloc(sizeof *k->msgs * KAFKA_BATCH_MAX);
    if (!k->msgs) abort();
    pthread_mutex_init(&k->wake_mu, NULL);
    pthread_cond_init(&k->wake_cv, NULL);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    bool ok = conf_set(conf, "bootstrap.servers", brokers) && conf_set(conf, "group.id", group) &&
              conf_set(conf, "enable.auto.commit", "false") && conf_set(conf, "enable.auto.offset.store", "false") &&
              conf_set(conf, "auto.offset.reset", d->kafka_latest ? "latest" : "earliest") &&
              conf_set(conf, "enable.partition.eof", "true");
    for (int i = 0; ok && props && props[i]; i += 2) ok = conf_set(conf, props[i], props[i + 1]);
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        prt_kafka_close(k);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, k);
    char err[512];
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!k->rk) {
        prt_log_error("kafka source: %s", err);
        prt_kafka_close(k);
        return NULL;
    }
    k->low_msgs = (size_t)conf_number(k->rk, "queued.min.messages", 100000) / 2;
    k->low_bytes = (size_t)conf_number(k->rk, "queued.max.messages.kbytes", 65536) * 1024 / 2;
    rd_kafka_poll_set_consumer(k->rk);
    k->queue = rd_kafka_queue_get_consumer(k->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(d->ntopics);
    for (int i = 0; i < d->ntopics; i++) rd_kafka_topic_partition_list_add(topics, topic_names[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        prt_log_error("kafka source: subscribe: %s", rd_kafka_err2str(e));
        prt_kafka_close(k);
        return NULL;
    }
    if (k->ck) prt_log_info("kafka: resuming %d partition offset%s from the checkpoint", k->ck->nkafka, k->ck->nkafka == 1 ? "" : "s");
    return k;
}

void prt_kafka_set_revoke_hook(prt_kafka *k, prt_kafka_revoke_fn fn, void *ctx) {
    k->revoke = fn;
    k->revoke_ctx = ctx;
}

void prt_kafka_set_assign_hook(prt_kafka *k, prt_kafka_assign_fn fn, void *ctx) {
    k->assign = fn;
    k->assign_ctx = ctx;
}

int prt_kafka_unstored(const prt_kafka *k, prt_kafka_offset **out) {
    int n = 0;
    *out = calloc((size_t)k->nparts + 1, sizeof **out);
    if (!*out) abort();
    for (int i = 0; i < k->nparts; i++) {
        const kpart *p = &k->parts[i];
        if (p->assigned && p->next >= 0 && p->next != p->stored)
            (*out)[n++] = (prt_kafka_offset){p->topic, p->partition, p->stored, p->next};
    }
    return n;
}

void prt_kafka_mark_stored(prt_kafka *k, const prt_kafka_offset *offs, int n) {
    for (int i = 0; i < n; i++) {
        kpart *p = part_of(k, offs[i].topic, offs[i].partition, false);
        if (p) p->stored = offs[i].next;
    }
}

/* Every assigned partition at its end (and at least one assigned). */
static bool caught_up(const prt_kafka *k) {
    int n = 0;
    for (int i = 0; i < k->nparts; i++) {
        if (!k->parts[i].assigned) continue;
        if (!k->parts[i].eof) return false;
        n++;
    }
    return n > 0;
}

int prt_kafka_next(prt_kafka *k, prt_rec *recs, int max, int64_t wait_us, bool *at_end) {
    release_batch(k);
    *at_end = false;
    if (max > KAFKA_BATCH_MAX) max = KAFKA_BATCH_MAX;
    rd_kafka_message_t *got[KAFKA_BATCH_MAX];
    /* What is queued now; only when nothing is, wait for the first message (a batch call waits
     * for a full batch or the whole timeout). */
    size_t queued_before = rd_kafka_queue_length(k->queue);
    ssize_t n = rd_kafka_consume_batch_queue(k->queue, 0, got, (size_t)max);
    if (n == 0 && !k->end_told && !k->failed && caught_up(k)) {
        /* Nothing queued and every partition at its end (the ends came with the last batch):
         * said at once, not after a wait for more; the next call waits. */
        k->end_told = true;
        *at_end = true;
        return 0;
    }
    if (n == 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, (int)(wait_us / 1000));
        if (m) {
            got[0] = m;
            ssize_t more = max > 1 ? rd_kafka_consume_batch_queue(k->queue, 0, got + 1, (size_t)max - 1) : 0;
            n = 1 + (more > 0 ? more : 0);
        }
    }
    if (k->failed) {
        for (ssize_t i = 0; i < n; i++) rd_kafka_message_destroy(got[i]);
        return -1;
    }
    if (n < 0) {
        prt_log_error("kafka source: %s", rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    int nr = 0;
    size_t bytes = 0;   /* of the values handed out: the queue's mean message size */
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = got[i];
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                kpart *p = m->rkt ? part_of(k, rd_kafka_topic_name(m->rkt), m->partition, false) : NULL;
                if (p) p->eof = true;
            } else if (m->err == RD_KAFKA_RESP_ERR__FATAL || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                       m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                       m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {   /* waiting would not help */
                prt_log_error("kafka source: %s", rd_kafka_message_errstr(m));
                k->failed = true;
            } else {
                prt_log_warn("kafka source: %s (retrying)", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        kpart *p = k->last < k->nparts ? &k->parts[k->last] : NULL;   /* usually the last one's */
        if (!p || p->rkt != m->rkt || p->partition != m->partition) {
            p = part_of(k, rd_kafka_topic_name(m->rkt), m->partition, false);
            if (p) p->rkt = m->rkt;
        }
        if (!p || !p->assigned) {   /* fetched before a rebalance took the partition away */
            rd_kafka_message_destroy(m);
            continue;
        }
        p->next = m->offset + 1;
        p->eof = false;
        k->end_told = false;
        k->msgs[k->nmsgs++] = m;
        recs[nr].p = m->payload ? (const char *)m->payload : "";
        recs[nr].n = (uint32_t)m->len;
        bytes += m->len;
        recs[nr].line = 0;   /* the position says it all */
        nr++;
    }
    if (nr > 0) {
        k->mean_len = (k->mean_len * 7 + bytes / (size_t)nr + 64) / 8;   /* + librdkafka's own share */
        wake_fetcher(k, queued_before);
    }
    if (k->failed) return -1;
    if (nr == 0) *at_end = caught_up(k);
    return nr;
}

const char *prt_kafka_rec_position(void *src, int i) {
    prt_kafka *k = src;
    if (i < 0 || i >= k->nmsgs) return k->brokers;   /* not a record of the batch: cannot happen */
    const rd_kafka_message_t *m = k->msgs[i];
    const char *topic = rd_kafka_topic_name(m->rkt);
    k->posbuf.len = 0;
    prt_buf_put(&k->posbuf, topic, strlen(topic));   /* topic/partition/offset, NUL */
    prt_buf_putc(&k->posbuf, '/');
    prt_buf_put_i64(&k->posbuf, m->partition);
    prt_buf_putc(&k->posbuf, '/');
    prt_buf_put_i64(&k->posbuf, m->offset);
    prt_buf_putc(&k->posbuf, 0);
    return k->posbuf.data;
}

void prt_kafka_position(const prt_kafka *k, prt_ckpt *c) {
    /* Offsets of partitions this instance read, and those of the checkpoint it resumed from that
     * it has not read (they stay as they were). */
    int n = 0;
    prt_ckpt_kafka *o = calloc((size_t)(k->nparts + (k->ck ? k->ck->nkafka : 0)) + 1, sizeof *o);
    if (!o) abort();
    for (int i = 0; i < k->nparts; i++) {
        if (k->parts[i].next < 0) continue;
        o[n].topic = strdup(k->parts[i].topic);
        if (!o[n].topic) abort();
        o[n].partition = k->parts[i].partition;
        o[n++].offset = k->parts[i].next;
    }
    for (int i = 0; c->kafka && i < c->nkafka; i++) {
        bool have = false;
        for (int j = 0; j < n && !have; j++) have = o[j].partition == c->kafka[i].partition && strcmp(o[j].topic, c->kafka[i].topic) == 0;
        if (have) continue;
        o[n].topic = strdup(c->kafka[i].topic);
        if (!o[n].topic) abort();
        o[n].partition = c->kafka[i].partition;
        o[n++].offset = c->kafka[i].offset;
    }
    for (int i = 0; i < c->nkafka; i++) free(c->kafka[i].topic);
    free(c->kafka);
    c->kafka = o;
    c->nkafka = n;
}

int prt_kafka_committed(prt_kafka *k, bool durable_elsewhere) {
    for (int i = 0; durable_elsewhere && i < k->nparts; i++)
        if (k->parts[i].next >= 0) k->parts[i].kept = k->parts[i].next;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts > 0 ? k->nparts : 1);
    for (int i = 0; i < k->nparts; i++) {
        kpart *p = &k->parts[i];
        if (!p->assigned || p->next < 0 || p->next == p->committed) continue;
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next;
    }
    int rc = 0;
    if (l->cnt) {
        /* With a checkpoint the group's offsets are for monitoring: asynchronous. Without one they
         * are the position: wait for the broker to take them. */
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, l, durable_elsewhere ? 1 : 0);
        if (e && !durable_elsewhere) {
            prt_log_error("kafka source: committing offsets to the group: %s", rd_kafka_err2str(e));
            rc = -1;
        } else {
            for (int i = 0; i < l->cnt; i++) {
                kpart *p = part_of(k, l->elems[i].topic, l->elems[i].partition, false);
                if (p) p->committed = l->elems[i].offset;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

const char *prt_kafka_where(const prt_kafka *k) { return k->brokers; }

int64_t prt_kafka_lag(const prt_kafka *k) {
    int64_t lag = 0;
    bool known = false;
    for (int i = 0; i < k->nparts; i++) {
        const kpart *p = &k->parts[i];
        int64_t lo, hi, at = p->next >= 0 ? p->next : p->committed;
        if (!p->assigned || at < 0) continue;
        if (rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0)
            continue;
        lag += hi > at ? hi - at : 0;
        known = true;
    }
    return known ? lag : -1;
}

void prt_kafka_close(prt_kafka *k) {
    if (!k) return;
    release_batch(k);
    if (k->waker_on) {   /* before the consumer goes: it may be asking it */
        pthread_mutex_lock(&k->wake_mu);
        k->wake_stop = true;
        pthread_cond_signal(&k->wake_cv);
        pthread_mutex_unlock(&k->wake_mu);
        pthread_join(k->waker, NULL);
    }
    if (k->rk) {
        k->revoke = NULL;   /* closing: the driver has committed (or is failing) already */
        rd_kafka_consumer_close(k->rk);
        if (k->queue) rd_kafka_queue_destroy(k->queue);
        rd_kafka_destroy(k->rk);
    }
    for (int i = 0; i < k->nparts; i++) free(k->parts[i].topic);
    free(k->parts);
    free(k->msgs);
    prt_buf_free(&k->posbuf);
    pthread_mutex_destroy(&k->wake_mu);
    pthread_cond_destroy(&k->wake_cv);
    free(k);
}

/* Pulls this module and the kafka sink (and librdkafka) into a pipeline binary: see pipec_rt.h. */
extern const int prt_kafka_sink_linked;
void prt_use_kafka(void) {
    static volatile int keep;
    keep = prt_kafka_sink_linked;
    (void)keep;
}
