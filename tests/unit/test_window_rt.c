/* test_window_rt.c - unit tests of rt_window.c: the window table driven by hand the way generated
 * code drives it (reserve, probe from prt_wtab_home, insert), growth, take_closed against a model
 * with random entries, forced clusters and clusters wrapping around the end of the slots, sorting,
 * min_end and take_all; hashing; kept strings; distinct sets; state serialization round trips and
 * underruns. */
#include "check.h"
#include "pipec_rt.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct ent {
    prt_went h;
    int64_t key;
    int64_t count;
} ent;

/* A deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

/* Hash of (start, key), as generated code would make it; `clustered` forces a few home slots. */
static int hash_mode;   /* 0 = good hash, 1 = all in 4 homes near the end of the slots */
static uint64_t ent_hash(int64_t start, int64_t key) {
    uint64_t h = prt_hash_u64((uint64_t)key, prt_hash_u64((uint64_t)start, 7));
    if (hash_mode == 1) h = (h & ~(uint64_t)0xffff) | (uint64_t)(0xfffc + (key & 3));   /* homes cap-4..cap-1 */
    return h | 1;
}

/* Probes like generated code; returns the entry, or NULL (and the empty slot in *at). */
static ent *find(prt_wtab *t, int64_t start, int64_t key, size_t *at) {
    uint64_t h = ent_hash(start, key);
    size_t mask = t->cap - 1, steps = 0;
    for (size_t i = prt_wtab_home(t, h);; i = (i + 1) & mask) {
        ent *e = (ent *)prt_wtab_at(t, i);
        if (e->h.hash == 0) {
            if (at) *at = i;
            return NULL;
        }
        if (e->h.hash == h && e->h.start == start && e->key == key) return e;
        if (++steps > t->cap) return NULL;   /* a full table: a bug */
    }
}

static ent *upsert(prt_wtab *t, int64_t start, int64_t end, int64_t key) {
    prt_wtab_reserve(t);
    size_t at = 0;
    ent *e = find(t, start, key, &at);
    if (e) {
        e->count++;
        return e;
    }
    e = (ent *)prt_wtab_at(t, at);
    memset(e, 0, sizeof *e);
    e->h = (prt_went){ent_hash(start, key), start, end};
    e->key = key;
    e->count = 1;
    t->count++;
    return e;
}

static int cmp_ent(const void *a, const void *b) {
    const ent *x = a, *y = b;
    if (x->h.start != y->h.start) return x->h.start < y->h.start ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* The model: a grid of (start / 10, key) -> count and end; count 0 = absent. */
enum { MS = 400, MK = 2000 };
typedef struct model {
    int32_t *cnt;
    int64_t *end;
    size_t n;
} model;

static void model_init(model *m) {
    m->cnt = calloc((size_t)MS * MK, sizeof *m->cnt);
    m->end = calloc((size_t)MS * MK, sizeof *m->end);
    m->n = 0;
}

static void model_free(model *m) {
    free(m->cnt);
    free(m->end);
}

static void model_add(model *m, int64_t start, int64_t end, int64_t key) {
    size_t i = (size_t)(start / 10) * MK + (size_t)key;
    if (m->cnt[i]++ == 0) {
        m->end[i] = end;
        m->n++;
    }
}

/* Checks the table equals the model: same count, every model entry found by probing. */
static bool table_matches(prt_wtab *t, const model *m) {
    if (t->count != m->n) return false;
    size_t live = 0;
    for (size_t i = 0; i < t->cap; i++) live += prt_wtab_at(t, i)->hash != 0;
    if (live != m->n) return false;
    for (size_t i = 0; i < (size_t)MS * MK; i++) {
        if (!m->cnt[i]) continue;
        ent *e = find(t, (int64_t)(i / MK) * 10, (int64_t)(i % MK), NULL);
        if (!e || e->count != m->cnt[i] || e->h.end != m->end[i]) return false;
    }
    return true;
}

/* Takes the closed entries out of the model into `want`, sorted (grid order is sorted). */
static size_t model_take(model *m, int64_t wm, ent *want) {
    size_t k = 0;
    for (size_t i = 0; i < (size_t)MS * MK; i++) {
        if (!m->cnt[i] || m->end[i] > wm) continue;
        want[k++] = (ent){{0, (int64_t)(i / MK) * 10, m->end[i]}, (int64_t)(i % MK), m->cnt[i]};
        m->cnt[i] = 0;
        m->n--;
    }
    return k;
}

static bool same_rows(const prt_buf *out, const ent *want, size_t n) {
    if (out->len != n * sizeof(ent)) return false;
    for (size_t i = 0; i < n; i++) {
        const ent *g = (const ent *)(out->data + i * sizeof(ent));
        if (g->h.start != want[i].h.start || g->key != want[i].key || g->count != want[i].count ||
            g->h.end != want[i].h.end || g->h.hash != ent_hash(want[i].h.start, want[i].key))
            return false;
    }
    return true;
}

static int64_t model_min_end(const model *m) {
    int64_t e = INT64_MAX;
    for (size_t i = 0; i < (size_t)MS * MK; i++)
        if (m->cnt[i] && m->end[i] < e) e = m->end[i];
    return e;
}

static void test_table_basics(void) {
    prt_wtab t;
    prt_wtab_init(&t, sizeof(ent));
    CHECK_INT(t.cap, 1024);
    CHECK_INT(t.count, 0);
    CHECK(prt_wtab_min_end(&t) == INT64_MAX);
    bool empty = true;
    for (size_t i = 0; i < t.cap; i++) empty = empty && prt_wtab_at(&t, i)->hash == 0;
    CHECK(empty);
    /* 716 entries fit in 1024 slots (716 <= 716.8); the 717th grows the table */
    for (int64_t k = 0; k < 716; k++) upsert(&t, 0, 10, k);
    CHECK_INT(t.cap, 1024);
    CHECK_INT(t.count, 716);
    upsert(&t, 0, 10, 716);
    CHECK_INT(t.cap, 2048);
    CHECK_INT(t.count, 717);
    upsert(&t, 0, 10, 5);   /* existing: no new entry */
    CHECK_INT(t.count, 717);
    bool all = true;
    for (int64_t k = 0; k < 717; k++) {
        ent *e = find(&t, 0, k, NULL);
        all = all && e && e->count == (k == 5 ? 2 : 1);
    }
    CHECK(all);
    CHECK(find(&t, 0, 717, NULL) == NULL);
    CHECK(find(&t, 10, 1, NULL) == NULL);
    /* growth to a big table keeps every entry */
    for (int64_t k = 0; k < 100000; k++) upsert(&t, k % 7 * 10, k % 7 * 10 + 10, k);
    CHECK_INT(t.count, 100000 + 717 - 717 / 7 - 1);   /* (start 0, key k%7==0 & k<717) overlap */
    CHECK(t.cap >= 131072 && (t.cap & (t.cap - 1)) == 0);
    CHECK((t.count + 1) * 10 <= t.cap * 7 + 10);
    CHECK(prt_wtab_min_end(&t) == 10);
    prt_buf out = {0};
    size_t n = prt_wtab_take_all(&t, cmp_ent, &out);
    CHECK_INT(n, 100000 + 717 - 717 / 7 - 1);
    CHECK_INT(t.count, 0);
    CHECK(prt_wtab_min_end(&t) == INT64_MAX);
    bool sorted = true;
    for (size_t i = 1; i < n; i++)
        sorted = sorted && cmp_ent(out.data + (i - 1) * sizeof(ent), out.data + i * sizeof(ent)) < 0;
    CHECK(sorted);
    out.len = 0;
    int64_t left_end = 0;
    CHECK_INT(prt_wtab_take_all(&t, cmp_ent, &out), 0);
    CHECK_INT(prt_wtab_take_closed(&t, INT64_MAX, cmp_ent, &out, &left_end), 0);
    CHECK(left_end == INT64_MAX);
    CHECK_INT(out.len, 0);
    prt_buf_free(&out);
    prt_wtab_free(&t);
}

/* Random rounds of inserts and take_closed against the model, for each hash mode. */
static void test_take_closed_random(void) {
    for (hash_mode = 0; hash_mode <= 1; hash_mode++) {
        for (int round = 0; round < (hash_mode == 1 ? 6 : 30); round++) {
            prt_wtab t;
            prt_wtab_init(&t, sizeof(ent));
            model m;
            model_init(&m);
            ent *want = malloc(sizeof(ent) * 40000);
            prt_buf out = {0};
            bool ok = true;
            int64_t wm = 0;
            int inserts = hash_mode == 1 ? 120 : 1 + (int)(rnd() % 3000);
            for (int step = 0; step < 12 && ok; step++) {
                for (int i = 0; i < inserts; i++) {
                    int64_t start = wm + (int64_t)(rnd() % 50) * 10;
                    int64_t key = (int64_t)(rnd() % (hash_mode == 1 ? 200 : MK));
                    /* windows of varying size (as sessions would have) */
                    int64_t end = start + 10 + (int64_t)(rnd() % 3) * 10;
                    ent *e = find(&t, start, key, NULL);
                    if (e) end = e->h.end;
                    upsert(&t, start, end, key);
                    model_add(&m, start, end, key);
                }
                ok = ok && table_matches(&t, &m);
                ok = ok && prt_wtab_min_end(&t) == model_min_end(&m);
                /* a watermark that closes nothing leaves the slots as they were */
                int64_t me = prt_wtab_min_end(&t), left_end = 0;
                char *copy = malloc(t.cap * t.esize);
                memcpy(copy, t.slots, t.cap * t.esize);
                out.len = 0;
                ok = ok && prt_wtab_take_closed(&t, me - 1, cmp_ent, &out, &left_end) == 0 && out.len == 0;
                ok = ok && left_end == me;
                ok = ok && memcmp(copy, t.slots, t.cap * t.esize) == 0;
                free(copy);
                wm += 10 * (1 + (int64_t)(rnd() % 20));
                out.len = 0;
                size_t k = model_take(&m, wm, want);
                size_t got = prt_wtab_take_closed(&t, wm, cmp_ent, &out, &left_end);
                ok = ok && got == k && same_rows(&out, want, k);
                ok = ok && left_end == prt_wtab_min_end(&t) && left_end == model_min_end(&m);
                ok = ok && table_matches(&t, &m);
            }
            /* whatever is left comes out with take_all */
            out.len = 0;
            size_t k = model_take(&m, INT64_MAX, want);
            ok = ok && prt_wtab_take_all(&t, cmp_ent, &out) == k && same_rows(&out, want, k);
            ok = ok && t.count == 0 && table_matches(&t, &m);
            if (!ok) fprintf(stderr, "take_closed mismatch: mode %d round %d\n", hash_mode, round);
            CHECK(ok);
            free(want);
            model_free(&m);
            prt_buf_free(&out);
            prt_wtab_free(&t);
        }
    }
    hash_mode = 0;
}

/* A cluster that wraps from the last slots to the first, removed from its middle. */
static void test_wraparound_cluster(void) {
    prt_wtab t;
    prt_wtab_init(&t, sizeof(ent));
    hash_mode = 1;   /* homes 1021 and 1023 */
    model m;
    model_init(&m);
    for (int64_t k = 0; k < 40; k++) {
        upsert(&t, 0, k % 2 ? 10 : 20, k);
        model_add(&m, 0, k % 2 ? 10 : 20, k);
    }
    bool wrapped = prt_wtab_at(&t, 0)->hash != 0 && prt_wtab_at(&t, 1023)->hash != 0;
    CHECK(wrapped);
    ent want[40];
    prt_buf out = {0};
    int64_t left_end = 0;
    size_t k = model_take(&m, 10, want);
    CHECK_INT(prt_wtab_take_closed(&t, 10, cmp_ent, &out, &left_end), k);
    CHECK(same_rows(&out, want, k));
    CHECK(table_matches(&t, &m));
    /* reinsert closed keys into the next window, then take the rest */
    for (int64_t key = 1; key < 40; key += 2) {
        upsert(&t, 10, 30, key);
        model_add(&m, 10, 30, key);
    }
    CHECK(table_matches(&t, &m));
    out.len = 0;
    k = model_take(&m, 25, want);
    CHECK_INT(prt_wtab_take_closed(&t, 25, cmp_ent, &out, &left_end), k);
    CHECK(same_rows(&out, want, k));
    CHECK(table_matches(&t, &m));
    /* sorting with NULL cmp: table order, still every entry */
    out.len = 0;
    CHECK_INT(prt_wtab_take_closed(&t, 30, NULL, &out, &left_end), m.n);
    CHECK_INT(t.count, 0);
    hash_mode = 0;
    model_free(&m);
    prt_buf_free(&out);
    prt_wtab_free(&t);
}

static int popcount64(uint64_t v) {
    int c = 0;
    for (; v; v &= v - 1) c++;
    return c;
}

static void test_hash(void) {
    const char *s = "hello, window";
    CHECK(prt_hash_bytes(s, 13, 0) == prt_hash_bytes(s, 13, 0));
    CHECK(prt_hash_bytes(s, 13, 0) != prt_hash_bytes(s, 13, 1));
    CHECK(prt_hash_bytes(s, 13, 0) != prt_hash_bytes(s, 12, 0));
    CHECK(prt_hash_bytes("", 0, 0) != prt_hash_bytes("", 0, 1));
    CHECK(prt_hash_bytes("a", 1, 0) != prt_hash_bytes("a\0", 2, 0));   /* length matters */
    /* every length 0..64 of the same prefix differs, and unaligned starts give the same hash */
    char buf[80], ubuf[81];
    for (int i = 0; i < 80; i++) buf[i] = (char)('a' + i % 26);
    memcpy(ubuf + 1, buf, 80);
    bool distinct = true, aligned = true;
    for (int n = 0; n <= 64; n++) {
        uint64_t h = prt_hash_bytes(buf, (size_t)n, 3);
        aligned = aligned && h == prt_hash_bytes(ubuf + 1, (size_t)n, 3);
        for (int k = 0; k < n; k++) distinct = distinct && h != prt_hash_bytes(buf, (size_t)k, 3);
    }
    CHECK(distinct);
    CHECK(aligned);
    /* avalanche: flipping one input bit flips about half the output bits */
    double sum = 0, sum2 = 0;
    int trials = 0;
    for (int n = 1; n <= 40; n += 3)
        for (int bit = 0; bit < n * 8; bit += 5) {
            memcpy(ubuf, buf, 80);
            uint64_t a = prt_hash_bytes(ubuf, (size_t)n, 11);
            ubuf[bit / 8] ^= (char)(1 << (bit % 8));
            sum += popcount64(a ^ prt_hash_bytes(ubuf, (size_t)n, 11));
            trials++;
        }
    for (int bit = 0; bit < 64; bit++) {
        uint64_t v = rnd();
        sum2 += popcount64(prt_hash_u64(v, 5) ^ prt_hash_u64(v ^ (1ULL << bit), 5));
        sum2 += popcount64(prt_hash_u64(v, (uint64_t)bit) ^ prt_hash_u64(v, (uint64_t)bit ^ 1));
    }
    CHECK(sum / trials > 29 && sum / trials < 35);
    CHECK(sum2 / 128 > 28 && sum2 / 128 < 36);
    /* low bits of sequential keys spread evenly over 1024 homes (as generated code uses them) */
    int buckets[1024] = {0};
    for (uint64_t k = 0; k < 102400; k++) buckets[(prt_hash_u64(k, 0) | 1) & 1023]++;
    int mx = 0, used = 0;
    for (int i = 0; i < 1024; i++) {
        if (buckets[i] > mx) mx = buckets[i];
        used += buckets[i] != 0;
    }
    CHECK_INT(used, 512);   /* hash | 1: only odd homes */
    CHECK(mx < 2 * 200);
    for (int i = 0; i < 1024; i++) buckets[i] = 0;
    for (uint64_t k = 0; k < 102400; k++) {
        int64_t key = (int64_t)k;
        buckets[prt_hash_bytes(&key, 8, 0) & 1023]++;
    }
    mx = 0;
    for (int i = 0; i < 1024; i++)
        if (buckets[i] > mx) mx = buckets[i];
    CHECK(mx < 2 * 100);
}

static void test_str_keep(void) {
    char src[] = "group key";
    prt_str k = prt_str_keep((prt_str){src, 9});
    src[0] = 'X';
    CHECK(k.n == 9 && memcmp(k.p, "group key", 9) == 0 && k.p != src);
    prt_str_release(k);
    prt_str e = prt_str_keep((prt_str){NULL, 0});
    CHECK(e.n == 0 && e.p != NULL);
    prt_str_release(e);   /* nothing to free */
    prt_str_release((prt_str){"", 0});

    /* Many strings of 1-100 bytes (short ones from the slabs, reused once released) kept and
     * released in random order: each keeps its own bytes. */
    enum { N = 5000 };
    static prt_str kept[N];
    static unsigned gen[N];
    char buf[100];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int bad = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (kept[i].n) {
                for (uint32_t b = 0; b < kept[i].n; b++) bad += kept[i].p[b] != (char)(i * 7 + gen[i] * 13 + b);
                if (x & 1) continue;
                prt_str_release(kept[i]);
                kept[i] = (prt_str){0};
            } else {
                gen[i]++;
                uint32_t n = 1 + (uint32_t)(x >> 32) % 100;
                for (uint32_t b = 0; b < n; b++) buf[b] = (char)(i * 7 + gen[i] * 13 + b);
                kept[i] = prt_str_keep((prt_str){buf, n});
            }
        }
    }
    for (int i = 0; i < N; i++) {
        for (uint32_t b = 0; b < kept[i].n; b++) bad += kept[i].p[b] != (char)(i * 7 + gen[i] * 13 + b);
        prt_str_release(kept[i]);
    }
    CHECK_INT(bad, 0);
}

static void test_dset(void) {
    prt_dset *s = NULL;
    CHECK_INT(prt_dset_count(s), 0);
    prt_dset_free(NULL);
    prt_dset_add(&s, "a", 1);
    CHECK(s != NULL);
    prt_dset_add(&s, "a", 1);
    prt_dset_add(&s, "", 0);
    prt_dset_add(&s, "", 0);
    prt_dset_add(&s, "ab", 2);
    prt_dset_add(&s, "a\0", 2);
    CHECK_INT(prt_dset_count(s), 4);
    for (int64_t i = 0; i < 20000; i++) prt_dset_add(&s, &i, 8);
    for (int64_t i = 0; i < 20000; i += 3) prt_dset_add(&s, &i, 8);
    CHECK_INT(prt_dset_count(s), 20004);
    prt_dset *t = NULL;
    for (int64_t i = 10000; i < 30000; i++) prt_dset_add(&t, &i, 8);
    prt_dset_merge(&t, s);
    CHECK_INT(prt_dset_count(t), 30004);
    prt_dset_merge(&t, NULL);
    CHECK_INT(prt_dset_count(t), 30004);
    prt_dset *u = NULL;
    prt_dset_merge(&u, NULL);
    CHECK(u == NULL);
    prt_dset_merge(&u, s);
    CHECK_INT(prt_dset_count(u), 20004);
    prt_dset_free(s);
    prt_dset_free(t);
    prt_dset_free(u);
}

/* Counted items against a plain count of how many sets hold each value: sets of a sliding window
 * go in and out in random order and sizes, across growth and the rebuild after many items left. */
static void test_dcount(void) {
    prt_dcount *c = NULL;
    CHECK_INT(prt_dcount_count(c), 0);
    prt_dcount_add(&c, NULL);
    CHECK(c == NULL);
    enum { NSETS = 400, RANGE = 3000 };
    static prt_dset *sets[NSETS];
    static unsigned char in[NSETS][RANGE];
    static int held[RANGE];
    srand(7);
    int first = 0, bad = 0;
    for (int i = 0; i < NSETS; i++) {
        int base = (i * 7) % RANGE, n = rand() % 40;
        for (int j = 0; j < n; j++) {
            int64_t v = (base + rand() % 200) % RANGE;
            if (!in[i][v]) in[i][v] = 1, held[v]++;
            prt_dset_add(&sets[i], &v, 8);
        }
        prt_dcount_add(&c, sets[i]);
        while (i - first >= 30 || (i - first > 0 && rand() % 4 == 0)) {   /* the oldest leaves */
            prt_dcount_sub(c, sets[first]);
            for (int v = 0; v < RANGE; v++) held[v] -= in[first][v];
            first++;
        }
        int64_t want = 0;
        for (int v = 0; v < RANGE; v++) want += held[v] > 0;
        if (prt_dcount_count(c) != want && bad++ < 3)
            fprintf(stderr, "  dcount after set %d: %lld, want %lld\n", i, (long long)prt_dcount_count(c), (long long)want);
    }
    CHECK_INT(bad, 0);
    for (int i = 0; i < NSETS; i++) prt_dset_free(sets[i]);
    prt_dcount_free(c);
    prt_dcount_free(NULL);
}

static void test_state(void) {
    prt_buf b = {0};
    prt_state_put_u64(&b, 0x0102030405060708ULL);
    CHECK(b.len == 8 && b.data[0] == 8 && b.data[7] == 1);   /* little-endian */
    prt_state_put_u64(&b, UINT64_MAX);
    prt_state_put_f64(&b, -0.0);
    prt_state_put_f64(&b, 0.1);
    prt_state_put_f64(&b, INFINITY);
    prt_state_put_f64(&b, NAN);
    prt_state_put_bytes(&b, "", 0);
    prt_state_put_bytes(&b, "h\0llo", 5);
    prt_dset *s = NULL;
    prt_state_put_dset(&b, s);
    for (int i = 0; i < 100; i++) prt_dset_add(&s, &i, sizeof i);
    prt_dset_add(&s, "", 0);
    prt_state_put_dset(&b, s);
    prt_state_put_u64(&b, 42);
    size_t full = b.len;

    /* a full read, then every shorter prefix: bad, never a crash, no leak */
    for (size_t n = full + 1; n-- > 0;) {
        prt_state_reader r = {b.data, n, 0, false};
        uint64_t a = prt_state_get_u64(&r), m = prt_state_get_u64(&r);
        double z = prt_state_get_f64(&r), p1 = prt_state_get_f64(&r), inf = prt_state_get_f64(&r),
               nan = prt_state_get_f64(&r);
        prt_str e = prt_state_get_str(&r), h = prt_state_get_str(&r);
        prt_dset *d0 = prt_state_get_dset(&r), *d1 = prt_state_get_dset(&r);
        uint64_t last = prt_state_get_u64(&r);
        if (n == full) {
            CHECK(!r.bad && r.pos == full);
            CHECK(a == 0x0102030405060708ULL && m == UINT64_MAX);
            CHECK(z == 0 && signbit(z) && p1 == 0.1 && isinf(inf) && isnan(nan));
            CHECK(e.n == 0 && h.n == 5 && memcmp(h.p, "h\0llo", 5) == 0);
            CHECK(d0 == NULL && prt_dset_count(d1) == 101);
            CHECK_INT(last, 42);
        } else {
            if (!r.bad) fprintf(stderr, "prefix %zu not bad\n", n);
            CHECK(r.bad);
            CHECK(r.pos <= n);
        }
        prt_str_release(e);
        prt_str_release(h);
        prt_dset_free(d0);
        prt_dset_free(d1);
    }
    /* the same adds give the same bytes */
    prt_buf b2 = {0};
    prt_dset *s2 = NULL;
    for (int i = 0; i < 100; i++) prt_dset_add(&s2, &i, sizeof i);
    prt_dset_add(&s2, "", 0);
    prt_state_put_dset(&b2, s2);
    prt_buf b3 = {0};
    prt_state_put_dset(&b3, s);
    CHECK(b2.len == b3.len && memcmp(b2.data, b3.data, b2.len) == 0);

    /* lengths and counts beyond the data */
    prt_buf bad = {0};
    prt_state_put_u64(&bad, UINT64_MAX);
    prt_state_put_u64(&bad, 1);
    prt_state_reader r = {bad.data, bad.len, 0, false};
    prt_str x = prt_state_get_str(&r);
    CHECK(r.bad && x.n == 0);
    CHECK_INT(prt_state_get_u64(&r), 0);   /* stays bad */
    r = (prt_state_reader){bad.data, bad.len, 0, false};
    CHECK(prt_state_get_dset(&r) == NULL && r.bad);
    bad.len = 0;
    prt_state_put_u64(&bad, 2);   /* a set of 2 whose second item is cut */
    prt_state_put_bytes(&bad, "ab", 2);
    prt_state_put_u64(&bad, 9);
    r = (prt_state_reader){bad.data, bad.len, 0, false};
    CHECK(prt_state_get_dset(&r) == NULL && r.bad);
    r = (prt_state_reader){NULL, 0, 0, false};
    CHECK(prt_state_get_u64(&r) == 0 && r.bad);
    prt_buf_free(&bad);
    prt_buf_free(&b);
    prt_buf_free(&b2);
    prt_buf_free(&b3);
    prt_dset_free(s);
    prt_dset_free(s2);
}

/* Rows as generated windows sort them: start, then a string key with NULL last. */
typedef struct srow {
    prt_went h;
    uint64_t knulls;
    prt_str k;
    int64_t id;
} srow;

static int cmp_srow(const void *a, const void *b) {
    const srow *x = a, *y = b;
    if (x->h.start != y->h.start) return x->h.start < y->h.start ? -1 : 1;
    int xn = (int)(x->knulls & 1), yn = (int)(y->knulls & 1);
    if (xn != yn) return xn - yn;
    return xn ? 0 : prt_str_cmp(x->k, y->k);
}

static uint64_t prefix_srow(const void *a) {
    const srow *x = a;
    return x->knulls & 1 ? UINT64_MAX : prt_str_order_prefix(x->k);
}

/* prt_went_sort with and without a prefix against qsort, on keys that share long prefixes, differ
 * only in length, hold 0xFF and 0 bytes, are NULL, and on starts of both signs. */
static void test_went_sort(void) {
    static const char alphabet[] = {'a', 'b', 0, (char)0xFF};
    char (*text)[12] = malloc(6000 * sizeof *text);
    srow *rows = malloc(6000 * sizeof *rows), *want = malloc(6000 * sizeof *rows);
    bool ok = true;
    for (int round = 0; round < 200 && ok; round++) {
        size_t n = round < 10 ? (size_t)round : 1 + rnd() % (round % 20 == 0 ? 6000 : 700);
        int starts = 1 + (int)(rnd() % 3);
        for (size_t i = 0; i < n; i++) {
            srow *r = &rows[i];
            memset(r, 0, sizeof *r);
            r->h.start = ((int64_t)(rnd() % (uint64_t)starts) - 1) * 60000000;
            r->h.end = r->h.start + 60000000;
            r->h.hash = 1;
            r->knulls = rnd() % 17 == 0;
            uint32_t len = (uint32_t)(rnd() % 12);
            for (uint32_t j = 0; j < len; j++)
                text[i][j] = j < 9 && round % 2 ? 'p' : alphabet[rnd() % 4];   /* odd rounds: long ties */
            r->k = (prt_str){text[i], len};
            r->id = (int64_t)i;
        }
        for (int with_prefix = 0; with_prefix <= 1 && ok; with_prefix++) {
            memcpy(want, rows, n * sizeof *rows);
            if (n) qsort(want, n, sizeof *want, cmp_srow);
            srow *got = malloc((n ? n : 1) * sizeof *got);
            memcpy(got, rows, n * sizeof *rows);
            prt_went_sort(got, n, sizeof *got, cmp_srow, with_prefix ? prefix_srow : NULL);
            for (size_t i = 0; i < n && ok; i++) ok = cmp_srow(&got[i], &want[i]) == 0;
            /* every row still there once: the ids */
            int64_t sum = 0;
            for (size_t i = 0; i < n; i++) sum += got[i].id;
            ok = ok && sum == (int64_t)(n * (n ? n - 1 : 0) / 2);
            if (!ok) fprintf(stderr, "went_sort mismatch: round %d, n %zu, prefix %d\n", round, n, with_prefix);
            free(got);
        }
    }
    CHECK(ok);
    free(text);
    free(rows);
    free(want);
}

int main(void) {
    test_table_basics();
    test_went_sort();
    test_take_closed_random();
    test_wraparound_cluster();
    test_hash();
    test_str_keep();
    test_dset();
    test_dcount();
    test_state();
    return check_report();
}
