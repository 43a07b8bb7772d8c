/* window_main.c - a test-only pipeline program with an event-time window, written the way pipec's
 * generated window code is meant to be: a prt_pipeline with process_batch, tick, finish,
 * save_state and load_state hooks over a prt_wtab of generated entries. Schema: key string,
 * ts int64 (epoch seconds), user string (CSV with a header in this column order). Rule: key not
 * empty. Window: tumbling WIN_S seconds (default 10) on ts, lateness LATE_S seconds (default 5),
 * watermark = max ts seen - lateness, advanced per record; a record whose window has ended by the
 * watermark is late and goes to the dead letter (reason "late"). Group by key; select count(),
 * count_distinct(user), first(user), max(ts). Sink "counts": JSON lines to ${OUT}, one row per
 * window and key, emitted when the watermark passes the window's end (after each batch), sorted by
 * window start, then key. Environment as for driver_main.c: SRC_KIND, IN, ARCHIVE, POLL_US, OUT,
 * DEAD, CKPT, CKPT_EVERY_US, FP, SLOW_US; TICK_LOG=1 prints the number of tick calls at exit. */
#include "pipec_rt.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define US INT64_C(1000000)

typedef struct went {
    prt_went h;                /* hash, window start and end (microseconds) */
    prt_str key;               /* group key (kept) */
    int64_t events;            /* count() */
    prt_dset *users;           /* count_distinct(user) */
    prt_str first_user;        /* first(user) (kept) */
    int64_t last_ts;           /* max(ts) */
} went;

static prt_wtab tab;
static prt_buf closed;
static int64_t win_us, late_us, slow_us;
static int64_t max_seen = INT64_MIN, watermark = INT64_MIN;
static long ticks;

static uint64_t key_hash(int64_t start, prt_str key) {
    return prt_hash_bytes(key.p, key.n, prt_hash_u64((uint64_t)start, 0)) | 1;
}

static int cmp_went(const void *a, const void *b) {
    const went *x = a, *y = b;
    if (x->h.start != y->h.start) return x->h.start < y->h.start ? -1 : 1;
    size_t n = x->key.n < y->key.n ? x->key.n : y->key.n;
    int c = n ? memcmp(x->key.p, y->key.p, n) : 0;
    if (c) return c;
    return x->key.n < y->key.n ? -1 : x->key.n > y->key.n;
}

/* Finds the entry of (start, key), inserting an empty one (key kept) when there is none. */
static went *lookup(int64_t start, prt_str key) {
    uint64_t h = key_hash(start, key);
    prt_wtab_reserve(&tab);
    size_t mask = tab.cap - 1;
    for (size_t i = prt_wtab_home(&tab, h);; i = (i + 1) & mask) {
        went *e = (went *)prt_wtab_at(&tab, i);
        if (e->h.hash == 0) {
            memset(e, 0, sizeof *e);
            e->h = (prt_went){h, start, start + win_us};
            e->key = prt_str_keep(key);
            e->last_ts = INT64_MIN;
            tab.count++;
            return e;
        }
        if (e->h.hash == h && e->h.start == start && prt_str_eq(e->key, key)) return e;
    }
}

static void release(went *e) {
    prt_str_release(e->key);
    prt_str_release(e->first_user);
    prt_dset_free(e->users);
}

static void emit(prt_run *run, size_t n) {
    prt_sink *s = run->sinks[0];
    prt_buf *o = &s->buf;
    for (size_t i = 0; i < n; i++) {
        went *e = (went *)(closed.data + i * sizeof(went));
        prt_buf_lit(o, "{\"window_start\":\"");
        prt_buf_put_timestamp(o, e->h.start);
        prt_buf_lit(o, "\",\"window_end\":\"");
        prt_buf_put_timestamp(o, e->h.end);
        prt_buf_lit(o, "\",\"key\":");
        prt_buf_put_json_str(o, e->key.p, e->key.n);
        prt_buf_lit(o, ",\"events\":");
        prt_buf_put_i64(o, e->events);
        prt_buf_lit(o, ",\"users\":");
        prt_buf_put_i64(o, prt_dset_count(e->users));
        prt_buf_lit(o, ",\"first_user\":");
        prt_buf_put_json_str(o, e->first_user.p, e->first_user.n);
        prt_buf_lit(o, ",\"last_ts\":");
        prt_buf_put_i64(o, e->last_ts);
        prt_buf_lit(o, "}\n");
        prt_sink_row_done(s);
        release(e);
    }
    closed.len = 0;
}

static void process_batch(prt_run *run, const prt_batch *b) {
    prt_field f[4];
    for (int i = 0; i < b->n; i++) {
        const prt_rec *rec = &b->recs[i];
        const char *err = NULL;
        int n = prt_csv_split(rec->p, rec->n, ',', '"', f, 4, &run->scratch, &err);
        if (n < 0) {
            prt_dead(run, rec, "parse", "%s", err);
            continue;
        }
        static const prt_field none = {"", 0, false};
        const prt_field *fk = n > 0 ? &f[0] : &none, *ft = n > 1 ? &f[1] : &none,
                        *fu = n > 2 ? &f[2] : &none;
        int64_t ts;
        if (!prt_parse_i64(ft->p, ft->n, &ts) || ts < -INT64_C(1000000000000) || ts > INT64_C(1000000000000)) {
            prt_dead_parse(run, rec, "ts", "int64", ft->p, ft->n);
            continue;
        }
        prt_str key = {fk->p, fk->n}, user = {fu->p, fu->n};
        if (key.n == 0) {
            prt_dead(run, rec, "key_not_empty", "rule 'key_not_empty' failed");
            continue;
        }
        int64_t t = ts * US;
        int64_t start = t - ((t % win_us) + win_us) % win_us;
        if (start + win_us <= watermark) {
            prt_dead(run, rec, "late", "window %" PRId64 " ended before the watermark %" PRId64,
                     start / US, watermark / US);
            continue;
        }
        run->stats.out++;
        went *e = lookup(start, key);
        if (e->events == 0) e->first_user = prt_str_keep(user);
        e->events++;
        prt_dset_add(&e->users, user.p, user.n);
        if (t > e->last_ts) e->last_ts = t;
        if (t > max_seen) {
            max_seen = t;
            watermark = t - late_us;
        }
    }
    emit(run, prt_wtab_take_closed(&tab, watermark, cmp_went, &closed, NULL));
    if (slow_us) usleep((useconds_t)slow_us);
}

static void tick(prt_run *run) {
    ticks++;
    if (prt_wtab_min_end(&tab) <= watermark)   /* never true here: process_batch closed them */
        emit(run, prt_wtab_take_closed(&tab, watermark, cmp_went, &closed, NULL));
}

static void finish(prt_run *run) { emit(run, prt_wtab_take_all(&tab, cmp_went, &closed)); }

static void save_state(prt_run *run, prt_buf *out) {
    (void)run;
    prt_state_put_u64(out, (uint64_t)max_seen);
    prt_state_put_u64(out, (uint64_t)watermark);
    prt_state_put_u64(out, tab.count);
    for (size_t i = 0; i < tab.cap; i++) {
        const went *e = (const went *)prt_wtab_at(&tab, i);
        if (!e->h.hash) continue;
        prt_state_put_u64(out, (uint64_t)e->h.start);
        prt_state_put_bytes(out, e->key.p, e->key.n);
        prt_state_put_u64(out, (uint64_t)e->events);
        prt_state_put_dset(out, e->users);
        prt_state_put_bytes(out, e->first_user.p, e->first_user.n);
        prt_state_put_u64(out, (uint64_t)e->last_ts);
    }
}

static bool load_state(prt_run *run, const char *p, size_t n) {
    (void)run;
    prt_state_reader r = {p, n, 0, false};
    max_seen = (int64_t)prt_state_get_u64(&r);
    watermark = (int64_t)prt_state_get_u64(&r);
    uint64_t count = prt_state_get_u64(&r);
    for (uint64_t i = 0; i < count && !r.bad; i++) {
        int64_t start = (int64_t)prt_state_get_u64(&r);
        prt_str key = prt_state_get_str(&r);
        if (r.bad) break;
        went *e = lookup(start, key);
        prt_str_release(key);
        if (e->events) {   /* a duplicate entry: corrupt */
            r.bad = true;
            break;
        }
        e->events = (int64_t)prt_state_get_u64(&r);
        e->users = prt_state_get_dset(&r);
        e->first_user = prt_state_get_str(&r);
        e->last_ts = (int64_t)prt_state_get_u64(&r);
        if (e->events <= 0) r.bad = true;
    }
    return !r.bad && r.pos == n;
}

static int64_t env_i64(const char *name, int64_t dflt) {
    const char *s = getenv(name);
    return s && *s ? strtoll(s, NULL, 0) : dflt;
}

static void free_all(void) {
    for (size_t i = 0; i < tab.cap; i++) {
        went *e = (went *)prt_wtab_at(&tab, i);
        if (e->h.hash) release(e);
    }
    prt_wtab_free(&tab);
    prt_buf_free(&closed);
}

int main(int argc, char **argv) {
    static const char *const cols[] = {"window_start", "window_end", "key", "events", "users",
                                       "first_user", "last_ts"};
    static const prt_sink_desc sinks[1] = {
        {.name = "counts", .kind = PRT_SINK_FILE, .encoding = PRT_ENC_JSONL, .path = "${OUT}",
         .ncolumns = 7, .columns = cols},
    };
    static const prt_sink_desc dead = {.name = "dead_letter", .kind = PRT_SINK_FILE,
                                       .encoding = PRT_ENC_JSONL, .path = "${DEAD}"};
    const char *kind = getenv("SRC_KIND");
    win_us = env_i64("WIN_S", 10) * US;
    late_us = env_i64("LATE_S", 5) * US;
    slow_us = env_i64("SLOW_US", 0);
    prt_wtab_init(&tab, sizeof(went));
    const prt_pipeline p = {
        .abi = PRT_ABI_VERSION,
        .name = "rtwindow",
        .spec_file = "tests/rt/window_main.c",
        .help = "rtwindow: the runtime's window test pipeline (key, ts, user).\n",
        .fingerprint = (uint64_t)env_i64("FP", 0x77aa),
        .source = {
            .kind = kind && strcmp(kind, "folder") == 0 ? PRT_SRC_FOLDER : PRT_SRC_FILE,
            .path = "${IN}", .glob = "*.csv", .archive = "${ARCHIVE:-}",
            .poll_us = env_i64("POLL_US", 50000), .format = PRT_FMT_CSV, .header = true,
            .delimiter = ',', .quote = '"',
        },
        .sinks = sinks,
        .nsinks = 1,
        .dead_letter = getenv("DEAD") ? &dead : NULL,
        .checkpoint_path = "${CKPT:-}",
        .checkpoint_every_us = env_i64("CKPT_EVERY_US", 0),
        .process_batch = process_batch,
        .tick = tick,
        .finish = finish,
        .save_state = save_state,
        .load_state = load_state,
    };
    int rc = prt_main(&p, argc, argv);
    if (getenv("TICK_LOG")) fprintf(stderr, "rtwindow ticks=%ld\n", ticks);
    free_all();
    return rc;
}
