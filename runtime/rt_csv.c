/* rt_csv.c - splitting one framed CSV record into fields (RFC 4180, lenient about quotes inside
 * unquoted fields). Invariants: fields point into the record unless a quoted field holds doubled
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

int prt_csv_split(const char *rec, size_t n, char delim, char quote, prt_field *fields, int max,
                  prt_arena *scratch, const char **err) {
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
