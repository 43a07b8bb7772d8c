/* rt_window.c - what generated window code needs of the runtime: the generic open-addressing
 * table of window entries (prt_wtab), hashing, kept strings, exact distinct sets (prt_dset), their
 * counted form for hopping windows (prt_dcount) and
 * the primitives of state serialization. Generated code owns the entry layout, hashing of keys,
 * probing and accumulators; this file only moves whole entries by their stored hash.
 * Invariants: cap is a power of two; linear probing from hash & (cap - 1); an entry is reachable
 * from its home slot without crossing an empty slot; count + 1 <= cap * 0.7 after a reserve, so
 * an empty slot always exists. */
#include "pipec_rt.h"
#include <stdio.h>
#include <stdlib.h>

enum { WTAB_CAP0 = 1024 };

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "pipec runtime: out of memory (%zu x %zu bytes)\n", n, size);
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "pipec runtime: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

/* ---- the table ------------------------------------------------------------------------------ */

void prt_wtab_init(prt_wtab *t, size_t esize) {
    if (esize < sizeof(prt_went) || esize % 8 != 0) {
        fprintf(stderr, "pipec runtime: bad window entry size %zu (a bug in pipec)\n", esize);
        abort();
    }
    t->esize = esize;
    t->cap = WTAB_CAP0;
    t->count = 0;
    t->slots = xcalloc(t->cap, esize);
}

void prt_wtab_free(prt_wtab *t) {
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* Places a copy of entry e into slots (cap, esize) by linear probing from its home. */
static void place(char *slots, size_t cap, size_t esize, const prt_went *e) {
    size_t i = (size_t)e->hash & (cap - 1);
    while (((const prt_went *)(slots + i * esize))->hash != 0) i = (i + 1) & (cap - 1);
    memcpy(slots + i * esize, e, esize);
}

void prt_wtab_reserve(prt_wtab *t) {
    /* count + 1 > cap * 0.7, in integers */
    if ((t->count + 1) * 10 <= t->cap * 7) return;
    size_t ncap = t->cap * 2;
    char *ns = xcalloc(ncap, t->esize);
    for (size_t i = 0; i < t->cap; i++) {
        const prt_went *e = prt_wtab_at(t, i);
        if (e->hash) place(ns, ncap, t->esize, e);
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
}

/* Appends entry e to out (which must hold room for it). */
static void emit_copy(prt_buf *out, const prt_wtab *t, const prt_went *e) {
    memcpy(out->data + out->len, e, t->esize);
    out->len += t->esize;
}

/* ---- sorting closed rows ---------------------------------------------------------------- */

/* What the sort compares of one row: its window start (sign bit flipped: unsigned order) and
 * order prefix when the caller has a prefix function, and where the row is. */
typedef struct sort_key {
    uint64_t start, prefix;
    size_t idx;
} sort_key;

typedef struct sorter {
    const char *rows;
    size_t esize;
    prt_went_cmp cmp;
} sorter;

static inline bool row_less(const sorter *s, const sort_key *x, const sort_key *y) {
    return s->cmp(s->rows + x->idx * s->esize, s->rows + y->idx * s->esize) < 0;
}

/* Insertion sort of k[lo..hi) by the rows' comparison. */
static void insertion_sort(const sorter *s, sort_key *k, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++) {
        sort_key v = k[i];
        size_t j = i;
        for (; j > lo && row_less(s, &v, &k[j - 1]); j--) k[j] = k[j - 1];
        k[j] = v;
    }
}

/* Bottom-up merge sort of k[0..n) by the rows' comparison, using tmp[0..n); returns the array
 * holding the result. Runs of 8 are sorted by insertion first. */
static sort_key *merge_sort(const sorter *s, sort_key *k, sort_key *tmp, size_t n) {
    enum { RUN = 8 };
    for (size_t lo = 0; lo < n; lo += RUN) insertion_sort(s, k, lo, lo + RUN < n ? lo + RUN : n);
    sort_key *src = k, *dst = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            if (mid == hi || !row_less(s, &src[mid], &src[mid - 1])) {   /* already in order */
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof *src);
                continue;
            }
            while (i < mid && j < hi) dst[o++] = row_less(s, &src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[o++] = src[i++];
            while (j < hi) dst[o++] = src[j++];
        }
        sort_key *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* Byte b (0 = least significant) of the 128-bit number start:prefix. */
static inline unsigned key_byte(const sort_key *k, int b) {
    return (unsigned)((b < 8 ? k->prefix >> (8 * b) : k->start >> (8 * (b - 8))) & 0xFF);
}

/* LSD radix sort of k[0..n) by start, then prefix, using tmp[0..n); bytes that are the same in
 * every key get no pass (the start, mostly, and the prefix's padding). Stable.
 * Returns the array holding the result. */
static sort_key *radix_sort(sort_key *k, sort_key *tmp, size_t n) {
    sort_key differ = {0, 0, 0};   /* the bits that are not the same in every key */
    for (size_t i = 1; i < n; i++) {
        differ.start |= k[i].start ^ k[0].start;
        differ.prefix |= k[i].prefix ^ k[0].prefix;
    }
    sort_key *src = k, *dst = tmp;
    for (int b = 0; b < 16; b++) {
        if (!key_byte(&differ, b)) continue;
        uint32_t count[256] = {0};
        for (size_t i = 0; i < n; i++) count[key_byte(&src[i], b)]++;
        uint32_t at = 0;
        for (int v = 0; v < 256; v++) {
            uint32_t c = count[v];
            count[v] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[key_byte(&src[i], b)]++] = src[i];
        sort_key *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

void prt_went_sort(void *rows, size_t n, size_t esize, prt_went_cmp cmp, prt_went_prefix prefix) {
    static sort_key *keys;
    static size_t keys_cap;
    if (!cmp || n < 2) return;
    if (keys_cap < 2 * n) {
        keys_cap = 2 * n;
        free(keys);
        keys = xcalloc(keys_cap, sizeof *keys);
    }
    sorter s = {rows, esize, cmp};
    const char *base = rows;
    for (size_t i = 0; i < n; i++) {
        const prt_went *e = (const prt_went *)(base + i * esize);
        keys[i] = (sort_key){(uint64_t)e->start ^ 0x8000000000000000ULL, prefix ? prefix(e) : 0, i};
    }
    sort_key *sorted;
    if (prefix) {
        sorted = radix_sort(keys, keys + n, n);
        /* equal start and prefix: the comparison decides */
        for (size_t lo = 0, hi; lo < n; lo = hi) {
            for (hi = lo + 1; hi < n && sorted[hi].start == sorted[lo].start && sorted[hi].prefix == sorted[lo].prefix; hi++) {}
            if (hi - lo < 2) continue;
            sort_key *other = sorted == keys ? keys + n : keys;
            sort_key *run = merge_sort(&s, sorted + lo, other + lo, hi - lo);
            if (run != sorted + lo) memcpy(sorted + lo, run, (hi - lo) * sizeof *run);
        }
    } else {
        sorted = merge_sort(&s, keys, keys + n, n);
    }
    /* Move the rows in place, a cycle of the permutation at a time (row r takes the row at
     * sorted[r].idx), through one spare row; a filled position is marked by idx == itself. */
    char *row = rows, *spare = NULL;
    for (size_t r = 0; r < n; r++) {
        if (sorted[r].idx == r) continue;
        if (!spare) spare = xrealloc(NULL, esize);
        memcpy(spare, row + r * esize, esize);
        size_t j = r;
        for (;;) {
            size_t from = sorted[j].idx;
            sorted[j].idx = j;
            if (from == r) {
                memcpy(row + j * esize, spare, esize);
                break;
            }
            memcpy(row + j * esize, row + from * esize, esize);
            j = from;
        }
    }
    free(spare);
}

static void sort_out(prt_buf *out, size_t first, size_t n, size_t esize, prt_went_cmp cmp) {
    if (n > 1) prt_went_sort(out->data + first, n, esize, cmp, NULL);   /* data is NULL while empty */
}

/* Removes the entries with end <= watermark, re-placing the others in place, in one walk. The
 * walk starts just after an empty slot e (one exists: load <= 0.7) and goes once around the ring;
 * each surviving entry after the first removal is taken out and placed again from its home. Its
 * old probe path (home .. its slot) was full and cannot contain e, so its home lies in the part
 * already walked and the new probe ends at the latest in its own, just emptied, slot: every entry
 * stays reachable. Before the first removal no slot was emptied, so nothing can move. */
size_t prt_wtab_take_closed(prt_wtab *t, int64_t watermark, prt_went_cmp cmp, prt_buf *out,
                            int64_t *next_end) {
    size_t closed = 0, empty = 0, first = out->len;
    int64_t left_end = INT64_MAX;
    while (empty < t->cap && prt_wtab_at(t, empty)->hash) empty++;
    if (empty == t->cap) {
        /* a table that was never reserved into; cannot happen with generated code, but stay
         * correct: rebuild into fresh slots */
        char *ns = xcalloc(t->cap, t->esize);
        for (size_t i = 0; i < t->cap; i++) {
            const prt_went *e = prt_wtab_at(t, i);
            if (e->end <= watermark) {
                prt_buf_reserve(out, t->esize);
                emit_copy(out, t, e);
                closed++;
            } else {
                if (e->end < left_end) left_end = e->end;
                place(ns, t->cap, t->esize, e);
            }
        }
        free(t->slots);
        t->slots = ns;
    } else {
        char *tmp = NULL;
        size_t mask = t->cap - 1;
        for (size_t k = 1; k <= t->cap; k++) {
            size_t i = (empty + k) & mask;
            prt_went *e = prt_wtab_at(t, i);
            if (!e->hash) continue;
            if (e->end <= watermark) {
                prt_buf_reserve(out, t->esize);
                emit_copy(out, t, e);
                e->hash = 0;
                closed++;
                continue;
            }
            if (e->end < left_end) left_end = e->end;
            if (closed == 0) continue;   /* nothing emptied yet */
            size_t h = (size_t)e->hash & mask;
            if (h == i) continue;   /* at home: nothing before it can move it */
            if (!tmp) tmp = xcalloc(1, t->esize);
            memcpy(tmp, e, t->esize);
            e->hash = 0;
            place(t->slots, t->cap, t->esize, (const prt_went *)tmp);
        }
        free(tmp);
    }
    t->count -= closed;
    if (next_end) *next_end = left_end;
    sort_out(out, first, closed, t->esize, cmp);
    return closed;
}

size_t prt_wtab_take_all(prt_wtab *t, prt_went_cmp cmp, prt_buf *out) {
    if (t->count == 0) return 0;
    size_t first = out->len, n = 0;
    prt_buf_reserve(out, t->count * t->esize);
    for (size_t i = 0; i < t->cap; i++) {
        prt_went *e = prt_wtab_at(t, i);
        if (!e->hash) continue;
        emit_copy(out, t, e);
        n++;
    }
    memset(t->slots, 0, t->cap * t->esize);
    t->count = 0;
    sort_out(out, first, n, t->esize, cmp);
    return n;
}

int64_t prt_wtab_min_end(const prt_wtab *t) {
    int64_t m = INT64_MAX;
    for (size_t i = 0; i < t->cap; i++) {
        const prt_went *e = prt_wtab_at(t, i);
        if (e->hash && e->end < m) m = e->end;
    }
    return m;
}

/* ---- hashing -------------------------------------------------------------------------------- */

/* Longer than 16 bytes (pipec_rt.h hashes the shorter ones): 16 bytes a round, then the last 16
 * (overlapping the rounds before), read as little-endian words. */
static inline uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint64_t prt__hash_bytes_long(const void *pv, size_t n, uint64_t seed) {
    const unsigned char *p = pv, *last = p + n - 16;
    uint64_t h = prt__mum(seed ^ PRT__HK0, (uint64_t)n ^ PRT__HK1);
    for (; p < last; p += 16) h = prt__mum(rd64(p) ^ PRT__HK1 ^ h, rd64(p + 8) ^ PRT__HK2);
    h = prt__mum(rd64(last) ^ PRT__HK1 ^ h, rd64(last + 8) ^ PRT__HK2);
    return prt__mum(h ^ PRT__HK0, h ^ PRT__HK2);
}

/* ---- kept strings --------------------------------------------------------------------------- */

/* Most kept strings are short group keys, kept when a window opens and released when it closes
 * (millions a run): those of up to KEEP_SMALL bytes come from slabs, in size classes of 8 bytes,
 * each class with a free list threaded through its free chunks; slabs are never returned, so a
 * chunk released on another thread is still good memory there. Longer strings, and every string
 * under AddressSanitizer (which then still sees each one's bounds and lifetime), are malloc'd. */
enum { KEEP_SMALL = 64, KEEP_SLAB = 64 * 1024 };
#if defined(__SANITIZE_ADDRESS__)   /* gcc */
#define KEEP_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)   /* clang (the fuzz targets) */
#define KEEP_POOL 0
#endif
#endif
#ifndef KEEP_POOL
#define KEEP_POOL 1
#endif
static _Thread_local void *keep_free[KEEP_SMALL / 8];   /* per class: the first free chunk */
static _Thread_local char *keep_slab;
static _Thread_local size_t keep_slab_left;

static void *keep_alloc(uint32_t n) {
    if (!KEEP_POOL || n > KEEP_SMALL) {
        void *c = malloc(n);
        if (!c) {
            fprintf(stderr, "pipec runtime: out of memory (%u bytes)\n", n);
            abort();
        }
        return c;
    }
    size_t cls = (n - 1) / 8, size = (cls + 1) * 8;
    void *c = keep_free[cls];
    if (c) {
        memcpy(&keep_free[cls], c, sizeof c);   /* its next */
        return c;
    }
    if (keep_slab_left < size) {
        keep_slab = malloc(KEEP_SLAB);
        if (!keep_slab) {
            fprintf(stderr, "pipec runtime: out of memory (%d bytes)\n", KEEP_SLAB);
            abort();
        }
        keep_slab_left = KEEP_SLAB;
    }
    c = keep_slab;
    keep_slab += size;
    keep_slab_left -= size;
    return c;
}

prt_str prt_str_keep(prt_str s) {
    if (s.n == 0) return (prt_str){"", 0};
    char *c = keep_alloc(s.n);
    memcpy(c, s.p, s.n);
    return (prt_str){c, s.n};
}

void prt_str_release(prt_str s) {
    if (!s.n) return;
    if (!KEEP_POOL || s.n > KEEP_SMALL) {
        free((void *)s.p);
        return;
    }
    size_t cls = (s.n - 1) / 8;
    void *c = (void *)s.p;
    memcpy(c, &keep_free[cls], sizeof c);
    keep_free[cls] = c;
}

/* ---- distinct sets -------------------------------------------------------------------------- */

/* Items are stored back to back in `data` as a u32 length and the bytes; the slots hold each
 * item's hash (| 1, 0 = empty) and offset, so growing `data` moves nothing the slots point at.
 * Sets start tiny: a count_distinct per group of a big window table must stay cheap. */
typedef struct dslot {
    uint64_t hash;
    uint64_t off;
} dslot;

struct prt_dset {
    dslot *slots;
    size_t cap, count;
    char *data;
    size_t len, dcap;
};

#define DSET_SEED 0x5ca1ab1e0ddba11ULL

static bool dset_item_eq(const prt_dset *s, uint64_t off, const void *p, size_t n) {
    uint32_t len;
    memcpy(&len, s->data + off, 4);
    return len == n && (n == 0 || memcmp(s->data + off + 4, p, n) == 0);
}

/* Doubles a slot array of distinct items (dslot or cslot: a uint64_t hash first, 0 for empty,
 * homed by hash >> 1), placing every item again by its hash. */
static void *item_slots_grow(void *slots, size_t cap, size_t esize) {
    size_t ncap = cap * 2;
    char *ns = xcalloc(ncap, esize);
    for (size_t i = 0; i < cap; i++) {
        const char *e = (const char *)slots + i * esize;
        uint64_t h, o;
        memcpy(&h, e, 8);
        if (!h) continue;
        size_t j = (size_t)(h >> 1) & (ncap - 1);
        for (memcpy(&o, ns + j * esize, 8); o; memcpy(&o, ns + j * esize, 8)) j = (j + 1) & (ncap - 1);
        memcpy(ns + j * esize, e, esize);
    }
    free(slots);
    return ns;
}

static void dset_grow(prt_dset *s) {
    s->slots = item_slots_grow(s->slots, s->cap, sizeof *s->slots);
    s->cap *= 2;
}

static void dset_add_hashed(prt_dset **sp, const void *p, size_t n, uint64_t h) {
    if (n > UINT32_MAX) {
        fprintf(stderr, "pipec runtime: distinct value of %zu bytes is too long\n", n);
        abort();
    }
    prt_dset *s = *sp;
    if (!s) {
        s = *sp = xcalloc(1, sizeof *s);
        s->cap = 8;
        s->slots = xcalloc(s->cap, sizeof *s->slots);
    }
    size_t i = (size_t)(h >> 1) & (s->cap - 1);   /* bit 0 is always 1 */
    for (; s->slots[i].hash; i = (i + 1) & (s->cap - 1))
        if (s->slots[i].hash == h && dset_item_eq(s, s->slots[i].off, p, n)) return;
    size_t need = 4 + n;
    if (s->dcap - s->len < need) {
        size_t dcap = s->dcap ? s->dcap : 64;
        while (dcap - s->len < need) dcap *= 2;
        s->data = xrealloc(s->data, dcap);
        s->dcap = dcap;
    }
    uint32_t len = (uint32_t)n;
    memcpy(s->data + s->len, &len, 4);
    if (n) memcpy(s->data + s->len + 4, p, n);
    s->slots[i] = (dslot){h, s->len};
    s->len += need;
    s->count++;
    if (s->count * 10 > s->cap * 7) dset_grow(s);
}

void prt_dset_add(prt_dset **s, const void *p, size_t n) {
    dset_add_hashed(s, p, n, prt_hash_bytes(p, n, DSET_SEED) | 1);
}

void prt_dset_merge(prt_dset **into, const prt_dset *from) {
    if (!from) return;
    for (size_t i = 0; i < from->cap; i++) {
        if (!from->slots[i].hash) continue;
        uint32_t len;
        memcpy(&len, from->data + from->slots[i].off, 4);
        dset_add_hashed(into, from->data + from->slots[i].off + 4, len, from->slots[i].hash);
    }
}

int64_t prt_dset_count(const prt_dset *s) { return s ? (int64_t)s->count : 0; }

void prt_dset_free(prt_dset *s) {
    if (!s) return;
    free(s->slots);
    free(s->data);
    free(s);
}

/* ---- counted distinct items (hopping windows) ----------------------------------------------- */

/* How many of a group's queued panes hold each item. An item whose count falls to 0 keeps its slot
 * (a later pane may bring it back) until such items outnumber the live ones; then the table is
 * rebuilt from the live items, so memory follows what the open windows hold. */
typedef struct cslot {
    uint64_t hash;
    uint64_t off;
    uint64_t n;
} cslot;

struct prt_dcount {
    cslot *slots;
    size_t cap, used, live;   /* used: slots taken; live: of them, count > 0 */
    char *data;
    size_t len, dcap;
};

/* The slot of an item, a new one with count 0 when absent. */
static cslot *dcount_slot(prt_dcount *c, const char *item, uint64_t h) {
    uint32_t n;
    memcpy(&n, item, 4);
    size_t i = (size_t)(h >> 1) & (c->cap - 1);
    for (; c->slots[i].hash; i = (i + 1) & (c->cap - 1)) {
        const cslot *sl = &c->slots[i];
        uint32_t len;
        memcpy(&len, c->data + sl->off, 4);
        if (sl->hash == h && len == n && memcmp(c->data + sl->off + 4, item + 4, n) == 0) return &c->slots[i];
    }
    size_t need = 4 + (size_t)n;
    if (c->dcap - c->len < need) {
        size_t dcap = c->dcap ? c->dcap : 64;
        while (dcap - c->len < need) dcap *= 2;
        c->data = xrealloc(c->data, dcap);
        c->dcap = dcap;
    }
    memcpy(c->data + c->len, item, need);
    c->slots[i] = (cslot){h, c->len, 0};
    c->len += need;
    if (++c->used * 10 > c->cap * 7) {
        c->slots = item_slots_grow(c->slots, c->cap, sizeof *c->slots);
        c->cap *= 2;
        return dcount_slot(c, item, h);
    }
    return &c->slots[i];
}

static prt_dcount *dcount_new(size_t cap) {
    prt_dcount *c = xcalloc(1, sizeof *c);
    c->cap = cap;
    c->slots = xcalloc(c->cap, sizeof *c->slots);
    return c;
}

void prt_dcount_add(prt_dcount **cp, const prt_dset *s) {
    if (!s || !s->count) return;
    if (!*cp) *cp = dcount_new(8);
    prt_dcount *c = *cp;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].hash) continue;
        cslot *sl = dcount_slot(c, s->data + s->slots[i].off, s->slots[i].hash);
        if (sl->n++ == 0) c->live++;
    }
}

void prt_dcount_sub(prt_dcount *c, const prt_dset *s) {
    if (!c || !s) return;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].hash) continue;
        cslot *sl = dcount_slot(c, s->data + s->slots[i].off, s->slots[i].hash);
        if (sl->n == 0) {
            fprintf(stderr, "pipec runtime: distinct count taken below zero\n");
            abort();
        }
        if (--sl->n == 0) c->live--;
    }
    if (c->used > 64 && c->used - c->live > c->live) {
        size_t cap = 8;
        while (c->live * 10 >= cap * 7) cap *= 2;
        prt_dcount *fresh = dcount_new(cap);
        for (size_t i = 0; i < c->cap; i++) {
            const cslot *sl = &c->slots[i];
            if (sl->hash && sl->n) dcount_slot(fresh, c->data + sl->off, sl->hash)->n = sl->n;
        }
        fresh->live = c->live;
        free(c->slots);
        free(c->data);
        *c = *fresh;
        free(fresh);
    }
}

int64_t prt_dcount_count(const prt_dcount *c) { return c ? (int64_t)c->live : 0; }

void prt_dcount_free(prt_dcount *c) {
    if (!c) return;
    free(c->slots);
    free(c->data);
    free(c);
}

/* ---- state serialization -------------------------------------------------------------------- */

void prt_state_put_u64(prt_buf *b, uint64_t v) {
    unsigned char t[8];
    for (int i = 0; i < 8; i++) t[i] = (unsigned char)(v >> (8 * i));
    prt_buf_put(b, t, 8);
}

void prt_state_put_f64(prt_buf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    prt_state_put_u64(b, u);
}

void prt_state_put_bytes(prt_buf *b, const void *p, size_t n) {
    prt_state_put_u64(b, (uint64_t)n);
    prt_buf_put(b, p, n);
}

/* Items in insertion order (the data area's order), so the same adds give the same bytes. */
void prt_state_put_dset(prt_buf *b, const prt_dset *s) {
    prt_state_put_u64(b, (uint64_t)prt_dset_count(s));
    if (!s) return;
    for (size_t off = 0; off < s->len;) {
        uint32_t len;
        memcpy(&len, s->data + off, 4);
        prt_state_put_bytes(b, s->data + off + 4, len);
        off += 4 + (size_t)len;
    }
}

uint64_t prt_state_get_u64(prt_state_reader *r) {
    if (r->bad || r->pos > r->n || r->n - r->pos < 8) {
        r->bad = true;
        return 0;
    }
    const unsigned char *p = (const unsigned char *)r->p + r->pos;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    r->pos += 8;
    return v;
}

double prt_state_get_f64(prt_state_reader *r) {
    uint64_t u = prt_state_get_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* A length-prefixed item in place: its bytes, or NULL (bad set) when it does not fit. */
static const char *get_item(prt_state_reader *r, size_t max, size_t *n) {
    uint64_t len = prt_state_get_u64(r);
    if (r->bad || r->pos > r->n || len > r->n - r->pos || len > max) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    const char *p = r->p + r->pos;
    r->pos += (size_t)len;
    *n = (size_t)len;
    return p;
}

prt_str prt_state_get_str(prt_state_reader *r) {
    size_t n;
    const char *p = get_item(r, UINT32_MAX, &n);
    if (!p) return (prt_str){"", 0};
    return prt_str_keep((prt_str){p, (uint32_t)n});
}

prt_dset *prt_state_get_dset(prt_state_reader *r) {
    uint64_t count = prt_state_get_u64(r);
    if (r->bad) return NULL;
    if (count > (r->n - r->pos) / 8) {   /* each item needs at least its length */
        r->bad = true;
        return NULL;
    }
    prt_dset *s = NULL;
    for (uint64_t i = 0; i < count; i++) {
        size_t n;
        const char *p = get_item(r, UINT32_MAX, &n);
        if (!p) {
            prt_dset_free(s);
            return NULL;
        }
        prt_dset_add(&s, p, n);
    }
    return s;
}
