/* rt_csv.c - splitting one framed CSV record into fields (RFC 4180, lenient about quotes inside
 * unquoted fields); records without a quote character take an SSE2 path on x86-64 (portable C
 * elsewhere, with the same results). Invariants: fields point into the record unless a quoted field holds doubled
 * quotes, which alone is unescaped into the scratch arena; every field is counted even past
 * `max`; the record has no line terminator (the reader strips it). */
#include "pipec_rt.h"
#include "rt_text_internal.h"

/* The first `c` in [p, end), or NULL. Fields are short, so eight bytes at a time in line beats
 * a memchr call per field; the lowest flagged byte of a word is exact (little-endian). */
static inline const char *find_byte(const char *p, const char *end, char c) {
    while (end - p >= 8) {
        uint64_t hit = PRT__HAS_BYTE(prt__load64(p), c);
        if (hit) return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
    for (; p < end; p++)
        if (*p == c) return p;
    return NULL;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* Appends the field [*start, at) and moves *start past the delimiter at `at`. */
static inline void plain_field(prt_field *fields, int max, int *count, const char **start, const char *at) {
    if (*count < max) fields[*count] = (prt_field){*start, (uint32_t)(at - *start), false};
    (*count)++;
    *start = at + 1;
}

/* The fast path for a record without a quote character anywhere (most records): sixteen bytes
 * at a time, a bit per delimiter. Returns the field count, or -1 when the record holds a quote
 * (the general splitter takes it from the start). */
static int split_unquoted(const char *rec, size_t n, char delim, char quote, prt_field *fields, int max) {
    const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8(quote);
    const char *start = rec;
    int count = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(rec + i));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(c, vq))) return -1;
        unsigned d = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, vd));
        for (; d; d &= d - 1) plain_field(fields, max, &count, &start, rec + i + __builtin_ctz(d));
    }
    if (i < n && n >= 16) {   /* the rest: the record's last sixteen bytes, those before i masked */
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(rec + n - 16));
        unsigned seen = (unsigned)(i - (n - 16));
        if ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, vq)) >> seen) return -1;
        unsigned d = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, vd)) >> seen;
        for (; d; d &= d - 1) plain_field(fields, max, &count, &start, rec + i + __builtin_ctz(d));
        i = n;
    }
    for (; i < n; i++) {
        if (rec[i] == quote) return -1;
        if (rec[i] == delim) plain_field(fields, max, &count, &start, rec + i);
    }
    plain_field(fields, max, &count, &start, rec + n);
    return count;
}
#endif

int prt_csv_split(const char *rec, size_t n, char delim, char quote, prt_field *fields, int max,
                  prt_arena *scratch, const char **err) {
#if defined(__SSE2__)
    int plain = split_unquoted(rec, n, delim, quote, fields, max);
    if (plain >= 0) return plain;
#endif
    const char *p = rec, *end = rec + n;
    int count = 0;
    for (;;) {
        prt_field f = {p, 0, false};
        const char *next;   /* where the following field starts, or NULL at the end */
        if (p < end && *p == quote) {
            /* Quoted: find the closing quote, skipping doubled ones. */
            const char *body = p + 1, *q = body;
            bool doubled = false;
            for (;;) {
                q = memchr(q, quote, (size_t)(end - q));
                if (!q) {
                    *err = "unterminated quote";
                    return -1;
                }
                if (q + 1 < end && q[1] == quote) {
                    doubled = true;
                    q += 2;
                    continue;
                }
                break;
            }
            /* q is the closing quote. */
            if (q + 1 == end) next = NULL;
            else if (q[1] == delim) next = q + 2;
            else {
                *err = "text after closing quote";
                return -1;
            }
            f.quoted = true;
            f.p = body;
            f.n = (uint32_t)(q - body);
            if (doubled && count < max) {
                char *o = prt_arena_alloc(scratch, f.n ? f.n : 1);
                size_t k = 0;
                for (const char *s = body; s < q; s++) {
                    o[k++] = *s;
                    if (*s == quote) s++;   /* the second of a pair */
                }
                f.p = o;
                f.n = (uint32_t)k;
            }
        } else {
            const char *d = find_byte(p, end, delim);
            f.n = (uint32_t)((d ? d : end) - p);
            next = d ? d + 1 : NULL;
        }
        if (count < max) fields[count] = f;
        count++;
        if (!next) break;
        p = next;
    }
    return count;
}
